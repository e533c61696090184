//! The embedding job's store, on SQLite and (with RAPPORT_TEST_DATABASE_URL) PostgreSQL:
//! only inbound messages wait for a vector; vectors come back bit for bit (BLOB / BYTEA);
//! writing one again replaces it; a vector of another model counts as missing; reading
//! by period pages through every row; migrate-store copies the vectors; a damaged vector
//! counts as missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use rapport_core::config::Config;
use rapport_core::routing::RouteDecision;
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Band, Direction, NewMessage};
use rapport_store::{EmbeddedMessage, Prepared};

mod common;
use common::TestDb;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn prepare(id: &str, text: &str, minute: i64, direction: Direction) -> Prepared {
    let config = Config::default();
    let message = NewMessage {
        platform: "bluesky".into(),
        platform_id: id.into(),
        author: if direction == Direction::Inbound {
            "ann.bsky.social".into()
        } else {
            "lumen.bsky.social".into()
        },
        author_name: None,
        followers: Some(10),
        text: text.into(),
        created_at: t0() + Duration::minutes(minute),
        in_reply_to: None,
        reshares: 0,
        replies: 0,
        direction,
        automated: false,
        url: None,
    };
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let triage = triager.triage(&message.text, Reach::default());
    Prepared {
        message,
        triage,
        route: RouteDecision {
            rule: None,
            team: Some("care".into()),
            band: Band::P4,
            raised: false,
            notify: None,
            labels: Vec::new(),
        },
        reply_ref: None,
        html: None,
        topics: Vec::new(),
    }
}

/// A vector no float shortcut would keep: negative, tiny, huge, subnormal.
fn vector(seed: f32) -> Vec<f32> {
    (0..384)
        .map(|i| match i % 4 {
            0 => seed * i as f32,
            1 => -seed / (i as f32 + 1.0),
            2 => f32::MIN_POSITIVE / 3.0,
            _ => 1.0e30 * seed,
        })
        .collect()
}

/// A new store holding these messages.
async fn store_with(batch: &[Prepared]) -> (TestDb, rapport_store::Store) {
    let db = TestDb::new().await;
    let store = db.create().await;
    let mut ingestor = store.ingestor(&Config::default()).await.unwrap();
    ingestor.write_batch(batch, &[]).await.unwrap();
    drop(ingestor);
    (db, store)
}

#[tokio::test]
async fn vectors_are_stored_exactly_once_per_message_and_model() {
    let batch = vec![
        prepare("a", "my parcel never arrived", 0, Direction::Inbound),
        prepare("b", "we are sorry, sending another", 1, Direction::Outbound),
        prepare("c", "the lamp is lovely", 2, Direction::Inbound),
        prepare("d", "an idea: a sleep timer", 3, Direction::Inbound),
    ];
    let (_db, store) = store_with(&batch).await;

    let model = "all-MiniLM-L6-v2";
    let todo = store
        .messages_to_embed(model, None, i64::MIN, 10)
        .await
        .unwrap();
    let texts: Vec<&str> = todo.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "my parcel never arrived",
            "the lamp is lovely",
            "an idea: a sleep timer"
        ],
        "inbound only, in id order"
    );
    let counts = store.embedding_counts(model).await.unwrap();
    assert_eq!((counts.embedded, counts.missing), (0, 3));
    // Paging: after the first id, with a limit.
    let page = store
        .messages_to_embed(model, None, todo[0].0, 1)
        .await
        .unwrap();
    assert_eq!(page, vec![todo[1].clone()]);
    // Only those written since a time (a digest's periods).
    let since = t0() + Duration::minutes(2);
    let recent = store
        .messages_to_embed(model, Some(since), i64::MIN, 10)
        .await
        .unwrap();
    assert_eq!(recent, todo[1..].to_vec());

    let ids: Vec<i64> = todo.iter().map(|(id, _)| *id).collect();
    let first: Vec<(i64, Vec<f32>)> = ids[..2]
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, vector(i as f32 + 0.5)))
        .collect();
    store.save_embeddings(model, &first, t0()).await.unwrap();
    let back = store.vectors_of(model, &ids).await.unwrap();
    assert_eq!(back.len(), 2);
    for ((id, v), (want_id, want)) in back.iter().zip(&first) {
        assert_eq!(id, want_id);
        assert_eq!(
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "bit for bit"
        );
    }
    let counts = store.embedding_counts(model).await.unwrap();
    assert_eq!((counts.embedded, counts.missing), (2, 1));
    assert_eq!(
        store
            .messages_to_embed(model, None, i64::MIN, 10)
            .await
            .unwrap(),
        vec![todo[2].clone()]
    );

    // Written again: replaced, not duplicated.
    let again = vec![(ids[0], vector(9.0))];
    store.save_embeddings(model, &again, t0()).await.unwrap();
    let back = store.vectors_of(model, &ids[..1]).await.unwrap();
    assert_eq!(back, again);
    assert_eq!(store.embedding_counts(model).await.unwrap().embedded, 2);

    // Another model's vectors do not count; its vector replaces this one's.
    assert_eq!(store.embedding_counts("other").await.unwrap().missing, 3);
    assert_eq!(
        store
            .texts_without_vectors(model, &[ids[0], ids[2]])
            .await
            .unwrap(),
        vec![todo[2].clone()]
    );

    // By period, every row, with its text and score.
    let mut seen: Vec<EmbeddedMessage> = Vec::new();
    store
        .each_embedded_message(model, Some(t0()), t0() + Duration::days(1), |m| {
            seen.push(m)
        })
        .await
        .unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].text, "my parcel never arrived");
    assert_eq!(seen[0].vector, again[0].1);
    assert!(seen[0].conversation_id.is_some());
    let mut none = 0;
    store
        .each_embedded_message(
            model,
            Some(t0() + Duration::minutes(3)),
            t0() + Duration::days(1),
            |_| none += 1,
        )
        .await
        .unwrap();
    assert_eq!(none, 0, "both embedded messages are older than the period");

    // migrate-store: the vectors move bit for bit, and both sides' checksums agree.
    let target_dir = tempfile::TempDir::new().unwrap();
    let target = rapport_store::Store::create(target_dir.path())
        .await
        .unwrap();
    let report = store.copy_into(&target).await.unwrap();
    assert_eq!(report.tables["message_embeddings"].0, 2);
    assert_eq!(
        target.vectors_of(model, &ids).await.unwrap(),
        store.vectors_of(model, &ids).await.unwrap()
    );
}

/// A vector damaged in the store (cut short by hand, a bad restore) counts as missing:
/// the readers leave it out instead of failing, and the embedding job picks the message
/// up again and replaces it.
#[tokio::test]
async fn a_damaged_vector_counts_as_missing_and_is_computed_again() {
    let (db, store) = store_with(&[
        prepare("a", "my parcel never arrived", 0, Direction::Inbound),
        prepare("c", "the lamp is lovely", 2, Direction::Inbound),
    ])
    .await;
    let model = "all-MiniLM-L6-v2";
    let todo = store
        .messages_to_embed(model, None, i64::MIN, 10)
        .await
        .unwrap();
    let ids: Vec<i64> = todo.iter().map(|(id, _)| *id).collect();
    let rows: Vec<(i64, Vec<f32>)> = ids.iter().map(|id| (*id, vector(1.5))).collect();
    store.save_embeddings(model, &rows, t0()).await.unwrap();
    assert_eq!(store.embedding_counts(model).await.unwrap().missing, 0);

    // Cut the first message's vector to 3 bytes, then to nothing: neither is a vector.
    let raw = db.raw().await;
    for damaged in [vec![1u8, 2, 3], Vec::new()] {
        sqlx::query("UPDATE message_embeddings SET vector = $1 WHERE message_id = $2")
            .bind(damaged)
            .bind(ids[0])
            .execute(&raw)
            .await
            .unwrap();

        let counts = store.embedding_counts(model).await.unwrap();
        assert_eq!((counts.embedded, counts.missing), (1, 1));
        assert_eq!(
            store
                .messages_to_embed(model, None, i64::MIN, 10)
                .await
                .unwrap(),
            vec![todo[0].clone()],
            "the job sees it as still to do"
        );
        assert_eq!(
            store.texts_without_vectors(model, &ids).await.unwrap(),
            vec![todo[0].clone()]
        );
        let back = store.vectors_of(model, &ids).await.unwrap();
        assert_eq!(back, vec![rows[1].clone()], "read as missing, not an error");
        let mut seen = Vec::new();
        store
            .each_embedded_message(model, None, t0() + Duration::days(1), |m| {
                seen.push(m.message_id)
            })
            .await
            .unwrap();
        assert_eq!(seen, vec![ids[1]]);
        let mut period = Vec::new();
        store
            .each_period_message(model, t0(), t0() + Duration::days(1), None, |m| {
                period.push((m.message_id, m.vector.is_some()))
            })
            .await
            .unwrap();
        assert_eq!(period, vec![(ids[0], false), (ids[1], true)]);
    }

    // The job's next batch replaces it.
    store
        .save_embeddings(model, &rows[..1], t0())
        .await
        .unwrap();
    assert_eq!(store.vectors_of(model, &ids).await.unwrap(), rows);
    assert_eq!(store.embedding_counts(model).await.unwrap().missing, 0);
}
