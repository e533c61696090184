//! Principles as configuration: every outbound draft is checked against the
//! organisation's `[[principle]]`s before it is approved.
//!
//! ```toml
//! [[principle]]
//! name = "honest"
//! statement = "We say when we are paid, and we never promise what we cannot control."
//! required_disclosure = "#ad"   # needed when the draft is sponsored or mentions a trigger
//! disclosure_triggers = ["sponsored", "partner", "gifted"]   # the default list
//! no_outcome_promises = true     # "guaranteed", "risk-free", "you will win", …
//! extra_outcome_promises = ["cannot fail"]
//!
//! [[principle]]
//! name = "kind"
//! statement = "We answer everyone with respect, especially when they are angry."
//! banned_phrases = ["calm down", "as I already said"]
//! min_sentiment = -0.05          # VADER compound of the draft; no hostile replies
//!
//! [[principle]]
//! name = "engage"
//! statement = "We talk with people more than we sell to them."
//! max_self_promotion = 0.2       # at most 20% of recent posts (this one included) promotional
//! extra_promo_cues = ["free shipping"]
//! ```
//!
//! Each configured check of each principle gives one [`Finding`] that passed or failed;
//! a failed one's `detail` says what failed and how to fix it. Phrases match whole words,
//! case-insensitively, with runs of white space counting as one space: `partner` matches
//! "Partner!" but not "partnership"; `% off` matches "20% off".

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::listening::normalise;

/// Legal and financial outcomes no one may promise; [`Principle::no_outcome_promises`]
/// looks for these, plus the principle's `extra_outcome_promises`.
pub const OUTCOME_PROMISES: &[&str] = &[
    "guaranteed",
    "we guarantee",
    "guarantee you",
    "risk-free",
    "risk free",
    "no risk",
    "you will win",
    "you'll win",
    "you can't lose",
    "you cannot lose",
    "100% returns",
    "guaranteed returns",
    "double your money",
    "legally binding",
];

/// Cues that make a draft promotional, for [`Principle::max_self_promotion`]; the
/// principle's `extra_promo_cues` add to them.
pub const PROMO_CUES: &[&str] = &[
    "buy",
    "discount",
    "sale",
    "% off",
    "order now",
    "shop now",
    "link in bio",
    "promo code",
    "coupon",
];

/// The words that make a disclosure necessary when a principle names none.
pub const DEFAULT_DISCLOSURE_TRIGGERS: &[&str] = &["sponsored", "partner", "gifted"];

fn default_disclosure_triggers() -> Vec<String> {
    DEFAULT_DISCLOSURE_TRIGGERS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A `[[principle]]`: a statement of how the organisation speaks, and the checks that
/// hold its drafts to it. A check that is not configured is not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principle {
    /// A short name, unique among principles; findings carry it.
    pub name: String,
    /// The principle in a sentence, as approvers read it.
    pub statement: String,
    /// Phrases a draft may not contain.
    #[serde(default)]
    pub banned_phrases: Vec<String>,
    /// A tag or phrase (e.g. `#ad`) a draft must contain when it is sponsored or
    /// mentions one of `disclosure_triggers`.
    #[serde(default)]
    pub required_disclosure: Option<String>,
    /// Words that make the disclosure necessary; default `sponsored`, `partner`,
    /// `gifted`. Writing the list replaces the default.
    #[serde(default = "default_disclosure_triggers")]
    pub disclosure_triggers: Vec<String>,
    /// The lowest VADER compound score a draft may have, in [−1, 1] (e.g. −0.05: nothing
    /// hostile).
    #[serde(default)]
    pub min_sentiment: Option<f64>,
    /// Whether drafts may not promise legal or financial outcomes ([`OUTCOME_PROMISES`]).
    #[serde(default)]
    pub no_outcome_promises: bool,
    /// More outcome promises to look for, on top of [`OUTCOME_PROMISES`].
    #[serde(default)]
    pub extra_outcome_promises: Vec<String>,
    /// The largest share, in [0, 1], of the account's recent posts plus this one that may
    /// be promotional.
    #[serde(default)]
    pub max_self_promotion: Option<f64>,
    /// More promotional cues, on top of [`PROMO_CUES`].
    #[serde(default)]
    pub extra_promo_cues: Vec<String>,
}

impl Principle {
    /// A principle with a name and a statement and no checks yet.
    pub fn new(name: impl Into<String>, statement: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            statement: statement.into(),
            banned_phrases: Vec::new(),
            required_disclosure: None,
            disclosure_triggers: default_disclosure_triggers(),
            min_sentiment: None,
            no_outcome_promises: false,
            extra_outcome_promises: Vec::new(),
            max_self_promotion: None,
            extra_promo_cues: Vec::new(),
        }
    }

    /// Checks the ranges and that no phrase is blank.
    pub fn validate(&self) -> Result<(), PrincipleError> {
        if self.name.trim().is_empty() {
            return Err(PrincipleError::NoName);
        }
        let blank = |field: &'static str| PrincipleError::BlankPhrase {
            principle: self.name.clone(),
            field,
        };
        let lists: [(&'static str, &Vec<String>); 4] = [
            ("banned_phrases", &self.banned_phrases),
            ("disclosure_triggers", &self.disclosure_triggers),
            ("extra_outcome_promises", &self.extra_outcome_promises),
            ("extra_promo_cues", &self.extra_promo_cues),
        ];
        for (field, list) in lists {
            if list.iter().any(|p| normalise(p).is_empty()) {
                return Err(blank(field));
            }
        }
        if let Some(d) = &self.required_disclosure
            && normalise(d).is_empty()
        {
            return Err(blank("required_disclosure"));
        }
        if let Some(m) = self.min_sentiment
            && !(-1.0..=1.0).contains(&m)
        {
            return Err(PrincipleError::MinSentiment {
                principle: self.name.clone(),
                value: m,
            });
        }
        if let Some(m) = self.max_self_promotion
            && !(0.0..=1.0).contains(&m)
        {
            return Err(PrincipleError::MaxSelfPromotion {
                principle: self.name.clone(),
                value: m,
            });
        }
        Ok(())
    }
}

/// Checks every principle and that no two share a name.
pub fn validate(principles: &[Principle]) -> Result<(), PrincipleError> {
    let mut seen = HashSet::new();
    for p in principles {
        p.validate()?;
        if !seen.insert(p.name.as_str()) {
            return Err(PrincipleError::Duplicate(p.name.clone()));
        }
    }
    Ok(())
}

/// A `[[principle]]` that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrincipleError {
    /// A principle without a name.
    #[error("a [[principle]] has no name: give each one a short name, e.g. name = \"honest\"")]
    NoName,
    /// Two principles share a name.
    #[error("[[principle]] {0:?} is defined twice: give each principle its own name")]
    Duplicate(String),
    /// An empty phrase, which would match nothing (or everything).
    #[error("[[principle]] {principle:?}: {field} has a blank phrase; remove it or write one")]
    BlankPhrase {
        /// The principle.
        principle: String,
        /// The key that holds it.
        field: &'static str,
    },
    /// A sentiment floor outside VADER's range.
    #[error(
        "[[principle]] {principle:?}: min_sentiment = {value} is outside [-1, 1]; use e.g. -0.05 to refuse hostile drafts"
    )]
    MinSentiment {
        /// The principle.
        principle: String,
        /// What was written.
        value: f64,
    },
    /// A share outside [0, 1].
    #[error(
        "[[principle]] {principle:?}: max_self_promotion = {value} is a share and must be in [0, 1]; use e.g. 0.2 for one post in five"
    )]
    MaxSelfPromotion {
        /// The principle.
        principle: String,
        /// What was written.
        value: f64,
    },
}

/// What [`check_draft`] needs to know about a draft and its account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DraftInput {
    /// The text to be published.
    pub text: String,
    /// Whether the post is paid for, or about something the organisation was given.
    #[serde(default)]
    pub sponsored: bool,
    /// How many posts the account published recently (the window is the caller's).
    #[serde(default)]
    pub recent_posts: u32,
    /// How many of those were promotional.
    #[serde(default)]
    pub recent_promotional: u32,
}

/// The kinds of check a principle can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// `banned_phrases`.
    BannedPhrases,
    /// `required_disclosure`.
    RequiredDisclosure,
    /// `min_sentiment`.
    MinSentiment,
    /// `no_outcome_promises`.
    NoOutcomePromises,
    /// `max_self_promotion`.
    MaxSelfPromotion,
}

impl CheckKind {
    /// The check's name, as the configuration key that sets it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::BannedPhrases => "banned_phrases",
            CheckKind::RequiredDisclosure => "required_disclosure",
            CheckKind::MinSentiment => "min_sentiment",
            CheckKind::NoOutcomePromises => "no_outcome_promises",
            CheckKind::MaxSelfPromotion => "max_self_promotion",
        }
    }
}

/// The result of one check of one principle on one draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The principle's name.
    pub principle: String,
    /// Which check.
    pub check: CheckKind,
    /// Whether the draft passed it.
    pub passed: bool,
    /// What was found; when it failed, how to fix the draft.
    pub detail: String,
}

/// Checks a draft against every principle: one [`Finding`] per configured check, in
/// configuration order, each principle's checks in [`CheckKind`] order.
pub fn check_draft(principles: &[Principle], input: &DraftInput) -> Vec<Finding> {
    let text = Haystack::new(&input.text);
    let mut out = Vec::new();
    let mut sentiment = None;
    for p in principles {
        let mut push = |check, (passed, detail): (bool, String)| {
            out.push(Finding {
                principle: p.name.clone(),
                check,
                passed,
                detail,
            })
        };
        if !p.banned_phrases.is_empty() {
            push(CheckKind::BannedPhrases, banned(p, &text));
        }
        if let Some(disclosure) = &p.required_disclosure {
            push(
                CheckKind::RequiredDisclosure,
                disclosed(p, disclosure, &text, input.sponsored),
            );
        }
        if let Some(min) = p.min_sentiment {
            let explained =
                sentiment.get_or_insert_with(|| crate::sentiment::shared().explain(&input.text));
            push(CheckKind::MinSentiment, kind_enough(min, explained));
        }
        if p.no_outcome_promises {
            push(CheckKind::NoOutcomePromises, no_promises(p, &text));
        }
        if let Some(max) = p.max_self_promotion {
            push(
                CheckKind::MaxSelfPromotion,
                self_promotion(p, max, &text, input),
            );
        }
    }
    out
}

/// A text prepared for whole-phrase matching.
struct Haystack(String);

impl Haystack {
    fn new(text: &str) -> Self {
        Self(prepare(text))
    }

    /// Whether `phrase` appears as a whole phrase.
    fn contains(&self, phrase: &str) -> bool {
        let needle = prepare(phrase);
        if needle.is_empty() {
            return false;
        }
        // Whole words only: a phrase that starts (ends) with a letter or digit must not
        // have one right before (after) it.
        let starts_word = needle.chars().next().is_some_and(char::is_alphanumeric);
        let ends_word = needle
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        self.0.match_indices(&needle).any(|(at, m)| {
            let before = self.0[..at].chars().next_back();
            let after = self.0[at + m.len()..].chars().next();
            let glued_before = starts_word && before.is_some_and(char::is_alphanumeric);
            let glued_after = ends_word && after.is_some_and(char::is_alphanumeric);
            !glued_before && !glued_after
        })
    }

    /// The phrases of `list` that appear, as written in the configuration, each once.
    fn found<'a>(&self, list: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        for phrase in list {
            if self.contains(phrase) && !out.iter().any(|f| prepare(f) == prepare(phrase)) {
                out.push(phrase);
            }
        }
        out
    }
}

/// Lowercased, white space collapsed, typographic apostrophes made straight.
fn prepare(text: &str) -> String {
    normalise(text).replace(['\u{2019}', '\u{2018}'], "'")
}

fn quoted(phrases: &[&str]) -> String {
    phrases
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn banned(p: &Principle, text: &Haystack) -> (bool, String) {
    let found = text.found(p.banned_phrases.iter().map(String::as_str));
    if found.is_empty() {
        (true, "no banned phrase".to_string())
    } else {
        (
            false,
            format!(
                "uses banned {} {}: remove or rephrase {}",
                if found.len() == 1 {
                    "phrase"
                } else {
                    "phrases"
                },
                quoted(&found),
                if found.len() == 1 { "it" } else { "them" }
            ),
        )
    }
}

fn disclosed(p: &Principle, disclosure: &str, text: &Haystack, sponsored: bool) -> (bool, String) {
    let triggers = text.found(p.disclosure_triggers.iter().map(String::as_str));
    let why = if sponsored {
        "is marked sponsored".to_string()
    } else if !triggers.is_empty() {
        format!("mentions {}", quoted(&triggers))
    } else {
        return (
            true,
            format!("not sponsored and no disclosure trigger: {disclosure:?} not needed"),
        );
    };
    if text.contains(disclosure) {
        (true, format!("{why} and discloses it with {disclosure:?}"))
    } else {
        (
            false,
            format!(
                "{why} but does not say {disclosure:?}: add {disclosure:?} to the text, where readers see it before any link"
            ),
        )
    }
}

fn kind_enough(min: f64, explained: &crate::sentiment::Explanation) -> (bool, String) {
    let compound = explained.scores.compound;
    if compound >= min {
        return (
            true,
            format!("sentiment {compound:.2} is at or above the minimum {min:.2}"),
        );
    }
    let mut negative: Vec<_> = explained.words.iter().filter(|w| w.valence < 0.0).collect();
    negative.sort_by(|a, b| a.valence.total_cmp(&b.valence));
    let words: Vec<String> = negative
        .iter()
        .take(5)
        .map(|w| format!("{:?} ({:.1})", w.word, w.valence))
        .collect();
    let which = if words.is_empty() {
        ": rephrase it".to_string()
    } else {
        format!(
            "; the most negative words: {}: rephrase them",
            words.join(", ")
        )
    };
    (
        false,
        format!(
            "sentiment {compound:.2} is below the minimum {min:.2}{which}, acknowledge the problem without blame, and say what happens next"
        ),
    )
}

fn no_promises(p: &Principle, text: &Haystack) -> (bool, String) {
    let list = OUTCOME_PROMISES
        .iter()
        .copied()
        .chain(p.extra_outcome_promises.iter().map(String::as_str));
    let found = text.found(list);
    if found.is_empty() {
        (true, "promises no legal or financial outcome".to_string())
    } else {
        (
            false,
            format!(
                "promises an outcome ({}): no one can promise a legal or financial result; say what you will do instead (e.g. \"we will review your claim by Friday\")",
                quoted(&found)
            ),
        )
    }
}

/// Whether a text carries a promotional cue (the built-in ones, or any principle's
/// `extra_promo_cues`): what `max_self_promotion` counts among an account's recent posts.
pub fn is_promotional(principles: &[Principle], text: &str) -> bool {
    let cues: Vec<&str> = PROMO_CUES
        .iter()
        .copied()
        .chain(
            principles
                .iter()
                .flat_map(|p| p.extra_promo_cues.iter().map(String::as_str)),
        )
        .collect();
    !Haystack::new(text).found(cues).is_empty()
}

fn self_promotion(p: &Principle, max: f64, text: &Haystack, input: &DraftInput) -> (bool, String) {
    let cues: Vec<&str> = PROMO_CUES
        .iter()
        .copied()
        .chain(p.extra_promo_cues.iter().map(String::as_str))
        .collect();
    let found = text.found(cues);
    let posts = u64::from(input.recent_posts);
    let promos = u64::from(input.recent_promotional.min(input.recent_posts));
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    if found.is_empty() {
        let share = promos as f64 / (posts + 1) as f64;
        return (
            true,
            format!(
                "not promotional (no promotional cue); {promos} of the last {} posts with this one promotional ({}, at most {})",
                posts + 1,
                pct(share),
                pct(max)
            ),
        );
    }
    let share = (promos + 1) as f64 / (posts + 1) as f64;
    // A small tolerance so that a share written as 0.2 admits exactly one post in five.
    const EPS: f64 = 1e-9;
    if share <= max + EPS {
        return (
            true,
            format!(
                "promotional ({}); {} of the last {} posts with this one promotional ({}, at most {})",
                quoted(&found),
                promos + 1,
                posts + 1,
                pct(share),
                pct(max)
            ),
        );
    }
    let fix = if max <= 0.0 {
        "drop the promotional wording, or post it on another account".to_string()
    } else {
        // The fewest non-promotional posts that bring the share down to the maximum.
        let needed = ((promos + 1) as f64 / max - (posts + 1) as f64 - EPS).ceil();
        format!(
            "publish {} non-promotional post{} first, or drop the promotional wording",
            needed.max(1.0),
            if needed > 1.0 { "s" } else { "" }
        )
    };
    (
        false,
        format!(
            "promotional ({}): {} of the last {} posts with this one would be promotional ({}, more than {}): {fix}",
            quoted(&found),
            promos + 1,
            posts + 1,
            pct(share),
            pct(max)
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn input(text: &str) -> DraftInput {
        DraftInput {
            text: text.to_string(),
            ..DraftInput::default()
        }
    }

    fn only(p: Principle, input: &DraftInput) -> Finding {
        let mut f = check_draft(&[p], input);
        assert_eq!(f.len(), 1, "{f:?}");
        f.remove(0)
    }

    #[test]
    fn banned_phrases() {
        let p = Principle {
            banned_phrases: vec!["calm down".into(), "as I already said".into()],
            ..Principle::new("kind", "We answer everyone with respect.")
        };
        let f = only(p.clone(), &input("Thanks for telling us, we are on it."));
        assert!(f.passed, "{f:?}");
        assert_eq!(f.check, CheckKind::BannedPhrases);
        assert_eq!(f.principle, "kind");

        let f = only(
            p.clone(),
            &input("Please CALM   down. As I already said, it ships Monday."),
        );
        assert!(!f.passed);
        assert_eq!(
            f.detail,
            "uses banned phrases \"calm down\", \"as I already said\": remove or rephrase them"
        );
        // Whole phrases only.
        assert!(only(p, &input("a calm downtown walk")).passed);
    }

    #[test]
    fn required_disclosure() {
        let p = Principle {
            required_disclosure: Some("#ad".into()),
            ..Principle::new("honest", "We say when we are paid.")
        };
        // Nothing sponsored, no trigger: nothing needed.
        let f = only(p.clone(), &input("Our new lamp is out."));
        assert!(f.passed);
        assert_eq!(f.check, CheckKind::RequiredDisclosure);

        // Marked sponsored, disclosed.
        let sponsored = |text: &str| DraftInput {
            sponsored: true,
            ..input(text)
        };
        assert!(only(p.clone(), &sponsored("Our lamp, with Acme. #AD")).passed);

        // Marked sponsored, not disclosed; "#ads" is not "#ad".
        let f = only(p.clone(), &sponsored("Our lamp, with Acme. #ads"));
        assert!(!f.passed);
        assert_eq!(
            f.detail,
            "is marked sponsored but does not say \"#ad\": add \"#ad\" to the text, where readers see it before any link"
        );

        // A trigger word makes it necessary even when not marked.
        let f = only(p.clone(), &input("We were Gifted this lamp by Acme!"));
        assert!(!f.passed);
        assert_eq!(
            f.detail,
            "mentions \"gifted\" but does not say \"#ad\": add \"#ad\" to the text, where readers see it before any link"
        );
        assert!(only(p, &input("Our partner Acme made this. #ad")).passed);
    }

    #[test]
    fn min_sentiment() {
        let p = Principle {
            min_sentiment: Some(-0.05),
            ..Principle::new("kind", "No hostile replies.")
        };
        let f = only(
            p.clone(),
            &input("Thanks for your patience, we will fix this today."),
        );
        assert!(f.passed, "{f:?}");
        assert_eq!(f.check, CheckKind::MinSentiment);

        let f = only(p, &input("That is a stupid question and you are wrong."));
        assert!(!f.passed);
        assert!(f.detail.starts_with("sentiment -0."), "{}", f.detail);
        assert!(f.detail.contains("\"stupid\""), "{}", f.detail);
        assert!(f.detail.ends_with("say what happens next"), "{}", f.detail);
    }

    #[test]
    fn no_outcome_promises() {
        let p = Principle {
            no_outcome_promises: true,
            extra_outcome_promises: vec!["cannot fail".into()],
            ..Principle::new("honest", "We never promise what we cannot control.")
        };
        let f = only(p.clone(), &input("We will review your claim by Friday."));
        assert!(f.passed);
        assert_eq!(f.check, CheckKind::NoOutcomePromises);

        let f = only(p.clone(), &input("Guaranteed: 100% returns, RISK-FREE."));
        assert!(!f.passed);
        assert!(
            f.detail.starts_with(
                "promises an outcome (\"guaranteed\", \"risk-free\", \"100% returns\"): "
            ),
            "{}",
            f.detail
        );
        // Typographic apostrophes and the extra words count too.
        assert!(!only(p.clone(), &input("You’ll win this case.")).passed);
        assert!(!only(p, &input("This plan cannot fail.")).passed);
    }

    #[test]
    fn promotional_posts_are_told_by_their_cues() {
        let mut p = Principle::new("modest", "We do not shout.");
        assert!(is_promotional(&[], "20% off every lamp this week"));
        assert!(!is_promotional(&[], "Thanks for the kind words!"));
        p.extra_promo_cues = vec!["free shipping".into()];
        assert!(is_promotional(&[p], "Free shipping until Sunday"));
    }

    #[test]
    fn max_self_promotion() {
        let p = Principle {
            max_self_promotion: Some(0.2),
            extra_promo_cues: vec!["free shipping".into()],
            ..Principle::new("engage", "We talk with people more than we sell to them.")
        };
        let history = |text: &str, posts, promos| DraftInput {
            recent_posts: posts,
            recent_promotional: promos,
            ..input(text)
        };
        // Promotional, but 1 of 5 with it: exactly at the limit.
        let f = only(p.clone(), &history("20% off this week only", 4, 0));
        assert!(f.passed, "{f:?}");
        assert_eq!(f.check, CheckKind::MaxSelfPromotion);

        // Not promotional: passes whatever the history.
        assert!(only(p.clone(), &history("How is your lamp working out?", 4, 4)).passed);

        // 2 of 5 would be promotional.
        let f = only(p.clone(), &history("Buy now, FREE shipping", 4, 1));
        assert!(!f.passed);
        assert_eq!(
            f.detail,
            "promotional (\"buy\", \"free shipping\"): 2 of the last 5 posts with this one would be promotional (40%, more than 20%): publish 5 non-promotional posts first, or drop the promotional wording"
        );
        // Whole words: "buyer" and "wholesale" are no cue.
        assert!(only(p, &history("Meet our buyer at the wholesale fair", 0, 0)).passed);
    }

    #[test]
    fn every_configured_check_reports_in_order() {
        let p = Principle {
            banned_phrases: vec!["whatever".into()],
            required_disclosure: Some("#ad".into()),
            min_sentiment: Some(-0.05),
            no_outcome_promises: true,
            max_self_promotion: Some(0.5),
            ..Principle::new("all", "Everything at once.")
        };
        let unchecked = Principle::new("statement only", "Be human.");
        let f = check_draft(&[unchecked, p], &input("Hello there"));
        let kinds: Vec<CheckKind> = f.iter().map(|f| f.check).collect();
        assert_eq!(
            kinds,
            vec![
                CheckKind::BannedPhrases,
                CheckKind::RequiredDisclosure,
                CheckKind::MinSentiment,
                CheckKind::NoOutcomePromises,
                CheckKind::MaxSelfPromotion,
            ]
        );
        assert!(f.iter().all(|f| f.passed && f.principle == "all"));
    }

    #[test]
    fn principles_from_toml_and_their_checks() {
        #[derive(Deserialize)]
        struct File {
            principle: Vec<Principle>,
        }
        let file: File = toml::from_str(
            r##"
[[principle]]
name = "honest"
statement = "We say when we are paid."
required_disclosure = "#ad"

[[principle]]
name = "kind"
statement = "Respect."
min_sentiment = -0.05
"##,
        )
        .unwrap();
        assert_eq!(
            file.principle[0].disclosure_triggers,
            vec!["sponsored", "partner", "gifted"]
        );
        assert!(validate(&file.principle).is_ok());
        assert!(
            toml::from_str::<File>("[[principle]]\nname = \"x\"\nstatement = \"y\"\nbaned = []\n")
                .is_err()
        );

        let dup = vec![Principle::new("a", "x"), Principle::new("a", "y")];
        assert_eq!(validate(&dup), Err(PrincipleError::Duplicate("a".into())));
        let bad = Principle {
            min_sentiment: Some(-2.0),
            ..Principle::new("kind", "x")
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[[principle]] \"kind\": min_sentiment = -2 is outside [-1, 1]; use e.g. -0.05 to refuse hostile drafts"
        );
        let bad = Principle {
            max_self_promotion: Some(20.0),
            ..Principle::new("engage", "x")
        };
        assert!(matches!(
            bad.validate(),
            Err(PrincipleError::MaxSelfPromotion { .. })
        ));
        let bad = Principle {
            banned_phrases: vec!["  ".into()],
            ..Principle::new("kind", "x")
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[[principle]] \"kind\": banned_phrases has a blank phrase; remove it or write one"
        );
        assert_eq!(
            validate(&[Principle::new(" ", "x")]),
            Err(PrincipleError::NoName)
        );
    }
}
