//! Domain types shared by every crate: messages, conversations, intents, bands.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which way a message travelled: from the public to the organisation, or back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Someone wrote to or about the organisation.
    Inbound,
    /// The organisation (one of its accounts or agents) wrote it.
    Outbound,
}

impl Direction {
    /// The lowercase name used in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

impl FromStr for Direction {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "inbound" | "in" => Ok(Direction::Inbound),
            "outbound" | "out" => Ok(Direction::Outbound),
            _ => Err(ParseEnumError::new("direction", s, "inbound, outbound")),
        }
    }
}

/// A message as it arrives from a connector or an import, before triage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    /// Platform name, lowercase (`bluesky`, `mastodon`, `twitter`, `rss`, `webhook`, ...).
    pub platform: String,
    /// The platform's own id for the message; unique per platform.
    pub platform_id: String,
    /// The author's handle on that platform (without a leading `@`).
    pub author: String,
    /// The author's display name, when known.
    pub author_name: Option<String>,
    /// The author's follower count at the time, when known.
    pub followers: Option<u64>,
    /// Plain text of the message.
    pub text: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The platform id of the message it replies to, if any.
    pub in_reply_to: Option<String>,
    /// Reshares (reposts, boosts, retweets) seen so far.
    pub reshares: u64,
    /// Replies seen so far.
    pub replies: u64,
    /// Inbound (from the public) or outbound (the organisation's own).
    pub direction: Direction,
    /// Sent by a bot or an auto-acknowledgement: never stops an SLA clock.
    pub automated: bool,
    /// A link to the message on its platform, when known.
    pub url: Option<String>,
}

/// What a message is about, decided by explainable rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Something went wrong for the author.
    Complaint,
    /// The author asks something.
    Question,
    /// The author is pleased.
    Praise,
    /// A suggestion for the organisation.
    Idea,
    /// Purchase or sales interest.
    Lead,
    /// Unsolicited promotion or scams.
    Spam,
    /// None of the above.
    Other,
}

impl Intent {
    /// Every intent, in a stable order.
    pub const ALL: [Intent; 7] = [
        Intent::Complaint,
        Intent::Question,
        Intent::Praise,
        Intent::Idea,
        Intent::Lead,
        Intent::Spam,
        Intent::Other,
    ];

    /// The lowercase name used in storage, config and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Complaint => "complaint",
            Intent::Question => "question",
            Intent::Praise => "praise",
            Intent::Idea => "idea",
            Intent::Lead => "lead",
            Intent::Spam => "spam",
            Intent::Other => "other",
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Intent {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s_l = s.trim().to_ascii_lowercase();
        Intent::ALL
            .into_iter()
            .find(|i| i.as_str() == s_l)
            .ok_or_else(|| {
                ParseEnumError::new(
                    "intent",
                    s,
                    "complaint, question, praise, idea, lead, spam, other",
                )
            })
    }
}

/// Priority band, P1 (most urgent) to P4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Band {
    /// Most urgent.
    P1,
    /// Urgent.
    P2,
    /// Normal.
    P3,
    /// Low.
    P4,
}

impl Band {
    /// Every band, most urgent first.
    pub const ALL: [Band; 4] = [Band::P1, Band::P2, Band::P3, Band::P4];

    /// `P1` .. `P4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::P1 => "P1",
            Band::P2 => "P2",
            Band::P3 => "P3",
            Band::P4 => "P4",
        }
    }

    /// 1 for P1 .. 4 for P4.
    pub fn rank(self) -> u8 {
        match self {
            Band::P1 => 1,
            Band::P2 => 2,
            Band::P3 => 3,
            Band::P4 => 4,
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Band {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P1" | "1" => Ok(Band::P1),
            "P2" | "2" => Ok(Band::P2),
            "P3" | "3" => Ok(Band::P3),
            "P4" | "4" => Ok(Band::P4),
            _ => Err(ParseEnumError::new("priority", s, "P1, P2, P3, P4")),
        }
    }
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the organisation.
    Open,
    /// Waiting for the other person.
    Pending,
    /// Put aside until a time.
    Snoozed,
    /// Done.
    Resolved,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Pending,
        Status::Snoozed,
        Status::Resolved,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s_l = s.trim().to_ascii_lowercase();
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s_l)
            .ok_or_else(|| ParseEnumError::new("status", s, "open, pending, snoozed, resolved"))
    }
}

/// VADER's sentiment band thresholds: positive at compound ≥ 0.05, negative at ≤ −0.05.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentBand {
    /// compound ≥ 0.05
    Positive,
    /// in between
    Neutral,
    /// compound ≤ −0.05
    Negative,
}

impl SentimentBand {
    /// The band for a compound score.
    pub fn of(compound: f64) -> Self {
        if compound >= 0.05 {
            SentimentBand::Positive
        } else if compound <= -0.05 {
            SentimentBand::Negative
        } else {
            SentimentBand::Neutral
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentBand::Positive => "positive",
            SentimentBand::Neutral => "neutral",
            SentimentBand::Negative => "negative",
        }
    }
}

/// A value that did not name one of the allowed choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}: use one of {allowed}")]
pub struct ParseEnumError {
    what: &'static str,
    value: String,
    allowed: &'static str,
}

impl ParseEnumError {
    pub(crate) fn new(what: &'static str, value: &str, allowed: &'static str) -> Self {
        Self {
            what,
            value: value.to_string(),
            allowed,
        }
    }
}

/// VADER's four scores for a text.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Scores {
    /// Normalised sum of valences, in [−1, 1].
    pub compound: f64,
    /// Share of positive sentiment, in [0, 1].
    pub pos: f64,
    /// Share of neutral words, in [0, 1].
    pub neu: f64,
    /// Share of negative sentiment, in [0, 1].
    pub neg: f64,
}

impl Scores {
    /// The band of the compound score.
    pub fn band(&self) -> SentimentBand {
        SentimentBand::of(self.compound)
    }
}
