//! `POST /api/v1/messages/{id}/corrections`: an agent says what a message really is
//! (as `rapport correct`). The correction is training data for `rapport train`; an
//! intent correction also changes the message's stored intent (docs/learning.md).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use rapport_core::access::Action;
use rapport_core::learn::Kind;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;

/// `POST …/corrections`: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The message's real intent: complaint, question, praise, idea, lead, spam, other.
    pub intent: Option<String>,
    /// Its real sentiment: positive, neutral, negative.
    pub sentiment: Option<String>,
}

/// Corrects a message's intent or sentiment, as the logged-in user (a role that may
/// label conversations: agent, leader or admin).
#[utoipa::path(post, path = "/api/v1/messages/{id}/corrections", tag = "conversations",
    params(("id" = i64, Path, description = "message id")), request_body = CorrectionRequest,
    responses((status = 200, description = "`{correction: {id, message_id, conversation_id, field, old, new, actor, at}}`"),
              (status = 401, description = "not logged in"), (status = 403, description = "a viewer"),
              (status = 404, description = "no such message"),
              (status = 422, description = "neither or both fields, or a value that is not an intent / sentiment")))]
pub async fn correct(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<CorrectionRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Label)?;
    let Json(body) = body?;
    let (kind, value) = match (body.intent.as_deref(), body.sentiment.as_deref()) {
        (Some(i), None) => (Kind::Intent, i),
        (None, Some(s)) => (Kind::Sentiment, s),
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of \"intent\" and \"sentiment\"".to_string(),
            ));
        }
    };
    let c = state
        .store()
        .correct(id, kind, value, &authed.user.name, state.now())
        .await?;
    if let Some(conv) = c.conversation_id {
        state.changed(conv);
    }
    Ok(Json(json!({"correction": c})))
}
