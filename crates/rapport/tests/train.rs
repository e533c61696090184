//! Learning from the team, from the command line: a model trained on a labelled file
//! beats the rules on held-back rows where the rules are systematically wrong; a
//! correction is stored, a model trained on the corrections is saved, and a new message
//! like the corrected ones is triaged by it, which `rapport explain` says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::cargo::CommandCargoExt;
use tempfile::TempDir;

mod backend;
use backend::ok;

fn rapport(data: &Path) -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_DATABASE_URL")
        .env("RAPPORT_NOW", "2026-11-23T09:00:00Z")
        .arg("--data-dir")
        .arg(data);
    c
}

fn json(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = ok(cmd.output().unwrap());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Support-desk texts the rules get wrong: failures told without a negative word,
/// praise in slang VADER does not know, and plain statements.
fn labelled_csv() -> String {
    let things = [
        "hub", "bulb", "strip", "plug", "bridge", "sensor", "dimmer", "app",
    ];
    let negative = [
        "the update bricked my {}",
        "my {} is a paperweight since the firmware update",
        "third replacement {} and it still drops off the network",
        "{} went offline again overnight, schedules gone",
        "reset the {} four times today, back to square one",
        "the {} forgets every scene after a power blip",
    ];
    let positive = [
        "chuffed with the new {}, works a treat",
        "the {} is spot on, ordering two more",
        "set up the {} in five minutes, cracking kit",
        "{} sorted my whole hallway, top notch",
        "the {} paired first go, chuffed to bits",
        "my {} has been rock solid for a year",
    ];
    let neutral = [
        "which {} version ships in the starter box",
        "the {} arrived on tuesday",
        "moving the {} to the upstairs landing",
        "is the {} the same size as the old one",
        "my {} is on firmware 2.4",
        "the {} came in a white box",
    ];
    let mut csv = String::from("id,message,label\n");
    let mut n = 0;
    for (templates, label) in [
        (negative, "negative"),
        (positive, "positive"),
        (neutral, "neutral"),
    ] {
        for t in templates {
            for thing in things {
                n += 1;
                writeln!(csv, "{n},\"{}\",{label}", t.replace("{}", thing)).unwrap();
            }
        }
    }
    // Bad rows: reported with their line number and skipped.
    csv.push_str("900,\"the hub is fine\",ecstatic\n901,,negative\n");
    csv
}

#[test]
fn trained_on_a_file_it_beats_the_rules_on_held_back_rows() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("labelled.csv");
    std::fs::write(&file, labelled_csv()).unwrap();
    let out = rapport(&data)
        .args(["train", "sentiment", "--labels"])
        .arg(&file)
        .args([
            "--text",
            "message",
            "--label",
            "label",
            "--evaluate",
            "0.3",
            "--json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    assert!(
        stderr.contains(":146: skipped") && stderr.contains("ecstatic"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":147: skipped: the text is empty"),
        "{stderr}"
    );
    assert_eq!(
        v["train"].as_u64().unwrap() + v["test"].as_u64().unwrap(),
        144
    );
    assert_eq!(v["test"], 43);
    let (acc, rules) = (
        v["accuracy"].as_f64().unwrap(),
        v["rules_accuracy"].as_f64().unwrap(),
    );
    assert!(acc > rules, "model {acc} vs rules {rules}");
    assert!(acc >= 0.8, "model accuracy {acc}");
    assert!(v["triage_per_s"].as_f64().unwrap() > 0.0);
    // No embedding model in this data directory: nothing to compare.
    assert!(v["embeddings"].is_null(), "{v}");

    // A missing column names the ones there are.
    let out = rapport(&data)
        .args(["train", "sentiment", "--labels"])
        .arg(&file)
        .args(["--text", "body", "--dry-run"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no column \"body\"") && err.contains("id, message, label"),
        "{err}"
    );
}

#[test]
fn corrections_train_a_model_that_then_decides_and_explain_says_so() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    ok(rapport(&data).arg("init").output().unwrap());
    let cfg = data.join("rapport.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("min_confidence = 0.7") && text.contains("min_examples = 20"));
    let text = text
        .replace("min_confidence = 0.7", "min_confidence = 0.6")
        .replace("min_examples = 20", "min_examples = 8");
    std::fs::write(&cfg, text).unwrap();

    let messages = [
        "my hub is a paperweight since the update",
        "the bridge turned into a paperweight overnight",
        "paperweight again after the firmware push",
        "the new firmware made my dimmer a paperweight",
        "kitting out forty offices with your hubs next quarter",
        "we are kitting out a hotel chain, who handles volume",
        "kitting out our warehouses with sensors this spring",
        "kitting out every branch with the starter box",
    ];
    let mut csv =
        String::from("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n");
    for (i, m) in messages.iter().enumerate() {
        writeln!(csv, "{},user{i},True,2026-11-20T10:0{i}:00Z,{m},", i + 1).unwrap();
    }
    let file = tmp.path().join("in.csv");
    std::fs::write(&file, csv).unwrap();
    json(
        rapport(&data)
            .arg("import")
            .arg(&file)
            .args(["--platform", "twitter", "--json"]),
    );

    // The rules miss these: no cue, mild sentiment.
    let first = json(rapport(&data).args(["show", "1", "--json"]));
    assert_eq!(first["conversation"]["intent"], "other");
    let message_id = first["messages"][0]["id"].as_i64().unwrap();

    // One correction is stored with its event and changes the intent.
    let c = json(rapport(&data).args([
        "--as",
        "sam",
        "correct",
        &message_id.to_string(),
        "--intent",
        "complaint",
        "--json",
    ]));
    assert_eq!(
        (c["old"].as_str(), c["new"].as_str()),
        (Some("other"), Some("complaint"))
    );
    assert_eq!(c["actor"], "sam");
    let shown = json(rapport(&data).args(["show", "1", "--json"]));
    assert_eq!(shown["conversation"]["intent"], "complaint");
    assert_eq!(shown["messages"][0]["intent_rule"], "corrected by sam");
    let events = serde_json::to_string(&shown["events"]).unwrap();
    assert!(events.contains("corrected"), "{events}");

    // Too few corrections: refused, saying why.
    let out = rapport(&data).args(["train", "intent"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("min_examples is 8"), "{err}");

    for conv in 2..=8 {
        let shown = json(rapport(&data).args(["show", &conv.to_string(), "--json"]));
        let id = shown["messages"][0]["id"].as_i64().unwrap().to_string();
        let intent = if conv <= 4 { "complaint" } else { "lead" };
        json(rapport(&data).args(["--as", "sam", "correct", &id, "--intent", intent, "--json"]));
    }
    let sentiment = json(rapport(&data).args([
        "correct",
        &message_id.to_string(),
        "--sentiment",
        "negative",
        "--json",
    ]));
    assert_eq!(sentiment["field"], "sentiment");
    let t = json(rapport(&data).args(["train", "intent", "--json"]));
    assert_eq!(
        (t["train"].as_u64(), t["saved"].as_bool()),
        (Some(8), Some(true))
    );

    // A new message like the corrected ones is triaged by the model.
    let new = tmp.path().join("new.csv");
    std::fs::write(
        &new,
        "tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n\
         50,zed,True,2026-11-22T10:00:00Z,the latest firmware made my strip a paperweight,\n",
    )
    .unwrap();
    json(
        rapport(&data)
            .arg("import")
            .arg(&new)
            .args(["--platform", "twitter", "--json"]),
    );
    let shown = json(rapport(&data).args(["show", "9", "--json"]));
    assert_eq!(shown["conversation"]["intent"], "complaint");
    let rule = shown["messages"][0]["intent_rule"].as_str().unwrap();
    assert!(rule.starts_with("model:intent (p="), "{rule}");
    let e = json(rapport(&data).args(["explain", "9", "--json"]));
    assert_eq!(e["intent"]["decided_by"], "model");
    assert_eq!(e["intent"]["intent"], "complaint");
    assert_eq!(e["sentiment"]["decided_by"], "rules");
    let text = ok(rapport(&data).args(["explain", "9"]).output().unwrap());
    assert!(text.contains("decided by: learned model (p="), "{text}");
}

/// With the embedding model installed, `--evaluate` also reports a nearest-centroid
/// classifier on the embeddings against the word model, on the same held-back rows.
/// Praise and complaints in words that seldom repeat: the word model has little to go
/// on in the held-back rows, the embeddings carry the meaning.
#[test]
fn with_the_model_evaluate_says_whether_embeddings_help() {
    let Some(model) = backend::model_dir() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    ok(rapport(&data).arg("init").output().unwrap());
    let positive = [
        "I love it",
        "this is wonderful",
        "fantastic product",
        "absolutely brilliant",
        "so happy with my purchase",
        "great job, thank you",
        "amazing work by the team",
        "really pleased with the result",
        "best thing I bought this year",
        "delighted, exceeded my hopes",
        "superb quality",
        "works perfectly, very satisfied",
        "excellent support, they fixed it fast",
        "what a lovely experience",
        "brilliant, would recommend to friends",
        "a joy to use every day",
    ];
    let negative = [
        "I hate it",
        "this is terrible",
        "awful product",
        "completely useless",
        "so disappointed with my purchase",
        "worst support ever",
        "it broke after one day",
        "a total waste of money",
        "never buying from them again",
        "furious, nobody answers my emails",
        "dreadful quality",
        "it keeps crashing, very annoyed",
        "refund please, this is junk",
        "what a horrible experience",
        "broken out of the box",
        "a nightmare to set up",
    ];
    let mut csv = String::from("text,label\n");
    for t in positive {
        writeln!(csv, "\"{t}\",positive").unwrap();
    }
    for t in negative {
        writeln!(csv, "\"{t}\",negative").unwrap();
    }
    let file = tmp.path().join("labelled.csv");
    std::fs::write(&file, csv).unwrap();
    let v = json(
        rapport(&data)
            .env("RAPPORT_SEMANTIC__MODEL_DIR", &model)
            .args(["train", "sentiment", "--labels"])
            .arg(&file)
            .args(["--evaluate", "0.4", "--json"]),
    );
    let e = &v["embeddings"];
    assert_eq!(e["model"], "all-MiniLM-L6-v2", "{v}");
    assert_eq!(e["words_accuracy"], v["accuracy"], "{v}");
    let (emb, words) = (
        e["accuracy"].as_f64().unwrap(),
        v["accuracy"].as_f64().unwrap(),
    );
    eprintln!("embeddings {emb} vs words {words}: {}", e["verdict"]);
    assert!(emb >= 0.8, "{v}");
    assert_eq!(e["verdict"], "help", "{v}");
    let out = ok(rapport(&data)
        .env("RAPPORT_SEMANTIC__MODEL_DIR", &model)
        .args(["train", "sentiment", "--labels"])
        .arg(&file)
        .args(["--evaluate", "0.4"])
        .output()
        .unwrap());
    assert!(
        out.contains("embedding features: accuracy") && out.contains("they help"),
        "{out}"
    );
}
