//! Parity with the Python package vaderSentiment 3.3.2: every text of
//! `tools/vader_sentences.txt`, scored by the package (`tools/vader_reference.py` writes
//! `tests/fixtures/vader_reference.jsonl`), must score the same here, within 0.001.

use rapport_core::sentiment::{Analyzer, shared};

const REFERENCE: &str = include_str!("fixtures/vader_reference.jsonl");
const TOLERANCE: f64 = 0.001;
const REQUIRED_SHARE: f64 = 0.995;

struct Case {
    text: String,
    compound: f64,
    pos: f64,
    neu: f64,
    neg: f64,
}

fn load() -> Vec<Case> {
    REFERENCE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("reference line {}: {e}", i + 1));
            let num = |k: &str| {
                v[k].as_f64()
                    .unwrap_or_else(|| panic!("reference line {}: no number {k}", i + 1))
            };
            Case {
                text: v["text"]
                    .as_str()
                    .unwrap_or_else(|| panic!("reference line {}: no text", i + 1))
                    .to_string(),
                compound: num("compound"),
                pos: num("pos"),
                neu: num("neu"),
                neg: num("neg"),
            }
        })
        .collect()
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(90).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    format!("{s:?}")
}

#[test]
fn reference_file_is_big_and_varied_enough() {
    let cases = load();
    assert!(cases.len() >= 2000, "only {} reference texts", cases.len());
    let with = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count();
    assert!(with(&|c| c.compound > 0.05) > 300, "too few positive texts");
    assert!(
        with(&|c| c.compound < -0.05) > 300,
        "too few negative texts"
    );
    assert!(with(&|c| c.text.is_empty()) >= 1, "no empty text");
    assert!(
        with(&|c| !c.text.is_ascii()) > 200,
        "too few non-ASCII texts"
    );
}

#[test]
fn scores_match_vader_sentiment_3_3_2() {
    let analyzer: &Analyzer = shared();
    let cases = load();
    let n = cases.len();

    // (|Δ|, field, text, ours, theirs)
    let mut compound_misses: Vec<(f64, String, f64, f64)> = Vec::new();
    let mut ratio_misses: Vec<(f64, String, String)> = Vec::new();
    let mut exact = 0usize;
    for case in &cases {
        let got = analyzer.scores(&case.text);
        let dc = (got.compound - case.compound).abs();
        if dc > TOLERANCE {
            compound_misses.push((dc, case.text.clone(), got.compound, case.compound));
        }
        let dr = [
            (got.pos - case.pos).abs(),
            (got.neu - case.neu).abs(),
            (got.neg - case.neg).abs(),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        if dr > TOLERANCE {
            ratio_misses.push((
                dr,
                case.text.clone(),
                format!(
                    "ours pos/neu/neg {}/{}/{}, vaderSentiment {}/{}/{}",
                    got.pos, got.neu, got.neg, case.pos, case.neu, case.neg
                ),
            ));
        }
        if (got.compound, got.pos, got.neu, got.neg)
            == (case.compound, case.pos, case.neu, case.neg)
        {
            exact += 1;
        }
    }

    let share = |misses: usize| (n - misses) as f64 / n as f64;
    println!(
        "{n} texts: compound within {TOLERANCE}: {:.2}%, pos/neu/neg within {TOLERANCE}: {:.2}%, all four identical: {:.2}%",
        100.0 * share(compound_misses.len()),
        100.0 * share(ratio_misses.len()),
        100.0 * exact as f64 / n as f64,
    );

    compound_misses.sort_by(|a, b| b.0.total_cmp(&a.0));
    ratio_misses.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (d, text, ours, theirs) in compound_misses.iter().take(20) {
        println!(
            "compound Δ{d:.4}: ours {ours}, vaderSentiment {theirs}: {}",
            short(text)
        );
    }
    for (d, text, detail) in ratio_misses.iter().take(20) {
        println!("pos/neu/neg Δ{d:.4}: {detail}: {}", short(text));
    }

    assert!(
        share(compound_misses.len()) >= REQUIRED_SHARE,
        "compound matches on only {:.2}% of {n} texts (see the worst above)",
        100.0 * share(compound_misses.len())
    );
    assert!(
        share(ratio_misses.len()) >= REQUIRED_SHARE,
        "pos/neu/neg match on only {:.2}% of {n} texts (see the worst above)",
        100.0 * share(ratio_misses.len())
    );
}

#[test]
fn explain_agrees_with_scores() {
    let analyzer = shared();
    for case in load().iter().step_by(7) {
        let e = analyzer.explain(&case.text);
        assert_eq!(
            e.scores,
            analyzer.scores(&case.text),
            "{}",
            short(&case.text)
        );
        assert!(e.words.iter().all(|w| w.valence != 0.0));
        if e.words.is_empty() {
            assert_eq!(e.scores.compound, 0.0, "{}", short(&case.text));
        }
    }
}
