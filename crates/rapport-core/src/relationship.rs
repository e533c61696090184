//! Relationships: the reciprocity ledger, relationship strength, Return on Relationship
//! (ROR), at-risk relationships and suggested merges of identities into one person.
//!
//! The definitions are PRODUCT.md's, with their weights in `[relationships]`:
//!
//! - **strength** (0–1) = `w_r·recency + w_f·frequency + w_c·reciprocity + w_s·sentiment`
//!   (defaults 0.3, 0.3, 0.2, 0.2), where recency = exp(−days since the last interaction
//!   / 30), frequency = 1 − exp(−interactions in the last 90 days / 5), reciprocity =
//!   min(ours, theirs) ÷ max(ours, theirs) (0 when either is 0) over the ledger's totals,
//!   and sentiment = (mean compound of their messages + 1) ÷ 2;
//! - **ROR** = the mean strength of the people active in the last 90 days;
//! - an **advocate** has strength ≥ 0.7 and a mean compound ≥ 0.3;
//! - a relationship is **at risk** when one of their conversations waits on us past its
//!   SLA, or their sentiment is falling.
//!
//! What counts as an interaction and as each entry of the ledger is decided by the
//! store's queries and written down in `docs/metrics.md`; here are the formulas, free of
//! I/O, so that every number can be explained term by term.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `[relationships]` section: the weights and windows of the definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelationshipConfig {
    /// Days that count as "recent" for frequency and for ROR's active people (90).
    pub window_days: u32,
    /// The recency term's time constant in days (30).
    pub recency_days: f64,
    /// The frequency term's scale: interactions at which it reaches 1 − 1/e (5).
    pub frequency_scale: f64,
    /// The weights of the four terms.
    pub weights: StrengthWeights,
    /// Least strength of an advocate (0.7).
    pub advocate_strength: f64,
    /// Least mean compound of an advocate (0.3).
    pub advocate_compound: f64,
    /// The recent window of the falling-sentiment check, in days (30); it is compared
    /// with the `window_days − falling_days` before it.
    pub falling_days: u32,
    /// How far the recent mean compound must sit below the earlier one (0.3).
    pub falling_drop: f64,
    /// Fewest messages in each of the two windows before a fall counts (2).
    pub falling_min_messages: u32,
}

impl Default for RelationshipConfig {
    fn default() -> Self {
        Self {
            window_days: 90,
            recency_days: 30.0,
            frequency_scale: 5.0,
            weights: StrengthWeights::default(),
            advocate_strength: 0.7,
            advocate_compound: 0.3,
            falling_days: 30,
            falling_drop: 0.3,
            falling_min_messages: 2,
        }
    }
}

/// The weights of relationship strength's terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrengthWeights {
    /// Recency (0.3).
    pub recency: f64,
    /// Frequency (0.3).
    pub frequency: f64,
    /// Reciprocity (0.2).
    pub reciprocity: f64,
    /// Sentiment (0.2).
    pub sentiment: f64,
}

impl Default for StrengthWeights {
    fn default() -> Self {
        Self {
            recency: 0.3,
            frequency: 0.3,
            reciprocity: 0.2,
            sentiment: 0.2,
        }
    }
}

/// A `[relationships]` section that cannot work.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RelationshipConfigError {
    /// A weight is negative or the weights do not add up to 1.
    #[error(
        "[relationships.weights] must be non-negative and add up to 1 (they add up to {0}): fix the weights"
    )]
    Weights(f64),
    /// A window or scale is not positive.
    #[error("[relationships] {0} must be greater than 0")]
    NotPositive(&'static str),
    /// The falling-sentiment window does not fit in the window.
    #[error(
        "[relationships] falling_days ({falling}) must be shorter than window_days ({window}): the earlier window is what is left"
    )]
    FallingWindow {
        /// `falling_days`.
        falling: u32,
        /// `window_days`.
        window: u32,
    },
}

impl RelationshipConfig {
    /// Checks the section.
    pub fn validate(&self) -> Result<(), RelationshipConfigError> {
        let w = self.weights;
        let sum = w.recency + w.frequency + w.reciprocity + w.sentiment;
        if [w.recency, w.frequency, w.reciprocity, w.sentiment]
            .iter()
            .any(|x| *x < 0.0 || !x.is_finite())
            || (sum - 1.0).abs() > 1e-6
        {
            return Err(RelationshipConfigError::Weights(sum));
        }
        if self.window_days == 0 {
            return Err(RelationshipConfigError::NotPositive("window_days"));
        }
        if self.recency_days.is_nan() || self.recency_days <= 0.0 {
            return Err(RelationshipConfigError::NotPositive("recency_days"));
        }
        if self.frequency_scale.is_nan() || self.frequency_scale <= 0.0 {
            return Err(RelationshipConfigError::NotPositive("frequency_scale"));
        }
        if self.falling_days == 0 {
            return Err(RelationshipConfigError::NotPositive("falling_days"));
        }
        if self.falling_days >= self.window_days {
            return Err(RelationshipConfigError::FallingWindow {
                falling: self.falling_days,
                window: self.window_days,
            });
        }
        Ok(())
    }
}

/// What we gave a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ours {
    /// Our replies to their messages (automated acknowledgements left out).
    pub replies: u64,
    /// Their complaints and questions we resolved.
    pub resolved: u64,
    /// Our replies that thank them.
    pub thanks: u64,
    /// Our reshares of their posts.
    pub shares: u64,
}

/// What a person gave us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theirs {
    /// Their messages to us that are neither praise nor an idea (spam left out).
    pub mentions: u64,
    /// Their praise.
    pub praise: u64,
    /// Their ideas.
    pub ideas: u64,
    /// Their messages that recommend us to others.
    pub referrals: u64,
}

/// The reciprocity ledger: what we gave a person beside what they gave us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// What we gave.
    pub ours: Ours,
    /// What they gave.
    pub theirs: Theirs,
}

impl Ledger {
    /// Everything we gave.
    pub fn ours_total(&self) -> u64 {
        let o = self.ours;
        o.replies + o.resolved + o.thanks + o.shares
    }

    /// Everything they gave.
    pub fn theirs_total(&self) -> u64 {
        let t = self.theirs;
        t.mentions + t.praise + t.ideas + t.referrals
    }

    /// min(ours, theirs) ÷ max(ours, theirs); 0 when either side gave nothing.
    pub fn reciprocity(&self) -> f64 {
        let (a, b) = (self.ours_total(), self.theirs_total());
        if a == 0 || b == 0 {
            0.0
        } else {
            a.min(b) as f64 / a.max(b) as f64
        }
    }
}

/// Whether our reply thanks the person: it says "thank", "thx", "appreciate" or
/// "grateful" (ASCII letters compared case-insensitively, so the store's SQL can count
/// the same with `LOWER(text) LIKE`).
pub fn thanks(text: &str) -> bool {
    contains_cue(text, THANKS_CUES)
}

/// Whether their message recommends us to others: a positive message (compound ≥ 0.05)
/// that says "recommend", "check out", "you should try", "go with" or "switch to".
pub fn referral(text: &str, compound: f64) -> bool {
    compound >= 0.05 && contains_cue(text, REFERRAL_CUES)
}

/// The cues of [`thanks`].
pub const THANKS_CUES: &[&str] = &["thank", "thx", "appreciate", "grateful"];
/// The cues of [`referral`].
pub const REFERRAL_CUES: &[&str] = &[
    "recommend",
    "check out",
    "you should try",
    "go with",
    "switch to",
];

fn contains_cue(text: &str, cues: &[&str]) -> bool {
    let lower = text.to_ascii_lowercase();
    cues.iter().any(|c| lower.contains(c))
}

/// What strength is computed from, for one person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonFacts {
    /// The ledger.
    pub ledger: Ledger,
    /// Their last interaction with us (a message of theirs or our reply to them).
    pub last_interaction: Option<DateTime<Utc>>,
    /// Interactions in the last `window_days`.
    pub recent_interactions: u64,
    /// The mean compound of their messages (spam left out); `None` when they wrote none.
    pub mean_compound: Option<f64>,
}

/// Relationship strength and its four terms, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Strength {
    /// The weighted sum.
    pub score: f64,
    /// exp(−days since the last interaction / recency_days); 0 without one.
    pub recency: f64,
    /// 1 − exp(−recent interactions / frequency_scale).
    pub frequency: f64,
    /// The ledger's reciprocity.
    pub reciprocity: f64,
    /// (mean compound + 1) ÷ 2; 0.5 (neutral) when they wrote nothing.
    pub sentiment: f64,
    /// Days since the last interaction, when there was one.
    pub days_since_last: Option<f64>,
}

/// A person's relationship strength at `now`.
pub fn strength(facts: &PersonFacts, now: DateTime<Utc>, cfg: &RelationshipConfig) -> Strength {
    let days_since_last = facts
        .last_interaction
        .map(|t| ((now - t).num_milliseconds() as f64 / 86_400_000.0).max(0.0));
    let recency = days_since_last.map_or(0.0, |d| (-d / cfg.recency_days).exp());
    let frequency = 1.0 - (-(facts.recent_interactions as f64) / cfg.frequency_scale).exp();
    let reciprocity = facts.ledger.reciprocity();
    let sentiment = (facts.mean_compound.unwrap_or(0.0).clamp(-1.0, 1.0) + 1.0) / 2.0;
    let w = cfg.weights;
    Strength {
        score: w.recency * recency
            + w.frequency * frequency
            + w.reciprocity * reciprocity
            + w.sentiment * sentiment,
        recency,
        frequency,
        reciprocity,
        sentiment,
        days_since_last,
    }
}

/// Whether a person is an advocate: strong and positive.
pub fn is_advocate(
    strength: &Strength,
    mean_compound: Option<f64>,
    cfg: &RelationshipConfig,
) -> bool {
    strength.score >= cfg.advocate_strength
        && mean_compound.is_some_and(|c| c >= cfg.advocate_compound)
}

/// The mean compound of a person's messages in two windows: the recent one and the one
/// before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentWindows {
    /// Messages in the recent window and their mean compound.
    pub recent: (u64, f64),
    /// Messages in the earlier window and their mean compound.
    pub earlier: (u64, f64),
}

/// Why a relationship is at risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum AtRisk {
    /// One of their conversations waits on us past its SLA.
    Unanswered {
        /// The conversation.
        conversation: i64,
        /// When our answer was due.
        due_at: DateTime<Utc>,
    },
    /// Their recent messages are much more negative than the ones before.
    FallingSentiment {
        /// Mean compound in the earlier window.
        earlier: f64,
        /// Mean compound in the recent window.
        recent: f64,
    },
}

impl AtRisk {
    /// The reason in words.
    pub fn describe(&self) -> String {
        match self {
            AtRisk::Unanswered {
                conversation,
                due_at,
            } => format!(
                "conversation {conversation} waits on us past its SLA (due {})",
                due_at.format("%Y-%m-%d %H:%M UTC")
            ),
            AtRisk::FallingSentiment { earlier, recent } => {
                format!(
                    "sentiment falling: mean compound {earlier:+.2} before, {recent:+.2} lately"
                )
            }
        }
    }
}

/// The falling-sentiment reason, when their sentiment fell by `falling_drop` or more
/// between the two windows, each holding at least `falling_min_messages` messages.
pub fn falling_sentiment(w: &SentimentWindows, cfg: &RelationshipConfig) -> Option<AtRisk> {
    let min = u64::from(cfg.falling_min_messages.max(1));
    (w.recent.0 >= min
        && w.earlier.0 >= min
        && w.earlier.1 - w.recent.1 >= cfg.falling_drop - 1e-12)
        .then_some(AtRisk::FallingSentiment {
            earlier: w.earlier.1,
            recent: w.recent.1,
        })
}

/// Return on Relationship over the active people's strengths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ror {
    /// The mean strength of the people active in the window; 0 when nobody was.
    pub ror: f64,
    /// People active in the window.
    pub active: u64,
    /// Advocates among them.
    pub advocates: u64,
    /// People whose relationship is at risk.
    pub at_risk: u64,
}

/// ROR from each active person's strength and whether they are an advocate, and the
/// number of people at risk.
pub fn ror(active: &[(Strength, bool)], at_risk: u64) -> Ror {
    let n = active.len() as u64;
    let sum: f64 = active.iter().map(|(s, _)| s.score).sum();
    Ror {
        ror: if n == 0 { 0.0 } else { sum / n as f64 },
        active: n,
        advocates: active.iter().filter(|(_, a)| *a).count() as u64,
        at_risk,
    }
}

// ---------------------------------------------------------------------------------------
// Suggested merges
// ---------------------------------------------------------------------------------------

/// One identity, as merge suggestions see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityFacts {
    /// Its person.
    pub person_id: i64,
    /// `bluesky`, `mastodon`, `rss`, `webhook`…
    pub platform: String,
    /// The handle on that platform (an email for a web form).
    pub handle: String,
    /// The display name, when known.
    pub name: Option<String>,
}

/// Two people who may be one, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeSuggestion {
    /// The person to keep (the lower id: the first seen).
    pub keep: i64,
    /// The person to merge into it.
    pub merge: i64,
    /// Why, in words, strongest first.
    pub reasons: Vec<String>,
    /// `high` (an email, or a handle that names the other) or `medium` (the same
    /// display name on two platforms, with the same name before the handle's domain).
    pub confidence: String,
}

/// A display name compared loosely: lowercase, letters and digits only, words joined by
/// one space. `None` unless it holds two words or at least 8 letters: a single short
/// first name ("Alex") is too common to say two accounts are one person.
pub fn normalise_name(name: &str) -> Option<String> {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let joined = words.join(" ");
    let letters = joined.chars().filter(|c| c.is_alphabetic()).count();
    (letters >= 4 && (words.len() >= 2 || letters >= 8)).then_some(joined)
}

/// The part of a handle before its domain: `henrik` for `henrik.bsky.social`,
/// `henrik@fosstodon.org` and `@henrik`.
pub fn handle_stem(handle: &str) -> String {
    let h = handle.trim_start_matches('@').to_lowercase();
    let h = h.split('@').next().unwrap_or("");
    h.split('.').next().unwrap_or("").to_string()
}

fn looks_like_email(handle: &str) -> bool {
    let h = handle.trim();
    match h.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !h.starts_with('@'),
        None => false,
    }
}

/// Suggested merges among these identities: pairs of different people on different
/// platforms that
/// - share an email (a web form's sender and an imported contact) — high;
/// - where one's display name or handle names the other's full handle (e.g. a Bluesky
///   name "Henrik (@henrik@fosstodon.org)") — high;
/// - share a display name and the name before their handles' domains — medium.
///
/// Pairs in `dismissed` (either order) are left out. Each pair is given once, the lower
/// person id kept, ordered by confidence then ids.
pub fn suggest_merges(
    identities: &[IdentityFacts],
    dismissed: &[(i64, i64)],
) -> Vec<MergeSuggestion> {
    use std::collections::BTreeMap;
    let mut found: BTreeMap<(i64, i64), (bool, Vec<String>)> = BTreeMap::new();
    let mut add = |a: &IdentityFacts, b: &IdentityFacts, high: bool, why: String| {
        if a.person_id == b.person_id {
            return;
        }
        let key = (a.person_id.min(b.person_id), a.person_id.max(b.person_id));
        if dismissed.iter().any(|&(x, y)| (x.min(y), x.max(y)) == key) {
            return;
        }
        let e = found.entry(key).or_insert((false, Vec::new()));
        e.0 |= high;
        if !e.1.contains(&why) {
            e.1.push(why);
        }
    };
    // Group by email, by normalised display name and by handle; compare within groups.
    let mut by_email: BTreeMap<String, Vec<&IdentityFacts>> = BTreeMap::new();
    let mut by_name: BTreeMap<String, Vec<&IdentityFacts>> = BTreeMap::new();
    let mut by_handle: BTreeMap<String, Vec<&IdentityFacts>> = BTreeMap::new();
    for i in identities {
        if looks_like_email(&i.handle)
            && matches!(i.platform.as_str(), "webhook" | "import" | "email" | "csv")
        {
            by_email
                .entry(i.handle.trim().to_lowercase())
                .or_default()
                .push(i);
        }
        if let Some(n) = i.name.as_deref().and_then(normalise_name) {
            by_name.entry(n).or_default().push(i);
        }
        by_handle
            .entry(i.handle.trim_start_matches('@').to_lowercase())
            .or_default()
            .push(i);
    }
    for group in by_email.values() {
        for (x, a) in group.iter().enumerate() {
            for b in &group[x + 1..] {
                add(
                    a,
                    b,
                    true,
                    format!("the same email {}", a.handle.trim().to_lowercase()),
                );
            }
        }
    }
    for group in by_name.values() {
        for (x, a) in group.iter().enumerate() {
            for b in &group[x + 1..] {
                if a.platform != b.platform && handle_stem(&a.handle) == handle_stem(&b.handle) {
                    add(
                        a,
                        b,
                        false,
                        format!(
                            "the same name {:?} as {} on {} and {} on {}",
                            a.name.as_deref().unwrap_or_default(),
                            a.handle,
                            a.platform,
                            b.handle,
                            b.platform
                        ),
                    );
                }
            }
        }
    }
    // A name or handle that contains another identity's whole handle (long enough not to
    // be a common word): look up every @-word of each name.
    for a in identities {
        let Some(name) = a.name.as_deref() else {
            continue;
        };
        for word in
            name.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '|' | '·'))
        {
            let w = word.trim_matches(|c: char| {
                !c.is_alphanumeric() && c != '@' && c != '.' && c != '_' && c != '-'
            });
            let w = w.trim_start_matches('@').to_lowercase();
            if w.len() < 5 || !(w.contains('.') || w.contains('@')) {
                continue;
            }
            if let Some(others) = by_handle.get(&w) {
                for b in others {
                    if b.platform != a.platform {
                        add(
                            a,
                            b,
                            true,
                            format!(
                                "{}'s name on {} names {} on {}",
                                a.handle, a.platform, b.handle, b.platform
                            ),
                        );
                    }
                }
            }
        }
    }
    let mut out: Vec<MergeSuggestion> = found
        .into_iter()
        .map(|((keep, merge), (high, reasons))| MergeSuggestion {
            keep,
            merge,
            reasons,
            confidence: if high { "high" } else { "medium" }.to_string(),
        })
        .collect();
    out.sort_by(|a, b| {
        (a.confidence != "high")
            .cmp(&(b.confidence != "high"))
            .then(a.keep.cmp(&b.keep))
            .then(a.merge.cmp(&b.merge))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ledger(ours: [u64; 4], theirs: [u64; 4]) -> Ledger {
        Ledger {
            ours: Ours {
                replies: ours[0],
                resolved: ours[1],
                thanks: ours[2],
                shares: ours[3],
            },
            theirs: Theirs {
                mentions: theirs[0],
                praise: theirs[1],
                ideas: theirs[2],
                referrals: theirs[3],
            },
        }
    }

    #[test]
    fn reciprocity_is_the_smaller_side_over_the_larger() {
        assert_eq!(ledger([2, 1, 1, 0], [3, 2, 1, 2]).reciprocity(), 0.5);
        assert_eq!(ledger([4, 0, 0, 0], [2, 0, 0, 0]).reciprocity(), 0.5);
        assert_eq!(ledger([0; 4], [5, 0, 0, 0]).reciprocity(), 0.0);
        assert_eq!(ledger([3, 0, 0, 0], [0; 4]).reciprocity(), 0.0);
        assert_eq!(ledger([0; 4], [0; 4]).reciprocity(), 0.0);
    }

    #[test]
    fn strength_follows_the_formula() {
        let cfg = RelationshipConfig::default();
        let facts = PersonFacts {
            ledger: ledger([2, 0, 0, 0], [4, 0, 0, 0]),
            last_interaction: Some(now() - Duration::days(30)),
            recent_interactions: 5,
            mean_compound: Some(0.5),
        };
        let s = strength(&facts, now(), &cfg);
        let e1 = (-1.0f64).exp();
        assert!((s.recency - e1).abs() < 1e-12);
        assert!((s.frequency - (1.0 - e1)).abs() < 1e-12);
        assert_eq!(s.reciprocity, 0.5);
        assert_eq!(s.sentiment, 0.75);
        let want = 0.3 * e1 + 0.3 * (1.0 - e1) + 0.2 * 0.5 + 0.2 * 0.75;
        assert!((s.score - want).abs() < 1e-12, "{} vs {want}", s.score);
        assert_eq!(s.days_since_last, Some(30.0));
    }

    #[test]
    fn a_stranger_has_only_neutral_sentiment() {
        let s = strength(
            &PersonFacts::default(),
            now(),
            &RelationshipConfig::default(),
        );
        assert_eq!(
            (s.recency, s.frequency, s.reciprocity, s.sentiment),
            (0.0, 0.0, 0.0, 0.5)
        );
        assert!((s.score - 0.1).abs() < 1e-12);
    }

    #[test]
    fn weights_come_from_configuration() {
        let mut cfg = RelationshipConfig {
            weights: StrengthWeights {
                recency: 0.0,
                frequency: 0.0,
                reciprocity: 0.0,
                sentiment: 1.0,
            },
            ..RelationshipConfig::default()
        };
        cfg.validate().unwrap();
        let facts = PersonFacts {
            mean_compound: Some(-1.0),
            ..PersonFacts::default()
        };
        assert_eq!(strength(&facts, now(), &cfg).score, 0.0);
        cfg.weights.recency = 0.5;
        assert_eq!(cfg.validate(), Err(RelationshipConfigError::Weights(1.5)));
        let cfg = RelationshipConfig {
            falling_days: 90,
            ..RelationshipConfig::default()
        };
        assert!(matches!(
            cfg.validate(),
            Err(RelationshipConfigError::FallingWindow { .. })
        ));
    }

    #[test]
    fn advocates_are_strong_and_positive() {
        let cfg = RelationshipConfig::default();
        let mut s = strength(&PersonFacts::default(), now(), &cfg);
        s.score = 0.7;
        assert!(is_advocate(&s, Some(0.3), &cfg));
        assert!(!is_advocate(&s, Some(0.29), &cfg));
        assert!(!is_advocate(&s, None, &cfg));
        s.score = 0.69;
        assert!(!is_advocate(&s, Some(0.9), &cfg));
    }

    #[test]
    fn falling_sentiment_needs_a_drop_and_enough_messages() {
        let cfg = RelationshipConfig::default();
        let w = SentimentWindows {
            recent: (2, -0.4),
            earlier: (3, 0.1),
        };
        assert!(matches!(
            falling_sentiment(&w, &cfg),
            Some(AtRisk::FallingSentiment { .. })
        ));
        let small = SentimentWindows {
            recent: (2, -0.1),
            earlier: (3, 0.1),
        };
        assert_eq!(falling_sentiment(&small, &cfg), None);
        let few = SentimentWindows {
            recent: (1, -0.9),
            earlier: (3, 0.5),
        };
        assert_eq!(falling_sentiment(&few, &cfg), None);
    }

    #[test]
    fn ror_is_the_mean_over_the_active() {
        let cfg = RelationshipConfig::default();
        let mut a = strength(&PersonFacts::default(), now(), &cfg);
        let mut b = a;
        a.score = 0.8;
        b.score = 0.4;
        let r = ror(&[(a, true), (b, false)], 3);
        assert!((r.ror - 0.6).abs() < 1e-12);
        assert_eq!((r.active, r.advocates, r.at_risk), (2, 1, 3));
        assert_eq!(ror(&[], 0).ror, 0.0);
    }

    #[test]
    fn cues_are_case_insensitive_words() {
        assert!(thanks("THANK you so much"));
        assert!(thanks("We appreciate the report"));
        assert!(!thanks("Fixed in 4.2.1"));
        assert!(referral("I'd recommend Lumen to anyone", 0.6));
        assert!(!referral("Can't recommend Lumen anymore", -0.4));
    }

    fn id(person: i64, platform: &str, handle: &str, name: Option<&str>) -> IdentityFacts {
        IdentityFacts {
            person_id: person,
            platform: platform.into(),
            handle: handle.into(),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn merges_are_suggested_for_reasons() {
        let ids = vec![
            id(1, "bluesky", "henrik.bsky.social", Some("Henrik Olsen")),
            id(2, "mastodon", "henrik@fosstodon.org", Some("Henrik Olsen")),
            id(3, "mastodon", "olsen@mastodon.social", Some("Henrik Olsen")),
            id(4, "webhook", "Ana@Example.com", None),
            id(5, "import", "ana@example.com", Some("Ana")),
            id(
                6,
                "bluesky",
                "maya.bsky.social",
                Some("Maya (@maya@hachyderm.io)"),
            ),
            id(7, "mastodon", "maya@hachyderm.io", Some("maya")),
            id(8, "bluesky", "alex.bsky.social", Some("Alex")),
            id(9, "mastodon", "alex@mastodon.social", Some("Alex")),
        ];
        let s = suggest_merges(&ids, &[]);
        let pairs: Vec<(i64, i64, &str)> = s
            .iter()
            .map(|m| (m.keep, m.merge, m.confidence.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![(4, 5, "high"), (6, 7, "high"), (1, 2, "medium")],
            "{s:#?}"
        );
        assert!(s[0].reasons[0].contains("email"));
        // A dismissed pair is not suggested again, in either order.
        let s = suggest_merges(&ids, &[(2, 1)]);
        assert!(!s.iter().any(|m| (m.keep, m.merge) == (1, 2)));
        // The same person is never suggested with itself.
        let mut same = ids.clone();
        same[1].person_id = 1;
        assert!(!suggest_merges(&same, &[]).iter().any(|m| m.keep == m.merge));
    }
}
