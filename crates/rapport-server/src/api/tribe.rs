//! `/api/v1/tribe`: the tribe graph of `rapport tribe` (docs/tribe.md), as JSON or
//! GraphML, from the same code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use rapport_core::access::Action;
use rapport_core::tribe::{Tribe, analyse};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::reports::parse_when;

/// The window and the format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TribeQuery {
    /// The last N days, 1 to 3650 (default 30), when `since` is not given.
    pub days: Option<u32>,
    /// From: a duration back from now (`7d`, `24h`, `2w`) or a date / RFC 3339 time.
    pub since: Option<String>,
    /// Until (exclusive), same forms; now when absent.
    pub until: Option<String>,
    /// `json` (the default) or `graphml`.
    pub format: Option<String>,
}

/// Why a tribe graph could not be made.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// A parameter that cannot be read: what to give instead.
    Invalid(String),
    /// The store failed.
    Store(rapport_store::StoreError),
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Invalid(m) => ApiError::invalid(m),
            LoadError::Store(e) => ApiError::from(e),
        }
    }
}

/// The window a query names, and the tribe graph over it.
pub(crate) async fn load(
    state: &AppState,
    q: &TribeQuery,
) -> Result<(DateTime<Utc>, DateTime<Utc>, Tribe), LoadError> {
    let now = state.now();
    let when = |s: &Option<String>, what: &str| {
        s.as_deref()
            .map(|s| parse_when(s, now).map_err(|e| LoadError::Invalid(format!("{what}: {e}"))))
            .transpose()
    };
    let until = when(&q.until, "until")?.unwrap_or(now);
    let days = q.days.unwrap_or(30);
    if !(1..=3650).contains(&days) {
        return Err(LoadError::Invalid(format!(
            "days: {days} is out of range: give 1 to 3650"
        )));
    }
    let since = match when(&q.since, "since")? {
        Some(t) => t,
        None => until - TimeDelta::days(i64::from(days)),
    };
    if since >= until {
        return Err(LoadError::Invalid(
            "since is not before until: give a window that ends after it starts".into(),
        ));
    }
    let config = state.config();
    let input = state
        .store()
        .tribe_input(
            since,
            until,
            &config.organisation.accounts,
            &config.organisation.name,
        )
        .await
        .map_err(LoadError::Store)?;
    Ok((since, until, analyse(&input)))
}

/// The tribe graph: nodes (people and the organisation's accounts), edges (replies,
/// mentions, reshares), communities and bridges — as `rapport tribe --format json`; with
/// `format=graphml`, the GraphML file of `rapport tribe --format graphml`.
#[utoipa::path(get, path = "/api/v1/tribe", tag = "reports", params(TribeQuery),
    responses((status = 200, description = "`{since, until, tribe: {summary, nodes, edges, communities, bridges}}`, or GraphML (application/graphml+xml) with format=graphml"),
              (status = 422, description = "a time, number of days or format that cannot be read")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<TribeQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let graphml = match q.format.as_deref() {
        None | Some("json") => false,
        Some("graphml") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format: {other:?} is not a format: give json or graphml"
            )));
        }
    };
    let (since, until, tribe) = load(&state, &q).await?;
    if graphml {
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/graphml+xml; charset=utf-8",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"tribe.graphml\"",
                ),
            ],
            tribe.graphml(),
        )
            .into_response());
    }
    Ok(Json(json!({"since": since, "until": until, "tribe": tribe})).into_response())
}
