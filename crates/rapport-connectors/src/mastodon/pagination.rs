//! Pagination of Mastodon lists and the polling cursor.
//!
//! Lists (`GET /api/v1/notifications`, timelines) come newest first, a page at a time,
//! with a `Link` header:
//! `<https://host/api/v1/notifications?max_id=123>; rel="next", <https://host/api/v1/notifications?min_id=456>; rel="prev"`.
//! `next` goes to older items (`max_id`), `prev` to newer ones (`min_id`).
//!
//! # The cursor
//! The connector's cursor is **the id of the newest notification already ingested**
//! (ids increase over time; compare them with [`compare_ids`], not as text). Polling asks
//! for what came after it, [`notifications_query`]:
//! `GET /api/v1/notifications?types[]=mention&limit=40&min_id=CURSOR`.
//!
//! `min_id` rather than `since_id`: both return only items newer than the id, but
//! `since_id` returns the *newest* page of them, so when more than `limit` arrived between
//! two polls the older ones would be skipped; `min_id` returns the page *just after* the
//! cursor. Either way the page comes newest first: ingest it oldest first
//! ([`sort_oldest_first`]), advancing the cursor with each message in the same
//! transaction, then poll again with the new cursor until a page comes back empty
//! (following the `prev` link is equivalent). With no cursor yet, the first poll returns
//! the newest page.

use std::cmp::Ordering;

use super::wire::Notification;

/// The `next` and `prev` URLs of a `Link` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// Older items (carries `max_id`).
    pub next: Option<String>,
    /// Newer items (carries `min_id`).
    pub prev: Option<String>,
}

impl Links {
    /// `max_id` of the `next` URL: the id to pass as `max_id` for the older page.
    pub fn next_max_id(&self) -> Option<String> {
        self.next.as_deref().and_then(max_id)
    }

    /// `min_id` of the `prev` URL: the id to pass as `min_id` for the newer page.
    pub fn prev_min_id(&self) -> Option<String> {
        self.prev.as_deref().and_then(min_id)
    }
}

/// Parses a `Link` header value (RFC 8288). Unknown relations are ignored, the first of
/// each relation wins, `rel` may hold several space-separated relations, and parameter
/// names are case-insensitive. A response with several `Link` header lines: join them
/// with `", "` first. Garbage gives empty [`Links`], never an error.
pub fn parse_link_header(value: &str) -> Links {
    let mut links = Links::default();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after_open = &rest[open + 1..];
        let Some(close) = after_open.find('>') else {
            break;
        };
        let url = after_open[..close].trim();
        let params_and_rest = &after_open[close + 1..];
        // The parameters run to the next comma outside quotes.
        let (params, next) = split_params(params_and_rest);
        for rel in rel_values(params) {
            let slot = match rel.to_ascii_lowercase().as_str() {
                "next" => &mut links.next,
                "prev" | "previous" => &mut links.prev,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(url.to_string());
            }
        }
        rest = next;
    }
    links
}

/// Splits `; rel="next", <...` into (`; rel="next"`, `<...`).
fn split_params(s: &str) -> (&str, &str) {
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => return (&s[..i], &s[i + 1..]),
            _ => {}
        }
    }
    (s, "")
}

/// The relations named by the `rel` parameters in `; rel="next"; foo=bar`.
fn rel_values(params: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for param in params.split(';') {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("rel") {
            out.extend(value.trim().trim_matches('"').split_ascii_whitespace());
        }
    }
    out
}

/// The value of query parameter `name` in `url`, percent-decoded (`+` as space); `None`
/// when absent or empty.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name)
            .then(|| percent_decode(v))
            .filter(|v| !v.is_empty())
    })
}

/// `max_id` of a pagination URL.
pub fn max_id(url: &str) -> Option<String> {
    query_param(url, "max_id")
}

/// `min_id` of a pagination URL.
pub fn min_id(url: &str) -> Option<String> {
    query_param(url, "min_id")
}

/// `since_id` of a pagination URL.
pub fn since_id(url: &str) -> Option<String> {
    query_param(url, "since_id")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Orders Mastodon ids oldest first. Mastodon ids are decimal numbers too large for
/// JavaScript, sent as strings: compared by length, then digit by digit. Ids that are
/// not all digits (other servers' flake ids) compare as text.
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let a = a.trim_start_matches('0');
        let b = b.trim_start_matches('0');
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// The newest of some ids ([`compare_ids`]): the next cursor after a page.
pub fn newest_id<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ids.into_iter().max_by(|a, b| compare_ids(a, b))
}

/// Sorts a page (which the API gives newest first) oldest first, for ingest in cursor
/// order.
pub fn sort_oldest_first(page: &mut [Notification]) {
    page.sort_by(|a, b| compare_ids(&a.id, &b.id));
}

/// The path and query of the mentions poll: `/api/v1/notifications?types[]=mention&
/// limit=LIMIT&min_id=CURSOR` (brackets percent-encoded; no `min_id` without a cursor).
/// `limit` is capped at 80, the API's maximum. See the module docs for the cursor.
pub fn notifications_query(cursor: Option<&str>, limit: u32) -> String {
    let mut q = format!(
        "/api/v1/notifications?types%5B%5D=mention&limit={}",
        limit.clamp(1, 80)
    );
    if let Some(c) = cursor.filter(|c| !c.is_empty()) {
        q.push_str("&min_id=");
        q.push_str(&encode_component(c));
    }
    q
}

fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
