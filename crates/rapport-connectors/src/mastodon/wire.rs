//! The JSON shapes of the Mastodon API, as the server sends and receives them.
//!
//! Only the fields rapport uses are declared; every other field is ignored, so newer
//! servers (and Pleroma, Akkoma, GoToSocial, which speak the same API) parse too. Fields
//! some servers omit or send as `null` fall back to their default (empty text, `false`,
//! zero) instead of failing. Ids are strings in the API (they do not fit a JavaScript
//! number); a server that sends a number is tolerated.
//!
//! Types that servers add over time (notification types, visibilities) parse into an
//! `Other(String)` variant, never into an error.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::MastodonError;

/// An account (`Account` entity): the author of a status or of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's id on the instance that serves the API (instance-local).
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// The username, without any domain (`ann`).
    pub username: String,
    /// `ann` for an account of the serving instance, `ann@other.example` for a remote
    /// one; see [`super::convert::qualify_acct`] for the full form.
    pub acct: String,
    /// The display name; empty when the person set none.
    #[serde(default, deserialize_with = "or_default")]
    pub display_name: String,
    /// The profile page.
    #[serde(default)]
    pub url: Option<String>,
    /// The ActivityPub id of the account.
    #[serde(default)]
    pub uri: Option<String>,
    /// The account says it is automated.
    #[serde(default, deserialize_with = "or_default")]
    pub bot: bool,
    /// The account is a group.
    #[serde(default, deserialize_with = "or_default")]
    pub group: bool,
    /// The account approves its followers by hand.
    #[serde(default, deserialize_with = "or_default")]
    pub locked: bool,
    /// Followers, as the serving instance knows them (a remote account's count may lag
    /// behind; some servers send `-1` or omit it when the owner hides it).
    #[serde(default)]
    pub followers_count: Option<i64>,
    /// Accounts it follows.
    #[serde(default)]
    pub following_count: Option<i64>,
    /// Statuses it has posted.
    #[serde(default)]
    pub statuses_count: Option<i64>,
    /// The profile's bio, HTML.
    #[serde(default, deserialize_with = "or_default")]
    pub note: String,
}

/// Who a status may be seen by. Serialized as the lowercase API name; the default is
/// `public`, what the API assumes when a status does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Visibility {
    /// Everyone, in public timelines too.
    #[default]
    Public,
    /// Everyone, but kept out of public timelines.
    Unlisted,
    /// Followers only.
    Private,
    /// Only the mentioned accounts: a direct message.
    Direct,
    /// A visibility this code does not know (`limited`, `local`, ...), by its name.
    Other(String),
}

impl Visibility {
    /// The API name (`public`, `unlisted`, `private`, `direct`, or the unknown one).
    pub fn as_str(&self) -> &str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
            Visibility::Other(name) => name,
        }
    }
}

impl From<String> for Visibility {
    fn from(name: String) -> Self {
        match name.as_str() {
            "public" => Visibility::Public,
            "unlisted" => Visibility::Unlisted,
            "private" => Visibility::Private,
            "direct" => Visibility::Direct,
            _ => Visibility::Other(name),
        }
    }
}

impl From<Visibility> for String {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Other(name) => name,
            known => known.as_str().to_string(),
        }
    }
}

/// An account mentioned in a status (`Status.mentions[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// The mentioned account's id on the serving instance.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Its username, without domain.
    pub username: String,
    /// `user` (local to the serving instance) or `user@domain`.
    pub acct: String,
    /// Its profile page.
    #[serde(default)]
    pub url: Option<String>,
}

/// A hashtag used in a status (`Status.tags[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag, without `#`.
    pub name: String,
    /// The tag's page on the serving instance.
    #[serde(default)]
    pub url: Option<String>,
}

/// A file attached to a status (`Status.media_attachments[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaAttachment {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// `image`, `gifv`, `video`, `audio` or `unknown`.
    #[serde(rename = "type", default, deserialize_with = "or_default")]
    pub kind: String,
    /// Where the file is.
    #[serde(default)]
    pub url: Option<String>,
    /// The alt text the author wrote, if any.
    #[serde(default)]
    pub description: Option<String>,
}

/// A post (`Status` entity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The status's id on the serving instance: the id `in_reply_to_id`, the REST paths
    /// and the reply request use. Another instance gives the same post another id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// The ActivityPub id: the same on every instance.
    #[serde(default, deserialize_with = "or_default")]
    pub uri: String,
    /// The post's HTML page (on the author's instance), when there is one.
    #[serde(default)]
    pub url: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Who wrote it (for a reblog: who boosted it).
    pub account: Account,
    /// The text, as HTML.
    #[serde(default, deserialize_with = "or_default")]
    pub content: String,
    /// The content warning, plain text; empty when there is none.
    #[serde(default, deserialize_with = "or_default")]
    pub spoiler_text: String,
    /// Marked sensitive.
    #[serde(default, deserialize_with = "or_default")]
    pub sensitive: bool,
    /// Who may see it.
    #[serde(default, deserialize_with = "or_default")]
    pub visibility: Visibility,
    /// The id (on the serving instance) of the status it replies to.
    #[serde(default, deserialize_with = "opt_id")]
    pub in_reply_to_id: Option<String>,
    /// The id of the account it replies to.
    #[serde(default, deserialize_with = "opt_id")]
    pub in_reply_to_account_id: Option<String>,
    /// For a boost: the boosted status (and this one has no content of its own).
    #[serde(default)]
    pub reblog: Option<Box<Status>>,
    /// The accounts it mentions.
    #[serde(default, deserialize_with = "or_default")]
    pub mentions: Vec<Mention>,
    /// Its hashtags.
    #[serde(default, deserialize_with = "or_default")]
    pub tags: Vec<Tag>,
    /// Its attachments.
    #[serde(default, deserialize_with = "or_default")]
    pub media_attachments: Vec<MediaAttachment>,
    /// Replies seen by the serving instance.
    #[serde(default, deserialize_with = "or_default")]
    pub replies_count: u64,
    /// Boosts seen by the serving instance.
    #[serde(default, deserialize_with = "or_default")]
    pub reblogs_count: u64,
    /// Favourites seen by the serving instance.
    #[serde(default, deserialize_with = "or_default")]
    pub favourites_count: u64,
    /// ISO 639 language code, when known.
    #[serde(default)]
    pub language: Option<String>,
    /// When it was last edited, if ever.
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
}

/// What a notification is about (`Notification.type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum NotificationType {
    /// Someone mentioned the account (replies to its posts mention it too).
    Mention,
    /// Someone the account enabled notifications for posted.
    Status,
    /// Someone boosted one of its statuses.
    Reblog,
    /// Someone followed it.
    Follow,
    /// Someone asked to follow it.
    FollowRequest,
    /// Someone favourited one of its statuses.
    Favourite,
    /// A poll it voted in or created has ended.
    Poll,
    /// A status it interacted with was edited.
    Update,
    /// Someone quoted one of its statuses.
    Quote,
    /// A type this code does not know (`admin.sign_up`, `severed_relationships`, ...).
    Other(String),
}

impl NotificationType {
    /// The API name.
    pub fn as_str(&self) -> &str {
        match self {
            NotificationType::Mention => "mention",
            NotificationType::Status => "status",
            NotificationType::Reblog => "reblog",
            NotificationType::Follow => "follow",
            NotificationType::FollowRequest => "follow_request",
            NotificationType::Favourite => "favourite",
            NotificationType::Poll => "poll",
            NotificationType::Update => "update",
            NotificationType::Quote => "quote",
            NotificationType::Other(name) => name,
        }
    }
}

impl From<String> for NotificationType {
    fn from(name: String) -> Self {
        match name.as_str() {
            "mention" => NotificationType::Mention,
            "status" => NotificationType::Status,
            "reblog" => NotificationType::Reblog,
            "follow" => NotificationType::Follow,
            "follow_request" => NotificationType::FollowRequest,
            "favourite" => NotificationType::Favourite,
            "poll" => NotificationType::Poll,
            "update" => NotificationType::Update,
            "quote" => NotificationType::Quote,
            _ => NotificationType::Other(name),
        }
    }
}

impl From<NotificationType> for String {
    fn from(t: NotificationType) -> Self {
        match t {
            NotificationType::Other(name) => name,
            known => known.as_str().to_string(),
        }
    }
}

/// A notification (`Notification` entity, `GET /api/v1/notifications` and the
/// streaming `notification` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The notification's id: increasing over time, the polling cursor
    /// (see [`super::pagination`]).
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: NotificationType,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who did it (absent for a few administrative types on some servers).
    #[serde(default)]
    pub account: Option<Account>,
    /// The status concerned (mention, status, reblog, favourite, poll, update, quote).
    #[serde(default)]
    pub status: Option<Status>,
}

/// The body of `POST /api/v1/statuses` (sent as JSON, or as a form with
/// [`StatusRequest::to_form`]). Absent fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    /// The text (plain; the server links URLs, mentions and hashtags).
    pub status: String,
    /// The id, on the instance the request goes to, of the status this replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to_id: Option<String>,
    /// Who may see it; the account's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// A content warning shown before the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoiler_text: Option<String>,
    /// ISO 639 language code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl StatusRequest {
    /// The request as `application/x-www-form-urlencoded` (what most clients send):
    /// `status=Hello%21&in_reply_to_id=123&visibility=public`.
    pub fn to_form(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("status", &self.status)];
        if let Some(id) = &self.in_reply_to_id {
            pairs.push(("in_reply_to_id", id));
        }
        if let Some(v) = &self.visibility {
            pairs.push(("visibility", v.as_str()));
        }
        if let Some(s) = &self.spoiler_text {
            pairs.push(("spoiler_text", s));
        }
        if let Some(l) = &self.language {
            pairs.push(("language", l));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes for a form body: unreserved bytes stay, space becomes `+`.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The body of an API error (4xx/5xx): `{"error": "Record not found"}`, with an
/// `error_description` on OAuth errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The server's message.
    pub error: String,
    /// More detail, on OAuth errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Reads a status (`POST /api/v1/statuses`, `GET /api/v1/statuses/:id`).
pub fn parse_status(body: &str) -> Result<Status, MastodonError> {
    serde_json::from_str(body).map_err(|source| MastodonError::Json {
        what: "status".into(),
        source,
    })
}

/// Reads a page of `GET /api/v1/notifications`: an error when the body is not a JSON
/// array, otherwise one result per element, so that one notification of an unexpected
/// shape is reported (with its id when it has one) while the others still land.
pub fn parse_notifications(
    body: &str,
) -> Result<Vec<Result<Notification, MastodonError>>, MastodonError> {
    let items: Vec<serde_json::Value> =
        serde_json::from_str(body).map_err(|source| MastodonError::Json {
            what: "notifications page".into(),
            source,
        })?;
    Ok(items
        .into_iter()
        .map(|item| {
            let what = match item.get("id") {
                Some(serde_json::Value::String(id)) => format!("notification {id}"),
                Some(serde_json::Value::Number(id)) => format!("notification {id}"),
                _ => "notification".to_string(),
            };
            serde_json::from_value(item).map_err(|source| MastodonError::Json { what, source })
        })
        .collect())
}

/// Reads an error body; `None` when the body is not one (an HTML error page from a
/// proxy, for instance), in which case report the HTTP status alone.
pub fn parse_api_error(body: &str) -> Option<ApiError> {
    serde_json::from_str(body).ok()
}

/// `null` or absent → the type's default.
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An id sent as a string (the API) or, by some servers, as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Text(String),
    Number(u64),
}

impl From<RawId> for String {
    fn from(raw: RawId) -> Self {
        match raw {
            RawId::Text(s) => s,
            RawId::Number(n) => n.to_string(),
        }
    }
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    RawId::deserialize(d).map(String::from)
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<RawId>::deserialize(d)?
        .map(String::from)
        .filter(|s| !s.is_empty()))
}
