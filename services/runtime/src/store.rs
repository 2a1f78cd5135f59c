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
//!
//! # Messages that are not events
//! A message in the stream that is not a well-formed event of this service (not an envelope, an
//! envelope whose type is not the last token of its subject, a payload that does not decode as its
//! type) is skipped by the projection, reported once with an `ERROR` line
//! and counted ([`EventStore::stats`]). The server still counts it when it checks an append's
//! condition (`Nats-Expected-Last-Subject-Sequence` is about the last message of any kind on the
//! filter), while the aggregates, which never applied it, do not: so the store remembers the
//! highest such sequence per subject and [`EventStore::execute`] raises a condition to it when it
//! lies on the aggregate's filter (see [`subject_matches`]). Junk therefore never freezes an
//! aggregate. (An event of a newer version, or of a type this version does not know, is skipped too,
//! but is not junk: during a rolling upgrade it is a newer instance's event, so it still holds the
//! aggregate back on this instance, which cannot know what it changed.)
//!
//! # Replay
//! The projection reads the stream from its first sequence. A sequence the stream no longer holds
//! (expired or deleted before this instance read it) is skipped with a warning, so a replay never
//! waits for a message that will not come; a long replay logs its progress every 2 s, and one that
//! stalls or takes too long fails saying how far it got.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, context::PublishErrorKind};
use async_nats::HeaderMap;
use futures::StreamExt;
use hoinghi_shared::events::{DecodeError, DomainEvent, EventEnvelope};
use hoinghi_shared::streams::StreamDef;
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode, SiteId};
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};
use uuid::Uuid;

use crate::telemetry::TraceContext;

/// What an applied event knows about where it came from.
#[derive(Debug, Clone)]
pub struct EventMeta {
    /// Stream sequence.
    pub seq: u64,
    /// The subject it was published on.
    pub subject: String,
    /// The envelope, without its payload.
    pub id: Uuid,
    /// Conference it is about.
    pub conference_id: Option<ConferenceId>,
    /// Site it is about.
    pub site_id: Option<SiteId>,
    /// When it happened.
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// Who caused it.
    pub actor: String,
    /// The command that produced it.
    pub command_id: Option<String>,
}

impl EventMeta {
    /// The metadata of the event at `seq` on `subject`, from its envelope.
    fn of(seq: u64, subject: String, envelope: EventEnvelope) -> Self {
        Self {
            seq,
            subject,
            id: envelope.id,
            conference_id: envelope.conference_id,
            site_id: envelope.site_id,
            occurred_at: envelope.occurred_at,
            actor: envelope.actor,
            command_id: envelope.command_id,
        }
    }
}

/// A service's state, built only by applying its events in stream order.
pub trait Projection: Default + Send + Sync + 'static {
    /// The service's events.
    type Event: DomainEvent + Clone + Send + Sync;

    /// Applies one event. Never fails: every rule was checked when the event was decided.
    fn apply(&mut self, meta: &EventMeta, event: Self::Event);
}

/// The optimistic-concurrency condition of an append: the last sequence the decider saw on the
/// aggregate's subject filter (0 for an aggregate with no events yet).
#[derive(Debug, Clone)]
pub struct Expect {
    /// Subject filter covering every event of the aggregate.
    pub filter: String,
    /// Last stream sequence among them, as the decider saw it.
    pub last_seq: u64,
}

/// Whether `subject` matches the NATS subject `filter`: tokens are separated by `.`, `*` matches
/// exactly one token and `>` (only as the last token) one or more.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut filter = filter.split('.');
    let mut subject = subject.split('.');
    loop {
        match (filter.next(), subject.next()) {
            (Some(">"), Some(token)) => return !token.is_empty() && filter.next().is_none(),
            (Some("*"), Some(token)) if !token.is_empty() => {}
            (Some(f), Some(token)) if f == token && !f.is_empty() && f != "*" && f != ">" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct Append<E> {
    /// Subject, ending with the event type.
    pub subject: String,
    /// Concurrency condition.
    pub expect: Expect,
    /// The event.
    pub event: E,
    /// Conference it is about.
    pub conference_id: Option<ConferenceId>,
    /// Site it is about.
    pub site_id: Option<SiteId>,
}

/// What a command decided.
#[derive(Debug, Clone)]
pub enum Decision<E> {
    /// Nothing to change (the command repeats the current state).
    Unchanged,
    /// Append this event.
    Append(Append<E>),
}

/// Who sent a command, and how to recognise it when it comes again.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    /// Idempotency key, unique per command (becomes `Nats-Msg-Id`).
    pub command_id: String,
    /// The acting identity.
    pub actor: String,
    /// Trace context to write on the event.
    pub trace: TraceContext,
    /// The event this command reacts to, if any.
    pub causation_id: Option<Uuid>,
}

/// Why an append failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Someone else appended to the aggregate since it was read.
    #[error("the aggregate changed since it was read")]
    Conflict,
    /// Too big for the server.
    #[error("event too large for the server's max_payload")]
    TooLarge,
    /// The log could not be reached.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
}

/// What the projection met in its stream besides the events it applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Messages that are not events of this service (skipped, reported once each, and counted in the
    /// aggregates' write conditions so that they freeze nothing).
    pub not_events: u64,
    /// Events of a newer version than this one reads (skipped).
    pub too_new: u64,
    /// Sequences the stream no longer held when they were read (expired or deleted; skipped).
    pub missing: u64,
}

/// The messages skipped as not events: the highest such sequence on each subject (bounded by the
/// number of subjects that ever carried one).
#[derive(Debug, Default)]
struct Rejected {
    last_by_subject: crate::collections::Map<String, u64>,
}

impl Rejected {
    /// Remembers a message skipped at `seq` on `subject`; false if it was known already.
    fn record(&mut self, subject: &str, seq: u64) -> bool {
        match self.last_by_subject.get_mut(subject) {
            Some(last) if *last >= seq => false,
            Some(last) => {
                *last = seq;
                true
            }
            None => {
                self.last_by_subject.insert(subject.to_owned(), seq);
                true
            }
        }
    }

    /// The last sequence the server will see on `expect.filter`, for a decision taken on a state
    /// that has applied (or skipped) everything up to `seen`: the decider's own `last_seq`, raised
    /// to the highest skipped message on a matching subject that is at or below `seen`.
    ///
    /// Junk above `seen` is left out (the decision did not see it; the append then conflicts and is
    /// decided again on a fresher state). Junk at or below `seen` above `last_seq` is counted: every
    /// event on the filter up to `seen` was applied and is in `last_seq`, so the last message on
    /// the filter up to `seen` is the higher of the two.
    fn raise(&self, expect: &Expect, seen: u64) -> u64 {
        self.last_by_subject
            .iter()
            .filter(|(_, &seq)| seq > expect.last_seq && seq <= seen)
            .filter(|(subject, _)| subject_matches(&expect.filter, subject))
            .map(|(_, &seq)| seq)
            .fold(expect.last_seq, u64::max)
    }
}

/// How far the projection has applied the stream, and who is waiting for which sequence.
///
/// Each waiter is woken once, when its sequence is applied (not on every event, which under a storm
/// of thousands of requests in flight would cost millions of wake-ups).
#[derive(Default)]
struct Progress {
    applied: std::sync::atomic::AtomicU64,
    waiters: std::sync::Mutex<std::collections::BTreeMap<u64, Vec<oneshot::Sender<()>>>>,
}

impl Progress {
    fn applied(&self) -> u64 {
        self.applied.load(std::sync::atomic::Ordering::Acquire)
    }

    fn advance(&self, seq: u64) {
        // Callers report after releasing the state's lock, so reports may arrive out of order:
        // the sequence only ever moves forward.
        let seq = self.applied.fetch_max(seq, std::sync::atomic::Ordering::AcqRel).max(seq);
        let ready = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            match waiters.first_key_value() {
                Some((first, _)) if *first <= seq => {
                    let later = waiters.split_off(&(seq + 1));
                    std::mem::replace(&mut *waiters, later)
                }
                _ => return,
            }
        };
        for sender in ready.into_values().flatten() {
            let _ = sender.send(());
        }
    }

    async fn wait(&self, seq: u64, timeout: Duration) -> bool {
        let receiver = {
            let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if self.applied() >= seq {
                return true;
            }
            let (sender, receiver) = oneshot::channel();
            waiters.entry(seq).or_default().push(sender);
            receiver
        };
        matches!(tokio::time::timeout(timeout, receiver).await, Ok(Ok(())))
    }
}

/// The projection plus the index of commands already applied (command id → sequence), which makes
/// a retried command idempotent for as long as the log lives, not only within JetStream's duplicate
/// window.
struct Indexed<P: Projection> {
    projection: P,
    commands: crate::collections::Map<String, u64>,
    /// Events this instance appended whose acknowledgement arrived before every earlier event was
    /// applied, waiting for the gap to fill.
    pending: std::collections::BTreeMap<u64, (EventMeta, P::Event)>,
    /// Last sequence applied (mirrors [`Progress`], under the same lock as the state).
    applied: u64,
    /// Messages skipped as not events, by subject.
    rejected: Rejected,
    /// Counters of what was skipped.
    stats: StoreStats,
}

impl<P: Projection> Default for Indexed<P> {
    fn default() -> Self {
        Self {
            projection: P::default(),
            commands: Default::default(),
            pending: Default::default(),
            applied: 0,
            rejected: Rejected::default(),
            stats: StoreStats::default(),
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
    fn offer(&mut self, meta: EventMeta, event: P::Event) -> u64 {
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
    fn skip(&mut self, seq: u64) -> u64 {
        if seq == self.applied + 1 {
            self.applied = seq;
            self.drain();
        }
        self.applied
    }

    /// Skips the message at `seq` on `subject` as not an event, remembering it for the aggregates'
    /// write conditions. Returns whether it was met for the first time (to report it once).
    fn reject(&mut self, seq: u64, subject: &str) -> bool {
        let first = seq > self.applied && self.rejected.record(subject, seq);
        if first {
            self.stats.not_events += 1;
        }
        self.skip(seq);
        first
    }

    /// Skips an event of a newer version. Returns whether it was met for the first time.
    fn skip_too_new(&mut self, seq: u64) -> bool {
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
    fn skip_missing(&mut self, through: u64) -> u64 {
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
        self.projection.apply(meta, event);
        self.applied = meta.seq;
    }
}

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

    /// The JetStream context the store writes through (for queries that read the log itself, such
    /// as an audit trail).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Reads the projection.
    pub fn read<R>(&self, f: impl FnOnce(&P) -> R) -> R {
        // A poisoned lock means an `apply` panicked; the state it left is still the best we have.
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        f(&guard.projection)
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
        let read = read_range::<P>(&self.js, self.def, &self.state, &self.applied, start, target);
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

    /// Appends one event, returning its stream sequence (the original's, for a duplicate command).
    ///
    /// The condition is sent as given: [`Self::execute`] has already raised it over messages of the
    /// aggregate's subjects that are not events (see the module documentation).
    ///
    /// # Errors
    /// [`AppendError`].
    pub async fn append(&self, append: Append<P::Event>, meta: &CommandMeta) -> Result<u64, AppendError> {
        let mut envelope = EventEnvelope::head(&append.event, meta.actor.clone());
        envelope.conference_id = append.conference_id;
        envelope.site_id = append.site_id;
        envelope.command_id = Some(meta.command_id.clone());
        envelope.causation_id = meta.causation_id;
        envelope.trace_id = Some(meta.trace.trace_id.clone());
        let payload = envelope.encode_with(&append.event).map_err(|e| AppendError::Unavailable(e.to_string()))?;

        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", meta.command_id.as_str());
        headers.insert("Nats-Expected-Last-Subject-Sequence", append.expect.last_seq.to_string().as_str());
        headers.insert("Nats-Expected-Last-Subject-Sequence-Subject", append.expect.filter.as_str());
        meta.trace.child().inject(&mut headers);

        let ack = self
            .js
            .publish_with_headers(append.subject.clone(), headers, payload.into())
            .await
            .map_err(map_publish_error)?
            .await
            .map_err(map_publish_error)?;
        if ack.duplicate {
            debug!(seq = ack.sequence, command_id = %meta.command_id, "duplicate command: the original event stands");
        } else {
            let local = EventMeta::of(ack.sequence, append.subject.clone(), envelope);
            let applied = {
                let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
                guard.offer(local, append.event)
            };
            self.applied.advance(applied);
            if applied < ack.sequence {
                self.fill_gap_soon();
            }
        }
        Ok(ack.sequence)
    }

    /// Runs `decide` on the current state and, under the same lock, raises an append's condition over
    /// the messages skipped as not events on the aggregate's subjects, up to what that state has
    /// read ([`Rejected::raise`]).
    fn decide(
        &self,
        decide: &impl Fn(&P) -> Result<Decision<P::Event>, ApiError>,
    ) -> Result<Decision<P::Event>, ApiError> {
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        let mut decision = decide(&guard.projection);
        if let Ok(Decision::Append(append)) = &mut decision {
            let raised = guard.rejected.raise(&append.expect, guard.applied);
            if raised != append.expect.last_seq {
                debug!(
                    filter = %append.expect.filter,
                    from = append.expect.last_seq,
                    to = raised,
                    "the aggregate's subjects hold messages that are not events: counting them in the condition"
                );
                append.expect.last_seq = raised;
            }
        }
        decision
    }

    /// Decides a command against the current state, appends its event, waits until it is applied and
    /// builds the reply from the state then. Lost races are decided again, up to a few times.
    ///
    /// `view` gets the sequence of the appended event (`None` when nothing changed).
    ///
    /// # Errors
    /// Whatever `decide` or `view` return, `conflict` after repeated lost races, `unavailable` when
    /// the log cannot be reached.
    pub async fn execute<T>(
        &self,
        meta: &CommandMeta,
        decide: impl Fn(&P) -> Result<Decision<P::Event>, ApiError>,
        view: impl Fn(&P, Option<u64>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        const ATTEMPTS: usize = 12;
        if let Some(seq) = self.command_seq(&meta.command_id) {
            debug!(seq, command_id = %meta.command_id, "command seen before: answering from its effect");
            return self.read(|s| view(s, Some(seq)));
        }
        // This instance's state may lag behind another instance's writes. A refusal or a "nothing
        // to do" decided on stale state would be wrong, so those are decided again once caught up
        // with the stream; an append decided on stale state fails its sequence check instead.
        let mut caught_up = false;
        for attempt in 1..=ATTEMPTS {
            let decision = self.decide(&decide);
            let stale_suspect = match &decision {
                Ok(Decision::Unchanged) => true,
                Ok(Decision::Append(_)) => false,
                Err(e) => matches!(e.code, ErrorCode::NotFound | ErrorCode::Conflict | ErrorCode::Forbidden),
            };
            if stale_suspect && !caught_up {
                self.catch_up().await?;
                caught_up = true;
                continue;
            }
            let decision = decision?;
            let append = match decision {
                Decision::Unchanged => return self.read(|s| view(s, None)),
                Decision::Append(append) => append,
            };
            let subject = append.subject.clone();
            match self.append(append, meta).await {
                Ok(seq) => {
                    if self.is_pending_or_applied(seq) {
                        self.wait_applied(seq).await?;
                    } else {
                        // A duplicate command: the original event may be another instance's.
                        self.read_to(None, seq, self.apply_timeout).await?;
                    }
                    return self.read(|s| view(s, Some(seq)));
                }
                Err(AppendError::Conflict) => {
                    debug!(attempt, %subject, "lost a race on the aggregate; deciding again");
                    // A short random pause spreads out writers racing for the same aggregate, so they
                    // do not collide again on the next attempt.
                    let jitter_us = (Uuid::new_v4().as_u128() % 1_000) as u64 * attempt as u64;
                    tokio::time::sleep(Duration::from_micros(jitter_us)).await;
                    self.catch_up().await?;
                }
                Err(AppendError::TooLarge) => {
                    return Err(ApiError::invalid(
                        "the change is larger than the server accepts in one message (max_payload)",
                    ))
                }
                Err(AppendError::Unavailable(reason)) => {
                    warn!(%reason, "append failed");
                    return Err(ApiError::unavailable(format!("the event log is unavailable ({reason}); try again")));
                }
            }
        }
        Err(ApiError::conflict("too many concurrent changes to the same record; try again"))
    }
}

fn map_publish_error(e: async_nats::jetstream::context::PublishError) -> AppendError {
    match e.kind() {
        PublishErrorKind::WrongLastSequence => AppendError::Conflict,
        PublishErrorKind::MaxPayloadExceeded => AppendError::TooLarge,
        _ => {
            // The server reports a wrong subject sequence as an API error (code 10071).
            let text = e.to_string();
            if text.contains("wrong last sequence") || text.contains("10071") {
                AppendError::Conflict
            } else {
                AppendError::Unavailable(text)
            }
        }
    }
}

/// How often a long read of the stream reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How long a read of the stream waits for its next message before it gives up (the server holds
/// every sequence it reads up to, or the read would have skipped it).
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Gaps in the stream logged one by one in a read; beyond, only the total.
const GAPS_LOGGED: u64 = 10;

/// Reads the stream from `start` with an ordered consumer until `target` is applied.
///
/// An ordered consumer delivers every message the stream holds, in order: a jump in the stream
/// sequence between two deliveries (or before the first) means the sequences in between are gone
/// (expired or deleted), and they are skipped; so is everything up to `target` once the server says
/// no message is left after the one delivered.
async fn read_range<P: Projection>(
    js: &jetstream::Context,
    def: StreamDef,
    state: &Arc<RwLock<Indexed<P>>>,
    applied: &Progress,
    start: u64,
    target: u64,
) -> anyhow::Result<()> {
    let stream = js.get_stream_no_info(def.name).await?;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: start },
            ..Default::default()
        })
        .await?;
    let name = consumer.cached_info().name.clone();
    let held = consumer.cached_info().num_pending;
    let skip_missing = |through: u64| {
        let (missing, now) = {
            let mut guard = state.write().unwrap_or_else(|e| e.into_inner());
            let missing = guard.skip_missing(through);
            (missing, guard.applied)
        };
        applied.advance(now);
        missing
    };
    let mut result = Ok(());
    let (mut gaps, mut missing) = (0u64, 0u64);
    if held == 0 {
        // Nothing at or after `start`, though the stream's last sequence is at least `target`.
        missing += skip_missing(target);
        gaps += 1;
    } else {
        let mut messages = consumer.messages().await?;
        let started = Instant::now();
        let mut reported = started;
        let from = applied.applied();
        let mut expected = start;
        while applied.applied() < target {
            let message = match tokio::time::timeout(STALL_TIMEOUT, messages.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(e))) => {
                    result = Err(anyhow::anyhow!("{e}"));
                    break;
                }
                Ok(None) => break,
                Err(_) => {
                    result = Err(anyhow::anyhow!(
                        "no message came from the stream for {STALL_TIMEOUT:?} while expecting sequence {expected}"
                    ));
                    break;
                }
            };
            let (seq, left) = match message.info() {
                Ok(info) => (info.stream_sequence, info.pending),
                Err(e) => {
                    result = Err(anyhow::anyhow!("{e}"));
                    break;
                }
            };
            if seq > expected {
                let skipped = skip_missing(seq - 1);
                if skipped > 0 {
                    gaps += 1;
                    missing += skipped;
                    if gaps <= GAPS_LOGGED {
                        warn!(
                            stream = def.name,
                            from = expected,
                            to = seq - 1,
                            "sequences missing from the stream (expired or deleted); skipped"
                        );
                    }
                }
            }
            expected = seq + 1;
            if seq > applied.applied() {
                let now = apply_message::<P>(state, def.name, seq, message.subject.as_str(), &message.payload);
                applied.advance(now);
            }
            if left == 0 && applied.applied() < target {
                // The stream holds nothing after `seq`: the rest up to `target` is gone.
                let skipped = skip_missing(target);
                if skipped > 0 {
                    gaps += 1;
                    missing += skipped;
                }
            }
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                let done = applied.applied();
                let rate = done.saturating_sub(from) as f64 / started.elapsed().as_secs_f64().max(0.001);
                info!(
                    stream = def.name,
                    applied = done,
                    last = target,
                    events_per_second = rate as u64,
                    elapsed_s = started.elapsed().as_secs(),
                    "replaying the event log"
                );
            }
        }
    }
    if missing > 0 {
        warn!(
            stream = def.name,
            gaps,
            missing,
            up_to = target,
            "the stream no longer holds some sequences (expired or deleted); they were skipped"
        );
    }
    // The consumer was only for this read: remove it rather than leave the server tracking it
    // until it expires.
    if let Err(e) = stream.delete_consumer(&name).await {
        debug!(stream = def.name, consumer = %name, error = %e, "could not delete a finished reader");
    }
    result
}

/// What one message of the stream holds.
enum Read<E> {
    /// An event of the service.
    Event(Box<(EventMeta, E)>),
    /// Not an event of the service: why.
    NotAnEvent(String),
    /// An event of a newer version than this one reads: why.
    TooNew(String),
}

/// Reads one message of the stream as an event of `E`.
fn read_event<E: DomainEvent>(seq: u64, subject: &str, payload: &[u8]) -> Read<E> {
    let envelope = match EventEnvelope::from_slice(payload) {
        Ok(envelope) => envelope,
        Err(e) => return Read::NotAnEvent(e.to_string()),
    };
    let token = subject.rsplit('.').next().unwrap_or_default();
    if envelope.event_type != token {
        return Read::NotAnEvent(format!(
            "its envelope's type {:?} is not its subject's last token {token:?}",
            envelope.event_type
        ));
    }
    match envelope.decode::<E>() {
        Ok(event) => Read::Event(Box::new((EventMeta::of(seq, subject.to_owned(), envelope), event))),
        // A well-formed envelope of a type or version this instance does not know is most likely
        // a newer version's event during a rolling upgrade: held back, not written past.
        Err(e @ (DecodeError::TooNew { .. } | DecodeError::UnknownType(_))) => Read::TooNew(e.to_string()),
        Err(e) => Read::NotAnEvent(e.to_string()),
    }
}

/// Applies one message read from the stream; returns the last sequence applied. A message that is
/// not an event, or an event too new to read, is skipped and reported (once).
fn apply_message<P: Projection>(
    state: &RwLock<Indexed<P>>,
    stream: &str,
    seq: u64,
    subject: &str,
    payload: &[u8],
) -> u64 {
    let read = read_event::<P::Event>(seq, subject, payload);
    let (applied, report) = {
        let mut guard = state.write().unwrap_or_else(|e| e.into_inner());
        match read {
            Read::Event(event) => {
                let (meta, event) = *event;
                (guard.offer(meta, event), None)
            }
            Read::NotAnEvent(reason) => {
                let first = guard.reject(seq, subject);
                (guard.applied, first.then_some((true, reason)))
            }
            Read::TooNew(reason) => {
                let first = guard.skip_too_new(seq);
                (guard.applied, first.then_some((false, reason)))
            }
        }
    };
    match report {
        Some((true, reason)) => error!(
            stream,
            seq,
            subject,
            reason = %reason,
            "a message in the service's own stream is not an event: skipped, and counted in the write conditions \
             of the aggregates on its subject so that it freezes nothing"
        ),
        Some((false, reason)) => {
            error!(stream, seq, subject, error = %reason, "skipping an event this version cannot read");
        }
        None => {}
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoinghi_shared::events::SchedulingEvent;

    /// A projection that records the order in which events were applied.
    #[derive(Default)]
    struct Order(Vec<u64>);

    impl Projection for Order {
        type Event = SchedulingEvent;
        fn apply(&mut self, meta: &EventMeta, _event: SchedulingEvent) {
            self.0.push(meta.seq);
        }
    }

    fn meta(seq: u64) -> EventMeta {
        EventMeta::of(seq, "s".into(), EventEnvelope::head(&SchedulingEvent::SessionStarted {}, "test"))
    }

    fn offer(state: &mut Indexed<Order>, seq: u64) -> u64 {
        state.offer(meta(seq), SchedulingEvent::SessionStarted {})
    }

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
    fn an_unreadable_event_is_skipped_without_losing_the_order() {
        let mut state = Indexed::<Order>::default();
        assert_eq!(offer(&mut state, 2), 0);
        assert_eq!(state.skip(1), 2);
        assert_eq!(state.projection.0, vec![2]);
    }

    #[test]
    fn subjects_match_filters_token_by_token() {
        let c = "hoinghi.v1.events.scheduling.C";
        for (filter, subject, expected) in [
            ("hoinghi.v1.events.scheduling.C.*", format!("{c}.session_started"), true),
            ("hoinghi.v1.events.scheduling.C.*", format!("{c}.site.session_started"), false),
            ("hoinghi.v1.events.scheduling.C.*", "hoinghi.v1.events.scheduling.C".to_owned(), false),
            ("hoinghi.v1.events.scheduling.C.*", "hoinghi.v1.events.scheduling.D.session_started".to_owned(), false),
            ("hoinghi.v1.events.attendance.C.>", "hoinghi.v1.events.attendance.C.roster_closed".to_owned(), true),
            (
                "hoinghi.v1.events.attendance.C.>",
                "hoinghi.v1.events.attendance.C.ba-be.site_confirmed".to_owned(),
                true,
            ),
            ("hoinghi.v1.events.attendance.C.>", "hoinghi.v1.events.attendance.C".to_owned(), false),
            ("hoinghi.v1.events.*.C.*", format!("{c}.session_started"), true),
            ("hoinghi.v1.events.sites.ba-be.*", "hoinghi.v1.events.sites.ba-be.site_registered".to_owned(), true),
            ("a.b", "a.b".to_owned(), true),
            ("a.b", "a.b.c".to_owned(), false),
            ("a.b.c", "a.b".to_owned(), false),
            (">", "a".to_owned(), true),
            ("a.>.c", "a.b.c".to_owned(), false),
            ("a.*", "a.".to_owned(), false),
        ] {
            assert_eq!(subject_matches(filter, &subject), expected, "{filter} ~ {subject}");
        }
    }

    fn expect(filter: &str, last_seq: u64) -> Expect {
        Expect { filter: filter.to_owned(), last_seq }
    }

    #[test]
    fn a_condition_is_raised_over_junk_on_its_filter_that_the_state_has_read() {
        // Given junk at 7 on a conference's subject, at 9 on another conference's, at 12 on a site's
        let mut rejected = Rejected::default();
        assert!(rejected.record("hoinghi.v1.events.scheduling.C.session_started", 7));
        assert!(rejected.record("hoinghi.v1.events.scheduling.D.session_started", 9));
        assert!(rejected.record("hoinghi.v1.events.attendance.C.ba-be.site_checked_in", 12));
        // When an aggregate of C whose last event is 5 decides on a state that has read up to 10
        // Then its condition counts the junk at 7, not D's
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 5), 10), 7);
        // When its last event is after the junk
        // Then the condition stays
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 8), 10), 8);
        // When the state had not read the junk yet (decided at 6)
        // Then the condition stays, and the append conflicts and is decided again
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 5), 6), 5);
        // When a site's junk lies under the conference-wide filter of the roster (`>`)
        // Then it counts for the roster and for the site, not for the conference-level subjects
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.attendance.C.>", 3), 20), 12);
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.attendance.C.ba-be.*", 0), 20), 12);
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.attendance.C.*", 3), 20), 3);
        // When junk comes again on the same subject, the highest sequence is kept, once
        assert!(!rejected.record("hoinghi.v1.events.scheduling.C.session_started", 7));
        assert!(rejected.record("hoinghi.v1.events.scheduling.C.session_started", 15));
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 5), 20), 15);
        assert_eq!(rejected.last_by_subject.len(), 3, "one entry per subject");
    }

    const C: &str = "hoinghi.v1.events.scheduling.0190e1a2-0000-7000-8000-000000000001";

    fn event_bytes(event: &SchedulingEvent) -> Vec<u8> {
        EventEnvelope::head(event, "secretariat").encode_with(event).unwrap()
    }

    #[test]
    fn messages_that_are_not_events_are_skipped_once_and_count_in_the_condition() {
        // Given a stream holding: an event, a reply's JSON on an event subject, an envelope on a
        // subject of another type, a type the service does not know (a newer version's), a payload
        // that does not decode, an event of a newer version, and an event
        let state = RwLock::new(Indexed::<Order>::default());
        let started = event_bytes(&SchedulingEvent::SessionStarted {});
        let mut unknown = EventEnvelope::head(&SchedulingEvent::SessionStarted {}, "x");
        unknown.event_type = "session_paused".into();
        let mut undecodable = EventEnvelope::head(&SchedulingEvent::SessionStarted {}, "x");
        undecodable.event_type = "conference_cancelled".into();
        undecodable.set_data(&serde_json::json!({ "reason": 42 }));
        let mut newer = EventEnvelope::head(&SchedulingEvent::SessionStarted {}, "x");
        newer.version = 99;
        let messages: Vec<(String, Vec<u8>)> = vec![
            (format!("{C}.invitations_issued"), event_bytes(&SchedulingEvent::SessionEnded {})),
            (format!("{C}.session_started"), br#"{"id":"C","state":"invited","title":"a view"}"#.to_vec()),
            (format!("{C}.session_ended"), started.clone()),
            (format!("{C}.session_paused"), serde_json::to_vec(&unknown).unwrap()),
            (format!("{C}.conference_cancelled"), serde_json::to_vec(&undecodable).unwrap()),
            (format!("{C}.session_started"), serde_json::to_vec(&newer).unwrap()),
            (format!("{C}.session_started"), started),
        ];
        // When the projection reads them
        for (i, (subject, payload)) in messages.iter().enumerate() {
            let seq = i as u64 + 1;
            assert_eq!(apply_message(&state, "HOINGHI_SCHEDULING", seq, subject, payload), seq);
        }
        // Then only the last is applied (the first's type is not its subject's)
        let guard = state.read().unwrap();
        assert_eq!(guard.projection.0, vec![7]);
        // And the four that are not events are counted, the two a newer version wrote apart
        assert_eq!(guard.stats, StoreStats { not_events: 4, too_new: 2, missing: 0 });
        // And an aggregate of the conference that saw none of them writes past the junk (the last
        // junk is at 5) but not past the newer versions' events
        assert_eq!(guard.rejected.raise(&expect(&format!("{C}.*"), 0), guard.applied), 5);
        drop(guard);
        // When the same messages are read again (a later read meets them again)
        apply_message(&state, "HOINGHI_SCHEDULING", 2, &messages[1].0, &messages[1].1);
        // Then they are not counted twice
        assert_eq!(state.read().unwrap().stats.not_events, 4);
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

    #[tokio::test]
    async fn progress_never_moves_back_and_wakes_each_waiter_once() {
        let progress = Arc::new(Progress::default());
        let waiter = {
            let progress = progress.clone();
            tokio::spawn(async move { progress.wait(5, Duration::from_secs(5)).await })
        };
        tokio::task::yield_now().await;
        progress.advance(6);
        progress.advance(4);
        assert_eq!(progress.applied(), 6);
        assert!(waiter.await.unwrap());
        assert!(!progress.wait(7, Duration::from_millis(10)).await);
    }
}
