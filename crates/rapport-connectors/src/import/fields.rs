//! The message fields an import fills, the source names each is auto-detected from, and
//! the `--map field=column` overrides.

use std::fmt;
use std::str::FromStr;

use super::ImportError;

/// A field of [`rapport_core::NewMessage`] that an import reads from a column (CSV) or a
/// key (JSONL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The message text (required).
    Text,
    /// The author's handle (required); a leading `@` is stripped.
    Author,
    /// The platform's id for the message (required).
    PlatformId,
    /// When the message was written (required).
    CreatedAt,
    /// The author's follower count.
    Followers,
    /// The platform id of the message this one replies to.
    InReplyTo,
    /// Reshare (retweet, repost, boost) count.
    Reshares,
    /// Reply count.
    Replies,
    /// `inbound` / `outbound`.
    Direction,
    /// A boolean column: true means inbound, false outbound (used when there is no
    /// `direction`).
    Inbound,
    /// The author's display name.
    AuthorName,
    /// A link to the message.
    Url,
    /// The platform name (falls back to `--platform`, then `import`).
    Platform,
    /// Whether a bot or auto-reply sent it.
    Automated,
}

impl Field {
    /// Every field, in the order auto-detection assigns columns.
    pub const ALL: [Field; 14] = [
        Field::Text,
        Field::Author,
        Field::PlatformId,
        Field::CreatedAt,
        Field::Followers,
        Field::InReplyTo,
        Field::Reshares,
        Field::Replies,
        Field::Direction,
        Field::Inbound,
        Field::AuthorName,
        Field::Url,
        Field::Platform,
        Field::Automated,
    ];

    /// The name used in `--map` and in messages (`text`, `platform_id`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Field::Text => "text",
            Field::Author => "author",
            Field::PlatformId => "platform_id",
            Field::CreatedAt => "created_at",
            Field::Followers => "followers",
            Field::InReplyTo => "in_reply_to",
            Field::Reshares => "reshares",
            Field::Replies => "replies",
            Field::Direction => "direction",
            Field::Inbound => "inbound",
            Field::AuthorName => "author_name",
            Field::Url => "url",
            Field::Platform => "platform",
            Field::Automated => "automated",
        }
    }

    /// Whether every row must supply it.
    pub fn is_required(self) -> bool {
        matches!(
            self,
            Field::Text | Field::Author | Field::PlatformId | Field::CreatedAt
        )
    }

    /// The column / key names it is auto-detected from, most preferred first. Header
    /// names are compared after [`normalize_name`] (lowercase, spaces and `-` as `_`), so
    /// `Message ID` matches `message_id`. Dotted names (`user.screen_name`) are nested
    /// keys in JSONL and literal column names in CSV (as `pandas.json_normalize` writes).
    pub fn candidates(self) -> &'static [&'static str] {
        match self {
            Field::Text => &[
                "extended_tweet.full_text",
                "full_text",
                "text",
                "body",
                "content",
                "message",
                "tweet_text",
                "post",
            ],
            Field::Author => &[
                "author",
                "username",
                "screen_name",
                "user_screen_name",
                "user.screen_name",
                "account.acct",
                "handle",
                "user",
                "author_id",
                "from",
            ],
            Field::PlatformId => &[
                "platform_id",
                "id_str",
                "id",
                "tweet_id",
                "message_id",
                "post_id",
                "status_id",
                "uri",
            ],
            Field::CreatedAt => &[
                "created_at",
                "date",
                "timestamp",
                "time",
                "published",
                "posted_at",
                "created",
                "timestamp_ms",
            ],
            Field::Followers => &[
                "followers",
                "followers_count",
                "user_followers_count",
                "user.followers_count",
                "account.followers_count",
                "author_followers",
            ],
            Field::InReplyTo => &[
                "in_reply_to",
                "in_reply_to_status_id_str",
                "in_reply_to_status_id",
                "in_response_to_tweet_id",
                "in_reply_to_id",
                "reply_to",
                "parent_id",
            ],
            Field::Reshares => &[
                "reshares",
                "retweets",
                "retweet_count",
                "reposts",
                "repost_count",
                "boosts",
                "reblogs_count",
                "shares",
            ],
            Field::Replies => &["replies", "reply_count", "replies_count", "comments"],
            Field::Direction => &["direction"],
            Field::Inbound => &["inbound"],
            Field::AuthorName => &[
                "author_name",
                "name",
                "display_name",
                "user_name",
                "user.name",
                "account.display_name",
            ],
            Field::Url => &["url", "link", "permalink"],
            Field::Platform => &["platform", "network", "source_platform"],
            Field::Automated => &["automated", "bot", "is_bot", "account.bot"],
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The known field names, comma-separated, for messages.
    pub(crate) fn known_list() -> String {
        Field::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = normalize_name(s);
        Field::ALL
            .into_iter()
            .find(|f| f.name() == wanted)
            .ok_or_else(|| ImportError::UnknownField {
                field: s.trim().to_string(),
                known: Field::known_list(),
            })
    }
}

/// Lowercases a column or key name, trims it and turns spaces and `-` into `_`, so that
/// `Message ID`, `message-id` and `message_id` compare equal.
pub fn normalize_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// `--map` overrides: which source column (CSV) or key (JSONL, dotted paths allowed) each
/// field is read from. Fields not named are auto-detected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap {
    entries: Vec<(Field, String)>,
}

impl FieldMap {
    /// An empty map: every field auto-detected.
    pub fn new() -> FieldMap {
        FieldMap::default()
    }

    /// Parses `field=column,field=column` (as given to `--map`). Spaces around names are
    /// ignored; a column name may itself contain `=`. An empty spec is an empty map.
    ///
    /// Errors: an entry without `=` or with an empty side, an unknown field name (the
    /// error lists the known ones), or a field named twice.
    pub fn parse(spec: &str) -> Result<FieldMap, ImportError> {
        let mut map = FieldMap::new();
        for part in spec.split(',') {
            if part.trim().is_empty() {
                continue;
            }
            let Some((field, column)) = part.split_once('=') else {
                return Err(ImportError::BadMapEntry {
                    entry: part.trim().to_string(),
                });
            };
            let (field, column) = (field.trim(), column.trim());
            if field.is_empty() || column.is_empty() {
                return Err(ImportError::BadMapEntry {
                    entry: part.trim().to_string(),
                });
            }
            let field: Field = field.parse()?;
            map.insert(field, column)?;
        }
        Ok(map)
    }

    /// Sets the source of `field`; an error if it already has one.
    pub fn insert(&mut self, field: Field, column: &str) -> Result<(), ImportError> {
        if self.get(field).is_some() {
            return Err(ImportError::DuplicateMapField {
                field: field.name(),
            });
        }
        self.entries.push((field, column.to_string()));
        Ok(())
    }

    /// The column / key `field` was mapped to, if any.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.entries
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| c.as_str())
    }

    /// The overrides, in the order given.
    pub fn entries(&self) -> impl Iterator<Item = (Field, &str)> {
        self.entries.iter().map(|(f, c)| (*f, c.as_str()))
    }

    /// Whether no field is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromStr for FieldMap {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldMap::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn candidates_never_overlap_and_are_normalized() {
        let mut seen = HashSet::new();
        for f in Field::ALL {
            assert_eq!(f.index(), Field::ALL.iter().position(|g| *g == f).unwrap());
            for c in f.candidates() {
                assert!(seen.insert(*c), "{c} is a candidate of two fields");
                assert_eq!(normalize_name(c), *c);
            }
        }
    }

    #[test]
    fn parse_map() {
        let m = FieldMap::parse(" text = body , author=user_screen_name,url=a=b").unwrap();
        assert_eq!(m.get(Field::Text), Some("body"));
        assert_eq!(m.get(Field::Author), Some("user_screen_name"));
        assert_eq!(m.get(Field::Url), Some("a=b"));
        assert_eq!(m.get(Field::CreatedAt), None);
        assert!(FieldMap::parse("").unwrap().is_empty());
        assert_eq!(
            FieldMap::parse("Platform-ID=x")
                .unwrap()
                .get(Field::PlatformId),
            Some("x")
        );
    }

    #[test]
    fn parse_map_errors() {
        let e = FieldMap::parse("txt=body").unwrap_err().to_string();
        assert!(e.contains("'txt'"), "{e}");
        assert!(e.contains("text, author, platform_id, created_at"), "{e}");
        let e = FieldMap::parse("text").unwrap_err().to_string();
        assert!(e.contains("FIELD=COLUMN"), "{e}");
        assert!(FieldMap::parse("text=").is_err());
        let e = FieldMap::parse("text=a,text=b").unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }
}
