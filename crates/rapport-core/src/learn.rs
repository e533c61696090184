//! Learning from the team: a fast text classifier trained on the corrections agents
//! make (or on a labelled file), that decides over the rules when it is confident.
//!
//! - Features: hashed (FNV-1a, [`DIM`] buckets) lowercased word unigrams and bigrams,
//!   and character 2- to 5-grams inside word boundaries (each word padded with a space
//!   on both sides, as scikit-learn's `char_wb`). Each feature's weight is
//!   `(1 + ln tf) × idf` with the smooth idf `ln((1 + n) / (1 + df)) + 1` of the
//!   training texts (a bucket no training text has is dropped), and the vector is
//!   L2-normalised.
//! - Model: multinomial logistic regression (softmax over the labels), trained by
//!   Adagrad over a fixed number of epochs, each in a shuffled order drawn from a fixed
//!   seed, with an L2 penalty of `1 / n` per example (scikit-learn's `C = 1`). Same data
//!   in the same order → the same model, bit for bit.
//! - A prediction gives every label's probability; it takes effect only when the top
//!   probability reaches `[learning] min_confidence` and the model was trained on at
//!   least `[learning] min_examples` texts.
//!
//! The model serialises (serde) to [`ModelFile`]: a version, its kind and label set,
//! and only the buckets the training texts used.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::{Intent, ParseEnumError, SentimentBand};

/// Hash buckets (2^18).
pub const DIM: usize = 1 << 18;
/// The version of [`ModelFile`] this code writes and reads.
pub const MODEL_VERSION: u32 = 1;
/// The seed of every shuffle: training epochs and `--evaluate` splits.
pub const SEED: u64 = 42;

/// What a model classifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The intent: complaint, question, praise, idea, lead, spam, other.
    Intent,
    /// The sentiment: positive, neutral, negative.
    Sentiment,
}

impl Kind {
    /// `intent` or `sentiment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Intent => "intent",
            Kind::Sentiment => "sentiment",
        }
    }

    /// The labels a model of this kind may learn.
    pub fn allowed(self) -> Vec<&'static str> {
        match self {
            Kind::Intent => Intent::ALL.iter().map(|i| i.as_str()).collect(),
            Kind::Sentiment => vec!["positive", "neutral", "negative"],
        }
    }

    /// The canonical label for `value`, or why it is not one.
    pub fn label(self, value: &str) -> Result<&'static str, ParseEnumError> {
        match self {
            Kind::Intent => value.parse::<Intent>().map(Intent::as_str),
            Kind::Sentiment => match value.trim().to_ascii_lowercase().as_str() {
                "positive" | "pos" => Ok("positive"),
                "neutral" | "neu" => Ok("neutral"),
                "negative" | "neg" => Ok("negative"),
                _ => Err(ParseEnumError::new(
                    "sentiment",
                    value,
                    "positive, neutral, negative",
                )),
            },
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "intent" => Ok(Kind::Intent),
            "sentiment" => Ok(Kind::Sentiment),
            _ => Err(ParseEnumError::new("kind", s, "intent, sentiment")),
        }
    }
}

/// The rules' sentiment label for a VADER compound score (positive ≥ 0.05, negative
/// ≤ −0.05, else neutral).
pub fn rules_sentiment(compound: f64) -> &'static str {
    SentimentBand::of(compound).as_str()
}

/// The `[learning]` section of `rapport.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// A learned label decides only when its probability is at least this (default 0.7).
    pub min_confidence: f64,
    /// A model trained on corrections is used only once it was trained on at least this
    /// many (default 20); `rapport train` refuses to train on fewer.
    pub min_examples: usize,
}

impl Default for LearningConfig {
    fn default() -> Self {
        Self {
            min_confidence: 0.7,
            min_examples: 20,
        }
    }
}

/// Why a model cannot be trained or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// Nothing to learn from.
    #[error("no labelled texts to learn from")]
    Empty,
    /// One label only: nothing to tell apart.
    #[error(
        "every text has the label {0:?}: a model needs examples of at least two labels to tell them apart"
    )]
    OneLabel(String),
    /// Texts and labels differ in number, or a label index is out of range.
    #[error("{0}")]
    Mismatch(String),
    /// A stored model this code cannot read.
    #[error("the stored model cannot be read: {0}; train it again with `rapport train`")]
    BadModel(String),
}

/// How training runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// Adagrad's step size.
    pub learning_rate: f32,
    /// L2 penalty per example; `None`: `1 / n`.
    pub l2: Option<f32>,
    /// The shuffle's seed.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 12,
            learning_rate: 0.5,
            l2: None,
            seed: SEED,
        }
    }
}

/// A deterministic 64-bit generator (SplitMix64), so that splits can be reproduced
/// outside rapport (tools/bench/train_peer.py does).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Shuffles in place (Fisher–Yates from the end, `j = next % (i + 1)`).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Splits `0..n` for `--evaluate`: a shuffle with [`SEED`], then the first
/// `round(n × fraction)` indices (at least one, at most `n − 1`) are held back for the
/// test; both parts are returned in ascending order.
pub fn split(n: usize, fraction: f64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(SEED).shuffle(&mut order);
    let test_n = ((n as f64 * fraction).round() as usize).clamp(1.min(n), n.saturating_sub(1));
    let mut test = order[..test_n].to_vec();
    let mut train = order[test_n..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    (train, test)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn bucket(h: u64) -> u32 {
    // Fold the high bits in: FNV's low bits alone mix poorly.
    ((h ^ (h >> 32)) as usize % DIM) as u32
}

/// The hashed features of a text: each bucket once, with its raw term count, sorted.
pub fn hashed_counts(text: &str) -> Vec<(u32, f32)> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .collect();
    let mut ids: Vec<u32> = Vec::with_capacity(words.len() * 20);
    let mut chars: Vec<char> = Vec::with_capacity(32);
    let mut buf = [0u8; 4];
    for (i, w) in words.iter().enumerate() {
        ids.push(bucket(fnv(fnv(FNV_OFFSET, b"w"), w.as_bytes())));
        if let Some(next) = words.get(i + 1) {
            let h = fnv(fnv(fnv(FNV_OFFSET, b"b"), w.as_bytes()), b" ");
            ids.push(bucket(fnv(h, next.as_bytes())));
        }
        chars.clear();
        chars.push(' ');
        chars.extend(w.chars());
        chars.push(' ');
        for n in 2..=5 {
            if chars.len() < n {
                break;
            }
            for start in 0..=chars.len() - n {
                let mut h = fnv(FNV_OFFSET, &[b'c', n as u8]);
                for c in &chars[start..start + n] {
                    h = fnv(h, c.encode_utf8(&mut buf).as_bytes());
                }
                ids.push(bucket(h));
            }
        }
    }
    ids.sort_unstable();
    let mut out: Vec<(u32, f32)> = Vec::with_capacity(ids.len());
    for id in ids {
        match out.last_mut() {
            Some((last, n)) if *last == id => *n += 1.0,
            _ => out.push((id, 1.0)),
        }
    }
    out
}

/// Sublinear tf × idf, L2-normalised; buckets with no idf (unseen in training) dropped.
fn weigh(counts: Vec<(u32, f32)>, idf: &[f32]) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = counts
        .into_iter()
        .filter_map(|(j, tf)| {
            let w = idf[j as usize];
            (w > 0.0).then(|| (j, (1.0 + tf.ln()) * w))
        })
        .collect();
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut v {
            *x /= norm;
        }
    }
    v
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ModelFile", into = "ModelFile")]
pub struct Model {
    kind: Kind,
    labels: Vec<String>,
    examples: usize,
    /// Per bucket: its idf, 0 when unseen.
    idf: Vec<f32>,
    /// Bucket-major: `weights[j * classes + k]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// A model's stored form: only the buckets seen in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// [`MODEL_VERSION`] when written.
    pub version: u32,
    /// What it classifies.
    pub kind: Kind,
    /// Its labels, in the order of the weights.
    pub labels: Vec<String>,
    /// How many texts it was trained on.
    pub examples: usize,
    /// The number of hash buckets.
    pub dim: usize,
    /// The buckets seen in training, ascending.
    pub buckets: Vec<u32>,
    /// Their idf.
    pub idf: Vec<f32>,
    /// Their weights, `labels.len()` per bucket.
    pub weights: Vec<f32>,
    /// One bias per label.
    pub bias: Vec<f32>,
}

impl From<Model> for ModelFile {
    fn from(m: Model) -> Self {
        let classes = m.labels.len();
        let mut buckets = Vec::new();
        let mut idf = Vec::new();
        let mut weights = Vec::new();
        for (j, w) in m.idf.iter().enumerate() {
            if *w > 0.0 {
                buckets.push(j as u32);
                idf.push(*w);
                weights.extend_from_slice(&m.weights[j * classes..(j + 1) * classes]);
            }
        }
        ModelFile {
            version: MODEL_VERSION,
            kind: m.kind,
            labels: m.labels,
            examples: m.examples,
            dim: DIM,
            buckets,
            idf,
            weights,
            bias: m.bias,
        }
    }
}

impl TryFrom<ModelFile> for Model {
    type Error = LearnError;
    fn try_from(f: ModelFile) -> Result<Self, Self::Error> {
        let bad = |why: String| Err(LearnError::BadModel(why));
        if f.version != MODEL_VERSION {
            return bad(format!(
                "it has version {}, this rapport reads version {MODEL_VERSION}",
                f.version
            ));
        }
        if f.dim != DIM {
            return bad(format!("it has {} buckets, not {DIM}", f.dim));
        }
        let classes = f.labels.len();
        if classes < 2 || f.bias.len() != classes {
            return bad(format!("{classes} labels and {} biases", f.bias.len()));
        }
        for l in &f.labels {
            if f.kind.label(l).is_err() {
                return bad(format!("{l:?} is not a {} label", f.kind));
            }
        }
        if f.idf.len() != f.buckets.len() || f.weights.len() != f.buckets.len() * classes {
            return bad("its buckets, idf and weights differ in length".into());
        }
        let mut idf = vec![0.0f32; DIM];
        let mut weights = vec![0.0f32; DIM * classes];
        for (i, &j) in f.buckets.iter().enumerate() {
            let j = j as usize;
            if j >= DIM {
                return bad(format!("bucket {j} is out of range"));
            }
            idf[j] = f.idf[i];
            weights[j * classes..(j + 1) * classes]
                .copy_from_slice(&f.weights[i * classes..(i + 1) * classes]);
        }
        Ok(Model {
            kind: f.kind,
            labels: f.labels,
            examples: f.examples,
            idf,
            weights,
            bias: f.bias,
        })
    }
}

/// A model's answer for one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The most probable label.
    pub label: String,
    /// Its probability.
    pub confidence: f64,
    /// Every label's probability, in the model's label order.
    pub probabilities: Vec<(String, f64)>,
}

impl Prediction {
    /// The probability of `label` (0 when the model does not know it).
    pub fn p(&self, label: &str) -> f64 {
        self.probabilities
            .iter()
            .find(|(l, _)| l == label)
            .map_or(0.0, |(_, p)| *p)
    }
}

impl Model {
    /// Trains a model of `kind` on `texts`, each with the index of its label in
    /// `labels`. Labels no text has are dropped from the model.
    pub fn train(
        kind: Kind,
        labels: &[&str],
        texts: &[&str],
        targets: &[usize],
        options: TrainOptions,
    ) -> Result<Model, LearnError> {
        if texts.len() != targets.len() {
            return Err(LearnError::Mismatch(format!(
                "{} texts and {} labels",
                texts.len(),
                targets.len()
            )));
        }
        if texts.is_empty() {
            return Err(LearnError::Empty);
        }
        if let Some(t) = targets.iter().find(|t| **t >= labels.len()) {
            return Err(LearnError::Mismatch(format!(
                "label index {t} is out of range for {} labels",
                labels.len()
            )));
        }
        // Keep the labels some text has, in the given order.
        let used: Vec<usize> = (0..labels.len()).filter(|l| targets.contains(l)).collect();
        if used.len() < 2 {
            return Err(LearnError::OneLabel(labels[used[0]].to_string()));
        }
        let remap: Vec<Option<usize>> = (0..labels.len())
            .map(|l| used.iter().position(|u| *u == l))
            .collect();
        let y: Vec<usize> = targets
            .iter()
            .map(|t| remap[*t].unwrap_or_default())
            .collect();
        let classes = used.len();
        let n = texts.len();

        let counts: Vec<Vec<(u32, f32)>> = texts.iter().map(|t| hashed_counts(t)).collect();
        let mut df = vec![0u32; DIM];
        for c in &counts {
            for (j, _) in c {
                df[*j as usize] += 1;
            }
        }
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| {
                if d == 0 {
                    0.0
                } else {
                    ((1.0 + n as f64) / (1.0 + f64::from(d))).ln() as f32 + 1.0
                }
            })
            .collect();
        let xs: Vec<Vec<(u32, f32)>> = counts.into_iter().map(|c| weigh(c, &idf)).collect();

        let l2 = options.l2.unwrap_or(1.0 / n as f32);
        let lr = options.learning_rate;
        let mut w = vec![0.0f32; DIM * classes];
        let mut g2 = vec![0.0f32; DIM * classes];
        let mut b = vec![0.0f32; classes];
        let mut gb = vec![0.0f32; classes];
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = SplitMix64::new(options.seed);
        let mut z = vec![0.0f32; classes];
        for _ in 0..options.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let x = &xs[i];
                scores(&w, &b, x, classes, &mut z);
                softmax(&mut z);
                for k in 0..classes {
                    let d = z[k] - if y[i] == k { 1.0 } else { 0.0 };
                    for &(j, v) in x {
                        let at = j as usize * classes + k;
                        let g = d * v + l2 * w[at];
                        g2[at] += g * g;
                        w[at] -= lr * g / (g2[at].sqrt() + 1e-8);
                    }
                    gb[k] += d * d;
                    b[k] -= lr * d / (gb[k].sqrt() + 1e-8);
                }
            }
        }
        Ok(Model {
            kind,
            labels: used.iter().map(|l| labels[*l].to_string()).collect(),
            examples: n,
            idf,
            weights: w,
            bias: b,
        })
    }

    /// What it classifies.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Its labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// How many texts it was trained on.
    pub fn examples(&self) -> usize {
        self.examples
    }

    /// Every label's probability for `text`.
    pub fn predict(&self, text: &str) -> Prediction {
        let classes = self.labels.len();
        let x = weigh(hashed_counts(text), &self.idf);
        let mut z = vec![0.0f32; classes];
        scores(&self.weights, &self.bias, &x, classes, &mut z);
        softmax(&mut z);
        let mut best = 0;
        for k in 1..classes {
            if z[k] > z[best] {
                best = k;
            }
        }
        Prediction {
            label: self.labels[best].clone(),
            confidence: f64::from(z[best]),
            probabilities: self
                .labels
                .iter()
                .zip(&z)
                .map(|(l, p)| (l.clone(), f64::from(*p)))
                .collect(),
        }
    }

    /// The prediction when it may decide under `config`: the model was trained on at
    /// least `min_examples` texts and the top probability reaches `min_confidence`.
    pub fn confident(&self, text: &str, config: &LearningConfig) -> Option<Prediction> {
        if self.examples < config.min_examples {
            return None;
        }
        let p = self.predict(text);
        (p.confidence >= config.min_confidence).then_some(p)
    }
}

fn scores(w: &[f32], b: &[f32], x: &[(u32, f32)], classes: usize, z: &mut [f32]) {
    z.copy_from_slice(b);
    for &(j, v) in x {
        let row = &w[j as usize * classes..(j as usize + 1) * classes];
        for k in 0..classes {
            z[k] += row[k] * v;
        }
    }
}

fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: [&str; 3] = ["positive", "neutral", "negative"];

    fn toy() -> (Vec<&'static str>, Vec<usize>) {
        let data = [
            ("the update bricked my hub", 2),
            ("hub bricked after the firmware update", 2),
            ("my lights keep dropping off the network", 2),
            ("dropping off again, third time today", 2),
            ("bricked. again.", 2),
            ("works perfectly with my setup, chuffed", 0),
            ("chuffed with the new bulbs", 0),
            ("the new bulbs are spot on", 0),
            ("spot on, works perfectly", 0),
            ("ordered two more, chuffed", 0),
            ("the hub arrived on tuesday", 1),
            ("what colour temperature is the bulb", 1),
            ("the bulb arrived on monday", 1),
            ("which hub version do I have", 1),
            ("arrived on friday with the box", 1),
        ];
        (
            data.iter().map(|(t, _)| *t).collect(),
            data.iter().map(|(_, l)| *l).collect(),
        )
    }

    fn model() -> Model {
        let (texts, y) = toy();
        Model::train(
            Kind::Sentiment,
            &LABELS,
            &texts,
            &y,
            TrainOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn learns_a_separable_toy_set() {
        let m = model();
        let (texts, y) = toy();
        for (t, l) in texts.iter().zip(y) {
            assert_eq!(m.predict(t).label, LABELS[l], "{t}");
        }
        assert_eq!(m.predict("my hub is bricked").label, "negative");
        assert_eq!(m.predict("chuffed, spot on").label, "positive");
    }

    #[test]
    fn probabilities_sum_to_one() {
        let m = model();
        for t in ["bricked", "", "zzz qqq", "chuffed arrived"] {
            let p = m.predict(t);
            let sum: f64 = p.probabilities.iter().map(|(_, p)| p).sum();
            assert!((sum - 1.0).abs() < 1e-5, "{t}: {sum}");
            assert!(p.confidence >= 1.0 / 3.0 - 1e-6);
            assert_eq!(p.p(&p.label), p.confidence);
        }
    }

    #[test]
    fn training_is_deterministic() {
        assert_eq!(model(), model());
    }

    #[test]
    fn serialisation_round_trips() {
        let m = model();
        let json = serde_json::to_string(&m).unwrap();
        let back: Model = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert!(json.contains("\"version\":1"));
        let mut file: ModelFile = m.clone().into();
        file.version = 99;
        let err = Model::try_from(file).unwrap_err();
        assert!(err.to_string().contains("train it again"), "{err}");
        let mut file: ModelFile = m.into();
        file.labels[0] = "ecstatic".into();
        assert!(Model::try_from(file).is_err());
    }

    #[test]
    fn confidence_gate() {
        let m = model();
        let strict = LearningConfig {
            min_confidence: 0.999_999,
            min_examples: 1,
        };
        assert!(m.confident("bricked", &strict).is_none());
        let lax = LearningConfig {
            min_confidence: 0.0,
            min_examples: 1,
        };
        assert_eq!(m.confident("bricked", &lax).unwrap().label, "negative");
        let many = LearningConfig {
            min_confidence: 0.0,
            min_examples: 1000,
        };
        assert!(m.confident("bricked", &many).is_none());
    }

    #[test]
    fn one_label_or_nothing_is_refused() {
        let o = TrainOptions::default();
        assert_eq!(
            Model::train(Kind::Sentiment, &LABELS, &[], &[], o),
            Err(LearnError::Empty)
        );
        assert!(matches!(
            Model::train(Kind::Sentiment, &LABELS, &["a", "b"], &[1, 1], o),
            Err(LearnError::OneLabel(_))
        ));
        // Unused labels are dropped.
        let m = Model::train(Kind::Sentiment, &LABELS, &["good", "bad"], &[0, 2], o).unwrap();
        assert_eq!(m.labels(), ["positive", "negative"]);
    }

    #[test]
    fn features_cover_words_bigrams_and_char_ngrams() {
        // "ab": word, no bigram, char n-grams of " ab ": 3 + 2 + 1 = 6.
        let f = hashed_counts("AB");
        assert_eq!(f.iter().map(|(_, n)| n).sum::<f32>(), 7.0);
        assert_eq!(hashed_counts("ab"), f);
        let two = hashed_counts("ab cd");
        assert_eq!(two.iter().map(|(_, n)| n).sum::<f32>(), 15.0);
    }

    #[test]
    fn split_is_fixed() {
        // tools/bench/train_peer.py reproduces this split; it checks these values.
        let (train, test) = split(10, 0.3);
        assert_eq!(test.len(), 3);
        assert_eq!(train.len(), 7);
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(split(10, 0.3), (train, test.clone()));
        assert_eq!(SplitMix64::new(42).next_u64(), 13679457532755275413);
        eprintln!("split(10, 0.3) test = {test:?}");
    }

    #[test]
    fn labels_parse() {
        assert_eq!(Kind::Sentiment.label("NEG"), Ok("negative"));
        assert_eq!(Kind::Intent.label("Complaint"), Ok("complaint"));
        assert!(Kind::Intent.label("rant").is_err());
        assert_eq!("intent".parse::<Kind>(), Ok(Kind::Intent));
        assert_eq!(rules_sentiment(-0.3), "negative");
    }
}
