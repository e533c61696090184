//! Reply, assign, status, note, label.

use std::process::ExitCode;

use anyhow::{Result, bail};
use rapport_core::Status;

use rapport_server::replies::{self, Outcome, send_one};

use super::Ctx;

pub async fn reply(
    ctx: &Ctx,
    id: i64,
    text: &str,
    channel: Option<&str>,
    local: bool,
    json: bool,
) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let config = ctx.config()?;
    let replied = replies::reply(
        &store,
        &config,
        replies::Answer {
            id,
            text,
            actor: &ctx.actor,
            now: ctx.now()?,
            channel,
            local,
        },
    )
    .await?;
    let out = &replied.recorded;
    if json {
        println!("{}", serde_json::to_string(&replied)?);
    }
    let first = if out.first_response {
        ", first response"
    } else {
        ""
    };
    match (&replied.sent, &replied.channel) {
        (None, _) => {
            if !json {
                println!(
                    "replied to conversation {id} as {} (message {}{first}; recorded here only{})",
                    ctx.actor,
                    out.message_id,
                    if local {
                        ""
                    } else {
                        ": no channel sends to this platform"
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        (Some(Outcome::Sent { remote_id, url }), channel) => {
            if !json {
                println!(
                    "replied to conversation {id} as {} through {} ({}){first}",
                    ctx.actor,
                    channel.as_deref().unwrap_or("its channel"),
                    url.as_deref().unwrap_or(remote_id),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        (Some(Outcome::Pending { error }), _) => {
            eprintln!(
                "rapport: reply recorded (message {}) but not sent yet: {error}\n\
                 it stays queued: `rapport outbox --send` or a running `rapport listen` sends it \
                 (do not reply again: it would post twice)",
                out.message_id
            );
            Ok(ExitCode::FAILURE)
        }
        (Some(Outcome::Failed { error }), channel) => {
            eprintln!(
                "rapport: reply recorded (message {}) but {} refused it: {error}",
                out.message_id,
                channel.as_deref().unwrap_or("the platform")
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

pub async fn outbox(ctx: &Ctx, send: bool, json: bool) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let pending = store.pending_outbox(None).await?;
    let mut results = Vec::new();
    if send {
        let config = ctx.config()?;
        for row in &pending {
            results.push((row.id, send_one(&store, &config, row).await?));
        }
    }
    let failures = results
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Sent { .. }))
        .count();
    if json {
        let rows: Vec<_> = pending
            .iter()
            .map(|r| {
                let sent = results.iter().find(|(id, _)| *id == r.id).map(|(_, o)| o);
                serde_json::json!({"id": r.id, "conversation": r.conversation_id, "message": r.message_id,
                    "channel": r.channel, "attempts": r.attempts, "last_error": r.last_error, "result": sent})
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else if pending.is_empty() {
        println!("nothing waits to be sent");
    } else {
        for r in &pending {
            let result = results.iter().find(|(id, _)| *id == r.id).map(|(_, o)| o);
            let line = match result {
                Some(Outcome::Sent { remote_id, .. }) => format!("sent ({remote_id})"),
                Some(Outcome::Pending { error }) => format!("still pending: {error}"),
                Some(Outcome::Failed { error }) => format!("refused: {error}"),
                None => format!(
                    "pending, {} attempt(s){}",
                    r.attempts,
                    r.last_error
                        .as_deref()
                        .map(|e| format!(", last: {e}"))
                        .unwrap_or_default()
                ),
            };
            println!(
                "#{} conversation {} via {}: {line}",
                r.id, r.conversation_id, r.channel
            );
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn assign(ctx: &Ctx, id: i64, to: Option<&str>, team: Option<&str>) -> Result<ExitCode> {
    let config = ctx.config()?;
    if let Some(t) = team
        && config.team(t).is_none()
    {
        let known: Vec<&str> = config.teams.iter().map(|t| t.name.as_str()).collect();
        bail!(
            "no team {t:?} in {}: teams are {}",
            ctx.config_path.display(),
            known.join(", ")
        );
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
    let config = ctx.config()?;
    let changed =
        rapport_server::actions::set_status(&store, &config, id, status, &ctx.actor, ctx.now()?)
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
