//! The numbers rapport reports, computed from plain facts with one definition each.
//!
//! The store supplies the facts ([`ConversationFacts`] with their timelines, every
//! outbound message as [`BroadcastFacts`], every inbound compound score) and [`report`]
//! turns them into a [`Report`]. Nothing here reads a clock or a database: `now` is an
//! argument, so the same facts always give the same numbers.
//!
//! The definitions, as `docs/metrics.md` states them for users:
//!
//! - **Cohort.** Conversation metrics (FRT, NRT, response rate, resolution time, SLA
//!   attainment, per team, per responder) are computed over the conversations *opened*
//!   in the period (`opened_at` in `[since, until)`), using everything known about them
//!   up to `now`. Spam conversations are counted in `conversations_opened` and
//!   `by_intent` and left out of every other conversation metric.
//! - **FRT** (first response time): a clock starts at the first inbound message of a
//!   conversation and stops at the first *human reply* after it: an outbound message
//!   that is a reply (`is_reply`) and not automated. Automated messages never stop it.
//!   When a resolved conversation is reopened, a new clock starts at the inbound message
//!   that reopened it, so each open cycle gives at most one sample. The sample is
//!   credited to the person who sent the reply (`by`), not to the assignee.
//! - **NRT** (next response time): within a cycle, after a human reply, the first inbound
//!   message starts a clock that the next human reply stops.
//! - **Response rate**: conversations that got at least one human reply after their first
//!   inbound message ÷ conversations (spam excluded).
//! - **Resolution time**: `opened_at` → the last `Resolved` event, for conversations that
//!   are resolved now (no `Reopened` after their last `Resolved`).
//! - **SLA attainment**: among conversations with an `sla_due_at`: *met* when the first
//!   human reply came at or before the due time, *breached* when it came after, or when
//!   there is none and `now` is past the due time; unanswered conversations not yet due
//!   are left out. attainment = met ÷ (met + breached).
//! - **Engagement ratio**: over the organisation's outbound messages sent in the period,
//!   automated ones excluded: replies ÷ (replies + broadcasts); overall and per account.
//! - **Net sentiment**: over inbound messages in the period, (positive − negative) ÷ all,
//!   positive at compound ≥ 0.05 and negative at ≤ −0.05.
//! - **Percentiles** are nearest-rank: the p-th percentile of n sorted values is the
//!   value at rank ⌈p/100 × n⌉ (rank 1 for p = 0); the median is the 50th.
//!
//! Every ratio and every percentile is `None` when it would divide by zero or has no
//! sample, never `0`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Intent, SentimentBand};
use crate::sla::Calendar;

/// The key under which conversations without a team are reported in `per_team`.
pub const UNROUTED: &str = "unrouted";

/// The key under which replies with no known sender are reported in `frt_by_responder`.
pub const UNKNOWN_RESPONDER: &str = "(unknown)";

/// What the store knows about one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationFacts {
    /// The conversation's id.
    pub id: i64,
    /// The team it was routed to; `None` is reported as [`UNROUTED`].
    pub team: Option<String>,
    /// Its intent; spam conversations are left out of every metric but the counts.
    pub intent: Intent,
    /// When it was opened; decides which period it belongs to.
    pub opened_at: DateTime<Utc>,
    /// When its first response is due, if an SLA applies.
    pub sla_due_at: Option<DateTime<Utc>>,
    /// Its messages and status changes in time order. [`report`] sorts them again
    /// (stably, by time), so items with the same time keep the order given here.
    pub timeline: Vec<TimelineItem>,
}

/// One thing that happened in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TimelineItem {
    /// A message from the public.
    Inbound {
        /// When it was written.
        at: DateTime<Utc>,
        /// Its sentiment compound score.
        compound: f64,
    },
    /// A message from the organisation.
    Outbound {
        /// When it was sent.
        at: DateTime<Utc>,
        /// Sent by a bot or an auto-acknowledgement: never stops a clock.
        automated: bool,
        /// The person who sent it, credited with the response time it stops.
        by: Option<String>,
        /// A reply to someone, as opposed to a broadcast; only replies stop clocks.
        is_reply: bool,
    },
    /// The conversation was resolved.
    Resolved {
        /// When.
        at: DateTime<Utc>,
    },
    /// The conversation was reopened (usually by a new inbound message).
    Reopened {
        /// When.
        at: DateTime<Utc>,
    },
}

impl TimelineItem {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            TimelineItem::Inbound { at, .. }
            | TimelineItem::Outbound { at, .. }
            | TimelineItem::Resolved { at }
            | TimelineItem::Reopened { at } => *at,
        }
    }

    /// An outbound reply sent by a person: the only kind of message that stops a clock.
    pub fn is_human_reply(&self) -> bool {
        matches!(
            self,
            TimelineItem::Outbound {
                automated: false,
                is_reply: true,
                ..
            }
        )
    }
}

/// One outbound message of the organisation, from any account, in a conversation or
/// not: the input of the engagement ratio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastFacts {
    /// The organisation's account that sent it.
    pub account: String,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// A reply to someone (engagement) rather than a broadcast.
    pub is_reply: bool,
    /// Sent by a bot or scheduler; left out of the engagement ratio.
    pub automated: bool,
}

/// A half-open period `[since, until)`; an absent bound is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Period {
    /// First instant included.
    pub since: Option<DateTime<Utc>>,
    /// First instant excluded.
    pub until: Option<DateTime<Utc>>,
}

impl Period {
    /// All time.
    pub fn all() -> Self {
        Self::default()
    }

    /// `[since, until)`.
    pub fn between(since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            since: Some(since),
            until: Some(until),
        }
    }

    /// Whether an instant is in the period: at or after `since` and before `until`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at < u)
    }
}

/// The nearest-rank percentile of values sorted ascending: the value at rank
/// ⌈p/100 × n⌉ (1-based; rank 1 when p = 0). `None` for no values or a `p` outside
/// `[0, 100]`. The median is `p = 50`: of two values, the lower one.
pub fn percentile_nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let n = sorted.len();
    // p × n first, so that whole ranks (90 × 10 / 100 = 9) stay exact.
    let rank = (p * n as f64 / 100.0).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

/// One stopped clock: FRT or NRT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSample {
    /// The inbound message that started it.
    pub started: DateTime<Utc>,
    /// The human reply that stopped it.
    pub stopped: DateTime<Utc>,
    /// Who sent that reply.
    pub by: Option<String>,
}

impl ClockSample {
    /// Its length in seconds (never negative).
    pub fn seconds(&self) -> f64 {
        seconds_between(self.started, self.stopped)
    }
}

/// The clocks of one conversation, as [`clocks`] reads them from its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConversationClocks {
    /// Its first inbound message.
    pub first_inbound: Option<DateTime<Utc>>,
    /// Its first human reply after its first inbound message: what SLA attainment and
    /// the response rate look at.
    pub first_response: Option<DateTime<Utc>>,
    /// One FRT sample per open cycle that got a human reply.
    pub frt: Vec<ClockSample>,
    /// NRT samples.
    pub nrt: Vec<ClockSample>,
    /// Its last `Resolved` event, when it is resolved now (no `Reopened` after it).
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Where the current open cycle's clocks stand.
enum Phase {
    /// No inbound message yet in this cycle.
    Idle,
    /// The FRT clock runs since this inbound message.
    AwaitingFirst(DateTime<Utc>),
    /// A human has replied; nothing is waiting.
    Answered,
    /// The NRT clock runs since this inbound message.
    AwaitingNext(DateTime<Utc>),
}

/// Reads a conversation's clocks from its timeline (sorted stably by time first).
///
/// - The first cycle's FRT clock starts at the first inbound message.
/// - A human reply ([`TimelineItem::is_human_reply`]) stops the running FRT or NRT
///   clock; automated messages and broadcasts stop nothing.
/// - After a human reply, the next inbound message starts an NRT clock; later inbound
///   messages do not restart it.
/// - `Resolved` ends the cycle: a clock still running gives no sample.
/// - Inbound messages while resolved start nothing unless the conversation is reopened.
///   On `Reopened`, the new cycle's FRT clock starts at the inbound message that
///   reopened it: the latest inbound message since the resolve that no human reply
///   answered; when there is none (a reopen by hand, or a `Reopened` listed before its
///   message), at the cycle's first inbound message. `Reopened` on an open
///   conversation changes nothing.
pub fn clocks(conversation: &ConversationFacts) -> ConversationClocks {
    let timeline = sorted_timeline(&conversation.timeline);
    let mut out = ConversationClocks::default();
    let mut phase = Phase::Idle;
    let mut resolved = false;
    let mut reopened_by: Option<DateTime<Utc>> = None;
    let mut last_resolved = None;
    for item in timeline.iter() {
        match item {
            TimelineItem::Inbound { at, .. } => {
                out.first_inbound.get_or_insert(*at);
                if resolved {
                    reopened_by = Some(*at);
                    continue;
                }
                phase = match phase {
                    Phase::Idle => Phase::AwaitingFirst(*at),
                    Phase::Answered => Phase::AwaitingNext(*at),
                    running => running,
                };
            }
            TimelineItem::Outbound { at, by, .. } => {
                if !item.is_human_reply() {
                    continue;
                }
                if out.first_inbound.is_some() && out.first_response.is_none() {
                    out.first_response = Some(*at);
                }
                if resolved {
                    reopened_by = None;
                    continue;
                }
                let sample = |started| ClockSample {
                    started,
                    stopped: *at,
                    by: by.clone(),
                };
                phase = match phase {
                    Phase::AwaitingFirst(started) => {
                        out.frt.push(sample(started));
                        Phase::Answered
                    }
                    Phase::AwaitingNext(started) => {
                        out.nrt.push(sample(started));
                        Phase::Answered
                    }
                    other => other,
                };
            }
            TimelineItem::Resolved { at } => {
                resolved = true;
                last_resolved = Some(*at);
                reopened_by = None;
                phase = Phase::Idle;
            }
            TimelineItem::Reopened { .. } => {
                if resolved {
                    resolved = false;
                    phase = reopened_by.take().map_or(Phase::Idle, Phase::AwaitingFirst);
                }
            }
        }
    }
    if resolved {
        out.resolved_at = last_resolved;
    }
    out
}

fn sorted_timeline(timeline: &[TimelineItem]) -> Cow<'_, [TimelineItem]> {
    if timeline.is_sorted_by_key(TimelineItem::at) {
        Cow::Borrowed(timeline)
    } else {
        let mut v = timeline.to_vec();
        v.sort_by_key(TimelineItem::at); // stable: same-time items keep their order
        Cow::Owned(v)
    }
}

/// How a conversation stands against its first-response SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    /// The first human reply came at or before the due time.
    Met,
    /// The first human reply came after the due time, or none came and `now` is past it.
    Breached,
    /// No reply yet and not yet due (at the due time exactly it is still pending).
    Pending,
    /// No SLA applies.
    NoSla,
}

/// The SLA outcome of a due time and a first response, as seen at `now`.
pub fn sla_outcome(
    due: Option<DateTime<Utc>>,
    first_response: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaOutcome {
    match (due, first_response) {
        (None, _) => SlaOutcome::NoSla,
        (Some(due), Some(r)) if r <= due => SlaOutcome::Met,
        (Some(_), Some(_)) => SlaOutcome::Breached,
        (Some(due), None) if now > due => SlaOutcome::Breached,
        (Some(_), None) => SlaOutcome::Pending,
    }
}

/// FRT samples credited to one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponderStats {
    /// How many first responses they sent.
    pub count: u64,
    /// Median FRT of those, in seconds.
    pub median_s: f64,
    /// p90 FRT of those, in seconds.
    pub p90_s: f64,
}

/// Engagement of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountEngagement {
    /// replies ÷ (replies + broadcasts); `None` when it sent neither.
    pub ratio: Option<f64>,
    /// Human replies sent in the period.
    pub replies: u64,
    /// Human broadcasts (non-replies) sent in the period.
    pub broadcasts: u64,
}

/// The conversation metrics of one team, over the conversations opened in the period
/// that were routed to it. Field meanings are those of [`Report`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TeamReport {
    /// Conversations opened in the period, spam included.
    pub conversations_opened: u64,
    /// Conversations opened, per intent (every intent listed, zeros included).
    pub by_intent: BTreeMap<Intent, u64>,
    /// Conversations opened that are not spam: the base of the response rate.
    pub conversations_counted: u64,
    /// Of those, how many got a human reply.
    pub conversations_responded: u64,
    /// `conversations_responded ÷ conversations_counted`.
    pub response_rate: Option<f64>,
    /// Number of FRT samples.
    pub frt_samples: u64,
    /// Median FRT, seconds.
    pub frt_median_s: Option<f64>,
    /// p90 FRT, seconds.
    pub frt_p90_s: Option<f64>,
    /// Number of NRT samples.
    pub nrt_samples: u64,
    /// Median NRT, seconds.
    pub nrt_median_s: Option<f64>,
    /// p90 NRT, seconds.
    pub nrt_p90_s: Option<f64>,
    /// Conversations resolved now.
    pub conversations_resolved: u64,
    /// Median resolution time, seconds.
    pub resolution_median_s: Option<f64>,
    /// p90 resolution time, seconds.
    pub resolution_p90_s: Option<f64>,
    /// SLAs met.
    pub sla_met: u64,
    /// SLAs breached.
    pub sla_breached: u64,
    /// Unanswered and not yet due: left out of the attainment.
    pub sla_pending: u64,
    /// `sla_met ÷ (sla_met + sla_breached)`.
    pub sla_attainment: Option<f64>,
    /// FRT per person who sent the first response.
    pub frt_by_responder: BTreeMap<String, ResponderStats>,
    /// Median FRT counted in the team's business hours, seconds; `None` without a
    /// calendar (see [`report_with_calendars`]).
    pub frt_business_median_s: Option<f64>,
    /// p90 FRT in business hours, seconds.
    pub frt_business_p90_s: Option<f64>,
    /// Median NRT in business hours, seconds.
    pub nrt_business_median_s: Option<f64>,
    /// p90 NRT in business hours, seconds.
    pub nrt_business_p90_s: Option<f64>,
}

/// Everything `rapport report` shows; the field names are the JSON keys of
/// `rapport report --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The period reported on.
    pub period: Period,
    /// The `now` the report was computed at.
    pub generated_at: DateTime<Utc>,
    /// The conversation metrics over every conversation opened in the period; in JSON
    /// its keys sit at the top level (`conversations_opened`, `frt_median_s`, ...).
    #[serde(flatten)]
    pub overall: TeamReport,
    /// The conversation metrics per team; conversations with no team under `unrouted`.
    pub per_team: BTreeMap<String, TeamReport>,
    /// Inbound messages in the period.
    pub inbound_messages: u64,
    /// Of those, compound ≥ 0.05.
    pub inbound_positive: u64,
    /// Of those, compound ≤ −0.05.
    pub inbound_negative: u64,
    /// `(inbound_positive − inbound_negative) ÷ inbound_messages`.
    pub net_sentiment: Option<f64>,
    /// Human outbound replies sent in the period, all accounts.
    pub outbound_replies: u64,
    /// Human outbound broadcasts sent in the period, all accounts.
    pub outbound_broadcasts: u64,
    /// `outbound_replies ÷ (outbound_replies + outbound_broadcasts)`.
    pub engagement_ratio: Option<f64>,
    /// Engagement per account.
    pub engagement_by_account: BTreeMap<String, AccountEngagement>,
}

/// Computes the report for a period, as seen at `now`.
///
/// - `conversations`: any set that includes every conversation opened in the period
///   (others are ignored), each with its whole timeline.
/// - `outbound`: every outbound message of the organisation (only those sent in the
///   period count).
/// - `inbound_compounds`: the time and compound score of every inbound message (only
///   those in the period count).
pub fn report(
    conversations: &[ConversationFacts],
    outbound: &[BroadcastFacts],
    inbound_compounds: &[(DateTime<Utc>, f64)],
    period: &Period,
    now: DateTime<Utc>,
) -> Report {
    report_with_calendars(
        conversations,
        outbound,
        inbound_compounds,
        period,
        now,
        &BTreeMap::new(),
    )
}

/// [`report`], with the business-hours calendar of each team (by team name) so that
/// each team's FRT and NRT are also reported in business hours
/// (`frt_business_median_s` and the rest in [`TeamReport`]).
pub fn report_with_calendars(
    conversations: &[ConversationFacts],
    outbound: &[BroadcastFacts],
    inbound_compounds: &[(DateTime<Utc>, f64)],
    period: &Period,
    now: DateTime<Utc>,
    calendars: &BTreeMap<String, Calendar>,
) -> Report {
    let mut overall = Acc::default();
    let mut teams: BTreeMap<String, Acc> = BTreeMap::new();
    for conv in conversations
        .iter()
        .filter(|c| period.contains(c.opened_at))
    {
        let team = conv
            .team
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(UNROUTED);
        let calendar = calendars.get(team);
        let facts = ConvSummary::of(conv, now);
        overall.add(&facts, None);
        teams
            .entry(team.to_string())
            .or_default()
            .add(&facts, calendar);
    }
    let o = overall.finish();

    let (mut positive, mut negative, mut inbound) = (0u64, 0u64, 0u64);
    for (at, compound) in inbound_compounds {
        if !period.contains(*at) {
            continue;
        }
        inbound += 1;
        match SentimentBand::of(*compound) {
            SentimentBand::Positive => positive += 1,
            SentimentBand::Negative => negative += 1,
            SentimentBand::Neutral => {}
        }
    }

    let mut by_account: BTreeMap<String, AccountEngagement> = BTreeMap::new();
    let (mut replies, mut broadcasts) = (0u64, 0u64);
    for b in outbound
        .iter()
        .filter(|b| !b.automated && period.contains(b.at))
    {
        let e = by_account
            .entry(b.account.clone())
            .or_insert(AccountEngagement {
                ratio: None,
                replies: 0,
                broadcasts: 0,
            });
        if b.is_reply {
            e.replies += 1;
            replies += 1;
        } else {
            e.broadcasts += 1;
            broadcasts += 1;
        }
    }
    for e in by_account.values_mut() {
        e.ratio = ratio(e.replies, e.replies + e.broadcasts);
    }

    Report {
        period: *period,
        generated_at: now,
        overall: o,
        per_team: teams.into_iter().map(|(k, v)| (k, v.finish())).collect(),
        inbound_messages: inbound,
        inbound_positive: positive,
        inbound_negative: negative,
        net_sentiment: (inbound > 0).then(|| (positive as f64 - negative as f64) / inbound as f64),
        outbound_replies: replies,
        outbound_broadcasts: broadcasts,
        engagement_ratio: ratio(replies, replies + broadcasts),
        engagement_by_account: by_account,
    }
}

/// One conversation, reduced to what the accumulators need.
struct ConvSummary {
    intent: Intent,
    clocks: ConversationClocks,
    resolution_s: Option<f64>,
    sla: SlaOutcome,
}

impl ConvSummary {
    fn of(conv: &ConversationFacts, now: DateTime<Utc>) -> Self {
        let clocks = clocks(conv);
        let resolution_s = clocks
            .resolved_at
            .map(|r| seconds_between(conv.opened_at, r));
        let sla = sla_outcome(conv.sla_due_at, clocks.first_response, now);
        Self {
            intent: conv.intent,
            clocks,
            resolution_s,
            sla,
        }
    }
}

#[derive(Default)]
struct Acc {
    opened: u64,
    by_intent: BTreeMap<Intent, u64>,
    counted: u64,
    responded: u64,
    frt: Vec<f64>,
    nrt: Vec<f64>,
    frt_business: Vec<f64>,
    nrt_business: Vec<f64>,
    has_calendar: bool,
    resolution: Vec<f64>,
    met: u64,
    breached: u64,
    pending: u64,
    by_responder: BTreeMap<String, Vec<f64>>,
}

impl Acc {
    fn add(&mut self, c: &ConvSummary, calendar: Option<&Calendar>) {
        self.opened += 1;
        *self.by_intent.entry(c.intent).or_default() += 1;
        if c.intent == Intent::Spam {
            return;
        }
        self.counted += 1;
        if c.clocks.first_response.is_some() {
            self.responded += 1;
        }
        for s in &c.clocks.frt {
            self.frt.push(s.seconds());
            let who = s.by.as_deref().unwrap_or(UNKNOWN_RESPONDER);
            self.by_responder
                .entry(who.to_string())
                .or_default()
                .push(s.seconds());
        }
        self.nrt
            .extend(c.clocks.nrt.iter().map(ClockSample::seconds));
        if let Some(cal) = calendar {
            self.has_calendar = true;
            let business = |s: &ClockSample| {
                cal.business_duration(s.started, s.stopped)
                    .num_milliseconds() as f64
                    / 1000.0
            };
            self.frt_business.extend(c.clocks.frt.iter().map(business));
            self.nrt_business.extend(c.clocks.nrt.iter().map(business));
        }
        self.resolution.extend(c.resolution_s);
        match c.sla {
            SlaOutcome::Met => self.met += 1,
            SlaOutcome::Breached => self.breached += 1,
            SlaOutcome::Pending => self.pending += 1,
            SlaOutcome::NoSla => {}
        }
    }

    fn finish(mut self) -> TeamReport {
        let (frt_m, frt_p) = median_p90(&mut self.frt);
        let (nrt_m, nrt_p) = median_p90(&mut self.nrt);
        let (res_m, res_p) = median_p90(&mut self.resolution);
        let (fb_m, fb_p) = median_p90(&mut self.frt_business);
        let (nb_m, nb_p) = median_p90(&mut self.nrt_business);
        let mut by_intent: BTreeMap<Intent, u64> = Intent::ALL.iter().map(|i| (*i, 0)).collect();
        by_intent.extend(self.by_intent);
        TeamReport {
            conversations_opened: self.opened,
            by_intent,
            conversations_counted: self.counted,
            conversations_responded: self.responded,
            response_rate: ratio(self.responded, self.counted),
            frt_samples: self.frt.len() as u64,
            frt_median_s: frt_m,
            frt_p90_s: frt_p,
            nrt_samples: self.nrt.len() as u64,
            nrt_median_s: nrt_m,
            nrt_p90_s: nrt_p,
            conversations_resolved: self.resolution.len() as u64,
            resolution_median_s: res_m,
            resolution_p90_s: res_p,
            sla_met: self.met,
            sla_breached: self.breached,
            sla_pending: self.pending,
            sla_attainment: ratio(self.met, self.met + self.breached),
            frt_by_responder: self
                .by_responder
                .into_iter()
                .filter_map(|(who, mut v)| {
                    let (m, p) = median_p90(&mut v);
                    Some((
                        who,
                        ResponderStats {
                            count: v.len() as u64,
                            median_s: m?,
                            p90_s: p?,
                        },
                    ))
                })
                .collect(),
            frt_business_median_s: if self.has_calendar { fb_m } else { None },
            frt_business_p90_s: if self.has_calendar { fb_p } else { None },
            nrt_business_median_s: if self.has_calendar { nb_m } else { None },
            nrt_business_p90_s: if self.has_calendar { nb_p } else { None },
        }
    }
}

/// Sorts the values and returns their nearest-rank median and p90.
fn median_p90(values: &mut [f64]) -> (Option<f64>, Option<f64>) {
    values.sort_by(f64::total_cmp);
    (
        percentile_nearest_rank(values, 50.0),
        percentile_nearest_rank(values, 90.0),
    )
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds() as f64 / 1000.0).max(0.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    /// 2025-03-03 00:00 UTC (a Monday) plus minutes.
    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-03T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::minutes(minutes)
    }

    fn inbound(m: i64) -> TimelineItem {
        TimelineItem::Inbound {
            at: t(m),
            compound: 0.0,
        }
    }

    fn human(m: i64, by: &str) -> TimelineItem {
        TimelineItem::Outbound {
            at: t(m),
            automated: false,
            by: Some(by.to_string()),
            is_reply: true,
        }
    }

    fn bot(m: i64) -> TimelineItem {
        TimelineItem::Outbound {
            at: t(m),
            automated: true,
            by: Some("autoresponder".to_string()),
            is_reply: true,
        }
    }

    fn resolved(m: i64) -> TimelineItem {
        TimelineItem::Resolved { at: t(m) }
    }

    fn reopened(m: i64) -> TimelineItem {
        TimelineItem::Reopened { at: t(m) }
    }

    fn conv(id: i64, timeline: Vec<TimelineItem>) -> ConversationFacts {
        let opened_at = timeline.first().map_or(t(0), TimelineItem::at);
        ConversationFacts {
            id,
            team: Some("care".to_string()),
            intent: Intent::Question,
            opened_at,
            sla_due_at: None,
            timeline,
        }
    }

    fn run(convs: &[ConversationFacts]) -> Report {
        report(convs, &[], &[], &Period::all(), t(100_000))
    }

    fn frt_minutes(c: &ConversationFacts) -> Vec<i64> {
        clocks(c)
            .frt
            .iter()
            .map(|s| (s.stopped - s.started).num_minutes())
            .collect()
    }

    // --- percentiles -------------------------------------------------------------

    #[test]
    fn nearest_rank_on_one_value() {
        let v = [7.0];
        assert_eq!(percentile_nearest_rank(&v, 50.0), Some(7.0));
        assert_eq!(percentile_nearest_rank(&v, 90.0), Some(7.0));
        assert_eq!(percentile_nearest_rank(&v, 0.0), Some(7.0));
        assert_eq!(percentile_nearest_rank(&v, 100.0), Some(7.0));
    }

    #[test]
    fn nearest_rank_on_two_values_median_is_the_lower() {
        let v = [10.0, 20.0];
        assert_eq!(percentile_nearest_rank(&v, 50.0), Some(10.0));
        assert_eq!(percentile_nearest_rank(&v, 50.1), Some(20.0));
        assert_eq!(percentile_nearest_rank(&v, 90.0), Some(20.0));
    }

    #[test]
    fn nearest_rank_on_ten_values() {
        let v: Vec<f64> = (1..=10).map(|i| i as f64 * 10.0).collect();
        assert_eq!(percentile_nearest_rank(&v, 50.0), Some(50.0)); // rank 5
        assert_eq!(percentile_nearest_rank(&v, 90.0), Some(90.0)); // rank 9, exactly
        assert_eq!(percentile_nearest_rank(&v, 91.0), Some(100.0)); // rank ⌈9.1⌉ = 10
        assert_eq!(percentile_nearest_rank(&v, 10.0), Some(10.0));
        assert_eq!(percentile_nearest_rank(&v, 0.0), Some(10.0));
        assert_eq!(percentile_nearest_rank(&v, 100.0), Some(100.0));
    }

    #[test]
    fn nearest_rank_on_three_values_and_bad_inputs() {
        let v = [1.0, 2.0, 3.0];
        assert_eq!(percentile_nearest_rank(&v, 50.0), Some(2.0));
        assert_eq!(percentile_nearest_rank(&v, 90.0), Some(3.0));
        assert_eq!(percentile_nearest_rank(&[], 50.0), None);
        assert_eq!(percentile_nearest_rank(&v, -1.0), None);
        assert_eq!(percentile_nearest_rank(&v, 100.5), None);
        assert_eq!(percentile_nearest_rank(&v, f64::NAN), None);
    }

    // --- FRT ---------------------------------------------------------------------

    #[test]
    fn frt_runs_from_first_inbound_to_first_human_reply() {
        let c = conv(
            1,
            vec![inbound(0), inbound(5), human(12, "ana"), human(20, "ana")],
        );
        assert_eq!(frt_minutes(&c), vec![12]);
        let r = run(&[c]);
        assert_eq!(r.overall.frt_samples, 1);
        assert_eq!(r.overall.frt_median_s, Some(720.0));
        assert_eq!(r.overall.frt_p90_s, Some(720.0));
    }

    #[test]
    fn bot_reply_does_not_stop_frt() {
        let c = conv(1, vec![inbound(0), bot(1), human(30, "ana")]);
        assert_eq!(frt_minutes(&c), vec![30]);
        assert_eq!(run(&[c]).overall.frt_median_s, Some(1800.0));
    }

    #[test]
    fn bot_only_conversation_has_no_frt_and_no_response() {
        let c = conv(1, vec![inbound(0), bot(1)]);
        let r = run(&[c]);
        assert_eq!(r.overall.frt_samples, 0);
        assert_eq!(r.overall.frt_median_s, None);
        assert_eq!(r.overall.conversations_responded, 0);
        assert_eq!(r.overall.response_rate, Some(0.0));
    }

    #[test]
    fn broadcast_in_the_thread_does_not_stop_frt() {
        let broadcast = TimelineItem::Outbound {
            at: t(3),
            automated: false,
            by: Some("ana".into()),
            is_reply: false,
        };
        let c = conv(1, vec![inbound(0), broadcast, human(9, "ana")]);
        assert_eq!(frt_minutes(&c), vec![9]);
    }

    #[test]
    fn outbound_before_the_first_inbound_stops_nothing() {
        let c = conv(1, vec![human(0, "ana"), inbound(10), human(25, "bo")]);
        let k = clocks(&c);
        assert_eq!(frt_minutes(&c), vec![15]);
        assert_eq!(k.first_response, Some(t(25)));
        assert!(k.nrt.is_empty());
    }

    #[test]
    fn reopen_starts_new_clock_at_the_reopening_inbound() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                inbound(1000),
                reopened(1000),
                bot(1001),
                human(1030, "bo"),
            ],
        );
        // Two cycles, two samples: 10 min and 30 min, not 1030 min.
        assert_eq!(frt_minutes(&c), vec![10, 30]);
        let k = clocks(&c);
        assert_eq!(k.frt[1].started, t(1000));
        assert!(k.nrt.is_empty());
        let r = run(&[c]);
        assert_eq!(r.overall.frt_samples, 2);
        assert_eq!(r.overall.frt_median_s, Some(600.0));
        assert_eq!(r.overall.frt_p90_s, Some(1800.0));
    }

    #[test]
    fn reopened_listed_before_its_inbound_at_the_same_time() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                reopened(500),
                inbound(500),
                human(540, "bo"),
            ],
        );
        assert_eq!(frt_minutes(&c), vec![10, 40]);
    }

    #[test]
    fn reopen_clock_starts_at_the_message_that_reopened_not_an_earlier_thank_you() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                inbound(30),    // "thanks!", stays resolved
                inbound(2000),  // "still broken"
                reopened(2001), // the store reopens a moment later
                human(2060, "bo"),
            ],
        );
        assert_eq!(frt_minutes(&c), vec![10, 60]);
        assert_eq!(clocks(&c).frt[1].started, t(2000));
    }

    #[test]
    fn inbound_after_resolve_without_reopen_starts_no_clock() {
        let c = conv(
            1,
            vec![inbound(0), human(10, "ana"), resolved(20), inbound(30)],
        );
        let k = clocks(&c);
        assert_eq!(frt_minutes(&c), vec![10]);
        assert!(k.nrt.is_empty());
        assert_eq!(k.resolved_at, Some(t(20)));
    }

    #[test]
    fn manual_reopen_waits_for_the_next_inbound() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                reopened(100),
                human(110, "ana"), // a follow-up by hand: no clock was running
                inbound(200),
                human(260, "ana"),
            ],
        );
        // The reopened cycle's clock starts at its first inbound message (200).
        assert_eq!(frt_minutes(&c), vec![10, 60]);
        assert!(clocks(&c).nrt.is_empty());
    }

    #[test]
    fn answered_while_resolved_then_reopened_by_hand_starts_no_clock_at_the_old_message() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                inbound(30),
                human(35, "ana"), // answered while still resolved
                reopened(900),
            ],
        );
        assert_eq!(frt_minutes(&c), vec![10]);
    }

    #[test]
    fn resolved_without_reply_gives_no_frt_sample() {
        let c = conv(
            1,
            vec![
                inbound(0),
                resolved(5),
                inbound(50),
                reopened(50),
                human(55, "ana"),
            ],
        );
        assert_eq!(frt_minutes(&c), vec![5]);
        // The first response still counts for the response rate and the SLA.
        assert_eq!(clocks(&c).first_response, Some(t(55)));
    }

    #[test]
    fn credit_goes_to_the_replier_not_the_assignee() {
        // The store may assign "ana"; "bo" replied first in the first conversation.
        let a = conv(1, vec![inbound(0), human(4, "bo"), human(6, "ana")]);
        let b = conv(2, vec![inbound(0), human(10, "ana")]);
        let c = conv(3, vec![inbound(0), human(20, "ana")]);
        let unknown = conv(
            4,
            vec![
                inbound(0),
                TimelineItem::Outbound {
                    at: t(1),
                    automated: false,
                    by: None,
                    is_reply: true,
                },
            ],
        );
        let r = run(&[a, b, c, unknown]);
        assert_eq!(r.overall.frt_by_responder.len(), 3);
        let bo = &r.overall.frt_by_responder["bo"];
        assert_eq!((bo.count, bo.median_s, bo.p90_s), (1, 240.0, 240.0));
        let ana = &r.overall.frt_by_responder["ana"];
        assert_eq!((ana.count, ana.median_s, ana.p90_s), (2, 600.0, 1200.0));
        assert_eq!(r.overall.frt_by_responder[UNKNOWN_RESPONDER].count, 1);
    }

    #[test]
    fn timeline_is_sorted_stably() {
        // Given out of order; the inbound and the reply at minute 5 keep their order.
        let c = conv(1, vec![human(5, "ana"), inbound(5), inbound(0)]);
        assert_eq!(frt_minutes(&c), vec![5]);
        // Same time, inbound first: a zero-second FRT.
        let c = conv(1, vec![inbound(5), human(5, "ana")]);
        assert_eq!(frt_minutes(&c), vec![0]);
        // Same time, reply first: it came before the message, so the clock still runs.
        let c = conv(1, vec![human(5, "ana"), inbound(5)]);
        assert_eq!(frt_minutes(&c), Vec::<i64>::new());
    }

    // --- NRT ---------------------------------------------------------------------

    #[test]
    fn nrt_starts_at_the_first_waiting_inbound_and_stops_at_the_next_human_reply() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                inbound(20),
                inbound(25), // already waiting: does not restart the clock
                bot(26),     // does not stop it
                human(50, "bo"),
                human(55, "bo"), // nothing waiting
                inbound(60),
                human(62, "ana"),
            ],
        );
        let k = clocks(&c);
        let nrt: Vec<i64> = k
            .nrt
            .iter()
            .map(|s| (s.stopped - s.started).num_minutes())
            .collect();
        assert_eq!(nrt, vec![30, 2]);
        let r = run(&[c]);
        assert_eq!(r.overall.nrt_samples, 2);
        assert_eq!(r.overall.nrt_median_s, Some(120.0));
        assert_eq!(r.overall.nrt_p90_s, Some(1800.0));
    }

    #[test]
    fn nrt_clock_running_at_resolve_gives_no_sample() {
        let c = conv(
            1,
            vec![inbound(0), human(10, "ana"), inbound(20), resolved(30)],
        );
        assert!(clocks(&c).nrt.is_empty());
        // And the reopened cycle starts with FRT, not NRT.
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(30),
                inbound(40),
                reopened(40),
                human(45, "ana"),
            ],
        );
        let k = clocks(&c);
        assert!(k.nrt.is_empty());
        assert_eq!(frt_minutes(&c), vec![10, 5]);
    }

    // --- response rate, spam, periods -----------------------------------------------

    #[test]
    fn spam_is_excluded_from_response_rate_and_clocks_but_counted_as_opened() {
        let answered = conv(1, vec![inbound(0), human(10, "ana")]);
        let unanswered = conv(2, vec![inbound(0)]);
        let mut spam = conv(3, vec![inbound(0), human(1, "ana"), resolved(2)]);
        spam.intent = Intent::Spam;
        spam.sla_due_at = Some(t(-10));
        let r = run(&[answered, unanswered, spam]);
        assert_eq!(r.overall.conversations_opened, 3);
        assert_eq!(r.overall.by_intent[&Intent::Spam], 1);
        assert_eq!(r.overall.by_intent[&Intent::Question], 2);
        assert_eq!(r.overall.by_intent[&Intent::Praise], 0);
        assert_eq!(r.overall.conversations_counted, 2);
        assert_eq!(r.overall.conversations_responded, 1);
        assert_eq!(r.overall.response_rate, Some(0.5));
        assert_eq!(r.overall.frt_samples, 1);
        assert_eq!(r.overall.conversations_resolved, 0);
        assert_eq!((r.overall.sla_met, r.overall.sla_breached), (0, 0));
    }

    #[test]
    fn response_rate_is_none_without_conversations() {
        let r = run(&[]);
        assert_eq!(r.overall.conversations_opened, 0);
        assert_eq!(r.overall.response_rate, None);
        assert_eq!(r.overall.frt_median_s, None);
        assert_eq!(r.overall.sla_attainment, None);
        assert_eq!(r.engagement_ratio, None);
        assert_eq!(r.net_sentiment, None);
        let mut spam = conv(1, vec![inbound(0)]);
        spam.intent = Intent::Spam;
        assert_eq!(run(&[spam]).overall.response_rate, None);
    }

    #[test]
    fn period_boundaries_are_half_open() {
        let at_since = conv(1, vec![inbound(100), human(101, "ana")]);
        let before = conv(2, vec![inbound(99), human(200, "ana")]);
        let at_until = conv(3, vec![inbound(200), human(300, "ana")]);
        let period = Period::between(t(100), t(200));
        let outbound = [
            BroadcastFacts {
                account: "acme".into(),
                at: t(100),
                is_reply: true,
                automated: false,
            },
            BroadcastFacts {
                account: "acme".into(),
                at: t(200),
                is_reply: false,
                automated: false,
            },
        ];
        let inbound_c = [(t(100), 0.5), (t(200), -0.5), (t(99), -0.5)];
        let r = report(
            &[at_since, before, at_until],
            &outbound,
            &inbound_c,
            &period,
            t(1000),
        );
        assert_eq!(r.overall.conversations_opened, 1);
        assert_eq!(r.overall.frt_median_s, Some(60.0));
        assert_eq!(r.outbound_replies, 1);
        assert_eq!(r.outbound_broadcasts, 0);
        assert_eq!(r.engagement_ratio, Some(1.0));
        assert_eq!(r.inbound_messages, 1);
        assert_eq!(r.net_sentiment, Some(1.0));
        assert!(period.contains(t(100)));
        assert!(!period.contains(t(200)));
        assert!(Period::all().contains(t(-1_000_000)));
    }

    #[test]
    fn cohort_counts_later_cycles_of_conversations_opened_in_the_period() {
        let c = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                inbound(5000),
                reopened(5000),
                human(5020, "ana"),
            ],
        );
        let r = report(&[c], &[], &[], &Period::between(t(0), t(100)), t(10_000));
        assert_eq!(r.overall.frt_samples, 2);
    }

    // --- resolution ----------------------------------------------------------------

    #[test]
    fn resolution_runs_from_opened_to_the_last_resolved() {
        let mut a = conv(
            1,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                inbound(100),
                reopened(100),
                human(110, "ana"),
                resolved(130),
            ],
        );
        a.opened_at = t(0);
        let reopened_now = conv(
            2,
            vec![
                inbound(0),
                human(10, "ana"),
                resolved(20),
                inbound(30),
                reopened(30),
            ],
        );
        let never = conv(3, vec![inbound(0)]);
        let r = run(&[a, reopened_now, never]);
        assert_eq!(r.overall.conversations_resolved, 1);
        assert_eq!(r.overall.resolution_median_s, Some(130.0 * 60.0));
        assert_eq!(r.overall.resolution_p90_s, Some(130.0 * 60.0));
    }

    #[test]
    fn resolution_uses_opened_at_not_the_first_inbound() {
        let mut c = conv(1, vec![inbound(10), resolved(70)]);
        c.opened_at = t(0);
        assert_eq!(run(&[c]).overall.resolution_median_s, Some(4200.0));
    }

    // --- SLA -----------------------------------------------------------------------

    fn with_sla(id: i64, due: i64, timeline: Vec<TimelineItem>) -> ConversationFacts {
        let mut c = conv(id, timeline);
        c.sla_due_at = Some(t(due));
        c
    }

    #[test]
    fn sla_met_breached_and_pending() {
        let now = t(100);
        let convs = [
            with_sla(1, 15, vec![inbound(0), human(15, "ana")]), // exactly at due: met
            with_sla(2, 15, vec![inbound(0), human(16, "ana")]), // late: breached
            with_sla(3, 15, vec![inbound(0), bot(1)]),           // unanswered past due
            with_sla(4, 500, vec![inbound(0)]),                  // not yet due: left out
            with_sla(5, 100, vec![inbound(0)]),                  // due == now: not yet past
            conv(6, vec![inbound(0)]),                           // no SLA
            with_sla(7, 15, vec![inbound(0), human(5, "ana"), resolved(6)]), // met
        ];
        let r = report(&convs, &[], &[], &Period::all(), now);
        assert_eq!(r.overall.sla_met, 2);
        assert_eq!(r.overall.sla_breached, 2);
        assert_eq!(r.overall.sla_pending, 2);
        assert_eq!(r.overall.sla_attainment, Some(0.5));
    }

    #[test]
    fn unanswered_not_yet_due_is_excluded_from_sla() {
        let r = report(
            &[with_sla(1, 500, vec![inbound(0)])],
            &[],
            &[],
            &Period::all(),
            t(100),
        );
        assert_eq!(
            (
                r.overall.sla_met,
                r.overall.sla_breached,
                r.overall.sla_pending
            ),
            (0, 0, 1)
        );
        assert_eq!(r.overall.sla_attainment, None);
    }

    #[test]
    fn resolving_without_a_reply_does_not_meet_the_sla() {
        let c = with_sla(1, 15, vec![inbound(0), resolved(5)]);
        assert_eq!(
            sla_outcome(c.sla_due_at, clocks(&c).first_response, t(100)),
            SlaOutcome::Breached
        );
    }

    #[test]
    fn bot_reply_does_not_meet_the_sla() {
        let c = with_sla(1, 15, vec![inbound(0), bot(1), human(20, "ana")]);
        assert_eq!(
            sla_outcome(c.sla_due_at, clocks(&c).first_response, t(100)),
            SlaOutcome::Breached
        );
    }

    // --- engagement and sentiment ------------------------------------------------------

    #[test]
    fn engagement_ratio_excludes_automated_and_splits_by_account() {
        let b = |account: &str, is_reply: bool, automated: bool| BroadcastFacts {
            account: account.into(),
            at: t(0),
            is_reply,
            automated,
        };
        let outbound = [
            b("acme", true, false),
            b("acme", true, false),
            b("acme", true, false),
            b("acme", false, false),
            b("acme", false, true), // scheduled bot post: excluded
            b("ceo", false, false),
            b("bot", true, true), // only automated: not listed
        ];
        let r = report(&[], &outbound, &[], &Period::all(), t(1));
        assert_eq!(r.outbound_replies, 3);
        assert_eq!(r.outbound_broadcasts, 2);
        assert_eq!(r.engagement_ratio, Some(0.6));
        assert_eq!(
            r.engagement_by_account["acme"],
            AccountEngagement {
                ratio: Some(0.75),
                replies: 3,
                broadcasts: 1
            }
        );
        assert_eq!(
            r.engagement_by_account["ceo"],
            AccountEngagement {
                ratio: Some(0.0),
                replies: 0,
                broadcasts: 1
            }
        );
        assert!(!r.engagement_by_account.contains_key("bot"));
    }

    #[test]
    fn net_sentiment_uses_vader_thresholds_inclusively() {
        let inbound_c = [
            (t(0), 0.05),    // positive (boundary)
            (t(0), 0.9),     // positive
            (t(0), 0.0499),  // neutral
            (t(0), -0.0499), // neutral
            (t(0), -0.05),   // negative (boundary)
        ];
        let r = report(&[], &[], &inbound_c, &Period::all(), t(1));
        assert_eq!(r.inbound_messages, 5);
        assert_eq!(r.inbound_positive, 2);
        assert_eq!(r.inbound_negative, 1);
        assert_eq!(r.net_sentiment, Some(0.2));
    }

    // --- per team ------------------------------------------------------------------

    #[test]
    fn per_team_with_unrouted() {
        let care = conv(1, vec![inbound(0), human(10, "ana")]);
        let mut sales = conv(2, vec![inbound(0), human(30, "bo")]);
        sales.team = Some("sales".into());
        sales.intent = Intent::Lead;
        let mut nobody = conv(3, vec![inbound(0)]);
        nobody.team = None;
        let mut blank = conv(4, vec![inbound(0), human(1, "cy")]);
        blank.team = Some(" ".into());
        let r = run(&[care, sales, nobody, blank]);
        assert_eq!(
            r.per_team.keys().collect::<Vec<_>>(),
            vec!["care", "sales", UNROUTED]
        );
        assert_eq!(r.per_team["care"].frt_median_s, Some(600.0));
        assert_eq!(r.per_team["sales"].frt_median_s, Some(1800.0));
        assert_eq!(r.per_team["sales"].by_intent[&Intent::Lead], 1);
        assert_eq!(r.per_team["sales"].frt_by_responder["bo"].count, 1);
        let u = &r.per_team[UNROUTED];
        assert_eq!(u.conversations_opened, 2);
        assert_eq!(u.response_rate, Some(0.5));
        assert_eq!(u.frt_business_median_s, None);
        assert_eq!(r.overall.response_rate, Some(0.75));
    }

    #[test]
    fn per_team_business_hours_frt() {
        use crate::sla::{BusinessHours, DaySpec};
        let cal = BusinessHours {
            timezone: "UTC".into(),
            days: DaySpec::Spec("mon-fri".into()),
            start: "09:00".into(),
            end: "17:00".into(),
            holidays: vec![],
        }
        .validate()
        .unwrap();
        // Friday 2025-03-07 16:45 → Monday 09:15: 30 business minutes, 2 d 16 h 30 min
        // on the wall clock.
        let fri = 4 * 1440 + 16 * 60 + 45;
        let mon = 7 * 1440 + 9 * 60 + 15;
        let c = conv(1, vec![inbound(fri), human(mon, "ana")]);
        let calendars = BTreeMap::from([("care".to_string(), cal)]);
        let r = report_with_calendars(&[c], &[], &[], &Period::all(), t(100_000), &calendars);
        let care = &r.per_team["care"];
        assert_eq!(care.frt_median_s, Some(((mon - fri) * 60) as f64));
        assert_eq!(care.frt_business_median_s, Some(1800.0));
        assert_eq!(care.frt_business_p90_s, Some(1800.0));
        assert_eq!(care.nrt_business_median_s, None);
        assert_eq!(r.overall.frt_median_s, Some(((mon - fri) * 60) as f64));
    }

    #[test]
    fn json_keys_are_stable() {
        let c = conv(1, vec![inbound(0), human(10, "ana")]);
        let v = serde_json::to_value(run(&[c])).unwrap();
        for key in [
            "conversations_opened",
            "response_rate",
            "frt_median_s",
            "frt_p90_s",
            "nrt_median_s",
            "nrt_p90_s",
            "resolution_median_s",
            "resolution_p90_s",
            "sla_attainment",
            "sla_met",
            "sla_breached",
            "engagement_ratio",
            "net_sentiment",
            "inbound_messages",
            "frt_by_responder",
            "by_intent",
            "per_team",
            "engagement_by_account",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["by_intent"]["question"], 1);
        assert_eq!(v["frt_by_responder"]["ana"]["count"], 1);
        assert_eq!(v["per_team"]["care"]["frt_median_s"], 600.0);
        assert!(v["nrt_median_s"].is_null());
    }

    #[test]
    fn timeline_json_shape() {
        let item: TimelineItem = serde_json::from_str(
            r#"{"kind":"outbound","at":"2025-03-03T00:00:00Z","automated":false,"by":"ana","is_reply":true}"#,
        )
        .unwrap();
        assert_eq!(item, human(0, "ana"));
    }
}
