//! `rapport serve`: the REST API (and, as it grows, the web inbox) over the store.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use rapport_server::AppState;

use super::Ctx;

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(ctx: &Ctx, listen: &str, secure_cookies: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let clock = match ctx.env.get("RAPPORT_NOW") {
        Some(_) => Some(ctx.now()?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("cannot listen on {listen}: pass --listen HOST:PORT with a free port")
        })?;
    let addr = listener.local_addr()?;
    let users = store.users().await?;
    eprintln!(
        "rapport: serving on http://{addr} (API at /api/v1, described at /api/v1/openapi.json)"
    );
    if users.is_empty() {
        eprintln!(
            "rapport: no users yet: add one with `rapport user add NAME --role admin`, \
             then `rapport token create --user NAME` for an API token"
        );
    }
    let mut state = AppState::with_options(store, config, secure_cookies, clock);
    // Search is a part the server can do without: an index that cannot be opened leaves
    // it off (the API says so), not the whole server down.
    let index_dir = ctx.data_dir.join(rapport_search::INDEX_DIR);
    let opened = tokio::task::spawn_blocking(move || rapport_search::SearchIndex::open(&index_dir))
        .await
        .context("opening the search index")?;
    match opened {
        Ok(index) => state = state.with_search(Arc::new(index)),
        Err(e) => eprintln!("rapport: search is off: {e}"),
    }
    if let Some(embedder) = super::semantic::for_server(ctx, state.config()) {
        state = state.with_embedder(embedder);
    }
    rapport_server::serve_with_listener(listener, state, shutdown_signal()).await?;
    eprintln!("rapport: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
