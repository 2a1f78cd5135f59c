//! Reactions: a durable consumer on another service's events, so an event published while this
//! service was down is handled when it comes back. A [`Subscription`] names that service (a
//! [`Service`], whose stream it reads) and filters by the event types' constants (e.g.
//! `events::of_type(Service::Minutes, MinutesEvent::MINUTES_PUBLISHED)`). Handling is idempotent (the event id becomes the
//! command id, and handlers treat "already done" as done), so redelivery never doubles an effect.
//!
//! An event that cannot be processed (written by a newer version, refused) is retried with
//! exponential backoff; after the last delivery it is parked in `HOINGHI_DEAD_LETTERS` on
//! `hoinghi.v1.dead.<consumer>` with the reason in a header, and an error is logged. It never blocks
//! the events behind it for longer than its retries, and is never dropped silently.
//!
//! A message that is not an event at all (not an event envelope, or an envelope whose type is not
//! the last token of its subject) will never become one: it is parked at once, with the reason
//! "not an event: …" and an error line, without retries.
//!
//! The durable consumer is checked when the reaction starts ([`crate::streams::ensure_consumer`]):
//! one that exists with other filters or another ack policy is created again, and the difference
//! logged.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, AckKind};
use async_nats::HeaderMap;
use futures::StreamExt;
use hoinghi_shared::events::{DomainEvent, EventEnvelope};
use hoinghi_shared::headers::{DEAD_REASON, DEAD_SOURCE, DEAD_SUBJECT};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::events::{dead_letter, of_type};
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode, Service};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::config::ReactionSettings;
use crate::store::CommandMeta;
use crate::telemetry::TraceContext;

/// What a reaction receives.
#[derive(Debug, Clone)]
pub struct Received {
    /// The subject.
    pub subject: String,
    /// The envelope.
    pub envelope: EventEnvelope,
    /// The trace it continues.
    pub trace: TraceContext,
}

impl Received {
    /// Metadata for the command `service` issues in reaction: the command id is derived from the
    /// event id (`<token>:<event id>`), so a redelivered event deduplicates in JetStream; the actor is
    /// `service:<token>`.
    pub fn command(&self, service: Service) -> CommandMeta {
        CommandMeta {
            command_id: format!("{service}:{}", self.envelope.id),
            actor: actor::service(service),
            trace: self.trace.clone(),
            causation_id: Some(self.envelope.id),
        }
    }
}

/// How a reaction failed.
#[derive(Debug, thiserror::Error)]
pub enum ReactionError {
    /// Worth trying again later (dependency down, state not there yet).
    #[error("retry: {0}")]
    Retry(String),
    /// Will never succeed; the event is set aside with a log line.
    #[error("cannot process: {0}")]
    Permanent(String),
}

impl ReactionError {
    /// What a reaction answers when its command is refused with `e`: `Retry` for a code in `retry`
    /// (the log unavailable, a race lost, state not there yet), `Permanent` otherwise.
    pub fn refused(e: ApiError, retry: &[ErrorCode]) -> Self {
        if retry.contains(&e.code) {
            Self::Retry(e.message)
        } else {
            Self::Permanent(e.message)
        }
    }
}

impl Received {
    /// The event, decoded.
    ///
    /// # Errors
    /// `Retry` for one this build cannot read (it may be written by a newer version).
    pub fn event<E: DomainEvent>(&self) -> Result<E, ReactionError> {
        self.envelope.decode().map_err(|e| ReactionError::Retry(e.to_string()))
    }

    /// The conference the event names.
    ///
    /// # Errors
    /// `Permanent` for an event that names none.
    pub fn conference_id(&self) -> Result<ConferenceId, ReactionError> {
        self.envelope
            .conference_id
            .ok_or_else(|| ReactionError::Permanent(format!("{} without a conference id", self.envelope.event_type)))
    }
}

/// A durable subscription to another service's events.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Durable consumer name (unique per reacting service and purpose).
    pub durable: &'static str,
    /// The service whose events it reads, from that service's stream ([`Service::stream`]).
    pub source: Service,
    /// Subjects to receive.
    pub filters: Vec<String>,
}

impl Subscription {
    /// The subscription `durable` to the events of `source` of the types `event_types`.
    pub fn to_types(durable: &'static str, source: Service, event_types: &[&str]) -> Self {
        Self { durable, source, filters: event_types.iter().map(|t| of_type(source, t)).collect() }
    }
}

/// How long the server waits for an ack before redelivering.
const ACK_WAIT: Duration = Duration::from_secs(5);

/// Runs a reaction until `shutdown`, one event at a time in stream order.
pub async fn run<F, Fut>(
    js: jetstream::Context,
    sub: Subscription,
    settings: ReactionSettings,
    handler: F,
    shutdown: CancellationToken,
) where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ReactionError>> + Send,
{
    keep_consuming("reaction", sub.durable, &shutdown, || run_once(&js, &sub, settings, &handler, &shutdown)).await;
}

/// Runs `consume` (one durable consumer, `kind` `durable` in the log) again after each interruption,
/// with a growing pause, until `shutdown`.
pub(crate) async fn keep_consuming<Fut>(
    kind: &str,
    durable: &str,
    shutdown: &CancellationToken,
    consume: impl Fn() -> Fut,
) where
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = consume() => r,
        };
        match result {
            Ok(()) if shutdown.is_cancelled() => return,
            Ok(()) => backoff = Duration::from_millis(200),
            Err(e) => {
                warn!(durable, error = %e, "{kind} consumer interrupted; resuming");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The durable pull consumer a handler reads `filters` with, one message at a time in stream
/// order: each acknowledged explicitly within `ack_wait`, delivered `max_deliver` times at the most.
pub(crate) fn pull_config(
    durable: &str,
    filters: Vec<String>,
    ack_wait: Duration,
    max_deliver: i64,
) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(durable.to_owned()),
        filter_subjects: filters,
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait,
        max_deliver,
        deliver_policy: consumer::DeliverPolicy::All,
        ..Default::default()
    }
}

/// Awaits `work`, the handling of `message`, telling the server every third of `ack_wait` that it
/// is still in progress so that it is not delivered again meanwhile.
pub(crate) async fn with_progress<T>(
    message: &jetstream::Message,
    ack_wait: Duration,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut ticker = tokio::time::interval(ack_wait / 3);
    ticker.tick().await;
    loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = ticker.tick() => {
                let _ = message.ack_with(AckKind::Progress).await;
            }
        }
    }
}

/// How long to wait before the next delivery of a message delivered `deliveries` times that asked
/// to be retried: the first backoff, doubled for each delivery (up to the seventh).
pub(crate) fn retry_delay(settings: ReactionSettings, deliveries: i64) -> Duration {
    let exponent = u32::try_from(deliveries.clamp(1, 7) - 1).unwrap_or(0);
    Duration::from_millis(settings.backoff_ms.max(1) * 2u64.pow(exponent))
}

async fn run_once<F, Fut>(
    js: &jetstream::Context,
    sub: &Subscription,
    settings: ReactionSettings,
    handler: &F,
    shutdown: &CancellationToken,
) -> anyhow::Result<()>
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ReactionError>> + Send,
{
    let stream = js.get_stream(sub.source.stream().name).await?;
    // The ack wait is short, so an event whose handler died with its process is redelivered
    // quickly; a handler that takes longer keeps it with progress acks (below).
    let config = pull_config(sub.durable, sub.filters.clone(), ACK_WAIT, settings.max_deliver.max(1));
    let consumer: consumer::PullConsumer = crate::streams::ensure_consumer(&stream, config).await?;
    info!(durable = sub.durable, "reaction consumer ready");
    let mut messages = consumer.messages().await?;
    let max_deliver = settings.max_deliver.max(1);
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            m = messages.next() => match m { Some(m) => m?, None => return Ok(()) },
        };
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (deliveries, source_seq) = (info.delivered, info.stream_sequence);
        let envelope = match crate::log::envelope_of(&message.subject, &message.payload) {
            Ok(envelope) => envelope,
            Err(why) => {
                // Not an event, and it never will be: parked at once, without retries.
                park_and_terminate(js, sub, &message, source_seq, deliveries, &format!("not an event: {}", why.0))
                    .await?;
                continue;
            }
        };
        let trace = TraceContext::of_event(message.headers.as_ref(), envelope.trace_id.as_deref());
        let outcome = {
            let span = tracing::info_span!("reaction", durable = sub.durable, event = %envelope.event_type, trace_id = %trace.trace_id);
            let trace = crate::telemetry::continue_trace(&span, message.headers.as_ref(), trace);
            let received = Received { subject: message.subject.to_string(), envelope, trace };
            with_progress(&message, ACK_WAIT, handler(received).instrument(span)).await
        };
        match outcome {
            Ok(()) => message.double_ack().await.map_err(|e| anyhow::anyhow!("{e}"))?,
            Err(ReactionError::Retry(reason)) if deliveries < max_deliver => {
                let delay = retry_delay(settings, deliveries);
                crate::metrics::REACTION_RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                warn!(durable = sub.durable, subject = %message.subject, deliveries, ?delay, %reason, "reaction will be retried");
                message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Err(e) => park_and_terminate(js, sub, &message, source_seq, deliveries, &e.to_string()).await?,
        }
    }
}

/// Parks a message that will never be processed (see [`park`]), at `source_seq` in its stream and
/// delivered `deliveries` times, logs it, and terminates it so that it is not delivered again.
async fn park_and_terminate(
    js: &jetstream::Context,
    sub: &Subscription,
    message: &jetstream::Message,
    source_seq: u64,
    deliveries: i64,
    reason: &str,
) -> anyhow::Result<()> {
    park(js, sub, message, source_seq, reason).await?;
    crate::metrics::EVENTS_PARKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    error!(
        durable = sub.durable,
        subject = %message.subject,
        source_seq,
        deliveries,
        %reason,
        dead_letter = %dead_letter(sub.durable),
        "event parked in the dead-letter stream"
    );
    message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Copies a message to the dead-letter stream (deduplicated by source position), waiting for the
/// store's acknowledgement before the original is terminated.
async fn park(
    js: &jetstream::Context,
    sub: &Subscription,
    message: &jetstream::Message,
    source_seq: u64,
    reason: &str,
) -> anyhow::Result<()> {
    // Only the trace travels: the original's Nats-* headers (message id, expected sequences) would
    // be checked again against the dead-letter stream.
    let mut headers = HeaderMap::new();
    if let Some(trace) = message.headers.as_ref().and_then(|h| h.get(hoinghi_shared::headers::TRACEPARENT)) {
        headers.insert(hoinghi_shared::headers::TRACEPARENT, trace.as_str());
    }
    let reason: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).take(1000).collect();
    headers.insert(DEAD_REASON, reason.as_str());
    let stream = sub.source.stream().name;
    headers.insert(DEAD_SOURCE, format!("{stream}:{source_seq}").as_str());
    headers.insert(DEAD_SUBJECT, message.subject.as_str());
    headers.insert("Nats-Msg-Id", format!("dead:{}:{stream}:{source_seq}", sub.durable).as_str());
    js.publish_with_headers(dead_letter(sub.durable), headers, message.payload.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot park event {source_seq}: {e}"))?
        .await
        .map_err(|e| anyhow::anyhow!("cannot park event {source_seq}: {e}"))?;
    Ok(())
}
