//! Listening queries: named topics (the brand, its products, its competitors, campaigns)
//! as boolean keyword rules, all matched in one pass over a message's text.
//!
//! A topic matches a message when at least one of its `any` keywords appears (or it has
//! none), every one of its `all` keywords appears, and none of its `none` keywords does.
//! A keyword matches whole words, case-insensitively: `acme` matches "Acme!" and
//! "#acme" but not "acmeville"; `#acme` matches only the hashtag; `acme corp` matches
//! "ACME   corp" (runs of white space count as one space).
//!
//! Every keyword of every topic goes into one Aho-Corasick automaton, so the cost of
//! matching grows with the text, not with the number of topics.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

/// What a topic stands for; share of voice compares `brand` with `competitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TopicKind {
    /// The organisation itself: its name, handles, hashtags.
    Brand,
    /// One of its products.
    Product,
    /// A competitor.
    Competitor,
    /// A campaign.
    Campaign,
    /// Anything else worth following.
    #[default]
    Other,
}

impl TopicKind {
    /// The kind as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Brand => "brand",
            TopicKind::Product => "product",
            TopicKind::Competitor => "competitor",
            TopicKind::Campaign => "campaign",
            TopicKind::Other => "other",
        }
    }
}

/// A `[[topic]]` in rapport.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// The topic's name: letters, digits, `-`, `_` and `.`; messages get the label
    /// `topic:<name>`.
    pub name: String,
    /// What it stands for.
    #[serde(default)]
    pub kind: TopicKind,
    /// At least one of these must appear (when the list is not empty).
    #[serde(default)]
    pub any: Vec<String>,
    /// Every one of these must appear.
    #[serde(default)]
    pub all: Vec<String>,
    /// None of these may appear.
    #[serde(default)]
    pub none: Vec<String>,
    /// Only messages from these platforms (all platforms when empty).
    #[serde(default)]
    pub platforms: Vec<String>,
}

/// A topic that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopicError {
    /// A bad name.
    #[error(
        "[[topic]] name {0:?}: use letters, digits, '-', '_' or '.' (it becomes the label topic:<name>)"
    )]
    BadName(String),
    /// Two topics share a name.
    #[error("[[topic]] {0:?} is defined twice: give each topic its own name")]
    Duplicate(String),
    /// Nothing to match.
    #[error("[[topic]] {0:?} has no keywords: give it `any = [...]` or `all = [...]`")]
    NoKeywords(String),
    /// A keyword with nothing to match in it.
    #[error(
        "[[topic]] {topic:?}: keyword {keyword:?} has no letter or digit; remove it or write a word"
    )]
    EmptyKeyword {
        /// The topic.
        topic: String,
        /// The keyword.
        keyword: String,
    },
    /// The automaton could not be built.
    #[error("cannot compile the [[topic]] keywords: {0}")]
    Build(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Any,
    All,
    None,
}

#[derive(Debug, Clone)]
struct CompiledTopic {
    any: Vec<usize>,
    all: Vec<usize>,
    none: Vec<usize>,
    platforms: Vec<String>,
}

/// Every configured topic, compiled once.
#[derive(Debug, Clone)]
pub struct TopicMatcher {
    automaton: Option<AhoCorasick>,
    /// The distinct normalised keywords; pattern ids index into this.
    keywords: Vec<String>,
    topics: Vec<CompiledTopic>,
    names: Vec<String>,
    kinds: Vec<TopicKind>,
}

/// Lowercases and collapses every run of white space to one space, so that keywords and
/// texts compare the same way.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl TopicMatcher {
    /// Compiles the topics; checks names and keywords.
    pub fn new(topics: &[TopicConfig]) -> Result<Self, TopicError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut compiled = Vec::with_capacity(topics.len());
        let mut seen = HashSet::new();
        for t in topics {
            if !valid_name(&t.name) {
                return Err(TopicError::BadName(t.name.clone()));
            }
            if !seen.insert(t.name.as_str()) {
                return Err(TopicError::Duplicate(t.name.clone()));
            }
            if t.any.is_empty() && t.all.is_empty() {
                return Err(TopicError::NoKeywords(t.name.clone()));
            }
            let mut c = CompiledTopic {
                any: Vec::new(),
                all: Vec::new(),
                none: Vec::new(),
                platforms: t.platforms.iter().map(|p| p.to_lowercase()).collect(),
            };
            for (group, list) in [
                (Group::Any, &t.any),
                (Group::All, &t.all),
                (Group::None, &t.none),
            ] {
                for k in list {
                    let n = normalise(k);
                    if !n.chars().any(char::is_alphanumeric) {
                        return Err(TopicError::EmptyKeyword {
                            topic: t.name.clone(),
                            keyword: k.clone(),
                        });
                    }
                    let id = match keywords.iter().position(|x| *x == n) {
                        Some(i) => i,
                        None => {
                            keywords.push(n);
                            keywords.len() - 1
                        }
                    };
                    match group {
                        Group::Any => c.any.push(id),
                        Group::All => c.all.push(id),
                        Group::None => c.none.push(id),
                    }
                }
            }
            compiled.push(c);
        }
        let automaton = if keywords.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
                    .map_err(|e| TopicError::Build(e.to_string()))?,
            )
        };
        Ok(Self {
            automaton,
            keywords,
            topics: compiled,
            names: topics.iter().map(|t| t.name.clone()).collect(),
            kinds: topics.iter().map(|t| t.kind).collect(),
        })
    }

    /// Whether any topic is configured.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// The topics' names, in configuration order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The kind of the topic of that name.
    pub fn kind_of(&self, name: &str) -> Option<TopicKind> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.kinds[i])
    }

    /// The keywords found in `text`, as indexes into the keyword list.
    fn found(&self, text: &str) -> Vec<bool> {
        let mut found = vec![false; self.keywords.len()];
        let Some(ac) = &self.automaton else {
            return found;
        };
        let hay = normalise(text);
        for m in ac.find_overlapping_iter(&hay) {
            let before = hay[..m.start()].chars().next_back();
            let after = hay[m.end()..].chars().next();
            let kw = &self.keywords[m.pattern().as_usize()];
            // Whole words only: a keyword that starts (ends) with a letter or digit must
            // not have one right before (after) it.
            let starts_word = kw.chars().next().is_some_and(char::is_alphanumeric);
            let ends_word = kw.chars().next_back().is_some_and(char::is_alphanumeric);
            if starts_word && before.is_some_and(char::is_alphanumeric) {
                continue;
            }
            if ends_word && after.is_some_and(char::is_alphanumeric) {
                continue;
            }
            found[m.pattern().as_usize()] = true;
        }
        found
    }

    /// The names of the topics a message on `platform` with this text belongs to, in
    /// configuration order.
    pub fn topics_of(&self, text: &str, platform: &str) -> Vec<String> {
        if self.topics.is_empty() {
            return Vec::new();
        }
        let found = self.found(text);
        let mut out = Vec::new();
        for (i, t) in self.topics.iter().enumerate() {
            if !t.platforms.is_empty()
                && !t.platforms.iter().any(|p| p.eq_ignore_ascii_case(platform))
            {
                continue;
            }
            let any = t.any.is_empty() || t.any.iter().any(|&k| found[k]);
            let all = t.all.iter().all(|&k| found[k]);
            let none = !t.none.iter().any(|&k| found[k]);
            if any && all && none {
                out.push(self.names[i].clone());
            }
        }
        out
    }
}

/// Share of voice over a span: the organisation's mentions against its competitors'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareOfVoice {
    /// Inbound messages that matched a `brand` topic (each message once).
    pub organisation: i64,
    /// Mentions per `competitor` topic.
    pub competitors: std::collections::BTreeMap<String, i64>,
    /// `organisation ÷ (organisation + Σ competitors)`; `None` when nobody mentioned
    /// anyone.
    pub share: Option<f64>,
    /// Each competitor's share of the same total.
    pub competitor_shares: std::collections::BTreeMap<String, f64>,
}

/// Share of voice, as PRODUCT.md defines it: mentions of the organisation ÷ mentions of
/// it and its competitors.
pub fn share_of_voice(
    organisation: i64,
    competitors: std::collections::BTreeMap<String, i64>,
) -> ShareOfVoice {
    let total = organisation + competitors.values().sum::<i64>();
    let share = (total > 0).then(|| organisation as f64 / total as f64);
    let competitor_shares = if total > 0 {
        competitors
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / total as f64))
            .collect()
    } else {
        Default::default()
    };
    ShareOfVoice {
        organisation,
        competitors,
        share,
        competitor_shares,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str, any: &[&str], all: &[&str], none: &[&str]) -> TopicConfig {
        TopicConfig {
            name: name.into(),
            kind: TopicKind::Brand,
            any: any.iter().map(|s| s.to_string()).collect(),
            all: all.iter().map(|s| s.to_string()).collect(),
            none: none.iter().map(|s| s.to_string()).collect(),
            platforms: vec![],
        }
    }

    #[test]
    fn whole_words_case_and_hashtags() {
        let m = TopicMatcher::new(&[
            topic("acme", &["acme", "acme corp"], &[], &[]),
            topic("tag", &["#acmelove"], &[], &[]),
        ])
        .unwrap();
        assert_eq!(m.topics_of("Loving ACME today!", "bluesky"), ["acme"]);
        assert_eq!(m.topics_of("#Acme rocks", "bluesky"), ["acme"]);
        assert!(m.topics_of("acmeville is a town", "bluesky").is_empty());
        assert!(
            m.topics_of("the wile e. coyote acmes", "bluesky")
                .is_empty()
        );
        assert_eq!(m.topics_of("so much #acmelove", "x"), ["tag"]);
        // The hashtag keyword wants the hashtag.
        assert!(m.topics_of("acmelove", "x").is_empty());
        assert_eq!(m.topics_of("ACME\n\t corp!", "x"), ["acme"]);
    }

    #[test]
    fn any_all_none() {
        let m = TopicMatcher::new(&[topic(
            "launch",
            &["rocket", "launch"],
            &["acme"],
            &["job", "hiring"],
        )])
        .unwrap();
        assert_eq!(m.topics_of("Acme rocket launch today", "x"), ["launch"]);
        assert!(m.topics_of("rocket launch today", "x").is_empty(), "all");
        assert!(m.topics_of("acme today", "x").is_empty(), "any");
        assert!(
            m.topics_of("acme rocket: we are hiring", "x").is_empty(),
            "none"
        );
        let only_all = TopicMatcher::new(&[topic("both", &[], &["a1", "b2"], &[])]).unwrap();
        assert_eq!(only_all.topics_of("b2 then a1", "x"), ["both"]);
        assert!(only_all.topics_of("a1 only", "x").is_empty());
    }

    #[test]
    fn overlapping_keywords_and_unicode() {
        let m = TopicMatcher::new(&[
            topic("long", &["café crème"], &[], &[]),
            topic("short", &["crème"], &[], &[]),
        ])
        .unwrap();
        assert_eq!(m.topics_of("Un CAFÉ CRÈME svp", "x"), ["long", "short"]);
    }

    #[test]
    fn platform_filter() {
        let mut t = topic("b", &["acme"], &[], &[]);
        t.platforms = vec!["Bluesky".into()];
        let m = TopicMatcher::new(&[t]).unwrap();
        assert_eq!(m.topics_of("acme", "bluesky"), ["b"]);
        assert!(m.topics_of("acme", "mastodon").is_empty());
    }

    #[test]
    fn share_of_voice_by_definition() {
        let sov = share_of_voice(
            60,
            [("b".to_string(), 30), ("c".to_string(), 10)]
                .into_iter()
                .collect(),
        );
        assert_eq!(sov.share, Some(0.6));
        assert_eq!(sov.competitor_shares["b"], 0.3);
        assert_eq!(share_of_voice(0, Default::default()).share, None);
    }

    #[test]
    fn bad_topics_are_refused() {
        assert!(matches!(
            TopicMatcher::new(&[topic("a b", &["x"], &[], &[])]),
            Err(TopicError::BadName(_))
        ));
        assert!(matches!(
            TopicMatcher::new(&[topic("a", &["x"], &[], &[]), topic("a", &["y"], &[], &[])]),
            Err(TopicError::Duplicate(_))
        ));
        assert!(matches!(
            TopicMatcher::new(&[topic("a", &[], &[], &["x"])]),
            Err(TopicError::NoKeywords(_))
        ));
        assert!(matches!(
            TopicMatcher::new(&[topic("a", &["  #! "], &[], &[])]),
            Err(TopicError::EmptyKeyword { .. })
        ));
    }
}
