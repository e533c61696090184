//! Small helpers for human output: times relative to now, truncation, JSON printing.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `in 12m`, `3h 5m ago`.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let d = duration(secs.unsigned_abs() as f64);
    if secs >= 0 {
        format!("in {d}")
    } else {
        format!("{d} ago")
    }
}

/// A duration in seconds as `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// An optional duration in seconds, `-` when absent.
pub fn opt_duration(secs: Option<f64>) -> String {
    secs.map(duration).unwrap_or_else(|| "-".into())
}

/// An optional ratio as a percentage, `-` when absent.
pub fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// The first `n` characters on one line, with an ellipsis when cut.
pub fn snippet(text: &str, n: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = one_line.chars().take(n).collect();
    if one_line.chars().count() > n {
        out.push('…');
    }
    out
}

/// Pads or cuts to a width in characters.
pub fn cell(text: &str, width: usize) -> String {
    let t = snippet(text, width.saturating_sub(1).max(1));
    let n = t.chars().count();
    format!("{t}{}", " ".repeat(width.saturating_sub(n)))
}
