//! `rapport import FILE`: stream rows through triage and routing into the store, in
//! batches of one transaction each. Re-running a file stores nothing twice; a crash
//! loses at most the batch in flight, which the re-run then stores.

use std::fs::File;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rapport_connectors::import::{FieldMap, Format, ImportOptions, Importer};
use rapport_store::{Prepared, QuarantineRow};
use serde_json::json;

use super::Ctx;
use super::worker::{BadRow, INGEST, IngestPayload};
use crate::cli::{FormatArg, ImportArgs};
use rapport_server::pipeline::Pipeline;

pub async fn run(ctx: &Ctx, args: &ImportArgs) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let config = ctx.config()?;
    let path = &args.file;
    let file = File::open(path)
        .with_context(|| format!("cannot open {}: check the path", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let format = match args.format {
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Tsv) => Format::Tsv,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        None => match Format::from_path(path) {
            Some(f) => f,
            None => bail!(
                "cannot tell the format of {} from its extension: pass --format csv or --format jsonl",
                path.display()
            ),
        },
    };
    let mapping = match &args.map {
        Some(spec) => FieldMap::parse(spec)?,
        None => FieldMap::default(),
    };
    let mut options = ImportOptions::new(format);
    options.mapping = mapping;
    options.platform = args.platform.clone();
    options.date_format = args.date_format.clone();
    options.author = args.author.clone();
    options.direction = args.direction.as_deref().map(str::parse).transpose()?;
    let mut importer = Importer::new(file, options)
        .with_context(|| format!("cannot import {}", path.display()))?;
    let source = std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.clone())
        .display()
        .to_string();

    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) && !args.json {
        let b = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };

    if args.queue {
        return queue(&store, importer, &source, args, &bar).await;
    }
    let pipeline = Pipeline::load(&config, &store).await?;
    let mut ingestor = store.ingestor(&config).await?;
    let batch_size = args.batch.max(1);
    let mut batch: Vec<Prepared> = Vec::with_capacity(batch_size);
    let mut bad: Vec<QuarantineRow> = Vec::new();
    let (mut imported, mut duplicates, mut quarantined, mut conversations) =
        (0u64, 0u64, 0u64, 0u64);
    let mut shown_errors = 0u32;
    while let Some(row) = importer.next() {
        match row {
            Ok(row) => batch.push(pipeline.prepare(row.message)),
            Err(e) if e.fatal => {
                // The file itself could not be read further: keep what was read, then stop.
                let out = ingestor.write_batch(&batch, &bad).await?;
                bar.finish_and_clear();
                bail!(
                    "reading {} stopped at line {}: {} ({} rows were stored before it; run the import again once the file is readable)",
                    path.display(),
                    e.line,
                    e.reason,
                    imported + out.inserted
                );
            }
            Err(e) => {
                quarantined += 1;
                if shown_errors < 50 {
                    bar.suspend(|| eprintln!("{}:{}: {}", path.display(), e.line, e.reason));
                    shown_errors += 1;
                }
                bad.push(QuarantineRow {
                    source: source.clone(),
                    line: e.line,
                    reason: e.reason,
                    raw: e.raw,
                });
            }
        }
        if batch.len() + bad.len() >= batch_size {
            let out = ingestor.write_batch(&batch, &bad).await?;
            imported += out.inserted;
            duplicates += out.duplicates;
            conversations += out.conversations;
            batch.clear();
            bad.clear();
            bar.set_position(importer.bytes_read());
            bar.set_message(format!(
                "{imported} new, {duplicates} duplicates, {quarantined} quarantined"
            ));
        }
    }
    let out = ingestor.write_batch(&batch, &bad).await?;
    imported += out.inserted;
    duplicates += out.duplicates;
    conversations += out.conversations;
    bar.finish_and_clear();
    if shown_errors as u64 > 0 && quarantined > shown_errors as u64 {
        eprintln!(
            "... and {} more bad rows: `rapport quarantine` lists them all",
            quarantined - shown_errors as u64
        );
    }
    if args.json {
        crate::output::json(&json!({
            "imported": imported,
            "duplicates": duplicates,
            "quarantined": quarantined,
            "conversations_opened": conversations,
            "source": source,
        }))?;
    } else {
        println!(
            "{}: {imported} imported, {duplicates} duplicates, {quarantined} quarantined, {conversations} new conversations",
            path.display()
        );
        if quarantined > 0 {
            println!(
                "bad rows are kept: `rapport quarantine` lists them with their line and reason"
            );
        }
    }
    store.close().await;
    Ok(if quarantined > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// `import --queue`: the rows go into the job queue in batches, one `ingest` job each,
/// for `rapport worker` processes to triage and store. A batch's job is keyed by its
/// content, so queueing the same file again queues nothing twice.
async fn queue(
    store: &rapport_store::Store,
    mut importer: Importer<File>,
    source: &str,
    args: &ImportArgs,
    bar: &ProgressBar,
) -> Result<ExitCode> {
    use sha2::{Digest as _, Sha256};
    let batch_size = args.batch.max(1);
    let (mut rows, mut bad_rows, mut jobs, mut already) = (0u64, 0u64, 0u64, 0u64);
    let mut payload = IngestPayload {
        source: source.to_string(),
        messages: Vec::new(),
        quarantine: Vec::new(),
    };
    let mut fatal = None;
    loop {
        let end = match importer.next() {
            Some(Ok(row)) => {
                rows += 1;
                payload.messages.push(row.message);
                false
            }
            Some(Err(e)) if e.fatal => {
                fatal = Some(e);
                true
            }
            Some(Err(e)) => {
                bad_rows += 1;
                payload.quarantine.push(BadRow {
                    line: e.line,
                    reason: e.reason,
                    raw: e.raw,
                });
                false
            }
            None => true,
        };
        let full = payload.messages.len() + payload.quarantine.len() >= batch_size;
        if (full || end) && !(payload.messages.is_empty() && payload.quarantine.is_empty()) {
            let text = serde_json::to_string(&payload)?;
            let key = format!("ingest:{}", hex::encode(Sha256::digest(text.as_bytes())));
            match store
                .enqueue(INGEST, &text, Some(&key), 10, chrono::Utc::now())
                .await?
            {
                Some(_) => jobs += 1,
                None => already += 1,
            }
            payload.messages.clear();
            payload.quarantine.clear();
            bar.set_position(importer.bytes_read());
        }
        if end {
            break;
        }
    }
    bar.finish_and_clear();
    if let Some(e) = fatal {
        bail!(
            "reading {source} stopped at line {}: {} ({rows} rows before it were queued; run the import again once the file is readable)",
            e.line,
            e.reason
        );
    }
    if args.json {
        crate::output::json(&json!({
            "queued_jobs": jobs,
            "already_queued": already,
            "rows": rows,
            "bad_rows": bad_rows,
            "source": source,
        }))?;
    } else {
        println!(
            "{source}: {rows} rows and {bad_rows} bad rows queued in {jobs} jobs ({already} batches were already queued); `rapport worker` stores them"
        );
    }
    store.clone().close().await;
    // As a plain import: 3 when some rows will be quarantined.
    Ok(if bad_rows > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
