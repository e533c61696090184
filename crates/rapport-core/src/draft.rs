//! Drafts of outbound posts as pure data: what kind of post a draft is, where it stands
//! in the approval workflow, who may approve it, and whether its text fits the platform.
//!
//! The workflow ([`transition`]):
//!
//! ```text
//! draft ─submit→ pending_approval ─approve→ approved ─schedule→ scheduled ─publish_ok→ published
//!                       │                                          │
//!                       └─reject→ rejected                         └─publish_failed→ failed ─schedule→ scheduled
//! ```
//!
//! `edit` takes any draft that is not published back to `draft`: text that changed after
//! it was submitted or approved has to be approved again. A failed post can be scheduled
//! again unedited (its text was approved). A published post is final.
//!
//! Who may approve ([`PublishingConfig`]): for each kind of draft, the least role that
//! may approve it; the roles above it may too (admin > leader > agent, as in
//! [`crate::access`]). By default a key message needs a leader, a broadcast an admin and
//! a reply an agent.
//!
//! Platform limits ([`check_length`]): Bluesky counts grapheme clusters (300, and 3,000
//! UTF-8 bytes), links as written; Mastodon counts grapheme clusters too (500 unless the
//! instance says otherwise), but every URL counts 23 whatever its length and a mention
//! `@user@domain` counts as `@user`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::access::Role;
use crate::channel::ChannelKind;
use crate::model::ParseEnumError;

/// What a draft is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    /// An answer to someone: engagement.
    Reply,
    /// A post of the organisation's that answers no one.
    Broadcast,
    /// A leader's key message: rare on purpose, so that it cuts through.
    KeyMessage,
}

impl DraftKind {
    /// Every kind.
    pub const ALL: [DraftKind; 3] = [
        DraftKind::Reply,
        DraftKind::Broadcast,
        DraftKind::KeyMessage,
    ];

    /// The name, as stored and as typed: `reply`, `broadcast`, `key_message`.
    pub fn as_str(self) -> &'static str {
        match self {
            DraftKind::Reply => "reply",
            DraftKind::Broadcast => "broadcast",
            DraftKind::KeyMessage => "key_message",
        }
    }
}

impl fmt::Display for DraftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DraftKind {
    type Err = ParseEnumError;

    /// Parses a kind name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        DraftKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParseEnumError::new("draft kind", s, "reply, broadcast, key_message"))
    }
}

/// Where a draft stands in the approval workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Being written; nobody has been asked to approve it.
    Draft,
    /// Submitted, waiting for an approver.
    PendingApproval,
    /// Approved, not yet given a time.
    Approved,
    /// Approved and waiting for its time to publish.
    Scheduled,
    /// On the platform. Final.
    Published,
    /// The platform refused it, or every retry failed.
    Failed,
    /// An approver turned it down.
    Rejected,
}

impl DraftStatus {
    /// Every status, in workflow order.
    pub const ALL: [DraftStatus; 7] = [
        DraftStatus::Draft,
        DraftStatus::PendingApproval,
        DraftStatus::Approved,
        DraftStatus::Scheduled,
        DraftStatus::Published,
        DraftStatus::Failed,
        DraftStatus::Rejected,
    ];

    /// The name, as stored and as typed: `draft`, `pending_approval`, `approved`,
    /// `scheduled`, `published`, `failed`, `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::PendingApproval => "pending_approval",
            DraftStatus::Approved => "approved",
            DraftStatus::Scheduled => "scheduled",
            DraftStatus::Published => "published",
            DraftStatus::Failed => "failed",
            DraftStatus::Rejected => "rejected",
        }
    }

    /// Whether nothing can happen to a draft in this status any more.
    pub fn is_final(self) -> bool {
        self == DraftStatus::Published
    }

    /// The actions allowed from this status, in [`DraftAction::ALL`] order.
    pub fn allowed_actions(self) -> Vec<DraftAction> {
        DraftAction::ALL
            .into_iter()
            .filter(|a| transition(self, *a).is_ok())
            .collect()
    }
}

impl fmt::Display for DraftStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DraftStatus {
    type Err = ParseEnumError;

    /// Parses a status name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        DraftStatus::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                ParseEnumError::new(
                    "draft status",
                    s,
                    "draft, pending_approval, approved, scheduled, published, failed, rejected",
                )
            })
    }
}

/// Something that happens to a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftAction {
    /// Ask for approval.
    Submit,
    /// An approver accepts it.
    Approve,
    /// An approver turns it down.
    Reject,
    /// Give an approved (or failed) draft its time to publish.
    Schedule,
    /// The platform took it.
    PublishOk,
    /// The platform refused it, or every retry failed.
    PublishFailed,
    /// Change its text or settings: it goes back to `draft`.
    Edit,
}

impl DraftAction {
    /// Every action.
    pub const ALL: [DraftAction; 7] = [
        DraftAction::Submit,
        DraftAction::Approve,
        DraftAction::Reject,
        DraftAction::Schedule,
        DraftAction::PublishOk,
        DraftAction::PublishFailed,
        DraftAction::Edit,
    ];

    /// The name: `submit`, `approve`, `reject`, `schedule`, `publish_ok`,
    /// `publish_failed`, `edit`.
    pub fn as_str(self) -> &'static str {
        match self {
            DraftAction::Submit => "submit",
            DraftAction::Approve => "approve",
            DraftAction::Reject => "reject",
            DraftAction::Schedule => "schedule",
            DraftAction::PublishOk => "publish_ok",
            DraftAction::PublishFailed => "publish_failed",
            DraftAction::Edit => "edit",
        }
    }
}

impl fmt::Display for DraftAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DraftAction {
    type Err = ParseEnumError;

    /// Parses an action name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        DraftAction::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                ParseEnumError::new(
                    "draft action",
                    s,
                    "submit, approve, reject, schedule, publish_ok, publish_failed, edit",
                )
            })
    }
}

/// An action the draft's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a draft that is {from}: {}", hint(*.from))]
pub struct TransitionError {
    /// Where the draft stands.
    pub from: DraftStatus,
    /// What was asked.
    pub action: DraftAction,
}

/// What can be done from `from`, for the error message.
fn hint(from: DraftStatus) -> String {
    if from.is_final() {
        return "a published post is final; write a new draft to follow it up".to_string();
    }
    let moves: Vec<String> = from
        .allowed_actions()
        .into_iter()
        .filter_map(|a| {
            transition(from, a)
                .ok()
                .map(|to| format!("{a} it (to {to})"))
        })
        .collect();
    let list = match moves.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    format!("from {from} you can {list}")
}

/// The status a draft in `from` moves to on `action`, or why it cannot.
///
/// | from               | submit           | approve  | reject   | schedule  | publish_ok | publish_failed | edit  |
/// | ------------------ | ---------------- | -------- | -------- | --------- | ---------- | -------------- | ----- |
/// | `draft`            | pending_approval |          |          |           |            |                | draft |
/// | `pending_approval` |                  | approved | rejected |           |            |                | draft |
/// | `approved`         |                  |          |          | scheduled |            |                | draft |
/// | `scheduled`        |                  |          |          |           | published  | failed         | draft |
/// | `published`        |                  |          |          |           |            |                |       |
/// | `failed`           |                  |          |          | scheduled |            |                | draft |
/// | `rejected`         |                  |          |          |           |            |                | draft |
pub fn transition(from: DraftStatus, action: DraftAction) -> Result<DraftStatus, TransitionError> {
    use DraftAction as A;
    use DraftStatus as S;
    let to = match (from, action) {
        (S::Draft, A::Submit) => S::PendingApproval,
        (S::PendingApproval, A::Approve) => S::Approved,
        (S::PendingApproval, A::Reject) => S::Rejected,
        (S::Approved | S::Failed, A::Schedule) => S::Scheduled,
        (S::Scheduled, A::PublishOk) => S::Published,
        (S::Scheduled, A::PublishFailed) => S::Failed,
        // Changed text loses its approval, and its place in the schedule.
        (
            S::Draft | S::PendingApproval | S::Approved | S::Scheduled | S::Failed | S::Rejected,
            A::Edit,
        ) => S::Draft,
        _ => return Err(TransitionError { from, action }),
    };
    Ok(to)
}

/// The `[publishing]` section of rapport.toml.
///
/// ```toml
/// [publishing.approvers]   # the least role that may approve each kind; roles above it may too
/// key_message = "leader"
/// broadcast = "admin"
/// reply = "agent"
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishingConfig {
    /// Who may approve each kind of draft.
    pub approvers: Approvers,
}

/// For each kind of draft, the least role that may approve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Approvers {
    /// Key messages: `leader` by default.
    pub key_message: Role,
    /// Broadcasts: `admin` by default.
    pub broadcast: Role,
    /// Replies: `agent` by default.
    pub reply: Role,
}

impl Default for Approvers {
    fn default() -> Self {
        Self {
            key_message: Role::Leader,
            broadcast: Role::Admin,
            reply: Role::Agent,
        }
    }
}

/// How much a role may do: admin 3, leader 2, agent 1, viewer 0.
fn power(role: Role) -> u8 {
    match role {
        Role::Admin => 3,
        Role::Leader => 2,
        Role::Agent => 1,
        Role::Viewer => 0,
    }
}

/// A `[publishing]` section that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishingError {
    /// Viewers change nothing, so they cannot approve.
    #[error(
        "[publishing.approvers] {0} = \"viewer\": viewers change nothing; name agent, leader or admin"
    )]
    ViewerApprover(DraftKind),
}

/// A user whose role may not approve a draft of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{role} may not approve a {kind}: it needs {needed} or above; ask one, or change [publishing.approvers] {kind}"
)]
pub struct ApprovalError {
    /// The user's role.
    pub role: Role,
    /// The draft's kind.
    pub kind: DraftKind,
    /// The least role that may approve it.
    pub needed: Role,
}

impl PublishingConfig {
    /// Checks that every kind can be approved by someone who may change things.
    pub fn validate(&self) -> Result<(), PublishingError> {
        for kind in DraftKind::ALL {
            if self.approver(kind) == Role::Viewer {
                return Err(PublishingError::ViewerApprover(kind));
            }
        }
        Ok(())
    }

    /// The least role that may approve a draft of this kind.
    pub fn approver(&self, kind: DraftKind) -> Role {
        match kind {
            DraftKind::KeyMessage => self.approvers.key_message,
            DraftKind::Broadcast => self.approvers.broadcast,
            DraftKind::Reply => self.approvers.reply,
        }
    }

    /// Whether a user with `role` may approve (or reject) a draft of this kind.
    pub fn may_approve(&self, role: Role, kind: DraftKind) -> bool {
        self.check_approver(role, kind).is_ok()
    }

    /// [`Self::may_approve`], with the reason when not.
    pub fn check_approver(&self, role: Role, kind: DraftKind) -> Result<(), ApprovalError> {
        let needed = self.approver(kind);
        if role != Role::Viewer && power(role) >= power(needed) {
            Ok(())
        } else {
            Err(ApprovalError { role, kind, needed })
        }
    }
}

/// The platforms rapport publishes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Bluesky.
    Bluesky,
    /// Mastodon (and servers that count like it).
    Mastodon,
}

/// Most graphemes in a Bluesky post (`app.bsky.feed.post` `maxGraphemes`).
pub const BLUESKY_MAX_GRAPHEMES: usize = 300;
/// Most UTF-8 bytes in a Bluesky post (`app.bsky.feed.post` `maxLength`).
pub const BLUESKY_MAX_BYTES: usize = 3000;
/// Mastodon's default limit; an instance may set its own
/// (`configuration.statuses.max_characters` in `GET /api/v2/instance`).
pub const MASTODON_DEFAULT_MAX_CHARS: usize = 500;
/// What a URL counts for on Mastodon, however long it is.
pub const MASTODON_URL_CHARS: usize = 23;

impl Platform {
    /// The platform a channel publishes to; `None` for channels that only listen (RSS,
    /// webhooks).
    pub fn of(kind: ChannelKind) -> Option<Platform> {
        match kind {
            ChannelKind::Bluesky => Some(Platform::Bluesky),
            ChannelKind::Mastodon => Some(Platform::Mastodon),
            ChannelKind::Rss | ChannelKind::Webhook => None,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Bluesky => "bluesky",
            Platform::Mastodon => "mastodon",
        }
    }

    /// The length limit when nothing overrides it: Bluesky 300, Mastodon 500.
    pub fn default_limit(self) -> usize {
        match self {
            Platform::Bluesky => BLUESKY_MAX_GRAPHEMES,
            Platform::Mastodon => MASTODON_DEFAULT_MAX_CHARS,
        }
    }

    /// The length of `text` as this platform counts it.
    pub fn count(self, text: &str) -> usize {
        match self {
            Platform::Bluesky => bluesky_length(text),
            Platform::Mastodon => mastodon_length(text),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a text fits a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LengthCheck {
    /// The platform it was counted for.
    pub platform: Platform,
    /// Its length as the platform counts it.
    pub counted: usize,
    /// The most the platform takes.
    pub limit: usize,
    /// Its size in UTF-8 bytes.
    pub bytes: usize,
    /// The most bytes the platform takes, where it limits them (Bluesky: 3,000).
    pub max_bytes: Option<usize>,
    /// Whether it fits: `counted ≤ limit` and, where there is one, `bytes ≤ max_bytes`.
    pub ok: bool,
}

impl LengthCheck {
    /// How many (graphemes or characters) must go for it to fit the length limit.
    pub fn over(&self) -> usize {
        self.counted.saturating_sub(self.limit)
    }

    /// One sentence for the writer: how long it is, and what to do when it does not fit.
    pub fn message(&self) -> String {
        let unit = match self.platform {
            Platform::Bluesky => "graphemes",
            Platform::Mastodon => "characters",
        };
        let rule = match self.platform {
            Platform::Bluesky => "",
            Platform::Mastodon => {
                " (a link counts 23 characters, a mention @user@domain counts as @user)"
            }
        };
        if self.counted > self.limit {
            return format!(
                "{} of {} {unit} on {}{rule}: cut at least {}, or split it into a thread",
                self.counted,
                self.limit,
                self.platform,
                self.over()
            );
        }
        if let Some(max) = self.max_bytes.filter(|m| self.bytes > *m) {
            return format!(
                "{} {unit} fit on {}, but its {} bytes are over the {max}-byte limit: cut some emoji or other long characters",
                self.counted, self.platform, self.bytes
            );
        }
        format!(
            "{} of {} {unit} on {}{rule}: fits, {} left",
            self.counted,
            self.limit,
            self.platform,
            self.limit - self.counted
        )
    }
}

/// Whether `text` fits `platform`: its length as the platform counts it against
/// `limit_override`, else the platform's default ([`Platform::default_limit`]).
///
/// - Bluesky: grapheme clusters of the whole text, links as written (what a reader sees
///   as one character is one: an accented letter, a flag, a ZWJ family emoji), and at
///   most [`BLUESKY_MAX_BYTES`] bytes.
/// - Mastodon: see [`mastodon_length`]. A content warning counts too: check
///   `format!("{cw}{text}")` when the post has one.
pub fn check_length(platform: Platform, text: &str, limit_override: Option<usize>) -> LengthCheck {
    let counted = platform.count(text);
    let limit = limit_override.unwrap_or_else(|| platform.default_limit());
    let bytes = text.len();
    let max_bytes = match platform {
        Platform::Bluesky => Some(BLUESKY_MAX_BYTES),
        Platform::Mastodon => None,
    };
    LengthCheck {
        platform,
        counted,
        limit,
        bytes,
        max_bytes,
        ok: counted <= limit && max_bytes.is_none_or(|m| bytes <= m),
    }
}

/// The length of `text` as Bluesky counts it: extended grapheme clusters.
pub fn bluesky_length(text: &str) -> usize {
    text.graphemes(true).count()
}

/// The length of `text` as Mastodon's length validator counts it: grapheme clusters,
/// except that
///
/// - every `http://` or `https://` URL counts as [`MASTODON_URL_CHARS`] (23), however
///   long; a URL starts at the text's start or after a character that is not a letter,
///   digit, `@`, `$` or `#`, has a host with a dot and an alphabetic top-level label, and
///   runs to the next space or `<`, `>`, `"`, without trailing punctuation (`.,:;!?'`)
///   or an unbalanced closing bracket; a bare `example.com` is counted as written;
/// - a mention `@user@domain` counts only its `@user` part; a mention starts at the
///   text's start or after a character that is not a letter, digit, `_`, `=` or `/`.
pub fn mastodon_length(text: &str) -> usize {
    let mut count = 0;
    let mut plain_from = 0;
    let mut i = 0;
    let mut prev: Option<char> = None;
    while let Some(c) = text[i..].chars().next() {
        let entity = match c {
            'h' | 'H' => url_end(text, i, prev).map(|end| (end, MASTODON_URL_CHARS)),
            '@' => mention_end(text, i, prev),
            _ => None,
        };
        match entity {
            Some((end, weight)) => {
                count += text[plain_from..i].graphemes(true).count() + weight;
                prev = text[..end].chars().next_back();
                i = end;
                plain_from = end;
            }
            None => {
                prev = Some(c);
                i += c.len_utf8();
            }
        }
    }
    count + text[plain_from..].graphemes(true).count()
}

/// The end (exclusive, in bytes) of a URL that starts at byte `start`, if one does.
fn url_end(text: &str, start: usize, prev: Option<char>) -> Option<usize> {
    if prev.is_some_and(|p| p.is_alphanumeric() || matches!(p, '@' | '$' | '#' | '＠' | '＃')) {
        return None;
    }
    let rest = &text[start..];
    let scheme = ["https://", "http://"].into_iter().find(|s| {
        rest.get(..s.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(s))
    })?;
    let body = &rest[scheme.len()..];
    let run = body
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(body.len());
    let mut url = &body[..run];
    // Trailing punctuation, and a closing bracket with no opening one, end the sentence
    // rather than the URL.
    loop {
        let mut trimmed = url.trim_end_matches(['.', ',', ':', ';', '!', '?', '\'']);
        if let Some(close) = trimmed.chars().next_back() {
            let open = match close {
                ')' => Some('('),
                ']' => Some('['),
                '}' => Some('{'),
                _ => None,
            };
            if let Some(open) = open
                && trimmed.matches(open).count() < trimmed.matches(close).count()
            {
                trimmed = &trimmed[..trimmed.len() - close.len_utf8()];
            }
        }
        if trimmed.len() == url.len() {
            break;
        }
        url = trimmed;
    }
    let authority = &url[..url.find(['/', '?', '#']).unwrap_or(url.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or_default();
    valid_host(host).then_some(start + scheme.len() + url.len())
}

/// A host name with at least one dot and an alphabetic (or punycode) top-level label.
fn valid_host(host: &str) -> bool {
    let Some((labels, tld)) = host.rsplit_once('.') else {
        return false;
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || (tld.len() > 4 && tld.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    tld_ok && labels.split('.').all(label_ok)
}

/// A mention at the `@` at byte `start`: its end (exclusive) and what it counts for
/// (`@` and the user name, whatever the domain).
fn mention_end(text: &str, start: usize, prev: Option<char>) -> Option<(usize, usize)> {
    if prev.is_some_and(|p| p.is_alphanumeric() || matches!(p, '_' | '=' | '/')) {
        return None;
    }
    let user = word_run(
        &text[start + 1..],
        |c| c.is_ascii_alphanumeric() || c == '_',
        |c| matches!(c, '.' | '-'),
    );
    if user == 0 {
        return None;
    }
    let mut end = start + 1 + user;
    if let Some(domain) = text[end..].strip_prefix('@') {
        let len = word_run(
            domain,
            |c| c.is_alphanumeric() || c == '_',
            |c| matches!(c, '.' | '-'),
        );
        if len > 0 {
            end += 1 + len;
        }
    }
    // The user name is ASCII: one character per byte.
    Some((end, 1 + user))
}

/// The length in bytes of the longest prefix of `s` made of `word` characters, with runs
/// of `inner` characters allowed between them but not at either end.
fn word_run(s: &str, word: impl Fn(char) -> bool, inner: impl Fn(char) -> bool) -> usize {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if word(c) {
            end = i + c.len_utf8();
        } else if i == 0 || !inner(c) {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use DraftAction as A;
    use DraftStatus as S;

    /// Every legal move; everything else must be refused.
    const LEGAL: [(DraftStatus, DraftAction, DraftStatus); 13] = [
        (S::Draft, A::Submit, S::PendingApproval),
        (S::Draft, A::Edit, S::Draft),
        (S::PendingApproval, A::Approve, S::Approved),
        (S::PendingApproval, A::Reject, S::Rejected),
        (S::PendingApproval, A::Edit, S::Draft),
        (S::Approved, A::Schedule, S::Scheduled),
        (S::Approved, A::Edit, S::Draft),
        (S::Scheduled, A::PublishOk, S::Published),
        (S::Scheduled, A::PublishFailed, S::Failed),
        (S::Scheduled, A::Edit, S::Draft),
        (S::Failed, A::Schedule, S::Scheduled),
        (S::Failed, A::Edit, S::Draft),
        (S::Rejected, A::Edit, S::Draft),
    ];

    #[test]
    fn every_legal_move() {
        for (from, action, to) in LEGAL {
            assert_eq!(transition(from, action), Ok(to), "{from} {action}");
        }
    }

    #[test]
    fn every_illegal_move_is_refused() {
        let mut refused = 0;
        for from in DraftStatus::ALL {
            for action in DraftAction::ALL {
                if LEGAL.iter().any(|(f, a, _)| *f == from && *a == action) {
                    continue;
                }
                assert_eq!(
                    transition(from, action),
                    Err(TransitionError { from, action }),
                    "{from} {action}"
                );
                refused += 1;
            }
        }
        assert_eq!(refused, 7 * 7 - LEGAL.len());
    }

    #[test]
    fn the_happy_path_and_a_retry() {
        let mut s = S::Draft;
        for a in [
            A::Submit,
            A::Approve,
            A::Schedule,
            A::PublishFailed,
            A::Schedule,
            A::PublishOk,
        ] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, S::Published);
        assert!(s.is_final());
        assert!(s.allowed_actions().is_empty());
    }

    #[test]
    fn editing_after_approval_needs_a_new_approval() {
        let s = transition(S::Approved, A::Edit).unwrap();
        assert_eq!(s, S::Draft);
        assert!(transition(s, A::Schedule).is_err());
        assert!(transition(s, A::Approve).is_err());
        let s = transition(S::Scheduled, A::Edit).unwrap();
        assert_eq!(transition(s, A::Submit), Ok(S::PendingApproval));
    }

    #[test]
    fn refusals_say_what_can_be_done() {
        let e = transition(S::Draft, A::Approve).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot approve a draft that is draft: from draft you can submit it (to pending_approval) or edit it (to draft)"
        );
        let e = transition(S::PendingApproval, A::Schedule).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot schedule a draft that is pending_approval: from pending_approval you can approve it (to approved), reject it (to rejected) or edit it (to draft)"
        );
        let e = transition(S::Published, A::Edit).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot edit a draft that is published: a published post is final; write a new draft to follow it up"
        );
    }

    #[test]
    fn names_round_trip() {
        for k in DraftKind::ALL {
            assert_eq!(k.as_str().parse::<DraftKind>().unwrap(), k);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        for s in DraftStatus::ALL {
            assert_eq!(s.as_str().parse::<DraftStatus>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        for a in DraftAction::ALL {
            assert_eq!(a.as_str().parse::<DraftAction>().unwrap(), a);
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
        assert_eq!(
            " Key_Message ".parse::<DraftKind>().unwrap(),
            DraftKind::KeyMessage
        );
        let e = "tweet".parse::<DraftKind>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown draft kind \"tweet\": use one of reply, broadcast, key_message"
        );
    }

    #[test]
    fn default_approvers() {
        let p = PublishingConfig::default();
        assert!(p.validate().is_ok());
        let may = |role, kind| p.may_approve(role, kind);
        use DraftKind::*;
        assert!(may(Role::Leader, KeyMessage));
        assert!(may(Role::Admin, KeyMessage));
        assert!(!may(Role::Agent, KeyMessage));
        assert!(may(Role::Admin, Broadcast));
        assert!(!may(Role::Leader, Broadcast));
        assert!(may(Role::Agent, Reply));
        assert!(may(Role::Leader, Reply));
        assert!(!may(Role::Viewer, Reply));
        let e = p.check_approver(Role::Agent, KeyMessage).unwrap_err();
        assert_eq!(
            e.to_string(),
            "agent may not approve a key_message: it needs leader or above; ask one, or change [publishing.approvers] key_message"
        );
    }

    #[test]
    fn a_viewer_cannot_be_an_approver() {
        let p = PublishingConfig {
            approvers: Approvers {
                reply: Role::Viewer,
                ..Approvers::default()
            },
        };
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "[publishing.approvers] reply = \"viewer\": viewers change nothing; name agent, leader or admin"
        );
    }

    #[test]
    fn publishing_section_from_toml() {
        let p: PublishingConfig = toml::from_str("[approvers]\nbroadcast = \"leader\"\n").unwrap();
        assert_eq!(p.approver(DraftKind::Broadcast), Role::Leader);
        assert_eq!(p.approver(DraftKind::KeyMessage), Role::Leader);
        assert_eq!(p.approver(DraftKind::Reply), Role::Agent);
        assert!(toml::from_str::<PublishingConfig>("[approvers]\ntweet = \"admin\"\n").is_err());
    }

    #[test]
    fn platforms_of_channels() {
        assert_eq!(Platform::of(ChannelKind::Bluesky), Some(Platform::Bluesky));
        assert_eq!(
            Platform::of(ChannelKind::Mastodon),
            Some(Platform::Mastodon)
        );
        assert_eq!(Platform::of(ChannelKind::Rss), None);
        assert_eq!(Platform::of(ChannelKind::Webhook), None);
    }

    const FAMILY: &str = "👨\u{200d}👩\u{200d}👧\u{200d}👦";

    #[test]
    fn a_zwj_family_is_one_grapheme() {
        assert_eq!(FAMILY.chars().count(), 7);
        assert_eq!(bluesky_length(FAMILY), 1);
        assert_eq!(mastodon_length(FAMILY), 1);
        // A flag and an accent written as two code points are one each too.
        assert_eq!(bluesky_length("🇫🇷 e\u{301}"), 3);
    }

    #[test]
    fn bluesky_exactly_at_the_limit() {
        let text = "a".repeat(299) + FAMILY;
        let c = check_length(Platform::Bluesky, &text, None);
        assert_eq!((c.counted, c.limit, c.ok), (300, 300, true));
        assert_eq!(c.message(), "300 of 300 graphemes on bluesky: fits, 0 left");
        let c = check_length(Platform::Bluesky, &(text + "!"), None);
        assert_eq!((c.counted, c.ok, c.over()), (301, false, 1));
        assert_eq!(
            c.message(),
            "301 of 300 graphemes on bluesky: cut at least 1, or split it into a thread"
        );
    }

    #[test]
    fn bluesky_counts_links_as_written() {
        let url = format!("https://example.com/{}", "x".repeat(100));
        let text = format!("Read this: {url}");
        assert_eq!(bluesky_length(&text), 11 + url.len());
        assert_eq!(check_length(Platform::Bluesky, &text, None).counted, 131);
        // Mentions count in full too.
        assert_eq!(bluesky_length("@alice.bsky.social hi"), 21);
    }

    #[test]
    fn bluesky_limits_bytes_too() {
        // 150 family emoji: 150 graphemes, but 25 bytes each.
        let text = FAMILY.repeat(150);
        let c = check_length(Platform::Bluesky, &text, None);
        assert_eq!((c.counted, c.bytes, c.ok), (150, 3750, false));
        assert_eq!(
            c.message(),
            "150 graphemes fit on bluesky, but its 3750 bytes are over the 3000-byte limit: cut some emoji or other long characters"
        );
    }

    #[test]
    fn mastodon_counts_every_url_as_23() {
        let long = format!("https://example.com/{}", "x".repeat(200));
        assert_eq!(mastodon_length(&long), 23);
        assert_eq!(mastodon_length("http://a.io"), 23);
        assert_eq!(mastodon_length("See https://example.com/a."), 4 + 23 + 1);
        assert_eq!(mastodon_length("(https://example.com/a)"), 1 + 23 + 1);
        assert_eq!(
            mastodon_length("(https://en.wikipedia.org/wiki/Rust_(language))"),
            1 + 23 + 1
        );
        // Two links, one line.
        assert_eq!(
            mastodon_length("https://a.example.org/1 and HTTPS://b.example.org/2"),
            23 + 5 + 23
        );
    }

    #[test]
    fn mastodon_counts_what_is_not_a_url_as_written() {
        // No scheme, no dot, or glued to a word: plain text.
        assert_eq!(mastodon_length("example.com/path"), 16);
        assert_eq!(mastodon_length("http://localhost"), 16);
        assert_eq!(mastodon_length("xhttps://example.com"), 20);
    }

    #[test]
    fn mastodon_counts_a_mention_as_its_user_part() {
        assert_eq!(mastodon_length("@alice@mastodon.social"), 6);
        assert_eq!(mastodon_length("@alice@mastodon.social hello"), 6 + 6);
        assert_eq!(mastodon_length("hi @bob.smith@example.org!"), 3 + 10 + 1);
        // A local mention is as written; an e-mail address is not a mention.
        assert_eq!(mastodon_length("@alice"), 6);
        assert_eq!(mastodon_length("mail ana@example.org"), 20);
        // A profile URL is a URL, not a mention.
        assert_eq!(mastodon_length("https://mastodon.social/@alice"), 23);
    }

    #[test]
    fn mastodon_emoji_are_graphemes() {
        assert_eq!(
            mastodon_length(&format!("{FAMILY} @a@b.example {FAMILY}")),
            1 + 1 + 2 + 1 + 1
        );
    }

    #[test]
    fn mastodon_exactly_at_the_limit() {
        // 477 letters and one long URL: 477 + 23 = 500.
        let text = format!(
            "{} https://example.com/{}",
            "a".repeat(476),
            "p".repeat(300)
        );
        let c = check_length(Platform::Mastodon, &text, None);
        assert_eq!((c.counted, c.limit, c.ok), (500, 500, true));
        assert_eq!(c.max_bytes, None);
        let c = check_length(Platform::Mastodon, &format!("a{text}"), None);
        assert_eq!((c.counted, c.ok, c.over()), (501, false, 1));
        assert_eq!(
            c.message(),
            "501 of 500 characters on mastodon (a link counts 23 characters, a mention @user@domain counts as @user): cut at least 1, or split it into a thread"
        );
    }

    #[test]
    fn an_instance_limit_overrides_the_default() {
        let text = "a".repeat(600);
        assert!(!check_length(Platform::Mastodon, &text, None).ok);
        let c = check_length(Platform::Mastodon, &text, Some(1000));
        assert_eq!((c.limit, c.ok), (1000, true));
        assert!(!check_length(Platform::Mastodon, &text, Some(599)).ok);
        assert!(check_length(Platform::Mastodon, &text, Some(600)).ok);
    }
}
