//! `rapport demo` on a fresh data directory: the data set the issue asks for, triaged,
//! routed and summarised.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::{fresh_schema, test_database_url};

#[test]
fn demo_builds_a_realistic_store_and_refuses_to_overwrite_it() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("demo");
    let out = Command::cargo_bin("rapport")
        .unwrap()
        .env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env("RAPPORT_NOW", "2026-11-23T12:00:00Z")
        .arg("--data-dir")
        .arg(&data)
        .args(["demo", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    assert!(s["messages"].as_i64().unwrap() >= 20_000, "{s}");
    assert!(s["people"].as_i64().unwrap() >= 5_000, "{s}");
    assert!(s["by_platform"].as_object().unwrap().len() >= 3, "{s}");
    for intent in ["complaint", "question", "praise", "idea", "lead", "spam"] {
        assert!(
            s["by_intent"][intent].as_i64().unwrap_or(0) > 0,
            "no {intent}: {s}"
        );
    }
    // Threads with replies from the organisation: responses and resolutions happened.
    let r = &v["report"];
    assert!(r["frt_samples"].as_u64().unwrap() > 1_000, "{r}");
    assert!(r["conversations_resolved"].as_u64().unwrap() > 1_000, "{r}");
    assert!(r["engagement_ratio"].as_f64().unwrap() > 0.5, "{r}");
    let rel = &v["relationships"];
    assert!(rel["ror"].as_f64().unwrap() > 0.0, "{rel}");
    assert!(rel["advocates"].as_u64().unwrap() > 0, "{rel}");
    // High-reach complaints are P1s owned by comms.
    let p1 = v["top_p1"].as_array().unwrap();
    assert!(!p1.is_empty());
    assert!(p1.iter().any(|c| c["team"] == "comms"), "{p1:?}");

    // The same seed gives the same data: a second demo elsewhere has the same results. When
    // the tests have a PostgreSQL (RAPPORT_TEST_DATABASE_URL), the second one runs there,
    // and every number of the summary, the report and the top conversations must match.
    let again = dir.path().join("again");
    let postgres = test_database_url();
    let mut cmd = Command::cargo_bin("rapport").unwrap();
    match &postgres {
        Some(base) => cmd.env("RAPPORT_DATABASE_URL", fresh_schema(base)),
        None => cmd.env_remove("RAPPORT_DATABASE_URL"),
    };
    let out2 = cmd
        .env("RAPPORT_NOW", "2026-11-23T12:00:00Z")
        .arg("--data-dir")
        .arg(&again)
        .args(["demo", "--json"])
        .output()
        .unwrap();
    assert!(
        out2.status.success(),
        "{}",
        String::from_utf8_lossy(&out2.stderr)
    );
    let v2: Value = serde_json::from_slice(&out2.stdout).unwrap();
    assert_eq!(v["summary"], v2["summary"]);
    if postgres.is_some() {
        let strip = |mut v: Value| {
            let o = v.as_object_mut().unwrap();
            o.remove("data_dir");
            o.remove("seconds");
            o.remove("relationships");
            v
        };
        // Strengths are sums of compounds, added up in each database's own order: the
        // same but for the last bits.
        let (a, b) = (&v["relationships"], &v2["relationships"]);
        for key in ["active", "advocates", "at_risk"] {
            assert_eq!(a[key], b[key], "{key}");
        }
        assert!((a["ror"].as_f64().unwrap() - b["ror"].as_f64().unwrap()).abs() < 1e-9);
        let (sqlite, pg) = (strip(v.clone()), strip(v2));
        assert_eq!(sqlite, pg, "the demo differs between SQLite and PostgreSQL");
    }

    // A store with data in it is never overwritten.
    let out3 = Command::cargo_bin("rapport")
        .unwrap()
        .arg("--data-dir")
        .arg(&data)
        .arg("demo")
        .output()
        .unwrap();
    assert!(!out3.status.success());
    let err = String::from_utf8_lossy(&out3.stderr);
    assert!(
        err.contains("already holds") && err.contains("--data-dir"),
        "{err}"
    );
}
