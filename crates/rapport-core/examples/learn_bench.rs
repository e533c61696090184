//! The figures of `rapport train sentiment --evaluate` in a release build of the core
//! alone (no store, no server: quick to build), for docs/benchmarks.md:
//!
//!     cargo run --release -p rapport-core --example learn_bench -- FILE.csv 0.2
//!
//! FILE.csv has the columns `text` and `label` (positive / neutral / negative), as
//! tools/bench/train_peer.py writes it. Same split, same training, same rules as the
//! command; prints one JSON line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rapport_core::config::Config;
use rapport_core::learn::{Kind, LearningConfig, Model, TrainOptions, rules_sentiment, split};
use rapport_core::triage::{Reach, Triager};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: learn_bench FILE.csv [FRACTION]");
    let fraction: f64 = args.get(2).map_or(0.2, |f| f.parse().expect("a fraction"));
    let mut reader = csv::Reader::from_path(path).expect("a readable CSV");
    let allowed = Kind::Sentiment.allowed();
    let (mut texts, mut targets) = (Vec::new(), Vec::new());
    for r in reader.records() {
        let r = r.expect("a CSV row");
        let label = Kind::Sentiment.label(&r[1]).expect("a sentiment label");
        texts.push(r[0].trim().to_string());
        targets.push(allowed.iter().position(|l| *l == label).unwrap());
    }
    let (train, test) = split(texts.len(), fraction);
    let tt: Vec<&str> = train.iter().map(|i| texts[*i].as_str()).collect();
    let ty: Vec<usize> = train.iter().map(|i| targets[*i]).collect();
    let started = Instant::now();
    let model = Model::train(Kind::Sentiment, &allowed, &tt, &ty, TrainOptions::default()).unwrap();
    let train_seconds = started.elapsed().as_secs_f64();
    let config = Config::default();
    let rules = Triager::new(&config.intent, &config.priority).unwrap();
    let (mut right, mut rules_right) = (0, 0);
    for i in &test {
        let truth = allowed[targets[*i]];
        right += usize::from(model.predict(&texts[*i]).label == truth);
        let c = rules.triage(&texts[*i], Reach::default()).scores.compound;
        rules_right += usize::from(rules_sentiment(c) == truth);
    }
    let learning = LearningConfig {
        min_confidence: 0.7,
        min_examples: 0,
    };
    let with_model = Triager::new(&config.intent, &config.priority)
        .unwrap()
        .with_models(None, Some(Arc::new(model)), &learning);
    let (started, mut n) = (Instant::now(), 0usize);
    while started.elapsed() < Duration::from_secs(1) {
        for i in &test {
            std::hint::black_box(with_model.triage(&texts[*i], Reach::default()));
        }
        n += test.len();
    }
    let per_s = n as f64 / started.elapsed().as_secs_f64();
    let (started, mut m) = (Instant::now(), 0usize);
    while started.elapsed() < Duration::from_secs(1) {
        for i in &test {
            std::hint::black_box(rules.triage(&texts[*i], Reach::default()));
        }
        m += test.len();
    }
    let rules_per_s = m as f64 / started.elapsed().as_secs_f64();
    println!(
        "{{\"accuracy\": {}, \"rules_accuracy\": {}, \"train\": {}, \"test\": {}, \"train_seconds\": {train_seconds:.3}, \"triage_per_s\": {per_s:.0}, \"rules_triage_per_s\": {rules_per_s:.0}}}",
        right as f64 / test.len() as f64,
        rules_right as f64 / test.len() as f64,
        train.len(),
        test.len()
    );
}
