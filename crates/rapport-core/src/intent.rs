//! Intent: explainable rules over cue phrases (matched with aho-corasick, whole words,
//! case-insensitive) and the sentiment score. The rule that fired is returned with the
//! intent, so every decision can be explained.
//!
//! Rules, tried in this order (the first that holds decides):
//! 1. a spam cue → spam;
//! 2. a complaint cue → complaint;
//! 3. a lead cue → lead;
//! 4. an idea cue → idea;
//! 5. a question (a `?`, or a question cue such as "how do i") → question, unless the
//!    compound score is at or below `complaint_compound`, then complaint;
//! 6. compound at or below `complaint_compound` → complaint;
//! 7. a praise cue, or compound at or above `praise_compound` → praise;
//! 8. otherwise → other.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::model::Intent;

const SPAM: &[&str] = &[
    "free followers",
    "cheap followers",
    "buy followers",
    "click here",
    "click the link in my bio",
    "check my profile",
    "check out my profile",
    "dm me for",
    "dm for promo",
    "promo code",
    "crypto giveaway",
    "bitcoin giveaway",
    "earn $",
    "make money fast",
    "make money online",
    "work from home and earn",
    "investment opportunity",
    "forex",
    "whatsapp me",
    "100% free",
    "onlyfans",
    "guaranteed returns",
    "double your",
    "airdrop",
];

const COMPLAINT: &[&str] = &[
    "not working",
    "doesn't work",
    "does not work",
    "don't work",
    "stopped working",
    "isn't working",
    "won't connect",
    "can't connect",
    "cannot connect",
    "keeps disconnecting",
    "keeps crashing",
    "keeps dropping",
    "won't pair",
    "can't pair",
    "will not pair",
    "unreachable",
    "offline",
    "not responding",
    "stopped responding",
    "flickering",
    "flickers",
    "died",
    "crashes",
    "crashing",
    "broken",
    "broke",
    "defective",
    "faulty",
    "refund",
    "charged twice",
    "double charged",
    "overcharged",
    "still waiting",
    "never arrived",
    "hasn't arrived",
    "not arrived",
    "no response",
    "no reply",
    "nobody answers",
    "worst",
    "unacceptable",
    "ridiculous",
    "disappointed",
    "disappointing",
    "fed up",
    "frustrated",
    "frustrating",
    "cancel my",
    "cancelling",
    "never again",
    "never buy",
    "rip off",
    "ripoff",
    "scam",
    "bricked",
    "outage",
    "is down",
    "went down",
    "having trouble",
    "having issues",
    "problem with",
    "issue with",
    "bug",
    "error",
    "thanks for nothing",
    "waste of money",
    "complaint",
];

const LEAD: &[&str] = &[
    "pricing",
    "price list",
    "how much",
    "quote",
    "volume pricing",
    "bulk order",
    "bulk pricing",
    "wholesale",
    "reseller",
    "distributor",
    "enterprise plan",
    "business plan",
    "talk to sales",
    "sales team",
    "contact sales",
    "book a demo",
    "request a demo",
    "a demo",
    "free trial",
    "interested in buying",
    "looking to buy",
    "want to buy",
    "where can i buy",
    "who do i talk to",
    "for our office",
    "for our offices",
    "for our company",
    "partnership",
];

const IDEA: &[&str] = &[
    "would be great if",
    "would be nice if",
    "would be cool if",
    "would love it if",
    "would love to see",
    "it would help if",
    "feature request",
    "please add",
    "could you add",
    "can you add",
    "you should add",
    "you should make",
    "how about adding",
    "consider adding",
    "suggestion",
    "i suggest",
    "i wish",
    "wish list",
    "wishlist",
    "idea:",
    "an idea",
    "idea for",
    "please make",
    "please support",
];

const QUESTION: &[&str] = &[
    "how do i",
    "how can i",
    "how to",
    "does anyone know",
    "anyone know",
    "is there a way",
    "can i ",
    "can you tell",
    "do you know",
    "wondering if",
    "any idea how",
];

const PRAISE: &[&str] = &[
    "thank you",
    "thanks",
    "thx",
    "love",
    "loved",
    "loving",
    "awesome",
    "amazing",
    "great job",
    "well done",
    "kudos",
    "shoutout",
    "shout out",
    "props to",
    "fantastic",
    "brilliant",
    "impressed",
    "best",
    "excellent",
    "recommend",
];

/// Extra cue phrases from `[intent]` in `rapport.toml`, added to the built-in ones,
/// and the sentiment thresholds the rules use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntentConfig {
    /// Extra spam cues.
    pub spam: Vec<String>,
    /// Extra complaint cues.
    pub complaint: Vec<String>,
    /// Extra lead cues.
    pub lead: Vec<String>,
    /// Extra idea cues.
    pub idea: Vec<String>,
    /// Extra question cues.
    pub question: Vec<String>,
    /// Extra praise cues.
    pub praise: Vec<String>,
    /// At or below this compound score, a message with no cue is a complaint (default −0.5).
    pub complaint_compound: f64,
    /// At or above this compound score, a message with no cue is praise (default 0.5).
    pub praise_compound: f64,
}

impl Default for IntentConfig {
    fn default() -> Self {
        Self {
            spam: Vec::new(),
            complaint: Vec::new(),
            lead: Vec::new(),
            idea: Vec::new(),
            question: Vec::new(),
            praise: Vec::new(),
            complaint_compound: -0.5,
            praise_compound: 0.5,
        }
    }
}

/// Which rule decided the intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentDecision {
    /// The intent.
    pub intent: Intent,
    /// A short name of the rule that fired, e.g. `complaint cue "refund"`.
    pub rule: String,
}

/// The compiled rules.
#[derive(Debug, Clone)]
pub struct IntentRules {
    matcher: AhoCorasick,
    /// For each pattern index: the intent it cues and the phrase.
    cues: Vec<(Intent, String)>,
    complaint_compound: f64,
    praise_compound: f64,
}

/// Returned when a cue list cannot be compiled.
#[derive(Debug, thiserror::Error)]
#[error("cannot compile the intent cue phrases: {0}; check the [intent] lists in rapport.toml")]
pub struct IntentRulesError(String);

const ORDER: [Intent; 6] = [
    Intent::Spam,
    Intent::Complaint,
    Intent::Lead,
    Intent::Idea,
    Intent::Question,
    Intent::Praise,
];

/// The built-in cue phrases of each intent, in the order the rules try them (spam,
/// complaint, lead, idea, question, praise): what a peer implementation needs to
/// classify as rapport does (`rapport bench generate --cues`).
pub fn builtin_cues() -> [(Intent, &'static [&'static str]); 6] {
    [
        (Intent::Spam, SPAM),
        (Intent::Complaint, COMPLAINT),
        (Intent::Lead, LEAD),
        (Intent::Idea, IDEA),
        (Intent::Question, QUESTION),
        (Intent::Praise, PRAISE),
    ]
}

impl IntentRules {
    /// Compiles the built-in cues plus the configured ones.
    pub fn new(config: &IntentConfig) -> Result<Self, IntentRulesError> {
        let mut cues: Vec<(Intent, String)> = Vec::new();
        let extras: [&Vec<String>; 6] = [
            &config.spam,
            &config.complaint,
            &config.lead,
            &config.idea,
            &config.question,
            &config.praise,
        ];
        let lists = builtin_cues()
            .into_iter()
            .zip(extras)
            .map(|((intent, builtin), extra)| (intent, builtin, extra));
        for (intent, builtin, extra) in lists {
            for cue in builtin
                .iter()
                .map(|s| s.to_string())
                .chain(extra.iter().cloned())
            {
                let cue = cue.trim_end_matches(' ').to_lowercase();
                if !cue.is_empty() {
                    cues.push((intent, cue));
                }
            }
        }
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(cues.iter().map(|(_, c)| c.as_str()))
            .map_err(|e| IntentRulesError(e.to_string()))?;
        Ok(Self {
            matcher,
            cues,
            complaint_compound: config.complaint_compound,
            praise_compound: config.praise_compound,
        })
    }

    /// The built-in rules with no extra cues (tests use it).
    #[cfg(test)]
    pub fn builtin() -> Self {
        match Self::new(&IntentConfig::default()) {
            Ok(r) => r,
            // The built-in lists are constants that compile; this arm cannot be reached.
            Err(e) => panic!("built-in intent cues: {e}"),
        }
    }

    /// The first cue of each intent found in the text, as whole words.
    fn cues_in(&self, text: &str) -> [Option<&str>; 6] {
        let mut found: [Option<&str>; 6] = [None; 6];
        let bytes = text.as_bytes();
        for m in self.matcher.find_overlapping_iter(text) {
            let (intent, cue) = &self.cues[m.pattern().as_usize()];
            let Some(slot) = ORDER.iter().position(|i| i == intent) else {
                continue;
            };
            if found[slot].is_some() {
                continue;
            }
            let starts_ok = m.start() == 0 || !is_word_byte(bytes[m.start() - 1]);
            let last = cue.as_bytes().last().copied().unwrap_or(b' ');
            let ends_ok =
                m.end() == bytes.len() || !is_word_byte(last) || !is_word_byte(bytes[m.end()]);
            if starts_ok && ends_ok {
                found[slot] = Some(cue.as_str());
            }
        }
        found
    }

    /// Decides the intent of a text whose compound sentiment score is known.
    pub fn classify(&self, text: &str, compound: f64) -> IntentDecision {
        let found = self.cues_in(text);
        let decide = |intent: Intent, rule: String| IntentDecision { intent, rule };
        for (slot, intent) in ORDER.iter().enumerate().take(4) {
            if let Some(cue) = found[slot] {
                return decide(*intent, format!("{intent} cue \"{cue}\""));
            }
        }
        let asks = text.contains('?') || found[4].is_some();
        if asks {
            if compound <= self.complaint_compound {
                return decide(
                    Intent::Complaint,
                    format!(
                        "question with compound {compound:.3} ≤ {}",
                        self.complaint_compound
                    ),
                );
            }
            return match found[4] {
                Some(cue) => decide(Intent::Question, format!("question cue \"{cue}\"")),
                None => decide(Intent::Question, "question mark".to_string()),
            };
        }
        if compound <= self.complaint_compound {
            return decide(
                Intent::Complaint,
                format!("compound {compound:.3} ≤ {}", self.complaint_compound),
            );
        }
        if let Some(cue) = found[5]
            && compound > -0.05
        {
            return decide(Intent::Praise, format!("praise cue \"{cue}\""));
        }
        if compound >= self.praise_compound {
            return decide(
                Intent::Praise,
                format!("compound {compound:.3} ≥ {}", self.praise_compound),
            );
        }
        decide(Intent::Other, "no cue and mild sentiment".to_string())
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(text: &str, compound: f64) -> Intent {
        IntentRules::builtin().classify(text, compound).intent
    }

    #[test]
    fn cues_decide_in_order() {
        assert_eq!(intent("FREE FOLLOWERS click here!!", 0.5), Intent::Spam);
        assert_eq!(
            intent("my bulb keeps disconnecting, how do I fix it?", -0.2),
            Intent::Complaint
        );
        assert_eq!(
            intent("How much is volume pricing for 40 offices?", 0.0),
            Intent::Lead
        );
        assert_eq!(
            intent("Would be great if the app had a sunrise schedule", 0.6),
            Intent::Idea
        );
        assert_eq!(
            intent("Does the hub work with HomeKit?", 0.0),
            Intent::Question
        );
        assert_eq!(
            intent("Thank you so much, the support team was great", 0.8),
            Intent::Praise
        );
        assert_eq!(
            intent("just set up the lights in the kitchen", 0.0),
            Intent::Other
        );
    }

    #[test]
    fn cues_match_whole_words_only() {
        // "bug" inside "debugging" and "error" inside "terrorist" are not cues.
        let r = IntentRules::builtin();
        assert_eq!(
            r.classify("debugging my setup today", 0.0).intent,
            Intent::Other
        );
        assert_eq!(
            r.classify("Refund please", 0.0).rule,
            "complaint cue \"refund\""
        );
    }

    #[test]
    fn sentiment_decides_without_cues() {
        assert_eq!(
            intent("this is the pits, absolutely horrid", -0.8),
            Intent::Complaint
        );
        assert_eq!(intent("why is this so awful?", -0.6), Intent::Complaint);
        assert_eq!(intent("what a gorgeous sunset glow", 0.7), Intent::Praise);
        // A praise cue in a negative text is not praise.
        assert_eq!(intent("I used to love it, sad now", -0.3), Intent::Other);
    }

    #[test]
    fn configured_cues_are_added() {
        let cfg = IntentConfig {
            lead: vec!["franchise".into()],
            ..IntentConfig::default()
        };
        let r = IntentRules::new(&cfg).unwrap();
        let d = r.classify("Opening a franchise in Lyon", 0.0);
        assert_eq!(d.intent, Intent::Lead);
        assert_eq!(d.rule, "lead cue \"franchise\"");
    }
}
