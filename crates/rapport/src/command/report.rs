//! `rapport report`: every number computed from the same store by the definitions in
//! docs/metrics.md.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use rapport_core::metrics::Report;
use rapport_server::reports::{Listening, build, parse_when};

use super::Ctx;
use crate::cli::ReportArgs;
use crate::output::{json, opt_duration, pct};

pub async fn run(ctx: &Ctx, args: &ReportArgs) -> Result<ExitCode> {
    let now = ctx.now()?;
    let when = |s: &Option<String>, flag: &str| {
        s.as_deref()
            .map(|s| parse_when(s, now))
            .transpose()
            .with_context(|| flag.to_owned())
    };
    let since = when(&args.since, "--since")?;
    let until = when(&args.until, "--until")?;
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let out = build(&store, &config, since, until, args.team.as_deref(), now).await?;
    if args.json {
        json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    print(&out.report, &out.by_priority, args.team.as_deref());
    if let Some(l) = &out.listening {
        print_listening(l);
    }
    if let Some(r) = &out.relationships {
        super::people::print_ror(r);
    }
    Ok(ExitCode::SUCCESS)
}

/// Topics, share of voice, alerts.
pub fn print_listening(l: &Listening) {
    if let Some(sov) = &l.share_of_voice {
        let mut parts = vec![format!("organisation {}", sov.organisation)];
        parts.extend(sov.competitors.iter().map(|(k, v)| format!("{k} {v}")));
        println!(
            "\n  share of voice         {}  ({} mentions)",
            pct(sov.share),
            parts.join(", ")
        );
    }
    if !l.topics.is_empty() {
        println!(
            "\n  {:<20} {:<11} {:>8} {:>8} {:>9} {:>9}",
            "TOPIC", "KIND", "MESSAGES", "AUTHORS", "NET SENT", "NEGATIVE"
        );
        for t in &l.topics {
            println!(
                "  {:<20} {:<11} {:>8} {:>8} {:>9} {:>9}",
                t.topic,
                t.kind,
                t.messages,
                t.authors,
                t.net_sentiment
                    .map(|v| format!("{v:+.3}"))
                    .unwrap_or_else(|| "-".into()),
                pct(t.negative_share)
            );
        }
    }
    if !l.alerts.is_empty() {
        println!("\n  spike alerts ({}, newest first)", l.alerts.len());
        for a in &l.alerts {
            println!(
                "    {}  {}",
                a.bucket_start.format("%Y-%m-%d %H:%M UTC"),
                a.headline
            );
        }
    }
}

/// The human form of a report.
pub fn print(r: &Report, by_priority: &BTreeMap<String, i64>, team: Option<&str>) {
    let span = match (r.period.since, r.period.until) {
        (None, None) => "all data".to_string(),
        (Some(s), None) => format!("since {}", s.format("%Y-%m-%d %H:%M UTC")),
        (None, Some(u)) => format!("until {}", u.format("%Y-%m-%d %H:%M UTC")),
        (Some(s), Some(u)) => format!(
            "{} to {}",
            s.format("%Y-%m-%d %H:%M"),
            u.format("%Y-%m-%d %H:%M UTC")
        ),
    };
    println!(
        "report: {span}{}",
        team.map(|t| format!(", team {t}")).unwrap_or_default()
    );
    println!(
        "  conversations opened   {}",
        r.overall.conversations_opened
    );
    println!(
        "  response rate          {}  ({} of {} non-spam got a human reply)",
        pct(r.overall.response_rate),
        r.overall.conversations_responded,
        r.overall.conversations_counted
    );
    println!(
        "  first response time    median {}, p90 {}  ({} clocks)",
        opt_duration(r.overall.frt_median_s),
        opt_duration(r.overall.frt_p90_s),
        r.overall.frt_samples
    );
    println!(
        "  next response time     median {}, p90 {}  ({} clocks)",
        opt_duration(r.overall.nrt_median_s),
        opt_duration(r.overall.nrt_p90_s),
        r.overall.nrt_samples
    );
    println!(
        "  resolution time        median {}, p90 {}  ({} resolved)",
        opt_duration(r.overall.resolution_median_s),
        opt_duration(r.overall.resolution_p90_s),
        r.overall.conversations_resolved
    );
    println!(
        "  SLA attainment         {}  ({} met, {} breached, {} not yet due)",
        pct(r.overall.sla_attainment),
        r.overall.sla_met,
        r.overall.sla_breached,
        r.overall.sla_pending
    );
    println!(
        "  engagement ratio       {}  ({} replies, {} broadcasts)",
        pct(r.engagement_ratio),
        r.outbound_replies,
        r.outbound_broadcasts
    );
    println!(
        "  net sentiment          {}  ({} positive, {} negative of {} inbound)",
        r.net_sentiment
            .map(|v| format!("{v:+.3}"))
            .unwrap_or_else(|| "-".into()),
        r.inbound_positive,
        r.inbound_negative,
        r.inbound_messages
    );
    let intents: Vec<String> = r
        .overall
        .by_intent
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| format!("{i} {n}"))
        .collect();
    println!("  by intent              {}", intents.join(", "));
    let bands: Vec<String> = by_priority
        .iter()
        .map(|(b, n)| format!("{b} {n}"))
        .collect();
    println!("  by priority            {}", bands.join(", "));
    if !r.per_team.is_empty() {
        println!(
            "\n  {:<10} {:>7} {:>9} {:>10} {:>10} {:>10}",
            "TEAM", "OPENED", "RESPONSE", "FRT MED", "FRT P90", "SLA"
        );
        for (name, t) in &r.per_team {
            println!(
                "  {:<10} {:>7} {:>9} {:>10} {:>10} {:>10}",
                name,
                t.conversations_opened,
                pct(t.response_rate),
                opt_duration(t.frt_median_s),
                opt_duration(t.frt_p90_s),
                pct(t.sla_attainment)
            );
        }
    }
}
