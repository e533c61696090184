//! SLA due times, on the plain clock or on a team's business hours.
//!
//! A first-response SLA is a number of minutes per priority band ([`SlaPolicy`], by
//! default P1 15 min, P2 1 h, P3 4 h, P4 24 h). Without a calendar the due time is the
//! arrival time plus those minutes. With a team's [`BusinessHours`] (checked into a
//! [`Calendar`]) only *open* minutes count, in the team's own time zone: a message at
//! Friday 16:45 with a 30-minute SLA and hours Mon–Fri 09:00–17:00 is due Monday 09:15.
//!
//! How open time is defined:
//! - A local date is open when its weekday is one of `days` and it is not in `holidays`
//!   (holidays are dates in the team's time zone).
//! - On an open date the team is open from the wall-clock time `start` up to, not
//!   including, the wall-clock time `end` (`"24:00"` means the end of the day). Hours
//!   that cross midnight are not supported; `"00:00"`–`"24:00"` is round the clock.
//! - Daylight saving: the window runs from the first instant the local clock reads
//!   `start` to the last instant it reads `end`, so an open day that loses an hour
//!   is an hour shorter and one that gains an hour is an hour longer. A `start` or
//!   `end` that falls in a skipped hour means the moment the clock jumps past it.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::Band;

/// Seconds in a day; an `end` of `"24:00"` is this many seconds after midnight.
const DAY_SECONDS: u32 = 86_400;

/// How many local days the calendar walks before giving up on an absurd duration
/// (about a hundred years).
const MAX_DAYS: u32 = 36_600;

/// A team's weekly business hours, as written in `rapport.toml`:
///
/// ```toml
/// [[team]]
/// name = "care"
/// hours = { timezone = "Europe/Paris", days = "mon-fri", start = "09:00", end = "17:00", holidays = ["2025-12-25"] }
/// ```
///
/// `days` may also be a list: `["mon", "tue", "wed", "thu", "fri"]`.
///
/// Check it with [`BusinessHours::validate`] to get the [`Calendar`] that the SLA
/// functions use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// IANA time zone name, e.g. `"Europe/Paris"` or `"America/New_York"`.
    pub timezone: String,
    /// Open weekdays: a list (`["mon", "tue"]`) or a string (`"mon-fri"`,
    /// `"mon-fri,sat"`, `"weekdays"`, `"daily"`). Defaults to `"mon-fri"`.
    #[serde(default)]
    pub days: DaySpec,
    /// Opening time, `"HH:MM"` on a 24-hour clock. Defaults to `"09:00"`.
    #[serde(default = "default_start")]
    pub start: String,
    /// Closing time, `"HH:MM"` (`"24:00"` for midnight at the end of the day).
    /// Defaults to `"17:00"`.
    #[serde(default = "default_end")]
    pub end: String,
    /// Dates (`"YYYY-MM-DD"`, in the team's time zone) when the team is closed all day.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

fn default_start() -> String {
    "09:00".to_string()
}

fn default_end() -> String {
    "17:00".to_string()
}

/// The open weekdays of [`BusinessHours`], as written: one string or a list of strings.
///
/// Each string names a day (`mon`, `monday`, ...), a range (`mon-fri`, or `fri-mon`
/// which wraps over the weekend), or one of `weekdays`, `weekend`, `daily`; a string may
/// hold several of these separated by commas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DaySpec {
    /// A single string such as `"mon-fri"` or `"mon,wed,fri"`.
    Spec(String),
    /// A list such as `["mon", "tue", "sat"]`.
    List(Vec<String>),
}

impl Default for DaySpec {
    fn default() -> Self {
        DaySpec::Spec("mon-fri".to_string())
    }
}

/// Why business hours or an SLA policy could not be used; each names the field and
/// says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaError {
    /// `timezone` is not an IANA name.
    #[error(
        "hours.timezone {0:?} is not an IANA time zone: write a name like \"Europe/Paris\", \"America/New_York\" or \"UTC\""
    )]
    UnknownTimezone(String),
    /// A `days` entry is not a weekday, range or keyword.
    #[error(
        "hours.days: {0:?} is not a weekday: write mon, tue, wed, thu, fri, sat, sun, a range like \"mon-fri\", or weekdays, weekend, daily"
    )]
    BadDay(String),
    /// `days` names no day.
    #[error("hours.days is empty: name at least one open day, e.g. \"mon-fri\"")]
    NoDays,
    /// `start` or `end` is not a time of day.
    #[error(
        "hours.{field} {value:?} is not a time: write \"HH:MM\" on a 24-hour clock, e.g. \"09:00\" (end may be \"24:00\")"
    )]
    BadTime {
        /// `start` or `end`.
        field: &'static str,
        /// What was written.
        value: String,
    },
    /// `start` is not before `end`.
    #[error(
        "hours: start {start:?} must be before end {end:?}; hours across midnight are not supported, use \"00:00\" to \"24:00\" for round the clock"
    )]
    EmptyHours {
        /// What was written for `start`.
        start: String,
        /// What was written for `end`.
        end: String,
    },
    /// An SLA of zero or fewer minutes.
    #[error("sla.{band} = {minutes}: an SLA must be a positive number of minutes, e.g. 60")]
    BadMinutes {
        /// `p1` .. `p4`.
        band: &'static str,
        /// What was written.
        minutes: i64,
    },
}

impl BusinessHours {
    /// Checks every field and returns the [`Calendar`] the SLA functions use.
    pub fn validate(&self) -> Result<Calendar, SlaError> {
        let tz: Tz = self
            .timezone
            .trim()
            .parse()
            .map_err(|_| SlaError::UnknownTimezone(self.timezone.clone()))?;
        let days = parse_days(&self.days)?;
        let start = parse_time(&self.start, "start", false)?;
        let end = parse_time(&self.end, "end", true)?;
        if start >= end {
            return Err(SlaError::EmptyHours {
                start: self.start.clone(),
                end: self.end.clone(),
            });
        }
        Ok(Calendar {
            tz,
            days,
            start,
            end,
            holidays: self.holidays.iter().copied().collect(),
        })
    }
}

/// Parses `"HH:MM"` into seconds after midnight; `"24:00"` only when `allow_24`.
fn parse_time(value: &str, field: &'static str, allow_24: bool) -> Result<u32, SlaError> {
    let bad = || SlaError::BadTime {
        field,
        value: value.to_string(),
    };
    let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, max_len: usize| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h == 24 && m == 0 && allow_24 {
        return Ok(DAY_SECONDS);
    }
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

/// Monday = 0 .. Sunday = 6.
fn parse_weekday(s: &str) -> Option<usize> {
    let i = match s {
        "mon" | "monday" => 0,
        "tue" | "tues" | "tuesday" => 1,
        "wed" | "wednesday" => 2,
        "thu" | "thur" | "thurs" | "thursday" => 3,
        "fri" | "friday" => 4,
        "sat" | "saturday" => 5,
        "sun" | "sunday" => 6,
        _ => return None,
    };
    Some(i)
}

fn parse_day_token(token: &str, days: &mut [bool; 7]) -> Result<(), SlaError> {
    let t = token.trim().to_ascii_lowercase();
    let bad = || SlaError::BadDay(token.trim().to_string());
    match t.as_str() {
        "weekdays" => days[..5].iter_mut().for_each(|d| *d = true),
        "weekend" | "weekends" => days[5..].iter_mut().for_each(|d| *d = true),
        "daily" | "all" | "everyday" | "every day" => days.iter_mut().for_each(|d| *d = true),
        _ => {
            if let Some((a, b)) = t.split_once('-') {
                let a = parse_weekday(a.trim()).ok_or_else(bad)?;
                let b = parse_weekday(b.trim()).ok_or_else(bad)?;
                let mut i = a;
                loop {
                    days[i] = true;
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            } else {
                days[parse_weekday(&t).ok_or_else(bad)?] = true;
            }
        }
    }
    Ok(())
}

fn parse_days(spec: &DaySpec) -> Result<[bool; 7], SlaError> {
    let mut days = [false; 7];
    let tokens: Vec<&str> = match spec {
        DaySpec::Spec(s) => s.split(',').collect(),
        DaySpec::List(list) => list.iter().flat_map(|s| s.split(',')).collect(),
    };
    for token in tokens {
        if token.trim().is_empty() {
            continue;
        }
        parse_day_token(token, &mut days)?;
    }
    if days.iter().any(|d| *d) {
        Ok(days)
    } else {
        Err(SlaError::NoDays)
    }
}

/// Checked business hours: a time zone, the open weekdays, the daily opening window and
/// the holidays. Made by [`BusinessHours::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    /// Monday = 0 .. Sunday = 6.
    days: [bool; 7],
    /// Opening, seconds after local midnight.
    start: u32,
    /// Closing, seconds after local midnight (up to 86,400).
    end: u32,
    holidays: BTreeSet<NaiveDate>,
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days: Vec<&str> = NAMES
            .iter()
            .zip(self.days)
            .filter_map(|(n, open)| open.then_some(*n))
            .collect();
        write!(
            f,
            "{} {:02}:{:02}-{:02}:{:02} {}",
            days.join(","),
            self.start / 3600,
            self.start % 3600 / 60,
            self.end / 3600,
            self.end % 3600 / 60,
            self.tz.name()
        )
    }
}

impl Calendar {
    /// The team's time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// Whether the team is open on this local date (an open weekday and no holiday).
    pub fn is_open_day(&self, date: NaiveDate) -> bool {
        self.days[date.weekday().num_days_from_monday() as usize] && !self.holidays.contains(&date)
    }

    /// The open window `[opens, closes)` of a local date, in UTC, or `None` when the
    /// team is closed that day.
    pub fn open_window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.is_open_day(date) {
            return None;
        }
        let opens = self.resolve(date, self.start, false)?;
        let closes = self.resolve(date, self.end, true)?;
        (opens < closes).then_some((opens, closes))
    }

    /// Whether the instant falls in open time.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let date = at.with_timezone(&self.tz).date_naive();
        self.open_window(date)
            .is_some_and(|(opens, closes)| opens <= at && at < closes)
    }

    /// The instant at which `open` of open time has passed since `start`; with a zero
    /// duration, the first open instant at or after `start`.
    pub fn add_open_time(&self, start: DateTime<Utc>, open: TimeDelta) -> DateTime<Utc> {
        let mut remaining = open.max(TimeDelta::zero());
        let mut date = start.with_timezone(&self.tz).date_naive();
        for _ in 0..MAX_DAYS {
            if let Some((opens, closes)) = self.open_window(date) {
                let from = opens.max(start);
                if from < closes {
                    let available = closes - from;
                    if remaining <= available {
                        return from + remaining;
                    }
                    remaining -= available;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        // Only reached for absurd durations (a century of open time) or dates at the
        // end of chrono's range.
        start
            .checked_add_signed(open)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Open time between two instants (zero when `to` is not after `from`).
    pub fn business_duration(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        let mut total = TimeDelta::zero();
        if to <= from {
            return total;
        }
        let mut date = from.with_timezone(&self.tz).date_naive();
        let last = to.with_timezone(&self.tz).date_naive();
        while date <= last {
            if let Some((opens, closes)) = self.open_window(date) {
                let a = opens.max(from);
                let b = closes.min(to);
                if a < b {
                    total += b - a;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The instant a local date and time of day means. `latest` picks the later of two
    /// instants when the clock goes back; a time skipped when the clock goes forward
    /// means the moment the clock jumps past it.
    fn resolve(&self, date: NaiveDate, seconds: u32, latest: bool) -> Option<DateTime<Utc>> {
        let local = if seconds >= DAY_SECONDS {
            date.succ_opt()?.and_time(NaiveTime::MIN)
        } else {
            date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0)?)
        };
        if let Some(t) = self.map_local(local, latest) {
            return Some(t);
        }
        // In a gap: the first valid wall time after it is where the clock jumped to.
        let mut probe = local;
        for _ in 0..(2 * 24 * 60) {
            probe = probe.checked_add_signed(TimeDelta::minutes(1))?;
            if let Some(t) = self.map_local(probe, false) {
                return Some(t);
            }
        }
        Some(local.and_utc())
    }

    fn map_local(&self, local: NaiveDateTime, latest: bool) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            chrono::LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                Some(if latest { a.max(b) } else { a.min(b) })
            }
            chrono::LocalResult::None => None,
        }
    }
}

/// When a first response is due: `minutes` after `start`, counting every minute when
/// there is no calendar, and only open minutes of the team's business hours when there
/// is one. Negative minutes count as zero; with a calendar, zero minutes gives the first
/// open instant at or after `start`.
///
/// Friday 16:45 with 30 minutes and hours Mon–Fri 09:00–17:00 is due Monday 09:15.
pub fn due_at(start: DateTime<Utc>, minutes: i64, calendar: Option<&Calendar>) -> DateTime<Utc> {
    let minutes = minutes.max(0);
    let delta = TimeDelta::try_minutes(minutes).unwrap_or(TimeDelta::MAX);
    match calendar {
        Some(cal) => cal.add_open_time(start, delta),
        None => start
            .checked_add_signed(delta)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    }
}

/// Open time between two instants on a calendar (zero when `to` is not after `from`);
/// used to report response times in business hours.
pub fn business_duration(from: DateTime<Utc>, to: DateTime<Utc>, calendar: &Calendar) -> TimeDelta {
    calendar.business_duration(from, to)
}

/// First-response SLA in minutes per priority band. Defaults: P1 15 min, P2 1 h,
/// P3 4 h, P4 24 h. In TOML: `{ p1 = 15, p2 = 60, p3 = 240, p4 = 1440 }`; a missing key
/// keeps its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    /// Minutes to first response for P1.
    pub p1: i64,
    /// Minutes to first response for P2.
    pub p2: i64,
    /// Minutes to first response for P3.
    pub p3: i64,
    /// Minutes to first response for P4.
    pub p4: i64,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self {
            p1: 15,
            p2: 60,
            p3: 240,
            p4: 1440,
        }
    }
}

impl SlaPolicy {
    /// The SLA in minutes for a band.
    pub fn minutes_for(&self, band: Band) -> i64 {
        match band {
            Band::P1 => self.p1,
            Band::P2 => self.p2,
            Band::P3 => self.p3,
            Band::P4 => self.p4,
        }
    }

    /// Checks that every band has a positive number of minutes.
    pub fn validate(&self) -> Result<(), SlaError> {
        for (band, minutes) in [
            ("p1", self.p1),
            ("p2", self.p2),
            ("p3", self.p3),
            ("p4", self.p4),
        ] {
            if minutes <= 0 {
                return Err(SlaError::BadMinutes { band, minutes });
            }
        }
        Ok(())
    }

    /// When a first response is due for a message of this band arriving at `start`.
    pub fn due_at(
        &self,
        start: DateTime<Utc>,
        band: Band,
        calendar: Option<&Calendar>,
    ) -> DateTime<Utc> {
        due_at(start, self.minutes_for(band), calendar)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn hours(tz: &str, days: &str, start: &str, end: &str, holidays: &[&str]) -> Calendar {
        BusinessHours {
            timezone: tz.to_string(),
            days: DaySpec::Spec(days.to_string()),
            start: start.to_string(),
            end: end.to_string(),
            holidays: holidays.iter().map(|d| d.parse().unwrap()).collect(),
        }
        .validate()
        .unwrap()
    }

    fn nine_to_five_utc() -> Calendar {
        hours("UTC", "mon-fri", "09:00", "17:00", &[])
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn no_calendar_adds_plain_minutes() {
        assert_eq!(
            due_at(utc("2025-01-03T16:45:00Z"), 30, None),
            utc("2025-01-03T17:15:00Z")
        );
        assert_eq!(
            due_at(utc("2025-01-04T23:50:00Z"), 1440, None),
            utc("2025-01-05T23:50:00Z")
        );
    }

    #[test]
    fn friday_1645_with_30_minutes_is_due_monday_0915() {
        // 2025-01-03 is a Friday.
        let cal = nine_to_five_utc();
        assert_eq!(
            due_at(utc("2025-01-03T16:45:00Z"), 30, Some(&cal)),
            utc("2025-01-06T09:15:00Z")
        );
    }

    #[test]
    fn friday_1645_in_paris_local_time() {
        // Friday 16:45 in Paris (UTC+1 in January) = 15:45Z; Monday 09:15 Paris = 08:15Z.
        let cal = hours("Europe/Paris", "mon-fri", "09:00", "17:00", &[]);
        assert_eq!(
            due_at(utc("2025-01-03T15:45:00Z"), 30, Some(&cal)),
            utc("2025-01-06T08:15:00Z")
        );
    }

    #[test]
    fn inside_hours_is_plain_addition() {
        let cal = nine_to_five_utc();
        assert_eq!(
            due_at(utc("2025-01-06T10:00:00Z"), 60, Some(&cal)),
            utc("2025-01-06T11:00:00Z")
        );
    }

    #[test]
    fn ending_exactly_at_closing_is_due_at_closing() {
        let cal = nine_to_five_utc();
        assert_eq!(
            due_at(utc("2025-01-06T16:30:00Z"), 30, Some(&cal)),
            utc("2025-01-06T17:00:00Z")
        );
    }

    #[test]
    fn arrival_before_opening_starts_at_opening() {
        let cal = nine_to_five_utc();
        assert_eq!(
            due_at(utc("2025-01-06T06:12:00Z"), 15, Some(&cal)),
            utc("2025-01-06T09:15:00Z")
        );
    }

    #[test]
    fn arrival_after_closing_starts_next_morning() {
        let cal = nine_to_five_utc();
        assert_eq!(
            due_at(utc("2025-01-06T17:00:00Z"), 15, Some(&cal)),
            utc("2025-01-07T09:15:00Z")
        );
    }

    #[test]
    fn arrival_on_a_weekend_starts_monday() {
        let cal = nine_to_five_utc();
        // Saturday and Sunday.
        assert_eq!(
            due_at(utc("2025-01-04T12:00:00Z"), 60, Some(&cal)),
            utc("2025-01-06T10:00:00Z")
        );
        assert_eq!(
            due_at(utc("2025-01-05T23:59:00Z"), 60, Some(&cal)),
            utc("2025-01-06T10:00:00Z")
        );
    }

    #[test]
    fn arrival_on_a_holiday_skips_it() {
        // Wednesday 2025-12-24 16:50, Thursday 25 is a holiday: due Friday 26 09:20.
        let cal = hours("UTC", "mon-fri", "09:00", "17:00", &["2025-12-25"]);
        assert_eq!(
            due_at(utc("2025-12-24T16:50:00Z"), 30, Some(&cal)),
            utc("2025-12-26T09:20:00Z")
        );
        // Arriving on the holiday itself.
        assert_eq!(
            due_at(utc("2025-12-25T10:00:00Z"), 30, Some(&cal)),
            utc("2025-12-26T09:30:00Z")
        );
    }

    #[test]
    fn sla_longer_than_one_day_of_hours() {
        // 24 h of open time on 8-hour days from Monday 09:00: Monday, Tuesday and
        // Wednesday, due Wednesday 17:00.
        let cal = nine_to_five_utc();
        assert_eq!(
            due_at(utc("2025-01-06T09:00:00Z"), 1440, Some(&cal)),
            utc("2025-01-08T17:00:00Z")
        );
        // From Thursday 15:00: 2 h Thu, 8 h Fri, 8 h Mon, 6 h Tue → Tuesday 15:00.
        assert_eq!(
            due_at(utc("2025-01-09T15:00:00Z"), 1440, Some(&cal)),
            utc("2025-01-14T15:00:00Z")
        );
    }

    #[test]
    fn across_the_spring_dst_change() {
        // Paris moves from UTC+1 to UTC+2 on Sunday 2024-03-31.
        // Friday 2024-03-29 16:45 Paris = 15:45Z → Monday 09:15 Paris (UTC+2) = 07:15Z.
        let cal = hours("Europe/Paris", "mon-fri", "09:00", "17:00", &[]);
        assert_eq!(
            due_at(utc("2024-03-29T15:45:00Z"), 30, Some(&cal)),
            utc("2024-04-01T07:15:00Z")
        );
    }

    #[test]
    fn round_the_clock_calendar_follows_the_short_and_long_days() {
        let cal = hours("Europe/Paris", "daily", "00:00", "24:00", &[]);
        // Sunday 2024-03-31 has 23 hours in Paris. Round the clock, open time is real
        // time: Saturday 12:00 local (11:00Z) + 24 h is Sunday 11:00Z, 13:00 local.
        assert_eq!(
            due_at(utc("2024-03-30T11:00:00Z"), 1440, Some(&cal)),
            utc("2024-03-31T11:00:00Z")
        );
        // Business duration over the whole short day is 23 hours.
        let sunday_start = utc("2024-03-30T23:00:00Z"); // 00:00 local, UTC+1
        let monday_start = utc("2024-03-31T22:00:00Z"); // 00:00 local, UTC+2
        assert_eq!(
            business_duration(sunday_start, monday_start, &cal),
            TimeDelta::hours(23)
        );
        // And the autumn day (2024-10-27) has 25 hours.
        let sun = utc("2024-10-26T22:00:00Z");
        let mon = utc("2024-10-27T23:00:00Z");
        assert_eq!(business_duration(sun, mon, &cal), TimeDelta::hours(25));
    }

    #[test]
    fn opening_inside_a_skipped_hour_opens_when_the_clock_jumps() {
        // New York skips 02:00–03:00 on Sunday 2024-03-10; hours 02:30–04:00 that day
        // open at 03:00 EDT (07:00Z) and close at 04:00 EDT (08:00Z).
        let cal = hours("America/New_York", "sun", "02:30", "04:00", &[]);
        let day: NaiveDate = "2024-03-10".parse().unwrap();
        assert_eq!(
            cal.open_window(day),
            Some((utc("2024-03-10T07:00:00Z"), utc("2024-03-10T08:00:00Z")))
        );
        assert_eq!(
            due_at(utc("2024-03-10T05:00:00Z"), 10, Some(&cal)),
            utc("2024-03-10T07:10:00Z")
        );
    }

    #[test]
    fn closing_inside_a_repeated_hour_closes_at_the_second_one() {
        // New York repeats 01:00–02:00 on Sunday 2024-11-03: 00:00–01:30 is open until
        // the second 01:30 (EST, 06:30Z), 2 h 30 min of open time.
        let cal = hours("America/New_York", "sun", "00:00", "01:30", &[]);
        let day: NaiveDate = "2024-11-03".parse().unwrap();
        assert_eq!(
            cal.open_window(day),
            Some((utc("2024-11-03T04:00:00Z"), utc("2024-11-03T06:30:00Z")))
        );
    }

    #[test]
    fn zero_and_negative_minutes() {
        let cal = nine_to_five_utc();
        let sat = utc("2025-01-04T12:00:00Z");
        assert_eq!(due_at(sat, 0, None), sat);
        assert_eq!(due_at(sat, -5, None), sat);
        assert_eq!(due_at(sat, 0, Some(&cal)), utc("2025-01-06T09:00:00Z"));
        assert_eq!(due_at(sat, -5, Some(&cal)), utc("2025-01-06T09:00:00Z"));
    }

    #[test]
    fn absurd_durations_do_not_panic() {
        let cal = nine_to_five_utc();
        let t = utc("2025-01-06T09:00:00Z");
        assert_eq!(due_at(t, i64::MAX, None), DateTime::<Utc>::MAX_UTC);
        assert!(due_at(t, i64::MAX, Some(&cal)) > t);
    }

    #[test]
    fn business_duration_counts_only_open_time() {
        let cal = nine_to_five_utc();
        // Friday 16:45 → Monday 09:15: 15 + 15 minutes.
        assert_eq!(
            business_duration(
                utc("2025-01-03T16:45:00Z"),
                utc("2025-01-06T09:15:00Z"),
                &cal
            ),
            TimeDelta::minutes(30)
        );
        // Reversed or empty range: zero.
        assert_eq!(
            business_duration(
                utc("2025-01-06T09:15:00Z"),
                utc("2025-01-03T16:45:00Z"),
                &cal
            ),
            TimeDelta::zero()
        );
        // A whole week: 5 × 8 h.
        assert_eq!(
            business_duration(
                utc("2025-01-06T00:00:00Z"),
                utc("2025-01-13T00:00:00Z"),
                &cal
            ),
            TimeDelta::hours(40)
        );
        // Entirely outside hours.
        assert_eq!(
            business_duration(
                utc("2025-01-04T09:00:00Z"),
                utc("2025-01-05T17:00:00Z"),
                &cal
            ),
            TimeDelta::zero()
        );
    }

    #[test]
    fn business_duration_is_the_inverse_of_due_at() {
        let cal = hours("Europe/Paris", "mon-fri", "08:30", "18:00", &["2024-04-01"]);
        let mut t = utc("2024-03-27T05:07:00Z");
        for minutes in [1, 15, 60, 240, 1440, 5000] {
            let due = due_at(t, minutes, Some(&cal));
            assert_eq!(
                business_duration(t, due, &cal),
                TimeDelta::minutes(minutes),
                "{minutes} minutes from {t}"
            );
            t += TimeDelta::minutes(437);
        }
    }

    #[test]
    fn is_open() {
        let cal = nine_to_five_utc();
        assert!(!cal.is_open(utc("2025-01-06T08:59:59Z")));
        assert!(cal.is_open(utc("2025-01-06T09:00:00Z")));
        assert!(cal.is_open(utc("2025-01-06T16:59:59Z")));
        assert!(!cal.is_open(utc("2025-01-06T17:00:00Z")));
        assert!(!cal.is_open(utc("2025-01-04T12:00:00Z")));
    }

    #[test]
    fn days_accept_lists_ranges_and_keywords() {
        let parse = |spec: DaySpec| parse_days(&spec);
        let s = |x: &str| DaySpec::Spec(x.to_string());
        let l = |x: &[&str]| DaySpec::List(x.iter().map(|d| d.to_string()).collect());
        let weekdays = [true, true, true, true, true, false, false];
        assert_eq!(parse(s("mon-fri")), Ok(weekdays));
        assert_eq!(parse(s("Weekdays")), Ok(weekdays));
        assert_eq!(parse(l(&["mon", "tue", "wed", "thu", "fri"])), Ok(weekdays));
        assert_eq!(parse(l(&["Monday", "tue-thu", "FRI"])), Ok(weekdays));
        assert_eq!(
            parse(s("fri-mon")),
            Ok([true, false, false, false, true, true, true])
        );
        assert_eq!(
            parse(s("mon, wed,sat")),
            Ok([true, false, true, false, false, true, false])
        );
        assert_eq!(parse(s("daily")), Ok([true; 7]));
        assert_eq!(
            parse(s("weekend")),
            Ok([false, false, false, false, false, true, true])
        );
        assert_eq!(parse(s("")), Err(SlaError::NoDays));
        assert_eq!(parse(l(&[])), Err(SlaError::NoDays));
        assert_eq!(parse(s("mon-fry")), Err(SlaError::BadDay("mon-fry".into())));
        assert_eq!(parse(s("funday")), Err(SlaError::BadDay("funday".into())));
    }

    #[test]
    fn deserialises_from_toml_like_json_with_defaults() {
        let h: BusinessHours = serde_json::from_str(
            r#"{"timezone":"Europe/Paris","days":["mon","tue"],"holidays":["2025-12-25"]}"#,
        )
        .unwrap();
        assert_eq!(h.start, "09:00");
        assert_eq!(h.end, "17:00");
        assert_eq!(h.holidays, vec!["2025-12-25".parse::<NaiveDate>().unwrap()]);
        let cal = h.validate().unwrap();
        assert_eq!(cal.to_string(), "mon,tue 09:00-17:00 Europe/Paris");
        let h: BusinessHours = serde_json::from_str(
            r#"{"timezone":"UTC","days":"mon-fri","start":"8:00","end":"24:00"}"#,
        )
        .unwrap();
        assert_eq!(
            h.validate().unwrap().to_string(),
            "mon,tue,wed,thu,fri 08:00-24:00 UTC"
        );
        // Unknown fields are errors, not silently ignored.
        assert!(serde_json::from_str::<BusinessHours>(r#"{"timezone":"UTC","tz":"x"}"#).is_err());
        // Round trip.
        let back: BusinessHours =
            serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn validation_errors_name_the_field() {
        let base = BusinessHours {
            timezone: "Europe/Paris".into(),
            days: DaySpec::default(),
            start: "09:00".into(),
            end: "17:00".into(),
            holidays: vec![],
        };
        let with = |f: &dyn Fn(&mut BusinessHours)| {
            let mut h = base.clone();
            f(&mut h);
            h.validate().unwrap_err()
        };
        let e = with(&|h| h.timezone = "Paris".into());
        assert_eq!(e, SlaError::UnknownTimezone("Paris".into()));
        assert!(e.to_string().contains("hours.timezone"));
        assert!(e.to_string().contains("Europe/Paris"));
        let e = with(&|h| h.start = "9am".into());
        assert_eq!(
            e,
            SlaError::BadTime {
                field: "start",
                value: "9am".into()
            }
        );
        assert!(e.to_string().contains("hours.start"));
        assert!(e.to_string().contains("HH:MM"));
        assert!(matches!(
            with(&|h| h.end = "17:60".into()),
            SlaError::BadTime { field: "end", .. }
        ));
        assert!(matches!(
            with(&|h| h.start = "24:00".into()),
            SlaError::BadTime { field: "start", .. }
        ));
        assert!(matches!(
            with(&|h| h.end = "25:00".into()),
            SlaError::BadTime { field: "end", .. }
        ));
        assert!(matches!(
            with(&|h| h.end = "17:5".into()),
            SlaError::BadTime { field: "end", .. }
        ));
        let e = with(&|h| {
            h.start = "22:00".into();
            h.end = "06:00".into();
        });
        assert!(matches!(e, SlaError::EmptyHours { .. }));
        assert!(e.to_string().contains("24:00"));
        let e = with(&|h| h.days = DaySpec::List(vec![]));
        assert_eq!(e, SlaError::NoDays);
        assert!(e.to_string().contains("hours.days"));
    }

    #[test]
    fn sla_policy_defaults_and_bands() {
        let p = SlaPolicy::default();
        assert_eq!(p.minutes_for(Band::P1), 15);
        assert_eq!(p.minutes_for(Band::P2), 60);
        assert_eq!(p.minutes_for(Band::P3), 240);
        assert_eq!(p.minutes_for(Band::P4), 1440);
        assert_eq!(p.validate(), Ok(()));
        let partial: SlaPolicy = serde_json::from_str(r#"{"p1": 5}"#).unwrap();
        assert_eq!(
            partial,
            SlaPolicy {
                p1: 5,
                ..SlaPolicy::default()
            }
        );
        assert!(serde_json::from_str::<SlaPolicy>(r#"{"p5": 5}"#).is_err());
        let bad = SlaPolicy { p3: 0, ..p };
        let e = bad.validate().unwrap_err();
        assert_eq!(
            e,
            SlaError::BadMinutes {
                band: "p3",
                minutes: 0
            }
        );
        assert!(e.to_string().contains("sla.p3"));
        let cal = nine_to_five_utc();
        // P1, 15 open minutes from Friday 16:45: Friday 17:00.
        assert_eq!(
            p.due_at(utc("2025-01-03T16:45:00Z"), Band::P1, Some(&cal)),
            utc("2025-01-03T17:00:00Z")
        );
        // P3, 4 h: 15 min on Friday, 3 h 45 on Monday: Monday 12:45.
        assert_eq!(
            p.due_at(utc("2025-01-03T16:45:00Z"), Band::P3, Some(&cal)),
            utc("2025-01-06T12:45:00Z")
        );
        assert_eq!(
            p.due_at(utc("2025-01-03T16:45:00Z"), Band::P2, None),
            utc("2025-01-03T17:45:00Z")
        );
    }
}
