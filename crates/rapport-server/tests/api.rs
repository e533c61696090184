//! The REST API through its router (`oneshot`): authentication, roles on every route,
//! validation, cursor pagination, sessions with CSRF, the OpenAPI document, live events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use rapport_core::access::Role;
use rapport_core::config::Config;
use rapport_core::routing::{RouteInput, route};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Direction, NewMessage};
use rapport_server::AppState;
use rapport_store::{Prepared, Store};
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct Fixture {
    _dir: TempDir,
    store: Store,
    app: Router,
    tokens: Vec<(Role, String)>,
}

fn prepared(config: &Config, i: usize) -> Prepared {
    let texts = [
        "my order never arrived, this is unacceptable",
        "do you ship to Canada?",
        "love the new lamp, great job",
        "would be great to have a dimmer",
        "how much for 40 units for our office?",
    ];
    let m = NewMessage {
        platform: "bluesky".into(),
        platform_id: format!("at://did:plc:author{i}/app.bsky.feed.post/{i}"),
        author: format!("author{}.bsky.social", i % 4),
        author_name: None,
        followers: Some(10 * i as u64),
        text: format!("{} #{i}", texts[i % texts.len()]),
        created_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
            + Duration::minutes(i as i64),
        in_reply_to: None,
        reshares: 0,
        replies: 0,
        direction: Direction::Inbound,
        automated: false,
        url: None,
    };
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let triage = triager.triage(&m.text, Reach::default());
    let route = route(
        &config.rules,
        &RouteInput {
            intent: triage.intent.intent,
            band: triage.priority.band,
            compound: triage.scores.compound,
            followers: 0,
            platform: &m.platform,
            text: &m.text,
        },
    );
    Prepared {
        message: m,
        triage,
        route,
        reply_ref: None,
        html: None,
        topics: Vec::new(),
    }
}

async fn fixture(conversations: usize) -> Fixture {
    let dir = TempDir::new().unwrap();
    let store = Store::create(dir.path()).await.unwrap();
    let config = Config::default();
    let batch: Vec<Prepared> = (0..conversations).map(|i| prepared(&config, i)).collect();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
    drop(ingestor);
    let now = Utc::now();
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let name = role.as_str();
        store.add_user(name, role, PASSWORD, now).await.unwrap();
        let (token, _) = store.create_token(name, "tests", now).await.unwrap();
        tokens.push((role, token));
    }
    let app = rapport_server::app(AppState::new(store.clone(), config));
    Fixture {
        _dir: dir,
        store,
        app,
        tokens,
    }
}

impl Fixture {
    /// The inbox's first conversation: (id, person id).
    async fn first(&self) -> (i64, i64) {
        let rows = self
            .store
            .inbox(&rapport_store::InboxFilter {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        (rows[0].id, rows[0].person_id.unwrap())
    }

    fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body, headers)
    }

    async fn as_role(
        &self,
        role: Option<Role>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(role) = role {
            req = req.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token(role)),
            );
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let (status, body, _) = self.call(req).await;
        (status, body)
    }
}

/// (method, path with `{id}` filled, body, the least role allowed)
fn routes(conv: i64, person: i64) -> Vec<(Method, String, Option<Value>, Role)> {
    vec![
        (
            Method::GET,
            "/api/v1/conversations".into(),
            None,
            Role::Viewer,
        ),
        (
            Method::GET,
            format!("/api/v1/conversations/{conv}"),
            None,
            Role::Viewer,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/reply"),
            Some(json!({"text": "On it!"})),
            Role::Agent,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/assign"),
            Some(json!({"to": "ana"})),
            Role::Agent,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/status"),
            Some(json!({"status": "pending"})),
            Role::Agent,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/notes"),
            Some(json!({"text": "VIP"})),
            Role::Agent,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/labels"),
            Some(json!({"label": "shipping"})),
            Role::Agent,
        ),
        (
            Method::GET,
            format!("/api/v1/people/{person}"),
            None,
            Role::Viewer,
        ),
        (Method::GET, "/api/v1/reports".into(), None, Role::Viewer),
        (Method::GET, "/api/v1/alerts".into(), None, Role::Viewer),
        (Method::GET, "/api/v1/teams".into(), None, Role::Viewer),
        (Method::GET, "/api/v1/users".into(), None, Role::Admin),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"name": "newbie", "role": "agent", "password": "a long enough password"})),
            Role::Admin,
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({"label": "script"})),
            Role::Agent,
        ),
        (Method::GET, "/api/v1/tokens".into(), None, Role::Viewer),
        (Method::GET, "/api/v1/session".into(), None, Role::Viewer),
    ]
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 0,
        Role::Agent => 1,
        Role::Leader => 2,
        Role::Admin => 3,
    }
}

#[tokio::test]
async fn every_route_needs_a_login_and_the_right_role() {
    let f = fixture(5).await;
    let conv = f.first().await;
    for (method, path, body, least) in routes(conv.0, conv.1) {
        let (status, answer) = f.as_role(None, method.clone(), &path, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {answer}"
        );
        assert_eq!(answer["error"], "unauthenticated");
        for role in Role::ALL {
            let (status, answer) = f
                .as_role(Some(role), method.clone(), &path, body.clone())
                .await;
            if rank(role) >= rank(least) {
                assert!(
                    status.is_success(),
                    "{method} {path} as {role}: {status} {answer}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role}: {answer}"
                );
                assert_eq!(answer["error"], "forbidden");
            }
        }
    }
    // Health needs nothing.
    let (status, body) = f.as_role(None, Method::GET, "/healthz", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test]
async fn bad_input_is_refused_with_the_reason() {
    let f = fixture(2).await;
    let conv = f.first().await.0;
    let agent = Some(Role::Agent);
    let reply = format!("/api/v1/conversations/{conv}/reply");
    let cases = [
        (json!({"text": "hi", "txet": "typo"}), "txet"),
        (json!({"text": ""}), "empty"),
        (json!({"text": "x".repeat(70_000)}), "64 KiB"),
        (json!({"txt": "hi"}), "txt"),
    ];
    for (body, says) in cases {
        let (status, answer) = f.as_role(agent, Method::POST, &reply, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    let (status, answer) = f
        .as_role(
            agent,
            Method::GET,
            "/api/v1/conversations?cursor=garbage",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, _) = f
        .as_role(agent, Method::GET, "/api/v1/conversations?colour=red", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, answer) = f
        .as_role(agent, Method::GET, "/api/v1/alerts?limit=0", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) = f
        .as_role(agent, Method::GET, "/api/v1/alerts?since=yesterday", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) = f.as_role(agent, Method::GET, "/api/v1/alerts", None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!([]));
    let (status, answer) = f
        .as_role(agent, Method::GET, "/api/v1/conversations/999999", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, _) = f
        .as_role(
            agent,
            Method::POST,
            &format!("/api/v1/conversations/{conv}/status"),
            Some(json!({"status": "done"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn pages_follow_the_cursor_through_the_whole_inbox() {
    let f = fixture(23).await;
    let all: Vec<i64> = f
        .store
        .inbox(&rapport_store::InboxFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(all.len(), 23);
    let mut seen = Vec::new();
    let mut uri = "/api/v1/conversations?limit=5".to_owned();
    loop {
        let (status, page) = f.as_role(Some(Role::Viewer), Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/conversations?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen, all,
        "pages in the inbox's order, each conversation once"
    );
}

#[tokio::test]
async fn a_cookie_session_needs_its_csrf_token_and_keeps_its_role() {
    let f = fixture(2).await;
    let conv = f.first().await.0;
    let login = |name: &str, password: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"name": name, "password": password}).to_string(),
            ))
            .unwrap()
    };
    let (status, body, headers) = f.call(login("agent", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set_cookie = headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = body["csrf"].as_str().unwrap().to_owned();

    let note = |cookie: &str, csrf: Option<&str>| {
        let mut r = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/conversations/{conv}/notes"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie);
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        r.body(Body::from(json!({"text": "from the browser"}).to_string()))
            .unwrap()
    };
    // A cross-site POST carries the cookie but not the token.
    let (status, body, _) = f.call(note(&cookie, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "csrf");
    let (status, _, _) = f.call(note(&cookie, Some("wrong"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body, _) = f.call(note(&cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A viewer's stolen cookie, with its token, still cannot reply.
    let (_, body, headers) = f.call(login("viewer", PASSWORD)).await;
    let viewer_cookie = headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let viewer_csrf = body["csrf"].as_str().unwrap().to_owned();
    let reply = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/conversations/{conv}/reply"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &viewer_cookie)
        .header("x-csrf-token", &viewer_csrf)
        .body(Body::from(json!({"text": "hello"}).to_string()))
        .unwrap();
    let (status, body, _) = f.call(reply).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Logged out, the cookie is worth nothing.
    let logout = Request::builder()
        .method(Method::DELETE)
        .uri("/api/v1/session")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.call(logout).await.0, StatusCode::NO_CONTENT);
    let (status, _, _) = f.call(note(&cookie, Some(&csrf))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_for_a_while() {
    let f = fixture(0).await;
    let attempt = |password: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"name": "agent", "password": password}).to_string(),
            ))
            .unwrap()
    };
    for _ in 0..5 {
        let (status, body, _) = f.call(attempt("guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, body, headers) = f.call(attempt(PASSWORD)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.get(header::RETRY_AFTER).is_some());
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_each_answers() {
    let f = fixture(2).await;
    let (status, doc) = f
        .as_role(None, Method::GET, "/api/v1/openapi.json", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = routes(1, 1)
        .into_iter()
        .map(|(m, p, _, _)| {
            (
                m.to_string(),
                p.replace("/1/", "/{id}/")
                    .replace("conversations/1", "conversations/{id}")
                    .replace("people/1", "people/{id}"),
            )
        })
        .chain([
            ("GET".into(), "/healthz".into()),
            ("GET".into(), "/metrics".into()),
            ("POST".into(), "/api/v1/session".into()),
            ("DELETE".into(), "/api/v1/session".into()),
            ("DELETE".into(), "/api/v1/tokens/{id}".into()),
            ("GET".into(), "/api/v1/events".into()),
            ("POST".into(), "/api/v1/ingest/{channel}".into()),
        ])
        .collect();
    assert_eq!(documented, expected);
    // Every documented route is served (not the fallback's 404, not 405).
    for (method, path) in &documented {
        if path == "/api/v1/events" {
            continue; // a stream: tested on its own
        }
        let uri = path.replace("{id}", "1").replace("{channel}", "nowhere");
        let (status, body) = f
            .as_role(
                Some(Role::Admin),
                method.parse().unwrap(),
                &uri,
                Some(json!({})),
            )
            .await;
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED
                && !(status == StatusCode::NOT_FOUND
                    && body["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("no such route")),
            "{method} {path}: {status} {body}"
        );
    }
}

#[tokio::test]
async fn a_post_text_with_a_script_tag_comes_back_as_data() {
    let f = fixture(1).await;
    let conv = f.first().await.0;
    let note = "<script>alert(1)</script>";
    let (status, _) = f
        .as_role(
            Some(Role::Agent),
            Method::POST,
            &format!("/api/v1/conversations/{conv}/notes"),
            Some(json!({"text": note})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, detail) = f
        .as_role(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/conversations/{conv}"),
            None,
        )
        .await;
    assert_eq!(detail["notes"][0]["text"], note);
}

#[tokio::test]
async fn a_signed_webhook_message_lands_and_is_announced_live() {
    let f = fixture(0).await;
    let state = AppState::new(f.store.clone(), Config::default());
    let mut changes = state.subscribe();
    let (jobs, queue) = tokio::sync::mpsc::channel(4);
    let writer = tokio::spawn(rapport_server::ingest::run_writer(state.clone(), queue));
    let secrets = [("helpdesk".to_owned(), "s3cret-for-tests".to_owned())].into();
    let app = rapport_server::app_with_webhooks(state, secrets, jobs);
    let body = br#"{"id": "t-9", "author": "jane", "text": "My parcel is lost, please help"}"#;
    let post = |signature: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/ingest/helpdesk")
            .header(header::CONTENT_TYPE, "application/json")
            .header("X-Rapport-Signature", signature)
            .body(Body::from(body.to_vec()))
            .unwrap()
    };
    let bad = app
        .clone()
        .oneshot(post(rapport_connectors::webhook::sign(b"wrong", body)))
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(
        f.store
            .conversation_of("helpdesk", "t-9")
            .await
            .unwrap()
            .is_none()
    );
    let good = app
        .clone()
        .oneshot(post(rapport_connectors::webhook::sign(
            b"s3cret-for-tests",
            body,
        )))
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::ACCEPTED);
    let conv = f
        .store
        .conversation_of("helpdesk", "t-9")
        .await
        .unwrap()
        .unwrap();
    let announced = tokio::time::timeout(std::time::Duration::from_secs(5), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(announced, conv);
    writer.abort();
}

#[tokio::test]
async fn metrics_are_in_prometheus_format() {
    let f = fixture(3).await;
    let _ = f
        .as_role(
            Some(Role::Viewer),
            Method::GET,
            "/api/v1/conversations",
            None,
        )
        .await;
    let response = f
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/metrics")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("# TYPE rapport_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("rapport_conversations{status=\"open\"} 3"),
        "{text}"
    );
    assert!(text.contains("rapport_messages_stored 3"), "{text}");
    let count: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("rapport_http_request_duration_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 1);
}
