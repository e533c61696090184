//! What the leader digest reads beyond the report's facts: labels of the period's
//! conversations, escalations, unresolved conversations of one band, the people who
//! wrote positively, the community's ideas, and the period's inbound messages with their
//! sentence embeddings (for the themes by meaning).
//!
//! Every query takes an optional team, with `unrouted` for conversations without one,
//! as [`Store::report_facts`] does; messages outside any conversation count only when no
//! team is asked for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_core::Band;
use rapport_core::digest::AdvocateFacts;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::read::{CONV_COLUMNS, ConversationRow, conv_row};
use crate::semantic::{PAGE, decode, vector_of_model};
use crate::{Store, StoreError, ms, time};

/// The team condition on conversations `c`, with the team bound at `$n`.
fn team_clause(n: u8) -> String {
    format!("(${n} IS NULL OR (${n} = 'unrouted' AND c.team IS NULL) OR c.team = ${n})")
}

/// The event kinds the digest counts as escalations: the SLA timer moving a breached
/// conversation up a band, and a routing rule asking for someone to be told at once
/// (`notify = "leaders"` on high-reach complaints).
pub const ESCALATION_KINDS: [&str; 2] = ["escalated", "notify"];

/// [`ESCALATION_KINDS`] as an SQL list: `'escalated', 'notify'`.
fn escalation_kinds() -> String {
    ESCALATION_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An inbound message of the period with its sentence embedding, if it has one: what the
/// digest's themes by meaning cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodMessage {
    /// The message.
    pub message_id: i64,
    /// Who wrote it (their handle).
    pub author: String,
    /// Its text.
    pub text: String,
    /// VADER's compound score.
    pub compound: f64,
    /// Its vector of the model asked for; `None` when it has none yet.
    pub vector: Option<Vec<f32>>,
}

/// One escalation event, with the conversation as it is now.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationEvent {
    /// The conversation, now.
    pub conversation: ConversationRow,
    /// Followers of the author of its first message, when it was stored.
    pub followers: Option<i64>,
    /// When it was escalated.
    pub at: DateTime<Utc>,
    /// `escalated` (an SLA breach) or `notify` (a routing rule).
    pub kind: String,
    /// The event's details: `{"from": "P3", "to": "P2", ...}` or `{"notify": "leaders",
    /// "rule": "..."}`.
    pub data: serde_json::Value,
}

/// An unresolved conversation with the reach of its author.
#[derive(Debug, Clone, Serialize)]
pub struct ReachRow {
    /// The conversation.
    pub conversation: ConversationRow,
    /// Followers of the author of its first message, when it was stored.
    pub followers: Option<i64>,
}

/// One account of a person, for naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonAccount {
    /// The person.
    pub person_id: i64,
    /// Their display name, if known.
    pub display_name: Option<String>,
    /// The platform.
    pub platform: String,
    /// The handle there.
    pub handle: String,
    /// Followers there, last seen.
    pub followers: Option<i64>,
}

/// An idea from the community: an inbound message of intent `idea`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdeaRow {
    /// The message.
    pub message_id: i64,
    /// Who wrote it (the person, or the handle when no person is known).
    pub author: String,
    /// Its text.
    pub text: String,
    /// The listening topics it matched.
    pub topics: Vec<String>,
    /// The labels of its conversation.
    pub labels: Vec<String>,
}

const IDEAS_WHERE: &str =
    "m.direction = 'inbound' AND m.intent = 'idea' AND m.created_at >= $1 AND m.created_at < $2";

impl Store {
    /// Labels of the conversations opened in `[since, until)` (spam left out, as every
    /// conversation metric leaves it out): conversations per label.
    pub async fn label_counts(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        team: Option<&str>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT l.label, COUNT(*) FROM conversation_labels l JOIN conversations c ON c.id = l.conversation_id \
             WHERE c.merged_into IS NULL AND c.intent != 'spam' AND c.opened_at >= $1 AND c.opened_at < $2 \
             AND {} GROUP BY l.label",
            team_clause(3)
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The escalation events ([`ESCALATION_KINDS`]) in `[since, until)`, newest first.
    pub async fn escalation_events(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        team: Option<&str>,
    ) -> Result<Vec<EscalationEvent>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CONV_COLUMNS}, m.followers, e.at, e.kind, e.data FROM events e \
             JOIN conversations c ON c.id = e.conversation_id \
             LEFT JOIN messages m ON m.id = c.root_message_id \
             WHERE e.kind IN ({}) AND e.at >= $1 AND e.at < $2 \
             AND c.merged_into IS NULL AND {} ORDER BY e.at DESC, e.seq DESC",
            escalation_kinds(),
            team_clause(3)
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let data: String = r.try_get(22)?;
            out.push(EscalationEvent {
                conversation: conv_row(r)?,
                followers: r.try_get(19)?,
                at: time(r.try_get(20)?),
                kind: r.try_get(21)?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            });
        }
        Ok(out)
    }

    /// How many escalation events ([`ESCALATION_KINDS`]) there were in `[since, until)`.
    pub async fn escalation_count(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        team: Option<&str>,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM events e JOIN conversations c ON c.id = e.conversation_id \
             WHERE e.kind IN ({}) AND e.at >= $1 AND e.at < $2 \
             AND c.merged_into IS NULL AND {}",
            escalation_kinds(),
            team_clause(3)
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// The conversations of `band` not resolved now (open, pending or snoozed): how many,
    /// and the `limit` with the highest priority score.
    pub async fn unresolved_in_band(
        &self,
        band: Band,
        team: Option<&str>,
        limit: u32,
    ) -> Result<(i64, Vec<ReachRow>), StoreError> {
        let filter = format!(
            "c.merged_into IS NULL AND c.status != 'resolved' AND c.band = $1 AND {}",
            team_clause(2)
        );
        let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM conversations c WHERE {filter}"
        )))
        .bind(i64::from(band.rank()))
        .bind(team)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CONV_COLUMNS}, m.followers FROM conversations c \
             LEFT JOIN messages m ON m.id = c.root_message_id WHERE {filter} \
             ORDER BY c.priority_score DESC, c.opened_at, c.id LIMIT $3"
        )))
        .bind(i64::from(band.rank()))
        .bind(team)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(ReachRow {
                    conversation: conv_row(r)?,
                    followers: r.try_get(19)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((total, rows))
    }

    /// Everyone who wrote at least one positive inbound message (compound ≥ 0.05, the
    /// positive band of net sentiment; spam left out) in `[since, until)`: how many, and
    /// their followers summed over their accounts. The ranking is the caller's
    /// ([`rapport_core::digest::rank_advocates`]).
    pub async fn positive_authors(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        team: Option<&str>,
    ) -> Result<Vec<AdvocateFacts>, StoreError> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT a.person_id, a.n, CAST(COALESCE((SELECT SUM(COALESCE(i.followers, 0)) FROM identities i \
             WHERE i.person_id = a.person_id), 0) AS BIGINT) FROM \
             (SELECT m.person_id AS person_id, COUNT(*) AS n FROM messages m \
              LEFT JOIN conversations c ON c.id = m.conversation_id \
              WHERE m.direction = 'inbound' AND m.intent != 'spam' AND m.compound >= 0.05 \
              AND m.created_at >= $1 AND m.created_at < $2 AND m.person_id IS NOT NULL \
              AND ($3 IS NULL OR (c.merged_into IS NULL AND {})) GROUP BY m.person_id) a \
             ORDER BY a.person_id",
            team_clause(3)
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(person_id, n, followers)| AdvocateFacts {
                person_id,
                positive: n.max(0) as u64,
                followers: followers.max(0) as u64,
            })
            .collect())
    }

    /// Every inbound message written in `[since, until)` (spam left out) with its vector
    /// of `model` when it has one, by id, read a page at a time: `each` gets every
    /// message in turn.
    pub async fn each_period_message(
        &self,
        model: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        team: Option<&str>,
        mut each: impl FnMut(PeriodMessage),
    ) -> Result<(), StoreError> {
        let sql = format!(
            concat!(
                "SELECT m.id, m.author, m.text, m.compound, e.vector FROM messages m \
             LEFT JOIN message_embeddings e ON e.message_id = m.id AND ",
                vector_of_model!(),
                " \
             LEFT JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.direction = 'inbound' AND m.intent != 'spam' \
             AND m.created_at >= $2 AND m.created_at < $3 AND m.id > $5 \
             AND ($4 IS NULL OR (c.merged_into IS NULL AND {})) ORDER BY m.id LIMIT $6"
            ),
            team_clause(4)
        );
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(model)
                .bind(ms(since))
                .bind(ms(until))
                .bind(team)
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            let n = rows.len();
            for r in rows {
                let id: i64 = r.try_get(0)?;
                let bytes: Option<Vec<u8>> = r.try_get(4)?;
                after = id;
                each(PeriodMessage {
                    message_id: id,
                    author: r.try_get(1)?,
                    text: r.try_get(2)?,
                    compound: r.try_get(3)?,
                    vector: bytes.map(|b| decode(&b, id)).transpose()?,
                });
            }
            if n < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    /// The accounts of these people, each person's largest account first.
    pub async fn person_accounts(&self, ids: &[i64]) -> Result<Vec<PersonAccount>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = sqlx::query_as::<_, (i64, Option<String>, String, String, Option<i64>)>(
            AssertSqlSafe(format!(
                "SELECT i.person_id, p.display_name, i.platform, i.handle, i.followers FROM identities i \
                 JOIN people p ON p.id = i.person_id WHERE i.person_id IN ({list}) \
                 ORDER BY i.person_id, COALESCE(i.followers, 0) DESC, i.platform, i.handle"
            )),
        );
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(
                |(person_id, display_name, platform, handle, followers)| PersonAccount {
                    person_id,
                    display_name,
                    platform,
                    handle,
                    followers,
                },
            )
            .collect())
    }

    /// The ideas written in `[since, until)`, oldest first, with their topics and their
    /// conversations' labels.
    pub async fn ideas(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        team: Option<&str>,
    ) -> Result<Vec<IdeaRow>, StoreError> {
        let scope = format!(
            "{IDEAS_WHERE} AND ($3 IS NULL OR (c.merged_into IS NULL AND {}))",
            team_clause(3)
        );
        let rows: Vec<(i64, Option<i64>, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT m.id, m.person_id, m.author, m.text FROM messages m \
             LEFT JOIN conversations c ON c.id = m.conversation_id WHERE {scope} ORDER BY m.created_at, m.id"
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        let topics: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT t.message_id, t.topic FROM message_topics t JOIN messages m ON m.id = t.message_id \
             LEFT JOIN conversations c ON c.id = m.conversation_id WHERE {scope} ORDER BY t.message_id, t.topic"
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        let labels: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT m.id, l.label FROM messages m JOIN conversation_labels l ON l.conversation_id = m.conversation_id \
             LEFT JOIN conversations c ON c.id = m.conversation_id WHERE {scope} ORDER BY m.id, l.label"
        )))
        .bind(ms(since))
        .bind(ms(until))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        let mut by_id: BTreeMap<i64, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for (id, topic) in topics {
            by_id.entry(id).or_default().0.push(topic);
        }
        for (id, label) in labels {
            by_id.entry(id).or_default().1.push(label);
        }
        Ok(rows
            .into_iter()
            .map(|(message_id, person, author, text)| {
                let (topics, labels) = by_id.remove(&message_id).unwrap_or_default();
                IdeaRow {
                    message_id,
                    author: person.map_or(author, |p| format!("person:{p}")),
                    text,
                    topics,
                    labels,
                }
            })
            .collect())
    }
}
