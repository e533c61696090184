//! The backend a contract test runs on: a fresh SQLite store in a temporary directory,
//! or, when `RAPPORT_TEST_DATABASE_URL` names a PostgreSQL database, a fresh schema in
//! it (`tools/test.sh` starts a throwaway server and runs the suite both ways).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use rapport_store::{Backend, Store};
use sqlx::AnyPool;
use tempfile::TempDir;

/// One empty store's home, on the backend the environment names.
pub struct TestDb {
    pub dir: TempDir,
    /// The PostgreSQL URL of this test's own schema; `None` on SQLite.
    pg_url: Option<String>,
}

impl TestDb {
    /// A fresh place for a store.
    pub async fn new() -> TestDb {
        let dir = TempDir::new().unwrap();
        let pg_url = match std::env::var("RAPPORT_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => Some(fresh_schema(&base).await),
            _ => None,
        };
        TestDb { dir, pg_url }
    }

    /// The backend this run tests.
    pub fn backend(&self) -> Backend {
        if self.pg_url.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Creates the store (or opens it again).
    pub async fn create(&self) -> Store {
        match &self.pg_url {
            Some(url) => Store::connect(url).await.unwrap(),
            None => Store::create(self.dir.path()).await.unwrap(),
        }
    }

    /// Opens the existing store.
    pub async fn open(&self) -> Store {
        match &self.pg_url {
            Some(url) => Store::connect(url).await.unwrap(),
            None => Store::open(self.dir.path()).await.unwrap(),
        }
    }

    /// A connection pool straight to the database, around the store's API.
    pub async fn raw(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.pg_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.dir.path().join(rapport_store::DB_FILE).display()
            ),
        };
        AnyPool::connect(&url).await.unwrap()
    }
}

/// Creates a schema of its own for one test and returns a URL whose connections use it.
async fn fresh_schema(base: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos,
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(base).await.unwrap_or_else(|e| {
        panic!("RAPPORT_TEST_DATABASE_URL: cannot connect to the test PostgreSQL: {e}")
    });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}
