//! A SIGKILL while the search index is being built, or while it catches up with new
//! messages, and a restart: the index then holds exactly the store's messages, and the
//! rebuild went on from its last commit instead of starting over.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

mod backend;
use tempfile::TempDir;

/// A support-desk export: inbound messages, the organisation's replies, follow-ups.
fn write_csv(path: &Path, first_id: usize, rows: usize) {
    let mut s = String::with_capacity(rows * 120);
    s.push_str("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id,followers\n");
    let texts = [
        "my lamp keeps disconnecting, please help",
        "does the hub work with HomeKit?",
        "love the new app, great job",
        "still waiting on my refund, this is unacceptable",
        "the firmware update drains the battery",
    ];
    for i in 0..rows {
        let id = first_id + i;
        let date = chrono::DateTime::from_timestamp(1_700_000_000 + id as i64 * 7, 0)
            .unwrap()
            .to_rfc3339();
        if i % 4 == 1 {
            writeln!(
                s,
                "{id},LumenHelp,False,{date},\"Sorry to hear that, DM us\",{},",
                id - 1
            )
            .unwrap();
        } else {
            let text = texts[i % texts.len()];
            writeln!(
                s,
                "{id},user{},True,{date},\"{text} #{i}\",,{}",
                i % 3000,
                i % 900
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
        .env_remove("RAPPORT_DATABASE_URL")
        .arg("--data-dir")
        .arg(data);
    if let Some(url) = database_url(data) {
        c.arg("--database-url").arg(url);
    }
    c
}

/// On a PostgreSQL run, each data directory's store is a schema of its own.
fn database_url(data: &Path) -> Option<String> {
    static URLS: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    let base = backend::test_database_url()?;
    let mut urls = URLS.lock().unwrap();
    if let Some((_, u)) = urls.iter().find(|(d, _)| d == data) {
        return Some(u.clone());
    }
    let url = backend::fresh_schema(&base);
    urls.push((data.to_path_buf(), url.clone()));
    Some(url)
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn import(data: &Path, csv: &Path) {
    ok(rapport(data)
        .arg("import")
        .arg(csv)
        .args(["--platform", "twitter", "--json"])
        .output()
        .unwrap());
}

/// The cursor the index's last commit carries (tantivy's meta.json payload).
fn cursor(data: &Path) -> Option<serde_json::Value> {
    let meta = std::fs::read_to_string(data.join("search").join("meta.json")).ok()?;
    let meta: serde_json::Value = serde_json::from_str(&meta).ok()?;
    serde_json::from_str(meta["payload"].as_str()?).ok()
}

fn verify(data: &Path) -> (bool, serde_json::Value) {
    let out = rapport(data)
        .args(["reindex", "--verify", "--json"])
        .output()
        .unwrap();
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

/// Starts `args` and kills it with SIGKILL as soon as `ready` holds for the index's
/// cursor; false when the process ended first.
fn kill_when(data: &Path, args: &[&str], ready: impl Fn(&serde_json::Value) -> bool) -> bool {
    let mut child = rapport(data)
        .args(args)
        .env("RAPPORT_SEARCH_COMMIT_EVERY", "1000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if cursor(data).as_ref().is_some_and(&ready) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        assert!(Instant::now() < deadline, "{args:?} made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn sigkill_while_indexing_then_a_restart_leaves_the_index_equal_to_the_store() {
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
    let csv = tmp.path().join("a.csv");
    write_csv(&csv, 10_000_000, 20_000);
    import(&data, &csv);

    // 1. Killed during a rebuild, after some commits and before the end.
    let killed = kill_when(&data, &["reindex"], |c| {
        c["rebuild"]["next_after"].as_i64().unwrap_or(0) > 0
    });
    assert!(killed, "the rebuild ended before it could be killed");
    let (matches, v) = verify(&data);
    assert!(!matches, "a half-built index does not match the store: {v}");
    assert!(v["index"].as_u64().unwrap() > 0, "{v}");
    // The restart goes on from the last commit: it indexes fewer than all messages.
    let out = ok(rapport(&data).args(["reindex", "--json"]).output().unwrap());
    let resumed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (matches, v) = verify(&data);
    assert!(matches, "{v}");
    assert_eq!(v["store"], 20_000);
    assert!(
        resumed["indexed"].as_u64().unwrap() < 20_000,
        "the rebuild started over: {resumed}"
    );

    // 2. More messages; killed while a search catches the index up with them.
    let csv = tmp.path().join("b.csv");
    write_csv(&csv, 20_000_000, 20_000);
    import(&data, &csv);
    let floor = cursor(&data).unwrap()["floor"].as_i64().unwrap();
    let killed = kill_when(&data, &["search", "lamp"], |c| {
        c["floor"].as_i64().unwrap_or(0) > floor
    });
    eprintln!("killed during the catch-up: {killed}");
    if killed {
        let (matches, _) = verify(&data);
        assert!(!matches, "killed half-way, the index lags the store");
    }
    // The restart: a search catches up and counts every match.
    let out = ok(rapport(&data)
        .args(["search", "lamp", "--json", "--limit", "1"])
        .output()
        .unwrap());
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every fifth text is about a lamp, less the rows that are replies: 3,000 a file.
    assert_eq!(page["total"], 6_000, "{page}");
    let (matches, v) = verify(&data);
    assert!(matches, "{v}");
    assert_eq!(v["store"], 40_000);
}
