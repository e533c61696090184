//! `rapport search`, `rapport reindex` and `rapport bench search` from the command line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assert_cmd::cargo::CommandCargoExt;

mod backend;
use tempfile::TempDir;

fn rapport(data: &Path) -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_DATABASE_URL")
        .env("RAPPORT_NOW", "2026-11-23T12:00:00Z")
        .arg("--data-dir")
        .arg(data);
    c
}

fn json(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn search_finds_what_was_imported_pages_and_explains_a_bad_query() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    assert!(
        rapport(&data)
            .arg("init")
            .output()
            .unwrap()
            .status
            .success()
    );
    let csv = tmp.path().join("in.csv");
    std::fs::write(
        &csv,
        "tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n\
         1,alice,True,2026-11-20T10:00:00Z,the firmware update drains my battery,\n\
         2,bob,True,2026-11-21T10:00:00Z,Battery life is great since the update!,\n\
         3,carol,True,2026-11-22T10:00:00Z,where is my refund?,\n\
         4,alice,True,2026-11-22T11:00:00Z,\"battery, again. refund please\",\n",
    )
    .unwrap();
    json(
        rapport(&data)
            .arg("import")
            .arg(&csv)
            .args(["--platform", "twitter", "--json"]),
    );

    let all = json(rapport(&data).args(["search", "battery", "--json"]));
    assert_eq!(all["total"], 3);
    let page = json(rapport(&data).args([
        "search", "battery", "--limit", "1", "--sort", "newest", "--json",
    ]));
    assert_eq!(
        page["total"], 3,
        "the total counts every match, not the page"
    );
    assert_eq!(page["hits"].as_array().unwrap().len(), 1);
    assert_eq!(page["hits"][0]["author"], "alice");
    assert!(page["hits"][0]["text"].as_str().unwrap().contains("again"));
    let q =
        json(rapport(&data).args(["search", "\"drains my battery\" OR author:carol", "--json"]));
    assert_eq!(q["total"], 2);
    let q = json(rapport(&data).args(["search", "battery -update date:2026-11-22", "--json"]));
    assert_eq!(q["total"], 1);

    let bad = rapport(&data)
        .args(["search", "refund \"battery"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("at character 7") && err.contains("not closed"),
        "{err}"
    );

    let v = json(rapport(&data).args(["reindex", "--verify", "--json"]));
    assert_eq!(
        (v["store"].as_u64(), v["index"].as_u64()),
        (Some(4), Some(4))
    );
    let r = json(rapport(&data).args(["reindex", "--json"]));
    assert_eq!(r["indexed"], 4);
}

#[test]
fn bench_search_counts_the_same_matches_as_fts5() {
    let tmp = TempDir::new().unwrap();
    let out = json(rapport(tmp.path()).args([
        "bench",
        "search",
        "--messages",
        "3000",
        "--runs",
        "2",
        "--json",
    ]));
    let queries = out["queries"].as_array().unwrap();
    assert!(queries.len() >= 8);
    for q in queries {
        assert_eq!(q["matches"], q["fts5_matches"], "{q}");
        assert!(q["rapport_p99_ms"].as_f64().unwrap() > 0.0);
    }
    assert!(queries.iter().any(|q| q["matches"].as_u64().unwrap() > 100));
}
