//! `/`: the inbox, most urgent first, with filters and cursor pages; the script keeps
//! it live and moves through it with `j` / `k`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use rapport_core::access::Action;
use rapport_core::{Band, Intent, Status};
use rapport_store::{ConversationRow, InboxCursor, InboxFilter};
use serde::Deserialize;

use super::{
    Nav, Session, WebError, chosen, layout, page_response, priority_badge, query_string,
    sentiment_badge, sla, snippet,
};
use crate::AppState;

/// Rows on one page.
pub const PAGE: u32 = 50;
/// Characters of the first message shown in a row.
pub const SNIPPET: usize = 140;
/// The statuses the filter offers; `open` is the default.
const STATUSES: [&str; 5] = ["open", "pending", "snoozed", "resolved", "all"];

/// The filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    team: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    intent: Option<String>,
    topic: Option<String>,
    assignee: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

impl InboxQuery {
    /// The filters as a query string, without the cursor.
    fn query(&self) -> Vec<(&'static str, String)> {
        let keep = |v: &Option<String>| chosen(v).unwrap_or_default().to_owned();
        vec![
            ("team", keep(&self.team)),
            (
                "status",
                self.status
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && *s != "open")
                    .unwrap_or_default()
                    .to_owned(),
            ),
            ("priority", keep(&self.priority)),
            ("intent", keep(&self.intent)),
            ("topic", keep(&self.topic)),
            ("assignee", keep(&self.assignee)),
            ("q", keep(&self.q)),
        ]
    }
}

/// The store's filter for `q`, or what is wrong with it.
fn filter(q: &InboxQuery, state: &AppState) -> Result<InboxFilter, String> {
    let status = match q.status.as_deref().map(str::trim).unwrap_or("") {
        "" | "open" => Some(Status::Open),
        "all" | "any" => None,
        s => Some(s.parse::<Status>().map_err(|e| e.to_string())?),
    };
    let team = chosen(&q.team).map(str::to_owned);
    if let Some(t) = &team
        && t != "unrouted"
        && state.config().team(t).is_none()
    {
        return Err(format!("There is no team {t:?} in the configuration."));
    }
    let band = chosen(&q.priority)
        .map(str::parse::<Band>)
        .transpose()
        .map_err(|e| e.to_string())?;
    let intent = chosen(&q.intent)
        .map(str::parse::<Intent>)
        .transpose()
        .map_err(|e| e.to_string())?;
    let after = match chosen(&q.cursor) {
        Some(c) => Some(InboxCursor::decode(c).ok_or(
            "That page link is broken: go back to the first page of the inbox.".to_owned(),
        )?),
        None => None,
    };
    let text = chosen(&q.q).map(|t| t.chars().take(200).collect::<String>());
    Ok(InboxFilter {
        team,
        status,
        band,
        assignee: chosen(&q.assignee).map(str::to_owned),
        intent,
        label: chosen(&q.topic)
            .filter(|t| *t != "any")
            .map(|t| format!("topic:{t}")),
        text,
        // One more than shown, to know whether there is a next page.
        limit: PAGE + 1,
        by_score: false,
        after,
    })
}

/// The inbox page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<InboxQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Err(WebError::invalid(e.body_text())),
    };
    let now = state.now();
    let (mut rows, error) = match filter(&q, &state) {
        Ok(f) => (state.store().inbox(&f).await?, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| InboxCursor::after(r).encode())
    } else {
        None
    };
    let filters = q.query();
    let pairs = |cursor: Option<&str>| {
        let mut p: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(c) = cursor {
            p.push(("cursor", c));
        }
        query_string(&p)
    };
    let body = html! {
        div.titlebar {
            h1 { "Inbox" }
            span #live.live role="status" aria-live="polite" { "offline" }
        }
        (filters_form(&q, &state))
        @if let Some(e) = &error {
            p.error role="alert" { (e) }
        }
        table #inbox {
            caption.visually-hidden { "Conversations, most urgent first" }
            thead {
                tr {
                    th scope="col" { "Priority" }
                    th scope="col" { "Sentiment" }
                    th scope="col" { "Due" }
                    th scope="col" { "Author" }
                    th scope="col" { "Conversation" }
                    th scope="col" { "Team" }
                    th scope="col" { "Assignee" }
                    th scope="col" { "Status" }
                }
            }
            tbody {
                @for r in &rows {
                    (row(r, now))
                }
            }
        }
        @if rows.is_empty() && error.is_none() {
            p #empty { "Nothing here. Try the status “all”, another team, or fewer filters." }
        }
        nav.pages aria-label="Pages" {
            @if q.cursor.as_deref().is_some_and(|c| !c.is_empty()) {
                a #first-page href={ "/" (pairs(None)) } { "First page" }
            }
            @if let Some(c) = &next {
                a #next-page href={ "/" (pairs(Some(c))) } rel="next" { "Next page" }
            }
        }
        p.shortcuts {
            "Keys: " kbd { "j" } " / " kbd { "k" } " move, " kbd { "o" } " or " kbd { "Enter" } " opens."
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page_response(
        status,
        layout("Inbox", Some(&session), Nav::Inbox, now, body),
    ))
}

fn filters_form(q: &InboxQuery, state: &AppState) -> Markup {
    let team = chosen(&q.team).unwrap_or("all");
    let status = q
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("open");
    let priority = chosen(&q.priority).unwrap_or("any");
    let intent = chosen(&q.intent).unwrap_or("any");
    let mut teams: Vec<&str> = vec!["all"];
    teams.extend(state.config().teams.iter().map(|t| t.name.as_str()));
    teams.push("unrouted");
    let mut priorities = vec!["any"];
    priorities.extend(Band::ALL.iter().map(|b| b.as_str()));
    let mut intents = vec!["any"];
    intents.extend(Intent::ALL.iter().map(|i| i.as_str()));
    let topic = chosen(&q.topic).unwrap_or("any");
    let mut topics = vec!["any"];
    topics.extend(state.config().topics.iter().map(|t| t.name.as_str()));
    let select = |name: &str, label: &str, options: &[&str], current: &str| {
        let id = format!("filter-{name}");
        html! {
            div.field {
                label for=(id) { (label) }
                select id=(id) name=(name) {
                    @for o in options {
                        option value=(o) selected[*o == current] { (o) }
                    }
                }
            }
        }
    };
    html! {
        form #filters method="get" action="/" role="search" aria-label="Filter the inbox" {
            (select("team", "Team", &teams, team))
            (select("status", "Status", &STATUSES, status))
            (select("priority", "Priority", &priorities, priority))
            (select("intent", "Intent", &intents, intent))
            @if topics.len() > 1 {
                (select("topic", "Topic", &topics, topic))
            }
            div.field {
                label for="filter-assignee" { "Assignee" }
                input #filter-assignee type="text" name="assignee" value=(chosen(&q.assignee).unwrap_or_default())
                    placeholder="name, or none" autocomplete="off";
            }
            div.field.grow {
                label for="filter-q" { "Text or author" }
                input #filter-q type="search" name="q" value=(chosen(&q.q).unwrap_or_default())
                    autocomplete="off";
            }
            button type="submit" { "Filter" }
        }
    }
}

/// One conversation's row; `app.js` builds the same from the API's JSON.
pub fn row(r: &ConversationRow, now: DateTime<Utc>) -> Markup {
    let due: Option<DateTime<Utc>> = r.due_at;
    html! {
        tr.conversation data-id=(r.id) data-status=(r.status) data-priority=(r.priority.as_str())
            data-intent=(r.intent) data-team=(r.team.as_deref().unwrap_or("unrouted"))
            data-assignee=(r.assignee.as_deref().unwrap_or("")) {
            td.priority data-label="Priority" { (priority_badge(r.priority)) }
            td.sentiment data-label="Sentiment" { (sentiment_badge(r.compound)) }
            td.due data-label="Due" { (sla(due, now)) }
            td.author data-label="Author" { (r.author) }
            td.subject data-label="Conversation" {
                a.open href={ "/conversations/" (r.id) } {
                    @if r.snippet.trim().is_empty() { "(no text)" } @else { (snippet(&r.snippet, SNIPPET)) }
                }
                " " span.intent { (r.intent) }
            }
            td.team data-label="Team" { (r.team.as_deref().unwrap_or("—")) }
            td.assignee data-label="Assignee" { (r.assignee.as_deref().unwrap_or("—")) }
            td.status data-label="Status" { (r.status) }
        }
    }
}
