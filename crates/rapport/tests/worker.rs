//! Fault tests of `rapport worker`: a worker killed in the middle of a batch, workers
//! racing for the same jobs, PostgreSQL restarted under running workers, a full disk.
//! Each compares the store the workers leave with one plain `rapport import` of the same
//! file: every message exactly once, threaded the same way.
//!
//! They run on SQLite, and again on PostgreSQL when `RAPPORT_TEST_DATABASE_URL` is set
//! (tools/test.sh); the restart test starts a PostgreSQL of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use rapport_store::Store;
use tempfile::TempDir;

mod backend;
use backend::{fresh_schema, test_database_url};

/// What defines a store's content: table counts, and every message with its thread.
type Content = (BTreeMap<String, i64>, Vec<(String, String, String, i64)>);

/// A support-desk export: inbound messages, the organisation's answers and follow-ups,
/// threads spread over several batches.
fn write_csv(path: &Path, rows: usize) {
    let mut s = String::with_capacity(rows * 100);
    s.push_str("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id,followers\n");
    let texts = [
        "my lamp keeps disconnecting, please help",
        "does the hub work with HomeKit?",
        "love the new app, great job",
        "still waiting on my refund, this is unacceptable",
    ];
    let base = 1_700_000_000i64;
    for i in 0..rows {
        let id = 50_000_000 + i;
        let date = chrono::DateTime::from_timestamp(base + i as i64 * 11, 0)
            .unwrap()
            .to_rfc3339();
        if i % 4 == 1 {
            writeln!(
                s,
                "{id},LumenHelp,False,{date},\"Sorry, DM us\",{},",
                id - 1
            )
            .unwrap();
        } else if i % 10 == 3 {
            writeln!(s, "{id},user{},True,{date},thanks,{},3", i % 700, id - 2).unwrap();
        } else {
            let text = texts[i % texts.len()];
            writeln!(
                s,
                "{id},user{},True,{date},\"{text} #{i}\",,{}",
                i % 700,
                i % 900
            )
            .unwrap();
        }
    }
    std::fs::write(path, s).unwrap();
}

/// One store: a data directory, and the database URL when it lives in PostgreSQL.
struct Place {
    data: PathBuf,
    url: Option<String>,
}

impl Place {
    fn new(root: &Path, name: &str, url: Option<String>) -> Place {
        let place = Place {
            data: root.join(name),
            url,
        };
        assert!(
            place
                .rapport()
                .arg("init")
                .output()
                .unwrap()
                .status
                .success()
        );
        let cfg = place.data.join("rapport.toml");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("\"example.bsky.social\"", "\"LumenHelp\"");
        std::fs::write(cfg, text).unwrap();
        place
    }

    /// On the backend of this test run.
    fn on_test_backend(root: &Path, name: &str) -> Place {
        Place::new(root, name, test_database_url().map(|u| fresh_schema(&u)))
    }

    fn rapport(&self) -> Command {
        let mut c = Command::cargo_bin("rapport").unwrap();
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env("RAPPORT_LOG", "warn")
            .arg("--data-dir")
            .arg(&self.data);
        match &self.url {
            Some(u) => c.env("RAPPORT_DATABASE_URL", u),
            None => c.env_remove("RAPPORT_DATABASE_URL"),
        };
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.rapport().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "rapport {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn queue(&self, csv: &Path, batch: usize) -> serde_json::Value {
        let out = self.ok(&[
            "import",
            csv.to_str().unwrap(),
            "--platform",
            "twitter",
            "--queue",
            "--batch",
            &batch.to_string(),
            "--json",
        ]);
        serde_json::from_str(&out).unwrap()
    }

    /// A worker that stops once the queue has been empty for `idle` seconds.
    fn worker(&self, name: &str, lease_secs: u64, idle: u64) -> Child {
        self.rapport()
            .args(["worker", "--no-duties", "--name", name])
            .args(["--lease-seconds", &lease_secs.to_string()])
            .args(["--exit-when-idle", &idle.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    async fn store(&self) -> Store {
        match &self.url {
            Some(u) => Store::connect(u).await.unwrap(),
            None => Store::open(&self.data).await.unwrap(),
        }
    }

    async fn jobs(&self) -> BTreeMap<String, i64> {
        let store = self.store().await;
        let counts = store.job_counts().await.unwrap();
        store.close().await;
        counts
    }

    /// What defines the content: table counts and every message with its thread.
    /// Conversations are counted live: workers may store a reply before its parent and
    /// merge the two when the parent comes, which leaves a pointer row behind that a
    /// plain import in file order never needs.
    async fn content(&self) -> Content {
        let store = self.store().await;
        store.integrity_check().await.unwrap();
        let mut counts = store.table_counts().await.unwrap();
        counts.remove("conversations");
        counts.insert(
            "live conversations".into(),
            store.summary().await.unwrap().conversations,
        );
        let rows = store.message_dump().await.unwrap();
        store.close().await;
        (counts, rows)
    }
}

/// The jobs a worker reported done on stdout (one JSON line each).
fn finished(child: Child) -> (Vec<i64>, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "the worker failed: {stderr}");
    let jobs = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["job"]
                .as_i64()
                .unwrap()
        })
        .collect();
    (jobs, stderr)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The reference: the same file through one plain `rapport import` into SQLite.
fn reference(root: &Path, csv: &Path) -> Content {
    let place = Place::new(root, "reference", None);
    place.ok(&[
        "import",
        csv.to_str().unwrap(),
        "--platform",
        "twitter",
        "--json",
    ]);
    // Events record who did what; workers and a plain import agree on all but timing.
    without_events(runtime().block_on(place.content()))
}

fn without_events(mut c: Content) -> Content {
    c.0.remove("events");
    c
}

fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_worker_killed_in_the_middle_of_a_batch_leaves_it_to_the_next_worker() {
    let tmp = TempDir::new().unwrap();
    let csv = tmp.path().join("export.csv");
    write_csv(&csv, 6_000);
    let place = Place::on_test_backend(tmp.path(), "queued");
    let queued = place.queue(&csv, 300);
    assert_eq!(queued["queued_jobs"], 20);
    let rt = runtime();

    // Kill -9 while a job is claimed and being worked on: at least two done, one running.
    // Jobs of 300 rows keep the worker inside one nearly all the time; the queue is
    // watched through one open store, so each look is quick.
    let watch = rt.block_on(place.store());
    let mut first = place.worker("first", 2, 30);
    wait_until(
        "a job in the middle of its work",
        Duration::from_secs(300),
        || {
            let j = rt.block_on(watch.job_counts()).unwrap();
            assert!(j["done"] < 20, "every job was done before the kill: {j:?}");
            j["done"] >= 2 && j["running"] == 1
        },
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let after_kill = rt.block_on(place.jobs());
    assert!(
        after_kill["queued"] + after_kill["running"] > 0,
        "{after_kill:?}"
    );

    // The next worker takes the rest, and the dead worker's job once its lease expires.
    let (jobs, _) = finished(place.worker("second", 2, 4));
    assert!(!jobs.is_empty());
    let end = rt.block_on(place.jobs());
    assert_eq!(
        (end["done"], end["failed"], end["queued"], end["running"]),
        (20, 0, 0, 0)
    );
    assert_eq!(
        without_events(rt.block_on(place.content())),
        reference(tmp.path(), &csv)
    );
}

#[test]
fn two_workers_racing_do_every_job_once() {
    let tmp = TempDir::new().unwrap();
    let csv = tmp.path().join("export.csv");
    write_csv(&csv, 800);
    let place = Place::on_test_backend(tmp.path(), "queued");
    // Small jobs, so that the workers' claims often come at the same moment.
    let queued = place.queue(&csv, 2);
    assert_eq!(queued["queued_jobs"], 400);

    let a = place.worker("a", 60, 3);
    let b = place.worker("b", 60, 3);
    let (done_a, _) = finished(a);
    let (done_b, _) = finished(b);
    let set_a: BTreeSet<i64> = done_a.iter().copied().collect();
    let set_b: BTreeSet<i64> = done_b.iter().copied().collect();
    assert_eq!(set_a.len(), done_a.len(), "worker a did a job twice");
    assert_eq!(set_b.len(), done_b.len(), "worker b did a job twice");
    let both: Vec<_> = set_a.intersection(&set_b).collect();
    assert!(both.is_empty(), "jobs done by both workers: {both:?}");
    assert_eq!(set_a.len() + set_b.len(), 400, "every job done once");
    assert!(
        !set_a.is_empty() && !set_b.is_empty(),
        "both workers should have had work: a {}, b {}",
        set_a.len(),
        set_b.len()
    );
    let rt = runtime();
    let end = rt.block_on(place.jobs());
    assert_eq!((end["done"], end["queued"], end["running"]), (400, 0, 0));
    assert_eq!(
        without_events(rt.block_on(place.content())),
        reference(tmp.path(), &csv)
    );
}

#[test]
fn workers_carry_on_after_postgresql_restarts() {
    if test_database_url().is_none() {
        eprintln!("skipped: no PostgreSQL in this run (tools/test.sh runs it with one)");
        return;
    }
    let tmp = TempDir::new().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/pg-test-server.sh");
    let pg_dir = tmp.path().join("pg");
    let port = 55_300 + (std::process::id() % 90) as u16;
    let started = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(&pg_dir)
        .arg(port.to_string())
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let url = String::from_utf8(started.stdout)
        .unwrap()
        .trim()
        .to_string();
    struct Stop(PathBuf, PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new("bash")
                .arg(&self.0)
                .arg("stop")
                .arg(&self.1)
                .status();
        }
    }
    let _stop = Stop(script.clone(), pg_dir.clone());

    let csv = tmp.path().join("export.csv");
    write_csv(&csv, 3_000);
    let place = Place::new(tmp.path(), "queued", Some(url));
    assert_eq!(place.queue(&csv, 100)["queued_jobs"], 30);
    let a = place.worker("a", 5, 8);
    let b = place.worker("b", 5, 8);
    let rt = runtime();
    wait_until("some jobs done", Duration::from_secs(120), || {
        rt.block_on(place.jobs())["done"] >= 3
    });
    let restarted = Command::new("bash")
        .arg(&script)
        .arg("restart")
        .arg(&pg_dir)
        .output()
        .unwrap();
    assert!(
        restarted.status.success(),
        "{}",
        String::from_utf8_lossy(&restarted.stderr)
    );

    let (done_a, log_a) = finished(a);
    let (done_b, log_b) = finished(b);
    assert!(
        format!("{log_a}{log_b}").contains("cannot reach the store")
            || format!("{log_a}{log_b}").contains("failed"),
        "the restart went unnoticed: {log_a}{log_b}"
    );
    let all: BTreeSet<i64> = done_a.iter().chain(&done_b).copied().collect();
    assert_eq!(all.len(), done_a.len() + done_b.len(), "a job done twice");
    let end = rt.block_on(place.jobs());
    assert_eq!(
        (end["done"], end["queued"], end["running"]),
        (30, 0, 0),
        "{end:?}"
    );
    assert_eq!(
        without_events(rt.block_on(place.content())),
        reference(tmp.path(), &csv)
    );
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_a_sound_store() {
    let tmp = TempDir::new().unwrap();
    let small = tmp.path().join("small.csv");
    write_csv(&small, 200);
    let big = tmp.path().join("big.csv");
    write_csv(&big, 20_000);
    let place = Place::new(tmp.path(), "full", None);
    place.ok(&["import", small.to_str().unwrap(), "--platform", "twitter"]);
    let rt = runtime();
    let before = rt.block_on(place.content());

    // The file may grow by 256 KiB more and no further: writes past it fail as on a full
    // disk (EFBIG; the signal that would kill the process is ignored, as a full disk
    // sends none).
    let db = place.data.join(rapport_store::DB_FILE);
    let wal_limit_kib = 256;
    let size_kib = std::fs::metadata(&db).unwrap().len() / 1024;
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"",
            size_kib + wal_limit_kib
        ))
        .arg(assert_cmd::cargo::cargo_bin("rapport"))
        .env_remove("RAPPORT_DATABASE_URL")
        .env("RAPPORT_LOG", "warn")
        .arg("--data-dir")
        .arg(&place.data)
        .args([
            "import",
            big.to_str().unwrap(),
            "--platform",
            "twitter",
            "--batch",
            "500",
        ]);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the import should have hit the limit"
    );
    assert!(
        err.contains("disk is full") || err.contains("free space"),
        "the error should say the disk is full and what to do: {err}"
    );

    // Sound, and everything committed before is intact; the import then completes.
    let (counts, rows) = rt.block_on(place.content());
    assert!(counts["messages"] >= before.0["messages"]);
    for row in &before.1 {
        assert!(rows.contains(row), "{row:?} was lost");
    }
    place.ok(&["import", big.to_str().unwrap(), "--platform", "twitter"]);
    let (counts, _) = rt.block_on(place.content());
    assert_eq!(counts["messages"], 20_000);
}

#[test]
fn queued_bad_rows_are_quarantined_by_the_worker() {
    let tmp = TempDir::new().unwrap();
    let place = Place::new(tmp.path(), "bad", None);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad_rows.csv");
    let out = place
        .rapport()
        .arg("import")
        .arg(&fixture)
        .args(["--queue", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "as a plain import with bad rows"
    );
    let queued: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (queued["rows"].as_u64(), queued["bad_rows"].as_u64()),
        (Some(4), Some(6))
    );
    let (jobs, _) = finished(place.worker("w", 60, 1));
    assert_eq!(jobs.len(), 1);
    let (quarantined, counts) = runtime().block_on(async {
        let store = place.store().await;
        (
            store.quarantine(100).await.unwrap(),
            store.table_counts().await.unwrap(),
        )
    });
    assert_eq!((quarantined.len(), counts["messages"]), (6, 4));
}
