//! Bluesky wire types → [`rapport_core::NewMessage`]: which posts to keep, and how.
//!
//! Two sources:
//! - **Jetstream** ([`from_jetstream_line`]): every public event on the network (or those
//!   the subscription filters to). Each line is decided on its own: kept when it is a
//!   post the channel listens to ([`Listen`]), skipped otherwise. Kept or skipped, each
//!   outcome carries the event's `time_us`, the cursor to save; an error carries it too
//!   when it could be read ([`super::BlueskyError::cursor`]).
//! - **Notifications** ([`from_notification`], [`convert_notification`]): the account's
//!   own mentions, replies and quotes from `app.bsky.notification.listNotifications`.
//!
//! The two differ in who the author is: a Jetstream event carries only the author's DID
//! (no handle, no display name), so its message's `author` is the DID; a notification
//! carries the author's profile, so its message's `author` is the handle and
//! `author_name` the display name. The runtime can resolve a DID to its handle with
//! `app.bsky.actor.getProfile` (which also gives `followersCount`, the author's reach;
//! `followers` is always `None` here).

use chrono::{DateTime, Utc};
use rapport_core::{Direction, NewMessage};
use serde::{Deserialize, Serialize};

use super::wire::{
    Commit, EventKind, FacetFeature, JetstreamEvent, Notification, Operation, PostRecord,
};
use super::{BlueskyError, PLATFORM, POST_COLLECTION, at_uri, post_url, split_at_uri};

/// What a Bluesky channel listens for (its `listen = [...]`, any combination).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listen {
    /// The organisation's account DID.
    pub org_did: String,
    /// The organisation's handle, without `@` (for mentions written without a facet).
    pub org_handle: String,
    /// `mentions`: posts that mention the organisation's account.
    pub mentions: bool,
    /// `replies`: posts that answer a post of the organisation's thread.
    pub replies: bool,
    /// `topics`: words or phrases, matched case-insensitively as whole words in the text.
    pub topics: Vec<String>,
    /// `all`: every post (research use).
    pub all: bool,
}

/// Why a post was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchReason {
    /// The organisation's own post (kept whatever `listen` says: it is the organisation's
    /// answer, and stops SLA clocks).
    Own,
    /// It mentions the organisation: a mention facet with its DID, or, when the post has
    /// no mention facet at all, `@handle` in the text.
    Mention,
    /// Its parent or its thread's root is a post of the organisation.
    Reply,
    /// It contains this topic (as configured).
    Topic(String),
    /// The channel listens to everything.
    All,
}

/// Why an event was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// An identity event (handle or DID document change).
    Identity,
    /// An account event (status change).
    Account,
    /// An event kind this code does not know.
    UnknownKind,
    /// A commit in another collection (likes, follows, profiles, ...).
    OtherCollection(String),
    /// A post edited (clients do not edit posts; the first version is kept).
    PostUpdated {
        /// The post's AT URI.
        uri: String,
    },
    /// A post deleted. rapport keeps what it has already stored.
    PostDeleted {
        /// The post's AT URI.
        uri: String,
    },
    /// A post that matches nothing the channel listens for.
    NoMatch,
}

/// The strong references needed to reply to a message: the post itself (the reply's
/// `parent`) and its thread's first post (the reply's `root`).
///
/// A post that is itself a reply has its own `reply.root` as root; a top-level post is its
/// own root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTarget {
    /// AT URI of the post.
    pub uri: String,
    /// CID of the post.
    pub cid: String,
    /// AT URI of the thread's first post.
    pub root_uri: String,
    /// CID of the thread's first post.
    pub root_cid: String,
}

/// A post kept from Jetstream.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptPost {
    /// The message to ingest.
    pub message: NewMessage,
    /// Why it was kept, in the order own, mention, reply, topics, all.
    pub reasons: Vec<MatchReason>,
    /// How to reply to it.
    pub target: ReplyTarget,
    /// The event's `time_us`: the cursor to save with the message.
    pub cursor: i64,
}

/// What to do with one Jetstream event.
#[derive(Debug, Clone, PartialEq)]
pub enum JetstreamOutcome {
    /// A post the channel listens to.
    Keep(Box<KeptPost>),
    /// Nothing to store; the cursor still advances.
    Skip {
        /// The event's `time_us`: the cursor to save.
        cursor: i64,
        /// Why.
        reason: SkipReason,
    },
}

impl JetstreamOutcome {
    /// The event's `time_us`: the cursor to save, whether the event was kept or not.
    pub fn cursor(&self) -> i64 {
        match self {
            JetstreamOutcome::Keep(kept) => kept.cursor,
            JetstreamOutcome::Skip { cursor, .. } => *cursor,
        }
    }
}

/// Decides one Jetstream line (one text frame of `/subscribe`).
///
/// Kept: `commit` events that create an `app.bsky.feed.post` and match `listen`, or that
/// the organisation wrote itself. Everything else is a [`JetstreamOutcome::Skip`]. Both
/// carry the cursor.
///
/// Errors: a line that is not a Jetstream event ([`BlueskyError::MalformedEvent`]; its
/// cursor is recovered when `time_us` can still be read) and a post record without `text`
/// or `createdAt`, or a post commit without a CID ([`BlueskyError::InvalidPost`], with the
/// cursor). The caller logs the error, saves the cursor if any, and goes on.
///
/// The message's `created_at` is the record's `createdAt` (RFC 3339); when that cannot be
/// parsed, the event's `time_us` (when Jetstream saw it) stands in.
pub fn from_jetstream_line(line: &str, listen: &Listen) -> Result<JetstreamOutcome, BlueskyError> {
    let event: JetstreamEvent = match serde_json::from_str(line) {
        Ok(event) => event,
        Err(err) => {
            return Err(BlueskyError::MalformedEvent {
                reason: err.to_string(),
                cursor: recover_cursor(line),
            });
        }
    };
    from_jetstream_event(&event, listen)
}

/// [`from_jetstream_line`] for an event already parsed.
pub fn from_jetstream_event(
    event: &JetstreamEvent,
    listen: &Listen,
) -> Result<JetstreamOutcome, BlueskyError> {
    let cursor = event.time_us;
    let skip = |reason| Ok(JetstreamOutcome::Skip { cursor, reason });
    let commit = match event.kind {
        EventKind::Identity => return skip(SkipReason::Identity),
        EventKind::Account => return skip(SkipReason::Account),
        EventKind::Unknown => return skip(SkipReason::UnknownKind),
        EventKind::Commit => match &event.commit {
            Some(commit) => commit,
            None => {
                return Err(BlueskyError::MalformedEvent {
                    reason: "a commit event without `commit`".into(),
                    cursor: Some(cursor),
                });
            }
        },
    };
    if commit.collection != POST_COLLECTION {
        return skip(SkipReason::OtherCollection(commit.collection.clone()));
    }
    let uri = at_uri(&event.did, POST_COLLECTION, &commit.rkey);
    match commit.operation {
        Operation::Create => {}
        Operation::Delete => return skip(SkipReason::PostDeleted { uri }),
        Operation::Update | Operation::Unknown => return skip(SkipReason::PostUpdated { uri }),
    }
    let post = parse_post(commit, &uri, cursor)?;
    let cid = commit
        .cid
        .clone()
        .ok_or_else(|| BlueskyError::InvalidPost {
            uri: uri.clone(),
            reason: "the commit has no `cid`".into(),
            cursor: Some(cursor),
        })?;

    let reasons = match_reasons(&event.did, &post, listen);
    if reasons.is_empty() {
        return skip(SkipReason::NoMatch);
    }
    let created_at = match parse_datetime(&post.created_at) {
        Some(at) => at,
        None => DateTime::from_timestamp_micros(cursor).ok_or_else(|| BlueskyError::InvalidPost {
            uri: uri.clone(),
            reason: format!(
                "`createdAt` {:?} is not an RFC 3339 time and `time_us` {cursor} is out of range",
                post.created_at
            ),
            cursor: Some(cursor),
        })?,
    };
    let target = reply_target(&uri, &cid, &post);
    let message = message_from_post(
        &post,
        &event.did,
        event.did.clone(),
        None,
        uri,
        Some(post_url(&event.did, &commit.rkey)),
        created_at,
        &listen.org_did,
    );
    Ok(JetstreamOutcome::Keep(Box::new(KeptPost {
        message,
        reasons,
        target,
        cursor,
    })))
}

/// A post from `listNotifications`, converted.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationPost {
    /// The message to ingest.
    pub message: NewMessage,
    /// How to reply to it.
    pub target: ReplyTarget,
    /// `mention`, `reply` or `quote`.
    pub reason: String,
}

/// Converts a notification about a post to the account (`mention`, `reply`, `quote`);
/// `None` for every other reason (likes, reposts, follows, ...) and for a post record
/// that lacks `text` or `createdAt` (see [`convert_notification`] to learn why).
///
/// `author` is the handle, `author_name` the display name; `platform_id` the post's AT
/// URI; `created_at` the record's `createdAt`, or the notification's `indexedAt` when
/// that cannot be parsed.
pub fn from_notification(n: &Notification, org_did: &str) -> Option<NewMessage> {
    convert_notification(n, org_did)
        .ok()
        .flatten()
        .map(|post| post.message)
}

/// Like [`from_notification`], with the [`ReplyTarget`], and an error for a mention,
/// reply or quote whose record is not a valid post.
pub fn convert_notification(
    n: &Notification,
    org_did: &str,
) -> Result<Option<NotificationPost>, BlueskyError> {
    if !matches!(n.reason.as_str(), "mention" | "reply" | "quote") {
        return Ok(None);
    }
    let invalid = |reason: String| BlueskyError::InvalidPost {
        uri: n.uri.clone(),
        reason,
        cursor: None,
    };
    let post = PostRecord::deserialize(&n.record).map_err(|err| invalid(err.to_string()))?;
    let created_at = parse_datetime(&post.created_at)
        .or_else(|| parse_datetime(&n.indexed_at))
        .ok_or_else(|| {
            invalid(format!(
                "neither `createdAt` {:?} nor `indexedAt` {:?} is an RFC 3339 time",
                post.created_at, n.indexed_at
            ))
        })?;
    let url = split_at_uri(&n.uri).map(|(_, _, rkey)| post_url(&n.author.did, rkey));
    let target = reply_target(&n.uri, &n.cid, &post);
    let message = message_from_post(
        &post,
        &n.author.did,
        n.author.handle.clone(),
        n.author
            .display_name
            .clone()
            .filter(|name| !name.trim().is_empty()),
        n.uri.clone(),
        url,
        created_at,
        org_did,
    );
    Ok(Some(NotificationPost {
        message,
        target,
        reason: n.reason.clone(),
    }))
}

/// The [`ReplyTarget`] of a post: itself as parent; its `reply.root`, or itself, as root.
pub fn reply_target(uri: &str, cid: &str, post: &PostRecord) -> ReplyTarget {
    let (root_uri, root_cid) = match &post.reply {
        Some(reply) => (reply.root.uri.clone(), reply.root.cid.clone()),
        None => (uri.to_owned(), cid.to_owned()),
    };
    ReplyTarget {
        uri: uri.to_owned(),
        cid: cid.to_owned(),
        root_uri,
        root_cid,
    }
}

/// Why `post`, written by `author_did`, is of interest to `listen`; empty when it is not.
pub fn match_reasons(author_did: &str, post: &PostRecord, listen: &Listen) -> Vec<MatchReason> {
    let mut reasons = Vec::new();
    if !listen.org_did.is_empty() && author_did == listen.org_did {
        reasons.push(MatchReason::Own);
    }
    if listen.mentions && mentions_org(post, listen) {
        reasons.push(MatchReason::Mention);
    }
    if listen.replies && replies_to_org(post, &listen.org_did) {
        reasons.push(MatchReason::Reply);
    }
    if !listen.topics.is_empty() {
        let text = post.text.to_lowercase();
        for topic in &listen.topics {
            if contains_words(&text, &topic.trim().to_lowercase()) {
                reasons.push(MatchReason::Topic(topic.clone()));
            }
        }
    }
    if listen.all {
        reasons.push(MatchReason::All);
    }
    reasons
}

fn mentions_org(post: &PostRecord, listen: &Listen) -> bool {
    let mut any_mention_facet = false;
    for facet in post.facets.iter().flatten() {
        for feature in &facet.features {
            if let FacetFeature::Mention { did } = feature {
                if !listen.org_did.is_empty() && *did == listen.org_did {
                    return true;
                }
                any_mention_facet = true;
            }
        }
    }
    // Clients that write facets resolve every handle they link; only a post without any
    // mention facet (a bot, a bare API call) is searched for the handle as text.
    let handle = listen.org_handle.trim().trim_start_matches('@');
    if any_mention_facet || handle.is_empty() {
        return false;
    }
    handle_in_text(&post.text.to_lowercase(), &handle.to_lowercase())
}

/// Whether `@handle` (lowercased) is written in `text` (lowercased) as a whole handle: not
/// inside an email address or a longer handle; a full stop after it ends a sentence.
fn handle_in_text(text: &str, handle: &str) -> bool {
    let needle = format!("@{handle}");
    let is_handle_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(&needle).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| is_handle_char(c) || c == '.' || c == '@') {
            return false;
        }
        let mut after = text[start + needle.len()..].chars();
        match after.next() {
            None => true,
            Some('.') => !after.next().is_some_and(is_handle_char),
            Some(c) => !is_handle_char(c),
        }
    })
}

fn replies_to_org(post: &PostRecord, org_did: &str) -> bool {
    if org_did.is_empty() {
        return false;
    }
    let prefix = format!("at://{org_did}/");
    post.reply.as_ref().is_some_and(|reply| {
        reply.parent.uri.starts_with(&prefix) || reply.root.uri.starts_with(&prefix)
    })
}

/// Whether `needle` occurs in `haystack` (both already lowercased) as whole words: not
/// preceded or followed by a letter or digit (a boundary is only required where the
/// topic itself starts or ends with one, so `#launch` and `c++` work).
fn contains_words(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let is_word = |c: char| c.is_alphanumeric();
    let first_is_word = needle.chars().next().is_some_and(is_word);
    let last_is_word = needle.chars().next_back().is_some_and(is_word);
    haystack.match_indices(needle).any(|(start, found)| {
        let end = start + found.len();
        let before_ok =
            !first_is_word || !haystack[..start].chars().next_back().is_some_and(is_word);
        let after_ok = !last_is_word || !haystack[end..].chars().next().is_some_and(is_word);
        before_ok && after_ok
    })
}

fn parse_post(commit: &Commit, uri: &str, cursor: i64) -> Result<PostRecord, BlueskyError> {
    let record = commit
        .record
        .as_ref()
        .ok_or_else(|| BlueskyError::InvalidPost {
            uri: uri.to_owned(),
            reason: "the commit creates a post but has no `record`".into(),
            cursor: Some(cursor),
        })?;
    PostRecord::deserialize(record).map_err(|err| BlueskyError::InvalidPost {
        uri: uri.to_owned(),
        reason: err.to_string(),
        cursor: Some(cursor),
    })
}

#[allow(clippy::too_many_arguments)]
fn message_from_post(
    post: &PostRecord,
    author_did: &str,
    author: String,
    author_name: Option<String>,
    uri: String,
    url: Option<String>,
    created_at: DateTime<Utc>,
    org_did: &str,
) -> NewMessage {
    NewMessage {
        platform: PLATFORM.to_owned(),
        platform_id: uri,
        author,
        author_name,
        followers: None,
        text: post.text.clone(),
        created_at,
        in_reply_to: post.reply.as_ref().map(|reply| reply.parent.uri.clone()),
        reshares: 0,
        replies: 0,
        direction: if !org_did.is_empty() && author_did == org_did {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        automated: false,
        url,
    }
}

fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Reads `time_us` from a line that is not a valid event, when it is still JSON.
fn recover_cursor(line: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct CursorOnly {
        time_us: i64,
    }
    serde_json::from_str::<CursorOnly>(line)
        .ok()
        .map(|c| c.time_us)
}
