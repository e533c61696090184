//! From a `NewMessage` to a `Prepared` one: direction by the organisation's own
//! accounts, triage, routing. The same path for import, demo, connectors and webhooks.

use rapport_core::config::Config;
use rapport_core::intent::IntentRulesError;
use rapport_core::listening::{TopicError, TopicMatcher};
use rapport_core::routing::{RouteInput, route};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Direction, NewMessage};
use rapport_store::Prepared;

/// Triage and routing, built once from the configuration.
pub struct Pipeline {
    config: Config,
    triager: Triager,
    topics: TopicMatcher,
}

/// A configuration the pipeline cannot be built from.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The intent cues.
    #[error(transparent)]
    Intent(#[from] IntentRulesError),
    /// The listening topics.
    #[error(transparent)]
    Topic(#[from] TopicError),
}

impl Pipeline {
    /// Builds the pipeline.
    pub fn new(config: &Config) -> Result<Self, PipelineError> {
        Ok(Self {
            config: config.clone(),
            triager: Triager::new(&config.intent, &config.priority)?,
            topics: TopicMatcher::new(&config.topics)?,
        })
    }

    /// The listening topics, compiled.
    pub fn topics(&self) -> &TopicMatcher {
        &self.topics
    }

    /// Triage and route one message.
    pub fn prepare(&self, mut message: NewMessage) -> Prepared {
        if self.config.is_own_account(&message.author) {
            message.direction = Direction::Outbound;
        }
        if self.config.is_bot(&message.author) {
            message.automated = true;
        }
        let triage = self.triager.triage(
            &message.text,
            Reach {
                followers: message.followers.unwrap_or(0),
                reshares: message.reshares,
                replies: message.replies,
            },
        );
        let route = route(
            &self.config.rules,
            &RouteInput {
                intent: triage.intent.intent,
                band: triage.priority.band,
                compound: triage.scores.compound,
                followers: message.followers.unwrap_or(0),
                platform: &message.platform,
                text: &message.text,
            },
        );
        let topics = self.topics.topics_of(&message.text, &message.platform);
        Prepared {
            message,
            triage,
            route,
            reply_ref: None,
            html: None,
            topics,
        }
    }
}
