//! `/api/v1/people`: a person across platforms.

use axum::Json;
use axum::extract::{Path, State};
use rapport_core::access::Action;
use rapport_store::PersonDetail;

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;

/// A person: identities, conversations (newest first), sentiment over time.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = i64, Path, description = "person id")),
    responses((status = 200, description = "identities, conversations and sentiment over time"),
              (status = 404, description = "no such person")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<PersonDetail>, ApiError> {
    authed.require(Action::Read)?;
    Ok(Json(state.store().person(id).await?))
}
