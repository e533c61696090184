//! `/api/v1/search`: every stored message, searched with rapport's query language
//! (`docs/search.md`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rapport_core::SentimentBand;
use rapport_core::access::Action;
use rapport_search::Sort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::search::{self, MAX_LIMIT, MAX_OFFSET, SearchFailure};

/// The query and the page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The query: words, "phrases", `author:`, `platform:`, `intent:`, `sentiment:`,
    /// `team:`, `conversation:`, `date:`, `since:`, `until:`, AND / OR / NOT, `-word`,
    /// parentheses (see docs/search.md). Empty or absent: every message.
    pub q: Option<String>,
    /// Hits on this page, 1 to 200 (default 20).
    pub limit: Option<usize>,
    /// Hits skipped before this page (default 0, at most 100000).
    pub offset: Option<usize>,
    /// `relevance` (default, best match first) or `newest`.
    #[param(value_type = Option<String>)]
    pub sort: Option<Sort>,
}

/// One page of matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    /// The query, as sent.
    pub query: String,
    /// Every match, not only this page.
    pub total: usize,
    /// This page.
    pub hits: Vec<SearchHit>,
    /// Whether the index is built: false while the server builds it the first time, when
    /// some messages are not found yet.
    pub indexed: bool,
}

/// One message that matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// The message id.
    pub id: i64,
    /// Its conversation (`/api/v1/conversations/{id}`).
    pub conversation: Option<i64>,
    /// The author's handle.
    pub author: String,
    /// The platform.
    pub platform: String,
    /// The intent.
    pub intent: String,
    /// `positive`, `neutral` or `negative`.
    pub sentiment: &'static str,
    /// The conversation's team.
    pub team: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// When it was written.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The text.
    pub text: String,
    /// Byte ranges `[start, end)` of `text` (UTF-8) holding the query's words, in order.
    #[schema(value_type = Vec<Vec<usize>>)]
    pub highlights: Vec<[usize; 2]>,
    /// The relevance score (0 when sorted by `newest`).
    pub score: f32,
}

/// Searches every stored message; `total` counts every match, `hits` is one page.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, description = "one page of matches", body = SearchResponse),
              (status = 400, description = "a query that cannot be read: the message says where and what to write instead"),
              (status = 401, description = "not logged in"),
              (status = 422, description = "a bad limit, offset or sort"),
              (status = 503, description = "the server has no search index")))]
pub async fn search(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    authed.require(Action::Read)?;
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(ApiError::invalid(format!(
            "offset must be at most {MAX_OFFSET}: narrow the query instead"
        )));
    }
    let text = q.q.unwrap_or_default();
    let results = search::search(&state, &text, limit, offset, q.sort.unwrap_or_default())
        .await
        .map_err(|e| match e {
            SearchFailure::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "search_unavailable",
                search::UNAVAILABLE,
            ),
            SearchFailure::Query(e) => {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.to_string())
            }
            SearchFailure::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
    let hits = results
        .hits
        .into_iter()
        .map(|f| SearchHit {
            id: f.row.id,
            conversation: f.row.conversation,
            author: f.row.author,
            platform: f.row.platform,
            intent: f.row.intent,
            sentiment: SentimentBand::of(f.row.compound).as_str(),
            team: f.row.team,
            direction: f.row.direction,
            created_at: DateTime::from_timestamp_millis(f.row.created_at).unwrap_or_default(),
            text: f.row.text,
            highlights: f.highlights.into_iter().map(|(a, b)| [a, b]).collect(),
            score: f.score,
        })
        .collect();
    Ok(Json(SearchResponse {
        query: text,
        total: results.total,
        hits,
        indexed: results.indexed,
    }))
}
