//! `/people`: Return on Relationship, the advocates, the relationships at risk and the
//! suggested merges (with Merge and "Two people" buttons); `/people/{id}`: one person
//! across platforms: their accounts, their relationship (strength with its terms, the
//! reciprocity ledger, at-risk reasons), merges, timeline, conversations, and the
//! sentiment of what they wrote over time.

use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use rapport_core::access::Action;

use super::chart::{Chart, Kind, Series};
use super::inbox::SNIPPET;
use super::{
    Nav, Session, WebError, layout, missing_csrf, page_response, priority_badge, see_other,
    sentiment_badge, snippet, when,
};
use crate::AppState;
use crate::relationships;

/// The person page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let Path(id) = path.map_err(|_| WebError::not_found("There is no such person."))?;
    let view = relationships::person(state.store(), state.config(), id, state.now()).await?;
    let p = &view.person;
    let name = p
        .display_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| p.identities.first().map(|i| i.handle.clone()))
        .unwrap_or_else(|| format!("Person {id}"));
    let n = p.sentiment.len();
    let mean = if n == 0 {
        None
    } else {
        Some(p.sentiment.iter().map(|(_, c)| c).sum::<f64>() / n as f64)
    };
    let chart = Chart {
        title: format!("Sentiment of each message from {name}, oldest first"),
        summary: match mean {
            Some(m) => format!(
                "A line of the sentiment (compound, from −1 to +1) of the {n} messages from {name}, oldest first; the mean is {m:+.2}."
            ),
            None => format!("No messages from {name} yet."),
        },
        x_label: "message (date, UTC)".into(),
        y_label: "sentiment (compound)".into(),
        categories: p
            .sentiment
            .iter()
            .map(|(at, _)| at.format("%Y-%m-%d").to_string())
            .collect(),
        series: vec![Series {
            name: "compound".into(),
            class: "net".into(),
            values: p.sentiment.iter().map(|(_, c)| Some(*c)).collect(),
        }],
        kind: Kind::Lines,
        y_range: Some((-1.0, 1.0)),
        format: |v| format!("{v:+.2}"),
    };
    let body = html! {
        h1 { (name) }
        section aria-labelledby="identities-heading" {
            h2 #identities-heading { "Accounts" }
            ul #identities {
                @for i in &p.identities {
                    li {
                        strong { (i.handle) } " on " (i.platform)
                        @if let Some(n) = &i.name { " (" (n) ")" }
                        @if let Some(f) = i.followers { " · " (f) " followers" }
                    }
                }
            }
        }
        @if let Some(m) = view.merges.iter().find(|m| m.merged == id && m.undone_at.is_none()) {
            p.notice #merged-into {
                "Merged into " a href={ "/people/" (m.keep) } { "person " (m.keep) } " by " (m.actor) " on " (when(m.at)) "."
            }
        }
        (relationship_section(&view, state.config(), &session))
        section aria-labelledby="sentiment-heading" {
            h2 #sentiment-heading { "Sentiment over time" }
            figure.chart {
                (chart.svg(Some("sentiment-chart")))
                figcaption { (chart.title) }
                (chart.table())
            }
        }
        section aria-labelledby="messages-heading" {
            h2 #messages-heading { "Timeline" }
            p { "Their messages and our replies to them, newest first." }
            ol #person-timeline {
                @for m in view.timeline.iter().take(50) {
                    li class=(if m.direction == "inbound" { "they" } else { "we" }) {
                        (when(m.created_at)) " · " (if m.direction == "inbound" { "they wrote" } else { "we replied" })
                        " on " (m.platform) " · " (m.intent) " · "
                        @if let Some(c) = m.conversation_id {
                            a href={ "/conversations/" (c) } { (snippet(&m.text, SNIPPET)) }
                        } @else {
                            (snippet(&m.text, SNIPPET))
                        }
                    }
                }
            }
            @if view.timeline.is_empty() { p { "Nothing yet." } }
        }
        section aria-labelledby="timeline-heading" {
            h2 #timeline-heading { "Conversations" }
            table #timeline {
                thead {
                    tr {
                        th scope="col" { "Opened" }
                        th scope="col" { "Platform" }
                        th scope="col" { "Priority" }
                        th scope="col" { "Sentiment" }
                        th scope="col" { "Intent" }
                        th scope="col" { "Status" }
                        th scope="col" { "Conversation" }
                    }
                }
                tbody {
                    @for c in &p.conversations {
                        tr data-id=(c.id) {
                            td data-label="Opened" { (when(c.opened_at)) }
                            td data-label="Platform" { (c.platform) }
                            td data-label="Priority" { (priority_badge(c.priority)) }
                            td data-label="Sentiment" { (sentiment_badge(c.compound)) }
                            td data-label="Intent" { (c.intent) }
                            td data-label="Status" { (c.status) }
                            td data-label="Conversation" {
                                a href={ "/conversations/" (c.id) } {
                                    @if c.snippet.trim().is_empty() { "(no text)" } @else { (snippet(&c.snippet, SNIPPET)) }
                                }
                            }
                        }
                    }
                }
            }
            @if p.conversations.is_empty() { p { "No conversations." } }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout(&name, Some(&session), Nav::People, state.now(), body),
    ))
}

fn relationship_section(
    view: &relationships::PersonView,
    config: &rapport_core::config::Config,
    session: &Session,
) -> maud::Markup {
    let w = &config.relationships.weights;
    html! {
        section aria-labelledby="relationship-heading" {
            h2 #relationship-heading { "Relationship" }
            @match &view.relationship {
                None => { p { "No messages: no relationship to measure." } }
                Some(r) => {
                    @let s = &r.strength;
                    p #strength {
                        "Strength " strong { (format!("{:.3}", s.score)) }
                        @if r.advocate { " · " span.badge.advocate { "advocate" } }
                    }
                    table #strength-terms {
                        caption { "Strength = the weighted sum of four terms (docs/metrics.md)" }
                        thead { tr { th scope="col" { "Term" } th scope="col" { "Weight" } th scope="col" { "Value" } th scope="col" { "From" } } }
                        tbody {
                            tr { th scope="row" { "Recency" } td { (w.recency) } td { (format!("{:.3}", s.recency)) }
                                 td { @match s.days_since_last { Some(d) => { "last interaction " (format!("{d:.1}")) " days ago" } None => { "no interaction" } } } }
                            tr { th scope="row" { "Frequency" } td { (w.frequency) } td { (format!("{:.3}", s.frequency)) }
                                 td { (r.facts.recent_interactions) " interactions in " (config.relationships.window_days) " days" } }
                            tr { th scope="row" { "Reciprocity" } td { (w.reciprocity) } td { (format!("{:.3}", s.reciprocity)) }
                                 td { "we gave " (r.facts.ledger.ours_total()) ", they gave " (r.facts.ledger.theirs_total()) } }
                            tr { th scope="row" { "Sentiment" } td { (w.sentiment) } td { (format!("{:.3}", s.sentiment)) }
                                 td { "mean compound " @match r.facts.mean_compound { Some(c) => { (format!("{c:+.3}")) } None => { "—" } } } }
                        }
                    }
                    @let l = &r.facts.ledger;
                    table #ledger {
                        caption { "Reciprocity ledger" }
                        thead { tr { th scope="col" { "We gave" } th scope="col" { "" } th scope="col" { "They gave" } th scope="col" { "" } } }
                        tbody {
                            tr { td { "Replies" } td { (l.ours.replies) } td { "Mentions" } td { (l.theirs.mentions) } }
                            tr { td { "Resolved issues" } td { (l.ours.resolved) } td { "Praise" } td { (l.theirs.praise) } }
                            tr { td { "Thanks" } td { (l.ours.thanks) } td { "Ideas" } td { (l.theirs.ideas) } }
                            tr { td { "Shares of their posts" } td { (l.ours.shares) } td { "Referrals" } td { (l.theirs.referrals) } }
                            tr { th scope="row" { "Total" } td { (l.ours_total()) } th scope="row" { "Total" } td { (l.theirs_total()) } }
                        }
                    }
                    @if r.at_risk.is_empty() {
                        p #at-risk { "Not at risk." }
                    } @else {
                        ul #at-risk {
                            @for a in &r.at_risk { li.risk { (a.describe()) } }
                        }
                    }
                }
            }
            @if !view.merges.is_empty() {
                h3 { "Merges" }
                ul #merges {
                    @for m in &view.merges {
                        li {
                            "Merge " (m.id) ": person " a href={ "/people/" (m.merged) } { (m.merged) } " into "
                            a href={ "/people/" (m.keep) } { (m.keep) } " by " (m.actor) ", " (when(m.at))
                            @if let Some(u) = m.undone_at {
                                " — undone by " (m.undone_by.as_deref().unwrap_or("?")) ", " (when(u))
                            } @else if session.may(Action::MergePeople) {
                                form.inline method="post" action=(format!("/people/merges/{}/undo", m.id)) {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    button type="submit" { "Undo" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `/people`: ROR, advocates, at risk, suggested merges.
pub async fn overview(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let r = relationships::ror_report(state.store(), state.config(), state.now(), 20).await?;
    let suggestions = state.store().merge_suggestions(20).await?;
    let body = html! {
        h1 { "People" }
        section aria-labelledby="ror-heading" {
            h2 #ror-heading { "Return on Relationship" }
            p #ror {
                strong { (format!("{:.3}", r.ror.ror)) }
                " — the mean relationship strength of the " (r.ror.active) " people active in the last "
                (r.window_days) " days; " (r.ror.advocates) " advocates, " (r.ror.at_risk) " relationships at risk."
            }
        }
        section aria-labelledby="advocates-heading" {
            h2 #advocates-heading { "Advocates" }
            @if r.top_advocates.is_empty() { p { "No advocates yet." } }
            ol #advocates {
                @for a in &r.top_advocates {
                    li { a href={ "/people/" (a.person_id) } { (a.name) } " · strength " (format!("{:.3}", a.strength)) }
                }
            }
        }
        section aria-labelledby="risk-heading" {
            h2 #risk-heading { "At risk" }
            @if r.at_risk_people.is_empty() { p { "No relationship is at risk." } }
            ul #risky {
                @for a in &r.at_risk_people {
                    li { a href={ "/people/" (a.person_id) } { (a.name) } " — " (a.reasons.join("; ")) }
                }
            }
        }
        section aria-labelledby="suggest-heading" {
            h2 #suggest-heading { "Suggested merges" }
            @if suggestions.is_empty() { p { "No merges to suggest." } }
            ul #suggestions {
                @for m in &suggestions {
                    li data-keep=(m.keep) data-merge=(m.merge) {
                        a href={ "/people/" (m.keep) } { "person " (m.keep) } " and "
                        a href={ "/people/" (m.merge) } { "person " (m.merge) }
                        " (" (m.confidence) "): " (m.reasons.join("; "))
                        @if session.may(Action::MergePeople) {
                            form.inline method="post" action="/people/merge" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                input type="hidden" name="keep" value=(m.keep);
                                input type="hidden" name="other" value=(m.merge);
                                button type="submit" { "Merge" }
                            }
                            form.inline method="post" action="/people/dismiss" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                input type="hidden" name="keep" value=(m.keep);
                                input type="hidden" name="other" value=(m.merge);
                                button type="submit" { "Two people" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout("People", Some(&session), Nav::People, state.now(), body),
    ))
}

/// The merge and dismiss forms' fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    keep: Option<i64>,
    #[serde(default)]
    other: Option<i64>,
}

/// The two people of a merge or dismiss form, once its CSRF token and the role are
/// checked.
fn pair(
    session: &Session,
    form: Result<Form<MergeForm>, FormRejection>,
) -> Result<(i64, i64), WebError> {
    let Form(form) = form.map_err(|_| missing_csrf())?;
    session.check_csrf(form.csrf.as_deref())?;
    session.require(Action::MergePeople)?;
    match (form.keep, form.other) {
        (Some(k), Some(o)) => Ok((k, o)),
        _ => Err(WebError::invalid("Name the two people.")),
    }
}

/// `POST /people/merge`: as `POST /api/v1/people/{keep}/merge`.
pub async fn merge(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<MergeForm>, FormRejection>,
) -> Result<Response, WebError> {
    let (keep, other) = pair(&session, form)?;
    state
        .store()
        .merge_people(keep, other, &session.user.name, state.now())
        .await?;
    Ok(see_other(&format!("/people/{keep}")))
}

/// `POST /people/dismiss`: the two are two people.
pub async fn dismiss(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<MergeForm>, FormRejection>,
) -> Result<Response, WebError> {
    let (keep, other) = pair(&session, form)?;
    state
        .store()
        .dismiss_merge(keep, other, &session.user.name, state.now())
        .await?;
    Ok(see_other("/people"))
}

/// The undo form's field.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /people/merges/{id}/undo`: as `POST /api/v1/people/merges/{id}/undo`.
pub async fn unmerge(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|_| missing_csrf())?;
    session.check_csrf(form.csrf.as_deref())?;
    session.require(Action::MergePeople)?;
    let Path(id) = path.map_err(|_| WebError::not_found("There is no such merge."))?;
    let m = state
        .store()
        .unmerge_people(id, &session.user.name, state.now())
        .await?;
    Ok(see_other(&format!("/people/{}", m.merged)))
}
