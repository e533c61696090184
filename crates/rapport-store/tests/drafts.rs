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
