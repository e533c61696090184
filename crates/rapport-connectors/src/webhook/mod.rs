//! The inbound webhook: anything that can send an HTTP request (a help-desk, a form, a
//! script, another platform's bridge) posts messages to `POST /api/v1/ingest/{channel}`.
//!
//! This module is pure: [`verify`] checks the request's [`SIGNATURE_HEADER`] and
//! [`parse_body`] turns the body into [`NewMessage`]s and per-item errors; the server
//! routes, limits sizes and stores. The format, the signature and the answers are
//! documented for senders in `docs/webhook.md`.
//!
//! ```
//! use chrono::Utc;
//! use rapport_connectors::webhook::{parse_body, sign, verify};
//!
//! let secret = b"s3cret";
//! let body = br#"{"id": "42", "author": "ada", "text": "Is the API down?"}"#;
//! let header = sign(secret, body);
//! verify(secret, body, Some(&header))?;
//! let batch = parse_body(body, "helpdesk", Utc::now())?;
//! assert_eq!(batch.messages[0].message.platform, "helpdesk");
//! assert!(batch.errors.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The body is one JSON object or an array of them (at most [`MAX_ITEMS`]):
//!
//! | field | type | |
//! | --- | --- | --- |
//! | `id` | string or integer | required; the sender's id, unique per platform |
//! | `author` | string | required; a handle (a leading `@` is dropped) |
//! | `text` | string | required; plain text, trimmed, not empty, at most 64 KiB |
//! | `created_at` | RFC 3339 string | optional; default: when it was received |
//! | `author_name` | string | optional |
//! | `email` | string | optional; the author's address, passed on beside the message |
//! | `followers` | integer ≥ 0 | optional |
//! | `in_reply_to` | string or integer | optional; the id of the message it answers |
//! | `url` | string | optional; an absolute `http(s)://` link |
//! | `platform` | string | optional; default: the channel's name; `[a-z0-9._-]`, lowercased |
//! | `direction` | `inbound` or `outbound` | optional; default `inbound` |
//! | `automated` | boolean | optional; a bot or auto-reply: never stops an SLA clock |
//! | `meta` | anything | optional; ignored: room for the sender's own data |
//!
//! `null` counts as absent for the optional fields. Any other field is an error for that
//! item, naming the field: a typo such as `create_at` would otherwise silently become
//! "received now", and a sender's extra data has `meta` to go in.

mod signature;

use std::fmt;

use chrono::{DateTime, Utc};
use rapport_core::{Direction, NewMessage};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::import::MAX_TEXT_BYTES;

pub use signature::{
    SIGNATURE_HEADER, SignatureError, TIMESTAMP_HEADER, TIMESTAMP_TOLERANCE_SECS, sign,
    sign_with_timestamp, verify, verify_with_timestamp,
};

/// The most items one request may carry; split bigger batches.
pub const MAX_ITEMS: usize = 1000;

/// The fields an item may have.
pub const FIELDS: &[&str] = &[
    "id",
    "author",
    "text",
    "created_at",
    "author_name",
    "email",
    "followers",
    "in_reply_to",
    "url",
    "platform",
    "direction",
    "automated",
    "meta",
];

/// One request's body, converted: the good items and the reasons for the bad ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookBatch {
    /// The items that became messages, in body order.
    pub messages: Vec<WebhookMessage>,
    /// The items that did not, with why.
    pub errors: Vec<ItemError>,
}

/// One good item.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookMessage {
    /// The item's position in the body, from 0 (0 for a single object).
    pub index: usize,
    /// The message.
    pub message: NewMessage,
    /// The author's e-mail address, when sent: [`NewMessage`] has no place for it, the
    /// runtime may attach it to the person.
    pub email: Option<String>,
}

/// Why one item of a body did not become a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    /// The item's position in the body, from 0 (0 for a single object).
    pub index: usize,
    /// The field at fault, when one is (`None` when the item is not an object).
    pub field: Option<String>,
    /// What is wrong and what to send instead.
    pub message: String,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "item {}: {field}: {}", self.index, self.message),
            None => write!(f, "item {}: {}", self.index, self.message),
        }
    }
}

impl std::error::Error for ItemError {}

/// A body that cannot be read at all (the server answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The body is empty.
    #[error("the body is empty; send a JSON object or an array of them")]
    Empty,
    /// The body is not JSON.
    #[error(
        "the body is not valid JSON (line {line}, column {column}: {reason}); send a JSON \
         object or an array of them, UTF-8 encoded"
    )]
    NotJson {
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// What the JSON parser said.
        reason: String,
    },
    /// The body is JSON but neither an object nor an array.
    #[error("the body is a JSON {found}; send a JSON object or an array of them")]
    NotObjectOrArray {
        /// What it is instead (`string`, `number`, ...).
        found: &'static str,
    },
    /// The array has more than [`MAX_ITEMS`] items.
    #[error("the body has {count} items, over the limit of {MAX_ITEMS}; split it into batches")]
    TooManyItems {
        /// How many there are.
        count: usize,
    },
}

impl WebhookError {
    /// A stable snake_case code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Empty => "empty_body",
            WebhookError::NotJson { .. } => "invalid_json",
            WebhookError::NotObjectOrArray { .. } => "invalid_body",
            WebhookError::TooManyItems { .. } => "too_many_items",
        }
    }
}

/// Parses a request body received on webhook channel `channel`; `now` stands in for a
/// missing `created_at`.
///
/// Items that cannot become messages are reported in [`WebhookBatch::errors`] (index,
/// field, reason) and the others still come out; only a body that is not a JSON object or
/// array is a [`WebhookError`].
pub fn parse_body(
    body: &[u8],
    channel: &str,
    now: DateTime<Utc>,
) -> Result<WebhookBatch, WebhookError> {
    if body.trim_ascii().is_empty() {
        return Err(WebhookError::Empty);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| WebhookError::NotJson {
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(_) => vec![value],
        other => {
            return Err(WebhookError::NotObjectOrArray {
                found: kind(&other),
            });
        }
    };
    if items.len() > MAX_ITEMS {
        return Err(WebhookError::TooManyItems { count: items.len() });
    }
    let default_platform = channel.trim().to_ascii_lowercase();
    let mut batch = WebhookBatch::default();
    for (index, item) in items.into_iter().enumerate() {
        match item_to_message(index, item, &default_platform, now) {
            Ok(message) => batch.messages.push(message),
            Err(error) => batch.errors.push(error),
        }
    }
    Ok(batch)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Reads the fields of one item, each failure naming its field.
struct Item {
    index: usize,
    map: Map<String, Value>,
}

impl Item {
    fn err(&self, field: &str, message: impl Into<String>) -> ItemError {
        ItemError {
            index: self.index,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// The field's value; `None` when absent or null.
    fn get(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn string(&self, field: &str) -> Result<Option<&str>, ItemError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.err(field, format!("must be a string, not a {}", kind(other)))),
        }
    }

    /// A string or an integer (ids are often numbers), trimmed, not empty.
    fn id(&self, field: &str) -> Result<Option<String>, ItemError> {
        let id = match self.get(field) {
            None => return Ok(None),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
            Some(other) => {
                return Err(self.err(
                    field,
                    format!("must be a string or an integer, not a {}", kind(other)),
                ));
            }
        };
        if id.is_empty() {
            return Err(self.err(field, "is empty"));
        }
        Ok(Some(id))
    }

    fn required_id(&self, field: &str) -> Result<String, ItemError> {
        self.id(field)?
            .ok_or_else(|| self.err(field, "is missing; every item needs one"))
    }
}

fn item_to_message(
    index: usize,
    item: Value,
    default_platform: &str,
    now: DateTime<Utc>,
) -> Result<WebhookMessage, ItemError> {
    let map = match item {
        Value::Object(map) => map,
        other => {
            return Err(ItemError {
                index,
                field: None,
                message: format!("is a JSON {}, not an object", kind(&other)),
            });
        }
    };
    let item = Item { index, map };
    if let Some(unknown) = item.map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(item.err(
            unknown,
            format!(
                "unknown field; the fields are {}, and `meta` takes anything of your own",
                FIELDS.join(", ")
            ),
        ));
    }

    let platform_id = item.required_id("id")?;

    let author = item
        .string("author")?
        .map(|a| a.trim().trim_start_matches('@').trim())
        .ok_or_else(|| item.err("author", "is missing; every item needs one"))?;
    if author.is_empty() {
        return Err(item.err("author", "is empty"));
    }

    let text = item
        .string("text")?
        .map(str::trim)
        .ok_or_else(|| item.err("text", "is missing; every item needs one"))?;
    if text.is_empty() {
        return Err(item.err("text", "is empty"));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(item.err(
            "text",
            format!("is {} bytes, over the 64 KiB limit", text.len()),
        ));
    }

    let created_at = match item.string("created_at")? {
        None => now,
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map_err(|e| {
                item.err(
                    "created_at",
                    format!("{s:?} is not an RFC 3339 time ({e}), e.g. 2024-01-02T10:00:00Z"),
                )
            })?
            .with_timezone(&Utc),
    };

    let author_name = item
        .string("author_name")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);

    let email = match item
        .string("email")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(e) if e.contains('@') && !e.contains(char::is_whitespace) => Some(e.to_owned()),
        Some(e) => {
            return Err(item.err("email", format!("{e:?} is not an e-mail address")));
        }
    };

    let followers = match item.get("followers") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            item.err("followers", format!("must be a whole number ≥ 0, not {v}"))
        })?),
    };

    let in_reply_to = item.id("in_reply_to")?;

    let url = match item.string("url")?.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(u) => {
            let lower = u.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"));
            if rest.is_none_or(str::is_empty) || u.contains(char::is_whitespace) {
                return Err(item.err(
                    "url",
                    format!("{u:?} is not an absolute http:// or https:// link"),
                ));
            }
            Some(u.to_owned())
        }
    };

    let platform = match item.string("platform")?.map(str::trim) {
        None => default_platform.to_owned(),
        Some(p) => {
            let p = p.to_ascii_lowercase();
            if p.is_empty()
                || p.len() > 64
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(item.err(
                    "platform",
                    format!("{p:?} is not a platform name: use 1 to 64 of a-z, 0-9, '.', '_', '-'"),
                ));
            }
            p
        }
    };

    let direction = match item.string("direction")?.map(str::trim) {
        None => Direction::Inbound,
        Some(d) if d.eq_ignore_ascii_case("inbound") => Direction::Inbound,
        Some(d) if d.eq_ignore_ascii_case("outbound") => Direction::Outbound,
        Some(d) => {
            return Err(item.err(
                "direction",
                format!("{d:?} is neither \"inbound\" nor \"outbound\""),
            ));
        }
    };

    let automated = match item.get("automated") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(item.err(
                "automated",
                format!("must be true or false, not a {}", kind(other)),
            ));
        }
    };

    Ok(WebhookMessage {
        index,
        email,
        message: NewMessage {
            platform,
            platform_id,
            author: author.to_owned(),
            author_name,
            followers,
            text: text.to_owned(),
            created_at,
            in_reply_to,
            reshares: 0,
            replies: 0,
            direction,
            automated,
            url,
        },
    })
}
