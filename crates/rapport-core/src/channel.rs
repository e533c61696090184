//! `[[channel]]`: where rapport listens and answers. Each channel names a platform
//! account, what to listen for, and the endpoints it talks to (all configurable, so tests
//! and self-hosted servers work the same way). Secrets never live in the file: a channel
//! names the environment variable or the 0600 file that holds them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The platforms a channel can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Bluesky: Jetstream for listening, XRPC for notifications and replies.
    Bluesky,
    /// Mastodon: REST notifications and streaming, statuses for replies.
    Mastodon,
    /// An RSS or Atom feed, e.g. a blog's comment feed.
    Rss,
    /// Signed JSON posted to `/api/v1/ingest/{channel}`.
    Webhook,
}

/// The public Jetstream instance used when a Bluesky channel names none.
pub const DEFAULT_JETSTREAM_URL: &str = "wss://jetstream2.us-east.bsky.network/subscribe";
/// The PDS entryway used when a Bluesky channel names no `service`.
pub const DEFAULT_BLUESKY_SERVICE: &str = "https://bsky.social";
/// The public AppView (profiles, handles; no login needed) used when a Bluesky channel
/// names no `appview`.
pub const DEFAULT_BLUESKY_APPVIEW: &str = "https://public.api.bsky.app";
/// Seconds one HTTP request may take before it is retried, unless a channel says.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

/// One `[[channel]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// The channel's name: in cursors, logs, `--channel` and the webhook URL.
    pub name: String,
    /// The platform.
    pub kind: ChannelKind,
    /// The organisation's account there: a Bluesky handle, a Mastodon `user@instance`.
    #[serde(default)]
    pub account: Option<String>,
    /// What to listen for. Bluesky: `mentions`, `replies`, `topics`, `all`; Mastodon:
    /// `mentions`, `hashtags`. Default: mentions and replies.
    #[serde(default)]
    pub listen: Vec<String>,
    /// Words and phrases that make a post worth keeping (`listen = ["topics"]`).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Hashtags to follow on Mastodon (without `#`).
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Bluesky: the Jetstream websocket URL.
    #[serde(default)]
    pub jetstream_url: Option<String>,
    /// Bluesky: the PDS base URL (login, notifications, posting).
    #[serde(default)]
    pub service: Option<String>,
    /// Bluesky: the AppView base URL (profiles and handles, read without login).
    #[serde(default)]
    pub appview: Option<String>,
    /// Mastodon: the instance base URL, e.g. `https://mastodon.social`.
    #[serde(default)]
    pub instance: Option<String>,
    /// RSS: the feed URL.
    #[serde(default)]
    pub feed_url: Option<String>,
    /// How often to poll (RSS, Mastodon REST, Bluesky notifications), in seconds.
    #[serde(default)]
    pub poll_seconds: Option<u64>,
    /// Seconds one HTTP request may take before it is given up and retried (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
    /// The environment variable holding the credential (app password, access token,
    /// webhook secret).
    #[serde(default)]
    pub credentials_env: Option<String>,
    /// A file holding the credential; it must not be readable by group or others (0600).
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
}

/// A channel that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Two channels share a name.
    #[error("channel {0:?} is defined twice: give each [[channel]] its own name")]
    Duplicate(String),
    /// A key the platform needs is missing.
    #[error("channel {channel:?} ({kind}) needs `{key}`: {hint}")]
    Missing {
        /// The channel.
        channel: String,
        /// Its platform.
        kind: &'static str,
        /// The missing key.
        key: &'static str,
        /// What to write.
        hint: &'static str,
    },
    /// A `listen` value the platform does not know.
    #[error("channel {channel:?}: listen = {value:?} is not one of {allowed}")]
    Listen {
        /// The channel.
        channel: String,
        /// The value.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A name that cannot be used in a URL path.
    #[error("channel name {0:?} may use only letters, digits, '-', '_' and '.'")]
    BadName(String),
}

impl ChannelKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Bluesky => "bluesky",
            ChannelKind::Mastodon => "mastodon",
            ChannelKind::Rss => "rss",
            ChannelKind::Webhook => "webhook",
        }
    }

    fn listen_values(self) -> &'static [&'static str] {
        match self {
            ChannelKind::Bluesky => &["mentions", "replies", "topics", "all"],
            ChannelKind::Mastodon => &["mentions", "hashtags"],
            ChannelKind::Rss | ChannelKind::Webhook => &[],
        }
    }
}

impl ChannelConfig {
    /// The Jetstream URL, or the public default.
    pub fn jetstream_url(&self) -> &str {
        self.jetstream_url
            .as_deref()
            .unwrap_or(DEFAULT_JETSTREAM_URL)
    }

    /// The Bluesky service URL, or the default entryway.
    pub fn service(&self) -> &str {
        self.service.as_deref().unwrap_or(DEFAULT_BLUESKY_SERVICE)
    }

    /// The Bluesky AppView URL, or the public one.
    pub fn appview(&self) -> &str {
        self.appview.as_deref().unwrap_or(DEFAULT_BLUESKY_APPVIEW)
    }

    /// How long one HTTP request may take.
    pub fn timeout(&self) -> std::time::Duration {
        let secs = self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        std::time::Duration::from_secs_f64(if secs.is_finite() && secs > 0.0 {
            secs
        } else {
            DEFAULT_TIMEOUT_SECONDS
        })
    }

    /// How often to poll, with the platform's default (Bluesky notifications 30 s,
    /// Mastodon 60 s, feeds 300 s).
    pub fn poll_interval(&self) -> std::time::Duration {
        let default = match self.kind {
            ChannelKind::Bluesky => 30,
            ChannelKind::Mastodon => 60,
            ChannelKind::Rss | ChannelKind::Webhook => 300,
        };
        std::time::Duration::from_secs(self.poll_seconds.unwrap_or(default).max(1))
    }

    /// What to listen for, with the default filled in.
    pub fn listen(&self) -> Vec<&str> {
        if self.listen.is_empty() {
            match self.kind {
                ChannelKind::Bluesky => vec!["mentions", "replies"],
                ChannelKind::Mastodon => vec!["mentions"],
                ChannelKind::Rss | ChannelKind::Webhook => Vec::new(),
            }
        } else {
            self.listen.iter().map(String::as_str).collect()
        }
    }

    /// Checks the keys this channel's platform needs.
    pub fn validate(&self) -> Result<(), ChannelError> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ChannelError::BadName(self.name.clone()));
        }
        let missing = |key, hint| ChannelError::Missing {
            channel: self.name.clone(),
            kind: self.kind.as_str(),
            key,
            hint,
        };
        let has_secret = self.credentials_env.is_some() || self.credentials_file.is_some();
        match self.kind {
            ChannelKind::Bluesky => {
                if self.account.is_none() {
                    return Err(missing(
                        "account",
                        "the organisation's handle, e.g. account = \"example.bsky.social\"",
                    ));
                }
            }
            ChannelKind::Mastodon => {
                if self.instance.is_none() {
                    return Err(missing(
                        "instance",
                        "the instance URL, e.g. instance = \"https://mastodon.social\"",
                    ));
                }
                if self.account.is_none() {
                    return Err(missing(
                        "account",
                        "the organisation's account, e.g. account = \"example@mastodon.social\"",
                    ));
                }
                if !has_secret {
                    return Err(missing(
                        "credentials_env",
                        "the environment variable holding an access token with read and write:statuses scopes",
                    ));
                }
            }
            ChannelKind::Rss => {
                if self.feed_url.is_none() {
                    return Err(missing(
                        "feed_url",
                        "the feed's URL, e.g. feed_url = \"https://blog.example/comments/feed/\"",
                    ));
                }
            }
            ChannelKind::Webhook => {
                if !has_secret {
                    return Err(missing(
                        "credentials_env",
                        "the environment variable holding the shared HMAC secret (see docs/webhook.md)",
                    ));
                }
            }
        }
        let allowed = self.kind.listen_values();
        for value in &self.listen {
            if !allowed.contains(&value.as_str()) {
                return Err(ChannelError::Listen {
                    channel: self.name.clone(),
                    value: value.clone(),
                    allowed: match self.kind {
                        ChannelKind::Bluesky => "mentions, replies, topics, all",
                        ChannelKind::Mastodon => "mentions, hashtags",
                        ChannelKind::Rss | ChannelKind::Webhook => "nothing (leave listen out)",
                    },
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(json: &str) -> ChannelConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_platform_names_what_it_needs() {
        let err =
            channel(r#"{"name": "masto", "kind": "mastodon", "account": "lumen@mastodon.social"}"#)
                .validate()
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "channel \"masto\" (mastodon) needs `instance`: the instance URL, e.g. instance = \"https://mastodon.social\""
        );
        let ok = channel(
            r#"{"name": "bsky", "kind": "bluesky", "account": "lumen.bsky.social", "listen": ["mentions", "topics"]}"#,
        );
        ok.validate().unwrap();
        assert_eq!(ok.jetstream_url(), DEFAULT_JETSTREAM_URL);
        assert_eq!(ok.listen(), ["mentions", "topics"]);
        let hook = channel(r#"{"name": "site form", "kind": "webhook", "credentials_env": "X"}"#);
        assert!(matches!(hook.validate(), Err(ChannelError::BadName(_))));
        let rss = channel(
            r#"{"name": "blog", "kind": "rss", "listen": ["all"], "feed_url": "https://b.example/feed"}"#,
        );
        assert!(matches!(rss.validate(), Err(ChannelError::Listen { .. })));
    }

    #[test]
    fn defaults_fill_in_listen_and_endpoints() {
        let c = channel(
            r#"{"name": "bsky", "kind": "bluesky", "account": "a.example", "service": "http://127.0.0.1:9"}"#,
        );
        assert_eq!(c.listen(), ["mentions", "replies"]);
        assert_eq!(c.service(), "http://127.0.0.1:9");
    }
}
