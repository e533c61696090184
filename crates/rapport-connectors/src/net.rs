//! HTTP for every connector: one client, and one retry policy that treats the platforms
//! the way they ask to be treated.
//!
//! - `429 Too Many Requests`: wait as long as the server says — `Retry-After` (seconds or
//!   an HTTP date), else `ratelimit-reset` / `x-ratelimit-reset` (Bluesky sends Unix
//!   seconds, Mastodon an ISO 8601 time) — capped by [`RetryPolicy::max_wait`], then try
//!   again.
//! - `5xx`, timeouts, refused or dropped connections: exponential backoff with jitter
//!   ([`backon`]), then try again.
//! - Any other status is the caller's to read (a `4xx` says the request itself is wrong:
//!   retrying it would not help).
//!
//! Every request a connector makes is safe to repeat: reads are, and writes carry an
//! idempotency key (Mastodon's `Idempotency-Key`, Bluesky's record key), so a request that
//! timed out after the server acted is retried without posting twice.

use std::time::Duration;

use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("rapport/", env!("CARGO_PKG_VERSION"));

/// Makes sure TLS has its cryptography (ring, pure Rust and assembly: no C toolchain at
/// build time): the first call installs it for the process, later calls do nothing.
pub fn ensure_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How hard to try one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: usize,
    /// The first backoff delay.
    pub min_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// The longest wait a rate limit may impose before the request is given up.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_wait: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// The backoff delays between attempts, with jitter.
    pub fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_jitter()
            .with_max_times(self.attempts.saturating_sub(1))
            .build()
    }
}

/// A request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The server could not be reached, or did not answer in time, on every attempt.
    #[error(
        "{what}: no answer from {url} after {attempts} attempts ({source}); check the address \
         and the network, rapport tries again later"
    )]
    Transport {
        /// What was being done.
        what: String,
        /// The URL.
        url: String,
        /// Attempts made.
        attempts: usize,
        /// The last error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status (after retries, for 429 and 5xx).
    #[error("{what}: {url} answered {status}: {}", body_excerpt(body))]
    Status {
        /// What was being done.
        what: String,
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The response body (the platform's error JSON, usually).
        body: String,
        /// How long the server asked to wait before trying again, when it said.
        retry_after: Option<Duration>,
    },
    /// A rate limit asked for a longer wait than [`RetryPolicy::max_wait`].
    #[error(
        "{what}: {url} is rate limited for another {}s; rapport tries again after that",
        wait.as_secs()
    )]
    RateLimited {
        /// What was being done.
        what: String,
        /// The URL.
        url: String,
        /// How long the server asked to wait.
        wait: Duration,
    },
    /// The answer could not be read (not the JSON the platform sends).
    #[error("{what}: the answer from {url} could not be read: {reason}")]
    Body {
        /// What was being done.
        what: String,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

impl NetError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            NetError::Status { status, .. } => Some(*status),
            NetError::RateLimited { .. } => Some(429),
            NetError::Transport { .. } | NetError::Body { .. } => None,
        }
    }

    /// Whether trying again later may succeed (a network fault, a rate limit, a server
    /// error); `false` when the request itself was refused (`4xx`).
    pub fn is_transient(&self) -> bool {
        match self {
            NetError::Transport { .. } | NetError::RateLimited { .. } => true,
            NetError::Status { status, .. } => *status == 429 || *status >= 500,
            NetError::Body { .. } => false,
        }
    }

    /// How long the server asked to wait before trying again, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            NetError::Status { retry_after, .. } => *retry_after,
            NetError::RateLimited { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    /// The response body of a [`NetError::Status`].
    pub fn body(&self) -> Option<&str> {
        match self {
            NetError::Status { body, .. } => Some(body),
            _ => None,
        }
    }
}

fn body_excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(no body)".into();
    }
    let mut cut: String = body.chars().take(300).collect();
    if cut.len() < body.len() {
        cut.push('…');
    }
    cut
}

/// One HTTP client with its retry policy; cheap to clone.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl Http {
    /// A client whose every request gives up after `timeout` (connect, send and read).
    pub fn new(timeout: Duration, policy: RetryPolicy) -> Result<Http, NetError> {
        ensure_crypto();
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|source| NetError::Transport {
                what: "set up the HTTP client".into(),
                url: String::new(),
                attempts: 0,
                source,
            })?;
        Ok(Http { client, policy })
    }

    /// The same client under another retry policy.
    pub fn with_policy(&self, policy: RetryPolicy) -> Http {
        Http {
            client: self.client.clone(),
            policy,
        }
    }

    /// The underlying client, to build requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Sends the request `build` makes, again on 429, 5xx and network faults, as the
    /// policy says. Returns the first response that is neither (a success, a `304`, or a
    /// `4xx` the caller reads: [`Http::error_for`] turns it into a [`NetError::Status`]).
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, NetError> {
        let mut backoff = self.policy.backoff();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let request = build();
            let url = request
                .try_clone()
                .and_then(|r| r.build().ok())
                .map(|r| r.url().to_string())
                .unwrap_or_default();
            let outcome = request.send().await;
            let response = match outcome {
                Ok(response) => response,
                Err(source) => match backoff.next() {
                    Some(delay) => {
                        tracing::warn!("{what}: {url}: {source}; trying again in {delay:?}");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => {
                        return Err(NetError::Transport {
                            what: what.into(),
                            url,
                            attempts,
                            source,
                        });
                    }
                },
            };
            let status = response.status();
            if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                return Ok(response);
            }
            let asked = rate_limit_wait(response.headers(), Utc::now());
            if let Some(wait) = asked
                && wait > self.policy.max_wait
            {
                return Err(NetError::RateLimited {
                    what: what.into(),
                    url,
                    wait,
                });
            }
            let Some(backoff_delay) = backoff.next() else {
                return Err(Self::error_for(what, response).await);
            };
            // The server's word wins over our own backoff.
            let delay = asked.unwrap_or(backoff_delay);
            tracing::warn!("{what}: {url} answered {status}; trying again in {delay:?}");
            tokio::time::sleep(delay).await;
        }
    }

    /// Turns an error response into a [`NetError::Status`] with its body.
    pub async fn error_for(what: &str, response: Response) -> NetError {
        let url = response.url().to_string();
        let status = response.status().as_u16();
        let retry_after = rate_limit_wait(response.headers(), Utc::now());
        let body = response.text().await.unwrap_or_default();
        NetError::Status {
            what: what.into(),
            url,
            status,
            body,
            retry_after,
        }
    }

    /// Sends, requires a success, and reads the JSON body as `T`.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(T, HeaderMap), NetError> {
        let response = self.send(what, build).await?;
        if !response.status().is_success() {
            return Err(Self::error_for(what, response).await);
        }
        let url = response.url().to_string();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| NetError::Body {
            what: what.into(),
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| NetError::Body {
            what: what.into(),
            url,
            reason: e.to_string(),
        })?;
        Ok((value, headers))
    }
}

/// How long a `429` (or `503`) asks the client to wait, from its headers at `now`:
/// `Retry-After` (delay in seconds, or an HTTP date), else `ratelimit-reset` /
/// `x-ratelimit-reset` (Unix seconds as Bluesky sends, an RFC 3339 time as Mastodon
/// sends, or small numbers as seconds to wait). `None` when none can be read.
pub fn rate_limit_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let until = |at: DateTime<Utc>| (at - now).to_std().unwrap_or(Duration::ZERO);
    if let Some(value) = header("retry-after") {
        if let Ok(secs) = value.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = DateTime::parse_from_rfc2822(value) {
            return Some(until(at.with_timezone(&Utc)));
        }
    }
    for name in ["ratelimit-reset", "x-ratelimit-reset"] {
        let Some(value) = header(name) else { continue };
        if let Ok(n) = value.parse::<i64>() {
            // Unix seconds are large; a small number is a delay (the IETF draft's form).
            if n > 1_000_000_000 {
                return DateTime::from_timestamp(n, 0).map(until);
            }
            return Some(Duration::from_secs(n.max(0).unsigned_abs()));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(value) {
            return Some(until(at.with_timezone(&Utc)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let wait = |pairs: &[(&'static str, &str)]| rate_limit_wait(&headers(pairs), now());
        assert_eq!(wait(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        assert_eq!(
            wait(&[("retry-after", "Sun, 01 Mar 2026 12:00:30 GMT")]),
            Some(Duration::from_secs(30))
        );
        // A date already past means: now.
        assert_eq!(
            wait(&[("retry-after", "Sun, 01 Mar 2026 11:00:00 GMT")]),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn rate_limit_reset_as_bluesky_and_mastodon_send_it() {
        let wait = |pairs: &[(&'static str, &str)]| rate_limit_wait(&headers(pairs), now());
        let reset = (now().timestamp() + 90).to_string();
        assert_eq!(
            wait(&[("ratelimit-reset", &reset)]),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset", "2026-03-01T12:05:00.000Z")]),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset", "12")]),
            Some(Duration::from_secs(12))
        );
        // Retry-After wins over the reset time.
        assert_eq!(
            wait(&[("retry-after", "2"), ("ratelimit-reset", &reset)]),
            Some(Duration::from_secs(2))
        );
        assert_eq!(wait(&[("retry-after", "soon")]), None);
        assert_eq!(wait(&[]), None);
    }

    #[test]
    fn backoff_grows_and_stops() {
        let policy = RetryPolicy {
            attempts: 4,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            max_wait: Duration::from_secs(1),
        };
        let delays: Vec<_> = policy.backoff().collect();
        assert_eq!(delays.len(), 3, "attempts - 1 waits");
        for d in &delays {
            // Jitter adds up to one more delay.
            assert!(*d >= Duration::from_millis(100) && *d <= Duration::from_millis(600));
        }
    }
}
