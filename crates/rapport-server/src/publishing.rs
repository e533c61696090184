//! Publishing scheduled drafts, for the CLI, the worker and the listener alike: each
//! channel's post was decided once when the draft was scheduled (a Bluesky record under a
//! fixed record key, a Mastodon status sent with the draft's idempotency key), so a send
//! repeated after a timeout or a crash — even one that reached the platform just before
//! the process died — is posted once.

use chrono::{DateTime, Utc};
use rapport_connectors::credentials;
use rapport_connectors::outbound::{self, PlannedReply};
use rapport_core::config::Config;
use rapport_store::{DuePost, PostSent, Store, StoreError};
use serde::Serialize;

use crate::replies::Outcome;

/// One channel's post, and what sending it did.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    /// The draft.
    pub draft_id: i64,
    /// The channel.
    pub channel: String,
    /// What happened.
    pub outcome: Outcome,
    /// Whether the draft is published now (every channel sent).
    pub published: bool,
}

/// What a plan answers, for a reply: the platform id of the post it replies to.
fn answers(plan: &PlannedReply) -> Option<String> {
    match plan {
        PlannedReply::Bluesky { record, .. } => record.reply.as_ref().map(|r| r.parent.uri.clone()),
        PlannedReply::Mastodon { request } => request.in_reply_to_id.clone(),
    }
}

/// Sends the posts of the scheduled drafts due at `now` (or of draft `only`, now), each
/// once, and records each outcome.
pub async fn publish_due(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
    only: Option<i64>,
) -> Result<Vec<Publication>, StoreError> {
    let mut out = Vec::new();
    for due in store.due_posts(now, only).await? {
        out.push(publish_one(store, config, &due).await?);
    }
    Ok(out)
}

async fn publish_one(
    store: &Store,
    config: &Config,
    due: &DuePost,
) -> Result<Publication, StoreError> {
    let attempt = async {
        let channel = config
            .channels
            .iter()
            .find(|c| c.name == due.channel)
            .ok_or_else(|| {
                (
                    format!(
                        "channel {:?} is no longer in rapport.toml; add it back to publish draft {}",
                        due.channel, due.draft_id
                    ),
                    true,
                )
            })?;
        let secret = credentials::secret(channel).map_err(|e| (e.to_string(), true))?;
        let plan: PlannedReply = serde_json::from_str(&due.request).map_err(|e| {
            (
                format!("the scheduled post cannot be read: {e}; schedule the draft again"),
                false,
            )
        })?;
        let sent = outbound::send(channel, secret, &plan, &due.idempotency_key)
            .await
            .map_err(|e| (e.to_string(), e.is_transient()))?;
        Ok::<_, (String, bool)>((channel, plan, sent))
    };
    let now = Utc::now();
    match attempt.await {
        Ok((channel, plan, sent)) => {
            let in_reply_to = answers(&plan);
            let published = store
                .post_sent(
                    &PostSent {
                        draft_id: due.draft_id,
                        channel: &due.channel,
                        platform: channel.kind.as_str(),
                        account: channel.account.as_deref().unwrap_or(&channel.name),
                        remote_id: &sent.remote_id,
                        url: sent.url.as_deref(),
                        in_reply_to: in_reply_to.as_deref(),
                    },
                    now,
                )
                .await?;
            Ok(Publication {
                draft_id: due.draft_id,
                channel: due.channel.clone(),
                outcome: Outcome::Sent {
                    remote_id: sent.remote_id,
                    url: sent.url,
                },
                published,
            })
        }
        Err((error, transient)) => {
            store
                .post_failed(due.draft_id, &due.channel, &error, !transient, now)
                .await?;
            Ok(Publication {
                draft_id: due.draft_id,
                channel: due.channel.clone(),
                outcome: if transient {
                    Outcome::Pending { error }
                } else {
                    Outcome::Failed { error }
                },
                published: false,
            })
        }
    }
}
