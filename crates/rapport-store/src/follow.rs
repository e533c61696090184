//! Following the event log from outside the process that writes it: which conversations
//! changed since the last look, whoever changed them (a server, a listener, a worker).
//!
//! Event sequence numbers are handed out when a transaction inserts its event, but
//! transactions commit in their own order: on PostgreSQL, seq 7 may become visible after
//! seq 8. A follower that jumped to 8 would never see 7. So the follower keeps a floor
//! below which it has seen everything, remembers what it saw above it, and passes a
//! missing number only once it has stayed missing for [`GAP_PATIENCE`] (its transaction
//! rolled back: sequences are not reused).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::{Store, StoreError};

/// How long a missing sequence number is waited for before it counts as rolled back.
pub const GAP_PATIENCE: Duration = Duration::from_secs(10);

/// Rows read per look.
const BATCH: i64 = 1_000;

/// Where a follower of the event log stands.
#[derive(Debug, Clone)]
pub struct EventFollower {
    /// Every event up to here was seen (or given up as rolled back).
    floor: i64,
    /// Events seen above the floor.
    seen: BTreeSet<i64>,
    /// Since when `floor + 1` has been missing while later events were seen.
    missing_since: Option<Instant>,
}

impl EventFollower {
    /// A follower that reports what happens after `seq` (use [`Store::last_event_seq`]
    /// to start from now).
    pub fn after(seq: i64) -> EventFollower {
        EventFollower {
            floor: seq,
            seen: BTreeSet::new(),
            missing_since: None,
        }
    }

    /// Everything up to this sequence number has been seen.
    pub fn floor(&self) -> i64 {
        self.floor
    }

    /// A follower resumed where an earlier one stood: its floor and what it saw above.
    pub fn resume(floor: i64, seen: impl IntoIterator<Item = i64>) -> EventFollower {
        EventFollower {
            floor,
            seen: seen.into_iter().filter(|&s| s > floor).collect(),
            missing_since: None,
        }
    }

    /// The events seen above the floor (waiting for a hole below them to fill).
    pub fn seen(&self) -> impl Iterator<Item = i64> + '_ {
        self.seen.iter().copied()
    }

    /// Takes in one look's events (seq, conversation) read above the floor; returns the
    /// conversations of the events not seen before, in order, without repeats.
    pub fn absorb(&mut self, events: &[(i64, Option<i64>)], now: Instant) -> Vec<i64> {
        let seqs: Vec<i64> = events.iter().map(|e| e.0).collect();
        let fresh = self.absorb_seqs(&seqs, now);
        let mut out = Vec::new();
        for (&(_, conversation), new) in events.iter().zip(fresh) {
            if let Some(c) = conversation
                && new
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        out
    }

    /// Takes in one look's sequence numbers; says for each whether it is new (not seen
    /// before), and moves the floor.
    pub fn absorb_seqs(&mut self, seqs: &[i64], now: Instant) -> Vec<bool> {
        let fresh = seqs
            .iter()
            .map(|&seq| seq > self.floor && self.seen.insert(seq))
            .collect();
        loop {
            if self.seen.remove(&(self.floor + 1)) {
                self.floor += 1;
                self.missing_since = None;
                continue;
            }
            if self.seen.is_empty() {
                self.missing_since = None;
                break;
            }
            // A hole below events already seen: wait for it, then give it up.
            let since = *self.missing_since.get_or_insert(now);
            if now.duration_since(since) >= GAP_PATIENCE {
                self.floor += 1;
                self.missing_since = None;
                continue;
            }
            break;
        }
        fresh
    }
}

impl Store {
    /// The newest event's sequence number (0 when there is none).
    pub async fn last_event_seq(&self) -> Result<i64, StoreError> {
        let (seq,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// The conversations changed since `follower` last looked (see [`EventFollower`]).
    pub async fn changed_since(
        &self,
        follower: &mut EventFollower,
    ) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT seq, conversation_id FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(follower.floor())
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        Ok(follower.absorb(&rows, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_in_order_move_the_floor_and_report_each_conversation_once() {
        let mut f = EventFollower::after(10);
        let t = Instant::now();
        assert_eq!(
            f.absorb(&[(11, Some(1)), (12, Some(2)), (13, Some(1))], t),
            vec![1, 2]
        );
        assert_eq!(f.floor(), 13);
        // Seen again (the next look overlaps): nothing new.
        assert!(f.absorb(&[(13, Some(1))], t).is_empty());
        // Events without a conversation move the floor too.
        assert!(f.absorb(&[(14, None)], t).is_empty());
        assert_eq!(f.floor(), 14);
    }

    #[test]
    fn a_late_commit_below_seen_events_is_still_reported() {
        let mut f = EventFollower::after(0);
        let t = Instant::now();
        // 2 is committed, 1 not yet: the floor waits at 0.
        assert_eq!(f.absorb(&[(2, Some(20))], t), vec![20]);
        assert_eq!(f.floor(), 0);
        // 1 commits a moment later: reported, and the floor moves past both.
        assert_eq!(
            f.absorb(&[(1, Some(10)), (2, Some(20))], t + Duration::from_secs(1)),
            vec![10]
        );
        assert_eq!(f.floor(), 2);
    }

    #[test]
    fn a_hole_that_stays_is_a_rollback_and_is_passed_after_the_patience() {
        let mut f = EventFollower::after(0);
        let t = Instant::now();
        f.absorb(&[(2, Some(20)), (3, Some(30))], t);
        f.absorb(&[(2, Some(20)), (3, Some(30))], t + GAP_PATIENCE / 2);
        assert_eq!(f.floor(), 0, "still waiting for 1");
        f.absorb(&[(2, Some(20)), (3, Some(30))], t + GAP_PATIENCE);
        assert_eq!(f.floor(), 3);
        assert_eq!(f.absorb(&[(4, Some(40))], t + GAP_PATIENCE), vec![40]);
    }
}
