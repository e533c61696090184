//! The job queue's promises, on SQLite and (with RAPPORT_TEST_DATABASE_URL) PostgreSQL:
//! a job is claimed by one worker at a time, a dead worker's job comes back after its
//! lease, a job whose lease was lost cannot complete, singleton duties have one holder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use rapport_store::StoreError;

mod common;
use common::TestDb;

fn t(secs: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn enqueue_is_idempotent_by_key_and_jobs_run_in_order() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let a = store
        .enqueue("ingest", "{}", Some("k1"), 3, t(0))
        .await
        .unwrap();
    assert!(a.is_some());
    assert_eq!(
        store
            .enqueue("ingest", "{}", Some("k1"), 3, t(0))
            .await
            .unwrap(),
        None
    );
    let b = store
        .enqueue("ingest", "{\"n\":2}", None, 3, t(0))
        .await
        .unwrap();
    let later = store
        .enqueue("ingest", "{}", None, 3, t(100))
        .await
        .unwrap();
    assert!(b.is_some() && later.is_some());

    let claimed = store.claim_jobs("w", 10, LEASE, t(1)).await.unwrap();
    let ids: Vec<i64> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(
        ids,
        vec![a.unwrap(), b.unwrap()],
        "not yet due: the later one"
    );
    assert_eq!(claimed[1].payload, "{\"n\":2}");
    assert!(
        claimed
            .iter()
            .all(|j| j.attempt == 1 && j.max_attempts == 3)
    );
    // Claimed jobs are nobody else's.
    assert!(
        store
            .claim_jobs("v", 10, LEASE, t(2))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.complete_job(ids[0], "w", t(3)).await.unwrap());
    assert!(
        !store.complete_job(ids[1], "v", t(3)).await.unwrap(),
        "not v's job"
    );
    let counts = store.job_counts().await.unwrap();
    assert_eq!(
        (counts["done"], counts["running"], counts["queued"]),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_dead_workers_job_comes_back_after_its_lease_and_the_old_holder_cannot_finish_it() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let id = store
        .enqueue("ingest", "{}", None, 5, t(0))
        .await
        .unwrap()
        .unwrap();
    let first = store.claim_jobs("dead", 1, LEASE, t(0)).await.unwrap();
    assert_eq!(first[0].id, id);
    // Within the lease nobody takes it; after it, someone does, as a second attempt.
    assert!(
        store
            .claim_jobs("next", 1, LEASE, t(59))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_jobs("next", 1, LEASE, t(61)).await.unwrap();
    assert_eq!((again[0].id, again[0].attempt), (id, 2));
    // The first worker comes back to life: its completion and its renewal are refused.
    assert!(!store.complete_job(id, "dead", t(62)).await.unwrap());
    assert!(!store.renew_job(id, "dead", LEASE, t(62)).await.unwrap());
    assert!(store.renew_job(id, "next", LEASE, t(62)).await.unwrap());
    assert!(store.complete_job(id, "next", t(63)).await.unwrap());
}

#[tokio::test]
async fn an_ingest_batch_of_a_lost_job_writes_nothing() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let config = rapport_core::config::Config::default();
    let id = store
        .enqueue("ingest", "{}", None, 5, t(0))
        .await
        .unwrap()
        .unwrap();
    let job = store
        .claim_jobs("slow", 1, Duration::from_secs(1), t(0))
        .await
        .unwrap();
    // Another worker takes it over once the short lease ran out.
    let taken = store.claim_jobs("quick", 1, LEASE, t(5)).await.unwrap();
    assert_eq!(taken[0].id, id);
    let message = rapport_core::NewMessage {
        platform: "bluesky".into(),
        platform_id: "at://x/1".into(),
        author: "someone".into(),
        author_name: None,
        followers: None,
        text: "my lamp is broken".into(),
        created_at: t(0),
        in_reply_to: None,
        reshares: 0,
        replies: 0,
        direction: rapport_core::Direction::Inbound,
        automated: false,
        url: None,
    };
    let triager = rapport_core::triage::Triager::new(&config.intent, &config.priority).unwrap();
    let triage = triager.triage(&message.text, Default::default());
    let prepared = rapport_store::Prepared {
        message,
        triage: triage.clone(),
        route: rapport_core::routing::RouteDecision {
            rule: None,
            team: None,
            band: triage.priority.band,
            raised: false,
            notify: None,
            labels: Vec::new(),
        },
        reply_ref: None,
        html: None,
        topics: Vec::new(),
    };
    let mut ingestor = store.ingestor(&config).await.unwrap();
    let err = ingestor
        .write_job_batch(std::slice::from_ref(&prepared), &[], &job[0], "slow")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost(j) if j == id), "{err}");
    assert_eq!(store.table_counts().await.unwrap()["messages"], 0);
    // The worker that holds it stores the batch and completes the job at once.
    let out = ingestor
        .write_job_batch(&[prepared], &[], &taken[0], "quick")
        .await
        .unwrap();
    assert_eq!(out.inserted, 1);
    assert_eq!(store.job_counts().await.unwrap()["done"], 1);
}

#[tokio::test]
async fn failures_retry_until_the_last_attempt_then_fail_for_good() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let id = store
        .enqueue("send", "{}", None, 2, t(0))
        .await
        .unwrap()
        .unwrap();
    store.claim_jobs("w", 1, LEASE, t(0)).await.unwrap();
    store
        .job_failed(
            id,
            "w",
            "the platform said 503",
            Some(Duration::from_secs(30)),
            t(1),
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_jobs("w", 1, LEASE, t(10))
            .await
            .unwrap()
            .is_empty(),
        "backing off"
    );
    let second = store.claim_jobs("w", 1, LEASE, t(31)).await.unwrap();
    assert_eq!(second[0].attempt, 2);
    store
        .job_failed(id, "w", "503 again", Some(Duration::from_secs(30)), t(32))
        .await
        .unwrap();
    let rows = store.unfinished_jobs(10).await.unwrap();
    assert_eq!(rows[0].state, "failed");
    assert_eq!(rows[0].last_error.as_deref(), Some("503 again"));
    assert!(
        store
            .claim_jobs("w", 1, LEASE, t(100))
            .await
            .unwrap()
            .is_empty()
    );

    // A job whose worker dies on every attempt ends failed too, once its leases ran out.
    let poison = store
        .enqueue("ingest", "{}", None, 1, t(0))
        .await
        .unwrap()
        .unwrap();
    store.claim_jobs("w", 1, LEASE, t(200)).await.unwrap();
    assert_eq!(
        store.fail_exhausted_jobs(t(230)).await.unwrap(),
        0,
        "still leased"
    );
    assert_eq!(store.fail_exhausted_jobs(t(300)).await.unwrap(), 1);
    let rows = store.unfinished_jobs(10).await.unwrap();
    assert!(rows.iter().any(|r| r.id == poison && r.state == "failed"));
}

/// Eight claimers in a tight loop over 300 jobs: each job is claimed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_take_the_same_job() {
    let db = TestDb::new().await;
    let store = db.create().await;
    for i in 0..300 {
        store
            .enqueue("ingest", &format!("{{\"n\":{i}}}"), None, 3, t(0))
            .await
            .unwrap();
    }
    let claims = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (store, claims) = (store.clone(), claims.clone());
        tasks.push(tokio::spawn(async move {
            let name = format!("w{w}");
            loop {
                // SQLite may say "busy" under this load; a worker simply tries again.
                let jobs = match store.claim_jobs(&name, 2, LEASE, t(1)).await {
                    Ok(jobs) => jobs,
                    Err(_) => continue,
                };
                if jobs.is_empty() {
                    break;
                }
                for j in jobs {
                    claims.lock().unwrap().push((j.id, name.clone()));
                    assert!(store.complete_job(j.id, &name, t(2)).await.unwrap());
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let claims = claims.lock().unwrap().clone();
    let mut per_job: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for (id, w) in claims.iter() {
        per_job.entry(*id).or_default().push(w);
    }
    let twice: Vec<_> = per_job.iter().filter(|(_, w)| w.len() > 1).collect();
    assert!(twice.is_empty(), "claimed more than once: {twice:?}");
    assert_eq!(per_job.len(), 300);
    assert_eq!(store.job_counts().await.unwrap()["done"], 300);
}

#[tokio::test]
async fn a_singleton_duty_has_one_holder_until_it_lets_go() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let lease = Duration::from_secs(30);
    let mut held = store
        .try_singleton("sla-timer", "a", lease, t(0))
        .await
        .unwrap()
        .expect("nobody holds it yet");
    assert!(
        store
            .try_singleton("sla-timer", "b", lease, t(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.still_held(&mut held, lease, t(2)).await.unwrap());
    // Another duty is separate.
    let other = store
        .try_singleton("outbox", "b", lease, t(1))
        .await
        .unwrap();
    assert!(other.is_some());
    match db.backend() {
        // The session lock goes with its holder.
        rapport_store::Backend::Postgres => {
            drop(held);
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(
                store
                    .try_singleton("sla-timer", "b", lease, t(3))
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        // The lease row runs out unless renewed.
        rapport_store::Backend::Sqlite => {
            assert!(
                store
                    .try_singleton("sla-timer", "b", lease, t(20))
                    .await
                    .unwrap()
                    .is_none()
            );
            let mut taken = store
                .try_singleton("sla-timer", "b", lease, t(40))
                .await
                .unwrap()
                .expect("the lease ran out");
            assert!(!store.still_held(&mut held, lease, t(41)).await.unwrap());
            assert!(store.still_held(&mut taken, lease, t(41)).await.unwrap());
        }
    }
}
