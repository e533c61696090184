//! `rapport migrate-store`: a store with conversations, replies, notes, labels, users
//! and tokens moves to another backend (PostgreSQL when the run has one, else another
//! SQLite file) and back, with every row and every id; the copy serves the same inbox,
//! new rows get new ids, and a non-empty target is refused untouched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::{fresh_schema, test_database_url};

fn rapport(data: &Path, url: Option<&str>) -> Command {
    let mut c = Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env("RAPPORT_LOG", "warn")
        .env("RAPPORT_NOW", "2026-11-23T12:00:00Z")
        .arg("--data-dir")
        .arg(data);
    match url {
        Some(u) => c.env("RAPPORT_DATABASE_URL", u),
        None => c.env_remove("RAPPORT_DATABASE_URL"),
    };
    c
}

fn ok(mut c: Command, args: &[&str]) -> String {
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "rapport {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_store_moves_between_backends_with_every_row_and_id() {
    let tmp = TempDir::new().unwrap();
    let src = tmp.path().join("src");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/support_thread.csv");
    ok(rapport(&src, None), &["init"]);
    ok(
        rapport(&src, None),
        &["import", fixture.to_str().unwrap(), "--platform", "twitter"],
    );
    let inbox: Value = serde_json::from_str(&ok(
        rapport(&src, None),
        &["inbox", "--status", "all", "--json"],
    ))
    .unwrap();
    let first = inbox[0]["id"].as_i64().unwrap().to_string();
    ok(
        rapport(&src, None),
        &["reply", &first, "Sorry, on it", "--local"],
    );
    ok(rapport(&src, None), &["note", &first, "called them back ✓"]);
    ok(rapport(&src, None), &["label", &first, "billing"]);
    let mut add = rapport(&src, None);
    add.write_stdin("a long enough password\n");
    ok(
        add,
        &["user", "add", "ana", "--role", "admin", "--password-stdin"],
    );
    ok(rapport(&src, None), &["token", "create", "--user", "ana"]);

    // Out to the other backend, and back into a fresh SQLite store.
    let there = match test_database_url() {
        Some(base) => fresh_schema(&base),
        None => format!("sqlite://{}", tmp.path().join("there/rapport.db").display()),
    };
    let out: Value = serde_json::from_str(&ok(
        rapport(&src, None),
        &[
            "migrate-store",
            "--from",
            src.to_str().unwrap(),
            "--to",
            &there,
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(out["tables"]["notes"][0], 1);
    assert_eq!(out["tables"]["users"][0], 1);
    assert_eq!(out["tables"]["api_tokens"][0], 1);
    assert!(out["tables"]["messages"][0].as_i64().unwrap() > 5);
    let back = tmp.path().join("back");
    let again: Value = serde_json::from_str(&ok(
        rapport(&src, None),
        &[
            "migrate-store",
            "--from",
            &there,
            "--to",
            back.to_str().unwrap(),
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(
        out["tables"], again["tables"],
        "counts and checksums survive the trip"
    );

    // The copy serves the same inbox and the same thread, ids included.
    for args in [
        vec!["inbox", "--status", "all", "--json"],
        vec!["show", first.as_str(), "--json"],
    ] {
        let a = ok(rapport(&src, None), &args);
        let b = ok(rapport(&src, Some(&there)), &args);
        assert_eq!(a, b, "rapport {args:?} differs after the move");
    }
    // New rows get new ids there (the id sequences were moved past the copied ones).
    ok(
        rapport(&src, Some(&there)),
        &["note", &first, "after the move"],
    );
    let shown: Value = serde_json::from_str(&ok(
        rapport(&src, Some(&there)),
        &["show", &first, "--json"],
    ))
    .unwrap();
    let notes = shown["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1]["text"], "after the move");

    // Into a store that holds data: refused, and that store is unchanged.
    let before = ok(
        rapport(&back, None),
        &["inbox", "--status", "all", "--json"],
    );
    let out = rapport(&src, None)
        .args([
            "migrate-store",
            "--from",
            src.to_str().unwrap(),
            "--to",
            back.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(
        before,
        ok(
            rapport(&back, None),
            &["inbox", "--status", "all", "--json"]
        )
    );
}
