use std::path::PathBuf;

/// What can go wrong in the store; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory holds no rapport store.
    #[error("{} is not a rapport store: run `rapport init` to create one there, or point --data-dir (RAPPORT_DATA_DIR) at an existing store", .0.display())]
    NotAStore(PathBuf),
    /// A conversation (or other record) does not exist.
    #[error("{what} {id} not found: {}", not_found_hint(what))]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: i64,
    },
    /// No user has this name.
    #[error("there is no user named {0:?}: `rapport user list` lists them")]
    UnknownUser(String),
    /// The operating system's random number generator or the password hasher failed.
    #[error(
        "{0}: check that the operating system provides randomness (getrandom, /dev/urandom) and retry"
    )]
    Crypto(String),
    /// A worker's lease on a job expired and another worker took the job over; what this
    /// worker did for it was rolled back.
    #[error(
        "job {0} was taken over by another worker after this one's lease expired; nothing of this attempt was kept (raise --lease-seconds if jobs take longer than the lease)"
    )]
    LeaseLost(i64),
    /// A request that the store's rules refuse.
    #[error("{0}")]
    Invalid(String),
    /// The database could not be opened.
    #[error(
        "cannot open the store at {location}: {cause}; for a file, check that its directory exists and is writable; for PostgreSQL, that the server runs, the database exists (`createdb NAME`) and the URL's user may connect to it"
    )]
    Open {
        /// The file, or the URL without its password.
        location: String,
        /// Why.
        cause: sqlx::Error,
    },
    /// A database URL of no backend rapport knows.
    #[error(
        "{0:?} is not a database URL rapport can use: give postgres://USER:PASSWORD@HOST:PORT/DATABASE, or sqlite:///PATH/TO/rapport.db"
    )]
    BadUrl(String),
    /// A file-system error.
    #[error("cannot create the data directory {}: {cause}; --data-dir must name a directory rapport can write to", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The integrity check failed.
    #[error("the store failed its integrity check ({0}): restore it from a backup")]
    Corrupt(String),
    /// Migrations failed.
    #[error(
        "cannot bring the store's schema up to date: {0}; the store is unchanged, check the database's permissions and retry"
    )]
    Migrate(sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error(
        "database error: {0} (if the disk is full or read-only, free space or fix permissions and retry; nothing was half-written)"
    )]
    Db(sqlx::Error),
    /// A database error on the ingestor's own SQLite connection.
    #[error(
        "database error: {0} (if the disk is full or read-only, free space or fix permissions and retry; nothing was half-written)"
    )]
    Lite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Lite(e)
    }
}

// By hand rather than `#[from]`: the message already carries the cause, and a `source`
// would make error reports print it a second time.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

/// What lists the records of a kind, for "not found" messages.
fn not_found_hint(what: &str) -> &'static str {
    match what {
        "API token" => "`rapport token list` lists them",
        "user" => "`rapport user list` lists the users",
        "draft" => "`rapport draft list` lists the drafts",
        "idea" => "`rapport ideas list` lists the ideas",
        _ => "`rapport inbox --status all` lists conversations",
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}
