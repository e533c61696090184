//! A fake feed server: one RSS or Atom document at `GET /feed`, served the way WordPress
//! behind a typical web server serves it, with HTTP conditional requests (RFC 9110):
//! a strong `ETag` (a hash of the body) and a `Last-Modified` date; `304 Not Modified`
//! with an empty body when `If-None-Match` matches the ETag, or, when the request has no
//! `If-None-Match`, when `If-Modified-Since` is not older than `Last-Modified`.
//!
//! Replacing the body ([`FakeFeed::set_body`]) changes the ETag and moves
//! `Last-Modified` forward by at least a second (HTTP dates have one-second resolution,
//! so a client relying on dates alone still sees the change).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};

use super::{Harness, Recorded, fixture, lock, spawn};

/// The content type WordPress sends for its RSS feeds.
pub const RSS: &str = "application/rss+xml; charset=UTF-8";
/// The content type WordPress sends for its Atom feeds.
pub const ATOM: &str = "application/atom+xml; charset=UTF-8";

/// `rss/wordpress-comments.rss`.
pub fn fixture_rss() -> String {
    fixture("rss/wordpress-comments.rss")
}

/// `rss/wordpress-comments.atom`.
pub fn fixture_atom() -> String {
    fixture("rss/wordpress-comments.atom")
}

struct FeedState {
    body: String,
    content_type: String,
    etag: String,
    last_modified: DateTime<Utc>,
    hits: usize,
    not_modified: usize,
}

/// The running fake. Cheap to clone; all clones share one server.
#[derive(Clone)]
pub struct FakeFeed {
    addr: SocketAddr,
    state: Arc<Mutex<FeedState>>,
    harness: Harness,
}

impl FakeFeed {
    /// Starts serving `body` with `content_type` (e.g. [`RSS`], [`ATOM`]).
    pub async fn start(body: impl Into<String>, content_type: &str) -> Self {
        let body = body.into();
        let state = Arc::new(Mutex::new(FeedState {
            etag: etag(&body),
            body,
            content_type: content_type.to_owned(),
            last_modified: whole_seconds(Utc::now()),
            hits: 0,
            not_modified: 0,
        }));
        let harness = Harness::new(feed_error);
        let router = Router::new()
            .route("/feed", get(serve_feed))
            .with_state(Arc::clone(&state));
        let addr = spawn(harness.wrap(router)).await;
        Self {
            addr,
            state,
            harness,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/feed`.
    pub fn feed_url(&self) -> String {
        format!("http://{}/feed", self.addr)
    }

    /// Replaces the document (same content type): new ETag, later `Last-Modified`.
    pub fn set_body(&self, body: impl Into<String>) {
        let body = body.into();
        let mut state = lock(&self.state);
        state.etag = etag(&body);
        state.body = body;
        state.last_modified =
            whole_seconds(Utc::now()).max(state.last_modified + TimeDelta::seconds(1));
    }

    /// The current `ETag` header value, quotes included.
    pub fn etag(&self) -> String {
        lock(&self.state).etag.clone()
    }

    /// The current `Last-Modified` header value.
    pub fn last_modified(&self) -> String {
        http_date(lock(&self.state).last_modified)
    }

    /// `GET /feed` requests answered (200s and 304s; injected failures excluded).
    pub fn hits(&self) -> usize {
        lock(&self.state).hits
    }

    /// How many of those were answered `304 Not Modified`.
    pub fn not_modified(&self) -> usize {
        lock(&self.state).not_modified
    }

    /// See [`Harness::fail_next`]; failures carry a small HTML error page.
    pub fn fail_next(&self, path: &str, status: u16, headers: &[(&str, &str)]) {
        self.harness.fail_next(path, status, headers);
    }

    /// See [`Harness::delay_next`].
    pub fn delay_next(&self, path: &str, delay: Duration) {
        self.harness.delay_next(path, delay);
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Recorded> {
        self.harness.requests()
    }
}

fn feed_error(status: u16) -> Response {
    let body = format!("<html><body><h1>{status}</h1></body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=UTF-8")], body).into_response()
}

/// A strong ETag: FNV-1a 64 of the body, quoted.
fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

/// An IMF-fixdate (`Tue, 02 Jan 2024 11:05:00 GMT`).
fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, as for GET).
fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if_none_match
        .split(',')
        .any(|tag| tag.trim() == "*" || bare(tag) == bare(etag))
}

async fn serve_feed(State(state): State<Arc<Mutex<FeedState>>>, headers: HeaderMap) -> Response {
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut state = lock(&state);
    state.hits += 1;
    let fresh = match header_text(header::IF_NONE_MATCH) {
        Some(tags) => none_match_hits(&tags, &state.etag),
        None => header_text(header::IF_MODIFIED_SINCE)
            .and_then(|since| parse_http_date(&since))
            .is_some_and(|since| state.last_modified <= since),
    };
    let mut response = if fresh {
        state.not_modified += 1;
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = state.body.clone().into_response();
        if let Ok(value) = HeaderValue::try_from(state.content_type.as_str()) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    for (name, value) in [
        (header::ETAG, state.etag.clone()),
        (header::LAST_MODIFIED, http_date(state.last_modified)),
    ] {
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
