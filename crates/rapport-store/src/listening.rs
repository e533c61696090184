//! Listening in the store: topic volumes and sentiment, share of voice, and spike
//! detection over 5-minute buckets with the alerts it raises.
//!
//! Spike detection keeps, per series (`all` and `topic:<name>`), the moving baseline and
//! the next bucket to score in `spike_state`. A run scores every bucket that ended at
//! least `settle_seconds` ago, in order, and commits the new baselines together with the
//! alerts and their `alert` events: a crash scores each bucket once, and a second run
//! right after finds nothing new.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_core::listening::TopicMatcher;
use rapport_core::spike::{
    ALL, Alert, AlertsConfig, SeriesSpike, SeriesState, gate, headline, topic_series,
};
use serde::Serialize;
use serde_json::json;
use sqlx::AssertSqlSafe;

use crate::ingest::event;
use crate::{Store, StoreError, ms, time};

/// Inbound messages of one topic over a span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicVolume {
    /// The topic.
    pub topic: String,
    /// Inbound messages that matched it.
    pub messages: i64,
    /// Of which positive (compound ≥ 0.05).
    pub positive: i64,
    /// Of which negative (compound ≤ −0.05).
    pub negative: i64,
    /// Distinct authors.
    pub authors: i64,
}

type AlertRow = (
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

fn alert_of(row: AlertRow) -> Alert {
    let (id, start, end, headline, spikes, raised, notified, error) = row;
    Alert {
        id,
        bucket_start: time(start),
        bucket_end: time(end),
        headline,
        spikes: serde_json::from_str(&spikes).unwrap_or_default(),
        raised_at: time(raised),
        notified_at: notified.map(time),
        notify_error: error,
    }
}

const ALERT_COLUMNS: &str =
    "id, bucket_start, bucket_end, headline, spikes, raised_at, notified_at, notify_error";

/// What matching the stored messages against the topics again changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rematch {
    /// Messages read.
    pub messages: u64,
    /// (message, topic) matches added.
    pub added: u64,
    /// (message, topic) matches removed (the topic no longer matches, or is gone).
    pub removed: u64,
    /// Conversations that got a new `topic:` label.
    pub labelled: u64,
    /// `topic:` labels taken off conversations none of whose messages match the topic
    /// any more.
    pub unlabelled: u64,
}

/// Messages matched per transaction by [`Store::rematch_topics`].
const REMATCH_BATCH: i64 = 2_000;

/// Buckets scored per transaction.
const CHUNK_BUCKETS: i64 = 2_016;

impl Store {
    /// Inbound messages per topic in `[since, until)`, with their sentiment split.
    pub async fn topic_volumes(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<TopicVolume>, StoreError> {
        let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT t.topic, COUNT(*), \
             CAST(SUM(CASE WHEN m.compound >= 0.05 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN m.compound <= -0.05 THEN 1 ELSE 0 END) AS BIGINT), \
             COUNT(DISTINCT m.author) \
             FROM message_topics t JOIN messages m ON m.id = t.message_id \
             WHERE m.direction = 'inbound' AND t.created_at >= $1 AND t.created_at < $2 \
             GROUP BY t.topic ORDER BY t.topic",
        )
        .bind(since.map(ms).unwrap_or(i64::MIN))
        .bind(until.map(ms).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(topic, messages, positive, negative, authors)| TopicVolume {
                    topic,
                    messages,
                    positive,
                    negative,
                    authors,
                },
            )
            .collect())
    }

    /// Inbound messages that matched at least one of `brand` and at least one of each
    /// competitor, in `[since, until)`: (brand mentions, mentions per competitor topic).
    pub async fn voice_counts(
        &self,
        brand: &[String],
        competitors: &[String],
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<(i64, BTreeMap<String, i64>), StoreError> {
        let (lo, hi) = (
            since.map(ms).unwrap_or(i64::MIN),
            until.map(ms).unwrap_or(i64::MAX),
        );
        let mut brand_mentions = 0;
        if !brand.is_empty() {
            // Distinct messages across the brand's topics: one post naming the brand and
            // its product is one mention of the organisation.
            let mut sql = String::from(
                "SELECT COUNT(DISTINCT t.message_id) FROM message_topics t \
                 JOIN messages m ON m.id = t.message_id \
                 WHERE m.direction = 'inbound' AND t.created_at >= $1 AND t.created_at < $2 \
                 AND t.topic IN (",
            );
            for i in 0..brand.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", i + 3));
            }
            sql.push(')');
            let mut q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql))
                .bind(lo)
                .bind(hi);
            for b in brand {
                q = q.bind(b);
            }
            brand_mentions = q.fetch_one(&self.pool).await?.0;
        }
        let mut per = BTreeMap::new();
        for c in competitors {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM message_topics t JOIN messages m ON m.id = t.message_id \
                 WHERE m.direction = 'inbound' AND t.topic = $1 AND t.created_at >= $2 AND t.created_at < $3",
            )
            .bind(c)
            .bind(lo)
            .bind(hi)
            .fetch_one(&self.pool)
            .await?;
            per.insert(c.clone(), n);
        }
        Ok((brand_mentions, per))
    }

    /// Scores every bucket that has settled since the last run, for `all` and for each
    /// topic, raises an alert for each bucket in which a series spiked, and returns
    /// the new alerts. `topics` are the configured topic names.
    pub async fn detect_spikes(
        &self,
        cfg: &AlertsConfig,
        topics: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>, StoreError> {
        let bucket = cfg.bucket_ms();
        let horizon = (ms(now) - i64::from(cfg.settle_seconds) * 1000).div_euclid(bucket);
        let mut series: Vec<String> = vec![ALL.to_string()];
        series.extend(topics.iter().map(|t| topic_series(t)));
        let mut raised = Vec::new();
        loop {
            let mut tx = self.begin_write().await?;
            let stored: Vec<(String, i64, String)> =
                sqlx::query_as("SELECT series, next_bucket, state FROM spike_state")
                    .fetch_all(&mut *tx)
                    .await?;
            let mut states: HashMap<String, (i64, SeriesState)> = stored
                .into_iter()
                .map(|(s, next, state)| {
                    (s, (next, serde_json::from_str(&state).unwrap_or_default()))
                })
                .collect();
            // A series seen for the first time starts at the bucket of its first message.
            for s in &series {
                if states.contains_key(s) {
                    continue;
                }
                let first: Option<i64> = if s == ALL {
                    sqlx::query_as::<_, (Option<i64>,)>(
                        "SELECT MIN(created_at) FROM messages WHERE direction = 'inbound'",
                    )
                    .fetch_one(&mut *tx)
                    .await?
                    .0
                } else {
                    sqlx::query_as::<_, (Option<i64>,)>(
                        "SELECT MIN(created_at) FROM message_topics WHERE topic = $1",
                    )
                    .bind(s.trim_start_matches("topic:"))
                    .fetch_one(&mut *tx)
                    .await?
                    .0
                };
                if let Some(first) = first {
                    states.insert(
                        s.clone(),
                        (first.div_euclid(bucket), SeriesState::default()),
                    );
                }
            }
            let Some(from) = series
                .iter()
                .filter_map(|s| states.get(s).map(|(next, _)| *next))
                .min()
                .filter(|from| *from < horizon)
            else {
                tx.commit().await?;
                break;
            };
            let to = horizon.min(from + CHUNK_BUCKETS);
            // Counts per (series, bucket) for [from, to).
            let mut counts: HashMap<(String, i64), (u64, u64)> = HashMap::new();
            let all: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT CAST(created_at / $1 AS BIGINT) AS b, COUNT(*), \
                 CAST(SUM(CASE WHEN compound <= -0.05 THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM messages WHERE direction = 'inbound' AND created_at >= $2 AND created_at < $3 \
                 GROUP BY CAST(created_at / $1 AS BIGINT)",
            )
            .bind(bucket)
            .bind(from * bucket)
            .bind(to * bucket)
            .fetch_all(&mut *tx)
            .await?;
            for (b, n, neg) in all {
                counts.insert((ALL.to_string(), b), (n as u64, neg as u64));
            }
            if !topics.is_empty() {
                let per: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT t.topic, CAST(t.created_at / $1 AS BIGINT) AS b, COUNT(*), \
                     CAST(SUM(CASE WHEN m.compound <= -0.05 THEN 1 ELSE 0 END) AS BIGINT) \
                     FROM message_topics t JOIN messages m ON m.id = t.message_id \
                     WHERE m.direction = 'inbound' AND t.created_at >= $2 AND t.created_at < $3 \
                     GROUP BY t.topic, CAST(t.created_at / $1 AS BIGINT)",
                )
                .bind(bucket)
                .bind(from * bucket)
                .bind(to * bucket)
                .fetch_all(&mut *tx)
                .await?;
                for (t, b, n, neg) in per {
                    counts.insert((topic_series(&t), b), (n as u64, neg as u64));
                }
            }
            let at = ms(now);
            for b in from..to {
                let mut spikes = Vec::new();
                for s in &series {
                    let Some((next, state)) = states.get_mut(s) else {
                        continue;
                    };
                    if *next > b {
                        continue;
                    }
                    let (n, neg) = counts.get(&(s.clone(), b)).copied().unwrap_or((0, 0));
                    for spike in state.observe(cfg, n, neg) {
                        spikes.push(SeriesSpike {
                            series: s.clone(),
                            messages: n,
                            negatives: neg,
                            spike,
                        });
                    }
                    *next = b + 1;
                }
                let any_last = states.values().filter_map(|(_, st)| st.last_alert).max();
                let spikes = gate(
                    b,
                    spikes,
                    |s| states.get(s).and_then(|(_, st)| st.last_alert),
                    any_last,
                    i64::from(cfg.cooldown_minutes) * 60_000 / bucket,
                );
                if spikes.is_empty() {
                    continue;
                }
                for s in &spikes {
                    if let Some((_, st)) = states.get_mut(&s.series) {
                        st.last_alert = Some(b);
                    }
                }
                let line = headline(&spikes, cfg.bucket_minutes);
                let spikes_json = serde_json::to_string(&spikes).unwrap_or_else(|_| "[]".into());
                let end = (b + 1) * bucket;
                let too_old = at - end > i64::from(cfg.notify_max_age_minutes) * 60_000;
                let row: Option<AlertRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "INSERT INTO alerts (bucket_start, bucket_end, headline, spikes, raised_at, notified_at, notify_error) \
                     VALUES ($1, $2, $3, $4, $5, NULL, $6) ON CONFLICT (bucket_start) DO NOTHING \
                     RETURNING {ALERT_COLUMNS}"
                )))
                .bind(b * bucket)
                .bind(end)
                .bind(&line)
                .bind(&spikes_json)
                .bind(at)
                .bind(too_old.then(|| {
                    format!(
                        "not sent: the bucket ended more than {} minutes before it was scored",
                        cfg.notify_max_age_minutes
                    )
                }))
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = row {
                    let alert = alert_of(row);
                    event(
                        &mut tx,
                        None,
                        "alert",
                        "system",
                        at,
                        json!({
                            "alert": alert.id,
                            "bucket_start": alert.bucket_start,
                            "headline": alert.headline,
                            "spikes": alert.spikes,
                        }),
                    )
                    .await?;
                    raised.push(alert);
                }
            }
            for (s, (next, state)) in &states {
                sqlx::query(
                    "INSERT INTO spike_state (series, next_bucket, state, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (series) DO UPDATE SET next_bucket = excluded.next_bucket, \
                     state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(s)
                .bind(*next)
                .bind(serde_json::to_string(state).unwrap_or_else(|_| "{}".into()))
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(raised)
    }

    /// Matches every stored message against `topics` again, so that the store holds
    /// what the current configuration matches: new matches are added (with their
    /// conversation's `topic:` label and a `labelled` event), matches of topics that no
    /// longer match are removed. Labels already given stay. One transaction per batch
    /// of messages; running it twice changes nothing the second time.
    pub async fn rematch_topics(
        &self,
        topics: &TopicMatcher,
        now: DateTime<Utc>,
        mut progress: impl FnMut(&Rematch),
    ) -> Result<Rematch, StoreError> {
        let mut out = Rematch::default();
        let mut after = 0i64;
        let at = ms(now);
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<(i64, Option<i64>, String, String, i64)> = sqlx::query_as(
                "SELECT id, conversation_id, platform, text, created_at FROM messages \
                 WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(REMATCH_BATCH)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last().map(|r| r.0) else {
                tx.commit().await?;
                break;
            };
            let existing: Vec<(i64, String)> = sqlx::query_as(
                "SELECT message_id, topic FROM message_topics WHERE message_id > $1 AND message_id <= $2",
            )
            .bind(after)
            .bind(last)
            .fetch_all(&mut *tx)
            .await?;
            let mut had: HashMap<i64, Vec<String>> = HashMap::new();
            for (m, t) in existing {
                had.entry(m).or_default().push(t);
            }
            for (id, conv, platform, text, created) in &rows {
                let now_matches = topics.topics_of(text, platform);
                let before = had.remove(id).unwrap_or_default();
                for t in before.iter().filter(|t| !now_matches.contains(t)) {
                    sqlx::query("DELETE FROM message_topics WHERE topic = $1 AND message_id = $2")
                        .bind(t)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    out.removed += 1;
                    // The conversation keeps its label while another of its messages
                    // still matches (a later batch that takes that match away comes
                    // back here).
                    let Some(c) = conv else { continue };
                    let still: Option<(i64,)> = sqlx::query_as(
                        "SELECT mt.message_id FROM message_topics mt JOIN messages m ON m.id = mt.message_id \
                         WHERE m.conversation_id = $1 AND mt.topic = $2 LIMIT 1",
                    )
                    .bind(c)
                    .bind(t)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if still.is_some() {
                        continue;
                    }
                    let label = format!("topic:{t}");
                    let removed = sqlx::query(
                        "DELETE FROM conversation_labels WHERE conversation_id = $1 AND label = $2",
                    )
                    .bind(c)
                    .bind(&label)
                    .execute(&mut *tx)
                    .await?;
                    if removed.rows_affected() > 0 {
                        event(
                            &mut tx,
                            Some(*c),
                            "unlabelled",
                            "system",
                            at,
                            json!({"label": label, "by": "topics rematch"}),
                        )
                        .await?;
                        out.unlabelled += 1;
                    }
                }
                for t in now_matches.iter().filter(|t| !before.contains(t)) {
                    sqlx::query(
                        "INSERT INTO message_topics (topic, message_id, created_at) VALUES ($1, $2, $3) \
                             ON CONFLICT DO NOTHING",
                    )
                    .bind(t)
                    .bind(id)
                    .bind(created)
                    .execute(&mut *tx)
                    .await?;
                    out.added += 1;
                    if let Some(c) = conv {
                        let label = format!("topic:{t}");
                        let added = sqlx::query(
                            "INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(c)
                        .bind(&label)
                        .execute(&mut *tx)
                        .await?;
                        if added.rows_affected() > 0 {
                            event(
                                &mut tx,
                                Some(*c),
                                "labelled",
                                "system",
                                at,
                                json!({"label": label, "by": "topics rematch"}),
                            )
                            .await?;
                            out.labelled += 1;
                        }
                    }
                }
            }
            tx.commit().await?;
            out.messages += rows.len() as u64;
            after = last;
            progress(&out);
        }
        Ok(out)
    }

    /// Alerts in `[since, until)` by bucket, newest first.
    pub async fn alerts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<AlertRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE bucket_start >= $1 AND bucket_start < $2 \
             ORDER BY bucket_start DESC LIMIT $3"
        )))
        .bind(since.map(ms).unwrap_or(i64::MIN))
        .bind(until.map(ms).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(alert_of).collect())
    }

    /// Alerts that still wait for the webhook (not sent, not given up), oldest first.
    pub async fn alerts_to_notify(&self, max_tries: u32) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<AlertRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts \
             WHERE notified_at IS NULL AND (notify_error IS NULL OR notify_tries < $1) \
             AND (notify_error IS NULL OR notify_error NOT LIKE 'not sent:%') \
             ORDER BY id LIMIT 100"
        )))
        .bind(i64::from(max_tries))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(alert_of).collect())
    }

    /// Records one try to send an alert: `Ok` when the webhook took it.
    pub async fn alert_notified(
        &self,
        id: i64,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE alerts SET notified_at = $1, notify_tries = notify_tries + 1, notify_error = NULL \
                     WHERE id = $2 AND notified_at IS NULL",
                )
                .bind(ms(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                event(
                    &mut tx,
                    None,
                    "alert_sent",
                    "system",
                    ms(now),
                    json!({"alert": id}),
                )
                .await?;
            }
            Err(e) => {
                sqlx::query(
                    "UPDATE alerts SET notify_tries = notify_tries + 1, notify_error = $1 WHERE id = $2",
                )
                .bind(e)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
