//! `rapport tribe`: the tribe graph of a window (docs/tribe.md) as a summary, JSON or
//! GraphML.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, TimeDelta, Utc};
use rapport_core::tribe::{Tribe, analyse};
use rapport_server::reports::parse_when;

use super::Ctx;
use crate::cli::{TribeArgs, TribeFormat};

/// Bridges shown as text.
const BRIDGES_SHOWN: usize = 10;
/// Communities shown as text.
const COMMUNITIES_SHOWN: usize = 15;

pub async fn run(ctx: &Ctx, args: &TribeArgs) -> Result<ExitCode> {
    let now = ctx.now()?;
    let when = |s: &Option<String>, flag: &str| {
        s.as_deref()
            .map(|s| parse_when(s, now))
            .transpose()
            .with_context(|| flag.to_owned())
    };
    let until = when(&args.until, "--until")?.unwrap_or(now);
    let since = match when(&args.since, "--since")? {
        Some(t) => t,
        None => until - TimeDelta::days(i64::from(args.days)),
    };
    if since >= until {
        bail!(
            "--since {} is not before --until {}: give a window that ends after it starts",
            since.format("%Y-%m-%d %H:%M UTC"),
            until.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let input = store
        .tribe_input(
            since,
            until,
            &config.organisation.accounts,
            &config.organisation.name,
        )
        .await?;
    let tribe = analyse(&input);
    let body = match args.format {
        TribeFormat::Json => {
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "since": since,
                "until": until,
                "tribe": tribe,
            }))?;
            s.push('\n');
            s
        }
        TribeFormat::Graphml => tribe.graphml(),
        TribeFormat::Text => text(&tribe, since, until),
    };
    match &args.out {
        Some(path) => std::fs::write(path, body.as_bytes()).with_context(|| {
            format!(
                "cannot write {}: check that its directory exists and is writable",
                path.display()
            )
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary, the largest communities and the strongest bridges.
fn text(t: &Tribe, since: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let s = &t.summary;
    let mut o = String::new();
    let mut line = |l: String| {
        o.push_str(&l);
        o.push('\n');
    };
    line(format!(
        "Tribe graph, {} to {}",
        since.format("%Y-%m-%d %H:%M"),
        until.format("%Y-%m-%d %H:%M UTC")
    ));
    line(format!(
        "  {} nodes ({} people, {} of the organisation's accounts), {} edges: {} replies, {} mentions, {} reshares",
        s.nodes, s.people, s.accounts, s.edges, s.replies, s.mentions, s.reshares
    ));
    line(format!(
        "  {} communities hold {} people{}; {} people talk only with the organisation",
        s.communities,
        s.in_communities,
        s.modularity
            .map(|q| format!(" (modularity {q:.2})"))
            .unwrap_or_default(),
        s.unattached
    ));
    if s.nodes == 0 {
        line("  nobody replied to or mentioned anyone in this window".into());
        return o;
    }
    if !t.communities.is_empty() {
        line(String::new());
        line("Communities (most central members, with their interactions inside)".into());
    }
    for c in t.communities.iter().take(COMMUNITIES_SHOWN) {
        let members = c
            .members
            .iter()
            .map(|m| format!("{} ({})", m.label, m.weight))
            .collect::<Vec<_>>()
            .join(", ");
        line(format!("  #{:<3} {:>4} people  {members}", c.id, c.size));
        let mut extra = Vec::new();
        if !c.accounts.is_empty() {
            extra.push(format!(
                "talks with {}",
                c.accounts
                    .iter()
                    .map(|a| format!("{} ({})", a.label, a.weight))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !c.intents.is_empty() {
            extra.push(format!(
                "writes {}",
                c.intents
                    .iter()
                    .map(|i| format!("{} {}", i.intent, i.messages))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !extra.is_empty() {
            line(format!("              {}", extra.join("; ")));
        }
    }
    if t.communities.len() > COMMUNITIES_SHOWN {
        line(format!(
            "  … and {} smaller ones (--format json lists them all)",
            t.communities.len() - COMMUNITIES_SHOWN
        ));
    }
    line(String::new());
    if t.bridges.is_empty() {
        line("No bridges: no one's ties reach two communities".into());
        return o;
    }
    line("Bridges (people whose ties reach several communities)".into());
    for b in t.bridges.iter().take(BRIDGES_SHOWN) {
        let reaches = b
            .reaches
            .iter()
            .map(|c| format!("#{c}"))
            .collect::<Vec<_>>()
            .join(" ");
        line(format!(
            "  {} (person {}): in #{}, reaches {reaches}; participation {:.2}, {} interactions outside{}",
            b.label,
            b.person_id,
            b.community,
            b.participation,
            b.cross_weight,
            if b.articulation {
                "; the only link for some"
            } else {
                ""
            }
        ));
    }
    if t.bridges.len() > BRIDGES_SHOWN {
        line(format!("  … and {} more", t.bridges.len() - BRIDGES_SHOWN));
    }
    o
}
