//! `rapport explain ID`: why this intent, priority, team and due time. Every term of the
//! score is shown, and the product of the terms is the score shown. Triage runs again
//! with the current configuration and the learned models the store keeps, and says for
//! the sentiment and the intent whether the rules or a learned model decided.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use rapport_core::routing::{RouteInput, route};
use rapport_core::sla::due_at;
use rapport_core::triage::Reach;
use serde_json::json;

use super::Ctx;
use crate::output::json;

pub async fn run(ctx: &Ctx, id: i64, as_json: bool) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let config = ctx.config()?;
    let detail = store.conversation(id).await?;
    let c = &detail.conversation;
    let root = detail
        .messages
        .iter()
        .find(|m| m.direction == "inbound")
        .context("this conversation has no inbound message to explain")?;
    let triager = rapport_server::pipeline::triager(&config, &store).await?;
    let reach = Reach {
        followers: root.followers.unwrap_or(0).max(0) as u64,
        reshares: root.reshares.max(0) as u64,
        replies: root.replies.max(0) as u64,
    };
    let t = triager.triage(&root.text, reach);
    let words = triager.analyzer().explain(&root.text).words;
    let routed = route(
        &config.rules,
        &RouteInput {
            intent: t.intent.intent,
            band: t.priority.band,
            compound: t.scores.compound,
            followers: reach.followers,
            platform: &root.platform,
            text: &root.text,
        },
    );
    let team = c.team.as_deref();
    let policy = config.sla_for(team);
    let minutes = policy.minutes_for(routed.band);
    let calendar = config.calendar_for(team);
    let due = due_at(root.created_at, minutes, calendar.as_ref());
    let p = &t.priority;
    let product = p.intent_weight * p.negativity * p.reach * p.velocity;
    let sentiment_by = match &t.learned_sentiment {
        Some(l) => format!(
            "learned model (p={:.2}): {}, compound p(positive) − p(negative) = {:+.4} replaces VADER's {:+.4}",
            l.confidence, l.label, t.scores.compound, l.vader_compound
        ),
        None => format!(
            "rules (VADER compound {:+.4} → {})",
            t.scores.compound,
            t.scores.band().as_str()
        ),
    };
    let intent_by = match t.intent.rule.strip_prefix("model:intent (p=") {
        Some(p) => format!("learned model (p={}", p),
        None => format!("rules ({})", t.intent.rule),
    };
    let stored_differs =
        (root.priority_score - p.score).abs() > 1e-9 || root.intent != t.intent.intent.as_str();

    if as_json {
        json(&json!({
            "conversation": id,
            "message_id": root.id,
            "text": root.text,
            "sentiment": {
                "compound": t.scores.compound, "pos": t.scores.pos, "neu": t.scores.neu, "neg": t.scores.neg,
                "band": t.scores.band().as_str(),
                "words": words,
                "decided_by": if t.learned_sentiment.is_some() { "model" } else { "rules" },
                "learned": t.learned_sentiment,
                "summary": sentiment_by,
            },
            "intent": {"intent": t.intent.intent, "rule": t.intent.rule, "decided_by": if t.intent.rule.starts_with("model:") { "model" } else { "rules" }, "summary": intent_by},
            "priority": {
                "intent_weight": p.intent_weight,
                "negativity": p.negativity,
                "reach": p.reach,
                "velocity": p.velocity,
                "score": p.score,
                "band_from_score": p.band,
                "inputs": {"compound": t.scores.compound, "followers": reach.followers, "reshares": reach.reshares, "replies": reach.replies},
                "thresholds": config.priority.bands,
            },
            "routing": {"rule": routed.rule, "team": routed.team, "band": routed.band, "raised_by_rule": routed.raised, "labels": routed.labels, "notify": routed.notify},
            "sla": {"team": team, "band": routed.band, "minutes": minutes, "business_hours": calendar.is_some(), "from": root.created_at, "due_at": due},
            "stored": {"intent": root.intent, "intent_rule": root.intent_rule, "score": root.priority_score, "band": c.priority, "team": c.team, "route_rule": c.route_rule, "first_due_at": c.first_due_at, "differs_from_current_config": stored_differs},
        }))?;
        return Ok(ExitCode::SUCCESS);
    }

    println!(
        "conversation {id}, first message {} by {} on {}:",
        root.id, root.author, root.platform
    );
    println!("  \"{}\"", crate::output::snippet(&root.text, 200));
    println!(
        "\nsentiment  compound {:+.4} ({}), pos {:.3} neu {:.3} neg {:.3}",
        t.scores.compound,
        t.scores.band().as_str(),
        t.scores.pos,
        t.scores.neu,
        t.scores.neg
    );
    println!("  decided by: {sentiment_by}");
    if words.is_empty() {
        println!("  no word carries sentiment");
    }
    for w in &words {
        println!("  {:<20} {:+.3}", w.word, w.valence);
    }
    println!("\nintent     {} (rule: {})", t.intent.intent, t.intent.rule);
    println!("  decided by: {intent_by}");
    println!(
        "\npriority   score {:.3} = {:.3} × {:.3} × {:.3} × {:.3}",
        p.score, p.intent_weight, p.negativity, p.reach, p.velocity
    );
    println!(
        "  intent_weight {:>8.3}  weight of {} in [priority.weights]",
        p.intent_weight, t.intent.intent
    );
    println!(
        "  negativity    {:>8.3}  1 + max(0, −compound {:+.4})",
        p.negativity, t.scores.compound
    );
    println!(
        "  reach         {:>8.3}  log10(followers {} + 10)",
        p.reach, reach.followers
    );
    println!(
        "  velocity      {:>8.3}  1 + log10(1 + reshares {} + replies {})",
        p.velocity, reach.reshares, reach.replies
    );
    println!("  product       {:>8.3}", product);
    let b = &config.priority.bands;
    println!(
        "  band          {}  (P1 ≥ {}, P2 ≥ {}, P3 ≥ {}, else P4)",
        p.band, b.p1, b.p2, b.p3
    );
    println!(
        "\nrouting    rule {:?} → team {}{}",
        routed.rule.as_deref().unwrap_or("(none matched)"),
        routed.team.as_deref().unwrap_or("-"),
        if routed.raised {
            format!(", priority raised to {}", routed.band)
        } else {
            String::new()
        }
    );
    if let Some(n) = &routed.notify {
        println!("  notifies {n}");
    }
    println!(
        "\nsla        {} for {} on team {}'s policy{} → due {}",
        crate::output::duration(minutes as f64 * 60.0),
        routed.band,
        team.unwrap_or("default"),
        if calendar.is_some() {
            " (business hours)"
        } else {
            ""
        },
        due.format("%Y-%m-%d %H:%M UTC")
    );
    if stored_differs {
        println!(
            "\nnote: stored at import as {} with score {:.3}; the configuration has changed since",
            root.intent, root.priority_score
        );
    }
    Ok(ExitCode::SUCCESS)
}
