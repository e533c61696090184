//! Drafts: what the organisation means to publish, its approvals, and the posts it sends
//! to each channel. The rules (which moves are legal, who may approve what, the
//! principle checks and the guards) are the core's; the store keeps what was decided,
//! and every change is an event (`draft_*`, with `{"draft": id}`), so a draft's history
//! is in the same append-only log as a conversation's.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row as _;

use crate::ingest::{event, outbound_joins};
use crate::{Store, StoreError, ms, time};

/// A draft to create.
#[derive(Debug, Clone)]
pub struct NewDraft {
    /// Who writes it.
    pub author: String,
    /// `reply`, `broadcast` or `key_message`.
    pub kind: String,
    /// The text (every channel's, unless a target has its own).
    pub text: String,
    /// A sponsored post (it must carry the disclosure the principles ask for).
    pub sponsored: bool,
    /// The conversation a reply answers.
    pub conversation_id: Option<i64>,
    /// The channels it goes to, each with its own text or none.
    pub targets: Vec<(String, Option<String>)>,
}

/// One channel a draft goes to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftTarget {
    /// The channel's name in rapport.toml.
    pub channel: String,
    /// Its own text, when it differs from the draft's.
    pub text: Option<String>,
    /// `waiting` (not scheduled), `pending` (to send), `sent` or `failed`.
    pub state: String,
    /// Send attempts so far.
    pub attempts: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// The platform's id of the post, once sent.
    pub remote_id: Option<String>,
    /// Its web address.
    pub url: Option<String>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// The key every attempt carries.
    pub idempotency_key: String,
    /// The post as decided when scheduled (JSON).
    pub request: Option<String>,
}

/// A stored draft.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    /// Its id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// `reply`, `broadcast` or `key_message`.
    pub kind: String,
    /// Where it stands.
    pub status: String,
    /// The text.
    pub text: String,
    /// Sponsored.
    pub sponsored: bool,
    /// The conversation a reply answers.
    pub conversation_id: Option<i64>,
    /// When it is to go out.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// Why (a rejection's reason, an override's).
    pub decision_note: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Its channels.
    pub targets: Vec<DraftTarget>,
}

impl Draft {
    /// The text for one channel.
    pub fn text_for(&self, channel: &str) -> &str {
        self.targets
            .iter()
            .find(|t| t.channel == channel)
            .and_then(|t| t.text.as_deref())
            .unwrap_or(&self.text)
    }
}

/// A change of status, checked against the status the caller saw.
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    /// The status the caller's decision was made on.
    pub from: &'a str,
    /// The new status.
    pub to: &'a str,
    /// The event's kind (`draft_submitted`, `draft_approved`, …).
    pub event: &'a str,
    /// Who.
    pub actor: &'a str,
    /// A reason or note, kept with the draft and the event.
    pub note: Option<&'a str>,
    /// For `scheduled`: when.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// More for the event (principle findings, an override's reason).
    pub data: serde_json::Value,
}

const DRAFT_COLUMNS: &str = "id, author, kind, status, text, sponsored, conversation_id, scheduled_at, \
     decided_by, decision_note, created_at, updated_at";

fn draft_row(r: &sqlx::any::AnyRow) -> Result<Draft, StoreError> {
    Ok(Draft {
        id: r.try_get(0)?,
        author: r.try_get(1)?,
        kind: r.try_get(2)?,
        status: r.try_get(3)?,
        text: r.try_get(4)?,
        sponsored: r.try_get::<i64, _>(5)? != 0,
        conversation_id: r.try_get(6)?,
        scheduled_at: r.try_get::<Option<i64>, _>(7)?.map(time),
        decided_by: r.try_get(8)?,
        decision_note: r.try_get(9)?,
        created_at: time(r.try_get(10)?),
        updated_at: time(r.try_get(11)?),
        targets: Vec::new(),
    })
}

/// One channel's post of a scheduled draft, due to be sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuePost {
    /// The draft.
    pub draft_id: i64,
    /// The channel.
    pub channel: String,
    /// The post, decided when the draft was scheduled (JSON).
    pub request: String,
    /// The key every attempt carries.
    pub idempotency_key: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// A post that went out, to record.
#[derive(Debug, Clone)]
pub struct PostSent<'a> {
    /// The draft.
    pub draft_id: i64,
    /// The channel.
    pub channel: &'a str,
    /// The platform (`bluesky`, `mastodon`).
    pub platform: &'a str,
    /// The organisation's account that posted.
    pub account: &'a str,
    /// The platform's id of the post.
    pub remote_id: &'a str,
    /// Its address.
    pub url: Option<&'a str>,
    /// What a reply answers (platform id), for a reply.
    pub in_reply_to: Option<&'a str>,
}

impl Store {
    /// The posts of scheduled drafts due at `now` (or of draft `only`, whatever its time)
    /// that are not sent yet, oldest first.
    pub async fn due_posts(
        &self,
        now: DateTime<Utc>,
        only: Option<i64>,
    ) -> Result<Vec<DuePost>, StoreError> {
        let sql = "SELECT t.draft_id, t.channel, t.request, t.idempotency_key, t.attempts FROM draft_targets t \
             JOIN drafts d ON d.id = t.draft_id WHERE d.status = 'scheduled' AND t.state = 'pending' \
             AND t.request IS NOT NULL AND ";
        let rows: Vec<(i64, String, String, String, i64)> = match only {
            Some(id) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{sql}d.id = $1 ORDER BY t.channel"
                )))
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{sql}d.scheduled_at <= $1 ORDER BY d.scheduled_at, d.id, t.channel"
                )))
                .bind(ms(now))
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(
                |(draft_id, channel, request, idempotency_key, attempts)| DuePost {
                    draft_id,
                    channel,
                    request,
                    idempotency_key,
                    attempts,
                },
            )
            .collect())
    }

    /// Records a post the platform has: the channel is sent, the post is stored as an
    /// outbound message (a reply joins its conversation and counts as the response), and
    /// when every channel is sent the draft is published. Recording it twice changes
    /// nothing. Returns whether the draft is now published.
    pub async fn post_sent(
        &self,
        p: &PostSent<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE draft_targets SET state = 'sent', remote_id = $1, url = $2, sent_at = $3, attempts = attempts + 1, \
             last_error = NULL WHERE draft_id = $4 AND channel = $5 AND state = 'pending'",
        )
        .bind(p.remote_id)
        .bind(p.url)
        .bind(at)
        .bind(p.draft_id)
        .bind(p.channel)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            return Ok(false);
        }
        let (author, text, conversation, own): (String, String, Option<i64>, Option<String>) =
            sqlx::query_as(
                "SELECT d.author, d.text, d.conversation_id, t.text FROM drafts d \
                 JOIN draft_targets t ON t.draft_id = d.id WHERE d.id = $1 AND t.channel = $2",
            )
            .bind(p.draft_id)
            .bind(p.channel)
            .fetch_one(&mut *tx)
            .await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO messages (platform, platform_id, conversation_id, direction, is_reply, automated, author, \
             text, created_at, in_reply_to, url, compound, pos, neu, neg, intent, intent_rule, priority_score, band, \
             sent_by, stored_at) VALUES ($1, $2, $3, 'outbound', $4, 0, $5, $6, $7, $8, $9, 0, 0, 1, 0, 'other', \
             'outbound', 0, 4, $10, $11) ON CONFLICT (platform, platform_id) DO NOTHING RETURNING id",
        )
        .bind(p.platform)
        .bind(p.remote_id)
        .bind(conversation)
        .bind(i64::from(conversation.is_some()))
        .bind(p.account)
        .bind(own.as_deref().unwrap_or(&text))
        .bind(at)
        .bind(p.in_reply_to)
        .bind(p.url)
        .bind(&author)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((message_id,)) = inserted {
            if let Some(c) = conversation {
                outbound_joins(&mut tx, c, false, at).await?;
            }
            event(
                &mut tx,
                None,
                "stored",
                "system",
                at,
                json!({"messages": [[message_id, message_id]]}),
            )
            .await?;
        }
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM draft_targets WHERE draft_id = $1 AND state != 'sent'",
        )
        .bind(p.draft_id)
        .fetch_one(&mut *tx)
        .await?;
        let published = waiting == 0;
        if published {
            sqlx::query("UPDATE drafts SET status = 'published', updated_at = $1 WHERE id = $2 AND status = 'scheduled'")
                .bind(at)
                .bind(p.draft_id)
                .execute(&mut *tx)
                .await?;
            event(
                &mut tx,
                conversation,
                "draft_published",
                "scheduler",
                at,
                json!({"draft": p.draft_id}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(published)
    }

    /// Records a failed attempt; a refusal that retrying cannot change (`permanent`)
    /// fails the channel and the draft, which can be edited or scheduled again.
    pub async fn post_failed(
        &self,
        draft_id: i64,
        channel: &str,
        error: &str,
        permanent: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE draft_targets SET attempts = attempts + 1, last_error = $1, \
             state = CASE WHEN $2 = 1 THEN 'failed' ELSE state END WHERE draft_id = $3 AND channel = $4 AND state = 'pending'",
        )
        .bind(error)
        .bind(i64::from(permanent))
        .bind(draft_id)
        .bind(channel)
        .execute(&mut *tx)
        .await?;
        if permanent {
            let moved = sqlx::query("UPDATE drafts SET status = 'failed', updated_at = $1 WHERE id = $2 AND status = 'scheduled'")
                .bind(at)
                .bind(draft_id)
                .execute(&mut *tx)
                .await?;
            if moved.rows_affected() > 0 {
                event(
                    &mut tx,
                    None,
                    "draft_failed",
                    "scheduler",
                    at,
                    json!({"draft": draft_id, "channel": channel, "error": error}),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new draft (status `draft`) and its targets; returns its id.
    pub async fn create_draft(&self, d: &NewDraft, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_draft(&mut tx, d, ms(now)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One draft with its targets.
    pub async fn draft(&self, id: i64) -> Result<Draft, StoreError> {
        let sql = format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "draft", id })?;
        let mut d = draft_row(&row)?;
        d.targets = self.draft_targets(id).await?;
        Ok(d)
    }

    async fn draft_targets(&self, id: i64) -> Result<Vec<DraftTarget>, StoreError> {
        let rows = sqlx::query(
            "SELECT channel, text, state, attempts, last_error, remote_id, url, sent_at, idempotency_key, request \
             FROM draft_targets WHERE draft_id = $1 ORDER BY channel",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DraftTarget {
                    channel: r.try_get(0)?,
                    text: r.try_get(1)?,
                    state: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    last_error: r.try_get(4)?,
                    remote_id: r.try_get(5)?,
                    url: r.try_get(6)?,
                    sent_at: r.try_get::<Option<i64>, _>(7)?.map(time),
                    idempotency_key: r.try_get(8)?,
                    request: r.try_get(9)?,
                })
            })
            .collect()
    }

    /// Drafts, newest first; only those in `status` when given.
    pub async fn drafts(&self, status: Option<&str>, limit: i64) -> Result<Vec<Draft>, StoreError> {
        let rows = match status {
            Some(st) => {
                let sql = format!(
                    "SELECT {DRAFT_COLUMNS} FROM drafts WHERE status = $1 ORDER BY id DESC LIMIT $2"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(st)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {DRAFT_COLUMNS} FROM drafts ORDER BY id DESC LIMIT $1");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut d = draft_row(r)?;
            d.targets = self.draft_targets(d.id).await?;
            out.push(d);
        }
        Ok(out)
    }

    /// Replaces a draft's text (and a channel's own text) as `actor`; the draft goes back
    /// to `to_status` (the core decides: an edited approved draft needs approval again).
    /// Refused when its status is no longer `from`.
    #[allow(clippy::too_many_arguments)]
    pub async fn edit_draft(
        &self,
        id: i64,
        from: &str,
        to_status: &str,
        text: Option<&str>,
        channel_texts: &[(String, String)],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let at = ms(now);
        let changed = sqlx::query(
            "UPDATE drafts SET text = COALESCE($1, text), status = $2, decided_by = NULL, decision_note = NULL, \
             scheduled_at = NULL, updated_at = $3 WHERE id = $4 AND status = $5",
        )
        .bind(text)
        .bind(to_status)
        .bind(at)
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(self.status_moved(id, from).await);
        }
        for (channel, t) in channel_texts {
            let done = sqlx::query(
                "UPDATE draft_targets SET text = $1 WHERE draft_id = $2 AND channel = $3",
            )
            .bind(t)
            .bind(id)
            .bind(channel)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Invalid(format!(
                    "draft {id} does not go to channel {channel:?}: `rapport draft show {id}` lists its channels"
                )));
            }
        }
        event(
            &mut tx,
            None,
            "draft_edited",
            actor,
            at,
            json!({"draft": id, "status": to_status}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn status_moved(&self, id: i64, expected: &str) -> StoreError {
        match self.draft(id).await {
            Ok(d) => StoreError::Invalid(format!(
                "draft {id} is {} now, not {expected}: someone changed it meanwhile; `rapport draft show {id}` shows it",
                d.status
            )),
            Err(e) => e,
        }
    }

    /// Moves a draft from `change.from` to `change.to` and records the event; refused
    /// when its status is no longer `change.from`. Scheduling also fixes each target's
    /// post (`requests`, channel → JSON) and marks it pending.
    pub async fn change_draft_status(
        &self,
        id: i64,
        change: &StatusChange<'_>,
        requests: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let at = ms(now);
        let decided = matches!(change.to, "approved" | "rejected");
        let changed = sqlx::query(
            "UPDATE drafts SET status = $1, updated_at = $2, scheduled_at = COALESCE($3, scheduled_at), \
             decided_by = COALESCE($4, decided_by), decision_note = COALESCE($5, decision_note) \
             WHERE id = $6 AND status = $7",
        )
        .bind(change.to)
        .bind(at)
        .bind(change.scheduled_at.map(ms))
        .bind(decided.then_some(change.actor))
        .bind(change.note)
        .bind(id)
        .bind(change.from)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(self.status_moved(id, change.from).await);
        }
        for (channel, request) in requests {
            sqlx::query(
                "UPDATE draft_targets SET request = $1, state = 'pending' WHERE draft_id = $2 AND channel = $3 AND state IN ('waiting', 'pending', 'failed')",
            )
            .bind(request)
            .bind(id)
            .bind(channel)
            .execute(&mut *tx)
            .await?;
        }
        let mut data = json!({"draft": id, "from": change.from, "to": change.to});
        if let Some(n) = change.note {
            data["note"] = json!(n);
        }
        if let Some(t) = change.scheduled_at {
            data["scheduled_at"] = json!(t);
        }
        if let (Some(obj), Some(extra)) = (data.as_object_mut(), change.data.as_object()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        event(&mut tx, None, change.event, change.actor, at, data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// When `author`'s key messages (scheduled or published, other than `except`) go out.
    pub async fn key_message_times(
        &self,
        author: &str,
        except: Option<i64>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT scheduled_at FROM drafts WHERE author = $1 AND kind = 'key_message' \
             AND status IN ('scheduled', 'published') AND scheduled_at IS NOT NULL AND id != $2 ORDER BY scheduled_at",
        )
        .bind(author)
        .bind(except.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| time(t)).collect())
    }

    /// The organisation's outbound messages since `since`, by author (account): replies
    /// and broadcasts (what the engagement ratio counts), plus broadcasts scheduled and
    /// not yet sent.
    pub async fn outbound_mix(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT author, SUM(CASE WHEN is_reply = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN is_reply = 1 THEN 0 ELSE 1 END) \
             FROM messages WHERE direction = 'outbound' AND automated = 0 AND created_at >= $1 GROUP BY author ORDER BY author",
        )
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// The texts of `account`'s broadcasts (outbound, not replies) since `since`.
    pub async fn broadcast_texts(
        &self,
        account: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT text FROM messages WHERE direction = 'outbound' AND is_reply = 0 \
             AND LOWER(author) = LOWER($1) AND created_at >= $2 ORDER BY created_at",
        )
        .bind(account.trim_start_matches('@'))
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Conversations waiting for the organisation's answer, oldest due first (what to
    /// answer instead of broadcasting).
    pub async fn waiting_conversations(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<DateTime<Utc>>)>, StoreError> {
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, author, due_at FROM conversations WHERE status = 'open' AND merged_into IS NULL \
             AND due_at IS NOT NULL ORDER BY due_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, a, d)| (id, a, d.map(time)))
            .collect())
    }
}

/// Stores a new draft (status `draft`), its targets and its `draft_created` event in the
/// caller's transaction; returns its id.
pub(crate) async fn insert_draft(
    conn: &mut sqlx::AnyConnection,
    d: &NewDraft,
    at: i64,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO drafts (author, kind, status, text, sponsored, conversation_id, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&d.author)
        .bind(&d.kind)
        .bind(&d.text)
        .bind(i64::from(d.sponsored))
        .bind(d.conversation_id)
        .bind(at)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?;
    for (channel, text) in &d.targets {
        sqlx::query(
                "INSERT INTO draft_targets (draft_id, channel, text, idempotency_key) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(channel)
            .bind(text)
            .bind(format!("rapport-draft-{id}-{channel}"))
            .execute(&mut *conn)
            .await?;
    }
    event(
        conn,
        d.conversation_id,
        "draft_created",
        &d.author,
        at,
        json!({"draft": id, "kind": d.kind}),
    )
    .await?;
    Ok(id)
}
