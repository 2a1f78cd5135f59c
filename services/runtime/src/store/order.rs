//! The reorder buffer: the projection, fed in stream order from two sources, and the index of the
//! commands it has applied.
//!
//! An instance applies its own event as soon as the append is acknowledged (the acknowledgement
//! carries its sequence), so the reply is built from a state that holds it; events of other
//! instances are read from the stream. An acknowledgement may arrive before the events below it
//! are read, and acknowledgements may arrive out of order: [`Indexed`] keeps what comes early until
//! the gap below it fills, applies each sequence once whichever source brings it first, and skips
//! the sequences that hold nothing it can apply (junk, events too new, messages gone from the
//! stream) without losing the order.

use std::collections::BTreeMap;

use super::junk::Rejected;
use super::{EventMeta, Projection, StoreStats};

/// The projection plus the index of commands already applied (command id → sequence), which makes
/// a retried command idempotent for as long as the log lives, not only within JetStream's duplicate
/// window.
pub(super) struct Indexed<P: Projection> {
    pub(super) projection: P,
    pub(super) commands: crate::collections::Map<String, u64>,
    /// Events this instance appended whose acknowledgement arrived before every earlier event was
    /// applied, waiting for the gap to fill.
    pub(super) pending: BTreeMap<u64, (EventMeta, P::Event)>,
    /// Last sequence applied (mirrors [`super::progress::Progress`], under the same lock as the
    /// state).
    pub(super) applied: u64,
    /// Messages skipped as not events, by subject.
    pub(super) rejected: Rejected,
    /// Counters of what was skipped.
    pub(super) stats: StoreStats,
    /// Told of each event just before it is applied ([`super::EventStore::on_apply`]).
    pub(super) hook: Option<ApplyHook<P>>,
}

/// What [`super::EventStore::on_apply`] installs: called with the projection as it stands just
/// before the event is applied, under the state's lock.
pub(super) type ApplyHook<P> = Box<dyn Fn(&P, &EventMeta, &<P as Projection>::Event) + Send + Sync + 'static>;

impl<P: Projection> Default for Indexed<P> {
    fn default() -> Self {
        Self {
            projection: P::default(),
            commands: Default::default(),
            pending: Default::default(),
            applied: 0,
            rejected: Rejected::default(),
            stats: StoreStats::default(),
            hook: None,
        }
    }
}

impl<P: Projection> Indexed<P> {
    /// Applies the event at `seq` if it is the next one, then any pending events that follow it;
    /// keeps it for later if there is a gap; ignores it if already applied. Returns the last
    /// sequence applied.
    ///
    /// Two sources feed it: reads of the stream, in order, and this instance's own appends, applied
    /// as soon as their acknowledgement arrives so that a command's reply does not wait for its
    /// event to travel back from the server. Both carry the same event, and only the first to
    /// arrive is applied: the state is exactly the stream, applied in order.
    pub(super) fn offer(&mut self, meta: EventMeta, event: P::Event) -> u64 {
        let seq = meta.seq;
        if seq <= self.applied {
            return self.applied;
        }
        if seq > self.applied + 1 {
            self.pending.insert(seq, (meta, event));
            return self.applied;
        }
        self.apply_one(&meta, event);
        self.drain();
        self.applied
    }

    /// Skips a sequence that holds no event this service can apply (unreadable), keeping order.
    pub(super) fn skip(&mut self, seq: u64) -> u64 {
        if seq == self.applied + 1 {
            self.applied = seq;
            self.drain();
        }
        self.applied
    }

    /// Skips the message at `seq` on `subject` as not an event, remembering it for the aggregates'
    /// write conditions. Returns whether it was met for the first time (to report it once).
    pub(super) fn reject(&mut self, seq: u64, subject: &str) -> bool {
        let first = seq > self.applied && self.rejected.record(subject, seq);
        if first {
            self.stats.not_events += 1;
        }
        self.skip(seq);
        first
    }

    /// Skips an event of a newer version. Returns whether it was met for the first time.
    pub(super) fn skip_too_new(&mut self, seq: u64) -> bool {
        let first = seq > self.applied;
        if first {
            self.stats.too_new += 1;
        }
        self.skip(seq);
        first
    }

    /// Every sequence up to `through` that is not applied yet is missing from the stream (expired or
    /// deleted): skips them, except this instance's own events waiting in `pending`, which are
    /// applied in order. Returns how many sequences were skipped.
    pub(super) fn skip_missing(&mut self, through: u64) -> u64 {
        let mut missing = 0;
        while self.applied < through {
            match self.pending.first_key_value().map(|(seq, _)| *seq) {
                Some(seq) if seq <= self.applied => {
                    self.pending.pop_first();
                }
                Some(seq) if seq <= through => {
                    missing += seq - self.applied - 1;
                    if let Some((_, (meta, event))) = self.pending.pop_first() {
                        self.apply_one(&meta, event);
                    }
                }
                _ => {
                    missing += through - self.applied;
                    self.applied = through;
                }
            }
        }
        self.drain();
        self.stats.missing += missing;
        missing
    }

    /// Applies the pending events that now follow without a gap, dropping any already applied.
    fn drain(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.applied + 1 {
                break;
            }
            let (seq, (meta, event)) = entry.remove_entry();
            if seq == self.applied + 1 {
                self.apply_one(&meta, event);
            }
        }
    }

    fn apply_one(&mut self, meta: &EventMeta, event: P::Event) {
        if let Some(command_id) = &meta.command_id {
            self.commands.insert(command_id.clone(), meta.seq);
        }
        if let Some(hook) = &self.hook {
            hook(&self.projection, meta, &event);
        }
        self.projection.apply(meta, event);
        self.applied = meta.seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixture::{offer, Order};

    #[test]
    fn acknowledgements_out_of_order_are_applied_in_stream_order() {
        let mut state = Indexed::<Order>::default();
        assert_eq!(offer(&mut state, 3), 0);
        assert_eq!(offer(&mut state, 2), 0);
        assert_eq!(offer(&mut state, 1), 3);
        assert_eq!(state.projection.0, vec![1, 2, 3]);
        assert!(state.pending.is_empty());
    }

    #[test]
    fn an_event_read_and_acknowledged_is_applied_once() {
        let mut state = Indexed::<Order>::default();
        assert_eq!(offer(&mut state, 2), 0); // our acknowledgement, above a gap
        assert_eq!(offer(&mut state, 1), 2); // another instance's event, read from the stream
        assert_eq!(offer(&mut state, 2), 2); // the read goes on and meets ours again
        assert_eq!(state.projection.0, vec![1, 2]);
    }

    #[test]
    fn the_hook_hears_each_event_once_in_stream_order_before_it_is_applied() {
        use std::sync::{Arc, Mutex};
        let heard = Arc::new(Mutex::new(Vec::new()));
        let mut state = Indexed::<Order>::default();
        assert_eq!(offer(&mut state, 1), 1);
        let h = heard.clone();
        // (seq, how many events the projection held when told)
        state.hook =
            Some(Box::new(move |p: &Order, meta: &EventMeta, _| h.lock().unwrap().push((meta.seq, p.0.len()))));
        offer(&mut state, 3);
        offer(&mut state, 2);
        offer(&mut state, 3);
        assert_eq!(state.skip(4), 4);
        offer(&mut state, 5);
        assert_eq!(*heard.lock().unwrap(), vec![(2, 1), (3, 2), (5, 3)]);
    }

    #[test]
    fn an_unreadable_event_is_skipped_without_losing_the_order() {
        let mut state = Indexed::<Order>::default();
        assert_eq!(offer(&mut state, 2), 0);
        assert_eq!(state.skip(1), 2);
        assert_eq!(state.projection.0, vec![2]);
    }

    #[test]
    fn sequences_missing_from_the_stream_are_skipped_and_own_events_among_them_applied() {
        // Given a projection at 1, and this instance's own event 4 waiting for 2 and 3
        let mut state = Indexed::<Order>::default();
        assert_eq!(offer(&mut state, 1), 1);
        assert_eq!(offer(&mut state, 4), 1);
        // When a read of the stream jumps from 1 to 6 (2, 3 and 5 expired or deleted)
        assert_eq!(state.skip_missing(5), 3);
        // Then the gap is skipped, our own event applied in order, and the read goes on at 6
        assert_eq!(state.applied, 5);
        assert_eq!(offer(&mut state, 6), 6);
        assert_eq!(state.projection.0, vec![1, 4, 6]);
        assert_eq!(state.stats.missing, 3);
        assert!(state.pending.is_empty());
        // When the stream's first sequence is below what is applied, nothing moves
        assert_eq!(state.skip_missing(3), 0);
        assert_eq!(state.applied, 6);
    }

    #[test]
    fn a_stream_whose_first_messages_are_gone_is_read_from_its_first_sequence() {
        // Given an empty projection and a stream that starts at 101 (1 to 100 expired)
        let mut state = Indexed::<Order>::default();
        // When the read starts below the first sequence
        assert_eq!(state.skip_missing(100), 100);
        // Then the next message read is applied at once
        assert_eq!(offer(&mut state, 101), 101);
        assert_eq!(state.projection.0, vec![101]);
        // And a stream that holds nothing any more (first = last + 1) is caught up with at once
        let mut empty = Indexed::<Order>::default();
        assert_eq!(empty.skip_missing(40), 40);
        assert_eq!((empty.applied, empty.stats.missing), (40, 40));
    }
}
