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
