//! Fake platform servers for integration tests: Bluesky (Jetstream + PDS XRPC),
//! Mastodon (REST + streaming SSE) and a plain RSS/Atom feed.
//!
//! Each fake is a real HTTP server on `127.0.0.1:0`, built with axum, that speaks the
//! platform's wire protocol closely enough for rapport's connectors to be pointed at it
//! unchanged. Every fake:
//!
//! * records each request it receives ([`Recorded`]: method, path, raw query string,
//!   headers, body, and the fault that hit it, if any), so a test can assert exactly what
//!   arrived;
//! * can fail or delay the next request on a path ([`Harness::fail_next`],
//!   [`Harness::delay_next`]); a failure is answered in the platform's error shape, a
//!   delay lets the request take effect and only holds the response back (a client
//!   timeout after the server acted);
//! * keeps its state in `Arc<std::sync::Mutex<..>>`, never locked across an `.await`.
//!
//! Include with `mod fakes;` from an integration test file; each test binary uses a
//! different subset, hence the `dead_code` allowance below.

#![allow(dead_code)]

pub mod bluesky;
pub mod feed;
pub mod mastodon;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;

/// Binds `127.0.0.1:0` and serves `router` from a background tokio task, for as long as
/// the runtime lives (a `#[tokio::test]` runtime ends with its test).
pub async fn spawn(router: Router) -> SocketAddr {
    #[allow(clippy::expect_used)] // a test cannot go on without its fake server
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for a fake server");
    #[allow(clippy::expect_used)]
    let addr = listener
        .local_addr()
        .expect("local address of a bound listener");
    tokio::spawn(async move {
        // Serving only ends when the runtime shuts down.
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// Locks a fake's state. A panicking test thread must not poison the fake for the other
/// requests still in flight, so poisoning is ignored.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Path of a file under `crates/rapport-connectors/tests/fixtures/`.
pub fn fixture_path(relative: &str) -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rapport-connectors/tests/fixtures/"
    )
    .to_owned()
        + relative
}

/// Contents of a fixture file (see [`fixture_path`]); panics when it is missing.
pub fn fixture(relative: &str) -> String {
    let path = fixture_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// One injected fault, queued for the next request on a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status, the platform's error body and these extra headers, without
    /// letting the request take effect.
    Fail {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// Let the request take effect, then hold the response back this long.
    Delay(Duration),
}

/// Faults waiting for their request, in the order they were queued; each is consumed by
/// the first request whose path equals the queued path.
#[derive(Debug, Default)]
pub struct FaultQueue {
    queued: VecDeque<(String, Fault)>,
}

impl FaultQueue {
    /// Queues `fault` for the next request on `path` (after any already queued for it).
    pub fn push(&mut self, path: &str, fault: Fault) {
        self.queued.push_back((path.to_owned(), fault));
    }

    /// Takes the oldest fault queued for `path`, if any.
    pub fn take(&mut self, path: &str) -> Option<Fault> {
        let index = self.queued.iter().position(|(p, _)| p == path)?;
        self.queued.remove(index).map(|(_, fault)| fault)
    }

    /// Whether no fault is waiting.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query string; empty when there was none.
    pub query: String,
    /// Every request header, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, lossily decoded as UTF-8.
    pub body: String,
    /// The fault that hit this request, if one was queued for it.
    pub fault: Option<Fault>,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Recorded {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string, decoded into pairs in order (`types%5B%5D` becomes `types[]`).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_form(&self.query)
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The body decoded as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_form(&self.body)
    }
}

#[derive(Debug, Default)]
struct Journal {
    requests: Vec<Recorded>,
    faults: FaultQueue,
}

/// Request recording and fault injection shared by every fake: wrap the fake's router
/// with [`Harness::wrap`], and forward `fail_next` / `delay_next` / `requests` to it.
#[derive(Clone)]
pub struct Harness {
    journal: Arc<Mutex<Journal>>,
    error_body: fn(u16) -> Response,
}

impl Harness {
    /// A harness whose injected failures are answered by `error_body(status)` (the
    /// platform's error shape; the status is set by the harness).
    pub fn new(error_body: fn(u16) -> Response) -> Self {
        Self {
            journal: Arc::default(),
            error_body,
        }
    }

    /// `router` with every request recorded and subject to the queued faults.
    pub fn wrap(&self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(
            self.clone(),
            record_and_fault,
        ))
    }

    /// The next request whose path equals `path` is answered with `status`, the
    /// platform's error body and `headers` (e.g. `[("Retry-After", "1")]`), without
    /// taking effect. One-shot; several calls queue several failures.
    pub fn fail_next(&self, path: &str, status: u16, headers: &[(&str, &str)]) {
        let headers = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        lock(&self.journal)
            .faults
            .push(path, Fault::Fail { status, headers });
    }

    /// The next request whose path equals `path` takes effect, but its response is only
    /// sent after `delay`. One-shot.
    pub fn delay_next(&self, path: &str, delay: Duration) {
        lock(&self.journal).faults.push(path, Fault::Delay(delay));
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.journal).requests.clone()
    }

    /// The requests received so far on `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        lock(&self.journal)
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

/// Largest request body a fake accepts.
const MAX_BODY: usize = 16 * 1024 * 1024;

async fn record_and_fault(
    State(harness): State<Harness>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let fault = {
        let mut journal = lock(&harness.journal);
        let fault = journal.faults.take(&path);
        journal.requests.push(Recorded {
            at: std::time::Instant::now(),
            method: parts.method.to_string(),
            path,
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            fault: fault.clone(),
        });
        fault
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    match fault {
        None => next.run(request).await,
        Some(Fault::Delay(delay)) => {
            let response = next.run(request).await;
            tokio::time::sleep(delay).await;
            response
        }
        Some(Fault::Fail { status, headers }) => {
            let mut response = (harness.error_body)(status);
            *response.status_mut() = axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(name.as_str()),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
    }
}

/// The bearer token of an `Authorization: Bearer ...` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Decodes `application/x-www-form-urlencoded` text (also a query string) into pairs.
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| char::from(b).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.extend(u8::try_from(high * 16 + low).ok());
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes one query component the way Ruby's `CGI.escape` (and so Rails' `to_query`)
/// does: ASCII letters, digits and `*-._` stay, space becomes `+`, the rest is `%XX`.
pub fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The values of query/form parameter `name` (all of them, for repeated parameters).
pub fn all_values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first value of query/form parameter `name`.
pub fn first_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
