//! `rapport init`.

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use super::Ctx;

pub async fn run(ctx: &Ctx, force: bool) -> Result<ExitCode> {
    let store = ctx.create_store().await?;
    let wrote = if ctx.config_path.exists() && !force {
        false
    } else {
        std::fs::write(&ctx.config_path, crate::config::DEFAULT_CONFIG)
            .with_context(|| format!("cannot write {}", ctx.config_path.display()))?;
        true
    };
    // Refuse to leave a configuration that does not load.
    ctx.config()?;
    println!("store:  {}", store.location());
    if wrote {
        println!(
            "config: {} (written; edit teams, rules and SLAs there)",
            ctx.config_path.display()
        );
    } else {
        println!(
            "config: {} (kept; --force rewrites it)",
            ctx.config_path.display()
        );
    }
    println!("next:   rapport import FILE   or   rapport demo --data-dir ./demo-data");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
