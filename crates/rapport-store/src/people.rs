//! People across platforms and their relationships with the organisation: merges and
//! unmerges of people (each an event), suggested merges, the reciprocity ledger and the
//! facts relationship strength, ROR and at-risk are computed from
//! ([`rapport_core::relationship`] holds the formulas).
//!
//! What the queries count (docs/metrics.md says the same):
//! - **their messages**: inbound messages of the person, spam left out;
//! - **our replies**: outbound messages, automated ones left out, whose `in_reply_to`
//!   names one of the person's messages on the same platform;
//! - **interactions**: their messages and our replies; recent ones fall in
//!   `(now − window_days, now]`;
//! - the ledger's **ours**: replies; resolved = their conversations (merged ones left
//!   out) resolved now whose intent is complaint or question; thanks = our replies that
//!   say a thanks cue; shares = our reshares of their posts (no connector records
//!   reshares yet, so 0);
//! - the ledger's **theirs**: praise and ideas by intent; mentions = their other
//!   messages; referrals = their positive messages (compound ≥ 0.05) that say a referral
//!   cue;
//! - **unanswered past SLA**: a conversation of theirs, open or pending and not merged,
//!   whose due time is before `now`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rapport_core::relationship::{
    AtRisk, IdentityFacts, MergeSuggestion, PersonFacts, REFERRAL_CUES, RelationshipConfig,
    SentimentWindows, Strength, THANKS_CUES, falling_sentiment, is_advocate, strength,
    suggest_merges,
};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::ingest::event;
use crate::read::msg_row;
use crate::{MessageRow, Store, StoreError, ms, time};

/// One merge of two people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonMerge {
    /// The merge's id (what `rapport people unmerge` takes).
    pub id: i64,
    /// The person kept.
    pub keep: i64,
    /// The person merged into it.
    pub merged: i64,
    /// The identities that moved.
    pub identities: Vec<i64>,
    /// Who merged them.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// When it was undone, if it was.
    pub undone_at: Option<DateTime<Utc>>,
    /// Who undid it.
    pub undone_by: Option<String>,
}

/// A person's relationship with the organisation, every number with its terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relationship {
    /// The person.
    pub person_id: i64,
    /// What strength is computed from (the ledger among it).
    pub facts: PersonFacts,
    /// Strength and its terms.
    pub strength: Strength,
    /// Whether they are an advocate.
    pub advocate: bool,
    /// Why the relationship is at risk; empty when it is not.
    pub at_risk: Vec<AtRisk>,
    /// Their mean compound in the recent and the earlier window.
    pub windows: SentimentWindows,
}

#[derive(Default, Clone)]
struct Acc {
    facts: PersonFacts,
    windows: SentimentWindows,
    overdue: Option<(i64, i64)>,
}

/// `(LOWER(col) LIKE '%cue%' OR …)` for cue lists of plain ASCII words.
fn cue_sql(column: &str, cues: &[&str]) -> String {
    let parts: Vec<String> = cues
        .iter()
        .filter(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == ' '))
        .map(|c| format!("LOWER({column}) LIKE '%{c}%'"))
        .collect();
    if parts.is_empty() {
        "1 = 0".to_string()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

impl Store {
    /// The relationship of one person, or of every person when `person` is `None`
    /// (people with no message at all are left out), by person id.
    pub async fn relationships(
        &self,
        person: Option<i64>,
        now: DateTime<Utc>,
        cfg: &RelationshipConfig,
    ) -> Result<Vec<Relationship>, StoreError> {
        let now_ms = ms(now);
        let window = ms(now - Duration::days(i64::from(cfg.window_days)));
        let falling = ms(now - Duration::days(i64::from(cfg.falling_days)));
        let (filter_m, filter_p, filter_c) = match person {
            Some(_) => (
                " AND m.person_id = $5",
                " AND p.person_id = $5",
                " AND c.person_id = $5",
            ),
            None => ("", "", ""),
        };
        let mut acc: BTreeMap<i64, Acc> = BTreeMap::new();

        // Their messages.
        let sql = format!(
            "SELECT m.person_id, COUNT(*), \
             CAST(SUM(CASE WHEN m.intent = 'praise' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN m.intent = 'idea' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN m.compound >= 0.05 AND {referral} THEN 1 ELSE 0 END) AS BIGINT), \
             SUM(m.compound), MAX(CASE WHEN m.created_at <= $1 THEN m.created_at END), \
             CAST(SUM(CASE WHEN m.created_at > $2 AND m.created_at <= $1 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN m.created_at > $3 AND m.created_at <= $1 THEN 1 ELSE 0 END) AS BIGINT), \
             SUM(CASE WHEN m.created_at > $3 AND m.created_at <= $1 THEN m.compound ELSE 0.0 END), \
             CAST(SUM(CASE WHEN m.created_at > $2 AND m.created_at <= $3 THEN 1 ELSE 0 END) AS BIGINT), \
             SUM(CASE WHEN m.created_at > $2 AND m.created_at <= $3 THEN m.compound ELSE 0.0 END) \
             FROM messages m WHERE m.direction = 'inbound' AND m.intent != $4 \
             AND m.person_id IS NOT NULL{filter_m} GROUP BY m.person_id",
            referral = cue_sql("m.text", REFERRAL_CUES),
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(window)
            .bind(falling)
            .bind("spam");
        if let Some(p) = person {
            q = q.bind(p);
        }
        for r in q.fetch_all(&self.pool).await? {
            let id: i64 = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            let praise: i64 = r.try_get(2)?;
            let ideas: i64 = r.try_get(3)?;
            let a = acc.entry(id).or_default();
            let t = &mut a.facts.ledger.theirs;
            t.praise = praise.max(0) as u64;
            t.ideas = ideas.max(0) as u64;
            t.mentions = (n - praise - ideas).max(0) as u64;
            t.referrals = r.try_get::<i64, _>(4)?.max(0) as u64;
            let sum: f64 = r.try_get(5)?;
            a.facts.mean_compound = (n > 0).then(|| sum / n as f64);
            let last: Option<i64> = r.try_get(6)?;
            a.facts.last_interaction = last.map(time);
            a.facts.recent_interactions = r.try_get::<i64, _>(7)?.max(0) as u64;
            let rn: i64 = r.try_get(8)?;
            let rs: f64 = r.try_get(9)?;
            let en: i64 = r.try_get(10)?;
            let es: f64 = r.try_get(11)?;
            a.windows = SentimentWindows {
                recent: (rn.max(0) as u64, if rn > 0 { rs / rn as f64 } else { 0.0 }),
                earlier: (en.max(0) as u64, if en > 0 { es / en as f64 } else { 0.0 }),
            };
        }

        // Our replies to them.
        let sql = format!(
            "SELECT p.person_id, COUNT(*), \
             CAST(SUM(CASE WHEN {thanks} THEN 1 ELSE 0 END) AS BIGINT), \
             MAX(CASE WHEN o.created_at <= $1 THEN o.created_at END), \
             CAST(SUM(CASE WHEN o.created_at > $2 AND o.created_at <= $1 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM messages o JOIN messages p ON p.platform = o.platform AND p.platform_id = o.in_reply_to \
             WHERE o.direction = 'outbound' AND o.automated = 0 AND o.in_reply_to IS NOT NULL \
             AND p.person_id IS NOT NULL AND p.direction = $3{} GROUP BY p.person_id",
            filter_p.replace("$5", "$4"),
            thanks = cue_sql("o.text", THANKS_CUES),
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(window)
            .bind("inbound");
        if let Some(p) = person {
            q = q.bind(p);
        }
        let rows = q.fetch_all(&self.pool).await?;
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let a = acc.entry(id).or_default();
            a.facts.ledger.ours.replies = r.try_get::<i64, _>(1)?.max(0) as u64;
            a.facts.ledger.ours.thanks = r.try_get::<i64, _>(2)?.max(0) as u64;
            let last: Option<i64> = r.try_get(3)?;
            if let Some(l) = last.map(time)
                && a.facts.last_interaction.is_none_or(|t| l > t)
            {
                a.facts.last_interaction = Some(l);
            }
            a.facts.recent_interactions += r.try_get::<i64, _>(4)?.max(0) as u64;
        }

        // Their resolved issues, and what waits on us past its SLA.
        let sql = format!(
            "SELECT c.person_id, \
             CAST(SUM(CASE WHEN c.status = 'resolved' AND c.intent IN ('complaint', 'question') THEN 1 ELSE 0 END) AS BIGINT), \
             MIN(CASE WHEN c.status IN ('open', 'pending') AND c.due_at IS NOT NULL AND c.due_at < $1 THEN c.due_at END) \
             FROM conversations c WHERE c.merged_into IS NULL AND c.person_id IS NOT NULL{} GROUP BY c.person_id",
            filter_c.replace("$5", "$2")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now_ms);
        if let Some(p) = person {
            q = q.bind(p);
        }
        let mut overdue_people = Vec::new();
        for r in q.fetch_all(&self.pool).await? {
            let id: i64 = r.try_get(0)?;
            let resolved: i64 = r.try_get(1)?;
            let due: Option<i64> = r.try_get(2)?;
            if resolved > 0 || due.is_some() {
                let a = acc.entry(id).or_default();
                a.facts.ledger.ours.resolved = resolved.max(0) as u64;
                if let Some(d) = due {
                    a.overdue = Some((0, d));
                    overdue_people.push((id, d));
                }
            }
        }
        // The conversation that has been waiting longest, for each of them.
        if !overdue_people.is_empty() {
            let sql = format!(
                "SELECT c.person_id, c.id, c.due_at FROM conversations c WHERE c.merged_into IS NULL \
                 AND c.status IN ('open', 'pending') AND c.due_at IS NOT NULL AND c.due_at < $1 \
                 AND c.person_id IS NOT NULL{} ORDER BY c.person_id, c.due_at, c.id",
                filter_c.replace("$5", "$2")
            );
            let mut q = sqlx::query_as::<_, (i64, i64, i64)>(AssertSqlSafe(sql)).bind(now_ms);
            if let Some(p) = person {
                q = q.bind(p);
            }
            for (pid, conv, due) in q.fetch_all(&self.pool).await? {
                if let Some(a) = acc.get_mut(&pid)
                    && a.overdue.is_some_and(|(c, _)| c == 0)
                {
                    a.overdue = Some((conv, due));
                }
            }
        }

        Ok(acc
            .into_iter()
            .map(|(person_id, a)| {
                let s = strength(&a.facts, now, cfg);
                let mut at_risk = Vec::new();
                if let Some((conversation, due)) = a.overdue {
                    at_risk.push(AtRisk::Unanswered {
                        conversation,
                        due_at: time(due),
                    });
                }
                at_risk.extend(falling_sentiment(&a.windows, cfg));
                Relationship {
                    person_id,
                    advocate: is_advocate(&s, a.facts.mean_compound, cfg),
                    facts: a.facts,
                    strength: s,
                    at_risk,
                    windows: a.windows,
                }
            })
            .collect())
    }

    /// A person's timeline: their messages and our replies to them, newest first.
    pub async fn person_timeline(
        &self,
        person: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let cols = crate::read::MSG_COLUMNS
            .split(',')
            .map(|c| format!("m.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {cols} FROM messages m WHERE m.person_id = $1 \
             UNION ALL \
             SELECT {cols} FROM messages m JOIN messages p ON p.platform = m.platform AND p.platform_id = m.in_reply_to \
             WHERE p.person_id = $1 AND m.direction = 'outbound' AND m.in_reply_to IS NOT NULL \
             ORDER BY 10 DESC, 1 DESC LIMIT $2",
        )))
        .bind(person)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(msg_row).collect::<Result<_, _>>()?)
    }

    /// Merges person `merged` into person `keep`: every identity of `merged`, and with them
    /// its messages and conversations, now belong to `keep`. One transaction; a
    /// `person_merged` event records it.
    pub async fn merge_people(
        &self,
        keep: i64,
        merged: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<PersonMerge, StoreError> {
        if keep == merged {
            return Err(StoreError::Invalid(format!(
                "person {keep} cannot be merged into itself: name two different people"
            )));
        }
        let mut tx = self.begin_write().await?;
        self.lock_ingest(&mut tx).await?;
        for id in [keep, merged] {
            let row: Option<(Option<i64>,)> =
                sqlx::query_as("SELECT merged_into FROM people WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match row {
                None => return Err(StoreError::NotFound { what: "person", id }),
                Some((Some(into),)) => {
                    return Err(StoreError::Invalid(format!(
                        "person {id} was merged into person {into} already: merge {into} instead"
                    )));
                }
                Some((None,)) => {}
            }
        }
        let identities: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM identities WHERE person_id = $1 ORDER BY id")
                .bind(merged)
                .fetch_all(&mut *tx)
                .await?;
        let identities: Vec<i64> = identities.into_iter().map(|(i,)| i).collect();
        let at = ms(now);
        for table in ["identities", "messages", "conversations"] {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET person_id = $1 WHERE person_id = $2"
            )))
            .bind(keep)
            .bind(merged)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE people SET merged_into = $1 WHERE id = $2")
            .bind(keep)
            .bind(merged)
            .execute(&mut *tx)
            .await?;
        let list = serde_json::to_string(&identities).unwrap_or_else(|_| "[]".into());
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO person_merges (keep_id, merged_id, identities, actor, at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(keep)
        .bind(merged)
        .bind(&list)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({"merge": id, "keep": keep, "merged": merged, "identities": identities});
        people_changed(tx, "person_merged", actor, at, data).await?;
        Ok(PersonMerge {
            id,
            keep,
            merged,
            identities,
            actor: actor.to_string(),
            at: time(at),
            undone_at: None,
            undone_by: None,
        })
    }

    /// Undoes a merge: its identities go back to the person they came from, with the
    /// messages they wrote and the conversations those messages opened. A
    /// `person_unmerged` event records it.
    pub async fn unmerge_people(
        &self,
        merge: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<PersonMerge, StoreError> {
        let mut tx = self.begin_write().await?;
        self.lock_ingest(&mut tx).await?;
        let row: Option<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT keep_id, merged_id, identities, undone_at FROM person_merges WHERE id = $1",
        )
        .bind(merge)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((keep, merged, list, undone)) = row else {
            return Err(StoreError::NotFound {
                what: "merge",
                id: merge,
            });
        };
        if undone.is_some() {
            return Err(StoreError::Invalid(format!(
                "merge {merge} was undone already: see `rapport people merges {merged}`"
            )));
        }
        let identities: Vec<i64> = serde_json::from_str(&list).unwrap_or_default();
        let at = ms(now);
        for &identity in &identities {
            // Wherever the identity is now (a later merge may have moved it on), it goes
            // back, and so do the messages it wrote and the conversations they opened.
            let found: Option<(i64, String, String)> =
                sqlx::query_as("SELECT person_id, platform, handle FROM identities WHERE id = $1")
                    .bind(identity)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((now_person, platform, handle)) = found else {
                continue;
            };
            sqlx::query("UPDATE identities SET person_id = $1 WHERE id = $2")
                .bind(merged)
                .bind(identity)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE messages SET person_id = $1 WHERE person_id = $2 AND platform = $3 AND author = $4 \
                 AND direction = 'inbound'",
            )
            .bind(merged)
            .bind(now_person)
            .bind(&platform)
            .bind(&handle)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE conversations SET person_id = $1 WHERE person_id = $2 AND platform = $3 AND author = $4",
            )
            .bind(merged)
            .bind(now_person)
            .bind(&platform)
            .bind(&handle)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE people SET merged_into = NULL WHERE id = $1")
            .bind(merged)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE person_merges SET undone_at = $1, undone_by = $2 WHERE id = $3")
            .bind(at)
            .bind(actor)
            .bind(merge)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({"merge": merge, "keep": keep, "merged": merged, "identities": identities});
        people_changed(tx, "person_unmerged", actor, at, data).await?;
        self.person_merge(merge).await
    }

    /// One merge.
    pub async fn person_merge(&self, id: i64) -> Result<PersonMerge, StoreError> {
        self.person_merges_where("id = $1", id)
            .await?
            .pop()
            .ok_or(StoreError::NotFound { what: "merge", id })
    }

    /// The merges a person took part in, newest first.
    pub async fn person_merges(&self, person: i64) -> Result<Vec<PersonMerge>, StoreError> {
        self.person_merges_where("keep_id = $1 OR merged_id = $1", person)
            .await
    }

    async fn person_merges_where(
        &self,
        clause: &str,
        id: i64,
    ) -> Result<Vec<PersonMerge>, StoreError> {
        type Row = (
            i64,
            i64,
            i64,
            String,
            String,
            i64,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, keep_id, merged_id, identities, actor, at, undone_at, undone_by \
             FROM person_merges WHERE {clause} ORDER BY id DESC"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, keep, merged, list, actor, at, undone_at, undone_by)| PersonMerge {
                    id,
                    keep,
                    merged,
                    identities: serde_json::from_str(&list).unwrap_or_default(),
                    actor,
                    at: time(at),
                    undone_at: undone_at.map(time),
                    undone_by,
                },
            )
            .collect())
    }

    /// Suggested merges (see [`rapport_core::relationship::suggest_merges`]): among the
    /// identities whose display name another person's identity shares, whose handle is an
    /// email, or whose name names a handle.
    pub async fn merge_suggestions(
        &self,
        limit: usize,
    ) -> Result<Vec<MergeSuggestion>, StoreError> {
        let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT i.person_id, i.platform, i.handle, i.name FROM identities i \
             WHERE (i.name IS NOT NULL AND i.name IN (SELECT j.name FROM identities j WHERE j.name IS NOT NULL \
                    GROUP BY j.name HAVING COUNT(DISTINCT j.person_id) > 1)) \
             OR (i.handle LIKE '%_@_%._%' AND i.handle NOT LIKE '@%') \
             OR i.name LIKE '%@%' OR i.name LIKE '%.%.%' \
             ORDER BY i.person_id, i.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut facts: Vec<IdentityFacts> = rows
            .into_iter()
            .map(|(person_id, platform, handle, name)| IdentityFacts {
                person_id,
                platform,
                handle,
                name,
            })
            .collect();
        // The handles a name may point at: every identity's, for the ones named.
        let named: Vec<String> = facts
            .iter()
            .filter_map(|f| f.name.as_deref())
            .flat_map(|n| {
                n.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '|'))
            })
            .map(|w| {
                w.trim_start_matches('@')
                    .trim_end_matches(['.', ','])
                    .to_lowercase()
            })
            .filter(|w| w.len() >= 5 && (w.contains('.') || w.contains('@')))
            .collect();
        for chunk in named.chunks(500) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut q = sqlx::query_as::<_, (i64, String, String, Option<String>)>(AssertSqlSafe(
                format!(
                    "SELECT person_id, platform, handle, name FROM identities WHERE LOWER(handle) IN ({list})"
                ),
            ));
            for h in chunk {
                q = q.bind(h.clone());
            }
            for (person_id, platform, handle, name) in q.fetch_all(&self.pool).await? {
                let f = IdentityFacts {
                    person_id,
                    platform,
                    handle,
                    name,
                };
                if !facts.contains(&f) {
                    facts.push(f);
                }
            }
        }
        let dismissed: Vec<(i64, i64)> = sqlx::query_as("SELECT a, b FROM person_merge_dismissals")
            .fetch_all(&self.pool)
            .await?;
        let mut out = suggest_merges(&facts, &dismissed);
        out.truncate(limit);
        Ok(out)
    }

    /// Records that two people suggested for a merge are two people.
    pub async fn dismiss_merge(
        &self,
        a: i64,
        b: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO person_merge_dismissals (a, b, actor, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (a, b) DO NOTHING",
        )
        .bind(a.min(b))
        .bind(a.max(b))
        .bind(actor)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            None,
            "person_merge_dismissed",
            actor,
            ms(now),
            serde_json::json!({"people": [a.min(b), a.max(b)]}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person who wrote a message, by its platform id (`None` for our own messages).
    pub async fn person_of_message(
        &self,
        platform: &str,
        platform_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT person_id FROM messages WHERE platform = $1 AND platform_id = $2",
        )
        .bind(platform)
        .bind(platform_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(p,)| p))
    }

    /// Display names of these people.
    pub async fn display_names(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut q = sqlx::query_as::<_, (i64, Option<String>)>(AssertSqlSafe(format!(
                "SELECT id, display_name FROM people WHERE id IN ({list})"
            )));
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, name) in q.fetch_all(&self.pool).await? {
                out.insert(id, name.unwrap_or_else(|| format!("person {id}")));
            }
        }
        Ok(out)
    }
}

/// Ends a merge's or an unmerge's transaction: its event, the people version moved on,
/// the commit.
async fn people_changed(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    kind: &str,
    actor: &str,
    at: i64,
    data: serde_json::Value,
) -> Result<(), StoreError> {
    event(&mut tx, None, kind, actor, at, data).await?;
    bump_people_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Tells every ingestor that people changed: they drop the (platform, handle) → person
/// ids they remember and look them up again.
async fn bump_people_version(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO store_meta (key, value) VALUES ('people_version', '1') \
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(store_meta.value AS BIGINT) + 1 AS TEXT)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The current people version (see [`bump_people_version`]).
pub(crate) async fn people_version(
    conn: &mut crate::write_conn::WriteConn<'_>,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = conn
        .fetch_optional(
            "SELECT value FROM store_meta WHERE key = 'people_version'",
            &[],
        )
        .await?;
    Ok(row.map(|(v,)| v))
}
