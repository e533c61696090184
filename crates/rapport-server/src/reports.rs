//! A report over a span, for the API and the CLI alike.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rapport_core::config::Config;
use rapport_core::listening::{ShareOfVoice, TopicKind, share_of_voice};
use rapport_core::metrics::{Period, Report, report_with_calendars};
use rapport_core::spike::Alert;
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
    /// Topics, share of voice and spike alerts (organisation-wide: absent from a team's
    /// report).
    pub listening: Option<Listening>,
    /// Return on Relationship as of the end of the span (or now), with its advocates and
    /// at-risk people (organisation-wide: absent from a team's report).
    pub relationships: Option<crate::relationships::RorReport>,
}

/// One topic over the span.
#[derive(Debug, Clone, Serialize)]
pub struct TopicLine {
    /// The topic.
    pub topic: String,
    /// Its kind (brand, product, competitor, campaign, other).
    pub kind: String,
    /// Inbound messages that matched it.
    pub messages: i64,
    /// Distinct authors.
    pub authors: i64,
    /// (positive − negative) ÷ messages.
    pub net_sentiment: Option<f64>,
    /// negative ÷ messages.
    pub negative_share: Option<f64>,
}

/// The listening part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Listening {
    /// Every configured topic, in configuration order (zero when nothing matched).
    pub topics: Vec<TopicLine>,
    /// Brand against competitor topics; absent when no topic is of either kind.
    pub share_of_voice: Option<ShareOfVoice>,
    /// Spike alerts raised for buckets in the span, newest first (at most 20).
    pub alerts: Vec<Alert>,
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
    let (listening, relationships) = match team {
        Some(_) => (None, None),
        None => (
            Some(listening(store, config, since, until).await?),
            Some(
                crate::relationships::ror_report(store, config, until.unwrap_or(now).min(now), 10)
                    .await?,
            ),
        ),
    };
    Ok(ReportOut {
        report,
        team: team.map(str::to_owned),
        by_priority,
        listening,
        relationships,
    })
}

/// Topics, share of voice and the spike alerts over `[since, until)`.
pub async fn listening(
    store: &Store,
    config: &Config,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<Listening, StoreError> {
    let volumes = store.topic_volumes(since, until).await?;
    let topics = config
        .topics
        .iter()
        .map(|t| {
            let v = volumes.iter().find(|v| v.topic == t.name);
            let (messages, positive, negative, authors) = v.map_or((0, 0, 0, 0), |v| {
                (v.messages, v.positive, v.negative, v.authors)
            });
            TopicLine {
                topic: t.name.clone(),
                kind: t.kind.as_str().to_owned(),
                messages,
                authors,
                net_sentiment: (messages > 0)
                    .then(|| (positive - negative) as f64 / messages as f64),
                negative_share: (messages > 0).then(|| negative as f64 / messages as f64),
            }
        })
        .collect();
    let of_kind = |k: TopicKind| -> Vec<String> {
        config
            .topics
            .iter()
            .filter(|t| t.kind == k)
            .map(|t| t.name.clone())
            .collect()
    };
    let (brand, competitors) = (of_kind(TopicKind::Brand), of_kind(TopicKind::Competitor));
    let share_of_voice = if brand.is_empty() && competitors.is_empty() {
        None
    } else {
        let (ours, theirs) = store
            .voice_counts(&brand, &competitors, since, until)
            .await?;
        Some(share_of_voice(ours, theirs))
    };
    let alerts = store.alerts(since, until, 20).await?;
    Ok(Listening {
        topics,
        share_of_voice,
        alerts,
    })
}
