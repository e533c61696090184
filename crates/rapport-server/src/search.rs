//! Searching the messages: the query parsed with the server's clock, run on the index,
//! the hits read back from the store with the byte ranges to highlight. The API
//! (`GET /api/v1/search`) and the `/search` page both answer from here.

use rapport_core::query::{Query, QueryError, highlight_ranges};
use rapport_search::{SearchError, Sort};
use rapport_store::{SearchRow, StoreError};

use crate::AppState;

/// The most hits one page holds.
pub const MAX_LIMIT: usize = 200;
/// The furthest a page may start (deeper pages cost memory on every search: narrow the
/// query instead).
pub const MAX_OFFSET: usize = 100_000;

/// What a server without a search index says.
pub const UNAVAILABLE: &str = "this server has no search index: `rapport serve` opens one in the \
    data directory's `search` folder when it starts; its log says why it could not: fix that \
    and restart it";

/// One message that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The message.
    pub row: SearchRow,
    /// The relevance score (0 when sorted by time).
    pub score: f32,
    /// Byte ranges of `row.text` holding the query's words, in order.
    pub highlights: Vec<(usize, usize)>,
}

/// One page of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// Every match, not only this page.
    pub total: usize,
    /// This page.
    pub hits: Vec<Found>,
    /// Whether the index is built (false while the first build runs: some messages
    /// are missing yet).
    pub indexed: bool,
}

/// Why a search has no results.
#[derive(Debug, thiserror::Error)]
pub enum SearchFailure {
    /// The server has no index.
    #[error("{UNAVAILABLE}")]
    Unavailable,
    /// The query cannot be read.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] SearchError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The search task was lost.
    #[error("the search did not finish: {0}")]
    Task(String),
}

/// Runs `text` (the query language of `docs/search.md`): `limit` hits after `offset`.
/// Relative dates count back from the server's clock.
pub async fn search(
    state: &AppState,
    text: &str,
    limit: usize,
    offset: usize,
    sort: Sort,
) -> Result<Results, SearchFailure> {
    let index = state
        .search_index()
        .cloned()
        .ok_or(SearchFailure::Unavailable)?;
    let query = Query::parse(text, state.now())?;
    let words = query.highlight_words();
    // Reading the index's files and scoring is blocking work.
    let (page, indexed) = tokio::task::spawn_blocking(move || {
        let page = index.search(&query, limit, offset, sort)?;
        Ok::<_, SearchError>((page, index.is_built()?))
    })
    .await
    .map_err(|e| SearchFailure::Task(e.to_string()))??;
    let ids: Vec<i64> = page.hits.iter().map(|h| h.id).collect();
    let mut rows = state.store().search_rows_by_ids(&ids).await?;
    // The store gives them in this order, leaving out any deleted since it was indexed.
    let hits = page
        .hits
        .iter()
        .filter_map(|hit| {
            let at = rows.iter().position(|r| r.id == hit.id)?;
            let row = rows.swap_remove(at);
            let highlights = highlight_ranges(&row.text, &words);
            Some(Found {
                row,
                score: hit.score,
                highlights,
            })
        })
        .collect();
    Ok(Results {
        total: page.total,
        hits,
        indexed,
    })
}
