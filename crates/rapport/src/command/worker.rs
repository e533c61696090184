//! `rapport worker`: one of several processes sharing the job queue of one store (see
//! `rapport_store::jobs`), and the singleton duties that one worker at a time does.
//!
//! Each finished job prints one JSON line on stdout (`{"job": ID, "kind": ..., ...}`);
//! progress and faults go to the log on stderr. A worker never exits because the
//! database went away: it waits and carries on when it is back.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::Utc;
use rapport_core::NewMessage;
use rapport_core::config::Config;
use rapport_server::pipeline::Pipeline;
use rapport_store::{Ingestor, Job, QuarantineRow, Singleton, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Ctx;
use crate::cli::WorkerArgs;

/// The kind of job that carries a batch of messages to triage and store.
pub const INGEST: &str = "ingest";

/// How often a worker looks at its singleton duties.
const DUTY_EVERY: Duration = Duration::from_secs(10);
/// How long a worker waits between looks at an empty queue.
const POLL: Duration = Duration::from_millis(250);

/// What an ingest job carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct IngestPayload {
    /// Where the rows came from (a file, a channel), for quarantine rows.
    pub source: String,
    /// The messages, before triage.
    pub messages: Vec<NewMessage>,
    /// Rows that could not be read, to quarantine with the batch.
    #[serde(default)]
    pub quarantine: Vec<BadRow>,
}

/// A row an import could not take, as a job carries it.
#[derive(Debug, Serialize, Deserialize)]
pub struct BadRow {
    /// Its line in the source.
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
    /// The row as read.
    pub raw: String,
}

pub async fn run(ctx: &Ctx, args: &WorkerArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    if args.status {
        return status(&store, args.json).await;
    }
    let config = ctx.config()?;
    let name = args.name.clone().unwrap_or_else(default_name);
    let lease = Duration::from_secs(args.lease_seconds.max(1));
    let mut worker = Worker {
        store: &store,
        config: &config,
        pipeline: Pipeline::load(&config, &store).await?,
        ingestor: None,
        name,
        lease,
        outbox_settle: Duration::from_secs(args.outbox_settle_seconds),
        duties: Vec::new(),
        ctx,
        embedder: None,
        embed_after: i64::MIN,
        embed_cursor: rapport_server::semantic::Cursor::new(),
    };
    tracing::info!(
        "worker {} started on {} ({} store)",
        worker.name,
        store.location(),
        store.backend()
    );
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let term = super::listen::terminate();
    tokio::pin!(term);
    let mut idle_since = Instant::now();
    let mut next_duty = Instant::now();
    let mut backoff = Duration::from_millis(500);
    loop {
        if Instant::now() >= next_duty {
            // Every worker gives up jobs that used all their attempts; the singleton
            // duties are for those that take them.
            if let Err(e) = store.fail_exhausted_jobs(Utc::now()).await {
                tracing::warn!(
                    "worker {}: cannot check for exhausted jobs: {e}",
                    worker.name
                );
            }
            if !args.no_duties {
                worker.duties().await;
            }
            next_duty = Instant::now() + DUTY_EVERY;
        }
        let wait = match store.claim_jobs(&worker.name, 1, lease, Utc::now()).await {
            Ok(jobs) if jobs.is_empty() => {
                backoff = Duration::from_millis(500);
                // Idle: the embeddings duty's turn, a batch at a time (then the queue
                // again, and Ctrl-C is heard between batches).
                if worker.embed_some().await > 0 {
                    idle_since = Instant::now();
                    Duration::ZERO
                } else {
                    if let Some(secs) = args.exit_when_idle
                        && idle_since.elapsed() >= Duration::from_secs(secs)
                    {
                        tracing::info!(
                            "worker {}: nothing to do for {secs}s, stopping",
                            worker.name
                        );
                        break;
                    }
                    POLL
                }
            }
            Ok(jobs) => {
                backoff = Duration::from_millis(500);
                for job in jobs {
                    worker.run_job(job).await;
                }
                idle_since = Instant::now();
                Duration::ZERO
            }
            Err(e) => {
                tracing::warn!(
                    "worker {}: cannot reach the store ({e}); trying again in {:.1}s",
                    worker.name,
                    backoff.as_secs_f64()
                );
                let wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                idle_since = Instant::now();
                wait
            }
        };
        tokio::select! {
            _ = &mut ctrl_c => {
                tracing::info!("worker {}: stopping (Ctrl-C)", worker.name);
                break;
            }
            _ = &mut term => {
                tracing::info!("worker {}: stopping (SIGTERM)", worker.name);
                break;
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
    drop(worker);
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

struct Worker<'a> {
    store: &'a Store,
    config: &'a Config,
    pipeline: Pipeline,
    /// Made on first use, and again after a failure (its caches may be stale).
    ingestor: Option<Ingestor<'a>>,
    name: String,
    lease: Duration,
    /// How long a queued reply is left alone before this worker sends it.
    outbox_settle: Duration,
    /// The singleton duties this worker holds.
    duties: Vec<Singleton>,
    /// For the model's folder.
    ctx: &'a Ctx,
    /// The embedding model the ideas duty groups with: loaded the first time that duty
    /// has ideas to group (`Some(None)`: not installed, or it failed to load; grouped
    /// by words).
    embedder: Option<Option<rapport_semantic::Embedder>>,
    /// The embeddings duty's place: the last message it embedded.
    embed_after: i64,
    /// When that duty looks at every message again.
    embed_cursor: rapport_server::semantic::Cursor,
}

impl Worker<'_> {
    async fn run_job(&mut self, job: Job) {
        let started = Instant::now();
        let result = match job.kind.as_str() {
            INGEST => self.ingest(&job).await,
            other => Err(JobError::Permanent(format!(
                "no worker knows jobs of kind {other:?}; this one runs {INGEST:?} jobs"
            ))),
        };
        let now = Utc::now();
        match result {
            Ok(mut report) => {
                report["job"] = json!(job.id);
                report["kind"] = json!(job.kind);
                report["attempt"] = json!(job.attempt);
                report["worker"] = json!(self.name);
                report["ms"] = json!(started.elapsed().as_millis() as u64);
                println!("{report}");
            }
            Err(JobError::LeaseLost) => {
                tracing::warn!(
                    "worker {}: job {} was taken over by another worker; this attempt was rolled back",
                    self.name,
                    job.id
                );
            }
            Err(e) => {
                let (error, retry) = match e {
                    JobError::Permanent(m) => (m, None),
                    JobError::Retry(m) => {
                        let secs = 2u64.saturating_pow(job.attempt.clamp(0, 8) as u32).min(300);
                        (m, Some(Duration::from_secs(secs)))
                    }
                    JobError::LeaseLost => unreachable!(),
                };
                tracing::warn!(
                    "worker {}: job {} ({}) attempt {} of {} failed: {error}{}",
                    self.name,
                    job.id,
                    job.kind,
                    job.attempt,
                    job.max_attempts,
                    match retry {
                        Some(d) if job.attempt < job.max_attempts =>
                            format!("; retrying in {}s", d.as_secs()),
                        _ => "; giving up (`rapport worker --status` lists failed jobs)".into(),
                    }
                );
                if let Err(e) = self
                    .store
                    .job_failed(job.id, &self.name, &error, retry, now)
                    .await
                {
                    // The lease runs out and the job is claimed again.
                    tracing::warn!(
                        "worker {}: cannot record the failure of job {}: {e}",
                        self.name,
                        job.id
                    );
                }
            }
        }
    }

    async fn ingest(&mut self, job: &Job) -> Result<serde_json::Value, JobError> {
        let payload: IngestPayload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("its payload is not an ingest batch: {e}")))?;
        let batch: Vec<_> = payload
            .messages
            .into_iter()
            .map(|m| self.pipeline.prepare(m))
            .collect();
        let bad: Vec<QuarantineRow> = payload
            .quarantine
            .into_iter()
            .map(|b| QuarantineRow {
                source: payload.source.clone(),
                line: b.line,
                reason: b.reason,
                raw: b.raw,
            })
            .collect();
        // Triage took a while: make sure the job is still this worker's, for a full lease.
        match self
            .store
            .renew_job(job.id, &self.name, self.lease, Utc::now())
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(JobError::LeaseLost),
            Err(e) => return Err(JobError::Retry(e.to_string())),
        }
        if self.ingestor.is_none() {
            self.ingestor = Some(
                self.store
                    .ingestor(self.config)
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?,
            );
        }
        let Some(ingestor) = self.ingestor.as_mut() else {
            return Err(JobError::Retry("no ingestor".into()));
        };
        match ingestor
            .write_job_batch(&batch, &bad, job, &self.name)
            .await
        {
            Ok(out) => Ok(json!({
                "inserted": out.inserted,
                "duplicates": out.duplicates,
                "conversations": out.conversations,
                "quarantined": bad.len(),
            })),
            Err(StoreError::LeaseLost(_)) => Err(JobError::LeaseLost),
            Err(e) => {
                self.ingestor = None;
                Err(JobError::Retry(e.to_string()))
            }
        }
    }

    /// The singleton duties: take the ones no live worker holds, and do those held.
    async fn duties(&mut self) {
        let now = Utc::now();
        let lease = DUTY_EVERY * 3;
        // Keep the duties still held; a lost one (the database restarted) is taken again
        // below if no other worker took it meanwhile.
        let mut held = Vec::new();
        for mut d in std::mem::take(&mut self.duties) {
            if matches!(self.store.still_held(&mut d, lease, now).await, Ok(true)) {
                held.push(d);
            } else {
                tracing::info!(
                    "worker {}: no longer holds the {} duty",
                    self.name,
                    d.name()
                );
            }
        }
        self.duties = held;
        for name in [SLA_TIMER, OUTBOX, ALERTS, IDEAS, EMBEDDINGS] {
            if self.duties.iter().any(|d| d.name() == name) {
                continue;
            }
            match self.store.try_singleton(name, &self.name, lease, now).await {
                Ok(Some(d)) => {
                    tracing::info!("worker {}: took the {name} duty", self.name);
                    self.duties.push(d);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("worker {}: cannot take the {name} duty: {e}", self.name),
            }
        }
        let names: Vec<String> = self.duties.iter().map(|d| d.name().to_string()).collect();
        for name in names {
            let done = match name.as_str() {
                SLA_TIMER => self.sla_timer().await,
                ALERTS => super::alerts::check(self.store, self.config, Utc::now())
                    .await
                    .map(|_| ()),
                OUTBOX => {
                    super::listen::send_pending(self.store, self.config, self.outbox_settle).await
                }
                IDEAS => self.group_ideas().await,
                _ => Ok(()),
            };
            if let Err(e) = done {
                tracing::warn!(
                    "worker {}: the {name} duty failed this round: {e:#}",
                    self.name
                );
            }
        }
    }

    /// The model, loaded the first time a duty needs it (`None`: not installed, or it
    /// failed to load, which is logged once).
    fn embedder(&mut self) -> Option<&rapport_semantic::Embedder> {
        if self.embedder.is_none() {
            let loaded = super::semantic::load(
                self.ctx,
                self.config,
                rapport_semantic::DeviceChoice::Cpu,
            )
            .unwrap_or_else(|e| {
                tracing::warn!(
                    "worker {}: the semantic layer is off: {e:#}; fix [semantic] and restart the worker",
                    self.name
                );
                None
            });
            self.embedder = Some(loaded);
        }
        self.embedder.as_ref().and_then(Option::as_ref)
    }

    /// The embeddings duty, when the queue is empty (ingest always goes first): one batch
    /// of the inbound messages that have no vector yet. How many it embedded.
    async fn embed_some(&mut self) -> usize {
        if !self.config.semantic.background || !self.duties.iter().any(|d| d.name() == EMBEDDINGS) {
            return 0;
        }
        let batch = self.config.semantic.batch;
        let store = self.store;
        let name = self.name.clone();
        self.embed_cursor.rewind_when_due(&mut self.embed_after);
        let mut after = self.embed_after;
        let Some(embedder) = self.embedder() else {
            return 0;
        };
        let done = rapport_server::semantic::embed_pending(
            store,
            embedder,
            batch,
            Some(batch),
            None,
            &mut after,
            |_| {},
        )
        .await;
        self.embed_after = after;
        match done {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("worker {name}: cannot embed new messages: {e}");
                0
            }
        }
    }

    /// The ideas duty: groups the new idea messages, by meaning once the model is loaded
    /// (the first time there is something to group), by words without it.
    async fn group_ideas(&mut self) -> Result<()> {
        if self.embedder.is_none() && self.store.ungrouped_ideas().await? == 0 {
            return Ok(());
        }
        let (store, config) = (self.store, self.config);
        let embedder = self.embedder();
        let g = rapport_server::ideas::group(store, config, embedder, Utc::now())
            .await
            .context("cannot group the new ideas")?;
        if g.messages > 0 {
            tracing::info!(
                "grouped {} idea message(s) by {}: {} joined an item, {} new item(s)",
                g.messages,
                g.by.as_str(),
                g.joined,
                g.new_items.len()
            );
        }
        Ok(())
    }

    async fn sla_timer(&self) -> Result<()> {
        let escalated = self
            .store
            .escalate_breaches(Utc::now(), "sla-timer", 500)
            .await
            .context("cannot escalate SLA breaches")?;
        for e in &escalated {
            tracing::info!(
                "conversation {} missed its due time ({}): {} -> {}",
                e.conversation,
                e.due_at.format("%Y-%m-%d %H:%M UTC"),
                e.from,
                e.to
            );
        }
        Ok(())
    }
}

/// The SLA timer duty: escalates conversations whose due time passed.
const SLA_TIMER: &str = "sla-timer";
/// The outbox duty: sends queued replies.
const OUTBOX: &str = "outbox";
/// The alerts duty: scores settled buckets for spikes and sends alerts.
pub(crate) const ALERTS: &str = "alerts";
/// The ideas duty: groups new idea messages into idea items (docs/ideas.md).
const IDEAS: &str = "ideas";
/// The semantic layer's background embedding (docs/semantic.md), done between jobs.
const EMBEDDINGS: &str = "embeddings";

enum JobError {
    /// Another worker has the job now.
    LeaseLost,
    /// It may work later (the store was unreachable, ...).
    Retry(String),
    /// It never will.
    Permanent(String),
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

async fn status(store: &Store, json_out: bool) -> Result<ExitCode> {
    let counts = store.job_counts().await?;
    let unfinished = store.unfinished_jobs(50).await?;
    if json_out {
        crate::output::json(&json!({"counts": counts, "unfinished": unfinished}))?;
    } else {
        let line: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("jobs: {}", line.join(", "));
        for j in &unfinished {
            println!(
                "#{} {} {} after {} attempt(s){}{}",
                j.id,
                j.kind,
                j.state,
                j.attempts,
                j.locked_by
                    .as_deref()
                    .map(|w| format!(", by {w}"))
                    .unwrap_or_default(),
                j.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
