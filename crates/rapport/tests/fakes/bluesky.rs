//! A fake Bluesky: one server that is both a Jetstream instance and the account's PDS.
//!
//! Jetstream (`GET /subscribe`, a websocket) imitates bluesky-social/jetstream: the
//! `wantedCollections` (repeatable, exact NSIDs or `prefix.*`), `wantedDids` (repeatable)
//! and `cursor` (unix microseconds) query parameters; on connect the stored events with
//! `time_us >= cursor` that pass the filters are replayed as text frames, then live events
//! follow; identity and account events pass any collection filter. Pings are answered by
//! the websocket layer. A connection can be cut (TCP closed, no close frame) after `n`
//! events to test resumption.
//!
//! XRPC (`/xrpc/{nsid}`) imitates the PDS (and the AppView behind it) for the methods a
//! listener and replier need: `com.atproto.server.createSession` / `refreshSession` /
//! `getSession`, `com.atproto.identity.resolveHandle`, `app.bsky.actor.getProfile`,
//! `app.bsky.notification.listNotifications` / `updateSeen`,
//! `com.atproto.repo.createRecord` / `getRecord`. Errors come in the XRPC shape
//! `{"error": Name, "message": text}` with the status the PDS uses: missing credentials
//! 401 `AuthenticationRequired`, an expired access token 400 `ExpiredToken`, bad
//! parameters 400 `InvalidRequest`, unknown methods 501 `MethodNotImplemented`.
//!
//! Known departures: tokens are JWT-shaped but unsigned and never expire on their own
//! (use [`FakeBluesky::expire_access_token`]); record validation covers only
//! `app.bsky.feed.post` (`$type`, `text`, `createdAt`, 300 graphemes approximated
//! without a segmentation table, 3000 bytes); CIDs are derived from the record bytes, not
//! from its DAG-CBOR encoding.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Harness, Recorded, all_values, bearer, first_value, fixture, lock, parse_form, spawn};

/// Handle of the fixtures' organisation account.
pub const ORG_HANDLE: &str = "acmecoffee.bsky.social";
/// DID of the fixtures' organisation account.
pub const ORG_DID: &str = "did:plc:orgacmecoffee234567abcde";
/// App password the default configuration accepts.
pub const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// How `createRecord` answers when the `rkey` it is given is already taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DuplicateRkey {
    /// 500 `{"error":"InternalServerError","message":"Internal Server Error"}`: what the
    /// reference PDS answers today (bluesky-social/atproto#3718, indigo#873), so a
    /// client cannot tell a duplicate from a server fault without `getRecord`.
    #[default]
    InternalServerError,
    /// 400 `{"error":"InvalidRequest","message":"Record already exists"}`: an explicit
    /// error, as proposed in bluesky-social/atproto#4728.
    InvalidRequest,
}

/// What the fake starts with. [`Default`] is the fixtures' organisation account with no
/// events, notifications or other profiles; [`BlueskyConfig::with_fixtures`] adds the
/// fixture files.
#[derive(Clone, Debug)]
pub struct BlueskyConfig {
    pub handle: String,
    pub did: String,
    pub app_password: String,
    pub display_name: String,
    /// Jetstream event lines, in the order they are sent (Jetstream order is `time_us`
    /// order). Lines that are not JSON are sent verbatim.
    pub events: Vec<String>,
    /// `app.bsky.notification.listNotifications#notification` objects, any order.
    pub notifications: Vec<Value>,
    /// `app.bsky.actor.defs#profileViewDetailed` objects (see [`profile`]); the account's
    /// own profile is added unless one with its DID is given.
    pub profiles: Vec<Value>,
    /// Pause between two events sent to a subscriber.
    pub pace: Duration,
    /// Whether a record created through `createRecord` also appears on Jetstream as a
    /// commit event (as the real network does).
    pub echo_records: bool,
    pub duplicate_rkey: DuplicateRkey,
}

impl Default for BlueskyConfig {
    fn default() -> Self {
        Self {
            handle: ORG_HANDLE.to_owned(),
            did: ORG_DID.to_owned(),
            app_password: APP_PASSWORD.to_owned(),
            display_name: "Acme Coffee".to_owned(),
            events: Vec::new(),
            notifications: Vec::new(),
            profiles: Vec::new(),
            pace: Duration::ZERO,
            echo_records: false,
            duplicate_rkey: DuplicateRkey::default(),
        }
    }
}

impl BlueskyConfig {
    /// Adds `bluesky/jetstream_events.jsonl`, the notifications of
    /// `bluesky/list_notifications.json` and the profile of `bluesky/get_profile.json`.
    pub fn with_fixtures(mut self) -> Self {
        self.events.extend(fixture_events());
        self.notifications.extend(fixture_notifications());
        self.profiles.push(fixture_profile());
        self
    }
}

/// The lines of `bluesky/jetstream_events.jsonl`.
pub fn fixture_events() -> Vec<String> {
    fixture("bluesky/jetstream_events.jsonl")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The notifications of `bluesky/list_notifications.json`.
pub fn fixture_notifications() -> Vec<Value> {
    let page: Value = serde_json::from_str(&fixture("bluesky/list_notifications.json"))
        .unwrap_or_else(|e| panic!("bluesky/list_notifications.json: {e}"));
    page["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The profile of `bluesky/get_profile.json`.
pub fn fixture_profile() -> Value {
    serde_json::from_str(&fixture("bluesky/get_profile.json"))
        .unwrap_or_else(|e| panic!("bluesky/get_profile.json: {e}"))
}

/// A `profileViewDetailed` in the shape `app.bsky.actor.getProfile` returns.
pub fn profile(did: &str, handle: &str, display_name: &str, followers_count: u64) -> Value {
    json!({
        "did": did,
        "handle": handle,
        "displayName": display_name,
        "description": "",
        "avatar": format!("https://cdn.bsky.app/img/avatar/plain/{did}/bafkreifakeavatar@jpeg"),
        "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": false},
        "followersCount": followers_count,
        "followsCount": 100,
        "postsCount": 250,
        "indexedAt": "2024-03-10T08:15:00.000Z",
        "createdAt": "2024-03-10T08:15:00.000Z",
        "viewer": {
            "blockedBy": false,
            "muted": false,
            "mutedOnlyQuoteposts": false,
            "mutedOnlyReposts": false
        },
        "labels": []
    })
}

/// A `listNotifications#notification` whose author is `author` (a profile, e.g. from
/// [`profile`]), for tests that generate notifications.
pub fn notification(
    author: &Value,
    reason: &str,
    uri: &str,
    record: Value,
    indexed_at: &str,
) -> Value {
    let mut author = author.clone();
    if let Some(fields) = author.as_object_mut() {
        for detailed_only in [
            "followersCount",
            "followsCount",
            "postsCount",
            "pinnedPost",
            "banner",
        ] {
            fields.remove(detailed_only);
        }
    }
    json!({
        "uri": uri,
        "cid": fake_cid(uri.as_bytes()),
        "author": author,
        "reason": reason,
        "record": record,
        "isRead": false,
        "indexedAt": indexed_at,
        "labels": []
    })
}

/// The running fake. Cheap to clone; all clones share one server.
#[derive(Clone)]
pub struct FakeBluesky {
    addr: SocketAddr,
    state: Arc<Mutex<BskyState>>,
    harness: Harness,
}

impl FakeBluesky {
    /// Starts the fake on a free loopback port.
    pub async fn start(config: BlueskyConfig) -> Self {
        let state = Arc::new(Mutex::new(BskyState::new(config)));
        let harness = Harness::new(xrpc_error_for_status);
        let router = Router::new()
            .route("/subscribe", get(subscribe))
            .route("/xrpc/{nsid}", any(xrpc))
            .with_state(Arc::clone(&state));
        let addr = spawn(harness.wrap(router)).await;
        lock(&state).service_url = format!("http://{addr}");
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

    /// The PDS / XRPC service URL (same as [`FakeBluesky::url`]).
    pub fn service_url(&self) -> String {
        self.url()
    }

    /// `ws://127.0.0.1:PORT/subscribe`.
    pub fn jetstream_url(&self) -> String {
        format!("ws://{}/subscribe", self.addr)
    }

    /// See [`Harness::fail_next`]; failures carry the XRPC error shape
    /// (`RateLimitExceeded` for 429, `InternalServerError` for 500, ...).
    pub fn fail_next(&self, path: &str, status: u16, headers: &[(&str, &str)]) {
        self.harness.fail_next(path, status, headers);
    }

    /// See [`Harness::delay_next`].
    pub fn delay_next(&self, path: &str, delay: Duration) {
        self.harness.delay_next(path, delay);
    }

    /// Every request received, websocket handshakes included.
    pub fn requests(&self) -> Vec<Recorded> {
        self.harness.requests()
    }

    /// The requests received on `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.harness.requests_to(path)
    }

    // ---- Jetstream ----

    /// The raw query string of each `/subscribe` connection, in order.
    pub fn subscribe_queries(&self) -> Vec<String> {
        lock(&self.state).subscribe_queries.clone()
    }

    /// Pause between events for connections opened from now on.
    pub fn set_pace(&self, pace: Duration) {
        lock(&self.state).pace = pace;
    }

    /// The next `/subscribe` connection is dropped (TCP closed without a close frame)
    /// right after its `n`th event. One-shot.
    pub fn drop_after(&self, n: usize) {
        lock(&self.state).drop_after = Some(n);
    }

    /// Appends an event line and sends it to the connected subscribers whose
    /// `wantedCollections` / `wantedDids` it passes.
    pub fn push_event(&self, line: impl Into<String>) {
        broadcast(&mut lock(&self.state), line.into());
    }

    /// Every event line held (given and pushed), in order.
    pub fn events(&self) -> Vec<String> {
        lock(&self.state).events.clone()
    }

    /// How many `/subscribe` connections are open now.
    pub fn live_subscribers(&self) -> usize {
        let mut state = lock(&self.state);
        state.subscribers.retain(|s| !s.tx.is_closed());
        state.subscribers.len()
    }

    // ---- XRPC ----

    /// Adds a notification for `listNotifications`.
    pub fn push_notification(&self, notification: Value) {
        lock(&self.state).notifications.push(notification);
    }

    /// Adds (or replaces, by DID) a profile for `getProfile` and `resolveHandle`.
    pub fn add_profile(&self, profile: Value) {
        let mut state = lock(&self.state);
        let did = profile["did"].as_str().unwrap_or_default().to_owned();
        state
            .profiles
            .retain(|p| p["did"].as_str() != Some(did.as_str()));
        state.profiles.push(profile);
    }

    /// `getProfile` calls per `actor` parameter, as sent (DID or handle).
    pub fn profile_lookups(&self) -> HashMap<String, usize> {
        lock(&self.state).profile_lookups.clone()
    }

    /// Every access token issued so far now answers 400 `ExpiredToken`; refresh tokens
    /// still work.
    pub fn expire_access_token(&self) {
        let mut state = lock(&self.state);
        let tokens: Vec<String> = state.access_tokens.drain().collect();
        state.expired_tokens.extend(tokens);
    }

    /// The `createRecord` request bodies that created a record, one per record.
    pub fn created_records(&self) -> Vec<Value> {
        lock(&self.state)
            .records
            .iter()
            .map(|r| r.input.clone())
            .collect()
    }

    /// How many sessions `createSession` opened.
    pub fn sessions_created(&self) -> usize {
        lock(&self.state).sessions_created
    }
}

// ---------------------------------------------------------------------------------------
// State

struct Subscriber {
    filter: Filter,
    tx: mpsc::UnboundedSender<String>,
}

struct StoredRecord {
    collection: String,
    rkey: String,
    cid: String,
    input: Value,
}

struct BskyState {
    handle: String,
    did: String,
    app_password: String,
    service_url: String,
    events: Vec<String>,
    pace: Duration,
    drop_after: Option<usize>,
    subscribers: Vec<Subscriber>,
    subscribe_queries: Vec<String>,
    notifications: Vec<Value>,
    seen_at: Option<String>,
    profiles: Vec<Value>,
    profile_lookups: HashMap<String, usize>,
    access_tokens: HashSet<String>,
    expired_tokens: HashSet<String>,
    refresh_tokens: HashSet<String>,
    token_seq: u64,
    sessions_created: usize,
    records: Vec<StoredRecord>,
    last_tid_us: u64,
    echo_records: bool,
    duplicate_rkey: DuplicateRkey,
}

impl BskyState {
    fn new(config: BlueskyConfig) -> Self {
        let mut profiles = config.profiles;
        if !profiles
            .iter()
            .any(|p| p["did"].as_str() == Some(config.did.as_str()))
        {
            profiles.push(profile(
                &config.did,
                &config.handle,
                &config.display_name,
                1000,
            ));
        }
        Self {
            handle: config.handle,
            did: config.did,
            app_password: config.app_password,
            service_url: String::new(),
            events: config.events,
            pace: config.pace,
            drop_after: None,
            subscribers: Vec::new(),
            subscribe_queries: Vec::new(),
            notifications: config.notifications,
            seen_at: None,
            profiles,
            profile_lookups: HashMap::new(),
            access_tokens: HashSet::new(),
            expired_tokens: HashSet::new(),
            refresh_tokens: HashSet::new(),
            token_seq: 0,
            sessions_created: 0,
            records: Vec::new(),
            last_tid_us: 0,
            echo_records: config.echo_records,
            duplicate_rkey: config.duplicate_rkey,
        }
    }

    /// A fresh, strictly increasing TID (13 base32-sortable characters: microseconds since
    /// the epoch, then a 10-bit clock id).
    fn next_tid(&mut self) -> String {
        let now = now_micros().max(self.last_tid_us + 1);
        self.last_tid_us = now;
        tid(now)
    }

    fn issue_tokens(&mut self) -> (String, String) {
        self.token_seq += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let access = fake_jwt(
            &json!({"typ": "at+jwt", "alg": "ES256K"}),
            &json!({
                "scope": "com.atproto.appPass",
                "sub": self.did,
                "aud": "did:web:127.0.0.1",
                "jti": format!("access-{}", self.token_seq),
                "iat": now,
                "exp": now + 2 * 3600,
            }),
        );
        let refresh = fake_jwt(
            &json!({"typ": "refresh+jwt", "alg": "ES256K"}),
            &json!({
                "scope": "com.atproto.refresh",
                "sub": self.did,
                "aud": "did:web:127.0.0.1",
                "jti": format!("refresh-{}", self.token_seq),
                "iat": now,
                "exp": now + 90 * 24 * 3600,
            }),
        );
        self.access_tokens.insert(access.clone());
        self.refresh_tokens.insert(refresh.clone());
        (access, refresh)
    }

    fn did_doc(&self) -> Value {
        json!({
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1"
            ],
            "id": self.did,
            "alsoKnownAs": [format!("at://{}", self.handle)],
            "verificationMethod": [{
                "id": format!("{}#atproto", self.did),
                "type": "Multikey",
                "controller": self.did,
                "publicKeyMultibase": "zQ3shFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake"
            }],
            "service": [{
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": self.service_url
            }]
        })
    }

    fn session(&self, access: &str, refresh: &str) -> Value {
        json!({
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.handle,
            "did": self.did,
            "didDoc": self.did_doc(),
            "active": true
        })
    }

    /// Checks `Authorization: Bearer <accessJwt>`.
    fn check_access(&self, headers: &HeaderMap) -> Result<(), XrpcError> {
        let Some(token) = bearer(headers) else {
            return Err(xrpc_error(
                StatusCode::UNAUTHORIZED,
                "AuthenticationRequired",
                "Authentication Required",
            ));
        };
        if self.access_tokens.contains(token) {
            Ok(())
        } else if self.expired_tokens.contains(token) {
            Err(xrpc_error(
                StatusCode::BAD_REQUEST,
                "ExpiredToken",
                "Token has expired",
            ))
        } else if self.refresh_tokens.contains(token) {
            Err(xrpc_error(
                StatusCode::BAD_REQUEST,
                "InvalidToken",
                "Invalid token type",
            ))
        } else {
            Err(xrpc_error(
                StatusCode::UNAUTHORIZED,
                "AuthenticationRequired",
                "Token could not be verified",
            ))
        }
    }

    /// The DID of a known account (the organisation or a profile) by handle or DID.
    fn resolve(&self, actor: &str) -> Option<String> {
        if actor == self.did || actor.eq_ignore_ascii_case(&self.handle) {
            return Some(self.did.clone());
        }
        self.profiles
            .iter()
            .find(|p| {
                p["did"].as_str() == Some(actor)
                    || p["handle"]
                        .as_str()
                        .is_some_and(|h| h.eq_ignore_ascii_case(actor))
            })
            .and_then(|p| p["did"].as_str().map(str::to_owned))
    }
}

/// Appends `line` and sends it to every live subscriber that wants it.
fn broadcast(state: &mut BskyState, line: String) {
    state.events.push(line.clone());
    state.subscribers.retain(|subscriber| {
        !subscriber.filter.wants(&line, false) || subscriber.tx.send(line.clone()).is_ok()
    });
}

// ---------------------------------------------------------------------------------------
// Jetstream

/// A subscriber's `wantedCollections`, `wantedDids` and `cursor`.
#[derive(Clone, Debug, Default)]
struct Filter {
    collections: Vec<String>,
    dids: Vec<String>,
    cursor: Option<i64>,
}

impl Filter {
    fn from_query(query: &str) -> Self {
        let pairs = parse_form(query);
        Self {
            collections: all_values(&pairs, "wantedCollections")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            dids: all_values(&pairs, "wantedDids")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            cursor: first_value(&pairs, "cursor").and_then(|c| c.parse().ok()),
        }
    }

    /// Whether `line` goes to this subscriber; the cursor only applies to the replay.
    /// Lines that are not JSON always pass.
    fn wants(&self, line: &str, replay: bool) -> bool {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            return true;
        };
        if let (true, Some(cursor), Some(time_us)) =
            (replay, self.cursor, event["time_us"].as_i64())
            && time_us < cursor
        {
            return false;
        }
        if !self.dids.is_empty()
            && !event["did"]
                .as_str()
                .is_some_and(|did| self.dids.iter().any(|d| d == did))
        {
            return false;
        }
        if !self.collections.is_empty() && event["kind"] == "commit" {
            let collection = event["commit"]["collection"].as_str().unwrap_or_default();
            return self.collections.iter().any(|wanted| {
                wanted
                    .strip_suffix('*')
                    .map_or(wanted == collection, |prefix| {
                        collection.starts_with(prefix)
                    })
            });
        }
        true
    }
}

async fn subscribe(
    State(state): State<Arc<Mutex<BskyState>>>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let query = query.unwrap_or_default();
    let filter = Filter::from_query(&query);
    let drop_after = {
        let mut state = lock(&state);
        state.subscribe_queries.push(query);
        state.drop_after.take()
    };
    upgrade.on_upgrade(move |socket| serve_subscriber(state, filter, drop_after, socket))
}

async fn serve_subscriber(
    state: Arc<Mutex<BskyState>>,
    filter: Filter,
    drop_after: Option<usize>,
    mut socket: WebSocket,
) {
    let (tx, mut live) = mpsc::unbounded_channel();
    // Snapshot and registration under one lock, so no pushed event falls between them.
    let (mut queue, pace) = {
        let mut state = lock(&state);
        let backlog: VecDeque<String> = state
            .events
            .iter()
            .filter(|line| filter.wants(line, true))
            .cloned()
            .collect();
        state.subscribers.push(Subscriber {
            filter: filter.clone(),
            tx,
        });
        (backlog, state.pace)
    };
    let mut sent = 0;
    let mut next_send = Instant::now();
    loop {
        if drop_after == Some(sent) {
            // Dropping the socket closes the TCP connection without a close frame.
            return;
        }
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) => {
                    // Let the websocket layer send its close reply, then stop.
                    while let Some(Ok(_)) = socket.recv().await {}
                    return;
                }
                None | Some(Err(_)) => return,
                // Pings are answered by the websocket layer on the next read.
                Some(Ok(_)) => {}
            },
            Some(line) = live.recv() => queue.push_back(line),
            () = tokio::time::sleep_until(next_send), if !queue.is_empty() => {
                let Some(line) = queue.pop_front() else { continue };
                if socket.send(Message::Text(line.into())).await.is_err() {
                    return;
                }
                sent += 1;
                next_send = Instant::now() + pace;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// XRPC

type Reply = Result<Value, XrpcError>;

/// An XRPC error: the status and the `{"error", "message"}` body.
#[derive(Debug)]
struct XrpcError {
    status: StatusCode,
    error: &'static str,
    message: String,
}

impl IntoResponse for XrpcError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

fn xrpc_error(status: StatusCode, error: &'static str, message: &str) -> XrpcError {
    XrpcError {
        status,
        error,
        message: message.to_owned(),
    }
}

/// The XRPC error body for an injected failure with `status`.
fn xrpc_error_for_status(status: u16) -> Response {
    let (error, message) = match status {
        400 => ("InvalidRequest", "Invalid Request"),
        401 => ("AuthenticationRequired", "Authentication Required"),
        403 => ("Forbidden", "Forbidden"),
        404 => ("XRPCNotSupported", "XRPC Not Supported"),
        413 => ("PayloadTooLarge", "Payload Too Large"),
        429 => ("RateLimitExceeded", "Rate Limit Exceeded"),
        501 => ("MethodNotImplemented", "Method Not Implemented"),
        502 => ("UpstreamFailure", "Upstream Failure"),
        503 => ("NotEnoughResources", "Not Enough Resources"),
        504 => ("UpstreamTimeout", "Upstream Timeout"),
        _ => ("InternalServerError", "Internal Server Error"),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    xrpc_error(status, error, message).into_response()
}

fn invalid_request(message: &str) -> XrpcError {
    xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

fn json_input(body: &[u8]) -> Result<Value, XrpcError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if value.is_object() => Ok(value),
        _ => Err(invalid_request("Input must be a JSON object")),
    }
}

fn required_str<'a>(input: &'a Value, field: &str) -> Result<&'a str, XrpcError> {
    input[field]
        .as_str()
        .ok_or_else(|| invalid_request(&format!("Input must have the property \"{field}\"")))
}

async fn xrpc(
    State(state): State<Arc<Mutex<BskyState>>>,
    method: Method,
    Path(nsid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parse_form(query.as_deref().unwrap_or_default());
    let mut state = lock(&state);
    let reply = match (method, nsid.as_str()) {
        (Method::POST, "com.atproto.server.createSession") => create_session(&mut state, &body),
        (Method::POST, "com.atproto.server.refreshSession") => {
            refresh_session(&mut state, &headers)
        }
        (Method::GET, "com.atproto.server.getSession") => state
            .check_access(&headers)
            .map(|()| json!({"handle": state.handle, "did": state.did, "didDoc": state.did_doc(), "active": true})),
        (Method::GET, "com.atproto.identity.resolveHandle") => resolve_handle(&state, &params),
        (Method::GET, "app.bsky.actor.getProfile") => get_profile(&mut state, &headers, &params),
        (Method::GET, "app.bsky.notification.listNotifications") => {
            list_notifications(&state, &headers, &params)
        }
        (Method::POST, "app.bsky.notification.updateSeen") => {
            update_seen(&mut state, &headers, &body)
        }
        (Method::POST, "com.atproto.repo.createRecord") => {
            create_record(&mut state, &headers, &body)
        }
        (Method::GET, "com.atproto.repo.getRecord") => get_record(&state, &params),
        _ => Err(xrpc_error(
            StatusCode::NOT_IMPLEMENTED,
            "MethodNotImplemented",
            "Method Not Implemented",
        )),
    };
    match reply {
        // Procedures without output answer 200 with an empty body.
        Ok(Value::Null) => StatusCode::OK.into_response(),
        Ok(value) => Json(value).into_response(),
        Err(error) => error.into_response(),
    }
}

fn create_session(state: &mut BskyState, body: &[u8]) -> Reply {
    let input = json_input(body)?;
    let identifier = required_str(&input, "identifier")?;
    let password = required_str(&input, "password")?;
    let identifier_matches =
        identifier == state.did || identifier.eq_ignore_ascii_case(&state.handle);
    if !identifier_matches || password != state.app_password {
        return Err(xrpc_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "Invalid identifier or password",
        ));
    }
    state.sessions_created += 1;
    let (access, refresh) = state.issue_tokens();
    Ok(state.session(&access, &refresh))
}

fn refresh_session(state: &mut BskyState, headers: &HeaderMap) -> Reply {
    let Some(token) = bearer(headers) else {
        return Err(xrpc_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "Authentication Required",
        ));
    };
    if state.refresh_tokens.remove(token) {
        let (access, refresh) = state.issue_tokens();
        return Ok(state.session(&access, &refresh));
    }
    if state.access_tokens.contains(token) || state.expired_tokens.contains(token) {
        return Err(xrpc_error(
            StatusCode::BAD_REQUEST,
            "InvalidToken",
            "Invalid token type",
        ));
    }
    Err(xrpc_error(
        StatusCode::UNAUTHORIZED,
        "ExpiredToken",
        "Token has been revoked",
    ))
}

fn resolve_handle(state: &BskyState, params: &[(String, String)]) -> Reply {
    let handle = first_value(params, "handle")
        .ok_or_else(|| invalid_request("Error: Params must have the property \"handle\""))?;
    let did = state
        .resolve(handle)
        .filter(|_| !handle.starts_with("did:"))
        .ok_or_else(|| invalid_request("Unable to resolve handle"))?;
    Ok(json!({ "did": did }))
}

fn get_profile(state: &mut BskyState, headers: &HeaderMap, params: &[(String, String)]) -> Reply {
    if headers.contains_key("authorization") {
        state.check_access(headers)?;
    }
    let actor = first_value(params, "actor")
        .ok_or_else(|| invalid_request("Error: Params must have the property \"actor\""))?;
    *state.profile_lookups.entry(actor.to_owned()).or_default() += 1;
    let did = state
        .resolve(actor)
        .ok_or_else(|| invalid_request("Profile not found"))?;
    state
        .profiles
        .iter()
        .find(|p| p["did"].as_str() == Some(did.as_str()))
        .cloned()
        .ok_or_else(|| invalid_request("Profile not found"))
}

/// Sort key of an ISO-8601 time: microseconds since the epoch (0 when unparsable).
fn time_key(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp_micros())
}

fn list_notifications(
    state: &BskyState,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Reply {
    state.check_access(headers)?;
    let limit = match first_value(params, "limit") {
        None => 50,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n > 100 => {
                return Err(invalid_request("Error: limit can not be greater than 100"));
            }
            Ok(n) if n < 1 => return Err(invalid_request("Error: limit can not be less than 1")),
            Ok(n) => usize::try_from(n).unwrap_or(50),
            Err(_) => return Err(invalid_request("Error: limit must be an integer")),
        },
    };
    let reasons = all_values(params, "reasons");
    let cursor = first_value(params, "cursor").map(|c| time_key(&json!(c)));
    let seen_at = state.seen_at.as_ref().map(|s| time_key(&json!(s)));
    let mut all: Vec<&Value> = state
        .notifications
        .iter()
        .filter(|n| reasons.is_empty() || reasons.iter().any(|r| n["reason"] == *r))
        .filter(|n| cursor.is_none_or(|c| time_key(&n["indexedAt"]) < c))
        .collect();
    all.sort_by_key(|n| std::cmp::Reverse(time_key(&n["indexedAt"])));
    let page: Vec<Value> = all
        .into_iter()
        .take(limit)
        .map(|n| {
            let mut n = n.clone();
            if let Some(seen) = seen_at {
                n["isRead"] = json!(time_key(&n["indexedAt"]) <= seen);
            }
            n
        })
        .collect();
    let mut out = json!({ "notifications": page, "priority": false });
    // As the AppView does: a cursor (the last item's indexedAt) whenever the page is not
    // empty, so the end shows as an empty page without a cursor.
    if let Some(last) = page.last() {
        out["cursor"] = last["indexedAt"].clone();
    }
    if let Some(seen) = &state.seen_at {
        out["seenAt"] = json!(seen);
    }
    Ok(out)
}

fn update_seen(state: &mut BskyState, headers: &HeaderMap, body: &[u8]) -> Reply {
    state.check_access(headers)?;
    let input = json_input(body)?;
    let seen_at = required_str(&input, "seenAt")?.to_owned();
    state.seen_at = Some(seen_at);
    Ok(Value::Null)
}

fn create_record(state: &mut BskyState, headers: &HeaderMap, body: &[u8]) -> Reply {
    state.check_access(headers)?;
    let input = json_input(body)?;
    let repo = required_str(&input, "repo")?;
    let collection = required_str(&input, "collection")?.to_owned();
    if repo != state.did && !repo.eq_ignore_ascii_case(&state.handle) {
        return Err(invalid_request(&format!("Could not find repo: {repo}")));
    }
    let record = &input["record"];
    if !record.is_object() {
        return Err(invalid_request("Input must have the property \"record\""));
    }
    let validate = input["validate"].as_bool();
    if validate != Some(false) {
        validate_record(&collection, record)?;
    }
    let rkey = match input["rkey"].as_str() {
        Some(rkey) => {
            if state
                .records
                .iter()
                .any(|r| r.collection == collection && r.rkey == rkey)
            {
                return Err(match state.duplicate_rkey {
                    DuplicateRkey::InternalServerError => xrpc_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalServerError",
                        "Internal Server Error",
                    ),
                    DuplicateRkey::InvalidRequest => invalid_request("Record already exists"),
                });
            }
            rkey.to_owned()
        }
        None => state.next_tid(),
    };
    let record_bytes = serde_json::to_vec(record).unwrap_or_default();
    let cid = fake_cid(&record_bytes);
    let rev = state.next_tid();
    let uri = format!("at://{}/{collection}/{rkey}", state.did);
    let known_lexicon =
        collection.starts_with("app.bsky.") || collection.starts_with("com.atproto.");
    let validation_status = if validate != Some(false) && known_lexicon {
        "valid"
    } else {
        "unknown"
    };
    if state.echo_records {
        let event = json!({
            "did": state.did,
            "time_us": now_micros(),
            "kind": "commit",
            "commit": {
                "rev": rev,
                "operation": "create",
                "collection": collection,
                "rkey": rkey,
                "record": record,
                "cid": cid
            }
        });
        broadcast(state, event.to_string());
    }
    state.records.push(StoredRecord {
        collection,
        rkey,
        cid: cid.clone(),
        input: input.clone(),
    });
    Ok(json!({
        "uri": uri,
        "cid": cid,
        "commit": { "cid": fake_cid(rev.as_bytes()), "rev": rev },
        "validationStatus": validation_status
    }))
}

fn validate_record(collection: &str, record: &Value) -> Result<(), XrpcError> {
    if record["$type"].as_str() != Some(collection) {
        return Err(invalid_request(&format!(
            "Invalid $type: expected {collection}, got {}",
            record["$type"].as_str().unwrap_or("undefined")
        )));
    }
    if collection != "app.bsky.feed.post" {
        return Ok(());
    }
    let invalid =
        |detail: &str| invalid_request(&format!("Invalid app.bsky.feed.post record: {detail}"));
    let Some(text) = record["text"].as_str() else {
        return Err(invalid("Record must have the property \"text\""));
    };
    if text.len() > 3000 {
        return Err(invalid(
            "Record/text must not be longer than 3000 characters",
        ));
    }
    if approx_graphemes(text) > 300 {
        return Err(invalid("Record/text must not be longer than 300 graphemes"));
    }
    let Some(created_at) = record["createdAt"].as_str() else {
        return Err(invalid("Record must have the property \"createdAt\""));
    };
    if chrono::DateTime::parse_from_rfc3339(created_at).is_err() {
        return Err(invalid(
            "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)",
        ));
    }
    Ok(())
}

fn get_record(state: &BskyState, params: &[(String, String)]) -> Reply {
    let repo = first_value(params, "repo").unwrap_or_default();
    let collection = first_value(params, "collection").unwrap_or_default();
    let rkey = first_value(params, "rkey").unwrap_or_default();
    let uri = format!("at://{repo}/{collection}/{rkey}");
    let found = (repo == state.did || repo.eq_ignore_ascii_case(&state.handle))
        .then(|| {
            state
                .records
                .iter()
                .find(|r| r.collection == collection && r.rkey == rkey)
        })
        .flatten();
    match found {
        Some(record) => Ok(json!({
            "uri": format!("at://{}/{collection}/{rkey}", state.did),
            "cid": record.cid,
            "value": record.input["record"]
        })),
        None => Err(xrpc_error(
            StatusCode::BAD_REQUEST,
            "RecordNotFound",
            &format!("Could not locate record: {uri}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Encodings

fn now_micros() -> u64 {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    u64::try_from(micros).unwrap_or(u64::MAX)
}

/// A TID for `micros` since the epoch (clock id 0x1a).
fn tid(micros: u64) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let mut value = ((micros & ((1 << 53) - 1)) << 10) | 0x1a;
    let mut out = [b'2'; 13];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[usize::try_from(value & 31).unwrap_or(0)];
        value >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lower-case RFC 4648 base32 without padding (the multibase `b` alphabet).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A CIDv1 (dag-cbor, sha2-256) string whose "digest" is a deterministic hash of `data`:
/// the real shape (`bafyrei` + 52 characters), not the real digest.
fn fake_cid(data: &[u8]) -> String {
    let mut bytes = vec![0x01, 0x71, 0x12, 0x20];
    for seed in 0u64..4 {
        // FNV-1a, seeded per 8-byte lane.
        let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for &byte in data {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        bytes.extend_from_slice(&hash.to_be_bytes());
    }
    format!("b{}", base32(&bytes))
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// `header.payload.signature`, base64url, with a placeholder signature.
fn fake_jwt(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(payload.to_string().as_bytes()),
        base64url(b"fake-signature-not-verifiable")
    )
}

/// Grapheme count approximated without a segmentation table: combining marks,
/// variation selectors, skin-tone modifiers, tag characters and zero-width joiners (with
/// the character they join) do not start a grapheme; regional indicators count in pairs.
fn approx_graphemes(text: &str) -> usize {
    let mut count = 0;
    let mut after_joiner = false;
    let mut pending_flag = false;
    for c in text.chars() {
        let code = u32::from(c);
        let extends = matches!(code,
            0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x20D0..=0x20FF | 0xFE00..=0xFE0F
            | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F);
        if code == 0x200D {
            after_joiner = true;
            continue;
        }
        if extends || after_joiner {
            after_joiner = false;
            continue;
        }
        if (0x1F1E6..=0x1F1FF).contains(&code) {
            if pending_flag {
                pending_flag = false;
                continue;
            }
            pending_flag = true;
        } else {
            pending_flag = false;
        }
        count += 1;
    }
    count
}
