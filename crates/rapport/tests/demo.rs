//! `rapport demo` on a fresh data directory: the data set the issue asks for, triaged,
//! routed and summarised.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

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
    // High-reach complaints are P1s owned by comms.
    let p1 = v["top_p1"].as_array().unwrap();
    assert!(!p1.is_empty());
    assert!(p1.iter().any(|c| c["team"] == "comms"), "{p1:?}");

    // The same seed gives the same data: a second demo elsewhere has the same counts.
    let again = dir.path().join("again");
    let out2 = Command::cargo_bin("rapport")
        .unwrap()
        .env("RAPPORT_NOW", "2026-11-23T12:00:00Z")
        .arg("--data-dir")
        .arg(&again)
        .args(["demo", "--json"])
        .output()
        .unwrap();
    let v2: Value = serde_json::from_slice(&out2.stdout).unwrap();
    assert_eq!(v["summary"], v2["summary"]);

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
