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
//!
//! With a search index ([`AppState::with_search`]) the server also answers
//! `GET /api/v1/search` and the `/search` page, and keeps the index current while it
//! runs ([`keep_search_index_current`]) unless another process writes it.
#![deny(missing_docs)]

pub mod actions;
pub mod api;
pub mod auth;
pub mod digest;
pub mod drafts;
pub mod error;
pub mod ideas;
pub mod ingest;
pub mod pipeline;
pub mod publishing;
pub mod relationships;
pub mod replies;
pub mod reports;
pub mod search;
pub mod semantic;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use rapport_core::config::Config;
use rapport_search::SearchIndex;
use rapport_store::Store;
use tokio::sync::broadcast;

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    store: Store,
    config: Config,
    secure_cookies: bool,
    clock: Option<DateTime<Utc>>,
    changes: broadcast::Sender<i64>,
    search: Option<Arc<SearchIndex>>,
    embedder: Option<Arc<rapport_semantic::Embedder>>,
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
                search: None,
                embedder: None,
            }),
        }
    }

    /// Answers searches from `index` (`GET /api/v1/search`, the `/search` page);
    /// [`serve_with_listener`] keeps it current.
    pub fn with_search(self, index: Arc<SearchIndex>) -> AppState {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.search = Some(index);
        AppState {
            inner: Arc::new(inner),
        }
    }

    /// Uses `embedder` for the semantic features, and embeds new messages in the
    /// background while serving ([`semantic::keep_embeddings_current`]) when
    /// `[semantic] background` is on.
    pub fn with_embedder(self, embedder: Arc<rapport_semantic::Embedder>) -> AppState {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.embedder = Some(embedder);
        AppState {
            inner: Arc::new(inner),
        }
    }

    /// The sentence-embedding model, when the semantic layer is on.
    pub fn embedder(&self) -> Option<&Arc<rapport_semantic::Embedder>> {
        self.inner.embedder.as_ref()
    }

    /// The search index, when the server has one.
    pub fn search_index(&self) -> Option<&Arc<SearchIndex>> {
        self.inner.search.as_ref()
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
/// one writer that tells live pages what changed; the search index, when there is one,
/// is kept current ([`keep_search_index_current`]).
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
    let indexer = state.search_index().map(|index| {
        tokio::spawn(keep_search_index_current(
            state.store().clone(),
            index.clone(),
        ))
    });
    let embedding = state
        .embedder()
        .filter(|_| state.config().semantic.background)
        .map(|embedder| {
            tokio::spawn(semantic::keep_embeddings_current(
                state.store().clone(),
                embedder.clone(),
                state.config().semantic.batch,
            ))
        });
    let router = app_with_webhooks(state, secrets, jobs);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(writer) = writer {
        writer.abort();
    }
    follower.abort();
    if let Some(indexer) = indexer {
        indexer.abort();
    }
    if let Some(embedding) = embedding {
        embedding.abort();
    }
    served
}

/// How long the index follower waits between looks at the event log.
const INDEX_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// The longest it waits after failures.
const INDEX_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(30);
/// How often it tries for the writer while another process holds it.
const WRITER_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps `index` current with `store` for as long as it runs: builds it the first time,
/// then applies the event log's changes every second (failures are logged, and retried
/// less often while they last). While another process (another server, `rapport
/// reindex`, `rapport search`) holds the index's writer, that process keeps the index
/// current and this one only tries again now and then, to take over when it is gone.
pub async fn keep_search_index_current(store: Store, index: Arc<SearchIndex>) {
    let mut indexer = take_writer(&index).await;
    if !index.is_built().unwrap_or(false) {
        tracing::info!(path = %index.path().display(), "building the search index from the store");
    }
    let mut wait = INDEX_EVERY;
    loop {
        match catch_up(&mut indexer, &store).await {
            Ok(done) => {
                if done.rebuilt {
                    tracing::info!(indexed = done.indexed, "search index built");
                } else if done.events > 0 {
                    tracing::debug!(progress = ?done, "search index caught up");
                }
                wait = INDEX_EVERY;
            }
            Err(e) => {
                wait = (wait * 2).min(INDEX_BACKOFF_MAX);
                tracing::warn!(
                    error = %e,
                    retry_in_s = wait.as_secs(),
                    "the search index cannot catch up"
                );
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// The index's writer, once no other process holds it.
async fn take_writer(index: &Arc<SearchIndex>) -> rapport_search::Indexer {
    let mut waited = false;
    let mut wait = WRITER_EVERY;
    loop {
        let opening = index.clone();
        match tokio::task::spawn_blocking(move || opening.indexer()).await {
            Ok(Ok(Some(indexer))) => {
                if waited {
                    tracing::info!(path = %index.path().display(), "this server now keeps the search index current");
                }
                return indexer;
            }
            Ok(Ok(None)) => {
                if !waited {
                    tracing::info!(
                        path = %index.path().display(),
                        "another process writes the search index and keeps it current: this server reads it"
                    );
                }
                waited = true;
                wait = WRITER_EVERY;
            }
            Ok(Err(e)) => {
                wait = (wait * 2).min(INDEX_BACKOFF_MAX);
                tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "cannot write the search index");
            }
            Err(e) => {
                wait = (wait * 2).min(INDEX_BACKOFF_MAX);
                tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "cannot write the search index");
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// One catch-up. Its commits write and sync files: on a multi-threaded runtime the worker
/// lets its other tasks move elsewhere while it does (a test's single-threaded runtime
/// has no other worker to hand them to).
async fn catch_up(
    indexer: &mut rapport_search::Indexer,
    store: &Store,
) -> Result<rapport_search::Progress, rapport_search::SearchError> {
    let handle = tokio::runtime::Handle::current();
    match handle.runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(indexer.catch_up(store, |_| {})))
        }
        _ => indexer.catch_up(store, |_| {}).await,
    }
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
