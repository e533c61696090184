//! The routes. Each handler carries its OpenAPI description (`#[utoipa::path]`); the
//! router is built from them, so `/api/v1/openapi.json` lists exactly the routes served.

pub mod admin;
pub mod conversations;
pub mod corrections;
pub mod drafts;
pub mod ideas;
pub mod metrics;
pub mod people;
pub mod reports;
pub mod search;
pub mod tribe;

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use rapport_core::access::Action;
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, Authed};
use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "rapport", description = "The REST API of rapport: conversations, people, reports, search, drafts, ideas, users and tokens. \
        Authenticate with `Authorization: Bearer TOKEN` (`rapport token create`) or a session cookie from \
        `POST /api/v1/session` (then send `X-CSRF-Token` with every request that changes something). \
        Errors are `{\"error\": code, \"message\": text}`."),
    paths(crate::ingest::ingest),
    tags((name = "ingest"), (name = "conversations"), (name = "people"), (name = "reports"), (name = "search"), (name = "drafts"), (name = "ideas"), (name = "admin"), (name = "session"), (name = "health"))
)]
struct ApiDoc;

/// The router with its OpenAPI document.
pub fn router_and_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(metrics::metrics))
        .routes(routes!(auth::login, auth::current, auth::logout))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::similar))
        .routes(routes!(conversations::reply))
        .routes(routes!(conversations::assign))
        .routes(routes!(conversations::status))
        .routes(routes!(conversations::note))
        .routes(routes!(conversations::label))
        .routes(routes!(people::overview))
        .routes(routes!(people::suggestions))
        .routes(routes!(people::get))
        .routes(routes!(people::merge))
        .routes(routes!(people::unmerge))
        .routes(routes!(people::advocates))
        .routes(routes!(reports::get))
        .routes(routes!(reports::alerts))
        .routes(routes!(search::search))
        .routes(routes!(drafts::list))
        .routes(routes!(drafts::get))
        .routes(routes!(drafts::approve))
        .routes(routes!(drafts::reject))
        .routes(routes!(admin::users, admin::add_user))
        .routes(routes!(admin::teams))
        .routes(routes!(admin::tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(events))
        .routes(routes!(tribe::get))
        .routes(routes!(corrections::correct))
        .routes(routes!(ideas::list))
        .routes(routes!(ideas::get))
        .routes(routes!(ideas::status))
        .split_for_parts()
}

/// Every route, with the OpenAPI document at `/api/v1/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (router, doc) = router_and_doc();
    let doc = serde_json::to_value(&doc).unwrap_or(Value::Null);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(doc) }),
        )
        .fallback(|| async {
            ApiError::not_found("no such route: the API is described at /api/v1/openapi.json")
        })
        .with_state(state)
}

/// Whether the server and its store answer.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "`{\"status\": \"ok\"}`"), (status = 500, description = "the store does not answer")))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store().ping().await?;
    Ok(Json(json!({"status": "ok"})))
}

/// Live updates: an SSE stream with a `conversation` event (data: its id) each time a
/// conversation changes.
#[utoipa::path(get, path = "/api/v1/events", tag = "conversations",
    responses((status = 200, description = "`text/event-stream` of `conversation` events whose data is the id")))]
pub async fn events(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    authed.require(Action::Read)?;
    let receiver = state.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(id) => Event::default().event("conversation").data(id.to_string()),
            // A slow reader missed some: tell it to reload everything.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                Event::default().event("reload").data("")
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
