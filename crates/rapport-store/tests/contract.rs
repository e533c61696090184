#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::TestDb;

// The store's contract: what every backend must do, written once and run against
// SQLite (the default) and PostgreSQL (`RAPPORT_TEST_DATABASE_URL`, see common/mod.rs).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use rapport_core::config::{Config, MemberConfig, TeamConfig};
use rapport_core::metrics::{BroadcastFacts, TimelineItem};
use rapport_core::routing::{RouteInput, route};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Band, Direction, Intent, NewMessage, Status};
use rapport_store::{
    Backend, BatchOutcome, ConversationDetail, ConversationRow, HistoryItem, InboxCursor,
    InboxFilter, Prepared, QuarantineRow, SendVia, Store, StoreError,
};
use serde_json::json;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// An instant from RFC 3339 text.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The tests' reference instant, with milliseconds.
fn t0() -> DateTime<Utc> {
    at("2026-11-02T09:00:00.123Z")
}

fn mins(n: i64) -> Duration {
    Duration::minutes(n)
}

fn msg(
    id: &str,
    author: &str,
    text: &str,
    when: DateTime<Utc>,
    reply_to: Option<&str>,
) -> NewMessage {
    NewMessage {
        platform: "bluesky".into(),
        platform_id: id.into(),
        author: author.into(),
        author_name: None,
        followers: Some(50),
        text: text.into(),
        created_at: when,
        in_reply_to: reply_to.map(str::to_string),
        reshares: 0,
        replies: 0,
        direction: Direction::Inbound,
        automated: false,
        url: None,
    }
}

fn outbound(
    id: &str,
    author: &str,
    text: &str,
    when: DateTime<Utc>,
    reply_to: Option<&str>,
) -> NewMessage {
    NewMessage {
        direction: Direction::Outbound,
        followers: None,
        ..msg(id, author, text, when, reply_to)
    }
}

fn member(name: &str) -> MemberConfig {
    MemberConfig {
        name: name.into(),
        capacity: None,
    }
}

/// Two teams: `support` (alice, bob: round robin) and `billing` (nobody).
fn team_config() -> Config {
    Config {
        teams: vec![
            TeamConfig {
                name: "support".into(),
                members: vec![member("alice"), member("bob")],
                sla: None,
                hours: None,
            },
            TeamConfig {
                name: "billing".into(),
                members: vec![],
                sla: None,
                hours: None,
            },
        ],
        ..Config::default()
    }
}

/// A configuration and its triager, to prepare messages as the binary does.
struct Kit {
    config: Config,
    triager: Triager,
}

impl Kit {
    fn new(config: Config) -> Kit {
        let triager = Triager::new(&config.intent, &config.priority).unwrap();
        Kit { config, triager }
    }

    fn plain() -> Kit {
        Kit::new(Config::default())
    }

    fn teams() -> Kit {
        Kit::new(team_config())
    }

    /// Triaged and routed as the binary does.
    fn prep(&self, m: NewMessage) -> Prepared {
        let triage = self.triager.triage(&m.text, Reach::default());
        let route = route(
            &self.config.rules,
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

    /// Triaged, with its team and band (of the message and of the route) fixed.
    fn conv(&self, m: NewMessage, team: Option<&str>, band: Band) -> Prepared {
        let mut p = self.prep(m);
        p.route.team = team.map(str::to_string);
        p.route.band = band;
        p.triage.priority.band = band;
        p
    }

    /// An unrouted P3 message.
    fn p3(
        &self,
        id: &str,
        author: &str,
        text: &str,
        when: DateTime<Utc>,
        reply_to: Option<&str>,
    ) -> Prepared {
        self.conv(msg(id, author, text, when, reply_to), None, Band::P3)
    }

    /// Like [`Kit::conv`], with its intent fixed too.
    fn conv_as(&self, m: NewMessage, team: Option<&str>, band: Band, intent: Intent) -> Prepared {
        let mut p = self.conv(m, team, band);
        p.triage.intent.intent = intent;
        p
    }
}

/// Writes one batch through a fresh ingestor.
async fn write(store: &Store, kit: &Kit, batch: &[Prepared]) -> BatchOutcome {
    store
        .ingestor(&kit.config)
        .await
        .unwrap()
        .write_batch(batch, &[])
        .await
        .unwrap()
}

/// The conversation holding a bluesky message.
async fn conv_of(store: &Store, platform_id: &str) -> i64 {
    store
        .conversation_of("bluesky", platform_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{platform_id} is in no conversation"))
}

/// A filter that lets everything through.
fn all() -> InboxFilter {
    InboxFilter {
        limit: 1000,
        ..InboxFilter::default()
    }
}

async fn inbox_ids(store: &Store, f: InboxFilter) -> Vec<i64> {
    ids(&store.inbox(&f).await.unwrap())
}

fn ids(rows: &[ConversationRow]) -> Vec<i64> {
    rows.iter().map(|r| r.id).collect()
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

/// The inbox's documented order, computed here.
fn order_key(r: &ConversationRow) -> (u8, bool, i64, i64, i64) {
    (
        r.priority.rank(),
        r.due_at.is_none(),
        r.due_at.map_or(0, |d| d.timestamp_millis()),
        r.opened_at.timestamp_millis(),
        r.id,
    )
}

/// The platform ids of a conversation's messages, in order.
fn pids(d: &ConversationDetail) -> Vec<&str> {
    d.messages.iter().map(|m| m.platform_id.as_str()).collect()
}

fn event_kinds(d: &ConversationDetail) -> Vec<String> {
    d.events.iter().map(|e| e.kind.clone()).collect()
}

/// One integer (or NULL) straight from the database.
async fn raw_int(db: &TestDb, sql: &'static str, id: i64) -> Option<i64> {
    let pool = db.raw().await;
    let (v,): (Option<i64>,) = sqlx::query_as(sql).bind(id).fetch_one(&pool).await.unwrap();
    pool.close().await;
    v
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str, id: i64) {
    match r {
        Err(StoreError::NotFound { what: w, id: i }) => assert_eq!((w, i), (what, id)),
        other => panic!("expected {what} {id} not found, got {other:?}"),
    }
}

fn is_invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Invalid(_))),
        "expected Invalid, got {r:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 1. Ingest
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_batch_lands_and_the_same_batch_again_stores_nothing_twice() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let batch = vec![
        kit.p3("p/1", "ann", "my order never arrived", t0(), None),
        kit.p3("p/2", "ann", "where is it?", t0() + mins(5), Some("p/1")),
        kit.p3("p/3", "ben", "love the new app", t0() + mins(1), None),
        kit.p3(
            "p/4",
            "cat",
            "how do I reset my password?",
            t0() + mins(2),
            None,
        ),
        kit.p3("p/5", "ben", "thanks!", t0() + mins(3), Some("p/3")),
    ];
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    let out = ingestor.write_batch(&batch, &[]).await.unwrap();
    assert_eq!(
        out,
        BatchOutcome {
            inserted: 5,
            duplicates: 0,
            conversations: 3
        }
    );
    let expected: BTreeMap<String, i64> = [
        ("conversations", 3),
        ("events", 3), // one `opened` per conversation, nothing else
        ("identities", 3),
        ("messages", 5),
        ("people", 3),
        ("quarantine", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(store.table_counts().await.unwrap(), expected);
    let dump = store.message_dump().await.unwrap();
    assert_eq!(dump.len(), 5);

    // The same ingestor, then a fresh one: nothing is stored twice.
    let again = ingestor.write_batch(&batch, &[]).await.unwrap();
    assert_eq!(
        again,
        BatchOutcome {
            inserted: 0,
            duplicates: 5,
            conversations: 0
        }
    );
    let fresh = write(&store, &kit, &batch).await;
    assert_eq!(
        (fresh.inserted, fresh.duplicates, fresh.conversations),
        (0, 5, 0)
    );
    // A batch that mixes old and new stores only the new.
    let mixed = vec![
        batch[0].clone(),
        kit.p3("p/6", "dan", "hello there", t0() + mins(9), None),
    ];
    let out = write(&store, &kit, &mixed).await;
    assert_eq!((out.inserted, out.duplicates, out.conversations), (1, 1, 1));
    let counts = store.table_counts().await.unwrap();
    assert_eq!(counts["messages"], 6);
    assert_eq!(counts["conversations"], 4);
    assert_eq!(counts["people"], 4);
    assert_eq!(counts["events"], 4);
    assert_eq!(store.message_dump().await.unwrap()[..5], dump[..]);
    // An empty batch is fine and does nothing.
    assert_eq!(write(&store, &kit, &[]).await, BatchOutcome::default());
    store.integrity_check().await.unwrap();
}

#[tokio::test]
async fn replies_thread_into_their_parents_conversation() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    // A reply in the same batch as its parent.
    let out = write(
        &store,
        &kit,
        &[
            kit.p3("t/1", "ann", "my lamp is broken", t0(), None),
            kit.p3("t/2", "ann", "still broken", t0() + mins(1), Some("t/1")),
        ],
    )
    .await;
    assert_eq!((out.inserted, out.conversations), (2, 1));
    let c = conv_of(&store, "t/1").await;
    assert_eq!(conv_of(&store, "t/2").await, c);

    // A reply to the reply, in a later batch, by someone else.
    let out = write(
        &store,
        &kit,
        &[kit.p3("t/3", "ben", "same here", t0() + mins(2), Some("t/2"))],
    )
    .await;
    assert_eq!((out.inserted, out.conversations), (1, 0));
    assert_eq!(conv_of(&store, "t/3").await, c);
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.conversation.message_count, 3);
    assert_eq!(d.conversation.last_message_at, t0() + mins(2));
    assert_eq!(d.conversation.author, "ann");
    assert_eq!(d.conversation.due_at, Some(t0() + mins(240)));
    assert_eq!(pids(&d), ["t/1", "t/2", "t/3"]);

    // The organisation's own reply, seen on the platform, joins it and stops the clock.
    let out = write(
        &store,
        &kit,
        &[kit.prep(outbound(
            "t/4",
            "brand",
            "sorry! DM us",
            t0() + mins(3),
            Some("t/3"),
        ))],
    )
    .await;
    assert_eq!((out.inserted, out.conversations), (1, 0));
    assert_eq!(conv_of(&store, "t/4").await, c);
    let row = store.conversation(c).await.unwrap().conversation;
    assert_eq!(row.message_count, 4);
    assert_eq!(row.first_response_at, Some(t0() + mins(3)));
    assert_eq!(row.due_at, None);
    assert_eq!(row.first_due_at, Some(t0() + mins(240)));

    // An outbound post that replies to nothing belongs to no conversation.
    write(
        &store,
        &kit,
        &[kit.prep(outbound("t/5", "brand", "new release!", t0(), None))],
    )
    .await;
    assert_eq!(store.conversation_of("bluesky", "t/5").await.unwrap(), None);
    // An unknown message is in none either.
    assert_eq!(
        store.conversation_of("bluesky", "t/404").await.unwrap(),
        None
    );

    // Resolved, then a new (more urgent) inbound reply reopens it with a new clock.
    assert!(
        store
            .set_status(c, Status::Resolved, "alice", t0() + mins(10), None)
            .await
            .unwrap()
    );
    write(
        &store,
        &kit,
        &[kit.conv(
            msg(
                "t/6",
                "ann",
                "it caught fire!",
                t0() + mins(60),
                Some("t/1"),
            ),
            None,
            Band::P1,
        )],
    )
    .await;
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.conversation.status, "open");
    assert_eq!(d.conversation.priority, Band::P1);
    assert_eq!(d.conversation.due_at, Some(t0() + mins(60 + 15)));
    assert_eq!(d.conversation.message_count, 5);
    assert_eq!(
        event_kinds(&d),
        ["opened", "status", "reopened", "priority"]
    );
    let reopened = &d.events[2];
    assert_eq!(reopened.actor, "system");
    assert_eq!(reopened.data, json!({"by_message": "t/6"}));
    assert_eq!(store.summary().await.unwrap().conversations, 1);
}

#[tokio::test]
async fn a_reply_before_its_parent_is_merged_once_the_parent_arrives() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let out = write(
        &store,
        &kit,
        &[kit.p3("m/2", "ben", "me too!", t0() + mins(10), Some("m/1"))],
    )
    .await;
    assert_eq!((out.inserted, out.conversations), (1, 1));
    let early = conv_of(&store, "m/2").await;
    assert_eq!(inbox_ids(&store, all()).await, [early]);

    let out = write(
        &store,
        &kit,
        &[kit.p3("m/1", "ann", "the app crashes on start", t0(), None)],
    )
    .await;
    assert_eq!((out.inserted, out.duplicates, out.conversations), (1, 0, 1));
    let live = conv_of(&store, "m/1").await;
    assert_ne!(live, early);
    assert_eq!(conv_of(&store, "m/2").await, live);

    let d = store.conversation(live).await.unwrap();
    assert_eq!(d.conversation.id, live);
    assert_eq!(d.conversation.message_count, 2);
    assert_eq!(d.conversation.opened_at, t0());
    assert_eq!(d.conversation.author, "ann");
    assert_eq!(d.conversation.snippet, "the app crashes on start");
    assert_eq!(d.conversation.last_message_at, t0() + mins(10));
    assert_eq!(d.conversation.due_at, Some(t0() + mins(240)));
    assert_eq!(pids(&d), ["m/1", "m/2"]);
    // The merge is in the log of both, and the detail shows both sides.
    let merged = d.events.iter().find(|e| e.kind == "merged").unwrap();
    assert_eq!(merged.conversation_id, Some(live));
    assert_eq!(merged.data["from"], json!(early));
    let merged_into = d.events.iter().find(|e| e.kind == "merged_into").unwrap();
    assert_eq!(merged_into.conversation_id, Some(early));
    assert_eq!(merged_into.data, json!({"into": live}));

    // The early conversation now leads to the live one, and is in no list.
    assert_eq!(
        store.conversation(early).await.unwrap().conversation.id,
        live
    );
    assert_eq!(inbox_ids(&store, all()).await, [live]);
    assert_eq!(store.summary().await.unwrap().conversations, 1);
    assert_eq!(store.table_counts().await.unwrap()["conversations"], 2);
    assert_eq!(store.overdue(t0() + mins(100_000)).await.unwrap(), 1);
    // Acting on the merged one is refused, pointing at the live one.
    let err = store.note(early, "hi", "alice", t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains(&live.to_string()), "{err}");

    // The same in one batch, the reply first.
    let out = write(
        &store,
        &kit,
        &[
            kit.p3("n/2", "ben", "+1", t0() + mins(5), Some("n/1")),
            kit.p3("n/1", "cat", "login fails", t0(), None),
        ],
    )
    .await;
    assert_eq!(out.inserted, 2);
    let n = conv_of(&store, "n/1").await;
    assert_eq!(conv_of(&store, "n/2").await, n);
    assert_eq!(
        store
            .conversation(n)
            .await
            .unwrap()
            .conversation
            .message_count,
        2
    );
    assert_eq!(store.summary().await.unwrap().conversations, 2);
}

#[tokio::test]
async fn a_chain_of_early_replies_joins_the_root_conversation() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    // Grandchild, then child, then the root, each in its own batch.
    for p in [
        kit.p3("g/3", "cat", "any news?", t0() + mins(20), Some("g/2")),
        kit.p3("g/2", "ben", "same problem", t0() + mins(10), Some("g/1")),
        kit.p3("g/1", "ann", "payment failed", t0(), None),
    ] {
        write(&store, &kit, &[p]).await;
    }
    let root = conv_of(&store, "g/1").await;
    assert_eq!(conv_of(&store, "g/2").await, root);
    assert_eq!(conv_of(&store, "g/3").await, root);
    let d = store.conversation(root).await.unwrap();
    assert_eq!(d.conversation.message_count, 3);
    assert_eq!(d.conversation.opened_at, t0());
    assert_eq!(pids(&d), ["g/1", "g/2", "g/3"]);
    assert_eq!(inbox_ids(&store, all()).await, [root]);
    assert_eq!(store.summary().await.unwrap().conversations, 1);
    assert_eq!(store.table_counts().await.unwrap()["conversations"], 3);
}

/// The grandchild's conversation was merged into the child's, which was then merged into
/// the root's: reading the first must lead to the live one.
#[tokio::test]
async fn a_conversation_merged_twice_still_leads_to_the_live_one() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(
        &store,
        &kit,
        &[kit.p3("g/3", "cat", "any news?", t0() + mins(20), Some("g/2"))],
    )
    .await;
    let first = conv_of(&store, "g/3").await;
    write(
        &store,
        &kit,
        &[kit.p3("g/2", "ben", "same problem", t0() + mins(10), Some("g/1"))],
    )
    .await;
    write(
        &store,
        &kit,
        &[kit.p3("g/1", "ann", "payment failed", t0(), None)],
    )
    .await;
    let root = conv_of(&store, "g/1").await;
    let d = store.conversation(first).await.unwrap();
    assert_eq!(
        d.conversation.id, root,
        "conversation({first}) should lead to {root}"
    );
    assert_eq!(d.messages.len(), 3);
}

#[tokio::test]
async fn history_replays_resolutions_in_order() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    let resolve = |id: &str, when: DateTime<Utc>, actor: &str| HistoryItem::Resolve {
        platform: "bluesky".into(),
        platform_id: id.into(),
        at: when,
        actor: actor.into(),
    };
    let m = |p: Prepared| HistoryItem::Message(Box::new(p));
    let items = vec![
        m(kit.conv(
            msg("h/a1", "ann", "broken again", t0(), None),
            Some("support"),
            Band::P2,
        )),
        m(kit.conv(
            msg("h/b1", "ben", "how do I export?", t0() + mins(1), None),
            Some("support"),
            Band::P3,
        )),
        resolve("h/a1", t0() + mins(30), "alice"),
        m(kit.conv(
            msg("h/a2", "ann", "and again", t0() + mins(60), Some("h/a1")),
            Some("support"),
            Band::P2,
        )),
        resolve("h/b1", t0() + mins(40), "bob"),
        resolve("h/b1", t0() + mins(41), "bob"),
        resolve("h/nope", t0() + mins(42), "bob"),
    ];
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    let (out, resolved) = ingestor.write_history(&items).await.unwrap();
    assert_eq!((out.inserted, out.duplicates, out.conversations), (3, 0, 2));
    assert_eq!(resolved, 2);

    let a = conv_of(&store, "h/a1").await;
    let b = conv_of(&store, "h/b1").await;
    let da = store.conversation(a).await.unwrap();
    assert_eq!(da.conversation.status, "open");
    assert_eq!(da.conversation.assignee.as_deref(), Some("alice"));
    assert_eq!(da.conversation.due_at, Some(t0() + mins(60 + 60)));
    assert_eq!(
        event_kinds(&da),
        ["opened", "assigned", "status", "reopened"]
    );
    assert_eq!(da.events[2].actor, "alice");
    assert_eq!(da.events[2].at, t0() + mins(30));
    assert_eq!(da.events[2].data, json!({"from": "open", "to": "resolved"}));
    let db_ = store.conversation(b).await.unwrap();
    assert_eq!(db_.conversation.status, "resolved");
    assert_eq!(db_.conversation.due_at, None);
    assert_eq!(event_kinds(&db_), ["opened", "assigned", "status"]);
    let resolved_at = raw_int(
        &db,
        "SELECT resolved_at FROM conversations WHERE id = $1",
        b,
    )
    .await;
    assert_eq!(resolved_at, Some((t0() + mins(40)).timestamp_millis()));

    // The same history again stores nothing and resolves nothing more.
    let (again, resolved) = ingestor.write_history(&items).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 3));
    assert_eq!(
        resolved, 1,
        "h/a1's conversation was open again, so it resolves"
    );

    // resolve_thread, alone.
    assert!(
        !ingestor
            .resolve_thread("bluesky", "h/a2", t0() + mins(90), "bob")
            .await
            .unwrap()
    );
    store
        .set_status(a, Status::Open, "bob", t0() + mins(91), None)
        .await
        .unwrap();
    assert!(
        ingestor
            .resolve_thread("bluesky", "h/a2", t0() + mins(92), "bob")
            .await
            .unwrap()
    );
    assert!(
        !ingestor
            .resolve_thread("bluesky", "h/a2", t0() + mins(93), "bob")
            .await
            .unwrap()
    );
    assert!(
        !ingestor
            .resolve_thread("bluesky", "h/zzz", t0(), "bob")
            .await
            .unwrap()
    );
    assert!(
        !ingestor
            .resolve_thread("mastodon", "h/a2", t0(), "bob")
            .await
            .unwrap()
    );
    assert_eq!(
        store.conversation(a).await.unwrap().conversation.status,
        "resolved"
    );
}

#[tokio::test]
async fn people_and_identities_are_created_once_per_platform_and_handle() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let on_mastodon = |mut m: NewMessage| {
        m.platform = "mastodon".into();
        m
    };
    let out = write(
        &store,
        &kit,
        &[
            kit.p3("i/1", "ann", "first", t0(), None),
            kit.p3("i/2", "ann", "second", t0() + mins(1), None),
            kit.p3("i/3", "ann", "reply", t0() + mins(2), Some("i/1")),
            kit.conv(
                on_mastodon(msg("i/4", "ann", "other ann", t0(), None)),
                None,
                Band::P3,
            ),
            kit.p3("i/5", "ben", "ben here", t0(), None),
            kit.prep(outbound(
                "i/6",
                "brand",
                "hi ann",
                t0() + mins(3),
                Some("i/1"),
            )),
        ],
    )
    .await;
    assert_eq!(out.inserted, 6);
    let counts = store.table_counts().await.unwrap();
    assert_eq!((counts["people"], counts["identities"]), (3, 3));

    // Later batches, other ingestors: nobody is created twice.
    write(
        &store,
        &kit,
        &[
            kit.p3("i/7", "ann", "third", t0() + mins(5), None),
            kit.conv(
                on_mastodon(msg("i/8", "ann", "again", t0() + mins(5), None)),
                None,
                Band::P3,
            ),
            kit.p3("i/9", "ben", "ben again", t0() + mins(5), None),
        ],
    )
    .await;
    let counts = store.table_counts().await.unwrap();
    assert_eq!((counts["people"], counts["identities"]), (3, 3));

    let person = |c: ConversationRow| c.person_id.unwrap();
    let conv = |id: &'static str| {
        let store = &store;
        async move {
            store
                .conversation(conv_of(store, id).await)
                .await
                .unwrap()
                .conversation
        }
    };
    let ann = person(conv("i/1").await);
    assert_eq!(person(conv("i/2").await), ann);
    assert_eq!(person(conv("i/7").await), ann);
    let ben = person(conv("i/5").await);
    assert_ne!(ben, ann);
    let c4 = store
        .conversation_of("mastodon", "i/4")
        .await
        .unwrap()
        .unwrap();
    let ann_m = store
        .conversation(c4)
        .await
        .unwrap()
        .conversation
        .person_id
        .unwrap();
    assert!(ann_m != ann && ann_m != ben);
    let p = store.person(ann).await.unwrap();
    assert_eq!(p.identities.len(), 1);
    assert_eq!(
        (
            p.identities[0].platform.as_str(),
            p.identities[0].handle.as_str()
        ),
        ("bluesky", "ann")
    );
    // Three conversations; four messages, the organisation's reply not among them.
    assert_eq!(p.conversations.len(), 3);
    assert_eq!(p.sentiment.len(), 4);
    assert_eq!(store.summary().await.unwrap().people, 3);
}

#[tokio::test]
async fn followers_are_the_last_seen_within_one_ingestor() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let with = |mut m: NewMessage, f: Option<u64>| {
        m.followers = f;
        m
    };
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    ingestor
        .write_batch(
            &[kit.prep(with(msg("f/1", "ann", "one", t0(), None), Some(50)))],
            &[],
        )
        .await
        .unwrap();
    ingestor
        .write_batch(
            &[kit.prep(with(msg("f/2", "ann", "two", t0(), None), Some(75)))],
            &[],
        )
        .await
        .unwrap();
    // Unknown followers do not erase what was known.
    ingestor
        .write_batch(
            &[kit.prep(with(msg("f/3", "ann", "three", t0(), None), None))],
            &[],
        )
        .await
        .unwrap();
    let pid = store
        .conversation(conv_of(&store, "f/1").await)
        .await
        .unwrap()
        .conversation
        .person_id
        .unwrap();
    let p = store.person(pid).await.unwrap();
    assert_eq!(p.identities[0].followers, Some(75));
    // Each message keeps the count it was stored with.
    let d = store
        .conversation(conv_of(&store, "f/2").await)
        .await
        .unwrap();
    assert_eq!(d.messages[0].followers, Some(75));
    let d = store
        .conversation(conv_of(&store, "f/1").await)
        .await
        .unwrap();
    assert_eq!(d.messages[0].followers, Some(50));
}

/// `IdentityRow::followers` is "followers there, last seen": a later run (a new
/// ingestor: the next import, a restarted server) sees a new count too.
#[tokio::test]
async fn followers_are_the_last_seen_across_ingestors() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let with = |mut m: NewMessage, f: u64| {
        m.followers = Some(f);
        m
    };
    write(
        &store,
        &kit,
        &[kit.prep(with(msg("f/1", "ann", "one", t0(), None), 50))],
    )
    .await;
    write(
        &store,
        &kit,
        &[kit.prep(with(msg("f/2", "ann", "two", t0(), None), 120))],
    )
    .await;
    let pid = store
        .conversation(conv_of(&store, "f/1").await)
        .await
        .unwrap()
        .conversation
        .person_id
        .unwrap();
    assert_eq!(
        store.person(pid).await.unwrap().identities[0].followers,
        Some(120)
    );
}

#[tokio::test]
async fn quarantine_rows_are_stored_and_listed() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let q = |source: &str, line: u64, reason: &str, raw: &str| QuarantineRow {
        source: source.into(),
        line,
        reason: reason.into(),
        raw: raw.into(),
    };
    let before = Utc::now().timestamp_millis();
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    let out = ingestor
        .write_batch(
            &[kit.prep(msg("q/1", "ann", "fine row", t0(), None))],
            &[
                q("b.csv", 2, "no text", "b,,"),
                q("a.csv", 7, "bad date", "x,2026-13-45,hi"),
                q("a.csv", 3, "no author", ",2026-11-02,\"quoted, text\""),
            ],
        )
        .await
        .unwrap();
    let after = Utc::now().timestamp_millis();
    assert_eq!(out.inserted, 1);
    assert_eq!(store.table_counts().await.unwrap()["quarantine"], 3);
    let list = store.quarantine(10).await.unwrap();
    let keys: Vec<(&str, i64)> = list.iter().map(|e| (e.source.as_str(), e.line)).collect();
    assert_eq!(keys, [("a.csv", 3), ("a.csv", 7), ("b.csv", 2)]);
    assert_eq!(list[0].reason, "no author");
    assert_eq!(list[0].raw, ",2026-11-02,\"quoted, text\"");
    assert_eq!(list[1].reason, "bad date");
    assert_eq!(list[2].raw, "b,,");
    for e in &list {
        let t = e.at.timestamp_millis();
        assert!(before <= t && t <= after, "{t} not in [{before}, {after}]");
    }
    assert_eq!(store.quarantine(2).await.unwrap().len(), 2);

    // Later: a quarantine-only batch; the same (source, line) again replaces its row.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let out = ingestor
        .write_batch(
            &[],
            &[
                q("a.csv", 3, "still no author", "v2"),
                q("c.csv", 1, "empty", ""),
            ],
        )
        .await
        .unwrap();
    assert_eq!(out, BatchOutcome::default());
    assert_eq!(store.table_counts().await.unwrap()["quarantine"], 4);
    let list = store.quarantine(10).await.unwrap();
    let keys: Vec<(&str, i64)> = list.iter().map(|e| (e.source.as_str(), e.line)).collect();
    // Newest first, then by source and line.
    assert_eq!(
        keys,
        [("a.csv", 3), ("c.csv", 1), ("a.csv", 7), ("b.csv", 2)]
    );
    assert_eq!(
        (list[0].reason.as_str(), list[0].raw.as_str()),
        ("still no author", "v2")
    );
    assert_eq!(list[1].raw, "");
    assert!(list[0].at > list[2].at);
}

#[tokio::test]
async fn a_channel_cursor_is_written_with_its_batch() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    assert_eq!(store.channel_cursor("bsky").await.unwrap(), None);
    let out = ingestor
        .write_batch_at(
            &[kit.prep(msg("c/1", "ann", "hello", t0(), None))],
            &[],
            Some(("bsky", "100")),
        )
        .await
        .unwrap();
    assert_eq!(out.inserted, 1);
    assert_eq!(
        store.channel_cursor("bsky").await.unwrap().as_deref(),
        Some("100")
    );
    assert_eq!(store.channel_cursor("masto").await.unwrap(), None);
    // Without a cursor the position stays; another channel has its own.
    ingestor
        .write_batch(&[kit.prep(msg("c/2", "ann", "again", t0(), None))], &[])
        .await
        .unwrap();
    ingestor
        .write_batch_at(&[], &[], Some(("masto", "m-7")))
        .await
        .unwrap();
    assert_eq!(
        store.channel_cursor("bsky").await.unwrap().as_deref(),
        Some("100")
    );
    assert_eq!(
        store.channel_cursor("masto").await.unwrap().as_deref(),
        Some("m-7")
    );
    // A batch of duplicates still moves its cursor (even backwards: it is the channel's word).
    ingestor
        .write_batch_at(
            &[kit.prep(msg("c/1", "ann", "hello", t0(), None))],
            &[],
            Some(("bsky", "099")),
        )
        .await
        .unwrap();
    assert_eq!(
        store.channel_cursor("bsky").await.unwrap().as_deref(),
        Some("099")
    );
}

/// A trigger that fails any quarantine row whose reason is `boom`: a way to make a batch
/// fail in the middle, on both backends.
async fn install_boom(db: &TestDb) {
    let pool = db.raw().await;
    match db.backend() {
        Backend::Sqlite => {
            sqlx::query(
                "CREATE TRIGGER boom BEFORE INSERT ON quarantine WHEN NEW.reason = 'boom' \
                 BEGIN SELECT RAISE(ABORT, 'boom'); END",
            )
            .execute(&pool)
            .await
            .unwrap();
        }
        Backend::Postgres => {
            sqlx::query(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.reason = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END; $$",
            )
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query(
                "CREATE TRIGGER boom BEFORE INSERT ON quarantine FOR EACH ROW EXECUTE FUNCTION boom()",
            )
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    pool.close().await;
}

async fn remove_boom(db: &TestDb) {
    let pool = db.raw().await;
    let sql = match db.backend() {
        Backend::Sqlite => "DROP TRIGGER boom",
        Backend::Postgres => "DROP TRIGGER boom ON quarantine",
    };
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

fn boom_row() -> QuarantineRow {
    QuarantineRow {
        source: "x.csv".into(),
        line: 1,
        reason: "boom".into(),
        raw: "x".into(),
    }
}

#[tokio::test]
async fn a_failed_batch_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    install_boom(&db).await;
    let batch = vec![
        kit.conv(
            msg("x/1", "ann", "help", t0(), None),
            Some("support"),
            Band::P2,
        ),
        kit.conv(
            msg("x/2", "ann", "please", t0() + mins(1), Some("x/1")),
            Some("support"),
            Band::P2,
        ),
        kit.conv(
            msg("x/3", "ben", "hello", t0(), None),
            Some("support"),
            Band::P2,
        ),
    ];
    let err = store
        .ingestor(&kit.config)
        .await
        .unwrap()
        .write_batch_at(&batch, &[boom_row()], Some(("bsky", "1")))
        .await;
    assert!(err.unwrap_err().to_string().contains("boom"));
    let counts = store.table_counts().await.unwrap();
    assert!(counts.values().all(|&n| n == 0), "{counts:?}");
    assert_eq!(store.channel_cursor("bsky").await.unwrap(), None);
    remove_boom(&db).await;

    // A fresh ingestor then stores it whole, assigning from the start of the rotation.
    let out = store
        .ingestor(&kit.config)
        .await
        .unwrap()
        .write_batch_at(&batch, &[], Some(("bsky", "1")))
        .await
        .unwrap();
    assert_eq!((out.inserted, out.conversations), (3, 2));
    assert_eq!(
        store.channel_cursor("bsky").await.unwrap().as_deref(),
        Some("1")
    );
    let a = store
        .conversation(conv_of(&store, "x/1").await)
        .await
        .unwrap();
    assert_eq!(a.conversation.assignee.as_deref(), Some("alice"));
    let b = store
        .conversation(conv_of(&store, "x/3").await)
        .await
        .unwrap();
    assert_eq!(b.conversation.assignee.as_deref(), Some("bob"));
}

/// `rapport serve` keeps one ingestor for its whole life and goes on after a failed
/// delivery: the ingestor must not remember what the failed transaction undid.
#[tokio::test]
async fn an_ingestor_goes_on_after_a_failed_batch() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    install_boom(&db).await;
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    let batch = vec![kit.prep(msg("y/1", "ann", "help", t0(), None))];
    assert!(ingestor.write_batch(&batch, &[boom_row()]).await.is_err());
    remove_boom(&db).await;
    let out = ingestor.write_batch(&batch, &[]).await.unwrap();
    assert_eq!(out.inserted, 1);
    let counts = store.table_counts().await.unwrap();
    assert_eq!((counts["people"], counts["messages"]), (1, 1));
}

// ---------------------------------------------------------------------------------------
// 2. Inbox
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_inbox_filters_by_status_team_band_assignee_and_intent() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    write(
        &store,
        &kit,
        &[
            kit.conv_as(
                msg("f/1", "ann", "broken", t0(), None),
                Some("support"),
                Band::P1,
                Intent::Complaint,
            ),
            kit.conv_as(
                msg("f/2", "ben", "how?", t0(), None),
                Some("support"),
                Band::P2,
                Intent::Question,
            ),
            kit.conv_as(
                msg("f/3", "cat", "invoice?", t0(), None),
                Some("billing"),
                Band::P3,
                Intent::Question,
            ),
            kit.conv_as(
                msg("f/4", "dan", "great", t0(), None),
                None,
                Band::P4,
                Intent::Praise,
            ),
            kit.conv_as(
                msg("f/5", "eve", "broken too", t0(), None),
                Some("support"),
                Band::P2,
                Intent::Complaint,
            ),
            kit.conv_as(
                msg("f/6", "fay", "buy 100", t0(), None),
                None,
                Band::P1,
                Intent::Lead,
            ),
        ],
    )
    .await;
    let mut c = vec![0];
    for i in 1..=6 {
        c.push(conv_of(&store, &format!("f/{i}")).await);
    }
    store
        .set_status(c[5], Status::Resolved, "alice", t0() + mins(1), None)
        .await
        .unwrap();
    store
        .set_status(c[6], Status::Pending, "bob", t0() + mins(1), None)
        .await
        .unwrap();
    let q = |f: InboxFilter| {
        let store = &store;
        async move { sorted(inbox_ids(store, f).await) }
    };
    let set = |idx: &[usize]| sorted(idx.iter().map(|&i| c[i]).collect());

    assert_eq!(q(all()).await, set(&[1, 2, 3, 4, 5, 6]));
    let status = |s| InboxFilter {
        status: Some(s),
        ..all()
    };
    assert_eq!(q(status(Status::Open)).await, set(&[1, 2, 3, 4]));
    assert_eq!(q(status(Status::Resolved)).await, set(&[5]));
    assert_eq!(q(status(Status::Pending)).await, set(&[6]));
    assert_eq!(q(status(Status::Snoozed)).await, set(&[]));
    let team = |t: &str| InboxFilter {
        team: Some(t.into()),
        ..all()
    };
    assert_eq!(q(team("support")).await, set(&[1, 2, 5]));
    assert_eq!(q(team("billing")).await, set(&[3]));
    assert_eq!(q(team("unrouted")).await, set(&[4, 6]));
    assert_eq!(q(team("nobody")).await, set(&[]));
    let band = |b| InboxFilter {
        band: Some(b),
        ..all()
    };
    assert_eq!(q(band(Band::P1)).await, set(&[1, 6]));
    assert_eq!(q(band(Band::P2)).await, set(&[2, 5]));
    assert_eq!(q(band(Band::P4)).await, set(&[4]));
    // Round robin: alice, bob, alice.
    let assignee = |a: &str| InboxFilter {
        assignee: Some(a.into()),
        ..all()
    };
    assert_eq!(q(assignee("alice")).await, set(&[1, 5]));
    assert_eq!(q(assignee("bob")).await, set(&[2]));
    assert_eq!(q(assignee("none")).await, set(&[3, 4, 6]));
    let intent = |i| InboxFilter {
        intent: Some(i),
        ..all()
    };
    assert_eq!(q(intent(Intent::Complaint)).await, set(&[1, 5]));
    assert_eq!(q(intent(Intent::Question)).await, set(&[2, 3]));
    assert_eq!(q(intent(Intent::Spam)).await, set(&[]));
    // Filters combine.
    let combined = InboxFilter {
        team: Some("support".into()),
        status: Some(Status::Open),
        assignee: Some("alice".into()),
        ..all()
    };
    assert_eq!(q(combined).await, set(&[1]));
    // The limit.
    let two = inbox_ids(&store, InboxFilter { limit: 2, ..all() }).await;
    assert_eq!(two.len(), 2);
    assert_eq!(two, inbox_ids(&store, all()).await[..2]);
    // The rows say what they are.
    let rows = store.inbox(&team("billing")).await.unwrap();
    let r = &rows[0];
    assert_eq!(
        (
            r.platform.as_str(),
            r.author.as_str(),
            r.team.as_deref(),
            r.assignee.as_deref()
        ),
        ("bluesky", "cat", Some("billing"), None)
    );
    assert_eq!(
        (r.status.as_str(), r.priority, r.intent.as_str()),
        ("open", Band::P3, "question")
    );
    assert_eq!((r.snippet.as_str(), r.message_count), ("invoice?", 1));
}

#[tokio::test]
async fn the_inbox_text_search_ignores_case_and_takes_wildcards_literally() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let texts = [
        ("s/1", "LampFan", "My Lamp is BROKEN"),
        ("s/2", "ann", "50% off everything"),
        ("s/3", "ann", "500 off everything"),
        ("s/4", "ben", "ask my_name please"),
        ("s/5", "ben", "ask myXname please"),
        ("s/6", "cat", r"see C:\temp\x"),
        ("s/7", "cat", "你好，世界"),
        ("s/8", "o'brien", "it's 'quoted'"),
    ];
    let batch: Vec<Prepared> = texts
        .iter()
        .map(|(id, a, t)| kit.p3(id, a, t, t0(), None))
        .collect();
    write(&store, &kit, &batch).await;
    let mut c = BTreeMap::new();
    for (id, _, _) in texts {
        c.insert(id, conv_of(&store, id).await);
    }
    let search = |t: &str| {
        let store = &store;
        let f = InboxFilter {
            text: Some(t.into()),
            ..all()
        };
        async move { sorted(inbox_ids(store, f).await) }
    };
    let set = |ids: &[&str]| sorted(ids.iter().map(|i| c[i]).collect());
    assert_eq!(search("lamp").await, set(&["s/1"]));
    assert_eq!(search("LAMP").await, set(&["s/1"]));
    assert_eq!(search("broken").await, set(&["s/1"]));
    // The author matches too.
    assert_eq!(search("lampfan").await, set(&["s/1"]));
    assert_eq!(search("BEN").await, set(&["s/4", "s/5"]));
    // `%`, `_` and `\` are themselves.
    assert_eq!(search("50%").await, set(&["s/2"]));
    assert_eq!(search("%").await, set(&["s/2"]));
    assert_eq!(search("my_name").await, set(&["s/4"]));
    assert_eq!(search("_").await, set(&["s/4"]));
    assert_eq!(search(r"C:\temp").await, set(&["s/6"]));
    assert_eq!(search(r"\").await, set(&["s/6"]));
    assert_eq!(search("世界").await, set(&["s/7"]));
    assert_eq!(search("'quoted'").await, set(&["s/8"]));
    assert_eq!(search("o'b").await, set(&["s/8"]));
    assert_eq!(search("nothing like it").await, set(&[]));
    // An empty search is no filter.
    assert_eq!(search("").await.len(), 8);
    // Search and other filters combine.
    let f = InboxFilter {
        text: Some("off".into()),
        band: Some(Band::P1),
        ..all()
    };
    assert!(store.inbox(&f).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_inbox_is_ordered_by_band_then_due_then_opened_then_id() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    // Written in a scrambled order so that ids alone do not give the answer.
    let specs: [(&str, Band, i64); 10] = [
        ("h", Band::P4, 300),
        ("a", Band::P1, 60),
        ("f", Band::P3, -60),
        ("d", Band::P2, 0),
        ("b", Band::P1, 50),
        ("g", Band::P3, -120),
        ("e", Band::P2, 0),
        ("j", Band::P3, 0),
        ("c", Band::P1, 0),
        ("i", Band::P2, -60),
    ];
    let batch: Vec<Prepared> = specs
        .iter()
        .map(|(id, band, m)| kit.conv(msg(id, "ann", id, t0() + mins(*m), None), None, *band))
        .collect();
    write(&store, &kit, &batch).await;
    let mut c = BTreeMap::new();
    for (id, _, _) in specs {
        c.insert(id, conv_of(&store, id).await);
    }
    // Nothing due once answered.
    for id in ["c", "f", "g"] {
        store
            .reply(c[id], "answered", "alice", t0() + mins(1))
            .await
            .unwrap();
    }
    // Due at the same time as d and e, but opened before them.
    store
        .set_status(c["i"], Status::Resolved, "alice", t0(), None)
        .await
        .unwrap();
    store
        .set_status(c["i"], Status::Open, "alice", t0(), Some(t0() + mins(60)))
        .await
        .unwrap();
    let rows = store.inbox(&all()).await.unwrap();
    let expected: Vec<i64> = ["b", "a", "c", "i", "d", "e", "j", "g", "f", "h"]
        .iter()
        .map(|id| c[id])
        .collect();
    assert_eq!(ids(&rows), expected);
    let due: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.due_at).collect();
    assert_eq!(
        due,
        [
            Some(t0() + mins(65)),
            Some(t0() + mins(75)),
            None,
            Some(t0() + mins(60)),
            Some(t0() + mins(60)),
            Some(t0() + mins(60)),
            Some(t0() + mins(240)),
            None,
            None,
            Some(t0() + mins(300 + 1440)),
        ]
    );
    // The same order holds within a filter.
    let open = InboxFilter {
        status: Some(Status::Open),
        band: Some(Band::P2),
        ..all()
    };
    assert_eq!(inbox_ids(&store, open).await, [c["i"], c["d"], c["e"]]);
}

#[tokio::test]
async fn inbox_pages_give_every_row_exactly_once() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let batch: Vec<Prepared> = (0..25)
        .map(|i| {
            kit.conv(
                msg(
                    &format!("pg/{i}"),
                    "ann",
                    &format!("row {i}"),
                    t0() + mins(i % 5),
                    None,
                ),
                None,
                Band::ALL[(i % 4) as usize],
            )
        })
        .collect();
    write(&store, &kit, &batch).await;
    for i in (0..25).step_by(3) {
        let c = conv_of(&store, &format!("pg/{i}")).await;
        store
            .reply(c, "done", "alice", t0() + mins(30))
            .await
            .unwrap();
    }
    let full = store.inbox(&all()).await.unwrap();
    assert_eq!(full.len(), 25);
    let keys: Vec<_> = full.iter().map(order_key).collect();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(keys, want, "the inbox is not in its documented order");
    assert_eq!(full.iter().filter(|r| r.due_at.is_none()).count(), 9);

    let page = |after: Option<InboxCursor>| {
        let store = &store;
        let f = InboxFilter {
            limit: 7,
            after,
            ..all()
        };
        async move { store.inbox(&f).await.unwrap() }
    };
    let mut seen: Vec<i64> = Vec::new();
    let mut after = None;
    let mut sizes = Vec::new();
    let mut added = None;
    loop {
        let rows = page(after).await;
        sizes.push(rows.len());
        seen.extend(ids(&rows));
        let Some(last) = rows.last() else { break };
        let cursor = InboxCursor::after(last);
        // The cursor survives its text form (an API's next_cursor).
        assert_eq!(InboxCursor::decode(&cursor.encode()), Some(cursor));
        after = InboxCursor::decode(&cursor.encode());
        if sizes.len() == 2 {
            // Added while paging: one that sorts before the cursor (never shown), one
            // after (shown on a later page).
            write(
                &store,
                &kit,
                &[
                    kit.conv(
                        msg("pg/early", "ben", "urgent", t0() - mins(1440), None),
                        None,
                        Band::P1,
                    ),
                    kit.conv(
                        msg("pg/late", "ben", "later", t0() + mins(100_000), None),
                        None,
                        Band::P4,
                    ),
                ],
            )
            .await;
            added = Some((
                conv_of(&store, "pg/early").await,
                conv_of(&store, "pg/late").await,
            ));
        }
        if rows.len() < 7 {
            break;
        }
    }
    let (early, late) = added.unwrap();
    // Every row once, in order: the original ones and the one added after the cursor.
    let now_full = inbox_ids(&store, all()).await;
    assert_eq!(now_full.len(), 27);
    let expected: Vec<i64> = now_full.iter().copied().filter(|&id| id != early).collect();
    assert_eq!(seen, expected);
    assert!(seen.contains(&late));
    assert!(!seen.contains(&early));
    assert_eq!(sizes, [7, 7, 7, 5]);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 26);
    // The new row is first in a fresh listing.
    assert_eq!(inbox_ids(&store, all()).await[0], early);

    // Pages of a filtered inbox.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let f = InboxFilter {
            status: Some(Status::Open),
            band: Some(Band::P2),
            limit: 2,
            after,
            ..all()
        };
        let rows = store.inbox(&f).await.unwrap();
        paged.extend(ids(&rows));
        match rows.last() {
            Some(last) if rows.len() == 2 => after = Some(InboxCursor::after(last)),
            _ => break,
        }
    }
    let f = InboxFilter {
        status: Some(Status::Open),
        band: Some(Band::P2),
        ..all()
    };
    let whole = inbox_ids(&store, f).await;
    assert_eq!(whole.len(), 6);
    assert_eq!(paged, whole);
    // Garbage is no cursor.
    assert_eq!(InboxCursor::decode("1.2.3"), None);
    assert_eq!(InboxCursor::decode("1.5.3.4.5"), None);
    assert_eq!(InboxCursor::decode("a.b.c.d.e"), None);
}

#[tokio::test]
async fn the_inbox_by_score_puts_the_highest_score_first() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let scores = [0.5, 0.9, 0.5, 0.1, 0.9];
    let batch: Vec<Prepared> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut p = kit.conv(
                msg(&format!("sc/{i}"), "ann", "x", t0(), None),
                None,
                Band::ALL[i % 4],
            );
            p.triage.priority.score = *s;
            p
        })
        .collect();
    write(&store, &kit, &batch).await;
    let mut c = Vec::new();
    for i in 0..5 {
        c.push(conv_of(&store, &format!("sc/{i}")).await);
    }
    let by_score = InboxFilter {
        by_score: true,
        ..all()
    };
    let rows = store.inbox(&by_score).await.unwrap();
    assert_eq!(ids(&rows), [c[1], c[4], c[0], c[2], c[3]]);
    assert_eq!(
        rows.iter().map(|r| r.priority_score).collect::<Vec<_>>(),
        [0.9, 0.9, 0.5, 0.5, 0.1]
    );
    let top = InboxFilter {
        limit: 3,
        ..by_score.clone()
    };
    assert_eq!(inbox_ids(&store, top).await, [c[1], c[4], c[0]]);
    store
        .set_status(c[4], Status::Resolved, "alice", t0(), None)
        .await
        .unwrap();
    let open = InboxFilter {
        status: Some(Status::Open),
        ..by_score
    };
    assert_eq!(inbox_ids(&store, open).await, [c[1], c[0], c[2], c[3]]);
}

// ---------------------------------------------------------------------------------------
// 3. Actions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reply_is_the_first_response_and_stops_the_clock() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(
        &store,
        &kit,
        &[
            kit.p3("r/1", "ann", "where is my parcel?", t0(), None),
            kit.p3("r/2", "ann", "hello??", t0() + mins(5), Some("r/1")),
        ],
    )
    .await;
    let c = conv_of(&store, "r/1").await;
    let now = at("2026-11-02T09:20:00.456Z");
    let out = store.reply(c, "On it!", "alice", now).await.unwrap();
    assert_eq!(out.conversation_id, c);
    assert!(out.first_response);
    assert_eq!(out.outbox_id, None);
    let d = store.conversation(c).await.unwrap();
    let row = &d.conversation;
    assert_eq!(row.first_response_at, Some(now));
    assert_eq!(row.due_at, None);
    assert_eq!(row.first_due_at, Some(t0() + mins(240)));
    assert_eq!(row.message_count, 3);
    assert_eq!(row.last_message_at, now);
    assert_eq!(row.status, "open");
    let m = d.messages.last().unwrap();
    assert_eq!(m.id, out.message_id);
    assert_eq!(
        (m.direction.as_str(), m.author.as_str(), m.text.as_str()),
        ("outbound", "alice", "On it!")
    );
    assert_eq!(m.platform, "bluesky");
    assert!(!m.automated);
    assert_eq!(m.created_at, now);
    // It answers the latest inbound message.
    assert_eq!(m.in_reply_to.as_deref(), Some("r/2"));
    assert!(
        m.platform_id.starts_with("rapport-reply-"),
        "{}",
        m.platform_id
    );
    assert_eq!(store.message(out.message_id).await.unwrap().text, "On it!");
    assert_eq!(event_kinds(&d), ["opened", "replied"]);
    let e = &d.events[1];
    assert_eq!(
        (e.actor.as_str(), e.at, e.conversation_id),
        ("alice", now, Some(c))
    );
    assert_eq!(e.data, json!({"text": "On it!"}));

    // A second reply is not the first response.
    let later = now + mins(5);
    let again = store.reply(c, "Sent.", "bob", later).await.unwrap();
    assert!(!again.first_response);
    assert_ne!(again.message_id, out.message_id);
    let row = store.conversation(c).await.unwrap().conversation;
    assert_eq!(row.first_response_at, Some(now));
    assert_eq!(row.last_message_at, later);
    assert_eq!(row.message_count, 4);
    assert_eq!(store.overdue(t0() + mins(100_000)).await.unwrap(), 0);

    // A new inbound message after the reply starts a new clock.
    write(
        &store,
        &kit,
        &[kit.p3("r/3", "ann", "not arrived", t0() + mins(60), Some("r/1"))],
    )
    .await;
    let row = store.conversation(c).await.unwrap().conversation;
    assert_eq!(row.due_at, Some(t0() + mins(60 + 240)));
    assert_eq!(row.first_response_at, Some(now));

    is_invalid(store.reply(c, "  \n ", "alice", now).await);
    is_not_found(
        store.reply(987_654, "hi", "alice", now).await,
        "conversation",
        987_654,
    );
    // Nothing was stored by the refused ones.
    assert_eq!(store.conversation(c).await.unwrap().messages.len(), 5);
}

#[tokio::test]
async fn assign_sets_the_assignee_or_moves_to_a_team() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    write(
        &store,
        &kit,
        &[kit.conv(
            msg("a/1", "ann", "help", t0(), None),
            Some("support"),
            Band::P2,
        )],
    )
    .await;
    let c = conv_of(&store, "a/1").await;
    let row = store.conversation(c).await.unwrap().conversation;
    assert_eq!(
        (row.team.as_deref(), row.assignee.as_deref()),
        (Some("support"), Some("alice"))
    );

    let now = t0() + mins(3);
    store
        .assign(c, Some("carol"), None, "lead", now)
        .await
        .unwrap();
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.conversation.assignee.as_deref(), Some("carol"));
    assert_eq!(d.conversation.team.as_deref(), Some("support"));
    let e = d.events.last().unwrap();
    assert_eq!(
        (e.kind.as_str(), e.actor.as_str(), e.at),
        ("assigned", "lead", now)
    );
    assert_eq!(e.data, json!({"from": "alice", "to": "carol"}));

    store
        .assign(c, None, Some("billing"), "lead", now + mins(1))
        .await
        .unwrap();
    let d = store.conversation(c).await.unwrap();
    assert_eq!(
        (
            d.conversation.team.as_deref(),
            d.conversation.assignee.as_deref()
        ),
        (Some("billing"), None)
    );
    let e = d.events.last().unwrap();
    assert_eq!(e.kind, "team");
    assert_eq!(e.data, json!({"from": "support", "to": "billing"}));

    store
        .assign(c, Some("dave"), Some("support"), "lead", now + mins(2))
        .await
        .unwrap();
    let d = store.conversation(c).await.unwrap();
    assert_eq!(
        (
            d.conversation.team.as_deref(),
            d.conversation.assignee.as_deref()
        ),
        (Some("support"), Some("dave"))
    );
    let n = d.events.len();
    assert_eq!(
        event_kinds(&d)[n - 2..],
        ["team".to_string(), "assigned".to_string()]
    );
    assert_eq!(d.events[n - 1].data, json!({"from": null, "to": "dave"}));
    assert_eq!(
        inbox_ids(
            &store,
            InboxFilter {
                assignee: Some("dave".into()),
                ..all()
            }
        )
        .await,
        [c]
    );
    assert!(
        inbox_ids(
            &store,
            InboxFilter {
                assignee: Some("alice".into()),
                ..all()
            }
        )
        .await
        .is_empty()
    );
    is_not_found(
        store.assign(424_242, Some("x"), None, "lead", now).await,
        "conversation",
        424_242,
    );
}

#[tokio::test]
async fn resolve_and_reopen() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(
        &store,
        &kit,
        &[kit.conv(msg("st/1", "ann", "help", t0(), None), None, Band::P2)],
    )
    .await;
    let c = conv_of(&store, "st/1").await;
    let resolved_at = at("2026-11-02T10:00:00.789Z");
    assert!(
        store
            .set_status(c, Status::Resolved, "alice", resolved_at, None)
            .await
            .unwrap()
    );
    let d = store.conversation(c).await.unwrap();
    assert_eq!(
        (d.conversation.status.as_str(), d.conversation.due_at),
        ("resolved", None)
    );
    let stored = raw_int(
        &db,
        "SELECT resolved_at FROM conversations WHERE id = $1",
        c,
    )
    .await;
    assert_eq!(stored, Some(resolved_at.timestamp_millis()));
    let e = d.events.last().unwrap();
    assert_eq!(
        (e.kind.as_str(), e.actor.as_str(), e.at),
        ("status", "alice", resolved_at)
    );
    assert_eq!(e.data, json!({"from": "open", "to": "resolved"}));
    // Already resolved: nothing happens.
    assert!(
        !store
            .set_status(c, Status::Resolved, "bob", resolved_at + mins(1), None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.conversation(c).await.unwrap().events.len(),
        d.events.len()
    );
    assert_eq!(store.summary().await.unwrap().by_status["resolved"], 1);

    // Reopened with a new clock.
    let reopened_at = resolved_at + mins(30);
    let due = reopened_at + mins(60);
    assert!(
        store
            .set_status(c, Status::Open, "bob", reopened_at, Some(due))
            .await
            .unwrap()
    );
    let d = store.conversation(c).await.unwrap();
    assert_eq!(
        (d.conversation.status.as_str(), d.conversation.due_at),
        ("open", Some(due))
    );
    let e = d.events.last().unwrap();
    assert_eq!(
        (e.kind.as_str(), e.actor.as_str(), e.at),
        ("reopened", "bob", reopened_at)
    );
    assert_eq!(e.data, json!({"to": "open"}));
    assert_eq!(store.overdue(due).await.unwrap(), 0);
    assert_eq!(
        store
            .overdue(due + Duration::milliseconds(1))
            .await
            .unwrap(),
        1
    );

    // Other statuses keep the clock, and say so in the log.
    assert!(
        store
            .set_status(c, Status::Pending, "bob", reopened_at, None)
            .await
            .unwrap()
    );
    let d = store.conversation(c).await.unwrap();
    assert_eq!(
        (d.conversation.status.as_str(), d.conversation.due_at),
        ("pending", Some(due))
    );
    assert_eq!(
        d.events.last().unwrap().data,
        json!({"from": "open", "to": "pending"})
    );
    assert!(
        store
            .set_status(c, Status::Snoozed, "bob", reopened_at, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.conversation(c).await.unwrap().conversation.status,
        "snoozed"
    );
    // Resolved from snoozed, then reopened to pending.
    assert!(
        store
            .set_status(c, Status::Resolved, "bob", reopened_at + mins(1), None)
            .await
            .unwrap()
    );
    assert!(
        store
            .set_status(c, Status::Pending, "bob", reopened_at + mins(2), None)
            .await
            .unwrap()
    );
    let d = store.conversation(c).await.unwrap();
    assert_eq!(
        (d.conversation.status.as_str(), d.conversation.due_at),
        ("pending", None)
    );
    assert_eq!(
        event_kinds(&d),
        [
            "opened", "status", "reopened", "status", "status", "status", "reopened"
        ]
    );
    assert_eq!(d.events.last().unwrap().data, json!({"to": "pending"}));
    is_not_found(
        store
            .set_status(55_555, Status::Resolved, "bob", t0(), None)
            .await,
        "conversation",
        55_555,
    );
}

#[tokio::test]
async fn notes_and_labels() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(&store, &kit, &[kit.p3("nl/1", "ann", "hi", t0(), None)]).await;
    let c = conv_of(&store, "nl/1").await;
    let n1 = t0() + mins(1);
    store
        .note(c, "VIP customer — be nice", "alice", n1)
        .await
        .unwrap();
    store
        .note(c, "called them", "bob", n1 + mins(1))
        .await
        .unwrap();
    is_invalid(store.note(c, " \t", "bob", n1).await);
    is_not_found(
        store.note(31_337, "x", "bob", n1).await,
        "conversation",
        31_337,
    );

    assert!(store.label(c, "vip", "alice", n1).await.unwrap());
    assert!(!store.label(c, "vip", "bob", n1).await.unwrap());
    assert!(!store.label(c, "  vip ", "bob", n1).await.unwrap());
    assert!(store.label(c, "refund", "bob", n1).await.unwrap());
    is_invalid(store.label(c, "   ", "bob", n1).await);
    is_not_found(
        store.label(31_337, "x", "bob", n1).await,
        "conversation",
        31_337,
    );

    let d = store.conversation(c).await.unwrap();
    let notes: Vec<(&str, &str, DateTime<Utc>)> = d
        .notes
        .iter()
        .map(|n| (n.author.as_str(), n.text.as_str(), n.at))
        .collect();
    assert_eq!(
        notes,
        [
            ("alice", "VIP customer — be nice", n1),
            ("bob", "called them", n1 + mins(1))
        ]
    );
    assert_eq!(d.labels, ["refund", "vip"]);
    assert_eq!(
        event_kinds(&d),
        ["opened", "note", "note", "labelled", "labelled"]
    );
    assert_eq!(d.events[1].data, json!({"text": "VIP customer — be nice"}));
    assert_eq!(d.events[3].data, json!({"label": "vip"}));
    assert_eq!(d.events[3].actor, "alice");
    // Notes are private: no message was added.
    assert_eq!(d.conversation.message_count, 1);
}

#[tokio::test]
async fn overdue_counts_what_is_past_due() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(
        &store,
        &kit,
        &[
            kit.conv(msg("o/1", "ann", "a", t0(), None), None, Band::P1),
            kit.conv(msg("o/2", "ben", "b", t0(), None), None, Band::P2),
            kit.p3("o/3", "cat", "c", t0(), None),
        ],
    )
    .await;
    let [a, b, c] = [
        conv_of(&store, "o/1").await,
        conv_of(&store, "o/2").await,
        conv_of(&store, "o/3").await,
    ];
    assert_eq!(
        store.conversation_of("bluesky", "o/2").await.unwrap(),
        Some(b)
    );
    let ms = Duration::milliseconds;
    assert_eq!(store.overdue(t0()).await.unwrap(), 0);
    // Due at exactly the due time is not yet overdue.
    assert_eq!(store.overdue(t0() + mins(15)).await.unwrap(), 0);
    assert_eq!(store.overdue(t0() + mins(15) + ms(1)).await.unwrap(), 1);
    assert_eq!(store.overdue(t0() + mins(61)).await.unwrap(), 2);
    assert_eq!(store.overdue(t0() + mins(241)).await.unwrap(), 3);
    store
        .reply(a, "hi", "alice", t0() + mins(62))
        .await
        .unwrap();
    assert_eq!(store.overdue(t0() + mins(62)).await.unwrap(), 1);
    store
        .set_status(b, Status::Resolved, "alice", t0() + mins(63), None)
        .await
        .unwrap();
    assert_eq!(store.overdue(t0() + mins(300)).await.unwrap(), 1);
    store
        .reply(c, "hi", "alice", t0() + mins(300))
        .await
        .unwrap();
    assert_eq!(store.overdue(t0() + mins(100_000)).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------
// 4. Outbox
// ---------------------------------------------------------------------------------------

fn via(channel: &str, request: &str) -> Option<SendVia> {
    Some(SendVia {
        channel: channel.into(),
        request: request.into(),
    })
}

#[tokio::test]
async fn a_reply_via_a_channel_waits_in_the_outbox_until_sent() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(&store, &kit, &[kit.p3("ob/1", "ann", "help", t0(), None)]).await;
    let c = conv_of(&store, "ob/1").await;
    let now = t0() + mins(10);
    let request = r#"{"status":"On it!","in_reply_to_id":"ob/1"}"#;
    let out = store
        .reply_via(c, "On it!", "alice", now, via("masto", request))
        .await
        .unwrap();
    let ob = out.outbox_id.unwrap();
    assert!(out.first_response);
    let row = store.outbox_row(ob).await.unwrap();
    assert_eq!(
        (row.id, row.message_id, row.conversation_id),
        (ob, out.message_id, c)
    );
    assert_eq!(row.channel, "masto");
    assert_eq!(
        row.idempotency_key,
        format!("rapport-reply-{c}-{}", out.message_id)
    );
    assert_eq!(row.request, request);
    assert_eq!(
        (
            row.state.as_str(),
            row.attempts,
            row.last_error.clone(),
            row.remote_id.clone()
        ),
        ("pending", 0, None, None)
    );
    // The reply is recorded already.
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.conversation.first_response_at, Some(now));
    assert_eq!(d.messages.last().unwrap().id, out.message_id);
    assert_eq!(d.outbox.iter().map(|o| o.id).collect::<Vec<_>>(), [ob]);

    let pending = |ch: Option<&'static str>| {
        let store = &store;
        async move {
            store
                .pending_outbox(ch)
                .await
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(pending(None).await, [ob]);
    assert_eq!(pending(Some("masto")).await, [ob]);
    assert!(pending(Some("bsky")).await.is_empty());
    // Touched at `now`: left alone by a sweep of rows untouched since before it.
    assert!(
        store
            .pending_outbox_since(None, Some(now - mins(1)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .pending_outbox_since(None, Some(now))
            .await
            .unwrap()
            .len(),
        1
    );

    // A failed attempt that may be retried: still pending.
    store
        .outbox_failed(ob, "timeout", false, now + mins(1))
        .await
        .unwrap();
    let row = store.outbox_row(ob).await.unwrap();
    assert_eq!(
        (row.state.as_str(), row.attempts, row.last_error.as_deref()),
        ("pending", 1, Some("timeout"))
    );
    assert_eq!(pending(None).await, [ob]);
    assert_eq!(
        row.idempotency_key,
        format!("rapport-reply-{c}-{}", out.message_id)
    );
    assert!(
        store
            .pending_outbox_since(None, Some(now))
            .await
            .unwrap()
            .is_empty()
    );

    // Sent: the message takes the post's id and address.
    let url = "https://masto.example/@brand/109";
    store
        .outbox_sent(ob, "109", Some(url), now + mins(2))
        .await
        .unwrap();
    let row = store.outbox_row(ob).await.unwrap();
    assert_eq!(
        (row.state.as_str(), row.attempts, row.last_error.clone()),
        ("sent", 2, None)
    );
    assert_eq!(row.remote_id.as_deref(), Some("109"));
    assert!(pending(None).await.is_empty());
    let m = store.message(out.message_id).await.unwrap();
    assert_eq!(
        (m.platform_id.as_str(), m.url.as_deref()),
        ("109", Some(url))
    );
    assert_eq!(
        store.conversation_of("bluesky", "109").await.unwrap(),
        Some(c)
    );
    let d = store.conversation(c).await.unwrap();
    let e = d.events.last().unwrap();
    assert_eq!(
        (e.kind.as_str(), e.actor.as_str(), e.at),
        ("reply_sent", "rapport", now + mins(2))
    );
    assert_eq!(
        e.data,
        json!({"outbox": ob, "message": out.message_id, "remote_id": "109", "url": url})
    );
    // Sent twice is sent once.
    store
        .outbox_sent(ob, "110", None, now + mins(3))
        .await
        .unwrap();
    assert_eq!(store.outbox_row(ob).await.unwrap().attempts, 2);
    assert_eq!(
        store.message(out.message_id).await.unwrap().platform_id,
        "109"
    );
    // A failure reported after it was sent changes nothing.
    store
        .outbox_failed(ob, "late", true, now + mins(4))
        .await
        .unwrap();
    assert_eq!(store.outbox_row(ob).await.unwrap().state, "sent");
    assert_eq!(
        store.conversation(c).await.unwrap().events.len(),
        d.events.len()
    );
    is_not_found(store.outbox_row(999_999).await, "outbox entry", 999_999);
    is_not_found(
        store.outbox_sent(999_999, "x", None, now).await,
        "outbox entry",
        999_999,
    );
}

#[tokio::test]
async fn a_reply_the_platform_refuses_is_given_up() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(&store, &kit, &[kit.p3("ob/1", "ann", "help", t0(), None)]).await;
    let c = conv_of(&store, "ob/1").await;
    let first = store
        .reply_via(c, "one", "alice", t0() + mins(1), via("bsky", "{}"))
        .await
        .unwrap();
    let plain = store
        .reply(c, "kept here only", "alice", t0() + mins(2))
        .await
        .unwrap();
    assert_eq!(plain.outbox_id, None);
    let second = store
        .reply_via(c, "two", "alice", t0() + mins(3), via("bsky", "{\"n\":2}"))
        .await
        .unwrap();
    let (ob1, ob2) = (first.outbox_id.unwrap(), second.outbox_id.unwrap());
    assert!(ob2 > ob1);
    assert_eq!(
        store
            .pending_outbox(None)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        [ob1, ob2]
    );
    store
        .outbox_failed(ob1, "reply too long", true, t0() + mins(4))
        .await
        .unwrap();
    let row = store.outbox_row(ob1).await.unwrap();
    assert_eq!(
        (row.state.as_str(), row.attempts, row.last_error.as_deref()),
        ("failed", 1, Some("reply too long"))
    );
    assert_eq!(
        store
            .pending_outbox(None)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        [ob2]
    );
    // Given up is final.
    store
        .outbox_failed(ob1, "again", false, t0() + mins(5))
        .await
        .unwrap();
    assert_eq!(store.outbox_row(ob1).await.unwrap().attempts, 1);
    let d = store.conversation(c).await.unwrap();
    let e = d.events.iter().find(|e| e.kind == "reply_failed").unwrap();
    assert_eq!(e.data, json!({"outbox": ob1, "error": "reply too long"}));
    assert_eq!(
        d.events.iter().filter(|e| e.kind == "reply_failed").count(),
        1
    );
    // The recorded reply stays in the conversation.
    assert!(
        d.messages
            .iter()
            .any(|m| m.id == first.message_id && m.text == "one")
    );
    let rows = store.conversation_outbox(c).await.unwrap();
    let states: Vec<(i64, &str)> = rows.iter().map(|o| (o.id, o.state.as_str())).collect();
    assert_eq!(states, [(ob1, "failed"), (ob2, "pending")]);
    assert_eq!(d.outbox.len(), 2);
    assert!(store.conversation_outbox(777_777).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_sent_reply_already_streamed_back_is_stored_once() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(&store, &kit, &[kit.p3("sb/1", "ann", "help", t0(), None)]).await;
    let c = conv_of(&store, "sb/1").await;
    let out = store
        .reply_via(c, "On it!", "alice", t0() + mins(1), via("bsky", "{}"))
        .await
        .unwrap();
    // The platform's stream delivers the post before the sender records it as sent.
    let copy = kit.prep(outbound(
        "at://brand/post/1",
        "brand.example",
        "On it!",
        t0() + mins(1),
        Some("sb/1"),
    ));
    write(&store, &kit, std::slice::from_ref(&copy)).await;
    assert_eq!(
        store
            .conversation(c)
            .await
            .unwrap()
            .conversation
            .message_count,
        3
    );
    store
        .outbox_sent(
            out.outbox_id.unwrap(),
            "at://brand/post/1",
            None,
            t0() + mins(2),
        )
        .await
        .unwrap();
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.messages.len(), 2);
    assert_eq!(d.conversation.message_count, 2);
    assert_eq!(d.messages[1].id, out.message_id);
    assert_eq!(d.messages[1].platform_id, "at://brand/post/1");
    assert_eq!(store.table_counts().await.unwrap()["messages"], 2);
    // The stream delivering it again stores nothing.
    let again = write(&store, &kit, &[copy]).await;
    assert_eq!((again.inserted, again.duplicates), (0, 1));
}

// ---------------------------------------------------------------------------------------
// 5. Reads
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_conversation_detail_holds_its_messages_events_and_notes_in_order() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    // Replies written out of time order.
    write(
        &store,
        &kit,
        &[
            kit.conv(
                msg("d/1", "ann", "root", t0(), None),
                Some("support"),
                Band::P2,
            ),
            kit.conv(
                msg("d/3", "ann", "third", t0() + mins(10), Some("d/1")),
                Some("support"),
                Band::P2,
            ),
            kit.conv(
                msg("d/2", "ben", "second", t0() + mins(5), Some("d/1")),
                Some("support"),
                Band::P2,
            ),
        ],
    )
    .await;
    let c = conv_of(&store, "d/1").await;
    store
        .note(c, "later note", "bob", t0() + mins(30))
        .await
        .unwrap();
    store
        .reply(c, "answer", "alice", t0() + mins(20))
        .await
        .unwrap();
    store
        .note(c, "earlier note", "alice", t0() + mins(15))
        .await
        .unwrap();
    store
        .label(c, "zeta", "alice", t0() + mins(31))
        .await
        .unwrap();
    store
        .label(c, "alpha", "alice", t0() + mins(31))
        .await
        .unwrap();
    store
        .set_status(c, Status::Resolved, "alice", t0() + mins(32), None)
        .await
        .unwrap();

    let d = store.conversation(c).await.unwrap();
    let texts: Vec<&str> = d.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["root", "second", "third", "answer"]);
    assert!(d.messages.iter().all(|m| m.conversation_id == Some(c)));
    let times: Vec<DateTime<Utc>> = d.messages.iter().map(|m| m.created_at).collect();
    assert_eq!(
        times,
        [t0(), t0() + mins(5), t0() + mins(10), t0() + mins(20)]
    );
    assert_eq!(
        event_kinds(&d),
        [
            "opened", "assigned", "note", "replied", "note", "labelled", "labelled", "status"
        ]
    );
    assert!(d.events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(d.events.iter().all(|e| e.conversation_id == Some(c)));
    let opened = &d.events[0];
    assert_eq!((opened.actor.as_str(), opened.at), ("system", t0()));
    assert_eq!(opened.data["team"], json!("support"));
    assert_eq!(opened.data["band"], json!("P2"));
    assert_eq!(
        opened.data["due_at"],
        json!((t0() + mins(60)).timestamp_millis())
    );
    assert_eq!(
        d.events[1].data,
        json!({"to": "alice", "by": "round robin"})
    );
    // Notes by their time, not their order of writing.
    let notes: Vec<&str> = d.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(notes, ["earlier note", "later note"]);
    assert_eq!(d.labels, ["alpha", "zeta"]);
    let row = &d.conversation;
    assert_eq!(
        (row.id, row.status.as_str(), row.message_count),
        (c, "resolved", 4)
    );
    assert_eq!(
        (row.opened_at, row.last_message_at),
        (t0(), t0() + mins(20))
    );
    assert_eq!(row.first_due_at, Some(t0() + mins(60)));
    assert_eq!(row.first_response_at, Some(t0() + mins(20)));
    assert!(d.outbox.is_empty());
}

#[tokio::test]
async fn a_person_has_identities_conversations_and_sentiment() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let named = |mut m: NewMessage, followers: u64| {
        m.author_name = Some("Ann Example".into());
        m.followers = Some(followers);
        m
    };
    let batch = vec![
        kit.conv(
            named(msg("pe/1", "ann", "I love this", t0(), None), 50),
            None,
            Band::P3,
        ),
        kit.conv(
            named(
                msg(
                    "pe/2",
                    "ann",
                    "this is terrible",
                    t0() + mins(5),
                    Some("pe/1"),
                ),
                75,
            ),
            None,
            Band::P3,
        ),
        kit.conv(
            named(msg("pe/3", "ann", "ok then", t0() + mins(60), None), 75),
            None,
            Band::P3,
        ),
        kit.p3("pe/4", "ben", "hello", t0(), None),
    ];
    let compounds: Vec<f64> = batch.iter().map(|p| p.triage.scores.compound).collect();
    write(&store, &kit, &batch).await;
    store
        .reply(
            conv_of(&store, "pe/1").await,
            "thanks",
            "alice",
            t0() + mins(6),
        )
        .await
        .unwrap();
    let c1 = conv_of(&store, "pe/1").await;
    let c3 = conv_of(&store, "pe/3").await;
    let pid = store
        .conversation(c1)
        .await
        .unwrap()
        .conversation
        .person_id
        .unwrap();
    let p = store.person(pid).await.unwrap();
    assert_eq!(p.id, pid);
    assert_eq!(p.display_name.as_deref(), Some("Ann Example"));
    let idents: Vec<(&str, &str, Option<&str>, Option<i64>)> = p
        .identities
        .iter()
        .map(|i| {
            (
                i.platform.as_str(),
                i.handle.as_str(),
                i.name.as_deref(),
                i.followers,
            )
        })
        .collect();
    assert_eq!(idents, [("bluesky", "ann", Some("Ann Example"), Some(75))]);
    // Newest first.
    assert_eq!(ids(&p.conversations), [c3, c1]);
    assert!(p.conversations.iter().all(|c| c.person_id == Some(pid)));
    // Her own messages only, oldest first.
    assert_eq!(
        p.sentiment,
        [
            (t0(), compounds[0]),
            (t0() + mins(5), compounds[1]),
            (t0() + mins(60), compounds[2])
        ]
    );
    let ben = store
        .conversation(conv_of(&store, "pe/4").await)
        .await
        .unwrap()
        .conversation
        .person_id
        .unwrap();
    let b = store.person(ben).await.unwrap();
    // Without a display name, the handle.
    assert_eq!(b.display_name.as_deref(), Some("ben"));
    assert_eq!(b.identities[0].name, None);
    assert_eq!(b.sentiment.len(), 1);
    is_not_found(store.person(123_456).await, "person", 123_456);
}

#[tokio::test]
async fn the_summary_counts_what_is_stored() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    let on_mastodon = |mut m: NewMessage| {
        m.platform = "mastodon".into();
        m
    };
    let empty = store.summary().await.unwrap();
    assert_eq!(
        (
            empty.messages,
            empty.inbound,
            empty.people,
            empty.conversations
        ),
        (0, 0, 0, 0)
    );
    assert!(empty.by_platform.is_empty() && empty.by_status.is_empty());
    write(
        &store,
        &kit,
        &[
            kit.conv_as(
                msg("su/1", "ann", "broken", t0(), None),
                Some("support"),
                Band::P1,
                Intent::Complaint,
            ),
            kit.conv_as(
                msg("su/2", "ben", "invoice?", t0(), None),
                Some("billing"),
                Band::P2,
                Intent::Question,
            ),
            kit.conv_as(
                on_mastodon(msg("su/3", "cat", "nice", t0(), None)),
                None,
                Band::P3,
                Intent::Praise,
            ),
            kit.conv_as(
                on_mastodon(msg("su/4", "cat", "really", t0() + mins(1), Some("su/3"))),
                None,
                Band::P3,
                Intent::Praise,
            ),
            // A reply before its parent: merged, counted once.
            kit.conv_as(
                msg("su/6", "dan", "+1", t0() + mins(2), Some("su/5")),
                None,
                Band::P4,
                Intent::Other,
            ),
        ],
    )
    .await;
    write(
        &store,
        &kit,
        &[kit.conv_as(
            msg("su/5", "dan", "hmm", t0(), None),
            None,
            Band::P4,
            Intent::Other,
        )],
    )
    .await;
    store
        .reply(
            conv_of(&store, "su/1").await,
            "sorry",
            "alice",
            t0() + mins(3),
        )
        .await
        .unwrap();
    store
        .set_status(
            conv_of(&store, "su/2").await,
            Status::Resolved,
            "bob",
            t0() + mins(3),
            None,
        )
        .await
        .unwrap();
    let s = store.summary().await.unwrap();
    assert_eq!(
        (s.messages, s.inbound, s.people, s.conversations),
        (7, 6, 4, 4)
    );
    let map = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    assert_eq!(s.by_platform, map(&[("bluesky", 5), ("mastodon", 2)]));
    assert_eq!(s.open_by_team, map(&[("support", 1), ("unrouted", 2)]));
    assert_eq!(s.open_by_priority, map(&[("P1", 1), ("P3", 1), ("P4", 1)]));
    assert_eq!(
        s.by_intent,
        map(&[
            ("complaint", 1),
            ("other", 1),
            ("praise", 1),
            ("question", 1)
        ])
    );
    assert_eq!(s.by_status, map(&[("open", 3), ("resolved", 1)]));
}

#[tokio::test]
async fn report_facts_cover_the_window_and_the_team() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    let since = at("2026-11-02T00:00:00Z");
    let until = at("2026-11-03T00:00:00Z");
    let batch = vec![
        kit.conv(
            msg(
                "rf/1",
                "ann",
                "just before",
                since - Duration::milliseconds(1),
                None,
            ),
            Some("support"),
            Band::P1,
        ),
        kit.conv(
            msg("rf/2", "ben", "at the start", since, None),
            Some("support"),
            Band::P2,
        ),
        kit.p3("rf/3", "cat", "midday", at("2026-11-02T12:00:00Z"), None),
        kit.conv(
            msg(
                "rf/4",
                "dan",
                "just in",
                until - Duration::milliseconds(1),
                None,
            ),
            Some("billing"),
            Band::P4,
        ),
        kit.conv(
            msg("rf/5", "eve", "at the end", until, None),
            Some("support"),
            Band::P1,
        ),
    ];
    let compound: BTreeMap<String, f64> = batch
        .iter()
        .map(|p| (p.message.platform_id.clone(), p.triage.scores.compound))
        .collect();
    write(&store, &kit, &batch).await;
    let mut c = BTreeMap::new();
    for i in 1..=5 {
        let id = format!("rf/{i}");
        c.insert(i, conv_of(&store, &id).await);
    }
    store
        .reply(c[&3], "we're on it", "alice", at("2026-11-02T12:30:00Z"))
        .await
        .unwrap();
    store
        .set_status(
            c[&3],
            Status::Resolved,
            "alice",
            at("2026-11-02T13:00:00Z"),
            None,
        )
        .await
        .unwrap();
    // A reply outside the window (to a conversation outside it).
    store
        .reply(c[&5], "hello", "bob", until + mins(5))
        .await
        .unwrap();

    let facts = store
        .report_facts(Some(since), Some(until), None)
        .await
        .unwrap();
    let fids: Vec<i64> = facts.conversations.iter().map(|f| f.id).collect();
    assert_eq!(fids, [c[&2], c[&3], c[&4]]);
    let f3 = &facts.conversations[1];
    assert_eq!(f3.team, None);
    assert_eq!(f3.opened_at, at("2026-11-02T12:00:00Z"));
    assert_eq!(f3.sla_due_at, Some(at("2026-11-02T16:00:00Z")));
    assert_eq!(
        f3.timeline,
        [
            TimelineItem::Inbound {
                at: at("2026-11-02T12:00:00Z"),
                compound: compound["rf/3"]
            },
            TimelineItem::Outbound {
                at: at("2026-11-02T12:30:00Z"),
                automated: false,
                by: Some("alice".into()),
                is_reply: true
            },
            TimelineItem::Resolved {
                at: at("2026-11-02T13:00:00Z")
            },
        ]
    );
    let f2 = &facts.conversations[0];
    assert_eq!((f2.team.as_deref(), f2.opened_at), (Some("support"), since));
    assert_eq!(f2.sla_due_at, Some(since + mins(60)));
    assert_eq!(facts.conversations[2].team.as_deref(), Some("billing"));
    assert_eq!(
        facts.outbound,
        [BroadcastFacts {
            account: "bluesky:alice".into(),
            at: at("2026-11-02T12:30:00Z"),
            is_reply: true,
            automated: false
        }]
    );
    let mut inbound = facts.inbound.clone();
    inbound.sort_by_key(|(t, _)| *t);
    assert_eq!(
        inbound,
        [
            (since, compound["rf/2"]),
            (at("2026-11-02T12:00:00Z"), compound["rf/3"]),
            (until - Duration::milliseconds(1), compound["rf/4"]),
        ]
    );

    let team_ids = |team: &'static str| {
        let store = &store;
        async move {
            let f = store
                .report_facts(Some(since), Some(until), Some(team))
                .await
                .unwrap();
            let ids: Vec<i64> = f.conversations.iter().map(|c| c.id).collect();
            (ids, f.inbound.len())
        }
    };
    assert_eq!(team_ids("support").await, (vec![c[&2]], 1));
    assert_eq!(team_ids("unrouted").await, (vec![c[&3]], 1));
    assert_eq!(team_ids("billing").await, (vec![c[&4]], 1));
    assert_eq!(team_ids("nobody").await, (vec![], 0));
    let everything = store.report_facts(None, None, None).await.unwrap();
    assert_eq!(everything.conversations.len(), 5);
    assert_eq!(everything.outbound.len(), 2);
    assert_eq!(everything.inbound.len(), 5);
    let from = store
        .report_facts(Some(since), None, Some("support"))
        .await
        .unwrap();
    assert_eq!(
        from.conversations.iter().map(|f| f.id).collect::<Vec<_>>(),
        [c[&2], c[&5]]
    );

    // Opened by band, over the same windows.
    let map = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let by_band = |since, until, team| {
        let store = &store;
        async move { store.opened_by_band(since, until, team).await.unwrap() }
    };
    assert_eq!(
        by_band(Some(since), Some(until), None).await,
        map(&[("P2", 1), ("P3", 1), ("P4", 1)])
    );
    assert_eq!(
        by_band(Some(since), Some(until), Some("support")).await,
        map(&[("P2", 1)])
    );
    assert_eq!(
        by_band(Some(since), Some(until), Some("unrouted")).await,
        map(&[("P3", 1)])
    );
    assert_eq!(
        by_band(None, None, None).await,
        map(&[("P1", 2), ("P2", 1), ("P3", 1), ("P4", 1)])
    );
    assert_eq!(
        by_band(None, None, Some("support")).await,
        map(&[("P1", 2), ("P2", 1)])
    );
    assert!(by_band(Some(until + mins(60)), None, None).await.is_empty());
}

#[tokio::test]
async fn a_message_reads_back_with_every_field() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let m = NewMessage {
        platform: "mastodon".into(),
        platform_id: "https://masto.example/statuses/1".into(),
        author: "ann@masto.example".into(),
        author_name: Some("Ann".into()),
        followers: Some(1234),
        text: "my refund never came".into(),
        created_at: t0(),
        in_reply_to: None,
        reshares: 7,
        replies: 3,
        direction: Direction::Inbound,
        automated: false,
        url: Some("https://masto.example/@ann/1".into()),
    };
    let mut p = kit.conv(m.clone(), None, Band::P2);
    p.html = Some("<p>my refund <b>never</b> came</p>".into());
    p.reply_ref = Some(r#"{"uri":"at://x","cid":"y"}"#.into());
    let triage = p.triage.clone();
    let bot = NewMessage {
        platform_id: "https://masto.example/statuses/2".into(),
        author: "helpbot".into(),
        automated: true,
        direction: Direction::Outbound,
        in_reply_to: Some(m.platform_id.clone()),
        created_at: t0() + mins(1),
        text: "Thanks, we will get back to you.".into(),
        followers: None,
        url: None,
        ..m.clone()
    };
    write(&store, &kit, &[p, kit.prep(bot)]).await;
    let c = store
        .conversation_of("mastodon", &m.platform_id)
        .await
        .unwrap()
        .unwrap();
    let d = store.conversation(c).await.unwrap();
    let id = d.messages[0].id;
    let r = store.message(id).await.unwrap();
    assert_eq!(r.id, id);
    assert_eq!(
        (r.platform.as_str(), r.platform_id.as_str()),
        ("mastodon", m.platform_id.as_str())
    );
    assert_eq!(r.conversation_id, Some(c));
    assert_eq!((r.direction.as_str(), r.automated), ("inbound", false));
    assert_eq!(
        (r.author.as_str(), r.followers),
        ("ann@masto.example", Some(1234))
    );
    assert_eq!(
        (r.text.as_str(), r.created_at, r.in_reply_to.clone()),
        (m.text.as_str(), t0(), None)
    );
    assert_eq!(
        (r.reshares, r.replies, r.url.as_deref()),
        (7, 3, m.url.as_deref())
    );
    assert_eq!(
        (r.compound, r.pos, r.neu, r.neg),
        (
            triage.scores.compound,
            triage.scores.pos,
            triage.scores.neu,
            triage.scores.neg
        )
    );
    assert_eq!(
        (r.intent.as_str(), r.intent_rule.as_str()),
        (triage.intent.intent.as_str(), triage.intent.rule.as_str())
    );
    assert_eq!(
        (r.priority_score, r.priority),
        (triage.priority.score, Band::P2)
    );
    assert_eq!(
        r.html.as_deref(),
        Some("<p>my refund <b>never</b> came</p>")
    );
    let target = store.reply_target(c).await.unwrap().unwrap();
    assert_eq!(
        (
            target.message_id,
            target.platform.as_str(),
            target.platform_id.as_str()
        ),
        (id, "mastodon", m.platform_id.as_str())
    );
    assert_eq!(
        (target.author.as_str(), target.reply_ref.as_deref()),
        ("ann@masto.example", Some(r#"{"uri":"at://x","cid":"y"}"#))
    );

    // The bot's acknowledgement: outbound, automated, and it stops no clock.
    let b = store.message(d.messages[1].id).await.unwrap();
    assert_eq!(
        (b.direction.as_str(), b.automated, b.author.as_str()),
        ("outbound", true, "helpbot")
    );
    assert_eq!(b.in_reply_to.as_deref(), Some(m.platform_id.as_str()));
    assert_eq!(b.followers, None);
    assert_eq!(d.conversation.first_response_at, None);
    assert_eq!(d.conversation.due_at, Some(t0() + mins(60)));
    assert_eq!(d.conversation.message_count, 2);
}

#[tokio::test]
async fn missing_records_are_not_found() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let now = t0();
    is_not_found(store.conversation(424_242).await, "conversation", 424_242);
    is_not_found(store.message(424_242).await, "message", 424_242);
    is_not_found(store.person(424_242).await, "person", 424_242);
    is_not_found(store.outbox_row(424_242).await, "outbox entry", 424_242);
    is_not_found(
        store.reply(424_242, "x", "a", now).await,
        "conversation",
        424_242,
    );
    is_not_found(
        store.assign(424_242, Some("a"), None, "a", now).await,
        "conversation",
        424_242,
    );
    is_not_found(
        store
            .set_status(424_242, Status::Open, "a", now, None)
            .await,
        "conversation",
        424_242,
    );
    is_not_found(
        store.note(424_242, "x", "a", now).await,
        "conversation",
        424_242,
    );
    is_not_found(
        store.label(424_242, "x", "a", now).await,
        "conversation",
        424_242,
    );
    assert_eq!(
        store.conversation_of("bluesky", "nope").await.unwrap(),
        None
    );
    assert!(store.reply_target(424_242).await.unwrap().is_none());
    assert_eq!(store.channel_cursor("nope").await.unwrap(), None);
    let err = store.conversation(424_242).await.unwrap_err().to_string();
    assert!(err.contains("conversation 424242 not found"), "{err}");
    // Nothing was written by any of them.
    assert!(
        store
            .table_counts()
            .await
            .unwrap()
            .values()
            .all(|&n| n == 0)
    );
}

// ---------------------------------------------------------------------------------------
// 6, 7. Times and text round-trip exactly
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn times_round_trip_to_the_millisecond() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let times = [
        "2026-11-02T09:00:00.123Z",
        "2026-11-02T09:00:00.001Z",
        "1999-12-31T23:59:59.999Z",
        "2099-12-31T23:59:59.999Z",
        "1970-01-01T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z",
        "2026-03-29T01:30:00.500+02:00",
    ];
    let batch: Vec<Prepared> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            kit.conv(
                msg(&format!("tm/{i}"), "ann", t, at(t), None),
                None,
                Band::P1,
            )
        })
        .collect();
    write(&store, &kit, &batch).await;
    for (i, t) in times.iter().enumerate() {
        let t = at(t);
        let d = store
            .conversation(conv_of(&store, &format!("tm/{i}")).await)
            .await
            .unwrap();
        assert_eq!(d.messages[0].created_at, t);
        assert_eq!(d.conversation.opened_at, t);
        assert_eq!(d.conversation.last_message_at, t);
        assert_eq!(d.conversation.first_due_at, Some(t + mins(15)));
        assert_eq!(d.conversation.due_at, Some(t + mins(15)));
        assert_eq!(d.events[0].at, t);
    }
    // Below a millisecond is cut off, not rounded.
    let fine = at("2026-11-02T10:00:00.123987654Z");
    write(
        &store,
        &kit,
        &[kit.conv(msg("tm/fine", "ann", "x", fine, None), None, Band::P1)],
    )
    .await;
    let c = conv_of(&store, "tm/fine").await;
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.messages[0].created_at, at("2026-11-02T10:00:00.123Z"));

    // Times given to actions.
    let reply_at = at("2026-11-02T10:07:30.999Z");
    let note_at = at("2026-11-02T10:08:00.001Z");
    let resolve_at = at("2026-11-02T10:09:00.500Z");
    let reopen_due = at("2026-11-02T11:11:11.111Z");
    store.reply(c, "hi", "alice", reply_at).await.unwrap();
    store.note(c, "n", "alice", note_at).await.unwrap();
    store
        .set_status(c, Status::Resolved, "alice", resolve_at, None)
        .await
        .unwrap();
    let d = store.conversation(c).await.unwrap();
    assert_eq!(d.conversation.first_response_at, Some(reply_at));
    assert_eq!(d.conversation.last_message_at, reply_at);
    assert_eq!(d.messages[1].created_at, reply_at);
    assert_eq!(d.notes[0].at, note_at);
    assert_eq!(
        d.events.iter().map(|e| e.at).collect::<Vec<_>>(),
        [
            at("2026-11-02T10:00:00.123Z"),
            reply_at,
            note_at,
            resolve_at
        ]
    );
    assert_eq!(
        raw_int(
            &db,
            "SELECT resolved_at FROM conversations WHERE id = $1",
            c
        )
        .await,
        Some(resolve_at.timestamp_millis())
    );
    store
        .set_status(c, Status::Open, "alice", resolve_at, Some(reopen_due))
        .await
        .unwrap();
    assert_eq!(
        store.conversation(c).await.unwrap().conversation.due_at,
        Some(reopen_due)
    );
    // Windows cut at the millisecond.
    let t = at("2026-11-02T09:00:00.123Z");
    let window = |s: DateTime<Utc>, u: DateTime<Utc>| {
        let store = &store;
        async move {
            store
                .report_facts(Some(s), Some(u), None)
                .await
                .unwrap()
                .conversations
                .len()
        }
    };
    let ms = Duration::milliseconds;
    assert_eq!(window(t, t + ms(1)).await, 1);
    assert_eq!(window(t + ms(1), t + ms(2)).await, 0);
    assert_eq!(window(t - ms(1), t).await, 0);
}

fn long_text() -> String {
    let unit = "Long text with ünïcödé, 中文, עברית and 😀 emoji. ";
    let s: String = unit.chars().cycle().take(20_000).collect();
    assert_eq!(s.chars().count(), 20_000);
    s
}

#[tokio::test]
async fn text_round_trips_exactly() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let texts = [
        "Emoji 😀👍🏽👨‍👩‍👧‍👦 and a flag 🇫🇷".to_string(),
        "CJK 你好，世界 こんにちは 안녕하세요".to_string(),
        "RTL שלום עולם and مرحبا بالعالم \u{200f}mixed\u{200e}".to_string(),
        r#"Quotes "double" 'single' `back` ‘curly’ “curly” ''); DROP TABLE messages; --"#
            .to_string(),
        r"Backslashes \ \\ \n \' \% \_ C:\path\to\file \u0000".to_string(),
        "Controls:\t tab\n newline\r\n crlf \u{1} \u{7} \u{1b}[31m \u{7f} \u{85} \u{2028} \u{feff}"
            .to_string(),
        "Combining: e\u{301} vs \u{e9}; zero-width\u{200b}space".to_string(),
        long_text(),
    ];
    let author = "josé.例え.🦀";
    let batch: Vec<Prepared> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut m = msg(&format!("tx/é/😀/{i}"), author, t, t0(), None);
            m.author_name = Some("ناصر \"the\" O'Brien".into());
            m.url = Some(format!("https://example.com/ü/{i}?q=%20&x=\\"));
            let mut p = kit.conv(m, None, Band::P3);
            p.html = Some(format!("<p title=\"&quot;\">{t}</p>"));
            p.reply_ref = Some(format!(
                "{{\"text\":{}}}",
                serde_json::to_string(t).unwrap()
            ));
            p
        })
        .collect();
    write(&store, &kit, &batch).await;
    for (i, t) in texts.iter().enumerate() {
        let pid = format!("tx/é/😀/{i}");
        let c = conv_of(&store, &pid).await;
        let d = store.conversation(c).await.unwrap();
        let m = &d.messages[0];
        assert_eq!(&m.text, t, "text {i}");
        assert_eq!(m.platform_id, pid);
        assert_eq!(m.author, author);
        assert_eq!(
            m.url.as_deref(),
            Some(format!("https://example.com/ü/{i}?q=%20&x=\\").as_str())
        );
        assert_eq!(
            m.html.as_deref(),
            Some(format!("<p title=\"&quot;\">{t}</p>").as_str())
        );
        assert_eq!(&d.conversation.snippet, t);
        assert_eq!(d.conversation.author, author);
        let target = store.reply_target(c).await.unwrap().unwrap();
        let reply_ref: serde_json::Value =
            serde_json::from_str(target.reply_ref.as_deref().unwrap()).unwrap();
        assert_eq!(reply_ref["text"].as_str(), Some(t.as_str()));
        // The same text as a reply, a note and an event.
        let out = store.reply(c, t, "agent ✓", t0() + mins(1)).await.unwrap();
        store.note(c, t, "agent ✓", t0() + mins(2)).await.unwrap();
        let d = store.conversation(c).await.unwrap();
        assert_eq!(&store.message(out.message_id).await.unwrap().text, t);
        assert_eq!(&d.notes[0].text, t);
        assert_eq!(
            d.events.last().unwrap().data["text"].as_str(),
            Some(t.as_str())
        );
        assert_eq!(d.events.last().unwrap().actor, "agent ✓");
        let person = store
            .person(d.conversation.person_id.unwrap())
            .await
            .unwrap();
        assert_eq!(person.display_name.as_deref(), Some("ناصر \"the\" O'Brien"));
        assert_eq!(person.identities[0].handle, author);
    }
    let c = conv_of(&store, "tx/é/😀/0").await;
    assert!(store.label(c, "🔥 hot «vip»", "agent", t0()).await.unwrap());
    assert_eq!(
        store.conversation(c).await.unwrap().labels,
        ["🔥 hot «vip»"]
    );
    // Quarantined rows keep their text too.
    let raw = texts[5].clone() + &texts[3];
    store
        .ingestor(&kit.config)
        .await
        .unwrap()
        .write_batch(
            &[],
            &[QuarantineRow {
                source: "données/ü.csv".into(),
                line: 9,
                reason: texts[2].clone(),
                raw: raw.clone(),
            }],
        )
        .await
        .unwrap();
    let q = store.quarantine(1).await.unwrap();
    assert_eq!(
        (
            q[0].source.as_str(),
            q[0].reason.as_str(),
            q[0].raw.as_str()
        ),
        ("données/ü.csv", texts[2].as_str(), raw.as_str())
    );
}

// ---------------------------------------------------------------------------------------
// 8. Concurrency
// ---------------------------------------------------------------------------------------

/// Batches of `prefix`'s own messages, each with shared ones that the other writer
/// writes too (a root and three replies to it per batch).
fn concurrent_batches(kit: &Kit, prefix: &str, authors: &[&str]) -> Vec<Vec<Prepared>> {
    (0..5)
        .map(|k| {
            let mut batch = Vec::new();
            for i in 0..6 {
                let author = authors[(k * 6 + i) % authors.len()];
                let when = t0() + mins(i as i64);
                batch.push(kit.p3(&format!("{prefix}/{k}/{i}"), author, "mine", when, None));
            }
            let root = format!("shared/{k}/0");
            for i in 0..4 {
                let author = authors[(k + i) % authors.len()];
                let when = t0() + mins(10 + i as i64);
                let parent = (i > 0).then_some(root.as_str());
                batch.push(kit.p3(&format!("shared/{k}/{i}"), author, "shared", when, parent));
            }
            batch
        })
        .collect()
}

/// A write that lost a race for the database (SQLite's "database is locked", a
/// PostgreSQL deadlock or serialization failure): the transaction was rolled back whole.
fn lost_a_race(e: &StoreError) -> bool {
    let s = e.to_string();
    s.contains("database is locked")
        || s.contains("deadlock detected")
        || s.contains("could not serialize")
}

/// Two ingestors, each in its own task, write their batches at the same time. With
/// `retry`, a batch that lost a race is written again by a fresh ingestor.
async fn run_two_ingestors(
    store: &Store,
    kit: &Kit,
    authors: &[&str],
    retry: bool,
) -> (BatchOutcome, u32) {
    // Both start writing at the same moment.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let spawn = |prefix: &str| {
        let store = store.clone();
        let config = kit.config.clone();
        let batches = concurrent_batches(kit, prefix, authors);
        let start = start.clone();
        tokio::spawn(async move {
            let mut ingestor = store.ingestor(&config).await.unwrap();
            start.wait().await;
            let mut total = BatchOutcome::default();
            let mut retries = 0u32;
            for b in &batches {
                let out = loop {
                    match ingestor.write_batch(b, &[]).await {
                        Ok(out) => break out,
                        Err(e) if retry && lost_a_race(&e) && retries < 200 => {
                            retries += 1;
                            ingestor = store.ingestor(&config).await.unwrap();
                            let pause = u64::from(1 + retries % 5);
                            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                        }
                        Err(e) => panic!("writer {:?}: {e}", b[0].message.platform_id),
                    }
                };
                total.inserted += out.inserted;
                total.duplicates += out.duplicates;
                total.conversations += out.conversations;
            }
            (total, retries)
        })
    };
    let (a, b) = (spawn("a"), spawn("b"));
    let ((a, ra), (b, rb)) = (a.await.unwrap(), b.await.unwrap());
    let sum = BatchOutcome {
        inserted: a.inserted + b.inserted,
        duplicates: a.duplicates + b.duplicates,
        conversations: a.conversations + b.conversations,
    };
    (sum, ra + rb)
}

/// Every message once, threaded, and the counts right; `seeded` messages (and their
/// conversations) were there before.
async fn check_after_concurrency(store: &Store, sum: BatchOutcome, people: i64, seeded: i64) {
    // 30 own messages per writer and 20 shared ones, each stored by one writer and a
    // duplicate for the other; 60 + 5 conversations.
    assert_eq!(
        sum,
        BatchOutcome {
            inserted: 80,
            duplicates: 20,
            conversations: 65
        }
    );
    let counts = store.table_counts().await.unwrap();
    assert_eq!(counts["messages"], 80 + seeded);
    assert_eq!(counts["conversations"], 65 + seeded);
    assert_eq!(counts["events"], 65 + seeded);
    assert_eq!((counts["people"], counts["identities"]), (people, people));
    let dump = store.message_dump().await.unwrap();
    let mut expected: Vec<String> = Vec::new();
    for p in ["a", "b"] {
        for k in 0..5 {
            expected.extend((0..6).map(|i| format!("{p}/{k}/{i}")));
        }
    }
    for k in 0..5 {
        expected.extend((0..4).map(|i| format!("shared/{k}/{i}")));
    }
    expected.sort();
    let got: Vec<String> = dump
        .iter()
        .map(|(_, id, _, _)| id.clone())
        .filter(|id| !id.starts_with("seed/"))
        .collect();
    assert_eq!(got, expected);
    // Every shared reply is threaded into its root's conversation.
    for (_, id, root, _) in &dump {
        match id.strip_prefix("shared/") {
            Some(rest) => {
                let k = rest.split('/').next().unwrap();
                assert_eq!(root, &format!("shared/{k}/0"), "{id}");
            }
            None => assert_eq!(root, id),
        }
    }
    for k in 0..5 {
        let c = conv_of(store, &format!("shared/{k}/0")).await;
        let d = store.conversation(c).await.unwrap();
        assert_eq!(d.conversation.message_count, 4);
        assert_eq!(d.messages.len(), 4);
    }
    assert_eq!(store.summary().await.unwrap().conversations, 65 + seeded);
    store.integrity_check().await.unwrap();
}

/// The authors, known before the race: this is about messages, not people.
async fn seed_authors(store: &Store, kit: &Kit, authors: &[&str]) {
    let seed: Vec<Prepared> = authors
        .iter()
        .map(|a| kit.p3(&format!("seed/{a}"), a, "seed", t0(), None))
        .collect();
    write(store, kit, &seed).await;
}

/// Two writers at once (a connector and an import, two `rapport serve` on one
/// PostgreSQL): a batch may lose a race and be retried, but nothing is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingestors_at_once_store_every_message_once() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let authors = ["u0", "u1", "u2", "u3", "u4"];
    seed_authors(&store, &kit, &authors).await;
    let (sum, retries) = run_two_ingestors(&store, &kit, &authors, true).await;
    eprintln!(
        "{}: {retries} batches lost a race and were retried",
        db.backend()
    );
    check_after_concurrency(&store, sum, 5, 5).await;
}

/// The same without retries: a writer waits for the other (SQLite's busy timeout,
/// PostgreSQL's row locks) instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingestors_at_once_wait_for_each_other() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let authors = ["u0", "u1", "u2", "u3", "u4"];
    seed_authors(&store, &kit, &authors).await;
    let (sum, retries) = run_two_ingestors(&store, &kit, &authors, false).await;
    assert_eq!(retries, 0);
    check_after_concurrency(&store, sum, 5, 5).await;
}

/// Authors new to both writers: each person is created once (a batch that lost a race
/// is retried, as above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingestors_at_once_create_each_person_once() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    let authors = ["new0", "new1", "new2", "new3", "new4", "new5", "new6"];
    let (sum, _) = run_two_ingestors(&store, &kit, &authors, true).await;
    check_after_concurrency(&store, sum, 7, 0).await;
}

/// `rapport serve` ingests while people act on conversations, through one store: an
/// action waits for the ingest transaction instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_during_ingest_wait_instead_of_failing() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(&store, &kit, &[kit.p3("z/0", "ann", "help", t0(), None)]).await;
    let c = conv_of(&store, "z/0").await;
    let batches: Vec<Vec<Prepared>> = (0..10)
        .map(|k| {
            (0..5)
                .map(|i| kit.p3(&format!("z/{k}/{i}"), &format!("w{k}{i}"), "x", t0(), None))
                .collect()
        })
        .collect();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let ingest = {
        let (store, config, start) = (store.clone(), kit.config.clone(), start.clone());
        tokio::spawn(async move {
            let mut ingestor = store.ingestor(&config).await.unwrap();
            start.wait().await;
            for b in &batches {
                ingestor.write_batch(b, &[]).await.unwrap();
            }
        })
    };
    let act = {
        let store = store.clone();
        tokio::spawn(async move {
            start.wait().await;
            for i in 0..30 {
                store
                    .note(c, &format!("note {i}"), "alice", t0())
                    .await
                    .unwrap();
            }
        })
    };
    ingest.await.unwrap();
    act.await.unwrap();
    assert_eq!(store.conversation(c).await.unwrap().notes.len(), 30);
    assert_eq!(store.table_counts().await.unwrap()["messages"], 51);
}

// ---------------------------------------------------------------------------------------
// 9. Reopening
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reopened_store_sees_everything() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::teams();
    let batch = vec![
        kit.conv(
            msg("ro/1", "ann", "help", t0(), None),
            Some("support"),
            Band::P1,
        ),
        kit.conv(
            msg("ro/2", "ben", "hello", t0() + mins(1), None),
            Some("support"),
            Band::P2,
        ),
        kit.conv(
            msg("ro/3", "cat", "hi", t0() + mins(2), None),
            Some("support"),
            Band::P3,
        ),
        kit.conv(
            msg("ro/4", "ann", "more", t0() + mins(3), Some("ro/1")),
            Some("support"),
            Band::P3,
        ),
    ];
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    ingestor
        .write_batch_at(
            &batch,
            &[QuarantineRow {
                source: "in.csv".into(),
                line: 4,
                reason: "bad".into(),
                raw: "x".into(),
            }],
            Some(("bsky", "cursor-1")),
        )
        .await
        .unwrap();
    drop(ingestor);
    let c: [i64; 3] = [
        conv_of(&store, "ro/1").await,
        conv_of(&store, "ro/2").await,
        conv_of(&store, "ro/3").await,
    ];
    store
        .reply_via(c[0], "on it", "alice", t0() + mins(5), via("bsky", "{}"))
        .await
        .unwrap();
    store
        .note(c[0], "note", "alice", t0() + mins(6))
        .await
        .unwrap();
    store
        .label(c[1], "vip", "bob", t0() + mins(6))
        .await
        .unwrap();
    store
        .set_status(c[2], Status::Resolved, "alice", t0() + mins(7), None)
        .await
        .unwrap();

    let snapshot = |store: Store| async move {
        let mut details = Vec::new();
        for id in [c[0], c[1], c[2]] {
            details.push(serde_json::to_value(store.conversation(id).await.unwrap()).unwrap());
        }
        let pid = store
            .conversation(c[0])
            .await
            .unwrap()
            .conversation
            .person_id
            .unwrap();
        let shot = json!({
            "details": details,
            "inbox": serde_json::to_value(store.inbox(&all()).await.unwrap()).unwrap(),
            "summary": serde_json::to_value(store.summary().await.unwrap()).unwrap(),
            "counts": store.table_counts().await.unwrap(),
            "dump": store.message_dump().await.unwrap(),
            "quarantine": serde_json::to_value(store.quarantine(100).await.unwrap()).unwrap(),
            "cursor": store.channel_cursor("bsky").await.unwrap(),
            "pending": serde_json::to_value(store.pending_outbox(None).await.unwrap()).unwrap(),
            "person": serde_json::to_value(store.person(pid).await.unwrap()).unwrap(),
            "overdue": store.overdue(t0() + mins(100)).await.unwrap(),
        });
        (store, shot)
    };
    let (store, before) = snapshot(store).await;
    assert_eq!(before["counts"]["messages"], json!(5));
    assert_eq!(before["cursor"], json!("cursor-1"));
    store.close().await;

    let store = db.open().await;
    store.integrity_check().await.unwrap();
    let (store, after) = snapshot(store).await;
    assert_eq!(before, after);

    // The round robin goes on where it stopped (alice, bob, alice: bob next), and the
    // same input stores nothing twice.
    let mut ingestor = store.ingestor(&kit.config).await.unwrap();
    let out = ingestor.write_batch(&batch, &[]).await.unwrap();
    assert_eq!((out.inserted, out.duplicates), (0, 4));
    ingestor
        .write_batch(
            &[kit.conv(
                msg("ro/5", "dan", "new", t0() + mins(8), None),
                Some("support"),
                Band::P3,
            )],
            &[],
        )
        .await
        .unwrap();
    let row = store
        .conversation(conv_of(&store, "ro/5").await)
        .await
        .unwrap()
        .conversation;
    assert_eq!(row.assignee.as_deref(), Some("bob"));
    assert_eq!(store.table_counts().await.unwrap()["people"], 4);
}

// ---------------------------------------------------------------------------------------
// 10. SLA breaches
// ---------------------------------------------------------------------------------------

/// A conversation past its due time moves up one band, once per due time, with an
/// `escalated` event; answered and resolved ones, and ones not yet due, stay as they are.
#[tokio::test]
async fn a_breach_escalates_once() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let kit = Kit::plain();
    write(
        &store,
        &kit,
        &[
            kit.p3("sla/late", "ann", "my lamp is broken", t0(), None),
            kit.p3("sla/answered", "bob", "my lamp is broken too", t0(), None),
            kit.p3(
                "sla/fresh",
                "cat",
                "and mine",
                t0() + chrono::Duration::days(30),
                None,
            ),
        ],
    )
    .await;
    let late = conv_of(&store, "sla/late").await;
    let answered = conv_of(&store, "sla/answered").await;
    let fresh = conv_of(&store, "sla/fresh").await;
    store
        .reply(
            answered,
            "on it",
            "alice",
            t0() + chrono::Duration::minutes(5),
        )
        .await
        .unwrap();
    let due = store
        .conversation(late)
        .await
        .unwrap()
        .conversation
        .due_at
        .unwrap();
    let after = due + chrono::Duration::minutes(1);

    assert!(
        store
            .escalate_breaches(due - chrono::Duration::seconds(1), "sla-timer", 100)
            .await
            .unwrap()
            .is_empty()
    );
    let first = store
        .escalate_breaches(after, "sla-timer", 100)
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].conversation, late);
    assert_eq!((first[0].from, first[0].to), (Band::P3, Band::P2));
    assert!(
        store
            .escalate_breaches(after, "sla-timer", 100)
            .await
            .unwrap()
            .is_empty(),
        "twice"
    );
    let detail = store.conversation(late).await.unwrap();
    assert_eq!(detail.conversation.priority, Band::P2);
    assert_eq!(
        detail
            .events
            .iter()
            .filter(|e| e.kind == "escalated")
            .count(),
        1
    );
    for quiet in [answered, fresh] {
        let d = store.conversation(quiet).await.unwrap();
        assert!(d.events.iter().all(|e| e.kind != "escalated"), "{quiet}");
    }
}
