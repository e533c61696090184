//! The Mastodon connector: mentions (notifications) and followed hashtags, each read by
//! REST to catch up and then by the streaming API, live.
//!
//! Sources and cursors:
//! - `{channel}/notifications` (`listen = ["mentions"]`): the id of the newest mention
//!   notification read. Catch-up asks `GET /api/v1/notifications?types[]=mention&min_id=`
//!   the cursor (the page right after it; from the first notification ever when there is
//!   no cursor), page after page until none is left; then `/api/v1/streaming/user/notification`.
//! - `{channel}/tag/{tag}` (`listen = ["hashtags"]`): the id of the newest status read,
//!   from `/api/v1/timelines/tag/{tag}` then `/api/v1/streaming/hashtag?tag=`.
//!
//! A stream is read until it drops or one poll interval has passed; then the source
//! catches up by REST (so nothing said while it was away is missed) and streams again.
//! An instance without streaming is polled.

use std::cmp::Ordering;
use std::time::Duration;

use rapport_core::channel::ChannelConfig;
use serde_json::json;

use super::client::{InstanceInfo, MastodonClient};
use super::convert::{ConvertedStatus, notification_to_message, status_to_message};
use super::pagination::compare_ids;
use super::sse::{
    SseFrame, SseParser, StreamItem, USER_NOTIFICATION_STREAM_PATH, decode_stream_event,
    hashtag_stream_path,
};
use super::wire::{Status, parse_notifications};
use crate::listen::{
    Connector, ConnectorError, Cursors, Delivery, Heard, Problem, Reconnect, Running, Sink,
};
use crate::net::{Http, NetError};

/// Items per REST page.
pub const PAGE_LIMIT: usize = 40;

/// What one source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Feed {
    /// Mention notifications.
    Mentions,
    /// A hashtag's public statuses.
    Tag(String),
}

/// A Mastodon channel's connector.
#[derive(Debug)]
pub struct MastodonConnector {
    channel: String,
    account: String,
    client: MastodonClient,
    feeds: Vec<Feed>,
    poll: Duration,
}

impl MastodonConnector {
    /// The connector of `channel`, with its access token.
    pub fn new(channel: &ChannelConfig, http: Http, token: String) -> Self {
        let listen = channel.listen();
        let mut feeds = Vec::new();
        if listen.contains(&"mentions") {
            feeds.push(Feed::Mentions);
        }
        if listen.contains(&"hashtags") {
            for tag in &channel.hashtags {
                let tag = tag.trim().trim_start_matches('#');
                if !tag.is_empty() {
                    feeds.push(Feed::Tag(tag.to_owned()));
                }
            }
        }
        MastodonConnector {
            channel: channel.name.clone(),
            account: channel.account.clone().unwrap_or_default(),
            client: MastodonClient::new(
                http,
                channel.instance.as_deref().unwrap_or_default(),
                token,
            ),
            feeds,
            poll: channel.poll_interval(),
        }
    }

    fn source(&self, feed: &Feed) -> String {
        match feed {
            Feed::Mentions => format!("{}/notifications", self.channel),
            Feed::Tag(tag) => format!("{}/tag/{}", self.channel, tag.to_lowercase()),
        }
    }

    fn fatal(&self, e: NetError) -> Result<ConnectorError, NetError> {
        match e.status() {
            Some(401 | 403) => Ok(ConnectorError::Auth {
                channel: self.channel.clone(),
                reason: format!(
                    "{e}; the access token was refused: create one under Preferences → \
                     Development with the read and write:statuses scopes"
                ),
            }),
            Some(404) => Ok(ConnectorError::Config {
                channel: self.channel.clone(),
                reason: format!("{e}; check that `instance` is the Mastodon server's base URL"),
            }),
            _ => Err(e),
        }
    }

    async fn instance(&self) -> Result<InstanceInfo, ConnectorError> {
        let mut reconnect = Reconnect::new(Duration::from_millis(500), Duration::from_secs(60));
        loop {
            match self.client.instance_info().await {
                Ok(info) => return Ok(info),
                Err(e) => {
                    // Some servers hide /api/v2/instance: go on with what the URL says.
                    if matches!(e.status(), Some(404 | 401 | 403)) {
                        return Ok(InstanceInfo {
                            domain: super::convert::normalize_host(self.client.instance()),
                            streaming: self.client.instance().to_owned(),
                            max_characters: super::DEFAULT_MAX_CHARS,
                        });
                    }
                    tracing::warn!(channel = %self.channel, "{e}");
                    reconnect.wait().await;
                }
            }
        }
    }

    fn heard(&self, converted: ConvertedStatus) -> Heard {
        Heard {
            reply_ref: Some(
                json!({
                    "visibility": converted.visibility.as_str(),
                    "author": converted.message.author,
                })
                .to_string(),
            ),
            html: Some(converted.html),
            message: converted.message,
        }
    }

    /// One REST page after `cursor`: (id, what it became) oldest first.
    async fn page(
        &self,
        feed: &Feed,
        info: &InstanceInfo,
        cursor: &str,
    ) -> Result<Vec<(Option<String>, Result<Option<Heard>, Problem>)>, NetError> {
        let mut query = vec![
            ("limit".to_owned(), PAGE_LIMIT.to_string()),
            ("min_id".to_owned(), cursor.to_owned()),
        ];
        let (what, path) = match feed {
            Feed::Mentions => {
                query.push(("types[]".to_owned(), "mention".to_owned()));
                ("read Mastodon mentions", "/api/v1/notifications".to_owned())
            }
            Feed::Tag(tag) => (
                "read a Mastodon hashtag",
                format!("/api/v1/timelines/tag/{tag}"),
            ),
        };
        let (body, _link) = self.client.list(what, &path, &query).await?;
        let mut items = Vec::new();
        match feed {
            Feed::Mentions => {
                let parsed = parse_notifications(&body).map_err(|e| NetError::Body {
                    what: what.into(),
                    url: path.clone(),
                    reason: e.to_string(),
                })?;
                for item in parsed {
                    items.push(match item {
                        Ok(n) => (
                            Some(n.id.clone()),
                            Ok(notification_to_message(&n, &info.domain, &self.account)
                                .map(|c| self.heard(c))),
                        ),
                        Err(e) => (None, Err(problem(&e.to_string(), &body))),
                    });
                }
            }
            Feed::Tag(_) => {
                let values: Vec<serde_json::Value> =
                    serde_json::from_str(&body).map_err(|e| NetError::Body {
                        what: what.into(),
                        url: path.clone(),
                        reason: e.to_string(),
                    })?;
                for value in values {
                    let raw = value.to_string();
                    items.push(match serde_json::from_value::<Status>(value) {
                        Ok(status) => (Some(status.id.clone()), Ok(self.tag_status(&status, info))),
                        Err(e) => (None, Err(problem(&format!("not a status: {e}"), &raw))),
                    });
                }
            }
        }
        items.sort_by(|a, b| match (&a.0, &b.0) {
            (Some(a), Some(b)) => compare_ids(a, b),
            _ => Ordering::Equal,
        });
        Ok(items)
    }

    fn tag_status(&self, status: &Status, info: &InstanceInfo) -> Option<Heard> {
        // A boost carries the boosted status: that is what was said.
        let status = status.reblog.as_deref().unwrap_or(status);
        status_to_message(status, &info.domain, &self.account).map(|c| self.heard(c))
    }

    /// Reads by REST everything after `cursor`, delivering page by page.
    async fn catch_up(
        &self,
        feed: &Feed,
        info: &InstanceInfo,
        cursor: &mut Option<String>,
        sink: &Sink,
    ) -> Result<(), NetError> {
        loop {
            let from = cursor.clone().unwrap_or_else(|| "0".to_owned());
            let items = self.page(feed, info, &from).await?;
            let count = items.len();
            if count == 0 {
                return Ok(());
            }
            let mut delivery = Delivery {
                source: self.source(feed),
                ..Delivery::default()
            };
            for (id, item) in items {
                match item {
                    Ok(Some(heard)) => delivery.heard.push(heard),
                    Ok(None) => {}
                    Err(problem) => delivery.problems.push(problem),
                }
                if let Some(id) = id
                    && cursor
                        .as_ref()
                        .is_none_or(|c| compare_ids(&id, c) == Ordering::Greater)
                {
                    *cursor = Some(id);
                }
            }
            delivery.cursor = cursor.clone();
            if sink.deliver(delivery).await.is_err() {
                return Ok(());
            }
            if count < PAGE_LIMIT {
                return Ok(());
            }
        }
    }

    /// Streams `feed` until the stream ends or one poll interval has passed; `Ok(false)`
    /// when the instance has no stream for it.
    async fn stream(
        &self,
        feed: &Feed,
        info: &InstanceInfo,
        cursor: &mut Option<String>,
        sink: &Sink,
    ) -> Result<bool, NetError> {
        let path = match feed {
            Feed::Mentions => USER_NOTIFICATION_STREAM_PATH.to_owned(),
            Feed::Tag(tag) => hashtag_stream_path(tag, false),
        };
        let mut response = match self.client.open_stream(&info.streaming, &path).await {
            Ok(r) => r,
            Err(e) if matches!(e.status(), Some(404 | 405 | 501)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let source = self.source(feed);
        let mut parser = SseParser::new();
        let until = tokio::time::Instant::now() + self.poll;
        loop {
            let chunk = match tokio::time::timeout_at(until, response.chunk()).await {
                Err(_) => return Ok(true),
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => {
                    tracing::info!(channel = %self.channel, "the Mastodon stream ended; catching up");
                    return Ok(true);
                }
                Ok(Err(e)) => {
                    tracing::warn!(channel = %self.channel, "the Mastodon stream dropped ({e}); catching up");
                    return Ok(true);
                }
            };
            let mut delivery = Delivery {
                source: source.clone(),
                ..Delivery::default()
            };
            for frame in parser.feed(&chunk) {
                let event = match frame {
                    Ok(SseFrame::Event(event)) => event,
                    Ok(SseFrame::Comment(_)) => continue,
                    Err(e) => {
                        tracing::warn!(channel = %self.channel, "{e}");
                        continue;
                    }
                };
                let (id, heard) = match (feed, decode_stream_event(&event)) {
                    (Feed::Mentions, Ok(StreamItem::Notification(n))) => (
                        n.id.clone(),
                        notification_to_message(&n, &info.domain, &self.account)
                            .map(|c| self.heard(c)),
                    ),
                    (Feed::Tag(_), Ok(StreamItem::Update(status))) => {
                        (status.id.clone(), self.tag_status(&status, info))
                    }
                    (_, Ok(_)) => continue,
                    (_, Err(e)) => {
                        tracing::warn!(channel = %self.channel, "{e}");
                        delivery.problems.push(problem(&e.to_string(), &event.data));
                        continue;
                    }
                };
                delivery.heard.extend(heard);
                if cursor
                    .as_ref()
                    .is_none_or(|c| compare_ids(&id, c) == Ordering::Greater)
                {
                    *cursor = Some(id);
                    delivery.cursor = cursor.clone();
                }
            }
            if (!delivery.heard.is_empty()
                || !delivery.problems.is_empty()
                || delivery.cursor.is_some())
                && sink.deliver(delivery).await.is_err()
            {
                return Ok(true);
            }
        }
    }

    async fn follow(
        &self,
        feed: Feed,
        info: &InstanceInfo,
        start: Option<String>,
        sink: &Sink,
    ) -> Result<(), ConnectorError> {
        let mut cursor = start;
        let mut streaming = true;
        let mut reconnect = Reconnect::new(Duration::from_millis(250), Duration::from_secs(60));
        loop {
            if sink.is_closed() {
                return Ok(());
            }
            let round = async {
                self.catch_up(&feed, info, &mut cursor, sink).await?;
                if streaming {
                    streaming = self.stream(&feed, info, &mut cursor, sink).await?;
                    if !streaming {
                        tracing::info!(channel = %self.channel, "no streaming API here; polling every {:?}", self.poll);
                    }
                } else {
                    tokio::time::sleep(self.poll).await;
                }
                Ok::<(), NetError>(())
            };
            match round.await {
                Ok(()) => reconnect.reset(),
                Err(e) => match self.fatal(e) {
                    Ok(fatal) => return Err(fatal),
                    Err(e) => {
                        let delay = reconnect.next_delay();
                        tracing::warn!(channel = %self.channel, "{e}; trying again in {delay:?}");
                        tokio::time::sleep(delay).await;
                    }
                },
            }
        }
    }
}

fn problem(reason: &str, raw: &str) -> Problem {
    Problem {
        position: Problem::position_of(raw),
        reason: reason.to_owned(),
        raw: raw.chars().take(16 * 1024).collect(),
    }
}

impl Connector for MastodonConnector {
    fn channel(&self) -> &str {
        &self.channel
    }

    fn sources(&self) -> Vec<String> {
        self.feeds.iter().map(|f| self.source(f)).collect()
    }

    fn run(self: Box<Self>, cursors: Cursors, sink: Sink) -> Running {
        Box::pin(async move {
            if self.feeds.is_empty() {
                return Err(ConnectorError::Config {
                    channel: self.channel.clone(),
                    reason: "nothing to listen for: set listen = [\"mentions\"] or list hashtags \
                             with listen = [\"hashtags\"]"
                        .into(),
                });
            }
            let info = self.instance().await?;
            tracing::info!(channel = %self.channel, "Mastodon instance {} (streaming at {})", info.domain, info.streaming);
            let runs = self.feeds.iter().map(|feed| {
                let start = cursors.get(&self.source(feed)).cloned();
                self.follow(feed.clone(), &info, start, &sink)
            });
            futures_util::future::try_join_all(runs).await.map(|_| ())
        })
    }
}
