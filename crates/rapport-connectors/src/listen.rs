//! What the listener drives: a [`Connector`] per channel, each handing its messages, the
//! problems it met and its new cursor to a [`Sink`] as [`Delivery`]s. The listener (in
//! the binary) writes each delivery — messages and cursor — in one transaction, so after
//! a crash every source resumes right after the last delivery that was stored.
//!
//! A connector runs until it is dropped (the listener stops it by aborting its task) or
//! until it meets a fault it cannot get over by waiting (bad credentials, a channel that
//! cannot work): then it returns the error, and only that channel stops. Network faults,
//! rate limits and server errors are waited out inside the connector, with backoff.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rapport_core::NewMessage;
use tokio::sync::mpsc;

use crate::net::NetError;

/// A message heard, with how to answer it.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    /// The message.
    pub message: NewMessage,
    /// How to answer it on its platform (JSON), when the platform needs more than the
    /// message's id.
    pub reply_ref: Option<String>,
    /// The message as the platform sent it, when that was HTML (untrusted).
    pub html: Option<String>,
}

impl From<NewMessage> for Heard {
    fn from(message: NewMessage) -> Self {
        Heard {
            message,
            reply_ref: None,
            html: None,
        }
    }
}

/// Something a source sent that could not become a message: logged, kept in the
/// quarantine, and skipped — the rest goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the source (an event's time, an id, an entry's position): with the
    /// source's name, the quarantine's key, so the same problem seen again is kept once.
    pub position: u64,
    /// What is wrong.
    pub reason: String,
    /// What was received.
    pub raw: String,
}

impl Problem {
    /// A position for something that has none of its own: a hash of what was received.
    pub fn position_of(raw: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        raw.hash(&mut h);
        // The quarantine stores it as a signed 64-bit integer.
        h.finish() >> 1
    }
}

/// One step of one source: what it heard and how far it has read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// The source, e.g. `bsky/jetstream`: the key its cursor is stored under.
    pub source: String,
    /// Messages, oldest first.
    pub heard: Vec<Heard>,
    /// What could not be read.
    pub problems: Vec<Problem>,
    /// Where the source has read up to, after this delivery; `None` leaves it.
    pub cursor: Option<String>,
}

/// The listener closed: stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the listener has stopped")]
pub struct Closed;

/// Where a connector hands its deliveries.
#[derive(Debug, Clone)]
pub struct Sink {
    tx: mpsc::Sender<Delivery>,
}

impl Sink {
    /// A sink and the receiver the listener reads; `capacity` deliveries may wait.
    pub fn channel(capacity: usize) -> (Sink, mpsc::Receiver<Delivery>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Sink { tx }, rx)
    }

    /// Hands over one delivery, waiting while the listener is busy.
    pub async fn deliver(&self, delivery: Delivery) -> Result<(), Closed> {
        self.tx.send(delivery).await.map_err(|_| Closed)
    }

    /// Whether the listener has stopped reading.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The cursors a connector starts from, by source.
pub type Cursors = HashMap<String, String>;

/// A connector's future.
pub type Running = Pin<Box<dyn Future<Output = Result<(), ConnectorError>> + Send>>;

/// One channel's listener.
pub trait Connector: Send {
    /// The channel's name.
    fn channel(&self) -> &str;

    /// The sources whose cursors it needs at start (their keys in the store).
    fn sources(&self) -> Vec<String>;

    /// Runs: reads from the platform and delivers, from `cursors`, until stopped.
    fn run(self: Box<Self>, cursors: Cursors, sink: Sink) -> Running;
}

/// Why a connector stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The platform refused the channel's credentials.
    #[error("channel {channel:?}: {reason}")]
    Auth {
        /// The channel.
        channel: String,
        /// What the platform said and what to do.
        reason: String,
    },
    /// The channel's configuration cannot work.
    #[error("channel {channel:?}: {reason}")]
    Config {
        /// The channel.
        channel: String,
        /// What is wrong and what to write.
        reason: String,
    },
    /// A request failed in a way waiting cannot fix.
    #[error("channel {channel:?}: {source}")]
    Net {
        /// The channel.
        channel: String,
        /// What failed.
        #[source]
        source: NetError,
    },
    /// The listener stopped.
    #[error(transparent)]
    Closed(#[from] Closed),
}

/// Reconnection delays for long-lived sources (streams, polls): exponential with jitter,
/// from `min` up to `max`, forever; [`Reconnect::reset`] after a success.
pub struct Reconnect {
    min: Duration,
    max: Duration,
    delays: Box<dyn Iterator<Item = Duration> + Send>,
}

impl std::fmt::Debug for Reconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconnect")
            .field("min", &self.min)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Reconnect {
    /// Delays from `min` doubling up to `max`.
    pub fn new(min: Duration, max: Duration) -> Reconnect {
        Reconnect {
            min,
            max,
            delays: Box::new(Self::build(min, max)),
        }
    }

    fn build(min: Duration, max: Duration) -> impl Iterator<Item = Duration> + Send {
        use backon::BackoffBuilder;
        backon::ExponentialBuilder::default()
            .with_min_delay(min)
            .with_max_delay(max)
            .with_jitter()
            .without_max_times()
            .build()
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        self.delays.next().unwrap_or(self.max)
    }

    /// Starts again from the shortest delay (after the source worked again).
    pub fn reset(&mut self) {
        self.delays = Box::new(Self::build(self.min, self.max));
    }

    /// Waits the next delay.
    pub async fn wait(&mut self) {
        let delay = self.next_delay();
        tokio::time::sleep(delay).await;
    }
}
