//! What a search index reads from the store: messages in the form it indexes them, and
//! the changes since it last looked (see [`EventFollower`]).
//!
//! Every ingest transaction appends one `stored` event naming the messages it inserted
//! or moved (`{"messages": [[first, last], …]}`); a reply sent from rapport appends
//! `replied`; a team change `team`; a merge `merged`. The first is read as those message
//! ids, the others as "read this conversation's messages again": whatever the index
//! reads is the store's state now, so applying a change twice or late is harmless.

use std::time::Instant;

use sqlx::Row as _;

use crate::{EventFollower, Store, StoreError};

/// Event kinds after which a conversation's messages are indexed again: they change the
/// conversation a message belongs to, its team, or add a message to it.
pub const REINDEX_KINDS: [&str; 3] = ["team", "merged", "replied"];

/// Events read per look.
const BATCH: i64 = 2_000;

/// One message as the search index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRow {
    /// The message id.
    pub id: i64,
    /// Its conversation.
    pub conversation: Option<i64>,
    /// The text.
    pub text: String,
    /// The author's handle.
    pub author: String,
    /// The platform.
    pub platform: String,
    /// The intent.
    pub intent: String,
    /// The sentiment compound score.
    pub compound: f64,
    /// The conversation's team.
    pub team: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// `inbound` or `outbound`.
    pub direction: String,
}

/// One look at the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchLook {
    /// The changes of the events not seen before, in order.
    pub changes: Vec<SearchChange>,
    /// Events read (seen before or not).
    pub events: usize,
    /// Whether the look was full: more events may be waiting.
    pub more: bool,
}

/// A change the index must apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchChange {
    /// These messages (inclusive id ranges) were stored or moved.
    Messages(Vec<[i64; 2]>),
    /// Every message of this conversation may have changed.
    Conversation(i64),
}

const SELECT: &str = "SELECT m.id, m.conversation_id, m.text, m.author, m.platform, m.intent, m.compound, \
     c.team, m.created_at, m.direction FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id";

fn row(r: &sqlx::any::AnyRow) -> Result<SearchRow, StoreError> {
    Ok(SearchRow {
        id: r.try_get(0)?,
        conversation: r.try_get(1)?,
        text: r.try_get(2)?,
        author: r.try_get(3)?,
        platform: r.try_get(4)?,
        intent: r.try_get(5)?,
        compound: r.try_get(6)?,
        team: r.try_get(7)?,
        created_at: r.try_get(8)?,
        direction: r.try_get(9)?,
    })
}

impl Store {
    /// Up to `limit` messages with ids above `after`, in id order (a rebuild's pages).
    pub async fn search_rows_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SearchRow>, StoreError> {
        let sql = format!("{SELECT} WHERE m.id > $1 ORDER BY m.id LIMIT $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// The messages with ids from `first` to `last` (inclusive).
    pub async fn search_rows_between(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<SearchRow>, StoreError> {
        let sql = format!("{SELECT} WHERE m.id BETWEEN $1 AND $2 ORDER BY m.id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(first)
            .bind(last)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// The messages with these ids, in the order given (ids not in the store are left out).
    pub async fn search_rows_by_ids(&self, ids: &[i64]) -> Result<Vec<SearchRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("{SELECT} WHERE m.id IN ({list})");
        let rows: Vec<SearchRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row)
            .collect::<Result<_, _>>()?;
        Ok(ids
            .iter()
            .filter_map(|id| rows.iter().find(|r| r.id == *id).cloned())
            .collect())
    }

    /// Every message of a conversation.
    pub async fn search_rows_of_conversation(
        &self,
        conversation: i64,
    ) -> Result<Vec<SearchRow>, StoreError> {
        let sql = format!("{SELECT} WHERE m.conversation_id = $1 ORDER BY m.id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row)
            .collect()
    }

    /// Every message id, in order (to check an index against the store).
    pub async fn message_ids(&self) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM messages ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The changes since `follower` last looked, in event order.
    pub async fn search_changes(
        &self,
        follower: &mut EventFollower,
    ) -> Result<SearchLook, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, conversation_id, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(follower.floor())
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut seqs = Vec::with_capacity(rows.len());
        for r in &rows {
            seqs.push(r.try_get::<i64, _>(0)?);
        }
        let fresh = follower.absorb_seqs(&seqs, Instant::now());
        let mut out = Vec::new();
        for (r, new) in rows.iter().zip(fresh) {
            if !new {
                continue;
            }
            let kind: String = r.try_get(1)?;
            let conversation: Option<i64> = r.try_get(2)?;
            if kind == "stored" {
                let data: String = r.try_get(3)?;
                let seq: i64 = r.try_get(0)?;
                let ranges = stored_ranges(&data).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "event {seq} (stored) does not name its messages as {{\"messages\": [[first, last], …]}}: {data}"
                    ))
                })?;
                out.push(SearchChange::Messages(ranges));
            } else if let Some(c) = conversation
                && REINDEX_KINDS.contains(&kind.as_str())
            {
                out.push(SearchChange::Conversation(c));
            }
        }
        Ok(SearchLook {
            changes: out,
            events: rows.len(),
            more: rows.len() as i64 == BATCH,
        })
    }
}

fn stored_ranges(data: &str) -> Option<Vec<[i64; 2]>> {
    let v: serde_json::Value = serde_json::from_str(data).ok()?;
    v.get("messages")?
        .as_array()?
        .iter()
        .map(|r| {
            let r = r.as_array()?;
            Some([r.first()?.as_i64()?, r.get(1)?.as_i64()?])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_event_data_reads_back_as_ranges() {
        assert_eq!(
            stored_ranges(r#"{"messages": [[1, 3], [7, 7]]}"#),
            Some(vec![[1, 3], [7, 7]])
        );
        assert_eq!(stored_ranges(r#"{"messages": [[1]]}"#), None);
        assert_eq!(stored_ranges("{}"), None);
    }

    #[test]
    fn ids_fold_into_runs() {
        let mut ids = vec![5, 1, 2, 3, 9, 3];
        assert_eq!(
            crate::ingest::id_ranges(&mut ids),
            vec![[1, 3], [5, 5], [9, 9]]
        );
    }
}
