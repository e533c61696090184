//! Bluesky (AT Protocol): the wire formats and their conversion (no networking), and on
//! top of them the XRPC [`client`] and the Jetstream / notifications [`listener`].
//!
//! - [`wire`]: the exact JSON shapes — Jetstream events, the `app.bsky.feed.post` record
//!   and its facets, `app.bsky.notification.listNotifications`, `app.bsky.actor.getProfile`,
//!   `com.atproto.server.createSession` / `refreshSession`,
//!   `com.atproto.repo.createRecord`, `com.atproto.identity.resolveHandle` and the XRPC
//!   error body. Unknown fields are ignored everywhere, so a service that adds fields
//!   does not break ingestion.
//! - [`convert`]: wire → [`rapport_core::NewMessage`]. [`convert::from_jetstream_line`]
//!   decides for one Jetstream line whether it is a post the organisation listens to
//!   ([`convert::Listen`]) and always reports the cursor; [`convert::from_notification`]
//!   converts the account's own mentions, replies and quotes. Each kept post comes with
//!   a [`convert::ReplyTarget`], the strong references needed to answer it later.
//! - [`richtext`]: outbound posts — grapheme counting, facet detection (links, mentions,
//!   hashtags, with UTF-8 byte offsets), reply and top-level post records and the
//!   `createRecord` request body.
//! - [`tid`]: record keys (TIDs), so that a retried `createRecord` with a key chosen in
//!   advance can never post twice.
//!
//! ```
//! use rapport_connectors::bluesky::convert::{from_jetstream_line, JetstreamOutcome, Listen};
//!
//! let listen = Listen {
//!     org_did: "did:plc:orgaccount2345abcdefghij".into(),
//!     org_handle: "acmecoffee.bsky.social".into(),
//!     mentions: true,
//!     replies: true,
//!     topics: vec!["cold brew".into()],
//!     all: false,
//! };
//! let line = r#"{"did":"did:plc:alice234567abcdefghijklm","time_us":1767225600000000,"kind":"commit","commit":{"rev":"3lbbbbbbbbb22","operation":"create","collection":"app.bsky.feed.post","rkey":"3lbbbbbbbbb22","record":{"$type":"app.bsky.feed.post","createdAt":"2026-01-01T00:00:00.000Z","text":"Best cold brew in town"},"cid":"bafyreiexample"}}"#;
//! match from_jetstream_line(line, &listen)? {
//!     JetstreamOutcome::Keep(kept) => assert_eq!(kept.message.text, "Best cold brew in town"),
//!     JetstreamOutcome::Skip { .. } => unreachable!(),
//! }
//! # Ok::<(), rapport_connectors::bluesky::BlueskyError>(())
//! ```

pub mod client;
pub mod convert;
pub mod listener;
pub mod richtext;
pub mod tid;
pub mod wire;

/// The platform name rapport stores Bluesky messages under.
pub const PLATFORM: &str = "bluesky";

/// The collection (NSID) of Bluesky posts.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// What went wrong reading or writing Bluesky data.
#[derive(Debug, thiserror::Error)]
pub enum BlueskyError {
    /// A Jetstream line that is not a valid event (bad JSON, a required field missing).
    #[error(
        "malformed Jetstream event: {reason}; skip this line and go on with the next (cursor {cursor:?})"
    )]
    MalformedEvent {
        /// What serde said.
        reason: String,
        /// The event's `time_us` when it could still be read, so the cursor can advance.
        cursor: Option<i64>,
    },
    /// A post record that lacks what the lexicon requires (`text`, `createdAt`) or whose
    /// commit lacks its CID.
    #[error("invalid post {uri}: {reason}; the post is skipped")]
    InvalidPost {
        /// The post's AT URI.
        uri: String,
        /// What is wrong with it.
        reason: String,
        /// The event's `time_us` (the cursor still advances past it), when from Jetstream.
        cursor: Option<i64>,
    },
    /// Outbound text longer than a Bluesky post allows.
    #[error(
        "post text is {graphemes} graphemes and {bytes} bytes; Bluesky allows at most {max_graphemes} graphemes and {max_bytes} bytes: shorten it or split it into a thread"
    )]
    TextTooLong {
        /// Graphemes in the text.
        graphemes: usize,
        /// UTF-8 bytes in the text.
        bytes: usize,
        /// The grapheme limit ([`richtext::MAX_GRAPHEMES`]).
        max_graphemes: usize,
        /// The byte limit ([`richtext::MAX_BYTES`]).
        max_bytes: usize,
    },
    /// Outbound text that is empty or only whitespace.
    #[error("post text is empty: write something to send")]
    EmptyText,
    /// An outbound facet whose byte range is not inside the text or splits a character.
    #[error(
        "facet bytes {byte_start}..{byte_end} do not fit the {text_bytes}-byte text: compute facets from the exact text sent (detect_facets)"
    )]
    FacetOutOfRange {
        /// The facet's first byte.
        byte_start: usize,
        /// The facet's end byte (exclusive).
        byte_end: usize,
        /// Bytes in the text.
        text_bytes: usize,
    },
}

impl BlueskyError {
    /// The Jetstream cursor (`time_us`) of the event that caused the error, when known:
    /// the caller saves it like any other so that a bad event is not read again.
    pub fn cursor(&self) -> Option<i64> {
        match self {
            BlueskyError::MalformedEvent { cursor, .. }
            | BlueskyError::InvalidPost { cursor, .. } => *cursor,
            BlueskyError::TextTooLong { .. }
            | BlueskyError::EmptyText
            | BlueskyError::FacetOutOfRange { .. } => None,
        }
    }
}

/// The AT URI of a record: `at://{did}/{collection}/{rkey}`.
pub fn at_uri(did: &str, collection: &str, rkey: &str) -> String {
    format!("at://{did}/{collection}/{rkey}")
}

/// Splits an AT URI into (authority, collection, rkey); `None` when it has another shape.
pub fn split_at_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.splitn(3, '/');
    let authority = parts.next().filter(|s| !s.is_empty())?;
    let collection = parts.next().filter(|s| !s.is_empty())?;
    let rkey = parts.next().filter(|s| !s.is_empty() && !s.contains('/'))?;
    Some((authority, collection, rkey))
}

/// The public web address of a post: `https://bsky.app/profile/{did}/post/{rkey}`.
pub fn post_url(did: &str, rkey: &str) -> String {
    format!("https://bsky.app/profile/{did}/post/{rkey}")
}
