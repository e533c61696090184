//! Learning from the team: corrections and the trained models.
//!
//! A correction is one row in `corrections` and one `corrected` event on the message's
//! conversation (`{"message", "field", "old", "new"}`), in one transaction.
//! - An intent correction also changes the stored message's intent (its `intent_rule`
//!   becomes `corrected by <actor>`) and, when the message is its conversation's root,
//!   the conversation's intent. The priority score and band are left as they were:
//!   re-ranking a conversation someone is already looking at would move it under them.
//! - A sentiment correction changes nothing else: VADER's stored scores stay (they are
//!   what the rules saw); the correction is training data for `rapport train sentiment`,
//!   and the event log says what the agent thought.
//!
//! Training uses each message's latest correction of a field. A trained model is kept
//! per kind in `learned_models` (replaced on retraining), with a `model_trained` event.

use chrono::{DateTime, Utc};
use rapport_core::SentimentBand;
use rapport_core::learn::Kind;
use serde::Serialize;
use serde_json::json;

use crate::ingest::event;
use crate::{Store, StoreError, ms, time};

/// A stored correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correction {
    /// Its id.
    pub id: i64,
    /// The message corrected.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: Option<i64>,
    /// `intent` or `sentiment`.
    pub field: String,
    /// What it was before.
    pub old: String,
    /// What the agent says it is.
    pub new: String,
    /// Who corrected it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A text and its corrected label: what training learns from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledText {
    /// The message.
    pub message_id: i64,
    /// Its text.
    pub text: String,
    /// The latest corrected label.
    pub label: String,
}

/// A stored model and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredModel {
    /// `intent` or `sentiment`.
    pub kind: String,
    /// The model (JSON of `rapport_core::learn::ModelFile`).
    #[serde(skip)]
    pub model: String,
    /// `corrections`, or the labelled file's name.
    pub source: String,
    /// Texts it was trained on.
    pub examples: i64,
    /// Who trained it.
    pub trained_by: String,
    /// When.
    pub trained_at: DateTime<Utc>,
}

type CorrectionRow = (i64, i64, Option<i64>, String, String, String, String, i64);

impl Store {
    /// Records that `actor` says message `message_id`'s `kind` is `value` (an intent, or
    /// positive / neutral / negative), with its event; see the module for what changes.
    pub async fn correct(
        &self,
        message_id: i64,
        kind: Kind,
        value: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Correction, StoreError> {
        let new = kind
            .label(value)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let row: Option<(Option<i64>, String, f64)> =
            sqlx::query_as("SELECT conversation_id, intent, compound FROM messages WHERE id = $1")
                .bind(message_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((conversation, intent, compound)) = row else {
            return Err(StoreError::NotFound {
                what: "message",
                id: message_id,
            });
        };
        let old = match kind {
            Kind::Intent => intent,
            Kind::Sentiment => {
                let last: Option<(String,)> = sqlx::query_as(
                    "SELECT new_value FROM corrections WHERE message_id = $1 AND field = 'sentiment' \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(message_id)
                .fetch_optional(&mut *tx)
                .await?;
                last.map_or_else(
                    || SentimentBand::of(compound).as_str().to_string(),
                    |(v,)| v,
                )
            }
        };
        let at = ms(now);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO corrections (message_id, field, old_value, new_value, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(message_id)
        .bind(kind.as_str())
        .bind(&old)
        .bind(new)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        if kind == Kind::Intent {
            sqlx::query("UPDATE messages SET intent = $1, intent_rule = $2 WHERE id = $3")
                .bind(new)
                .bind(format!("corrected by {actor}"))
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE conversations SET intent = $1, updated_at = $2 WHERE root_message_id = $3",
            )
            .bind(new)
            .bind(at)
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        }
        event(
            &mut tx,
            conversation,
            "corrected",
            actor,
            at,
            json!({"message": message_id, "field": kind.as_str(), "old": old, "new": new}),
        )
        .await?;
        tx.commit().await?;
        Ok(Correction {
            id,
            message_id,
            conversation_id: conversation,
            field: kind.as_str().to_string(),
            old,
            new: new.to_string(),
            actor: actor.to_string(),
            at: time(at),
        })
    }

    /// Every correction, oldest first; only one field's with `kind`.
    pub async fn corrections(&self, kind: Option<Kind>) -> Result<Vec<Correction>, StoreError> {
        let rows: Vec<CorrectionRow> = sqlx::query_as(
            "SELECT c.id, c.message_id, m.conversation_id, c.field, c.old_value, c.new_value, c.actor, c.at \
             FROM corrections c JOIN messages m ON m.id = c.message_id \
             WHERE c.field = $1 OR $2 = 'all' ORDER BY c.id",
        )
        .bind(kind.map_or("all", Kind::as_str))
        .bind(kind.map_or("all", Kind::as_str))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, message_id, conversation_id, field, old, new, actor, at)| Correction {
                    id,
                    message_id,
                    conversation_id,
                    field,
                    old,
                    new,
                    actor,
                    at: time(at),
                },
            )
            .collect())
    }

    /// The corrected texts of one kind: each message once, with its latest correction,
    /// in the order of those corrections.
    pub async fn corrected_texts(&self, kind: Kind) -> Result<Vec<LabelledText>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT c.message_id, m.text, c.new_value FROM corrections c \
             JOIN messages m ON m.id = c.message_id \
             WHERE c.field = $1 AND c.id = (SELECT MAX(c2.id) FROM corrections c2 \
               WHERE c2.message_id = c.message_id AND c2.field = c.field) \
             ORDER BY c.id",
        )
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(message_id, text, label)| LabelledText {
                message_id,
                text,
                label,
            })
            .collect())
    }

    /// Keeps `model` (JSON) as the model of `kind`, replacing the last, with a
    /// `model_trained` event.
    pub async fn save_model(
        &self,
        kind: Kind,
        model: &str,
        source: &str,
        examples: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO learned_models (kind, model, source, examples, trained_by, trained_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind) DO UPDATE SET model = excluded.model, \
             source = excluded.source, examples = excluded.examples, trained_by = excluded.trained_by, \
             trained_at = excluded.trained_at",
        )
        .bind(kind.as_str())
        .bind(model)
        .bind(source)
        .bind(examples)
        .bind(actor)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            None,
            "model_trained",
            actor,
            at,
            json!({"kind": kind.as_str(), "source": source, "examples": examples}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored model of `kind`, if one was trained.
    pub async fn model(&self, kind: Kind) -> Result<Option<StoredModel>, StoreError> {
        let row: Option<(String, String, String, i64, String, i64)> = sqlx::query_as(
            "SELECT kind, model, source, examples, trained_by, trained_at FROM learned_models WHERE kind = $1",
        )
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(kind, model, source, examples, trained_by, trained_at)| StoredModel {
                kind,
                model,
                source,
                examples,
                trained_by,
                trained_at: time(trained_at),
            },
        ))
    }
}
