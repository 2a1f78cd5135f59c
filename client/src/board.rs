//! Following one conference live, as a board does (the secretariat's screen, the chair's): the
//! snapshot first, then only the changes, in `seq` order, none missed and none twice, resumed after
//! a disconnect from the last `seq` held.
//!
//! - [`Follower`]: the ordering logic alone (no I/O): drops duplicates by `seq`, holds back a live
//!   change whose `prev` shows a gap, and takes the changes read back from the log to fill it.
//! - [`Board`]: a follower on a connection: subscribes to `hoinghi.v1.live.<conference>` **before**
//!   reading the snapshot (so nothing falls between the two), fills gaps from
//!   `hoinghi.v1.attendance.board.changes`, and, when the feed is quiet for [`Board::POLL`], asks the
//!   log whether it missed the last change (a lost tail shows no gap until the next change).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use hoinghi_shared::api::{PageQuery, MAX_PAGE};
use hoinghi_shared::board::{Board as BoardView, BoardChange, BoardChanges, BoardChangesQuery, MAX_CHANGES};
use hoinghi_shared::subjects::{attendance, live};
use hoinghi_shared::{ApiError, ConferenceId};

use crate::api::Api;

/// What a live change means to a [`Follower`].
#[derive(Debug, Clone, PartialEq)]
pub enum Offered {
    /// Already held (a copy from another instance, or one read back from the log): dropped.
    Duplicate,
    /// The change, and any held back behind it, follow on: deliver these, in order.
    Deliver(Vec<BoardChange>),
    /// Something lies between what the follower holds and this change: read the changes since
    /// `since` ([`Follower::fill`]); the change is held back until then.
    Gap {
        /// The last `seq` the follower holds.
        since: u64,
    },
}

/// The ordering of a board's changes, without I/O.
#[derive(Debug, Clone, Default)]
pub struct Follower {
    last: u64,
    held: BTreeMap<u64, BoardChange>,
}

impl Follower {
    /// A follower holding everything up to `seq` (a snapshot's, or the last change's of an earlier
    /// connection).
    pub fn new(seq: u64) -> Self {
        Self { last: seq, held: BTreeMap::new() }
    }

    /// The last `seq` delivered (or the one it started from).
    pub fn last_seq(&self) -> u64 {
        self.last
    }

    /// Whether live changes are held back behind a gap.
    pub fn has_gap(&self) -> bool {
        !self.held.is_empty()
    }

    /// A change from the live feed.
    pub fn offer(&mut self, change: BoardChange) -> Offered {
        if change.seq <= self.last || self.held.contains_key(&change.seq) {
            return Offered::Duplicate;
        }
        self.held.insert(change.seq, change);
        let out = self.drain();
        if out.is_empty() {
            Offered::Gap { since: self.last }
        } else {
            Offered::Deliver(out)
        }
    }

    /// Changes read back from the log (`board.changes` since [`Self::last_seq`], complete up to its
    /// last one): returns those to deliver, with the live ones held back that now follow on.
    pub fn fill(&mut self, changes: Vec<BoardChange>) -> Vec<BoardChange> {
        let mut out = Vec::new();
        for change in changes {
            if change.seq > self.last {
                self.last = change.seq;
                self.held.remove(&change.seq);
                out.push(change);
            }
        }
        out.extend(self.drain());
        out
    }

    /// Delivers the held changes that follow on from `last`, dropping those already passed.
    fn drain(&mut self) -> Vec<BoardChange> {
        let mut out = Vec::new();
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() <= self.last {
                entry.remove();
            } else if entry.get().prev <= self.last {
                let change = entry.remove();
                self.last = change.seq;
                out.push(change);
            } else {
                break;
            }
        }
        out
    }
}

/// One conference followed live on a connection.
pub struct Board {
    api: Api,
    conference: ConferenceId,
    live: async_nats::Subscriber,
    follower: Follower,
    ready: VecDeque<BoardChange>,
}

impl Board {
    /// How long the live feed may be quiet before the board asks the log whether it missed a change.
    pub const POLL: Duration = Duration::from_secs(5);

    /// Subscribes to the conference's live feed, then reads the whole snapshot (every page of lines;
    /// its `seq` is the first page's). Returns the board and the snapshot.
    ///
    /// # Errors
    /// The subscription or a snapshot request failed (e.g. `not_found` before the roster opens).
    pub async fn open(api: &Api, conference: ConferenceId) -> Result<(Self, BoardView), ApiError> {
        let live = subscribe(api, conference).await?;
        let mut snapshot = snapshot_page(api, conference, 0).await?;
        while snapshot.roster.offset + snapshot.roster.sites.len() < snapshot.roster.total_sites {
            let next = snapshot_page(api, conference, snapshot.roster.offset + snapshot.roster.sites.len()).await?;
            if next.roster.sites.is_empty() {
                break;
            }
            snapshot.roster.sites.extend(next.roster.sites);
        }
        let board =
            Self { api: api.clone(), conference, live, follower: Follower::new(snapshot.seq), ready: VecDeque::new() };
        Ok((board, snapshot))
    }

    /// Resumes following from `since` (the last `seq` held before a disconnect): subscribes, then
    /// reads back every change after `since`.
    ///
    /// # Errors
    /// The subscription or the read failed.
    pub async fn resume(api: &Api, conference: ConferenceId, since: u64) -> Result<Self, ApiError> {
        let live = subscribe(api, conference).await?;
        let mut board =
            Self { api: api.clone(), conference, live, follower: Follower::new(since), ready: VecDeque::new() };
        board.fill().await?;
        Ok(board)
    }

    /// The conference followed.
    pub fn conference(&self) -> ConferenceId {
        self.conference
    }

    /// The last `seq` delivered (resume from it after a disconnect).
    pub fn last_seq(&self) -> u64 {
        self.follower.last_seq()
    }

    /// The next change, waiting for it as long as it takes.
    ///
    /// # Errors
    /// The feed ended (connection closed) or a read of the log failed.
    pub async fn next(&mut self) -> Result<BoardChange, ApiError> {
        loop {
            if let Some(change) = self.next_within(Self::POLL).await? {
                return Ok(change);
            }
        }
    }

    /// The next change if one comes within `wait`. A quiet feed makes the board ask the log for
    /// what it may have missed.
    ///
    /// # Errors
    /// The feed ended (connection closed) or a read of the log failed.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Option<BoardChange>, ApiError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(change) = self.ready.pop_front() {
                return Ok(Some(change));
            }
            let quiet = deadline.min(tokio::time::Instant::now() + Self::POLL);
            match tokio::time::timeout_at(quiet, self.live.next()).await {
                Ok(Some(message)) => {
                    let Ok(change) = serde_json::from_slice::<BoardChange>(&message.payload) else { continue };
                    match self.follower.offer(change) {
                        Offered::Duplicate => {}
                        Offered::Deliver(changes) => self.ready.extend(changes),
                        Offered::Gap { .. } => self.fill().await?,
                    }
                }
                Ok(None) => return Err(ApiError::unavailable("the live feed ended: the connection is closed")),
                Err(_) => {
                    // Quiet: a lost last change shows no gap, so ask the log.
                    self.fill().await?;
                    if self.ready.is_empty() && tokio::time::Instant::now() >= deadline {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Reads back every change after the last `seq` held, page after page.
    async fn fill(&mut self) -> Result<(), ApiError> {
        loop {
            let query = BoardChangesQuery {
                conference_id: self.conference,
                since: self.follower.last_seq(),
                limit: MAX_CHANGES,
            };
            let page: BoardChanges = self.api.request(attendance::BOARD_CHANGES, &query).await?;
            let more = page.more && !page.changes.is_empty();
            self.ready.extend(self.follower.fill(page.changes));
            if !more {
                return Ok(());
            }
        }
    }
}

async fn subscribe(api: &Api, conference: ConferenceId) -> Result<async_nats::Subscriber, ApiError> {
    let subscriber = api
        .nats()
        .subscribe(live::conference(&conference))
        .await
        .map_err(|e| ApiError::unavailable(format!("cannot follow the live feed: {e}")))?;
    // Make sure the server has the subscription before the snapshot is read.
    api.nats().flush().await.map_err(|e| ApiError::unavailable(format!("cannot follow the live feed: {e}")))?;
    Ok(subscriber)
}

async fn snapshot_page(api: &Api, conference: ConferenceId, offset: usize) -> Result<BoardView, ApiError> {
    api.request(attendance::BOARD, &PageQuery { conference_id: conference, offset, limit: MAX_PAGE }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn change(seq: u64, prev: u64) -> BoardChange {
        BoardChange {
            seq,
            prev,
            event_type: "site_checked_in".into(),
            site_id: None,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            data: RawValue::from_string("{}".into()).unwrap(),
        }
    }

    fn seqs(changes: &[BoardChange]) -> Vec<u64> {
        changes.iter().map(|c| c.seq).collect()
    }

    #[test]
    fn changes_after_the_snapshot_are_delivered_and_copies_dropped() {
        // Given a snapshot at 10 (other conferences' events lie between this one's)
        let mut f = Follower::new(10);
        // When changes come live, each twice (two instances publish), one from before the snapshot
        let mut delivered = Vec::new();
        for c in [change(8, 5), change(12, 10), change(12, 10), change(15, 12), change(8, 5), change(15, 12)] {
            if let Offered::Deliver(out) = f.offer(c) {
                delivered.extend(out);
            }
        }
        // Then each is delivered once, in order
        assert_eq!(seqs(&delivered), [12, 15]);
        assert_eq!(f.last_seq(), 15);
        assert!(!f.has_gap());
    }

    #[test]
    fn a_gap_is_filled_from_the_log_and_the_held_changes_follow() {
        // Given a follower at 12 that missed 14 and 17
        let mut f = Follower::new(12);
        assert_eq!(f.offer(change(19, 17)), Offered::Gap { since: 12 });
        assert_eq!(f.offer(change(21, 19)), Offered::Gap { since: 12 });
        assert!(f.has_gap());
        // When the log gives back what followed 12 (up to 19, read before 21 was written)
        let out = f.fill(vec![change(14, 12), change(17, 14), change(19, 17)]);
        // Then the gap is filled, the copy of 19 is dropped and the held 21 follows
        assert_eq!(seqs(&out), [14, 17, 19, 21]);
        assert_eq!(f.last_seq(), 21);
        assert!(!f.has_gap());
        // And a late copy of a filled change is a duplicate
        assert_eq!(f.offer(change(17, 14)), Offered::Duplicate);
        // And the next change follows on
        assert_eq!(f.offer(change(30, 21)), Offered::Deliver(vec![change(30, 21)]));
    }

    #[test]
    fn a_fill_read_before_the_held_change_was_written_leaves_the_gap_open() {
        let mut f = Follower::new(5);
        assert_eq!(f.offer(change(9, 7)), Offered::Gap { since: 5 });
        // The log read stopped at 6: 7 is still missing
        assert_eq!(seqs(&f.fill(vec![change(6, 5)])), [6]);
        assert!(f.has_gap());
        assert_eq!(seqs(&f.fill(vec![change(7, 6), change(9, 7)])), [7, 9]);
        assert!(!f.has_gap());
    }

    #[test]
    fn a_resumed_follower_skips_what_it_had_and_an_empty_fill_changes_nothing() {
        let mut f = Follower::new(40);
        assert!(f.fill(vec![]).is_empty());
        assert_eq!(seqs(&f.fill(vec![change(38, 30), change(41, 38)])), [41]);
        assert_eq!(f.offer(change(41, 38)), Offered::Duplicate);
    }
}
