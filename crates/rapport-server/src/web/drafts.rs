//! `/drafts`: the approval queue (drafts pending approval that the user may decide on,
//! each with its text per channel and its checks) and a calendar of one week's scheduled
//! and published drafts.

use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike as _, Duration, NaiveDate, Utc, Weekday};
use maud::{Markup, html};
use rapport_core::access::Action;
use rapport_store::Draft;
use serde::Deserialize;

use super::{
    Nav, Session, WebError, layout, missing_csrf, page_response, see_other, snippet, when,
};
use crate::AppState;
use crate::drafts::{self, Checks, DecideError};

/// Drafts read for the queue and for each status of the calendar.
const READ: i64 = 500;

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct DraftsQuery {
    week: Option<String>,
}

/// The Monday of the week `text` names: `2026-W48`, or any day of it (`2026-11-23`).
pub fn week_start(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let day = match text.split_once("-W").or_else(|| text.split_once("-w")) {
        Some((year, week)) => {
            NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)?
        }
        None => NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?,
    };
    Some(day - Duration::days(day.weekday().num_days_from_monday().into()))
}

/// `2026-W48`.
fn week_name(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The drafts page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DraftsQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Err(WebError::invalid(e.body_text())),
    };
    let now = state.now();
    let monday = match q.week.as_deref().filter(|w| !w.trim().is_empty()) {
        None => week_start(&now.date_naive().to_string()).unwrap_or(now.date_naive()),
        Some(w) => week_start(w).ok_or_else(|| {
            WebError::invalid(format!(
                "Week {w:?} cannot be read: write a week such as 2026-W48, or a day of it such as 2026-11-23."
            ))
        })?,
    };
    let store = state.store();
    let config = state.config();
    let mut queue = Vec::new();
    for d in store.drafts(Some("pending_approval"), READ).await? {
        if drafts::may_decide(config, session.user.role, &d) {
            let c = drafts::checks(store, config, &d, now).await?;
            queue.push((d, c));
        }
    }
    queue.reverse(); // oldest first: the longest waiting on top
    let start = monday.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = start + Duration::days(7);
    let mut week: Vec<Draft> = Vec::new();
    for status in ["scheduled", "published"] {
        week.extend(
            store
                .drafts(Some(status), READ)
                .await?
                .into_iter()
                .filter(|d| d.scheduled_at.is_some_and(|t| t >= start && t < end)),
        );
    }
    week.sort_by_key(|d| (d.scheduled_at, d.id));
    let body = html! {
        h1 { "Drafts" }
        section #queue aria-labelledby="queue-title" {
            h2 #queue-title { "Waiting for your approval" }
            @if queue.is_empty() {
                p.empty { "No draft waits for your approval." }
            }
            @for (d, c) in &queue {
                (queue_item(&session, d, c))
            }
        }
        section #calendar aria-labelledby="calendar-title" {
            h2 #calendar-title { "Week " (week_name(monday)) }
            nav.pages aria-label="Weeks" {
                a #previous-week rel="prev" href=(format!("/drafts?week={}", week_name(monday - Duration::days(7)))) { "Previous week" }
                a #next-week rel="next" href=(format!("/drafts?week={}", week_name(monday + Duration::days(7)))) { "Next week" }
            }
            div.week {
                @for i in 0..7 {
                    @let day = monday + Duration::days(i);
                    @let on_day: Vec<&Draft> = week.iter().filter(|d| d.scheduled_at.is_some_and(|t| t.date_naive() == day)).collect();
                    section.day id=(format!("day-{day}")) {
                        h3 { (day.format("%a %d %b")) }
                        @if on_day.is_empty() {
                            p.empty { "—" }
                        }
                        ul {
                            @for d in on_day {
                                li id=(format!("calendar-draft-{}", d.id)) class=(format!("draft {}", d.status)) {
                                    @if let Some(t) = d.scheduled_at { (time_of(t)) " " }
                                    span.kind { (d.kind) } " · " span.author { (d.author) } " · "
                                    span.status { (d.status) }
                                    p { (snippet(&d.text, 80)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout("Drafts", Some(&session), Nav::Drafts, now, body),
    ))
}

fn time_of(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(super::rfc3339(t)) { (t.format("%H:%M")) } }
}

fn queue_item(session: &Session, d: &Draft, c: &Checks) -> Markup {
    html! {
        article.draft id=(format!("draft-{}", d.id)) {
            h3 { "Draft " (d.id) " · " (d.kind) " by " (d.author) }
            p { "Written " (when(d.created_at)) }
            @for t in &d.targets {
                section.channel {
                    h4 { (t.channel) }
                    p.text { (d.text_for(&t.channel)) }
                }
            }
            @if d.targets.is_empty() {
                p.text { (d.text) }
            }
            ul.checks aria-label="Checks" {
                @for e in &c.channels {
                    li.check.failed { "✗ " (e) }
                }
                @for l in &c.lengths {
                    @let mark = if l.check.ok { "✓" } else { "✗" };
                    li class=(if l.check.ok { "check passed" } else { "check failed" }) {
                        (mark) " " (l.channel) ": length " (l.check.counted) " of " (l.check.limit)
                        @if !l.check.ok { " — " (l.message) }
                    }
                }
                @for p in &c.principles {
                    @let mark = if p.finding.passed { "✓" } else { "✗" };
                    li class=(if p.finding.passed { "check passed" } else { "check failed" }) {
                        (mark) " " (p.channel) ": " (p.finding.principle) " / " (p.finding.check.as_str()) ": " (p.finding.detail)
                    }
                }
            }
            div.actions {
                form method="post" action=(format!("/drafts/{}/approve", d.id)) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { "Approve" }
                }
                form method="post" action=(format!("/drafts/{}/reject", d.id)) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for=(format!("reason-{}", d.id)) { "Reason" }
                    input id=(format!("reason-{}", d.id)) type="text" name="reason" required;
                    button type="submit" { "Reject" }
                }
            }
        }
    }
}

/// The approve and reject forms' fields.
#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

async fn decide(
    state: &AppState,
    session: &Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<DecideForm>, FormRejection>,
    reject: bool,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|_| missing_csrf())?;
    session.check_csrf(form.csrf.as_deref())?;
    session.require(Action::Read)?;
    let Path(id) = path.map_err(|_| WebError::not_found("There is no such draft."))?;
    let reason = if reject {
        Some(form.reason.as_deref().unwrap_or_default())
    } else {
        None
    };
    drafts::decide(
        state.store(),
        state.config(),
        id,
        &session.user.name,
        session.user.role,
        reason,
        state.now(),
    )
    .await
    .map_err(|e| match e {
        DecideError::NotAllowed(m) => WebError::new(StatusCode::FORBIDDEN, super::capitalise(&m)),
        DecideError::Conflict(m) => WebError::new(StatusCode::CONFLICT, super::capitalise(&m)),
        DecideError::Invalid(m) => WebError::invalid(super::capitalise(&m)),
        DecideError::Store(e) => e.into(),
    })?;
    Ok(see_other("/drafts"))
}

/// `POST /drafts/{id}/approve`: as `POST /api/v1/drafts/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<DecideForm>, FormRejection>,
) -> Result<Response, WebError> {
    decide(&state, &session, path, form, false).await
}

/// `POST /drafts/{id}/reject`: as `POST /api/v1/drafts/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<DecideForm>, FormRejection>,
) -> Result<Response, WebError> {
    decide(&state, &session, path, form, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_by_name_or_by_day() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        assert_eq!(week_start("2026-11-23"), Some(monday));
        assert_eq!(week_start("2026-11-29"), Some(monday));
        assert_eq!(week_start("2026-W48"), Some(monday));
        assert_eq!(week_name(monday), "2026-W48");
        assert_eq!(week_start("2026-W60"), None);
        assert_eq!(week_start("soon"), None);
    }
}
