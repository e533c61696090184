//! `/conversations/{id}`: the thread, why it was triaged so, and what people do to it
//! (reply, assign, status, notes, labels, and correcting an inbound message's intent or
//! sentiment for the model that learns from the team), each a form that posts back here.

use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use rapport_core::access::Action;
use rapport_core::priority::{PriorityInputs, score};
use rapport_core::{Intent, Status};
use rapport_store::{ConversationDetail, EventRow, MessageRow};
use serde::Deserialize;
use serde_json::Value;

use super::{
    Nav, Session, WebError, layout, missing_csrf, page_response, priority_badge, see_other,
    sentiment_badge, sla, when,
};
use crate::AppState;
use crate::api::conversations::MAX_TEXT_BYTES;
use crate::replies::{self, ReplyError};

/// Replies offered in the reply form's `canned` list; choosing one fills the text box.
pub const CANNED: [(&str, &str); 4] = [
    (
        "We're on it",
        "Thanks for letting us know. We're looking into it and will get back to you shortly.",
    ),
    (
        "Ask for details",
        "Sorry about this! Could you send us a direct message with your order number, so we can sort it out?",
    ),
    (
        "Thanks for the praise",
        "Thank you for the kind words, we've passed them on to the team!",
    ),
    (
        "Idea noted",
        "What a good idea, thank you. We've shared it with our product team and will tell you what becomes of it.",
    ),
];

/// A form that was refused, shown again beside its form with what was typed.
#[derive(Debug, Clone)]
struct Problem {
    form: &'static str,
    message: String,
    draft: String,
}

fn conversation_id(path: Result<Path<i64>, PathRejection>) -> Result<i64, WebError> {
    path.map(|Path(id)| id)
        .map_err(|_| WebError::not_found("There is no such conversation."))
}

/// The conversation page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let id = conversation_id(path)?;
    render(&state, &session, id, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    id: i64,
    problem: Option<Problem>,
) -> Result<Response, WebError> {
    let detail = state.store().conversation(id).await?;
    if detail.conversation.id != id && problem.is_none() {
        // Merged into another: show that one at its own address.
        return Ok(see_other(&format!(
            "/conversations/{}",
            detail.conversation.id
        )));
    }
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let c = &detail.conversation;
    let title = format!("{} on {}", c.author, c.platform);
    let body = body(state, session, &detail, problem.as_ref());
    Ok(page_response(
        status,
        layout(&title, Some(session), Nav::Inbox, state.now(), body),
    ))
}

fn body(
    state: &AppState,
    session: &Session,
    d: &ConversationDetail,
    problem: Option<&Problem>,
) -> Markup {
    let c = &d.conversation;
    let now = state.now();
    let error_for = |form: &str| problem.filter(|p| p.form == form);
    let draft_for = |form: &str| error_for(form).map(|p| p.draft.clone()).unwrap_or_default();
    let members: Vec<&str> = {
        let mut m: Vec<&str> = state
            .config()
            .teams
            .iter()
            .flat_map(|t| t.members.iter().map(|m| m.name.as_str()))
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    };
    html! {
        div.conversation-page data-conversation-id=(c.id) {
            div.titlebar {
                h1 { (c.author) " on " (c.platform) }
                @if let Some(person) = c.person_id {
                    a #person href={ "/people/" (person) } { "Everything from " (c.author) }
                }
            }
            p.facts {
                (priority_badge(c.priority)) " "
                (sentiment_badge(c.compound)) " "
                span.status { "status " strong { (c.status) } } " · "
                span { "intent " strong { (c.intent) } } " · "
                span { "team " strong { (c.team.as_deref().unwrap_or("unrouted")) } } " · "
                span { "assignee " strong { (c.assignee.as_deref().unwrap_or("nobody")) } } " · "
                (sla(c.due_at, now))
            }
            p #stale.notice hidden role="status" {
                "This conversation changed since the page was loaded. "
                a href={ "/conversations/" (c.id) } { "Reload it" }
            }
            div.columns {
                div.thread-column {
                    h2 { "Thread" }
                    @if let Some(p) = error_for("correction") {
                        p.error role="alert" { (p.message) }
                    }
                    ol #thread {
                        @for m in &d.messages {
                            (message(m, d, (m.direction == "inbound" && session.may(Action::Label))
                                .then(|| correction_forms(c.id, m, &session.csrf))))
                        }
                    }
                    @if session.may(Action::Reply) {
                        section.reply aria-labelledby="reply-heading" {
                            h2 #reply-heading { "Reply" }
                            @if let Some(p) = error_for("reply") {
                                p.error role="alert" { (p.message) }
                            }
                            form #reply method="post" action={ "/conversations/" (c.id) "/reply" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                div.field {
                                    label for="canned" { "Canned reply" }
                                    select #canned name="canned" {
                                        option value="" { "— choose one to fill the reply —" }
                                        @for (name, text) in CANNED {
                                            option value=(text) { (name) }
                                        }
                                    }
                                }
                                div.field {
                                    label for="reply-text" { "Your reply (sent on " (c.platform) " when a channel for it is set up)" }
                                    textarea #reply-text name="text" rows="4" required { (draft_for("reply")) }
                                }
                                div.field.inline {
                                    input #reply-local type="checkbox" name="local" value="true";
                                    label for="reply-local" { "Record only: it was answered elsewhere" }
                                }
                                button type="submit" { "Send reply" }
                            }
                            p.shortcuts { "Keys: " kbd { "r" } " reply, " kbd { "a" } " assign, " kbd { "e" } " resolve." }
                        }
                    }
                }
                aside.side aria-label="Triage and actions" {
                    @if session.may(Action::SetStatus) {
                        section aria-labelledby="status-heading" {
                            h2 #status-heading { "Status" }
                            @if let Some(p) = error_for("status") {
                                p.error role="alert" { (p.message) }
                            }
                            form #status.buttons method="post" action={ "/conversations/" (c.id) "/status" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                @for (value, text) in [("resolved", "Resolve"), ("pending", "Pending"), ("open", "Open")] {
                                    button type="submit" name="status" value=(value)
                                        aria-pressed=(if c.status == value { "true" } else { "false" }) { (text) }
                                }
                            }
                        }
                    }
                    @if session.may(Action::Assign) {
                        section aria-labelledby="assign-heading" {
                            h2 #assign-heading { "Assignee" }
                            @if let Some(p) = error_for("assign") {
                                p.error role="alert" { (p.message) }
                            }
                            form #assign.inline-form method="post" action={ "/conversations/" (c.id) "/assign" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                label for="assign-to" { "Assign to" }
                                input #assign-to type="text" name="to" list="members" autocomplete="off"
                                    value=(c.assignee.as_deref().unwrap_or_default()) required;
                                datalist #members {
                                    @for m in &members { option value=(m) {} }
                                }
                                button type="submit" { "Assign" }
                            }
                        }
                    }
                    (explain(state, d))
                    section aria-labelledby="labels-heading" {
                        h2 #labels-heading { "Labels" }
                        ul #labels.tags {
                            @for l in &d.labels { li { (l) } }
                        }
                        @if d.labels.is_empty() { p.none { "No labels." } }
                        @if session.may(Action::Label) {
                            @if let Some(p) = error_for("label") {
                                p.error role="alert" { (p.message) }
                            }
                            form #label.inline-form method="post" action={ "/conversations/" (c.id) "/labels" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                label for="label-name" { "Add a label" }
                                input #label-name type="text" name="label" maxlength="100" required
                                    value=(draft_for("label"));
                                button type="submit" { "Add" }
                            }
                        }
                    }
                    section aria-labelledby="notes-heading" {
                        h2 #notes-heading { "Private notes" }
                        ol #notes {
                            @for n in &d.notes {
                                li { span.meta { strong { (n.author) } " · " (when(n.at)) } p.text { (n.text) } }
                            }
                        }
                        @if d.notes.is_empty() { p.none { "No notes." } }
                        @if session.may(Action::Note) {
                            @if let Some(p) = error_for("note") {
                                p.error role="alert" { (p.message) }
                            }
                            form #note method="post" action={ "/conversations/" (c.id) "/notes" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                div.field {
                                    label for="note-text" { "Add a note (never sent to the author)" }
                                    textarea #note-text name="text" rows="2" required { (draft_for("note")) }
                                }
                                button type="submit" { "Add note" }
                            }
                        }
                    }
                    section aria-labelledby="events-heading" {
                        h2 #events-heading { "History" }
                        ol #events {
                            @for e in &d.events { (event(e)) }
                        }
                    }
                }
            }
        }
    }
}

/// Two small forms under an inbound message: its real intent, its real sentiment.
fn correction_forms(conversation: i64, m: &MessageRow, csrf: &str) -> Markup {
    let action = format!(
        "/conversations/{conversation}/messages/{}/corrections",
        m.id
    );
    html! {
        div.corrections {
            form.inline-form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="field" value="intent";
                label for={ "intent-" (m.id) } { "Intent" }
                select id={ "intent-" (m.id) } name="value" {
                    @for i in Intent::ALL {
                        option value=(i.as_str()) selected[m.intent == i.as_str()] { (i.as_str()) }
                    }
                }
                button type="submit" { "Correct intent" }
            }
            form.inline-form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="field" value="sentiment";
                label for={ "sentiment-" (m.id) } { "Sentiment" }
                select id={ "sentiment-" (m.id) } name="value" {
                    @for s in ["positive", "neutral", "negative"] {
                        option value=(s) selected[rapport_core::SentimentBand::of(m.compound).as_str() == s] { (s) }
                    }
                }
                button type="submit" { "Correct sentiment" }
            }
        }
    }
}

fn message(m: &MessageRow, d: &ConversationDetail, corrections: Option<Markup>) -> Markup {
    let sent = d
        .outbox
        .iter()
        .find(|o| o.message_id == m.id)
        .map(|o| match o.state.as_str() {
            "sent" => format!("(sent through {})", o.channel),
            "failed" => format!(
                "(refused by {}: {})",
                o.channel,
                o.last_error.as_deref().unwrap_or("no reason given")
            ),
            _ => format!(
                "(not sent yet through {}{})",
                o.channel,
                o.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        });
    let state_class = d
        .outbox
        .iter()
        .find(|o| o.message_id == m.id)
        .map(|o| format!("send {}", o.state))
        .unwrap_or_default();
    html! {
        li.message data-direction=(m.direction) {
            div.meta {
                strong.author { (m.author) }
                " · " (when(m.created_at)) " "
                (sentiment_badge(m.compound))
                @if m.automated { " " span.tag { "automated" } }
                @if let Some(s) = &sent { " " span class=(state_class) { (s) } }
                @if let Some(url) = m.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
                    " · " a href=(url) rel="noopener noreferrer nofollow" { "on " (m.platform) }
                }
            }
            p.text { (m.text) }
            @if let Some(forms) = corrections { (forms) }
        }
    }
}

fn event(e: &EventRow) -> Markup {
    let detail = match &e.data {
        Value::Object(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => "—".to_owned(),
                    // Times are stored as milliseconds since the epoch.
                    Value::Number(n) if k.ends_with("_at") => n
                        .as_i64()
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_else(|| n.to_string()),
                    Value::Number(n) if n.is_f64() => {
                        format!("{:.2}", n.as_f64().unwrap_or_default())
                    }
                    other => other.to_string(),
                };
                format!("{k}: {v}")
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) | Value::Null => String::new(),
        other => other.to_string(),
    };
    html! {
        li data-kind=(e.kind) {
            (when(e.at)) " " strong { (e.kind) } " by " (e.actor)
            @if !detail.is_empty() { " — " span.detail { (detail) } }
        }
    }
}

fn explain(state: &AppState, d: &ConversationDetail) -> Markup {
    let config = state.config();
    let c = &d.conversation;
    let root = d.messages.iter().find(|m| m.direction == "inbound");
    let policy = config.sla_for(c.team.as_deref());
    let minutes = policy.minutes_for(c.priority);
    let business = config.calendar_for(c.team.as_deref()).is_some();
    let bands = &config.priority.bands;
    html! {
        section #explain aria-labelledby="explain-heading" {
            h2 #explain-heading { "Why this triage" }
            dl {
                @if let Some(m) = root {
                    dt { "Intent" }
                    dd { strong { (m.intent) } ", by the rule " code { (m.intent_rule) } }
                    dt { "Sentiment" }
                    dd { "compound " (format!("{:+.3}", m.compound)) " (" (sentiment_badge(m.compound)) ")"
                         " — positive ≥ 0.05, negative ≤ −0.05" }
                    @let terms = score(&PriorityInputs {
                        intent: m.intent.parse().unwrap_or(Intent::Other),
                        compound: m.compound,
                        followers: m.followers.unwrap_or(0).max(0).unsigned_abs(),
                        reshares: m.reshares.max(0).unsigned_abs(),
                        replies: m.replies.max(0).unsigned_abs(),
                    }, &config.priority);
                    dt { "Priority of the first message" }
                    dd {
                        "score " strong { (format!("{:.1}", m.priority_score)) }
                        " = intent weight " (format!("{:.1}", terms.intent_weight))
                        " × negativity " (format!("{:.2}", terms.negativity))
                        " × reach " (format!("{:.2}", terms.reach))
                        " (" (m.followers.unwrap_or(0)) " followers)"
                        " × velocity " (format!("{:.2}", terms.velocity))
                        " → " (m.priority.as_str())
                    }
                }
                dt { "Priority of the conversation" }
                dd {
                    (priority_badge(c.priority)) " score " (format!("{:.1}", c.priority_score))
                    " (the highest of its messages; bands: P1 ≥ " (bands.p1) ", P2 ≥ " (bands.p2)
                    ", P3 ≥ " (bands.p3) ", else P4"
                    @if bands.band(c.priority_score) != c.priority { "; set by a routing rule" }
                    ")"
                }
                dt { "Team" }
                dd {
                    strong { (c.team.as_deref().unwrap_or("unrouted")) }
                    @match &c.route_rule {
                        Some(rule) => { ", by the routing rule " code { (rule) } }
                        None => { ", no routing rule matched" }
                    }
                }
                dt { "First response due" }
                dd {
                    @match c.first_due_at {
                        Some(t) => { (when(t)) }
                        None => { "no SLA" }
                    }
                    " (" (c.priority.as_str()) ": " (minutes) " minutes"
                    @if business { ", in business hours" }
                    ")"
                    @if let Some(t) = c.first_response_at { "; answered " (when(t)) }
                }
                dt { "Due now" }
                dd { (sla(c.due_at, state.now())) }
            }
        }
    }
}

/// The reply form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    local: Option<String>,
}

/// Checks the CSRF token and the role, in that order: a form from elsewhere is refused
/// before anything about it is considered.
fn admit<T>(
    session: &Session,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> Option<&str>,
    action: Action,
) -> Result<T, WebError> {
    let Form(form) = form.map_err(|_| missing_csrf())?;
    session.check_csrf(csrf(&form))?;
    session.require(action)?;
    Ok(form)
}

fn text_problem(text: &str, what: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some(format!("The {what} is empty: write some text."))
    } else if text.len() > MAX_TEXT_BYTES {
        Some(format!(
            "The {what} is {} bytes, over the 64 KiB limit: shorten it.",
            text.len()
        ))
    } else {
        None
    }
}

fn back(id: i64) -> Response {
    see_other(&format!("/conversations/{id}"))
}

async fn refused(
    state: &AppState,
    session: &Session,
    id: i64,
    form: &'static str,
    message: String,
    draft: String,
) -> Result<Response, WebError> {
    render(
        state,
        session,
        id,
        Some(Problem {
            form,
            message,
            draft,
        }),
    )
    .await
}

/// `POST /conversations/{id}/reply`: as `POST /api/v1/conversations/{id}/reply`.
pub async fn reply(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<ReplyForm>, FormRejection>,
) -> Result<Response, WebError> {
    let id = conversation_id(path)?;
    let form = admit(&session, form, |f| f.csrf.as_deref(), Action::Reply)?;
    if let Some(problem) = text_problem(&form.text, "reply") {
        return refused(&state, &session, id, "reply", problem, form.text).await;
    }
    let local = form
        .local
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "on" | "1"));
    let replied = replies::reply(
        state.store(),
        state.config(),
        replies::Answer {
            id,
            text: &form.text,
            actor: &session.user.name,
            now: state.now(),
            channel: None,
            local,
        },
    )
    .await;
    match replied {
        Ok(_) => {
            state.changed(id);
            Ok(back(id))
        }
        Err(ReplyError::Store(rapport_store::StoreError::Invalid(message))) => {
            refused(&state, &session, id, "reply", message, form.text).await
        }
        Err(ReplyError::Store(e)) => Err(e.into()),
        Err(other) => refused(&state, &session, id, "reply", other.to_string(), form.text).await,
    }
}

/// The assign form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    to: String,
}

/// `POST /conversations/{id}/assign`: to a member.
pub async fn assign(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<AssignForm>, FormRejection>,
) -> Result<Response, WebError> {
    let id = conversation_id(path)?;
    let form = admit(&session, form, |f| f.csrf.as_deref(), Action::Assign)?;
    let to = form.to.trim();
    if to.is_empty() || to.len() > 100 {
        return refused(
            &state,
            &session,
            id,
            "assign",
            "Name the member to assign it to.".to_owned(),
            String::new(),
        )
        .await;
    }
    state
        .store()
        .assign(id, Some(to), None, &session.user.name, state.now())
        .await?;
    state.changed(id);
    Ok(back(id))
}

/// The status form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    status: String,
}

/// `POST /conversations/{id}/status`: a reopened conversation starts a new SLA clock now,
/// as in the API.
pub async fn status(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<StatusForm>, FormRejection>,
) -> Result<Response, WebError> {
    let id = conversation_id(path)?;
    let form = admit(&session, form, |f| f.csrf.as_deref(), Action::SetStatus)?;
    let status: Status = match form.status.parse() {
        Ok(s) => s,
        Err(e) => {
            return refused(
                &state,
                &session,
                id,
                "status",
                format!("{e}"),
                String::new(),
            )
            .await;
        }
    };
    crate::actions::set_status(
        state.store(),
        state.config(),
        id,
        status,
        &session.user.name,
        state.now(),
    )
    .await?;
    state.changed(id);
    Ok(back(id))
}

/// The note form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    text: String,
}

/// `POST /conversations/{id}/notes`: a private note.
pub async fn note(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<NoteForm>, FormRejection>,
) -> Result<Response, WebError> {
    let id = conversation_id(path)?;
    let form = admit(&session, form, |f| f.csrf.as_deref(), Action::Note)?;
    if let Some(problem) = text_problem(&form.text, "note") {
        return refused(&state, &session, id, "note", problem, form.text).await;
    }
    state
        .store()
        .note(id, &form.text, &session.user.name, state.now())
        .await?;
    state.changed(id);
    Ok(back(id))
}

/// The label form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct LabelForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    label: String,
}

/// `POST /conversations/{id}/labels`: adds a label.
pub async fn label(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<i64>, PathRejection>,
    form: Result<Form<LabelForm>, FormRejection>,
) -> Result<Response, WebError> {
    let id = conversation_id(path)?;
    let form = admit(&session, form, |f| f.csrf.as_deref(), Action::Label)?;
    let label = form.label.trim();
    if label.is_empty() || label.len() > 100 {
        return refused(
            &state,
            &session,
            id,
            "label",
            "A label is 1 to 100 bytes.".to_owned(),
            form.label.clone(),
        )
        .await;
    }
    state
        .store()
        .label(id, label, &session.user.name, state.now())
        .await?;
    state.changed(id);
    Ok(back(id))
}

/// The correction forms' fields.
#[derive(Debug, Default, Deserialize)]
pub struct CorrectionForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: String,
}

/// `POST /conversations/{id}/messages/{message}/corrections`: as
/// `POST /api/v1/messages/{message}/corrections`.
pub async fn correct(
    State(state): State<AppState>,
    session: Session,
    path: Result<Path<(i64, i64)>, PathRejection>,
    form: Result<Form<CorrectionForm>, FormRejection>,
) -> Result<Response, WebError> {
    let Path((id, message)) = path.map_err(|_| WebError::not_found("There is no such message."))?;
    let form = admit(&session, form, |f| f.csrf.as_deref(), Action::Label)?;
    let kind = match form.field.parse::<rapport_core::learn::Kind>() {
        Ok(k) => k,
        Err(e) => {
            return refused(
                &state,
                &session,
                id,
                "correction",
                e.to_string(),
                String::new(),
            )
            .await;
        }
    };
    match state
        .store()
        .correct(message, kind, &form.value, &session.user.name, state.now())
        .await
    {
        Ok(_) => {}
        Err(rapport_store::StoreError::Invalid(why)) => {
            return refused(&state, &session, id, "correction", why, String::new()).await;
        }
        Err(e) => return Err(e.into()),
    }
    state.changed(id);
    Ok(back(id))
}
