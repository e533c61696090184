//! Drafts from the command line: principle checks block a submission unless an admin
//! overrides them with a reason; only the configured role approves each kind; the cadence
//! guard keeps a leader's key messages rare and names the next free slot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use assert_cmd::cargo::CommandCargoExt;
use tempfile::TempDir;

mod backend;
use backend::ok;

fn rapport(data: &Path, actor: &str) -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_DATABASE_URL")
        .env("RAPPORT_NOW", "2026-11-23T09:00:00Z")
        .args(["--as", actor, "--data-dir"])
        .arg(data);
    c
}

fn run(data: &Path, actor: &str, args: &[&str]) -> Output {
    rapport(data, actor).args(args).output().unwrap()
}

fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn setup() -> (TempDir, std::path::PathBuf) {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    ok(run(&data, "cli", &["init"]));
    let mut cfg = std::fs::read_to_string(data.join("rapport.toml")).unwrap();
    cfg.push_str(
        r##"
[[channel]]
name = "bsky"
kind = "bluesky"
account = "lumen.bsky.social"
credentials_env = "BSKY_APP_PASSWORD"

[[channel]]
name = "masto"
kind = "mastodon"
instance = "https://mastodon.example"
account = "lumen@mastodon.example"
credentials_env = "MASTODON_TOKEN"

[[principle]]
name = "honest"
statement = "We say what we are paid for and promise nothing we cannot keep."
banned_phrases = ["best in the world"]
required_disclosure = "#ad"
no_outcome_promises = true
"##,
    );
    // The default file's [cadence]: two key messages a day.
    assert!(cfg.contains("key_messages_per_day = 2"));
    std::fs::write(data.join("rapport.toml"), cfg).unwrap();
    for (name, role) in [("lea", "leader"), ("ada", "admin"), ("sam", "agent")] {
        let out = rapport(&data, "cli")
            .args(["user", "add", name, "--role", role, "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write as _;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(b"a long enough password\n")?;
                c.wait_with_output()
            })
            .unwrap();
        ok(out);
    }
    (tmp, data)
}

fn new_draft(data: &Path, text: &str, extra: &[&str]) -> i64 {
    let mut args = vec![
        "draft",
        "new",
        text,
        "--channel",
        "bsky",
        "--channel",
        "masto",
        "--json",
    ];
    args.extend_from_slice(extra);
    let v: serde_json::Value = serde_json::from_str(&ok(run(data, "ceo", &args))).unwrap();
    v["draft"]["id"].as_i64().unwrap()
}

fn status(data: &Path, id: i64) -> String {
    let v: serde_json::Value = serde_json::from_str(&ok(run(
        data,
        "cli",
        &["draft", "show", &id.to_string(), "--json"],
    )))
    .unwrap();
    v["draft"]["status"].as_str().unwrap().to_string()
}

#[test]
fn principles_block_a_submission_unless_an_admin_overrides_with_a_reason() {
    let (_tmp, data) = setup();
    // Sponsored without the disclosure, and a promise: refused, each failure named.
    let id = new_draft(
        &data,
        "Our partner lamps: we guarantee you will love them",
        &["--kind", "broadcast", "--sponsored"],
    );
    let err = refused(run(&data, "ceo", &["draft", "submit", &id.to_string()]));
    assert!(
        err.contains("required_disclosure") && err.contains("#ad"),
        "{err}"
    );
    assert!(
        err.contains("no_outcome_promises") && err.contains("we guarantee"),
        "{err}"
    );
    assert_eq!(status(&data, id), "draft");
    // A leader may not override; an admin may, with a reason kept in the log.
    let err = refused(run(
        &data,
        "lea",
        &[
            "draft",
            "submit",
            &id.to_string(),
            "--override",
            "legal said yes",
        ],
    ));
    assert!(err.contains("only an admin"), "{err}");
    ok(run(
        &data,
        "ada",
        &[
            "draft",
            "submit",
            &id.to_string(),
            "--override",
            "legal reviewed the wording",
        ],
    ));
    assert_eq!(status(&data, id), "pending_approval");

    // Fixed text passes without an override.
    let id = new_draft(
        &data,
        "Our partner lamps are in store this week #ad",
        &["--kind", "broadcast", "--sponsored"],
    );
    ok(run(&data, "ceo", &["draft", "submit", &id.to_string()]));
    // A broadcast needs an admin: an agent and a leader are refused.
    let err = refused(run(&data, "sam", &["draft", "approve", &id.to_string()]));
    assert!(err.contains("admin"), "{err}");
    refused(run(&data, "lea", &["draft", "approve", &id.to_string()]));
    ok(run(&data, "ada", &["draft", "approve", &id.to_string()]));
    assert_eq!(status(&data, id), "approved");
}

#[test]
fn a_leaders_key_messages_keep_to_the_cadence_and_the_guard_names_the_next_slot() {
    let (_tmp, data) = setup();
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = new_draft(
            &data,
            &format!("Key message number {n} about our repair network"),
            &["--kind", "key_message"],
        );
        ok(run(&data, "ceo", &["draft", "submit", &id.to_string()]));
        // Someone who is not a user cannot approve; an agent may not approve a key message.
        if n == 0 {
            let err = refused(run(&data, "ceo", &["draft", "approve", &id.to_string()]));
            assert!(err.contains("not a rapport user"), "{err}");
            refused(run(&data, "sam", &["draft", "approve", &id.to_string()]));
        }
        ok(run(&data, "lea", &["draft", "approve", &id.to_string()]));
        ids.push(id);
    }
    ok(run(
        &data,
        "ceo",
        &[
            "draft",
            "schedule",
            &ids[0].to_string(),
            "--at",
            "2026-11-23T10:00:00Z",
        ],
    ));
    ok(run(
        &data,
        "ceo",
        &[
            "draft",
            "schedule",
            &ids[1].to_string(),
            "--at",
            "2026-11-23T15:00:00Z",
        ],
    ));
    let err = refused(run(
        &data,
        "ceo",
        &[
            "draft",
            "schedule",
            &ids[2].to_string(),
            "--at",
            "2026-11-23T18:00:00Z",
        ],
    ));
    assert!(
        err.contains("2026-11-24"),
        "the guard names the next allowed day: {err}"
    );
    assert_eq!(status(&data, ids[2]), "approved");
    ok(run(
        &data,
        "ceo",
        &[
            "draft",
            "schedule",
            &ids[2].to_string(),
            "--at",
            "2026-11-24T09:00:00Z",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&ok(run(
        &data,
        "cli",
        &["draft", "show", &ids[2].to_string(), "--json"],
    )))
    .unwrap();
    assert_eq!(v["draft"]["status"], "scheduled");
    // Each channel's post is decided once, with its idempotency key.
    for t in v["draft"]["targets"].as_array().unwrap() {
        assert_eq!(t["state"], "pending");
        assert!(
            t["request"]
                .as_str()
                .unwrap()
                .contains("Key message number 2")
        );
    }
    // Editing a scheduled draft takes it out of the schedule: it needs approval again.
    ok(run(
        &data,
        "ceo",
        &[
            "draft",
            "edit",
            &ids[2].to_string(),
            "--text",
            "Key message, reworded",
        ],
    ));
    assert_eq!(status(&data, ids[2]), "draft");
}

#[test]
fn a_draft_over_a_platforms_limit_cannot_be_submitted() {
    let (_tmp, data) = setup();
    let long = "lamp ".repeat(70); // 350 characters: over Bluesky's 300 graphemes
    let id = new_draft(
        &data,
        &long,
        &[
            "--kind",
            "broadcast",
            "--text-for",
            "masto=A short one for Mastodon",
        ],
    );
    let err = refused(run(&data, "ceo", &["draft", "submit", &id.to_string()]));
    assert!(err.contains("bsky") && err.contains("too long"), "{err}");
    assert!(!err.contains("masto:"), "Mastodon's own text fits: {err}");
}
