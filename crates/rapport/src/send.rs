//! Sending queued replies through their channels (the outbox), for `rapport reply`,
//! `rapport outbox --send` and `rapport listen`.

use anyhow::Result;
use chrono::Utc;
use rapport_connectors::credentials;
use rapport_connectors::outbound::{self, PlannedReply};
use rapport_core::config::Config;
use rapport_store::Store;
use rapport_store::outbox::OutboxRow;
use serde::Serialize;

/// What one send did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Outcome {
    /// The platform has it.
    Sent {
        /// Its id there.
        remote_id: String,
        /// Its address.
        url: Option<String>,
    },
    /// Not this time; it stays queued.
    Pending {
        /// Why.
        error: String,
    },
    /// The platform refused it; it is no longer retried.
    Failed {
        /// Why.
        error: String,
    },
}

/// Sends one queued reply and records the outcome in the store.
pub async fn send_one(store: &Store, config: &Config, row: &OutboxRow) -> Result<Outcome> {
    let attempt = async {
        let channel = config
            .channels
            .iter()
            .find(|c| c.name == row.channel)
            .ok_or_else(|| {
                (
                    format!(
                        "channel {:?} is no longer in rapport.toml; add it back to send this reply",
                        row.channel
                    ),
                    true,
                )
            })?;
        let secret = credentials::secret(channel).map_err(|e| (e.to_string(), true))?;
        let plan: PlannedReply = serde_json::from_str(&row.request)
            .map_err(|e| (format!("the stored reply cannot be read: {e}"), false))?;
        outbound::send(channel, secret, &plan, &row.idempotency_key)
            .await
            .map_err(|e| (e.to_string(), e.is_transient()))
    };
    let outcome = match attempt.await {
        Ok(sent) => {
            store
                .outbox_sent(row.id, &sent.remote_id, sent.url.as_deref(), Utc::now())
                .await?;
            Outcome::Sent {
                remote_id: sent.remote_id,
                url: sent.url,
            }
        }
        Err((error, transient)) => {
            store
                .outbox_failed(row.id, &error, !transient, Utc::now())
                .await?;
            if transient {
                Outcome::Pending { error }
            } else {
                Outcome::Failed { error }
            }
        }
    };
    Ok(outcome)
}
