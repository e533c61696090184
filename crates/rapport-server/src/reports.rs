//! A report over a span, for the API and the CLI alike.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rapport_core::config::Config;
use rapport_core::metrics::{Period, Report, report_with_calendars};
use rapport_store::{Store, StoreError};
use serde::Serialize;

/// A report with what it was asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOut {
    /// The numbers.
    #[serde(flatten)]
    pub report: Report,
    /// The team it covers, if one.
    pub team: Option<String>,
    /// Conversations opened per band.
    pub by_priority: BTreeMap<String, i64>,
}

/// A report that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The team is not in the configuration.
    #[error("no team {team:?} in the configuration: teams are {known}")]
    UnknownTeam {
        /// The team asked for.
        team: String,
        /// The teams there are.
        known: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A time that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read {0:?} as a time: write a duration back from now (7d, 24h, 2w) or a date (2026-01-31) or an RFC 3339 time"
)]
pub struct BadTime(pub String);

/// `7d`, `24h`, `30m`, `2w` back from `now`, or a date / RFC 3339 time.
pub fn parse_when(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, BadTime> {
    let s = s.trim();
    if let Some(unit) = s.chars().last().filter(|c| c.is_ascii_alphabetic())
        && let Ok(n) = s[..s.len() - 1].parse::<i64>()
    {
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
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(BadTime(s.to_owned()))
}

/// The report over `[since, until)` for `team` (or all), as of `now`.
pub async fn build(
    store: &Store,
    config: &Config,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    team: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ReportOut, ReportError> {
    if let Some(t) = team
        && t != "unrouted"
        && config.team(t).is_none()
    {
        let known: Vec<&str> = config.teams.iter().map(|t| t.name.as_str()).collect();
        return Err(ReportError::UnknownTeam {
            team: t.to_owned(),
            known: known.join(", "),
        });
    }
    let facts = store.report_facts(since, until, team).await?;
    let calendars = config
        .teams
        .iter()
        .filter_map(|t| {
            config
                .calendar_for(Some(&t.name))
                .map(|c| (t.name.clone(), c))
        })
        .collect();
    let report = report_with_calendars(
        &facts.conversations,
        &facts.outbound,
        &facts.inbound,
        &Period { since, until },
        now,
        &calendars,
    );
    let by_priority = store.opened_by_band(since, until, team).await?;
    Ok(ReportOut {
        report,
        team: team.map(str::to_owned),
        by_priority,
    })
}
