//! The two publishing guards of "Talk and lead".
//!
//! **Cadence guard** ([`CadenceGuard`]): a leader's key messages cut through because they
//! are rare, so each leader may have at most `key_messages_per_day` of them on one
//! calendar day and `key_messages_per_week` in one calendar week (Monday to Sunday),
//! both in the `[cadence]` time zone (UTC by default). Scheduled and published key
//! messages count alike, before or after the proposed time. When a proposed time is
//! refused, the guard gives the earliest time at or after it that both limits allow.
//!
//! **Engage-vs-broadcast guard** ([`check_broadcast`]): the engagement ratio of an
//! account is, as `docs/metrics.md` defines it, its outbound replies ÷ (outbound replies +
//! broadcasts), automated messages left out. Here it is taken over the `window_days`
//! (30) days before the broadcast's time; when the broadcast would leave it under
//! `[engagement] target` (0.8), the check warns with the ratio before and after and the
//! number of replies that would bring it back to the target.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::metrics::BroadcastFacts;

/// The `[cadence]` section of rapport.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CadenceConfig {
    /// The most key messages one leader may have on one calendar day.
    pub key_messages_per_day: u32,
    /// The most key messages one leader may have in one calendar week (Monday–Sunday).
    pub key_messages_per_week: u32,
    /// The IANA time zone whose calendar days and weeks count, e.g. `"Europe/Paris"`.
    pub timezone: String,
}

impl Default for CadenceConfig {
    fn default() -> Self {
        Self {
            key_messages_per_day: 2,
            key_messages_per_week: 6,
            timezone: "UTC".to_string(),
        }
    }
}

/// A `[cadence]` section that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CadenceError {
    /// A limit of zero would refuse every key message.
    #[error(
        "[cadence] {0} = 0 would refuse every key message: set at least 1 (defaults: 2 a day, 6 a week)"
    )]
    Zero(&'static str),
    /// A daily limit above the weekly one.
    #[error(
        "[cadence] key_messages_per_day = {per_day} is more than key_messages_per_week = {per_week}: lower the daily limit or raise the weekly one"
    )]
    DayAboveWeek {
        /// The daily limit.
        per_day: u32,
        /// The weekly limit.
        per_week: u32,
    },
    /// An unknown time zone.
    #[error(
        "[cadence] timezone {0:?} is not an IANA time zone: write a name like \"Europe/Paris\", \"America/New_York\" or \"UTC\""
    )]
    UnknownTimezone(String),
}

impl CadenceConfig {
    /// Checks the limits and the time zone, and returns the guard.
    pub fn validate(&self) -> Result<CadenceGuard, CadenceError> {
        if self.key_messages_per_day == 0 {
            return Err(CadenceError::Zero("key_messages_per_day"));
        }
        if self.key_messages_per_week == 0 {
            return Err(CadenceError::Zero("key_messages_per_week"));
        }
        if self.key_messages_per_day > self.key_messages_per_week {
            return Err(CadenceError::DayAboveWeek {
                per_day: self.key_messages_per_day,
                per_week: self.key_messages_per_week,
            });
        }
        let tz: Tz = self
            .timezone
            .trim()
            .parse()
            .map_err(|_| CadenceError::UnknownTimezone(self.timezone.clone()))?;
        Ok(CadenceGuard {
            per_day: self.key_messages_per_day,
            per_week: self.key_messages_per_week,
            tz,
        })
    }
}

/// A checked `[cadence]`: made by [`CadenceConfig::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CadenceGuard {
    per_day: u32,
    per_week: u32,
    tz: Tz,
}

/// Which limit a proposed key message would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CadenceLimit {
    /// `key_messages_per_day`.
    Day,
    /// `key_messages_per_week`.
    Week,
}

/// The cadence guard's answer for one proposed key message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CadenceDecision {
    /// Whether the proposed time is allowed.
    pub allowed: bool,
    /// The limit it would break, when it is not allowed (the daily one first).
    pub blocked_by: Option<CadenceLimit>,
    /// The leader's key messages already on the proposed time's day.
    pub on_that_day: u32,
    /// The leader's key messages already in the proposed time's week.
    pub in_that_week: u32,
    /// The earliest allowed time at or after the proposed one: the proposed time itself
    /// when it is allowed.
    pub next_allowed: DateTime<Utc>,
    /// One sentence for the leader: why, and what to do when it is refused.
    pub explanation: String,
}

impl CadenceGuard {
    /// The most key messages a day.
    pub fn per_day(&self) -> u32 {
        self.per_day
    }

    /// The most key messages a week.
    pub fn per_week(&self) -> u32 {
        self.per_week
    }

    /// The time zone whose days and weeks count.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The Monday that starts the week of `date`.
    fn week_of(date: NaiveDate) -> NaiveDate {
        date - TimeDelta::days(i64::from(date.weekday().num_days_from_monday()))
    }

    /// The first instant of a local date: its midnight, or where the clock jumps to when
    /// midnight is skipped.
    fn day_start(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN);
        let mut probe = midnight;
        // A daylight-saving gap lasts at most a few hours; probe minute by minute.
        for _ in 0..(24 * 60) {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            match probe.checked_add_signed(TimeDelta::minutes(1)) {
                Some(next) => probe = next,
                None => break,
            }
        }
        midnight.and_utc()
    }

    /// Whether a leader may have a key message at `proposed`, given the times of their
    /// key messages already scheduled or published (leave out the draft being checked,
    /// when it is being rescheduled).
    pub fn check(&self, existing: &[DateTime<Utc>], proposed: DateTime<Utc>) -> CadenceDecision {
        let dates: Vec<NaiveDate> = existing.iter().map(|t| self.local_date(*t)).collect();
        let on_day = |d: NaiveDate| dates.iter().filter(|x| **x == d).count() as u32;
        let in_week =
            |w: NaiveDate| dates.iter().filter(|x| Self::week_of(**x) == w).count() as u32;
        let blocked = |t: DateTime<Utc>| {
            let d = self.local_date(t);
            if on_day(d) >= self.per_day {
                Some((CadenceLimit::Day, self.day_start(d + TimeDelta::days(1))))
            } else if in_week(Self::week_of(d)) >= self.per_week {
                Some((
                    CadenceLimit::Week,
                    self.day_start(Self::week_of(d) + TimeDelta::days(7)),
                ))
            } else {
                None
            }
        };

        let date = self.local_date(proposed);
        let week = Self::week_of(date);
        let on_that_day = on_day(date);
        let in_that_week = in_week(week);
        let blocked_by = blocked(proposed).map(|(limit, _)| limit);

        // Each jump passes a full day or week, which holds at least one existing key
        // message: there are at most as many jumps as key messages.
        let mut next = proposed;
        for _ in 0..=existing.len() {
            match blocked(next) {
                Some((_, later)) => next = later,
                None => break,
            }
        }

        let zone = self.tz.name();
        let explanation = match blocked_by {
            None => format!(
                "allowed: it would be key message {} of {} on {} and {} of {} in the week of {} ({zone})",
                on_that_day + 1,
                self.per_day,
                date.format("%a %Y-%m-%d"),
                in_that_week + 1,
                self.per_week,
                week.format("%a %Y-%m-%d"),
            ),
            Some(limit) => {
                let why = match limit {
                    CadenceLimit::Day => format!(
                        "{on_that_day} key messages are already on {} and the limit is {} a day",
                        date.format("%a %Y-%m-%d"),
                        self.per_day
                    ),
                    CadenceLimit::Week => format!(
                        "{in_that_week} key messages are already in the week of {} and the limit is {} a week",
                        week.format("%a %Y-%m-%d"),
                        self.per_week
                    ),
                };
                format!(
                    "not allowed: {why} ({zone}); the next free slot starts {}: schedule it then or later, or move one of the others; fewer key messages cut through better",
                    next.with_timezone(&self.tz).format("%a %Y-%m-%d %H:%M"),
                )
            }
        };
        CadenceDecision {
            allowed: blocked_by.is_none(),
            blocked_by,
            on_that_day,
            in_that_week,
            next_allowed: next,
            explanation,
        }
    }
}

/// The `[engagement]` section of rapport.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngagementConfig {
    /// The engagement ratio an account should keep, in [0, 1); 0 turns the warning off.
    pub target: f64,
    /// The days before a broadcast over which the ratio is taken.
    pub window_days: u32,
}

impl Default for EngagementConfig {
    fn default() -> Self {
        Self {
            target: 0.8,
            window_days: 30,
        }
    }
}

/// An `[engagement]` section that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngagementConfigError {
    /// A target outside [0, 1).
    #[error(
        "[engagement] target = {0} must be at least 0 and below 1 (1 would forbid every broadcast); use e.g. 0.8, or 0 to turn the warning off"
    )]
    Target(f64),
    /// A window outside 1..=365 days.
    #[error("[engagement] window_days = {0} must be between 1 and 365; the default is 30")]
    Window(u32),
}

impl EngagementConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), EngagementConfigError> {
        if !(0.0..1.0).contains(&self.target) {
            return Err(EngagementConfigError::Target(self.target));
        }
        if !(1..=365).contains(&self.window_days) {
            return Err(EngagementConfigError::Window(self.window_days));
        }
        Ok(())
    }
}

/// What one more broadcast does to an account's engagement ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngagementCheck {
    /// The account.
    pub account: String,
    /// Its human replies in the window.
    pub replies: u64,
    /// Its human broadcasts in the window, this one left out.
    pub broadcasts: u64,
    /// The ratio without this broadcast; `None` when the account sent nothing.
    pub before: Option<f64>,
    /// The ratio with it.
    pub after: f64,
    /// The target it is held to.
    pub target: f64,
    /// Replies that would bring the ratio, this broadcast included, back to the target
    /// (0 when it stays there).
    pub replies_needed: u64,
    /// Set when the broadcast would leave the ratio under the target: what happens and
    /// what to do.
    pub warning: Option<String>,
}

/// The engage-vs-broadcast guard: the engagement ratio of `account` over the
/// `window_days` before `at` (from `outbound`, every account's outbound messages; other
/// accounts' and automated ones are left out), before and after one more human broadcast
/// at `at`. Accounts compare as handles do: case-insensitively, without a leading `@`.
pub fn check_broadcast(
    cfg: &EngagementConfig,
    account: &str,
    outbound: &[BroadcastFacts],
    at: DateTime<Utc>,
) -> EngagementCheck {
    let since = at - TimeDelta::days(i64::from(cfg.window_days));
    let wanted = account.trim_start_matches('@');
    let (mut replies, mut broadcasts) = (0u64, 0u64);
    for b in outbound {
        if b.automated
            || b.at < since
            || b.at >= at
            || !b
                .account
                .trim_start_matches('@')
                .eq_ignore_ascii_case(wanted)
        {
            continue;
        }
        if b.is_reply {
            replies += 1;
        } else {
            broadcasts += 1;
        }
    }
    let ratio = |r: u64, b: u64| r as f64 / (r + b) as f64;
    let before = (replies + broadcasts > 0).then(|| ratio(replies, broadcasts));
    let after = ratio(replies, broadcasts + 1);
    // A small tolerance so that 4 replies and 1 broadcast meet a target of 0.8.
    const EPS: f64 = 1e-9;
    let meets = |n: u64| ratio(replies + n, broadcasts + 1) >= cfg.target - EPS;
    let mut replies_needed = 0;
    if !meets(0) {
        // r + n ≥ target·(r + n + b + 1)  ⇔  n ≥ target·(b + 1)/(1 − target) − r
        let estimate =
            (cfg.target * (broadcasts + 1) as f64 / (1.0 - cfg.target) - replies as f64).ceil();
        replies_needed = if estimate.is_finite() && estimate > 0.0 {
            estimate as u64
        } else {
            1
        };
        while replies_needed > 1 && meets(replies_needed - 1) {
            replies_needed -= 1;
        }
        while !meets(replies_needed) {
            replies_needed += 1;
        }
    }
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let warning = (replies_needed > 0).then(|| {
        let from = match before {
            None => format!(
                "{account} sent nothing in the last {} days, so this broadcast starts its engagement ratio at {}",
                cfg.window_days,
                pct(after)
            ),
            Some(b) if b < cfg.target - EPS => format!(
                "{account}'s engagement ratio over the last {} days is already under target at {} ({replies} replies, {broadcasts} broadcasts); this broadcast takes it to {}",
                cfg.window_days,
                pct(b),
                pct(after)
            ),
            Some(b) => format!(
                "this broadcast takes {account}'s engagement ratio over the last {} days from {} to {} ({replies} replies, {} broadcasts)",
                cfg.window_days,
                pct(b),
                pct(after),
                broadcasts + 1
            ),
        };
        format!(
            "{from}, under the target of {}: reply to {replies_needed} more {} to bring it back, or post it later; engage, do not broadcast",
            pct(cfg.target),
            if replies_needed == 1 { "person" } else { "people" }
        )
    });
    EngagementCheck {
        account: account.to_string(),
        replies,
        broadcasts,
        before,
        after,
        target: cfg.target,
        replies_needed,
        warning,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn guard() -> CadenceGuard {
        CadenceConfig::default().validate().unwrap()
    }

    #[test]
    fn under_both_limits_is_allowed() {
        // 2024-05-06 is a Monday.
        let d = guard().check(&[t("2024-05-06T09:00:00Z")], t("2024-05-06T15:00:00Z"));
        assert!(d.allowed);
        assert_eq!(d.blocked_by, None);
        assert_eq!((d.on_that_day, d.in_that_week), (1, 1));
        assert_eq!(d.next_allowed, t("2024-05-06T15:00:00Z"));
        assert_eq!(
            d.explanation,
            "allowed: it would be key message 2 of 2 on Mon 2024-05-06 and 2 of 6 in the week of Mon 2024-05-06 (UTC)"
        );
    }

    #[test]
    fn a_full_day_sends_it_to_the_next_day() {
        let existing = [t("2024-05-07T08:00:00Z"), t("2024-05-07T20:00:00Z")];
        let d = guard().check(&existing, t("2024-05-07T12:00:00Z"));
        assert!(!d.allowed);
        assert_eq!(d.blocked_by, Some(CadenceLimit::Day));
        assert_eq!(d.next_allowed, t("2024-05-08T00:00:00Z"));
        assert_eq!(
            d.explanation,
            "not allowed: 2 key messages are already on Tue 2024-05-07 and the limit is 2 a day (UTC); the next free slot starts Wed 2024-05-08 00:00: schedule it then or later, or move one of the others; fewer key messages cut through better"
        );
        // Later ones count as much as earlier ones.
        let d = guard().check(&existing, t("2024-05-07T00:00:00Z"));
        assert!(!d.allowed);
    }

    #[test]
    fn consecutive_full_days_are_skipped() {
        let existing = [
            t("2024-05-07T08:00:00Z"),
            t("2024-05-07T09:00:00Z"),
            t("2024-05-08T08:00:00Z"),
            t("2024-05-08T09:00:00Z"),
        ];
        let d = guard().check(&existing, t("2024-05-07T10:00:00Z"));
        assert_eq!(d.next_allowed, t("2024-05-09T00:00:00Z"));
    }

    #[test]
    fn a_full_week_sends_it_to_next_monday() {
        // Six key messages Mon–Wed of the week of Monday 2024-05-06.
        let existing: Vec<_> = ["06", "07", "08"]
            .iter()
            .flat_map(|d| {
                [
                    t(&format!("2024-05-{d}T08:00:00Z")),
                    t(&format!("2024-05-{d}T16:00:00Z")),
                ]
            })
            .collect();
        let d = guard().check(&existing, t("2024-05-10T09:00:00Z"));
        assert!(!d.allowed);
        assert_eq!(d.blocked_by, Some(CadenceLimit::Week));
        assert_eq!((d.on_that_day, d.in_that_week), (0, 6));
        assert_eq!(d.next_allowed, t("2024-05-13T00:00:00Z"));
        assert!(
            d.explanation.starts_with(
                "not allowed: 6 key messages are already in the week of Mon 2024-05-06 and the limit is 6 a week (UTC)"
            ),
            "{}",
            d.explanation
        );
        // The next week is free.
        assert!(guard().check(&existing, t("2024-05-13T09:00:00Z")).allowed);
    }

    #[test]
    fn a_full_day_then_a_full_week() {
        // Friday is full, and the week is full by then: the answer is next Monday, not
        // Saturday.
        let existing: Vec<_> = ["06", "07", "10"]
            .iter()
            .flat_map(|d| {
                [
                    t(&format!("2024-05-{d}T08:00:00Z")),
                    t(&format!("2024-05-{d}T16:00:00Z")),
                ]
            })
            .collect();
        let d = guard().check(&existing, t("2024-05-10T12:00:00Z"));
        assert_eq!(d.blocked_by, Some(CadenceLimit::Day));
        assert_eq!(d.next_allowed, t("2024-05-13T00:00:00Z"));
    }

    #[test]
    fn days_are_the_configured_zones() {
        let paris = CadenceConfig {
            timezone: "Europe/Paris".into(),
            ..CadenceConfig::default()
        }
        .validate()
        .unwrap();
        // 23:30 UTC on the 6th is already the 7th in Paris (UTC+2 in May).
        let existing = [t("2024-05-06T23:30:00Z"), t("2024-05-07T10:00:00Z")];
        let d = paris.check(&existing, t("2024-05-07T12:00:00Z"));
        assert!(!d.allowed);
        assert_eq!(d.next_allowed, t("2024-05-07T22:00:00Z"));
        assert!(
            d.explanation.contains("(Europe/Paris)"),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains("starts Wed 2024-05-08 00:00"),
            "{}",
            d.explanation
        );
        // In UTC the two are on different days.
        assert!(guard().check(&existing, t("2024-05-07T12:00:00Z")).allowed);
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_when_the_clock_jumps() {
        // Chile (America/Santiago) moved its clocks from 00:00 to 01:00 on 2024-09-08.
        let santiago = CadenceConfig {
            timezone: "America/Santiago".into(),
            ..CadenceConfig::default()
        }
        .validate()
        .unwrap();
        let existing = [t("2024-09-07T13:00:00Z"), t("2024-09-07T14:00:00Z")];
        let d = santiago.check(&existing, t("2024-09-07T15:00:00Z"));
        assert!(!d.allowed);
        // 01:00 local (UTC−3) on the 8th.
        assert_eq!(d.next_allowed, t("2024-09-08T04:00:00Z"));
    }

    #[test]
    fn cadence_config_checks() {
        let c = CadenceConfig::default();
        assert_eq!((c.key_messages_per_day, c.key_messages_per_week), (2, 6));
        let bad = CadenceConfig {
            timezone: "Mars/Olympus".into(),
            ..c.clone()
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            CadenceError::UnknownTimezone("Mars/Olympus".into())
        );
        let bad = CadenceConfig {
            key_messages_per_day: 0,
            ..c.clone()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[cadence] key_messages_per_day = 0 would refuse every key message: set at least 1 (defaults: 2 a day, 6 a week)"
        );
        let bad = CadenceConfig {
            key_messages_per_day: 7,
            ..c
        };
        assert!(matches!(
            bad.validate(),
            Err(CadenceError::DayAboveWeek { .. })
        ));
        let c: CadenceConfig = toml::from_str("key_messages_per_week = 3").unwrap();
        assert_eq!((c.key_messages_per_day, c.key_messages_per_week), (2, 3));
        assert_eq!(c.timezone, "UTC");
    }

    fn sent(account: &str, at: &str, is_reply: bool) -> BroadcastFacts {
        BroadcastFacts {
            account: account.into(),
            at: t(at),
            is_reply,
            automated: false,
        }
    }

    /// `replies` replies and `broadcasts` broadcasts from `account` in early May 2024.
    fn history(account: &str, replies: usize, broadcasts: usize) -> Vec<BroadcastFacts> {
        (0..replies)
            .map(|i| {
                sent(
                    account,
                    &format!("2024-05-{:02}T10:00:00Z", 1 + i % 20),
                    true,
                )
            })
            .chain((0..broadcasts).map(|i| {
                sent(
                    account,
                    &format!("2024-05-{:02}T11:00:00Z", 1 + i % 20),
                    false,
                )
            }))
            .collect()
    }

    const AT: &str = "2024-05-25T12:00:00Z";

    #[test]
    fn a_broadcast_that_keeps_the_target_is_fine() {
        let cfg = EngagementConfig::default();
        // 8 replies, 1 broadcast: 89%; with this one 8/10 = 80%, exactly the target.
        let c = check_broadcast(&cfg, "acme", &history("acme", 8, 1), t(AT));
        assert_eq!((c.replies, c.broadcasts), (8, 1));
        assert!((c.before.unwrap() - 8.0 / 9.0).abs() < 1e-12);
        assert!((c.after - 0.8).abs() < 1e-12);
        assert_eq!(c.replies_needed, 0);
        assert_eq!(c.warning, None);
    }

    #[test]
    fn a_broadcast_that_pushes_it_under_warns() {
        let cfg = EngagementConfig::default();
        // 8 replies, 2 broadcasts: 80%; with this one 8/11 = 73%.
        let c = check_broadcast(&cfg, "acme", &history("acme", 8, 2), t(AT));
        assert_eq!(c.before, Some(0.8));
        assert!((c.after - 8.0 / 11.0).abs() < 1e-12);
        // 12 replies and 3 broadcasts make 80%: 4 more replies.
        assert_eq!(c.replies_needed, 4);
        assert_eq!(
            c.warning.as_deref(),
            Some(
                "this broadcast takes acme's engagement ratio over the last 30 days from 80% to 73% (8 replies, 3 broadcasts), under the target of 80%: reply to 4 more people to bring it back, or post it later; engage, do not broadcast"
            )
        );
    }

    #[test]
    fn already_under_target_and_an_empty_history() {
        let cfg = EngagementConfig::default();
        let c = check_broadcast(&cfg, "acme", &history("acme", 1, 1), t(AT));
        assert_eq!(c.before, Some(0.5));
        // (1 + n) / (1 + n + 2) ≥ 0.8  ⇔  n ≥ 7.
        assert_eq!(c.replies_needed, 7);
        assert!(
            c.warning
                .as_deref()
                .unwrap()
                .starts_with("acme's engagement ratio over the last 30 days is already under target at 50% (1 replies, 1 broadcasts); this broadcast takes it to 33%"),
            "{:?}",
            c.warning
        );

        let c = check_broadcast(&cfg, "acme", &[], t(AT));
        assert_eq!((c.before, c.after, c.replies_needed), (None, 0.0, 4));
        assert_eq!(
            c.warning.as_deref(),
            Some(
                "acme sent nothing in the last 30 days, so this broadcast starts its engagement ratio at 0%, under the target of 80%: reply to 4 more people to bring it back, or post it later; engage, do not broadcast"
            )
        );
    }

    #[test]
    fn only_this_accounts_human_messages_in_the_window_count() {
        let cfg = EngagementConfig::default();
        let mut out = history("acme", 4, 0);
        // Another account, automated posts, and messages outside the window.
        out.extend(history("other", 0, 10));
        out.push(BroadcastFacts {
            automated: true,
            ..sent("acme", "2024-05-20T10:00:00Z", false)
        });
        out.push(sent("acme", "2024-04-01T10:00:00Z", false));
        out.push(sent("acme", "2024-05-25T12:00:00Z", false));
        let c = check_broadcast(&cfg, "@ACME", &out, t(AT));
        assert_eq!((c.replies, c.broadcasts), (4, 0));
        // 4 / 5 = 80%.
        assert_eq!(c.warning, None);
    }

    #[test]
    fn a_target_of_zero_never_warns() {
        let cfg = EngagementConfig {
            target: 0.0,
            ..EngagementConfig::default()
        };
        assert_eq!(check_broadcast(&cfg, "acme", &[], t(AT)).warning, None);
    }

    #[test]
    fn engagement_config_checks() {
        assert!(EngagementConfig::default().validate().is_ok());
        let bad = EngagementConfig {
            target: 1.0,
            ..EngagementConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[engagement] target = 1 must be at least 0 and below 1 (1 would forbid every broadcast); use e.g. 0.8, or 0 to turn the warning off"
        );
        let bad = EngagementConfig {
            window_days: 0,
            ..EngagementConfig::default()
        };
        assert!(bad.validate().is_err());
        let c: EngagementConfig = toml::from_str("target = 0.75").unwrap();
        assert_eq!((c.target, c.window_days), (0.75, 30));
    }
}
