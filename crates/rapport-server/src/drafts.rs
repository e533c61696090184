//! Drafts for the API and the web pages: the checks a draft meets before it may go out
//! (as `rapport draft show` lists them) and an approver's decision. The decisions are
//! the core's (`rapport_core::draft`, `principles`); this module gathers what they need.

use std::str::FromStr as _;

use chrono::{DateTime, Duration, Utc};
use rapport_core::access::Role;
use rapport_core::config::Config;
use rapport_core::draft::{
    DraftAction, DraftKind, DraftStatus, LengthCheck, Platform, check_length, transition,
};
use rapport_core::principles::{DraftInput, Finding, check_draft, is_promotional};
use rapport_store::{Draft, StatusChange, Store, StoreError};
use serde::Serialize;
use serde_json::json;

/// One channel's length check.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelLength {
    /// The channel.
    pub channel: String,
    /// The count against the platform's limit.
    #[serde(flatten)]
    pub check: LengthCheck,
    /// How long it is, and what to do when it does not fit.
    pub message: String,
}

/// One principle check on one channel's text.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelFinding {
    /// The channel.
    pub channel: String,
    /// What the check found.
    #[serde(flatten)]
    pub finding: Finding,
}

/// What a draft meets before it may go out: each channel's length limit and each
/// principle's checks (on each channel's text), and the channels rapport cannot
/// publish on (no longer configured, or not Bluesky or Mastodon).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Checks {
    /// Each channel's length.
    pub lengths: Vec<ChannelLength>,
    /// Each principle's checks, per channel.
    pub principles: Vec<ChannelFinding>,
    /// Channels rapport cannot publish on, with the reason.
    pub channels: Vec<String>,
}

impl Checks {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.channels.is_empty()
            && self.lengths.iter().all(|l| l.check.ok)
            && self.principles.iter().all(|p| p.finding.passed)
    }
}

/// The platform and account of a configured channel that can publish, or why not.
pub fn platform_of(config: &Config, channel: &str) -> Result<(Platform, Option<String>), String> {
    let c = config
        .channels
        .iter()
        .find(|c| c.name == channel)
        .ok_or_else(|| {
            format!("{channel}: there is no channel named {channel:?} in rapport.toml; add a [[channel]] (docs/connectors.md)")
        })?;
    let p = Platform::of(c.kind).ok_or_else(|| {
        format!(
            "{channel}: a {} channel; rapport publishes on Bluesky and Mastodon channels only",
            c.kind.as_str()
        )
    })?;
    Ok((p, c.account.clone()))
}

/// The checks of draft `d` as of `now` (the principles count the account's posts of
/// the engagement window before it).
pub async fn checks(
    store: &Store,
    config: &Config,
    d: &Draft,
    now: DateTime<Utc>,
) -> Result<Checks, StoreError> {
    let window = now - Duration::days(config.engagement.window_days.into());
    let mut out = Checks::default();
    for t in &d.targets {
        let (platform, account) = match platform_of(config, &t.channel) {
            Ok(p) => p,
            Err(e) => {
                out.channels.push(e);
                continue;
            }
        };
        let text = d.text_for(&t.channel);
        let check = check_length(platform, text, None);
        out.lengths.push(ChannelLength {
            channel: t.channel.clone(),
            message: check.message(),
            check,
        });
        let recent = match &account {
            Some(a) => store.broadcast_texts(a, window).await?,
            None => Vec::new(),
        };
        let promotional = recent
            .iter()
            .filter(|t| is_promotional(&config.principles, t))
            .count();
        let input = DraftInput {
            text: text.to_string(),
            sponsored: d.sponsored,
            recent_posts: u32::try_from(recent.len()).unwrap_or(u32::MAX),
            recent_promotional: u32::try_from(promotional).unwrap_or(u32::MAX),
        };
        for finding in check_draft(&config.principles, &input) {
            out.principles.push(ChannelFinding {
                channel: t.channel.clone(),
                finding,
            });
        }
    }
    Ok(out)
}

/// Why a decision on a draft was refused.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// The user's role may not decide on drafts of this kind.
    #[error("{0}")]
    NotAllowed(String),
    /// The draft's status does not allow it, or it changed meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// The request is incomplete (a rejection without a reason).
    #[error("{0}")]
    Invalid(String),
    /// The store failed, or there is no such draft.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The draft's kind.
pub fn kind_of(d: &Draft) -> Result<DraftKind, StoreError> {
    DraftKind::from_str(&d.kind).map_err(|e| StoreError::Invalid(format!("draft {}: {e}", d.id)))
}

/// Whether a user with `role` may approve or reject `d`.
pub fn may_decide(config: &Config, role: Role, d: &Draft) -> bool {
    kind_of(d).is_ok_and(|k| config.publishing.may_approve(role, k))
}

/// Approves draft `id` (or, with `reject`, rejects it for that reason) as `actor` with
/// `role`: the role is checked against `[publishing.approvers]`, the move by the core,
/// and the store refuses it if the draft changed meanwhile. Returns the draft after.
pub async fn decide(
    store: &Store,
    config: &Config,
    id: i64,
    actor: &str,
    role: Role,
    reject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Draft, DecideError> {
    let d = store.draft(id).await?;
    let kind = kind_of(&d)?;
    config.publishing.check_approver(role, kind).map_err(|e| {
        DecideError::NotAllowed(format!("{actor} may not decide on draft {id}: {e}"))
    })?;
    let (action, event) = match reject {
        Some(reason) if reason.trim().is_empty() => {
            return Err(DecideError::Invalid(
                "a rejection needs a reason, recorded with the draft for its author".into(),
            ));
        }
        Some(_) => (DraftAction::Reject, "draft_rejected"),
        None => (DraftAction::Approve, "draft_approved"),
    };
    let from = DraftStatus::from_str(&d.status)
        .map_err(|e| StoreError::Invalid(format!("draft {id}: {e}")))?;
    let to =
        transition(from, action).map_err(|e| DecideError::Conflict(format!("draft {id}: {e}")))?;
    let change = StatusChange {
        from: from.as_str(),
        to: to.as_str(),
        event,
        actor,
        note: reject.map(str::trim),
        scheduled_at: None,
        data: json!({}),
    };
    match store.change_draft_status(id, &change, &[], now).await {
        Ok(()) => {}
        Err(StoreError::Invalid(message)) => return Err(DecideError::Conflict(message)),
        Err(e) => return Err(e.into()),
    }
    Ok(store.draft(id).await?)
}
