//! The write path of a message: dedupe, person, conversation (threading, routing,
//! assignment, SLA), events — one transaction per batch.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_core::config::Config;
use rapport_core::routing::{MemberLoad, RouteDecision, pick_assignee};
use rapport_core::sla::{Calendar, SlaPolicy, due_at};
use rapport_core::triage::Triage;
use rapport_core::{Band, Direction, NewMessage};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError, ms};

/// A message with its triage and routing decided, ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The message.
    pub message: NewMessage,
    /// Sentiment, intent, priority.
    pub triage: Triage,
    /// Team, band after rules, labels, notify.
    pub route: RouteDecision,
    /// How to answer it on its platform (JSON), when the platform needs more than the
    /// message's id (Bluesky: the strong references of the post and of its thread's root).
    pub reply_ref: Option<String>,
    /// The message as the platform sent it, when that was HTML (untrusted: sanitise it
    /// before showing it).
    pub html: Option<String>,
    /// The listening topics it matched; its conversation gets the label `topic:<name>`.
    pub topics: Vec<String>,
}

/// One step of replayed history: a message, or a conversation being resolved.
#[derive(Debug, Clone)]
pub enum HistoryItem {
    /// A message to store.
    Message(Box<Prepared>),
    /// Resolve the conversation that holds this message.
    Resolve {
        /// Platform of the message.
        platform: String,
        /// Its platform id.
        platform_id: String,
        /// When it was resolved.
        at: DateTime<Utc>,
        /// Who resolved it.
        actor: String,
    },
}

/// A row an import could not take.
#[derive(Debug, Clone)]
pub struct QuarantineRow {
    /// Where it came from (the file).
    pub source: String,
    /// Its line number in the source.
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
    /// The row as read.
    pub raw: String,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// New messages stored.
    pub inserted: u64,
    /// Messages already in the store.
    pub duplicates: u64,
    /// New conversations opened.
    pub conversations: u64,
}

#[derive(Debug, Clone)]
struct TeamState {
    members: Vec<MemberLoad>,
    cursor: usize,
    sla: SlaPolicy,
    calendar: Option<Calendar>,
}

/// Writes prepared messages; holds the round-robin and load state of every team.
#[derive(Debug)]
pub struct Ingestor<'a> {
    store: &'a Store,
    teams: HashMap<String, TeamState>,
    default_sla: SlaPolicy,
    /// Person id and last known followers per (platform, handle).
    people: HashMap<(String, String), (i64, Option<u64>)>,
    /// Messages the open transaction inserted or moved, for its `stored` event.
    touched: Vec<i64>,
    /// The people version `people` was filled under: a merge or unmerge changes it, and
    /// the next batch then forgets what it remembered.
    people_version: Option<String>,
}

struct Conv {
    id: i64,
    team: Option<String>,
    status: String,
    band: i64,
    assignee: Option<String>,
    due_at: Option<i64>,
}

impl Store {
    /// An ingestor for this store under this configuration (loads each member's open
    /// conversations and each team's round-robin position).
    pub async fn ingestor(&self, config: &Config) -> Result<Ingestor<'_>, StoreError> {
        let mut teams = HashMap::new();
        let loads: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT assignee, COUNT(*) FROM conversations \
             WHERE assignee IS NOT NULL AND status != 'resolved' AND merged_into IS NULL \
             GROUP BY assignee",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let cursors: HashMap<String, i64> =
            sqlx::query_as::<_, (String, i64)>("SELECT team, next FROM assign_cursor")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        for team in &config.teams {
            let members = team
                .members
                .iter()
                .map(|m| MemberLoad {
                    name: m.name.clone(),
                    capacity: m.capacity,
                    open: loads.get(&m.name).copied().unwrap_or(0).max(0) as u32,
                })
                .collect::<Vec<_>>();
            let n = members.len().max(1);
            teams.insert(
                team.name.clone(),
                TeamState {
                    cursor: cursors.get(&team.name).copied().unwrap_or(0).max(0) as usize % n,
                    members,
                    sla: *config.sla_for(Some(&team.name)),
                    calendar: config.calendar_for(Some(&team.name)),
                },
            );
        }
        Ok(Ingestor {
            store: self,
            teams,
            default_sla: config.sla,
            people: HashMap::new(),
            touched: Vec::new(),
            people_version: None,
        })
    }
}

impl Store {
    /// On PostgreSQL, waits for the lock that makes ingest transactions one at a time, as
    /// SQLite's single writer does: threading (a reply and its parent in two batches at
    /// once) and people (one author in two batches) need each batch to see the ones
    /// before it. Triage, the costly part, still runs in parallel in every worker. The
    /// lock is the transaction's and ends with it.
    pub(crate) async fn lock_ingest(&self, tx: &mut AnyConnection) -> Result<(), StoreError> {
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7215200001)")
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

pub(crate) fn band_of(rank: i64) -> Band {
    match rank {
        1 => Band::P1,
        2 => Band::P2,
        3 => Band::P3,
        _ => Band::P4,
    }
}

impl Ingestor<'_> {
    fn due(&self, team: Option<&str>, band: Band, from: DateTime<Utc>) -> i64 {
        let (policy, cal) = match team.and_then(|t| self.teams.get(t)) {
            Some(t) => (&t.sla, t.calendar.as_ref()),
            None => (&self.default_sla, None),
        };
        ms(due_at(from, policy.minutes_for(band), cal))
    }

    /// Stores a batch of messages and quarantined rows in one transaction.
    pub async fn write_batch(
        &mut self,
        batch: &[Prepared],
        quarantine: &[QuarantineRow],
    ) -> Result<BatchOutcome, StoreError> {
        self.write_batch_at(batch, quarantine, None).await
    }

    /// Stores a batch and moves a channel's cursor in the same transaction: after a crash,
    /// the channel resumes exactly after the last batch that was stored.
    pub async fn write_batch_at(
        &mut self,
        batch: &[Prepared],
        quarantine: &[QuarantineRow],
        cursor: Option<(&str, &str)>,
    ) -> Result<BatchOutcome, StoreError> {
        self.write_checked(batch, quarantine, cursor, None).await
    }

    /// Stores a batch that a job of the queue carries and completes the job in the same
    /// transaction: when the job is no longer this worker's (its lease expired and another
    /// worker claimed it), nothing is written and [`StoreError::LeaseLost`] says so.
    pub async fn write_job_batch(
        &mut self,
        batch: &[Prepared],
        quarantine: &[QuarantineRow],
        job: &crate::jobs::Job,
        worker: &str,
    ) -> Result<BatchOutcome, StoreError> {
        self.write_checked(batch, quarantine, None, Some((job.id, worker)))
            .await
    }

    async fn write_checked(
        &mut self,
        batch: &[Prepared],
        quarantine: &[QuarantineRow],
        cursor: Option<(&str, &str)>,
        job: Option<(i64, &str)>,
    ) -> Result<BatchOutcome, StoreError> {
        self.touched.clear();
        let res = self.write_tx(batch, quarantine, cursor, job).await;
        if res.is_err() {
            // The transaction rolled back: people it created do not exist.
            self.people.clear();
        }
        res
    }

    async fn write_tx(
        &mut self,
        batch: &[Prepared],
        quarantine: &[QuarantineRow],
        cursor: Option<(&str, &str)>,
        job: Option<(i64, &str)>,
    ) -> Result<BatchOutcome, StoreError> {
        let mut tx = self.store.begin_write().await?;
        self.store.lock_ingest(&mut tx).await?;
        let version = crate::people::people_version(&mut tx).await?;
        if version != self.people_version {
            self.people.clear();
            self.people_version = version;
        }
        let mut out = BatchOutcome::default();
        let now = ms(Utc::now());
        for p in batch {
            match self.write_one(&mut tx, p, now).await? {
                Some(opened) => {
                    out.inserted += 1;
                    out.conversations += u64::from(opened);
                }
                None => out.duplicates += 1,
            }
        }
        for q in quarantine {
            sqlx::query(
                "INSERT INTO quarantine (source, line, reason, raw, at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (source, line) DO UPDATE SET reason = excluded.reason, raw = excluded.raw, at = excluded.at",
            )
            .bind(&q.source)
            .bind(q.line as i64)
            .bind(&q.reason)
            .bind(&q.raw)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some((channel, position)) = cursor {
            sqlx::query(
                "INSERT INTO channel_cursors (channel, cursor, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (channel) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(channel)
            .bind(position)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        self.save_cursors(&mut tx).await?;
        self.stored_event(&mut tx, now).await?;
        if let Some((id, worker)) = job
            && !crate::jobs::complete_in(&mut tx, id, worker, now).await?
        {
            tx.rollback().await?;
            return Err(StoreError::LeaseLost(id));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// One `stored` event for the messages this transaction inserted or moved, as ranges
    /// of ids (`{"messages": [[first, last], …]}`): what the search index follows.
    async fn stored_event(&mut self, conn: &mut AnyConnection, now: i64) -> Result<(), StoreError> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let ranges = id_ranges(&mut self.touched);
        self.touched.clear();
        event(
            conn,
            None,
            "stored",
            "system",
            now,
            json!({ "messages": ranges }),
        )
        .await?;
        Ok(())
    }

    async fn save_cursors(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        // In name order, so concurrent writers lock the rows in the same order.
        let mut teams: Vec<_> = self.teams.iter().collect();
        teams.sort_by(|a, b| a.0.cmp(b.0));
        for (team, state) in teams {
            sqlx::query(
                "INSERT INTO assign_cursor (team, next) VALUES ($1, $2) \
                 ON CONFLICT (team) DO UPDATE SET next = excluded.next",
            )
            .bind(team)
            .bind(state.cursor as i64)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn person(
        &mut self,
        conn: &mut AnyConnection,
        m: &NewMessage,
        at: i64,
    ) -> Result<i64, StoreError> {
        let key = (m.platform.clone(), m.author.clone());
        if let Some((id, followers)) = self.people.get_mut(&key) {
            if m.followers.is_some() && m.followers != *followers {
                *followers = m.followers;
                update_followers(conn, m).await?;
            }
            return Ok(*id);
        }
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT person_id FROM identities WHERE platform = $1 AND handle = $2")
                .bind(&m.platform)
                .bind(&m.author)
                .fetch_optional(&mut *conn)
                .await?;
        let id = match found {
            Some((id,)) => {
                if m.followers.is_some() {
                    // The last seen count, whoever stored the person first.
                    update_followers(conn, m).await?;
                }
                id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO people (display_name, created_at) VALUES ($1, $2) RETURNING id",
                )
                .bind(m.author_name.as_deref().unwrap_or(&m.author))
                .bind(at)
                .fetch_one(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO identities (person_id, platform, handle, name, followers) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(&m.platform)
                .bind(&m.author)
                .bind(&m.author_name)
                .bind(m.followers.map(|f| f as i64))
                .execute(&mut *conn)
                .await?;
                id
            }
        };
        self.people.insert(key, (id, m.followers));
        Ok(id)
    }

    /// `None` for a duplicate; `Some(true)` when it opened a conversation.
    async fn write_one(
        &mut self,
        conn: &mut AnyConnection,
        p: &Prepared,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        let m = &p.message;
        let t = &p.triage;
        let at = ms(m.created_at);
        let parent_conv: Option<i64> = match &m.in_reply_to {
            Some(parent) => sqlx::query_as::<_, (Option<i64>,)>(
                "SELECT conversation_id FROM messages WHERE platform = $1 AND platform_id = $2",
            )
            .bind(&m.platform)
            .bind(parent)
            .fetch_optional(&mut *conn)
            .await?
            .and_then(|(c,)| c),
            None => None,
        };
        // The author's person first, so the message row is written once. A duplicate's
        // author already has one, so this creates nothing for it.
        let person = match m.direction {
            Direction::Inbound => Some(self.person(conn, m, at).await?),
            Direction::Outbound => None,
        };
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO messages (platform, platform_id, conversation_id, direction, is_reply, automated, \
             author, person_id, followers, text, created_at, in_reply_to, reshares, replies, url, \
             compound, pos, neu, neg, intent, intent_rule, priority_score, band, sent_by, stored_at, reply_ref, html) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) \
             ON CONFLICT (platform, platform_id) DO NOTHING RETURNING id",
        )
        .bind(&m.platform)
        .bind(&m.platform_id)
        .bind(parent_conv)
        .bind(m.direction.as_str())
        .bind(i64::from(m.in_reply_to.is_some()))
        .bind(i64::from(m.automated))
        .bind(&m.author)
        .bind(person)
        .bind(m.followers.map(|f| f as i64))
        .bind(&m.text)
        .bind(at)
        .bind(&m.in_reply_to)
        .bind(m.reshares as i64)
        .bind(m.replies as i64)
        .bind(&m.url)
        .bind(t.scores.compound)
        .bind(t.scores.pos)
        .bind(t.scores.neu)
        .bind(t.scores.neg)
        .bind(t.intent.intent.as_str())
        .bind(&t.intent.rule)
        .bind(t.priority.score)
        .bind(i64::from(t.priority.band.rank()))
        .bind(match m.direction {
            Direction::Outbound => Some(m.author.as_str()),
            Direction::Inbound => None,
        })
        .bind(now)
        .bind(&p.reply_ref)
        .bind(&p.html)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((msg_id,)) = inserted else {
            return Ok(None);
        };
        self.touched.push(msg_id);
        let mut opened = false;
        let conv_id = match (m.direction, parent_conv) {
            (Direction::Inbound, None) => {
                opened = true;
                Some(self.open_conversation(conn, p, msg_id, person, at).await?)
            }
            (Direction::Inbound, Some(c)) => {
                self.inbound_joins(conn, c, p, at).await?;
                Some(c)
            }
            (Direction::Outbound, Some(c)) => {
                outbound_joins(conn, c, m.automated, at).await?;
                Some(c)
            }
            (Direction::Outbound, None) => None,
        };
        self.adopt_children(conn, m, conv_id, now).await?;
        for topic in &p.topics {
            sqlx::query(
                "INSERT INTO message_topics (topic, message_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(topic)
            .bind(msg_id)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            if let Some(c) = conv_id {
                let label = format!("topic:{topic}");
                let added = sqlx::query(
                    "INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(c)
                .bind(&label)
                .execute(&mut *conn)
                .await?;
                if added.rows_affected() > 0 {
                    event(
                        conn,
                        Some(c),
                        "labelled",
                        "system",
                        at,
                        json!({"label": label}),
                    )
                    .await?;
                }
            }
        }
        Ok(Some(opened))
    }

    async fn open_conversation(
        &mut self,
        conn: &mut AnyConnection,
        p: &Prepared,
        msg_id: i64,
        person: Option<i64>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let m = &p.message;
        let team = p.route.team.clone();
        let band = p.route.band;
        let assignee = match team.as_deref().and_then(|t| self.teams.get_mut(t)) {
            Some(state) => match pick_assignee(&state.members, state.cursor) {
                Some((i, next)) => {
                    state.cursor = next;
                    state.members[i].open += 1;
                    Some(state.members[i].name.clone())
                }
                None => None,
            },
            None => None,
        };
        let due = self.due(team.as_deref(), band, m.created_at);
        let (conv,): (i64,) = sqlx::query_as(
            "INSERT INTO conversations (platform, root_message_id, person_id, author, team, assignee, status, \
             band, priority_score, intent, route_rule, opened_at, first_due_at, due_at, last_inbound_at, \
             last_message_at, message_count, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16) RETURNING id",
        )
        .bind(&m.platform)
        .bind(msg_id)
        .bind(person)
        .bind(&m.author)
        .bind(&team)
        .bind(&assignee)
        .bind(i64::from(band.rank()))
        .bind(p.triage.priority.score)
        .bind(p.triage.intent.intent.as_str())
        .bind(&p.route.rule)
        .bind(at)
        .bind(due)
        .bind(due)
        .bind(at)
        .bind(at)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("UPDATE messages SET conversation_id = $1 WHERE id = $2")
            .bind(conv)
            .bind(msg_id)
            .execute(&mut *conn)
            .await?;
        event(
            conn,
            Some(conv),
            "opened",
            "system",
            at,
            json!({
                "intent": p.triage.intent.intent,
                "intent_rule": p.triage.intent.rule,
                "score": p.triage.priority.score,
                "band": band,
                "raised_by_rule": p.route.raised,
                "rule": p.route.rule,
                "team": team,
                "due_at": due,
            }),
        )
        .await?;
        if let Some(a) = &assignee {
            event(
                conn,
                Some(conv),
                "assigned",
                "system",
                at,
                json!({"to": a, "by": "round robin"}),
            )
            .await?;
        }
        for label in &p.route.labels {
            sqlx::query(
                "INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(conv)
            .bind(label)
            .execute(&mut *conn)
            .await?;
            event(
                conn,
                Some(conv),
                "labelled",
                "system",
                at,
                json!({"label": label}),
            )
            .await?;
        }
        if let Some(who) = &p.route.notify {
            event(
                conn,
                Some(conv),
                "notify",
                "system",
                at,
                json!({"notify": who, "rule": p.route.rule}),
            )
            .await?;
        }
        Ok(conv)
    }

    async fn inbound_joins(
        &mut self,
        conn: &mut AnyConnection,
        conv_id: i64,
        p: &Prepared,
        at: i64,
    ) -> Result<(), StoreError> {
        let c = load_conv(conn, conv_id).await?;
        let msg_band = p.triage.priority.band.rank() as i64;
        let band = c.band.min(msg_band);
        let mut status = c.status.clone();
        let mut due = c.due_at;
        if c.status == "resolved" {
            status = "open".into();
            due = Some(self.due(c.team.as_deref(), band_of(band), p.message.created_at));
            event(
                conn,
                Some(conv_id),
                "reopened",
                "system",
                at,
                json!({"by_message": p.message.platform_id}),
            )
            .await?;
            if let Some(a) = &c.assignee {
                self.adjust_load(a, 1);
            }
        } else if c.status != "open" {
            event(
                conn,
                Some(conv_id),
                "status",
                "system",
                at,
                json!({"from": c.status, "to": "open", "why": "new inbound message"}),
            )
            .await?;
            status = "open".into();
        }
        if due.is_none() {
            due = Some(self.due(c.team.as_deref(), band_of(band), p.message.created_at));
        }
        if band < c.band {
            event(
                conn,
                Some(conv_id),
                "priority",
                "system",
                at,
                json!({"from": band_of(c.band), "to": band_of(band)}),
            )
            .await?;
        }
        sqlx::query(
            "UPDATE conversations SET status = $1, band = $2, \
             priority_score = CASE WHEN priority_score > $3 THEN priority_score ELSE $3 END, due_at = $4, \
             last_inbound_at = CASE WHEN last_inbound_at > $5 THEN last_inbound_at ELSE $5 END, \
             last_message_at = CASE WHEN last_message_at > $5 THEN last_message_at ELSE $5 END, \
             message_count = message_count + 1, updated_at = $5 WHERE id = $6",
        )
        .bind(&status)
        .bind(band)
        .bind(p.triage.priority.score)
        .bind(due)
        .bind(at)
        .bind(conv_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Moves everything of conversation `from` into `into`; `from` stays as a pointer.
    async fn merge(
        &mut self,
        conn: &mut AnyConnection,
        from: i64,
        into: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE messages SET conversation_id = $1 WHERE conversation_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *conn)
            .await?;
        // Conversations merged into `from` before now lead to `into` too: a pointer is
        // always one step from the live conversation.
        sqlx::query("UPDATE conversations SET merged_into = $1 WHERE merged_into = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO conversation_labels (conversation_id, label) \
             SELECT $1, label FROM conversation_labels WHERE conversation_id = $2 ON CONFLICT DO NOTHING",
        )
        .bind(into)
        .bind(from)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE notes SET conversation_id = $1 WHERE conversation_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE conversations SET merged_into = $1, due_at = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(into)
        .bind(now)
        .bind(from)
        .execute(&mut *conn)
        .await?;
        event(
            conn,
            Some(into),
            "merged",
            "system",
            now,
            json!({"from": from, "why": "reply arrived before its parent"}),
        )
        .await?;
        event(
            conn,
            Some(from),
            "merged_into",
            "system",
            now,
            json!({"into": into}),
        )
        .await?;
        Ok(())
    }

    pub(crate) fn adjust_load(&mut self, member: &str, delta: i32) {
        for t in self.teams.values_mut() {
            for m in &mut t.members {
                if m.name == member {
                    m.open = m.open.saturating_add_signed(delta);
                }
            }
        }
    }

    /// Replies that arrived before this message (earlier in a file, or in an earlier
    /// import) join its conversation now.
    async fn adopt_children(
        &mut self,
        conn: &mut AnyConnection,
        m: &NewMessage,
        conv_id: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(target) = conv_id else {
            return Ok(());
        };
        // Breadth-first: an adopted reply may itself have replies stored before it.
        let mut parents = vec![m.platform_id.clone()];
        let mut adopted_any = false;
        while let Some(parent) = parents.pop() {
            let children = sqlx::query(
                "SELECT m.id, m.conversation_id, c.root_message_id, c.status, c.assignee, m.platform_id \
                 FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.platform = $1 AND m.in_reply_to = $2 AND (m.conversation_id IS NULL OR m.conversation_id != $3)",
            )
            .bind(&m.platform)
            .bind(&parent)
            .bind(target)
            .fetch_all(&mut *conn)
            .await?;
            for row in children {
                let child: i64 = row.try_get(0)?;
                let child_conv: Option<i64> = row.try_get(1)?;
                let child_pid: String = row.try_get(5)?;
                match child_conv {
                    None => {
                        sqlx::query("UPDATE messages SET conversation_id = $1 WHERE id = $2")
                            .bind(target)
                            .bind(child)
                            .execute(&mut *conn)
                            .await?;
                        self.touched.push(child);
                    }
                    Some(c) => {
                        let root: Option<i64> = row.try_get(2)?;
                        if root != Some(child) {
                            continue;
                        }
                        let status: Option<String> = row.try_get(3)?;
                        let assignee: Option<String> = row.try_get(4)?;
                        if status.as_deref() != Some("resolved")
                            && let Some(a) = assignee
                        {
                            self.adjust_load(&a, -1);
                        }
                        self.merge(conn, c, target, now).await?;
                    }
                }
                adopted_any = true;
                parents.push(child_pid);
            }
        }
        if !adopted_any {
            return Ok(());
        }
        refresh_conversation(conn, target).await
    }
}

async fn load_conv(conn: &mut AnyConnection, id: i64) -> Result<Conv, StoreError> {
    let row = sqlx::query(
        "SELECT id, team, status, band, assignee, due_at FROM conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound {
        what: "conversation",
        id,
    })?;
    Ok(Conv {
        id: row.try_get(0)?,
        team: row.try_get(1)?,
        status: row.try_get(2)?,
        band: row.try_get(3)?,
        assignee: row.try_get(4)?,
        due_at: row.try_get(5)?,
    })
}

/// The author's follower count as `m` last saw it.
async fn update_followers(conn: &mut AnyConnection, m: &NewMessage) -> Result<(), StoreError> {
    sqlx::query("UPDATE identities SET followers = $1 WHERE platform = $2 AND handle = $3")
        .bind(m.followers.map(|f| f as i64))
        .bind(&m.platform)
        .bind(&m.author)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Recomputes a conversation's derived times and counts from its messages.
async fn refresh_conversation(conn: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    let c = load_conv(conn, id).await?;
    sqlx::query(
        "UPDATE conversations SET \
           opened_at = COALESCE((SELECT MIN(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'inbound'), opened_at), \
           root_message_id = COALESCE((SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'inbound' ORDER BY created_at, id LIMIT 1), root_message_id), \
           first_response_at = (SELECT MIN(o.created_at) FROM messages o WHERE o.conversation_id = $1 AND o.direction = 'outbound' AND o.automated = 0 \
               AND o.created_at >= (SELECT MIN(i.created_at) FROM messages i WHERE i.conversation_id = $1 AND i.direction = 'inbound')), \
           last_inbound_at = (SELECT MAX(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'inbound'), \
           last_message_at = (SELECT MAX(created_at) FROM messages WHERE conversation_id = $1), \
           message_count = (SELECT COUNT(*) FROM messages WHERE conversation_id = $1), \
           band = COALESCE((SELECT CASE WHEN MIN(m.band) < conversations.band THEN MIN(m.band) ELSE conversations.band END \
                            FROM messages m WHERE m.conversation_id = $1 AND m.direction = 'inbound'), band) \
         WHERE id = $1",
    )
    .bind(c.id)
    .execute(&mut *conn)
    .await?;
    // Nothing is due once the last word is a human reply.
    sqlx::query(
        "UPDATE conversations SET due_at = NULL WHERE id = $1 AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $1 \
         AND m.direction = 'outbound' AND m.automated = 0 AND m.created_at >= COALESCE(last_inbound_at, 0))",
    )
    .bind(c.id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An outbound message joined a conversation: a human reply stops the clock (and is the
/// first response if none came before); an automated one never does.
pub(crate) async fn outbound_joins(
    conn: &mut AnyConnection,
    conv_id: i64,
    automated: bool,
    at: i64,
) -> Result<(), StoreError> {
    if automated {
        sqlx::query(
            "UPDATE conversations SET last_message_at = CASE WHEN last_message_at > $1 THEN last_message_at ELSE $1 END, \
             message_count = message_count + 1 WHERE id = $2",
        )
        .bind(at)
        .bind(conv_id)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query(
            "UPDATE conversations SET first_response_at = COALESCE(first_response_at, $1), due_at = NULL, \
             last_message_at = CASE WHEN last_message_at > $1 THEN last_message_at ELSE $1 END, \
             message_count = message_count + 1, updated_at = $1 WHERE id = $2",
        )
        .bind(at)
        .bind(conv_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets a conversation resolved at `at`; nothing is due any more.
pub(crate) async fn mark_resolved(
    conn: &mut AnyConnection,
    id: i64,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE conversations SET status = 'resolved', resolved_at = $1, due_at = NULL, updated_at = $2 WHERE id = $3")
        .bind(at)
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sorts and deduplicates ids and folds them into inclusive `[first, last]` runs.
pub fn id_ranges(ids: &mut Vec<i64>) -> Vec<[i64; 2]> {
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<[i64; 2]> = Vec::new();
    for &id in ids.iter() {
        match out.last_mut() {
            Some(r) if r[1] + 1 == id => r[1] = id,
            _ => out.push([id, id]),
        }
    }
    out
}

/// Appends one event.
pub(crate) async fn event(
    conn: &mut AnyConnection,
    conversation: Option<i64>,
    kind: &str,
    actor: &str,
    at: i64,
    data: serde_json::Value,
) -> Result<i64, StoreError> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES ($1, $2, $3, $4, $5) RETURNING seq",
    )
    .bind(conversation)
    .bind(kind)
    .bind(actor)
    .bind(at)
    .bind(data.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(seq)
}

impl Ingestor<'_> {
    /// Resolves the conversation holding a message (by its platform id), as `actor` at
    /// `at`; `false` when no open conversation holds it. Used to replay history (the
    /// demo, imports of closed tickets) so that members' loads stay true.
    pub async fn resolve_thread(
        &mut self,
        platform: &str,
        platform_id: &str,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.store.begin_write().await?;
        self.store.lock_ingest(&mut tx).await?;
        let done = self
            .resolve_in(&mut tx, platform, platform_id, at, actor)
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn resolve_in(
        &mut self,
        conn: &mut AnyConnection,
        platform: &str,
        platform_id: &str,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT c.id, c.status, c.assignee FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.platform = $1 AND m.platform_id = $2 AND c.merged_into IS NULL",
        )
        .bind(platform)
        .bind(platform_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((id, status, assignee)) = row else {
            return Ok(false);
        };
        if status == "resolved" {
            return Ok(false);
        }
        let at = ms(at);
        mark_resolved(conn, id, at).await?;
        event(
            conn,
            Some(id),
            "status",
            actor,
            at,
            json!({"from": status, "to": "resolved"}),
        )
        .await?;
        if let Some(a) = assignee {
            self.adjust_load(&a, -1);
        }
        Ok(true)
    }

    /// Stores messages and replays resolutions in the given order, in one transaction.
    pub async fn write_history(
        &mut self,
        items: &[HistoryItem],
    ) -> Result<(BatchOutcome, u64), StoreError> {
        self.touched.clear();
        let mut tx = self.store.begin_write().await?;
        self.store.lock_ingest(&mut tx).await?;
        let mut out = BatchOutcome::default();
        let mut resolved = 0;
        let now = ms(Utc::now());
        for item in items {
            match item {
                HistoryItem::Message(p) => match self.write_one(&mut tx, p, now).await? {
                    Some(opened) => {
                        out.inserted += 1;
                        out.conversations += u64::from(opened);
                    }
                    None => out.duplicates += 1,
                },
                HistoryItem::Resolve {
                    platform,
                    platform_id,
                    at,
                    actor,
                } => {
                    resolved += u64::from(
                        self.resolve_in(&mut tx, platform, platform_id, *at, actor)
                            .await?,
                    );
                }
            }
        }
        self.save_cursors(&mut tx).await?;
        self.stored_event(&mut tx, now).await?;
        tx.commit().await?;
        Ok((out, resolved))
    }
}
