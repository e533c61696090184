//! `rapport correct MESSAGE_ID --intent INTENT | --sentiment LABEL`: an agent says what a
//! message really is. The correction is kept (with its event) as training data for
//! `rapport train`; an intent correction also changes the message's stored intent (and
//! its conversation's, when it is the first message). See docs/learning.md.

use std::process::ExitCode;

use anyhow::{Result, bail};
use rapport_core::learn::Kind;

use super::Ctx;
use crate::output::json;

pub async fn run(
    ctx: &Ctx,
    message_id: i64,
    intent: Option<&str>,
    sentiment: Option<&str>,
    as_json: bool,
) -> Result<ExitCode> {
    let (kind, value) = match (intent, sentiment) {
        (Some(i), None) => (Kind::Intent, i),
        (None, Some(s)) => (Kind::Sentiment, s),
        _ => bail!("say what to correct: --intent INTENT or --sentiment positive|neutral|negative"),
    };
    let store = ctx.store().await?;
    let c = store
        .correct(message_id, kind, value, &ctx.actor, ctx.now()?)
        .await?;
    if as_json {
        json(&c)?;
    } else {
        println!(
            "message {}: {} {} → {} (by {}){}",
            c.message_id,
            c.field,
            c.old,
            c.new,
            c.actor,
            c.conversation_id
                .map(|id| format!(", conversation {id}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
