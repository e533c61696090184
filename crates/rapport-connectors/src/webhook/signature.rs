//! HMAC-SHA256 request signatures.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header that carries a request's signature: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Rapport-Signature";

/// The optional header that carries the unix time (seconds) the request was signed at.
/// When a request has it, the signature covers `"<timestamp>.<body>"` instead of the body
/// alone, and [`verify_with_timestamp`] refuses it outside [`TIMESTAMP_TOLERANCE_SECS`].
pub const TIMESTAMP_HEADER: &str = "X-Rapport-Timestamp";

/// How far (either way) a signed timestamp may be from the server's clock, in seconds.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

const PREFIX: &str = "sha256=";

/// Why a request's signature was refused. The server answers 401 and stores nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The channel has an empty secret: nothing can be verified.
    #[error(
        "the webhook channel has no secret configured; set one (e.g. `openssl rand -hex 32`) \
         and sign requests with it"
    )]
    NoSecret,
    /// The request has no signature header.
    #[error(
        "missing {SIGNATURE_HEADER} header; send `{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 \
         of the raw body with the channel's secret>`"
    )]
    MissingHeader,
    /// The header does not start with `sha256=`.
    #[error("{SIGNATURE_HEADER} must start with `sha256=` followed by the hex HMAC-SHA256")]
    WrongPrefix,
    /// The part after `sha256=` is not hexadecimal.
    #[error("{SIGNATURE_HEADER} after `sha256=` is not hexadecimal; send the digest as hex")]
    NotHex,
    /// The digest has the wrong length.
    #[error(
        "{SIGNATURE_HEADER} digest is {len} bytes, HMAC-SHA256 is 32 (64 hex characters); \
         send the whole digest as hex, not base64"
    )]
    WrongLength {
        /// The decoded length.
        len: usize,
    },
    /// The digest is well formed but does not match the body.
    #[error(
        "{SIGNATURE_HEADER} does not match the body; sign the exact raw bytes sent (no \
         re-serialised JSON) with the channel's secret{with_timestamp}",
        with_timestamp = if *.timestamped { ", prefixed by `<timestamp>.` since the \
            request has an X-Rapport-Timestamp header" } else { "" }
    )]
    Mismatch {
        /// Whether the request carried a timestamp (so the signed string was
        /// `"<timestamp>.<body>"`).
        timestamped: bool,
    },
    /// The channel requires a timestamp and the request has none.
    #[error(
        "missing {TIMESTAMP_HEADER} header, which this channel requires; send the unix time \
         in seconds and sign `<timestamp>.<body>`"
    )]
    MissingTimestamp,
    /// The timestamp header is not a whole number of seconds.
    #[error("{TIMESTAMP_HEADER} must be the unix time in whole seconds, e.g. 1704189600")]
    BadTimestamp,
    /// The timestamp is too far from the server's clock.
    #[error(
        "{TIMESTAMP_HEADER} is {skew_secs} s away from the server's clock (at most \
         {TIMESTAMP_TOLERANCE_SECS} s allowed): a replayed request, or a clock to fix (NTP)"
    )]
    StaleTimestamp {
        /// How far the timestamp is from the server's clock, in seconds.
        skew_secs: i64,
    },
}

fn mac(secret: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC takes keys of any length (long ones are hashed first): this cannot happen.
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    }
}

/// The signature header value for `body`: `sha256=` and the lowercase hex of
/// HMAC-SHA256(`secret`, `body`).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("{PREFIX}{}", hex::encode(m.finalize().into_bytes()))
}

/// The signature header value for a request that also sends
/// `X-Rapport-Timestamp: <timestamp>`: HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn sign_with_timestamp(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    format!("{PREFIX}{}", hex::encode(m.finalize().into_bytes()))
}

/// Checks `header` (the value of [`SIGNATURE_HEADER`], `None` when absent) against
/// `body`, in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    check(secret, None, body, header)
}

/// Like [`verify`], for a request that may carry [`TIMESTAMP_HEADER`] (`timestamp`): when
/// it does, the signature must cover `"<timestamp>.<body>"` and the timestamp be within
/// [`TIMESTAMP_TOLERANCE_SECS`] of `now`. With `require_timestamp`, a request without one
/// is refused; without it, simple clients that sign the body alone still work.
pub fn verify_with_timestamp(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    now: DateTime<Utc>,
    require_timestamp: bool,
) -> Result<(), SignatureError> {
    let ts = match timestamp.map(str::trim) {
        None | Some("") if require_timestamp => return Err(SignatureError::MissingTimestamp),
        None | Some("") => None,
        Some(t) => {
            let ts: i64 = t.parse().map_err(|_| SignatureError::BadTimestamp)?;
            let skew_secs = now.timestamp().saturating_sub(ts).saturating_abs();
            if skew_secs > TIMESTAMP_TOLERANCE_SECS {
                // Check the signature first: an unsigned stale request should read as
                // unsigned, not as a clock problem.
                check(secret, Some(ts), body, signature)?;
                return Err(SignatureError::StaleTimestamp { skew_secs });
            }
            Some(ts)
        }
    };
    check(secret, ts, body, signature)
}

fn check(
    secret: &[u8],
    timestamp: Option<i64>,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::MissingHeader)?;
    let digest = header
        .strip_prefix(PREFIX)
        .or_else(|| {
            header
                .get(..PREFIX.len())
                .filter(|p| p.eq_ignore_ascii_case(PREFIX))
                .map(|_| &header[PREFIX.len()..])
        })
        .ok_or(SignatureError::WrongPrefix)?;
    let tag = hex::decode(digest.trim()).map_err(|_| SignatureError::NotHex)?;
    if tag.len() != 32 {
        return Err(SignatureError::WrongLength { len: tag.len() });
    }
    let mut m = mac(secret);
    if let Some(ts) = timestamp {
        m.update(ts.to_string().as_bytes());
        m.update(b".");
    }
    m.update(body);
    m.verify_slice(&tag).map_err(|_| SignatureError::Mismatch {
        timestamped: timestamp.is_some(),
    })
}
