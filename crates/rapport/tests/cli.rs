//! Integration tests: they drive the `rapport` binary as a user would, each in a fresh
//! data directory, and assert what it stored and printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

const NOW: &str = "2026-11-05T12:00:00Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A data directory with a store and a configuration that names the organisation's
/// accounts of the fixtures.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Self {
        let env = Env {
            dir: TempDir::new().unwrap(),
        };
        env.cmd().arg("init").assert().success();
        let config = std::fs::read_to_string(env.data().join("rapport.toml")).unwrap();
        let config = config
            .replace(
                "accounts = [\"example.bsky.social\", \"example@mastodon.social\"]",
                "accounts = [\"LumenHelp\", \"lumen@mastodon.social\"]",
            )
            .replace("bots = []", "bots = [\"LumenBot\"]");
        std::fs::write(env.data().join("rapport.toml"), config).unwrap();
        env
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("rapport").unwrap();
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env("RAPPORT_NOW", NOW)
            .arg("--data-dir")
            .arg(self.data());
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "rapport {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "rapport {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    fn import(&self, file: &Path, extra: &[&str]) -> (Value, i32) {
        let out = self
            .cmd()
            .arg("import")
            .arg(file)
            .args(extra)
            .arg("--json")
            .output()
            .unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "import printed no JSON ({e}): {} / {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (v, out.status.code().unwrap_or(-1))
    }

    /// The conversation holding a message, found through the inbox.
    fn conversation_of(&self, text_start: &str) -> Value {
        let all = self.json(&["inbox", "--status", "all", "--limit", "1000", "--json"]);
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["snippet"].as_str().unwrap().starts_with(text_start))
            .unwrap_or_else(|| panic!("no conversation starts with {text_start:?}"))
            .clone()
    }
}

#[test]
fn init_creates_a_store_and_keeps_an_edited_config() {
    let env = Env::new();
    assert!(env.data().join("rapport.db").is_file());
    let edited = std::fs::read_to_string(env.data().join("rapport.toml")).unwrap();
    assert!(edited.contains("LumenHelp"));
    env.cmd()
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("kept"));
    let after = std::fs::read_to_string(env.data().join("rapport.toml")).unwrap();
    assert_eq!(edited, after);
}

#[test]
fn a_directory_that_is_not_a_store_gets_one_clear_line() {
    let dir = TempDir::new().unwrap();
    let out = Command::cargo_bin("rapport")
        .unwrap()
        .arg("--data-dir")
        .arg(dir.path())
        .arg("inbox")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a rapport store"), "{err}");
    assert!(err.contains("rapport init"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn unknown_flags_and_missing_files_fail_cleanly() {
    let env = Env::new();
    let out = env.cmd().args(["inbox", "--colour"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--colour"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = env
        .cmd()
        .args(["import", "/no/such/file.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/file.csv") && !err.contains("panicked"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn import_threads_replies_and_is_idempotent() {
    let env = Env::new();
    let file = fixture("support_thread.csv");
    let (v, code) = env.import(&file, &["--platform", "twitter"]);
    assert_eq!(code, 0);
    assert_eq!(v["imported"], 12);
    assert_eq!(v["duplicates"], 0);
    assert_eq!(v["quarantined"], 0);
    let (again, code) = env.import(&file, &["--platform", "twitter"]);
    assert_eq!(code, 0);
    assert_eq!(again["imported"], 0);
    assert_eq!(again["duplicates"], 12);

    // The four messages of the first thread are one conversation, answered at 09:12.
    let c = env.conversation_of("@LumenHelp my hallway bulb");
    let id = c["id"].as_i64().unwrap();
    let detail = env.json(&["show", &id.to_string(), "--json"]);
    assert_eq!(detail["messages"].as_array().unwrap().len(), 4);
    assert_eq!(
        detail["conversation"]["first_response_at"],
        "2026-11-02T09:12:00Z"
    );
    // HTML entities are decoded.
    assert!(
        detail["messages"][3]["text"]
            .as_str()
            .unwrap()
            .contains("on its way & tracking")
    );
    // The broadcast opened no conversation; the organisation's messages are not conversations.
    let all = env.json(&["inbox", "--status", "all", "--limit", "100", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 6, "{all:#}");
}

#[test]
fn a_reply_that_arrives_before_its_parent_joins_the_parents_conversation() {
    let env = Env::new();
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("out_of_order.csv");
    std::fs::write(
        &file,
        "id,author,created_at,text,in_reply_to\n\
         b2,LumenHelp,2026-11-02T10:05:00Z,We're on it,b1\n\
         b3,zoe,2026-11-02T10:10:00Z,still broken though,b2\n\
         b1,zoe,2026-11-02T10:00:00Z,my lamp is broken,\n",
    )
    .unwrap();
    let (v, _) = env.import(&file, &["--platform", "bluesky"]);
    assert_eq!(v["imported"], 3);
    let all = env.json(&["inbox", "--status", "all", "--json"]);
    let list = all.as_array().unwrap();
    assert_eq!(list.len(), 1, "{all:#}");
    let detail = env.json(&["show", &list[0]["id"].to_string(), "--json"]);
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["my lamp is broken", "We're on it", "still broken though"]
    );
    assert_eq!(detail["conversation"]["opened_at"], "2026-11-02T10:00:00Z");
    assert_eq!(
        detail["conversation"]["first_response_at"],
        "2026-11-02T10:05:00Z"
    );
}

#[test]
fn bad_rows_are_quarantined_with_their_line_and_good_rows_land() {
    let env = Env::new();
    let (v, code) = env.import(&fixture("bad_rows.csv"), &["--platform", "twitter"]);
    assert_eq!(code, 3, "some rows failed: the exit status says so");
    assert_eq!(v["imported"], 4, "{v}");
    assert_eq!(v["quarantined"], 6, "{v}");
    let q = env.json(&["quarantine", "--json"]);
    let mut lines: Vec<(i64, String)> = q["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    lines.sort();
    let numbers: Vec<i64> = lines.iter().map(|(l, _)| *l).collect();
    assert_eq!(numbers, [3, 4, 5, 6, 8, 11], "{lines:?}");
    let reason = |line: i64| lines.iter().find(|(l, _)| *l == line).unwrap().1.clone();
    assert!(reason(3).contains("not-a-date"), "{}", reason(3));
    assert!(reason(4).contains("author"), "{}", reason(4));
    assert!(reason(5).to_lowercase().contains("utf-8"), "{}", reason(5));
    assert!(reason(8).contains("64 KiB"), "{}", reason(8));
    assert!(reason(11).contains("abc"), "{}", reason(11));
    let texts: Vec<String> = env
        .json(&["inbox", "--status", "all", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["snippet"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts.contains(&"a quoted, multi-line\ngood row".to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"last good row".to_string()), "{texts:?}");
}

#[test]
fn a_map_naming_a_missing_column_stops_before_importing() {
    let env = Env::new();
    let out = env
        .cmd()
        .arg("import")
        .arg(fixture("support_thread.csv"))
        .args(["--map", "text=body"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("body"), "{err}");
    let all = env.json(&["inbox", "--status", "all", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 0);
}

#[test]
fn jsonl_import_reports_bad_lines_and_threads() {
    let env = Env::new();
    let (v, code) = env.import(
        &fixture("mentions.jsonl"),
        &["--platform", "mastodon", "--map", "text=content"],
    );
    assert_eq!(code, 3);
    assert_eq!(v["imported"], 3, "{v}");
    assert_eq!(v["quarantined"], 1, "{v}");
    let q = env.json(&["quarantine", "--json"]);
    assert_eq!(q["rows"][0]["line"], 4);
    let c = env.conversation_of("@lumen my lights");
    assert_eq!(c["message_count"], 2);
}

#[test]
fn triage_streams_one_object_per_line_in_order() {
    let env = Env::new();
    let input =
        "I love this lamp!\n\nmy hub is broken and support never answers\nHow much for 40 units?\n";
    let out = env.cmd().arg("triage").write_stdin(input).output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["sentiment"], "positive");
    assert_eq!(lines[0]["intent"], "praise");
    assert_eq!(lines[1]["compound"], 0.0);
    assert_eq!(lines[1]["neu"], 0.0);
    assert_eq!(lines[2]["intent"], "complaint");
    assert_eq!(lines[2]["sentiment"], "negative");
    assert_eq!(lines[3]["intent"], "lead");
    for l in &lines {
        for key in [
            "compound",
            "pos",
            "neu",
            "neg",
            "sentiment",
            "intent",
            "priority_score",
        ] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
    let out = env
        .cmd()
        .args(["triage", "--jsonl"])
        .write_stdin(
            "{\"text\": \"this is the worst, refund now\", \"followers\": 1000000}\nnot json\n",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["priority"], "P1");
    assert!(lines[1]["error"].as_str().unwrap().contains("line 2"));
}

#[test]
fn inbox_sorts_by_priority_then_due_and_filters() {
    let env = Env::new();
    env.import(&fixture("support_thread.csv"), &["--platform", "twitter"]);
    let open = env.json(&["inbox", "--json"]);
    let list = open.as_array().unwrap();
    let keys: Vec<(String, String)> = list
        .iter()
        .map(|c| {
            (
                c["priority"].as_str().unwrap().to_string(),
                c["due_at"].as_str().unwrap_or("9999").to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // The 1.25M-follower complaint went to comms as P1 and notified leaders.
    assert_eq!(list[0]["priority"], "P1");
    assert_eq!(list[0]["team"], "comms");
    let comms = env.json(&["inbox", "--team", "comms", "--json"]);
    assert!(
        comms
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["team"] == "comms")
    );
    let p1 = env.json(&["inbox", "--priority", "P1", "--json"]);
    assert!(p1.as_array().unwrap().iter().all(|c| c["priority"] == "P1"));
    let sales = env.json(&["inbox", "--team", "sales", "--json"]);
    assert_eq!(sales.as_array().unwrap().len(), 1);
    let who = sales[0]["assignee"].as_str().unwrap().to_string();
    let mine = env.json(&["inbox", "--assignee", &who, "--json"]);
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|c| c["assignee"] == who.as_str())
    );
}

#[test]
fn actions_change_the_conversation_and_log_events() {
    let env = Env::new();
    env.import(&fixture("support_thread.csv"), &["--platform", "twitter"]);
    let c = env.conversation_of("Does the Lumen hub");
    let id = c["id"].to_string();
    env.cmd()
        .args(["assign", &id, "--to", "dev"])
        .assert()
        .success();
    env.cmd()
        .args(["assign", &id, "--team", "sales"])
        .assert()
        .success();
    env.cmd()
        .args(["note", &id, "asked twice before"])
        .assert()
        .success();
    env.cmd().args(["label", &id, "homekit"]).assert().success();
    env.cmd()
        .args(["--as", "ana", "reply", &id, "It does!"])
        .assert()
        .success();
    env.cmd().args(["resolve", &id]).assert().success();
    env.cmd()
        .args(["reopen", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("open"));
    let d = env.json(&["show", &id, "--json"]);
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "opened", "assigned", "team", "note", "labelled", "replied", "status", "reopened",
    ] {
        assert!(kinds.contains(&k), "{k} not in {kinds:?}");
    }
    let reply = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "replied")
        .unwrap();
    assert_eq!(reply["actor"], "ana");
    assert_eq!(d["conversation"]["status"], "open");
    assert_eq!(d["conversation"]["team"], "sales");
    assert_eq!(d["labels"], serde_json::json!(["homekit"]));
    assert_eq!(d["notes"][0]["text"], "asked twice before");
    let last = d["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["direction"], "outbound");
    assert_eq!(last["text"], "It does!");
    // Reopening started a new clock: something is due again.
    assert!(d["conversation"]["due_at"].is_string());
    // Unknown conversation: a clear error.
    env.cmd()
        .args(["resolve", "99999"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("conversation 99999 not found"));
}

#[test]
fn a_first_reply_from_the_cli_counts_as_the_first_response() {
    let env = Env::new();
    env.import(&fixture("support_thread.csv"), &["--platform", "twitter"]);
    let c = env.conversation_of("We're fitting out 40 offices");
    assert!(c["first_response_at"].is_null());
    let id = c["id"].to_string();
    env.cmd()
        .args([
            "--as",
            "sam",
            "reply",
            &id,
            "Hi! I'm Sam from sales, DM me?",
        ])
        .assert()
        .success();
    let d = env.json(&["show", &id, "--json"]);
    assert_eq!(d["conversation"]["first_response_at"], NOW);
    assert!(d["conversation"]["due_at"].is_null());
}

#[test]
fn explain_accounts_for_every_term_of_the_score() {
    let env = Env::new();
    env.import(&fixture("support_thread.csv"), &["--platform", "twitter"]);
    for start in [
        "@LumenHelp Your app deleted",
        "Does the Lumen hub",
        "Would be great if",
        "@LumenHelp my hallway",
    ] {
        let c = env.conversation_of(start);
        let e = env.json(&["explain", &c["id"].to_string(), "--json"]);
        let p = &e["priority"];
        let f = |k: &str| p[k].as_f64().unwrap();
        let product = f("intent_weight") * f("negativity") * f("reach") * f("velocity");
        assert!((product - f("score")).abs() < 1e-9, "{start}: {p}");
        // Each term follows from the inputs shown.
        let inputs = &p["inputs"];
        let compound = inputs["compound"].as_f64().unwrap();
        assert!((f("negativity") - (1.0 + (-compound).max(0.0))).abs() < 1e-12);
        let followers = inputs["followers"].as_f64().unwrap();
        assert!((f("reach") - (followers + 10.0).log10()).abs() < 1e-12);
        let r = inputs["reshares"].as_f64().unwrap() + inputs["replies"].as_f64().unwrap();
        assert!((f("velocity") - (1.0 + (1.0 + r).log10())).abs() < 1e-12);
        assert_eq!(e["stored"]["differs_from_current_config"], false);
        assert!(!e["intent"]["rule"].as_str().unwrap().is_empty());
    }
    let c = env.conversation_of("@LumenHelp Your app deleted");
    let e = env.json(&["explain", &c["id"].to_string(), "--json"]);
    assert_eq!(e["routing"]["rule"], "high-reach complaint");
    assert_eq!(e["priority"]["band_from_score"], "P1");
    let words: Vec<&str> = e["sentiment"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["word"].as_str().unwrap())
        .collect();
    assert!(
        words.iter().any(|w| w.eq_ignore_ascii_case("worst")),
        "{words:?}"
    );
    // The human form shows the same product.
    env.cmd()
        .args(["explain", &c["id"].to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains("product").and(predicate::str::contains("velocity")));
}

#[test]
fn report_follows_the_definitions_on_a_known_thread() {
    let env = Env::new();
    env.import(&fixture("support_thread.csv"), &["--platform", "twitter"]);
    let r = env.json(&["report", "--json"]);
    for key in [
        "conversations_opened",
        "response_rate",
        "frt_median_s",
        "frt_p90_s",
        "resolution_median_s",
        "sla_attainment",
        "engagement_ratio",
        "net_sentiment",
    ] {
        assert!(r.get(key).is_some(), "{key} missing");
    }
    // Six conversations: the hallway thread (answered after 12 min), the megaphone
    // complaint, the HomeKit question (bot at +5 s does not count; human at +2 h), the
    // volume lead, the idea and the praise.
    assert_eq!(r["conversations_opened"], 6);
    assert_eq!(r["frt_samples"], 2);
    // Nearest-rank median of [720, 7200] is 720; p90 is 7200.
    assert_eq!(r["frt_median_s"], 720.0);
    assert_eq!(r["frt_p90_s"], 7200.0);
    assert!((r["response_rate"].as_f64().unwrap() - 2.0 / 6.0).abs() < 1e-9);
    // Replies 3 (1002, 1004, 1008; the bot is automated and not counted), broadcasts 1.
    assert!(
        (r["engagement_ratio"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{r:#}"
    );
    let team = env.json(&["report", "--team", "comms", "--json"]);
    assert_eq!(team["conversations_opened"], 1);
    let since = env.json(&["report", "--since", "2026-11-03", "--json"]);
    assert_eq!(since["conversations_opened"], 2);
    env.cmd()
        .args(["report", "--since", "last tuesday"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("7d"));
}

#[test]
fn bench_sentiment_scores_and_says_what_the_reference_needs() {
    // A Python that cannot be run: rapport's figure alone, and what to install.
    let out = Command::cargo_bin("rapport")
        .unwrap()
        .args([
            "bench",
            "sentiment",
            "--sentences",
            "500",
            "--python",
            "/nonexistent/python",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sentences"], 500);
    assert!(v["sentences_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["agreement"].is_null(), "{v}");
    assert!(
        v["reference_skipped"]
            .as_str()
            .unwrap()
            .contains("--python"),
        "{v}"
    );
}
