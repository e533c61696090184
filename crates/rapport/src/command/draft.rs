//! `rapport draft`: writing, checking, approving and scheduling what the organisation
//! publishes. The decisions (moves, approvers, principles, limits, guards) are the
//! core's; this module gathers what they need from the store and the configuration.

use std::process::ExitCode;
use std::str::FromStr as _;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rapport_connectors::outbound::{Answering, plan_post, plan_reply};
use rapport_core::access::Role;
use rapport_core::config::Config;
use rapport_core::draft::{DraftAction, DraftKind, DraftStatus, Platform, transition};
use rapport_core::guards::check_broadcast;
use rapport_server::drafts::{self, Checks};
use rapport_server::replies::Outcome;
use rapport_store::{Draft, NewDraft, StatusChange, Store};
use serde_json::json;

use super::Ctx;
use crate::cli::DraftCommand;
use crate::output;

/// Channels rapport cannot publish on, lengths over a limit: what stops a submission.
fn blockers(c: &Checks) -> Vec<String> {
    c.channels
        .iter()
        .cloned()
        .chain(
            c.lengths
                .iter()
                .filter(|l| !l.check.ok)
                .map(|l| format!("{}: {}", l.channel, l.message)),
        )
        .collect()
}

/// The principle checks that failed, one line each.
fn failed(c: &Checks) -> Vec<String> {
    c.principles
        .iter()
        .filter(|p| !p.finding.passed)
        .map(|p| {
            format!(
                "{}: {} ({}): {}",
                p.channel,
                p.finding.principle,
                p.finding.check.as_str(),
                p.finding.detail
            )
        })
        .collect()
}

fn print_checks(c: &Checks) {
    for e in &c.channels {
        println!("  FAIL {e}");
    }
    for l in &c.lengths {
        println!(
            "  {} {}: {} of {} {}",
            if l.check.ok { "ok  " } else { "FAIL" },
            l.channel,
            l.check.counted,
            l.check.limit,
            match l.check.platform {
                Platform::Bluesky => "graphemes",
                Platform::Mastodon => "characters",
            }
        );
        if !l.check.ok {
            println!("       {}", l.message);
        }
    }
    for p in &c.principles {
        println!(
            "  {} {}: {} / {}: {}",
            if p.finding.passed { "ok  " } else { "FAIL" },
            p.channel,
            p.finding.principle,
            p.finding.check.as_str(),
            p.finding.detail
        );
    }
}

/// The platform of a configured channel that can publish.
fn platform_of(config: &Config, channel: &str) -> Result<(Platform, Option<String>)> {
    drafts::platform_of(config, channel).map_err(|e| anyhow!(e))
}

async fn checks(ctx: &Ctx, config: &Config, store: &Store, d: &Draft) -> Result<Checks> {
    Ok(drafts::checks(store, config, d, ctx.now()?).await?)
}

fn channel_texts(pairs: &[String], channels: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|p| {
            let (c, t) = p
                .split_once('=')
                .ok_or_else(|| anyhow!("--text-for {p:?}: write CHANNEL=TEXT"))?;
            if !channels.is_empty() && !channels.iter().any(|x| x == c) {
                bail!("--text-for {c}: the draft does not go to channel {c:?}; add --channel {c}");
            }
            Ok((c.to_string(), t.to_string()))
        })
        .collect()
}

/// The acting user's role: approvals need one.
async fn role_of(ctx: &Ctx, store: &Store) -> Result<Role> {
    match store.user(&ctx.actor).await? {
        Some(u) => Ok(u.role),
        None => bail!(
            "{:?} is not a rapport user: approving, rejecting and overriding need one; pass --as NAME (`rapport user list`)",
            ctx.actor
        ),
    }
}

fn status_of(d: &Draft) -> Result<DraftStatus> {
    DraftStatus::from_str(&d.status).map_err(|e| anyhow!("draft {}: {e}", d.id))
}

fn kind_of(d: &Draft) -> Result<DraftKind> {
    DraftKind::from_str(&d.kind).map_err(|e| anyhow!("draft {}: {e}", d.id))
}

async fn move_draft(
    store: &Store,
    d: &Draft,
    action: DraftAction,
    actor: &str,
    note: Option<&str>,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<DraftStatus> {
    let from = status_of(d)?;
    let to = transition(from, action).with_context(|| format!("draft {}", d.id))?;
    let event = format!(
        "draft_{}",
        match action {
            DraftAction::Submit => "submitted",
            DraftAction::Approve => "approved",
            DraftAction::Reject => "rejected",
            DraftAction::Schedule => "scheduled",
            DraftAction::PublishOk => "published",
            DraftAction::PublishFailed => "failed",
            DraftAction::Edit => "edited",
        }
    );
    store
        .change_draft_status(
            d.id,
            &StatusChange {
                from: from.as_str(),
                to: to.as_str(),
                event: &event,
                actor,
                note,
                scheduled_at: None,
                data,
            },
            &[],
            now,
        )
        .await?;
    Ok(to)
}

/// When: `now`, RFC 3339, or a day (its start, UTC).
fn parse_at(s: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    match s.map(str::trim) {
        None | Some("now") => Ok(now),
        Some(s) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(t.with_timezone(&Utc));
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                && let Some(t) = d.and_hms_opt(0, 0, 0)
            {
                return Ok(t.and_utc());
            }
            bail!(
                "--at {s:?}: write `now`, a time such as 2026-11-24T09:00:00Z, or a day such as 2026-11-24"
            )
        }
    }
}

/// `rapport draft …`.
pub async fn run(ctx: &Ctx, command: &DraftCommand) -> Result<ExitCode> {
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let now = ctx.now()?;
    let code = match command {
        DraftCommand::New {
            text,
            kind,
            channels,
            text_for,
            sponsored,
            conversation,
            json: as_json,
        } => {
            let kind = DraftKind::from_str(kind)?;
            match (kind, conversation) {
                (DraftKind::Reply, None) => {
                    bail!("a reply answers a conversation: pass --conversation ID")
                }
                (DraftKind::Broadcast | DraftKind::KeyMessage, Some(_)) => {
                    bail!("--conversation is for replies: pass --kind reply, or leave it out")
                }
                _ => {}
            }
            if let Some(c) = conversation {
                store.conversation(*c).await?;
            }
            for c in channels {
                platform_of(&config, c)?;
            }
            let own = channel_texts(text_for, channels)?;
            let targets = channels
                .iter()
                .map(|c| {
                    let t = own.iter().find(|(x, _)| x == c).map(|(_, t)| t.clone());
                    (c.clone(), t)
                })
                .collect();
            let id = store
                .create_draft(
                    &NewDraft {
                        author: ctx.actor.clone(),
                        kind: kind.as_str().to_string(),
                        text: text.clone(),
                        sponsored: *sponsored,
                        conversation_id: *conversation,
                        targets,
                    },
                    now,
                )
                .await?;
            let d = store.draft(id).await?;
            let c = checks(ctx, &config, &store, &d).await?;
            if *as_json {
                output::json(&json!({"draft": d, "checks": c}))?;
            } else {
                println!("draft {id} written ({}, by {})", kind.as_str(), ctx.actor);
                print_checks(&c);
                println!("next: rapport draft submit {id}");
            }
            ExitCode::SUCCESS
        }
        DraftCommand::Edit { id, text, text_for } => {
            let d = store.draft(*id).await?;
            let from = status_of(&d)?;
            let to = transition(from, DraftAction::Edit).with_context(|| format!("draft {id}"))?;
            let channels: Vec<String> = d.targets.iter().map(|t| t.channel.clone()).collect();
            let own = channel_texts(text_for, &channels)?;
            if text.is_none() && own.is_empty() {
                bail!("nothing to change: pass --text TEXT or --text-for CHANNEL=TEXT");
            }
            store
                .edit_draft(
                    *id,
                    from.as_str(),
                    to.as_str(),
                    text.as_deref(),
                    &own,
                    &ctx.actor,
                    now,
                )
                .await?;
            let d = store.draft(*id).await?;
            println!("draft {id} changed; it is {} now", d.status);
            print_checks(&checks(ctx, &config, &store, &d).await?);
            ExitCode::SUCCESS
        }
        DraftCommand::Submit {
            id,
            override_reason,
        } => {
            let d = store.draft(*id).await?;
            let c = checks(ctx, &config, &store, &d).await?;
            let long = blockers(&c);
            if !long.is_empty() {
                bail!(
                    "draft {id} cannot go out as it is (too long for a platform, or a channel rapport cannot publish on):\n  {}\nshorten it with `rapport draft edit {id} --text …` (or --text-for CHANNEL=…), or fix the channel in rapport.toml",
                    long.join("\n  ")
                );
            }
            let failed = failed(&c);
            let mut data = json!({"checks": c.principles});
            if !failed.is_empty() {
                match override_reason {
                    None => bail!(
                        "draft {id} fails these principle checks:\n  {}\nfix the text with `rapport draft edit {id}`, or, as an admin, submit it with --override \"REASON\"",
                        failed.join("\n  ")
                    ),
                    Some(reason) => {
                        if role_of(ctx, &store).await? != Role::Admin {
                            bail!(
                                "only an admin may override principle checks; ask one to run `rapport --as ADMIN draft submit {id} --override \"REASON\"`"
                            );
                        }
                        if reason.trim().is_empty() {
                            bail!("--override needs a reason, recorded with the draft");
                        }
                        data["override"] =
                            json!({"by": ctx.actor, "reason": reason, "failed": failed});
                    }
                }
            }
            let to = move_draft(
                &store,
                &d,
                DraftAction::Submit,
                &ctx.actor,
                override_reason.as_deref(),
                data,
                now,
            )
            .await?;
            let approver = config.publishing.approver(kind_of(&d)?);
            println!(
                "draft {id} is {} now: a {} (or above) approves it with `rapport --as NAME draft approve {id}`",
                to.as_str(),
                approver.as_str()
            );
            ExitCode::SUCCESS
        }
        DraftCommand::Approve { id } | DraftCommand::Reject { id, .. } => {
            let role = role_of(ctx, &store).await?;
            let reason = match command {
                DraftCommand::Reject { reason, .. } => Some(reason.as_str()),
                _ => None,
            };
            // The same decision as the API's and the web page's.
            let d =
                rapport_server::drafts::decide(&store, &config, *id, &ctx.actor, role, reason, now)
                    .await?;
            match status_of(&d)? {
                DraftStatus::Approved => println!(
                    "draft {id} approved by {}; next: rapport draft schedule {id} --at TIME",
                    ctx.actor
                ),
                to => println!("draft {id} {} by {}", to.as_str(), ctx.actor),
            }
            ExitCode::SUCCESS
        }
        DraftCommand::Schedule { id, at } => {
            let d = store.draft(*id).await?;
            let from = status_of(&d)?;
            let to =
                transition(from, DraftAction::Schedule).with_context(|| format!("draft {id}"))?;
            let at = parse_at(at.as_deref(), now)?;
            let kind = kind_of(&d)?;
            let mut data = json!({});
            if kind == DraftKind::KeyMessage {
                let guard = config.cadence.validate()?;
                let existing = store.key_message_times(&d.author, Some(*id)).await?;
                let decision = guard.check(&existing, at);
                if !decision.allowed {
                    bail!("draft {id}: {}", decision.explanation);
                }
                data["cadence"] = json!(decision);
            }
            if kind == DraftKind::Broadcast && config.engagement.target > 0.0 {
                let window = Duration::days(config.engagement.window_days.into());
                let facts = store
                    .report_facts(Some(at - window), Some(at), None)
                    .await?;
                for t in &d.targets {
                    let (_, account) = platform_of(&config, &t.channel)?;
                    let Some(account) = account else { continue };
                    let check = check_broadcast(&config.engagement, &account, &facts.outbound, at);
                    if let Some(w) = &check.warning {
                        eprintln!("warning: {w}");
                        let waiting = store.waiting_conversations(5).await?;
                        if !waiting.is_empty() {
                            eprintln!("conversations waiting for a reply instead:");
                            for (c, author, due) in waiting {
                                eprintln!(
                                    "  #{c:<6} {author}{}",
                                    due.map(|d| format!("  due {}", output::relative(d, now)))
                                        .unwrap_or_default()
                                );
                            }
                        }
                        data["engagement"] = json!(check);
                    }
                }
            }
            // Each channel's post, decided once: the same on every attempt to send it.
            let mut requests = Vec::new();
            let target = match d.conversation_id {
                Some(c) => Some(store.reply_target(c).await?.ok_or_else(|| {
                    anyhow!("conversation {c} has no message from someone else to answer")
                })?),
                None => None,
            };
            for t in &d.targets {
                let kind = config
                    .channels
                    .iter()
                    .find(|c| c.name == t.channel)
                    .map(|c| c.kind)
                    .ok_or_else(|| {
                        anyhow!("channel {:?} is no longer in rapport.toml", t.channel)
                    })?;
                let text = d.text_for(&t.channel);
                let seed = u64::try_from(*id).unwrap_or(0);
                let plan = match &target {
                    None => plan_post(kind, text, at, seed),
                    Some(r) => plan_reply(
                        kind,
                        text,
                        Answering {
                            platform_id: &r.platform_id,
                            author: &r.author,
                            reply_ref: r.reply_ref.as_deref(),
                        },
                        at,
                        seed,
                    ),
                }
                .with_context(|| format!("draft {id} cannot go to {}", t.channel))?;
                requests.push((t.channel.clone(), serde_json::to_string(&plan)?));
            }
            store
                .change_draft_status(
                    *id,
                    &StatusChange {
                        from: from.as_str(),
                        to: to.as_str(),
                        event: "draft_scheduled",
                        actor: &ctx.actor,
                        note: None,
                        scheduled_at: Some(at),
                        data,
                    },
                    &requests,
                    now,
                )
                .await?;
            println!(
                "draft {id} scheduled for {}: a running `rapport worker` or `rapport listen` sends it then (or `rapport publish {id}` now)",
                at.to_rfc3339()
            );
            ExitCode::SUCCESS
        }
        DraftCommand::List {
            status,
            limit,
            json: as_json,
        } => {
            if let Some(s) = status {
                DraftStatus::from_str(s)?;
            }
            let drafts = store.drafts(status.as_deref(), *limit).await?;
            if *as_json {
                output::json(&drafts)?;
            } else if drafts.is_empty() {
                println!(
                    "no drafts{}",
                    status
                        .as_deref()
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default()
                );
            } else {
                println!(
                    "{:<6} {:<17} {:<12} {:<12} {:<20} text",
                    "id", "status", "kind", "author", "scheduled"
                );
                for d in &drafts {
                    println!(
                        "{:<6} {:<17} {:<12} {:<12} {:<20} {}",
                        d.id,
                        d.status,
                        d.kind,
                        output::cell(&d.author, 12),
                        d.scheduled_at
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_else(|| "-".into()),
                        output::snippet(&d.text, 60)
                    );
                }
            }
            ExitCode::SUCCESS
        }
        DraftCommand::Show { id, json: as_json } => {
            let d = store.draft(*id).await?;
            let c = checks(ctx, &config, &store, &d).await?;
            if *as_json {
                output::json(&json!({"draft": d, "checks": c}))?;
            } else {
                println!("draft {} — {} {} by {}", d.id, d.status, d.kind, d.author);
                if let Some(t) = d.scheduled_at {
                    println!("scheduled for {}", t.to_rfc3339());
                }
                if let Some(by) = &d.decided_by {
                    println!(
                        "decided by {by}{}",
                        d.decision_note
                            .as_deref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    );
                }
                println!("\n{}\n", d.text);
                for t in &d.targets {
                    println!(
                        "→ {} [{}]{}",
                        t.channel,
                        t.state,
                        t.remote_id
                            .as_deref()
                            .map(|r| format!(" {r}"))
                            .unwrap_or_default()
                    );
                    if let Some(own) = &t.text {
                        println!("  {own}");
                    }
                }
                println!("\nchecks:");
                print_checks(&c);
            }
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

/// `rapport publish [ID]`.
pub async fn publish(ctx: &Ctx, only: Option<i64>, as_json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let store = ctx.store().await?;
    if let Some(id) = only {
        let d = store.draft(id).await?;
        if d.status != DraftStatus::Scheduled.as_str() {
            bail!(
                "draft {id} is {}: only a scheduled draft is published (`rapport draft schedule {id}` first)",
                d.status
            );
        }
    }
    let done = rapport_server::publishing::publish_due(&store, &config, ctx.now()?, only).await?;
    store.close().await;
    let failures = done
        .iter()
        .filter(|p| !matches!(p.outcome, Outcome::Sent { .. }))
        .count();
    if as_json {
        output::json(&done)?;
    } else if done.is_empty() {
        println!("nothing is due");
    } else {
        for p in &done {
            let line = match &p.outcome {
                Outcome::Sent { remote_id, url } => {
                    format!("sent: {}", url.as_deref().unwrap_or(remote_id))
                }
                Outcome::Pending { error } => format!("not yet, retried later: {error}"),
                Outcome::Failed { error } => format!("refused: {error}"),
            };
            println!(
                "draft {} → {}: {line}{}",
                p.draft_id,
                p.channel,
                if p.published { " (published)" } else { "" }
            );
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
