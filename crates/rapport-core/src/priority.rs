//! The priority score and its bands, exactly as PRODUCT.md defines them:
//!
//! `intent_weight × (1 + max(0, −compound)) × log10(followers + 10) × (1 + log10(1 + reshares + replies))`
//!
//! Every term is kept so that `rapport explain` can show how the score was made.

use serde::{Deserialize, Serialize};

use crate::model::{Band, Intent};

/// How much each intent weighs in the priority score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntentWeights {
    /// Weight of a complaint (default 3).
    pub complaint: f64,
    /// Weight of a question (default 2).
    pub question: f64,
    /// Weight of a lead (default 2).
    pub lead: f64,
    /// Weight of an idea (default 1).
    pub idea: f64,
    /// Weight of praise (default 1).
    pub praise: f64,
    /// Weight of anything else (default 0.5).
    pub other: f64,
    /// Weight of spam (default 0).
    pub spam: f64,
}

impl Default for IntentWeights {
    fn default() -> Self {
        Self {
            complaint: 3.0,
            question: 2.0,
            lead: 2.0,
            idea: 1.0,
            praise: 1.0,
            other: 0.5,
            spam: 0.0,
        }
    }
}

impl IntentWeights {
    /// The weight of one intent.
    pub fn of(&self, intent: Intent) -> f64 {
        match intent {
            Intent::Complaint => self.complaint,
            Intent::Question => self.question,
            Intent::Lead => self.lead,
            Intent::Idea => self.idea,
            Intent::Praise => self.praise,
            Intent::Other => self.other,
            Intent::Spam => self.spam,
        }
    }
}

/// The lowest score of each band; below `p3` is P4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandThresholds {
    /// P1 at or above this score (default 20).
    pub p1: f64,
    /// P2 at or above this score (default 8).
    pub p2: f64,
    /// P3 at or above this score (default 3).
    pub p3: f64,
}

impl Default for BandThresholds {
    fn default() -> Self {
        Self {
            p1: 20.0,
            p2: 8.0,
            p3: 3.0,
        }
    }
}

impl BandThresholds {
    /// The band a score falls in.
    pub fn band(&self, score: f64) -> Band {
        if score >= self.p1 {
            Band::P1
        } else if score >= self.p2 {
            Band::P2
        } else if score >= self.p3 {
            Band::P3
        } else {
            Band::P4
        }
    }
}

/// The `[priority]` section of `rapport.toml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityConfig {
    /// Intent weights.
    pub weights: IntentWeights,
    /// Band thresholds.
    pub bands: BandThresholds,
}

/// What the score is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityInputs {
    /// The message's intent.
    pub intent: Intent,
    /// VADER compound score.
    pub compound: f64,
    /// The author's followers (0 when unknown).
    pub followers: u64,
    /// Reshares so far.
    pub reshares: u64,
    /// Replies so far.
    pub replies: u64,
}

/// The score and each of its four factors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PriorityTerms {
    /// `intent_weight`: the configured weight of the intent.
    pub intent_weight: f64,
    /// `1 + max(0, −compound)`: negativity, 1 to 2.
    pub negativity: f64,
    /// `log10(followers + 10)`: reach, 1 and up.
    pub reach: f64,
    /// `1 + log10(1 + reshares + replies)`: velocity, 1 and up.
    pub velocity: f64,
    /// The product of the four.
    pub score: f64,
    /// The band of the score.
    pub band: Band,
}

/// Computes the priority score and its band.
pub fn score(inputs: &PriorityInputs, config: &PriorityConfig) -> PriorityTerms {
    let intent_weight = config.weights.of(inputs.intent);
    let negativity = 1.0 + (-inputs.compound).max(0.0);
    let reach = (inputs.followers as f64 + 10.0).log10();
    let velocity = 1.0 + (1.0 + inputs.reshares as f64 + inputs.replies as f64).log10();
    let score = intent_weight * negativity * reach * velocity;
    PriorityTerms {
        intent_weight,
        negativity,
        reach,
        velocity,
        score,
        band: config.bands.band(score),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(intent: Intent, compound: f64, followers: u64, shares: u64) -> PriorityInputs {
        PriorityInputs {
            intent,
            compound,
            followers,
            reshares: shares,
            replies: 0,
        }
    }

    #[test]
    fn product_example_high_reach_complaint_is_p1_at_32() {
        let t = score(
            &inputs(Intent::Complaint, -0.8, 1_000_000, 0),
            &PriorityConfig::default(),
        );
        assert!((t.score - 32.4).abs() < 0.01, "{}", t.score);
        assert_eq!(t.band, Band::P1);
        assert!((t.intent_weight * t.negativity * t.reach * t.velocity - t.score).abs() < 1e-12);
    }

    #[test]
    fn spam_scores_zero_and_positive_text_adds_no_negativity() {
        let cfg = PriorityConfig::default();
        assert_eq!(
            score(&inputs(Intent::Spam, -1.0, 5_000_000, 99), &cfg).score,
            0.0
        );
        let t = score(&inputs(Intent::Praise, 0.9, 0, 0), &cfg);
        assert_eq!(t.negativity, 1.0);
        assert_eq!(t.reach, 1.0);
        assert_eq!(t.velocity, 1.0);
        assert_eq!(t.band, Band::P4);
    }

    #[test]
    fn velocity_counts_reshares_and_replies() {
        let t = score(
            &PriorityInputs {
                intent: Intent::Question,
                compound: 0.0,
                followers: 90,
                reshares: 5,
                replies: 4,
            },
            &PriorityConfig::default(),
        );
        // 2 × 1 × log10(100)=2 × (1 + log10(10))=2 → 8: exactly the P2 threshold.
        assert!((t.score - 8.0).abs() < 1e-9);
        assert_eq!(t.band, Band::P2);
    }

    #[test]
    fn bands_follow_thresholds() {
        let b = BandThresholds::default();
        assert_eq!(b.band(20.0), Band::P1);
        assert_eq!(b.band(19.99), Band::P2);
        assert_eq!(b.band(8.0), Band::P2);
        assert_eq!(b.band(3.0), Band::P3);
        assert_eq!(b.band(2.99), Band::P4);
    }
}
