//! Copying a whole store into another, empty one, on either backend (`rapport
//! migrate-store`): every table, every row, ids kept, in one transaction on the target,
//! then verified by row counts and a checksum of every table's content read back from
//! both sides.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::{Backend, Store, StoreError};

/// The tables, parents before children, each with the columns that order its rows.
/// `store_meta` is the target's own; migrations' bookkeeping is each backend's own.
const TABLES: &[(&str, &str)] = &[
    ("people", "id"),
    ("identities", "id"),
    ("conversations", "id"),
    ("messages", "id"),
    ("events", "seq"),
    ("conversation_labels", "conversation_id, label"),
    ("notes", "id"),
    ("quarantine", "id"),
    ("assign_cursor", "team"),
    ("channel_cursors", "channel"),
    ("outbox", "id"),
    ("users", "id"),
    ("api_tokens", "id"),
    ("sessions", "id"),
    ("login_failures", "id"),
    ("jobs", "id"),
    ("singleton_leases", "name"),
    ("message_topics", "topic, message_id"),
    ("spike_state", "series"),
    ("alerts", "id"),
    ("drafts", "id"),
    ("draft_targets", "draft_id, channel"),
    ("person_merges", "id"),
    ("person_merge_dismissals", "a, b"),
    ("corrections", "id"),
    ("learned_models", "kind"),
    ("idea_items", "id"),
    ("idea_messages", "message_id"),
    ("idea_replies", "item_id, status, person_id"),
    ("message_embeddings", "message_id"),
];

/// Tables that are not data: the store's own bookkeeping.
const NOT_COPIED: &[&str] = &["store_meta", "_sqlx_migrations", "sqlite_sequence"];

/// Rows per INSERT statement (well under both backends' limits on parameters).
const ROWS_PER_INSERT: usize = 200;
/// Rows read from the source at a time.
const PAGE: i64 = 5_000;

/// What a copy moved, per table: rows and the checksum both sides agree on.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// Per table: (rows, SHA-256 of the rows' content in key order).
    pub tables: BTreeMap<String, (i64, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Float,
    Text,
    Bytes,
}

/// One value, as both backends bind it.
#[derive(Debug, Clone)]
enum Value {
    Null(Kind),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn read(row: &AnyRow, i: usize, kind: Kind) -> Result<Value, sqlx::Error> {
        Ok(match kind {
            Kind::Int => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null(kind), Value::Int),
            Kind::Float => row
                .try_get::<Option<f64>, _>(i)?
                .map_or(Value::Null(kind), Value::Float),
            Kind::Text => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null(kind), Value::Text),
            Kind::Bytes => row
                .try_get::<Option<Vec<u8>>, _>(i)?
                .map_or(Value::Null(kind), Value::Bytes),
        })
    }

    /// Feeds the checksum: a tag, then the value, so that no two values collide.
    fn hash(&self, h: &mut Sha256) {
        match self {
            Value::Null(_) => h.update([0u8]),
            Value::Int(v) => {
                h.update([1u8]);
                h.update(v.to_le_bytes());
            }
            Value::Float(v) => {
                h.update([2u8]);
                h.update(v.to_bits().to_le_bytes());
            }
            Value::Text(v) => {
                h.update([3u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v.as_bytes());
            }
            Value::Bytes(v) => {
                h.update([4u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v);
            }
        }
    }
}

impl Store {
    /// The columns of `table` and how to read them, in the table's order.
    async fn columns(&self, table: &str) -> Result<Vec<(String, Kind)>, StoreError> {
        let rows: Vec<(String, String)> = match self.backend {
            Backend::Sqlite => {
                sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT name, type FROM pragma_table_info('{table}') ORDER BY cid"
                )))
                .fetch_all(&self.pool)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter()
            .map(|(name, ty)| {
                let ty = ty.to_ascii_lowercase();
                let kind = if ty.contains("int") {
                    Kind::Int
                } else if ty.contains("real") || ty.contains("double") || ty.contains("float") {
                    Kind::Float
                } else if ty.contains("text") || ty.contains("char") {
                    Kind::Text
                } else if ty.contains("blob") || ty.contains("bytea") {
                    Kind::Bytes
                } else {
                    return Err(StoreError::Invalid(format!(
                        "column {table}.{name} has type {ty:?}, which migrate-store cannot copy"
                    )));
                };
                Ok((name, kind))
            })
            .collect()
    }

    /// The data tables of this store.
    async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let names: Vec<(String,)> = match self.backend {
            Backend::Sqlite => {
                sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(names
            .into_iter()
            .map(|(n,)| n)
            .filter(|n| !NOT_COPIED.contains(&n.as_str()))
            .collect())
    }

    /// A page of `table`'s rows in key order: after `last` (the key of the previous
    /// page's last row) for tables keyed by one column, else from `offset`.
    async fn page(
        &self,
        table: &str,
        order: &str,
        columns: &[(String, Kind)],
        last: Option<&Value>,
        offset: i64,
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let list = column_list(columns);
        let single = !order.contains(',');
        let sql = match (single, last) {
            (true, Some(_)) => format!(
                "SELECT {list} FROM {table} WHERE {order} > $1 ORDER BY {order} LIMIT {PAGE}"
            ),
            (true, None) => format!("SELECT {list} FROM {table} ORDER BY {order} LIMIT {PAGE}"),
            (false, _) => {
                format!("SELECT {list} FROM {table} ORDER BY {order} LIMIT {PAGE} OFFSET {offset}")
            }
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if single {
            q = match last {
                Some(Value::Int(i)) => q.bind(*i),
                Some(Value::Text(t)) => q.bind(t.clone()),
                Some(Value::Float(f)) => q.bind(*f),
                Some(Value::Bytes(b)) => q.bind(b.clone()),
                Some(Value::Null(_)) | None => q,
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, k))| Value::read(r, i, *k))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?)
    }

    /// Every row of `table`, a page at a time, to `each`.
    async fn scan(
        &self,
        table: &str,
        order: &str,
        columns: &[(String, Kind)],
        mut each: impl AsyncFnMut(Vec<Vec<Value>>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let key = columns.iter().position(|(n, _)| n == order);
        let (mut last, mut offset) = (None::<Value>, 0i64);
        loop {
            let rows = self
                .page(table, order, columns, last.as_ref(), offset)
                .await?;
            let n = rows.len() as i64;
            offset += n;
            last = match (key, rows.last()) {
                (Some(k), Some(r)) => Some(r[k].clone()),
                _ => last,
            };
            if n > 0 {
                each(rows).await?;
            }
            if n < PAGE {
                return Ok(());
            }
        }
    }

    /// Row count and checksum of every data table. The checksum is the SHA-256 of the
    /// sorted SHA-256 digests of the rows, so it does not depend on how each backend
    /// orders text.
    pub async fn checksums(&self) -> Result<BTreeMap<String, (i64, String)>, StoreError> {
        let mut out = BTreeMap::new();
        for (table, order) in TABLES {
            let columns = self.columns(table).await?;
            let mut digests: Vec<[u8; 32]> = Vec::new();
            self.scan(table, order, &columns, async |rows| {
                for values in rows {
                    let mut h = Sha256::new();
                    for v in &values {
                        v.hash(&mut h);
                    }
                    digests.push(h.finalize().into());
                }
                Ok(())
            })
            .await?;
            digests.sort_unstable();
            let mut h = Sha256::new();
            for d in &digests {
                h.update(d);
            }
            out.insert(
                table.to_string(),
                (digests.len() as i64, hex::encode(h.finalize())),
            );
        }
        Ok(out)
    }

    /// Copies everything in this store into `target`, which must be empty, then checks
    /// that both hold the same rows. On any error the target is left as it was.
    pub async fn copy_into(&self, target: &Store) -> Result<CopyReport, StoreError> {
        for name in self.table_names().await? {
            if !TABLES.iter().any(|(t, _)| *t == name) {
                return Err(StoreError::Invalid(format!(
                    "the source store has a table {name:?} that this version of rapport does not know: \
                     use the rapport version that wrote it"
                )));
            }
        }
        let counts = target.checksums().await?;
        if let Some((t, (n, _))) = counts.iter().find(|(_, (n, _))| *n > 0) {
            return Err(StoreError::Invalid(format!(
                "the target store is not empty ({t} has {n} rows): migrate-store copies into an \
                 empty store only, so that nothing there is mixed or overwritten"
            )));
        }
        let mut tx = target.begin_write().await?;
        for (table, order) in TABLES {
            let columns = self.columns(table).await?;
            let theirs = target.columns(table).await?;
            let names = |c: &[(String, Kind)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
            let mut mine_sorted = names(&columns);
            let mut theirs_sorted = names(&theirs);
            mine_sorted.sort();
            theirs_sorted.sort();
            if mine_sorted != theirs_sorted {
                return Err(StoreError::Invalid(format!(
                    "table {table} has different columns in the two stores ({} vs {}): \
                     open both with this version of rapport first, which brings them up to date",
                    mine_sorted.join(", "),
                    theirs_sorted.join(", ")
                )));
            }
            // Conversations point at conversations and people at people (merged_into):
            // those pointers are set once every row is there.
            let deferred = matches!(*table, "conversations" | "people").then_some("merged_into");
            let tx = &mut tx;
            self.scan(table, order, &columns, async |mut rows| {
                if let Some(i) = deferred.and_then(|col| columns.iter().position(|(n, _)| n == col))
                {
                    for r in &mut rows {
                        r[i] = Value::Null(Kind::Int);
                    }
                }
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    insert(tx, table, &columns, chunk).await?;
                }
                Ok(())
            })
            .await?;
        }
        // The merge pointers, now that every conversation and person exists.
        for table in ["conversations", "people"] {
            let pointers: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT id, merged_into FROM {table} WHERE merged_into IS NOT NULL ORDER BY id"
            )))
            .fetch_all(&self.pool)
            .await?;
            for (id, into) in pointers {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {table} SET merged_into = $1 WHERE id = $2"
                )))
                .bind(into)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        if target.backend == Backend::Postgres {
            // Ids were given, not drawn: move each identity past the largest.
            for (table, order) in TABLES {
                if *order == "id" || *order == "seq" {
                    sqlx::query(AssertSqlSafe(format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{order}'), \
                         COALESCE((SELECT MAX({order}) FROM {table}), 0) + 1, false)"
                    )))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;

        let mine = self.checksums().await?;
        let theirs = target.checksums().await?;
        for (table, (n, sum)) in &mine {
            match theirs.get(table) {
                Some((m, other)) if m == n && other == sum => {}
                Some((m, _)) => {
                    return Err(StoreError::Invalid(format!(
                        "after the copy, table {table} differs: {n} rows in the source, {m} in the \
                         target (or different content); the target is not to be used: empty it and retry"
                    )));
                }
                None => {
                    return Err(StoreError::Invalid(format!(
                        "after the copy, table {table} is missing from the target"
                    )));
                }
            }
        }
        Ok(CopyReport { tables: mine })
    }
}

fn column_list(columns: &[(String, Kind)]) -> String {
    columns
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[(String, Kind)],
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", column_list(columns));
    for r in 0..rows.len() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * width + c + 1));
        }
        sql.push(')');
    }
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        for v in row {
            q = match v {
                Value::Null(Kind::Int) => q.bind(None::<i64>),
                Value::Null(Kind::Float) => q.bind(None::<f64>),
                Value::Null(Kind::Text) => q.bind(None::<String>),
                Value::Null(Kind::Bytes) => q.bind(None::<Vec<u8>>),
                Value::Int(i) => q.bind(*i),
                Value::Float(f) => q.bind(*f),
                Value::Text(t) => q.bind(t.clone()),
                Value::Bytes(b) => q.bind(b.clone()),
            };
        }
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
