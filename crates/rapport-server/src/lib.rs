//! `rapport serve`: the REST API under `/api/v1` (documented at `/api/v1/openapi.json`,
//! generated from the handlers), live updates over SSE, and health checks.
//!
//! ```no_run
//! # async fn run(store: rapport_store::Store, config: rapport_core::config::Config) -> std::io::Result<()> {
//! let state = rapport_server::AppState::new(store, config);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! rapport_server::serve_with_listener(listener, state, std::future::pending()).await
//! # }
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod error;
pub mod replies;
pub mod reports;

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
            .field("store", &self.inner.store.path())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of a server over `store` with `config`.
    pub fn new(store: Store, config: Config) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                secure_cookies: false,
                clock: None,
                changes: broadcast::channel(1024).0,
            }),
        }
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

/// The whole application: API, health checks.
pub fn app(state: AppState) -> Router {
    api::router(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve_with_listener(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
