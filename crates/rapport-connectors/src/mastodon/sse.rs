//! The Mastodon streaming API over Server-Sent Events (`text/event-stream`).
//!
//! [`SseParser`] follows the WHATWG event-stream rules: lines end in LF, CRLF or CR; a
//! line starting with `:` is a comment (Mastodon sends `:)` on connect and `:thump`
//! every few seconds as a heartbeat); `event:` names the event, each `data:` adds a line
//! to its data, `id:` and `retry:` are kept; a blank line dispatches the event, and an
//! event without data is dropped. It is fed bytes as they arrive: a chunk may end
//! anywhere, inside a line, a CRLF or a UTF-8 character, and the events come out the
//! same. Invalid UTF-8 becomes U+FFFD. An event larger than the limit is dropped with an
//! error, and the parser goes on with the next one.
//!
//! [`decode_stream_event`] then reads one event's data: `update` and `status.update`
//! carry a status, `notification` a notification, `delete` a bare status id (not JSON).
//! A malformed event is an error for that event alone.
//!
//! The streams rapport uses (paths relative to the streaming base URL, which may be
//! another host than the REST API: `configuration.urls.streaming` in
//! `GET /api/v2/instance`): [`USER_STREAM_PATH`] (the home timeline as `update`, and
//! `notification`s), [`USER_NOTIFICATION_STREAM_PATH`] (notifications only) and
//! [`hashtag_stream_path`].

use super::MastodonError;
use super::wire::{Notification, Status};

/// `GET /api/v1/streaming/user`: the account's home timeline and notifications.
pub const USER_STREAM_PATH: &str = "/api/v1/streaming/user";

/// `GET /api/v1/streaming/user/notification`: the account's notifications only.
pub const USER_NOTIFICATION_STREAM_PATH: &str = "/api/v1/streaming/user/notification";

/// The path of the public stream of a hashtag (without `#`), percent-encoded;
/// `local` restricts it to the instance's own accounts.
pub fn hashtag_stream_path(tag: &str, local: bool) -> String {
    let tag = tag.trim().trim_start_matches('#');
    let mut encoded = String::with_capacity(tag.len());
    for &b in tag.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let suffix = if local { "/local" } else { "" };
    format!("/api/v1/streaming/hashtag{suffix}?tag={encoded}")
}

/// The default bound on one event's size, in bytes (a status with a long account
/// profile is a few kilobytes).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `message` when the event had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen on the stream (Mastodon sends none), if any.
    pub id: Option<String>,
}

/// What the parser gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseFrame {
    /// An event.
    Event(SseEvent),
    /// A comment line, without its `:` (`)`, `thump`, or empty): the server is alive.
    Comment(String),
}

/// The incremental `text/event-stream` parser (see the module docs).
#[derive(Debug, Clone)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last chunk ended in CR: an LF starting the next one belongs to it.
    after_cr: bool,
    first_line: bool,
    /// The current line grew past the limit: drop the rest of it.
    skipping_line: bool,
    event: String,
    data: String,
    has_data: bool,
    oversized: bool,
    last_id: Option<String>,
    retry_ms: Option<u64>,
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::new()
    }
}

impl SseParser {
    /// A parser for a fresh connection, with [`DEFAULT_MAX_EVENT_BYTES`].
    pub fn new() -> SseParser {
        SseParser::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that drops (with [`MastodonError::EventTooLarge`]) events whose lines
    /// together exceed `max_event_bytes`.
    pub fn with_max_event_bytes(max_event_bytes: usize) -> SseParser {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            first_line: true,
            skipping_line: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
            oversized: false,
            last_id: None,
            retry_ms: None,
            max_event_bytes,
        }
    }

    /// The reconnection delay the server asked for with `retry:`, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// The last event id seen (to send as `Last-Event-ID` on reconnect), if any.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Feeds the next bytes of the stream and returns what they completed, in order.
    /// An `Err` is one event that was dropped; the parser is ready for the next.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Result<SseFrame, MastodonError>> {
        let mut out = Vec::new();
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                rest = tail;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (line, tail) = rest.split_at(pos);
            self.push_bytes(line);
            let mut tail = tail.get(1..).unwrap_or_default();
            if rest.get(pos) == Some(&b'\r') {
                if let Some(after_lf) = tail.strip_prefix(b"\n") {
                    tail = after_lf;
                } else if tail.is_empty() {
                    self.after_cr = true;
                }
            }
            self.end_line(&mut out);
            rest = tail;
        }
        self.push_bytes(rest);
        out
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if self.skipping_line || bytes.is_empty() {
            return;
        }
        if self.line.len() + self.data.len() + bytes.len() > self.max_event_bytes {
            self.skipping_line = true;
            self.oversized = true;
            self.line = Vec::new();
            self.data = String::new();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self, out: &mut Vec<Result<SseFrame, MastodonError>>) {
        let skipped = std::mem::replace(&mut self.skipping_line, false);
        let mut bytes = std::mem::take(&mut self.line);
        if std::mem::replace(&mut self.first_line, false) && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        if skipped {
            return;
        }
        if bytes.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(&bytes);
        if let Some(comment) = line.strip_prefix(':') {
            out.push(Ok(SseFrame::Comment(comment.trim().to_string())));
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.oversized {
                    return;
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Result<SseFrame, MastodonError>>) {
        let event = std::mem::take(&mut self.event);
        let mut data = std::mem::take(&mut self.data);
        let has_data = std::mem::replace(&mut self.has_data, false);
        if std::mem::replace(&mut self.oversized, false) {
            out.push(Err(MastodonError::EventTooLarge {
                limit: self.max_event_bytes,
            }));
            return;
        }
        if !has_data {
            return;
        }
        if data.ends_with('\n') {
            data.pop();
        }
        out.push(Ok(SseFrame::Event(SseEvent {
            event: if event.is_empty() {
                "message".to_string()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
        })));
    }
}

/// A streaming event, read.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// `update`: a new status on the stream (home timeline, hashtag, ...).
    Update(Box<Status>),
    /// `status.update`: a status was edited; the same id with new content.
    StatusUpdate(Box<Status>),
    /// `notification`: a notification (a mention, a follow, ...).
    Notification(Box<Notification>),
    /// `delete`: the status with this id was deleted.
    Delete(String),
    /// Any other event (`filters_changed`, `announcement`, `conversation`,
    /// `notifications_merged`, ...), by name: nothing to ingest.
    Ignored(String),
}

/// Reads an event's data by its type (see the module docs). A malformed payload is
/// [`MastodonError::BadEvent`] naming the event; the caller logs it and reads on.
pub fn decode_stream_event(ev: &SseEvent) -> Result<StreamItem, MastodonError> {
    let bad = |reason: String| MastodonError::BadEvent {
        event: ev.event.clone(),
        reason,
    };
    match ev.event.as_str() {
        "update" => serde_json::from_str(&ev.data)
            .map(|s| StreamItem::Update(Box::new(s)))
            .map_err(|e| bad(format!("not a status: {e}"))),
        "status.update" => serde_json::from_str(&ev.data)
            .map(|s| StreamItem::StatusUpdate(Box::new(s)))
            .map_err(|e| bad(format!("not a status: {e}"))),
        "notification" => serde_json::from_str(&ev.data)
            .map(|n| StreamItem::Notification(Box::new(n)))
            .map_err(|e| bad(format!("not a notification: {e}"))),
        "delete" => {
            let raw = ev.data.trim();
            // The id comes bare; accept it quoted too.
            let id = match raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(inner) => inner,
                None => raw,
            };
            if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c == '"') {
                Err(bad(format!("not a status id: {raw:?}")))
            } else {
                Ok(StreamItem::Delete(id.to_string()))
            }
        }
        other => Ok(StreamItem::Ignored(other.to_string())),
    }
}
