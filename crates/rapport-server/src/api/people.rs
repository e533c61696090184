//! `/api/v1/people`: people across platforms and their relationships with the
//! organisation: one person with their ledger, strength and timeline; Return on
//! Relationship with its advocates and at-risk people; advocates ranked by positive
//! engagement × reach; suggested merges, merging and unmerging.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use rapport_core::access::Action;
use rapport_core::relationship::MergeSuggestion;
use rapport_store::PersonMerge;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::relationships::{self, PersonView, RorReport};

/// A person: identities, conversations (newest first), sentiment over time, the
/// relationship (ledger, strength with its terms, advocate, at-risk reasons), the
/// timeline of their messages and our replies, and the merges they took part in.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = i64, Path, description = "person id")),
    responses((status = 200, description = "the person with `relationship`, `timeline` and `merges`"),
              (status = 404, description = "no such person")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<PersonView>, ApiError> {
    authed.require(Action::Read)?;
    Ok(Json(
        relationships::person(state.store(), state.config(), id, state.now()).await?,
    ))
}

/// How many to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// At most this many, 1 to 500 (default 20).
    pub limit: Option<usize>,
    /// Advocates: over the last this many days, 1 to 3650 (default 90).
    pub days: Option<u32>,
}

fn limit(q: &LimitQuery) -> Result<usize, ApiError> {
    let n = q.limit.unwrap_or(20);
    if !(1..=500).contains(&n) {
        return Err(ApiError::invalid("limit must be 1 to 500"));
    }
    Ok(n)
}

/// Return on Relationship now: the mean strength of the people active in the window,
/// the counts of advocates and at-risk relationships, and who they are.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(LimitQuery),
    responses((status = 200, description = "`{ror, active, advocates, at_risk, window_days, at}` with the lists"),
              (status = 401, description = "not logged in")))]
pub async fn overview(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<RorReport>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    Ok(Json(
        relationships::ror_report(state.store(), state.config(), state.now(), limit(&q)?).await?,
    ))
}

/// Advocates: people ranked by positive messages × log10(followers + 10) over the last
/// `days` days.
#[utoipa::path(get, path = "/api/v1/advocates", tag = "people", params(LimitQuery),
    responses((status = 200, description = "`{items: [advocate]}`, highest score first"),
              (status = 401, description = "not logged in"), (status = 422, description = "a bad limit or days")))]
pub async fn advocates(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let days = q.days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::invalid("days must be 1 to 3650"));
    }
    let items = relationships::advocates(state.store(), state.now(), days, limit(&q)?).await?;
    Ok(Json(json!({ "items": items })))
}

/// Pairs of people who may be one person, with the reasons, for someone to confirm.
#[utoipa::path(get, path = "/api/v1/people/suggestions", tag = "people", params(LimitQuery),
    responses((status = 200, description = "`{items: [{keep, merge, reasons, confidence}]}`"),
              (status = 401, description = "not logged in")))]
pub async fn suggestions(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let items: Vec<MergeSuggestion> = state.store().merge_suggestions(limit(&q)?).await?;
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/people/{id}/merge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The person merged into the one in the path.
    pub other: i64,
}

/// Merges person `other` into this one: its identities, messages and conversations
/// become this person's. An event records it; `POST /api/v1/people/merges/{id}/undo`
/// undoes it.
#[utoipa::path(post, path = "/api/v1/people/{id}/merge", tag = "people",
    params(("id" = i64, Path, description = "the person to keep")), request_body = MergeRequest,
    responses((status = 200, description = "`{merge}`"),
              (status = 401, description = "not logged in"), (status = 403, description = "a viewer"),
              (status = 404, description = "no such person"),
              (status = 422, description = "the same person twice, or one merged already")))]
pub async fn merge(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<MergeRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::MergePeople)?;
    let Json(body) = body?;
    let m: PersonMerge = state
        .store()
        .merge_people(id, body.other, &authed.user.name, state.now())
        .await?;
    Ok(Json(json!({ "merge": m })))
}

/// Undoes a merge: its identities go back to the person they came from, with their
/// messages and conversations.
#[utoipa::path(post, path = "/api/v1/people/merges/{id}/undo", tag = "people",
    params(("id" = i64, Path, description = "merge id")),
    responses((status = 200, description = "`{merge}`, now undone"),
              (status = 401, description = "not logged in"), (status = 403, description = "a viewer"),
              (status = 404, description = "no such merge"), (status = 422, description = "undone already")))]
pub async fn unmerge(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::MergePeople)?;
    let m = state
        .store()
        .unmerge_people(id, &authed.user.name, state.now())
        .await?;
    Ok(Json(json!({ "merge": m })))
}
