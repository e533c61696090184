//! `/search`: every stored message, searched with rapport's query language, the query's
//! words marked in each hit, a page at a time.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use maud::{Markup, html};
use rapport_core::access::Action;
use rapport_search::Sort;
use serde::Deserialize;

use super::{
    Nav, Session, WebError, capitalise, layout, page_response, query_string, sentiment_badge, when,
};
use crate::AppState;
use crate::search::{self, Found, MAX_OFFSET, Results, SearchFailure};

/// Hits on one page.
pub const PAGE: usize = 20;
/// Characters of a hit's text shown.
pub const TEXT: usize = 600;

/// The form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
}

/// The search page.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    session.require(Action::Read)?;
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Err(WebError::invalid(e.body_text())),
    };
    let text = q.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let page = q.page.unwrap_or(1).max(1);
    let sort = match q.sort.as_deref().map(str::trim).unwrap_or_default() {
        "" | "relevance" => Ok(Sort::Relevance),
        "newest" => Ok(Sort::Newest),
        _ => Err("Sort by relevance or newest.".to_owned()),
    };
    let offset = (page - 1).saturating_mul(PAGE);
    let mut status = StatusCode::OK;
    let (results, error) = match sort {
        _ if text.is_empty() => (None, None),
        Err(e) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            (None, Some(e))
        }
        Ok(_) if offset > MAX_OFFSET => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            (
                None,
                Some("That page is too deep: narrow the query instead.".to_owned()),
            )
        }
        Ok(sort) => match search::search(&state, &text, PAGE, offset, sort).await {
            Ok(r) => (Some(r), None),
            Err(SearchFailure::Query(e)) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                (
                    None,
                    Some(format!(
                        "The query cannot be read at character {}: {}.",
                        e.at + 1,
                        e.message.trim_end_matches('.')
                    )),
                )
            }
            Err(SearchFailure::Unavailable) => {
                status = StatusCode::SERVICE_UNAVAILABLE;
                (None, Some(format!("{}.", capitalise(search::UNAVAILABLE))))
            }
            Err(SearchFailure::Store(e)) => return Err(WebError::from(e)),
            Err(other) => {
                // The detail is for the log, not for the page.
                tracing::error!("web search: {other}");
                status = StatusCode::INTERNAL_SERVER_ERROR;
                (
                    None,
                    Some(
                        "The search failed on the server; its log has the detail. Try again in a moment."
                            .to_owned(),
                    ),
                )
            }
        },
    };
    let newest = matches!(q.sort.as_deref().map(str::trim), Some("newest"));
    let link = |page: usize| {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        format!(
            "/search{}",
            query_string(&[
                ("q", &text),
                ("sort", if newest { "newest" } else { "" }),
                ("page", &page),
            ])
        )
    };
    let body = html! {
        h1 { "Search" }
        form #search method="get" action="/search" role="search" aria-label="Search the messages" {
            div.field.grow {
                label for="search-q" { "Query" }
                input #search-q type="search" name="q" value=(text) autocomplete="off"
                    aria-describedby="syntax" aria-invalid=[error.is_some().then_some("true")];
            }
            div.field {
                label for="search-sort" { "Sort" }
                select #search-sort name="sort" {
                    option value="relevance" selected[!newest] { "best match" }
                    option value="newest" selected[newest] { "newest first" }
                }
            }
            button type="submit" { "Search" }
        }
        @if let Some(e) = &error {
            p #search-error.error role="alert" { (e) }
        }
        @if let Some(r) = &results {
            (results_list(r, offset))
            nav.pages aria-label="Pages" {
                @if page > 1 {
                    a #previous-page href=(link(page - 1)) rel="prev" { "Previous page" }
                }
                @if offset + r.hits.len() < r.total {
                    a #next-page href=(link(page + 1)) rel="next" { "Next page" }
                }
            }
        }
        (help(results.is_none()))
    };
    Ok(page_response(
        status,
        layout("Search", Some(&session), Nav::Search, state.now(), body),
    ))
}

fn results_list(r: &Results, offset: usize) -> Markup {
    let total = match r.total {
        0 => "No message matches.".to_owned(),
        1 => "1 message matches.".to_owned(),
        n => format!("{n} messages match."),
    };
    html! {
        @if !r.indexed {
            p #indexing.notice role="status" {
                "The search index is still being built: some messages are not found yet."
            }
        }
        p #search-total role="status" {
            (total)
            @if !r.hits.is_empty() && r.total > r.hits.len() {
                " Showing " (offset + 1) "–" (offset + r.hits.len()) "."
            }
        }
        @if !r.hits.is_empty() {
            ol #results start=(offset + 1) {
                @for f in &r.hits {
                    (hit(f))
                }
            }
        } @else if r.total > 0 {
            p { "No more matches past this page." }
        }
    }
}

fn hit(f: &Found) -> Markup {
    let row = &f.row;
    let text = html! {
        @if row.text.trim().is_empty() { "(no text)" } @else { (marked(&row.text, &f.highlights, TEXT)) }
    };
    html! {
        li.hit data-id=(row.id) {
            div.meta {
                span.author { (row.author) }
                " on " span.platform { (row.platform) }
                " · "
                @if let Some(t) = DateTime::from_timestamp_millis(row.created_at) { (when(t)) }
                " · " (sentiment_badge(row.compound))
                " " span.intent { (row.intent) }
                @if row.direction == "outbound" { " " span.direction { "(our reply)" } }
            }
            p.text {
                @if let Some(c) = row.conversation {
                    a.open href={ "/conversations/" (c) } { (text) }
                } @else {
                    (text)
                }
            }
        }
    }
}

/// The first `max` characters of `text`, the byte `ranges` in `<mark>`; `…` when cut.
pub fn marked(text: &str, ranges: &[(usize, usize)], max: usize) -> Markup {
    let cut = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    let mut parts: Vec<(&str, bool)> = Vec::new();
    let mut at = 0;
    for &(start, end) in ranges {
        if start < at || end > cut {
            continue;
        }
        if let (Some(before), Some(word)) = (text.get(at..start), text.get(start..end)) {
            parts.push((before, false));
            parts.push((word, true));
            at = end;
        }
    }
    parts.push((text.get(at..cut).unwrap_or_default(), false));
    html! {
        @for (part, mark) in parts {
            @if mark { mark { (part) } } @else { (part) }
        }
        @if cut < text.len() { "…" }
    }
}

/// The query language in brief (docs/search.md has all of it).
fn help(open: bool) -> Markup {
    let rows: [(&str, &str); 11] = [
        (
            "refund",
            "a word, anywhere in the text (case does not matter)",
        ),
        (
            "\"battery drain\"",
            "a phrase: these words, next to each other",
        ),
        ("refund broken", "both words (AND is implied)"),
        ("refund OR return", "either"),
        ("NOT spam   -spam", "without"),
        ("author:alice.bsky.social", "the author's handle"),
        ("platform:mastodon", "bluesky, mastodon, rss, webhook, …"),
        (
            "intent:complaint",
            "complaint, question, praise, idea, lead, spam, other",
        ),
        ("sentiment:neg", "neg, neu or pos"),
        ("team:support", "the conversation's team"),
        (
            "date:2026-11-01..2026-11-07   since:7d",
            "a day or a range of days (UTC); since: and until: one end each",
        ),
    ];
    html! {
        details #syntax open[open] {
            summary { "How to search" }
            table {
                caption.visually-hidden { "Query syntax" }
                tbody {
                    @for (example, meaning) in rows {
                        tr {
                            th scope="row" { code { (example) } }
                            td { (meaning) }
                        }
                    }
                }
            }
            p { "Group with parentheses: " code { "(refund OR return) -spam" } "." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_ranges_and_escapes_the_rest() {
        let text = "<b>Refund</b> my refund";
        let html = marked(text, &[(3, 9), (17, 23)], 100).into_string();
        assert_eq!(
            html,
            "&lt;b&gt;<mark>Refund</mark>&lt;/b&gt; my <mark>refund</mark>"
        );
    }

    #[test]
    fn a_long_text_is_cut_on_a_character_and_keeps_the_marks_before_the_cut() {
        let text = "héllo wörld again";
        let html = marked(text, &[(0, 6), (7, 13)], 5).into_string();
        assert_eq!(html, "<mark>héllo</mark>…");
        let html = marked(text, &[(7, 13)], 100).into_string();
        assert_eq!(html, "héllo <mark>wörld</mark> again");
    }
}
