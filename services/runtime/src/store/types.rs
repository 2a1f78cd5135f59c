//! The store's vocabulary: what an applied event knows of itself ([`EventMeta`]), the state built
//! from the events ([`Projection`]), what a command decides ([`Decision`], [`Append`], [`Expect`]),
//! who sent it ([`CommandMeta`]), why an append failed ([`AppendError`]) and what the projection
//! skipped ([`StoreStats`]).

use hoinghi_shared::events::{DomainEvent, EventEnvelope};
use hoinghi_shared::{ConferenceId, SiteId};
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
    /// The conference the event is about, for a projection kept by conference: without one, the
    /// event is logged as an error (a `what` event, e.g. "minutes") and `None` says to ignore it.
    pub fn conference_or_log(&self, what: &str) -> Option<ConferenceId> {
        if self.conference_id.is_none() {
            tracing::error!(seq = self.seq, "{what} event without a conference id ignored");
        }
        self.conference_id
    }

    /// The metadata of the event at `seq` on `subject`, from its envelope.
    pub(super) fn of(seq: u64, subject: String, envelope: EventEnvelope) -> Self {
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
    /// The event could not be written as a message (a bug: the event enums always serialise). Nothing
    /// was sent.
    #[error("the event could not be encoded: {0}")]
    Encode(String),
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
