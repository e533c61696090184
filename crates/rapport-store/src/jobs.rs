//! The job queue that `rapport worker` processes share.
//!
//! A job is claimed by moving it to `running` with a lease (`locked_by`, `lease_until`).
//! On PostgreSQL the claim selects with `FOR UPDATE SKIP LOCKED`, so workers never wait
//! on each other's rows and never take the same job; on SQLite the single writer gives
//! the same. A worker that dies leaves its jobs `running` until their leases expire;
//! then any worker claims them again. Jobs whose effects are writes to this store
//! complete in the same transaction as the writes ([`complete_in`]), so a job done
//! twice is impossible even across a crash: the second attempt finds the lease gone.
//!
//! Singleton duties (the SLA timer, the outbox sweep) run in one worker at a time: on
//! PostgreSQL under a session advisory lock held on a connection of their own (released
//! by the server the moment the worker dies), on SQLite under a renewed lease row.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row};

use crate::{Backend, Store, StoreError, ms};

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// What to do (`ingest`, `send`, ...).
    pub kind: String,
    /// Its input, JSON.
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    /// Attempts allowed before it fails for good.
    pub max_attempts: i64,
}

/// One job as `rapport worker --status` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct JobRow {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The worker that holds or last held it.
    pub locked_by: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// How long a job may stay `running` without its worker before others take it over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

impl Store {
    /// Queues a job to run from `run_after`. With a `dedupe_key` already queued (in any
    /// state), nothing is queued and `None` comes back.
    pub async fn enqueue(
        &self,
        kind: &str,
        payload: &str,
        dedupe_key: Option<&str>,
        max_attempts: u32,
        run_after: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let now = ms(Utc::now());
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO jobs (kind, payload, dedupe_key, state, max_attempts, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(kind)
        .bind(payload)
        .bind(dedupe_key)
        .bind(i64::from(max_attempts.max(1)))
        .bind(ms(run_after))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Claims up to `limit` jobs that are due, oldest first: queued ones, and running
    /// ones whose lease has expired (their worker died). Each gets a lease of `lease`.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let now = ms(now);
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', locked_by = $1, lease_until = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs \
               WHERE ((state = 'queued' AND run_after <= $3) OR (state = 'running' AND lease_until < $3)) \
               AND attempts < max_attempts ORDER BY id LIMIT $4{skip_locked}) \
             RETURNING id, kind, payload, attempts, max_attempts"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(worker)
            .bind(now.saturating_add(lease.as_millis() as i64))
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut jobs = rows
            .iter()
            .map(|r| {
                Ok(Job {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    payload: r.try_get(2)?,
                    attempt: r.try_get(3)?,
                    max_attempts: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Marks jobs failed for good when they used every attempt and no worker holds
    /// them (a job that kills its worker each time ends here); how many.
    pub async fn fail_exhausted_jobs(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'failed', locked_by = NULL, lease_until = NULL, updated_at = $1, \
             last_error = COALESCE(last_error, 'its worker stopped during every attempt') \
             WHERE attempts >= max_attempts \
             AND (state = 'queued' OR (state = 'running' AND lease_until < $1))",
        )
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Extends the lease of a job this worker still holds; `false` when it holds it no
    /// longer.
    pub async fn renew_job(
        &self,
        id: i64,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = ms(now);
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND locked_by = $4 AND state = 'running'",
        )
        .bind(now.saturating_add(lease.as_millis() as i64))
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a job done; `false` when this worker no longer held it.
    pub async fn complete_job(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        complete_in(&mut conn, id, worker, ms(now)).await
    }

    /// A failed attempt: queued again after `retry_in`, or failed for good when it was
    /// the last attempt or `retry_in` is `None`.
    pub async fn job_failed(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_in: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = ms(now);
        let retry_at = retry_in.map(|d| now.saturating_add(d.as_millis() as i64));
        sqlx::query(
            "UPDATE jobs SET \
               state = CASE WHEN $1 IS NULL OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
               run_after = COALESCE($1, run_after), locked_by = NULL, lease_until = NULL, \
               last_error = $2, updated_at = $3 \
             WHERE id = $4 AND locked_by = $5 AND state = 'running'",
        )
        .bind(retry_at)
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many jobs are in each state.
    pub async fn job_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let mut out: BTreeMap<String, i64> = ["queued", "running", "done", "failed"]
            .into_iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        out.extend(rows);
        Ok(out)
    }

    /// The jobs that are not done, oldest first, at most `limit`.
    pub async fn unfinished_jobs(&self, limit: u32) -> Result<Vec<JobRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, state, attempts, locked_by, last_error FROM jobs \
             WHERE state != 'done' ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(JobRow {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    state: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    locked_by: r.try_get(4)?,
                    last_error: r.try_get(5)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Takes the singleton duty `name` for `holder` when no live worker has it.
    pub async fn try_singleton(
        &self,
        name: &str,
        holder: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Singleton>, StoreError> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = self.pool.acquire().await?;
                let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                    .bind(advisory_key(name))
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(got.then(|| Singleton {
                    name: name.to_string(),
                    holder: holder.to_string(),
                    conn: Some(conn),
                }))
            }
            Backend::Sqlite => {
                let now = ms(now);
                let done = sqlx::query(
                    "INSERT INTO singleton_leases (name, holder, lease_until) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until \
                     WHERE singleton_leases.lease_until < $4 OR singleton_leases.holder = excluded.holder",
                )
                .bind(name)
                .bind(holder)
                .bind(now.saturating_add(lease.as_millis() as i64))
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok((done.rows_affected() == 1).then(|| Singleton {
                    name: name.to_string(),
                    holder: holder.to_string(),
                    conn: None,
                }))
            }
        }
    }

    /// Whether `singleton` is still held (renewing its lease on SQLite). A worker checks
    /// before each round of the duty and stops doing it when this says no.
    pub async fn still_held(
        &self,
        singleton: &mut Singleton,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match singleton.conn.as_mut() {
            // The lock lives as long as the session: a working connection still holds it.
            Some(conn) => Ok(sqlx::query("SELECT 1").execute(&mut **conn).await.is_ok()),
            None => {
                let now = ms(now);
                let done = sqlx::query(
                    "UPDATE singleton_leases SET lease_until = $1 WHERE name = $2 AND holder = $3",
                )
                .bind(now.saturating_add(lease.as_millis() as i64))
                .bind(&singleton.name)
                .bind(&singleton.holder)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    }
}

/// A singleton duty this worker holds; see [`Store::try_singleton`].
#[derive(Debug)]
pub struct Singleton {
    name: String,
    holder: String,
    /// PostgreSQL: the session that holds the advisory lock.
    conn: Option<PoolConnection<Any>>,
}

impl Singleton {
    /// The duty's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Singleton {
    fn drop(&mut self) {
        // An advisory lock must not go back to the pool with its session: close it.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

/// A stable advisory-lock key for a duty's name (FNV-1a).
fn advisory_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Marks job `id` done inside the caller's transaction; `false` when `worker` no longer
/// holds it, and then the caller must roll back.
pub(crate) async fn complete_in(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1 \
         WHERE id = $2 AND locked_by = $3 AND state = 'running'",
    )
    .bind(now)
    .bind(id)
    .bind(worker)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
