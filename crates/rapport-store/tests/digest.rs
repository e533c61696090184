//! The digest's store queries, on SQLite and (with `RAPPORT_TEST_DATABASE_URL`)
//! PostgreSQL: labels of a period's conversations, escalation events, unresolved P1s,
//! positive authors with their reach, ideas with their topics and labels; each within
//! its period, spam left out, and narrowed to one team when asked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use rapport_core::config::Config;
use rapport_core::routing::RouteDecision;
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Band, Direction, Intent, NewMessage};
use rapport_store::{Prepared, Store};

mod common;
use common::TestDb;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

struct Msg<'a> {
    id: &'a str,
    author: &'a str,
    followers: u64,
    text: &'a str,
    minute: i64,
    intent: Intent,
    team: &'a str,
    band: Band,
    labels: &'a [&'a str],
    topics: &'a [&'a str],
    notify: bool,
}

fn prepare(m: &Msg<'_>) -> Prepared {
    let config = Config::default();
    let message = NewMessage {
        platform: "bluesky".into(),
        platform_id: m.id.into(),
        author: m.author.into(),
        author_name: Some(format!("Name of {}", m.author)),
        followers: Some(m.followers),
        text: m.text.into(),
        created_at: t0() + Duration::minutes(m.minute),
        in_reply_to: None,
        reshares: 0,
        replies: 0,
        direction: Direction::Inbound,
        automated: false,
        url: None,
    };
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let mut triage = triager.triage(&message.text, Reach::default());
    triage.intent.intent = m.intent;
    Prepared {
        message,
        triage,
        route: RouteDecision {
            rule: Some("test rule".into()),
            team: Some(m.team.into()),
            band: m.band,
            raised: false,
            notify: m.notify.then(|| "leaders".to_string()),
            labels: m.labels.iter().map(|l| l.to_string()).collect(),
        },
        reply_ref: None,
        html: None,
        topics: m.topics.iter().map(|t| t.to_string()).collect(),
    }
}

fn msg<'a>(id: &'a str, author: &'a str, text: &'a str, minute: i64) -> Msg<'a> {
    Msg {
        id,
        author,
        followers: 100,
        text,
        minute,
        intent: Intent::Praise,
        team: "care",
        band: Band::P4,
        labels: &[],
        topics: &[],
        notify: false,
    }
}

async fn fixture(store: &Store) {
    let batch: Vec<Prepared> = [
        msg("m1", "ann", "I love this lamp, thank you!", 0),
        msg("m2", "ann", "Great product, love it", 10),
        Msg {
            followers: 1_000_000,
            team: "sales",
            ..msg("m3", "bob", "love love love it", 20)
        },
        Msg {
            intent: Intent::Spam,
            labels: &["spam"],
            ..msg("m4", "spammer", "Love it! Great deal, dm for promo", 30)
        },
        Msg {
            intent: Intent::Idea,
            team: "product",
            labels: &["idea", "mobile"],
            topics: &["acme"],
            ..msg("m5", "cat", "would be great if the app had a dark mode", 40)
        },
        Msg {
            intent: Intent::Idea,
            team: "product",
            labels: &["idea"],
            ..msg("m6", "dan", "feature request: a dark mode", 50)
        },
        Msg {
            followers: 500_000,
            intent: Intent::Complaint,
            team: "comms",
            band: Band::P1,
            labels: &["escalation"],
            notify: true,
            ..msg("m7", "eve", "this is broken and terrible", 60)
        },
        // The day before the period.
        Msg {
            intent: Intent::Idea,
            labels: &["idea"],
            ..msg("m0", "fay", "I love it, and an idea: a sleep timer", -60)
        },
    ]
    .iter()
    .map(prepare)
    .collect();
    let mut ingestor = store.ingestor(&Config::default()).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
}

#[tokio::test]
async fn the_digest_reads_its_period_and_its_team() {
    let db = TestDb::new().await;
    let store = db.create().await;
    fixture(&store).await;
    let (since, until) = (t0(), t0() + Duration::days(1));
    let before = t0() - Duration::days(1);

    // Labels of the conversations opened in the period; spam left out.
    let labels = store.label_counts(since, until, None).await.unwrap();
    let got: Vec<(&str, i64)> = labels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        got,
        [
            ("escalation", 1),
            ("idea", 2),
            ("mobile", 1),
            ("topic:acme", 1)
        ]
    );
    let product = store
        .label_counts(since, until, Some("product"))
        .await
        .unwrap();
    assert_eq!(product.get("idea"), Some(&2));
    assert_eq!(product.get("escalation"), None);
    assert_eq!(
        store.label_counts(before, since, None).await.unwrap()["idea"],
        1
    );

    // The routing rule's notification is an escalation, with the author's reach.
    let events = store.escalation_events(since, until, None).await.unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, "notify");
    assert_eq!(e.conversation.author, "eve");
    assert_eq!(e.conversation.priority, Band::P1);
    assert_eq!(e.followers, Some(500_000));
    assert_eq!(e.data["notify"], "leaders");
    assert_eq!(e.at, t0() + Duration::minutes(60));
    assert_eq!(store.escalation_count(since, until, None).await.unwrap(), 1);
    assert_eq!(
        store.escalation_count(before, since, None).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .escalation_count(since, until, Some("care"))
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .escalation_events(since, until, Some("care"))
            .await
            .unwrap()
            .is_empty()
    );

    // An SLA breach escalated by the timer counts too.
    let escalated = store
        .escalate_breaches(until - Duration::minutes(1), "sla-timer", 100)
        .await
        .unwrap();
    assert!(!escalated.is_empty());
    let events = store.escalation_events(since, until, None).await.unwrap();
    assert_eq!(events.len(), 1 + escalated.len());
    assert_eq!(events[0].kind, "escalated", "newest first");
    assert_eq!(
        events.iter().filter(|e| e.kind == "escalated").count(),
        escalated.len()
    );

    // Unresolved P1s: how many, the top ones with their reach.
    let (total, rows) = store.unresolved_in_band(Band::P1, None, 10).await.unwrap();
    assert!(total >= 1);
    assert_eq!(rows.len() as i64, total.min(10));
    let eve = rows
        .iter()
        .find(|r| r.conversation.author == "eve")
        .unwrap();
    assert_eq!(eve.followers, Some(500_000));
    let (sales_p1, _) = store
        .unresolved_in_band(Band::P1, Some("sales"), 10)
        .await
        .unwrap();
    assert_eq!(sales_p1, 0);

    // Positive authors: spam and the day before left out; followers as last seen.
    let mut people = store.positive_authors(since, until, None).await.unwrap();
    people.sort_by_key(|p| p.positive);
    let counts: Vec<(u64, u64)> = people.iter().map(|p| (p.positive, p.followers)).collect();
    assert!(counts.contains(&(2, 100)), "{counts:?}");
    assert!(counts.contains(&(1, 1_000_000)), "{counts:?}");
    assert!(!counts.iter().any(|(_, f)| *f == 0), "{counts:?}");
    let sales = store
        .positive_authors(since, until, Some("sales"))
        .await
        .unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].followers, 1_000_000);
    let accounts = store
        .person_accounts(&people.iter().map(|p| p.person_id).collect::<Vec<_>>())
        .await
        .unwrap();
    let bob = accounts.iter().find(|a| a.handle == "bob").unwrap();
    assert_eq!(bob.display_name.as_deref(), Some("Name of bob"));
    assert_eq!(bob.platform, "bluesky");
    assert!(store.person_accounts(&[]).await.unwrap().is_empty());

    // Ideas, with their topics and their conversations' labels.
    let ideas = store.ideas(since, until, None).await.unwrap();
    let texts: Vec<&str> = ideas.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "would be great if the app had a dark mode",
            "feature request: a dark mode"
        ]
    );
    assert_eq!(ideas[0].topics, ["acme"]);
    assert_eq!(ideas[0].labels, ["idea", "mobile", "topic:acme"]);
    assert_eq!(ideas[1].topics, Vec::<String>::new());
    assert_eq!(ideas[1].labels, ["idea"]);
    assert_ne!(ideas[0].author, ideas[1].author);
    assert!(
        store
            .ideas(since, until, Some("care"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.ideas(before, since, None).await.unwrap().len(), 1);
}
