#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
//! Checks that the fake platform servers in `tests/fakes/` behave as the platforms do,
//! with plain `reqwest` requests and a minimal websocket client (RFC 6455 framing over a
//! `TcpStream`; the crate has no websocket client dependency).

mod fakes;

use std::time::{Duration, Instant};

use fakes::bluesky::{self, APP_PASSWORD, BlueskyConfig, FakeBluesky, ORG_DID, ORG_HANDLE};
use fakes::feed::{self, FakeFeed};
use fakes::mastodon::{self, FakeMastodon, MastodonConfig, TOKEN};
use fakes::{Fault, parse_form};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn http() -> Client {
    rapport_connectors::net::ensure_crypto();
    Client::builder().timeout(WAIT).build().unwrap()
}

// ---------------------------------------------------------------------------------------
// A minimal websocket client

#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Close(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

struct Ws {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Ws {
    /// Opens `ws://host:port/path?query`; `Err(status)` when the server does not switch
    /// protocols.
    async fn connect(url: &str) -> Result<Self, u16> {
        let rest = url.strip_prefix("ws://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut stream = TcpStream::connect(host).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut ws = Self {
            stream,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(i) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(
                ws.fill_more().await,
                "connection closed during the handshake"
            );
        };
        let head = String::from_utf8_lossy(&ws.buf[..end]).into_owned();
        ws.buf.drain(..end);
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        if status == 101 { Ok(ws) } else { Err(status) }
    }

    async fn fill_more(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    async fn fill(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            if !self.fill_more().await {
                return false;
            }
        }
        true
    }

    /// The next frame, or `None` when the TCP connection ends.
    async fn next(&mut self) -> Option<Frame> {
        if !self.fill(2).await {
            return None;
        }
        let opcode = self.buf[0] & 0x0f;
        let (len, header) = match self.buf[1] & 0x7f {
            126 => {
                self.fill(4).await.then_some(())?;
                (
                    usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
                    4,
                )
            }
            127 => {
                self.fill(10).await.then_some(())?;
                let len = u64::from_be_bytes(self.buf[2..10].try_into().unwrap());
                (usize::try_from(len).unwrap(), 10)
            }
            n => (usize::from(n), 2),
        };
        self.fill(header + len).await.then_some(())?;
        let payload: Vec<u8> = self.buf.drain(..header + len).skip(header).collect();
        Some(match opcode {
            1 => Frame::Text(String::from_utf8(payload).unwrap()),
            2 => Frame::Binary(payload),
            8 => Frame::Close(payload),
            9 => Frame::Ping(payload),
            10 => Frame::Pong(payload),
            other => panic!("unexpected opcode {other}"),
        })
    }

    /// The next frame within `wait`: `Ok(None)` at end of stream, `Err(())` on timeout.
    async fn next_within(&mut self, wait: Duration) -> Result<Option<Frame>, ()> {
        timeout(wait, self.next()).await.map_err(|_| ())
    }

    async fn text(&mut self) -> String {
        match self.next_within(WAIT).await {
            Ok(Some(Frame::Text(text))) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    async fn texts(&mut self, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.text().await);
        }
        out
    }

    /// Sends one masked frame, as a client must.
    async fn send(&mut self, opcode: u8, payload: &[u8]) {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n @ 0..=125 => frame.push(0x80 | u8::try_from(n).unwrap()),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Bluesky: Jetstream

fn event(did: &str, time_us: i64, collection: &str) -> String {
    json!({
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": "3mfogcnn4qd57",
            "operation": "create",
            "collection": collection,
            "rkey": format!("rkey{time_us}"),
            "record": {"$type": collection, "createdAt": "2026-02-25T10:00:00.000Z"},
            "cid": "bafyreiexample"
        }
    })
    .to_string()
}

fn identity(did: &str, time_us: i64) -> String {
    json!({"did": did, "time_us": time_us, "kind": "identity",
           "identity": {"did": did, "handle": "x.example", "seq": 1, "time": "2026-02-25T10:00:00Z"}})
    .to_string()
}

#[tokio::test]
async fn jetstream_replays_everything_in_order_then_stays_open_and_answers_pings() {
    let bsky = FakeBluesky::start(BlueskyConfig::default().with_fixtures()).await;
    let expected = bluesky::fixture_events();
    assert_eq!(expected.len(), 17);

    let mut ws = Ws::connect(&bsky.jetstream_url()).await.unwrap();
    assert_eq!(ws.texts(expected.len()).await, expected);
    // Nothing more, but the socket stays open and answers pings.
    assert_eq!(ws.next_within(Duration::from_millis(200)).await, Err(()));
    ws.send(9, b"are you there").await;
    assert_eq!(
        ws.next_within(WAIT).await,
        Ok(Some(Frame::Pong(b"are you there".to_vec())))
    );
    assert_eq!(bsky.live_subscribers(), 1);

    // A pushed event reaches the live subscriber.
    let live = event("did:plc:live", 1_772_013_700_000_000, "app.bsky.feed.post");
    bsky.push_event(live.clone());
    assert_eq!(ws.text().await, live);

    // A client close is answered with a close frame, then the connection ends.
    ws.send(8, &1000u16.to_be_bytes()).await;
    assert!(matches!(
        ws.next_within(WAIT).await,
        Ok(Some(Frame::Close(_)))
    ));
    assert_eq!(ws.next_within(WAIT).await, Ok(None));

    assert_eq!(bsky.subscribe_queries(), vec![String::new()]);
    let handshake = &bsky.requests()[0];
    assert_eq!(
        (handshake.method.as_str(), handshake.path.as_str()),
        ("GET", "/subscribe")
    );
}

#[tokio::test]
async fn jetstream_filters_by_cursor_collections_and_dids_and_sends_malformed_lines_verbatim() {
    let (a, b) = ("did:plc:aaaa", "did:plc:bbbb");
    let events = vec![
        event(a, 100, "app.bsky.feed.post"),
        event(b, 200, "app.bsky.feed.like"),
        "{not json at all".to_owned(),
        identity(a, 300),
        event(b, 400, "app.bsky.feed.post"),
        event(a, 500, "app.bsky.graph.follow"),
    ];
    let bsky = FakeBluesky::start(BlueskyConfig {
        events: events.clone(),
        ..BlueskyConfig::default()
    })
    .await;

    let query = format!(
        "cursor=200&wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.graph.*&wantedDids={a}"
    );
    let mut ws = Ws::connect(&format!("{}?{query}", bsky.jetstream_url()))
        .await
        .unwrap();
    assert_eq!(
        ws.texts(3).await,
        vec![events[2].clone(), events[3].clone(), events[5].clone()]
    );
    assert_eq!(ws.next_within(Duration::from_millis(200)).await, Err(()));

    let mut ws = Ws::connect(&format!("{}?cursor=400", bsky.jetstream_url()))
        .await
        .unwrap();
    assert_eq!(
        ws.texts(3).await,
        vec![events[2].clone(), events[4].clone(), events[5].clone()]
    );

    let mut ws = Ws::connect(&format!(
        "{}?wantedCollections=app.bsky.feed.like",
        bsky.jetstream_url()
    ))
    .await
    .unwrap();
    // Non-commit events pass any collection filter.
    assert_eq!(
        ws.texts(3).await,
        vec![events[1].clone(), events[2].clone(), events[3].clone()]
    );

    assert_eq!(
        bsky.subscribe_queries(),
        vec![
            query,
            "cursor=400".to_owned(),
            "wantedCollections=app.bsky.feed.like".to_owned()
        ]
    );
}

#[tokio::test]
async fn jetstream_pace_drop_after_and_live_filtering() {
    let events: Vec<String> = (1..=3)
        .map(|i| event("did:plc:aaaa", i * 100, "app.bsky.feed.post"))
        .collect();
    let bsky = FakeBluesky::start(BlueskyConfig {
        events: events.clone(),
        pace: Duration::from_millis(100),
        ..BlueskyConfig::default()
    })
    .await;

    // The next connection is cut after 2 events: TCP ends with no close frame.
    bsky.drop_after(2);
    let started = Instant::now();
    let mut ws = Ws::connect(&bsky.jetstream_url()).await.unwrap();
    assert_eq!(ws.texts(2).await, events[..2].to_vec());
    assert!(started.elapsed() >= Duration::from_millis(100), "paced");
    assert_eq!(ws.next_within(WAIT).await, Ok(None));

    // One-shot: the following connection gets everything, then live events it wants.
    bsky.set_pace(Duration::ZERO);
    let mut ws = Ws::connect(&format!(
        "{}?wantedCollections=app.bsky.feed.post",
        bsky.jetstream_url()
    ))
    .await
    .unwrap();
    assert_eq!(ws.texts(3).await, events);
    let like = event("did:plc:cccc", 400, "app.bsky.feed.like");
    let post = event("did:plc:cccc", 500, "app.bsky.feed.post");
    bsky.push_event(like.clone());
    bsky.push_event(post.clone());
    assert_eq!(ws.text().await, post);
    assert_eq!(bsky.events().len(), 5);
}

#[tokio::test]
async fn jetstream_handshake_can_be_failed() {
    let bsky = FakeBluesky::start(BlueskyConfig::default()).await;
    bsky.fail_next("/subscribe", 503, &[("Retry-After", "2")]);
    assert_eq!(Ws::connect(&bsky.jetstream_url()).await.err(), Some(503));
    assert!(Ws::connect(&bsky.jetstream_url()).await.is_ok());
    let requests = bsky.requests();
    assert_eq!(
        requests[0].fault,
        Some(Fault::Fail {
            status: 503,
            headers: vec![("Retry-After".to_owned(), "2".to_owned())]
        })
    );
    assert_eq!(requests[1].fault, None);
}

// ---------------------------------------------------------------------------------------
// Bluesky: XRPC

async fn xrpc_get(
    http: &Client,
    bsky: &FakeBluesky,
    nsid: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = http.get(format!("{}/xrpc/{nsid}", bsky.url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn xrpc_post(
    http: &Client,
    bsky: &FakeBluesky,
    nsid: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = http.post(format!("{}/xrpc/{nsid}", bsky.url())).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(http: &Client, bsky: &FakeBluesky) -> (String, String) {
    let (status, session) = xrpc_post(
        http,
        bsky,
        "com.atproto.server.createSession",
        None,
        &json!({"identifier": ORG_HANDLE, "password": APP_PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    (
        session["accessJwt"].as_str().unwrap().to_owned(),
        session["refreshJwt"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn bluesky_sessions_tokens_and_expiry() {
    let http = http();
    let bsky = FakeBluesky::start(BlueskyConfig::default()).await;
    let create = "com.atproto.server.createSession";

    let (status, body) = xrpc_post(
        &http,
        &bsky,
        create,
        None,
        &json!({"identifier": ORG_HANDLE, "password": "wrong"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
    );

    let (status, session) = xrpc_post(
        &http,
        &bsky,
        create,
        None,
        &json!({"identifier": ORG_DID, "password": APP_PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["did"], ORG_DID);
    assert_eq!(session["handle"], ORG_HANDLE);
    assert_eq!(
        session["didDoc"]["service"][0]["serviceEndpoint"],
        bsky.service_url()
    );
    assert!(session["accessJwt"].as_str().unwrap().starts_with("eyJ"));

    let (access, refresh) = login(&http, &bsky).await;
    assert_eq!(bsky.sessions_created(), 2);
    let list = "app.bsky.notification.listNotifications";
    let (status, body) = xrpc_get(&http, &bsky, list, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "AuthenticationRequired");
    assert_eq!(
        xrpc_get(&http, &bsky, list, Some(&access)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        xrpc_get(&http, &bsky, list, Some("nonsense")).await.0,
        StatusCode::UNAUTHORIZED
    );

    bsky.expire_access_token();
    let (status, body) = xrpc_get(&http, &bsky, list, Some(&access)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "ExpiredToken", "message": "Token has expired"})
    );

    let refresh_nsid = "com.atproto.server.refreshSession";
    let (status, body) = xrpc_post(&http, &bsky, refresh_nsid, Some(&access), &Value::Null).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidToken"))
    );
    let (status, renewed) =
        xrpc_post(&http, &bsky, refresh_nsid, Some(&refresh), &Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let new_access = renewed["accessJwt"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(
        xrpc_get(&http, &bsky, list, Some(new_access)).await.0,
        StatusCode::OK
    );
    // Refresh tokens rotate: the old one is spent.
    let (status, body) = xrpc_post(&http, &bsky, refresh_nsid, Some(&refresh), &Value::Null).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("ExpiredToken"))
    );
    let recorded = bsky.requests_to("/xrpc/com.atproto.server.refreshSession");
    assert_eq!(
        recorded[1].header("authorization"),
        Some(format!("Bearer {refresh}").as_str())
    );
}

#[tokio::test]
async fn bluesky_resolves_handles_and_counts_profile_lookups() {
    let http = http();
    let bsky = FakeBluesky::start(BlueskyConfig::default().with_fixtures()).await;
    let alice = "did:plc:aliceujzdegxdncf32epf3dh";
    let resolve = |handle: &str| format!("com.atproto.identity.resolveHandle?handle={handle}");

    assert_eq!(
        xrpc_get(&http, &bsky, &resolve(ORG_HANDLE), None).await.1,
        json!({"did": ORG_DID})
    );
    assert_eq!(
        xrpc_get(&http, &bsky, &resolve("alice.bsky.social"), None)
            .await
            .1["did"],
        alice
    );
    let (status, body) = xrpc_get(&http, &bsky, &resolve("nobody.example"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "InvalidRequest", "message": "Unable to resolve handle"})
    );

    let profile = |actor: &str| format!("app.bsky.actor.getProfile?actor={actor}");
    let (status, body) = xrpc_get(&http, &bsky, &profile(alice), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["followersCount"], 12873);
    assert_eq!(body["displayName"], "Alice Martin");
    let (access, _) = login(&http, &bsky).await;
    assert_eq!(
        xrpc_get(&http, &bsky, &profile(alice), Some(&access))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        xrpc_get(&http, &bsky, &profile("alice.bsky.social"), None)
            .await
            .1["did"],
        alice
    );
    let (status, body) = xrpc_get(&http, &bsky, &profile("did:plc:unknown"), None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Profile not found"))
    );

    bsky.add_profile(bluesky::profile("did:plc:zed", "zed.example", "Zed", 7));
    assert_eq!(
        xrpc_get(&http, &bsky, &profile("zed.example"), None)
            .await
            .1["followersCount"],
        7
    );
    assert_eq!(
        xrpc_get(&http, &bsky, &resolve("zed.example"), None)
            .await
            .1["did"],
        "did:plc:zed"
    );

    let lookups = bsky.profile_lookups();
    assert_eq!(lookups[alice], 2);
    assert_eq!(lookups["alice.bsky.social"], 1);
    assert_eq!(lookups["did:plc:unknown"], 1);
}

#[tokio::test]
async fn bluesky_list_notifications_pages_newest_first() {
    let http = http();
    let bsky = FakeBluesky::start(BlueskyConfig::default().with_fixtures()).await;
    let (access, _) = login(&http, &bsky).await;
    let page = |cursor: Option<&str>| {
        let mut nsid = "app.bsky.notification.listNotifications?limit=2".to_owned();
        if let Some(cursor) = cursor {
            nsid += &format!("&cursor={cursor}");
        }
        nsid
    };
    let reasons = |body: &Value| -> Vec<String> {
        body["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["reason"].as_str().unwrap().to_owned())
            .collect()
    };

    let (_, first) = xrpc_get(&http, &bsky, &page(None), Some(&access)).await;
    assert_eq!(reasons(&first), ["mention", "like"]);
    assert_eq!(first["cursor"], "2026-02-25T10:59:00.500Z");
    let (_, second) = xrpc_get(&http, &bsky, &page(first["cursor"].as_str()), Some(&access)).await;
    assert_eq!(reasons(&second), ["follow", "quote"]);
    let (_, third) = xrpc_get(
        &http,
        &bsky,
        &page(second["cursor"].as_str()),
        Some(&access),
    )
    .await;
    assert_eq!(reasons(&third), ["reply"]);
    assert_eq!(
        third["notifications"][0]["reasonSubject"],
        "at://did:plc:orgacmecoffee234567abcde/app.bsky.feed.post/3mflvtp7u2225"
    );
    let (_, end) = xrpc_get(&http, &bsky, &page(third["cursor"].as_str()), Some(&access)).await;
    assert_eq!(end, json!({"notifications": [], "priority": false}));

    let author = bluesky::profile("did:plc:newbie", "newbie.example", "Newbie", 3);
    let record = json!({"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-02-25T12:00:00.000Z"});
    bsky.push_notification(bluesky::notification(
        &author,
        "mention",
        "at://did:plc:newbie/app.bsky.feed.post/3mfzzzzzzzz2a",
        record,
        "2026-02-25T12:00:01.000Z",
    ));
    let (_, newest) = xrpc_get(
        &http,
        &bsky,
        "app.bsky.notification.listNotifications?reasons=mention",
        Some(&access),
    )
    .await;
    let uris: Vec<&str> = newest["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris[0],
        "at://did:plc:newbie/app.bsky.feed.post/3mfzzzzzzzz2a"
    );
    assert_eq!(uris.len(), 2);
    assert!(
        newest["notifications"][0]["author"]
            .get("followersCount")
            .is_none()
    );

    let (status, _) = xrpc_get(
        &http,
        &bsky,
        "app.bsky.notification.listNotifications?limit=101",
        Some(&access),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bluesky_create_record_stores_once_and_honours_faults() {
    let http = http();
    let bsky = FakeBluesky::start(BlueskyConfig {
        echo_records: true,
        ..BlueskyConfig::default()
    })
    .await;
    let (access, _) = login(&http, &bsky).await;
    let create = "com.atproto.repo.createRecord";
    let reply: Value =
        serde_json::from_str(&fakes::fixture("bluesky/reply_create_record.json")).unwrap();
    let mut ws = Ws::connect(&format!(
        "{}?wantedCollections=app.bsky.feed.post",
        bsky.jetstream_url()
    ))
    .await
    .unwrap();

    let (status, body) = xrpc_post(&http, &bsky, create, None, &reply).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, out) = xrpc_post(&http, &bsky, create, Some(&access), &reply).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let uri = out["uri"].as_str().unwrap();
    let rkey = uri
        .strip_prefix(&format!("at://{ORG_DID}/app.bsky.feed.post/"))
        .unwrap();
    assert_eq!(rkey.len(), 13);
    assert!(out["cid"].as_str().unwrap().starts_with("bafyrei"));
    assert_eq!(out["cid"].as_str().unwrap().len(), 59);
    assert_eq!(out["validationStatus"], "valid");
    assert_eq!(out["commit"]["rev"].as_str().unwrap().len(), 13);
    assert_eq!(bsky.created_records(), vec![reply.clone()]);
    // The created post shows up on Jetstream.
    let echoed: Value = serde_json::from_str(&ws.text().await).unwrap();
    assert_eq!(echoed["commit"]["rkey"], rkey);
    assert_eq!(echoed["commit"]["record"], reply["record"]);

    // Fixed rkey: a second create with it fails the way the PDS fails today.
    let mut keyed = reply.clone();
    keyed["rkey"] = json!("3mfoh5a2c6k2q");
    assert_eq!(
        xrpc_post(&http, &bsky, create, Some(&access), &keyed)
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = xrpc_post(&http, &bsky, create, Some(&access), &keyed).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"error": "InternalServerError", "message": "Internal Server Error"})
    );
    assert_eq!(bsky.created_records().len(), 2);
    let (status, got) = xrpc_get(&http, &bsky,
        &format!("com.atproto.repo.getRecord?repo={ORG_DID}&collection=app.bsky.feed.post&rkey=3mfoh5a2c6k2q"),
        None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["value"], reply["record"]);
    let (status, got) = xrpc_get(&http, &bsky,
        &format!("com.atproto.repo.getRecord?repo={ORG_DID}&collection=app.bsky.feed.post&rkey=3zzzzzzzzzzzz"),
        None).await;
    assert_eq!(
        (status, got["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("RecordNotFound"))
    );

    // Validation.
    let mut invalid = reply.clone();
    invalid["record"]
        .as_object_mut()
        .unwrap()
        .remove("createdAt");
    let (status, body) = xrpc_post(&http, &bsky, create, Some(&access), &invalid).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidRequest"))
    );
    let mut long = reply.clone();
    long["record"]["text"] = json!("😞".repeat(301));
    assert_eq!(
        xrpc_post(&http, &bsky, create, Some(&access), &long)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // 300 graphemes in 2,000 bytes: family emoji count once each.
    long["record"]["text"] = json!(format!("{}{}", "👩‍👩‍👧".repeat(100), "a".repeat(200)));
    assert_eq!(
        xrpc_post(&http, &bsky, create, Some(&access), &long)
            .await
            .0,
        StatusCode::OK
    );
    long["record"]["text"] = json!("a".repeat(3001));
    assert_eq!(
        xrpc_post(&http, &bsky, create, Some(&access), &long)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(bsky.created_records().len(), 3);

    // Rate limited: answered 429 with the given headers, nothing stored.
    let path = "/xrpc/com.atproto.repo.createRecord";
    bsky.fail_next(
        path,
        429,
        &[("Retry-After", "1"), ("RateLimit-Reset", "1772013700")],
    );
    let response = http
        .post(format!("{}{path}", bsky.url()))
        .bearer_auth(&access)
        .json(&reply)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["ratelimit-reset"], "1772013700");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "RateLimitExceeded");
    assert_eq!(bsky.created_records().len(), 3);

    // Delayed: the record is created although the client gave up waiting.
    bsky.delay_next(path, Duration::from_millis(1500));
    let impatient = http
        .post(format!("{}{path}", bsky.url()))
        .bearer_auth(&access)
        .json(&reply)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    assert_eq!(bsky.created_records().len(), 4);

    let faults: Vec<Option<Fault>> = bsky
        .requests_to(path)
        .into_iter()
        .map(|r| r.fault)
        .collect();
    assert_eq!(faults.iter().filter(|f| f.is_some()).count(), 2);
    assert_eq!(
        faults.last().unwrap(),
        &Some(Fault::Delay(Duration::from_millis(1500)))
    );
    let first = &bsky.requests_to(path)[1];
    assert_eq!(first.json().unwrap(), reply);
    assert_eq!(first.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn bluesky_unknown_methods_are_not_implemented() {
    let http = http();
    let bsky = FakeBluesky::start(BlueskyConfig::default()).await;
    let (status, body) = xrpc_get(&http, &bsky, "app.bsky.feed.getTimeline", None).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(body["error"], "MethodNotImplemented");
    // Unknown paths are answered 404 and still recorded.
    let response = http
        .get(format!("{}/nope?x=1", bsky.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let last = bsky.requests().pop().unwrap();
    assert_eq!((last.path.as_str(), last.query.as_str()), ("/nope", "x=1"));
}

// ---------------------------------------------------------------------------------------
// Mastodon

async fn masto_get(http: &Client, url: &str) -> (StatusCode, Option<String>, Value) {
    let response = http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    let status = response.status();
    let link = response
        .headers()
        .get("link")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, link, response.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<&str> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect()
}

fn masto_notification(id: &str, kind: &str) -> Value {
    let mut n = mastodon::fixture_notifications()[1].clone();
    n["id"] = json!(id);
    n["type"] = json!(kind);
    n["group_key"] = json!(format!("ungrouped-{id}"));
    n
}

#[tokio::test]
async fn mastodon_requires_the_token_and_describes_itself() {
    let http = http();
    let masto = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let url = format!("{}/api/v1/notifications", masto.url());

    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "The access token is invalid"})
    );
    let response = http.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let instance: Value = http
        .get(format!("{}/api/v2/instance", masto.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(instance["domain"], "social.example");
    assert_eq!(
        instance["configuration"]["urls"]["streaming"],
        masto.streaming_url()
    );
    assert!(masto.streaming_url().starts_with("ws://127.0.0.1:"));
    assert_eq!(instance["configuration"]["statuses"]["max_characters"], 500);

    let (status, _, me) = masto_get(
        &http,
        &format!("{}/api/v1/accounts/verify_credentials", masto.url()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            me["id"].as_str(),
            me["username"].as_str(),
            me["acct"].as_str()
        ),
        (Some(mastodon::ORG_ID), Some("northwind"), Some("northwind"))
    );
}

#[tokio::test]
async fn mastodon_notifications_paginate_like_mastodon() {
    let http = http();
    let masto = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let base = format!("{}/api/v1/notifications", masto.url());

    let (_, link, page) = masto_get(&http, &base).await;
    assert_eq!(ids(&page), ["1046", "1045", "1044", "1043", "1042", "1041"]);
    assert_eq!(
        link.unwrap(),
        format!("<{base}?max_id=1041>; rel=\"next\", <{base}?min_id=1046>; rel=\"prev\"")
    );

    let (_, link, page) = masto_get(&http, &format!("{base}?types%5B%5D=mention&limit=1")).await;
    assert_eq!(ids(&page), ["1045"]);
    assert_eq!(
        link.unwrap(),
        format!(
            "<{base}?limit=1&max_id=1045&types%5B%5D=mention>; rel=\"next\", \
         <{base}?limit=1&min_id=1045&types%5B%5D=mention>; rel=\"prev\""
        )
    );
    let (_, link, page) = masto_get(
        &http,
        &format!("{base}?limit=1&max_id=1045&types[]=mention"),
    )
    .await;
    assert_eq!(ids(&page), ["1041"]);
    assert!(link.is_some());
    let (_, link, page) = masto_get(
        &http,
        &format!("{base}?limit=1&max_id=1041&types%5B%5D=mention"),
    )
    .await;
    assert_eq!(ids(&page), Vec::<&str>::new());
    assert_eq!(link, None);

    let (_, _, page) = masto_get(&http, &format!("{base}?since_id=1042&limit=2")).await;
    assert_eq!(ids(&page), ["1046", "1045"]);
    let (_, _, page) = masto_get(&http, &format!("{base}?min_id=1042&limit=2")).await;
    assert_eq!(ids(&page), ["1044", "1043"]);
    let (_, _, page) = masto_get(&http, &format!("{base}?max_id=1044")).await;
    assert_eq!(ids(&page), ["1043", "1042", "1041"]);
    let (_, link, page) = masto_get(
        &http,
        &format!("{base}?types[]=mention&types[]=follow&exclude_types[]=follow"),
    )
    .await;
    assert_eq!(ids(&page), ["1045", "1041"]);
    assert_eq!(
        link.unwrap(),
        format!(
            "<{base}?exclude_types%5B%5D=follow&max_id=1041&types%5B%5D=mention&types%5B%5D=follow>; rel=\"next\", \
         <{base}?exclude_types%5B%5D=follow&min_id=1045&types%5B%5D=mention&types%5B%5D=follow>; rel=\"prev\""
        )
    );

    // Ids compare as numbers, not strings.
    masto.push_notification(masto_notification("10000", "mention"));
    let (_, _, page) = masto_get(&http, &format!("{base}?since_id=1046")).await;
    assert_eq!(ids(&page), ["10000"]);
    let (_, _, page) = masto_get(&http, &format!("{base}?limit=200")).await;
    assert_eq!(page.as_array().unwrap().len(), 7);
    let recorded = masto.requests_to("/api/v1/notifications");
    assert_eq!(
        parse_form(&recorded[1].query),
        vec![
            ("types[]".to_owned(), "mention".to_owned()),
            ("limit".to_owned(), "1".to_owned()),
        ]
    );
}

#[tokio::test]
async fn mastodon_hashtag_timeline_paginates() {
    let http = http();
    let status = |id: &str| {
        let mut s = mastodon::fixture_statuses()[0].clone();
        s["id"] = json!(id);
        s
    };
    let masto = FakeMastodon::start(MastodonConfig {
        hashtag_statuses: ["10", "20", "30"]
            .iter()
            .map(|id| ("OrderHelp".to_owned(), status(id)))
            .collect(),
        ..MastodonConfig::default()
    })
    .await;
    let base = format!("{}/api/v1/timelines/tag/orderhelp", masto.url());
    let (_, link, page) = masto_get(&http, &format!("{base}?limit=2")).await;
    assert_eq!(ids(&page), ["30", "20"]);
    assert_eq!(
        link.unwrap(),
        format!(
            "<{base}?limit=2&max_id=20>; rel=\"next\", <{base}?limit=2&min_id=30>; rel=\"prev\""
        )
    );
    let (_, _, page) = masto_get(&http, &format!("{base}?min_id=10&limit=1")).await;
    assert_eq!(ids(&page), ["20"]);
    let (_, link, page) = masto_get(
        &http,
        &format!("{}/api/v1/timelines/tag/other", masto.url()),
    )
    .await;
    assert_eq!((ids(&page).len(), link), (0, None));
}

#[tokio::test]
async fn mastodon_posts_statuses_idempotently() {
    let http = http();
    let masto = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let url = format!("{}/api/v1/statuses", masto.url());
    let post = |body: &'static str, key: Option<&'static str>| {
        let mut request = http
            .post(&url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request
    };

    let response = post("status=++&visibility=public", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Validation failed: Text can't be blank"})
    );

    let first: Value = post("status=%40tomas+Thanks%21+We%27re+on+it+%3C3&in_reply_to_id=113500000000000140&visibility=unlisted",
        Some("reply-1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        first["content"],
        "<p>@tomas Thanks! We&#39;re on it &lt;3</p>"
    );
    assert_eq!(first["in_reply_to_id"], "113500000000000140");
    assert_eq!(first["in_reply_to_account_id"], "110100000000000042");
    assert_eq!(first["visibility"], "unlisted");
    assert_eq!(first["account"]["id"], mastodon::ORG_ID);
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        first["url"],
        format!("https://social.example/@northwind/{id}")
    );

    let again: Value = post(
        "status=%40tomas+Thanks%21+We%27re+on+it+%3C3&in_reply_to_id=113500000000000140",
        Some("reply-1"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(again, first);
    assert_eq!(masto.created_statuses().len(), 1);

    // Timed out after the server acted: the retry with the same key gets the same status.
    masto.delay_next("/api/v1/statuses", Duration::from_millis(1500));
    let impatient = post("status=second", Some("reply-2"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    let retried: Value = post("status=second", Some("reply-2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(masto.created_statuses().len(), 2);
    assert_eq!(retried["id"], masto.created_statuses()[1]["id"]);
    assert!(retried["id"].as_str().unwrap().parse::<u128>().unwrap() > id.parse::<u128>().unwrap());

    let response = post("status=hi&in_reply_to_id=999", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let json_post: Value = http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(
            &json!({"status": "Bonjour\n\nÀ bientôt", "visibility": "direct", "language": "fr",
                      "in_reply_to_id": "113500000000000160"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json_post["content"], "<p>Bonjour</p><p>À bientôt</p>");
    assert_eq!(
        (
            json_post["visibility"].as_str(),
            json_post["language"].as_str()
        ),
        (Some("direct"), Some("fr"))
    );

    let long = format!("status={}", "a".repeat(501));
    let response = http
        .post(&url)
        .bearer_auth(TOKEN)
        .body(long)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let url_heavy = format!(
        "status={}+https%3A%2F%2Fexample.com%2F{}",
        "a".repeat(400),
        "b".repeat(200)
    );
    let response = http
        .post(&url)
        .bearer_auth(TOKEN)
        .body(url_heavy)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    masto.fail_next(
        "/api/v1/statuses",
        429,
        &[("X-RateLimit-Reset", "2026-03-14T11:00:00.000Z")],
    );
    let response = post("status=later", Some("reply-3")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.headers()["x-ratelimit-reset"],
        "2026-03-14T11:00:00.000Z"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Too many requests"})
    );
    assert_eq!(masto.created_statuses().len(), 4);
    let last = masto.requests().pop().unwrap();
    assert_eq!(last.header("idempotency-key"), Some("reply-3"));
    assert_eq!(last.form(), vec![("status".to_owned(), "later".to_owned())]);
}

/// Reads the SSE body until `buf` contains `needle`; false when the stream ends first.
async fn read_until(response: &mut reqwest::Response, buf: &mut String, needle: &str) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !buf.contains(needle) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None) | Err(_)) => return false,
            Err(_) => panic!("timed out waiting for {needle:?}; got {buf:?}"),
        }
    }
    true
}

#[tokio::test]
async fn mastodon_streams_pushed_events_as_sse() {
    let http = http();
    let masto = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let user = format!("{}/api/v1/streaming/user", masto.url());

    let response = http.get(&user).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Missing access token"})
    );
    let response = http
        .get(format!("{user}?access_token=bad"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let mut stream = http
        .get(&user)
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut notif_stream = http
        .get(format!("{user}/notification?access_token={TOKEN}"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let mut tag_stream = http
        .get(format!(
            "{}/api/v1/streaming/hashtag?tag=OrderHelp",
            masto.url()
        ))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let (mut buf, mut notif_buf, mut tag_buf) = (String::new(), String::new(), String::new());
    assert!(read_until(&mut stream, &mut buf, ":)\n").await);
    assert!(read_until(&mut notif_stream, &mut notif_buf, ":)\n").await);
    assert!(read_until(&mut tag_stream, &mut tag_buf, ":)\n").await);
    assert_eq!(masto.live_streams(), 3);

    let pushed = masto_notification("1050", "mention");
    masto.push_notification(pushed.clone());
    let expected = format!("event: notification\ndata: {pushed}\n\n");
    assert!(read_until(&mut stream, &mut buf, &expected).await);
    assert!(read_until(&mut notif_stream, &mut notif_buf, &expected).await);
    // Only what was pushed after connecting: no backlog before it.
    assert!(buf.starts_with(":)\n") && !buf.contains("1046"));

    masto.push_user_event("delete", "113500000000000160");
    assert!(
        read_until(
            &mut stream,
            &mut buf,
            "event: delete\ndata: 113500000000000160\n\n"
        )
        .await
    );
    assert!(read_until(&mut stream, &mut buf, ":thump\n").await);

    let status = mastodon::fixture_statuses()[2].clone();
    masto.push_hashtag_status("other", mastodon::fixture_statuses()[1].clone());
    masto.push_hashtag_status("orderhelp", status.clone());
    assert!(
        read_until(
            &mut tag_stream,
            &mut tag_buf,
            &format!("event: update\ndata: {status}\n\n")
        )
        .await
    );
    assert!(!tag_buf.contains("113500000000000170"));
    assert!(!notif_buf.contains("event: delete"));

    // The REST list has the pushed notification too.
    let (_, _, page) = masto_get(
        &http,
        &format!("{}/api/v1/notifications?limit=1", masto.url()),
    )
    .await;
    assert_eq!(ids(&page), ["1050"]);

    // One-shot cut after one event.
    masto.drop_stream_after(1);
    let mut cut = http
        .get(&user)
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let mut cut_buf = String::new();
    assert!(read_until(&mut cut, &mut cut_buf, ":)\n").await);
    masto.push_notification(masto_notification("1051", "mention"));
    masto.push_notification(masto_notification("1052", "mention"));
    assert!(!read_until(&mut cut, &mut cut_buf, "\"1052\"").await);
    assert!(cut_buf.contains("\"1051\""));
    assert!(read_until(&mut stream, &mut buf, "\"1052\"").await);

    let connections: Vec<String> = masto
        .stream_connections()
        .iter()
        .map(|c| format!("{}?{}", c.path, c.query))
        .collect();
    assert_eq!(
        connections,
        [
            "/api/v1/streaming/user?".to_owned(),
            format!("/api/v1/streaming/user/notification?access_token={TOKEN}"),
            "/api/v1/streaming/hashtag?tag=OrderHelp".to_owned(),
            "/api/v1/streaming/user?".to_owned(),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Feed

#[tokio::test]
async fn feed_answers_conditional_requests() {
    let http = http();
    let rss = feed::fixture_rss();
    let fake = FakeFeed::start(rss.clone(), feed::RSS).await;

    let response = http.get(fake.feed_url()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], feed::RSS);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = response.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(last_modified.ends_with(" GMT"));
    assert_eq!(
        (etag.clone(), last_modified.clone()),
        (fake.etag(), fake.last_modified())
    );
    assert_eq!(response.text().await.unwrap(), rss);

    let conditional =
        |name: &'static str, value: String| http.get(fake.feed_url()).header(name, value).send();
    let response = conditional("If-None-Match", etag.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(
        conditional("If-None-Match", format!("W/{etag}"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        conditional("If-Modified-Since", last_modified.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        conditional(
            "If-Modified-Since",
            "Mon, 01 Jan 2024 00:00:00 GMT".to_owned()
        )
        .await
        .unwrap()
        .status(),
        StatusCode::OK
    );
    // If-None-Match wins over If-Modified-Since.
    let response = http
        .get(fake.feed_url())
        .header("If-None-Match", "\"other\"")
        .header("If-Modified-Since", last_modified.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!((fake.hits(), fake.not_modified()), (6, 3));

    let atom = feed::fixture_atom();
    fake.set_body(atom.clone());
    assert_ne!(fake.etag(), etag);
    let response = conditional("If-None-Match", etag.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), atom);
    assert_eq!(
        conditional("If-Modified-Since", last_modified)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    fake.fail_next("/feed", 503, &[("Retry-After", "120")]);
    let response = http.get(fake.feed_url()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "120");
    assert_eq!((fake.hits(), fake.not_modified()), (8, 3));
    assert_eq!(fake.requests().len(), 9);
    assert_eq!(
        fake.requests()[1].header("if-none-match"),
        Some(etag.as_str())
    );
}
