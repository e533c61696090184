//! What people do to a conversation: reply, assign, change status, note, label. Each
//! change is one transaction that also appends its event.

use chrono::{DateTime, Utc};
use rapport_core::{Band, Status};
use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;

use crate::ingest::{band_of, event, mark_resolved, outbound_joins};
use crate::{Store, StoreError, ms, time};

/// What `reply` stored.
#[derive(Debug, Clone, Serialize)]
pub struct ReplyOutcome {
    /// The conversation.
    pub conversation_id: i64,
    /// The stored outbound message.
    pub message_id: i64,
    /// Whether it was the conversation's first human response.
    pub first_response: bool,
    /// The outbox row that will send it through its platform, when it goes out.
    pub outbox_id: Option<i64>,
}

/// How a reply goes out through a platform: the channel and the request, decided once
/// (see [`crate::outbox`]).
#[derive(Debug, Clone)]
pub struct SendVia {
    /// The channel that sends it.
    pub channel: String,
    /// What to send (JSON, the channel's own shape), with the reply's idempotency data.
    pub request: String,
}

async fn current_status(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<(String, Option<i64>), StoreError> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT status, merged_into FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Err(StoreError::NotFound {
            what: "conversation",
            id,
        }),
        Some((_, Some(into))) => Err(StoreError::Invalid(format!(
            "conversation {id} was merged into {into}: act on {into} instead"
        ))),
        Some(r) => Ok(r),
    }
}

impl Store {
    /// Conversations waiting on the organisation past their due time at `now`.
    pub async fn overdue(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM conversations WHERE merged_into IS NULL AND status != 'resolved' \
             AND due_at IS NOT NULL AND due_at < $1",
        )
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// The conversation that holds a message, by its platform id.
    pub async fn conversation_of(
        &self,
        platform: &str,
        platform_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT conversation_id FROM messages WHERE platform = $1 AND platform_id = $2",
        )
        .bind(platform)
        .bind(platform_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(c,)| c))
    }

    /// Records an outbound human reply by `actor` (it counts as a response), kept here
    /// only (imported data has no platform to answer through).
    pub async fn reply(
        &self,
        id: i64,
        text: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ReplyOutcome, StoreError> {
        self.reply_via(id, text, actor, now, None).await
    }

    /// Records an outbound human reply by `actor` and, with `via`, queues it to be sent
    /// through a channel: the message and its outbox row are one transaction, so a reply
    /// is never sent without being recorded, nor recorded without being sent eventually.
    pub async fn reply_via(
        &self,
        id: i64,
        text: &str,
        actor: &str,
        now: DateTime<Utc>,
        via: Option<SendVia>,
    ) -> Result<ReplyOutcome, StoreError> {
        if text.trim().is_empty() {
            return Err(StoreError::Invalid(
                "the reply is empty: write some text".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        current_status(&mut tx, id).await?;
        let (platform, first_response_at): (String, Option<i64>) =
            sqlx::query_as("SELECT platform, first_response_at FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let parent: Option<(String,)> = sqlx::query_as(
            "SELECT platform_id FROM messages WHERE conversation_id = $1 AND direction = 'inbound' \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let at = ms(now);
        let seq = event(
            &mut tx,
            Some(id),
            "replied",
            actor,
            at,
            json!({"text": text}),
        )
        .await?;
        let (message_id,): (i64,) = sqlx::query_as(
            "INSERT INTO messages (platform, platform_id, conversation_id, direction, is_reply, automated, author, \
             text, created_at, in_reply_to, compound, pos, neu, neg, intent, intent_rule, priority_score, band, \
             sent_by, stored_at) VALUES ($1, $2, $3, 'outbound', 1, 0, $4, $5, $6, $7, 0, 0, 1, 0, 'other', 'outbound', 0, 4, $8, $9) \
             RETURNING id",
        )
        .bind(&platform)
        .bind(format!("rapport-reply-{seq}"))
        .bind(id)
        .bind(actor)
        .bind(text)
        .bind(at)
        .bind(parent.map(|(p,)| p))
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        outbound_joins(&mut tx, id, false, at).await?;
        let outbox_id = match via {
            Some(via) => Some(crate::outbox::enqueue(&mut tx, id, message_id, &via, at).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(ReplyOutcome {
            conversation_id: id,
            message_id,
            first_response: first_response_at.is_none(),
            outbox_id,
        })
    }

    /// Assigns to a member (`to`), or moves to a team (unassigned) when `team` is given.
    pub async fn assign(
        &self,
        id: i64,
        to: Option<&str>,
        team: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        current_status(&mut tx, id).await?;
        let (old_team, old_assignee): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT team, assignee FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let at = ms(now);
        if let Some(t) = team {
            sqlx::query(
                "UPDATE conversations SET team = $1, assignee = NULL, updated_at = $2 WHERE id = $3",
            )
            .bind(t)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            event(
                &mut tx,
                Some(id),
                "team",
                actor,
                at,
                json!({"from": old_team, "to": t}),
            )
            .await?;
        }
        if let Some(user) = to {
            sqlx::query("UPDATE conversations SET assignee = $1, updated_at = $2 WHERE id = $3")
                .bind(user)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            event(
                &mut tx,
                Some(id),
                "assigned",
                actor,
                at,
                json!({"from": old_assignee, "to": user}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes the status; resolving clears what is due, reopening starts a new clock.
    /// `due_if_reopened` is the due time a reopened conversation gets.
    pub async fn set_status(
        &self,
        id: i64,
        status: Status,
        actor: &str,
        now: DateTime<Utc>,
        due_if_reopened: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let (old, _) = current_status(&mut tx, id).await?;
        if old == status.as_str() {
            return Ok(false);
        }
        let at = ms(now);
        let reopening = old == "resolved" && status != Status::Resolved;
        match status {
            Status::Resolved => mark_resolved(&mut tx, id, at).await?,
            _ => {
                sqlx::query(
                    "UPDATE conversations SET status = $1, due_at = CASE WHEN $2 THEN $3 ELSE due_at END, updated_at = $4 WHERE id = $5",
                )
                .bind(status.as_str())
                .bind(reopening)
                .bind(due_if_reopened.map(ms))
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        if reopening {
            event(
                &mut tx,
                Some(id),
                "reopened",
                actor,
                at,
                json!({"to": status.as_str()}),
            )
            .await?;
        } else {
            event(
                &mut tx,
                Some(id),
                "status",
                actor,
                at,
                json!({"from": old, "to": status.as_str()}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a private note.
    pub async fn note(
        &self,
        id: i64,
        text: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if text.trim().is_empty() {
            return Err(StoreError::Invalid(
                "the note is empty: write some text".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        current_status(&mut tx, id).await?;
        let at = ms(now);
        sqlx::query(
            "INSERT INTO notes (conversation_id, author, text, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(actor)
        .bind(text)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        event(&mut tx, Some(id), "note", actor, at, json!({"text": text})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a label; `false` when it was already there.
    pub async fn label(
        &self,
        id: i64,
        label: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let label = label.trim();
        if label.is_empty() {
            return Err(StoreError::Invalid("the label is empty: name it".into()));
        }
        let mut tx = self.begin_write().await?;
        current_status(&mut tx, id).await?;
        let done = sqlx::query(
            "INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(label)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            event(
                &mut tx,
                Some(id),
                "labelled",
                actor,
                ms(now),
                json!({"label": label}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }
}

/// A conversation whose SLA due time passed, moved up a band.
#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    /// The conversation.
    pub conversation: i64,
    /// The due time that passed.
    pub due_at: DateTime<Utc>,
    /// Its band before.
    pub from: Band,
    /// Its band now (P1 stays P1).
    pub to: Band,
}

impl Store {
    /// Escalates every open or pending conversation whose due time has passed and was not
    /// escalated yet: one band up (P1 stays P1), with an `escalated` event. Each due time
    /// escalates once, so running this again, or in two workers, changes nothing more.
    pub async fn escalate_breaches(
        &self,
        now: DateTime<Utc>,
        actor: &str,
        limit: u32,
    ) -> Result<Vec<Escalation>, StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT id, due_at, band FROM conversations \
             WHERE merged_into IS NULL AND status IN ('open', 'pending') AND due_at IS NOT NULL \
             AND due_at < $1 AND (escalated_due_at IS NULL OR escalated_due_at != due_at) \
             ORDER BY due_at, id LIMIT $2",
        )
        .bind(at)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, due, band) in rows {
            let to = (band - 1).max(1);
            let done = sqlx::query(
                "UPDATE conversations SET band = $1, escalated_due_at = $2, updated_at = $3 \
                 WHERE id = $4 AND due_at = $2 AND (escalated_due_at IS NULL OR escalated_due_at != $2)",
            )
            .bind(to)
            .bind(due)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            let (from, to) = (band_of(band), band_of(to));
            event(
                &mut tx,
                Some(id),
                "escalated",
                actor,
                at,
                json!({"reason": "sla_breach", "due_at": time(due), "from": from, "to": to}),
            )
            .await?;
            out.push(Escalation {
                conversation: id,
                due_at: time(due),
                from,
                to,
            });
        }
        tx.commit().await?;
        Ok(out)
    }
}
