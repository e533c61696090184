//! Answering a conversation, for the API and the CLI alike: recorded here, and sent
//! through the conversation's platform when a channel of it is configured (through the
//! outbox, so that it is posted once however often a send is retried).

use chrono::{DateTime, Utc};
use rapport_connectors::credentials;
use rapport_connectors::outbound::{self, Answering, PlannedReply, SendError, plan_reply};
use rapport_core::channel::{ChannelConfig, ChannelKind};
use rapport_core::config::Config;
use rapport_store::outbox::OutboxRow;
use rapport_store::{ReplyOutcome, SendVia, Store, StoreError};
use serde::Serialize;

/// What one send did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Outcome {
    /// The platform has it.
    Sent {
        /// Its id there.
        remote_id: String,
        /// Its address.
        url: Option<String>,
    },
    /// Not this time; it stays queued.
    Pending {
        /// Why.
        error: String,
    },
    /// The platform refused it; it is no longer retried.
    Failed {
        /// Why.
        error: String,
    },
}

/// A reply, recorded and perhaps sent.
#[derive(Debug, Clone, Serialize)]
pub struct Replied {
    /// What the store recorded.
    #[serde(flatten)]
    pub recorded: ReplyOutcome,
    /// The channel it went through, when it went through one.
    pub channel: Option<String>,
    /// The send, when it went through a channel.
    pub sent: Option<Outcome>,
}

/// A reply that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// The store refused (no such conversation, empty text, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The channel asked for does not exist or is of another platform.
    #[error("{0}")]
    Channel(String),
    /// The platform would refuse the reply (too long, nothing to answer).
    #[error(transparent)]
    Plan(#[from] SendError),
}

/// The channel a reply to a conversation on `platform` goes through: `named`, or the
/// first Bluesky or Mastodon channel of that platform; `None` when it is recorded only.
pub fn channel_for<'a>(
    config: &'a Config,
    platform: &str,
    named: Option<&str>,
) -> Result<Option<&'a ChannelConfig>, ReplyError> {
    match named {
        Some(name) => {
            let channel = config
                .channels
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| ReplyError::Channel(format!("no [[channel]] named {name:?}")))?;
            if channel.kind.as_str() != platform {
                return Err(ReplyError::Channel(format!(
                    "channel {name:?} is a {} channel and the conversation is on {platform}: \
                     answer it through a {platform} channel",
                    channel.kind.as_str()
                )));
            }
            Ok(Some(channel))
        }
        None => Ok(config.channels.iter().find(|c| {
            c.kind.as_str() == platform
                && matches!(c.kind, ChannelKind::Bluesky | ChannelKind::Mastodon)
        })),
    }
}

/// A reply to make.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The conversation.
    pub id: i64,
    /// The reply.
    pub text: &'a str,
    /// Who answers.
    pub actor: &'a str,
    /// When.
    pub now: DateTime<Utc>,
    /// The channel to send through (default: the first of the conversation's platform).
    pub channel: Option<&'a str>,
    /// Record only, do not send.
    pub local: bool,
}

/// Answers a conversation: through its platform (the channel named, or the first of its
/// platform) unless `local`, else recorded only.
pub async fn reply(
    store: &Store,
    config: &Config,
    answer: Answer<'_>,
) -> Result<Replied, ReplyError> {
    let Answer {
        id,
        text,
        actor,
        now,
        channel: named,
        local,
    } = answer;
    let platform = store.conversation(id).await?.conversation.platform;
    let channel = if local {
        None
    } else {
        channel_for(config, &platform, named)?
    };
    let Some(channel) = channel else {
        let recorded = store.reply(id, text, actor, now).await?;
        return Ok(Replied {
            recorded,
            channel: None,
            sent: None,
        });
    };
    let target = store.reply_target(id).await?.ok_or_else(|| {
        StoreError::Invalid(format!(
            "conversation {id} has no inbound message to answer"
        ))
    })?;
    // Decided once, before anything is stored: a reply the platform would refuse (too
    // long, nothing to answer) is refused here, and every retry sends the same post.
    let seed = u64::from(now.timestamp_subsec_nanos()) ^ id.unsigned_abs();
    let plan = plan_reply(
        channel.kind,
        text,
        Answering {
            platform_id: &target.platform_id,
            author: &target.author,
            reply_ref: target.reply_ref.as_deref(),
        },
        now,
        seed,
    )?;
    let request = serde_json::to_string(&plan)
        .map_err(|e| StoreError::Invalid(format!("the reply cannot be written down: {e}")))?;
    let recorded = store
        .reply_via(
            id,
            text,
            actor,
            now,
            Some(SendVia {
                channel: channel.name.clone(),
                request,
            }),
        )
        .await?;
    let sent = match recorded.outbox_id {
        Some(outbox_id) => {
            let row = store.outbox_row(outbox_id).await?;
            Some(send_one(store, config, &row).await?)
        }
        None => None,
    };
    Ok(Replied {
        recorded,
        channel: Some(channel.name.clone()),
        sent,
    })
}

/// Sends one queued reply and records the outcome in the store.
pub async fn send_one(
    store: &Store,
    config: &Config,
    row: &OutboxRow,
) -> Result<Outcome, StoreError> {
    let attempt = async {
        let channel = config
            .channels
            .iter()
            .find(|c| c.name == row.channel)
            .ok_or_else(|| {
                (
                    format!(
                        "channel {:?} is no longer in rapport.toml; add it back to send this reply",
                        row.channel
                    ),
                    true,
                )
            })?;
        let secret = credentials::secret(channel).map_err(|e| (e.to_string(), true))?;
        let plan: PlannedReply = serde_json::from_str(&row.request)
            .map_err(|e| (format!("the stored reply cannot be read: {e}"), false))?;
        outbound::send(channel, secret, &plan, &row.idempotency_key)
            .await
            .map_err(|e| (e.to_string(), e.is_transient()))
    };
    Ok(match attempt.await {
        Ok(sent) => {
            store
                .outbox_sent(row.id, &sent.remote_id, sent.url.as_deref(), Utc::now())
                .await?;
            Outcome::Sent {
                remote_id: sent.remote_id,
                url: sent.url,
            }
        }
        Err((error, transient)) => {
            store
                .outbox_failed(row.id, &error, !transient, Utc::now())
                .await?;
            if transient {
                Outcome::Pending { error }
            } else {
                Outcome::Failed { error }
            }
        }
    })
}
