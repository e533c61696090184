//! `rapport listen`: every configured channel at once.
//!
//! Each channel's connector runs as its own task and hands [`Delivery`]s to one writer
//! (this task), which triages them and stores each — messages, quarantined problems and
//! the source's cursor — in one transaction. A connector that fails stops alone; the
//! others go on. Webhook channels are served over HTTP; queued replies are sent every
//! [`OUTBOX_EVERY`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use rapport_connectors::bluesky::listener::BlueskyConnector;
use rapport_connectors::credentials;
use rapport_connectors::listen::{Connector, Cursors, Sink};
use rapport_connectors::mastodon::listener::MastodonConnector;
use rapport_connectors::net::{Http, RetryPolicy};
use rapport_connectors::rss::poller::FeedConnector;
use rapport_core::channel::{ChannelConfig, ChannelKind};
use rapport_core::config::Config;
use rapport_server::ingest;
use rapport_server::pipeline::Pipeline;
use rapport_server::replies::{Outcome, send_one};
use rapport_store::{BatchOutcome, Store};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Ctx;
use crate::cli::ListenArgs;

/// How often queued replies are sent.
pub const OUTBOX_EVERY: Duration = Duration::from_secs(30);
/// How often `listen` scores settled buckets for spikes (when no worker does).
pub const ALERTS_EVERY: Duration = Duration::from_secs(20);

pub async fn run(ctx: &Ctx, args: &ListenArgs) -> Result<ExitCode> {
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let channels = chosen(&config, &args.channels, ctx)?;
    let pipeline = Pipeline::load(&config, &store).await?;

    let (sink, mut deliveries) = Sink::channel(64);
    let mut tasks: JoinSet<(String, Result<(), String>)> = JoinSet::new();
    let mut failed = 0usize;
    let mut webhooks = HashMap::new();
    for channel in &channels {
        let secret = match credentials::secret(channel) {
            Ok(secret) => secret,
            Err(e) => {
                tracing::error!("{e}");
                failed += 1;
                continue;
            }
        };
        let http = Http::new(channel.timeout(), RetryPolicy::default())?;
        let connector: Box<dyn Connector> = match channel.kind {
            ChannelKind::Bluesky => Box::new(BlueskyConnector::new(channel, http, secret)),
            ChannelKind::Mastodon => match secret {
                Some(token) => Box::new(MastodonConnector::new(channel, http, token)),
                None => {
                    tracing::error!("channel {:?} has no access token", channel.name);
                    failed += 1;
                    continue;
                }
            },
            ChannelKind::Rss => Box::new(FeedConnector::new(channel, http)),
            ChannelKind::Webhook => {
                if let Some(secret) = secret {
                    webhooks.insert(channel.name.clone(), secret);
                }
                continue;
            }
        };
        let mut cursors = Cursors::new();
        for source in connector.sources() {
            if let Some(c) = store.channel_cursor(&source).await? {
                cursors.insert(source, c);
            }
        }
        let name = channel.name.clone();
        let sink = sink.clone();
        tracing::info!("channel {name:?} ({}) starting", channel.kind.as_str());
        tasks.spawn(async move {
            let result = connector
                .run(cursors, sink)
                .await
                .map_err(|e| e.to_string());
            (name, result)
        });
    }
    drop(sink);

    let (hooks_tx, mut hooks) = mpsc::channel::<ingest::Job>(16);
    let mut server = None;
    if !webhooks.is_empty() {
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .with_context(|| {
                format!(
                    "cannot serve the webhook endpoint on {}: pass --bind HOST:PORT with a free port",
                    args.bind
                )
            })?;
        let addr: SocketAddr = listener.local_addr()?;
        for name in webhooks.keys() {
            tracing::info!("webhook endpoint: http://{addr}/api/v1/ingest/{name}");
        }
        let app: axum::Router = ingest::router(webhooks, hooks_tx.clone());
        server = Some(tokio::spawn(
            async move { axum::serve(listener, app).await },
        ));
    }
    drop(hooks_tx);
    if tasks.is_empty() && server.is_none() {
        bail!("no channel could start (see the errors above)");
    }

    // Replies queued earlier (a crash, a platform that was down) and scheduled drafts
    // that are due go out now and then.
    let outbox = {
        let store = store.clone();
        let config = config.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = send_pending(&store, &config, OUTBOX_SETTLE).await {
                    tracing::warn!("outbox: {e:#}");
                }
                tokio::time::sleep(OUTBOX_EVERY).await;
            }
        })
    };

    // The semantic layer's vectors of new messages, in the background, when its model
    // is installed: never in the ingest path.
    let embedding = super::semantic::for_server(ctx, &config)
        .filter(|_| config.semantic.background)
        .map(|embedder| {
            tokio::spawn(rapport_server::semantic::keep_embeddings_current(
                store.clone(),
                embedder,
                config.semantic.batch,
            ))
        });

    // Spike alerts, when no worker scores them: the same singleton duty as the
    // worker's, so one process at a time scores buckets and sends to the webhook.
    let alerts = {
        let store = store.clone();
        let config = config.clone();
        let holder = format!("listen-{}", std::process::id());
        tokio::spawn(async move {
            let lease = ALERTS_EVERY * 3;
            let mut duty = None;
            loop {
                let now = chrono::Utc::now();
                duty = match duty.take() {
                    Some(mut d) => match store.still_held(&mut d, lease, now).await {
                        Ok(true) => Some(d),
                        _ => None,
                    },
                    None => store
                        .try_singleton(super::worker::ALERTS, &holder, lease, now)
                        .await
                        .ok()
                        .flatten(),
                };
                if duty.is_some()
                    && let Err(e) = super::alerts::check(&store, &config, now).await
                {
                    tracing::warn!("spike alerts: {e:#}");
                }
                tokio::time::sleep(ALERTS_EVERY).await;
            }
        })
    };

    let mut ingestor = store.ingestor(&config).await?;
    let started = Instant::now();
    let mut last = Instant::now();
    let idle = args.exit_after_idle.map(Duration::from_secs_f64);
    let mut totals = BatchOutcome::default();
    let mut problems = 0usize;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let term = terminate();
    tokio::pin!(term);
    loop {
        let idle_at = idle.map(|d| tokio::time::Instant::from_std(last + d));
        tokio::select! {
            Some(delivery) = deliveries.recv() => {
                last = Instant::now();
                problems += delivery.problems.len();
                let outcome = ingest::write(&mut ingestor, &pipeline, delivery)
                    .await
                    .context("cannot store what a channel delivered")?;
                add(&mut totals, outcome);
            }
            Some((delivery, ack)) = hooks.recv() => {
                last = Instant::now();
                problems += delivery.problems.len();
                let outcome = ingest::write(&mut ingestor, &pipeline, delivery).await;
                if let Ok(o) = &outcome {
                    add(&mut totals, *o);
                }
                let _ = ack.send(outcome.as_ref().map(|o| *o).map_err(|e| e.to_string()));
                outcome?;
            }
            Some(done) = tasks.join_next() => {
                match done {
                    Ok((name, Ok(()))) => tracing::info!("channel {name:?} stopped"),
                    Ok((name, Err(e))) => {
                        tracing::error!("channel {name:?} stopped: {e}");
                        failed += 1;
                    }
                    Err(e) => {
                        tracing::error!("a channel crashed: {e}");
                        failed += 1;
                    }
                }
                if tasks.is_empty() && server.is_none() {
                    break;
                }
            }
            _ = sleep_until(idle_at) => {
                tracing::info!("nothing arrived for {:?}: stopping", idle.unwrap_or_default());
                break;
            }
            _ = &mut ctrl_c => {
                tracing::info!("stopping (Ctrl-C)");
                break;
            }
            _ = &mut term => {
                tracing::info!("stopping (SIGTERM)");
                break;
            }
        }
    }
    tasks.abort_all();
    outbox.abort();
    alerts.abort();
    if let Some(embedding) = embedding {
        embedding.abort();
    }
    if let Some(server) = server {
        server.abort();
    }
    println!(
        "listened {:.1}s: {} new messages, {} already stored, {} new conversations, {} problems quarantined",
        started.elapsed().as_secs_f64(),
        totals.inserted,
        totals.duplicates,
        totals.conversations,
        problems
    );
    store.close().await;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// SIGTERM (a service manager stopping rapport); never on other systems.
pub(crate) async fn terminate() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn add(totals: &mut BatchOutcome, o: BatchOutcome) {
    totals.inserted += o.inserted;
    totals.duplicates += o.duplicates;
    totals.conversations += o.conversations;
}

/// The channels to run: all, or those named.
fn chosen(config: &Config, names: &[String], ctx: &Ctx) -> Result<Vec<ChannelConfig>> {
    if config.channels.is_empty() {
        bail!(
            "no [[channel]] in {}: add one (docs/connectors.md shows how for each platform)",
            ctx.config_path.display()
        );
    }
    if names.is_empty() {
        return Ok(config.channels.clone());
    }
    names
        .iter()
        .map(|name| {
            config
                .channels
                .iter()
                .find(|c| &c.name == name)
                .cloned()
                .with_context(|| {
                    let known: Vec<&str> =
                        config.channels.iter().map(|c| c.name.as_str()).collect();
                    format!("no channel {name:?}: the channels are {}", known.join(", "))
                })
        })
        .collect()
}

/// How long a reply must have been left alone before a listener or worker sends it: a
/// reply written a moment ago is being sent by the `rapport reply` that wrote it.
pub const OUTBOX_SETTLE: Duration = Duration::from_secs(60);

/// Sends the queued replies that nothing touched for `settle`, and the posts of the
/// scheduled drafts that are due.
pub(crate) async fn send_pending(store: &Store, config: &Config, settle: Duration) -> Result<()> {
    for p in rapport_server::publishing::publish_due(store, config, Utc::now(), None).await? {
        match &p.outcome {
            Outcome::Sent { remote_id, .. } => {
                tracing::info!(
                    "draft {} published through {} ({remote_id})",
                    p.draft_id,
                    p.channel
                );
            }
            Outcome::Pending { error } => {
                tracing::warn!(
                    "draft {} not sent through {} yet: {error}",
                    p.draft_id,
                    p.channel
                );
            }
            Outcome::Failed { error } => {
                tracing::error!("draft {} refused by {}: {error}", p.draft_id, p.channel);
            }
        }
    }
    let settled = Utc::now()
        - chrono::Duration::from_std(settle).unwrap_or_else(|_| chrono::Duration::seconds(60));
    for row in store.pending_outbox_since(None, Some(settled)).await? {
        match send_one(store, config, &row).await? {
            Outcome::Sent { remote_id, .. } => {
                tracing::info!(
                    "reply #{} sent through {} ({remote_id})",
                    row.id,
                    row.channel
                );
            }
            Outcome::Pending { error } => {
                tracing::warn!("reply #{} not sent yet: {error}", row.id);
            }
            Outcome::Failed { error } => {
                tracing::error!("reply #{} refused by {}: {error}", row.id, row.channel);
            }
        }
    }
    Ok(())
}
