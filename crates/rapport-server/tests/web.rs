//! The web pages through the router (`oneshot`): logging in, escaping of untrusted text,
//! the security headers, CSRF and roles on every form, the inbox's filters, reports with
//! their charts and CSV, search with its marked words, pages and inline errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use rapport_core::access::Role;
use rapport_core::config::{Config, MemberConfig, TeamConfig};
use rapport_core::routing::{OneOrMany, RouteInput, Rule, Then, When, route};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Band, Direction, Intent, NewMessage, Status};
use rapport_search::SearchIndex;
use rapport_server::AppState;
use rapport_store::{InboxFilter, Prepared, Store};
use tempfile::TempDir;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
const SCRIPT: &str = "<script>alert(1)</script>";
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/// (text, author, followers)
const POSTS: [(&str, &str, u64); 7] = [
    (SCRIPT, "mallory.bsky.social", 10),
    (
        "my order never arrived, this is unacceptable and I am furious",
        "bigvoice.bsky.social",
        1_000_000,
    ),
    ("do you ship to Canada?", "asker.bsky.social", 50),
    ("love the new lamp, great job", "fan.bsky.social", 20),
    ("would be great to have a dimmer", "tinkerer.bsky.social", 5),
    (
        "how much for 40 units for our office?",
        "buyer.bsky.social",
        300,
    ),
    (
        "I am 100% sure the lamp flickers",
        "precise.bsky.social",
        40,
    ),
];

fn opened_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

/// The server's fixed clock: a day after the posts.
fn now() -> DateTime<Utc> {
    opened_at() + Duration::days(1)
}

fn config() -> Config {
    Config {
        teams: vec![TeamConfig {
            name: "care".into(),
            members: vec![
                MemberConfig {
                    name: "ana".into(),
                    capacity: Some(10),
                },
                MemberConfig {
                    name: "mara".into(),
                    capacity: None,
                },
            ],
            sla: None,
            hours: None,
        }],
        rules: vec![Rule {
            name: "complaints-to-care".into(),
            when: When {
                intent: Some(OneOrMany::One(Intent::Complaint)),
                ..When::default()
            },
            then: Then {
                team: Some("care".into()),
                ..Then::default()
            },
        }],
        ..Config::default()
    }
}

fn prepared(config: &Config, i: usize) -> Prepared {
    let (text, author, followers) = POSTS[i];
    prepared_post(config, i, text, author, followers)
}

fn prepared_post(config: &Config, i: usize, text: &str, author: &str, followers: u64) -> Prepared {
    let m = NewMessage {
        platform: "bluesky".into(),
        platform_id: format!("at://did:plc:web{i}/app.bsky.feed.post/{i}"),
        author: author.into(),
        author_name: None,
        followers: Some(followers),
        text: text.into(),
        created_at: opened_at() + Duration::minutes(i as i64),
        in_reply_to: None,
        reshares: 0,
        replies: 0,
        direction: Direction::Inbound,
        automated: false,
        url: None,
    };
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let triage = triager.triage(
        &m.text,
        Reach {
            followers,
            reshares: 0,
            replies: 0,
        },
    );
    let route = route(
        &config.rules,
        &RouteInput {
            intent: triage.intent.intent,
            band: triage.priority.band,
            compound: triage.scores.compound,
            followers,
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

struct Fixture {
    _dir: TempDir,
    store: Store,
    state: AppState,
    app: Router,
    /// (role, session token, csrf token)
    sessions: Vec<(Role, String, String)>,
    /// The app's search index, opened but not built.
    index: Arc<SearchIndex>,
}

async fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    let store = Store::create(dir.path()).await.unwrap();
    let config = config();
    let batch: Vec<Prepared> = (0..POSTS.len()).map(|i| prepared(&config, i)).collect();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
    drop(ingestor);
    let mut sessions = Vec::new();
    for role in Role::ALL {
        let user = store
            .add_user(role.as_str(), role, PASSWORD, now())
            .await
            .unwrap();
        let s = store
            .create_session(user.id, now(), std::time::Duration::from_secs(3600))
            .await
            .unwrap();
        sessions.push((role, s.token, s.csrf));
    }
    let index = Arc::new(SearchIndex::open(&dir.path().join(rapport_search::INDEX_DIR)).unwrap());
    let state = AppState::with_options(store.clone(), config, false, Some(now()))
        .with_search(index.clone());
    let app = rapport_server::app(state.clone());
    Fixture {
        _dir: dir,
        store,
        state,
        app,
        sessions,
        index,
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

impl Fixture {
    fn session(&self, role: Role) -> (&str, &str) {
        let (_, token, csrf) = self.sessions.iter().find(|(r, _, _)| *r == role).unwrap();
        (token, csrf)
    }

    async fn call(&self, req: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn get(&self, role: Option<Role>, uri: &str) -> Answer {
        let mut req = Request::builder().method(Method::GET).uri(uri);
        if let Some(role) = role {
            req = req.header(
                header::COOKIE,
                format!("rapport_session={}", self.session(role).0),
            );
        }
        self.call(req.body(Body::empty()).unwrap()).await
    }

    /// A form post as `role`; `csrf` is added as the form's `csrf` field when given.
    async fn post(
        &self,
        role: Option<Role>,
        uri: &str,
        fields: &[(&str, &str)],
        csrf: Option<&str>,
    ) -> Answer {
        let mut body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if let Some(c) = csrf {
            body.push(format!("csrf={}", encode(c)));
        }
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(role) = role {
            req = req.header(
                header::COOKIE,
                format!("rapport_session={}", self.session(role).0),
            );
        }
        self.call(req.body(Body::from(body.join("&"))).unwrap())
            .await
    }

    async fn ids(&self, filter: InboxFilter) -> Vec<i64> {
        self.store
            .inbox(&InboxFilter {
                limit: 1000,
                ..filter
            })
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `data-id`s of the inbox's rows, in order.
fn row_ids(html: &str) -> Vec<i64> {
    html.split("<tr class=\"conversation")
        .skip(1)
        .map(|row| {
            let start = row.find("data-id=\"").unwrap() + "data-id=\"".len();
            let end = start + row[start..].find('"').unwrap();
            row[start..end].parse().unwrap()
        })
        .collect()
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

#[tokio::test]
async fn pages_send_a_stranger_to_the_login_form() {
    let f = fixture().await;
    for (uri, next) in [
        ("/", "%2F"),
        ("/conversations/1", "%2Fconversations%2F1"),
        ("/reports?since=7d", "%2Freports%3Fsince%3D7d"),
        ("/people/1", "%2Fpeople%2F1"),
        ("/settings", "%2Fsettings"),
        ("/reports.csv", "%2Freports.csv"),
        ("/search?q=lamp", "%2Fsearch%3Fq%3Dlamp"),
    ] {
        let a = f.get(None, uri).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(a.location(), format!("/login?next={next}"), "{uri}");
    }
    // A form posted without a session changes nothing and goes to the login form.
    let a = f
        .post(None, "/conversations/1/notes", &[("text", "hi")], Some("x"))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().starts_with("/login"), "{}", a.location());
    assert!(f.store.conversation(1).await.unwrap().notes.is_empty());
    // A session cookie that is not one is no session.
    let req = Request::builder()
        .uri("/")
        .header(header::COOKIE, "rapport_session=forged")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.call(req).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn logging_in_sets_the_cookie_and_goes_on_logging_out_ends_it() {
    let f = fixture().await;
    let form = f.get(None, "/login?next=/reports").await;
    assert_eq!(form.status, StatusCode::OK);
    for needle in [
        "<form id=\"login\"",
        "name=\"name\"",
        "name=\"password\"",
        "type=\"submit\"",
        "value=\"/reports\"",
        "<html lang=\"en\">",
    ] {
        assert!(form.body.contains(needle), "{needle} in {}", form.body);
    }
    assert_eq!(form.headers[header::CONTENT_SECURITY_POLICY], CSP);

    let bad = f
        .post(
            None,
            "/login",
            &[("name", "agent"), ("password", "wrong password")],
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.body.contains("<p class=\"error\""), "{}", bad.body);
    assert!(bad.headers.get(header::SET_COOKIE).is_none());

    let ok = f
        .post(
            None,
            "/login",
            &[
                ("name", "agent"),
                ("password", PASSWORD),
                ("next", "/reports?since=7d"),
            ],
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/reports?since=7d");
    let set_cookie = ok.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for part in ["rapport_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "not behind TLS: {set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = |cookie: String| {
        Request::builder()
            .uri("/")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    let inbox = f.call(page(cookie.clone())).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("id=\"nav-inbox\""));
    assert!(inbox.body.contains("id=\"nav-reports\""));
    assert!(
        !inbox.body.contains("id=\"nav-settings\""),
        "settings are for leaders and admins"
    );
    let csrf = {
        let at = inbox.body.find("name=\"csrf\" value=\"").unwrap() + 19;
        inbox.body[at..at + inbox.body[at..].find('"').unwrap()].to_owned()
    };

    // Only paths on this site are followed after logging in.
    let away = f
        .post(
            None,
            "/login",
            &[
                ("name", "viewer"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
            None,
        )
        .await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.location(), "/");

    // Logging out needs the token too, then the cookie is worth nothing.
    let logout = |csrf: Option<&str>| {
        let body = csrf.map(|c| format!("csrf={c}")).unwrap_or_default();
        Request::builder()
            .method(Method::POST)
            .uri("/logout")
            .header(header::COOKIE, cookie.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(f.call(logout(None)).await.status, StatusCode::FORBIDDEN);
    let out = f.call(logout(Some(&csrf))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        f.call(page(cookie.clone())).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_locked_name_is_told_how_long_to_wait() {
    let f = fixture().await;
    for _ in 0..5 {
        let a = f
            .post(
                None,
                "/login",
                &[("name", "agent"), ("password", "guess")],
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = f
        .post(
            None,
            "/login",
            &[("name", "agent"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.get(header::RETRY_AFTER).is_some());
    assert!(a.body.contains("try again in"), "{}", a.body);
}

#[tokio::test]
async fn untrusted_text_is_escaped_and_every_page_carries_the_security_headers() {
    let f = fixture().await;
    let id = f
        .store
        .inbox(&InboxFilter {
            text: Some("alert(1)".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    f.store.note(id, SCRIPT, "agent", now()).await.unwrap();
    f.store.label(id, "<b>x</b>", "agent", now()).await.unwrap();
    let inbox = f.get(Some(Role::Agent), "/").await;
    let page = f
        .get(Some(Role::Agent), &format!("/conversations/{id}"))
        .await;
    for a in [&inbox, &page] {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(
            a.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}",
            a.body
        );
        assert!(!a.body.contains(SCRIPT), "{}", a.body);
        assert!(!a.body.contains("<b>x</b>"));
        assert_eq!(a.headers[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(a.headers[header::REFERRER_POLICY], "same-origin");
        assert!(
            a.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        // No inline script or style: the CSP would block them.
        assert!(!a.body.contains("<script>") && !a.body.contains("style="));
    }
    for (role, uri) in [
        (Some(Role::Admin), "/reports"),
        (Some(Role::Admin), "/people/1"),
        (Some(Role::Admin), "/settings"),
        (Some(Role::Viewer), "/search?q=lamp"),
        (None, "/login"),
    ] {
        let a = f.get(role, uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.headers[header::CONTENT_SECURITY_POLICY], CSP, "{uri}");
        assert!(!a.body.contains("style="), "{uri}");
    }
}

#[tokio::test]
async fn the_conversation_page_follows_the_dom_contract() {
    let f = fixture().await;
    let id = f
        .ids(InboxFilter {
            band: Some(Band::P1),
            ..Default::default()
        })
        .await[0];
    let detail = f.store.conversation(id).await.unwrap();
    let agent = f
        .get(Some(Role::Agent), &format!("/conversations/{id}"))
        .await;
    assert_eq!(agent.status, StatusCode::OK);
    for needle in [
        "<h1>bigvoice.bsky.social on bluesky</h1>".to_owned(),
        "<ol id=\"thread\">".into(),
        "class=\"message\" data-direction=\"inbound\"".into(),
        "<form id=\"reply\"".into(),
        "name=\"canned\"".into(),
        "<textarea id=\"reply-text\" name=\"text\"".into(),
        "class=\"inline-form\" id=\"assign\"".into(),
        "name=\"to\"".into(),
        "name=\"status\" value=\"resolved\"".into(),
        "name=\"status\" value=\"pending\"".into(),
        "name=\"status\" value=\"open\"".into(),
        "<form id=\"note\"".into(),
        "class=\"inline-form\" id=\"label\"".into(),
        "name=\"label\"".into(),
        "id=\"labels\"".into(),
        "<ol id=\"notes\"".into(),
        "<ol id=\"events\"".into(),
        "<section id=\"explain\"".into(),
        "complaints-to-care".into(),
        detail.messages[0].intent_rule.replace('"', "&quot;"),
        format!(
            "<a id=\"person\" href=\"/people/{}\"",
            detail.conversation.person_id.unwrap()
        ),
        "<main id=\"main\"".into(),
        "<form id=\"logout\"".into(),
    ] {
        assert!(agent.body.contains(&needle), "{needle} in {}", agent.body);
    }
    // A viewer reads, and is offered nothing to change.
    let viewer = f
        .get(Some(Role::Viewer), &format!("/conversations/{id}"))
        .await;
    assert_eq!(viewer.status, StatusCode::OK);
    for form in ["reply", "assign", "status", "note", "label"] {
        assert!(!viewer.body.contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(viewer.body.contains("<section id=\"explain\""));
    assert_eq!(
        f.get(Some(Role::Agent), "/conversations/99999")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.get(Some(Role::Agent), "/conversations/abc").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_reply_needs_the_csrf_token_and_a_role_that_may_reply() {
    let f = fixture().await;
    let id = f.ids(InboxFilter::default()).await[0];
    let uri = format!("/conversations/{id}/reply");
    let outbound = |f: &Fixture| {
        let store = f.store.clone();
        async move {
            store
                .conversation(id)
                .await
                .unwrap()
                .messages
                .iter()
                .filter(|m| m.direction == "outbound")
                .map(|m| m.text.clone())
                .collect::<Vec<_>>()
        }
    };
    let (_, agent_csrf) = f.session(Role::Agent);
    let (_, viewer_csrf) = f.session(Role::Viewer);
    let text = [("text", "Sorry about that, on it!")];

    let a = f.post(Some(Role::Agent), &uri, &text, None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body.contains("class=\"error\""));
    let a = f.post(Some(Role::Agent), &uri, &text, Some("forged")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Another user's token is not this session's.
    let a = f
        .post(Some(Role::Agent), &uri, &text, Some(viewer_csrf))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(outbound(&f).await.is_empty());

    let viewer = f
        .post(Some(Role::Viewer), &uri, &text, Some(viewer_csrf))
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN, "{}", viewer.body);
    assert!(outbound(&f).await.is_empty());

    let mut changes = f.state.subscribe();
    let a = f
        .post(Some(Role::Agent), &uri, &text, Some(agent_csrf))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), format!("/conversations/{id}"));
    assert_eq!(outbound(&f).await, vec!["Sorry about that, on it!"]);
    assert_eq!(changes.try_recv().unwrap(), id, "live pages are told");

    // An empty reply is refused beside the form.
    let a = f
        .post(Some(Role::Agent), &uri, &[("text", "  ")], Some(agent_csrf))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("class=\"error\""), "{}", a.body);
    assert_eq!(outbound(&f).await.len(), 1);
}

#[tokio::test]
async fn assign_status_notes_and_labels_go_through_the_store() {
    let f = fixture().await;
    let id = f.ids(InboxFilter::default()).await[0];
    let (_, csrf) = f.session(Role::Agent);
    let base = format!("/conversations/{id}");
    for (path, fields) in [
        ("assign", vec![("to", "mara")]),
        ("notes", vec![("text", "VIP customer")]),
        ("labels", vec![("label", "shipping")]),
        ("status", vec![("status", "resolved")]),
    ] {
        let uri = format!("{base}/{path}");
        let viewer_csrf = f.session(Role::Viewer).1;
        let v = f
            .post(Some(Role::Viewer), &uri, &fields, Some(viewer_csrf))
            .await;
        assert_eq!(v.status, StatusCode::FORBIDDEN, "{path}");
        let none = f.post(Some(Role::Agent), &uri, &fields, None).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "{path}");
        let a = f.post(Some(Role::Agent), &uri, &fields, Some(csrf)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}: {}", a.body);
        assert_eq!(a.location(), base);
    }
    let d = f.store.conversation(id).await.unwrap();
    assert_eq!(d.conversation.assignee.as_deref(), Some("mara"));
    assert_eq!(d.notes[0].text, "VIP customer");
    assert_eq!(d.labels, vec!["shipping"]);
    assert_eq!(d.conversation.status, "resolved");
    let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["assigned", "note", "labelled", "status"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Reopened: a new clock starts now, as through the API.
    let a = f
        .post(
            Some(Role::Agent),
            &format!("{base}/status"),
            &[("status", "open")],
            Some(csrf),
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let d = f.store.conversation(id).await.unwrap();
    assert_eq!(d.conversation.status, "open");
    assert!(d.conversation.due_at.unwrap() > now());
    let bad = f
        .post(
            Some(Role::Agent),
            &format!("{base}/status"),
            &[("status", "done")],
            Some(csrf),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn filters_narrow_the_inbox() {
    let f = fixture().await;
    let open = InboxFilter {
        status: Some(Status::Open),
        ..Default::default()
    };
    let all = f.get(Some(Role::Viewer), "/").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(row_ids(&all.body), f.ids(open.clone()).await);
    assert_eq!(row_ids(&all.body).len(), POSTS.len());
    for needle in [
        "<form id=\"filters\" method=\"get\"",
        "<select id=\"filter-team\" name=\"team\"",
        "<option value=\"unrouted\"",
        "<select id=\"filter-status\" name=\"status\"",
        "<select id=\"filter-priority\" name=\"priority\"",
        "<select id=\"filter-intent\" name=\"intent\"",
        "name=\"assignee\"",
        "name=\"q\"",
        "<table id=\"inbox\"",
        "class=\"open\" href=\"/conversations/",
        "class=\"badge priority",
        "class=\"badge sentiment",
        "class=\"sla",
        "data-due=\"2026-11-0",
        "id=\"live\"",
    ] {
        assert!(all.body.contains(needle), "{needle} in {}", all.body);
    }

    let p1 = f.get(Some(Role::Viewer), "/?priority=P1").await;
    let expected = f
        .ids(InboxFilter {
            band: Some(Band::P1),
            ..open.clone()
        })
        .await;
    assert!(!expected.is_empty(), "the fixture has a P1");
    assert_eq!(row_ids(&p1.body), expected);
    assert!(expected.len() < POSTS.len());

    let questions = f
        .get(Some(Role::Viewer), "/?intent=question&priority=any")
        .await;
    let expected = f
        .ids(InboxFilter {
            intent: Some(Intent::Question),
            ..open.clone()
        })
        .await;
    assert!(!expected.is_empty() && expected.len() < POSTS.len());
    assert_eq!(row_ids(&questions.body), expected);
    for id in &expected {
        assert_eq!(
            f.store.conversation(*id).await.unwrap().conversation.intent,
            "question"
        );
    }

    // Text, any case; or the author.
    for (q, post) in [("CANADA", 2), ("bigvoice", 1), ("dimmer", 4)] {
        let a = f
            .get(Some(Role::Viewer), &format!("/?q={q}&team=all&status=open"))
            .await;
        let ids = row_ids(&a.body);
        assert_eq!(ids.len(), 1, "{q}: {}", a.body);
        let c = f.store.conversation(ids[0]).await.unwrap().conversation;
        assert_eq!(c.author, POSTS[post].1, "{q}");
    }
    // LIKE's wildcards are only themselves.
    let percent = f.get(Some(Role::Viewer), "/?q=%25").await;
    let ids = row_ids(&percent.body);
    assert_eq!(ids.len(), 1, "{}", percent.body);
    assert_eq!(
        f.store
            .conversation(ids[0])
            .await
            .unwrap()
            .conversation
            .author,
        POSTS[6].1
    );
    let underscore = f.get(Some(Role::Viewer), "/?q=_").await;
    assert!(row_ids(&underscore.body).is_empty());
    assert!(underscore.body.contains("<p id=\"empty\""));

    let care = f.get(Some(Role::Viewer), "/?team=care").await;
    assert_eq!(
        sorted(row_ids(&care.body)),
        sorted(
            f.ids(InboxFilter {
                team: Some("care".into()),
                ..open.clone()
            })
            .await
        )
    );
    let bad = f.get(Some(Role::Viewer), "/?priority=P9").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("class=\"error\""));

    // The API takes the same filters.
    let (token, _) = f
        .store
        .create_token("viewer", "tests", now())
        .await
        .unwrap();
    let req = Request::builder()
        .uri("/api/v1/conversations?intent=question&q=canada")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let a = f.call(req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let json: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pages_follow_the_cursor() {
    let f = fixture().await;
    // More conversations than a page holds.
    let config = config();
    let more: Vec<Prepared> = (0..60)
        .map(|i| {
            let mut p = prepared(&config, 2);
            p.message.platform_id = format!("at://did:plc:more/app.bsky.feed.post/{i}");
            p.message.author = format!("more{i}.bsky.social");
            p
        })
        .collect();
    let mut ingestor = f.store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&more, &[]).await.unwrap();
    drop(ingestor);
    let mut seen = Vec::new();
    let mut uri = "/?status=open".to_owned();
    loop {
        let a = f.get(Some(Role::Viewer), &uri).await;
        assert_eq!(a.status, StatusCode::OK);
        seen.extend(row_ids(&a.body));
        match a.body.find("<a id=\"next-page\" href=\"") {
            Some(at) => {
                let start = at + "<a id=\"next-page\" href=\"".len();
                let end = start + a.body[start..].find('"').unwrap();
                uri = a.body[start..end].replace("&amp;", "&");
            }
            None => break,
        }
    }
    assert_eq!(
        seen,
        f.ids(InboxFilter {
            status: Some(Status::Open),
            ..Default::default()
        })
        .await
    );
    assert_eq!(seen.len(), POSTS.len() + 60);
}

#[tokio::test]
async fn reports_draw_four_charts_and_export_a_row_per_day() {
    let f = fixture().await;
    let a = f.get(Some(Role::Viewer), "/reports?since=7d").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body.matches("<svg").count(), 4, "{}", a.body);
    for needle in [
        "<form id=\"range\"",
        "<select id=\"range-since\" name=\"since\"",
        "<select id=\"range-team\" name=\"team\"",
        "<figure class=\"chart\" id=\"chart-volume\"",
        "<figure class=\"chart\" id=\"chart-frt\"",
        "<figure class=\"chart\" id=\"chart-sentiment\"",
        "<figure class=\"chart\" id=\"chart-sla\"",
        "role=\"img\"",
        "aria-label=\"",
        "<dl id=\"numbers\"",
        "id=\"csv\" href=\"/reports.csv?since=7d\"",
    ] {
        assert!(a.body.contains(needle), "{needle} in {}", a.body);
    }
    let csv = f.get(Some(Role::Viewer), "/reports.csv?since=7d").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "day,opened,responded,frt_median_s,frt_p90_s,net_sentiment"
    );
    assert_eq!(lines.len(), 1 + 7, "{}", csv.body);
    assert!(lines[1].starts_with("2026-10-28,"), "{}", csv.body);
    assert!(lines[7].starts_with("2026-11-03,"), "{}", csv.body);
    let posted_day = lines.iter().find(|l| l.starts_with("2026-11-02,")).unwrap();
    assert!(
        posted_day.starts_with(&format!("2026-11-02,{},0,,,", POSTS.len())),
        "{posted_day}"
    );
    let care = f
        .get(Some(Role::Viewer), "/reports.csv?since=30d&team=care")
        .await;
    assert_eq!(care.body.lines().count(), 1 + 30);
    assert!(
        care.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("care")
    );
    assert_eq!(
        f.get(Some(Role::Viewer), "/reports?since=5y").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        f.get(Some(Role::Viewer), "/reports?team=nope").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let all = f.get(Some(Role::Viewer), "/reports?since=all").await;
    assert_eq!(all.status, StatusCode::OK);
}

#[tokio::test]
async fn people_settings_and_assets() {
    let f = fixture().await;
    let person = f
        .store
        .conversation(1)
        .await
        .unwrap()
        .conversation
        .person_id
        .unwrap();
    let p = f
        .get(Some(Role::Viewer), &format!("/people/{person}"))
        .await;
    assert_eq!(p.status, StatusCode::OK);
    for needle in [
        "<ul id=\"identities\"",
        "<table id=\"timeline\"",
        "<table id=\"strength-terms\"",
        "<table id=\"ledger\"",
        "<ol id=\"person-timeline\"",
        "<svg id=\"sentiment-chart\"",
        "role=\"img\"",
    ] {
        assert!(p.body.contains(needle), "{needle} in {}", p.body);
    }
    assert_eq!(
        f.get(Some(Role::Viewer), "/people/99999").await.status,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        f.get(Some(Role::Agent), "/settings").await.status,
        StatusCode::FORBIDDEN
    );
    let leader = f.get(Some(Role::Leader), "/settings").await;
    assert_eq!(leader.status, StatusCode::OK);
    assert!(leader.body.contains("id=\"nav-settings\""));
    assert!(leader.body.contains("complaints-to-care"));
    assert!(leader.body.contains("mara"));
    assert!(
        !leader.body.contains("<table id=\"users\""),
        "users are for admins"
    );
    let admin = f.get(Some(Role::Admin), "/settings").await;
    assert!(admin.body.contains("<table id=\"users\""));

    for (uri, kind) in [
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
    ] {
        let a = f.get(None, uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(
            a.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(a.headers.get(header::CACHE_CONTROL).is_some(), "{uri}");
    }
    // Pages link the versioned assets, which may be kept for good.
    let inbox = f.get(Some(Role::Viewer), "/").await;
    let at = inbox.body.find("/assets/app.js?v=").unwrap();
    let end = at + inbox.body[at..].find('"').unwrap();
    let versioned = f.get(None, &inbox.body[at..end]).await;
    assert!(
        versioned.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

impl Fixture {
    /// Builds the search index from the store, as the server's follower does.
    async fn build_index(&self) {
        let mut indexer = self.index.indexer().unwrap().unwrap();
        indexer.catch_up(&self.store, |_| {}).await.unwrap();
    }

    /// (message id, conversation id) of the stored messages whose text contains `needle`.
    async fn messages_with(&self, needle: &str) -> Vec<(i64, i64)> {
        self.store
            .search_rows_after(0, 10_000)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.text.contains(needle))
            .map(|r| (r.id, r.conversation.unwrap()))
            .collect()
    }
}

/// The `data-id`s of a search page's hits, in order.
fn hit_ids(html: &str) -> Vec<i64> {
    html.split("<li class=\"hit\" data-id=\"")
        .skip(1)
        .map(|hit| hit[..hit.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn search_marks_the_words_and_links_each_hit_to_its_conversation() {
    let f = fixture().await;
    // Before the first build: nothing yet, and the page says why.
    let a = f.get(Some(Role::Viewer), "/search?q=lamp").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("id=\"indexing\""), "{}", a.body);
    assert!(a.body.contains("No message matches."), "{}", a.body);

    f.build_index().await;
    let a = f.get(Some(Role::Viewer), "/search?q=Lamp").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body.contains("id=\"indexing\""), "{}", a.body);
    assert!(
        a.body
            .contains("<a id=\"nav-search\" href=\"/search\" aria-current=\"page\">Search</a>"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("value=\"Lamp\""),
        "the query stays in the form"
    );
    assert!(a.body.contains("2 messages match."), "{}", a.body);
    let lamps = f.messages_with("lamp").await;
    assert_eq!(lamps.len(), 2);
    assert_eq!(
        sorted(hit_ids(&a.body)),
        sorted(lamps.iter().map(|(id, _)| *id).collect())
    );
    for (_, conversation) in &lamps {
        assert!(
            a.body
                .contains(&format!("href=\"/conversations/{conversation}\"")),
            "{}",
            a.body
        );
    }
    for needle in [
        "love the new <mark>lamp</mark>, great job",
        "I am 100% sure the <mark>lamp</mark> flickers",
        "fan.bsky.social",
        "bluesky",
        "<time datetime=\"2026-11-02T09:03:00Z\">",
        "badge sentiment positive",
    ] {
        assert!(a.body.contains(needle), "{needle} in {}", a.body);
    }

    // Untrusted text stays text, marked or not.
    let a = f.get(Some(Role::Viewer), "/search?q=script").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body
            .contains("&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;"),
        "{}",
        a.body
    );
    assert!(!a.body.contains(SCRIPT));

    // A phrase marks its words; the sort chosen stays chosen.
    let a = f
        .get(Some(Role::Viewer), "/search?q=%22great+job%22&sort=newest")
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("1 message matches."), "{}", a.body);
    assert!(
        a.body
            .contains("love the new lamp, <mark>great</mark> <mark>job</mark>"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("<option value=\"newest\" selected>"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_query_that_cannot_be_read_is_told_on_the_page() {
    let f = fixture().await;
    f.build_index().await;
    for (q, says, value) in [
        ("%22lamp", "this quote is not closed", "&quot;lamp"),
        ("(lamp+OR+dimmer", "this ( is not closed", "(lamp OR dimmer"),
        ("lamp+sentiment:angry", "sentiment", "lamp sentiment:angry"),
    ] {
        let a = f.get(Some(Role::Viewer), &format!("/search?q={q}")).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            a.body
        );
        assert!(a.body.contains("id=\"search-error\""), "{q}: {}", a.body);
        assert!(a.body.contains(says), "{q}: {}", a.body);
        assert!(
            a.body.contains(&format!("value=\"{value}\"")),
            "{q}: the query stays in the form to be fixed: {}",
            a.body
        );
        assert!(!a.body.contains("id=\"results\""), "{q}");
        assert!(a.body.contains("<details id=\"syntax\" open>"), "{q}");
    }
    let a = f
        .get(Some(Role::Viewer), "/search?q=lamp&sort=sideways")
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body.contains("Sort by relevance or newest."),
        "{}",
        a.body
    );
    // No query: the form and the syntax, no results.
    let a = f.get(Some(Role::Viewer), "/search").await;
    assert_eq!(a.status, StatusCode::OK);
    for needle in [
        "<form id=\"search\" method=\"get\" action=\"/search\"",
        "<details id=\"syntax\" open>",
        "author:",
        "sentiment:neg",
        "date:2026-11-01..2026-11-07",
        "since:7d",
        "&quot;battery drain&quot;",
        "-spam",
    ] {
        assert!(a.body.contains(needle), "{needle} in {}", a.body);
    }
    assert!(!a.body.contains("id=\"search-total\""));
    // A server without an index says how to get one.
    let state = AppState::with_options(f.store.clone(), config(), false, Some(now()));
    let response = rapport_server::app(state)
        .oneshot(
            Request::builder()
                .uri("/search?q=lamp")
                .header(
                    header::COOKIE,
                    format!("rapport_session={}", f.session(Role::Viewer).0),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(body.contains("id=\"search-error\""), "{body}");
    assert!(body.contains("rapport serve"), "{body}");
}

#[tokio::test]
async fn search_pages_go_next_and_back() {
    let f = fixture().await;
    let config = config();
    let batch: Vec<Prepared> = (0..25)
        .map(|n| {
            prepared_post(
                &config,
                POSTS.len() + n,
                &format!("widget report number {n}"),
                "bulk.bsky.social",
                1,
            )
        })
        .collect();
    let mut ingestor = f.store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
    drop(ingestor);
    f.build_index().await;
    let widgets: Vec<i64> = f
        .messages_with("widget")
        .await
        .iter()
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(widgets.len(), 25);

    let first = f
        .get(Some(Role::Viewer), "/search?q=widget&sort=newest")
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.body.contains("25 messages match. Showing 1–20."),
        "{}",
        first.body
    );
    assert!(
        first
            .body
            .contains("<a id=\"next-page\" href=\"/search?q=widget&amp;sort=newest&amp;page=2\""),
        "{}",
        first.body
    );
    assert!(!first.body.contains("id=\"previous-page\""));
    let second = f
        .get(Some(Role::Viewer), "/search?q=widget&sort=newest&page=2")
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert!(
        second.body.contains("25 messages match. Showing 21–25."),
        "{}",
        second.body
    );
    assert!(
        second
            .body
            .contains("<a id=\"previous-page\" href=\"/search?q=widget&amp;sort=newest\""),
        "{}",
        second.body
    );
    assert!(!second.body.contains("id=\"next-page\""));
    assert!(second.body.contains("<ol id=\"results\" start=\"21\">"));
    let mut seen = hit_ids(&first.body);
    assert_eq!(seen.len(), 20);
    seen.extend(hit_ids(&second.body));
    // Newest first: the batch was written a minute apart, in order.
    let newest: Vec<i64> = widgets.iter().rev().copied().collect();
    assert_eq!(seen, newest);
}

/// The configuration with a Bluesky channel and a principle that bans "guaranteed".
fn drafts_config() -> Config {
    let mut config = config();
    config.channels.push(
        serde_json::from_value(
            serde_json::json!({"name": "bsky", "kind": "bluesky", "account": "lumen.bsky.social"}),
        )
        .unwrap(),
    );
    let mut honest =
        rapport_core::principles::Principle::new("honest", "No promises we cannot keep.");
    honest.banned_phrases = vec!["guaranteed".into()];
    config.principles.push(honest);
    config
}

/// A key message by the agent moved through `statuses` (from `draft`); scheduled at `at`.
async fn seed_key_message(
    store: &Store,
    text: &str,
    statuses: &[&str],
    at: Option<DateTime<Utc>>,
) -> i64 {
    let id = store
        .create_draft(
            &rapport_store::NewDraft {
                author: "agent".into(),
                kind: "key_message".into(),
                text: text.into(),
                sponsored: false,
                conversation_id: None,
                targets: vec![("bsky".into(), None)],
            },
            now(),
        )
        .await
        .unwrap();
    let mut from = "draft";
    for &to in statuses {
        store
            .change_draft_status(
                id,
                &rapport_store::StatusChange {
                    from,
                    to,
                    event: "draft_seeded",
                    actor: "admin",
                    note: None,
                    scheduled_at: if to == "scheduled" { at } else { None },
                    data: serde_json::json!({}),
                },
                &[],
                now(),
            )
            .await
            .unwrap();
        from = to;
    }
    id
}

/// The part of `body` from the element with `id` to the next `</section>` (a day of the
/// calendar, which holds no other section).
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let at = body.find(&format!("id=\"{id}\"")).unwrap();
    let rest = &body[at..];
    let end = rest.find("</section>").unwrap();
    &rest[..end]
}

#[tokio::test]
async fn the_drafts_page_queues_what_to_approve_and_shows_the_week() {
    let mut f = fixture().await;
    f.app = rapport_server::app(AppState::with_options(
        f.store.clone(),
        drafts_config(),
        false,
        Some(now()),
    ));
    let pending = seed_key_message(
        &f.store,
        "Results guaranteed <b>now</b>",
        &["pending_approval"],
        None,
    )
    .await;
    let wednesday = Utc.with_ymd_and_hms(2026, 11, 25, 10, 30, 0).unwrap();
    let scheduled = seed_key_message(
        &f.store,
        "Our winter lamps are here",
        &["pending_approval", "approved", "scheduled"],
        Some(wednesday),
    )
    .await;

    // The leader's queue: the pending draft, its text escaped, the failed check marked.
    let page = f.get(Some(Role::Leader), "/drafts").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"nav-drafts\""));
    let queue = &page.body
        [page.body.find("id=\"queue\"").unwrap()..page.body.find("id=\"calendar\"").unwrap()];
    let item = &queue[queue.find(&format!("id=\"draft-{pending}\"")).unwrap()..];
    let item = &item[..item.find("</article>").unwrap()];
    assert!(item.contains("Results guaranteed &lt;b&gt;now&lt;/b&gt;"));
    assert!(
        item.contains("class=\"check failed\">✗ bsky: honest / banned_phrases"),
        "{item}"
    );
    assert!(item.contains("class=\"check passed\">✓ bsky: length"));
    assert!(item.contains(&format!("action=\"/drafts/{pending}/approve\"")));
    assert!(item.contains(&format!("action=\"/drafts/{pending}/reject\"")));
    assert!(item.contains(&format!("value=\"{}\"", f.session(Role::Leader).1)));
    assert!(!queue.contains(&format!("id=\"draft-{scheduled}\"")));
    // An agent may not approve key messages: nothing is queued for them.
    let agent = f.get(Some(Role::Agent), "/drafts").await;
    assert!(!agent.body.contains(&format!("id=\"draft-{pending}\"")));
    assert!(agent.body.contains("No draft waits for your approval."));

    // The calendar: the scheduled draft on its Wednesday, in its week only.
    let week = f.get(Some(Role::Viewer), "/drafts?week=2026-W48").await;
    assert_eq!(week.status, StatusCode::OK, "{}", week.body);
    let day = section(&week.body, "day-2026-11-25");
    assert!(
        day.contains(&format!("id=\"calendar-draft-{scheduled}\"")),
        "{day}"
    );
    assert!(day.contains("10:30") && day.contains("key_message") && day.contains("scheduled"));
    assert!(day.contains("Our winter lamps are here"));
    assert!(!section(&week.body, "day-2026-11-24").contains("calendar-draft-"));
    assert!(week.body.contains("href=\"/drafts?week=2026-W47\""));
    assert!(week.body.contains("href=\"/drafts?week=2026-W49\""));
    let by_day = f.get(Some(Role::Viewer), "/drafts?week=2026-11-29").await;
    assert!(
        by_day
            .body
            .contains(&format!("id=\"calendar-draft-{scheduled}\""))
    );
    for other in ["/drafts?week=2026-W49", "/drafts"] {
        let page = f.get(Some(Role::Viewer), other).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.body.contains(&format!("calendar-draft-{scheduled}")),
            "{other}"
        );
    }
    let bad = f.get(Some(Role::Viewer), "/drafts?week=someday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The forms: CSRF first, then the approver's role, then the move (once).
    let approve = format!("/drafts/{pending}/approve");
    let (_, leader_csrf) = f.session(Role::Leader);
    let (_, agent_csrf) = f.session(Role::Agent);
    let a = f.post(Some(Role::Leader), &approve, &[], None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = f
        .post(Some(Role::Agent), &approve, &[], Some(agent_csrf))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = f
        .post(Some(Role::Leader), &approve, &[], Some(leader_csrf))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/drafts");
    assert_eq!(f.store.draft(pending).await.unwrap().status, "approved");
    let a = f
        .post(Some(Role::Leader), &approve, &[], Some(leader_csrf))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let other = seed_key_message(&f.store, "Later", &["pending_approval"], None).await;
    let reject = format!("/drafts/{other}/reject");
    let r = f
        .post(
            Some(Role::Leader),
            &reject,
            &[("reason", "")],
            Some(leader_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = f
        .post(
            Some(Role::Leader),
            &reject,
            &[("reason", "too vague")],
            Some(leader_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let d = f.store.draft(other).await.unwrap();
    assert_eq!(
        (d.status.as_str(), d.decision_note.as_deref()),
        ("rejected", Some("too vague"))
    );
}

#[tokio::test]
async fn the_people_page_shows_ror_and_merges_go_through_forms() {
    let f = fixture().await;
    let page = f.get(Some(Role::Viewer), "/people").await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "id=\"ror\"",
        "id=\"advocates-heading\"",
        "id=\"risk-heading\"",
        "id=\"suggest-heading\"",
        "id=\"nav-people\"",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    let mut people = Vec::new();
    for id in f.ids(InboxFilter::default()).await {
        let p = f
            .store
            .conversation(id)
            .await
            .unwrap()
            .conversation
            .person_id
            .unwrap();
        if !people.contains(&p) {
            people.push(p);
        }
    }
    assert!(people.len() >= 2);
    let (keep, other) = (people[0].to_string(), people[1].to_string());
    let fields = [("keep", keep.as_str()), ("other", other.as_str())];
    let viewer = f
        .post(
            Some(Role::Viewer),
            "/people/merge",
            &fields,
            Some(f.session(Role::Viewer).1),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let no_token = f
        .post(Some(Role::Agent), "/people/merge", &fields, None)
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let done = f
        .post(
            Some(Role::Agent),
            "/people/merge",
            &fields,
            Some(f.session(Role::Agent).1),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let kept = f.get(Some(Role::Agent), &format!("/people/{keep}")).await;
    assert!(kept.body.contains("<ul id=\"merges\""), "{}", kept.body);
    assert!(kept.body.contains("/undo\""), "{}", kept.body);
    let merged = f.get(Some(Role::Agent), &format!("/people/{other}")).await;
    assert!(
        merged.body.contains("id=\"merged-into\""),
        "{}",
        merged.body
    );
    let merge = f.store.person_merges(people[0]).await.unwrap()[0].id;
    let undo = f
        .post(
            Some(Role::Agent),
            &format!("/people/merges/{merge}/undo"),
            &[],
            Some(f.session(Role::Agent).1),
        )
        .await;
    assert_eq!(undo.status, StatusCode::SEE_OTHER, "{}", undo.body);
    assert!(
        f.store.person_merges(people[0]).await.unwrap()[0]
            .undone_at
            .is_some()
    );
}

#[tokio::test]
async fn the_tribe_page_draws_who_talks_with_whom() {
    let f = fixture().await;
    // Three people answer one another: a community of three; the page and the API agree.
    let config = config();
    let mut batch = vec![
        prepared_post(
            &config,
            100,
            "anyone else's hub offline?",
            "a.bsky.social",
            10,
        ),
        prepared_post(
            &config,
            101,
            "@a.bsky.social same here",
            "b.bsky.social",
            10,
        ),
        prepared_post(&config, 102, "mine too, since 4.2", "c.bsky.social", 10),
    ];
    let root = batch[0].message.platform_id.clone();
    batch[1].message.in_reply_to = Some(root.clone());
    batch[2].message.in_reply_to = Some(root);
    let mut ingestor = f.store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
    drop(ingestor);

    let page = f.get(Some(Role::Viewer), "/tribe?days=7").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for needle in [
        "id=\"nav-tribe\" href=\"/tribe\" aria-current=\"page\"",
        "<svg id=\"tribe-svg\"",
        "role=\"img\"",
        "id=\"community-1\"",
        "href=\"/api/v1/tribe?days=7&amp;format=graphml\"",
        "href=\"/api/v1/tribe?days=7\"",
        "1 communities hold 3 people",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    assert_eq!(page.body.matches("<circle").count(), 3, "{}", page.body);
    assert!(page.body.contains("href=\"/people/"));
    assert_eq!(
        f.get(Some(Role::Viewer), "/tribe?days=0").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let api = f.get(Some(Role::Viewer), "/api/v1/tribe?days=7").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let s = &v["tribe"]["summary"];
    assert_eq!(s["communities"], 1, "{v:#}");
    assert_eq!(s["replies"], 2);
    assert_eq!(s["mentions"], 1);
    let xml = f
        .get(Some(Role::Viewer), "/api/v1/tribe?days=7&format=graphml")
        .await;
    assert_eq!(xml.status, StatusCode::OK);
    assert!(
        xml.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/graphml+xml")
    );
    assert_eq!(xml.body.matches("<node ").count(), 3, "{}", xml.body);
    assert_eq!(
        f.get(Some(Role::Viewer), "/api/v1/tribe?format=xml")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        f.get(None, "/api/v1/tribe").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_ideas_page_lists_items_by_status_and_its_form_drafts_the_replies() {
    let f = fixture().await;
    let config = config();
    let idea = prepared_post(
        &config,
        90,
        "It would be great if the lamp had a dimmer",
        "tinkerer.bsky.social",
        5,
    );
    assert_eq!(idea.triage.intent.intent, Intent::Idea);
    let mut ingestor = f.store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&[idea], &[]).await.unwrap();
    drop(ingestor);
    let list = f.get(Some(Role::Viewer), "/ideas").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("id=\"nav-ideas\""));
    assert!(list.body.contains("id=\"ideas-new\""), "{}", list.body);
    let items = f.store.idea_items(None).await.unwrap();
    assert_eq!(items.len(), 1, "the one idea of the fixture: {items:?}");
    let id = items[0].id;
    assert!(list.body.contains(&format!("href=\"/ideas/{id}\"")));
    assert!(
        list.body
            .contains("It would be great if the lamp had a dimmer")
    );

    let page = f.get(Some(Role::Viewer), &format!("/ideas/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let detail = f.store.idea_item(id).await.unwrap();
    let person = &detail.people_list[0];
    assert!(
        page.body
            .contains(&format!("href=\"/people/{}\"", person.person_id))
    );
    assert!(page.body.contains(&format!(
        "href=\"/conversations/{}\"",
        person.conversation_id.unwrap()
    )));
    // A viewer sees no form; an agent does.
    assert!(!page.body.contains("idea-status-form"));
    let agent_page = f.get(Some(Role::Agent), &format!("/ideas/{id}")).await;
    assert!(agent_page.body.contains("idea-status-form"));

    let action = format!("/ideas/{id}/status");
    let fields = [("status", "shipped"), ("from", "new")];
    let (_, viewer_csrf) = f.session(Role::Viewer);
    let (_, agent_csrf) = f.session(Role::Agent);
    let r = f.post(Some(Role::Agent), &action, &fields, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    let r = f
        .post(Some(Role::Viewer), &action, &fields, Some(viewer_csrf))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = f
        .post(Some(Role::Agent), &action, &fields, Some(agent_csrf))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/ideas/{id}"));
    let detail = f.store.idea_item(id).await.unwrap();
    assert_eq!(detail.item.status, "shipped");
    assert_eq!(detail.replies.len(), 1, "one reply for the one person");
    let drafts = f.store.drafts(None, 10).await.unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].kind, "reply");
    assert_eq!(drafts[0].conversation_id, person.conversation_id);
    // The status changed meanwhile: refused, nothing drafted again.
    let r = f
        .post(Some(Role::Agent), &action, &fields, Some(agent_csrf))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(f.store.drafts(None, 10).await.unwrap().len(), 1);
}
