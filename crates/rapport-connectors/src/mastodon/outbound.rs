//! Outbound posts: `POST /api/v1/statuses` bodies, Mastodon's character count, and the
//! idempotency key.
//!
//! Send a reply as `POST {instance}/api/v1/statuses` with the body of
//! [`reply_request`] (JSON, or [`StatusRequest::to_form`]), `Authorization: Bearer
//! TOKEN` and an [`IDEMPOTENCY_KEY_HEADER`] of [`idempotency_key`]: the server answers a
//! repeated request with the same key by returning the status it already created instead
//! of posting again. Mastodon remembers a key for one hour per account, so a retry that
//! comes later than that should first check whether the reply already exists.

use unicode_segmentation::UnicodeSegmentation;

use super::MastodonError;
use super::wire::{StatusRequest, Visibility};

/// Mastodon's default limit on a status's length (instances may set another; it is
/// `configuration.statuses.max_characters` in `GET /api/v2/instance`).
pub const DEFAULT_MAX_CHARS: usize = rapport_core::draft::MASTODON_DEFAULT_MAX_CHARS;

/// What a URL counts for, however long it is.
pub const URL_CHARS: usize = rapport_core::draft::MASTODON_URL_CHARS;

/// The request header that carries [`idempotency_key`].
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The path statuses are posted to.
pub const STATUSES_PATH: &str = "/api/v1/statuses";

/// Counts `text` the way Mastodon's length validator does: every `http://` or `https://`
/// URL counts as [`URL_CHARS`] (23) characters however long it is; a mention
/// `@user@domain` counts as `@user`; everything else counts one per user-perceived
/// character (grapheme cluster). A content warning counts as well, on top:
/// [`check_length`] adds it. The rule is the core's
/// ([`rapport_core::draft::mastodon_length`]), which the draft checks use too, so a
/// draft that passes its checks is never refused here.
pub fn character_count(text: &str) -> usize {
    rapport_core::draft::mastodon_length(text)
}

/// A reply to the status `in_reply_to_id` (its id on the instance the request goes to),
/// checked against [`DEFAULT_MAX_CHARS`]. See [`reply_request_with_limit`].
pub fn reply_request(
    text: &str,
    in_reply_to_id: &str,
    visibility: Visibility,
) -> Result<StatusRequest, MastodonError> {
    reply_request_with_limit(text, in_reply_to_id, visibility, DEFAULT_MAX_CHARS)
}

/// A reply checked against the instance's own limit `max_chars`. The text is trimmed.
/// Errors: empty text ([`MastodonError::EmptyStatus`]), an empty `in_reply_to_id`
/// ([`MastodonError::MissingReplyTarget`]), or more than `max_chars` characters as
/// Mastodon counts them ([`MastodonError::TooLong`]).
///
/// Mastodon notifies only the accounts a status mentions: put the author's handle in the
/// text ([`ensure_mention`]).
pub fn reply_request_with_limit(
    text: &str,
    in_reply_to_id: &str,
    visibility: Visibility,
    max_chars: usize,
) -> Result<StatusRequest, MastodonError> {
    let in_reply_to_id = in_reply_to_id.trim();
    if in_reply_to_id.is_empty() {
        return Err(MastodonError::MissingReplyTarget);
    }
    let mut request = status_request(text, visibility, max_chars)?;
    request.in_reply_to_id = Some(in_reply_to_id.to_string());
    Ok(request)
}

/// A new status (not a reply), checked against `max_chars`.
pub fn status_request(
    text: &str,
    visibility: Visibility,
    max_chars: usize,
) -> Result<StatusRequest, MastodonError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(MastodonError::EmptyStatus);
    }
    let request = StatusRequest {
        status: text.to_string(),
        in_reply_to_id: None,
        visibility: Some(visibility),
        spoiler_text: None,
        language: None,
    };
    check_length(&request, max_chars)?;
    Ok(request)
}

/// Checks a request against `max_chars` as Mastodon does: the content warning
/// (`spoiler_text`, counted plainly) and the text ([`character_count`]) together. Call it
/// again after setting a content warning on a request.
pub fn check_length(request: &StatusRequest, max_chars: usize) -> Result<(), MastodonError> {
    let spoiler = request
        .spoiler_text
        .as_deref()
        .map_or(0, |s| s.graphemes(true).count());
    let count = spoiler + character_count(&request.status);
    if count > max_chars {
        return Err(MastodonError::TooLong {
            count,
            limit: max_chars,
        });
    }
    Ok(())
}

/// `text` starting with a mention of `acct` (`@user@domain`), unless it already
/// mentions that account (case-insensitively, as `@user@domain`, or as `@user` when
/// `acct` has no domain).
pub fn ensure_mention(text: &str, acct: &str) -> String {
    let handle = format!("@{}", acct.trim().trim_start_matches('@'));
    let lower_text = text.to_lowercase();
    let lower_handle = handle.to_lowercase();
    let present = lower_text.match_indices(&lower_handle).any(|(i, _)| {
        let mut after = lower_text[i + lower_handle.len()..].chars();
        match after.next() {
            None => true,
            Some('.') => !after.next().is_some_and(char::is_alphanumeric),
            Some(c) => !(c.is_alphanumeric() || matches!(c, '_' | '@' | '-')),
        }
    });
    if present {
        text.to_string()
    } else {
        format!("{handle} {}", text.trim_start())
    }
}

/// The visibility for a reply to a status of visibility `original`: the same, so a
/// direct message is answered directly and a followers-only post stays followers-only;
/// `direct` for visibilities this code does not know.
pub fn reply_visibility(original: &Visibility) -> Visibility {
    match original {
        Visibility::Other(_) => Visibility::Direct,
        known => known.clone(),
    }
}

/// The `Idempotency-Key` for outbound message `outbound_message_id` of conversation
/// `conversation_id`: the same on every retry of that message, different for every
/// other message, so the server never posts one message twice.
pub fn idempotency_key(conversation_id: i64, outbound_message_id: i64) -> String {
    format!("rapport-reply-{conversation_id}-{outbound_message_id}")
}
