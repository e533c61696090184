//! Replies through a platform: planned once ([`plan_reply`], stored in the outbox with
//! the reply), sent as many times as it takes ([`send`]) — and posted once.
//!
//! - Bluesky: the plan fixes the record (text, facets, `createdAt`, reply refs) and its
//!   record key, a TID. `createRecord` with that key can succeed only once; when a retry
//!   is refused because the record exists (the first attempt did reach the PDS), the
//!   record is looked up and the send counts as done.
//! - Mastodon: the plan fixes the status request (the author mentioned, the visibility of
//!   what it answers); every attempt carries the outbox's `Idempotency-Key`.

use chrono::{DateTime, Utc};
use rapport_core::channel::{ChannelConfig, ChannelKind};
use serde::{Deserialize, Serialize};

use crate::bluesky::client::{Xrpc, XrpcCallError};
use crate::bluesky::convert::ReplyTarget;
use crate::bluesky::richtext::{detect_facets, post_record, reply_record};
use crate::bluesky::tid::tid;
use crate::bluesky::wire::{CreateRecordInput, PostRecord};
use crate::bluesky::{BlueskyError, POST_COLLECTION, post_url, split_at_uri};
use crate::mastodon::client::MastodonClient;
use crate::mastodon::outbound::{ensure_mention, reply_request_with_limit, reply_visibility};
use crate::mastodon::wire::{StatusRequest, Visibility};
use crate::mastodon::{DEFAULT_MAX_CHARS, MastodonError};
use crate::net::{Http, NetError, RetryPolicy};

/// A reply, decided: what each attempt sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "platform", rename_all = "lowercase")]
pub enum PlannedReply {
    /// A Bluesky post in the account's repo under `rkey`.
    Bluesky {
        /// The record key, fixed so that a retry cannot post twice.
        rkey: String,
        /// The post.
        record: PostRecord,
    },
    /// A Mastodon status.
    Mastodon {
        /// The request body.
        request: StatusRequest,
    },
}

/// What the message being answered offers: its platform id, author and stored
/// `reply_ref` (JSON).
#[derive(Debug, Clone, Copy)]
pub struct Answering<'a> {
    /// Its platform id (a Bluesky AT URI, a Mastodon status id).
    pub platform_id: &'a str,
    /// Its author's handle.
    pub author: &'a str,
    /// The JSON the connector stored with it.
    pub reply_ref: Option<&'a str>,
}

/// A reply that cannot be planned or sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message lacks what its platform needs to be answered.
    #[error(
        "this message cannot be answered on {platform}: {reason}; reply on the platform \
         itself and record it with `rapport reply --local`"
    )]
    NoTarget {
        /// The platform.
        platform: &'static str,
        /// What is missing.
        reason: String,
    },
    /// The text does not fit the platform.
    #[error(transparent)]
    Bluesky(#[from] BlueskyError),
    /// The text does not fit the platform.
    #[error(transparent)]
    Mastodon(#[from] MastodonError),
    /// The channel cannot send.
    #[error("channel {channel:?} cannot send replies: {reason}")]
    Channel {
        /// The channel.
        channel: String,
        /// Why.
        reason: String,
    },
    /// The platform refused or could not be reached.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Bluesky refused the login or the request.
    #[error(transparent)]
    Xrpc(#[from] XrpcCallError),
    /// A stored plan that cannot be read.
    #[error("the stored reply cannot be read ({0}); it was written by another version of rapport")]
    Plan(String),
}

impl SendError {
    /// Whether trying again later may succeed (a network fault, a rate limit, a server
    /// error); `false` when the platform refused the reply itself.
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Net(e) => e.is_transient(),
            SendError::Xrpc(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// Where a sent reply landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The platform's id of the post (AT URI, status id): the outbound message's id.
    pub remote_id: String,
    /// Its web address.
    pub url: Option<String>,
}

/// Plans the reply `text` to `to` on `kind`'s platform at `now`; `seed` (the outbox key,
/// or anything unique to this reply) picks the Bluesky record key's clock id.
pub fn plan_reply(
    kind: ChannelKind,
    text: &str,
    to: Answering<'_>,
    now: DateTime<Utc>,
    seed: u64,
) -> Result<PlannedReply, SendError> {
    match kind {
        ChannelKind::Bluesky => {
            let target: ReplyTarget = to
                .reply_ref
                .and_then(|r| serde_json::from_str(r).ok())
                .ok_or_else(|| SendError::NoTarget {
                    platform: "bluesky",
                    reason: format!(
                        "{} has no stored post reference (uri and cid)",
                        to.platform_id
                    ),
                })?;
            let facets = detect_facets(text, |_| None);
            let record = reply_record(text, &target, facets, now)?;
            let micros = u64::try_from(now.timestamp_micros()).unwrap_or(0);
            Ok(PlannedReply::Bluesky {
                rkey: tid(micros, (seed % 1024) as u16),
                record,
            })
        }
        ChannelKind::Mastodon => {
            #[derive(Deserialize)]
            struct Ref {
                visibility: Option<String>,
            }
            let visibility = to
                .reply_ref
                .and_then(|r| serde_json::from_str::<Ref>(r).ok())
                .and_then(|r| r.visibility)
                .map(|v| serde_json::from_value::<Visibility>(serde_json::Value::String(v)))
                .and_then(Result::ok)
                .unwrap_or(Visibility::Public);
            let text = ensure_mention(text, to.author);
            let request = reply_request_with_limit(
                &text,
                to.platform_id,
                reply_visibility(&visibility),
                DEFAULT_MAX_CHARS,
            )?;
            Ok(PlannedReply::Mastodon { request })
        }
        ChannelKind::Rss | ChannelKind::Webhook => Err(SendError::NoTarget {
            platform: kind.as_str(),
            reason: "the platform has no way to answer through rapport".into(),
        }),
    }
}

/// Plans a post of its own (a broadcast, a key message) on `kind`'s platform, dated
/// `created_at`; `seed` (the draft's id, or anything unique to the post) picks the
/// Bluesky record key's clock id. Sent with [`send`], like a reply: once.
pub fn plan_post(
    kind: ChannelKind,
    text: &str,
    created_at: DateTime<Utc>,
    seed: u64,
) -> Result<PlannedReply, SendError> {
    match kind {
        ChannelKind::Bluesky => {
            let record = post_record(text, detect_facets(text, |_| None), created_at)?;
            let micros = u64::try_from(created_at.timestamp_micros()).unwrap_or(0);
            Ok(PlannedReply::Bluesky {
                rkey: tid(micros, (seed % 1024) as u16),
                record,
            })
        }
        ChannelKind::Mastodon => Ok(PlannedReply::Mastodon {
            request: StatusRequest {
                status: text.to_owned(),
                in_reply_to_id: None,
                visibility: Some(Visibility::Public),
                spoiler_text: None,
                language: None,
            },
        }),
        ChannelKind::Rss | ChannelKind::Webhook => Err(SendError::NoTarget {
            platform: kind.as_str(),
            reason: "rapport cannot publish there".into(),
        }),
    }
}

/// Sends a planned reply through `channel` with its `secret`, carrying `idempotency_key`.
pub async fn send(
    channel: &ChannelConfig,
    secret: Option<String>,
    plan: &PlannedReply,
    idempotency_key: &str,
) -> Result<Sent, SendError> {
    let policy = RetryPolicy::default();
    let no_secret = || SendError::Channel {
        channel: channel.name.clone(),
        reason: "it has no credentials: set credentials_env or credentials_file".into(),
    };
    match plan {
        PlannedReply::Bluesky { rkey, record } => {
            // One attempt per request: the retries are made here, with a look for the
            // record before each, since a PDS answers a taken record key with a 500.
            let single = RetryPolicy {
                attempts: 1,
                ..policy
            };
            let account = channel.account.clone().unwrap_or_default();
            let xrpc = Xrpc::new(
                Http::new(channel.timeout(), single)?,
                channel.service(),
                channel.appview(),
                &account,
                Some(secret.ok_or_else(no_secret)?),
            );
            send_bluesky(&xrpc, rkey, record, policy).await
        }
        PlannedReply::Mastodon { request } => {
            let instance = channel.instance.as_deref().unwrap_or_default();
            let client = MastodonClient::new(
                Http::new(channel.timeout(), policy)?,
                instance,
                secret.ok_or_else(no_secret)?,
            );
            let status = client.post_status(request, idempotency_key).await?;
            Ok(Sent {
                url: status
                    .url
                    .clone()
                    .or(Some(status.uri.clone()))
                    .filter(|u| !u.is_empty()),
                remote_id: status.id,
            })
        }
    }
}

/// `createRecord` under a fixed key until it is known to exist: before every retry the
/// record is looked up (`getRecord`), so an attempt that reached the PDS but whose answer
/// was lost (a timeout, a dropped connection) is never posted again.
async fn send_bluesky(
    xrpc: &Xrpc,
    rkey: &str,
    record: &PostRecord,
    policy: RetryPolicy,
) -> Result<Sent, SendError> {
    let sent = |uri: String| Sent {
        url: split_at_uri(&uri).map(|(authority, _, key)| post_url(authority, key)),
        remote_id: uri,
    };
    let mut backoff = policy.backoff();
    let mut attempted = false;
    loop {
        let step = async {
            let did = xrpc.did().await?;
            if attempted
                && let Some((uri, _)) = xrpc.get_record(&did, POST_COLLECTION, rkey).await?
            {
                return Ok(Some(uri));
            }
            attempted = true;
            let input = CreateRecordInput {
                repo: did.clone(),
                collection: POST_COLLECTION.to_owned(),
                rkey: Some(rkey.to_owned()),
                validate: None,
                record: record.clone(),
                swap_commit: None,
            };
            match xrpc.create_record(&input).await {
                Ok(out) => Ok(Some(out.uri)),
                // Refused: the record may exist already (an earlier attempt landed).
                Err(e) if !e.is_transient() => {
                    match xrpc.get_record(&did, POST_COLLECTION, rkey).await? {
                        Some((uri, _)) => Ok(Some(uri)),
                        None => Err(e),
                    }
                }
                Err(e) => Err(e),
            }
        };
        match step.await {
            Ok(Some(uri)) => return Ok(sent(uri)),
            Ok(None) => {}
            Err(e) if e.is_transient() => {
                let Some(delay) = backoff.next() else {
                    return Err(e.into());
                };
                let wait = match &e {
                    XrpcCallError::Net(n) => n.retry_after().unwrap_or(delay),
                    _ => delay,
                };
                tracing::warn!("post to Bluesky: {e}; trying again in {wait:?}");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
