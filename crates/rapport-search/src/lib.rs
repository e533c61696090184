//! rapport's search index: every stored message in a tantivy index, queried with
//! rapport's own [`Query`] type (see `docs/search.md` for the syntax).
//!
//! The index follows the store's event log ([`rapport_store::SearchChange`]): where it
//! stands is written into each tantivy commit, so the index and its cursor move
//! together and a process killed at any point resumes from the last commit, applying
//! again what it had not committed (re-indexing a message replaces it; nothing doubles).
//! A fresh or reset index is built by scanning the store's messages ([`Indexer::rebuild`]),
//! resumable the same way.

mod schema;

use std::ops::Bound;
use std::path::{Path, PathBuf};

use rapport_core::query::Query;
use rapport_store::{EventFollower, SearchChange, SearchRow, Store, StoreError};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

pub use schema::{Fields, RapportTokenizer};

/// The index's directory under the data directory.
pub const INDEX_DIR: &str = "search";

/// How far before the newest event a rebuild starts following the log on PostgreSQL: a
/// transaction that took its sequence numbers before the rebuild looked, and committed
/// after the scan passed its messages, is still applied (applying twice is harmless).
/// On SQLite a writer's events become visible with their commit, all at once, so none.
const REBUILD_OVERLAP_POSTGRES: i64 = 10_000;

/// Documents indexed between two commits in a rebuild, unless `commit_every` says.
pub const DEFAULT_COMMIT_EVERY: u64 = 100_000;

/// Rows read from the store per page of a rebuild.
const PAGE: i64 = 5_000;

/// Something the index cannot do; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed.
    #[error(
        "the search index at {path} failed: {cause}; run `rapport reindex` to rebuild it from the store"
    )]
    Index {
        /// The index directory.
        path: PathBuf,
        /// Why.
        cause: tantivy::TantivyError,
    },
    /// Another process is writing the index.
    #[error(
        "another rapport process (serve, or a reindex) is writing the search index at {0}: wait for it, or stop it first"
    )]
    Busy(PathBuf),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (BM25 on the words of the query).
    #[default]
    Relevance,
    /// Newest first.
    Newest,
}

/// One match.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    /// The message id.
    pub id: i64,
    /// The relevance score (0 when sorted by time).
    pub score: f32,
}

/// One page of matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// Every match, not only this page.
    pub total: usize,
    /// This page.
    pub hits: Vec<Hit>,
}

/// Where the index stands, as written into each commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// Events up to here are in the index.
    floor: i64,
    /// Events above the floor already in the index.
    #[serde(default)]
    seen: Vec<i64>,
    /// A rebuild in progress.
    #[serde(default)]
    rebuild: Option<Rebuild>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Rebuild {
    /// Messages up to this id are indexed.
    next_after: i64,
    /// Where following the log starts once the scan is done.
    follow_from: i64,
}

/// The search index of one store.
pub struct SearchIndex {
    path: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("path", &self.path)
            .finish()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when there is none. An index written with an
    /// older schema is emptied: the next catch-up rebuilds it from the store.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let fail = |cause| SearchError::Index {
            path: dir.to_path_buf(),
            cause,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(tantivy::TantivyError::from(e)))?;
        let (schema, fields) = Fields::schema();
        let open = || -> tantivy::Result<Index> {
            let directory = MmapDirectory::open(dir)?;
            Index::open_or_create(directory, schema.clone())
        };
        let index = match open() {
            Ok(i) => i,
            Err(tantivy::TantivyError::SchemaError(_)) => {
                tracing::warn!(path = %dir.display(), "the search index has an older schema: rebuilding it");
                std::fs::remove_dir_all(dir).map_err(|e| fail(tantivy::TantivyError::from(e)))?;
                std::fs::create_dir_all(dir).map_err(|e| fail(tantivy::TantivyError::from(e)))?;
                open().map_err(fail)?
            }
            Err(e) => return Err(fail(e)),
        };
        schema::register_tokenizer(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(fail)?;
        Ok(SearchIndex {
            path: dir.to_path_buf(),
            index,
            reader,
            fields,
        })
    }

    /// The directory it lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, cause: tantivy::TantivyError) -> SearchError {
        SearchError::Index {
            path: self.path.clone(),
            cause,
        }
    }

    /// The writer, or `None` when another process holds it (it keeps the index up to date).
    pub fn indexer(&self) -> Result<Option<Indexer>, SearchError> {
        let writer: IndexWriter<TantivyDocument> =
            match self.index.writer_with_num_threads(1, 64 << 20) {
                Ok(w) => w,
                Err(tantivy::TantivyError::LockFailure(
                    tantivy::directory::error::LockError::LockBusy,
                    _,
                )) => return Ok(None),
                Err(e) => return Err(self.fail(e)),
            };
        let cursor = self.cursor()?;
        Ok(Some(Indexer {
            path: self.path.clone(),
            writer,
            fields: self.fields,
            follower: cursor
                .as_ref()
                .map(|c| EventFollower::resume(c.floor, c.seen.iter().copied())),
            rebuild: cursor.and_then(|c| c.rebuild),
            commit_every: DEFAULT_COMMIT_EVERY,
        }))
    }

    /// The cursor of the last commit; `None` for an index never built.
    fn cursor(&self) -> Result<Option<Cursor>, SearchError> {
        let metas = self.index.load_metas().map_err(|e| self.fail(e))?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()))
    }

    /// Whether the index was ever built and no rebuild is under way.
    pub fn is_built(&self) -> Result<bool, SearchError> {
        Ok(self.cursor()?.is_some_and(|c| c.rebuild.is_none()))
    }

    /// The event sequence number the index has caught up to.
    pub fn floor(&self) -> Result<i64, SearchError> {
        Ok(self.cursor()?.map_or(0, |c| c.floor))
    }

    /// Runs a query; `limit` hits after skipping `offset`.
    pub fn search(
        &self,
        query: &Query,
        limit: usize,
        offset: usize,
        sort: Sort,
    ) -> Result<Page, SearchError> {
        self.reader.reload().map_err(|e| self.fail(e))?;
        let searcher = self.reader.searcher();
        let q = self.translate(query);
        let limit = limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (total, addrs): (usize, Vec<(f32, DocAddress)>) = match sort {
            Sort::Relevance => searcher
                .search(&q, &(Count, top.order_by_score()))
                .map_err(|e| self.fail(e))?,
            Sort::Newest => {
                let (n, docs) = searcher
                    .search(
                        &q,
                        &(
                            Count,
                            top.order_by_fast_field::<i64>("created_at", Order::Desc),
                        ),
                    )
                    .map_err(|e| self.fail(e))?;
                (n, docs.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let mut hits = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            hits.push(Hit {
                id: self.id_of(&searcher, addr)?,
                score,
            });
        }
        Ok(Page { total, hits })
    }

    fn id_of(&self, searcher: &tantivy::Searcher, addr: DocAddress) -> Result<i64, SearchError> {
        let col = searcher
            .segment_reader(addr.segment_ord)
            .fast_fields()
            .i64("id")
            .map_err(|e| self.fail(e))?;
        col.first(addr.doc_id).ok_or_else(|| {
            self.fail(tantivy::TantivyError::InternalError(format!(
                "document {addr:?} has no id"
            )))
        })
    }

    /// Every message id in the index, in order (to check it against the store).
    pub fn ids(&self) -> Result<Vec<i64>, SearchError> {
        self.reader.reload().map_err(|e| self.fail(e))?;
        let searcher = self.reader.searcher();
        let docs = searcher
            .search(&AllQuery, &DocSetCollector)
            .map_err(|e| self.fail(e))?;
        let mut ids = Vec::with_capacity(docs.len());
        for addr in docs {
            ids.push(self.id_of(&searcher, addr)?);
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// The number of messages indexed.
    pub fn len(&self) -> Result<u64, SearchError> {
        self.reader.reload().map_err(|e| self.fail(e))?;
        Ok(self.reader.searcher().num_docs())
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> Result<bool, SearchError> {
        Ok(self.len()? == 0)
    }

    /// rapport's query as a tantivy query.
    pub fn translate(&self, q: &Query) -> Box<dyn TQuery> {
        let f = &self.fields;
        match q {
            Query::All => Box::new(AllQuery),
            Query::Word(w) => Box::new(TermQuery::new(
                Term::from_field_text(f.text, w),
                IndexRecordOption::WithFreqs,
            )),
            Query::Phrase(ws) => match ws.len() {
                0 => Box::new(AllQuery),
                1 => self.translate(&Query::Word(ws[0].clone())),
                _ => Box::new(PhraseQuery::new(
                    ws.iter()
                        .map(|w| Term::from_field_text(f.text, w))
                        .collect(),
                )),
            },
            Query::Keyword(field, v) => Box::new(TermQuery::new(
                Term::from_field_text(f.keyword(*field), v),
                IndexRecordOption::Basic,
            )),
            Query::Conversation(c) => Box::new(TermQuery::new(
                Term::from_field_i64(f.conversation, *c),
                IndexRecordOption::Basic,
            )),
            Query::Created { from, to } => {
                if let (Some(a), Some(b)) = (from, to)
                    && a >= b
                {
                    return Box::new(EmptyQuery);
                }
                let lo = from.map_or(Bound::Unbounded, |v| {
                    Bound::Included(Term::from_field_i64(f.created_at, v))
                });
                let hi = to.map_or(Bound::Unbounded, |v| {
                    Bound::Excluded(Term::from_field_i64(f.created_at, v))
                });
                if matches!((&lo, &hi), (Bound::Unbounded, Bound::Unbounded)) {
                    return Box::new(AllQuery);
                }
                Box::new(RangeQuery::new(lo, hi))
            }
            Query::And(qs) => {
                let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
                for sub in qs {
                    match sub {
                        Query::Not(inner) => clauses.push((Occur::MustNot, self.translate(inner))),
                        other => clauses.push((Occur::Must, self.translate(other))),
                    }
                }
                if !clauses.iter().any(|(o, _)| *o == Occur::Must) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Query::Or(qs) => Box::new(BooleanQuery::new(
                qs.iter()
                    .map(|sub| (Occur::Should, self.translate(sub)))
                    .collect(),
            )),
            Query::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn TQuery>),
                (Occur::MustNot, self.translate(inner)),
            ])),
        }
    }
}

/// What a catch-up or a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Messages indexed by scanning the store (a build).
    pub indexed: u64,
    /// Messages indexed again as the log's changes named them.
    pub applied: u64,
    /// Events read from the log.
    pub events: u64,
    /// Whether the index was rebuilt from the store's messages.
    pub rebuilt: bool,
}

/// The one writer of an index.
pub struct Indexer {
    path: PathBuf,
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    /// Where following the log stands; `None` until the index is first built.
    follower: Option<EventFollower>,
    rebuild: Option<Rebuild>,
    commit_every: u64,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("path", &self.path)
            .field("rebuild", &self.rebuild)
            .finish()
    }
}

impl Indexer {
    /// Commits a rebuild every `n` documents (at least 1).
    pub fn commit_every(mut self, n: u64) -> Indexer {
        self.commit_every = n.max(1);
        self
    }

    fn fail(&self, cause: tantivy::TantivyError) -> SearchError {
        SearchError::Index {
            path: self.path.clone(),
            cause,
        }
    }

    /// Whether a rebuild was interrupted and goes on at the next catch-up.
    pub fn is_rebuilding(&self) -> bool {
        self.rebuild.is_some()
    }

    /// Indexes rows straight away, outside any store (benchmarks); they become
    /// searchable at [`Indexer::flush`].
    pub fn add_rows(&mut self, rows: &[SearchRow]) -> Result<(), SearchError> {
        for row in rows {
            self.writer
                .add_document(self.fields.document(row))
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Commits what was added, leaving the cursor as it was.
    pub fn flush(&mut self) -> Result<(), SearchError> {
        self.commit()
    }

    fn put(&mut self, row: &SearchRow) -> Result<(), SearchError> {
        self.writer
            .delete_term(Term::from_field_i64(self.fields.id, row.id));
        self.writer
            .add_document(self.fields.document(row))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), SearchError> {
        let cursor = Cursor {
            floor: self.follower.as_ref().map_or(0, EventFollower::floor),
            seen: self
                .follower
                .as_ref()
                .map(|f| f.seen().collect())
                .unwrap_or_default(),
            rebuild: self.rebuild,
        };
        let payload = serde_json::to_string(&cursor).unwrap_or_default();
        let path = self.path.clone();
        let fail = |cause| SearchError::Index { path, cause };
        let mut prepared = match self.writer.prepare_commit() {
            Ok(p) => p,
            Err(e) => return Err(fail(e)),
        };
        prepared.set_payload(&payload);
        prepared.commit().map_err(fail)?;
        Ok(())
    }

    /// Brings the index up to date with the store: builds it first when it never was
    /// (or finishes a rebuild a crash interrupted), then applies the log's changes.
    pub async fn catch_up(
        &mut self,
        store: &Store,
        mut progress: impl FnMut(&Progress),
    ) -> Result<Progress, SearchError> {
        let mut done = Progress::default();
        if self.follower.is_none() || self.rebuild.is_some() {
            done = self.scan(store, &mut progress).await?;
        }
        let mut changed = false;
        while let Some(follower) = self.follower.as_mut() {
            let before = follower.floor();
            let look = store.search_changes(follower).await?;
            let moved = follower.floor() != before;
            done.events += look.events as u64;
            for change in &look.changes {
                let rows = match change {
                    SearchChange::Messages(ranges) => {
                        let mut rows = Vec::new();
                        for r in ranges {
                            rows.extend(store.search_rows_between(r[0], r[1]).await?);
                        }
                        rows
                    }
                    SearchChange::Conversation(c) => store.search_rows_of_conversation(*c).await?,
                };
                for row in &rows {
                    self.put(row)?;
                }
                done.applied += rows.len() as u64;
                progress(&done);
            }
            changed |= moved || !look.changes.is_empty();
            if look.changes.is_empty() && !moved {
                break;
            }
            if changed {
                self.commit()?;
                changed = false;
            }
            if !look.more {
                break;
            }
        }
        if changed {
            self.commit()?;
        }
        Ok(done)
    }

    /// Empties the index and builds it again from the store's messages (resumable: a
    /// rebuild that a crash interrupted goes on from its last commit at the next
    /// catch-up), then catches up with the log.
    pub async fn rebuild(
        &mut self,
        store: &Store,
        progress: impl FnMut(&Progress),
    ) -> Result<Progress, SearchError> {
        self.rebuild = None;
        self.follower = None;
        self.catch_up(store, progress).await
    }

    async fn scan(
        &mut self,
        store: &Store,
        progress: &mut impl FnMut(&Progress),
    ) -> Result<Progress, SearchError> {
        let mut done = Progress {
            rebuilt: true,
            ..Progress::default()
        };
        let mut state = match self.rebuild {
            Some(r) => r,
            None => {
                // A fresh build: nothing left from before, and the log followed from a
                // little before now once the scan is done.
                self.writer
                    .delete_all_documents()
                    .map_err(|e| self.fail(e))?;
                let last = store.last_event_seq().await?;
                let overlap = match store.backend() {
                    rapport_store::Backend::Postgres => REBUILD_OVERLAP_POSTGRES,
                    rapport_store::Backend::Sqlite => 0,
                };
                let r = Rebuild {
                    next_after: 0,
                    follow_from: (last - overlap).max(0),
                };
                self.rebuild = Some(r);
                self.follower = Some(EventFollower::after(r.follow_from));
                self.commit()?;
                r
            }
        };
        let mut since_commit = 0u64;
        loop {
            let rows = store.search_rows_after(state.next_after, PAGE).await?;
            let Some(last) = rows.last().map(|r| r.id) else {
                break;
            };
            for row in &rows {
                self.put(row)?;
            }
            done.indexed += rows.len() as u64;
            since_commit += rows.len() as u64;
            state.next_after = last;
            progress(&done);
            if since_commit >= self.commit_every {
                self.rebuild = Some(state);
                self.commit()?;
                since_commit = 0;
            }
        }
        self.rebuild = None;
        self.follower = Some(EventFollower::after(state.follow_from));
        self.commit()?;
        Ok(done)
    }
}

/// Checks an index against its store: the ids each holds that the other does not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verify {
    /// Messages in the store.
    pub store: usize,
    /// Documents in the index.
    pub index: usize,
    /// In the store, not in the index (up to 20).
    pub missing: Vec<i64>,
    /// In the index, not in the store (up to 20).
    pub extra: Vec<i64>,
}

impl Verify {
    /// Whether the index holds exactly the store's messages.
    pub fn ok(&self) -> bool {
        self.store == self.index && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Compares the index's message ids with the store's.
pub async fn verify(index: &SearchIndex, store: &Store) -> Result<Verify, SearchError> {
    let in_store = store.message_ids().await?;
    let in_index = index.ids()?;
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < in_store.len() || j < in_index.len() {
        match (in_store.get(i), in_index.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                missing.push(*a);
                i += 1;
            }
            (Some(_), Some(b)) => {
                extra.push(*b);
                j += 1;
            }
            (Some(a), None) => {
                missing.push(*a);
                i += 1;
            }
            (None, Some(b)) => {
                extra.push(*b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    missing.truncate(20);
    extra.truncate(20);
    Ok(Verify {
        store: in_store.len(),
        index: in_index.len(),
        missing,
        extra,
    })
}
