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
