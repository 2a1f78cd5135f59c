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

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, context::PublishErrorKind, stream};
use async_nats::HeaderMap;
use futures::StreamExt;
use hoinghi_shared::events::{DomainEvent, EventEnvelope};
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
}

impl<P: Projection> Default for Indexed<P> {
    fn default() -> Self {
        Self { projection: P::default(), commands: Default::default(), pending: Default::default(), applied: 0 }
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

/// Creates a stream if missing (every service may create every stream, with the same settings).
///
/// # Errors
/// The server refused or did not answer.
pub async fn ensure_stream(js: &jetstream::Context, def: StreamDef, replicas: usize) -> anyhow::Result<stream::Stream> {
    let config = stream::Config {
        name: def.name.to_owned(),
        subjects: def.subjects.iter().map(|s| (*s).to_owned()).collect(),
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        num_replicas: replicas.max(1),
        duplicate_window: Duration::from_secs(120),
        allow_direct: true,
        // The log is a legal record: nobody deletes or purges it through the API.
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    };
    let stream = js
        .get_or_create_stream(config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create or open stream {}: {e}", def.name))?;
    Ok(stream)
}

/// Creates every stream of the contract.
///
/// # Errors
/// As [`ensure_stream`].
pub async fn ensure_all_streams(js: &jetstream::Context, replicas: usize) -> anyhow::Result<()> {
    for def in hoinghi_shared::streams::ALL {
        ensure_stream(js, def, replicas).await?;
    }
    Ok(())
}

impl<P: Projection> EventStore<P> {
    /// Opens the store: follows the stream from its first message and returns once the projection
    /// has caught up with everything the stream held at open time.
    ///
    /// # Errors
    /// The stream cannot be opened, or catching up took longer than `catch_up_timeout`.
    pub async fn open(
        js: jetstream::Context,
        def: StreamDef,
        apply_timeout: Duration,
        catch_up_timeout: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut stream =
            js.get_stream(def.name).await.map_err(|e| anyhow::anyhow!("stream {} not found: {e}", def.name))?;
        let last =
            stream.info().await.map_err(|e| anyhow::anyhow!("stream {} info: {e}", def.name))?.state.last_sequence;
        let state = Arc::new(RwLock::new(Indexed::<P>::default()));
        let applied = Arc::new(Progress::default());
        let store = Self { js, def, state, applied, apply_timeout, reader: Arc::default(), gap_check: Arc::default() };
        store
            .read_to(last, catch_up_timeout)
            .await
            .map_err(|e| anyhow::anyhow!("replaying {}: {}", def.name, e.message))?;
        tokio::spawn(store.clone().watch(shutdown));
        info!(
            stream = def.name,
            events = last,
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
        let mut stream = self
            .js
            .get_stream(self.def.name)
            .await
            .map_err(|e| ApiError::unavailable(format!("event log unavailable: {e}")))?;
        let last = stream
            .info()
            .await
            .map_err(|e| ApiError::unavailable(format!("event log unavailable: {e}")))?
            .state
            .last_sequence;
        self.read_to(last, self.apply_timeout).await
    }

    /// Reads the stream until the projection has applied `target`: the events of other instances,
    /// and any of this instance's whose acknowledgement has not arrived yet (applied once; the
    /// acknowledgement then finds them applied).
    ///
    /// # Errors
    /// `unavailable` when the stream cannot be read within `timeout`.
    async fn read_to(&self, target: u64, timeout: Duration) -> Result<(), ApiError> {
        if self.applied.applied() >= target {
            return Ok(());
        }
        let _reader = self.reader.lock().await;
        let start = self.applied.applied() + 1;
        if start > target {
            return Ok(());
        }
        let read = read_range::<P>(&self.js, self.def, &self.state, &self.applied, start, target);
        match tokio::time::timeout(timeout, read).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::unavailable(format!("the event log could not be read: {e}"))),
            Err(_) => {
                Err(ApiError::unavailable(format!("reading the event log up to {target} took longer than {timeout:?}")))
            }
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
                if let Err(e) = store.read_to(seq.saturating_sub(1), store.apply_timeout).await {
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
            let decision = self.read(&decide);
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
                        self.read_to(seq, self.apply_timeout).await?;
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

/// Reads the stream from `start` with an ordered consumer until `target` is applied.
async fn read_range<P: Projection>(
    js: &jetstream::Context,
    def: StreamDef,
    state: &Arc<RwLock<Indexed<P>>>,
    applied: &Progress,
    start: u64,
    target: u64,
) -> anyhow::Result<()> {
    let stream = js.get_stream(def.name).await?;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: start },
            ..Default::default()
        })
        .await?;
    let name = consumer.cached_info().name.clone();
    let mut messages = consumer.messages().await?;
    let mut result = Ok(());
    while applied.applied() < target {
        let Some(message) = messages.next().await else { break };
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                result = Err(anyhow::anyhow!("{e}"));
                break;
            }
        };
        let seq = match message.info() {
            Ok(info) => info.stream_sequence,
            Err(e) => {
                result = Err(anyhow::anyhow!("{e}"));
                break;
            }
        };
        if seq <= applied.applied() {
            continue;
        }
        let now = apply_message::<P>(state, seq, message.subject.as_str(), &message.payload);
        applied.advance(now);
    }
    drop(messages);
    // The consumer was only for this read: remove it rather than leave the server tracking it
    // until it expires.
    if let Err(e) = stream.delete_consumer(&name).await {
        debug!(stream = def.name, consumer = %name, error = %e, "could not delete a finished reader");
    }
    result
}

/// Applies one message read from the stream; returns the last sequence applied.
fn apply_message<P: Projection>(state: &RwLock<Indexed<P>>, seq: u64, subject: &str, payload: &[u8]) -> u64 {
    let skip = || state.write().unwrap_or_else(|e| e.into_inner()).skip(seq);
    let envelope = match EventEnvelope::from_slice(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            error!(seq, subject, error = %e, "skipping an unreadable event in the service's own log");
            return skip();
        }
    };
    let event = match envelope.decode::<P::Event>() {
        Ok(event) => event,
        Err(e) => {
            error!(seq, subject, error = %e, "skipping an event this version cannot read");
            return skip();
        }
    };
    let meta = EventMeta::of(seq, subject.to_owned(), envelope);
    let mut guard = state.write().unwrap_or_else(|e| e.into_inner());
    guard.offer(meta, event)
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
