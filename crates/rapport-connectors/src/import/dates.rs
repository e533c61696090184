//! Timestamps as exports write them.

use std::cell::Cell;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Formats with an offset, tried after RFC 3339 and RFC 2822.
const WITH_OFFSET: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f %z", // 2015-02-24 11:35:52 -0800 (Twitter airline dataset)
    "%Y-%m-%d %H:%M:%S%.f%z",  // 2015-02-24 11:35:52-0800
    "%Y-%m-%dT%H:%M:%S%.f%z",  // 2015-02-24T11:35:52+0000
    "%a %b %d %H:%M:%S %z %Y", // Tue Oct 31 22:10:47 +0000 2017 (Twitter API)
    "%a %b %e %H:%M:%S %z %Y", // ... with a space-padded day
];

/// Formats without an offset: taken as UTC.
const NAIVE: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// The built-in ways to read a timestamp, in the order they are tried.
#[derive(Clone, Copy)]
enum Builtin {
    Unix,
    Rfc3339,
    Rfc2822,
    Offset(&'static str),
    Naive(&'static str),
    DateOnly,
}

const BUILTINS: [Builtin; 13] = [
    Builtin::Unix,
    Builtin::Rfc3339,
    Builtin::Rfc2822,
    Builtin::Offset(WITH_OFFSET[0]),
    Builtin::Offset(WITH_OFFSET[1]),
    Builtin::Offset(WITH_OFFSET[2]),
    Builtin::Offset(WITH_OFFSET[3]),
    Builtin::Offset(WITH_OFFSET[4]),
    Builtin::Naive(NAIVE[0]),
    Builtin::Naive(NAIVE[1]),
    Builtin::Naive(NAIVE[2]),
    Builtin::Naive(NAIVE[3]),
    Builtin::DateOnly,
];

impl Builtin {
    fn parse(self, s: &str) -> Option<DateTime<Utc>> {
        match self {
            Builtin::Unix => unix(s),
            Builtin::Rfc3339 => DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|d| d.with_timezone(&Utc)),
            Builtin::Rfc2822 => DateTime::parse_from_rfc2822(s)
                .ok()
                .map(|d| d.with_timezone(&Utc)),
            Builtin::Offset(fmt) => DateTime::parse_from_str(s, fmt)
                .ok()
                .map(|d| d.with_timezone(&Utc)),
            Builtin::Naive(fmt) => NaiveDateTime::parse_from_str(strip_utc_suffix(s), fmt)
                .ok()
                .map(|d| d.and_utc()),
            Builtin::DateOnly => NaiveDate::parse_from_str(strip_utc_suffix(s), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc()),
        }
    }
}

/// Reads timestamps: `custom` (a chrono strftime pattern, with or without an offset, or
/// a date alone) first, then the built-in formats, starting with the one that read the
/// previous value (exports use one format throughout; no two built-ins read the same text
/// differently, so the order does not change results).
///
/// Built in: RFC 3339 (`T` or a space, any fraction, `Z` or an offset), RFC 2822,
/// `2015-02-24 11:35:52 -0800`, Twitter's `Tue Oct 31 22:10:47 +0000 2017`, the same
/// without an offset or with a trailing `UTC`/`GMT` (taken as UTC), `2015-02-24` (midnight
/// UTC), and unix time as an integer of 9 or more digits: seconds, or milliseconds from
/// 100,000,000,000 up (a fraction of a second is allowed).
pub(crate) struct DateParser {
    custom: Option<String>,
    last: Cell<usize>,
}

impl DateParser {
    pub(crate) fn new(custom: Option<String>) -> Self {
        DateParser {
            custom,
            last: Cell::new(0),
        }
    }

    /// The `--date-format` pattern, if any.
    pub(crate) fn custom(&self) -> Option<&str> {
        self.custom.as_deref()
    }

    /// The instant, or `None` when no format reads `value`.
    pub(crate) fn parse(&self, value: &str) -> Option<DateTime<Utc>> {
        let s = value.trim();
        if s.is_empty() {
            return None;
        }
        if let Some(fmt) = &self.custom
            && let Some(d) = with_format(s, fmt)
        {
            return Some(d);
        }
        let last = self.last.get();
        if let Some(d) = BUILTINS.get(last).and_then(|b| b.parse(s)) {
            return Some(d);
        }
        for (i, b) in BUILTINS.iter().enumerate() {
            if i == last {
                continue;
            }
            if let Some(d) = b.parse(s) {
                self.last.set(i);
                return Some(d);
            }
        }
        None
    }
}

/// Parses one timestamp with a fresh [`DateParser`].
#[cfg(test)]
pub(crate) fn parse_date(value: &str, custom: Option<&str>) -> Option<DateTime<Utc>> {
    DateParser::new(custom.map(str::to_string)).parse(value)
}

/// Whether a strftime pattern is valid (for checking `--date-format` up front).
pub(crate) fn valid_format(fmt: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    !fmt.trim().is_empty() && !StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error))
}

fn with_format(s: &str, fmt: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_str(s, fmt) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
        return Some(d.and_utc());
    }
    NaiveDate::parse_from_str(s, fmt)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

fn strip_utc_suffix(s: &str) -> &str {
    for suffix in [" UTC", " GMT", " utc", " gmt", "Z"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            return rest.trim_end();
        }
    }
    s
}

fn unix(s: &str) -> Option<DateTime<Utc>> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.len() < 9 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let n: i64 = int.parse().ok()?;
    // nanoseconds of the fraction, from at most 9 digits
    let frac_nanos = |digits: &str, scale: u32| -> Option<u32> {
        let d: String = digits.chars().take(9).collect();
        if d.is_empty() {
            return Some(0);
        }
        let v: u64 = d.parse().ok()?;
        let v = v * 10u64.pow(9 - d.len() as u32) / 10u64.pow(scale);
        u32::try_from(v).ok()
    };
    if n >= 100_000_000_000 {
        let extra = frac_nanos(frac, 3)?;
        let d = DateTime::from_timestamp_millis(n)?;
        d.checked_add_signed(chrono::Duration::nanoseconds(i64::from(extra)))
    } else {
        DateTime::from_timestamp(n, frac_nanos(frac, 0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        parse_date(s, None)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            .unwrap_or_else(|| "NONE".into())
    }

    #[test]
    fn rfc3339_variants() {
        assert_eq!(iso("2015-02-24T11:35:52Z"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("2015-02-24T11:35:52.123Z"), "2015-02-24T11:35:52.123Z");
        assert_eq!(iso("2015-02-24 11:35:52Z"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("2015-02-24T11:35:52+01:00"), "2015-02-24T10:35:52Z");
        assert_eq!(
            iso("2015-02-24 11:35:52.5-08:00"),
            "2015-02-24T19:35:52.500Z"
        );
        assert_eq!(iso("2015-02-24T11:35:52+0000"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("  2015-02-24T11:35:52Z "), "2015-02-24T11:35:52Z");
    }

    #[test]
    fn rfc2822_and_twitter() {
        assert_eq!(
            iso("Tue, 24 Feb 2015 11:35:52 -0800"),
            "2015-02-24T19:35:52Z"
        );
        assert_eq!(
            iso("Tue Oct 31 22:10:47 +0000 2017"),
            "2017-10-31T22:10:47Z"
        );
        assert_eq!(
            iso("Wed Nov 01 03:04:05 +0200 2017"),
            "2017-11-01T01:04:05Z"
        );
        assert_eq!(iso("2015-02-24 11:35:52 -0800"), "2015-02-24T19:35:52Z");
    }

    #[test]
    fn naive_and_date_only_are_utc() {
        assert_eq!(iso("2015-02-24 11:35:52"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("2015-02-24T11:35:52.250"), "2015-02-24T11:35:52.250Z");
        assert_eq!(iso("2015-02-24 11:35"), "2015-02-24T11:35:00Z");
        assert_eq!(iso("2015-02-24 11:35:52 UTC"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("2015-02-24"), "2015-02-24T00:00:00Z");
    }

    #[test]
    fn unix_seconds_and_millis() {
        assert_eq!(iso("1424777752"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("1424777752.25"), "2015-02-24T11:35:52.250Z");
        assert_eq!(iso("1424777752000"), "2015-02-24T11:35:52Z");
        assert_eq!(iso("1424777752123"), "2015-02-24T11:35:52.123Z");
        // too short to be a timestamp: a year, an id
        assert_eq!(iso("2015"), "NONE");
        assert_eq!(iso("1424777752."), "NONE");
    }

    #[test]
    fn garbage() {
        for s in [
            "",
            "yesterday",
            "2/24/2015 11:35",
            "2015-13-01",
            "2015-02-24 25:00:00",
        ] {
            assert_eq!(iso(s), "NONE", "{s}");
        }
    }

    #[test]
    fn one_parser_for_mixed_formats() {
        let p = DateParser::new(None);
        for (input, want) in [
            ("2015-02-24", "2015-02-24T00:00:00+00:00"),
            ("2015-02-24", "2015-02-24T00:00:00+00:00"),
            (
                "Tue Oct 31 22:10:47 +0000 2017",
                "2017-10-31T22:10:47+00:00",
            ),
            ("1424777752", "2015-02-24T11:35:52+00:00"),
            ("2015-02-24 11:35:52", "2015-02-24T11:35:52+00:00"),
            ("2015-02-24", "2015-02-24T00:00:00+00:00"),
        ] {
            assert_eq!(p.parse(input).unwrap().to_rfc3339(), want, "{input}");
        }
    }

    #[test]
    fn custom_format_first() {
        let d = parse_date("24/02/2015 11:35", Some("%d/%m/%Y %H:%M")).unwrap();
        assert_eq!(d.to_rfc3339(), "2015-02-24T11:35:00+00:00");
        let d = parse_date("02/24/2015", Some("%m/%d/%Y")).unwrap();
        assert_eq!(d.to_rfc3339(), "2015-02-24T00:00:00+00:00");
        let d = parse_date("24.02.2015 11:35 +0100", Some("%d.%m.%Y %H:%M %z")).unwrap();
        assert_eq!(d.to_rfc3339(), "2015-02-24T10:35:00+00:00");
        // the built-ins still apply when the custom one does not match
        assert!(parse_date("2015-02-24", Some("%d/%m/%Y")).is_some());
        assert!(valid_format("%d/%m/%Y"));
        assert!(!valid_format("%Q"));
        assert!(!valid_format(""));
    }
}
