//! The connection the ingest path writes through: sqlx's (PostgreSQL, and SQLite for
//! everything but ingest) or, on SQLite, a direct connection of the ingestor's own.
//!
//! Why two: sqlx runs each SQLite statement on a worker thread of its own and hands the
//! statement over and the answer back through channels, two thread wake-ups a
//! statement. Storing a message takes about ten statements, so on SQLite the hand-offs,
//! not SQLite, set the speed of ingest (about 1,700 messages/s, 85 % of the time in the
//! kernel's scheduler; `docs/benchmarks.md`). The ingestor's direct connection
//! (rusqlite, the same bundled SQLite) runs the same statements in the calling thread,
//! with the statements prepared once and cached.
//!
//! Each statement is written once, with PostgreSQL's `$1` placeholders; on SQLite each
//! parameter is bound by the number in its name, so a number used twice or out of order
//! binds the same value as on PostgreSQL.

use sqlx::{AnyConnection, Row as _};

use crate::StoreError;

/// A value bound to a statement. `None` binds a NULL of the variant's type (PostgreSQL
/// wants typed NULLs).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// An integer.
    Int(Option<i64>),
    /// A float.
    Real(Option<f64>),
    /// Text.
    Text(Option<&'a str>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v.as_str()))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Arg::Int(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Arg::Real(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Real(v)),
            Arg::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Arg::Int(None) | Arg::Real(None) | Arg::Text(None) => {
                ToSqlOutput::Borrowed(ValueRef::Null)
            }
        })
    }
}

/// A column both drivers can read.
pub(crate) trait Col:
    rusqlite::types::FromSql + sqlx::Type<sqlx::Any> + for<'r> sqlx::Decode<'r, sqlx::Any>
{
}
impl<T> Col for T where
    T: rusqlite::types::FromSql + sqlx::Type<sqlx::Any> + for<'r> sqlx::Decode<'r, sqlx::Any>
{
}

/// A row read as a tuple of columns, in order.
pub(crate) trait Cols: Sized {
    fn from_any(row: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error>;
    fn from_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! cols {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Col),+> Cols for ($($t,)+) {
            fn from_any(row: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
                Ok(($(row.try_get::<$t, usize>($i)?,)+))
            }
            fn from_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<usize, $t>($i)?,)+))
            }
        }
    };
}
cols!(A 0);
cols!(A 0, B 1);
cols!(A 0, B 1, C 2);
cols!(A 0, B 1, C 2, D 3);
cols!(A 0, B 1, C 2, D 3, E 4);
cols!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Time spent in each statement of the ingest path on SQLite, by its SQL text (and
/// `COMMIT`), when asked for ([`crate::Ingestor::time_statements`]): the profile of the
/// store stage that `rapport bench pipeline --statements` prints.
#[derive(Debug, Clone, Default)]
pub struct StatementTimes {
    /// Per statement: how many times it ran, and for how long in all.
    pub by_statement: std::collections::HashMap<&'static str, (u64, std::time::Duration)>,
}

impl StatementTimes {
    pub(crate) fn add(&mut self, sql: &'static str, took: std::time::Duration) {
        let e = self.by_statement.entry(sql).or_default();
        e.0 += 1;
        e.1 += took;
    }

    /// The statements, most time first: (SQL, runs, total time).
    pub fn slowest(&self) -> Vec<(&'static str, u64, std::time::Duration)> {
        let mut out: Vec<_> = self
            .by_statement
            .iter()
            .map(|(sql, (n, t))| (*sql, *n, *t))
            .collect();
        out.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
        out
    }
}

/// Where a write goes.
pub(crate) enum WriteConn<'c> {
    /// A sqlx connection (in a transaction the caller holds).
    Any(&'c mut AnyConnection),
    /// The ingestor's own SQLite connection (in a transaction the caller began), and
    /// where to add each statement's time, when they are timed.
    Lite(&'c mut rusqlite::Connection, Option<&'c mut StatementTimes>),
}

/// Adds the time since `started` to `sql`'s, when statements are timed.
fn timed(
    times: &mut Option<&mut StatementTimes>,
    sql: &'static str,
    started: Option<std::time::Instant>,
) {
    if let (Some(t), Some(s)) = (times.as_deref_mut(), started) {
        t.add(sql, s.elapsed());
    }
}

/// Prepares (or takes from the cache) a statement and binds `args` by the number in
/// each parameter's name: SQLite reads `$3` as a parameter named "$3", numbered by
/// first appearance, so the name, not the position, says which value it takes.
fn lite_statement<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    for i in 1..=st.parameter_count() {
        let arg = st
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| args.get(n))
            .ok_or(StoreError::Lite(rusqlite::Error::InvalidParameterCount(
                i,
                args.len(),
            )))?;
        st.raw_bind_parameter(i, arg)?;
    }
    Ok(st)
}

fn bind_any<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    args: &'q [Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for a in args {
        q = match *a {
            Arg::Int(v) => q.bind(v),
            Arg::Real(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
        };
    }
    q
}

impl WriteConn<'_> {
    /// Runs a statement; the rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<u64, StoreError> {
        match self {
            WriteConn::Any(conn) => Ok(bind_any(sqlx::query(sql), args)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
            WriteConn::Lite(conn, times) => {
                let started = times.is_some().then(std::time::Instant::now);
                let n = lite_statement(conn, sql, args)?.raw_execute()?;
                timed(times, sql, started);
                Ok(n as u64)
            }
        }
    }

    /// The first row a query returns, if any.
    pub(crate) async fn fetch_optional<R: Cols>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<R>, StoreError> {
        match self {
            WriteConn::Any(conn) => {
                match bind_any(sqlx::query(sql), args)
                    .fetch_optional(&mut **conn)
                    .await?
                {
                    Some(row) => Ok(Some(R::from_any(&row)?)),
                    None => Ok(None),
                }
            }
            WriteConn::Lite(conn, times) => {
                let started = times.is_some().then(std::time::Instant::now);
                let mut st = lite_statement(conn, sql, args)?;
                let mut rows = st.raw_query();
                let row = match rows.next()? {
                    Some(row) => Some(R::from_lite(row)?),
                    None => None,
                };
                drop(rows);
                timed(times, sql, started);
                Ok(row)
            }
        }
    }

    /// The one row a query must return.
    pub(crate) async fn fetch_one<R: Cols>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<R, StoreError> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// Every row a query returns.
    pub(crate) async fn fetch_all<R: Cols>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<R>, StoreError> {
        match self {
            WriteConn::Any(conn) => bind_any(sqlx::query(sql), args)
                .fetch_all(&mut **conn)
                .await?
                .iter()
                .map(|row| R::from_any(row).map_err(StoreError::from))
                .collect(),
            WriteConn::Lite(conn, times) => {
                let started = times.is_some().then(std::time::Instant::now);
                let mut st = lite_statement(conn, sql, args)?;
                let mut rows = st.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(R::from_lite(row)?);
                }
                drop(rows);
                timed(times, sql, started);
                Ok(out)
            }
        }
    }
}

/// Opens the ingestor's own connection to a SQLite store, set up as the pool's are (WAL,
/// `synchronous = NORMAL`, a 10 s busy timeout, foreign keys on).
pub(crate) fn open_lite(path: &std::path::Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 16384;",
    )?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn numbered_parameters_bind_the_same_value_wherever_they_appear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c REAL)")
            .unwrap();
        let mut conn = open_lite(&path).unwrap();
        let mut times = StatementTimes::default();
        let mut w = WriteConn::Lite(&mut conn, Some(&mut times));
        // $2 before $1, and $1 twice.
        let n = w
            .execute(
                "INSERT INTO t (b, a, c) VALUES ($2, $1, $1 * 1.5)",
                &[Arg::from(4), Arg::from("four")],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        w.execute(
            "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)",
            &[Arg::Int(None), Arg::Text(None), Arg::Real(None)],
        )
        .await
        .unwrap();
        let row: (i64, String, f64) = w
            .fetch_one("SELECT a, b, c FROM t WHERE a = $1", &[Arg::from(4)])
            .await
            .unwrap();
        assert_eq!(row, (4, "four".to_owned(), 6.0));
        let all: Vec<(Option<i64>, Option<String>)> = w
            .fetch_all("SELECT a, b FROM t ORDER BY a", &[])
            .await
            .unwrap();
        assert_eq!(all, vec![(None, None), (Some(4), Some("four".into()))]);
        let none: Option<(i64,)> = w
            .fetch_optional("SELECT a FROM t WHERE a = $1", &[Arg::from(5)])
            .await
            .unwrap();
        assert!(none.is_none());
        let slowest = times.slowest();
        assert_eq!(slowest.len(), 5, "{slowest:?}");
        let runs: u64 = slowest.iter().map(|(_, n, _)| n).sum();
        assert_eq!(runs, 5);
    }
}
