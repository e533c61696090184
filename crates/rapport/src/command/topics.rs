//! `rapport topics`: the configured listening topics with their counts, and `rematch`
//! to apply the current topics to every stored message.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use rapport_core::listening::TopicMatcher;
use serde_json::json;

use super::Ctx;
use crate::cli::TopicsCommand;
use crate::output::json;

pub async fn run(ctx: &Ctx, command: Option<&TopicsCommand>, as_json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let store = ctx.store().await?;
    match command {
        Some(TopicsCommand::Rematch { json: j }) => {
            let matcher = TopicMatcher::new(&config.topics)
                .context("the [[topic]] sections of rapport.toml")?;
            let now = ctx.now()?;
            let quiet = *j;
            let mut shown = 0;
            let out = store
                .rematch_topics(&matcher, now, |p| {
                    if !quiet && p.messages / 100_000 > shown {
                        shown = p.messages / 100_000;
                        eprintln!("{} messages matched ...", p.messages);
                    }
                })
                .await?;
            if *j {
                json(&out)?;
            } else {
                println!(
                    "{} messages matched against {} topics: {} matches added, {} removed, {} conversations labelled, {} labels taken off",
                    out.messages,
                    config.topics.len(),
                    out.added,
                    out.removed,
                    out.labelled,
                    out.unlabelled
                );
            }
        }
        None => {
            let volumes = store.topic_volumes(None, None).await?;
            let rows: Vec<_> = config
                .topics
                .iter()
                .map(|t| {
                    let v = volumes.iter().find(|v| v.topic == t.name);
                    json!({
                        "name": t.name,
                        "kind": t.kind,
                        "any": t.any,
                        "all": t.all,
                        "none": t.none,
                        "platforms": t.platforms,
                        "inbound_messages": v.map_or(0, |v| v.messages),
                        "authors": v.map_or(0, |v| v.authors),
                    })
                })
                .collect();
            if as_json {
                json(&rows)?;
            } else if rows.is_empty() {
                println!(
                    "no listening topics: add [[topic]] sections to {} (docs/listening.md)",
                    ctx.config_path.display()
                );
            } else {
                for (t, r) in config.topics.iter().zip(&rows) {
                    let mut rule = format!("any of {:?}", t.any);
                    if !t.all.is_empty() {
                        rule.push_str(&format!(", all of {:?}", t.all));
                    }
                    if !t.none.is_empty() {
                        rule.push_str(&format!(", none of {:?}", t.none));
                    }
                    println!(
                        "{:<20} {:<11} {:>7} messages  {rule}",
                        t.name,
                        t.kind.as_str(),
                        r["inbound_messages"].as_i64().unwrap_or(0)
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
