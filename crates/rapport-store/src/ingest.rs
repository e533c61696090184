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
use sqlx::AnyConnection;

use crate::write_conn::{Arg, WriteConn};
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
    /// On SQLite, the ingestor's own connection ([`crate::write_conn`]): its batches run
    /// in the calling thread, without sqlx's hand-off to a worker thread per statement.
    /// (In a mutex only so that the ingestor is `Sync`, as futures that hold `&self`
    /// across an await must be to be sent between threads; it is only ever taken with
    /// `&mut self`, without locking.)
    lite: std::sync::Mutex<Option<rusqlite::Connection>>,
    /// Each statement's time on the ingestor's own connection, when asked for.
    times: Option<crate::write_conn::StatementTimes>,
}

/// A write transaction the ingestor holds.
enum Open {
    /// On its own SQLite connection (with the statement times, when they are kept).
    Lite(
        rusqlite::Connection,
        Option<crate::write_conn::StatementTimes>,
    ),
    /// Through sqlx.
    Any(sqlx::Transaction<'static, sqlx::Any>),
}

impl Open {
    fn conn(&mut self) -> WriteConn<'_> {
        match self {
            Open::Lite(c, times) => WriteConn::Lite(c, times.as_mut()),
            Open::Any(tx) => WriteConn::Any(tx),
        }
    }
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
            times: None,
            lite: std::sync::Mutex::new(match &self.sqlite_path {
                Some(path) => Some(crate::write_conn::open_lite(path)?),
                None => None,
            }),
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
        // A job's batch completes its job in the same transaction, through sqlx.
        let mut open = self.begin(job.is_some()).await?;
        let mut res = self
            .write_body(&mut open.conn(), batch, quarantine, cursor)
            .await;
        if let (Ok(_), Some((id, worker)), Open::Any(tx)) = (&res, job, &mut open) {
            match crate::jobs::complete_in(tx, id, worker, ms(Utc::now())).await {
                Ok(true) => {}
                Ok(false) => res = Err(StoreError::LeaseLost(id)),
                Err(e) => res = Err(e),
            }
        }
        self.end(open, res).await
    }

    /// Begins a write transaction: on the ingestor's own SQLite connection when it has
    /// one (unless `via_sqlx`), through sqlx otherwise (with PostgreSQL's ingest lock).
    async fn begin(&mut self, via_sqlx: bool) -> Result<Open, StoreError> {
        if !via_sqlx && let Some(lite) = self.lite_slot().take() {
            // A transaction a failed ROLLBACK left open must not block every later batch.
            if !lite.is_autocommit() {
                let _ = lite.execute_batch("ROLLBACK");
            }
            if let Err(e) = lite.execute_batch("BEGIN IMMEDIATE") {
                *self.lite_slot() = Some(lite);
                return Err(e.into());
            }
            return Ok(Open::Lite(lite, self.times.take()));
        }
        let mut tx = self.store.begin_write().await?;
        self.store.lock_ingest(&mut tx).await?;
        Ok(Open::Any(tx))
    }

    /// Starts timing each statement (on SQLite: the ingestor's own connection).
    pub fn time_statements(&mut self) {
        self.times.get_or_insert_with(Default::default);
    }

    /// What [`Ingestor::time_statements`] measured so far.
    pub fn statement_times(&self) -> Option<&crate::write_conn::StatementTimes> {
        self.times.as_ref()
    }

    fn lite_slot(&mut self) -> &mut Option<rusqlite::Connection> {
        self.lite
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Commits when `res` is a success, rolls back otherwise; gives the connection back.
    async fn end<T>(&mut self, open: Open, res: Result<T, StoreError>) -> Result<T, StoreError> {
        match open {
            Open::Lite(lite, mut times) => {
                let started = std::time::Instant::now();
                let end = match &res {
                    Ok(_) => lite.execute_batch("COMMIT"),
                    Err(_) => lite.execute_batch("ROLLBACK"),
                };
                if let Some(t) = times.as_mut() {
                    t.add(
                        if res.is_ok() { "COMMIT" } else { "ROLLBACK" },
                        started.elapsed(),
                    );
                }
                self.times = times;
                let out = match (res, end) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => {
                        let _ = lite.execute_batch("ROLLBACK");
                        Err(e.into())
                    }
                };
                *self.lite_slot() = Some(lite);
                out
            }
            Open::Any(tx) => match res {
                Ok(v) => {
                    tx.commit().await?;
                    Ok(v)
                }
                Err(e) => {
                    // The error that failed the batch is the one to tell; a rollback
                    // that fails too leaves the transaction to end with the connection.
                    let _ = tx.rollback().await;
                    Err(e)
                }
            },
        }
    }

    /// The statements of one batch, in a transaction the caller holds.
    async fn write_body(
        &mut self,
        tx: &mut WriteConn<'_>,
        batch: &[Prepared],
        quarantine: &[QuarantineRow],
        cursor: Option<(&str, &str)>,
    ) -> Result<BatchOutcome, StoreError> {
        let version = crate::people::people_version(tx).await?;
        if version != self.people_version {
            self.people.clear();
            self.people_version = version;
        }
        let mut out = BatchOutcome::default();
        let now = ms(Utc::now());
        for p in batch {
            match self.write_one(tx, p, now).await? {
                Some(opened) => {
                    out.inserted += 1;
                    out.conversations += u64::from(opened);
                }
                None => out.duplicates += 1,
            }
        }
        for q in quarantine {
            tx.execute(
                "INSERT INTO quarantine (source, line, reason, raw, at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (source, line) DO UPDATE SET reason = excluded.reason, raw = excluded.raw, at = excluded.at",
                &[
                    (&q.source).into(),
                    (q.line as i64).into(),
                    (&q.reason).into(),
                    (&q.raw).into(),
                    now.into(),
                ],
            )
            .await?;
        }
        if let Some((channel, position)) = cursor {
            tx.execute(
                "INSERT INTO channel_cursors (channel, cursor, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (channel) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                &[channel.into(), position.into(), now.into()],
            )
            .await?;
        }
        self.save_cursors(tx).await?;
        self.stored_event(tx, now).await?;
        Ok(out)
    }

    /// One `stored` event for the messages this transaction inserted or moved, as ranges
    /// of ids (`{"messages": [[first, last], …]}`): what the search index follows.
    async fn stored_event(&mut self, conn: &mut WriteConn<'_>, now: i64) -> Result<(), StoreError> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let ranges = id_ranges(&mut self.touched);
        self.touched.clear();
        event_in(
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

    async fn save_cursors(&self, conn: &mut WriteConn<'_>) -> Result<(), StoreError> {
        // In name order, so concurrent writers lock the rows in the same order.
        let mut teams: Vec<_> = self.teams.iter().collect();
        teams.sort_by(|a, b| a.0.cmp(b.0));
        for (team, state) in teams {
            conn.execute(
                "INSERT INTO assign_cursor (team, next) VALUES ($1, $2) \
                 ON CONFLICT (team) DO UPDATE SET next = excluded.next",
                &[team.into(), (state.cursor as i64).into()],
            )
            .await?;
        }
        Ok(())
    }

    async fn person(
        &mut self,
        conn: &mut WriteConn<'_>,
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
        let found: Option<(i64,)> = conn
            .fetch_optional(
                "SELECT person_id FROM identities WHERE platform = $1 AND handle = $2",
                &[(&m.platform).into(), (&m.author).into()],
            )
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
                let (id,): (i64,) = conn
                    .fetch_one(
                        "INSERT INTO people (display_name, created_at) VALUES ($1, $2) RETURNING id",
                        &[
                            m.author_name.as_deref().unwrap_or(&m.author).into(),
                            at.into(),
                        ],
                    )
                    .await?;
                conn.execute(
                    "INSERT INTO identities (person_id, platform, handle, name, followers) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        id.into(),
                        (&m.platform).into(),
                        (&m.author).into(),
                        (&m.author_name).into(),
                        m.followers.map(|f| f as i64).into(),
                    ],
                )
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
        conn: &mut WriteConn<'_>,
        p: &Prepared,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        let m = &p.message;
        let t = &p.triage;
        let at = ms(m.created_at);
        let parent_conv: Option<i64> = match &m.in_reply_to {
            Some(parent) => conn
                .fetch_optional::<(Option<i64>,)>(
                    "SELECT conversation_id FROM messages WHERE platform = $1 AND platform_id = $2",
                    &[(&m.platform).into(), parent.into()],
                )
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
        let inserted: Option<(i64,)> = conn.fetch_optional(
            "INSERT INTO messages (platform, platform_id, conversation_id, direction, is_reply, automated, \
             author, person_id, followers, text, created_at, in_reply_to, reshares, replies, url, \
             compound, pos, neu, neg, intent, intent_rule, priority_score, band, sent_by, stored_at, reply_ref, html) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) \
             ON CONFLICT (platform, platform_id) DO NOTHING RETURNING id",
            &[
                (&m.platform).into(),
                (&m.platform_id).into(),
                parent_conv.into(),
                m.direction.as_str().into(),
                i64::from(m.in_reply_to.is_some()).into(),
                i64::from(m.automated).into(),
                (&m.author).into(),
                person.into(),
                m.followers.map(|f| f as i64).into(),
                (&m.text).into(),
                at.into(),
                (&m.in_reply_to).into(),
                (m.reshares as i64).into(),
                (m.replies as i64).into(),
                (&m.url).into(),
                t.scores.compound.into(),
                t.scores.pos.into(),
                t.scores.neu.into(),
                t.scores.neg.into(),
                t.intent.intent.as_str().into(),
                (&t.intent.rule).into(),
                t.priority.score.into(),
                i64::from(t.priority.band.rank()).into(),
                match m.direction {
                    Direction::Outbound => Some(m.author.as_str()),
                    Direction::Inbound => None,
                }
                .into(),
                now.into(),
                (&p.reply_ref).into(),
                (&p.html).into(),
            ],
        )
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
                outbound_joins_in(conn, c, m.automated, at).await?;
                Some(c)
            }
            (Direction::Outbound, None) => None,
        };
        self.adopt_children(conn, m, conv_id, now).await?;
        for topic in &p.topics {
            conn.execute(
                "INSERT INTO message_topics (topic, message_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[topic.into(), msg_id.into(), at.into()],
            )
            .await?;
            if let Some(c) = conv_id {
                let label = format!("topic:{topic}");
                let added = conn
                    .execute(
                        "INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[c.into(), (&label).into()],
                    )
                    .await?;
                if added > 0 {
                    event_in(
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
        conn: &mut WriteConn<'_>,
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
        let (conv,): (i64,) = conn.fetch_one(
            "INSERT INTO conversations (platform, root_message_id, person_id, author, team, assignee, status, \
             band, priority_score, intent, route_rule, opened_at, first_due_at, due_at, last_inbound_at, \
             last_message_at, message_count, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16) RETURNING id",
            &[
                (&m.platform).into(),
                msg_id.into(),
                person.into(),
                (&m.author).into(),
                (&team).into(),
                (&assignee).into(),
                i64::from(band.rank()).into(),
                p.triage.priority.score.into(),
                p.triage.intent.intent.as_str().into(),
                (&p.route.rule).into(),
                at.into(),
                due.into(),
                due.into(),
                at.into(),
                at.into(),
                at.into(),
            ],
        )
        .await?;
        conn.execute(
            "UPDATE messages SET conversation_id = $1 WHERE id = $2",
            &[conv.into(), msg_id.into()],
        )
        .await?;
        event_in(
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
            event_in(
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
            conn.execute(
                "INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[conv.into(), label.into()],
            )
            .await?;
            event_in(
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
            event_in(
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
        conn: &mut WriteConn<'_>,
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
            event_in(
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
            event_in(
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
            event_in(
                conn,
                Some(conv_id),
                "priority",
                "system",
                at,
                json!({"from": band_of(c.band), "to": band_of(band)}),
            )
            .await?;
        }
        conn.execute(
            "UPDATE conversations SET status = $1, band = $2, \
             priority_score = CASE WHEN priority_score > $3 THEN priority_score ELSE $3 END, due_at = $4, \
             last_inbound_at = CASE WHEN last_inbound_at > $5 THEN last_inbound_at ELSE $5 END, \
             last_message_at = CASE WHEN last_message_at > $5 THEN last_message_at ELSE $5 END, \
             message_count = message_count + 1, updated_at = $5 WHERE id = $6",
            &[
                (&status).into(),
                band.into(),
                p.triage.priority.score.into(),
                due.into(),
                at.into(),
                conv_id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Moves everything of conversation `from` into `into`; `from` stays as a pointer.
    async fn merge(
        &mut self,
        conn: &mut WriteConn<'_>,
        from: i64,
        into: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let pair = [Arg::from(into), Arg::from(from)];
        conn.execute(
            "UPDATE messages SET conversation_id = $1 WHERE conversation_id = $2",
            &pair,
        )
        .await?;
        // Conversations merged into `from` before now lead to `into` too: a pointer is
        // always one step from the live conversation.
        conn.execute(
            "UPDATE conversations SET merged_into = $1 WHERE merged_into = $2",
            &pair,
        )
        .await?;
        conn.execute(
            "INSERT INTO conversation_labels (conversation_id, label) \
             SELECT $1, label FROM conversation_labels WHERE conversation_id = $2 ON CONFLICT DO NOTHING",
            &pair,
        )
        .await?;
        conn.execute(
            "UPDATE notes SET conversation_id = $1 WHERE conversation_id = $2",
            &pair,
        )
        .await?;
        conn.execute(
            "UPDATE conversations SET merged_into = $1, due_at = NULL, updated_at = $2 WHERE id = $3",
            &[into.into(), now.into(), from.into()],
        )
        .await?;
        event_in(
            conn,
            Some(into),
            "merged",
            "system",
            now,
            json!({"from": from, "why": "reply arrived before its parent"}),
        )
        .await?;
        event_in(
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
        conn: &mut WriteConn<'_>,
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
            type Child = (
                i64,
                Option<i64>,
                Option<i64>,
                Option<String>,
                Option<String>,
                String,
            );
            let children: Vec<Child> = conn
                .fetch_all(
                    "SELECT m.id, m.conversation_id, c.root_message_id, c.status, c.assignee, m.platform_id \
                     FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id \
                     WHERE m.platform = $1 AND m.in_reply_to = $2 AND (m.conversation_id IS NULL OR m.conversation_id != $3)",
                    &[(&m.platform).into(), (&parent).into(), target.into()],
                )
                .await?;
            for (child, child_conv, root, status, assignee, child_pid) in children {
                match child_conv {
                    None => {
                        conn.execute(
                            "UPDATE messages SET conversation_id = $1 WHERE id = $2",
                            &[target.into(), child.into()],
                        )
                        .await?;
                        self.touched.push(child);
                    }
                    Some(c) => {
                        if root != Some(child) {
                            continue;
                        }
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

async fn load_conv(conn: &mut WriteConn<'_>, id: i64) -> Result<Conv, StoreError> {
    let (id, team, status, band, assignee, due_at) = conn
        .fetch_optional(
            "SELECT id, team, status, band, assignee, due_at FROM conversations WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound {
            what: "conversation",
            id,
        })?;
    Ok(Conv {
        id,
        team,
        status,
        band,
        assignee,
        due_at,
    })
}

/// The author's follower count as `m` last saw it.
async fn update_followers(conn: &mut WriteConn<'_>, m: &NewMessage) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE identities SET followers = $1 WHERE platform = $2 AND handle = $3",
        &[
            m.followers.map(|f| f as i64).into(),
            (&m.platform).into(),
            (&m.author).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Recomputes a conversation's derived times and counts from its messages.
async fn refresh_conversation(conn: &mut WriteConn<'_>, id: i64) -> Result<(), StoreError> {
    let c = load_conv(conn, id).await?;
    conn.execute(
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
        &[c.id.into()],
    )
    .await?;
    // Nothing is due once the last word is a human reply.
    conn.execute(
        "UPDATE conversations SET due_at = NULL WHERE id = $1 AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $1 \
         AND m.direction = 'outbound' AND m.automated = 0 AND m.created_at >= COALESCE(last_inbound_at, 0))",
        &[c.id.into()],
    )
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
    outbound_joins_in(&mut WriteConn::Any(conn), conv_id, automated, at).await
}

async fn outbound_joins_in(
    conn: &mut WriteConn<'_>,
    conv_id: i64,
    automated: bool,
    at: i64,
) -> Result<(), StoreError> {
    let args = [Arg::from(at), Arg::from(conv_id)];
    if automated {
        conn.execute(
            "UPDATE conversations SET last_message_at = CASE WHEN last_message_at > $1 THEN last_message_at ELSE $1 END, \
             message_count = message_count + 1 WHERE id = $2",
            &args,
        )
        .await?;
    } else {
        conn.execute(
            "UPDATE conversations SET first_response_at = COALESCE(first_response_at, $1), due_at = NULL, \
             last_message_at = CASE WHEN last_message_at > $1 THEN last_message_at ELSE $1 END, \
             message_count = message_count + 1, updated_at = $1 WHERE id = $2",
            &args,
        )
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
    mark_resolved_in(&mut WriteConn::Any(conn), id, at).await
}

async fn mark_resolved_in(conn: &mut WriteConn<'_>, id: i64, at: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE conversations SET status = 'resolved', resolved_at = $1, due_at = NULL, updated_at = $2 WHERE id = $3",
        &[at.into(), at.into(), id.into()],
    )
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
    event_in(
        &mut WriteConn::Any(conn),
        conversation,
        kind,
        actor,
        at,
        data,
    )
    .await
}

async fn event_in(
    conn: &mut WriteConn<'_>,
    conversation: Option<i64>,
    kind: &str,
    actor: &str,
    at: i64,
    data: serde_json::Value,
) -> Result<i64, StoreError> {
    let data = data.to_string();
    let (seq,): (i64,) = conn
        .fetch_one(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES ($1, $2, $3, $4, $5) RETURNING seq",
            &[
                conversation.into(),
                kind.into(),
                actor.into(),
                at.into(),
                (&data).into(),
            ],
        )
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
        let mut open = self.begin(false).await?;
        let res = self
            .resolve_in(&mut open.conn(), platform, platform_id, at, actor)
            .await;
        self.end(open, res).await
    }

    async fn resolve_in(
        &mut self,
        conn: &mut WriteConn<'_>,
        platform: &str,
        platform_id: &str,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64, String, Option<String>)> = conn
            .fetch_optional(
                "SELECT c.id, c.status, c.assignee FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.platform = $1 AND m.platform_id = $2 AND c.merged_into IS NULL",
                &[platform.into(), platform_id.into()],
            )
            .await?;
        let Some((id, status, assignee)) = row else {
            return Ok(false);
        };
        if status == "resolved" {
            return Ok(false);
        }
        let at = ms(at);
        mark_resolved_in(conn, id, at).await?;
        event_in(
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
        let mut open = self.begin(false).await?;
        let res = self.history_body(&mut open.conn(), items).await;
        let res = self.end(open, res).await;
        if res.is_err() {
            // The transaction rolled back: people it created do not exist.
            self.people.clear();
        }
        res
    }

    async fn history_body(
        &mut self,
        tx: &mut WriteConn<'_>,
        items: &[HistoryItem],
    ) -> Result<(BatchOutcome, u64), StoreError> {
        let mut out = BatchOutcome::default();
        let mut resolved = 0;
        let now = ms(Utc::now());
        for item in items {
            match item {
                HistoryItem::Message(p) => match self.write_one(tx, p, now).await? {
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
                        self.resolve_in(tx, platform, platform_id, *at, actor)
                            .await?,
                    );
                }
            }
        }
        self.save_cursors(tx).await?;
        self.stored_event(tx, now).await?;
        Ok((out, resolved))
    }
}
