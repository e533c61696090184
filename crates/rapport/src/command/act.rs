//! Reply, assign, status, note, label.

use std::process::ExitCode;

use anyhow::{Result, bail};
use rapport_core::Band;
use rapport_core::Status;
use rapport_core::sla::due_at;

use super::Ctx;

pub async fn reply(ctx: &Ctx, id: i64, text: &str) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let out = store.reply(id, text, &ctx.actor, ctx.now()?).await?;
    println!(
        "replied to conversation {id} as {} (message {}{})",
        ctx.actor,
        out.message_id,
        if out.first_response {
            ", first response"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn assign(ctx: &Ctx, id: i64, to: Option<&str>, team: Option<&str>) -> Result<ExitCode> {
    let config = ctx.config()?;
    if let Some(t) = team {
        if config.team(t).is_none() {
            let known: Vec<&str> = config.teams.iter().map(|t| t.name.as_str()).collect();
            bail!(
                "no team {t:?} in {}: teams are {}",
                ctx.config_path.display(),
                known.join(", ")
            );
        }
    }
    let store = ctx.store().await?;
    store.assign(id, to, team, &ctx.actor, ctx.now()?).await?;
    match (to, team) {
        (Some(u), _) => println!("conversation {id} assigned to {u}"),
        (None, Some(t)) => println!("conversation {id} moved to team {t} (unassigned)"),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn status(ctx: &Ctx, id: i64, status: &str) -> Result<ExitCode> {
    let status: Status = status.parse()?;
    let store = ctx.store().await?;
    let now = ctx.now()?;
    // A reopened conversation starts a new clock now, on its team's policy and hours.
    let config = ctx.config()?;
    let detail = store.conversation(id).await?;
    let team = detail.conversation.team.as_deref();
    let band: Band = detail.conversation.priority;
    let due = due_at(
        now,
        config.sla_for(team).minutes_for(band),
        config.calendar_for(team).as_ref(),
    );
    let changed = store
        .set_status(id, status, &ctx.actor, now, Some(due))
        .await?;
    if changed {
        println!("conversation {id} is now {status}");
    } else {
        println!("conversation {id} was already {status}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn note(ctx: &Ctx, id: i64, text: &str) -> Result<ExitCode> {
    let store = ctx.store().await?;
    store.note(id, text, &ctx.actor, ctx.now()?).await?;
    println!("note added to conversation {id}");
    Ok(ExitCode::SUCCESS)
}

pub async fn label(ctx: &Ctx, id: i64, label: &str) -> Result<ExitCode> {
    let store = ctx.store().await?;
    if store.label(id, label, &ctx.actor, ctx.now()?).await? {
        println!("conversation {id} labelled {label:?}");
    } else {
        println!("conversation {id} already had label {label:?}");
    }
    Ok(ExitCode::SUCCESS)
}
