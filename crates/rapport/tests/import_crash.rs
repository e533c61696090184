//! A 100,000-row import is idempotent, and a `kill -9` in the middle of one followed by
//! a re-run leaves exactly the rows of one full import.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use rapport_store::Store;
use tempfile::TempDir;

const ROWS: usize = 100_000;

/// A deterministic CSV in the shape of a support-desk export: threads of inbound
/// messages and the organisation's replies, some replies listed before their parents.
fn write_csv(path: &Path) {
    let mut s = String::with_capacity(ROWS * 120);
    s.push_str("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id,followers\n");
    let texts = [
        "my lamp keeps disconnecting, please help",
        "does the hub work with HomeKit?",
        "love the new app, great job",
        "would be great if schedules synced across rooms",
        "how much for 40 units for our office?",
        "still waiting on my refund, this is unacceptable",
        "just installed the bulbs in the kitchen",
    ];
    let base = 1_700_000_000i64;
    for i in 0..ROWS {
        let id = 10_000_000 + i;
        let t = base + i as i64 * 7;
        let date = chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339();
        if i % 4 == 1 {
            // The organisation answers the previous message.
            writeln!(
                s,
                "{id},LumenHelp,False,{date},\"Sorry to hear that, DM us\",{},",
                id - 1
            )
            .unwrap();
        } else if i % 10 == 3 {
            // A follow-up to the organisation's answer.
            writeln!(
                s,
                "{id},user{},True,{date},thanks that worked,{},{}",
                i % 5000,
                id - 2,
                i % 900
            )
            .unwrap();
        } else {
            let text = texts[i % texts.len()];
            writeln!(
                s,
                "{id},user{},True,{date},\"{text} #{i}\",,{}",
                i % 5000,
                (i * 37) % 200_000
            )
            .unwrap();
        }
    }
    std::fs::write(path, s).unwrap();
}

fn rapport(data: &Path) -> std::process::Command {
    let mut c = std::process::Command::cargo_bin("rapport").unwrap();
    c.env_remove("RAPPORT_DATA_DIR")
        .env_remove("RAPPORT_CONFIG")
        .arg("--data-dir")
        .arg(data);
    c
}

fn init(data: &Path) {
    assert!(rapport(data).arg("init").output().unwrap().status.success());
    let cfg = data.join("rapport.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"example.bsky.social\"", "\"LumenHelp\"");
    std::fs::write(cfg, text).unwrap();
}

fn import_json(data: &Path, csv: &Path) -> serde_json::Value {
    let out = rapport(data)
        .arg("import")
        .arg(csv)
        .args(["--platform", "twitter", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Everything that defines the store's content, in a stable order.
async fn dump(
    data: &Path,
) -> (
    std::collections::BTreeMap<String, i64>,
    Vec<(String, String, String, i64)>,
) {
    let store = Store::open(data).await.unwrap();
    store.integrity_check().await.unwrap();
    let counts = store.table_counts().await.unwrap();
    let rows = store.message_dump().await.unwrap();
    store.close().await;
    (counts, rows)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn kill_9_in_the_middle_of_an_import_then_rerun_equals_one_full_import() {
    let tmp = TempDir::new().unwrap();
    let csv = tmp.path().join("export.csv");
    write_csv(&csv);

    // Reference: one clean import, then the same file again.
    let clean = tmp.path().join("clean");
    init(&clean);
    let first = import_json(&clean, &csv);
    assert_eq!(first["imported"], ROWS);
    assert_eq!(first["quarantined"], 0);
    let second = import_json(&clean, &csv);
    assert_eq!(second["imported"], 0, "a second run imports nothing new");
    assert_eq!(second["duplicates"], ROWS);

    // Crash: start the import, kill -9 it once some batches are committed.
    let crashed = tmp.path().join("crashed");
    init(&crashed);
    let mut child = rapport(&crashed)
        .arg("import")
        .arg(&csv)
        .args(["--platform", "twitter", "--batch", "500"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut killed_mid_import = false;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let n = block_on(async {
            match Store::open(&crashed).await {
                Ok(s) => {
                    let n = s.table_counts().await.map(|c| c["messages"]).unwrap_or(0);
                    s.close().await;
                    n
                }
                Err(_) => 0,
            }
        });
        if n >= (ROWS / 5) as i64 {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            killed_mid_import = true;
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "import made no progress"
        );
    }
    assert!(
        killed_mid_import,
        "the import finished before it could be killed"
    );
    let partial = block_on(dump(&crashed)).0["messages"];
    assert!(partial > 0 && partial < ROWS as i64, "{partial}");

    let rerun = import_json(&crashed, &csv);
    assert_eq!(rerun["imported"].as_i64().unwrap() + partial, ROWS as i64);
    assert_eq!(rerun["duplicates"].as_i64().unwrap(), partial);

    let (clean_counts, clean_rows) = block_on(dump(&clean));
    let (crash_counts, crash_rows) = block_on(dump(&crashed));
    for table in ["messages", "conversations", "people", "identities"] {
        assert_eq!(clean_counts[table], crash_counts[table], "{table}");
    }
    assert_eq!(clean_rows.len(), ROWS);
    assert_eq!(
        clean_rows, crash_rows,
        "same messages in the same conversations"
    );
}
