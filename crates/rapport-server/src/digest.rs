//! The leader digest: what a leader needs from the day or the week ending now, beside
//! the one before it — themes, net sentiment, escalations and open P1s, SLA attainment,
//! top advocates, new ideas and spikes. Strategy, not tickets: individual conversations
//! appear only as escalations and open P1s, and only at P1 or P2.
//!
//! [`build`] gathers it from the store for the CLI and the API alike, reusing the
//! report ([`crate::reports::build`]) for every number the report defines; [`render`]
//! writes it as text, markdown or a self-contained HTML page (its JSON is the
//! [`Digest`] itself). The comparisons and rankings are `rapport_core::digest`'s.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rapport_core::config::Config;
use rapport_core::digest::{
    ADVOCATE_FORMULA, DigestPeriod, IdeaFacts, IdeaGroup, Trend, group_ideas, rank_advocates,
    snippet,
};
use rapport_core::listening::TopicKind;
use rapport_core::metrics::TeamReport;
use rapport_core::semantic::{self, PreviousTally, ThemeInput};
use rapport_core::{Band, Intent};
use rapport_semantic::MODEL_NAME;
use rapport_store::{ConversationRow, PeriodMessage, Store};
use serde::Serialize;

use crate::reports::{self, ReportError};
use crate::semantic::compute;

/// At most this many topics, and this many labels, under themes.
pub const MAX_THEMES: usize = 8;
/// At most this many conversations listed under escalations, and under open P1s.
pub const MAX_CONVERSATIONS: u32 = 10;
/// At most this many advocates.
pub const MAX_ADVOCATES: usize = 10;
/// At most this many groups of ideas.
pub const MAX_IDEA_GROUPS: usize = 8;
/// At most this many spike alerts listed (all are counted).
pub const MAX_SPIKES: usize = 10;
/// Characters of a conversation's first message shown as what it is about.
const WHAT_CHARS: usize = 100;
/// At most this many example messages per theme by meaning.
pub const MAX_THEME_EXAMPLES: usize = 2;
/// What the digest says when themes by meaning are off.
pub const SEMANTIC_OFF_HINT: &str = "themes by meaning are off: no message has a sentence embedding yet. \
     Install the model with `rapport semantic install`, then embed the messages with `rapport semantic index` \
     (`rapport serve` keeps them current); see docs/semantic.md";

/// The digest; its JSON form is `rapport digest --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    /// The organisation's name.
    pub organisation: String,
    /// Day or week.
    pub period: DigestPeriod,
    /// The team it covers, if one.
    pub team: Option<String>,
    /// Start of the period (included).
    pub since: DateTime<Utc>,
    /// End of the period (excluded): now.
    pub until: DateTime<Utc>,
    /// Start of the period it is compared with, which ends at `since`.
    pub previous_since: DateTime<Utc>,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// Listening topics and conversation labels.
    pub themes: Themes,
    /// Net sentiment of inbound messages.
    pub sentiment: SentimentSection,
    /// Conversations escalated in the period.
    pub escalations: Escalations,
    /// P1 conversations not resolved now.
    pub open_p1: OpenP1,
    /// SLA attainment and first response time, overall and per team.
    pub sla: SlaSection,
    /// The people who spoke best of the organisation, weighted by reach.
    pub advocates: Advocates,
    /// Ideas from the community.
    pub ideas: Ideas,
    /// Spike alerts raised in the period.
    pub spikes: Spikes,
    /// How each number is defined.
    pub notes: Vec<String>,
}

/// What people talked about.
#[derive(Debug, Clone, Serialize)]
pub struct Themes {
    /// The period's inbound messages clustered by meaning (their sentence embeddings),
    /// or why there are none.
    pub semantic_themes: SemanticThemes,
    /// Listening topics with inbound messages in either period, busiest first.
    pub topics: Vec<TopicTheme>,
    /// Labels of the conversations opened (`topic:` labels left out: they are the
    /// topics), most used first.
    pub labels: Vec<LabelTheme>,
    /// Share of voice (brand ÷ brand + competitors), when topics of those kinds exist.
    pub share_of_voice: Option<Trend>,
    /// `true` in a team's digest: topics and share of voice still cover the whole
    /// organisation, not the team.
    pub organisation_wide: bool,
}

/// One listening topic.
#[derive(Debug, Clone, Serialize)]
pub struct TopicTheme {
    /// The topic.
    pub topic: String,
    /// brand, product, competitor, campaign or other.
    pub kind: String,
    /// Inbound messages that matched it.
    pub messages: Trend,
    /// Their net sentiment.
    pub net_sentiment: Option<f64>,
}

/// Themes by meaning: the period's inbound messages (spam left out) clustered by their
/// stored sentence embeddings (`rapport_core::semantic::themes`). The digest only reads
/// vectors that the embedding job wrote; it never needs the model.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticThemes {
    /// Whether the semantic layer is on: some inbound message has a vector of the model.
    /// When `false`, `themes` is empty and `hint` says how to turn it on.
    pub on: bool,
    /// The model whose vectors are clustered.
    pub model: String,
    /// Inbound messages of the period (spam left out).
    pub messages: u64,
    /// Of which have a vector: the ones clustered, and what `share` is a share of.
    pub embedded: u64,
    /// Of which have none yet, and are in no theme.
    pub not_embedded: u64,
    /// The themes, largest first.
    pub themes: Vec<SemanticTheme>,
    /// When off, how to turn it on.
    pub hint: Option<String>,
}

/// One theme by meaning.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticTheme {
    /// Its most telling words, most telling first.
    pub words: Vec<String>,
    /// Its messages in the period.
    pub size: u64,
    /// Its share of the period's embedded messages, in [0, 1].
    pub share: f64,
    /// Its size against the embedded messages of the period before that are closest to
    /// its centroid, at a cosine of `rapport_core::semantic::PREVIOUS_COSINE` or more.
    pub messages: Trend,
    /// Its messages' mean compound score.
    pub mean_compound: f64,
    /// The share of its messages that are negative (compound ≤ −0.05).
    pub negative_share: f64,
    /// The share that are positive (compound ≥ 0.05).
    pub positive_share: f64,
    /// Up to two of its messages closest to its centroid, closest first.
    pub examples: Vec<ThemeExample>,
}

/// A message quoted as an example of a theme.
#[derive(Debug, Clone, Serialize)]
pub struct ThemeExample {
    /// The message's id.
    pub message: i64,
    /// Who wrote it.
    pub author: String,
    /// The start of its text.
    pub text: String,
}

/// One label.
#[derive(Debug, Clone, Serialize)]
pub struct LabelTheme {
    /// The label.
    pub label: String,
    /// Conversations opened with it (spam left out).
    pub conversations: Trend,
}

/// Net sentiment, as `docs/metrics.md` defines it.
#[derive(Debug, Clone, Serialize)]
pub struct SentimentSection {
    /// (positive − negative) ÷ inbound messages.
    pub net_sentiment: Trend,
    /// Inbound messages.
    pub inbound: Trend,
    /// Of which positive (compound ≥ 0.05).
    pub positive: u64,
    /// Of which negative (compound ≤ −0.05).
    pub negative: u64,
}

/// One conversation, in one line: the only individual conversations a digest shows.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationLine {
    /// Its id.
    pub conversation: i64,
    /// Its band now (P1 or P2).
    pub band: Band,
    /// Its intent.
    pub intent: String,
    /// open, pending, snoozed or resolved.
    pub status: String,
    /// Who started it.
    pub who: String,
    /// On which platform.
    pub platform: String,
    /// Their followers, when known.
    pub followers: Option<i64>,
    /// The start of its first message.
    pub what: String,
    /// The team that owns it.
    pub team: Option<String>,
    /// The member it is assigned to.
    pub owner: Option<String>,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// How long it has been open, in seconds; `None` once resolved.
    pub open_for_s: Option<f64>,
    /// When it was last escalated in the period.
    pub escalated_at: Option<DateTime<Utc>>,
    /// Why it was escalated: `SLA breach: P3 → P2`, `rule "high-reach complaint":
    /// notify leaders`.
    pub why: Option<String>,
}

/// Escalations in the period.
#[derive(Debug, Clone, Serialize)]
pub struct Escalations {
    /// Escalation events (SLA breaches moved up a band, rules that notify at once).
    pub count: Trend,
    /// Conversations they concern.
    pub conversations: u64,
    /// Events that were SLA breaches.
    pub sla_breaches: u64,
    /// Events that were routing rules notifying someone.
    pub rule_notifications: u64,
    /// The escalated conversations now at P1 or P2, most urgent then latest first.
    pub listed: Vec<ConversationLine>,
    /// Escalated conversations now at P3 or P4: counted, never listed.
    pub below_p2: u64,
    /// Escalated conversations at P1 or P2 beyond the list's length.
    pub more: u64,
}

/// P1 conversations not resolved now.
#[derive(Debug, Clone, Serialize)]
pub struct OpenP1 {
    /// How many (open, pending or snoozed).
    pub total: u64,
    /// P1 conversations opened in the period.
    pub opened: Trend,
    /// The ones with the highest priority score.
    pub listed: Vec<ConversationLine>,
}

/// SLA attainment and FRT of one team, or of all.
#[derive(Debug, Clone, Serialize)]
pub struct SlaLine {
    /// The team (`all` for every conversation).
    pub team: String,
    /// Conversations opened, spam left out.
    pub conversations: Trend,
    /// SLA attainment: met ÷ (met + breached).
    pub attainment: Trend,
    /// Met.
    pub met: u64,
    /// Breached.
    pub breached: u64,
    /// Unanswered and not yet due.
    pub pending: u64,
    /// Median first response time, seconds.
    pub frt_median_s: Trend,
}

/// SLA attainment, overall and per team.
#[derive(Debug, Clone, Serialize)]
pub struct SlaSection {
    /// Every conversation of the digest.
    pub overall: SlaLine,
    /// Per team (`unrouted` for none), by name; empty in a team's digest.
    pub teams: Vec<SlaLine>,
}

/// One advocate.
#[derive(Debug, Clone, Serialize)]
pub struct AdvocateLine {
    /// The person.
    pub person: i64,
    /// Their name, or their handle.
    pub name: String,
    /// Their largest account.
    pub account: String,
    /// Its platform.
    pub platform: String,
    /// Positive inbound messages in the period.
    pub positive: u64,
    /// Followers, summed over their accounts.
    pub followers: u64,
    /// The advocate score ([`ADVOCATE_FORMULA`]).
    pub score: f64,
}

/// Top advocates.
#[derive(Debug, Clone, Serialize)]
pub struct Advocates {
    /// How they are ranked.
    pub formula: String,
    /// People who wrote at least one positive message in the period.
    pub positive_authors: u64,
    /// The top ones.
    pub people: Vec<AdvocateLine>,
}

/// Ideas from the community.
#[derive(Debug, Clone, Serialize)]
pub struct Ideas {
    /// Inbound messages of intent idea.
    pub count: Trend,
    /// Distinct authors.
    pub authors: u64,
    /// Grouped by a shared topic, label or words, else by their text; largest first.
    pub groups: Vec<IdeaGroup>,
    /// Ideas in groups beyond the ones shown.
    pub ungrouped: u64,
}

/// One spike alert.
#[derive(Debug, Clone, Serialize)]
pub struct SpikeLine {
    /// The bucket that spiked.
    pub bucket_start: DateTime<Utc>,
    /// Its end.
    pub bucket_end: DateTime<Utc>,
    /// What happened.
    pub headline: String,
}

/// Spike alerts.
#[derive(Debug, Clone, Serialize)]
pub struct Spikes {
    /// Alerts raised for buckets in the period.
    pub count: Trend,
    /// The newest ones.
    pub alerts: Vec<SpikeLine>,
    /// `true` in a team's digest: spikes are detected over the whole organisation, not
    /// the team.
    pub organisation_wide: bool,
}

/// The digest for the `period` ending at `now`, for `team` or all.
pub async fn build(
    store: &Store,
    config: &Config,
    period: DigestPeriod,
    team: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Digest, ReportError> {
    let since = now - period.length();
    let previous_since = since - period.length();
    // Every number the report defines comes from the report (it also checks the team).
    let current = reports::build(store, config, Some(since), Some(now), team, now).await?;
    let before =
        reports::build(store, config, Some(previous_since), Some(since), team, now).await?;

    let listening_now = match current.listening.clone() {
        Some(l) => l,
        None => reports::listening(store, config, Some(since), Some(now)).await?,
    };
    let listening_before = match before.listening.clone() {
        Some(l) => l,
        None => reports::listening(store, config, Some(previous_since), Some(since)).await?,
    };
    let themes = themes(
        store,
        config,
        (&listening_now, &listening_before),
        (since, now, previous_since),
        team,
    )
    .await?;

    let sentiment = SentimentSection {
        net_sentiment: Trend::difference(current.report.net_sentiment, before.report.net_sentiment),
        inbound: Trend::count(
            current.report.inbound_messages,
            before.report.inbound_messages,
        ),
        positive: current.report.inbound_positive,
        negative: current.report.inbound_negative,
    };

    let escalations = escalations(store, (since, now, previous_since), team, now).await?;

    let (p1_total, p1_rows) = store
        .unresolved_in_band(Band::P1, team, MAX_CONVERSATIONS)
        .await?;
    let p1_opened = |b: &BTreeMap<String, i64>| b.get("P1").copied().unwrap_or(0).max(0) as u64;
    let open_p1 = OpenP1 {
        total: p1_total.max(0) as u64,
        opened: Trend::count(
            p1_opened(&current.by_priority),
            p1_opened(&before.by_priority),
        ),
        listed: p1_rows
            .iter()
            .map(|r| line(&r.conversation, r.followers, now, None, None))
            .collect(),
    };

    let sla = sla(&current.report, &before.report, team);

    let candidates = store.positive_authors(since, now, team).await?;
    let ranked = rank_advocates(&candidates, MAX_ADVOCATES);
    let ids: Vec<i64> = ranked.iter().map(|r| r.person_id).collect();
    let accounts = store.person_accounts(&ids).await?;
    let advocates = Advocates {
        formula: ADVOCATE_FORMULA.to_string(),
        positive_authors: candidates.len() as u64,
        people: ranked
            .iter()
            .map(|r| {
                let first = accounts.iter().find(|a| a.person_id == r.person_id);
                let account = first.map(|a| a.handle.clone()).unwrap_or_default();
                AdvocateLine {
                    person: r.person_id,
                    name: first
                        .and_then(|a| a.display_name.clone())
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| account.clone()),
                    account,
                    platform: first.map(|a| a.platform.clone()).unwrap_or_default(),
                    positive: r.positive,
                    followers: r.followers,
                    score: r.score,
                }
            })
            .collect(),
    };

    let ideas = ideas(store, config, (since, now, previous_since), team).await?;

    let alerts_now = store.alerts(Some(since), Some(now), 10_000).await?;
    let alerts_before = store
        .alerts(Some(previous_since), Some(since), 10_000)
        .await?;
    let spikes = Spikes {
        count: Trend::count(alerts_now.len() as u64, alerts_before.len() as u64),
        alerts: alerts_now
            .iter()
            .take(MAX_SPIKES)
            .map(|a| SpikeLine {
                bucket_start: a.bucket_start,
                bucket_end: a.bucket_end,
                headline: a.headline.clone(),
            })
            .collect(),
        organisation_wide: team.is_some(),
    };

    Ok(Digest {
        organisation: config.organisation.name.clone(),
        period,
        team: team.map(str::to_owned),
        since,
        until: now,
        previous_since,
        generated_at: now,
        themes,
        sentiment,
        escalations,
        open_p1,
        sla,
        advocates,
        ideas,
        spikes,
        notes: notes(period, team),
    })
}

/// `(since, until, previous_since)`.
type Span = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

async fn themes(
    store: &Store,
    config: &Config,
    (now, before): (&reports::Listening, &reports::Listening),
    (since, until, previous_since): Span,
    team: Option<&str>,
) -> Result<Themes, ReportError> {
    let mut topics: Vec<TopicTheme> = now
        .topics
        .iter()
        .map(|t| {
            let previous = before
                .topics
                .iter()
                .find(|b| b.topic == t.topic)
                .map_or(0, |b| b.messages);
            TopicTheme {
                topic: t.topic.clone(),
                kind: t.kind.clone(),
                messages: Trend::count(t.messages.max(0) as u64, previous.max(0) as u64),
                net_sentiment: t.net_sentiment,
            }
        })
        .filter(|t| {
            t.messages.current.unwrap_or(0.0) > 0.0 || t.messages.previous.unwrap_or(0.0) > 0.0
        })
        .collect();
    topics.sort_by(|a, b| {
        b.messages
            .current
            .unwrap_or(0.0)
            .total_cmp(&a.messages.current.unwrap_or(0.0))
            .then(a.topic.cmp(&b.topic))
    });
    topics.truncate(MAX_THEMES);

    let labels_now = store.label_counts(since, until, team).await?;
    let labels_before = store.label_counts(previous_since, since, team).await?;
    let names: BTreeSet<&String> = labels_now.keys().chain(labels_before.keys()).collect();
    let mut labels: Vec<LabelTheme> = names
        .into_iter()
        .filter(|l| !l.starts_with("topic:"))
        .map(|l| LabelTheme {
            label: l.clone(),
            conversations: Trend::count(
                labels_now.get(l).copied().unwrap_or(0).max(0) as u64,
                labels_before.get(l).copied().unwrap_or(0).max(0) as u64,
            ),
        })
        .collect();
    labels.sort_by(|a, b| {
        b.conversations
            .current
            .unwrap_or(0.0)
            .total_cmp(&a.conversations.current.unwrap_or(0.0))
            .then(a.label.cmp(&b.label))
    });
    labels.truncate(MAX_THEMES);

    let share_of_voice = now.share_of_voice.as_ref().map(|s| {
        Trend::points(
            s.share,
            before.share_of_voice.as_ref().and_then(|b| b.share),
        )
    });
    let semantic_themes =
        semantic_themes(store, config, (since, until, previous_since), team).await?;
    Ok(Themes {
        semantic_themes,
        topics,
        labels,
        share_of_voice,
        organisation_wide: team.is_some(),
    })
}

/// The themes by meaning of `[since, until)`, from the stored vectors only: clustered by
/// `rapport_core::semantic::themes`, each compared with the period before by
/// `rapport_core::semantic::PreviousTally`.
async fn semantic_themes(
    store: &Store,
    config: &Config,
    (since, until, previous_since): Span,
    team: Option<&str>,
) -> Result<SemanticThemes, ReportError> {
    let mut messages: Vec<PeriodMessage> = Vec::new();
    let mut not_embedded = 0u64;
    store
        .each_period_message(MODEL_NAME, since, until, team, |m| {
            if m.vector.is_some() {
                messages.push(m);
            } else {
                not_embedded += 1;
            }
        })
        .await?;
    let embedded = messages.len() as u64;
    let total = embedded + not_embedded;
    let on = embedded > 0 || store.embedding_counts(MODEL_NAME).await?.embedded > 0;
    let mut out = SemanticThemes {
        on,
        model: MODEL_NAME.to_string(),
        messages: total,
        embedded,
        not_embedded,
        themes: Vec::new(),
        hint: (!on).then(|| SEMANTIC_OFF_HINT.to_string()),
    };
    if messages.is_empty() {
        return Ok(out);
    }
    let inputs: Vec<ThemeInput<'_>> = messages
        .iter()
        .filter_map(|m| {
            Some(ThemeInput {
                id: m.message_id,
                text: &m.text,
                vector: m.vector.as_deref()?,
                compound: m.compound,
            })
        })
        .collect();
    let found = compute(|| semantic::themes(&inputs, &config.semantic.themes));
    if found.is_empty() {
        return Ok(out);
    }
    let by_id: BTreeMap<i64, &PeriodMessage> = messages.iter().map(|m| (m.message_id, m)).collect();
    let centroids: Vec<Vec<f32>> = found
        .iter()
        .map(|t| {
            semantic::mean_normalized(
                t.ids
                    .iter()
                    .filter_map(|id| by_id.get(id).and_then(|m| m.vector.as_deref())),
            )
            .unwrap_or_default()
        })
        .collect();
    let mut tally = PreviousTally::new(centroids, semantic::PREVIOUS_COSINE);
    store
        .each_period_message(MODEL_NAME, previous_since, since, team, |m| {
            if let Some(v) = &m.vector {
                tally.add(v);
            }
        })
        .await?;
    out.themes = found
        .iter()
        .zip(tally.counts())
        .map(|(t, &previous)| SemanticTheme {
            words: t.words.clone(),
            size: t.size as u64,
            share: t.share,
            messages: Trend::count(t.size as u64, previous),
            mean_compound: t.mean_compound,
            negative_share: t.negative_share,
            positive_share: t.positive_share,
            examples: t
                .examples
                .iter()
                .filter_map(|id| by_id.get(id))
                .take(MAX_THEME_EXAMPLES)
                .map(|m| ThemeExample {
                    message: m.message_id,
                    author: m.author.clone(),
                    text: snippet(&m.text, WHAT_CHARS),
                })
                .collect(),
        })
        .collect();
    Ok(out)
}

async fn escalations(
    store: &Store,
    (since, until, previous_since): Span,
    team: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Escalations, ReportError> {
    let events = store.escalation_events(since, until, team).await?;
    let previous = store.escalation_count(previous_since, since, team).await?;
    let sla_breaches = events.iter().filter(|e| e.kind == "escalated").count() as u64;
    // Newest first: the first event of each conversation is its latest escalation.
    let mut seen = BTreeSet::new();
    let mut urgent = Vec::new();
    let mut below_p2 = 0u64;
    for e in &events {
        if !seen.insert(e.conversation.id) {
            continue;
        }
        if e.conversation.priority <= Band::P2 {
            urgent.push(e);
        } else {
            below_p2 += 1;
        }
    }
    // Most urgent first, then the latest escalation first.
    urgent.sort_by(|a, b| {
        a.conversation
            .priority
            .cmp(&b.conversation.priority)
            .then(b.at.cmp(&a.at))
            .then(a.conversation.id.cmp(&b.conversation.id))
    });
    let max = MAX_CONVERSATIONS as usize;
    let more = urgent.len().saturating_sub(max) as u64;
    let listed = urgent
        .iter()
        .take(max)
        .map(|e| {
            let why = match e.kind.as_str() {
                "escalated" => format!(
                    "SLA breach: {} → {}",
                    e.data["from"].as_str().unwrap_or("?"),
                    e.data["to"].as_str().unwrap_or("?")
                ),
                _ => format!(
                    "rule {:?}: notify {}",
                    e.data["rule"].as_str().unwrap_or("?"),
                    e.data["notify"].as_str().unwrap_or("?")
                ),
            };
            line(&e.conversation, e.followers, now, Some(e.at), Some(why))
        })
        .collect();
    Ok(Escalations {
        count: Trend::count(events.len() as u64, previous.max(0) as u64),
        conversations: seen.len() as u64,
        sla_breaches,
        rule_notifications: events.len() as u64 - sla_breaches,
        listed,
        below_p2,
        more,
    })
}

fn line(
    c: &ConversationRow,
    followers: Option<i64>,
    now: DateTime<Utc>,
    escalated_at: Option<DateTime<Utc>>,
    why: Option<String>,
) -> ConversationLine {
    ConversationLine {
        conversation: c.id,
        band: c.priority,
        intent: c.intent.clone(),
        status: c.status.clone(),
        who: c.author.clone(),
        platform: c.platform.clone(),
        followers,
        what: snippet(&c.snippet, WHAT_CHARS),
        team: c.team.clone(),
        owner: c.assignee.clone(),
        opened_at: c.opened_at,
        open_for_s: (c.status != "resolved")
            .then(|| (now - c.opened_at).num_milliseconds().max(0) as f64 / 1000.0),
        escalated_at,
        why,
    }
}

fn sla_line(team: &str, now: Option<&TeamReport>, before: Option<&TeamReport>) -> SlaLine {
    let empty = TeamReport::default();
    let (n, b) = (now.unwrap_or(&empty), before.unwrap_or(&empty));
    SlaLine {
        team: team.to_string(),
        conversations: Trend::count(n.conversations_counted, b.conversations_counted),
        attainment: Trend::points(n.sla_attainment, b.sla_attainment),
        met: n.sla_met,
        breached: n.sla_breached,
        pending: n.sla_pending,
        frt_median_s: Trend::relative(n.frt_median_s, b.frt_median_s),
    }
}

fn sla(
    now: &rapport_core::metrics::Report,
    before: &rapport_core::metrics::Report,
    team: Option<&str>,
) -> SlaSection {
    // A team's digest has one line: its overall one is the team's.
    let names: BTreeSet<&String> = match team {
        Some(_) => BTreeSet::new(),
        None => now.per_team.keys().chain(before.per_team.keys()).collect(),
    };
    SlaSection {
        overall: sla_line(
            team.unwrap_or("all"),
            Some(&now.overall),
            Some(&before.overall),
        ),
        teams: names
            .into_iter()
            .map(|t| sla_line(t, now.per_team.get(t), before.per_team.get(t)))
            .collect(),
    }
}

async fn ideas(
    store: &Store,
    config: &Config,
    (since, until, previous_since): Span,
    team: Option<&str>,
) -> Result<Ideas, ReportError> {
    let rows = store.ideas(since, until, team).await?;
    let previous = store.ideas(previous_since, since, team).await?.len() as u64;
    // The brand's own topics, and labels that only name an intent (`idea` from the
    // routing rule), say nothing about what an idea is about.
    let brand: BTreeSet<&str> = config
        .topics
        .iter()
        .filter(|t| t.kind == TopicKind::Brand)
        .map(|t| t.name.as_str())
        .collect();
    let facts: Vec<IdeaFacts> = rows
        .iter()
        .map(|r| {
            let mut tags: Vec<(String, String)> = r
                .topics
                .iter()
                .filter(|t| !brand.contains(t.as_str()))
                .map(|t| ("topic".to_string(), t.clone()))
                .collect();
            tags.extend(
                r.labels
                    .iter()
                    .filter(|l| !l.starts_with("topic:") && l.parse::<Intent>().is_err())
                    .map(|l| ("label".to_string(), l.clone())),
            );
            IdeaFacts {
                text: r.text.clone(),
                tags,
            }
        })
        .collect();
    let mut ignore: BTreeSet<String> = config
        .organisation
        .name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    ignore.extend(brand.iter().map(|b| b.to_lowercase()));
    let groups = group_ideas(&facts, &ignore, MAX_IDEA_GROUPS);
    let grouped: u64 = groups.iter().map(|g| g.count).sum();
    let authors: BTreeSet<&str> = rows.iter().map(|r| r.author.as_str()).collect();
    Ok(Ideas {
        count: Trend::count(rows.len() as u64, previous),
        authors: authors.len() as u64,
        ungrouped: (rows.len() as u64).saturating_sub(grouped),
        groups,
    })
}

fn notes(period: DigestPeriod, team: Option<&str>) -> Vec<String> {
    let mut notes = vec![
        format!(
            "Each number covers the {} ending at the digest's time and is compared with the {} before it: \
             ▲/▼ in % for counts and durations, in points (pts) for shares, as a difference for net sentiment.",
            period.as_str(),
            period.as_str()
        ),
        "Net sentiment: (positive − negative) ÷ inbound messages; positive is compound ≥ 0.05, negative ≤ −0.05 (docs/metrics.md).".to_string(),
        "SLA attainment: of the conversations opened in the period (spam left out), those whose first human reply came by its due time ÷ those met or breached; \
         FRT: first inbound message → first human reply, median (docs/metrics.md).".to_string(),
        "Escalations: a breached SLA moved up a band by the SLA timer, or a routing rule that notifies someone at once (high-reach complaints). \
         Conversations are listed only here and under open P1s, and only at P1 or P2.".to_string(),
        format!("Top advocates: {ADVOCATE_FORMULA}."),
        "Ideas: inbound messages of intent idea, grouped by a listening topic or label they share, else by the words most of them share, else by their text.".to_string(),
        format!(
            "Themes by meaning: the inbound messages (spam left out) that have a sentence embedding ({MODEL_NAME}), clustered by meaning and named by their most telling words; \
             share is of those messages; the trend compares each theme with the messages of the period before closest to it (cosine ≥ {}) (docs/digest.md).",
            semantic::PREVIOUS_COSINE
        ),
    ];
    if let Some(t) = team {
        notes.push(format!(
            "Listening topics, share of voice and spikes cover the whole organisation; everything else covers team {t}."
        ));
    }
    notes
}
