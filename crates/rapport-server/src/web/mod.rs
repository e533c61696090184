//! The web inbox: server-rendered HTML pages served by the same router as the API.
//!
//! Pages are written with `maud`, which escapes every spliced value: post texts, names and
//! labels are untrusted and are never spliced unescaped. A little plain JavaScript
//! (`assets/app.js`) adds keyboard shortcuts, ticking SLA countdowns and live updates
//! over the API's event stream; every page works without it. Every response carries a
//! strict Content-Security-Policy (no inline scripts or styles: data reaches the script
//! through `data-` attributes).
//!
//! A browser logs in with a form (`/login`) and gets the same session cookie as
//! `POST /api/v1/session`. Every form that changes something carries the session's CSRF
//! token in a hidden `csrf` field, checked in constant time; roles are checked with
//! [`rapport_core::access::allows`] in every handler, and every change goes through the
//! same store calls as the API, then redirects back (POST-redirect-GET).

mod chart;
mod conversation;
mod drafts;
mod ideas;
mod inbox;
mod login;
mod people;
mod reports;
mod search;
mod settings;
mod tribe;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, html};
use rapport_core::SentimentBand;
use rapport_core::access::{Action, allows};
use rapport_store::{StoreError, User};

use crate::AppState;
use crate::auth::{self, SESSION_COOKIE};

/// The stylesheet, served at `/assets/app.css`.
const CSS: &str = include_str!("assets/app.css");
/// The script, served at `/assets/app.js`.
const JS: &str = include_str!("assets/app.js");

/// FNV-1a of a text, at compile time: the version of an asset in its URL, so that a
/// browser may keep it for a year and still gets the new one after an upgrade.
const fn fnv1a(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

const CSS_VERSION: u64 = fnv1a(CSS);
const JS_VERSION: u64 = fnv1a(JS);

/// The Content-Security-Policy of every page.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/// The web pages, their form handlers and their assets.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(inbox::page))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/conversations/{id}", get(conversation::page))
        .route("/conversations/{id}/reply", post(conversation::reply))
        .route("/conversations/{id}/assign", post(conversation::assign))
        .route("/conversations/{id}/status", post(conversation::status))
        .route("/conversations/{id}/notes", post(conversation::note))
        .route("/conversations/{id}/labels", post(conversation::label))
        .route("/people", get(people::overview))
        .route("/people/merge", post(people::merge))
        .route("/people/dismiss", post(people::dismiss))
        .route("/people/merges/{id}/undo", post(people::unmerge))
        .route(
            "/conversations/{id}/messages/{message}/corrections",
            post(conversation::correct),
        )
        .route("/people/{id}", get(people::page))
        .route("/search", get(search::page))
        .route("/reports", get(reports::page))
        .route("/reports.csv", get(reports::csv_download))
        .route("/settings", get(settings::page))
        .route("/drafts", get(drafts::page))
        .route("/drafts/{id}/approve", post(drafts::approve))
        .route("/drafts/{id}/reject", post(drafts::reject))
        .route("/tribe", get(tribe::page))
        .route("/ideas", get(ideas::page))
        .route("/ideas/{id}", get(ideas::item))
        .route("/ideas/{id}/status", post(ideas::status))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .layer(map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn asset(uri: &Uri, body: &'static str, content_type: &'static str, version: u64) -> Response {
    // Versioned URLs (the ones pages link to) never change; any other is revalidated.
    let versioned = uri
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("v=")))
        .is_some_and(|v| v == format!("{version:x}"));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

async fn css(uri: Uri) -> Response {
    asset(&uri, CSS, "text/css; charset=utf-8", CSS_VERSION)
}

async fn js(uri: Uri) -> Response {
    asset(&uri, JS, "text/javascript; charset=utf-8", JS_VERSION)
}

/// A logged-in browser: the user and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    token: String,
}

impl Session {
    /// Whether the user's role allows `action`.
    pub fn may(&self, action: Action) -> bool {
        allows(self.user.role, action)
    }

    /// Refuses (403) unless the user's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), WebError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(WebError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "A {} may not {}: ask an admin for another role.",
                    self.user.role,
                    auth::verb(action)
                ),
            ))
        }
    }

    /// Refuses (403) unless `sent` is the session's CSRF token.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), WebError> {
        if constant_time_eq(sent.unwrap_or_default().as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(missing_csrf())
        }
    }
}

fn missing_csrf() -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        "This form lacks the session's security token (it may come from another site, or \
         from a page older than your login): reload the page and try again.",
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(token) = auth::cookie(&parts.headers, SESSION_COOKIE) {
            match state.store().session(token, state.now()).await {
                Ok(Some((user, csrf))) => {
                    return Ok(Session {
                        user,
                        csrf,
                        token: token.to_owned(),
                    });
                }
                Ok(None) => {}
                Err(e) => return Err(WebError::from(e).into_response()),
            }
        }
        // Back to this page after logging in; a form's target is no page to go back to.
        let next = match parts.method {
            Method::GET | Method::HEAD => parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
            _ => "/",
        };
        Err(see_other(&format!(
            "/login?next={}",
            encode_component(next)
        )))
    }
}

/// A page that cannot be shown, or a form that is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong and what to do, for the person reading.
    pub message: String,
}

impl WebError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        WebError {
            status,
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 422: the request is readable but refused.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { .. } | StoreError::UnknownUser(_) => {
                WebError::not_found(capitalise(&err.to_string()))
            }
            StoreError::Invalid(message) => WebError::invalid(capitalise(&message)),
            other => {
                // The detail is for the log, not for the page.
                tracing::error!("web: {other}");
                WebError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the server; its log has the detail. Try again in a moment.",
                )
            }
        }
    }
}

impl From<crate::semantic::SemanticJobError> for WebError {
    fn from(err: crate::semantic::SemanticJobError) -> Self {
        match err {
            crate::semantic::SemanticJobError::Store(e) => e.into(),
            model => {
                tracing::error!("web: {model}");
                WebError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The embedding model failed; the server's log has the detail. Try again in a moment.",
                )
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (title) }
            p.error role="alert" { (self.message) }
            p { a href="/" { "Back to the inbox" } }
        };
        page_response(
            self.status,
            layout(title, None, Nav::None, Utc::now(), body),
        )
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A 303 to `location`.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// An HTML page with `status`; pages hold private data, so browsers do not store them.
pub fn page_response(status: StatusCode, markup: Markup) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (status, headers, markup.into_string()).into_response()
}

/// Which navigation link is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The inbox and the conversations.
    Inbox,
    /// Search.
    Search,
    /// Reports.
    Reports,
    /// Drafts: the approval queue and the calendar.
    Drafts,
    /// People: relationships, advocates, merges.
    People,
    /// Settings.
    Settings,
    /// The tribe graph.
    Tribe,
    /// The ideas loop.
    Ideas,
    /// None of them.
    None,
}

/// The page around `body`: the header with the navigation (when logged in), the main
/// landmark, the stylesheet and the script. `now` reaches the script as `data-now`, so
/// countdowns tick from the server's clock.
pub fn layout(
    title: &str,
    session: Option<&Session>,
    current: Nav,
    now: DateTime<Utc>,
    body: Markup,
) -> Markup {
    let nav_link = |id: &str, href: &str, text: &str, this: Nav| {
        html! {
            a id=(id) href=(href) aria-current=[(current == this).then_some("page")] { (text) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rapport" }
                // No favicon to fetch.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(format!("/assets/app.css?v={CSS_VERSION:x}"));
                script src=(format!("/assets/app.js?v={JS_VERSION:x}")) defer {}
            }
            body data-now=(rfc3339(now)) {
                a.skip href="#main" { "Skip to the content" }
                header.top {
                    a.brand href="/" { "rapport" }
                    @if let Some(s) = session {
                        nav aria-label="Main" {
                            (nav_link("nav-inbox", "/", "Inbox", Nav::Inbox))
                            @if s.may(Action::Read) {
                                (nav_link("nav-search", "/search", "Search", Nav::Search))
                            }
                            (nav_link("nav-reports", "/reports", "Reports", Nav::Reports))
                            @if s.may(Action::Read) {
                                (nav_link("nav-drafts", "/drafts", "Drafts", Nav::Drafts))
                                (nav_link("nav-people", "/people", "People", Nav::People))
                                (nav_link("nav-tribe", "/tribe", "Tribe", Nav::Tribe))
                                (nav_link("nav-ideas", "/ideas", "Ideas", Nav::Ideas))
                            }
                            @if s.may(Action::Settings) {
                                (nav_link("nav-settings", "/settings", "Settings", Nav::Settings))
                            }
                        }
                        div.who {
                            span.user { (s.user.name) " " span.role { "(" (s.user.role) ")" } }
                            form #logout method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// RFC 3339 in UTC with seconds, as `data-due` and `datetime` carry it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A time, readable and machine-readable.
pub fn when(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(rfc3339(t)) { (t.format("%Y-%m-%d %H:%M UTC")) } }
}

/// A span of time for a countdown: `<1m`, `14m`, `5h`, `3d` (the script writes the same).
pub fn countdown_span(seconds: i64) -> String {
    let minutes = seconds.unsigned_abs() / 60;
    if minutes < 1 {
        "<1m".to_owned()
    } else if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 48 * 60 {
        format!("{}h", minutes / 60)
    } else {
        format!("{}d", minutes / (24 * 60))
    }
}

/// `due in 14m`, `overdue 2h`, or `—` when nothing is due.
pub fn due_text(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match due {
        None => "—".to_owned(),
        Some(due) => {
            let seconds = (due - now).num_seconds();
            if due >= now {
                format!("due in {}", countdown_span(seconds))
            } else {
                format!("overdue {}", countdown_span(seconds))
            }
        }
    }
}

/// The SLA countdown: `span.sla[data-due]`, which the script keeps ticking.
pub fn sla(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Markup {
    let overdue = due.is_some_and(|d| d < now);
    html! {
        span.sla.overdue[overdue] data-due=[due.map(rfc3339)] { (due_text(due, now)) }
    }
}

/// A length of time for reports: `45s`, `14m`, `2h 5m`, `3d 4h`.
pub fn duration_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{m}m")
    } else if s < 86_400 {
        if m == 0 {
            format!("{h}h")
        } else {
            format!("{h}h {m}m")
        }
    } else if h == 0 {
        format!("{d}d")
    } else {
        format!("{d}d {h}h")
    }
}

/// The priority badge: its text is the band.
pub fn priority_badge(band: rapport_core::Band) -> Markup {
    let class = format!("badge priority {}", band.as_str().to_ascii_lowercase());
    html! { span class=(class) { (band.as_str()) } }
}

/// The sentiment badge: its text is the band, its title the compound score.
pub fn sentiment_badge(compound: f64) -> Markup {
    let band = SentimentBand::of(compound).as_str();
    let class = format!("badge sentiment {band}");
    html! { span class=(class) title=(format!("compound {compound:+.2}")) { (band) } }
}

/// The first `max` characters of `text`, with `…` when cut.
pub fn snippet(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// `text` percent-encoded for a query string or a path segment.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string (`?a=1&b=2`) of the pairs whose value is not empty; empty when none.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// `next` when it is a path on this site (`/…`, not `//host` or `/\host`), else `/`.
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c == '\\' || c.is_control()) =>
        {
            n
        }
        _ => "/",
    }
}

/// The value of a filter from a form, `None` for empty and for the "any" words.
pub fn chosen(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && !matches!(*v, "all" | "any"))
}

/// A header for a response (`Retry-After` and the like).
pub fn with_header(mut response: Response, name: HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
    response
}

/// The session cookie as `auth::login` sets it (`Max-Age=0` clears it).
fn session_cookie(state: &AppState, value: &str, max_age: u64) -> Option<HeaderValue> {
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn countdowns_read_as_the_script_writes_them() {
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let at = |s: i64| Some(now + chrono::TimeDelta::seconds(s));
        assert_eq!(due_text(None, now), "—");
        assert_eq!(due_text(at(14 * 60 + 59), now), "due in 14m");
        assert_eq!(due_text(at(30), now), "due in <1m");
        assert_eq!(due_text(at(-2 * 3600 - 5), now), "overdue 2h");
        assert_eq!(due_text(at(-3 * 86_400), now), "overdue 3d");
        assert_eq!(due_text(at(47 * 3600), now), "due in 47h");
    }

    #[test]
    fn durations_for_reports() {
        assert_eq!(duration_text(42.0), "42s");
        assert_eq!(duration_text(14.0 * 60.0), "14m");
        assert_eq!(duration_text(7200.0), "2h");
        assert_eq!(duration_text(7500.0), "2h 5m");
        assert_eq!(duration_text(86_400.0 * 3.0 + 3600.0 * 4.0), "3d 4h");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            local_path(Some("/conversations/4?x=1")),
            "/conversations/4?x=1"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn query_strings_are_encoded_and_skip_empty_values() {
        assert_eq!(
            query_string(&[("q", "a b&c/é"), ("team", ""), ("status", "open")]),
            "?q=a%20b%26c%2F%C3%A9&status=open"
        );
        assert_eq!(query_string(&[("q", "")]), "");
    }

    #[test]
    fn snippets_cut_on_characters() {
        assert_eq!(snippet("héllo wörld", 5), "héllo…");
        assert_eq!(snippet("short", 10), "short");
    }

    #[test]
    fn csrf_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
