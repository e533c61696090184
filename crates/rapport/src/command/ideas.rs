//! `rapport ideas`: the ideas loop. Grouping and the replies a status change drafts are
//! `rapport_server::ideas`' (shared with the API and the web page); this module prints.
//!
//! `list` and `show` group the new idea messages first, so they answer with every idea
//! stored; a running `rapport worker` groups them too (its `ideas` duty). With the
//! embedding model installed (`rapport semantic install`) they are grouped by meaning,
//! otherwise by words (docs/ideas.md).

use std::process::ExitCode;
use std::str::FromStr as _;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use rapport_core::access::Role;
use rapport_core::config::Config;
use rapport_core::ideas::IdeaStatus;
use rapport_semantic::DeviceChoice;
use rapport_server::ideas::{self, IdeaActionError};
use rapport_store::{Grouped, GroupedBy, Store};
use serde_json::json;

use super::Ctx;
use crate::cli::IdeasCommand;
use crate::output;

/// The acting user's role: changing an idea's status needs one.
async fn role_of(ctx: &Ctx, store: &Store) -> Result<Role> {
    match store.user(&ctx.actor).await? {
        Some(u) => Ok(u.role),
        None => bail!(
            "{:?} is not a rapport user: changing an idea's status drafts replies in their name; pass --as NAME (`rapport user list`)",
            ctx.actor
        ),
    }
}

/// Groups the new idea messages: by meaning when the embedding model is installed (it is
/// loaded only when there is something to group), by words otherwise.
async fn group(ctx: &Ctx, store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Grouped> {
    if store.ungrouped_ideas().await? == 0 {
        let installed =
            rapport_semantic::find_model_dir(&super::semantic::configured_model_dir(ctx, config))
                .is_some();
        return Ok(Grouped {
            by: if installed {
                GroupedBy::Meaning
            } else {
                GroupedBy::Words
            },
            ..Grouped::default()
        });
    }
    let embedder = super::semantic::load(ctx, config, DeviceChoice::Cpu)?;
    Ok(ideas::group(store, config, embedder.as_ref(), now).await?)
}

/// `rapport ideas …`.
pub async fn run(ctx: &Ctx, command: Option<&IdeasCommand>, as_json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let now = ctx.now()?;
    let list = IdeasCommand::List { status: None };
    match command.unwrap_or(&list) {
        IdeasCommand::Group => {
            let g = group(ctx, &store, &config, now).await?;
            if as_json {
                output::json(&g)?;
            } else {
                println!(
                    "{} idea message(s) grouped by {}: {} joined an item, {} new item(s)",
                    g.messages,
                    g.by.as_str(),
                    g.joined,
                    g.new_items.len()
                );
            }
        }
        IdeasCommand::List { status } => {
            if let Some(s) = status {
                IdeaStatus::from_str(s)?;
            }
            group(ctx, &store, &config, now).await?;
            let items = store.idea_items(status.as_deref()).await?;
            if as_json {
                output::json(&items)?;
            } else if items.is_empty() {
                println!(
                    "no ideas{}",
                    status
                        .as_deref()
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default()
                );
            } else {
                println!(
                    "{:<6} {:<9} {:>6} {:>8} {:<12} title",
                    "id", "status", "people", "messages", "latest"
                );
                for i in &items {
                    println!(
                        "{:<6} {:<9} {:>6} {:>8} {:<12} {}",
                        i.id,
                        i.status,
                        i.people,
                        i.messages,
                        i.latest
                            .map(|t| output::relative(t, now))
                            .unwrap_or_else(|| "-".into()),
                        output::snippet(&i.title, 70)
                    );
                }
            }
        }
        IdeasCommand::Show { id } => {
            group(ctx, &store, &config, now).await?;
            let d = store.idea_item(*id).await?;
            if as_json {
                output::json(&d)?;
            } else {
                println!("idea {} — {}: {}", d.item.id, d.item.status, d.item.title);
                if let Some(into) = d.merged_into {
                    println!("merged into idea {into}");
                }
                println!(
                    "{} message(s) from {} people\n",
                    d.item.messages, d.item.people
                );
                for m in &d.message_list {
                    println!(
                        "  message {} · conversation {} · {} {} · {}{}",
                        m.message_id,
                        m.conversation_id
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "-".into()),
                        m.platform,
                        m.author,
                        output::relative(m.created_at, now),
                        m.similarity
                            .map(|s| format!(" · similarity {s:.2}"))
                            .unwrap_or_default()
                    );
                    println!("    {}", output::snippet(&m.text, 100));
                }
                if !d.replies.is_empty() {
                    println!("\nreplies drafted:");
                    for r in &d.replies {
                        println!(
                            "  {} → person {}: {}",
                            r.status,
                            r.person_id,
                            match (r.draft_id, &r.draft_status) {
                                (Some(id), Some(s)) => format!("draft {id} ({s})"),
                                _ => "drafted for a merged idea".into(),
                            }
                        );
                    }
                }
            }
        }
        IdeasCommand::Status { id, status, note } => {
            let to = IdeaStatus::from_str(status)?;
            let role = role_of(ctx, &store).await?;
            group(ctx, &store, &config, now).await?;
            let done = match ideas::set_status(
                &store,
                &config,
                *id,
                to,
                None,
                &ctx.actor,
                role,
                note.as_deref(),
                now,
            )
            .await
            {
                Ok(d) => d,
                Err(IdeaActionError::Store(e)) => return Err(e.into()),
                Err(e) => bail!(e),
            };
            if as_json {
                output::json(&done)?;
            } else {
                if done.moved {
                    println!("idea {id}: {} → {}", done.from, done.to);
                } else {
                    println!("idea {id} was already {}", done.to);
                }
                for r in &done.drafted {
                    match &r.held {
                        None => println!(
                            "  reply to {} (conversation {}): draft {}, waiting for approval",
                            r.handle, r.conversation_id, r.draft_id
                        ),
                        Some(why) => println!(
                            "  reply to {} (conversation {}): draft {}, not submitted: {why}",
                            r.handle, r.conversation_id, r.draft_id
                        ),
                    }
                }
                if !done.already.is_empty() {
                    println!(
                        "  {} person(s) already had their reply for {}: nothing drafted again",
                        done.already.len(),
                        done.to
                    );
                }
                if !done.unreachable.is_empty() {
                    println!(
                        "  {} person(s) have no conversation to answer",
                        done.unreachable.len()
                    );
                }
                if done.drafted.iter().any(|r| r.held.is_none()) {
                    println!("next: rapport draft list --status pending_approval");
                }
            }
        }
        IdeasCommand::Merge { a, b } => {
            let moved = store.merge_ideas(*a, *b, &ctx.actor, now).await?;
            if as_json {
                output::json(&json!({"merged": a, "into": b, "messages": moved}))?;
            } else {
                println!("idea {a} merged into idea {b} ({moved} message(s) moved)");
            }
        }
        IdeasCommand::Move {
            message_id,
            item_id,
        } => {
            let from = store
                .move_idea_message(*message_id, *item_id, &ctx.actor, now)
                .await?;
            if as_json {
                output::json(&json!({"message": message_id, "idea": item_id, "from": from}))?;
            } else {
                match from {
                    Some(f) if f == *item_id => {
                        println!("message {message_id} is already in idea {item_id}")
                    }
                    Some(f) => {
                        println!("message {message_id} moved from idea {f} to idea {item_id}")
                    }
                    None => println!("message {message_id} put into idea {item_id}"),
                }
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
