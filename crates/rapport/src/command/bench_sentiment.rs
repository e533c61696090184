//! `rapport bench sentiment`: rapport's sentiment analyser beside vaderSentiment's
//! `polarity_scores`, on the same sentences, one core each, in the same run: sentences
//! per second, the ratio, and the share of sentences whose compound scores agree within
//! 0.001.
//!
//! The sentences are the demo's social posts (realistic length, emoji, @mentions,
//! hashtags, ALL CAPS, a little French, German, Spanish, Dutch and Portuguese), repeated
//! until there are enough. The reference runs `tools/bench/vader_peer.py` (built into
//! the binary) with the Python given by `--python`; without vaderSentiment there, only
//! rapport's figure is printed, with what to install.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use chrono::{TimeZone as _, Utc};
use serde::Serialize;

use crate::output;

/// The reference script.
const PEER: &str = include_str!("../../../../tools/bench/vader_peer.py");

/// Compound scores this close count as the same.
const AGREE: f64 = 0.001;

/// What the bench measured.
#[derive(Debug, Serialize)]
pub struct SentimentBench {
    /// Sentences scored by each.
    pub sentences: usize,
    /// rapport's sentences per second, one thread.
    pub sentences_per_s: f64,
    /// vaderSentiment's, one process, when it ran.
    pub reference_sentences_per_s: Option<f64>,
    /// rapport ÷ vaderSentiment.
    pub ratio: Option<f64>,
    /// The share of sentences whose compounds differ by at most 0.001.
    pub agreement: Option<f64>,
    /// vaderSentiment's version, when it ran.
    pub reference_version: Option<String>,
    /// Why the reference did not run, when it did not.
    pub reference_skipped: Option<String>,
}

/// The demo's texts, cycled to `n` sentences.
pub fn sentences(n: usize) -> Vec<String> {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let texts: Vec<String> = crate::demo_data::generate(7, now)
        .messages
        .into_iter()
        .map(|m| m.text)
        .collect();
    texts.iter().cycle().take(n).cloned().collect()
}

pub async fn run(n: usize, python: &str, as_json: bool) -> Result<ExitCode> {
    if n == 0 {
        bail!("--sentences must be at least 1");
    }
    let sentences = sentences(n);
    let analyzer = rapport_core::sentiment::shared();
    // Warm up (the lexicon is built on first use), then time one thread.
    let _ = analyzer.scores(&sentences[0]);
    let started = Instant::now();
    let ours: Vec<f64> = sentences
        .iter()
        .map(|s| analyzer.scores(s).compound)
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let mut out = SentimentBench {
        sentences: n,
        sentences_per_s: n as f64 / seconds,
        reference_sentences_per_s: None,
        ratio: None,
        agreement: None,
        reference_version: None,
        reference_skipped: None,
    };
    match reference(&sentences, python) {
        Ok((theirs, seconds, version)) => {
            let agree = ours
                .iter()
                .zip(&theirs)
                .filter(|(a, b)| (*a - *b).abs() <= AGREE + 1e-12)
                .count();
            let per_s = n as f64 / seconds;
            out.reference_sentences_per_s = Some(per_s);
            out.ratio = Some(out.sentences_per_s / per_s);
            out.agreement = Some(agree as f64 / n as f64);
            out.reference_version = Some(version);
        }
        Err(e) => out.reference_skipped = Some(format!("{e:#}")),
    }
    if as_json {
        output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("sentiment: {n} sentences (the demo's posts), one core each");
    println!(
        "  rapport          {:>12.0} sentences/s",
        out.sentences_per_s
    );
    match (&out.reference_sentences_per_s, &out.reference_skipped) {
        (Some(r), _) => {
            println!(
                "  vaderSentiment   {:>12.0} sentences/s  ({})",
                r,
                out.reference_version.as_deref().unwrap_or("?")
            );
            println!(
                "  ratio            {:>12.1}×",
                out.ratio.unwrap_or_default()
            );
            println!(
                "  agreement        {:>12.3}%  of compounds within {AGREE}",
                out.agreement.unwrap_or_default() * 100.0
            );
        }
        (None, Some(why)) => println!("  vaderSentiment   not run: {why}"),
        (None, None) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the reference: its compounds, its scoring seconds, its version.
fn reference(sentences: &[String], python: &str) -> Result<(Vec<f64>, f64, String)> {
    let files = super::bench_peer::peer_files("vader_peer.py", PEER, sentences)?;
    let scores = files.dir.path().join("scores.txt");
    let out = std::process::Command::new(python)
        .arg(&files.script)
        .arg(&files.input)
        .arg(&scores)
        .output()
        .with_context(|| {
            format!("cannot run {python:?}: give a Python with vaderSentiment as --python (tools/bench.sh makes one)")
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named 'vaderSentiment'") {
            bail!(
                "{python} has no vaderSentiment: `python3 -m venv /tmp/vader && /tmp/vader/bin/pip install vaderSentiment`, then --python /tmp/vader/bin/python (tools/bench.sh does this)"
            );
        }
        bail!("{python} {}: {}", files.script.display(), err.trim());
    }
    #[derive(serde::Deserialize)]
    struct Summary {
        seconds: f64,
        version: String,
    }
    let summary: Summary =
        serde_json::from_slice(&out.stdout).context("the reference script printed no summary")?;
    let theirs: Vec<f64> = std::fs::read_to_string(&scores)?
        .lines()
        .map(|l| l.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .context("the reference script wrote a score that is not a number")?;
    if theirs.len() != sentences.len() {
        bail!(
            "the reference scored {} sentences of {}",
            theirs.len(),
            sentences.len()
        );
    }
    Ok((theirs, summary.seconds, summary.version))
}
