//! The outbox: replies waiting to be sent through a platform.
//!
//! A reply that goes out through a channel is written first, with its outbox row, in one
//! transaction ([`Store::reply_via`]); only then is it sent. The row holds the request,
//! decided once, with its idempotency key (Mastodon's `Idempotency-Key`, Bluesky's record
//! key), so however many times a send is retried — after a timeout, a 5xx, a crash — the
//! platform sees one post. Sent, the outbound message takes the platform's id for the
//! post ([`Store::outbox_sent`]), so threading and later replies find it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;

use crate::actions::SendVia;
use crate::ingest::event;
use crate::{Store, StoreError, ms};

/// One reply to send.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxRow {
    /// The outbox row.
    pub id: i64,
    /// The outbound message it sends.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// The channel that sends it.
    pub channel: String,
    /// The key that makes a retry safe: the same on every attempt.
    pub idempotency_key: String,
    /// What to send (JSON, the channel's shape).
    pub request: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// The platform's id of the post, once sent.
    pub remote_id: Option<String>,
}

/// The target of a reply: the conversation's latest inbound message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReplyTarget {
    /// The message.
    pub message_id: i64,
    /// Its platform.
    pub platform: String,
    /// Its id there.
    pub platform_id: String,
    /// Its author's handle.
    pub author: String,
    /// How to answer it there (JSON), when the platform needs more than the id.
    pub reply_ref: Option<String>,
}

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    conversation_id: i64,
    message_id: i64,
    via: &SendVia,
    at: i64,
) -> Result<i64, StoreError> {
    let key = format!("rapport-reply-{conversation_id}-{message_id}");
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (message_id, conversation_id, channel, idempotency_key, request, state, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id",
    )
    .bind(message_id)
    .bind(conversation_id)
    .bind(&via.channel)
    .bind(&key)
    .bind(&via.request)
    .bind(at)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

const COLUMNS: &str = "id, message_id, conversation_id, channel, idempotency_key, request, state, \
                       attempts, last_error, remote_id";

impl Store {
    /// The conversation's latest inbound message: what a reply answers.
    pub async fn reply_target(&self, conversation: i64) -> Result<Option<ReplyTarget>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id AS message_id, platform, platform_id, author, reply_ref FROM messages \
             WHERE conversation_id = $1 AND direction = 'inbound' ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// One outbox row.
    pub async fn outbox_row(&self, id: i64) -> Result<OutboxRow, StoreError> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound {
            what: "outbox entry",
            id,
        })
    }

    /// Replies still to send, oldest first; only `channel`'s when given.
    pub async fn pending_outbox(
        &self,
        channel: Option<&str>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.pending_outbox_since(channel, None).await
    }

    /// Replies still to send that nobody touched after `untouched_since` (a reply being
    /// sent right now by `rapport reply` is left to it).
    pub async fn pending_outbox_since(
        &self,
        channel: Option<&str>,
        untouched_since: Option<DateTime<Utc>>,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' AND ($1 IS NULL OR channel = $1) \
             AND ($2 IS NULL OR updated_at <= $2) ORDER BY id"
        )))
        .bind(channel)
        .bind(untouched_since.map(ms))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every outbox row of a conversation, oldest first.
    pub async fn conversation_outbox(
        &self,
        conversation: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE conversation_id = $1 ORDER BY id"
        )))
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a send that reached the platform: the outbound message takes the post's
    /// id (`remote_id`) and address. When the platform's stream delivered that post
    /// before this call (the organisation's own posts are ingested too), the copy it
    /// made is folded into this message, so the post is stored once.
    pub async fn outbox_sent(
        &self,
        id: i64,
        remote_id: &str,
        url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let (message_id, conversation_id, state): (i64, i64, String) =
            sqlx::query_as("SELECT message_id, conversation_id, state FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound {
                    what: "outbox entry",
                    id,
                })?;
        if state == "sent" {
            return Ok(());
        }
        let (platform,): (String,) = sqlx::query_as("SELECT platform FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_one(&mut *tx)
            .await?;
        let copy: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, conversation_id FROM messages WHERE platform = $1 AND platform_id = $2 AND id != $3",
        )
        .bind(&platform)
        .bind(remote_id)
        .bind(message_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((copy_id, copy_conv)) = copy {
            sqlx::query("DELETE FROM message_embeddings WHERE message_id = $1")
                .bind(copy_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM messages WHERE id = $1")
                .bind(copy_id)
                .execute(&mut *tx)
                .await?;
            if let Some(conv) = copy_conv {
                sqlx::query(
                    "UPDATE conversations SET message_count = CASE WHEN message_count > 0 THEN message_count - 1 ELSE 0 END WHERE id = $1",
                )
                .bind(conv)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE messages SET platform_id = $1, url = COALESCE($2, url) WHERE id = $3")
            .bind(remote_id)
            .bind(url)
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, remote_id = $1, last_error = NULL, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(remote_id)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            Some(conversation_id),
            "reply_sent",
            "rapport",
            at,
            json!({"outbox": id, "message": message_id, "remote_id": remote_id, "url": url}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt. With `give_up` (the platform refused the request itself,
    /// e.g. a reply too long or a deleted parent) the row is `failed` and no longer
    /// retried; otherwise it stays `pending` for the next try.
    pub async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        give_up: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT conversation_id FROM outbox WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        // Another sender finished it meanwhile (its key made the two one post).
        let Some((conversation_id,)) = row else {
            return Ok(());
        };
        sqlx::query(
            "UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(if give_up { "failed" } else { "pending" })
        .bind(error)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if give_up {
            event(
                &mut tx,
                Some(conversation_id),
                "reply_failed",
                "rapport",
                at,
                json!({"outbox": id, "error": error}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
