//! The feed connector: polls an RSS, Atom or JSON feed with conditional GETs.
//!
//! Its one source, `{channel}/feed`, keeps the [`Validators`] of the last `200` as its
//! cursor (JSON). A `304 Not Modified` delivers nothing. A `200` delivers the entries not
//! seen since this process started (the first poll delivers them all: the store keeps one
//! copy of each) and the bad entries as problems, with the new validators.

use std::collections::HashSet;
use std::time::Duration;

use rapport_core::channel::ChannelConfig;
use reqwest::StatusCode;

use super::{Validators, parse_feed};
use crate::listen::{
    Connector, ConnectorError, Cursors, Delivery, Heard, Problem, Reconnect, Running, Sink,
};
use crate::net::{Http, NetError};

/// A feed channel's connector.
#[derive(Debug)]
pub struct FeedConnector {
    channel: String,
    feed_url: String,
    http: Http,
    poll: Duration,
}

impl FeedConnector {
    /// The connector of `channel`.
    pub fn new(channel: &ChannelConfig, http: Http) -> Self {
        FeedConnector {
            channel: channel.name.clone(),
            feed_url: channel.feed_url.clone().unwrap_or_default(),
            http,
            poll: channel.poll_interval(),
        }
    }

    fn source(&self) -> String {
        format!("{}/feed", self.channel)
    }

    /// One conditional GET: `None` when not modified.
    async fn fetch(
        &self,
        validators: &Validators,
    ) -> Result<Option<(Vec<u8>, Validators)>, NetError> {
        let client = self.http.client().clone();
        let headers = validators.request_headers();
        let what = "read the feed";
        let response = self
            .http
            .send(what, || {
                let mut request = client.get(&self.feed_url);
                for (name, value) in &headers {
                    request = request.header(*name, value);
                }
                request
            })
            .await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(Http::error_for(what, response).await);
        }
        let fresh = Validators::from_response_headers(|name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        let body = response.bytes().await.map_err(|e| NetError::Body {
            what: what.into(),
            url: self.feed_url.clone(),
            reason: e.to_string(),
        })?;
        Ok(Some((body.to_vec(), fresh)))
    }
}

impl Connector for FeedConnector {
    fn channel(&self) -> &str {
        &self.channel
    }

    fn sources(&self) -> Vec<String> {
        vec![self.source()]
    }

    fn run(self: Box<Self>, cursors: Cursors, sink: Sink) -> Running {
        Box::pin(async move {
            let source = self.source();
            let mut validators: Validators = cursors
                .get(&source)
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default();
            let mut seen: HashSet<String> = HashSet::new();
            let mut reconnect = Reconnect::new(Duration::from_secs(1), Duration::from_secs(300));
            loop {
                match self.fetch(&validators).await {
                    Ok(None) => reconnect.reset(),
                    Ok(Some((body, fresh))) => {
                        reconnect.reset();
                        let mut delivery = Delivery {
                            source: source.clone(),
                            ..Delivery::default()
                        };
                        match parse_feed(&body, &self.feed_url) {
                            Ok(page) => {
                                for note in &page.notes {
                                    tracing::info!(channel = %self.channel, "{note}");
                                }
                                for message in page.messages {
                                    if seen.insert(message.platform_id.clone()) {
                                        delivery.heard.push(Heard::from(message));
                                    }
                                }
                                for error in page.errors {
                                    tracing::warn!(channel = %self.channel, "{error}");
                                    delivery.problems.push(Problem {
                                        position: error.index as u64,
                                        reason: error.to_string(),
                                        raw: error.id.clone().unwrap_or_default(),
                                    });
                                }
                            }
                            Err(e) => {
                                tracing::warn!(channel = %self.channel, "{e}");
                                let raw = String::from_utf8_lossy(&body[..body.len().min(4096)])
                                    .into_owned();
                                delivery.problems.push(Problem {
                                    position: Problem::position_of(&raw),
                                    reason: e.to_string(),
                                    raw,
                                });
                            }
                        }
                        if fresh != validators && !fresh.is_empty() {
                            delivery.cursor = serde_json::to_string(&fresh).ok();
                        }
                        validators = fresh;
                        if !delivery.heard.is_empty()
                            || !delivery.problems.is_empty()
                            || delivery.cursor.is_some()
                        {
                            sink.deliver(delivery).await?;
                        }
                    }
                    Err(e) if matches!(e.status(), Some(401 | 403 | 404 | 410)) => {
                        return Err(ConnectorError::Config {
                            channel: self.channel.clone(),
                            reason: format!("{e}; check the channel's feed_url"),
                        });
                    }
                    Err(e) => {
                        let delay = reconnect.next_delay();
                        tracing::warn!(channel = %self.channel, "{e}; polling again in {delay:?}");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                }
                tokio::time::sleep(self.poll).await;
            }
        })
    }
}
