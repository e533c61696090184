//! Relationships as the CLI, the API and the web pages show them: a person with their
//! ledger, strength and at-risk reasons; Return on Relationship with its advocates and
//! at-risk people; advocates ranked by positive engagement × reach. One gathering for
//! every surface, so the numbers agree.

use chrono::{DateTime, Duration, Utc};
use rapport_core::config::Config;
use rapport_core::digest::{RankedAdvocate, rank_advocates};
use rapport_core::relationship::{Ror, ror};
use rapport_store::{MessageRow, PersonDetail, PersonMerge, Relationship, Store, StoreError};
use serde::Serialize;

/// A person with their relationship.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    /// Identities, conversations, sentiment over time.
    #[serde(flatten)]
    pub person: PersonDetail,
    /// Ledger, strength with its terms, advocate, at-risk reasons (absent for a person
    /// with no message, e.g. one merged into another).
    pub relationship: Option<Relationship>,
    /// Their messages and our replies to them, newest first (the last 100).
    pub timeline: Vec<MessageRow>,
    /// The merges they took part in, newest first.
    pub merges: Vec<PersonMerge>,
}

/// One person, everything about them, at `now`.
pub async fn person(
    store: &Store,
    config: &Config,
    id: i64,
    now: DateTime<Utc>,
) -> Result<PersonView, StoreError> {
    let person = store.person(id).await?;
    let relationship = store
        .relationships(Some(id), now, &config.relationships)
        .await?
        .pop();
    Ok(PersonView {
        person,
        relationship,
        timeline: store.person_timeline(id, 100).await?,
        merges: store.person_merges(id).await?,
    })
}

/// A person at risk and why.
#[derive(Debug, Clone, Serialize)]
pub struct AtRiskPerson {
    /// The person.
    pub person_id: i64,
    /// Their display name.
    pub name: String,
    /// Their strength.
    pub strength: f64,
    /// Each reason, in words.
    pub reasons: Vec<String>,
}

/// A strong relationship.
#[derive(Debug, Clone, Serialize)]
pub struct StrongPerson {
    /// The person.
    pub person_id: i64,
    /// Their display name.
    pub name: String,
    /// Their strength.
    pub strength: f64,
    /// Their mean compound.
    pub mean_compound: Option<f64>,
}

/// Return on Relationship, with who is behind it.
#[derive(Debug, Clone, Serialize)]
pub struct RorReport {
    /// When it was computed for.
    pub at: DateTime<Utc>,
    /// The window of "active", in days.
    pub window_days: u32,
    /// ROR and its counts.
    #[serde(flatten)]
    pub ror: Ror,
    /// The advocates (strength and mean compound over the thresholds), strongest first.
    pub top_advocates: Vec<StrongPerson>,
    /// The people at risk, most urgent first (an unanswered conversation before a
    /// falling sentiment, then the weaker relationship first).
    pub at_risk_people: Vec<AtRiskPerson>,
}

/// ROR at `now`, listing at most `limit` advocates and `limit` people at risk.
pub async fn ror_report(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<RorReport, StoreError> {
    let cfg = &config.relationships;
    let all = store.relationships(None, now, cfg).await?;
    let active: Vec<_> = all
        .iter()
        .filter(|r| r.facts.recent_interactions > 0)
        .map(|r| (r.strength, r.advocate))
        .collect();
    let at_risk_count = all.iter().filter(|r| !r.at_risk.is_empty()).count() as u64;
    let summary = ror(&active, at_risk_count);

    let mut advocates: Vec<&Relationship> = all
        .iter()
        .filter(|r| r.facts.recent_interactions > 0 && r.advocate)
        .collect();
    advocates.sort_by(|a, b| {
        b.strength
            .score
            .total_cmp(&a.strength.score)
            .then(a.person_id.cmp(&b.person_id))
    });
    advocates.truncate(limit);
    let mut risky: Vec<&Relationship> = all.iter().filter(|r| !r.at_risk.is_empty()).collect();
    risky.sort_by(|a, b| {
        let unanswered = |r: &Relationship| {
            !matches!(
                r.at_risk.first(),
                Some(rapport_core::relationship::AtRisk::Unanswered { .. })
            )
        };
        unanswered(a)
            .cmp(&unanswered(b))
            .then(a.strength.score.total_cmp(&b.strength.score))
            .then(a.person_id.cmp(&b.person_id))
    });
    risky.truncate(limit);
    let ids: Vec<i64> = advocates
        .iter()
        .chain(risky.iter())
        .map(|r| r.person_id)
        .collect();
    let names = store.display_names(&ids).await?;
    let name = |id: i64| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("person {id}"))
    };
    Ok(RorReport {
        at: now,
        window_days: cfg.window_days,
        ror: summary,
        top_advocates: advocates
            .iter()
            .map(|r| StrongPerson {
                person_id: r.person_id,
                name: name(r.person_id),
                strength: r.strength.score,
                mean_compound: r.facts.mean_compound,
            })
            .collect(),
        at_risk_people: risky
            .iter()
            .map(|r| AtRiskPerson {
                person_id: r.person_id,
                name: name(r.person_id),
                strength: r.strength.score,
                reasons: r.at_risk.iter().map(|a| a.describe()).collect(),
            })
            .collect(),
    })
}

/// One advocate with how they are reached.
#[derive(Debug, Clone, Serialize)]
pub struct AdvocateLine {
    /// Rank, score and the facts behind it.
    #[serde(flatten)]
    pub ranked: RankedAdvocate,
    /// Their display name.
    pub name: String,
    /// Their largest account, `platform:handle`.
    pub account: Option<String>,
}

/// The people with the most positive engagement × reach over the last `days` days:
/// positive messages (compound ≥ 0.05, spam left out) × log10(followers + 10), as the
/// digest ranks them.
pub async fn advocates(
    store: &Store,
    now: DateTime<Utc>,
    days: u32,
    limit: usize,
) -> Result<Vec<AdvocateLine>, StoreError> {
    let facts = store
        .positive_authors(now - Duration::days(i64::from(days)), now, None)
        .await?;
    let ranked = rank_advocates(&facts, limit);
    let ids: Vec<i64> = ranked.iter().map(|r| r.person_id).collect();
    let accounts = store.person_accounts(&ids).await?;
    Ok(ranked
        .into_iter()
        .map(|r| {
            let first = accounts.iter().find(|a| a.person_id == r.person_id);
            AdvocateLine {
                name: first
                    .and_then(|a| a.display_name.clone())
                    .unwrap_or_else(|| format!("person {}", r.person_id)),
                account: first.map(|a| format!("{}:{}", a.platform, a.handle)),
                ranked: r,
            }
        })
        .collect())
}
