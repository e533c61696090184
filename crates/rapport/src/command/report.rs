//! `rapport report`: every number computed from the same store by the definitions in
//! docs/metrics.md.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rapport_core::metrics::{Period, Report, report_with_calendars};
use serde::Serialize;

use super::Ctx;
use crate::cli::ReportArgs;
use crate::output::{json, opt_duration, pct};

/// `7d`, `24h`, `30m`, `2w` back from now, or a date / RFC 3339 time.
pub fn parse_when(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if let Some(unit) = s.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        if let Ok(n) = s[..s.len() - 1].parse::<i64>() {
            let d = match unit {
                's' => TimeDelta::try_seconds(n),
                'm' => TimeDelta::try_minutes(n),
                'h' => TimeDelta::try_hours(n),
                'd' => TimeDelta::try_days(n),
                'w' => TimeDelta::try_weeks(n),
                _ => None,
            };
            if let Some(d) = d {
                return Ok(now - d);
            }
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    bail!(
        "cannot read {s:?} as a time: write a duration back from now (7d, 24h, 2w) or a date (2026-01-31) or an RFC 3339 time"
    )
}

#[derive(Serialize)]
struct ReportOut<'a> {
    #[serde(flatten)]
    report: &'a Report,
    team: Option<&'a str>,
    by_priority: BTreeMap<String, i64>,
}

pub async fn run(ctx: &Ctx, args: &ReportArgs) -> Result<ExitCode> {
    let now = ctx.now()?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_when(s, now))
        .transpose()
        .context("--since")?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_when(s, now))
        .transpose()
        .context("--until")?;
    let config = ctx.config()?;
    if let Some(t) = &args.team {
        if t != "unrouted" && config.team(t).is_none() {
            let known: Vec<&str> = config.teams.iter().map(|t| t.name.as_str()).collect();
            bail!(
                "no team {t:?} in the configuration: teams are {}",
                known.join(", ")
            );
        }
    }
    let store = ctx.store().await?;
    let facts = store
        .report_facts(since, until, args.team.as_deref())
        .await?;
    let calendars = config
        .teams
        .iter()
        .filter_map(|t| {
            config
                .calendar_for(Some(&t.name))
                .map(|c| (t.name.clone(), c))
        })
        .collect();
    let period = Period { since, until };
    let report = report_with_calendars(
        &facts.conversations,
        &facts.outbound,
        &facts.inbound,
        &period,
        now,
        &calendars,
    );
    let by_priority = store
        .opened_by_band(since, until, args.team.as_deref())
        .await?;
    if args.json {
        json(&ReportOut {
            report: &report,
            team: args.team.as_deref(),
            by_priority,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    print(&report, &by_priority, args.team.as_deref());
    Ok(ExitCode::SUCCESS)
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
