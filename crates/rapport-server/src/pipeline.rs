//! From a `NewMessage` to a `Prepared` one: direction by the organisation's own
//! accounts, triage, routing. The same path for import, demo, connectors and webhooks.
//! [`Pipeline::load`] adds the models learned from the team (`rapport train`) that the
//! store keeps; [`Pipeline::new`] triages by the rules alone.

use std::sync::Arc;

use rapport_core::config::Config;
use rapport_core::intent::IntentRulesError;
use rapport_core::learn::{Kind, Model};
use rapport_core::listening::{TopicError, TopicMatcher};
use rapport_core::routing::{RouteInput, route};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Direction, NewMessage};
use rapport_store::{Prepared, Store, StoreError};

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
    /// The store, reading the learned models.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored model that cannot be read.
    #[error("the learned {kind} model: {reason}")]
    Model {
        /// Which model.
        kind: Kind,
        /// Why it cannot be read.
        reason: String,
    },
}

/// The learned model of `kind` the store keeps, if any.
pub async fn learned_model(store: &Store, kind: Kind) -> Result<Option<Model>, PipelineError> {
    let Some(stored) = store.model(kind).await? else {
        return Ok(None);
    };
    let model: Model = serde_json::from_str(&stored.model).map_err(|e| PipelineError::Model {
        kind,
        reason: format!("{e}; train it again with `rapport train {kind}`"),
    })?;
    if model.kind() != kind {
        return Err(PipelineError::Model {
            kind,
            reason: format!("it is a {} model", model.kind()),
        });
    }
    Ok(Some(model))
}

/// A triager with the learned models the store keeps (each decides when confident).
pub async fn triager(config: &Config, store: &Store) -> Result<Triager, PipelineError> {
    let intent = learned_model(store, Kind::Intent).await?.map(Arc::new);
    let sentiment = learned_model(store, Kind::Sentiment).await?.map(Arc::new);
    Ok(Triager::new(&config.intent, &config.priority)?.with_models(
        intent,
        sentiment,
        &config.learning,
    ))
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

    /// Builds the pipeline with the learned models the store keeps.
    pub async fn load(config: &Config, store: &Store) -> Result<Self, PipelineError> {
        Ok(Self {
            config: config.clone(),
            triager: triager(config, store).await?,
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
