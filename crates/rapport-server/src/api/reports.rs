//! `/api/v1/reports`: the numbers of `rapport report`, from the same code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use rapport_core::access::Action;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::reports::{build, parse_when};

/// The report's span and team.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// From: a duration back from now (`7d`, `24h`, `2w`) or a date / RFC 3339 time.
    pub since: Option<String>,
    /// Until (exclusive), same forms.
    pub until: Option<String>,
    /// Only this team.
    pub team: Option<String>,
}

/// Response times, response rate, SLA attainment, engagement, sentiment — as
/// `rapport report --json`.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "the report, as `rapport report --json`"),
              (status = 422, description = "a time or team that cannot be read")))]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Reports)?;
    let Query(q) = query?;
    let now = state.now();
    let when = |s: &Option<String>, what: &str| {
        s.as_deref()
            .map(|s| parse_when(s, now).map_err(|e| ApiError::invalid(format!("{what}: {e}"))))
            .transpose()
    };
    let since = when(&q.since, "since")?;
    let until = when(&q.until, "until")?;
    let report = build(
        state.store(),
        state.config(),
        since,
        until,
        q.team.as_deref(),
        now,
    )
    .await
    .map_err(|e| match e {
        crate::reports::ReportError::Store(e) => ApiError::from(e),
        other => ApiError::invalid(other.to_string()),
    })?;
    Ok(Json(
        serde_json::to_value(report).map_err(ApiError::internal)?,
    ))
}

/// Which spike alerts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Only alerts for buckets from: a duration back from now (`7d`) or a date.
    pub since: Option<String>,
    /// At most this many, newest first: 1 to 500 (default 50).
    pub limit: Option<u32>,
}

/// Spike alerts, newest first — as `rapport alerts --json` (docs/listening.md).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "reports", params(AlertsQuery),
    responses((status = 200, description = "`[alert]`: bucket_start, bucket_end, headline, spikes, raised_at, notified_at, notify_error"),
              (status = 422, description = "a time or limit that cannot be read")))]
pub async fn alerts(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require(Action::Reports)?;
    let Query(q) = query?;
    let since = q
        .since
        .as_deref()
        .map(|s| parse_when(s, state.now()).map_err(|e| ApiError::invalid(format!("since: {e}"))))
        .transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit must be 1 to 500"));
    }
    let alerts = state.store().alerts(since, None, limit).await?;
    Ok(Json(
        serde_json::to_value(alerts).map_err(ApiError::internal)?,
    ))
}
