//! `rapport migrate-store --from A --to B`: a whole store into another, verified.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use rapport_store::Store;
use serde_json::json;

/// A store named by a database URL or a data directory.
async fn open(place: &str, create: bool) -> Result<Store> {
    let is_url = place.contains("://") || place.starts_with("sqlite:");
    let store = if is_url {
        Store::connect(place).await?
    } else if create {
        Store::create(Path::new(place)).await?
    } else {
        Store::open(Path::new(place)).await?
    };
    Ok(store)
}

pub async fn run(from: &str, to: &str, json_out: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let source = open(from, false).await.with_context(|| {
        format!(
            "cannot open the source store {}",
            rapport_store::redact(from)
        )
    })?;
    let target = open(to, true)
        .await
        .with_context(|| format!("cannot open the target store {}", rapport_store::redact(to)))?;
    let report = source.copy_into(&target).await.with_context(|| {
        format!(
            "copying {} into {} failed; the target was left as it was",
            source.location(),
            target.location()
        )
    })?;
    if json_out {
        crate::output::json(&json!({
            "from": source.location(),
            "to": target.location(),
            "tables": report.tables,
            "seconds": started.elapsed().as_secs_f64(),
        }))?;
    } else {
        println!(
            "copied {} ({}) into {} ({}) in {:.1}s; every table checked:",
            source.location(),
            source.backend(),
            target.location(),
            target.backend(),
            started.elapsed().as_secs_f64()
        );
        for (table, (rows, sum)) in &report.tables {
            println!("  {table:<20} {rows:>9} rows  sha256 {}", &sum[..16]);
        }
    }
    source.close().await;
    target.close().await;
    Ok(ExitCode::SUCCESS)
}
