//! `rapport bench generate` and `rapport bench pipeline` on a small run: the generated
//! file is Jetstream JSON the Bluesky channel keeps, the pipeline stores every message
//! once (conversations opened, the organisation's answers joined to them, the channel's
//! cursor saved), the raw ceiling and the search index ran on the same messages, and the
//! JSON has every figure the benchmark table prints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::cargo::CommandCargoExt;

mod backend;
use backend::ok;

fn rapport() -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_DATABASE_URL");
    c
}

#[test]
fn the_pipeline_stores_every_generated_post_once_and_reports_each_figure() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let cues = dir.path().join("cues.json");
    let made: serde_json::Value = serde_json::from_str(&ok(rapport()
        .args(["bench", "generate", "--messages", "3000"])
        .arg(&events)
        .arg("--cues")
        .arg(&cues)
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(made["events"], 3000);
    let org = made["org_did"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(&events).unwrap();
    assert_eq!(text.lines().count(), 3000);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "commit");
    assert_eq!(first["commit"]["collection"], "app.bsky.feed.post");
    let cue_lists: Vec<(String, Vec<String>)> =
        serde_json::from_str(&std::fs::read_to_string(&cues).unwrap()).unwrap();
    let order: Vec<&str> = cue_lists.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        order,
        ["spam", "complaint", "lead", "idea", "question", "praise"]
    );
    assert!(cue_lists[0].1.contains(&"click here".to_owned()));

    let work = dir.path().join("work");
    let out: serde_json::Value = serde_json::from_str(&ok(rapport()
        .args([
            "bench",
            "pipeline",
            "--threads",
            "1",
            "--batch",
            "700",
            "--statements",
            "--json",
            "--input",
        ])
        .arg(&events)
        .arg("--dir")
        .arg(&work)
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(out["messages"], 3000);
    assert_eq!(out["stored"], 3000);
    assert_eq!(out["threads"], 1);
    for key in [
        "messages_per_s",
        "raw_ceiling_messages_per_s",
        "ratio_to_ceiling",
        "search_index_messages_per_s",
    ] {
        assert!(out[key].as_f64().unwrap() > 0.0, "{key}: {}", out[key]);
    }
    let ratio = out["messages_per_s"].as_f64().unwrap()
        / out["raw_ceiling_messages_per_s"].as_f64().unwrap();
    assert!((ratio - out["ratio_to_ceiling"].as_f64().unwrap()).abs() < 1e-9);
    if cfg!(target_os = "linux") {
        assert!(out["peak_rss_bytes"].as_u64().unwrap() > 1_000_000);
    }
    let stages = out["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 4);
    assert!(stages.iter().all(|s| s["busy_s"].as_f64().unwrap() > 0.0));
    // The store stage's profile: every message inserted once, five commits of 700 or
    // fewer.
    let statements = out["statements"].as_array().unwrap();
    let runs = |prefix: &str| {
        statements
            .iter()
            .find(|s| s["sql"].as_str().unwrap().starts_with(prefix))
            .map(|s| s["runs"].as_u64().unwrap())
    };
    assert_eq!(runs("INSERT INTO messages"), Some(3000));
    assert_eq!(runs("COMMIT"), Some(5));
    assert_eq!(
        runs("INSERT INTO conversations"),
        Some(out["conversations"].as_u64().unwrap())
    );

    // What the pipeline stored, read with SQL.
    let db = rusqlite::Connection::open(work.join("pipeline").join("rapport.db")).unwrap();
    let one = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(one("SELECT COUNT(*) FROM messages"), 3000);
    assert_eq!(
        one(
            "SELECT COUNT(*) FROM messages WHERE direction = 'inbound' AND conversation_id IS NULL"
        ),
        0,
        "every inbound message is in a conversation"
    );
    let outbound: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND author = ?1",
            [&org],
            |r| r.get(0),
        )
        .unwrap();
    assert!(outbound > 150, "the organisation's answers: {outbound}");
    assert_eq!(
        one(
            "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND conversation_id IS NULL"
        ),
        0,
        "each answer joined the conversation of the post it answers"
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM conversations"),
        out["conversations"].as_i64().unwrap()
    );
    assert!(one("SELECT COUNT(*) FROM conversations WHERE first_response_at IS NOT NULL") > 100);
    assert!(one("SELECT COUNT(*) FROM conversations WHERE message_count > 1") > 100);
    assert!(
        one("SELECT COUNT(*) FROM identities WHERE followers IS NOT NULL") > 100,
        "authors carry their reach"
    );
    let last_time_us: i64 = serde_json::from_str::<serde_json::Value>(text.lines().last().unwrap())
        .unwrap()["time_us"]
        .as_i64()
        .unwrap();
    let cursor: String = db
        .query_row(
            "SELECT cursor FROM channel_cursors WHERE channel = 'bench/jetstream'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cursor, last_time_us.to_string());
}
