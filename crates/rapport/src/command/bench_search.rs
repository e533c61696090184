//! `rapport bench search`: query latency of rapport's search index beside SQLite FTS5,
//! on the same generated messages, in the same run.
//!
//! Both engines get the same rows: text, author, platform, intent, sentiment band, team
//! and time. FTS5 holds the keyword fields as columns of the full-text table (so a field
//! filter is an FTS5 column filter) and the time in a plain table with an index, joined
//! for date ranges. Each query asks both for what `rapport search` shows: the total
//! number of matches and the 20 best by relevance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr as _;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use chrono::{TimeZone as _, Utc};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rapport_core::SentimentBand;
use rapport_core::query::Query;
use rapport_search::{SearchIndex, Sort};
use rapport_store::SearchRow;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, SqliteConnection};

use crate::output;

/// Rows generated per chunk (generation is deterministic per chunk, so both engines get
/// the same rows without holding all of them).
const CHUNK: usize = 20_000;
/// Hits per query, as `rapport search` shows by default.
const TOP: usize = 20;

/// Common words, most frequent first (Zipf-distributed picks).
const COMMON: &[&str] = &[
    "the",
    "i",
    "to",
    "and",
    "a",
    "my",
    "is",
    "it",
    "you",
    "of",
    "for",
    "this",
    "in",
    "on",
    "with",
    "app",
    "just",
    "so",
    "but",
    "not",
    "have",
    "me",
    "can",
    "your",
    "be",
    "are",
    "was",
    "love",
    "now",
    "new",
    "after",
    "when",
    "why",
    "still",
    "please",
    "help",
    "thanks",
    "great",
    "update",
    "lamp",
    "light",
    "lights",
    "hub",
    "bulb",
    "bulbs",
    "firmware",
    "battery",
    "again",
    "working",
    "broken",
    "support",
    "order",
    "refund",
    "shipping",
    "days",
    "week",
    "today",
    "customer",
    "service",
    "waiting",
    "reply",
    "email",
    "room",
    "kitchen",
    "bedroom",
    "scene",
    "schedule",
    "color",
    "colour",
    "bright",
    "dim",
    "warm",
    "setup",
    "pairing",
    "wifi",
    "bluetooth",
    "disconnecting",
    "keeps",
    "drain",
    "drains",
    "charging",
    "return",
    "replace",
    "warranty",
    "price",
    "deal",
    "sale",
    "office",
    "units",
    "team",
    "amazing",
    "awful",
    "terrible",
    "best",
    "worst",
    "finally",
    "fixed",
    "bug",
    "crash",
    "crashes",
    "login",
    "account",
    "password",
    "android",
    "iphone",
    "homekit",
    "alexa",
    "google",
    "matter",
    "strip",
    "lightstrip",
    "outdoor",
    "garden",
    "motion",
    "sensor",
    "switch",
    "dimmer",
    "music",
    "sync",
    "tv",
    "movie",
    "night",
    "morning",
    "alarm",
    "wake",
    "sleep",
    "mode",
    "feature",
    "idea",
    "suggestion",
    "would",
    "could",
    "should",
    "add",
    "want",
    "need",
    "wish",
    "buy",
    "bought",
    "gift",
    "christmas",
    "delivery",
    "late",
    "lost",
    "package",
    "box",
    "cable",
];

/// The organisation's product words, a campaign tag, competitors: what listening queries ask.
const NAMES: &[&str] = &[
    "lumen", "lumenapp", "lumenhub", "nanoleaf", "lifx", "govee", "philips", "hue", "wiz",
    "sengled",
];

const PLATFORMS: &[&str] = &["bluesky", "mastodon", "rss", "webhook", "import"];
const INTENTS: &[&str] = &[
    "complaint",
    "question",
    "praise",
    "idea",
    "lead",
    "spam",
    "other",
];
const TEAMS: &[&str] = &["care", "product", "sales", "comms"];

/// The day the generated messages end (90 days of them).
fn last_day() -> i64 {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp_millis())
}

/// One log-uniform (Zipf s≈1) pick out of `n`.
fn zipf(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let x = (n as f64 + 1.0).powf(rng.random::<f64>()) - 1.0;
    (x as usize).min(n - 1)
}

/// The rows of chunk `c` (ids from `c * CHUNK + 1`), at most `n` in all.
fn chunk(c: usize, n: usize) -> Vec<SearchRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0000 + c as u64);
    let start = c * CHUNK;
    let end = (start + CHUNK).min(n);
    let span = 90 * 24 * 3600 * 1000i64;
    (start..end)
        .map(|i| {
            let words = 6 + zipf(&mut rng, 30);
            let mut text = String::with_capacity(words * 7);
            for k in 0..words {
                if k > 0 {
                    text.push(' ');
                }
                let r = rng.random::<f64>();
                if r < 0.04 {
                    text.push('#');
                    text.push_str(NAMES[zipf(&mut rng, NAMES.len())]);
                } else if r < 0.06 {
                    // The long tail: order numbers, handles, rare words.
                    text.push_str(&format!("x{}", zipf(&mut rng, 2_000_000)));
                } else {
                    text.push_str(COMMON[zipf(&mut rng, COMMON.len())]);
                }
            }
            if rng.random::<f64>() < 0.3 {
                text.push_str(["!", "?", " 🙏", " 😡", "…", " :)"][rng.random_range(0..6)]);
            }
            let compound = rng.random::<f64>() * 2.0 - 1.0;
            SearchRow {
                id: i as i64 + 1,
                conversation: Some(i as i64 / 3 + 1),
                text,
                author: format!("user{}.bsky.social", zipf(&mut rng, 200_000)),
                platform: PLATFORMS[zipf(&mut rng, PLATFORMS.len())].to_string(),
                intent: INTENTS[rng.random_range(0..INTENTS.len())].to_string(),
                compound,
                team: (rng.random::<f64>() < 0.8)
                    .then(|| TEAMS[rng.random_range(0..TEAMS.len())].to_string()),
                created_at: last_day() - span + (i as i64 * span / n.max(1) as i64),
                direction: "inbound".into(),
            }
        })
        .collect()
}

/// One benchmark query: rapport's syntax and its FTS5 equivalent.
struct BenchQuery {
    name: &'static str,
    rapport: &'static str,
    fts_match: &'static str,
    /// A time range (days back from the last day) joined for FTS5.
    days: Option<i64>,
}

const QUERIES: &[BenchQuery] = &[
    BenchQuery {
        name: "common word",
        rapport: "battery",
        fts_match: "battery",
        days: None,
    },
    BenchQuery {
        name: "two words",
        rapport: "firmware update",
        fts_match: "firmware update",
        days: None,
    },
    BenchQuery {
        name: "phrase",
        rapport: "\"battery drain\"",
        fts_match: "\"battery drain\"",
        days: None,
    },
    BenchQuery {
        name: "either word",
        rapport: "refund OR return",
        fts_match: "refund OR return",
        days: None,
    },
    BenchQuery {
        name: "word without word",
        rapport: "app -love",
        fts_match: "app NOT love",
        days: None,
    },
    BenchQuery {
        name: "competitor OR",
        rapport: "nanoleaf OR lifx OR govee",
        fts_match: "nanoleaf OR lifx OR govee",
        days: None,
    },
    BenchQuery {
        name: "word + sentiment",
        rapport: "firmware sentiment:neg",
        fts_match: "firmware AND sentiment:negative",
        days: None,
    },
    BenchQuery {
        name: "word + intent + team",
        rapport: "refund intent:complaint team:care",
        fts_match: "refund AND intent:complaint AND team:care",
        days: None,
    },
    BenchQuery {
        name: "author",
        rapport: "author:user3.bsky.social",
        fts_match: "author:\"user3 bsky social\"",
        days: None,
    },
    BenchQuery {
        name: "word, last 7 days",
        rapport: "lumen since:7d",
        fts_match: "lumen",
        days: Some(7),
    },
    BenchQuery {
        name: "rare word",
        rapport: "x1234",
        fts_match: "x1234",
        days: None,
    },
];

#[derive(Debug, Serialize)]
struct QueryResult {
    name: &'static str,
    query: &'static str,
    matches: usize,
    fts5_matches: usize,
    rapport_p50_ms: f64,
    rapport_p99_ms: f64,
    fts5_p50_ms: f64,
    fts5_p99_ms: f64,
    /// FTS5's p50 over rapport's.
    speedup_p50: f64,
}

#[derive(Debug, Serialize)]
struct BenchOut {
    messages: usize,
    runs: usize,
    rapport_index_s: f64,
    rapport_index_messages_per_s: f64,
    rapport_index_bytes: u64,
    fts5_index_s: f64,
    fts5_index_messages_per_s: f64,
    fts5_bytes: u64,
    queries: Vec<QueryResult>,
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms_stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(&v, 0.5), percentile(&v, 0.99))
}

/// `rapport bench search`.
pub async fn run(messages: usize, runs: usize, dir: Option<&Path>, json: bool) -> Result<ExitCode> {
    if messages == 0 || runs == 0 {
        bail!("--messages and --runs must be at least 1");
    }
    let tmp;
    let work: PathBuf = match dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.to_path_buf()
        }
        None => {
            tmp = tempfile::TempDir::new()
                .context("cannot create a temporary directory: set TMPDIR to a writable one")?;
            tmp.path().to_path_buf()
        }
    };
    let index_dir = work.join("bench-search-index");
    let fts_file = work.join("bench-fts5.db");
    let _ = std::fs::remove_dir_all(&index_dir);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", fts_file.display()));
    }
    let chunks = messages.div_ceil(CHUNK);
    let say = |s: String| {
        if !json {
            eprintln!("{s}");
        }
    };

    // rapport's index.
    say(format!(
        "indexing {messages} generated messages with rapport…"
    ));
    let index = SearchIndex::open(&index_dir)?;
    // Only indexing is timed: each chunk is generated before its clock starts.
    let mut rapport_index_s = 0.0;
    {
        let Some(mut indexer) = index.indexer()? else {
            bail!("the benchmark's index at {} is in use", index_dir.display());
        };
        for c in 0..chunks {
            let rows = chunk(c, messages);
            let started = Instant::now();
            indexer.add_rows(&rows)?;
            rapport_index_s += started.elapsed().as_secs_f64();
        }
        let started = Instant::now();
        indexer.flush()?;
        rapport_index_s += started.elapsed().as_secs_f64();
    }

    // SQLite FTS5 on the same rows.
    say("indexing the same messages with SQLite FTS5…".to_string());
    let mut db = SqliteConnection::connect_with(
        &SqliteConnectOptions::from_str(&format!("sqlite://{}", fts_file.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal),
    )
    .await?;
    let mut fts5_index_s = 0.0;
    let started = Instant::now();
    sqlx::query(
        "CREATE VIRTUAL TABLE fts USING fts5(text, author, platform, intent, sentiment, team)",
    )
    .execute(&mut db)
    .await?;
    sqlx::query("CREATE TABLE meta (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL)")
        .execute(&mut db)
        .await?;
    fts5_index_s += started.elapsed().as_secs_f64();
    for c in 0..chunks {
        let rows = chunk(c, messages);
        let started = Instant::now();
        let mut tx = db.begin().await?;
        for r in &rows {
            sqlx::query("INSERT INTO fts (rowid, text, author, platform, intent, sentiment, team) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(r.id)
                .bind(&r.text)
                .bind(&r.author)
                .bind(&r.platform)
                .bind(&r.intent)
                .bind(SentimentBand::of(r.compound).as_str())
                .bind(r.team.as_deref().unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO meta (id, created_at) VALUES (?, ?)")
                .bind(r.id)
                .bind(r.created_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        fts5_index_s += started.elapsed().as_secs_f64();
    }
    let started = Instant::now();
    sqlx::query("CREATE INDEX meta_created ON meta(created_at)")
        .execute(&mut db)
        .await?;
    fts5_index_s += started.elapsed().as_secs_f64();

    // The queries, alternating engines run by run.
    let now = Utc
        .timestamp_millis_opt(last_day())
        .single()
        .unwrap_or_else(Utc::now);
    let mut results = Vec::new();
    for q in QUERIES {
        let parsed = Query::parse(q.rapport, now)?;
        let (mut ours, mut theirs) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        let (mut total, mut fts_total) = (0, 0);
        for _ in 0..runs {
            let t = Instant::now();
            let page = index.search(&parsed, TOP, 0, Sort::Relevance)?;
            ours.push(t.elapsed().as_secs_f64() * 1e3);
            total = page.total;

            let t = Instant::now();
            let (count, top) = match q.days {
                None => {
                    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM fts WHERE fts MATCH ?")
                        .bind(q.fts_match)
                        .fetch_one(&mut db)
                        .await?;
                    let top: Vec<(i64,)> = sqlx::query_as(
                        "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?",
                    )
                    .bind(q.fts_match)
                    .bind(TOP as i64)
                    .fetch_all(&mut db)
                    .await?;
                    (n, top)
                }
                Some(days) => {
                    let from = last_day() - days * 24 * 3600 * 1000;
                    let (n,): (i64,) = sqlx::query_as(
                        "SELECT count(*) FROM fts JOIN meta m ON m.id = fts.rowid \
                         WHERE fts MATCH ? AND m.created_at >= ?",
                    )
                    .bind(q.fts_match)
                    .bind(from)
                    .fetch_one(&mut db)
                    .await?;
                    let top: Vec<(i64,)> = sqlx::query_as(
                        "SELECT fts.rowid FROM fts JOIN meta m ON m.id = fts.rowid \
                         WHERE fts MATCH ? AND m.created_at >= ? ORDER BY rank LIMIT ?",
                    )
                    .bind(q.fts_match)
                    .bind(from)
                    .bind(TOP as i64)
                    .fetch_all(&mut db)
                    .await?;
                    (n, top)
                }
            };
            theirs.push(t.elapsed().as_secs_f64() * 1e3);
            fts_total = count as usize;
            std::hint::black_box(top);
        }
        let (p50, p99) = ms_stats(ours);
        let (f50, f99) = ms_stats(theirs);
        results.push(QueryResult {
            name: q.name,
            query: q.rapport,
            matches: total,
            fts5_matches: fts_total,
            rapport_p50_ms: p50,
            rapport_p99_ms: p99,
            fts5_p50_ms: f50,
            fts5_p99_ms: f99,
            speedup_p50: f50 / p50.max(1e-9),
        });
    }
    db.close().await?;
    let out = BenchOut {
        messages,
        runs,
        rapport_index_s,
        rapport_index_messages_per_s: messages as f64 / rapport_index_s.max(1e-9),
        rapport_index_bytes: dir_size(&index_dir),
        fts5_index_s,
        fts5_index_messages_per_s: messages as f64 / fts5_index_s.max(1e-9),
        fts5_bytes: ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", fts_file.display())).ok())
            .map(|m| m.len())
            .sum(),
        queries: results,
    };
    if dir.is_none() {
        drop(index);
    }
    if json {
        output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} messages, {} runs per query; build: rapport {:.1}s ({:.0} msg/s, {:.0} MB), FTS5 {:.1}s ({:.0} msg/s, {:.0} MB)",
        out.messages,
        out.runs,
        out.rapport_index_s,
        out.rapport_index_messages_per_s,
        out.rapport_index_bytes as f64 / 1e6,
        out.fts5_index_s,
        out.fts5_index_messages_per_s,
        out.fts5_bytes as f64 / 1e6
    );
    println!(
        "\n{:<22} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "query", "matches", "fts5", "p50 ms", "p99 ms", "fts5 p50", "fts5 p99", "x p50"
    );
    for r in &out.queries {
        println!(
            "{:<22} {:>9} {:>9} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>8.1}",
            r.name,
            r.matches,
            r.fts5_matches,
            r.rapport_p50_ms,
            r.rapport_p99_ms,
            r.fts5_p50_ms,
            r.fts5_p99_ms,
            r.speedup_p50
        );
    }
    Ok(ExitCode::SUCCESS)
}
