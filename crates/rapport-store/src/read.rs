//! Reads: the inbox, one conversation, the facts reports are computed from, quarantine.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_core::metrics::{BroadcastFacts, ConversationFacts, TimelineItem};
use rapport_core::{Band, Intent, Status};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::ingest::band_of;
use crate::{Store, StoreError, ms, time};

/// Filters of `rapport inbox`.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Only this team (`"unrouted"` for none).
    pub team: Option<String>,
    /// Only this status; `None` is every status.
    pub status: Option<Status>,
    /// Only this band.
    pub band: Option<Band>,
    /// Only this assignee (`"none"` for unassigned).
    pub assignee: Option<String>,
    /// Only this intent (of the conversation's first message).
    pub intent: Option<Intent>,
    /// Only conversations with this label (e.g. `topic:acme`).
    pub label: Option<String>,
    /// Only conversations whose first message's text or author contains this,
    /// ignoring ASCII case (`%` and `_` match themselves).
    pub text: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Sort by priority score (highest first) instead of band then due time.
    pub by_score: bool,
    /// Only conversations after this one in the inbox's order (not with `by_score`):
    /// the next page ([`InboxCursor::after`] of the last row of the previous page).
    pub after: Option<InboxCursor>,
}

/// A position in the inbox's order (band, due time with nothing due last, opening time,
/// id): pages that stay right while conversations are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCursor {
    band: i64,
    nothing_due: i64,
    due: i64,
    opened: i64,
    id: i64,
}

impl InboxCursor {
    /// The position right after `row`.
    pub fn after(row: &ConversationRow) -> InboxCursor {
        InboxCursor {
            band: i64::from(row.priority.rank()),
            nothing_due: i64::from(row.due_at.is_none()),
            due: row.due_at.map(ms).unwrap_or(0),
            opened: ms(row.opened_at),
            id: row.id,
        }
    }

    /// As text, for an API's `next_cursor`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}.{}",
            self.band, self.nothing_due, self.due, self.opened, self.id
        )
    }

    /// Back from [`InboxCursor::encode`]; `None` when `text` is not one.
    pub fn decode(text: &str) -> Option<InboxCursor> {
        let parts: Vec<i64> = text
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        match parts[..] {
            [band, nothing_due, due, opened, id] if (0..=1).contains(&nothing_due) => {
                Some(InboxCursor {
                    band,
                    nothing_due,
                    due,
                    opened,
                    id,
                })
            }
            _ => None,
        }
    }
}

/// A person, as the people view shows them.
#[derive(Debug, Clone, Serialize)]
pub struct PersonDetail {
    /// Id.
    pub id: i64,
    /// Display name.
    pub display_name: Option<String>,
    /// Their accounts.
    pub identities: Vec<IdentityRow>,
    /// Their conversations, newest first.
    pub conversations: Vec<ConversationRow>,
    /// Their messages' sentiment over time: (when, compound), oldest first.
    pub sentiment: Vec<(DateTime<Utc>, f64)>,
}

/// One account of a person.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IdentityRow {
    /// Platform.
    pub platform: String,
    /// Handle there.
    pub handle: String,
    /// Name there.
    pub name: Option<String>,
    /// Followers there, last seen.
    pub followers: Option<i64>,
}

/// One conversation as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationRow {
    /// Id.
    pub id: i64,
    /// Platform of its first message.
    pub platform: String,
    /// Who started it.
    pub author: String,
    /// Person id of the author.
    pub person_id: Option<i64>,
    /// Owning team.
    pub team: Option<String>,
    /// Assigned member.
    pub assignee: Option<String>,
    /// Status.
    pub status: String,
    /// Band.
    pub priority: Band,
    /// Highest priority score of its messages.
    pub priority_score: f64,
    /// Intent of its first message.
    pub intent: String,
    /// The routing rule that chose the team.
    pub route_rule: Option<String>,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// First-response due time.
    pub first_due_at: Option<DateTime<Utc>>,
    /// What is due now (none when the last word is ours).
    pub due_at: Option<DateTime<Utc>>,
    /// First human reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Latest message.
    pub last_message_at: DateTime<Utc>,
    /// Messages in it.
    pub message_count: i64,
    /// Text of its first message.
    pub snippet: String,
    /// Compound sentiment of its first message.
    pub compound: f64,
}

/// A stored message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    /// Store id.
    pub id: i64,
    /// Platform.
    pub platform: String,
    /// Platform's id.
    pub platform_id: String,
    /// Conversation, when it belongs to one.
    pub conversation_id: Option<i64>,
    /// inbound / outbound.
    pub direction: String,
    /// Sent by a bot.
    pub automated: bool,
    /// Author handle.
    pub author: String,
    /// Author's followers when it was stored.
    pub followers: Option<i64>,
    /// Text.
    pub text: String,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// Parent platform id.
    pub in_reply_to: Option<String>,
    /// Reshares.
    pub reshares: i64,
    /// Replies.
    pub replies: i64,
    /// Link.
    pub url: Option<String>,
    /// VADER compound.
    pub compound: f64,
    /// VADER pos.
    pub pos: f64,
    /// VADER neu.
    pub neu: f64,
    /// VADER neg.
    pub neg: f64,
    /// Intent.
    pub intent: String,
    /// The intent rule that fired.
    pub intent_rule: String,
    /// Priority score.
    pub priority_score: f64,
    /// Band of the score.
    pub priority: Band,
    /// The message as the platform sent it, when that was HTML (untrusted: sanitise it
    /// before showing it).
    pub html: Option<String>,
}

/// An event of the log.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// Sequence number (global, increasing).
    pub seq: i64,
    /// Conversation.
    pub conversation_id: Option<i64>,
    /// What happened.
    pub kind: String,
    /// Who did it (`system` for rapport itself).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Details.
    pub data: serde_json::Value,
}

/// A private note.
#[derive(Debug, Clone, Serialize)]
pub struct NoteRow {
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A conversation with everything in it.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationDetail {
    /// The conversation.
    pub conversation: ConversationRow,
    /// Labels.
    pub labels: Vec<String>,
    /// Messages in time order.
    pub messages: Vec<MessageRow>,
    /// Events in order.
    pub events: Vec<EventRow>,
    /// Notes.
    pub notes: Vec<NoteRow>,
    /// Replies sent (or to be sent) through a platform, with their state.
    pub outbox: Vec<crate::outbox::OutboxRow>,
}

/// A quarantined row.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineEntry {
    /// Source file.
    pub source: String,
    /// Line in it.
    pub line: i64,
    /// Why it was refused.
    pub reason: String,
    /// The row as read.
    pub raw: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What reports are computed from.
#[derive(Debug, Clone, Default)]
pub struct ReportFacts {
    /// Conversations opened in the period.
    pub conversations: Vec<ConversationFacts>,
    /// The organisation's outbound messages in the period.
    pub outbound: Vec<BroadcastFacts>,
    /// Time and compound of every inbound message in the period.
    pub inbound: Vec<(DateTime<Utc>, f64)>,
}

/// Counts for a summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Messages stored.
    pub messages: i64,
    /// Of which inbound.
    pub inbound: i64,
    /// Distinct people.
    pub people: i64,
    /// Conversations (merged ones not counted).
    pub conversations: i64,
    /// By platform.
    pub by_platform: BTreeMap<String, i64>,
    /// Open (not resolved) by team.
    pub open_by_team: BTreeMap<String, i64>,
    /// Open by band.
    pub open_by_priority: BTreeMap<String, i64>,
    /// All conversations by intent.
    pub by_intent: BTreeMap<String, i64>,
    /// By status.
    pub by_status: BTreeMap<String, i64>,
}

/// `text` with the LIKE wildcards (`%`, `_`) and the escape character (`\`) escaped,
/// for `LIKE ? ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) const CONV_COLUMNS: &str = "c.id, c.platform, c.author, c.person_id, c.team, c.assignee, c.status, c.band, \
    c.priority_score, c.intent, c.route_rule, c.opened_at, c.first_due_at, c.due_at, c.first_response_at, \
    c.last_message_at, c.message_count, COALESCE(m.text, ''), COALESCE(m.compound, 0.0)";

pub(crate) fn conv_row(r: &AnyRow) -> Result<ConversationRow, sqlx::Error> {
    let opt_time = |v: Option<i64>| v.map(time);
    Ok(ConversationRow {
        id: r.try_get(0)?,
        platform: r.try_get(1)?,
        author: r.try_get(2)?,
        person_id: r.try_get(3)?,
        team: r.try_get(4)?,
        assignee: r.try_get(5)?,
        status: r.try_get(6)?,
        priority: band_of(r.try_get(7)?),
        priority_score: r.try_get(8)?,
        intent: r.try_get(9)?,
        route_rule: r.try_get(10)?,
        opened_at: time(r.try_get(11)?),
        first_due_at: opt_time(r.try_get(12)?),
        due_at: opt_time(r.try_get(13)?),
        first_response_at: opt_time(r.try_get(14)?),
        last_message_at: time(r.try_get(15)?),
        message_count: r.try_get(16)?,
        snippet: r.try_get(17)?,
        compound: r.try_get(18)?,
    })
}

pub(crate) const MSG_COLUMNS: &str = "id, platform, platform_id, conversation_id, direction, automated, author, followers, text, \
    created_at, in_reply_to, reshares, replies, url, compound, pos, neu, neg, intent, intent_rule, priority_score, band, html";

pub(crate) fn msg_row(r: &AnyRow) -> Result<MessageRow, sqlx::Error> {
    Ok(MessageRow {
        id: r.try_get(0)?,
        platform: r.try_get(1)?,
        platform_id: r.try_get(2)?,
        conversation_id: r.try_get(3)?,
        direction: r.try_get(4)?,
        automated: r.try_get::<i64, _>(5)? != 0,
        author: r.try_get(6)?,
        followers: r.try_get(7)?,
        text: r.try_get(8)?,
        created_at: time(r.try_get(9)?),
        in_reply_to: r.try_get(10)?,
        reshares: r.try_get(11)?,
        replies: r.try_get(12)?,
        url: r.try_get(13)?,
        compound: r.try_get(14)?,
        pos: r.try_get(15)?,
        neu: r.try_get(16)?,
        neg: r.try_get(17)?,
        intent: r.try_get(18)?,
        intent_rule: r.try_get(19)?,
        priority_score: r.try_get(20)?,
        priority: band_of(r.try_get(21)?),
        html: r.try_get(22)?,
    })
}

/// The inbox's order: band, then due time with nothing due last, then opening time, id.
const INBOX_ORDER: &str = "c.band, CASE WHEN c.due_at IS NULL THEN 1 ELSE 0 END, \
                           COALESCE(c.due_at, 0), c.opened_at, c.id";

/// A value bound to a statement built at run time.
enum Arg {
    Int(i64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}

/// A statement built at run time with `$N` placeholders, which both backends read
/// (sqlx's `QueryBuilder` writes `?` for `Any`, which PostgreSQL does not).
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn new(text: String) -> Self {
        Sql {
            text,
            args: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    async fn fetch_all(self, pool: &AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut q = sqlx::query(AssertSqlSafe(self.text));
        for a in self.args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
            };
        }
        q.fetch_all(pool).await
    }
}

impl Store {
    /// The inbox: conversations sorted by band, then due time (nothing due last), then age.
    pub async fn inbox(&self, f: &InboxFilter) -> Result<Vec<ConversationRow>, StoreError> {
        let mut q = Sql::new(format!(
            "SELECT {CONV_COLUMNS} FROM conversations c LEFT JOIN messages m ON m.id = c.root_message_id \
             WHERE c.merged_into IS NULL"
        ));
        if let Some(s) = f.status {
            q.push(" AND c.status = ").bind(s.as_str());
        }
        if let Some(t) = &f.team {
            if t == "unrouted" {
                q.push(" AND c.team IS NULL");
            } else {
                q.push(" AND c.team = ").bind(t.clone());
            }
        }
        if let Some(b) = f.band {
            q.push(" AND c.band = ").bind(i64::from(b.rank()));
        }
        if let Some(a) = &f.assignee {
            if a == "none" {
                q.push(" AND c.assignee IS NULL");
            } else {
                q.push(" AND c.assignee = ").bind(a.clone());
            }
        }
        if let Some(i) = f.intent {
            q.push(" AND c.intent = ").bind(i.as_str());
        }
        if let Some(l) = f.label.as_deref().filter(|l| !l.is_empty()) {
            q.push(
                " AND EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = ",
            )
            .bind(l.to_owned())
            .push(")");
        }
        if let Some(t) = f.text.as_deref().filter(|t| !t.is_empty()) {
            // LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
            let pattern = format!("%{}%", like_escape(t));
            q.push(" AND (LOWER(COALESCE(m.text, '')) LIKE LOWER(")
                .bind(pattern.clone())
                .push(") ESCAPE '\\' OR LOWER(c.author) LIKE LOWER(")
                .bind(pattern)
                .push(") ESCAPE '\\')");
        }
        if let (Some(a), false) = (f.after, f.by_score) {
            q.push(&format!(" AND ({INBOX_ORDER}) > ("))
                .bind(a.band)
                .push(", ")
                .bind(a.nothing_due)
                .push(", ")
                .bind(a.due)
                .push(", ")
                .bind(a.opened)
                .push(", ")
                .bind(a.id)
                .push(")");
        }
        if f.by_score {
            q.push(" ORDER BY c.priority_score DESC, c.id LIMIT ");
        } else {
            q.push(&format!(" ORDER BY {INBOX_ORDER} LIMIT "));
        }
        q.bind(i64::from(f.limit));
        let rows = q.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(conv_row).collect::<Result<_, _>>()?)
    }

    /// A person: identities, conversations, sentiment over time.
    pub async fn person(&self, id: i64) -> Result<PersonDetail, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT display_name FROM people WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((display_name,)) = row else {
            return Err(StoreError::NotFound { what: "person", id });
        };
        let identities = sqlx::query_as(
            "SELECT platform, handle, name, followers FROM identities WHERE person_id = $1 ORDER BY platform, handle",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CONV_COLUMNS} FROM conversations c LEFT JOIN messages m ON m.id = c.root_message_id \
             WHERE c.person_id = $1 AND c.merged_into IS NULL ORDER BY c.opened_at DESC, c.id DESC LIMIT 500"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let conversations = rows.iter().map(conv_row).collect::<Result<_, _>>()?;
        let points: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT created_at, compound FROM messages WHERE person_id = $1 ORDER BY created_at LIMIT 5000",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(PersonDetail {
            id,
            display_name,
            identities,
            conversations,
            sentiment: points.into_iter().map(|(at, c)| (time(at), c)).collect(),
        })
    }

    /// Whether the store answers (for health checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// One conversation (a merged one resolves to the conversation it joined).
    pub async fn conversation(&self, id: i64) -> Result<ConversationDetail, StoreError> {
        let merged: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT merged_into FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let id = match merged {
            None => {
                return Err(StoreError::NotFound {
                    what: "conversation",
                    id,
                });
            }
            Some((Some(into),)) => into,
            Some((None,)) => id,
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CONV_COLUMNS} FROM conversations c LEFT JOIN messages m ON m.id = c.root_message_id WHERE c.id = $1"
        )))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let conversation = conv_row(&row)?;
        let messages = sqlx::query(AssertSqlSafe(format!(
            "SELECT {MSG_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY created_at, id"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(msg_row)
        .collect::<Result<_, _>>()?;
        let events = sqlx::query(
            "SELECT seq, conversation_id, kind, actor, at, data FROM events WHERE conversation_id = $1 \
             OR conversation_id IN (SELECT id FROM conversations WHERE merged_into = $2) ORDER BY seq",
        )
        .bind(id)
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let data: String = r.try_get(5)?;
            Ok(EventRow {
                seq: r.try_get(0)?,
                conversation_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                actor: r.try_get(3)?,
                at: time(r.try_get(4)?),
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        let notes = sqlx::query_as::<_, (String, String, i64)>(
            "SELECT author, text, at FROM notes WHERE conversation_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(author, text, at)| NoteRow {
            author,
            text,
            at: time(at),
        })
        .collect();
        let labels = sqlx::query_as::<_, (String,)>(
            "SELECT label FROM conversation_labels WHERE conversation_id = $1 ORDER BY label",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(l,)| l)
        .collect();
        let outbox = self.conversation_outbox(id).await?;
        Ok(ConversationDetail {
            conversation,
            labels,
            messages,
            events,
            notes,
            outbox,
        })
    }

    /// The facts a report over `[since, until)` needs, for one team or all.
    pub async fn report_facts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        team: Option<&str>,
    ) -> Result<ReportFacts, StoreError> {
        let lo = since.map(ms).unwrap_or(i64::MIN);
        let hi = until.map(ms).unwrap_or(i64::MAX);
        let team_clause =
            " AND ($3 IS NULL OR ($3 = 'unrouted' AND c.team IS NULL) OR c.team = $3)";
        let convs = sqlx::query(AssertSqlSafe(format!(
            "SELECT c.id, c.team, c.intent, c.opened_at, c.first_due_at FROM conversations c \
             WHERE c.merged_into IS NULL AND c.opened_at >= $1 AND c.opened_at < $2{team_clause} ORDER BY c.id"
        )))
        .bind(lo)
        .bind(hi)
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        let mut facts: Vec<ConversationFacts> = Vec::with_capacity(convs.len());
        let mut index: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for r in &convs {
            let intent: String = r.try_get(2)?;
            let id: i64 = r.try_get(0)?;
            index.insert(id, facts.len());
            facts.push(ConversationFacts {
                id,
                team: r.try_get(1)?,
                intent: intent.parse().unwrap_or(Intent::Other),
                opened_at: time(r.try_get(3)?),
                sla_due_at: r.try_get::<Option<i64>, _>(4)?.map(time),
                timeline: Vec::new(),
            });
        }
        let msgs = sqlx::query(AssertSqlSafe(format!(
            "SELECT m.conversation_id, m.direction, m.created_at, m.compound, m.automated, m.author, m.is_reply \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.merged_into IS NULL AND c.opened_at >= $1 AND c.opened_at < $2{team_clause} \
             ORDER BY m.conversation_id, m.created_at, m.id"
        )))
        .bind(lo)
        .bind(hi)
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        for r in &msgs {
            let conv: i64 = r.try_get(0)?;
            let Some(&i) = index.get(&conv) else { continue };
            let dir: String = r.try_get(1)?;
            let at = time(r.try_get(2)?);
            let item = if dir == "inbound" {
                TimelineItem::Inbound {
                    at,
                    compound: r.try_get(3)?,
                }
            } else {
                TimelineItem::Outbound {
                    at,
                    automated: r.try_get::<i64, _>(4)? != 0,
                    by: Some(r.try_get(5)?),
                    is_reply: r.try_get::<i64, _>(6)? != 0,
                }
            };
            facts[i].timeline.push(item);
        }
        let evs = sqlx::query(AssertSqlSafe(format!(
            "SELECT e.conversation_id, e.kind, e.at, e.data FROM events e JOIN conversations c ON c.id = e.conversation_id \
             WHERE c.merged_into IS NULL AND c.opened_at >= $1 AND c.opened_at < $2{team_clause} \
             AND e.kind IN ('status', 'reopened') ORDER BY e.seq"
        )))
        .bind(lo)
        .bind(hi)
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        for r in &evs {
            let conv: i64 = r.try_get(0)?;
            let Some(&i) = index.get(&conv) else { continue };
            let kind: String = r.try_get(1)?;
            let at = time(r.try_get(2)?);
            let data: String = r.try_get(3)?;
            let to = serde_json::from_str::<serde_json::Value>(&data)
                .ok()
                .and_then(|v| v.get("to").and_then(|t| t.as_str()).map(str::to_string));
            if kind == "reopened" {
                facts[i].timeline.push(TimelineItem::Reopened { at });
            } else if to.as_deref() == Some("resolved") {
                facts[i].timeline.push(TimelineItem::Resolved { at });
            }
        }
        let outbound = sqlx::query_as::<_, (String, String, i64, i64, i64)>(
            "SELECT platform, author, created_at, is_reply, automated FROM messages \
             WHERE direction = 'outbound' AND created_at >= $1 AND created_at < $2",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(
            |(platform, author, at, is_reply, automated)| BroadcastFacts {
                account: format!("{platform}:{author}"),
                at: time(at),
                is_reply: is_reply != 0,
                automated: automated != 0,
            },
        )
        .collect();
        // With a team, only the inbound messages of that team's conversations.
        let inbound = sqlx::query_as::<_, (i64, f64)>(AssertSqlSafe(format!(
            "SELECT m.created_at, m.compound FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.direction = 'inbound' AND m.created_at >= $1 AND m.created_at < $2 \
             AND ($3 IS NULL OR (c.merged_into IS NULL{team_clause}))"
        )))
        .bind(lo)
        .bind(hi)
        .bind(team)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(at, c)| (time(at), c))
        .collect();
        Ok(ReportFacts {
            conversations: facts,
            outbound,
            inbound,
        })
    }

    /// Conversations opened in `[since, until)` by band, for one team or all.
    pub async fn opened_by_band(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        team: Option<&str>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows = sqlx::query_as::<_, (String, i64)>(
            "SELECT 'P' || band, COUNT(*) FROM conversations c WHERE merged_into IS NULL \
             AND opened_at >= $1 AND opened_at < $2 \
             AND ($3 IS NULL OR ($3 = 'unrouted' AND c.team IS NULL) OR c.team = $3) GROUP BY 1",
        )
        .bind(since.map(ms).unwrap_or(i64::MIN))
        .bind(until.map(ms).unwrap_or(i64::MAX))
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Quarantined rows, newest source first.
    pub async fn quarantine(&self, limit: u32) -> Result<Vec<QuarantineEntry>, StoreError> {
        let rows = sqlx::query_as::<_, (String, i64, String, String, i64)>(
            "SELECT source, line, reason, raw, at FROM quarantine ORDER BY at DESC, source, line LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(source, line, reason, raw, at)| QuarantineEntry {
                source,
                line,
                reason,
                raw,
                at: time(at),
            })
            .collect())
    }

    /// Counts of what is stored.
    pub async fn summary(&self) -> Result<Summary, StoreError> {
        let mut s = Summary::default();
        let (messages, inbound): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM messages",
        )
        .fetch_one(&self.pool)
        .await?;
        s.messages = messages;
        s.inbound = inbound;
        (s.people,) = sqlx::query_as("SELECT COUNT(*) FROM people")
            .fetch_one(&self.pool)
            .await?;
        (s.conversations,) =
            sqlx::query_as("SELECT COUNT(*) FROM conversations WHERE merged_into IS NULL")
                .fetch_one(&self.pool)
                .await?;
        let group = |sql: &'static str| sqlx::query_as::<_, (String, i64)>(sql);
        s.by_platform = group("SELECT platform, COUNT(*) FROM messages GROUP BY platform")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        s.open_by_team = group(
            "SELECT COALESCE(team, 'unrouted'), COUNT(*) FROM conversations \
             WHERE merged_into IS NULL AND status != 'resolved' GROUP BY 1",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        s.open_by_priority = group(
            "SELECT 'P' || band, COUNT(*) FROM conversations \
             WHERE merged_into IS NULL AND status != 'resolved' GROUP BY 1",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        s.by_intent = group(
            "SELECT intent, COUNT(*) FROM conversations WHERE merged_into IS NULL GROUP BY intent",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        s.by_status = group(
            "SELECT status, COUNT(*) FROM conversations WHERE merged_into IS NULL GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        Ok(s)
    }

    /// Counts of rows in the main tables, to compare two stores or two runs. `events`
    /// leaves out the `stored` events: the search index's feed, one per write batch, so
    /// their number depends on how the input was batched, not on what it held.
    pub async fn table_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut out = BTreeMap::new();
        for t in [
            "messages",
            "conversations",
            "people",
            "identities",
            "events",
            "quarantine",
        ] {
            let filter = if t == "events" {
                " WHERE kind != 'stored'"
            } else {
                ""
            };
            let (n,): (i64,) =
                sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}{filter}")))
                    .fetch_one(&self.pool)
                    .await?;
            out.insert(t.to_string(), n);
        }
        Ok(out)
    }

    /// Every message as (platform, platform id, platform id of its conversation's first
    /// message, band), in a stable order: two stores with the same content give the same
    /// list whatever their row ids.
    pub async fn message_dump(&self) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.platform, m.platform_id, COALESCE(r.platform_id, ''), m.band FROM messages m \
             LEFT JOIN conversations c ON c.id = m.conversation_id \
             LEFT JOIN messages r ON r.id = c.root_message_id ORDER BY m.platform, m.platform_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Where a channel has read up to, if it has read anything.
    pub async fn channel_cursor(&self, channel: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT cursor FROM channel_cursors WHERE channel = $1")
                .bind(channel)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(c,)| c))
    }

    /// One stored message by its store id.
    pub async fn message(&self, id: i64) -> Result<MessageRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {MSG_COLUMNS} FROM messages WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound {
            what: "message",
            id,
        })?;
        Ok(msg_row(&row)?)
    }
}
