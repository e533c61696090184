//! `rapport search` and `rapport reindex`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rapport_core::SentimentBand;
use rapport_core::query::{Query, highlight_ranges};
use rapport_search::{Indexer, Progress, SearchIndex, Sort};
use rapport_store::Store;
use serde::Serialize;

use super::Ctx;
use crate::cli::{SearchArgs, SearchSort};
use crate::output;

/// The index's directory.
pub fn index_dir(ctx: &Ctx) -> PathBuf {
    ctx.data_dir.join(rapport_search::INDEX_DIR)
}

/// One hit as `--json` prints it.
#[derive(Debug, Serialize)]
struct HitOut {
    id: i64,
    conversation: Option<i64>,
    author: String,
    platform: String,
    intent: String,
    sentiment: &'static str,
    team: Option<String>,
    created_at: DateTime<Utc>,
    text: String,
    score: f32,
}

#[derive(Debug, Serialize)]
struct PageOut {
    query: String,
    total: usize,
    hits: Vec<HitOut>,
}

/// A spinner on a terminal, nothing otherwise.
fn progress_bar(json: bool) -> ProgressBar {
    if std::io::stderr().is_terminal() && !json {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} indexing: {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    } else {
        ProgressBar::hidden()
    }
}

/// The index's writer with its commit interval (`RAPPORT_SEARCH_COMMIT_EVERY`).
fn indexer(ctx: &Ctx, index: &SearchIndex) -> Result<Option<Indexer>> {
    let every = match ctx.env.get("RAPPORT_SEARCH_COMMIT_EVERY") {
        Some(v) => Some(v.parse::<u64>().with_context(|| {
            format!("RAPPORT_SEARCH_COMMIT_EVERY={v:?} is not a number of messages such as 100000")
        })?),
        None => None,
    };
    Ok(index.indexer()?.map(|i| match every {
        Some(n) => i.commit_every(n),
        None => i,
    }))
}

/// Brings the index up to date unless another process writes it.
async fn catch_up(ctx: &Ctx, store: &Store, index: &SearchIndex, json: bool) -> Result<()> {
    match indexer(ctx, index)? {
        Some(mut indexer) => {
            let bar = progress_bar(json);
            let done = indexer
                .catch_up(store, |p: &Progress| {
                    bar.set_message(format!("{} messages", p.indexed + p.applied))
                })
                .await?;
            bar.finish_and_clear();
            if done.rebuilt && !json {
                eprintln!(
                    "rapport: built the search index ({} messages)",
                    done.indexed
                );
            }
        }
        None if !index.is_built()? => eprintln!(
            "rapport: another process is building the search index: these results may be incomplete"
        ),
        None => {}
    }
    Ok(())
}

/// `rapport search QUERY`.
pub async fn run(ctx: &Ctx, args: &SearchArgs) -> Result<ExitCode> {
    let text = args.query.join(" ");
    let now = ctx.now()?;
    let query = match Query::parse(&text, now) {
        Ok(q) => q,
        Err(e) => {
            let caret: String = " ".repeat(e.at);
            bail!("{e}\n  {text}\n  {caret}^\nthe syntax is in docs/search.md");
        }
    };
    let store = ctx.store().await?;
    let index = SearchIndex::open(&index_dir(ctx))?;
    catch_up(ctx, &store, &index, args.json).await?;
    let sort = match args.sort {
        SearchSort::Relevance => Sort::Relevance,
        SearchSort::Newest => Sort::Newest,
    };
    let page = index.search(&query, args.limit, args.offset, sort)?;
    let ids: Vec<i64> = page.hits.iter().map(|h| h.id).collect();
    let rows = store.search_rows_by_ids(&ids).await?;
    let hits: Vec<HitOut> = rows
        .into_iter()
        .map(|r| HitOut {
            score: page
                .hits
                .iter()
                .find(|h| h.id == r.id)
                .map_or(0.0, |h| h.score),
            id: r.id,
            conversation: r.conversation,
            sentiment: SentimentBand::of(r.compound).as_str(),
            created_at: DateTime::from_timestamp_millis(r.created_at).unwrap_or_default(),
            author: r.author,
            platform: r.platform,
            intent: r.intent,
            team: r.team,
            text: r.text,
        })
        .collect();
    store.close().await;
    if args.json {
        output::json(&PageOut {
            query: text,
            total: page.total,
            hits,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.total == 0 {
        println!("no messages match {text:?}");
        return Ok(ExitCode::SUCCESS);
    }
    let (first, last) = (args.offset + 1, args.offset + hits.len());
    println!(
        "{} {} match{}{}",
        page.total,
        if page.total == 1 {
            "message"
        } else {
            "messages"
        },
        if page.total == 1 { "es" } else { "" },
        if hits.len() < page.total {
            format!(" (showing {first}-{last}; --offset {last} for more)")
        } else {
            String::new()
        }
    );
    let words = query.highlight_words();
    let bold = std::io::stdout().is_terminal();
    for h in &hits {
        let conv = h.conversation.map_or("-".to_string(), |c| format!("#{c}"));
        println!(
            "\n{conv:<7} {}  {}  {}  {}  {}{}",
            output::relative(h.created_at, now),
            h.platform,
            h.author,
            h.intent,
            h.sentiment,
            h.team
                .as_deref()
                .map(|t| format!("  team {t}"))
                .unwrap_or_default()
        );
        println!(
            "        {}",
            highlighted(&output::snippet(&h.text, 280), &words, bold)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The text with the query's words in bold on a terminal, in [brackets] otherwise.
fn highlighted(text: &str, words: &[String], bold: bool) -> String {
    let (open, close) = if bold {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for (a, b) in highlight_ranges(text, words) {
        out.push_str(&text[at..a]);
        out.push_str(open);
        out.push_str(&text[a..b]);
        out.push_str(close);
        at = b;
    }
    out.push_str(&text[at..]);
    out
}

#[derive(Debug, Serialize)]
struct ReindexOut {
    indexed: u64,
    applied: u64,
    seconds: f64,
    messages_per_s: f64,
}

/// `rapport reindex [--verify]`.
pub async fn reindex(ctx: &Ctx, verify: bool, json: bool) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let dir = index_dir(ctx);
    let index = SearchIndex::open(&dir)?;
    if verify {
        let v = rapport_search::verify(&index, &store).await?;
        store.close().await;
        if json {
            output::json(&v)?;
        } else if v.ok() {
            println!(
                "the search index holds exactly the store's {} messages",
                v.store
            );
        } else {
            println!(
                "the search index does not match the store: {} messages in the store, {} in the index",
                v.store, v.index
            );
            if !v.missing.is_empty() {
                println!("  missing from the index: {:?}", v.missing);
            }
            if !v.extra.is_empty() {
                println!("  in the index, not in the store: {:?}", v.extra);
            }
            println!("run `rapport reindex` to rebuild it (stop `rapport serve` first)");
        }
        return Ok(if v.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let Some(mut indexer) = indexer(ctx, &index)? else {
        bail!(rapport_search::SearchError::Busy(dir));
    };
    let bar = progress_bar(json);
    let started = Instant::now();
    let on_progress = |p: &Progress| bar.set_message(format!("{} messages", p.indexed + p.applied));
    // A rebuild a crash interrupted goes on from its last commit; otherwise start over.
    let done = if indexer.is_rebuilding() {
        indexer.catch_up(&store, on_progress).await?
    } else {
        indexer.rebuild(&store, on_progress).await?
    };
    bar.finish_and_clear();
    store.close().await;
    let seconds = started.elapsed().as_secs_f64();
    let out = ReindexOut {
        indexed: done.indexed,
        applied: done.applied,
        seconds,
        messages_per_s: done.indexed as f64 / seconds.max(1e-9),
    };
    if json {
        output::json(&out)?;
    } else {
        println!(
            "indexed {} messages in {:.1}s ({:.0} messages/s) into {}{}",
            out.indexed,
            out.seconds,
            out.messages_per_s,
            dir.display(),
            if out.applied > 0 {
                format!("; {} more from changes made meanwhile", out.applied)
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
