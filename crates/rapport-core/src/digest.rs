//! The leader digest's pure decisions: which two periods it compares, how a number moved
//! between them (the ▲/▼ trends), who the top advocates are, how ideas group, and the
//! short forms numbers take in it.
//!
//! The digest gathers no number of its own that the report does not define: net
//! sentiment, SLA attainment and first response time are [`crate::metrics`]'s. What is
//! decided here is how the digest *compares* and *ranks* them, so that the text, the
//! markdown, the HTML and the JSON forms say the same thing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::metrics::Period;

/// How long a digest covers: the day or the week ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestPeriod {
    /// The 24 hours ending now.
    Day,
    /// The 7 days ending now.
    Week,
}

impl DigestPeriod {
    /// `day` or `week`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestPeriod::Day => "day",
            DigestPeriod::Week => "week",
        }
    }

    /// `daily` or `weekly`.
    pub fn adjective(self) -> &'static str {
        match self {
            DigestPeriod::Day => "daily",
            DigestPeriod::Week => "weekly",
        }
    }

    /// Its length.
    pub fn length(self) -> TimeDelta {
        match self {
            DigestPeriod::Day => TimeDelta::days(1),
            DigestPeriod::Week => TimeDelta::days(7),
        }
    }

    /// The period ending at `now` (`[now − length, now)`) and the one before it
    /// (`[now − 2·length, now − length)`).
    pub fn windows(self, now: DateTime<Utc>) -> (Period, Period) {
        let start = now - self.length();
        (
            Period::between(start, now),
            Period::between(start - self.length(), start),
        )
    }
}

impl fmt::Display for DigestPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A period that is neither `day` nor `week`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown digest period {0:?}: use day or week")]
pub struct BadPeriod(pub String);

impl FromStr for DigestPeriod {
    type Err = BadPeriod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Ok(DigestPeriod::Day),
            "week" | "weekly" => Ok(DigestPeriod::Week),
            _ => Err(BadPeriod(s.to_owned())),
        }
    }
}

/// How a change between two periods is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// `(current − previous) ÷ previous`, shown as a percentage: counts and durations.
    Relative,
    /// `current − previous` of a share, shown in percentage points: SLA attainment,
    /// share of voice.
    Points,
    /// `current − previous`, shown as a signed number: net sentiment.
    Difference,
}

/// Which way a number moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendDirection {
    /// Up (▲).
    Up,
    /// Down (▼).
    Down,
    /// No change that shows at the precision it is written with (=).
    Flat,
    /// Something where there was nothing (a relative change from zero).
    New,
    /// Nothing to compare: one of the two values is unknown.
    Unknown,
}

impl TrendDirection {
    /// ▲, ▼, =, ▲ (new) or an empty string.
    pub fn arrow(self) -> &'static str {
        match self {
            TrendDirection::Up | TrendDirection::New => "▲",
            TrendDirection::Down => "▼",
            TrendDirection::Flat => "=",
            TrendDirection::Unknown => "",
        }
    }
}

/// A number in this period beside the same number in the period before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// This period's value; `None` when it has no sample (a median of nothing).
    pub current: Option<f64>,
    /// The previous period's value.
    pub previous: Option<f64>,
    /// The change, measured as `kind` says; `None` when it cannot be (an unknown value,
    /// or a relative change from zero).
    pub change: Option<f64>,
    /// How the change is measured.
    pub kind: ChangeKind,
    /// Which way it went.
    pub direction: TrendDirection,
    /// The change as the digest writes it: `▲ 12%`, `▼ 3.5 pts`, `▲ +0.031`, `= 0%`,
    /// `▲ new`, or `–` when there is nothing to compare.
    pub label: String,
}

/// Below this a relative change is written `= 0%` (it rounds to 0%).
const FLAT_RELATIVE: f64 = 0.005;
/// Below this a change of a share is written `= 0.0 pts`.
const FLAT_POINTS: f64 = 0.0005;
/// Below this a difference is written `= +0.000`.
const FLAT_DIFFERENCE: f64 = 0.0005;

impl Trend {
    /// A count against the previous period's: relative change.
    pub fn count(current: u64, previous: u64) -> Trend {
        Trend::relative(Some(current as f64), Some(previous as f64))
    }

    /// A count or a duration: relative change, `▲ new` from zero.
    pub fn relative(current: Option<f64>, previous: Option<f64>) -> Trend {
        let (change, direction) = match (current, previous) {
            (Some(c), Some(p)) if p == 0.0 && c == 0.0 => (Some(0.0), TrendDirection::Flat),
            (Some(c), Some(0.0)) => (
                None,
                if c > 0.0 {
                    TrendDirection::New
                } else {
                    TrendDirection::Down
                },
            ),
            (Some(c), Some(p)) => {
                let ch = (c - p) / p.abs();
                (Some(ch), direction_of(ch, FLAT_RELATIVE))
            }
            _ => (None, TrendDirection::Unknown),
        };
        let label = match (direction, change) {
            (TrendDirection::Unknown, _) => "–".to_string(),
            (TrendDirection::New, _) => "▲ new".to_string(),
            (TrendDirection::Flat, _) => "= 0%".to_string(),
            (d, Some(ch)) => format!("{} {:.0}%", d.arrow(), (ch * 100.0).abs()),
            (d, None) => d.arrow().to_string(),
        };
        Trend {
            current,
            previous,
            change,
            kind: ChangeKind::Relative,
            direction,
            label,
        }
    }

    /// A share in [0, 1] (SLA attainment, share of voice): change in percentage points.
    pub fn points(current: Option<f64>, previous: Option<f64>) -> Trend {
        Trend::absolute(current, previous, ChangeKind::Points)
    }

    /// A score (net sentiment): plain difference.
    pub fn difference(current: Option<f64>, previous: Option<f64>) -> Trend {
        Trend::absolute(current, previous, ChangeKind::Difference)
    }

    fn absolute(current: Option<f64>, previous: Option<f64>, kind: ChangeKind) -> Trend {
        let flat = match kind {
            ChangeKind::Points => FLAT_POINTS,
            _ => FLAT_DIFFERENCE,
        };
        let change = current.zip(previous).map(|(c, p)| c - p);
        let direction = change.map_or(TrendDirection::Unknown, |ch| direction_of(ch, flat));
        let label = match (direction, change) {
            (TrendDirection::Unknown, _) | (_, None) => "–".to_string(),
            (TrendDirection::Flat, _) if kind == ChangeKind::Points => "= 0.0 pts".to_string(),
            (TrendDirection::Flat, _) => "= +0.000".to_string(),
            (d, Some(ch)) if kind == ChangeKind::Points => {
                format!("{} {:.1} pts", d.arrow(), (ch * 100.0).abs())
            }
            (d, Some(ch)) => format!("{} {ch:+.3}", d.arrow()),
        };
        Trend {
            current,
            previous,
            change,
            kind,
            direction,
            label,
        }
    }
}

fn direction_of(change: f64, flat: f64) -> TrendDirection {
    if change.abs() < flat {
        TrendDirection::Flat
    } else if change > 0.0 {
        TrendDirection::Up
    } else {
        TrendDirection::Down
    }
}

// ---------------------------------------------------------------------------------------
// Advocates
// ---------------------------------------------------------------------------------------

/// How the digest ranks advocates, as its footnote states it.
pub const ADVOCATE_FORMULA: &str = "advocate score = positive inbound messages in the period × log10(followers + 10); \
     positive is compound ≥ 0.05, spam left out; followers are summed over the person's accounts, as last seen";

/// What the digest knows about one person who wrote positively in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvocateFacts {
    /// The person.
    pub person_id: i64,
    /// Their positive inbound messages in the period (spam left out).
    pub positive: u64,
    /// Their followers, summed over their accounts.
    pub followers: u64,
}

/// A ranked advocate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedAdvocate {
    /// The person.
    pub person_id: i64,
    /// Positive inbound messages in the period.
    pub positive: u64,
    /// Followers, summed over their accounts.
    pub followers: u64,
    /// [`advocate_score`].
    pub score: f64,
}

/// `positive × log10(followers + 10)`: each positive message counts at least once, and
/// reach multiplies it by its order of magnitude (10 followers ×1, 1,000 ×3, 1M ×6) the
/// way the priority score weighs reach.
pub fn advocate_score(positive: u64, followers: u64) -> f64 {
    positive as f64 * (followers as f64 + 10.0).log10()
}

/// The `n` people with the highest [`advocate_score`], highest first; ties go to more
/// positive messages, then to the lower person id (so the order is stable).
pub fn rank_advocates(people: &[AdvocateFacts], n: usize) -> Vec<RankedAdvocate> {
    let mut ranked: Vec<RankedAdvocate> = people
        .iter()
        .filter(|p| p.positive > 0)
        .map(|p| RankedAdvocate {
            person_id: p.person_id,
            positive: p.positive,
            followers: p.followers,
            score: advocate_score(p.positive, p.followers),
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.positive.cmp(&a.positive))
            .then(a.person_id.cmp(&b.person_id))
    });
    ranked.truncate(n);
    ranked
}

// ---------------------------------------------------------------------------------------
// Ideas
// ---------------------------------------------------------------------------------------

/// One idea from the community (an inbound message of intent `idea`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeaFacts {
    /// What it says.
    pub text: String,
    /// The listening topics (`product`, `competitor`…; the brand's own topics say
    /// nothing about what an idea is about) and labels it carries, each as
    /// `(kind, name)`: `("topic", "lightstrip")`, `("label", "mobile")`.
    pub tags: Vec<(String, String)>,
}

/// Ideas that share a topic, a label or words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeaGroup {
    /// What they share: a topic or label name, words, or (kind `text`) the text.
    pub key: String,
    /// `topic`, `label`, `words`, or `text` (the same text, or an idea alone).
    pub kind: String,
    /// Ideas in the group.
    pub count: u64,
    /// The shortest of them, as an example.
    pub example: String,
}

/// Words that say an idea is an idea, or nothing at all: never a group of their own.
const IDEA_STOP_WORDS: &[&str] = &[
    "about",
    "actually",
    "add",
    "adding",
    "all",
    "allow",
    "also",
    "and",
    "any",
    "app",
    "apps",
    "are",
    "awesome",
    "back",
    "best",
    "better",
    "but",
    "buy",
    "can",
    "cheers",
    "cool",
    "could",
    "dear",
    "did",
    "does",
    "for",
    "from",
    "get",
    "give",
    "great",
    "had",
    "has",
    "have",
    "hello",
    "her",
    "here",
    "hey",
    "him",
    "his",
    "how",
    "idea",
    "ideas",
    "its",
    "just",
    "kind",
    "let",
    "like",
    "lot",
    "love",
    "make",
    "more",
    "much",
    "need",
    "nice",
    "not",
    "now",
    "one",
    "option",
    "our",
    "perfect",
    "please",
    "pls",
    "plz",
    "really",
    "regards",
    "request",
    "requests",
    "see",
    "she",
    "should",
    "some",
    "suggest",
    "suggestion",
    "take",
    "team",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "they",
    "thing",
    "think",
    "this",
    "thought",
    "too",
    "use",
    "very",
    "want",
    "was",
    "way",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "wish",
    "wishlist",
    "with",
    "would",
    "yes",
    "you",
    "your",
    "feature",
    "features",
    "money",
    "possible",
    "maybe",
    "able",
    "into",
    "other",
    "than",
    "well",
    "only",
    "same",
    "still",
    "each",
    "every",
    "being",
    "been",
    "after",
    "before",
    "because",
    "while",
];

/// The words of a text that may tell ideas apart: lower case, mentions, hashtags, links
/// and addresses dropped, three letters or more, not all digits, not a stop word nor one
/// of `ignore`.
pub fn idea_words(text: &str, ignore: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        if token.starts_with('@')
            || token.starts_with('#')
            || token.contains("://")
            || token.contains('@')
        {
            continue;
        }
        for w in token.split(|c: char| !c.is_alphanumeric()) {
            let w = w.to_lowercase();
            if w.chars().count() < 3
                || w.chars().all(|c| c.is_ascii_digit())
                || IDEA_STOP_WORDS.contains(&w.as_str())
                || ignore.contains(&w)
            {
                continue;
            }
            out.push(w);
        }
    }
    out
}

/// Groups ideas, each into one group:
///
/// 1. by a topic or label they share (the one most of the remaining ideas share first);
/// 2. the rest by the word, or pair of neighbouring words, most of them share (a pair
///    wins over its own words when at least half the ideas with the word have it:
///    `dark mode`, not `dark`; `party mode` first, then `dark mode`, not `mode`),
///    leaving out words and pairs that more than half of the ideas have (they tell
///    nothing apart; a pair with such a word still may) and words in `ignore` (the
///    organisation's name);
///
/// 3. the rest by their text: the same text (ignoring case and spacing) is one group
///    of kind `text`, any other idea a group of one.
///
/// Largest group first, groups of shared topics, labels or words before groups of the
/// same text; at most `max_groups` groups are returned, and the ideas of the others
/// are in none (the caller counts them). Ties go to the alphabetically first key, so
/// the same ideas always group the same way.
pub fn group_ideas(
    ideas: &[IdeaFacts],
    ignore: &BTreeSet<String>,
    max_groups: usize,
) -> Vec<IdeaGroup> {
    let mut left: Vec<usize> = (0..ideas.len()).collect();
    let mut groups = Vec::new();

    // 1. Shared topics and labels. Each group is no larger than the one before (counts
    // only fall as ideas are taken), so more than `max_groups` of a kind are never shown.
    for _ in 0..max_groups {
        let mut counts: BTreeMap<&(String, String), usize> = BTreeMap::new();
        for &i in &left {
            let tags: BTreeSet<&(String, String)> = ideas[i].tags.iter().collect();
            for t in tags {
                *counts.entry(t).or_default() += 1;
            }
        }
        // The first of the largest in key order: max_by_key keeps the last, so reverse.
        let Some((tag, n)) = counts
            .into_iter()
            .rev()
            .max_by_key(|(_, n)| *n)
            .filter(|(_, n)| *n >= 2)
        else {
            break;
        };
        let tag = tag.clone();
        let (members, rest): (Vec<usize>, Vec<usize>) =
            left.iter().partition(|&&i| ideas[i].tags.contains(&tag));
        groups.push(group_of(ideas, &members, tag.1, &tag.0, n));
        left = rest;
    }

    // 2. Shared words and pairs of words.
    let words: HashMap<usize, Vec<String>> = left
        .iter()
        .map(|&i| (i, idea_words(&ideas[i].text, ignore)))
        .collect();
    let phrases: HashMap<usize, BTreeSet<String>> = words
        .iter()
        .map(|(&i, words)| {
            let mut set: BTreeSet<String> = words.iter().cloned().collect();
            for pair in words.windows(2) {
                if pair[0] != pair[1] {
                    set.insert(format!("{} {}", pair[0], pair[1]));
                }
            }
            (i, set)
        })
        .collect();
    let too_common = {
        let mut df: HashMap<&str, usize> = HashMap::new();
        for set in phrases.values() {
            for p in set {
                *df.entry(p.as_str()).or_default() += 1;
            }
        }
        let half = ideas.len() / 2;
        let common: BTreeSet<String> = if ideas.len() >= 4 {
            df.into_iter()
                .filter(|(_, n)| *n > half)
                .map(|(p, _)| p.to_string())
                .collect()
        } else {
            BTreeSet::new()
        };
        common
    };
    for _ in 0..max_groups {
        let mut df: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in &left {
            for p in &phrases[&i] {
                if !too_common.contains(p) {
                    *df.entry(p.as_str()).or_default() += 1;
                }
            }
        }
        // Most ideas first, then pairs over single words, then alphabetical.
        let order = |(pa, na): &(&str, usize), (pb, nb): &(&str, usize)| {
            na.cmp(nb)
                .then(pa.contains(' ').cmp(&pb.contains(' ')))
                .then(pb.cmp(pa))
        };
        let Some((mut phrase, mut n)) = df
            .iter()
            .map(|(p, n)| (*p, *n))
            .filter(|(_, n)| *n >= 2)
            .max_by(order)
        else {
            break;
        };
        // A word that is mostly one pair is that pair: `party mode` (4 of the 7 ideas
        // with `mode`) before `mode`, whose other ideas (`dark mode`) group apart.
        if !phrase.contains(' ')
            && let Some(pair) = df
                .iter()
                .map(|(p, m)| (*p, *m))
                .filter(|(p, m)| {
                    *m >= 2 && 2 * *m >= n && p.split(' ').any(|w| w == phrase) && p.contains(' ')
                })
                .max_by(order)
        {
            (phrase, n) = pair;
        }
        let phrase = phrase.to_string();
        let (members, rest): (Vec<usize>, Vec<usize>) =
            left.iter().partition(|&&i| phrases[&i].contains(&phrase));
        let lists: Vec<&[String]> = members.iter().map(|i| words[i].as_slice()).collect();
        let key = widen(&lists, &phrase, MAX_KEY_WORDS);
        groups.push(group_of(ideas, &members, key, "words", n));
        left = rest;
    }

    // 3. The rest by their text: the same idea twice is one group, any other alone.
    let mut by_text: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in &left {
        by_text
            .entry(one_line(&ideas[i].text).to_lowercase())
            .or_default()
            .push(i);
    }
    for members in by_text.into_values() {
        let example = group_of(ideas, &members, String::new(), "text", members.len());
        groups.push(IdeaGroup {
            key: example.example.clone(),
            ..example
        });
    }

    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((a.kind == "text").cmp(&(b.kind == "text")))
            .then(a.key.cmp(&b.key))
    });
    groups.truncate(max_groups);
    groups
}

/// The longest words of a group's key: a phrase shared that far is the idea itself.
const MAX_KEY_WORDS: usize = 5;

/// `phrase` grown by the words every one of `lists` has right before or after it, up to
/// `max` words: the ideas that share `party mode` all say `party mode synced spotify`.
fn widen(lists: &[&[String]], phrase: &str, max: usize) -> String {
    let want: Vec<&str> = phrase.split(' ').collect();
    // Where the phrase is in each list (its first occurrence): [start, end).
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(lists.len());
    for l in lists {
        let Some(start) = l
            .windows(want.len())
            .position(|w| w.iter().zip(&want).all(|(a, b)| a == b))
        else {
            return phrase.to_string();
        };
        spans.push((start, start + want.len()));
    }
    /// The word every list has at `at(span)`, if they all have the same one.
    fn same(
        lists: &[&[String]],
        spans: &[(usize, usize)],
        at: impl Fn((usize, usize)) -> Option<usize>,
    ) -> bool {
        let mut words = lists
            .iter()
            .zip(spans)
            .map(|(l, s)| at(*s).and_then(|i| l.get(i)));
        match words.next() {
            Some(Some(first)) => words.all(|w| w == Some(first)),
            _ => false,
        }
    }
    while let Some(&(b, e)) = spans.first() {
        if e - b >= max {
            break;
        }
        if same(lists, &spans, |(_, e)| Some(e)) {
            spans.iter_mut().for_each(|s| s.1 += 1);
        } else if same(lists, &spans, |(b, _)| b.checked_sub(1)) {
            spans.iter_mut().for_each(|s| s.0 -= 1);
        } else {
            break;
        }
    }
    match (lists.first(), spans.first()) {
        (Some(l), Some(&(b, e))) => l[b..e].join(" "),
        _ => phrase.to_string(),
    }
}

fn group_of(
    ideas: &[IdeaFacts],
    members: &[usize],
    key: String,
    kind: &str,
    n: usize,
) -> IdeaGroup {
    let example = members
        .iter()
        .map(|&i| one_line(&ideas[i].text))
        .min_by(|a, b| a.chars().count().cmp(&b.chars().count()).then(a.cmp(b)))
        .unwrap_or_default();
    IdeaGroup {
        key,
        kind: kind.to_string(),
        count: n as u64,
        example,
    }
}

// ---------------------------------------------------------------------------------------
// Short forms
// ---------------------------------------------------------------------------------------

/// A text on one line: runs of whitespace and control characters become one space.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first `n` characters of a text on one line, with `…` when cut.
pub fn snippet(text: &str, n: usize) -> String {
    let line = one_line(text);
    if line.chars().count() <= n {
        return line;
    }
    let mut out: String = line.chars().take(n.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// A share in [0, 1] as a percentage with one decimal (`53.0%`); `–` when absent.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |x| format!("{:.1}%", x * 100.0))
}

/// A score with its sign and three decimals (`+0.282`); `–` when absent.
pub fn signed(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |x| format!("{x:+.3}"))
}

/// Seconds as `45s`, `12m`, `3h 5m`, `2d 4h`; `–` when absent.
pub fn duration(secs: Option<f64>) -> String {
    let Some(secs) = secs else {
        return "–".to_string();
    };
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A count as people read follower numbers: `950`, `12.3k`, `352k`, `1.2M`.
pub fn compact(n: u64) -> String {
    let f = n as f64;
    if n < 1_000 {
        n.to_string()
    } else if n < 100_000 {
        trim_zero(format!("{:.1}", f / 1_000.0)) + "k"
    } else if n < 1_000_000 {
        format!("{:.0}k", f / 1_000.0)
    } else {
        trim_zero(format!("{:.1}", f / 1_000_000.0)) + "M"
    }
}

fn trim_zero(s: String) -> String {
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A count with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_are_adjacent_and_half_open() {
        let now = t("2026-11-23T12:00:00Z");
        let (cur, prev) = DigestPeriod::Week.windows(now);
        assert_eq!(cur.since, Some(t("2026-11-16T12:00:00Z")));
        assert_eq!(cur.until, Some(now));
        assert_eq!(prev.since, Some(t("2026-11-09T12:00:00Z")));
        assert_eq!(prev.until, cur.since);
        let (day, before) = DigestPeriod::Day.windows(now);
        assert_eq!(day.since, Some(t("2026-11-22T12:00:00Z")));
        assert_eq!(before.since, Some(t("2026-11-21T12:00:00Z")));
        assert_eq!(
            "weekly".parse::<DigestPeriod>().unwrap(),
            DigestPeriod::Week
        );
        assert!("month".parse::<DigestPeriod>().is_err());
    }

    #[test]
    fn relative_trends() {
        let up = Trend::count(120, 100);
        assert_eq!(up.direction, TrendDirection::Up);
        assert_eq!(up.label, "▲ 20%");
        assert!((up.change.unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(Trend::count(75, 100).label, "▼ 25%");
        // Rounds to 0%: flat.
        assert_eq!(Trend::count(1000, 1002).label, "= 0%");
        assert_eq!(Trend::count(1000, 1002).direction, TrendDirection::Flat);
        assert_eq!(Trend::count(0, 0).label, "= 0%");
        let new = Trend::count(3, 0);
        assert_eq!(
            (new.direction, new.change, new.label.as_str()),
            (TrendDirection::New, None, "▲ new")
        );
        assert_eq!(Trend::count(0, 4).label, "▼ 100%");
        let unknown = Trend::relative(Some(60.0), None);
        assert_eq!(
            (unknown.direction, unknown.label.as_str()),
            (TrendDirection::Unknown, "–")
        );
    }

    #[test]
    fn share_and_score_trends() {
        let sla = Trend::points(Some(0.62), Some(0.585));
        assert_eq!(sla.direction, TrendDirection::Up);
        assert_eq!(sla.label, "▲ 3.5 pts");
        assert_eq!(Trend::points(Some(0.5), Some(0.6)).label, "▼ 10.0 pts");
        assert_eq!(Trend::points(Some(0.5), Some(0.5)).label, "= 0.0 pts");
        assert_eq!(Trend::points(None, Some(0.5)).label, "–");
        let net = Trend::difference(Some(0.25), Some(0.282));
        assert_eq!(net.label, "▼ -0.032");
        assert_eq!(net.kind, ChangeKind::Difference);
        assert_eq!(Trend::difference(Some(0.1), Some(-0.2)).label, "▲ +0.300");
        assert_eq!(Trend::difference(Some(0.1), Some(0.1002)).label, "= +0.000");
    }

    #[test]
    fn advocates_rank_by_positive_messages_weighted_by_reach() {
        assert!((advocate_score(1, 0) - 1.0).abs() < 1e-12);
        assert!((advocate_score(2, 990) - 6.0).abs() < 1e-12);
        let people = [
            // 3 × log10(10) = 3
            AdvocateFacts {
                person_id: 1,
                positive: 3,
                followers: 0,
            },
            // 1 × log10(1,000,010) ≈ 6
            AdvocateFacts {
                person_id: 2,
                positive: 1,
                followers: 1_000_000,
            },
            // 2 × log10(1,010) ≈ 6.009: beats the single message from a million followers
            AdvocateFacts {
                person_id: 3,
                positive: 2,
                followers: 1_000,
            },
            // The same score and positive messages as person 1: the lower id first.
            AdvocateFacts {
                person_id: 0,
                positive: 3,
                followers: 0,
            },
            AdvocateFacts {
                person_id: 9,
                positive: 0,
                followers: 5_000_000,
            },
        ];
        let ranked = rank_advocates(&people, 10);
        let ids: Vec<i64> = ranked.iter().map(|r| r.person_id).collect();
        assert_eq!(ids, vec![3, 2, 0, 1]);
        assert_eq!(rank_advocates(&people, 2).len(), 2);
    }

    fn idea(text: &str, tags: &[(&str, &str)]) -> IdeaFacts {
        IdeaFacts {
            text: text.to_string(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn ideas_group_by_topic_then_by_shared_words() {
        let ideas = vec![
            idea(
                "I wish the Lightstrip had USB-C power",
                &[("topic", "lightstrip")],
            ),
            idea(
                "Lightstrip plus in white please",
                &[("topic", "lightstrip")],
            ),
            idea(
                "please add a dark mode to the app 🙏 @lumen.bsky.social",
                &[],
            ),
            idea("feature request: a dark mode. pls pls pls", &[]),
            idea(
                "Would be great if the app had a dark mode.\n\nCheers,\nMegan",
                &[],
            ),
            idea("wishlist for Lumen: a sleep timer", &[]),
            idea("feature request: a sleep timer please! #LumenLights", &[]),
            idea("idea: let us export schedules", &[]),
        ];
        let ignore: BTreeSet<String> = ["lumen".to_string()].into();
        let groups = group_ideas(&ideas, &ignore, 10);
        let keys: Vec<(&str, &str, u64)> = groups
            .iter()
            .map(|g| (g.kind.as_str(), g.key.as_str(), g.count))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("words", "dark mode", 3),
                ("topic", "lightstrip", 2),
                ("words", "sleep timer", 2),
                ("text", "idea: let us export schedules", 1),
            ]
        );
        assert_eq!(
            groups[0].example,
            "feature request: a dark mode. pls pls pls"
        );
        // Each idea is in one group.
        assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), 8);
        assert_eq!(group_ideas(&ideas, &ignore, 1).len(), 1);
        // Nothing shared: the same text is one group, and the rest each alone.
        let plain = vec![
            idea("Solar   panel", &[]),
            idea("solar panel", &[]),
            idea("xyz", &[]),
        ];
        let g = group_ideas(&plain, &ignore, 5);
        let keys: Vec<(&str, &str, u64)> = g
            .iter()
            .map(|g| (g.kind.as_str(), g.key.as_str(), g.count))
            .collect();
        assert_eq!(keys, vec![("words", "solar panel", 2), ("text", "xyz", 1)]);
        assert!(group_ideas(&[], &ignore, 5).is_empty());
    }

    #[test]
    fn a_word_that_is_mostly_one_pair_groups_as_that_pair() {
        let ideas = vec![
            idea("please add a party mode synced to Spotify", &[]),
            idea("a party mode synced to Spotify, would buy more", &[]),
            idea("party mode!", &[]),
            idea("would be great if the app had a dark mode", &[]),
            idea("feature request: a dark mode", &[]),
            idea("vacation mode please", &[]),
        ];
        let groups = group_ideas(&ideas, &BTreeSet::new(), 10);
        let keys: Vec<(&str, u64)> = groups.iter().map(|g| (g.key.as_str(), g.count)).collect();
        // `mode` is in 6 ideas; `party mode` in 3 of them: that is the first group. Of the
        // 3 left, `dark mode` has 2.
        assert_eq!(
            keys,
            vec![
                ("party mode", 3),
                ("dark mode", 2),
                ("vacation mode please", 1)
            ]
        );
    }

    #[test]
    fn a_group_is_named_by_all_the_words_its_ideas_share() {
        let ideas = vec![
            idea("please add a party mode synced to Spotify to the app", &[]),
            idea(
                "would love to see a party mode synced to Spotify, would buy more lamps",
                &[],
            ),
            idea("party mode synced to spotify!!", &[]),
        ];
        let groups = group_ideas(&ideas, &BTreeSet::new(), 10);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].key, "party mode synced spotify");
        assert_eq!(groups[0].count, 3);
        let lists: Vec<Vec<String>> = ["aa bb cc dd ee ff gg", "aa bb cc dd ee ff gg hh"]
            .iter()
            .map(|t| t.split(' ').map(str::to_string).collect())
            .collect();
        let refs: Vec<&[String]> = lists.iter().map(Vec::as_slice).collect();
        assert_eq!(widen(&refs, "cc dd", 5), "cc dd ee ff gg");
        assert_eq!(widen(&refs, "cc dd", 2), "cc dd");
    }

    #[test]
    fn idea_words_drop_mentions_links_and_stop_words() {
        let ignore: BTreeSet<String> = ["lumen".to_string()].into();
        assert_eq!(
            idea_words(
                "@lumen@mastodon.social Would love a widget for scenes! https://x.example #Lumen Lumen 2026",
                &ignore
            ),
            vec!["widget", "scenes"]
        );
    }

    #[test]
    fn short_forms() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(12_300), "12.3k");
        assert_eq!(compact(1_000), "1k");
        assert_eq!(compact(352_400), "352k");
        assert_eq!(compact(1_250_000), "1.2M");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(duration(Some(3.0 * 3600.0 + 34.0 * 60.0)), "3h 34m");
        assert_eq!(duration(None), "–");
        assert_eq!(percent(Some(0.53)), "53.0%");
        assert_eq!(signed(Some(0.2821)), "+0.282");
        assert_eq!(snippet("a  long\ntext here", 9), "a long t…");
        assert_eq!(snippet("short", 9), "short");
    }
}
