//! The index returns exactly what a brute-force scan of the store accepts, for generated
//! messages and generated queries (the query text goes through the parser too); and it
//! follows the store's changes (new messages, team changes, merges) as they happen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use rapport_core::config::Config;
use rapport_core::query::{Doc, Query};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Direction, NewMessage};
use rapport_search::{SearchIndex, Sort, verify};
use rapport_store::{Prepared, SearchRow, Store};
use tempfile::TempDir;

const WORDS: [&str; 12] = [
    "battery", "firmware", "refund", "love", "broken", "lamp", "update", "thanks", "café", "Lumen",
    "e-mail", "why",
];
const AUTHORS: [&str; 4] = [
    "alice.bsky.social",
    "bob.bsky.social",
    "carol@mastodon.social",
    "dan@fosstodon.org",
];
const TEAMS: [&str; 2] = ["support", "Customer Care"];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap()
}

#[derive(Debug, Clone)]
struct Gen {
    words: Vec<usize>,
    author: usize,
    hours: i64,
    reply_to: Option<usize>,
    team: Option<usize>,
    punct: bool,
}

fn gen_message() -> impl Strategy<Value = Gen> {
    (
        prop::collection::vec(0..WORDS.len(), 1..8),
        0..AUTHORS.len(),
        0i64..(24 * 10),
        prop::option::weighted(0.3, 0usize..1000),
        prop::option::of(0..TEAMS.len()),
        any::<bool>(),
    )
        .prop_map(|(words, author, hours, reply_to, team, punct)| Gen {
            words,
            author,
            hours,
            reply_to,
            team,
            punct,
        })
}

fn text_of(g: &Gen) -> String {
    let mut s = String::new();
    for (i, &w) in g.words.iter().enumerate() {
        if i > 0 {
            s.push_str(if g.punct && i % 3 == 0 { ", " } else { " " });
        }
        let w = WORDS[w];
        if g.punct && i == 0 {
            s.push('#');
            s.push_str(&w.to_uppercase());
        } else {
            s.push_str(w);
        }
    }
    if g.punct {
        s.push_str("!! 🎉");
    }
    s
}

fn prepared(triager: &Triager, i: usize, g: &Gen, n: usize) -> Prepared {
    let author = AUTHORS[g.author];
    let platform = if author.contains('@') {
        "mastodon"
    } else {
        "bluesky"
    };
    let text = text_of(g);
    let m = NewMessage {
        platform: platform.into(),
        platform_id: format!("m{i}"),
        author: author.into(),
        author_name: None,
        followers: None,
        text: text.clone(),
        created_at: t0() + Duration::hours(g.hours),
        // A reply to a message of the same platform, earlier or later in the batch.
        in_reply_to: g
            .reply_to
            .map(|r| r % n.max(1))
            .filter(|&r| r != i)
            .map(|r| format!("m{r}")),
        reshares: 0,
        replies: 0,
        direction: Direction::Inbound,
        automated: false,
        url: None,
    };
    let triage = triager.triage(&text, Reach::default());
    let mut route = rapport_core::routing::RouteDecision {
        rule: None,
        team: None,
        band: triage.priority.band,
        raised: false,
        notify: None,
        labels: Vec::new(),
    };
    route.team = g.team.map(|t| TEAMS[t].to_string());
    Prepared {
        message: m,
        triage,
        route,
        reply_ref: None,
        html: None,
        topics: Vec::new(),
    }
}

fn gen_atom() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (0..WORDS.len()).prop_map(|w| WORDS[w].to_string()),
        2 => (0..WORDS.len(), 0..WORDS.len()).prop_map(|(a, b)| format!("\"{} {}\"", WORDS[a], WORDS[b])),
        1 => (0..AUTHORS.len()).prop_map(|a| format!("author:@{}", AUTHORS[a].to_uppercase())),
        1 => prop::sample::select(vec!["platform:bluesky", "platform:mastodon"]).prop_map(String::from),
        1 => prop::sample::select(vec!["intent:complaint", "intent:praise", "intent:question", "intent:other"]).prop_map(String::from),
        1 => prop::sample::select(vec!["sentiment:neg", "sentiment:neu", "sentiment:pos"]).prop_map(String::from),
        1 => prop::sample::select(vec!["team:support", "team:\"customer care\""]).prop_map(String::from),
        1 => (1i64..8, 0i64..4).prop_map(|(d, len)| format!("date:2026-11-{d:02}..2026-11-{:02}", d + len)),
        1 => (1i64..12).prop_map(|d| format!("since:2026-11-{d:02}")),
        1 => (1i64..40).prop_map(|c| format!("conversation:{c}")),
    ]
    .boxed()
}

fn gen_query() -> impl Strategy<Value = String> {
    gen_atom().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{a} AND -{b}")),
        ]
    })
}

fn brute_force(rows: &[SearchRow], q: &Query) -> Vec<i64> {
    rows.iter()
        .filter(|r| {
            q.matches(&Doc {
                text: &r.text,
                author: &r.author,
                platform: &r.platform,
                intent: &r.intent,
                compound: r.compound,
                team: r.team.as_deref(),
                conversation: r.conversation,
                created_at: r.created_at,
            })
        })
        .map(|r| r.id)
        .collect()
}

async fn store_with(messages: &[Gen]) -> (TempDir, Store) {
    let dir = TempDir::new().unwrap();
    let store = Store::create(dir.path()).await.unwrap();
    write(&store, messages, 0, messages.len()).await;
    (dir, store)
}

/// Stores messages `from..to` of `messages`, in several batches (several `stored` events).
async fn write(store: &Store, messages: &[Gen], from: usize, to: usize) {
    let config = Config::default();
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    let prepared: Vec<Prepared> = (from..to)
        .map(|i| prepared(&triager, i, &messages[i], messages.len()))
        .collect();
    for chunk in prepared.chunks(17) {
        ingestor.write_batch(chunk, &[]).await.unwrap();
    }
}

async fn check(messages: Vec<Gen>, queries: Vec<String>) -> Result<(), TestCaseError> {
    // Half the messages indexed by a build, half by following the log (replies stored
    // before their parents merge conversations then).
    let half = messages.len() / 2;
    let dir = TempDir::new().unwrap();
    let store = Store::create(dir.path()).await.unwrap();
    write(&store, &messages, 0, half).await;
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let mut indexer = index.indexer().unwrap().unwrap();
    indexer.catch_up(&store, |_| {}).await.unwrap();
    write(&store, &messages, half, messages.len()).await;
    indexer.catch_up(&store, |_| {}).await.unwrap();
    let v = verify(&index, &store).await.unwrap();
    prop_assert!(v.ok(), "{v:?}");
    let rows = store.search_rows_after(0, i64::MAX).await.unwrap();
    let now = t0() + Duration::days(30);
    for text in queries {
        let q =
            Query::parse(&text, now).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let want = brute_force(&rows, &q);
        let page = index.search(&q, 10_000, 0, Sort::Relevance).unwrap();
        let mut got: Vec<i64> = page.hits.iter().map(|h| h.id).collect();
        got.sort_unstable();
        prop_assert_eq!(&got, &want, "query {} = {:?}", text, q);
        prop_assert_eq!(page.total, want.len(), "total of {}", text);
        // A page still counts every match; newest first is by time.
        let newest = index.search(&q, 3, 0, Sort::Newest).unwrap();
        prop_assert_eq!(newest.total, want.len());
        let times: Vec<i64> = newest
            .hits
            .iter()
            .map(|h| {
                rows.iter()
                    .find(|r| r.id == h.id)
                    .map_or(0, |r| r.created_at)
            })
            .collect();
        prop_assert!(times.windows(2).all(|w| w[0] >= w[1]), "{text}: {times:?}");
    }
    store.close().await;
    Ok(())
}

#[test]
fn search_matches_a_brute_force_scan_of_the_store() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(PtConfig {
        cases: 24,
        failure_persistence: None,
        ..PtConfig::default()
    });
    let strategy = (
        prop::collection::vec(gen_message(), 1..80),
        prop::collection::vec(gen_query(), 25),
    );
    runner
        .run(&strategy, |(messages, queries)| {
            rt.block_on(check(messages, queries))
        })
        .unwrap();
}

#[tokio::test]
async fn the_index_follows_new_messages_team_changes_and_merges() {
    let g = |words: Vec<usize>, reply_to: Option<usize>| Gen {
        words,
        author: 0,
        hours: 1,
        reply_to,
        team: None,
        punct: false,
    };
    // m0 and m1 first; m2 later is a reply to m1 (joins its conversation).
    let (dir, store) = store_with(&[g(vec![0], None), g(vec![1], None)]).await;
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let mut indexer = index.indexer().unwrap().unwrap();
    let first = indexer.catch_up(&store, |_| {}).await.unwrap();
    assert!(first.rebuilt);
    assert_eq!(index.len().unwrap(), 2);
    // Nothing new: a catch-up reads nothing and changes nothing.
    let idle = indexer.catch_up(&store, |_| {}).await.unwrap();
    assert_eq!((idle.indexed, idle.applied, idle.rebuilt), (0, 0, false));

    let config = Config::default();
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    let reply = prepared(&triager, 2, &g(vec![2], Some(1)), 3);
    ingestor.write_batch(&[reply], &[]).await.unwrap();
    drop(ingestor);
    let step = indexer.catch_up(&store, |_| {}).await.unwrap();
    assert_eq!((step.indexed, step.applied), (0, 1));
    let refund = Query::parse("refund", t0()).unwrap();
    let hit = index.search(&refund, 10, 0, Sort::Relevance).unwrap();
    assert_eq!(hit.total, 1);
    let conv = store
        .search_rows_between(hit.hits[0].id, hit.hits[0].id)
        .await
        .unwrap()[0]
        .conversation
        .unwrap();

    // The conversation moves to another team: its messages answer team: now.
    store
        .assign(conv, None, Some("billing"), "mara", Utc::now())
        .await
        .unwrap();
    indexer.catch_up(&store, |_| {}).await.unwrap();
    let billing = Query::parse("team:billing", t0()).unwrap();
    assert_eq!(
        index
            .search(&billing, 10, 0, Sort::Relevance)
            .unwrap()
            .total,
        2
    );
    assert!(verify(&index, &store).await.unwrap().ok());

    // Opened again from its directory (a restart): nothing to do, same answers.
    drop(indexer);
    let again = SearchIndex::open(&dir.path().join("search")).unwrap();
    let mut indexer = again.indexer().unwrap().unwrap();
    let after_restart = indexer.catch_up(&store, |_| {}).await.unwrap();
    assert_eq!(
        (
            after_restart.indexed,
            after_restart.applied,
            after_restart.rebuilt
        ),
        (0, 0, false)
    );
    assert_eq!(
        again
            .search(&billing, 10, 0, Sort::Relevance)
            .unwrap()
            .total,
        2
    );

    // While one process writes, another gets no writer (and may still search).
    assert!(again.indexer().unwrap().is_none());
}
