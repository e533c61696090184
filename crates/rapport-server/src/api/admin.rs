//! Users (admins), teams (from the configuration), API tokens (each user their own).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_core::access::{Action, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    responses((status = 200, description = "the users"), (status = 403, description = "not an admin")))]
pub async fn users(State(state): State<AppState>, authed: Authed) -> Result<Json<Value>, ApiError> {
    authed.require(Action::ManageUsers)?;
    Ok(Json(json!({"items": state.store().users().await?})))
}

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1–64 of letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// `admin`, `leader`, `agent` or `viewer`.
    pub role: String,
    /// At least 10 characters.
    pub password: String,
}

/// Adds a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    responses((status = 201, description = "the user"), (status = 403, description = "not an admin"),
              (status = 422, description = "a bad name, role or password, or the name is taken")))]
pub async fn add_user(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authed.require(Action::ManageUsers)?;
    let Json(body) = body?;
    let role: Role = body
        .role
        .parse()
        .map_err(|e: rapport_core::access::AccessError| ApiError::invalid(e.to_string()))?;
    let user = state
        .store()
        .add_user(&body.name, role, &body.password, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(user))))
}

/// The teams and their members, from the configuration.
#[utoipa::path(get, path = "/api/v1/teams", tag = "admin",
    responses((status = 200, description = "teams with members, capacity and SLA")))]
pub async fn teams(State(state): State<AppState>, authed: Authed) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Read)?;
    let config = state.config();
    let teams: Vec<Value> = config
        .teams
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "members": t.members.iter().map(|m| json!({"name": m.name, "capacity": m.capacity})).collect::<Vec<_>>(),
                "sla": config.sla_for(Some(&t.name)),
            })
        })
        .collect();
    Ok(Json(json!({"items": teams})))
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for (shown in lists).
    #[serde(default)]
    pub label: Option<String>,
}

/// Creates an API token for the caller; the token is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, description = "`{token, info}`: keep the token, it is not shown again"),
              (status = 403, description = "a viewer may not create tokens")))]
pub async fn create_token(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authed.require(Action::OwnTokens)?;
    let Json(body) = body?;
    let label = body.label.unwrap_or_else(|| "api".to_owned());
    let (token, info) = state
        .store()
        .create_token(&authed.user.name, &label, state.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "info": info})),
    ))
}

/// The caller's tokens (every user's for an admin); never the tokens themselves.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    responses((status = 200, description = "token descriptions")))]
pub async fn tokens(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<Value>, ApiError> {
    let all = authed.require(Action::ManageUsers).is_ok();
    let user = (!all).then_some(authed.user.name.as_str());
    Ok(Json(json!({"items": state.store().tokens(user).await?})))
}

/// Revokes a token: one's own, or any for an admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such token of yours")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let all = authed.require(Action::ManageUsers).is_ok();
    let mine = state.store().tokens(Some(&authed.user.name)).await?;
    if !all && !mine.iter().any(|t| t.id == id) {
        return Err(ApiError::not_found(format!("you have no token {id}")));
    }
    state.store().revoke_token(id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
