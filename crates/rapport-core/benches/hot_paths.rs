//! Micro-benchmarks of the functions every message goes through, so that a regression
//! shows up: `cargo bench -p rapport-core` (criterion; compare runs with
//! `--save-baseline NAME` and `--baseline NAME`).
//!
//! - tokenize: the word splitter the search index and queries share;
//! - lexicon lookup: one word's valence;
//! - sentiment: VADER's whole analysis of a post;
//! - intent rules, routing rules and topic matching: the cue and rule matching;
//! - priority: the score and band;
//! - triage: sentiment, intent and priority together, as the pipeline calls it;
//! - vector_index: an exact top-10 search among 100,000 int8-coded embeddings.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rapport_core::config::Config;
use rapport_core::intent::IntentRules;
use rapport_core::listening::TopicMatcher;
use rapport_core::priority::{PriorityInputs, score};
use rapport_core::routing::{RouteInput, route};
use rapport_core::semantic::{MODEL_DIM, VectorIndex};
use rapport_core::triage::{Reach, Triager};
use rapport_core::{Band, Intent};

/// Tweet-length posts of the kinds an organisation hears.
const POSTS: &[&str] = &[
    "@lumen.bsky.social my order #4411 never arrived 😞 can you help? Ordered on the 3rd.",
    "the app keeps crashing since the update, please fix it. Tried turning it off and on.",
    "love the new Aurora lamp, thank you! 💡✨ My partner loves it too, getting another.",
    "do you ship to Canada? 🇨🇦 would pay extra for faster delivery honestly",
    "would be great if the app had a dark mode and schedules #lumenlights",
    "where can I buy the Halo desk light in Lisbon? need one for the office",
    "THIS IS THE WORST SUPPORT EVER. three weeks and no answer!!! @lumen.bsky.social",
    "FREE followers!!! click here 👉 bit.ly/3xYz for the best promo code",
    "ma commande n'est jamais arrivée, pouvez-vous m'aider ? merci d'avance",
    "meh. it's fine I guess, not worth the price though. not bad, not great.",
];

/// The configuration a new user starts from (the binary's default), or rapport's
/// defaults when it cannot be read.
fn config() -> Config {
    toml::from_str(include_str!("../../rapport/src/default_config.toml")).unwrap_or_default()
}

fn per_post(c: &mut Criterion, name: &str, mut f: impl FnMut(&str) -> usize) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(POSTS.len() as u64));
    group.bench_function("10 posts", |b| {
        b.iter(|| {
            let mut n = 0;
            for p in POSTS {
                n += f(black_box(p));
            }
            n
        })
    });
    group.finish();
}

fn hot_paths(c: &mut Criterion) {
    let config = config();
    per_post(c, "tokenize", |p| rapport_core::query::tokenize(p).len());

    let analyzer = rapport_core::sentiment::shared();
    let words: Vec<&str> = POSTS.iter().flat_map(|p| p.split_whitespace()).collect();
    let mut group = c.benchmark_group("lexicon lookup");
    group.throughput(Throughput::Elements(words.len() as u64));
    group.bench_function("words of 10 posts", |b| {
        b.iter(|| {
            words
                .iter()
                .filter(|w| analyzer.lexicon_valence(black_box(w)).is_some())
                .count()
        })
    });
    group.finish();

    per_post(c, "sentiment", |p| {
        usize::from(analyzer.scores(p).compound > 0.0)
    });

    let rules = IntentRules::new(&config.intent).unwrap_or_else(|e| panic!("intent cues: {e}"));
    per_post(c, "intent rules", |p| {
        rules.classify(p, -0.2).intent.as_str().len()
    });

    per_post(c, "routing rules", |p| {
        route(
            &config.rules,
            &RouteInput {
                intent: Intent::Complaint,
                band: Band::P2,
                compound: -0.4,
                followers: 1200,
                platform: "bluesky",
                text: p,
            },
        )
        .labels
        .len()
    });

    let topics = TopicMatcher::new(&config.topics).unwrap_or_else(|e| panic!("topics: {e}"));
    per_post(c, "topic matching", |p| {
        topics.topics_of(p, "bluesky").len()
    });

    per_post(c, "priority", |p| {
        let terms = score(
            &PriorityInputs {
                intent: Intent::Complaint,
                compound: -0.4,
                followers: p.len() as u64 * 100,
                reshares: 3,
                replies: 2,
            },
            &config.priority,
        );
        usize::from(terms.band == Band::P1)
    });

    let triager =
        Triager::new(&config.intent, &config.priority).unwrap_or_else(|e| panic!("triager: {e}"));
    per_post(c, "triage", |p| {
        let t = triager.triage(
            p,
            Reach {
                followers: 1200,
                reshares: 3,
                replies: 2,
            },
        );
        usize::from(t.priority.band == Band::P1)
    });
}

/// Pseudo-random embeddings (xorshift64*, centred uniforms): search time does not
/// depend on what the vectors say.
fn embeddings(n: usize, seed: u64) -> impl Iterator<Item = Vec<f32>> {
    let mut state = seed;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..n).map(move |_| (0..MODEL_DIM).map(|_| next()).collect())
}

fn vector_index(c: &mut Criterion) {
    const N: usize = 100_000;
    let mut index = VectorIndex::with_capacity(MODEL_DIM, N);
    for (id, v) in embeddings(N, 0x9e37_79b9_7f4a_7c15).enumerate() {
        index
            .push(id as i64, &v)
            .unwrap_or_else(|e| panic!("push: {e}"));
    }
    let queries: Vec<Vec<f32>> = embeddings(8, 7).collect();
    let mut group = c.benchmark_group("vector_index");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("top 10 of 100k", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % queries.len();
            index.search(black_box(&queries[i]), 10, |_| false).len()
        })
    });
    group.finish();
}

criterion_group!(benches, hot_paths, vector_index);
criterion_main!(benches);
