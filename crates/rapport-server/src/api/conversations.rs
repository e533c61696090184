//! `/api/v1/conversations`: the inbox, one conversation, and what people do to it.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use rapport_core::access::Action;
use rapport_core::{Band, Intent, Status};
use rapport_store::{ConversationDetail, InboxCursor, InboxFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::replies::{self, ReplyError};

/// The most conversations one page holds.
pub const MAX_PAGE: u32 = 500;
/// The longest text a reply or note may have.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Filters of the inbox, as in `rapport inbox`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (default), `pending`, `snoozed`, `resolved` or `all`.
    pub status: Option<String>,
    /// Only this team (`unrouted` for none).
    pub team: Option<String>,
    /// `P1` to `P4`.
    pub priority: Option<String>,
    /// Only this member (`none` for unassigned).
    pub assignee: Option<String>,
    /// Only this intent: `complaint`, `question`, `praise`, `idea`, `lead`, `spam`, `other`.
    pub intent: Option<String>,
    /// Only conversations whose first message's text or author contains this (ASCII case
    /// ignored).
    pub q: Option<String>,
    /// Only conversations with this label (a listening topic is `topic:<name>`).
    pub label: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The inbox, most urgent first, a page at a time.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, description = "`{items: [conversation], next_cursor}`; `next_cursor` is null on the last page"),
              (status = 401, description = "not logged in"), (status = 422, description = "a bad filter or cursor")))]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let status = match q.status.as_deref().unwrap_or("open") {
        "all" => None,
        s => Some(
            s.parse::<Status>()
                .map_err(|e| ApiError::invalid(e.to_string()))?,
        ),
    };
    let band = q
        .priority
        .as_deref()
        .map(|p| {
            p.parse::<Band>()
                .map_err(|e| ApiError::invalid(e.to_string()))
        })
        .transpose()?;
    let intent = q
        .intent
        .as_deref()
        .map(|i| {
            i.parse::<Intent>()
                .map_err(|e| ApiError::invalid(e.to_string()))
        })
        .transpose()?;
    let text =
        q.q.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let after = match q.cursor.as_deref() {
        Some(c) => Some(InboxCursor::decode(c).ok_or_else(|| {
            ApiError::invalid("cursor is not one this API gave: pass next_cursor as it came")
        })?),
        None => None,
    };
    let items = state
        .store()
        .inbox(&InboxFilter {
            team: q.team,
            status,
            band,
            assignee: q.assignee,
            intent,
            label: q.label.filter(|l| !l.is_empty()),
            text,
            limit,
            by_score: false,
            after,
        })
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|r| InboxCursor::after(r).encode()))
        .flatten();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

/// One conversation: its thread, events, notes, labels and sends.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, description = "the conversation with messages, events, notes, labels and outbox"),
              (status = 404, description = "no such conversation")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<ConversationDetail>, ApiError> {
    authed.require(Action::Read)?;
    Ok(Json(state.store().conversation(id).await?))
}

fn check_text(text: &str, what: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid(format!(
            "the {what} is empty: write some text"
        )));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::invalid(format!(
            "the {what} is {} bytes, over the 64 KiB limit",
            text.len()
        )));
    }
    Ok(())
}

/// `POST …/reply`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The reply.
    pub text: String,
    /// Send through this channel (default: the first of the conversation's platform).
    #[serde(default)]
    pub channel: Option<String>,
    /// Record only, do not send (it was answered elsewhere).
    #[serde(default)]
    pub local: bool,
}

/// Answers a conversation: sent through its platform when a channel of it is configured.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reply", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")), request_body = ReplyRequest,
    responses((status = 200, description = "recorded; `sent` tells what the platform did (null when recorded only)"),
              (status = 403, description = "the role may not reply"), (status = 422, description = "empty, too long, or not answerable")))]
pub async fn reply(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<ReplyRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Reply)?;
    let Json(body) = body?;
    check_text(&body.text, "reply")?;
    let replied = replies::reply(
        state.store(),
        state.config(),
        replies::Answer {
            id,
            text: &body.text,
            actor: &authed.user.name,
            now: state.now(),
            channel: body.channel.as_deref(),
            local: body.local,
        },
    )
    .await
    .map_err(|e| match e {
        ReplyError::Store(e) => ApiError::from(e),
        other => ApiError::invalid(other.to_string()),
    })?;
    state.changed(id);
    Ok(Json(
        serde_json::to_value(replied).map_err(ApiError::internal)?,
    ))
}

/// `POST …/assign`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The member to assign to.
    #[serde(default)]
    pub to: Option<String>,
    /// The team to move to (unassigned in it).
    #[serde(default)]
    pub team: Option<String>,
}

/// Assigns to a member, or moves to a team.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")), request_body = AssignRequest,
    responses((status = 200, description = "assigned"), (status = 422, description = "neither or both of to and team, or an unknown team")))]
pub async fn assign(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<AssignRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Assign)?;
    let Json(body) = body?;
    match (&body.to, &body.team) {
        (Some(_), None) | (None, Some(_)) => {}
        _ => return Err(ApiError::invalid("give exactly one of `to` and `team`")),
    }
    if let Some(t) = &body.team
        && state.config().team(t).is_none()
    {
        return Err(ApiError::invalid(format!(
            "no team {t:?} in the configuration"
        )));
    }
    state
        .store()
        .assign(
            id,
            body.to.as_deref(),
            body.team.as_deref(),
            &authed.user.name,
            state.now(),
        )
        .await?;
    state.changed(id);
    Ok(Json(
        json!({"conversation": id, "assignee": body.to, "team": body.team}),
    ))
}

/// `POST …/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
}

/// Changes the status (a reopened conversation starts a new SLA clock now).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/status", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")), request_body = StatusRequest,
    responses((status = 200, description = "`changed` is false when it already had that status"), (status = 422, description = "unknown status")))]
pub async fn status(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<StatusRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::SetStatus)?;
    let Json(body) = body?;
    let status: Status = body
        .status
        .parse()
        .map_err(|e: rapport_core::model::ParseEnumError| ApiError::invalid(e.to_string()))?;
    let changed = crate::actions::set_status(
        state.store(),
        state.config(),
        id,
        status,
        &authed.user.name,
        state.now(),
    )
    .await?;
    state.changed(id);
    Ok(Json(
        json!({"conversation": id, "status": status, "changed": changed}),
    ))
}

/// `POST …/notes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The note (private: never sent anywhere).
    pub text: String,
}

/// Adds a private note.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/notes", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")), request_body = NoteRequest,
    responses((status = 200, description = "noted"), (status = 422, description = "empty or too long")))]
pub async fn note(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<NoteRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Note)?;
    let Json(body) = body?;
    check_text(&body.text, "note")?;
    state
        .store()
        .note(id, &body.text, &authed.user.name, state.now())
        .await?;
    state.changed(id);
    Ok(Json(json!({"conversation": id, "noted": true})))
}

/// `POST …/labels`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    /// The label.
    pub label: String,
}

/// Adds a label.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/labels", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")), request_body = LabelRequest,
    responses((status = 200, description = "`added` is false when it had the label already")))]
pub async fn label(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<LabelRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Label)?;
    let Json(body) = body?;
    let label = body.label.trim();
    if label.is_empty() || label.len() > 100 {
        return Err(ApiError::invalid("a label is 1 to 100 bytes"));
    }
    let added = state
        .store()
        .label(id, label, &authed.user.name, state.now())
        .await?;
    state.changed(id);
    Ok(Json(
        json!({"conversation": id, "label": label, "added": added}),
    ))
}

/// `?limit=` of the similar conversations.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// How many, 1 to 50 (default 10).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/similar", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id"), SimilarQuery),
    responses((status = 200, description = "`[{conversation_id, score, message_id, author, text, status, intent, opened_at}]`, the most similar first (docs/semantic.md)"),
              (status = 404, description = "no such conversation"),
              (status = 422, description = "a bad limit"),
              (status = 503, description = "the semantic layer is off: no embedding model on the server")))]
/// The conversations most like this one, by the meaning of what people said.
pub async fn similar(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    query: Result<Query<SimilarQuery>, QueryRejection>,
) -> Result<Json<Vec<crate::semantic::SimilarConversation>>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit must be 1 to 50"));
    }
    let Some(embedder) = state.embedder() else {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "semantic_off",
            "the semantic layer is off on this server: run `rapport semantic install` where it \
             runs and restart it (docs/semantic.md)",
        ));
    };
    match crate::semantic::similar_conversations(state.store(), embedder, id, limit).await {
        Ok(found) => Ok(Json(found)),
        Err(crate::semantic::SemanticJobError::Store(e)) => Err(e.into()),
        Err(e) => Err(ApiError::internal(e)),
    }
}
