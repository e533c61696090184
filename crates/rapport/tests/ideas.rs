//! The ideas loop from the command line: ideas from several people (one raising the
//! same idea twice in other words, two on other platforms) group into one item and an
//! unrelated idea into another; shipping the item drafts exactly one reply per person,
//! to their most recent conversation, submitted for approval; setting it again drafts
//! nobody twice; a reply is approved the normal way. On the demo data every idea
//! message ends in exactly one item.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::CommandCargoExt;
use chrono::{TimeZone, Utc};
use serde_json::Value;
use tempfile::TempDir;

mod backend;
use backend::ok;

fn rapport(data: &Path, actor: &str) -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .env_remove("RAPPORT_DATABASE_URL")
        .env("RAPPORT_NOW", "2026-11-23T09:00:00Z")
        .env("RAPPORT_LOG", "warn")
        .args(["--as", actor, "--data-dir"])
        .arg(data);
    c
}

fn json(data: &Path, actor: &str, args: &[&str]) -> Value {
    let out = ok(rapport(data, actor).args(args).output().unwrap());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {out}"))
}

fn setup() -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("data");
    ok(rapport(&data, "cli").arg("init").output().unwrap());
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
"##,
    );
    std::fs::write(data.join("rapport.toml"), cfg).unwrap();
    for (name, role) in [("sam", "agent"), ("vic", "viewer")] {
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

fn import(data: &Path, platform: &str, rows: &[(&str, &str, &str, &str)]) {
    let file = data.parent().unwrap().join(format!("{platform}.jsonl"));
    let lines: Vec<String> = rows
        .iter()
        .map(|(id, user, at, text)| {
            serde_json::json!({"id": id, "user": user, "created_at": at, "text": text}).to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = rapport(data, "cli")
        .arg("import")
        .arg(&file)
        .args(["--platform", platform, "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(v["imported"], rows.len(), "{v}");
}

#[test]
fn shipping_an_idea_drafts_one_reply_per_person_once() {
    let (_tmp, data) = setup();
    import(
        &data,
        "mastodon",
        &[
            (
                "m1",
                "ana@mastodon.social",
                "2026-11-20T10:00:00Z",
                "@lumen please add a dark mode to the app, it is so bright at night",
            ),
            (
                "m2",
                "ana@mastodon.social",
                "2026-11-21T10:00:00Z",
                "@lumen would love to see a dark theme, a night mode for the lamps",
            ),
        ],
    );
    import(
        &data,
        "bluesky",
        &[
            (
                "at://did:plc:bob/app.bsky.feed.post/b1",
                "bob.bsky.social",
                "2026-11-22T10:00:00Z",
                "Feature request: dark mode please!",
            ),
            (
                "at://did:plc:cy/app.bsky.feed.post/b2",
                "cy.bsky.social",
                "2026-11-22T11:00:00Z",
                "It would be great if I could export my schedules to CSV",
            ),
        ],
    );

    let g = json(&data, "cli", &["ideas", "group", "--json"]);
    assert_eq!(g["messages"], 4, "{g}");
    assert_eq!(g["new_items"].as_array().unwrap().len(), 2, "{g}");
    // Grouping again places nothing: every idea message is in an item already.
    let again = json(&data, "cli", &["ideas", "group", "--json"]);
    assert_eq!(again["messages"], 0, "{again}");

    let items = json(&data, "cli", &["ideas", "list", "--json"]);
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    let dark = &items[0];
    assert_eq!(dark["messages"], 3, "{dark}");
    assert_eq!(dark["people"], 2, "{dark}");
    assert_eq!(dark["status"], "new");
    assert!(
        dark["title"]
            .as_str()
            .unwrap()
            .starts_with("please add a dark mode"),
        "{dark}"
    );
    assert_eq!(items[1]["messages"], 1);
    assert!(items[1]["title"].as_str().unwrap().contains("CSV"));
    let id = dark["id"].as_i64().unwrap().to_string();

    let detail = json(&data, "cli", &["ideas", "show", &id, "--json"]);
    let people = detail["people_list"].as_array().unwrap();
    assert_eq!(people.len(), 2, "{detail}");
    // Ana's reply answers her most recent message's conversation.
    let ana = people
        .iter()
        .find(|p| p["handle"] == "ana@mastodon.social")
        .unwrap();
    let ana_latest = detail["message_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"].as_str().unwrap().contains("dark theme"))
        .unwrap();
    assert_eq!(ana["conversation_id"], ana_latest["conversation_id"]);

    // A viewer may not; a user is needed at all.
    let out = rapport(&data, "vic")
        .args(["ideas", "status", &id, "shipped"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("viewer") && err.contains("agent"), "{err}");
    let before = json(&data, "cli", &["draft", "list", "--json"]);
    assert_eq!(before.as_array().unwrap().len(), 0);

    let done = json(
        &data,
        "sam",
        &[
            "ideas", "status", &id, "shipped", "--note", "in 2.4", "--json",
        ],
    );
    assert_eq!(done["moved"], true, "{done}");
    assert_eq!(
        (done["from"].as_str(), done["to"].as_str()),
        (Some("new"), Some("shipped"))
    );
    let drafted = done["drafted"].as_array().unwrap();
    assert_eq!(drafted.len(), 2, "one reply per person: {done}");
    let people_replied: BTreeSet<i64> = drafted
        .iter()
        .map(|d| d["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(people_replied.len(), 2);

    let drafts = json(&data, "cli", &["draft", "list", "--json"]);
    let drafts = drafts.as_array().unwrap();
    assert_eq!(drafts.len(), 2, "{drafts:?}");
    let conversations: BTreeSet<i64> = drafts
        .iter()
        .map(|d| d["conversation_id"].as_i64().unwrap())
        .collect();
    let expected: BTreeSet<i64> = people
        .iter()
        .map(|p| p["conversation_id"].as_i64().unwrap())
        .collect();
    assert_eq!(conversations, expected);
    for d in drafts {
        assert_eq!(d["kind"], "reply");
        assert_eq!(
            d["status"], "pending_approval",
            "in the approval queue: {d}"
        );
        assert_eq!(d["author"], "sam");
        let text = d["text"].as_str().unwrap();
        assert!(
            text.contains("please add a dark mode") && text.contains("we've shipped it"),
            "{text}"
        );
        // Each through its own platform's channel.
        let channels: Vec<&str> = d["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["channel"].as_str().unwrap())
            .collect();
        let want = if d["conversation_id"] == ana["conversation_id"] {
            "masto"
        } else {
            "bsky"
        };
        assert_eq!(channels, [want], "{d}");
    }

    // Again (a retry): the status stays, nobody is drafted twice.
    let retry = json(&data, "sam", &["ideas", "status", &id, "shipped", "--json"]);
    assert_eq!(retry["moved"], false, "{retry}");
    assert_eq!(retry["drafted"].as_array().unwrap().len(), 0, "{retry}");
    assert_eq!(retry["already"].as_array().unwrap().len(), 2, "{retry}");
    assert_eq!(
        json(&data, "cli", &["draft", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let detail = json(&data, "cli", &["ideas", "show", &id, "--json"]);
    assert_eq!(detail["status"], "shipped");
    assert_eq!(detail["replies"].as_array().unwrap().len(), 2, "{detail}");

    // Approving a reply works through the normal path.
    let first = drafts[0]["id"].as_i64().unwrap().to_string();
    ok(rapport(&data, "sam")
        .args(["draft", "approve", &first])
        .output()
        .unwrap());
    let shown = json(&data, "cli", &["draft", "show", &first, "--json"]);
    assert_eq!(shown["draft"]["status"], "approved");

    // Planned after all, then shipped again: the planned replies are new, the shipped
    // ones are not drafted a second time.
    let planned = json(&data, "sam", &["ideas", "status", &id, "planned", "--json"]);
    assert_eq!(planned["drafted"].as_array().unwrap().len(), 2, "{planned}");
    let reshipped = json(&data, "sam", &["ideas", "status", &id, "shipped", "--json"]);
    assert_eq!(reshipped["moved"], true);
    assert_eq!(
        reshipped["drafted"].as_array().unwrap().len(),
        0,
        "{reshipped}"
    );

    // Merging the CSV idea in, then moving its message back out to its own item.
    let other = items[1]["id"].as_i64().unwrap().to_string();
    let cy_message =
        json(&data, "cli", &["ideas", "show", &other, "--json"])["message_list"][0]["message_id"]
            .as_i64()
            .unwrap()
            .to_string();
    let merged = json(&data, "cli", &["ideas", "merge", &other, &id, "--json"]);
    assert_eq!(merged["messages"], 1, "{merged}");
    assert_eq!(
        json(&data, "cli", &["ideas", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let out = rapport(&data, "cli")
        .args(["ideas", "move", &cy_message, &other])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a merged item takes no message");
    assert!(String::from_utf8_lossy(&out.stderr).contains("merged into"));
    // Cy is one of the shipped idea's people now: a retry drafts their reply only.
    let retry = json(&data, "sam", &["ideas", "status", &id, "shipped", "--json"]);
    assert_eq!(retry["drafted"].as_array().unwrap().len(), 1, "{retry}");
}

#[test]
fn on_the_demo_data_every_idea_message_ends_in_exactly_one_item() {
    let tmp = TempDir::new().unwrap();
    let data = tmp.path().join("demo");
    ok(rapport(&data, "cli")
        .args(["demo", "--json"])
        .output()
        .unwrap());
    let items = json(&data, "cli", &["ideas", "list", "--json"]);
    let items = items.as_array().unwrap();
    assert!(items.len() >= 2, "{items:?}");
    let in_items: i64 = items.iter().map(|i| i["messages"].as_i64().unwrap()).sum();
    let mut seen = BTreeSet::new();
    for i in items {
        let d = json(
            &data,
            "cli",
            &[
                "ideas",
                "show",
                &i["id"].as_i64().unwrap().to_string(),
                "--json",
            ],
        );
        for m in d["message_list"].as_array().unwrap() {
            assert!(
                seen.insert(m["message_id"].as_i64().unwrap()),
                "message in two items: {m}"
            );
        }
    }
    assert_eq!(seen.len() as i64, in_items);
    // Every stored idea message, counted apart from the items.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ideas = rt.block_on(async {
        let store = rapport_store::Store::open(&data).await.unwrap();
        let all = store
            .ideas(
                Utc.timestamp_opt(0, 0).unwrap(),
                Utc.timestamp_opt(4_000_000_000, 0).unwrap(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(store.ungrouped_ideas().await.unwrap(), 0);
        all
    });
    assert!(!ideas.is_empty());
    let ids: BTreeSet<i64> = ideas.iter().map(|r| r.message_id).collect();
    assert_eq!(ids, seen);
}

/// With the embedding model installed, ideas group by meaning: two ways of asking for a
/// dark mode that share only "mode" join one item (by words they are too far apart), and
/// asking for an export stays apart.
#[test]
fn with_the_model_ideas_group_by_meaning() {
    let Some(model) = backend::model_dir() else {
        return;
    };
    let (_tmp, data) = setup();
    import(
        &data,
        "mastodon",
        &[
            (
                "m1",
                "ana@mastodon.social",
                "2026-11-20T10:00:00Z",
                "feature request: please add dark mode",
            ),
            (
                "m2",
                "bo@mastodon.social",
                "2026-11-20T11:00:00Z",
                "feature request: export my data to CSV",
            ),
            (
                "m3",
                "cy@mastodon.social",
                "2026-11-21T10:00:00Z",
                "would be great if the app had a night mode",
            ),
        ],
    );
    let by_meaning = |args: &[&str]| {
        let out = rapport(&data, "cli")
            .env("RAPPORT_SEMANTIC__MODEL_DIR", &model)
            .args(args)
            .output()
            .unwrap();
        serde_json::from_str::<Value>(&ok(out)).unwrap()
    };
    let g = by_meaning(&["ideas", "group", "--json"]);
    assert_eq!(g["by"], "meaning", "{g}");
    assert_eq!(g["messages"], 3, "{g}");
    assert_eq!(g["new_items"].as_array().unwrap().len(), 2, "{g}");
    let items = by_meaning(&["ideas", "list", "--json"]);
    let items = items.as_array().unwrap();
    let dark = items.iter().find(|i| i["messages"] == 2).unwrap();
    assert!(
        dark["title"].as_str().unwrap().contains("dark mode"),
        "{items:?}"
    );
    let id = dark["id"].as_i64().unwrap().to_string();
    let detail = by_meaning(&["ideas", "show", &id, "--json"]);
    let night = &detail["message_list"][1];
    assert!(night["text"].as_str().unwrap().contains("night mode"));
    let s = night["similarity"].as_f64().unwrap();
    assert!((0.5..0.9).contains(&s), "{s}");
    // By words the two would be apart.
    use rapport_core::ideas::{similarity, terms};
    let none = BTreeSet::new();
    let words = similarity(
        &terms("feature request: please add dark mode", &none),
        &terms("would be great if the app had a night mode", &none),
    );
    assert!(words < 0.5, "{words}");
}
