//! Mastodon: the pure half of the connector — wire types, conversion, the streaming
//! (SSE) parser, pagination and the shapes of outbound requests. Nothing here touches the
//! network; the runtime that polls, streams and posts is built on top of these pieces.
//!
//! - [`wire`]: the JSON the Mastodon REST and streaming APIs really send
//!   ([`wire::Status`], [`wire::Account`], [`wire::Notification`], [`wire::ApiError`])
//!   and the body of `POST /api/v1/statuses` ([`wire::StatusRequest`]). Unknown fields
//!   are ignored; unknown notification types and visibilities parse into an `Other`.
//! - [`convert`]: a status or a mention notification into a
//!   [`rapport_core::NewMessage`], with the original HTML kept beside it.
//! - [`sse`]: an incremental `text/event-stream` parser fed with byte chunks, and
//!   [`sse::decode_stream_event`] from an event to a typed [`sse::StreamItem`].
//! - [`pagination`]: the `Link` header, the ids in its URLs, the polling cursor.
//! - [`outbound`]: how Mastodon counts characters, reply requests, idempotency keys.
//!
//! # Ingesting mentions, in short
//! ```
//! use rapport_connectors::mastodon::{convert, pagination, wire};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let body = r#"[{"id":"7","type":"follow","created_at":"2026-01-02T03:04:05.000Z",
//!   "account":{"id":"1","username":"ann","acct":"ann"}}]"#;
//! for item in wire::parse_notifications(body)? {
//!     let notification = item?; // one bad element does not spoil the page
//!     if let Some(c) = convert::notification_to_message(&notification, "example.social", "shop") {
//!         println!("{}: {}", c.message.author, c.message.text);
//!     }
//! }
//! let links = pagination::parse_link_header(
//!     "<https://example.social/api/v1/notifications?max_id=7>; rel=\"next\"",
//! );
//! assert_eq!(links.next_max_id().as_deref(), Some("7"));
//! # Ok(()) }
//! ```

pub mod client;
pub mod convert;
pub mod listener;
pub mod outbound;
pub mod pagination;
pub mod sse;
pub mod wire;

pub use convert::{ConvertedStatus, notification_to_message, status_to_message};
pub use outbound::{DEFAULT_MAX_CHARS, character_count, idempotency_key, reply_request};
pub use pagination::{Links, parse_link_header};
pub use sse::{SseEvent, SseFrame, SseParser, StreamItem, decode_stream_event};

/// The platform name stored in [`rapport_core::NewMessage::platform`].
pub const PLATFORM: &str = "mastodon";

/// Everything that can go wrong in the Mastodon layer. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MastodonError {
    /// A REST response body was not the JSON shape Mastodon sends.
    #[error(
        "could not read the Mastodon {what}: {source}; check that the channel's `instance` \
         points at a Mastodon-compatible server and that the token is valid"
    )]
    Json {
        /// What was being read, e.g. `notifications page` or `notification 21`.
        what: String,
        /// The parser's reason.
        #[source]
        source: serde_json::Error,
    },
    /// One streaming event carried data that could not be read; the stream goes on.
    #[error(
        "could not read the Mastodon streaming event `{event}`: {reason}; the event was \
         skipped and the stream goes on (the REST poll will pick the message up)"
    )]
    BadEvent {
        /// The event's type (`update`, `notification`, `delete`, ...).
        event: String,
        /// Why its data could not be read.
        reason: String,
    },
    /// One streaming event was larger than the parser keeps; it was dropped.
    #[error(
        "a Mastodon streaming event was larger than {limit} bytes and was skipped; \
         raise the parser's limit if the server really sends events this large"
    )]
    EventTooLarge {
        /// The limit in bytes ([`sse::DEFAULT_MAX_EVENT_BYTES`] unless changed).
        limit: usize,
    },
    /// A status to send has no text.
    #[error("the Mastodon post is empty; write some text before sending it")]
    EmptyStatus,
    /// A reply names no status to reply to.
    #[error(
        "the Mastodon reply names no status to reply to; reply to a conversation that \
         came from Mastodon, or post it as a new status"
    )]
    MissingReplyTarget,
    /// A status to send is longer than the instance allows.
    #[error(
        "the Mastodon post is {count} characters long, over the instance's limit of \
         {limit}; shorten it (a link counts as 23 characters, a mention @user@domain as \
         @user, a content warning counts too)"
    )]
    TooLong {
        /// The count as Mastodon makes it ([`outbound::character_count`]).
        count: usize,
        /// The limit it was checked against.
        limit: usize,
    },
}
