//! `GET /metrics`: Prometheus text exposition — request latency, the inbox by status,
//! SLA breaches, messages stored (the ingest rate is `rate(rapport_messages_stored[5m])`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

struct Latency {
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_us: AtomicU64,
    errors: AtomicU64,
}

static LATENCY: Latency = Latency {
    buckets: [const { AtomicU64::new(0) }; 10],
    count: AtomicU64::new(0),
    sum_us: AtomicU64::new(0),
    errors: AtomicU64::new(0),
};

/// Middleware: times every request (a process-wide histogram, as Prometheus expects).
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let secs = started.elapsed().as_secs_f64();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if secs <= *bound {
            LATENCY.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    LATENCY.count.fetch_add(1, Ordering::Relaxed);
    LATENCY
        .sum_us
        .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    if response.status().is_server_error() {
        LATENCY.errors.fetch_add(1, Ordering::Relaxed);
    }
    response
}

/// The metrics, in Prometheus' text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format: rapport_http_request_duration_seconds, rapport_http_server_errors_total, rapport_conversations, rapport_sla_overdue, rapport_messages_stored")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let summary = state.store().summary().await?;
    let overdue = state.store().overdue(state.now()).await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP rapport_http_request_duration_seconds Time to answer a request."
    );
    let _ = writeln!(
        out,
        "# TYPE rapport_http_request_duration_seconds histogram"
    );
    for (i, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "rapport_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            LATENCY.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = LATENCY.count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "rapport_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "rapport_http_request_duration_seconds_sum {}",
        LATENCY.sum_us.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(out, "rapport_http_request_duration_seconds_count {count}");
    let _ = writeln!(
        out,
        "# HELP rapport_http_server_errors_total Requests answered with a 5xx."
    );
    let _ = writeln!(out, "# TYPE rapport_http_server_errors_total counter");
    let _ = writeln!(
        out,
        "rapport_http_server_errors_total {}",
        LATENCY.errors.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "# HELP rapport_conversations Conversations by status.");
    let _ = writeln!(out, "# TYPE rapport_conversations gauge");
    for (status, n) in &summary.by_status {
        let _ = writeln!(out, "rapport_conversations{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP rapport_sla_overdue Conversations waiting on us past their due time."
    );
    let _ = writeln!(out, "# TYPE rapport_sla_overdue gauge");
    let _ = writeln!(out, "rapport_sla_overdue {overdue}");
    let _ = writeln!(
        out,
        "# HELP rapport_messages_stored Messages in the store (its rate is the ingest rate)."
    );
    let _ = writeln!(out, "# TYPE rapport_messages_stored counter");
    let _ = writeln!(out, "rapport_messages_stored {}", summary.messages);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
