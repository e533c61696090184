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

#[tokio::test]
async fn a_merge_moves_people_for_a_running_ingestor_too_and_an_unmerge_gives_them_back() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let config = Config::default();
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 9, 0, 0).unwrap();
    let from = |id: &str, author: &str| {
        let mut m = message(id, "love the new lamp, thank you!", None);
        m.author = author.into();
        prepare(&config, m)
    };
    let mut ingestor = store.ingestor(&config).await.unwrap();
    ingestor
        .write_batch(
            &[
                from("at://a/1", "ana.bsky.social"),
                from("at://b/1", "ana2.bsky.social"),
            ],
            &[],
        )
        .await
        .unwrap();
    let person_of = async |id: &str| -> i64 {
        store
            .person_of_message("bluesky", id)
            .await
            .unwrap()
            .expect("the message has a person")
    };
    let (a, b) = (person_of("at://a/1").await, person_of("at://b/1").await);
    assert_ne!(a, b);

    let merge = store.merge_people(a, b, "mara", now).await.unwrap();
    assert_eq!(
        (merge.keep, merge.merged, merge.identities.len()),
        (a, b, 1)
    );
    assert_eq!(person_of("at://b/1").await, a);
    // The ingestor that remembered b for ana2 looks it up again.
    ingestor
        .write_batch(&[from("at://b/2", "ana2.bsky.social")], &[])
        .await
        .unwrap();
    assert_eq!(person_of("at://b/2").await, a);
    assert_eq!(store.person(a).await.unwrap().identities.len(), 2);
    let err = store.merge_people(a, b, "mara", now).await.unwrap_err();
    assert!(err.to_string().contains("merged into person"), "{err}");
    assert!(store.merge_people(a, a, "mara", now).await.is_err());

    let undone = store.unmerge_people(merge.id, "mara", now).await.unwrap();
    assert_eq!(undone.undone_by.as_deref(), Some("mara"));
    assert_eq!(person_of("at://b/1").await, b);
    assert_eq!(person_of("at://b/2").await, b);
    assert_eq!(person_of("at://a/1").await, a);
    assert!(store.unmerge_people(merge.id, "mara", now).await.is_err());
    ingestor
        .write_batch(&[from("at://b/3", "ana2.bsky.social")], &[])
        .await
        .unwrap();
    assert_eq!(person_of("at://b/3").await, b);
    let merges = store.person_merges(b).await.unwrap();
    assert_eq!(merges.len(), 1);
    store.close().await;
}
