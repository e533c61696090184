//! The Bluesky connector: Jetstream for what the network says, `listNotifications` for
//! the account's own mentions, replies and quotes.
//!
//! Two sources, each with its cursor:
//! - `{channel}/jetstream`: the `time_us` of the last event read. The subscription asks
//!   for `app.bsky.feed.post` commits from that cursor on (Jetstream replays from it,
//!   inclusive: the last event comes again and the store ignores the copy), so a restart
//!   or a dropped socket resumes with no gap. Events are delivered in batches (at most
//!   [`BATCH_EVENTS`] events or [`BATCH_WAIT`] apart). Kept posts get their author's
//!   handle, name and followers from `getProfile` (cached); when the lookup fails the
//!   post is kept under the author's DID.
//! - `{channel}/notifications` (only with an app password): the `indexedAt` of the newest
//!   notification read. Each poll reads pages back to it.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use rapport_core::channel::ChannelConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::client::{Xrpc, XrpcCallError};
use super::convert::{
    JetstreamOutcome, Listen, MatchReason, convert_notification, from_jetstream_line,
};
use super::{BlueskyError, POST_COLLECTION};
use crate::listen::{
    Connector, ConnectorError, Cursors, Delivery, Heard, Problem, Reconnect, Running, Sink,
};
use crate::net::Http;

/// The most events in one delivery.
pub const BATCH_EVENTS: usize = 256;
/// The longest a read event waits for others to share its delivery.
pub const BATCH_WAIT: Duration = Duration::from_millis(200);
/// Pages of notifications read on a channel's first poll (older ones are history).
pub const FIRST_POLL_PAGES: usize = 20;
/// The longest raw event kept in the quarantine.
const RAW_LIMIT: usize = 16 * 1024;

/// A Bluesky channel's connector.
#[derive(Debug)]
pub struct BlueskyConnector {
    channel: String,
    account: String,
    jetstream_url: String,
    xrpc: Xrpc,
    mentions: bool,
    replies: bool,
    topics: Vec<String>,
    all: bool,
    poll: Duration,
}

impl BlueskyConnector {
    /// The connector of `channel`, logged in with `password` when given.
    pub fn new(channel: &ChannelConfig, http: Http, password: Option<String>) -> Self {
        let listen = channel.listen();
        let account = channel.account.clone().unwrap_or_default();
        BlueskyConnector {
            channel: channel.name.clone(),
            jetstream_url: channel.jetstream_url().to_owned(),
            xrpc: Xrpc::new(
                http,
                channel.service(),
                channel.appview(),
                &account,
                password,
            ),
            account: account.trim_start_matches('@').to_owned(),
            mentions: listen.contains(&"mentions"),
            replies: listen.contains(&"replies"),
            topics: if listen.contains(&"topics") {
                channel.topics.clone()
            } else {
                Vec::new()
            },
            all: listen.contains(&"all"),
            poll: channel.poll_interval(),
        }
    }

    fn jetstream_source(&self) -> String {
        format!("{}/jetstream", self.channel)
    }

    fn notifications_source(&self) -> String {
        format!("{}/notifications", self.channel)
    }

    fn fail(&self, err: XrpcCallError) -> ConnectorError {
        match err {
            XrpcCallError::Net(source) => ConnectorError::Net {
                channel: self.channel.clone(),
                source,
            },
            other => ConnectorError::Auth {
                channel: self.channel.clone(),
                reason: other.to_string(),
            },
        }
    }

    /// The organisation's DID: from the login, or by resolving the handle. Waits out
    /// network faults.
    async fn org_did(&self) -> Result<String, ConnectorError> {
        if self.account.starts_with("did:") && !self.xrpc.can_login() {
            return Ok(self.account.clone());
        }
        let mut reconnect = Reconnect::new(Duration::from_millis(500), Duration::from_secs(60));
        loop {
            let result = if self.xrpc.can_login() {
                self.xrpc.did().await
            } else {
                self.xrpc.resolve_handle(&self.account).await
            };
            match result {
                Ok(did) => return Ok(did),
                Err(e) if e.is_transient() => {
                    tracing::warn!(channel = %self.channel, "{e}");
                    reconnect.wait().await;
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    fn subscribe_url(&self, cursor: Option<i64>) -> Result<String, ConnectorError> {
        let mut url =
            reqwest::Url::parse(&self.jetstream_url).map_err(|e| ConnectorError::Config {
                channel: self.channel.clone(),
                reason: format!(
                    "jetstream_url {:?} is not a URL ({e}); write e.g. \
                     wss://jetstream2.us-east.bsky.network/subscribe",
                    self.jetstream_url
                ),
            })?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("wantedCollections", POST_COLLECTION);
            if let Some(cursor) = cursor {
                query.append_pair("cursor", &cursor.to_string());
            }
        }
        Ok(url.to_string())
    }

    async fn jetstream(
        &self,
        listen: &Listen,
        start: Option<i64>,
        sink: &Sink,
    ) -> Result<(), ConnectorError> {
        let source = self.jetstream_source();
        let mut cursor = start;
        let mut reconnect = Reconnect::new(Duration::from_millis(250), Duration::from_secs(60));
        loop {
            let url = self.subscribe_url(cursor)?;
            crate::net::ensure_crypto();
            let socket = match tokio_tungstenite::connect_async(url.as_str()).await {
                Ok((socket, _)) => socket,
                Err(e) => {
                    let delay = reconnect.next_delay();
                    tracing::warn!(channel = %self.channel, "Jetstream {url}: {e}; connecting again in {delay:?}");
                    tokio::time::sleep(delay).await;
                    continue;
                }
            };
            tracing::info!(channel = %self.channel, "Jetstream connected, from cursor {cursor:?}");
            let (_write, mut read) = socket.split();
            let mut batch = Batch::default();
            let mut fresh = true;
            let ended = loop {
                let next = if batch.events == 0 {
                    read.next().await
                } else {
                    match tokio::time::timeout(BATCH_WAIT, read.next()).await {
                        Ok(next) => next,
                        Err(_) => {
                            cursor = self.flush(&source, &mut batch, cursor, sink).await?;
                            continue;
                        }
                    }
                };
                match next {
                    Some(Ok(WsMessage::Text(text))) => {
                        if fresh {
                            reconnect.reset();
                            fresh = false;
                        }
                        self.read_event(text.as_str(), listen, &mut batch).await;
                        if batch.events >= BATCH_EVENTS {
                            cursor = self.flush(&source, &mut batch, cursor, sink).await?;
                        }
                    }
                    Some(Ok(WsMessage::Binary(bytes))) => {
                        batch.events += 1;
                        batch.problems.push(Problem {
                            position: Problem::position_of(&format!("{bytes:?}")),
                            reason:
                                "a binary (compressed) Jetstream frame; rapport asks for JSON, \
                                     leave compress off in jetstream_url"
                                    .into(),
                            raw: String::new(),
                        });
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        break format!("closed by the server ({frame:?})");
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break e.to_string(),
                    None => break "the connection ended".to_owned(),
                }
            };
            cursor = self.flush(&source, &mut batch, cursor, sink).await?;
            let delay = reconnect.next_delay();
            tracing::warn!(channel = %self.channel, "Jetstream: {ended}; resuming from cursor {cursor:?} in {delay:?}");
            tokio::time::sleep(delay).await;
        }
    }

    async fn read_event(&self, line: &str, listen: &Listen, batch: &mut Batch) {
        batch.events += 1;
        match from_jetstream_line(line, listen) {
            Ok(JetstreamOutcome::Keep(kept)) => {
                batch.cursor = Some(kept.cursor);
                let mut message = kept.message;
                // `all` keeps every post of the network: looking each author up would
                // flood the AppView, so only posts that concern the organisation are.
                if kept.reasons.iter().any(|r| !matches!(r, MatchReason::All)) {
                    match self.xrpc.profile(&message.author).await {
                        Ok(profile) => {
                            message.author = profile.handle;
                            message.author_name = profile.display_name;
                            message.followers = profile.followers;
                        }
                        Err(e) => {
                            tracing::warn!(channel = %self.channel, "profile of {}: {e}; keeping the post under the DID", message.author);
                        }
                    }
                }
                batch.heard.push(Heard {
                    html: None,
                    message,
                    reply_ref: serde_json::to_string(&kept.target).ok(),
                });
            }
            Ok(JetstreamOutcome::Skip { cursor, .. }) => batch.cursor = Some(cursor),
            Err(err) => {
                tracing::warn!(channel = %self.channel, "{err}");
                if let Some(c) = err.cursor() {
                    batch.cursor = Some(c);
                }
                batch.problems.push(problem(&err, line));
            }
        }
    }

    async fn flush(
        &self,
        source: &str,
        batch: &mut Batch,
        cursor: Option<i64>,
        sink: &Sink,
    ) -> Result<Option<i64>, ConnectorError> {
        let taken = std::mem::take(batch);
        let moved = taken.cursor.filter(|c| Some(*c) > cursor);
        if taken.heard.is_empty() && taken.problems.is_empty() && moved.is_none() {
            return Ok(cursor);
        }
        sink.deliver(Delivery {
            source: source.to_owned(),
            heard: taken.heard,
            problems: taken.problems,
            cursor: moved.map(|c| c.to_string()),
        })
        .await?;
        Ok(moved.or(cursor))
    }

    async fn notifications(
        &self,
        org_did: &str,
        start: Option<String>,
        sink: &Sink,
    ) -> Result<(), ConnectorError> {
        let source = self.notifications_source();
        let mut seen = start;
        // The notifications read at the `seen` time itself: the next poll meets them
        // again (times are not unique, so the cursor cannot step past them).
        let mut at_seen: HashSet<String> = HashSet::new();
        loop {
            match self
                .read_notifications(org_did, seen.as_deref(), &mut at_seen)
                .await
            {
                Ok((heard, problems, newest)) => {
                    let moved = newest.filter(|n| seen.as_ref().is_none_or(|s| later(n, s)));
                    if !heard.is_empty() || !problems.is_empty() || moved.is_some() {
                        sink.deliver(Delivery {
                            source: source.clone(),
                            heard,
                            problems,
                            cursor: moved.clone(),
                        })
                        .await?;
                    }
                    if moved.is_some() {
                        seen = moved;
                    }
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(channel = %self.channel, "notifications: {e}");
                }
                Err(e) => return Err(self.fail(e)),
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Notifications newer than `seen` (all of a first poll's pages up to
    /// [`FIRST_POLL_PAGES`]), oldest first, and the newest `indexedAt`.
    async fn read_notifications(
        &self,
        org_did: &str,
        seen: Option<&str>,
        at_seen: &mut HashSet<String>,
    ) -> Result<(Vec<Heard>, Vec<Problem>, Option<String>), XrpcCallError> {
        let mut read: Vec<(String, String)> = Vec::new();
        let mut heard = Vec::new();
        let mut problems = Vec::new();
        let mut newest: Option<String> = None;
        let mut page_cursor: Option<String> = None;
        for _ in 0..FIRST_POLL_PAGES.max(1) {
            let page = self
                .xrpc
                .list_notifications(page_cursor.as_deref(), 50)
                .await?;
            let mut reached = false;
            for n in &page.notifications {
                if seen.is_some_and(|s| later(s, &n.indexed_at)) {
                    reached = true;
                    break;
                }
                // Read at the cursor's own time by this process already.
                if seen == Some(n.indexed_at.as_str()) && at_seen.contains(&n.uri) {
                    continue;
                }
                read.push((n.indexed_at.clone(), n.uri.clone()));
                if newest.as_ref().is_none_or(|x| later(&n.indexed_at, x)) {
                    newest = Some(n.indexed_at.clone());
                }
                match convert_notification(n, org_did) {
                    Ok(Some(post)) => heard.push(Heard {
                        html: None,
                        message: post.message,
                        reply_ref: serde_json::to_string(&post.target).ok(),
                    }),
                    Ok(None) => {}
                    Err(err) => {
                        let raw = serde_json::to_string(n).unwrap_or_default();
                        problems.push(Problem {
                            position: Problem::position_of(&n.uri),
                            reason: err.to_string(),
                            raw,
                        });
                    }
                }
            }
            match page.cursor {
                Some(next) if !reached && !page.notifications.is_empty() => {
                    page_cursor = Some(next)
                }
                _ => break,
            }
        }
        heard.reverse();
        if let Some(top) = &newest {
            if seen != Some(top.as_str()) {
                at_seen.clear();
            }
            at_seen.extend(
                read.into_iter()
                    .filter(|(at, _)| at == top)
                    .map(|(_, uri)| uri),
            );
        }
        Ok((heard, problems, newest))
    }
}

/// Whether RFC 3339 time `a` is after `b` (as text when either cannot be read).
fn later(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a > b,
        _ => a > b,
    }
}

fn problem(err: &BlueskyError, line: &str) -> Problem {
    let position = match err.cursor() {
        Some(c) => c.unsigned_abs(),
        None => Problem::position_of(line),
    };
    let mut raw = line.to_owned();
    if raw.len() > RAW_LIMIT {
        let mut cut = RAW_LIMIT;
        while !raw.is_char_boundary(cut) {
            cut -= 1;
        }
        raw.truncate(cut);
    }
    Problem {
        position,
        reason: err.to_string(),
        raw,
    }
}

#[derive(Debug, Default)]
struct Batch {
    events: usize,
    heard: Vec<Heard>,
    problems: Vec<Problem>,
    cursor: Option<i64>,
}

impl Connector for BlueskyConnector {
    fn channel(&self) -> &str {
        &self.channel
    }

    fn sources(&self) -> Vec<String> {
        vec![self.jetstream_source(), self.notifications_source()]
    }

    fn run(self: Box<Self>, cursors: Cursors, sink: Sink) -> Running {
        Box::pin(async move {
            let org_did = self.org_did().await?;
            tracing::info!(channel = %self.channel, "Bluesky account {} is {org_did}", self.account);
            let listen = Listen {
                org_did: org_did.clone(),
                org_handle: self.account.clone(),
                mentions: self.mentions,
                replies: self.replies,
                topics: self.topics.clone(),
                all: self.all,
            };
            let jetstream_cursor = match cursors.get(&self.jetstream_source()) {
                Some(c) => Some(c.parse::<i64>().map_err(|_| ConnectorError::Config {
                    channel: self.channel.clone(),
                    reason: format!(
                        "the stored Jetstream cursor {c:?} is not a time in microseconds"
                    ),
                })?),
                None => None,
            };
            let notifications_cursor = cursors.get(&self.notifications_source()).cloned();
            let jetstream = self.jetstream(&listen, jetstream_cursor, &sink);
            if self.xrpc.can_login() && (self.mentions || self.replies) {
                let notifications = self.notifications(&org_did, notifications_cursor, &sink);
                tokio::try_join!(jetstream, notifications).map(|_| ())
            } else {
                jetstream.await
            }
        })
    }
}
