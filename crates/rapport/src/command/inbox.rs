//! `rapport inbox`, `rapport show`, `rapport quarantine`.

use std::process::ExitCode;

use anyhow::Result;
use rapport_core::{Band, Status};
use rapport_store::{ConversationRow, InboxFilter};
use serde_json::json;

use super::Ctx;
use crate::cli::InboxArgs;
use crate::output::{cell, json, relative, snippet};

pub async fn list(ctx: &Ctx, args: &InboxArgs) -> Result<ExitCode> {
    let status = match args.status.as_str() {
        "all" | "any" => None,
        s => Some(s.parse::<Status>()?),
    };
    let band = args
        .priority
        .as_deref()
        .map(str::parse::<Band>)
        .transpose()?;
    let store = ctx.store().await?;
    let rows = store
        .inbox(&InboxFilter {
            team: args.team.clone(),
            status,
            band,
            assignee: args.assignee.clone(),
            label: args.label.clone(),
            limit: args.limit,
            by_score: false,
            after: None,
            ..InboxFilter::default()
        })
        .await?;
    if args.json {
        json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let now = ctx.now()?;
    print_rows(&rows, now);
    if rows.is_empty() {
        println!("nothing here: try --status all, or another --team");
    }
    Ok(ExitCode::SUCCESS)
}

/// The inbox table.
pub fn print_rows(rows: &[ConversationRow], now: chrono::DateTime<chrono::Utc>) {
    if rows.is_empty() {
        return;
    }
    println!(
        "{:>6}  {:<3} {:<10} {:<9} {:<8} {:<8} {:<13} {:<20} TEXT",
        "ID", "PRI", "INTENT", "STATUS", "TEAM", "ASSIGNEE", "DUE", "AUTHOR"
    );
    for r in rows {
        let due = match r.due_at {
            Some(d) if d < now => format!(
                "LATE {}",
                crate::output::duration((now - d).num_seconds() as f64)
            ),
            Some(d) => relative(d, now),
            None => "-".into(),
        };
        println!(
            "{:>6}  {:<3} {} {} {} {} {} {} {}",
            r.id,
            r.priority.as_str(),
            cell(&r.intent, 10),
            cell(&r.status, 9),
            cell(r.team.as_deref().unwrap_or("-"), 8),
            cell(r.assignee.as_deref().unwrap_or("-"), 8),
            cell(&due, 13),
            cell(&r.author, 20),
            snippet(&r.snippet, 60)
        );
    }
}

pub async fn show(ctx: &Ctx, id: i64, as_json: bool) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let d = store.conversation(id).await?;
    if as_json {
        json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    let now = ctx.now()?;
    let c = &d.conversation;
    println!(
        "conversation {} · {} · {} · {} · team {} · assignee {}",
        c.id,
        c.priority,
        c.intent,
        c.status,
        c.team.as_deref().unwrap_or("-"),
        c.assignee.as_deref().unwrap_or("-")
    );
    println!(
        "opened {} by {} on {}{}",
        c.opened_at.format("%Y-%m-%d %H:%M UTC"),
        c.author,
        c.platform,
        match c.due_at {
            Some(due) => format!(" · due {}", relative(due, now)),
            None => String::new(),
        }
    );
    if !d.labels.is_empty() {
        println!("labels: {}", d.labels.join(", "));
    }
    println!("\nthread:");
    for m in &d.messages {
        let arrow = if m.direction == "inbound" {
            "←"
        } else {
            "→"
        };
        let sent = match d.outbox.iter().find(|o| o.message_id == m.id) {
            Some(o) if o.state == "sent" => format!(" (sent through {})", o.channel),
            Some(o) if o.state == "failed" => format!(
                " (refused by {}: {})",
                o.channel,
                o.last_error.as_deref().unwrap_or("no reason given")
            ),
            Some(o) => format!(
                " (not sent yet through {}{})",
                o.channel,
                o.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        println!(
            "  {} {} {}{}{} [{:+.2}]",
            m.created_at.format("%Y-%m-%d %H:%M"),
            arrow,
            m.author,
            if m.automated { " (automated)" } else { "" },
            sent,
            m.compound
        );
        for line in m.text.lines() {
            println!("      {line}");
        }
    }
    if !d.notes.is_empty() {
        println!("\nnotes:");
        for n in &d.notes {
            println!(
                "  {} {}: {}",
                n.at.format("%Y-%m-%d %H:%M"),
                n.author,
                n.text
            );
        }
    }
    println!("\nevents:");
    for e in &d.events {
        println!(
            "  #{} {} {} by {} {}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M"),
            e.kind,
            e.actor,
            if e.data.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                e.data.to_string()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn quarantine(ctx: &Ctx, limit: u32, as_json: bool) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let rows = store.quarantine(limit).await?;
    if as_json {
        json(&json!({ "rows": rows }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("quarantine is empty");
    }
    for r in &rows {
        println!("{}:{}: {}", r.source, r.line, r.reason);
        println!("    {}", snippet(&r.raw, 100));
    }
    Ok(ExitCode::SUCCESS)
}
