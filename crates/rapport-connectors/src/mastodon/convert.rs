//! From Mastodon's wire types to rapport's [`NewMessage`].
//!
//! The choices, once:
//! - `platform_id` is the status id **on the instance rapport talks to** (instance-local),
//!   not the ActivityPub `uri`: `in_reply_to_id` (and so threading), the REST paths and
//!   the reply request all speak in those ids. The same post seen through another
//!   instance has another id; its `uri` ([`ConvertedStatus::uri`]) is the same everywhere.
//! - `author` is the full handle `user@domain`, lowercase domain: the API gives a local
//!   account's `acct` as bare `user`, so it is qualified with the instance's domain, and
//!   a person is the same author whichever instance rapport listens through.
//! - `text` is plain text made from the HTML ([`html_to_text`]); the HTML is kept in
//!   [`ConvertedStatus::html`]. It is untrusted: sanitise it (ammonia) before showing it.
//! - A boost (reblog) is not a new message: [`status_to_message`] gives `None`.

use chrono::{DateTime, Utc};
use rapport_core::{Direction, NewMessage};

use super::PLATFORM;
use super::wire::{Notification, NotificationType, Status, Visibility};

/// A status converted for ingest, with what the [`NewMessage`] cannot hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertedStatus {
    /// The message to ingest.
    pub message: NewMessage,
    /// The status's original HTML (`content`), unsanitised.
    pub html: String,
    /// The status's visibility: a reply to a `direct` status must stay `direct`
    /// (see [`super::outbound::reply_visibility`]).
    pub visibility: Visibility,
    /// The ActivityPub id, the same on every instance.
    pub uri: String,
    /// The full handles (`user@domain`) of the accounts it mentions, in order.
    pub mentions: Vec<String>,
    /// When it was last edited, if ever (a `status.update` event or an `update`
    /// notification carries the edited text under the same `platform_id`).
    pub edited_at: Option<DateTime<Utc>>,
}

/// Converts a status seen through the instance `instance_host` (its domain, e.g.
/// `mastodon.social`; a URL like `https://mastodon.social/` is accepted too).
/// `org_acct` is the organisation's account (`shop`, `@shop` or `shop@mastodon.social`):
/// statuses it wrote are [`Direction::Outbound`].
///
/// Returns `None` for a boost: the boosted status is [`Status::reblog`], convert that if
/// it is wanted.
pub fn status_to_message(
    status: &Status,
    instance_host: &str,
    org_acct: &str,
) -> Option<ConvertedStatus> {
    if status.reblog.is_some() {
        return None;
    }
    let host = normalize_host(instance_host);
    let author = qualify_acct(&status.account.acct, &host);
    let org = qualify_acct(org_acct, &host);
    let direction = if author.eq_ignore_ascii_case(&org) {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let display_name = status.account.display_name.trim();
    let message = NewMessage {
        platform: PLATFORM.to_string(),
        platform_id: status.id.clone(),
        author,
        author_name: (!display_name.is_empty()).then(|| display_name.to_string()),
        followers: status
            .account
            .followers_count
            .and_then(|n| u64::try_from(n).ok()),
        text: status_text(status),
        created_at: status.created_at,
        in_reply_to: status.in_reply_to_id.clone(),
        reshares: status.reblogs_count,
        replies: status.replies_count,
        direction,
        automated: status.account.bot,
        url: status
            .url
            .clone()
            .or_else(|| (!status.uri.is_empty()).then(|| status.uri.clone())),
    };
    Some(ConvertedStatus {
        message,
        html: status.content.clone(),
        visibility: status.visibility.clone(),
        uri: status.uri.clone(),
        mentions: status
            .mentions
            .iter()
            .map(|m| qualify_acct(&m.acct, &host))
            .collect(),
        edited_at: status.edited_at,
    })
}

/// Converts a notification that carries a conversation: `mention` (replies to the
/// organisation's posts are mentions too), `status` (a post by an account it asked to
/// be notified about), `update` (an edited status, same `platform_id`) and `quote`.
/// `None` for `follow`, `follow_request`, `favourite`, `reblog`, `poll`, unknown types,
/// and notifications without a status (or whose status is a boost).
pub fn notification_to_message(
    n: &Notification,
    instance_host: &str,
    org_acct: &str,
) -> Option<ConvertedStatus> {
    match n.kind {
        NotificationType::Mention
        | NotificationType::Status
        | NotificationType::Update
        | NotificationType::Quote => status_to_message(n.status.as_ref()?, instance_host, org_acct),
        _ => None,
    }
}

/// Whether `status` mentions `acct` (any form: `shop`, `@shop`, `shop@host`), compared
/// as full handles, case-insensitively. For statuses from a user or hashtag stream,
/// where only some concern the organisation.
pub fn mentions_account(status: &Status, instance_host: &str, acct: &str) -> bool {
    let host = normalize_host(instance_host);
    let wanted = qualify_acct(acct, &host);
    status
        .mentions
        .iter()
        .any(|m| qualify_acct(&m.acct, &host).eq_ignore_ascii_case(&wanted))
}

/// The domain part of an instance address: `https://Mastodon.Social/` →
/// `mastodon.social` (scheme, path and a trailing dot removed, lowercase; a port stays).
///
/// Pass the domain that appears in the instance's handles. On the few instances whose
/// handles use another domain than their web address (`LOCAL_DOMAIN` ≠ `WEB_DOMAIN`),
/// take it from `GET /api/v2/instance` (`domain`).
pub fn normalize_host(instance: &str) -> String {
    let s = instance.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split(['/', '?', '#']).next().unwrap_or_default();
    let s = s.rsplit_once('@').map_or(s, |(_, host)| host);
    s.trim_end_matches('.').to_ascii_lowercase()
}

/// The full handle `user@domain` of an `acct` seen through `instance_host`: a bare
/// `user` (an account of that instance) gets the instance's domain; a leading `@` is
/// dropped; the domain is lowercased, the username kept as written.
pub fn qualify_acct(acct: &str, instance_host: &str) -> String {
    let acct = acct.trim().trim_start_matches('@');
    match acct.split_once('@') {
        Some((user, domain)) => format!("{user}@{}", normalize_host(domain)),
        None => format!("{acct}@{}", normalize_host(instance_host)),
    }
}

/// The plain text of a status: `CW: <spoiler>` on its own first line when there is a
/// content warning, the content as text, then one line per attachment
/// (`[image: its alt text]`).
fn status_text(status: &Status) -> String {
    let mut text = String::new();
    let cw = status.spoiler_text.trim();
    if !cw.is_empty() {
        text.push_str("CW: ");
        text.push_str(cw);
        text.push('\n');
    }
    text.push_str(&html_to_text(&status.content));
    for media in &status.media_attachments {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let kind = if media.kind.is_empty() {
            "attachment"
        } else {
            &media.kind
        };
        match media.description.as_deref().map(str::trim) {
            Some(alt) if !alt.is_empty() => text.push_str(&format!("[{kind}: {alt}]")),
            _ => text.push_str(&format!("[{kind}]")),
        }
    }
    text.trim_end().to_string()
}

pub use crate::html::to_text as html_to_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_accts_are_normalised() {
        assert_eq!(
            normalize_host("https://Mastodon.Social/"),
            "mastodon.social"
        );
        assert_eq!(normalize_host("localhost:3000"), "localhost:3000");
        assert_eq!(qualify_acct("@Ann", "example.social"), "Ann@example.social");
        assert_eq!(qualify_acct("ann@Other.Example", "x"), "ann@other.example");
    }
}
