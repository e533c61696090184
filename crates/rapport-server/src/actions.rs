//! Changes to a conversation that need the configuration as well as the store, made the
//! same way by the API, the web forms and the CLI.

use chrono::{DateTime, Utc};
use rapport_core::Status;
use rapport_core::config::Config;
use rapport_core::sla::due_at;
use rapport_store::{Store, StoreError};

/// Sets a conversation's status as `actor` at `now`. A conversation opened again starts
/// a new SLA clock now, on its team's policy and business hours. `false` when it already
/// had that status.
pub async fn set_status(
    store: &Store,
    config: &Config,
    id: i64,
    status: Status,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let detail = store.conversation(id).await?;
    let team = detail.conversation.team.as_deref();
    let due = due_at(
        now,
        config
            .sla_for(team)
            .minutes_for(detail.conversation.priority),
        config.calendar_for(team).as_ref(),
    );
    store.set_status(id, status, actor, now, Some(due)).await
}
