//! `rapport person ID`, `rapport people [suggest|merge|unmerge|dismiss]` and
//! `rapport advocates`: people across platforms and their relationships with the
//! organisation (docs/people.md; the definitions are in docs/metrics.md).

use std::process::ExitCode;

use anyhow::Result;
use rapport_server::relationships::{RorReport, advocates as rank, person as view, ror_report};
use serde_json::json as j;

use super::Ctx;
use crate::cli::PeopleCommand;
use crate::output::{json, relative, snippet};

pub async fn person(ctx: &Ctx, id: i64, as_json: bool) -> Result<ExitCode> {
    let now = ctx.now()?;
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let v = view(&store, &config, id, now).await?;
    if as_json {
        json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let p = &v.person;
    println!(
        "person {}: {}",
        p.id,
        p.display_name.as_deref().unwrap_or("(no name)")
    );
    if let Some(m) = v
        .merges
        .iter()
        .find(|m| m.merged == id && m.undone_at.is_none())
    {
        println!(
            "  merged into person {} by {} ({}, merge {}): see `rapport person {}`",
            m.keep,
            m.actor,
            relative(m.at, now),
            m.id,
            m.keep
        );
    }
    println!("\nidentities");
    for i in &p.identities {
        println!(
            "  {:<9} {:<40} {:<24} {}",
            i.platform,
            i.handle,
            i.name.as_deref().unwrap_or("-"),
            i.followers
                .map(|f| format!("{f} followers"))
                .unwrap_or_default()
        );
    }
    match &v.relationship {
        None => println!("\nno messages: no relationship to measure"),
        Some(r) => {
            let s = &r.strength;
            let w = &config.relationships.weights;
            println!(
                "\nrelationship strength {:.3}{}",
                s.score,
                if r.advocate { "  (advocate)" } else { "" }
            );
            println!(
                "  = {:.1}×recency {:.3} + {:.1}×frequency {:.3} + {:.1}×reciprocity {:.3} + {:.1}×sentiment {:.3}",
                w.recency,
                s.recency,
                w.frequency,
                s.frequency,
                w.reciprocity,
                s.reciprocity,
                w.sentiment,
                s.sentiment
            );
            println!(
                "  recency: last interaction {}; frequency: {} interactions in {} days; sentiment: mean compound {}",
                s.days_since_last
                    .map(|d| format!("{d:.1} days ago"))
                    .unwrap_or_else(|| "never".into()),
                r.facts.recent_interactions,
                config.relationships.window_days,
                r.facts
                    .mean_compound
                    .map(|c| format!("{c:+.3}"))
                    .unwrap_or_else(|| "-".into())
            );
            let l = &r.facts.ledger;
            println!("\nreciprocity ledger");
            println!(
                "  we gave   {:>4}: replies {}, resolved {}, thanks {}, shares {}",
                l.ours_total(),
                l.ours.replies,
                l.ours.resolved,
                l.ours.thanks,
                l.ours.shares
            );
            println!(
                "  they gave {:>4}: mentions {}, praise {}, ideas {}, referrals {}",
                l.theirs_total(),
                l.theirs.mentions,
                l.theirs.praise,
                l.theirs.ideas,
                l.theirs.referrals
            );
            if r.at_risk.is_empty() {
                println!("\nnot at risk");
            } else {
                println!("\nat risk");
                for a in &r.at_risk {
                    println!("  {}", a.describe());
                }
            }
        }
    }
    if !v.merges.is_empty() {
        println!("\nmerges");
        for m in &v.merges {
            println!(
                "  merge {}: person {} into {} by {} {}{}",
                m.id,
                m.merged,
                m.keep,
                m.actor,
                relative(m.at, now),
                m.undone_at
                    .map(|t| format!(", undone {}", relative(t, now)))
                    .unwrap_or_default()
            );
        }
    }
    println!("\ntimeline (newest first)");
    for m in v.timeline.iter().take(20) {
        println!(
            "  {:<14} {:<8} {:<9} {:<10} {}",
            relative(m.created_at, now),
            if m.direction == "inbound" {
                "they"
            } else {
                "we"
            },
            m.platform,
            m.intent,
            snippet(&m.text, 80)
        );
    }
    if !p.conversations.is_empty() {
        println!(
            "\n{} conversations: `rapport show ID` for one ({})",
            p.conversations.len(),
            p.conversations
                .iter()
                .take(10)
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(ctx: &Ctx, command: Option<&PeopleCommand>, as_json: bool) -> Result<ExitCode> {
    let now = ctx.now()?;
    let store = ctx.store().await?;
    match command {
        None => {
            let config = ctx.config()?;
            let r = ror_report(&store, &config, now, 20).await?;
            if as_json {
                json(&r)?;
            } else {
                print_ror(&r);
            }
        }
        Some(PeopleCommand::Suggest { limit }) => {
            let s = store.merge_suggestions(*limit).await?;
            if as_json {
                json(&s)?;
            } else if s.is_empty() {
                println!("no merges to suggest");
            } else {
                for m in &s {
                    println!(
                        "{:<6} rapport people merge {} {}\n       {}",
                        m.confidence,
                        m.keep,
                        m.merge,
                        m.reasons.join("; ")
                    );
                }
                println!(
                    "\nconfirm one with the command shown, or `rapport people dismiss A B` if they are two people"
                );
            }
        }
        Some(PeopleCommand::Merge { keep, other }) => {
            let m = store.merge_people(*keep, *other, &ctx.actor, now).await?;
            if as_json {
                json(&m)?;
            } else {
                println!(
                    "merged person {} into {} ({} identities moved): merge {}; undo with `rapport people unmerge {}`",
                    m.merged,
                    m.keep,
                    m.identities.len(),
                    m.id,
                    m.id
                );
            }
        }
        Some(PeopleCommand::Unmerge { merge }) => {
            let m = store.unmerge_people(*merge, &ctx.actor, now).await?;
            if as_json {
                json(&m)?;
            } else {
                println!(
                    "undid merge {}: person {} has its {} identities back from person {}",
                    m.id,
                    m.merged,
                    m.identities.len(),
                    m.keep
                );
            }
        }
        Some(PeopleCommand::Dismiss { a, b }) => {
            store.dismiss_merge(*a, *b, &ctx.actor, now).await?;
            if as_json {
                json(&j!({"dismissed": [a.min(b), a.max(b)]}))?;
            } else {
                println!("people {a} and {b} will not be suggested for a merge again");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The human form of ROR (also part of `rapport report`).
pub fn print_ror(r: &RorReport) {
    println!(
        "\n  return on relationship {:.3}  (mean strength of {} people active in {} days)",
        r.ror.ror, r.ror.active, r.window_days
    );
    println!(
        "  advocates              {}   at risk {}",
        r.ror.advocates, r.ror.at_risk
    );
    if !r.top_advocates.is_empty() {
        println!("\n  strongest advocates");
        for a in &r.top_advocates {
            println!(
                "    {:>6}  {:<28} strength {:.3}, mean compound {}",
                a.person_id,
                snippet(&a.name, 28),
                a.strength,
                a.mean_compound
                    .map(|c| format!("{c:+.2}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    if !r.at_risk_people.is_empty() {
        println!("\n  relationships at risk (most urgent first)");
        for a in &r.at_risk_people {
            println!(
                "    {:>6}  {:<28} {}",
                a.person_id,
                snippet(&a.name, 28),
                a.reasons.join("; ")
            );
        }
    }
}

pub async fn advocates(ctx: &Ctx, days: u32, limit: usize, as_json: bool) -> Result<ExitCode> {
    let now = ctx.now()?;
    let store = ctx.store().await?;
    let list = rank(&store, now, days, limit).await?;
    if as_json {
        json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!("no positive messages in the last {days} days: no advocates yet");
        return Ok(ExitCode::SUCCESS);
    }
    println!("advocates over the last {days} days: positive messages × log10(followers + 10)\n");
    println!(
        "  {:>4} {:>7}  {:<28} {:<36} {:>8} {:>10} {:>7}",
        "RANK", "PERSON", "NAME", "ACCOUNT", "POSITIVE", "FOLLOWERS", "SCORE"
    );
    for (i, a) in list.iter().enumerate() {
        println!(
            "  {:>4} {:>7}  {:<28} {:<36} {:>8} {:>10} {:>7.2}",
            i + 1,
            a.ranked.person_id,
            snippet(&a.name, 28),
            snippet(a.account.as_deref().unwrap_or("-"), 36),
            a.ranked.positive,
            a.ranked.followers,
            a.ranked.score
        );
    }
    Ok(ExitCode::SUCCESS)
}
