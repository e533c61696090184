//! `rapport train intent|sentiment`: fits the classifier that learns from the team
//! (`rapport_core::learn`) on the stored corrections, or on a labelled CSV file
//! (`--labels FILE --text COL --label COL`), and keeps it in the store, where triage
//! finds it. `--evaluate FRACTION` holds that fraction back (a fixed-seed shuffle),
//! compares the model with the rules on it and saves nothing; with the embedding model
//! installed it also says whether embedding features would do better than the words
//! (a nearest-centroid classifier on the same split; a report only). See
//! docs/learning.md.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rapport_core::config::Config;
use rapport_core::learn::{Kind, Model, TrainOptions, rules_sentiment, split};
use rapport_core::semantic::{CentroidClassifier, EmbeddingVerdict};
use rapport_core::triage::{Reach, Triager};
use rapport_semantic::{DeviceChoice, Embedder, MODEL_NAME};
use serde_json::json;

use super::Ctx;
use crate::cli::TrainArgs;
use crate::output::json;

/// Labelled texts: the texts and the index of each one's label in `Kind::allowed`.
struct Labelled {
    texts: Vec<String>,
    targets: Vec<usize>,
}

pub async fn run(ctx: &Ctx, args: &TrainArgs) -> Result<ExitCode> {
    let kind: Kind = args.kind.parse()?;
    let config = if ctx.config_path.exists() {
        ctx.config()?
    } else {
        Config::default()
    };
    if let Some(f) = args.evaluate
        && !(f > 0.0 && f < 1.0)
    {
        bail!("--evaluate {f}: give the fraction to hold back, between 0 and 1 (e.g. 0.2)");
    }
    let allowed = kind.allowed();
    let (data, source) = match &args.labels {
        Some(path) => (
            read_csv(path, &args.text, &args.label, kind)?,
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        ),
        None => {
            let store = ctx.store().await?;
            let rows = store.corrected_texts(kind).await?;
            let min = config.learning.min_examples;
            if rows.len() < min {
                bail!(
                    "only {} message{} {} a corrected {kind}, and [learning] min_examples is {min}: \
                     correct more with `rapport correct MESSAGE_ID --{kind} …`, lower min_examples, \
                     or train on a labelled file with --labels",
                    rows.len(),
                    if rows.len() == 1 { "" } else { "s" },
                    if rows.len() == 1 { "has" } else { "have" },
                );
            }
            let mut data = Labelled {
                texts: Vec::new(),
                targets: Vec::new(),
            };
            for r in rows {
                let label = kind.label(&r.label)?;
                data.texts.push(r.text);
                data.targets
                    .push(allowed.iter().position(|l| *l == label).unwrap_or(0));
            }
            (data, "corrections".to_string())
        }
    };

    let options = TrainOptions::default();
    if let Some(fraction) = args.evaluate {
        if data.texts.len() < 2 {
            bail!("--evaluate needs at least two labelled texts, one to train on and one to test");
        }
        // The model, when installed: the embeddings are measured against the words too.
        let embedder = super::semantic::load(ctx, &config, DeviceChoice::Cpu)?;
        return evaluate(
            &config,
            kind,
            &data,
            fraction,
            options,
            embedder.as_ref(),
            args.json,
        );
    }

    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let model = Model::train(kind, &allowed, &texts, &data.targets, options)?;
    let seconds = started.elapsed().as_secs_f64();
    let saved = !args.dry_run;
    if saved {
        let store = ctx.store().await?;
        let body = serde_json::to_string(&model).context("cannot serialise the model")?;
        store
            .save_model(
                kind,
                &body,
                &source,
                texts.len() as i64,
                &ctx.actor,
                ctx.now()?,
            )
            .await?;
    }
    if args.json {
        json(&json!({
            "kind": kind,
            "source": source,
            "train": texts.len(),
            "labels": model.labels(),
            "train_seconds": seconds,
            "saved": saved,
        }))?;
    } else {
        println!(
            "trained the {kind} model on {} texts from {source} in {seconds:.2} s (labels: {}); {}",
            texts.len(),
            model.labels().join(", "),
            if saved {
                "saved: triage uses it when it is confident"
            } else {
                "not saved (--dry-run)"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How the embedding features did on the held-back rows.
struct EmbeddingCheck {
    accuracy: f64,
    verdict: EmbeddingVerdict,
    seconds: f64,
}

/// Embeds every text, fits a nearest-centroid classifier on the training rows' vectors
/// and tests it on the held-back rows, against the word model's `words` accuracy.
fn check_embeddings(
    embedder: &Embedder,
    data: &Labelled,
    train_idx: &[usize],
    test_idx: &[usize],
    classes: usize,
    words: f64,
) -> Result<EmbeddingCheck> {
    let started = Instant::now();
    let mut vectors: Vec<Vec<f32>> = Vec::with_capacity(data.texts.len());
    for chunk in data.texts.chunks(embedder.batch_size().max(1) * 4) {
        let strs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        vectors.extend(embedder.embed(&strs).context(
            "cannot embed the labelled texts; `rapport semantic status` checks the model",
        )?);
    }
    let classifier = CentroidClassifier::fit(
        train_idx
            .iter()
            .filter_map(|i| Some((vectors.get(*i)?.as_slice(), data.targets[*i]))),
        classes,
    );
    let right = test_idx
        .iter()
        .filter(|i| {
            vectors
                .get(**i)
                .and_then(|v| classifier.predict(v))
                .is_some_and(|p| p == data.targets[**i])
        })
        .count();
    let accuracy = right as f64 / test_idx.len().max(1) as f64;
    Ok(EmbeddingCheck {
        accuracy,
        verdict: EmbeddingVerdict::of(accuracy, words, test_idx.len()),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Trains on the shuffled rest, tests the model and the rules (and, with `embedder`, the
/// embedding features) on the held-back rows.
fn evaluate(
    config: &Config,
    kind: Kind,
    data: &Labelled,
    fraction: f64,
    options: TrainOptions,
    embedder: Option<&Embedder>,
    as_json: bool,
) -> Result<ExitCode> {
    let allowed = kind.allowed();
    let (train_idx, test_idx) = split(data.texts.len(), fraction);
    let texts: Vec<&str> = train_idx.iter().map(|i| data.texts[*i].as_str()).collect();
    let targets: Vec<usize> = train_idx.iter().map(|i| data.targets[*i]).collect();
    let started = Instant::now();
    let model = Model::train(kind, &allowed, &texts, &targets, options)?;
    let train_seconds = started.elapsed().as_secs_f64();

    let rules = Triager::new(&config.intent, &config.priority)?;
    let (mut right, mut rules_right) = (0usize, 0usize);
    for i in &test_idx {
        let text = data.texts[*i].as_str();
        let truth = allowed[data.targets[*i]];
        if model.predict(text).label == truth {
            right += 1;
        }
        let t = rules.triage(text, Reach::default());
        let by_rules = match kind {
            Kind::Sentiment => rules_sentiment(t.scores.compound),
            Kind::Intent => t.intent.intent.as_str(),
        };
        if by_rules == truth {
            rules_right += 1;
        }
    }
    let n = test_idx.len() as f64;
    let accuracy = right as f64 / n;
    let rules_accuracy = rules_right as f64 / n;
    let embeddings = embedder
        .map(|e| check_embeddings(e, data, &train_idx, &test_idx, allowed.len(), accuracy))
        .transpose()?;

    // Triage with the model (the rules run too: VADER and the cues, then the model),
    // on one core, over the held-back texts for at least half a second.
    let model = Arc::new(model);
    let (intent_model, sentiment_model) = match kind {
        Kind::Intent => (Some(model.clone()), None),
        Kind::Sentiment => (None, Some(model.clone())),
    };
    let learning = rapport_core::learn::LearningConfig {
        min_confidence: config.learning.min_confidence,
        min_examples: 0,
    };
    let with_model = Triager::new(&config.intent, &config.priority)?.with_models(
        intent_model,
        sentiment_model,
        &learning,
    );
    let started = Instant::now();
    let mut triaged = 0usize;
    while started.elapsed() < Duration::from_millis(500) {
        for i in &test_idx {
            std::hint::black_box(with_model.triage(&data.texts[*i], Reach::default()));
        }
        triaged += test_idx.len();
    }
    let triage_per_s = triaged as f64 / started.elapsed().as_secs_f64();

    if as_json {
        json(&json!({
            "accuracy": accuracy,
            "rules_accuracy": rules_accuracy,
            "train": train_idx.len(),
            "test": test_idx.len(),
            "kind": kind,
            "labels": model.labels(),
            "train_seconds": train_seconds,
            "triage_per_s": triage_per_s,
            "embeddings": embeddings.as_ref().map(|e| json!({
                "accuracy": e.accuracy,
                "words_accuracy": accuracy,
                "verdict": e.verdict,
                "classifier": "nearest centroid (cosine)",
                "model": MODEL_NAME,
                "seconds": e.seconds,
            })),
        }))?;
    } else {
        println!(
            "{kind}: trained on {} texts in {train_seconds:.2} s, tested on {} held back\n  \
             learned model accuracy {:.1}%\n  rules accuracy        {:.1}%\n  \
             triage with the model: {:.0} messages/s on one core\n  {}\n(nothing saved: --evaluate only measures)",
            train_idx.len(),
            test_idx.len(),
            accuracy * 100.0,
            rules_accuracy * 100.0,
            triage_per_s,
            match &embeddings {
                Some(e) => format!(
                    "embedding features: accuracy {:.1}% vs {:.1}% with words: {} \
                     (nearest centroid of {MODEL_NAME} embeddings; report only, the word model is what triage uses)",
                    e.accuracy * 100.0,
                    accuracy * 100.0,
                    e.verdict.words()
                ),
                None => "embedding features: not measured, the semantic layer is off \
                         (`rapport semantic install`)"
                    .to_string(),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a labelled CSV: columns by header name; a bad row is reported with its line
/// number and skipped; none left is an error.
fn read_csv(path: &Path, text_col: &str, label_col: &str, kind: Kind) -> Result<Labelled> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header line", path.display()))?
        .clone();
    let column = |name: &str, what: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| {
                format!(
                    "{}: no column {name:?} for the {what} (--{what} COL); the header has: {}",
                    path.display(),
                    headers.iter().collect::<Vec<_>>().join(", ")
                )
            })
    };
    let ti = column(text_col, "text")?;
    let li = column(label_col, "label")?;
    let allowed = kind.allowed();
    let mut data = Labelled {
        texts: Vec::new(),
        targets: Vec::new(),
    };
    let mut skipped = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                eprintln!("{}:{line}: skipped: {e}", path.display());
                skipped += 1;
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let text = record.get(ti).unwrap_or("").trim();
        let label = record.get(li).unwrap_or("");
        if text.is_empty() {
            eprintln!("{}:{line}: skipped: the text is empty", path.display());
            skipped += 1;
            continue;
        }
        match kind.label(label) {
            Ok(l) => {
                data.texts.push(text.to_string());
                data.targets
                    .push(allowed.iter().position(|a| *a == l).unwrap_or(0));
            }
            Err(e) => {
                eprintln!("{}:{line}: skipped: {e}", path.display());
                skipped += 1;
            }
        }
    }
    if data.texts.is_empty() {
        bail!(
            "{}: no usable row ({skipped} skipped): each needs a text in {text_col:?} and a {kind} label in {label_col:?} ({})",
            path.display(),
            allowed.join(", ")
        );
    }
    if skipped > 0 {
        eprintln!(
            "{}: {skipped} row{} skipped, {} used",
            path.display(),
            if skipped == 1 { "" } else { "s" },
            data.texts.len()
        );
    }
    Ok(data)
}
