//! rapport's store: the single source of truth. SQLite in WAL mode through sqlx, with
//! migrations embedded in the binary and run at open, and an append-only `events` table
//! that records every change to a conversation (who, what, when).
//!
//! Every write a message causes (the message, its person, its conversation, the events,
//! the quarantine rows of the same batch) happens in one transaction, and messages are
//! unique on `(platform, platform_id)`: a crash at any point loses nothing that was
//! committed, and running the same input again stores nothing twice.
//!
//! Times are stored as integer milliseconds since the Unix epoch, UTC.
#![deny(missing_docs)]

pub mod accounts;
mod actions;
mod error;
mod ingest;
pub mod outbox;
mod read;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use accounts::{LOGIN_WINDOW, Login, MAX_FAILED_LOGINS, NewSession, TokenInfo, User};
pub use actions::{ReplyOutcome, SendVia};
pub use error::StoreError;
pub use ingest::{BatchOutcome, HistoryItem, Ingestor, Prepared, QuarantineRow};
pub use read::{
    ConversationDetail, ConversationRow, EventRow, IdentityRow, InboxCursor, InboxFilter,
    MessageRow, NoteRow, PersonDetail, QuarantineEntry, ReportFacts, Summary,
};

/// The database file inside a data directory.
pub const DB_FILE: &str = "rapport.db";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A handle on one store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Creates the data directory and the store in it, or opens it if it exists.
    pub async fn create(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|cause| StoreError::Io {
            path: dir.to_path_buf(),
            cause,
        })?;
        Self::connect(&dir.join(DB_FILE), true).await
    }

    /// Opens an existing store; fails with [`StoreError::NotAStore`] when `dir` holds none.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        Self::connect(&path, false).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::from_open(path, e))?;
        if !create {
            // An existing file that is not ours must not be migrated into one.
            let ours: Option<(String,)> =
                sqlx::query_as("SELECT value FROM store_meta WHERE key = 'format'")
                    .fetch_optional(&pool)
                    .await
                    .ok()
                    .flatten();
            if ours.is_none() {
                return Err(StoreError::NotAStore(
                    path.parent().unwrap_or(path).to_path_buf(),
                ));
            }
        }
        MIGRATOR.run(&pool).await?;
        sqlx::query(
            "INSERT OR IGNORE INTO store_meta (key, value) VALUES ('format', 'rapport-store')",
        )
        .execute(&pool)
        .await?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Runs SQLite's integrity check; `Ok(())` when the file is sound.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let (res,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        if res == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(res))
        }
    }
}

/// Milliseconds since the epoch.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Back from milliseconds since the epoch.
pub(crate) fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}
