//! A fake Mastodon server (REST API and streaming API on one port).
//!
//! Imitates Mastodon 4.x as recorded against a real server: every `/api/v1/*` REST call
//! needs `Authorization: Bearer TOKEN` (else 401 `{"error":"The access token is
//! invalid"}`); ids are strings compared as numbers; lists are newest first and paginated
//! with `max_id` / `since_id` / `min_id` / `limit`, and a `Link` header whose parameters
//! are sorted as Rails' `to_query` sorts them (`<...?max_id=OLDEST&types%5B%5D=mention>;
//! rel="next", <...?min_id=NEWEST&...>; rel="prev"`, absent for an empty page);
//! `POST /api/v1/statuses` honours `Idempotency-Key` (a repeated key returns the status
//! first created with it) and answers validation errors with 422.
//!
//! The streaming API is served as SSE (`text/event-stream`), as the Node streaming server
//! does for plain HTTP: `:)` on connect, `event: NAME\ndata: PAYLOAD\n\n` per event and a
//! `:thump` comment heartbeat (every second here, every 15 seconds on a real server).
//! Only events pushed after the connection opened are sent.
//!
//! Known departures: status HTML is escaped text in `<p>` paragraphs, without the links
//! Mastodon adds for URLs, mentions and hashtags; `mentions` is always empty; the length
//! check counts URLs as 23 characters and remote mentions by their local part, but
//! otherwise counts `char`s.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{
    Harness, Recorded, all_values, bearer, first_value, fixture, form_encode, lock, parse_form,
    spawn,
};

/// Access token the default configuration accepts.
pub const TOKEN: &str = "fake-mastodon-access-token";
/// The fixtures' organisation account.
pub const ORG_ID: &str = "109800000000000001";
pub const ORG_USERNAME: &str = "northwind";
pub const DOMAIN: &str = "social.example";

/// Heartbeat period of the streaming API.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// What the fake starts with. [`Default`] is the fixtures' organisation account with no
/// notifications or statuses; [`MastodonConfig::with_fixtures`] adds
/// `mastodon/notifications_page.json`.
#[derive(Clone, Debug)]
pub struct MastodonConfig {
    pub token: String,
    pub account_id: String,
    pub username: String,
    /// `acct` of the organisation: its username, as the home server shows it.
    pub acct: String,
    pub display_name: String,
    /// The instance's domain (`social.example`), used in URLs and URIs of statuses.
    pub domain: String,
    /// Notification objects with string ids that grow numerically; any order.
    pub notifications: Vec<Value>,
    /// `(hashtag, status)` pairs for `/api/v1/timelines/tag/{hashtag}`.
    pub hashtag_statuses: Vec<(String, Value)>,
    /// Statuses that exist on the server (replies may target them), besides those inside
    /// notifications and hashtag timelines.
    pub statuses: Vec<Value>,
}

impl Default for MastodonConfig {
    fn default() -> Self {
        Self {
            token: TOKEN.to_owned(),
            account_id: ORG_ID.to_owned(),
            username: ORG_USERNAME.to_owned(),
            acct: ORG_USERNAME.to_owned(),
            display_name: "Northwind Outfitters".to_owned(),
            domain: DOMAIN.to_owned(),
            notifications: Vec::new(),
            hashtag_statuses: Vec::new(),
            statuses: Vec::new(),
        }
    }
}

impl MastodonConfig {
    /// Adds the notifications of `mastodon/notifications_page.json` and the statuses of
    /// `mastodon/statuses.json` (as existing statuses).
    pub fn with_fixtures(mut self) -> Self {
        self.notifications.extend(fixture_notifications());
        self.statuses.extend(fixture_statuses());
        self
    }
}

/// The notifications of `mastodon/notifications_page.json`, newest first.
pub fn fixture_notifications() -> Vec<Value> {
    parse_array("mastodon/notifications_page.json")
}

/// The statuses of `mastodon/statuses.json`.
pub fn fixture_statuses() -> Vec<Value> {
    parse_array("mastodon/statuses.json")
}

fn parse_array(path: &str) -> Vec<Value> {
    let value: Value =
        serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    value.as_array().cloned().unwrap_or_default()
}

/// A stream the fake served: its path and raw query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConnection {
    pub path: String,
    pub query: String,
}

/// The running fake. Cheap to clone; all clones share one server.
#[derive(Clone)]
pub struct FakeMastodon {
    addr: SocketAddr,
    state: Arc<Mutex<MastoState>>,
    harness: Harness,
}

impl FakeMastodon {
    /// Starts the fake on a free loopback port.
    pub async fn start(config: MastodonConfig) -> Self {
        let state = Arc::new(Mutex::new(MastoState::new(config)));
        let harness = Harness::new(mastodon_error_for_status);
        let rest = Router::new()
            .route(
                "/api/v1/accounts/verify_credentials",
                get(verify_credentials),
            )
            .route("/api/v1/notifications", get(notifications))
            .route("/api/v1/timelines/tag/{hashtag}", get(tag_timeline))
            .route("/api/v1/statuses", post(post_status))
            .route("/api/v1/statuses/{id}", get(get_status))
            .route_layer(middleware::from_fn_with_state(
                Arc::clone(&state),
                require_token,
            ));
        let router = Router::new()
            .route("/api/v2/instance", get(instance_v2))
            .route("/api/v1/instance", get(instance_v1))
            .route("/api/v1/streaming/user", get(stream))
            .route("/api/v1/streaming/user/notification", get(stream))
            .route("/api/v1/streaming/hashtag", get(stream))
            .merge(rest)
            .with_state(Arc::clone(&state));
        let addr = spawn(harness.wrap(router)).await;
        lock(&state).base_url = format!("http://{addr}");
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

    /// `ws://127.0.0.1:PORT`, as `/api/v2/instance` announces it.
    pub fn streaming_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// See [`Harness::fail_next`]; failures carry `{"error": "..."}`.
    pub fn fail_next(&self, path: &str, status: u16, headers: &[(&str, &str)]) {
        self.harness.fail_next(path, status, headers);
    }

    /// See [`Harness::delay_next`].
    pub fn delay_next(&self, path: &str, delay: Duration) {
        self.harness.delay_next(path, delay);
    }

    /// Every request received, stream connections included.
    pub fn requests(&self) -> Vec<Recorded> {
        self.harness.requests()
    }

    /// The requests received on `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.harness.requests_to(path)
    }

    /// Adds a notification (for the REST list) and sends it to the open user streams.
    pub fn push_notification(&self, notification: Value) {
        let mut state = lock(&self.state);
        state.remember_status(&notification["status"]);
        state.notifications.push(notification.clone());
        state.send_to(
            |kind| matches!(kind, StreamKind::User | StreamKind::UserNotification),
            "notification",
            &notification.to_string(),
        );
    }

    /// Adds a status to `#tag` (for the REST timeline) and sends it to the open streams
    /// of that hashtag as an `update` event. Tags compare case-insensitively.
    pub fn push_hashtag_status(&self, tag: &str, status: Value) {
        let tag = tag.to_lowercase();
        let mut state = lock(&self.state);
        state.remember_status(&status);
        state
            .hashtags
            .entry(tag.clone())
            .or_default()
            .push(status.clone());
        state.send_to(
            |kind| *kind == StreamKind::Hashtag(tag.clone()),
            "update",
            &status.to_string(),
        );
    }

    /// Sends any event to the open `/api/v1/streaming/user` streams, e.g. `update` with a
    /// status, or `delete` with a bare status id (not JSON, as Mastodon sends it).
    pub fn push_user_event(&self, event: &str, payload: &str) {
        lock(&self.state).send_to(|kind| *kind == StreamKind::User, event, payload);
    }

    /// Adds a status that replies may target.
    pub fn add_status(&self, status: Value) {
        lock(&self.state).remember_status(&status);
    }

    /// The next stream connection is cut (the response body aborts, as when the
    /// connection drops) after `n` events; heartbeats do not count. One-shot.
    pub fn drop_stream_after(&self, n: usize) {
        lock(&self.state).drop_stream_after = Some(n);
    }

    /// Every stream connection accepted, in order.
    pub fn stream_connections(&self) -> Vec<StreamConnection> {
        lock(&self.state).stream_connections.clone()
    }

    /// How many stream connections are open now.
    pub fn live_streams(&self) -> usize {
        let mut state = lock(&self.state);
        state.streams.retain(|s| !s.tx.is_closed());
        state.streams.len()
    }

    /// The statuses created through `POST /api/v1/statuses`, one per status.
    pub fn created_statuses(&self) -> Vec<Value> {
        lock(&self.state).created.clone()
    }
}

// ---------------------------------------------------------------------------------------
// State

#[derive(Clone, Debug, PartialEq, Eq)]
enum StreamKind {
    User,
    UserNotification,
    Hashtag(String),
}

struct StreamSubscriber {
    kind: StreamKind,
    tx: mpsc::UnboundedSender<(String, String)>,
}

struct MastoState {
    token: String,
    account_id: String,
    username: String,
    acct: String,
    display_name: String,
    domain: String,
    base_url: String,
    notifications: Vec<Value>,
    hashtags: HashMap<String, Vec<Value>>,
    /// Every status known to exist, by id.
    statuses: HashMap<String, Value>,
    created: Vec<Value>,
    idempotency: HashMap<String, String>,
    last_status_id: u128,
    streams: Vec<StreamSubscriber>,
    stream_connections: Vec<StreamConnection>,
    drop_stream_after: Option<usize>,
}

impl MastoState {
    fn new(config: MastodonConfig) -> Self {
        let mut state = Self {
            token: config.token,
            account_id: config.account_id,
            username: config.username,
            acct: config.acct,
            display_name: config.display_name,
            domain: config.domain,
            base_url: String::new(),
            notifications: Vec::new(),
            hashtags: HashMap::new(),
            statuses: HashMap::new(),
            created: Vec::new(),
            idempotency: HashMap::new(),
            last_status_id: 0,
            streams: Vec::new(),
            stream_connections: Vec::new(),
            drop_stream_after: None,
        };
        for notification in config.notifications {
            state.remember_status(&notification["status"]);
            state.notifications.push(notification);
        }
        for (tag, status) in config.hashtag_statuses {
            state.remember_status(&status);
            state
                .hashtags
                .entry(tag.to_lowercase())
                .or_default()
                .push(status);
        }
        for status in &config.statuses {
            state.remember_status(status);
        }
        state
    }

    fn remember_status(&mut self, status: &Value) {
        if let Some(id) = status["id"].as_str() {
            self.statuses.insert(id.to_owned(), status.clone());
        }
        if status["reblog"].is_object() {
            self.remember_status(&status["reblog"]);
        }
    }

    fn send_to(&mut self, wanted: impl Fn(&StreamKind) -> bool, event: &str, payload: &str) {
        self.streams.retain(|stream| {
            !wanted(&stream.kind)
                || stream
                    .tx
                    .send((event.to_owned(), payload.to_owned()))
                    .is_ok()
        });
    }

    fn account(&self) -> Value {
        json!({
            "id": self.account_id,
            "username": self.username,
            "acct": self.acct,
            "display_name": self.display_name,
            "locked": false,
            "bot": false,
            "discoverable": true,
            "indexable": true,
            "group": false,
            "created_at": "2023-04-11T00:00:00.000Z",
            "note": format!("<p>{} on the fediverse</p>", escape_html(&self.display_name)),
            "url": format!("https://{}/@{}", self.domain, self.username),
            "uri": format!("https://{}/users/{}", self.domain, self.username),
            "avatar": format!("https://{}/avatars/original/missing.png", self.domain),
            "avatar_static": format!("https://{}/avatars/original/missing.png", self.domain),
            "header": format!("https://{}/headers/original/missing.png", self.domain),
            "header_static": format!("https://{}/headers/original/missing.png", self.domain),
            "followers_count": 28411,
            "following_count": 57,
            "statuses_count": 311 + self.created.len(),
            "last_status_at": null,
            "hide_collections": null,
            "noindex": false,
            "emojis": [],
            "roles": [],
            "fields": []
        })
    }

    /// A new snowflake-like id: milliseconds since the epoch shifted left 16 bits, strictly
    /// increasing.
    fn next_status_id(&mut self) -> String {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let id = (millis << 16).max(self.last_status_id + 1);
        self.last_status_id = id;
        id.to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Errors and authentication

fn mastodon_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The Mastodon error body for an injected failure with `status`.
fn mastodon_error_for_status(status: u16) -> Response {
    let message = match status {
        400 => "The request you submitted was invalid or malformed.",
        401 => "The access token is invalid",
        403 => "This action is not allowed",
        404 => "Record not found",
        410 => "The page you were looking for doesn't exist here anymore.",
        422 => "Validation failed",
        429 => "Too many requests",
        503 => "The page could not be served due to a temporary server failure.",
        _ => "We're sorry, but something went wrong on our end.",
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    mastodon_error(status, message)
}

fn invalid_token() -> Response {
    let mut response = mastodon_error(StatusCode::UNAUTHORIZED, "The access token is invalid");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static(
            "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", \
             error_description=\"The access token is invalid\"",
        ),
    );
    response
}

async fn require_token(
    State(state): State<Arc<Mutex<MastoState>>>,
    request: Request,
    next: Next,
) -> Response {
    let authorized = {
        let state = lock(&state);
        bearer(request.headers()) == Some(state.token.as_str())
    };
    if authorized {
        next.run(request).await
    } else {
        invalid_token()
    }
}

// ---------------------------------------------------------------------------------------
// Instance and account

async fn instance_v2(State(state): State<Arc<Mutex<MastoState>>>) -> Json<Value> {
    let state = lock(&state);
    let streaming = state.base_url.replacen("http://", "ws://", 1);
    Json(json!({
        "domain": state.domain,
        "title": "Fake Mastodon",
        "version": "4.5.0",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A fake server for rapport's tests",
        "usage": {"users": {"active_month": 42}},
        "thumbnail": {"url": format!("https://{}/packs/media/images/preview.png", state.domain)},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": streaming,
                "status": null,
                "about": format!("https://{}/about", state.domain),
                "privacy_policy": format!("https://{}/privacy-policy", state.domain),
                "terms_of_service": null
            },
            "vapid": {"public_key": "BFakeVapidKeyFakeVapidKeyFakeVapidKey="},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": 500,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23
            },
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png"],
                "description_limit": 1500,
                "image_size_limit": 16_777_216,
                "image_matrix_limit": 33_177_600,
                "video_size_limit": 103_809_024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8_294_400
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2_629_746
            },
            "translation": {"enabled": false}
        },
        "registrations": {"enabled": false, "approval_required": true, "message": null},
        "api_versions": {"mastodon": 6},
        "contact": {"email": format!("admin@{}", state.domain), "account": null},
        "rules": []
    }))
}

async fn instance_v1(State(state): State<Arc<Mutex<MastoState>>>) -> Json<Value> {
    let state = lock(&state);
    Json(json!({
        "uri": state.domain,
        "title": "Fake Mastodon",
        "version": "4.5.0",
        "urls": {"streaming_api": state.base_url.replacen("http://", "ws://", 1)},
        "configuration": {"statuses": {"max_characters": 500, "characters_reserved_per_url": 23}}
    }))
}

async fn verify_credentials(State(state): State<Arc<Mutex<MastoState>>>) -> Json<Value> {
    let state = lock(&state);
    let mut account = state.account();
    account["source"] = json!({
        "privacy": "public",
        "sensitive": false,
        "language": "",
        "note": "",
        "fields": [],
        "follow_requests_count": 0
    });
    Json(account)
}

// ---------------------------------------------------------------------------------------
// Lists

fn numeric_id(value: &Value) -> Option<u128> {
    value["id"].as_str()?.parse().ok()
}

fn param_id(pairs: &[(String, String)], name: &str) -> Option<u128> {
    first_value(pairs, name).and_then(|v| v.parse().ok())
}

/// `limit` as Mastodon reads it: the default when absent, at most twice the default.
fn limit_param(pairs: &[(String, String)], default: usize) -> usize {
    first_value(pairs, "limit").map_or(default, |raw| {
        raw.trim()
            .parse::<i64>()
            .map_or(0, |n| {
                usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX)
            })
            .min(default * 2)
    })
}

/// Mastodon's `paginate_by_id`: newest first; `max_id` keeps ids below it, `since_id`
/// and `min_id` ids above; with `min_id` the page is the `limit` ids right after it.
fn paginate(mut items: Vec<Value>, pairs: &[(String, String)], default_limit: usize) -> Vec<Value> {
    let limit = limit_param(pairs, default_limit);
    let max_id = param_id(pairs, "max_id");
    let since_id = param_id(pairs, "since_id");
    let min_id = param_id(pairs, "min_id");
    items.retain(|item| {
        let Some(id) = numeric_id(item) else {
            return false;
        };
        max_id.is_none_or(|max| id < max)
            && since_id.is_none_or(|since| id > since)
            && min_id.is_none_or(|min| id > min)
    });
    items.sort_by_key(|item| std::cmp::Reverse(numeric_id(item)));
    if min_id.is_some() {
        let skip = items.len().saturating_sub(limit);
        items.drain(..skip);
    } else {
        items.truncate(limit);
    }
    items
}

/// The parameters a page's `Link` URLs carry over, as Rails' `to_query` writes them:
/// grouped by name and sorted.
fn rails_query(pairs: &[(String, String)]) -> String {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        groups.entry(form_encode(name)).or_default().push(format!(
            "{}={}",
            form_encode(name),
            form_encode(value)
        ));
    }
    groups
        .into_values()
        .map(|group| group.join("&"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `Link` header of a page, or `None` for an empty page.
fn link_header(url: &str, carried: &[(String, String)], page: &[Value]) -> Option<String> {
    let newest = page.first()?["id"].as_str()?;
    let oldest = page.last()?["id"].as_str()?;
    let with = |name: &str, id: &str| {
        let mut pairs = carried.to_vec();
        pairs.push((name.to_owned(), id.to_owned()));
        rails_query(&pairs)
    };
    Some(format!(
        "<{url}?{}>; rel=\"next\", <{url}?{}>; rel=\"prev\"",
        with("max_id", oldest),
        with("min_id", newest)
    ))
}

fn page_response(page: Vec<Value>, link: Option<String>) -> Response {
    let mut response = Json(Value::Array(page)).into_response();
    if let Some(link) = link.and_then(|l| header::HeaderValue::try_from(l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

async fn notifications(
    State(state): State<Arc<Mutex<MastoState>>>,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = parse_form(query.as_deref().unwrap_or_default());
    let types: Vec<&str> = all_values(&pairs, "types[]")
        .into_iter()
        .chain(all_values(&pairs, "types"))
        .collect();
    let excluded: Vec<&str> = all_values(&pairs, "exclude_types[]")
        .into_iter()
        .chain(all_values(&pairs, "exclude_types"))
        .collect();
    let state = lock(&state);
    let matching: Vec<Value> = state
        .notifications
        .iter()
        .filter(|n| {
            let kind = n["type"].as_str().unwrap_or_default();
            (types.is_empty() || types.contains(&kind)) && !excluded.contains(&kind)
        })
        .cloned()
        .collect();
    let page = paginate(matching, &pairs, 40);
    let carried: Vec<(String, String)> = pairs
        .iter()
        .filter(|(name, _)| {
            matches!(
                name.as_str(),
                "limit" | "types[]" | "types" | "exclude_types[]" | "exclude_types"
            )
        })
        .cloned()
        .collect();
    let url = format!("{}/api/v1/notifications", state.base_url);
    let link = link_header(&url, &carried, &page);
    page_response(page, link)
}

async fn tag_timeline(
    State(state): State<Arc<Mutex<MastoState>>>,
    Path(hashtag): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = parse_form(query.as_deref().unwrap_or_default());
    let state = lock(&state);
    let statuses = state
        .hashtags
        .get(&hashtag.to_lowercase())
        .cloned()
        .unwrap_or_default();
    let page = paginate(statuses, &pairs, 20);
    let carried: Vec<(String, String)> = pairs
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "limit" | "local" | "only_media"))
        .cloned()
        .collect();
    let url = format!(
        "{}/api/v1/timelines/tag/{}",
        state.base_url,
        form_encode(&hashtag)
    );
    let link = link_header(&url, &carried, &page);
    page_response(page, link)
}

async fn get_status(
    State(state): State<Arc<Mutex<MastoState>>>,
    Path(id): Path<String>,
) -> Response {
    match lock(&state).statuses.get(&id) {
        Some(status) => Json(status.clone()).into_response(),
        None => mastodon_error(StatusCode::NOT_FOUND, "Record not found"),
    }
}

// ---------------------------------------------------------------------------------------
// Posting

/// Status parameters from a JSON or form body.
/// `None` when a JSON body is not a JSON object.
fn status_params(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Some(
            parse_form(&String::from_utf8_lossy(body))
                .into_iter()
                .collect(),
        );
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    Some(
        fields
            .into_iter()
            .filter_map(|(name, value)| {
                let text = match value {
                    Value::Null => return None,
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                Some((name, text))
            })
            .collect(),
    )
}

/// Length as Mastodon counts it: URLs weigh 23 characters, `@user@domain` weighs
/// `@user`.
fn status_length(text: &str) -> usize {
    let mut length = text.chars().count();
    for word in text.split_whitespace() {
        let chars = word.chars().count();
        if word.starts_with("http://") || word.starts_with("https://") {
            length = length - chars + chars.min(23);
        } else if let Some(rest) = word.strip_prefix('@')
            && let Some((_, domain)) = rest.split_once('@')
        {
            length -= domain.chars().count() + 1;
        }
    }
    length
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Plain text as Mastodon's HTML: paragraphs on blank lines, `<br />` for line breaks.
fn to_html(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p.trim()).replace('\n', "<br />")))
        .collect()
}

async fn post_status(
    State(state): State<Arc<Mutex<MastoState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = status_params(&headers, &body) else {
        return mastodon_error(
            StatusCode::BAD_REQUEST,
            "Error occurred while parsing request parameters",
        );
    };
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut state = lock(&state);
    if let Some(key) = &idempotency_key
        && let Some(status) = state
            .idempotency
            .get(key)
            .and_then(|id| state.statuses.get(id))
    {
        return Json(status.clone()).into_response();
    }
    let text = params.get("status").map(String::as_str).unwrap_or_default();
    if text.trim().is_empty() {
        return mastodon_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Text can't be blank",
        );
    }
    if status_length(text) > 500 {
        return mastodon_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: Text character limit of 500 exceeded",
        );
    }
    let in_reply_to = match params.get("in_reply_to_id").filter(|id| !id.is_empty()) {
        None => None,
        Some(id) => match state.statuses.get(id) {
            Some(parent) => Some(parent.clone()),
            None => {
                return mastodon_error(
                    StatusCode::NOT_FOUND,
                    "The post you are trying to reply to does not appear to exist.",
                );
            }
        },
    };
    let visibility = params
        .get("visibility")
        .cloned()
        .unwrap_or_else(|| "public".to_owned());
    if !matches!(
        visibility.as_str(),
        "public" | "unlisted" | "private" | "direct"
    ) {
        return mastodon_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Validation failed: '{visibility}' is not a valid visibility"),
        );
    }
    let spoiler_text = params.get("spoiler_text").cloned().unwrap_or_default();
    let sensitive =
        params.get("sensitive").is_some_and(|s| s == "true") || !spoiler_text.is_empty();
    let language = params
        .get("language")
        .cloned()
        .unwrap_or_else(|| "en".to_owned());
    let id = state.next_status_id();
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let tags: Vec<Value> = text
        .split_whitespace()
        .filter_map(|w| w.strip_prefix('#'))
        .map(|t| t.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_'))
        .filter(|t| !t.is_empty())
        .map(|t| {
            let name = t.to_lowercase();
            json!({"name": name, "url": format!("https://{}/tags/{name}", state.domain)})
        })
        .collect();
    let status = json!({
        "id": id,
        "created_at": now,
        "in_reply_to_id": in_reply_to.as_ref().map(|p| p["id"].clone()),
        "in_reply_to_account_id": in_reply_to.as_ref().map(|p| p["account"]["id"].clone()),
        "sensitive": sensitive,
        "spoiler_text": spoiler_text,
        "visibility": visibility,
        "language": language,
        "uri": format!("https://{}/users/{}/statuses/{id}", state.domain, state.username),
        "url": format!("https://{}/@{}/{id}", state.domain, state.username),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": null,
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": false,
        "pinned": false,
        "content": to_html(text),
        "filtered": [],
        "reblog": null,
        "application": {"name": "rapport", "website": null},
        "account": state.account(),
        "media_attachments": [],
        "mentions": [],
        "tags": tags,
        "emojis": [],
        "quote": null,
        "card": null,
        "poll": null
    });
    state.created.push(status.clone());
    state.remember_status(&status);
    if let Some(key) = idempotency_key {
        state.idempotency.insert(key, id);
    }
    Json(status).into_response()
}

// ---------------------------------------------------------------------------------------
// Streaming

async fn stream(
    State(state): State<Arc<Mutex<MastoState>>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = uri.query().unwrap_or_default().to_owned();
    let pairs = parse_form(&query);
    let token = bearer(&headers).or_else(|| first_value(&pairs, "access_token"));
    let (rx, drop_after) = {
        let mut state = lock(&state);
        match token {
            None => return mastodon_error(StatusCode::UNAUTHORIZED, "Missing access token"),
            Some(token) if token != state.token => {
                return mastodon_error(StatusCode::UNAUTHORIZED, "Invalid access token");
            }
            Some(_) => {}
        }
        let kind = match uri.path() {
            "/api/v1/streaming/user" => StreamKind::User,
            "/api/v1/streaming/user/notification" => StreamKind::UserNotification,
            _ => match first_value(&pairs, "tag").filter(|t| !t.is_empty()) {
                Some(tag) => StreamKind::Hashtag(tag.to_lowercase()),
                None => {
                    return mastodon_error(StatusCode::BAD_REQUEST, "Missing tag name parameter");
                }
            },
        };
        let (tx, rx) = mpsc::unbounded_channel();
        state.streams.push(StreamSubscriber { kind, tx });
        state.stream_connections.push(StreamConnection {
            path: uri.path().to_owned(),
            query,
        });
        (rx, state.drop_stream_after.take())
    };
    let (body_tx, body_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(pump_stream(rx, body_tx, drop_after));
    let body = Body::from_stream(futures_util::stream::unfold(body_rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "private, no-store")
        .header("x-accel-buffering", "no")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Writes one stream's SSE body: the greeting, events as they are pushed, heartbeats.
async fn pump_stream(
    mut events: mpsc::UnboundedReceiver<(String, String)>,
    body: mpsc::Sender<Result<Bytes, std::io::Error>>,
    drop_after: Option<usize>,
) {
    if body.send(Ok(Bytes::from_static(b":)\n"))).await.is_err() {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut sent = 0;
    loop {
        if drop_after == Some(sent) {
            // Give the last event time to leave the write buffer, then abort the response
            // mid-body with an error: the client sees the connection drop.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut by the fake");
            let _ = body.send(Err(cut)).await;
            return;
        }
        let chunk = tokio::select! {
            event = events.recv() => match event {
                Some((name, payload)) => {
                    sent += 1;
                    format!("event: {name}\ndata: {payload}\n\n")
                }
                None => return,
            },
            _ = heartbeat.tick() => ":thump\n".to_owned(),
            () = body.closed() => return,
        };
        if body.send(Ok(Bytes::from(chunk))).await.is_err() {
            return;
        }
    }
}
