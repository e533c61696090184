//! The edges of the tribe graph for a time window (docs/tribe.md): who replied to and
//! mentioned whom, read from the stored messages. [`rapport_core::tribe::analyse`] does
//! the rest.
//!
//! - **Nodes**: a message written by a member of the public is its person's (by person
//!   id). An outbound message is the organisation's: the own account that wrote it when
//!   its author is one of `[organisation] accounts`, otherwise (an agent's reply, written
//!   under the agent's name) the own account that wrote most outbound messages on that
//!   platform, or, when none did, a node named after the platform.
//! - **Replies**: a message in the window whose `in_reply_to` names another stored
//!   message on the same platform: its author → the parent's author. Counted in SQL.
//! - **Mentions**: each distinct `@handle` in the text of a message in the window
//!   ([`rapport_core::tribe::mentions`]) that is one of the organisation's accounts or a
//!   known identity: on the message's platform first, then, for a full handle (one with
//!   a dot or an `@`, such as `alice.bsky.social` or `user@instance`), on any platform.
//!   Handles compare without regard to ASCII case. A mention that names nobody known is
//!   not an edge.
//! - **Reshares**: rapport stores how many times a message was reshared, not who
//!   reshared it (the connectors skip reposts and boosts), so there are no reshare edges
//!   yet; the kind exists for when they are ingested.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_core::tribe::{EdgeKind, NodeKey, TribeEdge, TribeInput, mentions};
use sqlx::AssertSqlSafe;

use crate::{Store, StoreError, ms};

/// A count of replies: platform, the reply's direction, person and author, the
/// parent's direction, person and author, and how many.
type ReplyRow = (
    String,
    String,
    Option<i64>,
    String,
    String,
    Option<i64>,
    String,
    i64,
);

/// People looked up per statement (well under either backend's limit on parameters).
const CHUNK: usize = 500;

impl Store {
    /// The tribe graph's edges, labels and per-person intents for messages written in
    /// `[since, until)`. `accounts` are the organisation's own handles (`[organisation]
    /// accounts`), `org_name` names the node of a platform none of them wrote on.
    pub async fn tribe_input(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        accounts: &[String],
        org_name: &str,
    ) -> Result<TribeInput, StoreError> {
        let (since, until) = (ms(since), ms(until));
        let own: Vec<String> = accounts
            .iter()
            .map(|a| a.trim().trim_start_matches('@').to_string())
            .filter(|a| !a.is_empty())
            .collect();
        let own_key = |handle: &str| {
            let h = handle.trim_start_matches('@');
            own.iter().find(|a| a.eq_ignore_ascii_case(h)).cloned()
        };

        // The organisation's account on each platform: the own account that wrote most
        // outbound messages there.
        let authors: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT platform, author, CAST(COUNT(*) AS BIGINT) FROM messages \
             WHERE direction = 'outbound' GROUP BY platform, author ORDER BY platform, author",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut primary: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for (platform, author, n) in &authors {
            if let Some(account) = own_key(author) {
                let best = primary
                    .entry(platform.clone())
                    .or_insert((0, account.clone()));
                if *n > best.0 {
                    *best = (*n, account);
                }
            }
        }
        let mut labels: BTreeMap<NodeKey, String> = BTreeMap::new();
        let org_node = |platform: &str, author: &str| -> NodeKey {
            match own_key(author) {
                Some(account) => NodeKey::Account(account),
                None => match primary.get(platform) {
                    Some((_, account)) => NodeKey::Account(account.clone()),
                    None => NodeKey::Account(platform.to_string()),
                },
            }
        };
        let node = |direction: &str, person: Option<i64>, platform: &str, author: &str| match (
            direction, person,
        ) {
            ("inbound", Some(p)) => Some(NodeKey::Person(p)),
            ("inbound", None) => None,
            _ => Some(org_node(platform, author)),
        };

        let mut edges: Vec<TribeEdge> = Vec::new();
        // Replies, counted per pair of authors.
        let replies: Vec<ReplyRow> =
            sqlx::query_as(
                "SELECT c.platform, c.direction, c.person_id, c.author, \
                 p.direction, p.person_id, p.author, CAST(COUNT(*) AS BIGINT) \
                 FROM messages c JOIN messages p ON p.platform = c.platform AND p.platform_id = c.in_reply_to \
                 WHERE c.in_reply_to IS NOT NULL AND c.created_at >= $1 AND c.created_at < $2 \
                 GROUP BY c.platform, c.direction, c.person_id, c.author, p.direction, p.person_id, p.author \
                 ORDER BY c.platform, c.direction, c.person_id, c.author, p.direction, p.person_id, p.author",
            )
            .bind(since)
            .bind(until)
            .fetch_all(&self.pool)
            .await?;
        for (platform, c_dir, c_person, c_author, p_dir, p_person, p_author, n) in replies {
            if let (Some(from), Some(to)) = (
                node(&c_dir, c_person, &platform, &c_author),
                node(&p_dir, p_person, &platform, &p_author),
            ) {
                edges.push(TribeEdge {
                    from,
                    to,
                    kind: EdgeKind::Reply,
                    count: n.max(0) as u64,
                });
            }
        }

        // Mentions: the texts with an `@`, resolved against the known identities.
        let texts: Vec<(String, String, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT platform, direction, person_id, author, text FROM messages \
             WHERE created_at >= $1 AND created_at < $2 AND text LIKE '%@%' ORDER BY id",
        )
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        let mut on_platform: HashMap<(String, String), i64> = HashMap::new();
        let mut anywhere: HashMap<String, i64> = HashMap::new();
        if !texts.is_empty() {
            let identities: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT platform, handle, person_id FROM identities ORDER BY platform, handle",
            )
            .fetch_all(&self.pool)
            .await?;
            for (platform, handle, person) in identities {
                let handle = handle.trim_start_matches('@').to_ascii_lowercase();
                if handle.contains(['.', '@']) {
                    anywhere.entry(handle.clone()).or_insert(person);
                }
                on_platform.entry((platform, handle)).or_insert(person);
            }
        }
        let mut mentioned: BTreeMap<(NodeKey, NodeKey), u64> = BTreeMap::new();
        for (platform, direction, person, author, text) in &texts {
            let Some(from) = node(direction, *person, platform, author) else {
                continue;
            };
            for handle in mentions(text) {
                let to = match own_key(&handle) {
                    Some(account) => NodeKey::Account(account),
                    None => match on_platform
                        .get(&(platform.clone(), handle.clone()))
                        .or_else(|| anywhere.get(&handle))
                    {
                        Some(&p) => NodeKey::Person(p),
                        None => continue,
                    },
                };
                *mentioned.entry((from.clone(), to)).or_default() += 1;
            }
        }
        edges.extend(mentioned.into_iter().map(|((from, to), count)| TribeEdge {
            from,
            to,
            kind: EdgeKind::Mention,
            count,
        }));

        // Labels: people by display name (else a handle), accounts by handle.
        let mut people: Vec<i64> = edges
            .iter()
            .flat_map(|e| [&e.from, &e.to])
            .filter_map(|k| match k {
                NodeKey::Person(p) => Some(*p),
                NodeKey::Account(_) => None,
            })
            .collect();
        people.sort_unstable();
        people.dedup();
        for chunk in people.chunks(CHUNK) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut q =
                sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(AssertSqlSafe(format!(
                    "SELECT p.id, p.display_name, MIN(i.handle) FROM people p \
                     LEFT JOIN identities i ON i.person_id = p.id WHERE p.id IN ({list}) \
                     GROUP BY p.id, p.display_name"
                )));
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, name, handle) in q.fetch_all(&self.pool).await? {
                let name = name
                    .filter(|n| !n.trim().is_empty())
                    .or(handle)
                    .unwrap_or_else(|| format!("person {id}"));
                labels.insert(NodeKey::Person(id), name);
            }
        }
        for e in &edges {
            for k in [&e.from, &e.to] {
                if let NodeKey::Account(handle) = k
                    && !labels.contains_key(k)
                {
                    let label = if own_key(handle).is_some() {
                        handle.clone()
                    } else {
                        format!("{org_name} on {handle}")
                    };
                    labels.insert(k.clone(), label);
                }
            }
        }

        // What people wrote about: their inbound messages' intents.
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT person_id, intent, CAST(COUNT(*) AS BIGINT) FROM messages \
             WHERE direction = 'inbound' AND person_id IS NOT NULL \
             AND created_at >= $1 AND created_at < $2 GROUP BY person_id, intent",
        )
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        let mut intents: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
        for (person, intent, n) in rows {
            if people.binary_search(&person).is_ok() {
                intents
                    .entry(person)
                    .or_default()
                    .insert(intent, n.max(0) as u64);
            }
        }
        Ok(TribeInput {
            edges,
            labels,
            intents,
        })
    }
}
