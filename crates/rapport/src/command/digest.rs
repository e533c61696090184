//! `rapport digest`: the leader digest (`rapport_server::digest`), printed, written to a
//! file atomically, or posted to a Slack-compatible webhook.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use rapport_connectors::alerts::{AlertSender, digest_payload};
use rapport_core::digest::DigestPeriod;
use rapport_server::digest::{build, render};

use super::Ctx;
use crate::cli::{DigestArgs, DigestFormat, DigestPeriodArg};

pub async fn run(ctx: &Ctx, args: &DigestArgs) -> Result<ExitCode> {
    let now = ctx.now()?;
    let config = ctx.config()?;
    let store = ctx.store().await?;
    let period = match args.period {
        DigestPeriodArg::Day => DigestPeriod::Day,
        DigestPeriodArg::Week => DigestPeriod::Week,
    };
    embed_the_periods(ctx, &config, &store, now - period.length() * 2).await;
    let digest = build(&store, &config, period, args.team.as_deref(), now)
        .await
        .context("cannot make the digest")?;
    let format = if args.json {
        DigestFormat::Json
    } else {
        args.format
    };
    let body = match format {
        DigestFormat::Text => render::text(&digest),
        DigestFormat::Markdown => render::markdown(&digest),
        DigestFormat::Html => render::html(&digest),
        DigestFormat::Json => serde_json::to_string_pretty(&digest)? + "\n",
    };
    if let Some(path) = &args.out {
        write_atomically(path, body.as_bytes())?;
        eprintln!(
            "wrote the {} digest to {}",
            period.adjective(),
            path.display()
        );
    }
    // An empty RAPPORT_DIGEST_WEBHOOK is no webhook.
    let webhook = args.webhook.as_deref().filter(|u| !u.trim().is_empty());
    if let Some(url) = webhook {
        let sender = AlertSender::for_digest(url).context("cannot set up the webhook client")?;
        sender
            .send(&digest_payload(&render::markdown(&digest)))
            .await
            .context("the digest was not posted")?;
        eprintln!("posted the {} digest to the webhook", period.adjective());
    }
    if args.out.is_none() && webhook.is_none() {
        let mut out = std::io::stdout().lock();
        out.write_all(body.as_bytes())?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// With the embedding model installed, embeds the inbound messages written since
/// `since` (the digest's period and the one before) that have no vector yet, so that
/// its themes by meaning cover every message; a running `serve`, `listen` or worker has
/// usually done it already. Without the model this does nothing (the digest says how to
/// turn themes on); when it fails, the digest is still made, from the vectors there are.
async fn embed_the_periods(
    ctx: &Ctx,
    config: &rapport_core::config::Config,
    store: &rapport_store::Store,
    since: chrono::DateTime<chrono::Utc>,
) {
    let model = rapport_semantic::MODEL_NAME;
    match store
        .messages_to_embed(model, Some(since), i64::MIN, 1)
        .await
    {
        Ok(todo) if todo.is_empty() => return,
        Ok(_) => {}
        Err(e) => {
            eprintln!("rapport: the digest's themes cover only the messages embedded so far: {e}");
            return;
        }
    }
    let embedder = match super::semantic::load(ctx, config, rapport_semantic::DeviceChoice::Cpu) {
        Ok(Some(e)) => e,
        Ok(None) => return,
        Err(e) => {
            eprintln!(
                "rapport: the digest's themes cover only the messages embedded so far: {e:#}"
            );
            return;
        }
    };
    eprintln!("rapport: embedding the period's new messages for the themes by meaning…");
    let mut after = i64::MIN;
    let done = rapport_server::semantic::embed_pending(
        store,
        &embedder,
        config.semantic.batch,
        None,
        Some(since),
        &mut after,
        |_| {},
    )
    .await;
    match done {
        Ok(n) => eprintln!("rapport: embedded {n} messages"),
        Err(e) => eprintln!(
            "rapport: the digest's themes cover only the messages embedded so far: cannot embed the rest: {e}"
        ),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, flushed to
/// disk and renamed over `path`: a reader sees the old file or the new one, never half.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rapport-digest-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
