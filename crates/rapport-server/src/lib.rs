//! `rapport serve`: the web inbox (server-rendered pages, [`web`]), the REST API under
//! `/api/v1` (documented at `/api/v1/openapi.json`, generated from the handlers), the
//! signed webhook ([`ingest`]), live updates over SSE, health checks and metrics.
//!
//! ```no_run
//! # async fn run(store: rapport_store::Store, config: rapport_core::config::Config) -> std::io::Result<()> {
//! let state = rapport_server::AppState::new(store, config);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! rapport_server::serve_with_listener(listener, state, std::future::pending()).await
//! # }
//! ```
#![deny(missing_docs)]

pub mod actions;
pub mod api;
pub mod auth;
pub mod digest;
pub mod error;
pub mod ingest;
pub mod pipeline;
pub mod replies;
pub mod reports;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use rapport_core::config::Config;
use rapport_store::Store;
use tokio::sync::broadcast;

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    secure_cookies: bool,
    clock: Option<DateTime<Utc>>,
    changes: broadcast::Sender<i64>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.inner.store.location())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of a server over `store` with `config`.
    pub fn new(store: Store, config: Config) -> AppState {
        Self::with_options(store, config, false, None)
    }

    /// Marks session cookies `Secure` (when served behind TLS), and fixes the clock
    /// (`RAPPORT_NOW`, for reproducible runs).
    pub fn with_options(
        store: Store,
        config: Config,
        secure_cookies: bool,
        clock: Option<DateTime<Utc>>,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                secure_cookies,
                clock,
                changes: broadcast::channel(1024).0,
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Now (or the fixed clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.unwrap_or_else(Utc::now)
    }

    /// Whether session cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// Tells live listeners that conversation `id` changed.
    pub fn changed(&self, id: i64) {
        let _ = self.inner.changes.send(id);
    }

    /// A receiver of changed conversation ids.
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.inner.changes.subscribe()
    }
}

/// The whole application: web pages, API, webhook route (without channels), health.
pub fn app(state: AppState) -> Router {
    let (jobs, _) = tokio::sync::mpsc::channel(1);
    app_with_webhooks(state, std::collections::HashMap::new(), jobs)
}

/// The whole application, with the webhook channels `secrets` whose messages go to
/// `jobs` (see [`ingest::run_writer`]).
pub fn app_with_webhooks(
    state: AppState,
    secrets: std::collections::HashMap<String, String>,
    jobs: tokio::sync::mpsc::Sender<ingest::Job>,
) -> Router {
    api::router(state.clone())
        .merge(ingest::router(secrets, jobs))
        .merge(web::router(state))
        .layer(axum::middleware::from_fn(api::metrics::track))
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests in
/// flight. Webhook channels of the configuration are served too, their messages stored by
/// one writer that tells live pages what changed.
pub async fn serve_with_listener(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let secrets = ingest::webhook_secrets(state.config());
    let (jobs, queue) = tokio::sync::mpsc::channel(16);
    let mut writer = None;
    if !secrets.is_empty() {
        for name in secrets.keys() {
            tracing::info!("webhook endpoint: /api/v1/ingest/{name}");
        }
        let state = state.clone();
        writer = Some(tokio::spawn(async move {
            if let Err(e) = ingest::run_writer(state, queue).await {
                tracing::error!("the webhook writer stopped: {e}");
            }
        }));
    }
    let follower = tokio::spawn(follow_changes(state.clone()));
    let router = app_with_webhooks(state, secrets, jobs);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(writer) = writer {
        writer.abort();
    }
    follower.abort();
    served
}

/// Tells live listeners about changes made by other processes too (`rapport listen`, a
/// worker, another server over the same PostgreSQL): every second, the conversations
/// of the events logged since the last look.
async fn follow_changes(state: AppState) {
    let store = state.store().clone();
    let mut follower = loop {
        match store.last_event_seq().await {
            Ok(seq) => break rapport_store::EventFollower::after(seq),
            Err(e) => {
                tracing::warn!("live updates: cannot read the event log ({e}); trying again");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    };
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.changed_since(&mut follower).await {
            Ok(ids) => {
                for id in ids {
                    state.changed(id);
                }
            }
            Err(e) => tracing::debug!("live updates: cannot read the event log: {e}"),
        }
    }
}
