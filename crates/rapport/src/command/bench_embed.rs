//! `rapport bench embed`: sentence embeddings per second, rapport's (candle, on the CPU
//! or a CUDA GPU) beside sentence-transformers' (PyTorch) on the same sentences, the same
//! model files and the same device, in the same run; and how closely the two agree (the
//! cosine between the two vectors of each sentence).
//!
//! The sentences are the demo's social posts, cycled to `--sentences`. The peer runs
//! `tools/bench/embed_peer.py` (built into the binary) with the Python given by
//! `--python`; without sentence-transformers there, only rapport's figure is printed,
//! with what to install.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use rapport_semantic::{DeviceChoice, Embedder};
use serde::Serialize;

use super::Ctx;
use crate::output;

/// The peer's script.
const PEER: &str = include_str!("../../../../tools/bench/embed_peer.py");

/// What the bench measured.
#[derive(Debug, Serialize)]
pub struct EmbedBench {
    /// Sentences embedded by each.
    pub sentences: usize,
    /// Their mean length in characters.
    pub mean_chars: f64,
    /// Where rapport ran.
    pub device: String,
    /// Texts per forward pass.
    pub batch: usize,
    /// rapport's sentences per second (tokenising, the model, pooling).
    pub sentences_per_s: f64,
    /// sentence-transformers' sentences per second, when it ran.
    pub reference_sentences_per_s: Option<f64>,
    /// rapport ÷ sentence-transformers.
    pub ratio: Option<f64>,
    /// The lowest cosine between rapport's and sentence-transformers' vector of one
    /// sentence (1 = the same vector).
    pub min_cosine_to_reference: Option<f64>,
    /// The mean of those cosines.
    pub mean_cosine_to_reference: Option<f64>,
    /// The peer's versions, device and precision, when it ran.
    pub reference: Option<serde_json::Value>,
    /// Why the peer did not run, when it did not.
    pub reference_skipped: Option<String>,
}

/// The bench's options.
pub struct Options<'a> {
    /// Sentences to embed.
    pub sentences: usize,
    /// Where rapport runs.
    pub device: DeviceChoice,
    /// Texts per forward pass (default: the device's).
    pub batch: Option<usize>,
    /// The Python with sentence-transformers (`None`: no peer).
    pub python: Option<&'a str>,
    /// Print JSON.
    pub json: bool,
}

pub fn run(ctx: &Ctx, o: &Options<'_>) -> Result<ExitCode> {
    if o.sentences == 0 {
        bail!("--sentences must be at least 1");
    }
    let config = ctx.config()?;
    let mut embedder = super::semantic::require(ctx, &config, o.device)?;
    if let Some(b) = o.batch {
        embedder.set_batch_size(b);
    }
    let sentences = super::bench_sentiment::sentences(o.sentences);
    let mean_chars =
        sentences.iter().map(|s| s.chars().count()).sum::<usize>() as f64 / sentences.len() as f64;
    // Warm up (first allocations, a GPU's kernels), then time every sentence.
    embedder.embed(&sentences[..sentences.len().min(embedder.batch_size() * 2)])?;
    let started = Instant::now();
    let ours = embedder.embed(&sentences)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut out = EmbedBench {
        sentences: o.sentences,
        mean_chars,
        device: o.device.to_string(),
        batch: embedder.batch_size(),
        sentences_per_s: o.sentences as f64 / seconds,
        reference_sentences_per_s: None,
        ratio: None,
        min_cosine_to_reference: None,
        mean_cosine_to_reference: None,
        reference: None,
        reference_skipped: None,
    };
    match o.python {
        None => out.reference_skipped = Some("no --python given".into()),
        Some(python) => match reference(&embedder, &sentences, python, o.device) {
            Ok((theirs, seconds, info)) => {
                let cosines: Vec<f64> = ours
                    .iter()
                    .zip(&theirs)
                    .map(|(a, b)| {
                        a.iter()
                            .zip(b)
                            .map(|(x, y)| f64::from(*x) * f64::from(*y))
                            .sum()
                    })
                    .collect();
                let per_s = o.sentences as f64 / seconds;
                out.reference_sentences_per_s = Some(per_s);
                out.ratio = Some(out.sentences_per_s / per_s);
                out.min_cosine_to_reference = cosines.iter().copied().reduce(f64::min);
                out.mean_cosine_to_reference =
                    Some(cosines.iter().sum::<f64>() / cosines.len().max(1) as f64);
                out.reference = Some(info);
            }
            Err(e) => out.reference_skipped = Some(format!("{e:#}")),
        },
    }
    if o.json {
        output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "embeddings: {} sentences (the demo's posts, {:.0} characters on average), {} on {}",
        out.sentences,
        out.mean_chars,
        rapport_semantic::MODEL_NAME,
        out.device
    );
    println!(
        "  rapport (candle)        {:>10.0} sentences/s  (batches of {})",
        out.sentences_per_s, out.batch
    );
    match (&out.reference_sentences_per_s, &out.reference_skipped) {
        (Some(r), _) => {
            println!("  sentence-transformers   {r:>10.0} sentences/s");
            println!(
                "  ratio                   {:>10.2}×",
                out.ratio.unwrap_or_default()
            );
            println!(
                "  agreement               {:>10.5}  lowest cosine between the two vectors of a sentence (mean {:.6})",
                out.min_cosine_to_reference.unwrap_or_default(),
                out.mean_cosine_to_reference.unwrap_or_default()
            );
        }
        (None, Some(why)) => println!("  sentence-transformers   not run: {why}"),
        (None, None) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the peer: its vectors, its encoding seconds, what it ran on.
fn reference(
    embedder: &Embedder,
    sentences: &[String],
    python: &str,
    device: DeviceChoice,
) -> Result<(Vec<Vec<f32>>, f64, serde_json::Value)> {
    let files = super::bench_peer::peer_files("embed_peer.py", PEER, sentences)?;
    let vectors = files.dir.path().join("vectors.f32");
    let torch_device = match device {
        DeviceChoice::Cpu => "cpu".to_string(),
        DeviceChoice::Cuda(n) => format!("cuda:{n}"),
    };
    let out = std::process::Command::new(python)
        .arg(&files.script)
        .arg(embedder.model_dir())
        .arg(&files.input)
        .arg(&vectors)
        .arg(&torch_device)
        .arg(embedder.batch_size().to_string())
        .output()
        .with_context(|| {
            format!("cannot run {python:?}: give a Python with sentence-transformers as --python")
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named") {
            bail!(
                "{python} has no sentence-transformers: `python3 -m venv /tmp/st && /tmp/st/bin/pip install sentence-transformers`, then --python /tmp/st/bin/python"
            );
        }
        bail!("{python} {}: {}", files.script.display(), err.trim());
    }
    let info: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("the peer printed no summary")?;
    let seconds = info
        .get("seconds")
        .and_then(serde_json::Value::as_f64)
        .context("the peer's summary has no seconds")?;
    let bytes = std::fs::read(&vectors)?;
    let flat =
        rapport_core::semantic::vector_from_bytes(&bytes).context("the peer wrote no vectors")?;
    let dim = embedder.dim();
    if flat.len() != sentences.len() * dim {
        bail!(
            "the peer wrote {} numbers for {} sentences of {dim}",
            flat.len(),
            sentences.len()
        );
    }
    Ok((
        flat.chunks(dim).map(<[f32]>::to_vec).collect(),
        seconds,
        info,
    ))
}
