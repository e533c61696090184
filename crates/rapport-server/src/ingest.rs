//! `POST /api/v1/ingest/{channel}`: the signed webhook (docs/webhook.md), served by
//! `rapport serve` and by `rapport listen`. The handler checks the signature and the body,
//! then hands the good items to a writer and answers once they are stored.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use rapport_connectors::listen::{Delivery, Heard, Problem};
use rapport_connectors::webhook::{
    self as webhook, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_with_timestamp,
};
use rapport_core::channel::ChannelKind;
use rapport_core::config::Config;
use rapport_store::{BatchOutcome, Prepared, QuarantineRow, Store};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::pipeline::Pipeline;

/// The largest webhook body.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Where the handler's answer comes from: the writer's outcome, or why it failed.
pub type Ack = oneshot::Sender<Result<BatchOutcome, String>>;

/// A delivery and the channel its outcome goes back on.
pub type Job = (Delivery, Ack);

/// The webhook route's state: channel secrets and the writer's queue.
pub struct HookState {
    secrets: HashMap<String, String>,
    deliveries: mpsc::Sender<Job>,
}

/// The webhook secrets of `config`'s webhook channels, read from their env or file;
/// channels whose secret cannot be read are logged and left out.
pub fn webhook_secrets(config: &Config) -> HashMap<String, String> {
    config
        .channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Webhook)
        .filter_map(|c| match rapport_connectors::credentials::secret(c) {
            Ok(Some(secret)) => Some((c.name.clone(), secret)),
            Ok(None) => None,
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        })
        .collect()
}

/// The webhook route, handing deliveries to `deliveries`.
pub fn router<S>(secrets: HashMap<String, String>, deliveries: mpsc::Sender<Job>) -> Router<S> {
    Router::new()
        .route("/api/v1/ingest/{channel}", post(ingest))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Arc::new(HookState {
            secrets,
            deliveries,
        }))
}

/// Triages a delivery and stores it — messages, problems and the source's cursor — in
/// one transaction.
pub async fn write(
    ingestor: &mut rapport_store::Ingestor<'_>,
    pipeline: &Pipeline,
    delivery: Delivery,
) -> Result<BatchOutcome, rapport_store::StoreError> {
    let Delivery {
        source,
        heard,
        problems,
        cursor,
    } = delivery;
    let batch: Vec<Prepared> = heard
        .into_iter()
        .map(
            |Heard {
                 message,
                 reply_ref,
                 html,
             }| {
                let mut prepared = pipeline.prepare(message);
                prepared.reply_ref = reply_ref;
                prepared.html = html;
                prepared
            },
        )
        .collect();
    let quarantine: Vec<QuarantineRow> = problems
        .into_iter()
        .map(|p: Problem| QuarantineRow {
            source: source.clone(),
            line: p.position,
            reason: p.reason,
            raw: p.raw,
        })
        .collect();
    let outcome = ingestor
        .write_batch_at(
            &batch,
            &quarantine,
            cursor.as_deref().map(|c| (source.as_str(), c)),
        )
        .await?;
    if outcome.inserted > 0 || !quarantine.is_empty() {
        tracing::info!(
            "{source}: {} new, {} already stored, {} quarantined",
            outcome.inserted,
            outcome.duplicates,
            quarantine.len()
        );
    }
    Ok(outcome)
}

/// The writer of `rapport serve`: stores each job and tells live pages which
/// conversations changed. Ends when every sender is gone.
pub async fn run_writer(
    state: AppState,
    mut jobs: mpsc::Receiver<Job>,
) -> Result<(), rapport_store::StoreError> {
    let store: Store = state.store().clone();
    let config = state.config().clone();
    let pipeline = Pipeline::load(&config, &store)
        .await
        .map_err(|e| rapport_store::StoreError::Invalid(e.to_string()))?;
    let mut ingestor = store.ingestor(&config).await?;
    while let Some((delivery, ack)) = jobs.recv().await {
        let ids: Vec<(String, String)> = delivery
            .heard
            .iter()
            .map(|h| (h.message.platform.clone(), h.message.platform_id.clone()))
            .collect();
        let outcome = write(&mut ingestor, &pipeline, delivery).await;
        if outcome.is_ok() {
            for (platform, id) in ids {
                if let Ok(Some(conv)) = store.conversation_of(&platform, &id).await {
                    state.changed(conv);
                }
            }
        }
        let _ = ack.send(outcome.map_err(|e| e.to_string()));
    }
    Ok(())
}
fn api_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error": code, "message": message.into()})),
    )
        .into_response()
}

/// Stores messages sent by another system, signed with the channel's secret
/// (docs/webhook.md has the body, the signature and curl examples).
#[utoipa::path(post, path = "/api/v1/ingest/{channel}", tag = "ingest",
    params(("channel" = String, Path, description = "a webhook channel's name")),
    request_body(content = String, description = "one JSON object or an array of up to 1000; see docs/webhook.md", content_type = "application/json"),
    responses((status = 202, description = "`{accepted, duplicates, rejected, errors}`"),
              (status = 400, description = "not a JSON object or array"),
              (status = 401, description = "missing or wrong X-Rapport-Signature: nothing stored"),
              (status = 404, description = "no webhook channel of that name"),
              (status = 422, description = "every item is bad: nothing stored")))]
pub async fn ingest(
    State(state): State<Arc<HookState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = state.secrets.get(&channel) else {
        return api_error(
            StatusCode::NOT_FOUND,
            "unknown_channel",
            format!("no webhook channel is named {channel:?}"),
        );
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = Utc::now();
    if let Err(e) = verify_with_timestamp(
        secret.as_bytes(),
        &body,
        header(SIGNATURE_HEADER),
        header(TIMESTAMP_HEADER),
        now,
        false,
    ) {
        tracing::warn!("webhook {channel}: refused: {e}");
        return api_error(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string());
    }
    let batch = match webhook::parse_body(&body, &channel, now) {
        Ok(batch) => batch,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
    };
    let errors: Vec<_> = batch
        .errors
        .iter()
        .map(|e| json!({"index": e.index, "field": e.field, "message": e.message}))
        .collect();
    let accepted = batch.messages.len();
    if accepted == 0 {
        let mut body =
            json!({"accepted": 0, "duplicates": 0, "rejected": errors.len(), "errors": errors});
        body["error"] = json!("invalid_items");
        body["message"] = json!("every item is invalid; nothing was stored");
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response();
    }
    let delivery = Delivery {
        source: format!("{channel}/webhook"),
        heard: batch
            .messages
            .into_iter()
            .map(|m| Heard::from(m.message))
            .collect(),
        problems: {
            let items = match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(serde_json::Value::Array(items)) => items,
                Ok(one) => vec![one],
                Err(_) => Vec::new(),
            };
            let whole = String::from_utf8_lossy(&body);
            batch
                .errors
                .iter()
                .map(|e| Problem {
                    position: Problem::position_of(&format!("{}\n{whole}", e.index)),
                    reason: e.to_string(),
                    raw: items
                        .get(e.index)
                        .map(|item| item.to_string().chars().take(16 * 1024).collect())
                        .unwrap_or_default(),
                })
                .collect()
        },
        cursor: None,
    };
    let (ack, stored) = oneshot::channel();
    if state.deliveries.send((delivery, ack)).await.is_err() {
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "rapport is stopping; send again in a moment",
        );
    }
    match stored.await {
        Ok(Ok(outcome)) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({
                "accepted": accepted,
                "duplicates": outcome.duplicates,
                "rejected": errors.len(),
                "errors": errors,
            })),
        )
            .into_response(),
        Ok(Err(e)) => api_error(StatusCode::INTERNAL_SERVER_ERROR, "store_error", e),
        Err(_) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "rapport is stopping; send again in a moment",
        ),
    }
}
