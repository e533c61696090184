//! `/reports` and `/reports.csv`: the numbers of `rapport report` over the last 7, 30 or
//! 90 days (or all time), and the same per UTC day as charts and CSV.
//!
//! The per-day numbers are not computed anew: each day is a report of its own, made by
//! [`report_with_calendars`] from the facts of that day (the conversations opened that
//! day, the inbound messages written that day), so a day's FRT, response count and net
//! sentiment follow the definitions of `docs/metrics.md` exactly.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use maud::{Markup, html};
use rapport_core::Intent;
use rapport_core::access::Action;
use rapport_core::metrics::{ConversationFacts, Period, Report, report_with_calendars};
use rapport_core::sla::Calendar;
use serde::Deserialize;

use super::chart::{Chart, Kind, Series};
use super::{Nav, Session, WebError, chosen, duration_text, layout, page_response, query_string};
use crate::AppState;
use crate::reports::Listening;

/// The spans the page offers; `30d` is the default.
pub const RANGES: [&str; 4] = ["7d", "30d", "90d", "all"];
/// The most days one report goes back, even for `all`.
pub const MAX_DAYS: i64 = 3660;

/// `?since=…&team=…`.
#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    since: Option<String>,
    team: Option<String>,
}

/// One UTC day's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    /// The day (UTC).
    pub day: NaiveDate,
    /// Conversations opened that day (spam included, as in reports).
    pub opened: u64,
    /// Of those, by intent.
    pub by_intent: BTreeMap<Intent, u64>,
    /// Conversations opened that day that got a human reply (spam excluded).
    pub responded: u64,
    /// Median first response time of the conversations opened that day, seconds.
    pub frt_median_s: Option<f64>,
    /// p90 of the same.
    pub frt_p90_s: Option<f64>,
    /// Inbound messages written that day.
    pub inbound: u64,
    /// Net sentiment of those messages.
    pub net_sentiment: Option<f64>,
}

/// The start of a UTC day.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The first day of a span ending `today` (`7d` is today and the 6 days before);
/// `None` for `all`.
pub fn first_day(since: &str, today: NaiveDate) -> Result<Option<NaiveDate>, String> {
    let days = match since {
        "7d" => 7,
        "30d" => 30,
        "90d" => 90,
        "all" => return Ok(None),
        other => {
            return Err(format!(
                "Cannot show the span {other:?}: choose 7d, 30d, 90d or all."
            ));
        }
    };
    Ok(Some(today - TimeDelta::days(days - 1)))
}

/// The numbers of each UTC day from `first` to `last` (both included, empty days too),
/// from the facts of a report: conversations grouped by the day they were opened,
/// inbound messages by the day they were written. Sorts both slices.
pub fn per_day(
    conversations: &mut [ConversationFacts],
    inbound: &mut [(DateTime<Utc>, f64)],
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
    calendars: &BTreeMap<String, Calendar>,
) -> Vec<DayRow> {
    conversations.sort_by_key(|c| c.opened_at);
    inbound.sort_by_key(|(at, _)| *at);
    let mut rows = Vec::new();
    let mut day = first;
    while day <= last {
        let (start, end) = (midnight(day), midnight(day) + TimeDelta::days(1));
        let lo = conversations.partition_point(|c| c.opened_at < start);
        let hi = conversations.partition_point(|c| c.opened_at < end);
        let ilo = inbound.partition_point(|(at, _)| *at < start);
        let ihi = inbound.partition_point(|(at, _)| *at < end);
        let r = report_with_calendars(
            &conversations[lo..hi],
            &[],
            &inbound[ilo..ihi],
            &Period::between(start, end),
            now,
            calendars,
        );
        rows.push(DayRow {
            day,
            opened: r.overall.conversations_opened,
            by_intent: r.overall.by_intent.clone(),
            responded: r.overall.conversations_responded,
            frt_median_s: r.overall.frt_median_s,
            frt_p90_s: r.overall.frt_p90_s,
            inbound: r.inbound_messages,
            net_sentiment: r.net_sentiment,
        });
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    rows
}

/// The rows as CSV: `day,opened,responded,frt_median_s,frt_p90_s,net_sentiment`, an
/// empty cell where a number has no sample.
pub fn csv(rows: &[DayRow]) -> String {
    let opt =
        |v: Option<f64>, digits: usize| v.map(|v| format!("{v:.digits$}")).unwrap_or_default();
    let mut out = String::from("day,opened,responded,frt_median_s,frt_p90_s,net_sentiment\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.day.format("%Y-%m-%d"),
            r.opened,
            r.responded,
            opt(r.frt_median_s, 0),
            opt(r.frt_p90_s, 0),
            opt(r.net_sentiment, 4),
        ));
    }
    out
}

/// What the page and the CSV are made of.
struct Computed {
    since: &'static str,
    team: Option<String>,
    first: NaiveDate,
    last: NaiveDate,
    overall: Report,
    days: Vec<DayRow>,
    listening: Option<Listening>,
}

async fn compute(state: &AppState, q: &RangeQuery) -> Result<Computed, WebError> {
    // Not `chosen`: that reads "all" as no choice, and here "all" is a span.
    let since_word = q
        .since
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("30d");
    let since: &'static str = RANGES
        .iter()
        .copied()
        .find(|r| *r == since_word)
        .ok_or_else(|| {
            WebError::invalid(format!(
                "Cannot show the span {since_word:?}: choose 7d, 30d, 90d or all."
            ))
        })?;
    let team = chosen(&q.team).map(str::to_owned);
    let config = state.config();
    if let Some(t) = &team
        && t != "unrouted"
        && config.team(t).is_none()
    {
        return Err(WebError::invalid(format!(
            "There is no team {t:?} in the configuration."
        )));
    }
    let now = state.now();
    let last = now.date_naive();
    let first = first_day(since, last).map_err(WebError::invalid)?;
    let from = first.map(midnight);
    let mut facts = state
        .store()
        .report_facts(from, None, team.as_deref())
        .await?;
    let calendars: BTreeMap<String, Calendar> = config
        .teams
        .iter()
        .filter_map(|t| {
            config
                .calendar_for(Some(&t.name))
                .map(|c| (t.name.clone(), c))
        })
        .collect();
    let overall = report_with_calendars(
        &facts.conversations,
        &facts.outbound,
        &facts.inbound,
        &Period {
            since: from,
            until: None,
        },
        now,
        &calendars,
    );
    let first = first
        .or_else(|| {
            let opened = facts.conversations.iter().map(|c| c.opened_at);
            let written = facts.inbound.iter().map(|(at, _)| *at);
            opened.chain(written).min().map(|t| t.date_naive())
        })
        .unwrap_or(last)
        .min(last)
        .max(last - TimeDelta::days(MAX_DAYS - 1));
    let days = per_day(
        &mut facts.conversations,
        &mut facts.inbound,
        first,
        last,
        now,
        &calendars,
    );
    let listening = match team {
        Some(_) => None,
        None => Some(crate::reports::listening(state.store(), config, from, None).await?),
    };
    Ok(Computed {
        since,
        team,
        first,
        last,
        overall,
        days,
        listening,
    })
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "—".to_owned())
}

fn secs(v: Option<f64>) -> String {
    v.map(duration_text).unwrap_or_else(|| "—".to_owned())
}

fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn signed(v: f64) -> String {
    format!("{v:+.2}")
}

fn percent(v: f64) -> String {
    format!("{v:.0}%")
}

fn charts(c: &Computed, state: &AppState) -> [Markup; 4] {
    let categories: Vec<String> = c
        .days
        .iter()
        .map(|d| d.day.format("%Y-%m-%d").to_string())
        .collect();
    let span = format!(
        "{} to {}",
        c.first.format("%Y-%m-%d"),
        c.last.format("%Y-%m-%d")
    );
    let opened: u64 = c.days.iter().map(|d| d.opened).sum();
    let volume = Chart {
        title: "Conversations opened per day, by intent".into(),
        summary: format!(
            "Stacked bars of the conversations opened each day from {span}, by intent: {opened} in all."
        ),
        x_label: "day (UTC)".into(),
        y_label: "conversations".into(),
        categories: categories.clone(),
        series: Intent::ALL
            .iter()
            .map(|i| Series {
                name: i.as_str().into(),
                class: format!("intent-{}", i.as_str()),
                values: c
                    .days
                    .iter()
                    .map(|d| Some(d.by_intent.get(i).copied().unwrap_or(0) as f64))
                    .collect(),
            })
            .collect(),
        kind: Kind::StackedBars,
        y_range: None,
        format: number,
    };

    let longest = c
        .days
        .iter()
        .filter_map(|d| d.frt_p90_s.or(d.frt_median_s))
        .fold(0.0f64, f64::max);
    let (unit, divisor) = if longest >= 3.0 * 3600.0 {
        ("hours", 3600.0)
    } else {
        ("minutes", 60.0)
    };
    let frt = Chart {
        title: "First response time per day: median and p90".into(),
        summary: format!(
            "Lines of the median and p90 first response time, in {unit}, of the conversations \
             opened each day from {span}; over the whole span the median is {} and the p90 {}.",
            secs(c.overall.overall.frt_median_s),
            secs(c.overall.overall.frt_p90_s)
        ),
        x_label: "day opened (UTC)".into(),
        y_label: format!("first response ({unit})"),
        categories: categories.clone(),
        series: vec![
            Series {
                name: "median".into(),
                class: "median".into(),
                values: c
                    .days
                    .iter()
                    .map(|d| d.frt_median_s.map(|s| s / divisor))
                    .collect(),
            },
            Series {
                name: "p90".into(),
                class: "p90".into(),
                values: c
                    .days
                    .iter()
                    .map(|d| d.frt_p90_s.map(|s| s / divisor))
                    .collect(),
            },
        ],
        kind: Kind::Lines,
        y_range: None,
        format: number,
    };

    let sentiment = Chart {
        title: "Net sentiment per day".into(),
        summary: format!(
            "A line of the net sentiment of inbound messages each day from {span}, from −1 (all \
             negative) to +1 (all positive); over the whole span it is {}.",
            c.overall
                .net_sentiment
                .map(signed)
                .unwrap_or_else(|| "not known".into())
        ),
        x_label: "day (UTC)".into(),
        y_label: "net sentiment".into(),
        categories: categories.clone(),
        series: vec![Series {
            name: "net sentiment".into(),
            class: "net".into(),
            values: c.days.iter().map(|d| d.net_sentiment).collect(),
        }],
        kind: Kind::Lines,
        y_range: Some((-1.0, 1.0)),
        format: signed,
    };

    let mut teams: Vec<String> = c.overall.per_team.keys().cloned().collect();
    if c.team.is_none() {
        for t in &state.config().teams {
            if !teams.contains(&t.name) {
                teams.push(t.name.clone());
            }
        }
        teams.sort();
    }
    let attainment: Vec<Option<f64>> = teams
        .iter()
        .map(|t| {
            c.overall
                .per_team
                .get(t)
                .and_then(|r| r.sla_attainment)
                .map(|a| a * 100.0)
        })
        .collect();
    let sla = Chart {
        title: "SLA attainment by team".into(),
        summary: format!(
            "Bars of the share of first responses within their SLA, by team, for the \
             conversations opened from {span}: {}.",
            if teams.is_empty() {
                "no teams".to_owned()
            } else {
                teams
                    .iter()
                    .zip(&attainment)
                    .map(|(t, a)| format!("{t} {}", a.map(percent).unwrap_or("n/a".into())))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        x_label: "team".into(),
        y_label: "within SLA (%)".into(),
        categories: teams,
        series: vec![Series {
            name: "within SLA".into(),
            class: "sla".into(),
            values: attainment,
        }],
        kind: Kind::Bars,
        y_range: Some((0.0, 100.0)),
        format: percent,
    };
    [
        volume.figure("chart-volume"),
        frt.figure("chart-frt"),
        sentiment.figure("chart-sentiment"),
        sla.figure("chart-sla"),
    ]
}

fn numbers(r: &Report) -> Markup {
    let o = &r.overall;
    let items: Vec<(&str, String, Option<String>)> = vec![
        (
            "Conversations opened",
            o.conversations_opened.to_string(),
            None,
        ),
        (
            "Response rate",
            pct(o.response_rate),
            Some(format!("{} answered", o.conversations_responded)),
        ),
        ("First response, median", secs(o.frt_median_s), None),
        ("First response, p90", secs(o.frt_p90_s), None),
        ("Next response, median", secs(o.nrt_median_s), None),
        (
            "Within SLA",
            pct(o.sla_attainment),
            Some(format!("{} met, {} breached", o.sla_met, o.sla_breached)),
        ),
        ("Resolved", o.conversations_resolved.to_string(), None),
        ("Resolution, median", secs(o.resolution_median_s), None),
        (
            "Net sentiment",
            r.net_sentiment.map(signed).unwrap_or_else(|| "—".into()),
            Some(format!("{} inbound messages", r.inbound_messages)),
        ),
        ("Engagement ratio", pct(r.engagement_ratio), None),
    ];
    html! {
        dl #numbers {
            @for (k, v, sub) in items {
                div {
                    dt { (k) }
                    dd { (v) @if let Some(s) = sub { " " span.sub { (s) } } }
                }
            }
        }
    }
}

fn listening_section(l: &Listening) -> Markup {
    html! {
        section #listening aria-labelledby="listening-title" {
            h2 #listening-title { "Listening" }
            @if let Some(sov) = &l.share_of_voice {
                h3 { "Share of voice" }
                table #share-of-voice {
                    thead { tr { th { "Who" } th { "Mentions" } th { "Share" } } }
                    tbody {
                        tr.ours {
                            td { "Us" }
                            td { (sov.organisation) }
                            td {
                                meter min="0" max="1" value=(sov.share.unwrap_or(0.0)) {}
                                " " (pct(sov.share))
                            }
                        }
                        @for (name, n) in &sov.competitors {
                            tr {
                                td { (name) }
                                td { (n) }
                                td {
                                    @let share = sov.competitor_shares.get(name).copied();
                                    meter min="0" max="1" value=(share.unwrap_or(0.0)) {}
                                    " " (pct(share))
                                }
                            }
                        }
                    }
                }
            }
            @if l.topics.is_empty() {
                p.empty { "No listening topics are configured: add [[topic]] sections to rapport.toml (docs/listening.md)." }
            } @else {
                h3 { "Topics" }
                table #topics {
                    thead { tr { th { "Topic" } th { "Kind" } th { "Messages" } th { "Authors" } th { "Net sentiment" } th { "Negative" } } }
                    tbody {
                        @for t in &l.topics {
                            tr {
                                td { a href=(format!("/?status=all&topic={}", t.topic)) { (t.topic) } }
                                td { (t.kind) }
                                td { (t.messages) }
                                td { (t.authors) }
                                td { (t.net_sentiment.map(signed).unwrap_or_else(|| "—".into())) }
                                td { (pct(t.negative_share)) }
                            }
                        }
                    }
                }
            }
            h3 { "Spike alerts" }
            @if l.alerts.is_empty() {
                p.empty { "No spike alerts in this span." }
            } @else {
                ul #alerts {
                    @for a in &l.alerts {
                        li {
                            time datetime=(a.bucket_start.to_rfc3339()) { (a.bucket_start.format("%Y-%m-%d %H:%M UTC")) }
                            " " (a.headline)
                        }
                    }
                }
            }
        }
    }
}

/// The reports page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Reports)?;
    let Query(q) = query.map_err(|e| WebError::invalid(e.body_text()))?;
    let c = compute(&state, &q).await?;
    let team_word = c.team.clone().unwrap_or_else(|| "all".to_owned());
    let mut teams: Vec<&str> = vec!["all"];
    teams.extend(state.config().teams.iter().map(|t| t.name.as_str()));
    teams.push("unrouted");
    let csv_href = format!(
        "/reports.csv{}",
        query_string(&[
            ("since", c.since),
            ("team", c.team.as_deref().unwrap_or(""))
        ])
    );
    let [volume, frt, sentiment, sla] = charts(&c, &state);
    let body = html! {
        div.titlebar {
            h1 { "Reports" }
            a #csv.button href=(csv_href) download { "Download CSV (one row per day)" }
        }
        form #range method="get" action="/reports" aria-label="Span and team" {
            div.field {
                label for="range-since" { "Span" }
                select #range-since name="since" {
                    @for r in RANGES {
                        option value=(r) selected[r == c.since] {
                            (match r { "7d" => "last 7 days", "30d" => "last 30 days", "90d" => "last 90 days", _ => "all time" })
                        }
                    }
                }
            }
            div.field {
                label for="range-team" { "Team" }
                select #range-team name="team" {
                    @for t in &teams {
                        option value=(t) selected[*t == team_word] { (t) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        p.period {
            "Conversations opened from " (c.first.format("%Y-%m-%d")) " to " (c.last.format("%Y-%m-%d"))
            " (UTC days)" @if let Some(t) = &c.team { ", team " strong { (t) } } "."
            " Definitions: docs/metrics.md."
        }
        (numbers(&c.overall))
        div.charts {
            (volume) (frt) (sentiment) (sla)
        }
        @if let Some(l) = &c.listening {
            (listening_section(l))
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout("Reports", Some(&session), Nav::Reports, state.now(), body),
    ))
}

/// `GET /reports.csv`: one row per day, downloaded.
pub async fn csv_download(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Reports)?;
    let Query(q) = query.map_err(|e| WebError::invalid(e.body_text()))?;
    let c = compute(&state, &q).await?;
    let safe = |s: &str| {
        s.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    let name = match &c.team {
        Some(t) => format!("rapport-report-{}-{}.csv", c.since, safe(t)),
        None => format!("rapport-report-{}.csv", c.since),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv(&c.days),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;
    use rapport_core::metrics::TimelineItem;

    use super::*;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    fn conv(
        id: i64,
        intent: Intent,
        opened: DateTime<Utc>,
        reply_after: Option<i64>,
    ) -> ConversationFacts {
        let mut timeline = vec![TimelineItem::Inbound {
            at: opened,
            compound: 0.0,
        }];
        if let Some(minutes) = reply_after {
            timeline.push(TimelineItem::Outbound {
                at: opened + TimeDelta::minutes(minutes),
                automated: false,
                by: Some("ana".into()),
                is_reply: true,
            });
        }
        ConversationFacts {
            id,
            team: Some("care".into()),
            intent,
            opened_at: opened,
            sla_due_at: None,
            timeline,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn conversations_count_on_the_utc_day_they_opened() {
        let mut convs = vec![
            // Out of order on purpose: per_day sorts.
            conv(3, Intent::Praise, at(3, 0, 0), None),
            conv(1, Intent::Complaint, at(2, 23, 59), Some(10)),
            conv(2, Intent::Question, at(2, 8, 0), Some(30)),
            conv(4, Intent::Spam, at(3, 12, 0), None),
        ];
        let mut inbound = vec![
            (at(2, 10, 0), 0.6),
            (at(2, 11, 0), -0.6),
            (at(2, 12, 0), 0.7),
            (at(3, 23, 59), -0.5),
        ];
        let rows = per_day(
            &mut convs,
            &mut inbound,
            day(1),
            day(4),
            at(5, 0, 0),
            &BTreeMap::new(),
        );
        assert_eq!(
            rows.iter().map(|r| r.day).collect::<Vec<_>>(),
            vec![day(1), day(2), day(3), day(4)],
            "every day, empty ones too"
        );
        let (d1, d2, d3, d4) = (&rows[0], &rows[1], &rows[2], &rows[3]);
        assert_eq!((d1.opened, d1.responded, d1.frt_median_s), (0, 0, None));
        assert_eq!(d1.net_sentiment, None);
        assert_eq!(d2.opened, 2);
        assert_eq!(d2.by_intent.get(&Intent::Complaint), Some(&1));
        assert_eq!(d2.by_intent.get(&Intent::Question), Some(&1));
        assert_eq!(d2.responded, 2);
        // Nearest rank: of 10 and 30 minutes the median is the lower, the p90 the higher.
        assert_eq!(d2.frt_median_s, Some(600.0));
        assert_eq!(d2.frt_p90_s, Some(1800.0));
        assert_eq!(d2.inbound, 3);
        assert!((d2.net_sentiment.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        // Midnight belongs to the new day; spam is counted as opened, never as answered.
        assert_eq!(d3.opened, 2);
        assert_eq!(d3.by_intent.get(&Intent::Spam), Some(&1));
        assert_eq!((d3.responded, d3.frt_median_s), (0, None));
        assert_eq!(d3.net_sentiment, Some(-1.0));
        assert_eq!(d4.opened, 0);
    }

    #[test]
    fn a_reply_on_a_later_day_counts_for_the_day_it_opened() {
        let mut convs = vec![conv(1, Intent::Question, at(2, 23, 0), Some(120))];
        let rows = per_day(
            &mut convs,
            &mut Vec::new(),
            day(2),
            day(3),
            at(4, 0, 0),
            &BTreeMap::new(),
        );
        assert_eq!(rows[0].frt_median_s, Some(7200.0));
        assert_eq!(rows[1].frt_median_s, None);
    }

    #[test]
    fn spans_end_today() {
        assert_eq!(first_day("7d", day(10)).unwrap(), Some(day(4)));
        assert_eq!(first_day("30d", day(30)).unwrap(), Some(day(1)));
        assert_eq!(first_day("all", day(10)).unwrap(), None);
        assert!(first_day("3y", day(10)).is_err());
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_day() {
        let mut convs = vec![conv(1, Intent::Question, at(2, 9, 0), Some(5))];
        let rows = per_day(
            &mut convs,
            &mut [(at(2, 9, 0), 0.5)],
            day(1),
            day(2),
            at(3, 0, 0),
            &BTreeMap::new(),
        );
        assert_eq!(
            csv(&rows),
            "day,opened,responded,frt_median_s,frt_p90_s,net_sentiment\n\
             2026-11-01,0,0,,,\n\
             2026-11-02,1,1,300,300,1.0000\n"
        );
    }
}
