//! The store's promises, through its public API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use rapport_core::config::Config;
use rapport_core::routing::{RouteInput, route};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Direction, NewMessage};
use rapport_store::{Prepared, Store};
use tempfile::TempDir;

mod common;
use common::TestDb;

fn message(id: &str, text: &str, reply_to: Option<&str>) -> NewMessage {
    NewMessage {
        platform: "bluesky".into(),
        platform_id: id.into(),
        author: "did:plc:someone".into(),
        author_name: None,
        followers: Some(50),
        text: text.into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
        in_reply_to: reply_to.map(str::to_string),
        reshares: 0,
        replies: 0,
        direction: Direction::Inbound,
        automated: false,
        url: None,
    }
}

fn prepare(config: &Config, m: NewMessage) -> Prepared {
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

#[tokio::test]
async fn a_channel_cursor_moves_with_its_batch() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let config = Config::default();
    assert_eq!(store.channel_cursor("bsky").await.unwrap(), None);
    let mut ingestor = store.ingestor(&config).await.unwrap();
    let batch = vec![
        prepare(&config, message("at://a/1", "my lamp is broken", None)),
        prepare(
            &config,
            message("at://a/2", "still broken", Some("at://a/1")),
        ),
    ];
    let out = ingestor
        .write_batch_at(&batch, &[], Some(("bsky", "1730538000000000")))
        .await
        .unwrap();
    assert_eq!((out.inserted, out.duplicates, out.conversations), (2, 0, 1));
    assert_eq!(
        store.channel_cursor("bsky").await.unwrap().as_deref(),
        Some("1730538000000000")
    );
    // Replaying from an older cursor (at-least-once delivery) stores nothing twice.
    let again = ingestor
        .write_batch_at(&batch, &[], Some(("bsky", "1730538000000001")))
        .await
        .unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 2));
    assert_eq!(
        store.channel_cursor("bsky").await.unwrap().as_deref(),
        Some("1730538000000001")
    );
    assert_eq!(store.table_counts().await.unwrap()["messages"], 2);
    store.integrity_check().await.unwrap();
}

#[tokio::test]
async fn events_are_append_only() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let config = Config::default();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    ingestor
        .write_batch(
            &[prepare(&config, message("at://a/1", "hello?", None))],
            &[],
        )
        .await
        .unwrap();
    let pool = db.raw().await;
    let update = sqlx::query("UPDATE events SET actor = 'someone else'")
        .execute(&pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events").execute(&pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn opening_a_directory_without_a_store_says_what_to_do() {
    let dir = TempDir::new().unwrap();
    let err = Store::open(dir.path()).await.unwrap_err().to_string();
    assert!(err.contains("rapport init"), "{err}");
}
