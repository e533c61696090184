//! The embedding job and the features that need vectors now: embedding what is still
//! missing (in the background while serving, or once from the command line), and the
//! vectors of particular messages (ideas being grouped, a conversation asked about).
//!
//! The job never runs inside ingest: it reads the messages that have no vector of the
//! model (`rapport_store::Store::messages_to_embed`), embeds a batch, and writes the
//! vectors in one transaction. A crash loses at most the batch in hand, which the next
//! run embeds again; a vector written twice is replaced, never duplicated.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rapport_semantic::{EmbedError, Embedder, MODEL_NAME};
use rapport_store::{Store, StoreError};

/// How long the background job waits between looks for new messages.
const EMBED_EVERY: Duration = Duration::from_secs(2);
/// The longest it waits after failures.
const EMBED_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// How often a job that keeps its place looks at every message again.
const EMBED_RESCAN: Duration = Duration::from_secs(300);

/// When a long-running job looks at every message again: every [`EMBED_RESCAN`].
#[derive(Debug)]
pub struct Cursor {
    rescanned: std::time::Instant,
}

impl Cursor {
    /// A cursor that rewinds [`EMBED_RESCAN`] from now.
    pub fn new() -> Self {
        Self {
            rescanned: std::time::Instant::now(),
        }
    }

    /// Sets `after` back to the first message when a rescan is due.
    pub fn rewind_when_due(&mut self, after: &mut i64) {
        if self.rescanned.elapsed() >= EMBED_RESCAN {
            *after = i64::MIN;
            self.rescanned = std::time::Instant::now();
        }
    }
}

impl Default for Cursor {
    fn default() -> Self {
        Self::new()
    }
}

/// Why the embedding job stopped.
#[derive(Debug, thiserror::Error)]
pub enum SemanticJobError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] EmbedError),
}

/// Runs `f`, which keeps a CPU busy, without stalling the runtime: on a multi-threaded
/// runtime the worker hands its other tasks on first (a single-threaded runtime, as the
/// CLI's, has no other worker to hand them to and runs it in place).
pub fn compute<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Embeds `texts` as `(message id, text)` and stores the vectors; how many.
async fn embed_and_save(
    store: &Store,
    embedder: &Embedder,
    texts: &[(i64, String)],
) -> Result<usize, SemanticJobError> {
    if texts.is_empty() {
        return Ok(0);
    }
    let strs: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
    let vectors = compute(|| embedder.embed(&strs))?;
    let rows: Vec<(i64, Vec<f32>)> = texts.iter().map(|(id, _)| *id).zip(vectors).collect();
    store.save_embeddings(MODEL_NAME, &rows, Utc::now()).await?;
    Ok(rows.len())
}

/// Embeds the inbound messages after message id `after` (written at `since` or later,
/// when given) that have no vector yet, `batch` at a time, oldest first, until none is
/// left (or `limit` are done), moving `after`
/// past each batch stored (a caller that keeps it does not scan the embedded messages
/// again; `i64::MIN` looks at every message); `progress` gets the running total after
/// each batch. Returns how many were embedded.
pub async fn embed_pending(
    store: &Store,
    embedder: &Embedder,
    batch: usize,
    limit: Option<usize>,
    since: Option<chrono::DateTime<Utc>>,
    after: &mut i64,
    mut progress: impl FnMut(usize),
) -> Result<usize, SemanticJobError> {
    let batch = batch.max(1);
    let mut done = 0usize;
    loop {
        let want = limit.map_or(batch, |l| batch.min(l.saturating_sub(done)));
        if want == 0 {
            return Ok(done);
        }
        let texts = store
            .messages_to_embed(
                MODEL_NAME,
                since,
                *after,
                i64::try_from(want).unwrap_or(i64::MAX),
            )
            .await?;
        let Some(last) = texts.last().map(|(id, _)| *id) else {
            return Ok(done);
        };
        done += embed_and_save(store, embedder, &texts).await?;
        *after = last;
        progress(done);
        if texts.len() < want {
            return Ok(done);
        }
    }
}

/// Makes sure these messages (any direction) have a vector: embeds those that have none.
/// Returns how many it embedded.
pub async fn embed_messages(
    store: &Store,
    embedder: &Embedder,
    ids: &[i64],
) -> Result<usize, SemanticJobError> {
    let missing = store.texts_without_vectors(MODEL_NAME, ids).await?;
    let mut done = 0;
    for chunk in missing.chunks(embedder.batch_size().max(1) * 4) {
        done += embed_and_save(store, embedder, chunk).await?;
    }
    Ok(done)
}

/// Embeds new inbound messages for as long as it runs: every two seconds, whatever has
/// arrived since (failures are logged and retried less often while they last). It looks
/// past the last message it embedded, and at every message again every few minutes (a
/// message committed late with a lower id, a vector deleted by hand).
pub async fn keep_embeddings_current(store: Store, embedder: Arc<Embedder>, batch: usize) {
    let mut wait = EMBED_EVERY;
    let mut after = i64::MIN;
    let mut cursor = Cursor::new();
    loop {
        cursor.rewind_when_due(&mut after);
        match embed_pending(&store, &embedder, batch, None, None, &mut after, |_| {}).await {
            Ok(0) => wait = EMBED_EVERY,
            Ok(n) => {
                tracing::debug!(embedded = n, "new messages embedded");
                wait = EMBED_EVERY;
            }
            Err(e) => {
                wait = (wait * 2).min(EMBED_BACKOFF_MAX);
                tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "cannot embed new messages");
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// A conversation like the one asked about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimilarConversation {
    /// The conversation.
    pub conversation_id: i64,
    /// The cosine of its closest message to the conversation asked about (the mean of
    /// that one's inbound messages), 1 for the same meaning.
    pub score: f32,
    /// That closest message.
    pub message_id: i64,
    /// Who started the conversation.
    pub author: String,
    /// Its first inbound message: what it is about.
    pub text: String,
    /// The conversation's status.
    pub status: String,
    /// Its intent.
    pub intent: String,
    /// When it opened.
    pub opened_at: chrono::DateTime<Utc>,
}

/// The `limit` conversations most like conversation `id`: the conversation's inbound
/// messages (embedded now if they have no vector yet) are averaged into one vector, and
/// every other embedded inbound message is ranked by its cosine to it in an exhaustive
/// in-memory index (`rapport_core::semantic::VectorIndex`); a conversation is as close as
/// its closest message. Messages not embedded yet are not found.
pub async fn similar_conversations(
    store: &Store,
    embedder: &Embedder,
    id: i64,
    limit: usize,
) -> Result<Vec<SimilarConversation>, SemanticJobError> {
    use rapport_core::semantic::{VectorIndex, mean_normalized};
    use std::collections::{HashMap, HashSet};

    let detail = store.conversation(id).await?;
    let mut own: Vec<i64> = detail
        .messages
        .iter()
        .filter(|m| m.direction == "inbound")
        .map(|m| m.id)
        .collect();
    if own.is_empty() {
        own = detail.messages.iter().map(|m| m.id).collect();
    }
    embed_messages(store, embedder, &own).await?;
    let vectors = store.vectors_of(MODEL_NAME, &own).await?;
    let Some(query) = mean_normalized(vectors.iter().map(|(_, v)| v.as_slice())) else {
        return Ok(Vec::new());
    };
    let mut index = VectorIndex::new(embedder.dim());
    let mut conversation_of: HashMap<i64, i64> = HashMap::new();
    let mut bad = None;
    store
        .each_embedded_message(
            MODEL_NAME,
            None,
            Utc::now() + chrono::Days::new(36_500),
            |m| {
                let Some(c) = m.conversation_id.filter(|c| *c != id) else {
                    return;
                };
                if let Err(e) = index.push(m.message_id, &m.vector) {
                    bad.get_or_insert((m.message_id, e));
                    return;
                }
                conversation_of.insert(m.message_id, c);
            },
        )
        .await?;
    if let Some((message, e)) = bad {
        tracing::warn!(message, error = %e, "a stored vector was left out of the search");
    }
    let mut seen = HashSet::new();
    let mut best: Vec<(i64, i64, f32)> = Vec::new();
    // A conversation may hold several of the closest messages: look deeper until
    // `limit` conversations are found or every message was ranked.
    let mut k = limit.max(1) * 8;
    loop {
        seen.clear();
        best.clear();
        let hits = compute(|| index.search(&query, k, |m| !conversation_of.contains_key(&m)));
        for hit in &hits {
            if let Some(&c) = conversation_of.get(&hit.id)
                && seen.insert(c)
            {
                best.push((c, hit.id, hit.score));
            }
        }
        if best.len() >= limit || hits.len() < k {
            break;
        }
        k *= 4;
    }
    best.truncate(limit);
    let mut out = Vec::with_capacity(best.len());
    for (c, message, score) in best {
        let detail = store.conversation(c).await?;
        // What the conversation is about: its first inbound message (the closest one
        // may be a reply such as "same here").
        let first = detail
            .messages
            .iter()
            .find(|m| m.direction == "inbound")
            .or(detail.messages.first());
        let (author, text) =
            first.map_or_else(Default::default, |m| (m.author.clone(), m.text.clone()));
        let conv = detail.conversation;
        out.push(SimilarConversation {
            conversation_id: c,
            score,
            message_id: message,
            author,
            text,
            status: conv.status,
            intent: conv.intent,
            opened_at: conv.opened_at,
        });
    }
    Ok(out)
}
