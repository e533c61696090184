//! rapport's store: the single source of truth. SQLite in WAL mode (the default, one file
//! in the data directory) or PostgreSQL (for several processes), through sqlx's `Any`
//! driver so that every statement is written once for both; one migration folder per
//! backend, embedded in the binary and run at open; an append-only `events` table that
//! records every change to a conversation (who, what, when).
//!
//! Every write a message causes (the message, its person, its conversation, the events,
//! the quarantine rows of the same batch) happens in one transaction, and messages are
//! unique on `(platform, platform_id)`: a crash at any point loses nothing that was
//! committed, and running the same input again stores nothing twice.
//!
//! Times are stored as integer milliseconds since the Unix epoch, UTC. The SQL is the
//! common ground of both backends: `$N` placeholders, `ON CONFLICT`, `RETURNING`, `CASE`
//! instead of two-argument `MAX`/`MIN`, sums cast to `BIGINT`.
#![deny(missing_docs)]

pub mod accounts;
mod actions;
mod copy;
mod digest;
mod drafts;
mod error;
mod follow;
mod ideas;
mod ingest;
pub mod jobs;
mod learning;
mod listening;
pub mod outbox;
mod people;
mod read;
mod search_feed;
mod semantic;
mod tribe;
mod write_conn;

use std::fmt;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor as _};

pub use accounts::{LOGIN_WINDOW, Login, MAX_FAILED_LOGINS, NewSession, TokenInfo, User};
pub use actions::{Escalation, ReplyOutcome, SendVia};
pub use copy::CopyReport;
pub use digest::{
    ESCALATION_KINDS, EscalationEvent, IdeaRow, PeriodMessage, PersonAccount, ReachRow,
};
pub use drafts::{Draft, DraftTarget, DuePost, NewDraft, PostSent, StatusChange};
pub use error::StoreError;
pub use follow::{EventFollower, GAP_PATIENCE};
pub use ideas::{
    DraftedReply, Grouped, GroupedBy, IdeaDetail, IdeaItem, IdeaMessage, IdeaPerson, IdeaReply,
    IdeaReplyRow, IdeaSimilarity, IdeaStatusChange, IdeaStatusOutcome,
};
pub use ingest::{BatchOutcome, HistoryItem, Ingestor, Prepared, QuarantineRow};
pub use jobs::{Job, JobRow, Singleton};
pub use learning::{Correction, LabelledText, StoredModel};
pub use listening::{Rematch, TopicVolume};
pub use people::{PersonMerge, Relationship};
pub use rapport_core::spike::Alert;
pub use read::{
    ConversationDetail, ConversationRow, EventRow, IdentityRow, InboxCursor, InboxFilter,
    MessageRow, NoteRow, PersonDetail, QuarantineEntry, ReportFacts, Summary,
};
pub use search_feed::{REINDEX_KINDS, SearchChange, SearchLook, SearchRow};
pub use semantic::{EmbeddedMessage, EmbeddingCounts};
pub use write_conn::StatementTimes;

/// The database file inside a data directory.
pub const DB_FILE: &str = "rapport.db";

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a store lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file in WAL mode: the embedded default.
    Sqlite,
    /// A PostgreSQL database, shared by several rapport processes.
    Postgres,
}

impl Backend {
    /// The backend a database URL names by its scheme (`sqlite:`, `postgres:` or
    /// `postgresql:`).
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => Err(StoreError::BadUrl(redact(url))),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A handle on one store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where it is, for people: the file, or the URL without its password.
    location: String,
    /// The SQLite file, for the ingestor's own connection.
    sqlite_path: Option<std::path::PathBuf>,
}

impl Store {
    /// Creates the data directory and the SQLite store in it, or opens it if it exists.
    pub async fn create(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|cause| StoreError::Io {
            path: dir.to_path_buf(),
            cause,
        })?;
        Self::open_sqlite(&dir.join(DB_FILE), true).await
    }

    /// Opens an existing SQLite store; fails with [`StoreError::NotAStore`] when `dir`
    /// holds none.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(StoreError::NotAStore(dir.to_path_buf()));
        }
        Self::open_sqlite(&path, false).await
    }

    /// Opens the store a database URL names, bringing its schema up to date:
    /// `postgres://user:password@host:port/database` (the database must exist; its
    /// tables are created on first use) or `sqlite:///path/to/rapport.db` (created
    /// if missing).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let path = url
                    .split_once(':')
                    .map(|(_, rest)| rest.trim_start_matches("//"))
                    .map(|rest| rest.split('?').next().unwrap_or(rest))
                    .unwrap_or_default();
                let path = Path::new(path);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|cause| StoreError::Io {
                        path: dir.to_path_buf(),
                        cause,
                    })?;
                }
                Self::open_sqlite(path, true).await
            }
            Backend::Postgres => Self::open_postgres(url).await,
        }
    }

    async fn open_sqlite(path: &Path, create: bool) -> Result<Self, StoreError> {
        install_drivers();
        let absolute = std::path::absolute(path).map_err(|cause| StoreError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        let file_url = url::Url::from_file_path(&absolute)
            .map_err(|()| StoreError::BadUrl(absolute.display().to_string()))?;
        let mode = if create { "rwc" } else { "rw" };
        let url = format!("sqlite://{}?mode={mode}", file_url.path());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL: readers never wait for the writer; NORMAL: a commit survives a
                    // crash of the process (only a power cut may lose the last ones);
                    // a writer waits up to 10 s for another.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|cause| StoreError::Open {
                location: path.display().to_string(),
                cause,
            })?;
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
        let mut store = Self::finish(pool, Backend::Sqlite, path.display().to_string()).await?;
        store.sqlite_path = Some(absolute);
        Ok(store)
    }

    async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        install_drivers();
        let location = redact(url);
        let pool = AnyPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(|cause| StoreError::Open {
                location: location.clone(),
                cause,
            })?;
        Self::finish(pool, Backend::Postgres, location).await
    }

    async fn finish(pool: AnyPool, backend: Backend, location: String) -> Result<Self, StoreError> {
        match backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&pool).await?,
        }
        sqlx::query(
            "INSERT INTO store_meta (key, value) VALUES ('format', 'rapport-store') \
             ON CONFLICT (key) DO NOTHING",
        )
        .execute(&pool)
        .await?;
        Ok(Self {
            pool,
            backend,
            location,
            sqlite_path: None,
        })
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a second writer waits out the busy timeout instead of
    /// failing when its read turns into a write.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Where the store is: the SQLite file, or the PostgreSQL URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Which database the store lives in.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (on SQLite, checkpointing the WAL).
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Checks that the database is sound: SQLite's `integrity_check`; on PostgreSQL,
    /// which checks its own pages, that it answers.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let res = match self.backend {
            Backend::Sqlite => {
                let (res,): (String,) = sqlx::query_as("PRAGMA integrity_check")
                    .fetch_one(&self.pool)
                    .await?;
                res
            }
            Backend::Postgres => {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                "ok".to_string()
            }
        };
        if res == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(res))
        }
    }
}

/// Registers sqlx's SQLite and PostgreSQL drivers for `Any` (once per process).
fn install_drivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// `url` without its password, to show.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("****"));
            }
            u.to_string()
        }
        Err(_) => url.split('@').next_back().unwrap_or(url).to_string(),
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
