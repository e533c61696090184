//! `/settings` (leaders and admins): the configuration as it is in force — teams, SLAs,
//! routing rules, channels (names and kinds; never where their secrets are) — and, for
//! admins, the users. Read-only: the configuration lives in `rapport.toml`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use rapport_core::access::Action;
use rapport_core::sla::{DaySpec, SlaPolicy};

use super::{Nav, Session, WebError, layout, page_response, when};
use crate::AppState;

fn sla_cells(p: &SlaPolicy) -> Markup {
    html! {
        td data-label="P1" { (p.p1) " min" }
        td data-label="P2" { (p.p2) " min" }
        td data-label="P3" { (p.p3) " min" }
        td data-label="P4" { (p.p4) " min" }
    }
}

fn compact(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k} = {s}"),
                other => format!("{k} = {other}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The settings page.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    session.require(Action::Settings)?;
    let config = state.config();
    let users = if session.may(Action::ManageUsers) {
        Some(state.store().users().await?)
    } else {
        None
    };
    let body = html! {
        h1 { "Settings" }
        p { "What is in force, from " code { "rapport.toml" } ". Change that file and restart "
            code { "rapport serve" } " to change these." }
        section aria-labelledby="teams-heading" {
            h2 #teams-heading { "Teams" }
            @if config.teams.is_empty() { p { "No teams: every conversation is unrouted." } }
            table #teams {
                thead { tr {
                    th scope="col" { "Team" } th scope="col" { "Members (capacity)" }
                    th scope="col" { "Business hours" }
                } }
                tbody {
                    @for t in &config.teams {
                        tr {
                            th scope="row" data-label="Team" { (t.name) }
                            td data-label="Members" {
                                @if t.members.is_empty() { "none" }
                                ul.plain {
                                    @for m in &t.members {
                                        li { (m.name) " (" @match m.capacity { Some(c) => { (c) " open at most" } None => { "no limit" } } ")" }
                                    }
                                }
                            }
                            td data-label="Business hours" {
                                @match &t.hours {
                                    Some(h) => {
                                        (match &h.days { DaySpec::Spec(s) => s.clone(), DaySpec::List(l) => l.join(", ") })
                                        " " (h.start) "–" (h.end) " " (h.timezone)
                                        @if !h.holidays.is_empty() { ", " (h.holidays.len()) " holidays" }
                                    }
                                    None => { "around the clock" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="sla-heading" {
            h2 #sla-heading { "First-response SLA per band" }
            table #sla {
                thead { tr {
                    th scope="col" { "Applies to" }
                    th scope="col" { "P1" } th scope="col" { "P2" } th scope="col" { "P3" } th scope="col" { "P4" }
                } }
                tbody {
                    tr { th scope="row" { "default" } (sla_cells(&config.sla)) }
                    @for t in &config.teams {
                        tr { th scope="row" { (t.name) } (sla_cells(config.sla_for(Some(&t.name)))) }
                    }
                }
            }
            p { "Priority bands: P1 at a score of " (config.priority.bands.p1) " or more, P2 at "
                (config.priority.bands.p2) ", P3 at " (config.priority.bands.p3) ", else P4." }
        }
        section aria-labelledby="rules-heading" {
            h2 #rules-heading { "Routing rules, tried in order" }
            @if config.rules.is_empty() { p { "No rules: conversations stay unrouted." } }
            ol #rules {
                @for r in &config.rules {
                    li {
                        @let when = compact(&r.when);
                        strong { (r.name) } ": when "
                        @if when.is_empty() { "anything" } @else { code { (when) } }
                        " then " code { (compact(&r.then)) }
                    }
                }
            }
        }
        section aria-labelledby="channels-heading" {
            h2 #channels-heading { "Channels" }
            @if config.channels.is_empty() { p { "No channels: replies are recorded, not sent." } }
            table #channels hidden[config.channels.is_empty()] {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Kind" } } }
                tbody {
                    @for c in &config.channels {
                        tr { td data-label="Name" { (c.name) } td data-label="Kind" { (c.kind.as_str()) } }
                    }
                }
            }
        }
        @if let Some(users) = &users {
            section aria-labelledby="users-heading" {
                h2 #users-heading { "Users" }
                p { "Add users and change roles with " code { "rapport user" } " or the API." }
                table #users {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Role" }
                        th scope="col" { "Since" } th scope="col" { "State" }
                    } }
                    tbody {
                        @for u in users {
                            tr {
                                td data-label="Name" { (u.name) }
                                td data-label="Role" { (u.role) }
                                td data-label="Since" { (when(u.created_at)) }
                                td data-label="State" { @if u.disabled { "disabled" } @else { "active" } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout("Settings", Some(&session), Nav::Settings, state.now(), body),
    ))
}
