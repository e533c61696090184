//! `/people/{id}`: one person across platforms: their accounts, their conversations, and
//! the sentiment of what they wrote over time.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use rapport_core::access::Action;

use super::chart::{Chart, Kind, Series};
use super::inbox::SNIPPET;
use super::{
    Nav, Session, WebError, layout, page_response, priority_badge, sentiment_badge, snippet, when,
};
use crate::AppState;

/// The person page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let Path(id) = path.map_err(|_| WebError::not_found("There is no such person."))?;
    let p = state.store().person(id).await?;
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
        section aria-labelledby="sentiment-heading" {
            h2 #sentiment-heading { "Sentiment over time" }
            figure.chart {
                (chart.svg(Some("sentiment-chart")))
                figcaption { (chart.title) }
                (chart.table())
            }
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
        layout(&name, Some(&session), Nav::Inbox, state.now(), body),
    ))
}
