//! `/ideas`: the ideas loop (docs/ideas.md). The items by status with their counts of
//! messages and people; `/ideas/{id}`: one item's messages and people (linked to their
//! conversations and person pages), the replies drafted, and a form to change its
//! status, which drafts a reply to everyone who raised it (as `rapport ideas status`).

use std::str::FromStr as _;

use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use rapport_core::access::Action;
use rapport_core::ideas::IdeaStatus;
use serde::Deserialize;

use super::{
    Nav, Session, WebError, layout, missing_csrf, page_response, see_other, snippet, when,
};
use crate::AppState;
use crate::ideas::{self, IdeaActionError};

/// The list, by status.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let now = state.now();
    ideas::group(
        state.store(),
        state.config(),
        state.embedder().map(|e| &**e),
        now,
    )
    .await?;
    let items = state.store().idea_items(None).await?;
    let body = html! {
        h1 { "Ideas" }
        p { "Ideas from the community, grouped by similarity. When an idea's status changes, everyone who raised it gets a reply drafted for approval." }
        @for status in IdeaStatus::ALL {
            @let these: Vec<_> = items.iter().filter(|i| i.status == status.as_str()).collect();
            section id=(format!("ideas-{status}")) aria-labelledby=(format!("ideas-{status}-title")) {
                h2 id=(format!("ideas-{status}-title")) { (capitalised(status)) " (" (these.len()) ")" }
                @if these.is_empty() {
                    p.empty { "None." }
                } @else {
                    table {
                        thead { tr { th { "Idea" } th { "People" } th { "Messages" } th { "Latest" } } }
                        tbody {
                            @for i in these {
                                tr id=(format!("idea-{}", i.id)) {
                                    td { a href=(format!("/ideas/{}", i.id)) { (snippet(&i.title, 80)) } }
                                    td.people { (i.people) }
                                    td.messages { (i.messages) }
                                    td { @if let Some(t) = i.latest { (when(t)) } }
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
        layout("Ideas", Some(&session), Nav::Ideas, now, body),
    ))
}

fn capitalised(s: IdeaStatus) -> &'static str {
    match s {
        IdeaStatus::New => "New",
        IdeaStatus::Planned => "Planned",
        IdeaStatus::Shipped => "Shipped",
        IdeaStatus::Declined => "Declined",
    }
}

/// One item.
pub async fn item(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let Path(id) = path.map_err(|_| WebError::not_found("There is no such idea."))?;
    let d = state.store().idea_item(id).await?;
    let now = state.now();
    let may = state.config().ideas.check_role(session.user.role).is_ok();
    let body = html! {
        h1 { "Idea " (d.item.id) ": " (d.item.title) }
        p { "Status: " strong #idea-status { (d.item.status) } " · " (d.item.messages) " messages from " (d.item.people) " people" }
        @if let Some(into) = d.merged_into {
            p { "Merged into " a href=(format!("/ideas/{into}")) { "idea " (into) } "." }
        }
        @if may && d.merged_into.is_none() {
            form #idea-status-form method="post" action=(format!("/ideas/{id}/status")) {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="from" value=(d.item.status);
                label for="status" { "New status" }
                select #status name="status" {
                    @for s in IdeaStatus::ALL {
                        option value=(s.as_str()) selected[s.as_str() == d.item.status] { (s.as_str()) }
                    }
                }
                label for="note" { "Note" }
                input #note type="text" name="note";
                button type="submit" { "Change status and draft the replies" }
            }
        }
        section #people aria-labelledby="people-title" {
            h2 #people-title { "Who raised it" }
            ul {
                @for p in &d.people_list {
                    li id=(format!("person-{}", p.person_id)) {
                        a href=(format!("/people/{}", p.person_id)) { (p.display_name.as_deref().unwrap_or(&p.handle)) }
                        " (" (p.platform) " " (p.handle) ") · " (p.messages) " message(s)"
                        @if let Some(c) = p.conversation_id {
                            " · replies answer " a href=(format!("/conversations/{c}")) { "conversation " (c) }
                        }
                    }
                }
            }
        }
        section #messages aria-labelledby="messages-title" {
            h2 #messages-title { "Messages" }
            ul {
                @for m in &d.message_list {
                    li id=(format!("message-{}", m.message_id)) {
                        @if let Some(c) = m.conversation_id {
                            a href=(format!("/conversations/{c}")) { (m.author) }
                        } @else {
                            (m.author)
                        }
                        " · " (when(m.created_at))
                        p { (snippet(&m.text, 280)) }
                    }
                }
            }
        }
        @if !d.replies.is_empty() {
            section #replies aria-labelledby="replies-title" {
                h2 #replies-title { "Replies drafted" }
                ul {
                    @for r in &d.replies {
                        li { (r.status) " → person " (r.person_id) ": "
                            @match (r.draft_id, &r.draft_status) {
                                (Some(id), Some(s)) => { "draft " (id) " (" (s) ")" }
                                _ => { "drafted for a merged idea" }
                            }
                        }
                    }
                }
                p { a href="/drafts" { "The approval queue" } }
            }
        }
    };
    Ok(page_response(
        StatusCode::OK,
        layout(&format!("Idea {id}"), Some(&session), Nav::Ideas, now, body),
    ))
}

/// The status form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /ideas/{id}/status`: as `POST /api/v1/ideas/{id}/status`.
pub async fn status(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<StatusForm>, FormRejection>,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|_| missing_csrf())?;
    session.check_csrf(form.csrf.as_deref())?;
    session.require(Action::Read)?;
    let Path(id) = path.map_err(|_| WebError::not_found("There is no such idea."))?;
    let parse = |s: &str| {
        IdeaStatus::from_str(s).map_err(|e| WebError::invalid(super::capitalise(&e.to_string())))
    };
    let to = parse(form.status.as_deref().unwrap_or_default())?;
    let from = form.from.as_deref().map(parse).transpose()?;
    ideas::set_status(
        state.store(),
        state.config(),
        id,
        to,
        from,
        &session.user.name,
        session.user.role,
        form.note.as_deref(),
        state.now(),
    )
    .await
    .map_err(|e| match e {
        IdeaActionError::NotAllowed(m) => {
            WebError::new(StatusCode::FORBIDDEN, super::capitalise(&m))
        }
        IdeaActionError::Conflict(m) => WebError::new(StatusCode::CONFLICT, super::capitalise(&m)),
        IdeaActionError::Store(e) => e.into(),
    })?;
    Ok(see_other(&format!("/ideas/{id}")))
}
