//! The ideas loop: idea items grouped from inbound messages of intent `idea`, their
//! statuses, and the record of the replies drafted when a status changed. The rules
//! (similarity, grouping, titles, templates) are `rapport_core::ideas`'; the store keeps
//! what was decided, and every change is an event (`ideas_grouped`, `idea_status`,
//! `idea_merged`, `idea_moved`, with `{"idea": id}`).
//!
//! Exactly one reply per person: `idea_replies` is unique on (item, status, person), and
//! a reply's row, its draft and the draft's submission are written in one transaction,
//! with the status change itself. A status set twice, two people setting it at once, or
//! a retry after a crash drafts nobody a second time: the row is either there with its
//! draft, or neither is.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rapport_core::ideas::{Grouper, Placement, Terms, terms, title};
use rapport_core::semantic::VectorGrouper;
use serde::Serialize;
use serde_json::json;
use sqlx::AssertSqlSafe;
use sqlx::Row as _;

use crate::drafts::insert_draft;
use crate::ingest::event;
use crate::semantic::{decode, vector_of_model};
use crate::{NewDraft, Store, StoreError, ms, time};

/// An idea item, with what it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaItem {
    /// Its id.
    pub id: i64,
    /// Its title (the first message, shortened).
    pub title: String,
    /// `new`, `planned`, `shipped` or `declined`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed (a message joined, its status).
    pub updated_at: DateTime<Utc>,
    /// When its status last changed.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Messages in it.
    pub messages: i64,
    /// Distinct people who raised it.
    pub people: i64,
    /// Its latest message.
    pub latest: Option<DateTime<Utc>>,
}

/// A message of an idea item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaMessage {
    /// The message.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: Option<i64>,
    /// Who wrote it.
    pub person_id: Option<i64>,
    /// The platform.
    pub platform: String,
    /// The author's handle there.
    pub author: String,
    /// The text.
    pub text: String,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// Its address.
    pub url: Option<String>,
    /// How close it came to the item when grouped; `None` for an item's first message,
    /// or one placed by hand.
    pub similarity: Option<f64>,
    /// Who put it there (`grouping`, or the user who moved it).
    pub added_by: String,
}

/// Someone who raised an idea.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaPerson {
    /// The person.
    pub person_id: i64,
    /// Their name, when known.
    pub display_name: Option<String>,
    /// Their handle on their most recent message's platform.
    pub handle: String,
    /// That platform.
    pub platform: String,
    /// Their most recent message in the item: a reply answers it.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: Option<i64>,
    /// How many of the item's messages are theirs.
    pub messages: i64,
}

/// A reply drafted to someone when an item's status changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaReplyRow {
    /// The status it announced.
    pub status: String,
    /// To whom.
    pub person_id: i64,
    /// The draft (`None`: drafted for an item since merged into this one).
    pub draft_id: Option<i64>,
    /// The draft's status now.
    pub draft_status: Option<String>,
    /// When drafted.
    pub created_at: DateTime<Utc>,
}

/// One idea item with its messages, people and replies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaDetail {
    /// The item.
    #[serde(flatten)]
    pub item: IdeaItem,
    /// Its messages, oldest first.
    pub message_list: Vec<IdeaMessage>,
    /// The people who raised it, first to raise it first.
    pub people_list: Vec<IdeaPerson>,
    /// The replies drafted so far.
    pub replies: Vec<IdeaReplyRow>,
    /// The item it was merged into, when it was.
    pub merged_into: Option<i64>,
}

/// How idea messages are compared when they are grouped.
#[derive(Debug, Clone, Copy)]
pub enum IdeaSimilarity<'a> {
    /// The cosine of their content words (`[ideas] similarity`).
    Words {
        /// Join an item at this similarity or above.
        threshold: f64,
        /// The organisation's own words, which say nothing about an idea.
        ignore: &'a BTreeSet<String>,
    },
    /// The cosine of their sentence embeddings (`[ideas] semantic_similarity`).
    Meaning {
        /// Join an item at this similarity or above.
        threshold: f64,
        /// The model whose vectors are compared (`message_embeddings.model`).
        model: &'a str,
    },
}

impl IdeaSimilarity<'_> {
    /// Which way this compares.
    pub fn method(&self) -> GroupedBy {
        match self {
            IdeaSimilarity::Words { .. } => GroupedBy::Words,
            IdeaSimilarity::Meaning { .. } => GroupedBy::Meaning,
        }
    }
}

/// How a grouping run compared messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupedBy {
    /// By their content words.
    #[default]
    Words,
    /// By the meaning of their text: sentence embeddings.
    Meaning,
}

impl GroupedBy {
    /// `words` or `meaning`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupedBy::Words => "words",
            GroupedBy::Meaning => "meaning",
        }
    }
}

/// What a message is compared by.
enum Key {
    Terms(Terms),
    Vector(Vec<f32>),
}

/// The grouper of a run, words or vectors.
enum Placer {
    Words(Grouper),
    Meaning(VectorGrouper),
}

impl Placer {
    fn place(&self, key: &Key) -> Placement {
        match (self, key) {
            (Placer::Words(g), Key::Terms(t)) => g.place(t),
            (Placer::Meaning(g), Key::Vector(v)) => g.place(v),
            // Never built: a run's keys are all of its grouper's kind.
            _ => Placement::New { best: 0.0 },
        }
    }

    fn add(&mut self, item: i64, key: Key) {
        match (self, key) {
            (Placer::Words(g), Key::Terms(t)) => g.add(item, t),
            (Placer::Meaning(g), Key::Vector(v)) => g.add(item, v),
            _ => {}
        }
    }
}

/// What a grouping run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Grouped {
    /// How messages were compared.
    pub by: GroupedBy,
    /// Idea messages placed.
    pub messages: usize,
    /// Of those, how many joined an existing item.
    pub joined: usize,
    /// The items started.
    pub new_items: Vec<i64>,
}

/// A reply to draft when an item's status changes: to one person, answering their
/// conversation. `submit`: its checks passed, it goes to the approval queue at once.
#[derive(Debug, Clone)]
pub struct IdeaReply {
    /// To whom.
    pub person_id: i64,
    /// The draft (kind `reply`).
    pub draft: NewDraft,
    /// Submit it for approval (`pending_approval`) rather than leave it a `draft`.
    pub submit: bool,
}

/// A change of an item's status, checked against the status the caller saw.
#[derive(Debug, Clone)]
pub struct IdeaStatusChange<'a> {
    /// The item.
    pub item: i64,
    /// The status the caller's decision was made on.
    pub from: &'a str,
    /// The new status (`from` again: draft only the missing replies).
    pub to: &'a str,
    /// Who.
    pub actor: &'a str,
    /// Why, kept with the event.
    pub note: Option<&'a str>,
}

/// What a change of status did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IdeaStatusOutcome {
    /// Whether the status moved (false when it was already `to`).
    pub moved: bool,
    /// The drafts written, with the person each answers and whether it was submitted.
    pub drafted: Vec<DraftedReply>,
    /// People who already had their reply for this status: nothing drafted for them.
    pub already: Vec<i64>,
}

/// A reply drafted by a change of status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftedReply {
    /// To whom.
    pub person_id: i64,
    /// The draft.
    pub draft_id: i64,
    /// Whether it went to the approval queue.
    pub submitted: bool,
}

const ITEM_SELECT: &str = "SELECT i.id, i.title, i.status, i.created_at, i.updated_at, i.status_changed_at, \
     COUNT(m.id), COUNT(DISTINCT m.person_id), MAX(m.created_at) FROM idea_items i \
     LEFT JOIN idea_messages im ON im.item_id = i.id LEFT JOIN messages m ON m.id = im.message_id";
const ITEM_GROUP: &str =
    "GROUP BY i.id, i.title, i.status, i.created_at, i.updated_at, i.status_changed_at";

fn item_row(r: &sqlx::any::AnyRow) -> Result<IdeaItem, StoreError> {
    Ok(IdeaItem {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        status: r.try_get(2)?,
        created_at: time(r.try_get(3)?),
        updated_at: time(r.try_get(4)?),
        status_changed_at: r.try_get::<Option<i64>, _>(5)?.map(time),
        messages: r.try_get(6)?,
        people: r.try_get(7)?,
        latest: r.try_get::<Option<i64>, _>(8)?.map(time),
    })
}

/// The idea messages not in an item yet: inbound, of intent `idea` (spam is an intent
/// of its own, so never one).
const UNGROUPED: &str = "FROM messages m LEFT JOIN idea_messages im ON im.message_id = m.id \
     WHERE m.direction = 'inbound' AND m.intent = 'idea' AND im.message_id IS NULL";

impl Store {
    /// Places up to `limit` idea messages not in an item yet, oldest first: each joins
    /// the item with the most similar message at the threshold or above, or starts an
    /// item. `similarity` says how messages are compared: by their content words
    /// (`rapport_core::ideas::Grouper`, `ignore` being the organisation's own words), or
    /// by the cosine of their sentence embeddings (`rapport_core::semantic::VectorGrouper`;
    /// only messages with a vector of the model are placed, the others wait for theirs).
    /// One transaction: a crash places nothing, and a run again places what is left, so
    /// it is idempotent and resumable. The `ideas_grouped` event says which way (`"by":
    /// "words"` or `"meaning"`).
    pub async fn group_ideas(
        &self,
        similarity: &IdeaSimilarity<'_>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Grouped, StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        let by = similarity.method();
        let mut out = Grouped {
            by,
            ..Grouped::default()
        };
        let (new, mut grouper) = match *similarity {
            IdeaSimilarity::Words { threshold, ignore } => {
                let new: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT m.id, m.text {UNGROUPED} ORDER BY m.created_at, m.id LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                if new.is_empty() {
                    return Ok(out);
                }
                let existing: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT im.item_id, m.text FROM idea_messages im JOIN messages m ON m.id = im.message_id \
                     JOIN idea_items i ON i.id = im.item_id WHERE i.merged_into IS NULL ORDER BY im.item_id, m.id",
                )
                .fetch_all(&mut *tx)
                .await?;
                let mut g = Grouper::new(threshold);
                for (item, text) in existing {
                    g.add(item, terms(&text, ignore));
                }
                let new = new
                    .into_iter()
                    .map(|(id, text)| {
                        let key = Key::Terms(terms(&text, ignore));
                        (id, text, key)
                    })
                    .collect::<Vec<_>>();
                (new, Placer::Words(g))
            }
            IdeaSimilarity::Meaning { threshold, model } => {
                let rows = sqlx::query(concat!(
                    "SELECT m.id, m.text, e.vector FROM messages m \
                     JOIN message_embeddings e ON e.message_id = m.id AND ",
                    vector_of_model!(),
                    " \
                     LEFT JOIN idea_messages im ON im.message_id = m.id \
                     WHERE m.direction = 'inbound' AND m.intent = 'idea' AND im.message_id IS NULL \
                     ORDER BY m.created_at, m.id LIMIT $2"
                ))
                .bind(model)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                if rows.is_empty() {
                    return Ok(out);
                }
                let mut new = Vec::with_capacity(rows.len());
                for r in &rows {
                    let id: i64 = r.try_get(0)?;
                    let bytes: Vec<u8> = r.try_get(2)?;
                    new.push((id, r.try_get(1)?, Key::Vector(decode(&bytes, id)?)));
                }
                let existing = sqlx::query(concat!(
                    "SELECT im.item_id, im.message_id, e.vector FROM idea_messages im \
                     JOIN message_embeddings e ON e.message_id = im.message_id AND ",
                    vector_of_model!(),
                    " \
                     JOIN idea_items i ON i.id = im.item_id WHERE i.merged_into IS NULL \
                     ORDER BY im.item_id, im.message_id"
                ))
                .bind(model)
                .fetch_all(&mut *tx)
                .await?;
                let mut g = VectorGrouper::new(threshold);
                for r in &existing {
                    let bytes: Vec<u8> = r.try_get(2)?;
                    g.add(r.try_get(0)?, decode(&bytes, r.try_get(1)?)?);
                }
                (new, Placer::Meaning(g))
            }
        };
        let mut touched = BTreeSet::new();
        for (message, text, key) in new {
            let (item, similarity, created) = match grouper.place(&key) {
                Placement::Join { item, similarity } => (item, Some(similarity), false),
                Placement::New { .. } => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO idea_items (title, status, created_at, updated_at) \
                         VALUES ($1, 'new', $2, $3) RETURNING id",
                    )
                    .bind(title(&text))
                    .bind(at)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    (id, None, true)
                }
            };
            // An item's first message has no similarity: a literal NULL, as PostgreSQL
            // refuses an untyped NULL bound for a DOUBLE PRECISION column.
            let sql = format!(
                "INSERT INTO idea_messages (message_id, item_id, similarity, added_by, added_at) \
                 VALUES ($1, $2, {}, 'grouping', $3) ON CONFLICT (message_id) DO NOTHING",
                match similarity {
                    Some(s) => format!("{s:.6}"),
                    None => "NULL".into(),
                }
            );
            let placed = sqlx::query(AssertSqlSafe(sql))
                .bind(message)
                .bind(item)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            if placed.rows_affected() == 0 {
                // Another run placed it meanwhile (PostgreSQL): keep no empty item.
                if created {
                    sqlx::query("DELETE FROM idea_items WHERE id = $1")
                        .bind(item)
                        .execute(&mut *tx)
                        .await?;
                }
                continue;
            }
            grouper.add(item, key);
            out.messages += 1;
            if created {
                out.new_items.push(item);
            } else {
                out.joined += 1;
                touched.insert(item);
            }
        }
        for item in &touched {
            sqlx::query("UPDATE idea_items SET updated_at = $1 WHERE id = $2")
                .bind(at)
                .bind(item)
                .execute(&mut *tx)
                .await?;
        }
        if out.messages > 0 {
            event(
                &mut tx,
                None,
                "ideas_grouped",
                "grouping",
                at,
                json!({"messages": out.messages, "joined": out.joined, "new_items": out.new_items, "by": by}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The messages grouping by meaning needs and that have no vector of `model` yet:
    /// the idea messages in no item, and the messages of the items not merged away.
    pub async fn ideas_without_vectors(&self, model: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(concat!(
            "SELECT m.id FROM messages m LEFT JOIN idea_messages im ON im.message_id = m.id \
             LEFT JOIN idea_items i ON i.id = im.item_id \
             LEFT JOIN message_embeddings e ON e.message_id = m.id AND ",
            vector_of_model!(),
            " \
             WHERE e.message_id IS NULL AND ( \
               (im.message_id IS NULL AND m.direction = 'inbound' AND m.intent = 'idea') \
               OR (im.message_id IS NOT NULL AND i.merged_into IS NULL)) \
             ORDER BY m.id"
        ))
        .bind(model)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// How many idea messages are in no item yet.
    pub async fn ungrouped_ideas(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) {UNGROUPED}")))
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// The idea items (merged ones left out; only `status` when given), the most people
    /// first, then the most recent.
    pub async fn idea_items(&self, status: Option<&str>) -> Result<Vec<IdeaItem>, StoreError> {
        let order = "HAVING COUNT(m.id) > 0 ORDER BY COUNT(DISTINCT m.person_id) DESC, MAX(m.created_at) DESC, i.id";
        let rows = match status {
            Some(s) => sqlx::query(AssertSqlSafe(format!(
                "{ITEM_SELECT} WHERE i.merged_into IS NULL AND i.status = $1 {ITEM_GROUP} {order}"
            )))
            .bind(s)
            .fetch_all(&self.pool)
            .await?,
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "{ITEM_SELECT} WHERE i.merged_into IS NULL {ITEM_GROUP} {order}"
                )))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(item_row).collect()
    }

    /// One idea item with its messages, the people who raised it and the replies drafted.
    pub async fn idea_item(&self, id: i64) -> Result<IdeaDetail, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "{ITEM_SELECT} WHERE i.id = $1 {ITEM_GROUP}"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound { what: "idea", id })?;
        let item = item_row(&row)?;
        let (merged_into,): (Option<i64>,) =
            sqlx::query_as("SELECT merged_into FROM idea_items WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(
            "SELECT m.id, m.conversation_id, m.person_id, m.platform, m.author, m.text, m.created_at, m.url, \
             im.similarity, im.added_by, p.display_name FROM idea_messages im JOIN messages m ON m.id = im.message_id \
             LEFT JOIN people p ON p.id = m.person_id WHERE im.item_id = $1 ORDER BY m.created_at, m.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        let mut people: Vec<IdeaPerson> = Vec::new();
        for r in &rows {
            let m = IdeaMessage {
                message_id: r.try_get(0)?,
                conversation_id: r.try_get(1)?,
                person_id: r.try_get(2)?,
                platform: r.try_get(3)?,
                author: r.try_get(4)?,
                text: r.try_get(5)?,
                created_at: time(r.try_get(6)?),
                url: r.try_get(7)?,
                similarity: r.try_get(8)?,
                added_by: r.try_get(9)?,
            };
            if let Some(pid) = m.person_id {
                let name: Option<String> = r.try_get(10)?;
                // Oldest first: the last message seen is the person's most recent.
                match people.iter_mut().find(|p| p.person_id == pid) {
                    Some(p) => {
                        p.handle = m.author.clone();
                        p.platform = m.platform.clone();
                        p.message_id = m.message_id;
                        p.conversation_id = m.conversation_id;
                        p.messages += 1;
                    }
                    None => people.push(IdeaPerson {
                        person_id: pid,
                        display_name: name,
                        handle: m.author.clone(),
                        platform: m.platform.clone(),
                        message_id: m.message_id,
                        conversation_id: m.conversation_id,
                        messages: 1,
                    }),
                }
            }
            messages.push(m);
        }
        let replies = sqlx::query(
            "SELECT r.status, r.person_id, r.draft_id, d.status, r.created_at FROM idea_replies r \
             LEFT JOIN drafts d ON d.id = r.draft_id WHERE r.item_id = $1 ORDER BY r.created_at, r.person_id, r.status",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(IdeaReplyRow {
                status: r.try_get(0)?,
                person_id: r.try_get(1)?,
                draft_id: r.try_get(2)?,
                draft_status: r.try_get(3)?,
                created_at: time(r.try_get(4)?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(IdeaDetail {
            item,
            message_list: messages,
            people_list: people,
            replies,
            merged_into,
        })
    }

    /// The people who already have a reply for `status` on item `id`.
    pub async fn idea_replied(&self, id: i64, status: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT person_id FROM idea_replies WHERE item_id = $1 AND status = $2 ORDER BY person_id",
        )
        .bind(id)
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Moves item `change.item` from `change.from` to `change.to` (refused when its
    /// status is no longer `change.from`, or it was merged) and drafts `replies`: for
    /// each person with no reply for `change.to` on this item yet, the draft (submitted
    /// when `submit`) and the record of it. All in one transaction, with an
    /// `idea_status` event naming the drafts. `from == to` moves nothing and drafts only
    /// the replies still missing.
    pub async fn set_idea_status(
        &self,
        change: &IdeaStatusChange<'_>,
        replies: &[IdeaReply],
        now: DateTime<Utc>,
    ) -> Result<IdeaStatusOutcome, StoreError> {
        let at = ms(now);
        let id = change.item;
        let mut tx = self.begin_write().await?;
        let current: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT status, merged_into FROM idea_items WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (status, merged) = current.ok_or(StoreError::NotFound { what: "idea", id })?;
        if let Some(into) = merged {
            return Err(StoreError::Invalid(format!(
                "idea {id} was merged into idea {into}: change idea {into}'s status instead"
            )));
        }
        let moved_away = || {
            StoreError::Invalid(format!(
                "idea {id} is {status} now, not {}: someone changed it meanwhile; `rapport ideas show {id}` shows it",
                change.from
            ))
        };
        if status != change.from {
            return Err(moved_away());
        }
        let mut out = IdeaStatusOutcome {
            moved: change.from != change.to,
            ..IdeaStatusOutcome::default()
        };
        if out.moved {
            let done = sqlx::query(
                "UPDATE idea_items SET status = $1, updated_at = $2, status_changed_at = $3 \
                 WHERE id = $4 AND status = $5 AND merged_into IS NULL",
            )
            .bind(change.to)
            .bind(at)
            .bind(at)
            .bind(id)
            .bind(change.from)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(moved_away());
            }
        }
        for r in replies {
            let claimed: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO idea_replies (item_id, status, person_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (item_id, status, person_id) DO NOTHING RETURNING person_id",
            )
            .bind(id)
            .bind(change.to)
            .bind(r.person_id)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if claimed.is_none() {
                out.already.push(r.person_id);
                continue;
            }
            let draft = insert_draft(&mut tx, &r.draft, at).await?;
            if r.submit {
                sqlx::query(
                    "UPDATE drafts SET status = 'pending_approval', updated_at = $1 WHERE id = $2 AND status = 'draft'",
                )
                .bind(at)
                .bind(draft)
                .execute(&mut *tx)
                .await?;
                event(
                    &mut tx,
                    None,
                    "draft_submitted",
                    &r.draft.author,
                    at,
                    json!({"draft": draft, "from": "draft", "to": "pending_approval", "idea": id}),
                )
                .await?;
            }
            sqlx::query(
                "UPDATE idea_replies SET draft_id = $1 WHERE item_id = $2 AND status = $3 AND person_id = $4",
            )
            .bind(draft)
            .bind(id)
            .bind(change.to)
            .bind(r.person_id)
            .execute(&mut *tx)
            .await?;
            out.drafted.push(DraftedReply {
                person_id: r.person_id,
                draft_id: draft,
                submitted: r.submit,
            });
        }
        if out.moved || !out.drafted.is_empty() {
            let mut data = json!({
                "idea": id,
                "from": change.from,
                "to": change.to,
                "drafts": out.drafted.iter().map(|d| d.draft_id).collect::<Vec<_>>(),
            });
            if let Some(n) = change.note {
                data["note"] = json!(n);
            }
            event(&mut tx, None, "idea_status", change.actor, at, data).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn standing_item(
        conn: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<(String, Option<i64>), StoreError> {
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT status, merged_into FROM idea_items WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        match row {
            None => Err(StoreError::NotFound { what: "idea", id }),
            Some((_, Some(into))) => Err(StoreError::Invalid(format!(
                "idea {id} was merged into idea {into}: use idea {into}"
            ))),
            Some(r) => Ok(r),
        }
    }

    /// Merges item `from` into item `into` (same idea, grouped apart): its messages move,
    /// it is kept as merged (its history stays), and the replies its people already had
    /// count for `into` too, so nobody is told twice. `into` keeps its status.
    pub async fn merge_ideas(
        &self,
        from: i64,
        into: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        if from == into {
            return Err(StoreError::Invalid(format!(
                "cannot merge idea {from} into itself: name two ideas"
            )));
        }
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        Self::standing_item(&mut tx, from).await?;
        Self::standing_item(&mut tx, into).await?;
        let moved = sqlx::query("UPDATE idea_messages SET item_id = $1 WHERE item_id = $2")
            .bind(into)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO idea_replies (item_id, status, person_id, draft_id, created_at) \
             SELECT $1, status, person_id, draft_id, created_at FROM idea_replies WHERE item_id = $2 \
             ON CONFLICT (item_id, status, person_id) DO NOTHING",
        )
        .bind(into)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE idea_items SET merged_into = $1, updated_at = $2 WHERE id = $3")
            .bind(into)
            .bind(at)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE idea_items SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(into)
            .execute(&mut *tx)
            .await?;
        let moved = i64::try_from(moved).unwrap_or(i64::MAX);
        event(
            &mut tx,
            None,
            "idea_merged",
            actor,
            at,
            json!({"idea": into, "from": from, "messages": moved}),
        )
        .await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Puts message `message` into item `item` (taking it out of the item that held it,
    /// if any): an agent correcting the grouping. Any inbound message may be put in an
    /// item. Returns the item it left.
    pub async fn move_idea_message(
        &self,
        message: i64,
        item: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let at = ms(now);
        let mut tx = self.begin_write().await?;
        Self::standing_item(&mut tx, item).await?;
        let found: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT m.direction, im.item_id FROM messages m LEFT JOIN idea_messages im ON im.message_id = m.id \
             WHERE m.id = $1",
        )
        .bind(message)
        .fetch_optional(&mut *tx)
        .await?;
        let (direction, old) = found.ok_or(StoreError::NotFound {
            what: "message",
            id: message,
        })?;
        if direction != "inbound" {
            return Err(StoreError::Invalid(format!(
                "message {message} is the organisation's own: only what people wrote can be an idea"
            )));
        }
        if old == Some(item) {
            return Ok(old);
        }
        match old {
            Some(_) => {
                sqlx::query(
                    "UPDATE idea_messages SET item_id = $1, similarity = NULL, added_by = $2, added_at = $3 \
                     WHERE message_id = $4",
                )
                .bind(item)
                .bind(actor)
                .bind(at)
                .bind(message)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO idea_messages (message_id, item_id, similarity, added_by, added_at) \
                     VALUES ($1, $2, NULL, $3, $4)",
                )
                .bind(message)
                .bind(item)
                .bind(actor)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE idea_items SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(item)
            .execute(&mut *tx)
            .await?;
        event(
            &mut tx,
            None,
            "idea_moved",
            actor,
            at,
            json!({"idea": item, "message": message, "from": old}),
        )
        .await?;
        tx.commit().await?;
        Ok(old)
    }

    /// Items by status (merged and empty ones left out): how many of each.
    pub async fn idea_status_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT i.status, COUNT(DISTINCT i.id) FROM idea_items i JOIN idea_messages im ON im.item_id = i.id \
             WHERE i.merged_into IS NULL GROUP BY i.status",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}
