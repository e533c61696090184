//! Listening in the store, on SQLite and (with `RAPPORT_TEST_DATABASE_URL`) PostgreSQL:
//! topics stored at ingest and as labels, topic volumes and share of voice counts,
//! matching stored messages again after the topics change, and spike scoring that
//! scores each bucket once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use rapport_core::config::Config;
use rapport_core::listening::{TopicConfig, TopicKind, TopicMatcher};
use rapport_core::routing::{RouteInput, route};
use rapport_core::spike::AlertsConfig;
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Direction, NewMessage};
use rapport_store::{Prepared, Store};

mod common;
use common::TestDb;

fn topic(name: &str, kind: TopicKind, any: &[&str]) -> TopicConfig {
    TopicConfig {
        name: name.into(),
        kind,
        any: any.iter().map(|s| s.to_string()).collect(),
        all: vec![],
        none: vec![],
        platforms: vec![],
    }
}

fn topics() -> Vec<TopicConfig> {
    vec![
        topic("acme", TopicKind::Brand, &["acme"]),
        topic("acme-app", TopicKind::Brand, &["acme app"]),
        topic("rival", TopicKind::Competitor, &["rival"]),
    ]
}

fn prepare(matcher: &TopicMatcher, id: u32, text: &str, minute: i64) -> Prepared {
    let config = Config::default();
    let m = NewMessage {
        platform: "mastodon".into(),
        platform_id: format!("m{id}"),
        author: format!("user{}", id % 7),
        author_name: None,
        followers: Some(10),
        text: text.into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::minutes(minute),
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
    let topics = matcher.topics_of(&m.text, &m.platform);
    Prepared {
        message: m,
        triage,
        route,
        reply_ref: None,
        html: None,
        topics,
    }
}

async fn store_messages(store: &Store, matcher: &TopicMatcher, texts: &[(&str, i64)]) {
    let batch: Vec<Prepared> = texts
        .iter()
        .enumerate()
        .map(|(i, (t, minute))| prepare(matcher, i as u32, t, *minute))
        .collect();
    let mut ingestor = store.ingestor(&Config::default()).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
}

async fn labels(db: &TestDb) -> Vec<String> {
    let pool = db.raw().await;
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT label FROM conversation_labels ORDER BY label, conversation_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn topics_are_stored_counted_and_labelled() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let matcher = TopicMatcher::new(&topics()).unwrap();
    store_messages(
        &store,
        &matcher,
        &[
            ("I love the Acme app", 0),
            ("acme is broken, terrible", 1),
            ("Rival is great", 2),
            ("rival and acme both fine", 3),
            ("nothing to see", 4),
        ],
    )
    .await;
    let v = store.topic_volumes(None, None).await.unwrap();
    let count = |t: &str| v.iter().find(|x| x.topic == t).map_or(0, |x| x.messages);
    assert_eq!(count("acme"), 3);
    assert_eq!(count("acme-app"), 1);
    assert_eq!(count("rival"), 2);
    let acme = v.iter().find(|x| x.topic == "acme").unwrap();
    assert_eq!((acme.positive, acme.negative), (2, 1));
    // "I love the Acme app" is one mention of the organisation, not two.
    let (ours, theirs) = store
        .voice_counts(
            &["acme".into(), "acme-app".into()],
            &["rival".into()],
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(ours, 3);
    assert_eq!(theirs["rival"], 2);
    assert_eq!(
        labels(&db).await,
        [
            "topic:acme",
            "topic:acme",
            "topic:acme",
            "topic:acme-app",
            "topic:rival",
            "topic:rival"
        ]
    );
    // A span counts only what was written in it.
    let since = Utc.with_ymd_and_hms(2026, 11, 2, 0, 2, 0).unwrap();
    let v = store.topic_volumes(Some(since), None).await.unwrap();
    assert_eq!(v.iter().find(|x| x.topic == "acme").unwrap().messages, 1);
}

#[tokio::test]
async fn rematch_applies_the_current_topics_and_is_idempotent() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let none = TopicMatcher::new(&[]).unwrap();
    store_messages(
        &store,
        &none,
        &[("acme rocks", 0), ("rival rocks", 1), ("other", 2)],
    )
    .await;
    assert!(store.topic_volumes(None, None).await.unwrap().is_empty());
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap();
    let all = TopicMatcher::new(&topics()).unwrap();
    let first = store.rematch_topics(&all, now, |_| {}).await.unwrap();
    assert_eq!(
        (first.messages, first.added, first.removed, first.labelled),
        (3, 2, 0, 2)
    );
    let again = store.rematch_topics(&all, now, |_| {}).await.unwrap();
    assert_eq!((again.added, again.removed, again.labelled), (0, 0, 0));
    // Drop the competitor: its matches go, and so does the label of the conversation
    // that no message of matches any more.
    let fewer = TopicMatcher::new(&topics()[..2]).unwrap();
    let dropped = store.rematch_topics(&fewer, now, |_| {}).await.unwrap();
    assert_eq!(
        (dropped.added, dropped.removed, dropped.unlabelled),
        (0, 1, 1)
    );
    let v = store.topic_volumes(None, None).await.unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].topic, "acme");
    assert_eq!(labels(&db).await, ["topic:acme"]);
    let again = store.rematch_topics(&fewer, now, |_| {}).await.unwrap();
    assert_eq!((again.removed, again.unlabelled), (0, 0));
    // Back again: matched and labelled as before.
    let back = store.rematch_topics(&all, now, |_| {}).await.unwrap();
    assert_eq!((back.added, back.labelled), (1, 1));
    assert_eq!(labels(&db).await, ["topic:acme", "topic:rival"]);
}

#[tokio::test]
async fn each_bucket_is_scored_once_and_a_burst_alerts_once() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let matcher = TopicMatcher::new(&topics()).unwrap();
    // Three calm hours (one message every 5 minutes), then 40 angry messages in one
    // bucket, then calm again.
    let mut texts: Vec<(String, i64)> = (0..36)
        .map(|i| ("acme is fine".to_string(), i * 5))
        .collect();
    texts.extend((0..40).map(|i| ("acme is down, awful and broken".to_string(), 180 + i % 5)));
    texts.extend((0..12).map(|i| ("acme is fine".to_string(), 185 + i * 5)));
    let refs: Vec<(&str, i64)> = texts.iter().map(|(t, m)| (t.as_str(), *m)).collect();
    store_messages(&store, &matcher, &refs).await;
    let cfg = AlertsConfig::default();
    let names: Vec<String> = topics().into_iter().map(|t| t.name).collect();
    let day = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    let mut raised = Vec::new();
    for minutes in (0..=300).step_by(5) {
        let now = day + Duration::minutes(minutes);
        raised.extend(store.detect_spikes(&cfg, &names, now).await.unwrap());
    }
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(raised[0].bucket_start, day + Duration::minutes(180));
    assert!(raised[0].spikes.iter().any(|s| s.series == "topic:acme"));
    let later = day + Duration::days(1);
    assert!(
        store
            .detect_spikes(&cfg, &names, later)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.alerts(None, None, 10).await.unwrap().len(), 1);
    // Without a webhook nothing is sent, but the alert waits to be.
    assert_eq!(store.alerts_to_notify(10).await.unwrap().len(), 1);
}
