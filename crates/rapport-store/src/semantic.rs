//! Sentence embeddings of inbound messages (`message_embeddings`): what the background
//! embedding job has still to do, the vectors it writes, and the vectors the semantic
//! features read (similar conversations, the digest's themes, ideas by similarity).
//!
//! Only inbound messages are embedded: the semantic features are about what people say.
//! Each vector is stored with the model that made it; a vector of another model counts
//! as missing, so changing the model re-embeds everything in the background. Writing a
//! vector is an upsert, so two processes embedding at once waste work but never
//! duplicate or damage a row. A stored vector that is not a whole number of 32-bit
//! floats (cut short by hand, a bad restore) counts as missing too: every query here
//! reads only vectors of a usable length, so the features leave it out instead of
//! failing, and the job computes it again and replaces it.

use chrono::{DateTime, Utc};
use rapport_core::semantic::{vector_from_bytes, vector_to_bytes};
use sqlx::{AssertSqlSafe, Row};

use crate::{Store, StoreError, ms, time};

/// The SQL condition on a `message_embeddings e` row: a vector of the model bound as
/// `$1`, of a usable length (a whole number of 32-bit floats). A damaged vector so
/// counts as missing everywhere. A macro so that it goes into `concat!` at compile time.
macro_rules! vector_of_model {
    () => {
        "e.model = $1 AND length(e.vector) > 0 AND length(e.vector) % 4 = 0"
    };
}
pub(crate) use vector_of_model;

/// Rows read at a time when all vectors are read.
pub(crate) const PAGE: i64 = 10_000;

/// Messages the embedding job has still to do: inbound, with no vector of `model`.
const MISSING: &str = concat!(
    "FROM messages m LEFT JOIN message_embeddings e \
     ON e.message_id = m.id AND ",
    vector_of_model!(),
    " \
     WHERE m.direction = 'inbound' AND e.message_id IS NULL"
);

/// A message's vector with what the features show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedMessage {
    /// The message.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: Option<i64>,
    /// Its text.
    pub text: String,
    /// VADER's compound score.
    pub compound: f64,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The vector.
    pub vector: Vec<f32>,
}

/// How far the embedding job has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EmbeddingCounts {
    /// Inbound messages with a vector of the model.
    pub embedded: i64,
    /// Inbound messages without one.
    pub missing: i64,
}

/// A stored vector read back, or an error that says how to repair it (the queries only
/// read vectors of a usable length, so this is a last line of defence).
pub(crate) fn decode(bytes: &[u8], message: i64) -> Result<Vec<f32>, StoreError> {
    vector_from_bytes(bytes).map_err(|e| {
        StoreError::Invalid(format!(
            "the stored vector of message {message} is damaged ({e}); \
             delete it (DELETE FROM message_embeddings WHERE message_id = {message}) and the \
             embedding job computes it again"
        ))
    })
}

/// Ids for an `IN (...)` list: numbers only, so nothing can be injected.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Store {
    /// Up to `limit` inbound messages with no vector of `model`, after message id
    /// `after` (and written at `since` or later, when given), oldest id first:
    /// `(id, text)`.
    pub async fn messages_to_embed(
        &self,
        model: &str,
        since: Option<DateTime<Utc>>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT m.id, m.text {MISSING} AND m.id > $2 AND m.created_at >= $4 \
             ORDER BY m.id LIMIT $3"
        )))
        .bind(model)
        .bind(after)
        .bind(limit)
        .bind(since.map_or(i64::MIN, ms))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// The texts of these messages that have no vector of `model` (inbound or not: a
    /// feature that needs them now embeds them itself).
    pub async fn texts_without_vectors(
        &self,
        model: &str,
        ids: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let list = id_list(chunk);
            let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
                concat!(
                    "SELECT m.id, m.text FROM messages m LEFT JOIN message_embeddings e \
                 ON e.message_id = m.id AND ",
                    vector_of_model!(),
                    " \
                 WHERE m.id IN ({list}) AND e.message_id IS NULL ORDER BY m.id"
                ),
                list = list
            )))
            .bind(model)
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Stores vectors of `model`, replacing any earlier vector of those messages, in one
    /// transaction.
    pub async fn save_embeddings(
        &self,
        model: &str,
        vectors: &[(i64, Vec<f32>)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if vectors.is_empty() {
            return Ok(());
        }
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        for (id, v) in vectors {
            sqlx::query(
                "INSERT INTO message_embeddings (message_id, model, vector, embedded_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO UPDATE SET \
                 model = excluded.model, vector = excluded.vector, embedded_at = excluded.embedded_at",
            )
            .bind(id)
            .bind(model)
            .bind(vector_to_bytes(v))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many inbound messages have a vector of `model`, and how many do not.
    pub async fn embedding_counts(&self, model: &str) -> Result<EmbeddingCounts, StoreError> {
        let (missing,): (i64,) =
            sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) {MISSING}")))
                .bind(model)
                .fetch_one(&self.pool)
                .await?;
        let (embedded,): (i64,) = sqlx::query_as(concat!(
            "SELECT COUNT(*) FROM message_embeddings e JOIN messages m ON m.id = e.message_id \
             WHERE ",
            vector_of_model!(),
            " AND m.direction = 'inbound'"
        ))
        .bind(model)
        .fetch_one(&self.pool)
        .await?;
        Ok(EmbeddingCounts { embedded, missing })
    }

    /// The vectors of `model` of these messages (those that have one).
    pub async fn vectors_of(
        &self,
        model: &str,
        ids: &[i64],
    ) -> Result<Vec<(i64, Vec<f32>)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let list = id_list(chunk);
            let rows = sqlx::query(AssertSqlSafe(format!(
                concat!(
                    "SELECT e.message_id, e.vector FROM message_embeddings e \
                 WHERE ",
                    vector_of_model!(),
                    " AND e.message_id IN ({list}) ORDER BY e.message_id"
                ),
                list = list
            )))
            .bind(model)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let id: i64 = r.try_get(0)?;
                let bytes: Vec<u8> = r.try_get(1)?;
                out.push((id, decode(&bytes, id)?));
            }
        }
        Ok(out)
    }

    /// Every embedded inbound message of `model` written in `[from, to)` (all of them
    /// when `from` is `None`), oldest first, read a page at a time: `each` gets every
    /// message in turn.
    pub async fn each_embedded_message(
        &self,
        model: &str,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
        mut each: impl FnMut(EmbeddedMessage),
    ) -> Result<(), StoreError> {
        let from = from.map_or(i64::MIN, ms);
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(concat!(
                "SELECT m.id, m.conversation_id, m.text, m.compound, m.created_at, e.vector \
                 FROM message_embeddings e JOIN messages m ON m.id = e.message_id \
                 WHERE ",
                vector_of_model!(),
                " AND m.direction = 'inbound' AND m.created_at >= $2 \
                 AND m.created_at < $3 AND m.id > $4 ORDER BY m.id LIMIT $5"
            ))
            .bind(model)
            .bind(from)
            .bind(ms(to))
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let n = rows.len();
            for r in rows {
                let id: i64 = r.try_get(0)?;
                let bytes: Vec<u8> = r.try_get(5)?;
                after = id;
                each(EmbeddedMessage {
                    message_id: id,
                    conversation_id: r.try_get(1)?,
                    text: r.try_get(2)?,
                    compound: r.try_get(3)?,
                    created_at: time(r.try_get(4)?),
                    vector: decode(&bytes, id)?,
                });
            }
            if n < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }
}
