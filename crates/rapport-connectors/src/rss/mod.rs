//! RSS and Atom feeds (a blog's comment feed, a forum's, a review site's): each entry one
//! inbound message. This module is pure: it turns the bytes of one fetched feed into
//! [`NewMessage`]s and says which conditional-GET headers to send next time; fetching,
//! scheduling and storing belong to the runtime.
//!
//! ```
//! use rapport_connectors::rss::{parse_feed, Validators};
//!
//! let body = br#"<rss version="2.0"><channel><title>Comments</title>
//!   <item><guid>https://blog.example/?p=7#comment-3</guid>
//!     <link>https://blog.example/hello/#comment-3</link>
//!     <pubDate>Tue, 02 Jan 2024 10:00:00 +0000</pubDate>
//!     <description>Fish &amp;amp; chips?</description></item>
//! </channel></rss>"#;
//! let page = parse_feed(body, "https://blog.example/comments/feed/")?;
//! assert_eq!(page.messages[0].text, "Fish & chips?");
//! assert_eq!(page.messages[0].in_reply_to.as_deref(), Some("https://blog.example/hello/"));
//!
//! // Next poll: send the validators of this response; a 304 means nothing new.
//! let validators = Validators::from_response_headers(|name| match name {
//!     "etag" => Some("\"abc\"".to_owned()),
//!     _ => None,
//! });
//! assert_eq!(validators.request_headers(), vec![("If-None-Match", "\"abc\"".to_owned())]);
//! # Ok::<(), rapport_connectors::rss::RssError>(())
//! ```
//!
//! How an entry maps (RSS 2.0, RSS 1.0, Atom and JSON Feed, all through feed-rs):
//! - `platform`: `rss`; `direction`: inbound.
//! - `platform_id`: the entry's `<guid>` / `<id>`. Without one, its link, and without a
//!   link a `sha256:` hash of its title (or text) and date; either fallback is reported in
//!   [`FeedPage::notes`], because an entry whose link or title later changes will then
//!   look new.
//! - `author` and `author_name`: the entry's author (`dc:creator`, `<author><name>`, the
//!   name or e-mail of RSS `<author>`), else the feed's author, else the feed's title.
//! - `text`: the content (`content:encoded`, Atom `<content>`), else the summary
//!   (`<description>`, `<summary>`), else the title; HTML becomes plain text (paragraphs
//!   and `<br>` become newlines, tags go, entities are decoded), trimmed. Text over 64 KiB
//!   is cut there, with a note.
//! - `created_at`: published (`pubDate`, `published`), else updated. An entry with
//!   neither is an [`EntryError`]; the rest of the feed still comes out.
//! - `url`: the entry's link (`rel="alternate"` first).
//! - `in_reply_to` ("the feed's items thread by link"): the `ref` of an RFC 4685
//!   `<thr:in-reply-to ref=".." href=".."/>` (WordPress Atom comment feeds carry it: the
//!   post's guid, or the parent comment's for a reply to a comment; its `href` when it has
//!   no `ref`), else the entry's link without its `#fragment` when it has one (WordPress
//!   RSS comment feeds link each comment as `https://blog/post-slug/#comment-12`; a
//!   trailing `comment-page-N/` is dropped too), else none: an entry whose link has no
//!   fragment is a post, not a reply.
//!
//! Conditional GET: keep the [`Validators`] of the last `200` with the channel's cursor
//! and send [`Validators::request_headers`] on the next poll. A `304 Not Modified` means
//! nothing is new: store nothing and keep the cursor and the validators as they are.

mod convert;
pub mod poller;
mod wire;

use std::fmt;

use rapport_core::NewMessage;
use serde::{Deserialize, Serialize};

/// The platform name of every message from a feed.
pub const PLATFORM: &str = "rss";

/// One fetched feed, converted: the good entries and the reasons for the bad ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedPage {
    /// The entries that became messages, in feed order.
    pub messages: Vec<NewMessage>,
    /// The entries that could not become messages, with why.
    pub errors: Vec<EntryError>,
    /// Fallbacks taken for entries that did become messages (an id from the link or a
    /// hash, a text cut at 64 KiB): worth a log line, not an alarm.
    pub notes: Vec<EntryNote>,
}

/// Why one entry of a feed did not become a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryError {
    /// The entry's position in the feed, from 0.
    pub index: usize,
    /// The entry's id or guid (its link when it has none), when it has one.
    pub id: Option<String>,
    /// What is wrong and what to do about it.
    pub reason: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "entry {} ({id}): {}", self.index, self.reason),
            None => write!(f, "entry {}: {}", self.index, self.reason),
        }
    }
}

impl std::error::Error for EntryError {}

/// A fallback taken for one entry that did become a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryNote {
    /// The entry's position in the feed, from 0.
    pub index: usize,
    /// The message's `platform_id`.
    pub id: String,
    /// What was done.
    pub note: String,
}

impl fmt::Display for EntryNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} ({}): {}", self.index, self.id, self.note)
    }
}

/// A feed that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum RssError {
    /// The body is not an RSS, Atom or JSON feed.
    #[error(
        "{url} is not a readable RSS, Atom or JSON feed ({reason}); check the channel's \
         feed_url (a blog's comment feed is often https://blog/comments/feed/)"
    )]
    NotAFeed {
        /// The feed's URL.
        url: String,
        /// What the parser said.
        reason: String,
    },
    /// The body is an HTML page, not a feed.
    #[error(
        "{url} returned an HTML page, not a feed; set the channel's feed_url to the feed \
         itself (look for <link rel=\"alternate\" type=\"application/rss+xml\"> in the page)"
    )]
    HtmlPage {
        /// The feed's URL.
        url: String,
    },
    /// The body is empty.
    #[error("{url} returned an empty body; check the channel's feed_url")]
    Empty {
        /// The feed's URL.
        url: String,
    },
}

/// Parses one fetched feed (`body`, as received) from `feed_url` (used in errors only).
///
/// Entries that cannot become messages are reported in [`FeedPage::errors`] and the others
/// still come out; only a body that is not a feed at all is an [`RssError`].
pub fn parse_feed(body: &[u8], feed_url: &str) -> Result<FeedPage, RssError> {
    let trimmed = body.trim_ascii_start();
    let trimmed = trimmed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(RssError::Empty {
            url: feed_url.to_owned(),
        });
    }
    if looks_like_html(trimmed) {
        return Err(RssError::HtmlPage {
            url: feed_url.to_owned(),
        });
    }
    // An empty generated id marks an entry without one: the fallbacks are ours to choose
    // (feed-rs would hash the link, or make up a random UUID that changes every poll).
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_links, _title, _uri| String::new())
        .build();
    let feed = parser.parse(body).map_err(|e| RssError::NotAFeed {
        url: feed_url.to_owned(),
        reason: e.to_string(),
    })?;

    let raw = wire::scan_entries(body);
    let raw = (raw.len() == feed.entries.len()).then_some(raw);

    let mut page = FeedPage::default();
    for (index, entry) in feed.entries.iter().enumerate() {
        let raw_entry = raw.as_ref().and_then(|r| r.get(index));
        match convert::entry(&feed, index, entry, raw_entry) {
            convert::Converted::Message(message, notes) => {
                page.notes
                    .extend(convert::notes(index, &message.platform_id, notes));
                page.messages.push(*message);
            }
            convert::Converted::Error(error) => page.errors.push(error),
        }
    }
    Ok(page)
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(256)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// The conditional-GET validators of a feed's last `200` response, kept with the
/// channel's cursor.
///
/// Send [`Validators::request_headers`] with the next poll. A `304 Not Modified` answer
/// means nothing is new: store nothing, keep the cursor and these validators. A `200`
/// replaces them with [`Validators::from_response_headers`] of that response (a server
/// that stops sending them clears them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The `ETag` header, exactly as received (quotes and `W/` included).
    pub etag: Option<String>,
    /// The `Last-Modified` header, exactly as received.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Reads `ETag` and `Last-Modified` through `get`, which returns a header's value by
    /// name. It is asked for the lowercase name first (`etag`, `last-modified`: what
    /// `http::HeaderMap` answers to), then the usual spelling (`ETag`, `Last-Modified`).
    /// Empty values count as absent.
    pub fn from_response_headers(get: impl Fn(&str) -> Option<String>) -> Self {
        let read = |lower: &str, usual: &str| {
            get(lower)
                .or_else(|| get(usual))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Validators {
            etag: read("etag", "ETag"),
            last_modified: read("last-modified", "Last-Modified"),
        }
    }

    /// The headers for the next request: `If-None-Match` with the ETag and
    /// `If-Modified-Since` with the Last-Modified date, each when known.
    pub fn request_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(2);
        if let Some(etag) = &self.etag {
            headers.push(("If-None-Match", etag.clone()));
        }
        if let Some(date) = &self.last_modified {
            headers.push(("If-Modified-Since", date.clone()));
        }
        headers
    }

    /// Whether there is nothing to send (the first poll, or a server without validators).
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}
