//! Reply, assign, status, note, label.

use std::process::ExitCode;

use anyhow::{Result, bail};
use rapport_core::Band;
use rapport_core::Status;
use rapport_core::sla::due_at;

use rapport_connectors::outbound::{Answering, plan_reply};
use rapport_core::channel::ChannelKind;
use rapport_store::SendVia;

use super::Ctx;
use crate::send::{Outcome, send_one};

pub async fn reply(
    ctx: &Ctx,
    id: i64,
    text: &str,
    channel: Option<&str>,
    local: bool,
    json: bool,
) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let now = ctx.now()?;
    let config = ctx.config()?;
    let platform = store.conversation(id).await?.conversation.platform;
    let via = if local {
        None
    } else {
        match channel {
            Some(name) => {
                let Some(c) = config.channels.iter().find(|c| c.name == name) else {
                    bail!(
                        "no [[channel]] named {name:?} in {}",
                        ctx.config_path.display()
                    );
                };
                if c.kind.as_str() != platform {
                    bail!(
                        "channel {name:?} is a {} channel and conversation {id} is on {platform}: \
                         answer it through a {platform} channel",
                        c.kind.as_str()
                    );
                }
                Some(c)
            }
            None => config.channels.iter().find(|c| {
                c.kind.as_str() == platform
                    && matches!(c.kind, ChannelKind::Bluesky | ChannelKind::Mastodon)
            }),
        }
    };
    let Some(channel) = via else {
        let out = store.reply(id, text, &ctx.actor, now).await?;
        if json {
            println!(
                "{}",
                serde_json::json!({"conversation": id, "message": out.message_id,
                    "first_response": out.first_response, "sent": null})
            );
        } else {
            println!(
                "replied to conversation {id} as {} (message {}{}; recorded here only{})",
                ctx.actor,
                out.message_id,
                if out.first_response {
                    ", first response"
                } else {
                    ""
                },
                if local {
                    ""
                } else {
                    ": no channel sends to this platform"
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(target) = store.reply_target(id).await? else {
        bail!("conversation {id} has no inbound message to answer");
    };
    // Decided once, before anything is stored: a reply the platform would refuse (too
    // long, nothing to answer) is refused here, and every retry sends the same post.
    let seed = u64::from(now.timestamp_subsec_nanos()) ^ id.unsigned_abs();
    let plan = plan_reply(
        channel.kind,
        text,
        Answering {
            platform_id: &target.platform_id,
            author: &target.author,
            reply_ref: target.reply_ref.as_deref(),
        },
        now,
        seed,
    )?;
    let out = store
        .reply_via(
            id,
            text,
            &ctx.actor,
            now,
            Some(SendVia {
                channel: channel.name.clone(),
                request: serde_json::to_string(&plan)?,
            }),
        )
        .await?;
    let Some(outbox_id) = out.outbox_id else {
        bail!("the reply was stored without its outbox entry; report this as a bug");
    };
    let row = store.outbox_row(outbox_id).await?;
    let outcome = send_one(&store, &config, &row).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({"conversation": id, "message": out.message_id,
                "first_response": out.first_response, "channel": channel.name, "sent": outcome})
        );
    } else {
        match &outcome {
            Outcome::Sent { remote_id, url } => println!(
                "replied to conversation {id} as {} through {} ({}){}",
                ctx.actor,
                channel.name,
                url.as_deref().unwrap_or(remote_id),
                if out.first_response {
                    ", first response"
                } else {
                    ""
                },
            ),
            Outcome::Pending { error } => eprintln!(
                "rapport: reply recorded (message {}) but not sent yet: {error}\n\
                 it stays queued: `rapport outbox --send` or a running `rapport listen` sends it \
                 (do not reply again: it would post twice)",
                out.message_id
            ),
            Outcome::Failed { error } => eprintln!(
                "rapport: reply recorded (message {}) but {} refused it: {error}",
                out.message_id, channel.name
            ),
        }
    }
    Ok(match outcome {
        Outcome::Sent { .. } => ExitCode::SUCCESS,
        Outcome::Pending { .. } | Outcome::Failed { .. } => ExitCode::FAILURE,
    })
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
