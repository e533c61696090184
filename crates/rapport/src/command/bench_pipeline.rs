//! `rapport bench pipeline`: the whole ingest path on generated Bluesky Jetstream
//! traffic, beside the raw ceiling of the same store, in the same run.
//!
//! 1. **Input.** N post events in Jetstream JSON ([`super::bench_jetstream`]), written to
//!    a file first (or `--input`), then streamed: memory does not grow with N.
//! 2. **Pipeline.** One reader thread cuts the file into chunks; `--threads` triage
//!    threads parse each line as the Bluesky channel does (`from_jetstream_line`), give
//!    the author the reach their profile would, and triage and route it
//!    (`Pipeline::prepare`); the writer stores the chunks in order through the same
//!    `Ingestor` as `rapport listen` (dedupe, people, threading, conversations,
//!    assignment, SLA, events; one transaction per chunk, with the channel's cursor)
//!    into a fresh SQLite store. Each stage's busy time is summed.
//! 3. **Raw ceiling.** The same rows into a fresh store of the same schema with bare
//!    `INSERT`s (rusqlite, WAL, `synchronous = NORMAL`, 10,000 rows a transaction), no
//!    triage, no people, no conversations: only the insert is timed.
//! 4. **Search.** The search index catches up with the pipeline's store.
//!
//! Peak RSS is the pipeline's (the kernel's high-water mark, reset before it starts).

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rapport_connectors::bluesky::convert::{JetstreamOutcome, Listen, from_jetstream_line};
use rapport_core::Direction;
use rapport_server::pipeline::Pipeline;
use rapport_store::{BatchOutcome, Prepared, QuarantineRow, Store};
use serde::Serialize;

use super::bench_jetstream::{self as jetstream, ORG_DID, ORG_HANDLE};
use crate::output;

/// Lines a triage thread takes at a time (fewer when a transaction holds fewer).
const CHUNK: usize = 1000;
/// Rows a transaction of the raw ceiling inserts.
const CEILING_BATCH: usize = 10_000;
/// The channel the messages are stored under (its cursor moves with each chunk).
const SOURCE: &str = "bench/jetstream";

/// One stage's busy time.
#[derive(Debug, Serialize)]
pub struct Stage {
    /// What it does.
    pub stage: &'static str,
    /// Seconds it was busy, summed over its threads.
    pub busy_s: f64,
    /// Microseconds per message.
    pub us_per_message: f64,
    /// Messages per second it could do on one core alone.
    pub alone_messages_per_s: f64,
}

/// One statement of the store stage, with `--statements`.
#[derive(Debug, Serialize)]
pub struct StatementTime {
    /// Its SQL, shortened.
    pub sql: String,
    /// How many times it ran.
    pub runs: u64,
    /// Seconds in all.
    pub total_s: f64,
    /// Microseconds a run.
    pub us_each: f64,
    /// Microseconds per message stored.
    pub us_per_message: f64,
}

/// What the bench measured.
#[derive(Debug, Serialize)]
pub struct PipelineBench {
    /// Messages in the input.
    pub messages: u64,
    /// Bytes of Jetstream JSON.
    pub input_bytes: u64,
    /// Triage threads.
    pub threads: usize,
    /// Messages a transaction stores.
    pub batch: usize,
    /// Messages stored.
    pub stored: u64,
    /// Conversations opened.
    pub conversations: u64,
    /// Seconds from the first line read to the last commit.
    pub seconds: f64,
    /// Messages through the whole pipeline per second.
    pub messages_per_s: f64,
    /// Input megabytes per second.
    pub input_mb_per_s: f64,
    /// Bare inserts of the same rows, per second.
    pub raw_ceiling_messages_per_s: f64,
    /// Pipeline ÷ raw ceiling.
    pub ratio_to_ceiling: f64,
    /// The pipeline's peak resident memory (VmHWM), when the kernel tells it.
    pub peak_rss_bytes: Option<u64>,
    /// Busy time by stage.
    pub stages: Vec<Stage>,
    /// Messages the search index took per second, catching up with the store.
    pub search_index_messages_per_s: f64,
    /// Seconds the search index took.
    pub search_index_seconds: f64,
    /// The store stage by statement, most time first (with `--statements`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<StatementTime>,
}

/// `rapport bench generate`: writes the Jetstream input to a file.
pub fn generate(n: usize, path: &Path) -> Result<u64> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let bytes = jetstream::write(n, &mut out)?;
    out.flush()?;
    Ok(bytes)
}

/// Writes rapport's built-in intent cues as one JSON object, intents in rule order.
pub fn write_cues(path: &Path) -> Result<()> {
    let cues: Vec<(&str, &[&str])> = rapport_core::intent::builtin_cues()
        .iter()
        .map(|(intent, list)| (intent.as_str(), *list))
        .collect();
    std::fs::write(path, serde_json::to_string_pretty(&cues)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

pub async fn run(
    n: usize,
    threads: Option<usize>,
    batch: usize,
    statements: bool,
    input: Option<&Path>,
    dir: Option<&Path>,
    as_json: bool,
) -> Result<ExitCode> {
    let temp = tempfile::tempdir()?;
    let work: PathBuf = match dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.to_path_buf()
        }
        None => temp.path().to_path_buf(),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.unwrap_or(cores.saturating_sub(1).max(1)).max(1);
    let input = match input {
        Some(p) => p.to_path_buf(),
        None => {
            if n == 0 {
                bail!("--messages must be at least 1");
            }
            let path = work.join("jetstream.jsonl");
            if !as_json {
                eprintln!("writing {n} Jetstream events to {}…", path.display());
            }
            generate(n, &path)?;
            path
        }
    };
    let input_bytes = std::fs::metadata(&input)
        .with_context(|| format!("cannot read {}", input.display()))?
        .len();

    let config = crate::config::parse(
        &super::demo::demo_config(&[ORG_DID.to_owned()]),
        "the benchmark's configuration",
        &Default::default(),
    )?;
    let listen = Listen {
        org_did: ORG_DID.into(),
        org_handle: ORG_HANDLE.into(),
        mentions: true,
        replies: true,
        topics: Vec::new(),
        all: false,
    };

    if !as_json {
        eprintln!("pipeline: {threads} triage thread(s) and the writer…");
    }
    let store = Store::create(&work.join("pipeline")).await?;
    reset_peak_rss();
    let pipe = pipeline(&store, &config, &listen, &input, threads, batch, statements).await?;
    let peak_rss_bytes = peak_rss();

    if !as_json {
        eprintln!("search index: catching up with the store…");
    }
    let started = Instant::now();
    let index = rapport_search::SearchIndex::open(&work.join("search"))?;
    let mut indexer = index
        .indexer()?
        .context("the search index is locked by another process")?;
    let progress = indexer.catch_up(&store, |_| {}).await?;
    let search_seconds = started.elapsed().as_secs_f64();
    let indexed = progress.indexed + progress.applied;
    drop(indexer);
    store.close().await;

    if !as_json {
        eprintln!("raw ceiling: bare inserts of the same rows…");
    }
    let (ceiling_rows, ceiling_seconds) = ceiling(&work.join("ceiling"), &input, &listen).await?;

    let stored = pipe.outcome.inserted;
    let messages = pipe.lines;
    let messages_per_s = messages as f64 / pipe.seconds;
    let ceiling_per_s = ceiling_rows as f64 / ceiling_seconds;
    let stage = |stage, busy: f64| Stage {
        stage,
        busy_s: busy,
        us_per_message: busy * 1e6 / messages.max(1) as f64,
        alone_messages_per_s: messages as f64 / busy.max(1e-9),
    };
    let out = PipelineBench {
        messages,
        input_bytes,
        threads,
        stored,
        conversations: pipe.outcome.conversations,
        seconds: pipe.seconds,
        messages_per_s,
        input_mb_per_s: input_bytes as f64 / 1e6 / pipe.seconds,
        raw_ceiling_messages_per_s: ceiling_per_s,
        ratio_to_ceiling: messages_per_s / ceiling_per_s,
        peak_rss_bytes,
        stages: vec![
            stage("read (lines from the file)", pipe.read_s),
            stage("parse (Jetstream JSON → message)", pipe.parse_s),
            stage("triage and route", pipe.triage_s),
            stage("store (dedupe, people, threads, SQLite)", pipe.write_s),
        ],
        search_index_messages_per_s: indexed as f64 / search_seconds,
        search_index_seconds: search_seconds,
        statements: pipe.statements,
        batch,
    };
    if stored + pipe.outcome.duplicates != messages {
        bail!(
            "the pipeline stored {stored} and found {} duplicates of {messages} messages: some were lost",
            pipe.outcome.duplicates
        );
    }
    if as_json {
        output::json(&out)?;
    } else {
        print(&out);
    }
    Ok(ExitCode::SUCCESS)
}

fn print(b: &PipelineBench) {
    println!(
        "pipeline: {} Jetstream posts ({:.0} MB), {} triage thread(s) + the writer, {} messages a transaction",
        b.messages,
        b.input_bytes as f64 / 1e6,
        b.threads,
        b.batch
    );
    println!(
        "  pipeline            {:>10.0} messages/s  ({:.1} s, {:.1} MB/s of JSON; {} conversations)",
        b.messages_per_s, b.seconds, b.input_mb_per_s, b.conversations
    );
    println!(
        "  raw ceiling         {:>10.0} rows/s      (bare INSERTs, 10,000 a transaction)",
        b.raw_ceiling_messages_per_s
    );
    println!("  ratio to ceiling    {:>10.2}", b.ratio_to_ceiling);
    match b.peak_rss_bytes {
        Some(rss) => println!("  peak RSS            {:>10.1} MB", rss as f64 / 1e6),
        None => println!("  peak RSS            (not available on this system)"),
    }
    println!(
        "  search index        {:>10.0} messages/s catching up ({:.1} s)",
        b.search_index_messages_per_s, b.search_index_seconds
    );
    println!("  by stage (busy time, summed over threads):");
    for s in &b.stages {
        println!(
            "    {:<42} {:>7.2} s  {:>6.2} µs/message  {:>9.0}/s alone",
            s.stage, s.busy_s, s.us_per_message, s.alone_messages_per_s
        );
    }
    if !b.statements.is_empty() {
        println!("  the store stage by statement (most time first):");
        println!(
            "    {:>9} {:>8} {:>9} {:>11}  statement",
            "runs", "total s", "µs each", "µs/message"
        );
        for s in &b.statements {
            println!(
                "    {:>9} {:>8.2} {:>9.2} {:>11.2}  {}",
                s.runs, s.total_s, s.us_each, s.us_per_message, s.sql
            );
        }
    }
}

/// A statement's first words, on one line.
fn shorten(sql: &str) -> String {
    let one: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(72) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

struct PipelineRun {
    statements: Vec<StatementTime>,
    lines: u64,
    seconds: f64,
    outcome: BatchOutcome,
    read_s: f64,
    parse_s: f64,
    triage_s: f64,
    write_s: f64,
}

struct Triaged {
    seq: u64,
    batch: Vec<Prepared>,
    quarantine: Vec<QuarantineRow>,
    cursor: Option<i64>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

async fn pipeline(
    store: &Store,
    config: &rapport_core::config::Config,
    listen: &Listen,
    input: &Path,
    threads: usize,
    batch: usize,
    statements: bool,
) -> Result<PipelineRun> {
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot read {}", input.display()))?;
    let pipeline = Arc::new(Pipeline::new(config)?);
    let mut ingestor = store.ingestor(config).await?;
    if statements {
        ingestor.time_statements();
    }
    let read_ns = Arc::new(AtomicU64::new(0));
    let parse_ns = Arc::new(AtomicU64::new(0));
    let triage_ns = Arc::new(AtomicU64::new(0));
    let lines = Arc::new(AtomicU64::new(0));

    // Lines a triage thread takes at a time: no more than a transaction holds.
    let chunk_size = CHUNK.min(batch).max(1);
    let started = Instant::now();
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(u64, Vec<String>)>(threads * 2);
    let reader = {
        let read_ns = read_ns.clone();
        let lines = lines.clone();
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut reader = BufReader::with_capacity(1 << 20, file);
            let mut seq = 0;
            loop {
                let t = Instant::now();
                let mut chunk = Vec::with_capacity(chunk_size);
                let mut line = String::new();
                while chunk.len() < chunk_size {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        break;
                    }
                    let trimmed = line.trim_end();
                    if !trimmed.is_empty() {
                        chunk.push(trimmed.to_owned());
                    }
                }
                read_ns.fetch_add(nanos(t.elapsed()), Ordering::Relaxed);
                if chunk.is_empty() {
                    return Ok(());
                }
                lines.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if chunk_tx.send((seq, chunk)).is_err() {
                    return Ok(());
                }
                seq += 1;
            }
        })
    };
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Triaged>(threads * 2);
    let mut workers = Vec::new();
    for _ in 0..threads {
        let chunk_rx = chunk_rx.clone();
        let done_tx = done_tx.clone();
        let pipeline = pipeline.clone();
        let listen = listen.clone();
        let (parse_ns, triage_ns) = (parse_ns.clone(), triage_ns.clone());
        workers.push(std::thread::spawn(move || {
            loop {
                let next = match chunk_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, chunk)) = next else { return };
                let t = Instant::now();
                let mut heard = Vec::with_capacity(chunk.len());
                let mut quarantine = Vec::new();
                let mut cursor = None;
                for (i, line) in chunk.iter().enumerate() {
                    match from_jetstream_line(line, &listen) {
                        Ok(JetstreamOutcome::Keep(kept)) => {
                            cursor = Some(kept.cursor);
                            let mut message = kept.message;
                            if message.direction == Direction::Inbound {
                                // What the listener learns from the author's profile.
                                message.followers = Some(jetstream::followers_of(&message.author));
                            }
                            heard.push((message, serde_json::to_string(&kept.target).ok()));
                        }
                        Ok(JetstreamOutcome::Skip { cursor: c, .. }) => cursor = Some(c),
                        Err(e) => {
                            cursor = e.cursor().or(cursor);
                            quarantine.push(QuarantineRow {
                                source: SOURCE.into(),
                                line: seq * chunk_size as u64 + i as u64 + 1,
                                reason: e.to_string(),
                                raw: line.chars().take(16 * 1024).collect(),
                            });
                        }
                    }
                }
                let t2 = Instant::now();
                parse_ns.fetch_add(nanos(t2 - t), Ordering::Relaxed);
                let batch: Vec<Prepared> = heard
                    .into_iter()
                    .map(|(message, reply_ref)| {
                        let mut p = pipeline.prepare(message);
                        p.reply_ref = reply_ref;
                        p
                    })
                    .collect();
                triage_ns.fetch_add(nanos(t2.elapsed()), Ordering::Relaxed);
                let done = Triaged {
                    seq,
                    batch,
                    quarantine,
                    cursor,
                };
                if done_tx.blocking_send(done).is_err() {
                    return;
                }
            }
        }));
    }
    drop(done_tx);

    // The writer: chunks in the order of the file, so replies follow their parents,
    // gathered into transactions of `batch` messages (the last one when the input ends).
    let mut waiting = std::collections::BTreeMap::new();
    let mut next = 0u64;
    let mut outcome = BatchOutcome::default();
    let mut write = Duration::ZERO;
    let mut pending: Vec<Prepared> = Vec::with_capacity(batch);
    let mut quarantine: Vec<QuarantineRow> = Vec::new();
    let mut cursor: Option<i64> = None;
    let mut open = true;
    loop {
        match done_rx.recv().await {
            Some(t) => {
                waiting.insert(t.seq, t);
            }
            None => open = false,
        }
        while let Some(t) = waiting.remove(&next) {
            pending.extend(t.batch);
            quarantine.extend(t.quarantine);
            cursor = t.cursor.or(cursor);
            next += 1;
        }
        if open && pending.len() < batch {
            continue;
        }
        if !open && pending.is_empty() && quarantine.is_empty() {
            break;
        }
        let w = Instant::now();
        let position = cursor.map(|c| c.to_string());
        let o = ingestor
            .write_batch_at(
                &pending,
                &quarantine,
                position.as_deref().map(|c| (SOURCE, c)),
            )
            .await?;
        write += w.elapsed();
        outcome.inserted += o.inserted;
        outcome.duplicates += o.duplicates;
        outcome.conversations += o.conversations;
        pending.clear();
        quarantine.clear();
        if !open {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    match reader.join() {
        Ok(r) => r.with_context(|| format!("reading {}", input.display()))?,
        Err(_) => bail!("the reader thread panicked"),
    }
    for w in workers {
        if w.join().is_err() {
            bail!("a triage thread panicked");
        }
    }
    if !waiting.is_empty() {
        bail!("{} chunks were triaged but never stored", waiting.len());
    }
    let secs = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e9;
    let stored = outcome.inserted.max(1) as f64;
    let statements = ingestor
        .statement_times()
        .map(|t| {
            t.slowest()
                .into_iter()
                .map(|(sql, runs, took)| StatementTime {
                    sql: shorten(sql),
                    runs,
                    total_s: took.as_secs_f64(),
                    us_each: took.as_secs_f64() * 1e6 / runs.max(1) as f64,
                    us_per_message: took.as_secs_f64() * 1e6 / stored,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PipelineRun {
        statements,
        lines: lines.load(Ordering::Relaxed),
        seconds,
        outcome,
        read_s: secs(&read_ns),
        parse_s: secs(&parse_ns),
        triage_s: secs(&triage_ns),
        write_s: write.as_secs_f64(),
    })
}

const CEILING_INSERT: &str = "INSERT INTO messages (platform, platform_id, direction, is_reply, automated, \
     author, followers, text, created_at, in_reply_to, reshares, replies, url, \
     compound, pos, neu, neg, intent, intent_rule, priority_score, band, stored_at, reply_ref) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0, ?11, 0, 0, 1, 0, 'other', '', 0, 4, ?12, ?13)";

/// The raw ceiling: the same messages as bare rows of the same table, 10,000 a
/// transaction; returns the rows and the seconds spent inserting them.
async fn ceiling(dir: &Path, input: &Path, listen: &Listen) -> Result<(u64, f64)> {
    // The same schema, made by the same migrations.
    Store::create(dir).await?.close().await;
    let mut conn = rusqlite::Connection::open(dir.join(rapport_store::DB_FILE))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot read {}", input.display()))?;
    let mut lines = BufReader::with_capacity(1 << 20, file).lines();
    let mut rows = 0u64;
    let mut spent = Duration::ZERO;
    let now = chrono::Utc::now().timestamp_millis();
    loop {
        // Parsed outside the clock: only the inserts are timed.
        let mut batch = Vec::with_capacity(CEILING_BATCH);
        for line in lines.by_ref() {
            let line = line?;
            if let Ok(JetstreamOutcome::Keep(kept)) = from_jetstream_line(&line, listen) {
                let reply_ref = serde_json::to_string(&kept.target).ok();
                batch.push((kept.message, reply_ref));
            }
            if batch.len() == CEILING_BATCH {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let t = Instant::now();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(CEILING_INSERT)?;
            for (m, reply_ref) in &batch {
                insert.execute(rusqlite::params![
                    m.platform,
                    m.platform_id,
                    m.direction.as_str(),
                    i64::from(m.in_reply_to.is_some()),
                    i64::from(m.automated),
                    m.author,
                    m.followers.map(|f| f as i64),
                    m.text,
                    m.created_at.timestamp_millis(),
                    m.in_reply_to,
                    m.url,
                    now,
                    reply_ref,
                ])?;
            }
        }
        tx.commit()?;
        spent += t.elapsed();
        rows += batch.len() as u64;
    }
    if rows == 0 {
        bail!("{} holds no post the benchmark keeps", input.display());
    }
    Ok((rows, spent.as_secs_f64()))
}

/// Resets the kernel's high-water mark of this process's resident memory (Linux).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's peak resident memory since the last reset (Linux: VmHWM).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
