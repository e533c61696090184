//! `rapport alerts`: spike alerts — list them, or score the settled buckets now and send
//! what is new to the leaders' webhook. The worker's `alerts` duty does the same every
//! few seconds.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use rapport_connectors::alerts::{AlertSender, slack_payload};
use rapport_core::config::Config;
use rapport_server::reports::parse_when;
use rapport_store::{Alert, Store};
use serde::Serialize;

use super::Ctx;
use crate::cli::{AlertsArgs, AlertsCommand};
use crate::output::json;

/// Tries at sending one alert before it is given up.
const MAX_NOTIFY_TRIES: u32 = 10;

/// What one check did.
#[derive(Debug, Default, Serialize)]
pub struct CheckOutcome {
    /// Alerts raised by this check.
    pub raised: Vec<Alert>,
    /// Alerts the webhook took in this check (new or older ones).
    pub sent: u64,
    /// Alerts the webhook refused or could not be reached for; tried again later.
    pub failed: u64,
}

/// Scores the settled buckets and sends every alert still waiting for the webhook.
pub async fn check(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<CheckOutcome> {
    let mut out = CheckOutcome::default();
    if !config.alerts.enabled {
        return Ok(out);
    }
    let topics: Vec<String> = config.topics.iter().map(|t| t.name.clone()).collect();
    out.raised = store
        .detect_spikes(&config.alerts, &topics, now)
        .await
        .context("cannot score the spike buckets")?;
    for a in &out.raised {
        tracing::info!(
            "alert {} at {}: {}",
            a.id,
            a.bucket_start.format("%Y-%m-%d %H:%M UTC"),
            a.headline
        );
    }
    let Some(url) = config.alerts.webhook.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(out);
    };
    let pending = store.alerts_to_notify(MAX_NOTIFY_TRIES).await?;
    if pending.is_empty() {
        return Ok(out);
    }
    let sender = AlertSender::new(url).context("cannot set up the alert webhook client")?;
    for alert in pending {
        let body = slack_payload(&alert, &config.organisation.name, None);
        let result = sender.send(&body).await.map_err(|e| e.to_string());
        match &result {
            Ok(()) => out.sent += 1,
            Err(e) => {
                out.failed += 1;
                tracing::warn!("alert {}: the webhook did not take it: {e}", alert.id);
            }
        }
        store.alert_notified(alert.id, result, Utc::now()).await?;
    }
    Ok(out)
}

pub async fn run(ctx: &Ctx, args: &AlertsArgs) -> Result<ExitCode> {
    let now = ctx.now()?;
    let store = ctx.store().await?;
    match &args.command {
        Some(AlertsCommand::Check { json: as_json }) => {
            let config = ctx.config()?;
            if !config.alerts.enabled {
                eprintln!(
                    "spike alerts are off: set enabled = true under [alerts] in rapport.toml"
                );
            }
            let out = check(&store, &config, now).await?;
            if *as_json {
                json(&out)?;
            } else {
                println!(
                    "{} new alert(s); {} sent to the webhook, {} to try again",
                    out.raised.len(),
                    out.sent,
                    out.failed
                );
                for a in &out.raised {
                    print_alert(a);
                }
            }
            Ok(if out.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        None => {
            let since = args
                .since
                .as_deref()
                .map(|s| parse_when(s, now))
                .transpose()
                .context("--since")?;
            let alerts = store.alerts(since, None, args.limit).await?;
            if args.json {
                json(&alerts)?;
            } else if alerts.is_empty() {
                println!(
                    "no spike alerts{}",
                    if since.is_some() { " in that span" } else { "" }
                );
            } else {
                for a in &alerts {
                    print_alert(a);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_alert(a: &Alert) {
    let sent = match (&a.notified_at, &a.notify_error) {
        (Some(t), _) => format!("sent {}", t.format("%H:%M")),
        (None, Some(e)) => e.clone(),
        (None, None) => "not sent".into(),
    };
    println!(
        "#{} {}  {}  [{sent}]",
        a.id,
        a.bucket_start.format("%Y-%m-%d %H:%M UTC"),
        a.headline
    );
}
