//! The JSON shapes Bluesky services send and accept, field for field as in the lexicons
//! (camelCase keys, `$type` tags).
//!
//! Every struct ignores fields it does not know, so a service that adds fields does not
//! break parsing; optional fields are left out when serialising rather than written as
//! `null`, as the lexicons require. Records whose shape rapport does not need (embeds,
//! labels, the record of a notification) stay raw [`serde_json::Value`]s.

use std::fmt;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `$type` of a post record.
pub const POST_TYPE: &str = "app.bsky.feed.post";
/// `$type` of a mention facet feature.
pub const MENTION_TYPE: &str = "app.bsky.richtext.facet#mention";
/// `$type` of a link facet feature.
pub const LINK_TYPE: &str = "app.bsky.richtext.facet#link";
/// `$type` of a hashtag facet feature.
pub const TAG_TYPE: &str = "app.bsky.richtext.facet#tag";

// ---------------------------------------------------------------------------------------
// Jetstream
// ---------------------------------------------------------------------------------------

/// One Jetstream event (one line / one websocket text frame of `/subscribe`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JetstreamEvent {
    /// The repository (account) the event is about.
    pub did: String,
    /// Unix microseconds when Jetstream saw the event: the resume cursor.
    pub time_us: i64,
    /// Which of `commit`, `identity`, `account` is present.
    pub kind: EventKind,
    /// A record created, updated or deleted (kind `commit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
    /// A handle or DID document change (kind `identity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// An account status change (kind `account`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
}

/// The `kind` of a Jetstream event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A repository commit.
    Commit,
    /// An identity change.
    Identity,
    /// An account status change.
    Account,
    /// A kind added after this code was written; skipped.
    #[serde(other)]
    Unknown,
}

/// The `commit` of a Jetstream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// Repository revision (a TID).
    pub rev: String,
    /// What happened to the record.
    pub operation: Operation,
    /// The record's collection (NSID), e.g. `app.bsky.feed.post`.
    pub collection: String,
    /// The record key.
    pub rkey: String,
    /// The record (create and update only), kept raw: its shape depends on `collection`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Value>,
    /// The record's CID (create and update only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
}

/// The `operation` of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// A new record.
    Create,
    /// A record replaced.
    Update,
    /// A record removed.
    Delete,
    /// An operation added after this code was written; skipped.
    #[serde(other)]
    Unknown,
}

/// The `identity` of a Jetstream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The account.
    pub did: String,
    /// Its current handle, when the event carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// Firehose sequence number.
    #[serde(default)]
    pub seq: i64,
    /// When it changed (RFC 3339).
    #[serde(default)]
    pub time: String,
}

/// The `account` of a Jetstream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The account.
    pub did: String,
    /// Whether the account is active.
    pub active: bool,
    /// Why it is not active (`takendown`, `suspended`, `deleted`, `deactivated`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Firehose sequence number.
    #[serde(default)]
    pub seq: i64,
    /// When it changed (RFC 3339).
    #[serde(default)]
    pub time: String,
}

// ---------------------------------------------------------------------------------------
// app.bsky.feed.post and app.bsky.richtext.facet
// ---------------------------------------------------------------------------------------

/// An `app.bsky.feed.post` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostRecord {
    /// Always `app.bsky.feed.post`.
    #[serde(rename = "$type", default = "post_type")]
    pub record_type: String,
    /// The text (at most 300 graphemes, 3000 bytes).
    pub text: String,
    /// Client-declared creation time, RFC 3339 (kept as the string that was sent).
    pub created_at: String,
    /// Languages of the text (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub langs: Option<Vec<String>>,
    /// What the post replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyRef>,
    /// Rich-text annotations (mentions, links, hashtags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets: Option<Vec<Facet>>,
    /// Images, video, link card or quoted record, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<Value>,
    /// Extra hashtags not in the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

fn post_type() -> String {
    POST_TYPE.to_owned()
}

/// `app.bsky.feed.post#replyRef`: the thread's first post and the post answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRef {
    /// The first post of the thread.
    pub root: StrongRef,
    /// The post this one answers directly.
    pub parent: StrongRef,
}

/// `com.atproto.repo.strongRef`: a record by URI and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrongRef {
    /// AT URI of the record.
    pub uri: String,
    /// CID of the record's exact content.
    pub cid: String,
}

/// `app.bsky.richtext.facet`: an annotation of a byte range of the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facet {
    /// Which bytes it covers.
    pub index: ByteSlice,
    /// What they are.
    pub features: Vec<FacetFeature>,
}

/// `app.bsky.richtext.facet#byteSlice`: `[byteStart, byteEnd)` in UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteSlice {
    /// First byte, inclusive.
    pub byte_start: usize,
    /// Last byte, exclusive.
    pub byte_end: usize,
}

/// One feature of a facet, by its `$type`.
///
/// A feature of a type this code does not know, or a known type with a malformed body,
/// becomes [`FacetFeature::Other`] (kept as it came, written back unchanged) instead of
/// failing the whole post.
#[derive(Debug, Clone, PartialEq)]
pub enum FacetFeature {
    /// `app.bsky.richtext.facet#mention`: an account, by DID.
    Mention {
        /// The mentioned account.
        did: String,
    },
    /// `app.bsky.richtext.facet#link`: a URL.
    Link {
        /// The full URL (the text may show it shortened).
        uri: String,
    },
    /// `app.bsky.richtext.facet#tag`: a hashtag, without the `#`.
    Tag {
        /// The tag.
        tag: String,
    },
    /// Any other feature, raw.
    Other(Value),
}

/// The known features, tagged by `$type`; [`FacetFeature`] goes through it.
#[derive(Serialize, Deserialize)]
#[serde(tag = "$type")]
enum KnownFeature {
    #[serde(rename = "app.bsky.richtext.facet#mention")]
    Mention { did: String },
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
}

impl Serialize for FacetFeature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FacetFeature::Mention { did } => {
                KnownFeature::Mention { did: did.clone() }.serialize(serializer)
            }
            FacetFeature::Link { uri } => {
                KnownFeature::Link { uri: uri.clone() }.serialize(serializer)
            }
            FacetFeature::Tag { tag } => {
                KnownFeature::Tag { tag: tag.clone() }.serialize(serializer)
            }
            FacetFeature::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for FacetFeature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match KnownFeature::deserialize(&value) {
            Ok(KnownFeature::Mention { did }) => FacetFeature::Mention { did },
            Ok(KnownFeature::Link { uri }) => FacetFeature::Link { uri },
            Ok(KnownFeature::Tag { tag }) => FacetFeature::Tag { tag },
            Err(_) => FacetFeature::Other(value),
        })
    }
}

// ---------------------------------------------------------------------------------------
// app.bsky.notification.listNotifications, app.bsky.actor
// ---------------------------------------------------------------------------------------

/// Output of `app.bsky.notification.listNotifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListNotificationsOutput {
    /// Newest first.
    pub notifications: Vec<Notification>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Whether the priority filter was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<bool>,
    /// When the account last marked notifications seen (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_at: Option<String>,
}

/// `app.bsky.notification.listNotifications#notification`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// AT URI of the record that caused it (the reply, the like, the follow...).
    pub uri: String,
    /// CID of that record.
    pub cid: String,
    /// Who caused it.
    pub author: ProfileView,
    /// `like`, `repost`, `follow`, `mention`, `reply`, `quote`, ... (open set).
    pub reason: String,
    /// The account's own record it is about (the post liked or replied to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_subject: Option<String>,
    /// The record at `uri`, raw; a post for `mention`, `reply` and `quote`.
    pub record: Value,
    /// Whether the account has seen it.
    pub is_read: bool,
    /// When the AppView indexed it (RFC 3339).
    pub indexed_at: String,
    /// Moderation labels, raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Value>>,
}

/// `app.bsky.actor.defs#profileView` (and the basic view: the same fields, fewer present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    /// The account's DID.
    pub did: String,
    /// Its handle, without `@`.
    pub handle: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its bio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Avatar image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// When the AppView indexed the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_at: Option<String>,
    /// When the account was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// `app.bsky.actor.defs#profileViewDetailed`: the output of `app.bsky.actor.getProfile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileViewDetailed {
    /// The account's DID.
    pub did: String,
    /// Its handle, without `@`.
    pub handle: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its bio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Avatar image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Followers: the author's reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers_count: Option<u64>,
    /// Accounts it follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows_count: Option<u64>,
    /// Posts it has written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posts_count: Option<u64>,
    /// When the AppView indexed the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_at: Option<String>,
    /// When the account was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// Output of `app.bsky.actor.getProfile`.
pub type GetProfileOutput = ProfileViewDetailed;

/// Output of `com.atproto.identity.resolveHandle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveHandleOutput {
    /// The handle's DID.
    pub did: String,
}

// ---------------------------------------------------------------------------------------
// com.atproto.server sessions
// ---------------------------------------------------------------------------------------

/// Input of `com.atproto.server.createSession`. `Debug` masks the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionInput {
    /// Handle, DID or email of the account.
    pub identifier: String,
    /// The password; use an app password, never the main one.
    pub password: String,
    /// A 2FA code sent by email, when the server asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_factor_token: Option<String>,
}

impl fmt::Debug for CreateSessionInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateSessionInput")
            .field("identifier", &self.identifier)
            .field("password", &"***")
            .field(
                "auth_factor_token",
                &self.auth_factor_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// Output of `com.atproto.server.createSession` and `refreshSession`. `Debug` masks
/// the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionOutput {
    /// Short-lived bearer token for every authenticated call.
    pub access_jwt: String,
    /// Long-lived token, the bearer of `refreshSession` only.
    pub refresh_jwt: String,
    /// The account's handle.
    pub handle: String,
    /// The account's DID: the `repo` to write posts to.
    pub did: String,
    /// Whether the account is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Why it is not active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl fmt::Debug for CreateSessionOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateSessionOutput")
            .field("access_jwt", &"***")
            .field("refresh_jwt", &"***")
            .field("handle", &self.handle)
            .field("did", &self.did)
            .field("active", &self.active)
            .field("status", &self.status)
            .finish()
    }
}

/// Output of `com.atproto.server.refreshSession`: the same shape as createSession's.
pub type RefreshSessionOutput = CreateSessionOutput;

// ---------------------------------------------------------------------------------------
// com.atproto.repo.createRecord
// ---------------------------------------------------------------------------------------

/// Input of `com.atproto.repo.createRecord`; the record is a [`PostRecord`] unless said
/// otherwise (a fake server can take `CreateRecordInput<Value>` to accept any record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecordInput<R = PostRecord> {
    /// The account's DID (or handle).
    pub repo: String,
    /// The collection, e.g. `app.bsky.feed.post`.
    pub collection: String,
    /// A record key chosen by the client (a TID, see [`super::tid`]): a retry with the
    /// same key cannot create a second record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rkey: Option<String>,
    /// `false` skips lexicon validation, `true` requires it; absent: validate known ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<bool>,
    /// The record, with its `$type`.
    pub record: R,
    /// Compare-and-swap on the repository's current commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_commit: Option<String>,
}

/// Output of `com.atproto.repo.createRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecordOutput {
    /// AT URI of the new record.
    pub uri: String,
    /// Its CID.
    pub cid: String,
    /// The commit that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitMeta>,
    /// `valid` or `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
}

/// `com.atproto.repo.defs#commitMeta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitMeta {
    /// The commit's CID.
    pub cid: String,
    /// The repository revision.
    pub rev: String,
}

// ---------------------------------------------------------------------------------------
// XRPC errors
// ---------------------------------------------------------------------------------------

/// The body of an XRPC error response (any 4xx/5xx): `{"error": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XrpcError {
    /// A name such as `InvalidRequest`, `ExpiredToken`, `AuthenticationRequired`,
    /// `RateLimitExceeded`.
    pub error: String,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl fmt::Display for XrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "{}: {}", self.error, message),
            None => f.write_str(&self.error),
        }
    }
}
