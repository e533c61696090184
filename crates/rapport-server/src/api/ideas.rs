//! `/api/v1/ideas`: the ideas loop (docs/ideas.md): idea items with their messages and
//! people, and changing an item's status, which drafts a reply to everyone who raised
//! it (as `rapport ideas status`).

use std::str::FromStr as _;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rapport_core::access::Action;
use rapport_core::ideas::IdeaStatus;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::ideas::{self, IdeaActionError};

/// Filters of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only items in this status: `new`, `planned`, `shipped` or `declined`.
    pub status: Option<String>,
}

/// The idea items, the most people first, each with its counts of messages and
/// distinct people and its latest message (new idea messages are grouped first).
#[utoipa::path(get, path = "/api/v1/ideas", tag = "ideas", params(ListQuery),
    responses((status = 200, description = "`{items: [{id, title, status, messages, people, latest, …}]}`"),
              (status = 401, description = "not logged in"), (status = 422, description = "a bad status")))]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            IdeaStatus::from_str(s)
                .map(IdeaStatus::as_str)
                .map_err(|e| ApiError::invalid(e.to_string()))
        })
        .transpose()?;
    ideas::group(
        state.store(),
        state.config(),
        state.embedder().map(|e| &**e),
        state.now(),
    )
    .await?;
    let items = state.store().idea_items(status).await?;
    Ok(Json(json!({"items": items})))
}

/// One idea item: its messages (with their conversations), the people who raised it
/// (each with the conversation a reply answers) and the replies drafted so far.
#[utoipa::path(get, path = "/api/v1/ideas/{id}", tag = "ideas",
    params(("id" = i64, Path, description = "idea item id")),
    responses((status = 200, description = "`{id, title, status, …, message_list, people_list, replies, merged_into}`"),
              (status = 401, description = "not logged in"), (status = 404, description = "no such idea")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let d = state.store().idea_item(id).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or(Value::Null)))
}

/// `POST …/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The new status: `new`, `planned`, `shipped` or `declined`.
    pub status: String,
    /// The status the caller saw: refused with 409 when it changed meanwhile.
    pub from: Option<String>,
    /// Why, kept in the event log.
    pub note: Option<String>,
}

/// Sets an item's status as the logged-in user (`[ideas] status_role` or above) and
/// drafts one reply per person who raised it and has none for that status yet, each
/// submitted for approval. The same status again drafts only the missing replies.
#[utoipa::path(post, path = "/api/v1/ideas/{id}/status", tag = "ideas",
    params(("id" = i64, Path, description = "idea item id")), request_body = StatusRequest,
    responses((status = 200, description = "`{idea, from, to, moved, drafted: [{person_id, handle, conversation_id, draft_id, submitted, held}], already, unreachable}`"),
              (status = 401, description = "not logged in"),
              (status = 403, description = "the role may not change an idea's status"),
              (status = 404, description = "no such idea"),
              (status = 409, description = "the status changed meanwhile, or the idea was merged"),
              (status = 422, description = "a bad status")))]
pub async fn status(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<StatusRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let to = IdeaStatus::from_str(&body.status).map_err(|e| ApiError::invalid(e.to_string()))?;
    let from = body
        .from
        .as_deref()
        .map(IdeaStatus::from_str)
        .transpose()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let done = ideas::set_status(
        state.store(),
        state.config(),
        id,
        to,
        from,
        &authed.user.name,
        authed.user.role,
        body.note.as_deref(),
        state.now(),
    )
    .await
    .map_err(|e| match e {
        IdeaActionError::NotAllowed(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
        IdeaActionError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        IdeaActionError::Store(e) => e.into(),
    })?;
    Ok(Json(serde_json::to_value(done).unwrap_or(Value::Null)))
}
