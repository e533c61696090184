//! Spike detection: is this bucket's volume (or its share of negative messages) far
//! above what the series usually does?
//!
//! Each series (all inbound messages, and each topic) is cut into fixed buckets (5
//! minutes by default). For each series rapport keeps exponentially weighted moving
//! averages (and the variance) of the messages and negative messages per bucket, and scores a
//! new bucket as a z-score against them:
//!
//! - volume: `z = (n − mean) / sd`, where `sd = sqrt(max(var, mean, 1))` — the Poisson
//!   floor keeps a quiet, flat series from alerting on a handful of messages;
//! - negative share: `z = (p − p̂) / sqrt(p0·(1 − p0) / n)`, where `p̂` is the moving mean
//!   of negative messages per bucket over the moving mean of messages per bucket, and
//!   `p0 = max(p̂, 0.05)`: the binomial spread of a bucket of `n` messages.
//!
//! A bucket spikes when its z-score reaches the threshold (3 by default), it holds at
//! least `min_messages` (negative: at least `min_negative` negative messages), and the
//! series has seen `warmup_buckets` buckets. A series that spiked stays raised until its
//! z-score falls to half the threshold, so one burst raises one alert however many
//! buckets it lasts. Every bucket, spiking or not, then updates the baseline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `[alerts]` section of rapport.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Whether spike detection runs at all.
    pub enabled: bool,
    /// Bucket length in minutes.
    pub bucket_minutes: u32,
    /// The z-score that counts as a spike.
    pub z_threshold: f64,
    /// Weight of the newest bucket in the moving baseline (0 < alpha ≤ 1).
    pub alpha: f64,
    /// Buckets a series must have seen before it can spike.
    pub warmup_buckets: u32,
    /// The fewest messages in a bucket for a volume spike, and for the negative share
    /// to be scored at all.
    pub min_messages: u64,
    /// The fewest negative messages in a bucket for a negative-share spike.
    pub min_negative: u64,
    /// Where to POST each alert as Slack-compatible JSON (`{"text": …, "blocks": […]}`);
    /// or the environment variable `RAPPORT_ALERTS__WEBHOOK`.
    pub webhook: Option<String>,
    /// Alerts whose bucket ended longer ago than this (minutes) are recorded but not
    /// sent: replaying old history does not page anyone.
    pub notify_max_age_minutes: u32,
    /// How long (seconds) a bucket waits after it ends before it is scored, for late
    /// messages to arrive.
    pub settle_seconds: u32,
    /// After an alert, its series stay quiet this long (minutes), and the `all` series
    /// stays quiet after any alert: one burst, one alert.
    pub cooldown_minutes: u32,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bucket_minutes: 5,
            z_threshold: 3.0,
            alpha: 0.1,
            warmup_buckets: 12,
            min_messages: 10,
            min_negative: 5,
            webhook: None,
            notify_max_age_minutes: 60,
            settle_seconds: 60,
            cooldown_minutes: 30,
        }
    }
}

/// An `[alerts]` section that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertsConfigError {
    /// A bucket length out of range.
    #[error("[alerts] bucket_minutes must be between 1 and 1440 (got {0})")]
    Bucket(u32),
    /// A weight out of range.
    #[error("[alerts] alpha must be in (0, 1] (got {0})")]
    Alpha(f64),
    /// A threshold that is not positive.
    #[error("[alerts] z_threshold must be above 0 (got {0})")]
    Threshold(f64),
}

impl AlertsConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), AlertsConfigError> {
        if !(1..=1440).contains(&self.bucket_minutes) {
            return Err(AlertsConfigError::Bucket(self.bucket_minutes));
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(AlertsConfigError::Alpha(self.alpha));
        }
        if self.z_threshold.is_nan() || self.z_threshold <= 0.0 {
            return Err(AlertsConfigError::Threshold(self.z_threshold));
        }
        Ok(())
    }

    /// Bucket length in milliseconds.
    pub fn bucket_ms(&self) -> i64 {
        i64::from(self.bucket_minutes) * 60_000
    }
}

/// What spiked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpikeKind {
    /// Messages per bucket.
    Volume,
    /// Share of negative messages in the bucket.
    Negative,
}

impl SpikeKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            SpikeKind::Volume => "volume",
            SpikeKind::Negative => "negative",
        }
    }
}

/// One series' spike in one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    /// Volume or negative share.
    pub kind: SpikeKind,
    /// The bucket's value: messages, or the negative share.
    pub value: f64,
    /// The baseline it was compared with.
    pub expected: f64,
    /// Its z-score.
    pub z: f64,
}

/// A moving mean and variance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ewma {
    /// The mean.
    pub mean: f64,
    /// The variance.
    pub var: f64,
}

impl Ewma {
    fn update(&mut self, x: f64, alpha: f64, first: bool) {
        if first {
            self.mean = x;
            self.var = 0.0;
            return;
        }
        let diff = x - self.mean;
        let incr = alpha * diff;
        self.mean += incr;
        self.var = (1.0 - alpha) * (self.var + diff * incr);
    }
}

/// Everything one series remembers between buckets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesState {
    /// Buckets seen.
    pub buckets: u64,
    /// Volume per bucket.
    pub volume: Ewma,
    /// Negative messages per bucket.
    pub negatives: Ewma,
    /// A volume spike is raised and has not yet fallen back.
    pub volume_raised: bool,
    /// A negative-share spike is raised and has not yet fallen back.
    pub negative_raised: bool,
    /// The bucket of this series' last alert.
    #[serde(default)]
    pub last_alert: Option<i64>,
}

impl SeriesState {
    /// The baseline negative share: the moving mean of negative messages over the moving
    /// mean of messages (pooled, so quiet buckets count by their size).
    pub fn negative_share(&self) -> f64 {
        if self.volume.mean > 0.0 {
            (self.negatives.mean / self.volume.mean).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// Takes in one bucket (`messages` of which `negatives` were negative) and returns
    /// the spikes that begin in it (at most one of each kind).
    pub fn observe(&mut self, cfg: &AlertsConfig, messages: u64, negatives: u64) -> Vec<Spike> {
        let mut out = Vec::new();
        let n = messages as f64;
        let warm = self.buckets >= u64::from(cfg.warmup_buckets);

        let sd = self.volume.var.max(self.volume.mean).max(1.0).sqrt();
        let z = (n - self.volume.mean) / sd;
        if self.volume_raised {
            if z <= cfg.z_threshold / 2.0 {
                self.volume_raised = false;
            }
        } else if warm && z >= cfg.z_threshold && messages >= cfg.min_messages {
            self.volume_raised = true;
            out.push(Spike {
                kind: SpikeKind::Volume,
                value: n,
                expected: self.volume.mean,
                z,
            });
        }

        if messages >= cfg.min_messages {
            let p = negatives as f64 / n;
            let base = self.negative_share();
            let p0 = base.max(0.05);
            let z = (p - base) / (p0 * (1.0 - p0) / n).sqrt();
            if self.negative_raised {
                if z <= cfg.z_threshold / 2.0 {
                    self.negative_raised = false;
                }
            } else if warm && z >= cfg.z_threshold && negatives >= cfg.min_negative {
                self.negative_raised = true;
                out.push(Spike {
                    kind: SpikeKind::Negative,
                    value: p,
                    expected: base,
                    z,
                });
            }
        } else if self.negative_raised && negatives * 2 < cfg.min_negative {
            // A quiet bucket ends a raised negative spike.
            self.negative_raised = false;
        }
        self.negatives
            .update(negatives as f64, cfg.alpha, self.buckets == 0);
        self.volume.update(n, cfg.alpha, self.buckets == 0);
        self.buckets += 1;
        out
    }
}

/// The series of all inbound messages.
pub const ALL: &str = "all";

/// The series of a topic.
pub fn topic_series(topic: &str) -> String {
    format!("topic:{topic}")
}

/// One series' spike, as an alert lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpike {
    /// `all`, or `topic:<name>`.
    pub series: String,
    /// Messages in the bucket.
    pub messages: u64,
    /// Negative messages in the bucket.
    pub negatives: u64,
    /// What spiked, by how much.
    #[serde(flatten)]
    pub spike: Spike,
}

/// A raised alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Its id.
    pub id: i64,
    /// The bucket that spiked.
    pub bucket_start: DateTime<Utc>,
    /// Its end.
    pub bucket_end: DateTime<Utc>,
    /// One line saying what happened.
    pub headline: String,
    /// Each series that spiked, and how.
    pub spikes: Vec<SeriesSpike>,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// When the webhook took it.
    pub notified_at: Option<DateTime<Utc>>,
    /// Why it was not sent, when it was not.
    pub notify_error: Option<String>,
}

/// Which of a bucket's spikes make an alert: a topic's, unless that topic alerted in
/// the last `cooldown` buckets; the `all` series', unless any series did (a burst about
/// one topic is one alert, not one per series and kind). `last_alert` gives each
/// series' last alert bucket; the caller records `bucket` for the series kept.
pub fn gate(
    bucket: i64,
    spikes: Vec<SeriesSpike>,
    last_alert: impl Fn(&str) -> Option<i64>,
    any_last_alert: Option<i64>,
    cooldown: i64,
) -> Vec<SeriesSpike> {
    let recent = |last: Option<i64>| last.is_some_and(|l| bucket - l < cooldown);
    spikes
        .into_iter()
        .filter(|s| {
            if s.series == ALL {
                !recent(any_last_alert)
            } else {
                !recent(last_alert(&s.series))
            }
        })
        .collect()
}

/// One line that says what happened, the most telling series first: a topic before
/// `all`, and the larger z-score first.
pub fn headline(spikes: &[SeriesSpike], bucket_minutes: u32) -> String {
    let mut sorted: Vec<&SeriesSpike> = spikes.iter().collect();
    sorted.sort_by(|a, b| {
        (a.series == ALL)
            .cmp(&(b.series == ALL))
            .then(b.spike.z.total_cmp(&a.spike.z))
    });
    let Some(first) = sorted.first() else {
        return String::new();
    };
    let what = match first.series.strip_prefix("topic:") {
        Some(t) => format!("about {t}"),
        None => "overall".to_string(),
    };
    let mut parts = Vec::new();
    let volume = sorted
        .iter()
        .find(|s| s.series == first.series && s.spike.kind == SpikeKind::Volume);
    let negative = sorted
        .iter()
        .find(|s| s.series == first.series && s.spike.kind == SpikeKind::Negative);
    match volume {
        Some(v) => parts.push(format!(
            "{} messages in {} min {what} (usually {:.1})",
            v.messages, bucket_minutes, v.spike.expected
        )),
        None => parts.push(format!(
            "{} messages in {} min {what}",
            first.messages, bucket_minutes
        )),
    }
    if let Some(n) = negative {
        parts.push(format!(
            "{:.0}% negative (usually {:.0}%)",
            n.spike.value * 100.0,
            n.spike.expected * 100.0
        ));
    }
    let others: Vec<&str> = {
        let mut v: Vec<&str> = sorted
            .iter()
            .map(|s| s.series.as_str())
            .filter(|s| *s != first.series)
            .collect();
        v.dedup();
        v
    };
    let mut line = format!("Spike: {}", parts.join(", "));
    if !others.is_empty() {
        line.push_str(&format!("; also spiking: {}", others.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AlertsConfig {
        AlertsConfig::default()
    }

    /// A fixed pseudo-random background: 3..=9 messages a bucket, one in five negative.
    fn background(i: u64) -> (u64, u64) {
        let n = 3 + (i * 7919 + 13) % 7;
        (n, n / 5)
    }

    #[test]
    fn steady_traffic_never_spikes() {
        let mut s = SeriesState::default();
        for i in 0..2_000 {
            let (n, neg) = background(i);
            assert!(s.observe(&cfg(), n, neg).is_empty(), "bucket {i}");
        }
    }

    #[test]
    fn a_burst_spikes_once_however_long_it_lasts() {
        let mut s = SeriesState::default();
        let mut spikes = Vec::new();
        for i in 0..300 {
            let (n, neg) = if (100..104).contains(&i) {
                (80, 60)
            } else {
                background(i)
            };
            for sp in s.observe(&cfg(), n, neg) {
                spikes.push((i, sp.kind));
            }
        }
        assert_eq!(
            spikes,
            vec![(100, SpikeKind::Volume), (100, SpikeKind::Negative)]
        );
    }

    #[test]
    fn a_second_burst_later_spikes_again() {
        let mut s = SeriesState::default();
        let mut at = Vec::new();
        for i in 0..400 {
            let (n, neg) = if i == 100 || i == 300 {
                (90, 1)
            } else {
                background(i)
            };
            if !s.observe(&cfg(), n, neg).is_empty() {
                at.push(i);
            }
        }
        assert_eq!(at, vec![100, 300]);
    }

    #[test]
    fn negative_share_alone_can_spike() {
        let mut s = SeriesState::default();
        let mut kinds = Vec::new();
        for i in 0..200 {
            // Volume stays around 20, but at 150 most of it turns negative.
            let n = 18 + i % 5;
            let neg = if i == 150 { 16 } else { n / 10 };
            for sp in s.observe(&cfg(), n, neg) {
                kinds.push((i, sp.kind));
            }
        }
        assert_eq!(kinds, vec![(150, SpikeKind::Negative)]);
    }

    #[test]
    fn no_spike_during_warmup_or_below_min_messages() {
        let mut s = SeriesState::default();
        // A jump in the second bucket: too early.
        assert!(s.observe(&cfg(), 1, 0).is_empty());
        assert!(s.observe(&cfg(), 50, 0).is_empty());
        let mut quiet = SeriesState::default();
        for _ in 0..50 {
            quiet.observe(&cfg(), 0, 0);
        }
        // From nothing to 8 is a big z, but under min_messages.
        assert!(quiet.observe(&cfg(), 8, 0).is_empty());
        assert_eq!(quiet.observe(&cfg(), 12, 0).len(), 1);
    }

    #[test]
    fn headline_names_the_topic_first() {
        let sp = |series: &str, kind, value, expected, z| SeriesSpike {
            series: series.into(),
            messages: 120,
            negatives: 90,
            spike: Spike {
                kind,
                value,
                expected,
                z,
            },
        };
        let line = headline(
            &[
                sp(ALL, SpikeKind::Volume, 120.0, 9.0, 12.0),
                sp("topic:acme", SpikeKind::Volume, 120.0, 4.0, 30.0),
                sp("topic:acme", SpikeKind::Negative, 0.75, 0.1, 9.0),
            ],
            5,
        );
        assert_eq!(
            line,
            "Spike: 120 messages in 5 min about acme (usually 4.0), 75% negative (usually 10%); also spiking: all"
        );
        assert_eq!(headline(&[], 5), "");
    }

    #[test]
    fn gate_keeps_one_alert_per_burst() {
        let sp = |series: &str, kind| SeriesSpike {
            series: series.into(),
            messages: 50,
            negatives: 40,
            spike: Spike {
                kind,
                value: 50.0,
                expected: 5.0,
                z: 10.0,
            },
        };
        let last = |s: &str| (s == "topic:acme").then_some(100);
        // Five buckets after acme's alert: acme and all stay quiet, another topic speaks.
        let kept = gate(
            105,
            vec![
                sp("topic:acme", SpikeKind::Negative),
                sp(ALL, SpikeKind::Negative),
                sp("topic:other", SpikeKind::Volume),
            ],
            last,
            Some(100),
            6,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].series, "topic:other");
        // After the cooldown, everything may alert again.
        assert_eq!(
            gate(
                106,
                vec![
                    sp("topic:acme", SpikeKind::Volume),
                    sp(ALL, SpikeKind::Volume)
                ],
                last,
                Some(100),
                6
            )
            .len(),
            2
        );
    }

    #[test]
    fn config_ranges() {
        assert!(cfg().validate().is_ok());
        let bad = AlertsConfig {
            alpha: 0.0,
            ..cfg()
        };
        assert!(bad.validate().is_err());
        let bad = AlertsConfig {
            bucket_minutes: 0,
            ..cfg()
        };
        assert!(bad.validate().is_err());
    }
}
