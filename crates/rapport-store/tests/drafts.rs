//! Drafts in the store, on both backends: created with their channels, moved only from
//! the status the caller saw, edited, scheduled with their posts decided once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::TestDb;
use rapport_store::{NewDraft, StatusChange};

fn change<'a>(from: &'a str, to: &'a str, event: &'a str, actor: &'a str) -> StatusChange<'a> {
    StatusChange {
        from,
        to,
        event,
        actor,
        note: None,
        scheduled_at: None,
        data: serde_json::json!({}),
    }
}

#[tokio::test]
async fn a_draft_moves_only_from_the_status_its_caller_saw() {
    let db = TestDb::new().await;
    let store = db.create().await;
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let id = store
        .create_draft(
            &NewDraft {
                author: "ceo".into(),
                kind: "key_message".into(),
                text: "We are doubling our repair network.".into(),
                sponsored: false,
                conversation_id: None,
                targets: vec![
                    ("bsky".into(), None),
                    (
                        "masto".into(),
                        Some("We are doubling our repair network. #repair".into()),
                    ),
                ],
            },
            now,
        )
        .await
        .unwrap();
    let d = store.draft(id).await.unwrap();
    assert_eq!(
        (d.status.as_str(), d.kind.as_str()),
        ("draft", "key_message")
    );
    assert_eq!(d.text_for("bsky"), "We are doubling our repair network.");
    assert!(d.text_for("masto").ends_with("#repair"));
    assert_eq!(
        d.targets[0].idempotency_key,
        format!("rapport-draft-{id}-bsky")
    );

    store
        .change_draft_status(
            id,
            &change("draft", "pending_approval", "draft_submitted", "ceo"),
            &[],
            now,
        )
        .await
        .unwrap();
    // Two approvers at once: the second saw "pending_approval" too, and is refused.
    store
        .change_draft_status(
            id,
            &change("pending_approval", "approved", "draft_approved", "lea"),
            &[],
            now,
        )
        .await
        .unwrap();
    let err = store
        .change_draft_status(
            id,
            &change("pending_approval", "rejected", "draft_rejected", "sam"),
            &[],
            now,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is approved now"), "{err}");
    let d = store.draft(id).await.unwrap();
    assert_eq!(
        (d.status.as_str(), d.decided_by.as_deref()),
        ("approved", Some("lea"))
    );

    // Scheduling fixes each channel's post.
    let at = now + Duration::hours(3);
    let mut sched = change("approved", "scheduled", "draft_scheduled", "ceo");
    sched.scheduled_at = Some(at);
    store
        .change_draft_status(
            id,
            &sched,
            &[
                ("bsky".into(), "{\"rkey\":\"x\"}".into()),
                ("masto".into(), "{}".into()),
            ],
            now,
        )
        .await
        .unwrap();
    let d = store.draft(id).await.unwrap();
    assert_eq!(d.scheduled_at, Some(at));
    assert!(
        d.targets
            .iter()
            .all(|t| t.state == "pending" && t.request.is_some())
    );
    assert_eq!(
        store.key_message_times("ceo", None).await.unwrap(),
        vec![at]
    );
    assert!(
        store
            .key_message_times("ceo", Some(id))
            .await
            .unwrap()
            .is_empty()
    );

    // Editing goes back to draft, clears the decision; a wrong channel is refused.
    let err = store
        .edit_draft(
            id,
            "scheduled",
            "draft",
            None,
            &[("nowhere".into(), "x".into())],
            "ceo",
            now,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not go to channel"), "{err}");
    assert_eq!(
        store.draft(id).await.unwrap().status,
        "scheduled",
        "a refused edit changes nothing"
    );
    store
        .edit_draft(
            id,
            "scheduled",
            "draft",
            Some("We are tripling it."),
            &[],
            "ceo",
            now,
        )
        .await
        .unwrap();
    let d = store.draft(id).await.unwrap();
    assert_eq!(
        (d.status.as_str(), d.text.as_str(), d.decided_by),
        ("draft", "We are tripling it.", None)
    );
    assert_eq!(store.drafts(Some("draft"), 10).await.unwrap().len(), 1);
    assert_eq!(store.drafts(Some("scheduled"), 10).await.unwrap().len(), 0);
    assert_eq!(store.drafts(None, 10).await.unwrap().len(), 1);
    assert!(
        store
            .draft(id + 100)
            .await
            .unwrap_err()
            .to_string()
            .contains("rapport draft list")
    );
}

fn idea_message(id: &str, author: &str, text: &str, minute: i64) -> rapport_store::Prepared {
    use rapport_core::triage::{Reach, Triager};
    let config = rapport_core::config::Config::default();
    let message = rapport_core::NewMessage {
        platform: "bluesky".into(),
        platform_id: id.into(),
        author: author.into(),
        author_name: None,
        followers: Some(10),
        text: text.into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(minute),
        in_reply_to: None,
        reshares: 0,
        replies: 0,
        direction: rapport_core::Direction::Inbound,
        automated: false,
        url: None,
    };
    let triager = Triager::new(&config.intent, &config.priority).unwrap();
    let mut triage = triager.triage(&message.text, Reach::default());
    triage.intent.intent = rapport_core::Intent::Idea;
    rapport_store::Prepared {
        message,
        triage,
        route: rapport_core::routing::RouteDecision {
            rule: None,
            team: None,
            band: rapport_core::Band::P4,
            raised: false,
            notify: None,
            labels: Vec::new(),
        },
        reply_ref: None,
        html: None,
        topics: Vec::new(),
    }
}

/// The ideas loop's store: grouping is idempotent, a status change records one reply
/// per (item, status, person) with its draft in one transaction, so a retry drafts
/// nobody twice; a merge carries the replies over.
#[tokio::test]
async fn idea_replies_are_drafted_once_per_person_and_status() {
    use rapport_store::{IdeaReply, IdeaSimilarity, IdeaStatusChange};
    let db = TestDb::new().await;
    let store = db.create().await;
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let batch = [
        idea_message(
            "i1",
            "ann",
            "please add a dark mode, it is so bright at night",
            0,
        ),
        idea_message("i2", "ann", "would love a dark theme, a night mode", 10),
        idea_message("i3", "bob", "feature request: dark mode", 20),
        idea_message("i4", "cy", "export my schedules to CSV", 30),
    ];
    let config = rapport_core::config::Config::default();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
    drop(ingestor);
    let ignore = std::collections::BTreeSet::new();
    let words = IdeaSimilarity::Words {
        threshold: 0.5,
        ignore: &ignore,
    };
    let g = store.group_ideas(&words, 2, now).await.unwrap();
    assert_eq!(g.messages, 2, "a batch at a time");
    let g = store.group_ideas(&words, 100, now).await.unwrap();
    assert_eq!((g.messages, g.new_items.len()), (2, 1));
    assert_eq!(
        store.group_ideas(&words, 100, now).await.unwrap().messages,
        0
    );
    assert_eq!(store.ungrouped_ideas().await.unwrap(), 0);
    let items = store.idea_items(None).await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0].messages, items[0].people), (3, 2));
    let dark = store.idea_item(items[0].id).await.unwrap();
    let replies: Vec<IdeaReply> = dark
        .people_list
        .iter()
        .map(|p| IdeaReply {
            person_id: p.person_id,
            submit: true,
            draft: NewDraft {
                author: "sam".into(),
                kind: "reply".into(),
                text: format!("shipped, {}", p.handle),
                sponsored: false,
                conversation_id: p.conversation_id,
                targets: vec![("bsky".into(), None)],
            },
        })
        .collect();
    let ship = |from: &'static str| IdeaStatusChange {
        item: dark.item.id,
        from,
        to: "shipped",
        actor: "sam",
        note: None,
    };
    let done = store
        .set_idea_status(&ship("new"), &replies, now)
        .await
        .unwrap();
    assert!(done.moved);
    assert_eq!(done.drafted.len(), 2);
    // Seen as new by a slower caller: refused.
    assert!(
        store
            .set_idea_status(&ship("new"), &replies, now)
            .await
            .is_err()
    );
    // A retry with the same status drafts nobody again.
    let again = store
        .set_idea_status(&ship("shipped"), &replies, now)
        .await
        .unwrap();
    assert!(!again.moved);
    assert!(again.drafted.is_empty());
    assert_eq!(again.already.len(), 2);
    let drafts = store.drafts(None, 10).await.unwrap();
    assert_eq!(drafts.len(), 2);
    assert!(drafts.iter().all(|d| d.status == "pending_approval"));
    // Merging the CSV item in carries nothing it has not got; its person is new.
    assert_eq!(
        store
            .merge_ideas(items[1].id, dark.item.id, "sam", now)
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .merge_ideas(items[1].id, dark.item.id, "sam", now)
            .await
            .is_err()
    );
    assert_eq!(store.idea_items(None).await.unwrap().len(), 1);
    let merged = store.idea_item(dark.item.id).await.unwrap();
    assert_eq!(merged.people_list.len(), 3);
    assert_eq!(
        store
            .idea_replied(dark.item.id, "shipped")
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Grouping by meaning: messages that share no word but whose vectors are close join one
/// item, a distant one starts its own, and a message with no vector of the model yet
/// waits in no item until it has one.
#[tokio::test]
async fn ideas_group_by_the_cosine_of_their_vectors() {
    use rapport_store::{GroupedBy, IdeaSimilarity};
    let db = TestDb::new().await;
    let store = db.create().await;
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let batch = [
        idea_message("v1", "ann", "please add dark mode", 0),
        idea_message("v2", "bob", "a night theme would be great", 10),
        idea_message("v3", "cy", "export to CSV", 20),
        idea_message("v4", "dee", "the evening look, less glare", 30),
    ];
    let config = rapport_core::config::Config::default();
    let mut ingestor = store.ingestor(&config).await.unwrap();
    ingestor.write_batch(&batch, &[]).await.unwrap();
    drop(ingestor);
    let ids: std::collections::HashMap<String, i64> = store
        .messages_to_embed("test-model", None, i64::MIN, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, text)| (text, id))
        .collect();
    let id = |t: &str| ids[t];
    let mut wanted = store.ideas_without_vectors("test-model").await.unwrap();
    wanted.sort();
    let mut all: Vec<i64> = ids.values().copied().collect();
    all.sort();
    assert_eq!(wanted, all, "every ungrouped idea needs a vector");
    // Close: cosine 0.99; distant: 0.
    let vectors = vec![
        (id("please add dark mode"), vec![1.0, 0.0, 0.0]),
        (id("a night theme would be great"), vec![0.99, 0.141, 0.0]),
        (id("export to CSV"), vec![0.0, 0.0, 1.0]),
    ];
    store
        .save_embeddings("test-model", &vectors, now)
        .await
        .unwrap();
    let meaning = IdeaSimilarity::Meaning {
        threshold: 0.6,
        model: "test-model",
    };
    let g = store.group_ideas(&meaning, 100, now).await.unwrap();
    assert_eq!(g.by, GroupedBy::Meaning);
    assert_eq!((g.messages, g.joined, g.new_items.len()), (3, 1, 2));
    assert_eq!(
        store.ungrouped_ideas().await.unwrap(),
        1,
        "the message with no vector waits"
    );
    assert_eq!(
        store.ideas_without_vectors("test-model").await.unwrap(),
        vec![id("the evening look, less glare")]
    );
    // Vectors of another model count as missing.
    assert_eq!(
        store
            .ideas_without_vectors("other-model")
            .await
            .unwrap()
            .len(),
        4
    );
    let items = store.idea_items(None).await.unwrap();
    assert_eq!(items.len(), 2);
    let dark = store.idea_item(items[0].id).await.unwrap();
    let texts: Vec<&str> = dark.message_list.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["please add dark mode", "a night theme would be great"]
    );
    let s = dark.message_list[1].similarity.unwrap();
    assert!((s - 0.99).abs() < 0.01, "{s}");
    // Its vector arrives: it joins the item it is close to (and by words it would not:
    // it shares no word with either).
    store
        .save_embeddings(
            "test-model",
            &[(id("the evening look, less glare"), vec![0.8, 0.6, 0.0])],
            now,
        )
        .await
        .unwrap();
    let g = store.group_ideas(&meaning, 100, now).await.unwrap();
    assert_eq!((g.messages, g.joined), (1, 1));
    assert_eq!(
        store.idea_item(dark.item.id).await.unwrap().item.messages,
        3
    );
    // Idempotent: nothing left to place.
    assert_eq!(
        store
            .group_ideas(&meaning, 100, now)
            .await
            .unwrap()
            .messages,
        0
    );
}
