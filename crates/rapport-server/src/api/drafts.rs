//! `/api/v1/drafts`: what the organisation is about to publish, the checks each draft
//! meets, and approving or rejecting it (as `rapport draft approve` / `reject`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rapport_core::access::Action;
use rapport_core::draft::DraftStatus;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::drafts::{self, DecideError};
use crate::error::ApiError;

/// The most drafts one list holds.
pub const MAX_LIMIT: i64 = 500;

/// Filters of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only drafts in this status: `draft`, `pending_approval`, `approved`, `scheduled`,
    /// `published`, `failed` or `rejected`.
    pub status: Option<String>,
    /// At most this many, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Drafts, newest first, each with its channels.
#[utoipa::path(get, path = "/api/v1/drafts", tag = "drafts", params(ListQuery),
    responses((status = 200, description = "`{items: [draft]}`"),
              (status = 401, description = "not logged in"), (status = 422, description = "a bad status or limit")))]
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
            s.parse::<DraftStatus>()
                .map(DraftStatus::as_str)
                .map_err(|e| ApiError::invalid(e.to_string()))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let items = state.store().drafts(status, limit).await?;
    Ok(Json(json!({"items": items})))
}

/// One draft with its checks (lengths per channel, principle findings) and the least
/// role that may approve it.
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "drafts",
    params(("id" = i64, Path, description = "draft id")),
    responses((status = 200, description = "`{draft, checks: {lengths, principles, channels}, passed, approver}`"),
              (status = 401, description = "not logged in"), (status = 404, description = "no such draft")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let d = state.store().draft(id).await?;
    let checks = drafts::checks(state.store(), state.config(), &d, state.now()).await?;
    let approver = drafts::kind_of(&d)
        .ok()
        .map(|k| state.config().publishing.approver(k).as_str());
    Ok(Json(
        json!({"draft": d, "passed": checks.passed(), "checks": checks, "approver": approver}),
    ))
}

/// `POST …/reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, for the draft's author.
    pub reason: String,
}

fn refused(e: DecideError) -> ApiError {
    match e {
        DecideError::NotAllowed(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
        DecideError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        DecideError::Invalid(m) => ApiError::invalid(m),
        DecideError::Store(e) => e.into(),
    }
}

/// Approves a draft pending approval, as the logged-in user: their role must be the
/// kind's approver (`[publishing.approvers]`) or above.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/approve", tag = "drafts",
    params(("id" = i64, Path, description = "draft id")),
    responses((status = 200, description = "`{draft}`, now approved"),
              (status = 401, description = "not logged in"),
              (status = 403, description = "the role may not approve drafts of this kind"),
              (status = 404, description = "no such draft"),
              (status = 409, description = "the draft is not pending approval (any more)")))]
pub async fn approve(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let d = drafts::decide(
        state.store(),
        state.config(),
        id,
        &authed.user.name,
        authed.user.role,
        None,
        state.now(),
    )
    .await
    .map_err(refused)?;
    Ok(Json(json!({"draft": d})))
}

/// Rejects a draft pending approval, with a reason, as the logged-in user (the same
/// roles as approving).
#[utoipa::path(post, path = "/api/v1/drafts/{id}/reject", tag = "drafts",
    params(("id" = i64, Path, description = "draft id")), request_body = RejectRequest,
    responses((status = 200, description = "`{draft}`, now rejected"),
              (status = 401, description = "not logged in"),
              (status = 403, description = "the role may not reject drafts of this kind"),
              (status = 404, description = "no such draft"),
              (status = 409, description = "the draft is not pending approval (any more)"),
              (status = 422, description = "no reason")))]
pub async fn reject(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<RejectRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let d = drafts::decide(
        state.store(),
        state.config(),
        id,
        &authed.user.name,
        authed.user.role,
        Some(&body.reason),
        state.now(),
    )
    .await
    .map_err(refused)?;
    Ok(Json(json!({"draft": d})))
}
