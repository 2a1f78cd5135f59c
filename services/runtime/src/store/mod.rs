//! The event store: one JetStream stream per service, read into an in-memory projection.
//!
//! Every instance of a service applies the events of its stream, in stream order, to its
//! [`Projection`]; that projection is the only state, so a starting instance rebuilds it by reading
//! the stream from the first message. A command is decided against the projection and its event
//! appended with optimistic concurrency: `Nats-Expected-Last-Subject-Sequence` over the aggregate's
//! subject filter (`Nats-Expected-Last-Subject-Sequence-Subject`, nats-server ≥ 2.11), and the
//! command id as `Nats-Msg-Id`. If another instance wrote first, the command is decided again on the
//! fresh state.
//!
//! An instance applies its own event as soon as the append is acknowledged (the acknowledgement
//! carries its sequence; a reorder buffer keeps stream order), so the reply is built from a state
//! that holds it and a client reads its own writes. Events of other instances are read from the
//! stream: when an acknowledgement reveals a gap below it, when a decision or a query needs the
//! latest state, and every 50 ms otherwise. The server never sends an instance back its own events.
//! Each catch-up asks the server for the stream's bounds once (one `STREAM.INFO`), then reads what is
//! missing with an ordered consumer.
//!
//! # Messages that are not events
//! A message in the stream that is not a well-formed event of this service is skipped by the
//! projection, reported once and counted ([`EventStore::stats`]); since the server still counts it in
//! an append's condition, [`EventStore::execute`] raises the condition over such messages on the
//! aggregate's subjects (see [`subject_matches`]), so junk never freezes an aggregate. An event of a
//! newer version is skipped too, but still holds the aggregate back.
//!
//! # Replay
//! The projection reads the stream from its first sequence. A sequence the stream no longer holds
//! (expired or deleted before this instance read it) is skipped with a warning, so a replay never
//! waits for a message that will not come; a long replay logs its progress every 2 s, and one that
//! stalls or takes too long fails saying how far it got.
//!
//! # Layout
//! - `mod.rs`: [`EventStore`]: opening, reading the projection, queries, catch-up and the watch.
//! - `types.rs`: the vocabulary ([`EventMeta`], [`Projection`], [`Decision`], [`Append`], [`Expect`],
//!   [`CommandMeta`], [`AppendError`], [`StoreStats`]).
//! - `order.rs`: the reorder buffer that feeds the projection in stream order, and the command index.
//! - `progress.rs`: how far the projection has applied the stream, and the tasks waiting for it.
//! - `junk.rs`: messages that are not events, and the write conditions they would freeze.
//! - `read.rs`: reading a range of the stream into the projection.
//! - `bulk.rs`: appending many independent events at once, acknowledged in bulk.
//! - `append.rs`: deciding, appending with optimistic concurrency, and what a refused publish means.
//!
//! Reading the streams as they are, message by message (the audit trail), is [`crate::log`].

mod append;
mod bulk;
mod junk;
mod order;
mod progress;
mod read;
mod types;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use hoinghi_shared::streams::StreamDef;
use hoinghi_shared::ApiError;
use tracing::{debug, info, warn};

pub use self::junk::subject_matches;
use self::order::Indexed;
use self::progress::Progress;
pub use self::types::{Append, AppendError, CommandMeta, Decision, EventMeta, Expect, Projection, StoreStats};
use crate::log::Log;

/// The store of one service.
pub struct EventStore<P: Projection> {
    js: jetstream::Context,
    def: StreamDef,
    state: Arc<RwLock<Indexed<P>>>,
    applied: Arc<Progress>,
    apply_timeout: Duration,
    /// One reader of the stream at a time.
    reader: Arc<tokio::sync::Mutex<()>>,
    /// Whether a check for a gap below this instance's own events is already scheduled.
    gap_check: Arc<std::sync::atomic::AtomicBool>,
}

impl<P: Projection> Clone for EventStore<P> {
    fn clone(&self) -> Self {
        Self {
            js: self.js.clone(),
            def: self.def,
            state: self.state.clone(),
            applied: self.applied.clone(),
            apply_timeout: self.apply_timeout,
            reader: self.reader.clone(),
            gap_check: self.gap_check.clone(),
        }
    }
}

impl<P: Projection> EventStore<P> {
    /// Opens the store: follows the stream from its first message and returns once the projection
    /// has caught up with everything the stream held at open time (sequences the stream no longer
    /// holds are skipped with a warning; progress is logged every 2 s).
    ///
    /// # Errors
    /// The stream cannot be opened, or catching up stalled or took longer than `catch_up_timeout`
    /// (the error says which sequence it reached of which).
    pub async fn open(
        js: jetstream::Context,
        def: StreamDef,
        apply_timeout: Duration,
        catch_up_timeout: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<Self> {
        let started = Instant::now();
        let stream =
            js.get_stream(def.name).await.map_err(|e| anyhow::anyhow!("stream {} not found: {e}", def.name))?;
        let held = &stream.cached_info().state;
        let (first, last, messages) = (held.first_sequence, held.last_sequence, held.messages);
        info!(stream = def.name, first, last, messages, "replaying the event log");
        let state = Arc::new(RwLock::new(Indexed::<P>::default()));
        let applied = Arc::new(Progress::default());
        let store = Self { js, def, state, applied, apply_timeout, reader: Arc::default(), gap_check: Arc::default() };
        store.read_to(Some(first), last, catch_up_timeout).await.map_err(|e| {
            anyhow::anyhow!(
                "replaying {} (sequences {first} to {last}, {messages} messages) failed: {}",
                def.name,
                e.message
            )
        })?;
        tokio::spawn(store.clone().watch(shutdown));
        let stats = store.stats();
        info!(
            stream = def.name,
            last,
            messages,
            not_events = stats.not_events,
            too_new = stats.too_new,
            missing = stats.missing,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "state rebuilt from the event log"
        );
        Ok(store)
    }

    /// The event log as it is, message by message, read through the connection the store writes
    /// through (for queries that must show the streams themselves, such as an audit trail).
    pub fn log(&self) -> Log {
        Log::new(self.js.clone())
    }

    /// Tells `hook` of every event this instance applies from now on (not those applied before:
    /// install it after [`Self::open`] to skip the replay), exactly once per stream sequence and in
    /// stream order, whichever source brought the event (this instance's append or a read of the
    /// stream), with the projection as it stands just before the event is applied. It runs under
    /// the state's write lock: keep it short (clone what it needs and hand it to a channel). Replaces
    /// any hook installed before. (The attendance service publishes the boards' live feed with it.)
    pub fn on_apply(&self, hook: impl Fn(&P, &EventMeta, &P::Event) + Send + Sync + 'static) {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        guard.hook = Some(Box::new(hook));
    }

    /// Reads the projection.
    pub fn read<R>(&self, f: impl FnOnce(&P) -> R) -> R {
        // A poisoned lock means an `apply` panicked; the state it left is still the best we have.
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        f(&guard.projection)
    }

    /// Fills in the projection what an applied event references but does not carry: a record
    /// stored out of line ([`crate::records`]), read back and checked against the reference. `f`
    /// must only set what the events already determine (content-addressed, so every instance fills
    /// in the same), never decide anything; it runs under the state's write lock.
    pub fn fill<R>(&self, f: impl FnOnce(&mut P) -> R) -> R {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        f(&mut guard.projection)
    }

    /// The sequence of the event a command produced, if it has been applied.
    pub fn command_seq(&self, command_id: &str) -> Option<u64> {
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        guard.commands.get(command_id).copied()
    }

    /// Whether the event at `seq` is applied, or is this instance's own and waiting for a gap below
    /// it to fill.
    fn is_pending_or_applied(&self, seq: u64) -> bool {
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        guard.applied >= seq || guard.pending.contains_key(&seq)
    }

    /// Sequence of the last event applied.
    pub fn applied_seq(&self) -> u64 {
        self.applied.applied()
    }

    /// What the projection skipped so far: messages that are not events, events too new to read,
    /// sequences missing from the stream.
    pub fn stats(&self) -> StoreStats {
        self.state.read().unwrap_or_else(|e| e.into_inner()).stats
    }

    /// How many messages of the stream were skipped as not events of this service.
    pub fn rejected_count(&self) -> u64 {
        self.stats().not_events
    }

    /// Waits until the projection has applied `seq`.
    ///
    /// # Errors
    /// `unavailable` after the apply timeout.
    pub async fn wait_applied(&self, seq: u64) -> Result<(), ApiError> {
        if self.applied.wait(seq, self.apply_timeout).await {
            Ok(())
        } else {
            Err(ApiError::unavailable(
                "the change was written but this service has not caught up with its event log yet; \
                 read it back in a moment",
            ))
        }
    }

    /// Waits until the projection has applied everything the stream holds now.
    ///
    /// # Errors
    /// `unavailable` if the stream cannot be asked or the projection does not catch up in time.
    pub async fn catch_up(&self) -> Result<(), ApiError> {
        // One STREAM.INFO: the first and last sequences come with the stream handle.
        let stream = self
            .js
            .get_stream(self.def.name)
            .await
            .map_err(|e| ApiError::unavailable(format!("event log unavailable: {e}")))?;
        let held = &stream.cached_info().state;
        self.read_to(Some(held.first_sequence), held.last_sequence, self.apply_timeout).await
    }

    /// Reads the stream until the projection has applied `target`: the events of other instances,
    /// and any of this instance's whose acknowledgement has not arrived yet (applied once; the
    /// acknowledgement then finds them applied). `first`, when known, is the stream's first
    /// sequence: everything below it is gone and skipped.
    ///
    /// # Errors
    /// `unavailable` when the stream cannot be read within `timeout`, saying how far it got.
    async fn read_to(&self, first: Option<u64>, target: u64, timeout: Duration) -> Result<(), ApiError> {
        if self.applied.applied() >= target {
            return Ok(());
        }
        let _reader = self.reader.lock().await;
        if let Some(first) = first {
            self.skip_below(first.min(target.saturating_add(1)));
        }
        let start = self.applied.applied() + 1;
        if start > target {
            return Ok(());
        }
        let read = read::read_range::<P>(&self.js, self.def, &self.state, &self.applied, start, target);
        let outcome = tokio::time::timeout(timeout, read).await;
        let reached = self.applied.applied();
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::unavailable(format!(
                "the event log {} could not be read: {e} (read from {start}, reached {reached} of {target})",
                self.def.name
            ))),
            Err(_) => Err(ApiError::unavailable(format!(
                "reading the event log {} from {start} up to {target} took longer than {timeout:?}: it reached {reached}",
                self.def.name
            ))),
        }
    }

    /// Skips every sequence below `first`, the stream's first: the messages there are gone.
    fn skip_below(&self, first: u64) {
        let (missing, now) = {
            let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
            if first <= guard.applied + 1 {
                return;
            }
            let missing = guard.skip_missing(first - 1);
            (missing, guard.applied)
        };
        self.applied.advance(now);
        if missing > 0 {
            warn!(
                stream = self.def.name,
                first,
                missing,
                "the stream no longer holds the messages below its first sequence (expired or deleted); skipped"
            );
        }
    }

    /// Keeps the projection up with events written by other instances: asks the stream for its last
    /// sequence every 50 ms and reads what this instance has not applied. (This instance's own events
    /// are applied when their append is acknowledged, so the server does not send them back.)
    async fn watch(self, shutdown: tokio_util::sync::CancellationToken) {
        let mut ticker = tokio::time::interval(Duration::from_millis(50));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(e) = self.catch_up().await {
                debug!(stream = self.def.name, error = %e.message, "could not catch up with the event log; retrying");
            }
        }
    }

    /// After an acknowledgement left a gap below this instance's event (another instance's event,
    /// or one of ours whose acknowledgement is still on its way), waits a moment for our own
    /// acknowledgements, then reads whatever is still missing from the stream.
    fn fill_gap_soon(&self) {
        use std::sync::atomic::Ordering;
        if self.gap_check.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            store.gap_check.store(false, Ordering::Release);
            let highest_pending = {
                let guard = store.state.read().unwrap_or_else(|e| e.into_inner());
                guard.pending.last_key_value().map(|(seq, _)| *seq)
            };
            if let Some(seq) = highest_pending {
                if let Err(e) = store.read_to(None, seq.saturating_sub(1), store.apply_timeout).await {
                    warn!(stream = store.def.name, error = %e.message, "could not fill a gap in the event log");
                }
            }
        });
    }

    /// Answers a query from the state once it has caught up with the stream, so a client reads
    /// what it wrote through any instance.
    ///
    /// # Errors
    /// Whatever `query` returns; `unavailable` if the stream cannot be read.
    pub async fn query<T>(&self, query: impl Fn(&P) -> Result<T, ApiError>) -> Result<T, ApiError> {
        self.catch_up().await?;
        self.read(&query)
    }
}

/// What the tests of the store's parts share.
#[cfg(test)]
mod fixture {
    use hoinghi_shared::events::{EventEnvelope, SchedulingEvent};

    use super::order::Indexed;
    use super::{EventMeta, Expect, Projection};

    /// A projection that records the order in which events were applied.
    #[derive(Default)]
    pub(super) struct Order(pub(super) Vec<u64>);

    impl Projection for Order {
        type Event = SchedulingEvent;
        fn apply(&mut self, meta: &EventMeta, _event: SchedulingEvent) {
            self.0.push(meta.seq);
        }
    }

    /// Offers an event at `seq` as if read or acknowledged.
    pub(super) fn offer(state: &mut Indexed<Order>, seq: u64) -> u64 {
        let meta = EventMeta::of(seq, "s".into(), EventEnvelope::head(&SchedulingEvent::SessionStarted {}, "test"));
        state.offer(meta, SchedulingEvent::SessionStarted {})
    }

    /// An append condition.
    pub(super) fn expect(filter: &str, last_seq: u64) -> Expect {
        Expect { filter: filter.to_owned(), last_seq }
    }
}
