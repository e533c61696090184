//! Spike alerts and digests out to the leaders: one POST per alert (or digest) to an
//! incoming webhook, in the JSON that Slack's incoming webhooks take (`text` for
//! notifications and clients that show no blocks, `blocks` for the message itself).
//! Mattermost, Rocket.Chat, Discord's `/slack` endpoints and Microsoft Teams' workflow
//! webhooks take the same shape.

use std::time::Duration;

use rapport_core::spike::{Alert, SpikeKind};
use serde_json::{Value, json};

use crate::net::{Http, NetError, RetryPolicy};

/// The Slack-compatible body of one alert.
pub fn slack_payload(alert: &Alert, org: &str, link: Option<&str>) -> Value {
    let when = format!(
        "{}–{} UTC",
        alert.bucket_start.format("%Y-%m-%d %H:%M"),
        alert.bucket_end.format("%H:%M")
    );
    let mut lines = Vec::new();
    for s in &alert.spikes {
        let what = match s.series.strip_prefix("topic:") {
            Some(t) => format!("topic *{t}*"),
            None => "*all messages*".to_string(),
        };
        let how = match s.spike.kind {
            SpikeKind::Volume => format!(
                "volume {} (usually {:.1}), z = {:.1}",
                s.messages, s.spike.expected, s.spike.z
            ),
            SpikeKind::Negative => format!(
                "negative {:.0}% of {} (usually {:.0}%), z = {:.1}",
                s.spike.value * 100.0,
                s.messages,
                s.spike.expected * 100.0,
                s.spike.z
            ),
        };
        lines.push(format!("• {what}: {how}"));
    }
    let title = if org.is_empty() {
        "rapport spike alert".to_string()
    } else {
        format!("rapport spike alert for {org}")
    };
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*\n{when}", alert.headline)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}}),
    ];
    if let Some(link) = link {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("<{link}|Open the inbox>")}
        ]}));
    }
    json!({
        "text": format!("{} ({when})", alert.headline),
        "blocks": blocks,
    })
}

/// The Slack-compatible body of a digest: its markdown as `text`.
pub fn digest_payload(markdown: &str) -> Value {
    json!({ "text": markdown })
}

/// Posts alerts (or digests) to a webhook.
#[derive(Debug, Clone)]
pub struct AlertSender {
    http: Http,
    url: String,
    what: &'static str,
}

impl AlertSender {
    /// A sender to `url`, with a short retry policy (the caller retries later too).
    pub fn new(url: &str) -> Result<Self, NetError> {
        let policy = RetryPolicy {
            attempts: 3,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            max_wait: Duration::from_secs(30),
        };
        Ok(Self {
            http: Http::new(Duration::from_secs(10), policy)?,
            url: url.to_owned(),
            what: "send a spike alert to the webhook",
        })
    }

    /// A sender of digests to `url`: the same client and retries, with errors that say
    /// a digest was being sent.
    pub fn for_digest(url: &str) -> Result<Self, NetError> {
        Ok(Self {
            what: "send the digest to the webhook",
            ..Self::new(url)?
        })
    }

    /// Sends one body; any 2xx counts as taken.
    pub async fn send(&self, body: &Value) -> Result<(), NetError> {
        let response = self
            .http
            .send(self.what, || self.http.client().post(&self.url).json(body))
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Http::error_for(self.what, response).await)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rapport_core::spike::{SeriesSpike, Spike};

    use super::*;

    #[test]
    fn payload_has_text_and_blocks() {
        let alert = Alert {
            id: 1,
            bucket_start: Utc.with_ymd_and_hms(2026, 11, 20, 14, 5, 0).unwrap(),
            bucket_end: Utc.with_ymd_and_hms(2026, 11, 20, 14, 10, 0).unwrap(),
            headline: "Spike: 120 messages in 5 min about acme (usually 4.0)".into(),
            spikes: vec![SeriesSpike {
                series: "topic:acme".into(),
                messages: 120,
                negatives: 90,
                spike: Spike {
                    kind: SpikeKind::Volume,
                    value: 120.0,
                    expected: 4.0,
                    z: 30.0,
                },
            }],
            raised_at: Utc.with_ymd_and_hms(2026, 11, 20, 14, 11, 0).unwrap(),
            notified_at: None,
            notify_error: None,
        };
        let p = slack_payload(&alert, "Acme", Some("https://rapport.example/inbox"));
        assert_eq!(
            p["text"],
            "Spike: 120 messages in 5 min about acme (usually 4.0) (2026-11-20 14:05–14:10 UTC)"
        );
        let blocks = p["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["text"]["text"], "rapport spike alert for Acme");
        assert!(
            blocks[2]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("topic *acme*: volume 120 (usually 4.0), z = 30.0")
        );
        assert_eq!(
            blocks[3]["elements"][0]["text"],
            "<https://rapport.example/inbox|Open the inbox>"
        );
    }
}
