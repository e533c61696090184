//! Triage: one message's sentiment, intent and priority, with everything needed to
//! explain them. The same code runs for `rapport triage`, imports and connectors.

use serde::Serialize;

use crate::intent::{IntentConfig, IntentDecision, IntentRules, IntentRulesError};
use crate::model::{Band, Scores};
use crate::priority::{PriorityConfig, PriorityInputs, PriorityTerms, score};
use crate::sentiment::{Analyzer, shared};

/// What triage decided about one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage {
    /// VADER scores.
    pub scores: Scores,
    /// Intent and the rule that fired.
    pub intent: IntentDecision,
    /// The priority score and its terms.
    pub priority: PriorityTerms,
}

impl Triage {
    /// The priority band.
    pub fn band(&self) -> Band {
        self.priority.band
    }
}

/// The reach and velocity of a message, where known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reach {
    /// Author's followers.
    pub followers: u64,
    /// Reshares.
    pub reshares: u64,
    /// Replies.
    pub replies: u64,
}

/// Everything triage needs, built once and shared.
#[derive(Debug, Clone)]
pub struct Triager {
    analyzer: &'static Analyzer,
    intents: IntentRules,
    priority: PriorityConfig,
}

impl Triager {
    /// Builds a triager from the configured cues and weights.
    pub fn new(intent: &IntentConfig, priority: &PriorityConfig) -> Result<Self, IntentRulesError> {
        Ok(Self {
            analyzer: shared(),
            intents: IntentRules::new(intent)?,
            priority: priority.clone(),
        })
    }

    /// The sentiment analyser in use.
    pub fn analyzer(&self) -> &'static Analyzer {
        self.analyzer
    }

    /// Triage one text.
    pub fn triage(&self, text: &str, reach: Reach) -> Triage {
        let scores = self.analyzer.scores(text);
        let intent = self.intents.classify(text, scores.compound);
        let priority = score(
            &PriorityInputs {
                intent: intent.intent,
                compound: scores.compound,
                followers: reach.followers,
                reshares: reach.reshares,
                replies: reach.replies,
            },
            &self.priority,
        );
        Triage {
            scores,
            intent,
            priority,
        }
    }
}
