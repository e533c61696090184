//! rapport's core: the domain types and every decision rapport makes about a message
//! or a conversation, as pure functions with no I/O and no async.
//!
//! - [`sentiment`]: a VADER-compatible analyser (same scores as vaderSentiment 3.3.2).
//! - [`intent`]: explainable cue-phrase rules that name the rule that fired.
//! - [`priority`]: the priority score, its terms, and the P1–P4 bands.
//! - [`routing`]: rules that pick a team, and round-robin assignment inside it.
//! - [`sla`]: due times, on the clock or on a team's business hours.
//! - [`metrics`]: FRT, NRT, response rate, resolution time, SLA attainment and the rest,
//!   exactly as `docs/metrics.md` defines them.
//! - [`config`]: the typed form of `rapport.toml`; [`channel`]: its `[[channel]]`s.
//! - [`listening`]: listening topics, matched in one pass; [`spike`]: spike detection.
//! - [`query`]: the search query language and its in-memory decision.
//! - [`access`]: the roles and what each may do.
//! - [`draft`]: drafts, their approval workflow, who approves them, platform length
//!   limits; [`principles`]: the organisation's principles and the checks of a draft
//!   against them; [`guards`]: the leaders' key-message cadence and the
//!   engage-vs-broadcast guard.
//! - [`digest`]: the leader digest's trends, advocate ranking and idea groups.
//! - [`relationship`]: the reciprocity ledger, relationship strength, ROR, at-risk
//!   relationships and suggested merges of identities.
//! - [`tribe`]: the tribe graph: who talks with whom, its communities and bridges.
//! - [`learn`]: the classifier learned from the team's corrections.
//! - [`ideas`]: the ideas loop: idea items grouped by similarity, their statuses and
//!   the replies drafted when a status changes.
//! - [`semantic`]: sentence embeddings as vectors: their storage, exact nearest-neighbour
//!   search, the digest's themes and grouping ideas by meaning.
#![deny(missing_docs)]

pub mod access;
pub mod channel;
pub mod config;
pub mod digest;
pub mod draft;
pub mod guards;
pub mod ideas;
pub mod intent;
pub mod learn;
pub mod listening;
pub mod metrics;
pub mod model;
pub mod principles;
pub mod priority;
pub mod query;
pub mod relationship;
pub mod routing;
pub mod semantic;
pub mod sentiment;
pub mod sla;
pub mod spike;
pub mod triage;
pub mod tribe;

pub use model::*;
