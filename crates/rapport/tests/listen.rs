//! `rapport listen` and `rapport reply` against fake Bluesky, Mastodon and feed servers
//! that speak the real wire formats (see `fakes/`): every message lands once, a restart
//! — even after SIGKILL — resumes from the stored cursor, faults are waited out, and a
//! reply reaches the platform exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod fakes;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use fakes::bluesky::{self as bsky, BlueskyConfig, FakeBluesky};
use fakes::feed::{self, FakeFeed};
use fakes::mastodon::{self as masto, FakeMastodon, MastodonConfig};
use rapport_connectors::bluesky::convert::{JetstreamOutcome, Listen, from_jetstream_line};
use rapport_store::Store;
use serde_json::{Value, json};
use tempfile::TempDir;

const BSKY_PASSWORD_ENV: &str = "RAPPORT_TEST_BSKY_PASSWORD";
const MASTO_TOKEN_ENV: &str = "RAPPORT_TEST_MASTO_TOKEN";
const HOOK_SECRET_ENV: &str = "RAPPORT_TEST_HOOK_SECRET";
const HOOK_SECRET: &str = "a-test-secret-for-the-webhook";

/// A data directory with a store and channels.
struct Data {
    dir: TempDir,
}

impl Data {
    async fn new(channels: &str) -> Data {
        let data = Data {
            dir: TempDir::new().unwrap(),
        };
        let out = data.cmd().arg("init").output().await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = data.path().join("rapport.toml");
        let mut config = std::fs::read_to_string(&path).unwrap();
        config.push('\n');
        config.push_str(channels);
        std::fs::write(&path, config).unwrap();
        data
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env_remove("RAPPORT_NOW")
            .env("RAPPORT_LOG", "info")
            .env(BSKY_PASSWORD_ENV, bsky::APP_PASSWORD)
            .env(MASTO_TOKEN_ENV, masto::TOKEN)
            .env(HOOK_SECRET_ENV, HOOK_SECRET)
            .arg("--data-dir")
            .arg(self.path())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// `rapport listen --exit-after-idle SECS`, to the end.
    async fn listen(&self, idle: f64) -> Output {
        let log = self.dir.path().join("listen.log");
        let child = self
            .cmd()
            .args(["listen", "--exit-after-idle", &idle.to_string()])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        match tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await {
            Ok(out) => {
                let mut out = out.unwrap();
                out.stderr = std::fs::read(&log).unwrap_or_default();
                out
            }
            Err(_) => panic!(
                "rapport listen did not stop; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        }
    }

    async fn store(&self) -> Store {
        Store::open(&self.path()).await.unwrap()
    }

    /// (platform, platform id) of every stored message.
    async fn messages(&self) -> Vec<(String, String)> {
        let store = self.store().await;
        let dump = store.message_dump().await.unwrap();
        store.close().await;
        dump.into_iter().map(|(p, id, _, _)| (p, id)).collect()
    }

    /// Every conversation, whatever its status.
    async fn conversations(&self) -> Vec<rapport_store::ConversationRow> {
        let store = self.store().await;
        let rows = store
            .inbox(&rapport_store::InboxFilter {
                status: None,
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        store.close().await;
        rows
    }

    async fn cursor(&self, source: &str) -> Option<String> {
        let store = self.store().await;
        let c = store.channel_cursor(source).await.unwrap();
        store.close().await;
        c
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// The platform ids in `messages` on `platform`, checked to hold no id twice.
fn ids(messages: &[(String, String)], platform: &str) -> BTreeSet<String> {
    let list: Vec<&String> = messages
        .iter()
        .filter(|(p, _)| p == platform)
        .map(|(_, id)| id)
        .collect();
    let set: BTreeSet<String> = list.iter().map(|s| (*s).clone()).collect();
    assert_eq!(set.len(), list.len(), "a message stored twice");
    set
}

// ---------------------------------------------------------------------------------------
// Bluesky

fn bluesky_channel(fake: &FakeBluesky, extra: &str) -> String {
    format!(
        r#"
[[channel]]
name = "bsky"
kind = "bluesky"
account = "{handle}"
listen = ["mentions", "replies"]
jetstream_url = "{jetstream}"
service = "{service}"
appview = "{service}"
credentials_env = "{BSKY_PASSWORD_ENV}"
poll_seconds = 1
timeout_seconds = 2
{extra}
"#,
        handle = bsky::ORG_HANDLE,
        jetstream = fake.jetstream_url(),
        service = fake.service_url(),
    )
}

fn listen_of_org() -> Listen {
    Listen {
        org_did: bsky::ORG_DID.into(),
        org_handle: bsky::ORG_HANDLE.into(),
        mentions: true,
        replies: true,
        topics: Vec::new(),
        all: false,
    }
}

/// The AT URIs of the events a mentions+replies channel keeps.
fn kept_uris(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| match from_jetstream_line(l, &listen_of_org()) {
            Ok(JetstreamOutcome::Keep(k)) => Some(k.message.platform_id),
            _ => None,
        })
        .collect()
}

/// The AT URIs of the fixture notifications that are posts (mentions, replies, quotes).
fn notification_uris(notifications: &[Value]) -> BTreeSet<String> {
    notifications
        .iter()
        .filter(|n| matches!(n["reason"].as_str(), Some("mention" | "reply" | "quote")))
        .map(|n| n["uri"].as_str().unwrap().to_owned())
        .collect()
}

/// `n` posts mentioning the organisation, by ten authors, one every 10 ms of `time_us`.
fn mention_events(n: usize, start_us: i64) -> (Vec<String>, Vec<Value>) {
    let authors: Vec<(String, String)> = (0..10)
        .map(|i| {
            (
                format!("did:plc:author{i:02}aaaaaaaaaaaaaaaaaaa"),
                format!("author{i}.bsky.social"),
            )
        })
        .collect();
    let profiles = authors
        .iter()
        .enumerate()
        .map(|(i, (did, handle))| {
            bsky::profile(did, handle, &format!("Author {i}"), 100 * i as u64)
        })
        .collect();
    let events = (0..n)
        .map(|i| {
            let (did, _) = &authors[i % authors.len()];
            let time_us = start_us + i as i64 * 10_000;
            let rkey = format!("3mgen{i:08}");
            json!({
                "did": did,
                "time_us": time_us,
                "kind": "commit",
                "commit": {
                    "rev": rkey, "operation": "create", "collection": "app.bsky.feed.post",
                    "rkey": rkey, "cid": format!("bafyreigenerated{i:08}"),
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "createdAt": "2026-02-25T11:00:00.000Z",
                        "text": format!("@{} order {i} has not arrived, please help", bsky::ORG_HANDLE)
                    }
                }
            })
            .to_string()
        })
        .collect();
    (events, profiles)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_lands_every_post_once_and_resumes_after_sigkill() {
    let (generated, profiles) = mention_events(400, 1_772_020_000_000_000);
    let mut config = BlueskyConfig::default().with_fixtures();
    let fixture_events = config.events.clone();
    config.events.extend(generated.iter().cloned());
    config.profiles.extend(profiles);
    config.pace = Duration::from_millis(4);
    let notifications = config.notifications.clone();
    let fake = FakeBluesky::start(config).await;
    let data = Data::new(&bluesky_channel(&fake, "")).await;

    // Kill it with SIGKILL while the stream is being read.
    let mut child = data
        .cmd()
        .args(["listen"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stored = ids(&data.messages().await, "bluesky").len();
        if stored >= 60 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing stored in time ({stored})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let after_kill = ids(&data.messages().await, "bluesky").len();
    let cursor = data
        .cursor("bsky/jetstream")
        .await
        .expect("a stored cursor");
    assert!(after_kill < 400, "the kill came too late to test a resume");

    fake.set_pace(Duration::ZERO);
    let out = data.listen(2.0).await;
    assert_ok(&out);

    // Resumed from the stored cursor, not from the start.
    let queries = fake.subscribe_queries();
    let last = queries.last().unwrap();
    assert!(
        last.contains(&format!("cursor={cursor}")),
        "resubscribed with {last}, stored cursor {cursor}"
    );
    assert!(
        last.contains("wantedCollections=app.bsky.feed.post"),
        "{last}"
    );

    // Every post the channel listens to, from the stream and the notifications, once.
    let mut expected = kept_uris(&fixture_events);
    expected.extend(kept_uris(&generated));
    expected.extend(notification_uris(&notifications));
    let stored = ids(&data.messages().await, "bluesky");
    assert_eq!(stored, expected);

    // Authors are known by handle, with their reach, looked up once each.
    let store = data.store().await;
    let inbox = store
        .inbox(&rapport_store::InboxFilter {
            status: None,
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(inbox.iter().any(|c| c.author == "author3.bsky.social"));
    for (actor, calls) in fake.profile_lookups() {
        assert!(calls <= 2, "{actor} looked up {calls} times");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_dropped_socket_and_malformed_event_lose_nothing() {
    let (mut events, profiles) = mention_events(30, 1_772_030_000_000_000);
    // A line that is not JSON, in the middle of the stream.
    events.insert(12, "{\"did\":\"did:plc:broken\",\"time_us\":".to_owned());
    let config = BlueskyConfig {
        events: events.clone(),
        profiles,
        ..BlueskyConfig::default()
    };
    let fake = FakeBluesky::start(config).await;
    fake.drop_after(20);
    let data = Data::new(&bluesky_channel(&fake, "")).await;

    let out = data.listen(2.0).await;
    assert_ok(&out);
    assert!(fake.subscribe_queries().len() >= 2, "no reconnection");
    assert!(
        fake.subscribe_queries()[1].contains("cursor="),
        "{:?}",
        fake.subscribe_queries()
    );
    let stored = ids(&data.messages().await, "bluesky");
    assert_eq!(stored, kept_uris(&events));
    assert_eq!(stored.len(), 30);

    let store = data.store().await;
    let quarantined = store.quarantine(10).await.unwrap();
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(quarantined[0].source, "bsky/jetstream");
    assert!(quarantined[0].reason.contains("malformed Jetstream event"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_notifications_survive_a_500_and_an_expired_token() {
    let config = BlueskyConfig::default().with_fixtures();
    let notifications = config.notifications.clone();
    let fake = FakeBluesky::start(BlueskyConfig {
        events: Vec::new(),
        ..config
    })
    .await;
    let path = "/xrpc/app.bsky.notification.listNotifications";
    fake.fail_next(path, 500, &[]);
    let data = Data::new(&bluesky_channel(&fake, "")).await;
    let out = data.listen(2.5).await;
    assert_ok(&out);
    let requests = fake.requests_to(path);
    assert!(requests[0].fault.is_some());
    assert!(requests.len() >= 2);
    assert_eq!(
        ids(&data.messages().await, "bluesky"),
        notification_uris(&notifications)
    );
    assert!(data.cursor("bsky/notifications").await.is_some());

    // A new mention after the token expired: refreshed, read, stored once.
    fake.expire_access_token();
    let author = bsky::profile(
        "did:plc:lateauthoraaaaaaaaaaaaaa",
        "late.bsky.social",
        "Late",
        5,
    );
    let uri = "at://did:plc:lateauthoraaaaaaaaaaaaaa/app.bsky.feed.post/3mlate0000001";
    fake.push_notification(bsky::notification(
        &author,
        "mention",
        uri,
        json!({"$type": "app.bsky.feed.post", "createdAt": "2026-02-26T09:00:00.000Z",
               "text": format!("@{} is the shop open today?", bsky::ORG_HANDLE)}),
        "2026-02-26T09:00:01.000Z",
    ));
    let out = data.listen(2.5).await;
    assert_ok(&out);
    let stored = ids(&data.messages().await, "bluesky");
    assert!(stored.contains(uri));
    assert_eq!(stored.len(), notification_uris(&notifications).len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_reaches_bluesky_once_with_its_thread_refs_even_after_a_timeout() {
    let fake = FakeBluesky::start(BlueskyConfig::default().with_fixtures()).await;
    let data = Data::new(&bluesky_channel(&fake, "")).await;
    assert_ok(&data.listen(2.0).await);

    // A conversation opened by a reply in someone else's thread: the answer's root is
    // that thread's root, its parent the post itself.
    let inbox = data.conversations().await;
    let store = data.store().await;
    let conv = inbox.iter().find(|c| c.platform == "bluesky").unwrap().id;
    let target = store.reply_target(conv).await.unwrap().unwrap();
    let reply_ref: Value = serde_json::from_str(target.reply_ref.as_deref().unwrap()).unwrap();
    store.close().await;

    // The first attempt reaches the PDS but its answer comes too late.
    fake.delay_next(
        "/xrpc/com.atproto.repo.createRecord",
        Duration::from_secs(4),
    );
    let out = data
        .cmd()
        .args([
            "reply",
            &conv.to_string(),
            "Sorry about that! We are on it.",
        ])
        .output()
        .await
        .unwrap();
    assert_ok(&out);

    let created = fake.created_records();
    assert_eq!(created.len(), 1, "posted {} times", created.len());
    let body = &created[0];
    assert_eq!(body["repo"], bsky::ORG_DID);
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(body["record"]["text"], "Sorry about that! We are on it.");
    assert_eq!(body["record"]["reply"]["parent"]["uri"], reply_ref["uri"]);
    assert_eq!(body["record"]["reply"]["parent"]["cid"], reply_ref["cid"]);
    assert_eq!(
        body["record"]["reply"]["root"]["uri"],
        reply_ref["root_uri"]
    );
    assert_eq!(
        body["record"]["reply"]["root"]["cid"],
        reply_ref["root_cid"]
    );
    // The retry looked for the record before posting again.
    assert!(
        !fake
            .requests_to("/xrpc/com.atproto.repo.getRecord")
            .is_empty(),
        "the retry did not look for the record first"
    );

    // The outbound message took the post's AT URI; nothing waits in the outbox.
    let rkey = body["rkey"].as_str().unwrap();
    let uri = format!("at://{}/app.bsky.feed.post/{rkey}", bsky::ORG_DID);
    assert!(ids(&data.messages().await, "bluesky").contains(&uri));
    let store = data.store().await;
    assert!(store.pending_outbox(None).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Mastodon

fn mastodon_channel(fake: &FakeMastodon, poll_seconds: u64) -> String {
    format!(
        r#"
[[channel]]
name = "masto"
kind = "mastodon"
account = "{user}@{domain}"
instance = "{url}"
credentials_env = "{MASTO_TOKEN_ENV}"
poll_seconds = {poll_seconds}
timeout_seconds = 1
"#,
        user = masto::ORG_USERNAME,
        domain = masto::DOMAIN,
        url = fake.url(),
    )
}

/// A mention notification with id `id` from `user@elsewhere.example`.
fn mention(id: u64, user: &str, text: &str) -> Value {
    let status_id = id + 5_000_000;
    json!({
        "id": id.to_string(),
        "type": "mention",
        "created_at": "2026-03-14T11:00:00.000Z",
        "account": {"id": format!("{}", 900_000 + id), "username": user, "acct": format!("{user}@elsewhere.example"),
                     "display_name": user, "followers_count": 12, "bot": false,
                     "url": format!("https://elsewhere.example/@{user}")},
        "status": {
            "id": status_id.to_string(),
            "created_at": "2026-03-14T11:00:00.000Z",
            "in_reply_to_id": null, "in_reply_to_account_id": null, "sensitive": false,
            "spoiler_text": "", "visibility": "public", "language": "en",
            "uri": format!("https://elsewhere.example/users/{user}/statuses/{status_id}"),
            "url": format!("https://elsewhere.example/@{user}/{status_id}"),
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
            "content": format!("<p><span class=\"h-card\"><a href=\"https://{d}/@{o}\" class=\"u-url mention\">@<span>{o}</span></a></span> {text}</p>", d = masto::DOMAIN, o = masto::ORG_USERNAME),
            "account": {"id": format!("{}", 900_000 + id), "username": user, "acct": format!("{user}@elsewhere.example"),
                        "display_name": user, "followers_count": 12, "bot": false,
                        "url": format!("https://elsewhere.example/@{user}")},
            "mentions": [{"id": masto::ORG_ID, "username": masto::ORG_USERNAME, "acct": masto::ORG_USERNAME,
                          "url": format!("https://{}/@{}", masto::DOMAIN, masto::ORG_USERNAME)}],
            "tags": [], "emojis": [], "media_attachments": []
        }
    })
}

fn status_ids(notifications: &[Value]) -> BTreeSet<String> {
    notifications
        .iter()
        .filter(|n| n["type"] == "mention" && n["status"]["reblog"].is_null())
        .map(|n| n["status"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_catches_up_page_by_page_and_resumes_after_sigkill() {
    let notifications: Vec<Value> = (1..=300)
        .map(|i| {
            mention(
                110_000_000_000_000_000 + i,
                &format!("user{}", i % 17),
                &format!("where is order {i}?"),
            )
        })
        .collect();
    let fake = FakeMastodon::start(MastodonConfig {
        notifications: notifications.clone(),
        ..MastodonConfig::default()
    })
    .await;
    let data = Data::new(&mastodon_channel(&fake, 1)).await;
    let path = "/api/v1/notifications";
    // Slow pages, so the kill lands in the middle.
    let mut child = data
        .cmd()
        .arg("listen")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if data.cursor("masto/notifications").await.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "no page stored in time");
        fake.delay_next(path, Duration::from_millis(300));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let cursor = data.cursor("masto/notifications").await.unwrap();
    let before = fake.requests_to(path).len();

    let out = data.listen(2.0).await;
    assert_ok(&out);
    let resumed = &fake.requests_to(path)[before];
    assert!(
        resumed.query.contains(&format!("min_id={cursor}")),
        "resumed with {}, cursor {cursor}",
        resumed.query
    );
    assert!(
        resumed.query.contains("types%5B%5D=mention") || resumed.query.contains("types[]=mention")
    );
    assert_eq!(
        ids(&data.messages().await, "mastodon"),
        status_ids(&notifications)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_streams_new_mentions_and_catches_up_after_a_drop_and_a_429() {
    let fake = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let fixture = masto::fixture_notifications();
    let path = "/api/v1/notifications";
    // The first poll is rate limited; the first stream drops after one event.
    fake.fail_next(path, 429, &[("Retry-After", "1")]);
    fake.drop_stream_after(1);
    let data = Data::new(&mastodon_channel(&fake, 30)).await;
    let log = data.dir.path().join("stream.log");
    let child = data
        .cmd()
        .args(["listen", "--exit-after-idle", "3"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let wait_for_stream = |n: usize| {
        let fake = fake.clone();
        let log = log.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while fake.live_streams() == 0 || fake.stream_connections().len() < n {
                assert!(
                    Instant::now() < deadline,
                    "stream {n} not opened: {}",
                    std::fs::read_to_string(&log).unwrap()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for_stream(1).await;
    let polls = fake.requests_to(path);
    assert!(polls[0].fault.is_some(), "the first poll was not the 429");
    let waited = polls[1].at - polls[0].at;
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After not honoured: {waited:?}"
    );

    let live: Vec<Value> = (1..=3)
        .map(|i| {
            mention(
                120_000_000_000_000_000 + i,
                "streamer",
                &format!("live {i}"),
            )
        })
        .collect();
    fake.push_notification(live[0].clone());
    // The stream drops after that event; rapport catches up and streams again.
    wait_for_stream(2).await;
    fake.push_notification(live[1].clone());
    fake.push_notification(live[2].clone());
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_ok(&out);

    let mut expected = status_ids(&fixture);
    expected.extend(status_ids(&live));
    assert_eq!(ids(&data.messages().await, "mastodon"), expected);
    // The status's HTML is kept beside its text.
    let store = data.store().await;
    let conv = store
        .inbox(&rapport_store::InboxFilter {
            status: None,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    let detail = store.conversation(conv).await.unwrap();
    let html = detail.messages[0].html.as_deref().unwrap();
    assert!(html.starts_with("<p>"), "{html}");
    assert!(!detail.messages[0].text.contains('<'));
    store.close().await;
    assert_eq!(
        fake.stream_connections()[0].path,
        "/api/v1/streaming/user/notification"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_reaches_mastodon_once_with_its_idempotency_key() {
    let fake = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let data = Data::new(&mastodon_channel(&fake, 1)).await;
    assert_ok(&data.listen(1.5).await);
    let inbox = data.conversations().await;
    let store = data.store().await;
    let conv = inbox.iter().find(|c| c.platform == "mastodon").unwrap();
    let target = store.reply_target(conv.id).await.unwrap().unwrap();
    store.close().await;

    // The first attempt is answered after the client gave up (timeout 1 s).
    fake.delay_next("/api/v1/statuses", Duration::from_secs(3));
    let out = data
        .cmd()
        .args([
            "reply",
            &conv.id.to_string(),
            "Thanks for telling us, we will look into it.",
        ])
        .output()
        .await
        .unwrap();
    assert_ok(&out);
    let posts = fake.requests_to("/api/v1/statuses");
    assert!(posts.len() >= 2, "the timed-out request was not retried");
    let key = posts[0].header("idempotency-key").unwrap().to_owned();
    assert!(
        posts
            .iter()
            .all(|p| p.header("idempotency-key") == Some(key.as_str()))
    );
    let created = fake.created_statuses();
    assert_eq!(created.len(), 1, "posted {} times", created.len());
    assert_eq!(created[0]["in_reply_to_id"], json!(target.platform_id));
    let body = posts[0].json().unwrap();
    assert_eq!(body["in_reply_to_id"], json!(target.platform_id));
    let text = body["status"].as_str().unwrap();
    assert!(text.starts_with(&format!("@{} ", target.author)), "{text}");
    assert!(ids(&data.messages().await, "mastodon").contains(created[0]["id"].as_str().unwrap()));
}

// ---------------------------------------------------------------------------------------
// Feeds and webhooks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_is_read_once_and_polled_with_its_validators() {
    let fake = FakeFeed::start(feed::fixture_rss(), "application/rss+xml").await;
    let channel = format!(
        "[[channel]]\nname = \"blog\"\nkind = \"rss\"\nfeed_url = \"{}\"\npoll_seconds = 1\n",
        fake.feed_url()
    );
    let data = Data::new(&channel).await;
    assert_ok(&data.listen(2.5).await);
    let first = ids(&data.messages().await, "rss");
    assert!(!first.is_empty());
    assert!(fake.not_modified() >= 1, "polls were not conditional");
    let cursor: Value = serde_json::from_str(&data.cursor("blog/feed").await.unwrap()).unwrap();
    assert_eq!(cursor["etag"], json!(fake.etag()));

    // Restarted: the first request is conditional and nothing is stored twice.
    let hits = fake.hits();
    assert_ok(&data.listen(1.5).await);
    assert!(fake.requests()[hits].header("if-none-match").is_some());
    assert_eq!(ids(&data.messages().await, "rss"), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_refuses_a_bad_signature_and_stores_a_good_one() {
    let channel = format!(
        "[[channel]]\nname = \"helpdesk\"\nkind = \"webhook\"\ncredentials_env = \"{HOOK_SECRET_ENV}\"\n"
    );
    let data = Data::new(&channel).await;
    let mut child = data
        .cmd()
        .args(["listen", "--exit-after-idle", "2", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The address is in the log.
    let stderr = child.stderr.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("no webhook address logged");
        if let Some(at) = line.find("http://") {
            break line[at..].trim().to_owned();
        }
    };
    assert!(url.ends_with("/api/v1/ingest/helpdesk"), "{url}");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let body = br#"[{"id": "t-1", "author": "jane", "text": "My order arrived broken"},
                   {"id": "t-2", "author": "joe", "text": ""}]"#;
    rapport_connectors::net::ensure_crypto();
    let client = reqwest::Client::new();
    let bad = client
        .post(&url)
        .header(
            "X-Rapport-Signature",
            rapport_connectors::webhook::sign(b"wrong secret", body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"], "bad_signature");

    let good = client
        .post(&url)
        .header(
            "X-Rapport-Signature",
            rapport_connectors::webhook::sign(HOOK_SECRET.as_bytes(), body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 202);
    let good: Value = good.json().await.unwrap();
    assert_eq!(good["accepted"], 1);
    assert_eq!(good["rejected"], 1);
    assert_eq!(good["errors"][0]["field"], "text");

    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    let stored = data.messages().await;
    assert_eq!(stored, vec![("helpdesk".to_owned(), "t-1".to_owned())]);
    // The bad item is kept, as sent, with the reason.
    let store = data.store().await;
    let quarantined = store.quarantine(10).await.unwrap();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].source, "helpdesk/webhook");
    assert!(
        quarantined[0].raw.contains("\"t-2\""),
        "{}",
        quarantined[0].raw
    );
    assert!(
        quarantined[0].reason.contains("text"),
        "{}",
        quarantined[0].reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_channel_does_not_stop_the_others() {
    let fake = FakeFeed::start(feed::fixture_atom(), "application/atom+xml").await;
    let channels = format!(
        "[[channel]]\nname = \"blog\"\nkind = \"rss\"\nfeed_url = \"{}\"\npoll_seconds = 1\n\n\
         [[channel]]\nname = \"masto\"\nkind = \"mastodon\"\naccount = \"x@social.example\"\n\
         instance = \"{}\"\ncredentials_env = \"RAPPORT_TEST_UNSET_TOKEN\"\n",
        fake.feed_url(),
        fake.url(),
    );
    let data = Data::new(&channels).await;
    let out = data.listen(1.5).await;
    // The Mastodon channel cannot start (no token): it is reported, the feed is read.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("RAPPORT_TEST_UNSET_TOKEN"),
        "{}",
        stderr(&out)
    );
    assert!(!ids(&data.messages().await, "rss").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_cannot_go_out_stays_queued_and_is_sent_once_later() {
    let fake = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let data = Data::new(&mastodon_channel(&fake, 1)).await;
    assert_ok(&data.listen(1.5).await);
    let inbox = data.conversations().await;
    let store = data.store().await;
    let convs: Vec<i64> = inbox
        .iter()
        .filter(|c| c.platform == "mastodon")
        .map(|c| c.id)
        .collect();
    store.close().await;

    // No token in the environment: recorded, not sent, queued.
    let out = data
        .cmd()
        .env_remove(MASTO_TOKEN_ENV)
        .args(["reply", &convs[0].to_string(), "We are looking into it."])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not sent yet"), "{}", stderr(&out));
    assert!(fake.created_statuses().is_empty());
    let listed = data
        .cmd()
        .args(["outbox", "--json"])
        .output()
        .await
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let show = data
        .cmd()
        .args(["show", &convs[0].to_string()])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&show.stdout).contains("not sent yet through masto"));

    // The platform refuses another reply outright: failed, not retried.
    fake.fail_next("/api/v1/statuses", 422, &[]);
    let out = data
        .cmd()
        .args(["reply", &convs[1].to_string(), "Thanks!"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));

    // With the token back, the queued reply goes out once; the refused one does not.
    let out = data
        .cmd()
        .args(["outbox", "--send"])
        .output()
        .await
        .unwrap();
    assert_ok(&out);
    let again = data
        .cmd()
        .args(["outbox", "--send"])
        .output()
        .await
        .unwrap();
    assert_ok(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing waits"));
    let created = fake.created_statuses();
    assert_eq!(created.len(), 1, "{created:?}");
    assert!(
        created[0]["content"]
            .as_str()
            .unwrap()
            .contains("We are looking into it.")
    );
    let show = data
        .cmd()
        .args(["show", &convs[0].to_string()])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&show.stdout).contains("(sent through masto)"));
}

/// A worker killed (SIGKILL) while its outbox duty waits for the platform's answer: the
/// worker that comes back sends the reply again with the same idempotency key, and the
/// platform has it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_while_sending_a_reply_sends_it_once_after_restart() {
    let fake = FakeMastodon::start(MastodonConfig::default().with_fixtures()).await;
    let data = Data::new(&mastodon_channel(&fake, 1)).await;
    assert_ok(&data.listen(1.5).await);
    let conv = data
        .conversations()
        .await
        .into_iter()
        .find(|c| c.platform == "mastodon")
        .unwrap();
    // Queued, not sent: no token in this command's environment.
    let out = data
        .cmd()
        .env_remove(MASTO_TOKEN_ENV)
        .args([
            "reply",
            &conv.id.to_string(),
            "Sorry, a new one is on its way.",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(fake.requests_to("/api/v1/statuses").is_empty());

    // The platform takes the post but answers late; the worker dies while it waits.
    fake.delay_next("/api/v1/statuses", Duration::from_secs(20));
    let worker = |idle: &str| {
        let mut c = data.cmd();
        c.args(["worker", "--name", "w1", "--outbox-settle-seconds", "0"])
            .args(["--exit-when-idle", idle])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    let mut first = worker("60").spawn().unwrap();
    let start = std::time::Instant::now();
    while fake.requests_to("/api/v1/statuses").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the worker never sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await.unwrap();
    assert_eq!(fake.created_statuses().len(), 1);

    // The same worker, restarted, sends it again: one post, the reply marked sent.
    let out = tokio::time::timeout(Duration::from_secs(60), worker("3").output())
        .await
        .expect("the restarted worker did not stop")
        .unwrap();
    assert_ok(&out);
    let posts = fake.requests_to("/api/v1/statuses");
    assert!(posts.len() >= 2, "the reply was not sent again");
    let key = posts[0].header("idempotency-key").unwrap().to_owned();
    assert!(
        posts
            .iter()
            .all(|p| p.header("idempotency-key") == Some(key.as_str()))
    );
    assert_eq!(fake.created_statuses().len(), 1, "posted twice");
    let listed = data
        .cmd()
        .args(["outbox", "--json"])
        .output()
        .await
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(
        listed.as_array().unwrap().is_empty(),
        "still pending: {listed}"
    );
    let show = data
        .cmd()
        .args(["show", &conv.id.to_string()])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&show.stdout).contains("(sent through masto)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_a_token_made_on_the_command_line() {
    let data = Data::new("").await;
    let mut add = data
        .cmd()
        .args(["user", "add", "ana", "--role", "agent", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = add.stdin.take().unwrap();
        stdin.write_all(b"a long enough password\n").await.unwrap();
    }
    assert!(add.wait().await.unwrap().success());
    let out = data
        .cmd()
        .args(["token", "create", "--user", "ana"])
        .output()
        .await
        .unwrap();
    assert_ok(&out);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let mut child = data
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let base = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("no address printed");
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    rapport_connectors::net::ensure_crypto();
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let anonymous = client
        .get(format!("{base}/api/v1/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let inbox = client
        .get(format!("{base}/api/v1/conversations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 200);
    let body: Value = inbox.json().await.unwrap();
    assert_eq!(body["items"], json!([]));

    // Changes made by another process (here an import) reach the live event stream.
    let mut events = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/support_thread.csv");
    let out = data
        .cmd()
        .arg("import")
        .arg(&fixture)
        .args(["--platform", "twitter"])
        .output()
        .await
        .unwrap();
    assert_ok(&out);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains("event: conversation") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("no live event for the other process's changes")
            .unwrap()
            .expect("the event stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    child.start_kill().unwrap();
}
