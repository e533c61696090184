//! Triage: one message's sentiment, intent and priority, with everything needed to
//! explain them. The same code runs for `rapport triage`, imports and connectors.
//!
//! With models learned from the team ([`crate::learn`], given by
//! [`Triager::with_models`]), a confident model decides over the rules:
//! - sentiment: VADER's scores are kept for explanation, but the compound score every
//!   later decision uses (the intent rules, priority, routing, the stored score) becomes
//!   `p(positive) − p(negative)`, kept inside the learned label's band;
//! - intent: the learned intent, with the rule `model:intent (p=0.93)`.

use serde::Serialize;

use std::sync::Arc;

use crate::intent::{IntentConfig, IntentDecision, IntentRules, IntentRulesError};
use crate::learn::{LearningConfig, Model};
use crate::model::{Band, Scores};
use crate::priority::{PriorityConfig, PriorityInputs, PriorityTerms, score};
use crate::sentiment::{Analyzer, shared};

/// What triage decided about one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage {
    /// VADER scores; when a learned sentiment decided, `compound` is the model's.
    pub scores: Scores,
    /// The learned sentiment, when a model decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learned_sentiment: Option<LearnedSentiment>,
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

/// A sentiment decided by a learned model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnedSentiment {
    /// positive, neutral or negative.
    pub label: String,
    /// The label's probability.
    pub confidence: f64,
    /// VADER's own compound score, which the model overrode.
    pub vader_compound: f64,
}

/// The rule name of an intent a learned model decided, e.g. `model:intent (p=0.93)`.
pub fn model_rule(confidence: f64) -> String {
    format!("model:intent (p={confidence:.2})")
}

/// The compound score of a learned sentiment: `p(positive) − p(negative)`, kept inside
/// the band of the learned label (positive ≥ 0.05, negative ≤ −0.05, neutral between).
pub fn learned_compound(label: &str, p_positive: f64, p_negative: f64) -> f64 {
    let c = p_positive - p_negative;
    match label {
        "positive" => c.max(0.05),
        "negative" => c.min(-0.05),
        _ => c.clamp(-0.049, 0.049),
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
    intent_model: Option<Arc<Model>>,
    sentiment_model: Option<Arc<Model>>,
    learning: LearningConfig,
}

impl Triager {
    /// Builds a triager from the configured cues and weights.
    pub fn new(intent: &IntentConfig, priority: &PriorityConfig) -> Result<Self, IntentRulesError> {
        Ok(Self {
            analyzer: shared(),
            intents: IntentRules::new(intent)?,
            priority: priority.clone(),
            intent_model: None,
            sentiment_model: None,
            learning: LearningConfig::default(),
        })
    }

    /// Adds the learned models: each decides when it is confident under `learning`.
    pub fn with_models(
        mut self,
        intent: Option<Arc<Model>>,
        sentiment: Option<Arc<Model>>,
        learning: &LearningConfig,
    ) -> Self {
        self.intent_model = intent;
        self.sentiment_model = sentiment;
        self.learning = learning.clone();
        self
    }

    /// The learned intent model, when there is one.
    pub fn intent_model(&self) -> Option<&Model> {
        self.intent_model.as_deref()
    }

    /// The learned sentiment model, when there is one.
    pub fn sentiment_model(&self) -> Option<&Model> {
        self.sentiment_model.as_deref()
    }

    /// The sentiment analyser in use.
    pub fn analyzer(&self) -> &'static Analyzer {
        self.analyzer
    }

    /// Triage one text.
    pub fn triage(&self, text: &str, reach: Reach) -> Triage {
        let mut scores = self.analyzer.scores(text);
        let mut learned_sentiment = None;
        if let Some(p) = self
            .sentiment_model
            .as_ref()
            .and_then(|m| m.confident(text, &self.learning))
        {
            let compound = learned_compound(&p.label, p.p("positive"), p.p("negative"));
            learned_sentiment = Some(LearnedSentiment {
                label: p.label,
                confidence: p.confidence,
                vader_compound: scores.compound,
            });
            scores.compound = compound;
        }
        let learned_intent = self
            .intent_model
            .as_ref()
            .and_then(|m| m.confident(text, &self.learning))
            .and_then(|p| {
                let intent = p.label.parse().ok()?;
                Some(IntentDecision {
                    intent,
                    rule: model_rule(p.confidence),
                })
            });
        let intent = learned_intent.unwrap_or_else(|| self.intents.classify(text, scores.compound));
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
            learned_sentiment,
            intent,
            priority,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::{Kind, TrainOptions};
    use crate::model::Intent;

    fn triager() -> Triager {
        Triager::new(&IntentConfig::default(), &PriorityConfig::default()).unwrap()
    }

    #[test]
    fn a_confident_model_decides_over_the_rules() {
        let texts = [
            "the update turned my hub into a paperweight",
            "a paperweight after the update",
            "hub is a paperweight overnight",
            "forty hubs for our offices",
            "pricing for our offices",
            "forty hubs for the chain",
        ];
        let sentiment = Model::train(
            Kind::Sentiment,
            &["positive", "neutral", "negative"],
            &texts,
            &[2, 2, 2, 1, 1, 1],
            TrainOptions::default(),
        )
        .unwrap();
        let intent = Model::train(
            Kind::Intent,
            &["complaint", "lead"],
            &texts,
            &[0, 0, 0, 1, 1, 1],
            TrainOptions::default(),
        )
        .unwrap();
        let learning = LearningConfig {
            min_confidence: 0.6,
            min_examples: 6,
        };
        let rules = triager().triage("my hub is a paperweight since the update", Reach::default());
        assert_eq!(rules.intent.intent, Intent::Other);
        assert!(rules.learned_sentiment.is_none());

        let t = triager()
            .with_models(
                Some(Arc::new(intent.clone())),
                Some(Arc::new(sentiment.clone())),
                &learning,
            )
            .triage("my hub is a paperweight since the update", Reach::default());
        assert_eq!(t.intent.intent, Intent::Complaint);
        assert!(
            t.intent.rule.starts_with("model:intent (p="),
            "{}",
            t.intent.rule
        );
        let s = t.learned_sentiment.as_ref().unwrap();
        assert_eq!(s.label, "negative");
        assert_eq!(s.vader_compound, rules.scores.compound);
        assert!(t.scores.compound <= -0.05);
        assert!(t.priority.negativity > rules.priority.negativity);

        // Not confident enough, or too few examples: the rules decide.
        for learning in [
            LearningConfig {
                min_confidence: 1.0,
                min_examples: 1,
            },
            LearningConfig {
                min_confidence: 0.0,
                min_examples: 7,
            },
        ] {
            let t = triager()
                .with_models(
                    Some(Arc::new(intent.clone())),
                    Some(Arc::new(sentiment.clone())),
                    &learning,
                )
                .triage("my hub is a paperweight since the update", Reach::default());
            assert_eq!(t, rules);
        }
    }

    #[test]
    fn learned_compound_stays_in_its_band() {
        assert_eq!(learned_compound("neutral", 0.25, 0.0), 0.049);
        assert_eq!(learned_compound("positive", 0.7, 0.1), 0.6);
        assert_eq!(learned_compound("negative", 0.4, 0.42), -0.05);
    }
}
