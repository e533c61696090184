//! The ideas loop for the CLI, the API and the web pages alike: grouping the new idea
//! messages, and changing an item's status with the replies it drafts. The rules are
//! `rapport_core::ideas`'; the store writes each change in one transaction.
//!
//! A reply goes to each person who raised the idea, answering the conversation of their
//! most recent message in the item, through the first channel of that platform (as
//! `rapport reply` would). It is written by the user who changed the status, checked as
//! every draft is (length, principles), and submitted: it waits in the normal approval
//! queue. A reply that fails a check, or has no channel to go through (no Bluesky or
//! Mastodon channel of its platform), stays a `draft` for someone to fix; it still
//! counts as that person's reply.

use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use rapport_core::access::Role;
use rapport_core::config::Config;
use rapport_core::ideas::{IdeaStatus, ignored_words, reply_text};
use rapport_semantic::{Embedder, MODEL_NAME};
use rapport_store::{
    Draft, Grouped, IdeaDetail, IdeaReply, IdeaSimilarity, IdeaStatusChange, IdeaStatusOutcome,
    NewDraft, Store, StoreError,
};
use serde::Serialize;

use crate::drafts;
use crate::replies::channel_for;
use crate::semantic::{SemanticJobError, embed_messages};

/// The most idea messages one grouping run places (a run again places the rest).
pub const GROUP_BATCH: i64 = 5_000;

/// Places the idea messages in no item yet (all of them, in batches).
///
/// With the semantic layer on (`embedder`), by meaning: the messages that have no vector
/// yet (the new idea messages, and those of the items, grouped by words before the model
/// came) are embedded first, and messages join an item at `[ideas] semantic_similarity`
/// (cosine of their sentence embeddings). Without it, by their content words at
/// `[ideas] similarity`.
pub async fn group(
    store: &Store,
    config: &Config,
    embedder: Option<&Embedder>,
    now: DateTime<Utc>,
) -> Result<Grouped, SemanticJobError> {
    let ignore = ignored_words(&config.organisation);
    let similarity = match embedder {
        Some(embedder) => {
            if store.ungrouped_ideas().await? > 0 {
                let missing = store.ideas_without_vectors(MODEL_NAME).await?;
                embed_messages(store, embedder, &missing).await?;
            }
            IdeaSimilarity::Meaning {
                threshold: config.ideas.semantic_similarity,
                model: MODEL_NAME,
            }
        }
        None => IdeaSimilarity::Words {
            threshold: config.ideas.similarity,
            ignore: &ignore,
        },
    };
    let mut total = Grouped {
        by: similarity.method(),
        ..Grouped::default()
    };
    loop {
        let g = store.group_ideas(&similarity, GROUP_BATCH, now).await?;
        total.messages += g.messages;
        total.joined += g.joined;
        total.new_items.extend(g.new_items);
        if g.messages < usize::try_from(GROUP_BATCH).unwrap_or(usize::MAX) {
            return Ok(total);
        }
    }
}

/// Why a change of an idea's status was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdeaActionError {
    /// The user's role may not change an idea's status.
    #[error("{0}")]
    NotAllowed(String),
    /// The status changed meanwhile, or the item was merged.
    #[error("{0}")]
    Conflict(String),
    /// The store failed, or there is no such idea.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A reply drafted, with why it was not submitted when it was not.
#[derive(Debug, Clone, Serialize)]
pub struct ReplyDrafted {
    /// To whom.
    pub person_id: i64,
    /// Their handle.
    pub handle: String,
    /// The conversation it answers.
    pub conversation_id: i64,
    /// The draft.
    pub draft_id: i64,
    /// Whether it went to the approval queue.
    pub submitted: bool,
    /// Why not, when not.
    pub held: Option<String>,
}

/// What a change of status did.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChanged {
    /// The item.
    pub idea: i64,
    /// Its status before.
    pub from: String,
    /// Its status now.
    pub to: String,
    /// Whether it moved (false: it had that status; only missing replies were drafted).
    pub moved: bool,
    /// The replies drafted now.
    pub drafted: Vec<ReplyDrafted>,
    /// People who already had their reply for this status.
    pub already: Vec<i64>,
    /// People no reply can go to (no conversation to answer).
    pub unreachable: Vec<i64>,
}

/// Sets item `id`'s status to `to` as `actor` with `role`, expecting it to be `expect`
/// (the status the caller saw; `None`: whatever it is now), and drafts the replies: one
/// per person who raised it and has none for `to` yet.
#[allow(clippy::too_many_arguments)]
pub async fn set_status(
    store: &Store,
    config: &Config,
    id: i64,
    to: IdeaStatus,
    expect: Option<IdeaStatus>,
    actor: &str,
    role: Role,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<StatusChanged, IdeaActionError> {
    config.ideas.check_role(role).map_err(|e| {
        IdeaActionError::NotAllowed(format!("{actor} may not change idea {id}: {e}"))
    })?;
    let detail = store.idea_item(id).await?;
    if let Some(into) = detail.merged_into {
        return Err(IdeaActionError::Conflict(format!(
            "idea {id} was merged into idea {into}: change idea {into}'s status instead"
        )));
    }
    let from = IdeaStatus::from_str(&detail.item.status)
        .map_err(|e| StoreError::Invalid(format!("idea {id}: {e}")))?;
    if let Some(e) = expect
        && e != from
    {
        return Err(IdeaActionError::Conflict(format!(
            "idea {id} is {from} now, not {e}: someone changed it meanwhile; reload it"
        )));
    }
    let (replies, planned, unreachable) =
        plan_replies(store, config, &detail, to, actor, now).await?;
    let mut already: Vec<i64> = if to == IdeaStatus::New {
        Vec::new()
    } else {
        let done = store.idea_replied(id, to.as_str()).await?;
        detail
            .people_list
            .iter()
            .map(|p| p.person_id)
            .filter(|p| done.contains(p))
            .collect()
    };
    let change = IdeaStatusChange {
        item: id,
        from: from.as_str(),
        to: to.as_str(),
        actor,
        note: note.map(str::trim).filter(|n| !n.is_empty()),
    };
    let outcome: IdeaStatusOutcome = match store.set_idea_status(&change, &replies, now).await {
        Ok(o) => o,
        Err(StoreError::Invalid(m)) => return Err(IdeaActionError::Conflict(m)),
        Err(e) => return Err(e.into()),
    };
    already.extend(outcome.already.iter().copied());
    let drafted = outcome
        .drafted
        .iter()
        .filter_map(|d| {
            planned
                .iter()
                .find(|p| p.person_id == d.person_id)
                .map(|p| ReplyDrafted {
                    person_id: d.person_id,
                    handle: p.handle.clone(),
                    conversation_id: p.conversation_id,
                    draft_id: d.draft_id,
                    submitted: d.submitted,
                    held: p.held.clone(),
                })
        })
        .collect();
    Ok(StatusChanged {
        idea: id,
        from: from.as_str().into(),
        to: to.as_str().into(),
        moved: outcome.moved,
        drafted,
        already,
        unreachable,
    })
}

struct Planned {
    person_id: i64,
    handle: String,
    conversation_id: i64,
    held: Option<String>,
}

/// The reply to each person of the item who has none for `to` yet.
async fn plan_replies(
    store: &Store,
    config: &Config,
    detail: &IdeaDetail,
    to: IdeaStatus,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<IdeaReply>, Vec<Planned>, Vec<i64>), StoreError> {
    let mut replies = Vec::new();
    let mut planned = Vec::new();
    let mut unreachable = Vec::new();
    if to == IdeaStatus::New {
        return Ok((replies, planned, unreachable));
    }
    let done = store.idea_replied(detail.item.id, to.as_str()).await?;
    for p in &detail.people_list {
        if done.contains(&p.person_id) {
            continue;
        }
        let Some(conversation) = p.conversation_id else {
            unreachable.push(p.person_id);
            continue;
        };
        let Some(text) = reply_text(&config.ideas.replies, to, &detail.item.title, &p.handle)
        else {
            continue;
        };
        let channel = channel_for(config, &p.platform, None).ok().flatten();
        let targets: Vec<(String, Option<String>)> =
            channel.iter().map(|c| (c.name.clone(), None)).collect();
        let draft = NewDraft {
            author: actor.to_string(),
            kind: "reply".into(),
            text,
            sponsored: false,
            conversation_id: Some(conversation),
            targets,
        };
        let held = match channel {
            None => Some(format!(
                "no Bluesky or Mastodon channel of {} in rapport.toml: answer by hand, or add a [[channel]] and edit the draft",
                p.platform
            )),
            Some(_) => {
                let c = drafts::checks(store, config, &as_draft(&draft, now), now).await?;
                if c.passed() {
                    None
                } else {
                    Some(
                        "its checks failed (length or principles): `rapport draft show ID` lists them; edit and submit it"
                            .into(),
                    )
                }
            }
        };
        replies.push(IdeaReply {
            person_id: p.person_id,
            submit: held.is_none(),
            draft,
        });
        planned.push(Planned {
            person_id: p.person_id,
            handle: p.handle.clone(),
            conversation_id: conversation,
            held,
        });
    }
    Ok((replies, planned, unreachable))
}

/// A draft not stored yet, as the checks see it.
fn as_draft(d: &NewDraft, now: DateTime<Utc>) -> Draft {
    Draft {
        id: 0,
        author: d.author.clone(),
        kind: d.kind.clone(),
        status: "draft".into(),
        text: d.text.clone(),
        sponsored: d.sponsored,
        conversation_id: d.conversation_id,
        scheduled_at: None,
        decided_by: None,
        decision_note: None,
        created_at: now,
        updated_at: now,
        targets: d
            .targets
            .iter()
            .map(|(channel, text)| rapport_store::DraftTarget {
                channel: channel.clone(),
                text: text.clone(),
                state: "waiting".into(),
                attempts: 0,
                last_error: None,
                remote_id: None,
                url: None,
                sent_at: None,
                idempotency_key: String::new(),
                request: None,
            })
            .collect(),
    }
}
