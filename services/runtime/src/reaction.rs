//! Reactions: a durable consumer on another service's events, so an event published while this
//! service was down is handled when it comes back. Handling is idempotent (the event id becomes the
//! command id, and handlers treat "already done" as done), so redelivery never doubles an effect.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, AckKind};
use futures::StreamExt;
use hoinghi_shared::events::EventEnvelope;
use hoinghi_shared::streams::StreamDef;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

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
    /// Metadata for the command this reaction issues: the command id is derived from the event id,
    /// so a redelivered event deduplicates in JetStream.
    pub fn command(&self, service: &str) -> CommandMeta {
        CommandMeta {
            command_id: format!("{service}:{}", self.envelope.id),
            actor: format!("service:{service}"),
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

/// A durable subscription to another service's events.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Durable consumer name (unique per reacting service and purpose).
    pub durable: &'static str,
    /// The stream to read.
    pub stream: StreamDef,
    /// Subjects to receive.
    pub filters: Vec<String>,
}

const MAX_DELIVER: i64 = 12;

/// Runs a reaction until `shutdown`, one event at a time in stream order.
pub async fn run<F, Fut>(js: jetstream::Context, sub: Subscription, handler: F, shutdown: CancellationToken)
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ReactionError>> + Send,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = run_once(&js, &sub, &handler, &shutdown) => r,
        };
        match result {
            Ok(()) if shutdown.is_cancelled() => return,
            Ok(()) => backoff = Duration::from_millis(200),
            Err(e) => {
                warn!(durable = sub.durable, error = %e, "reaction consumer interrupted; resuming");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn run_once<F, Fut>(
    js: &jetstream::Context,
    sub: &Subscription,
    handler: &F,
    shutdown: &CancellationToken,
) -> anyhow::Result<()>
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ReactionError>> + Send,
{
    let stream = js.get_stream(sub.stream.name).await?;
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            sub.durable,
            consumer::pull::Config {
                durable_name: Some(sub.durable.to_owned()),
                filter_subjects: sub.filters.clone(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: MAX_DELIVER,
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            },
        )
        .await?;
    info!(durable = sub.durable, "reaction consumer ready");
    let mut messages = consumer.messages().await?;
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            m = messages.next() => match m { Some(m) => m?, None => return Ok(()) },
        };
        let trace = TraceContext::from_headers(message.headers.as_ref());
        let deliveries = message.info().map(|i| i.delivered).unwrap_or(1);
        let envelope = match EventEnvelope::from_slice(&message.payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                error!(durable = sub.durable, subject = %message.subject, error = %e, "unreadable event set aside");
                message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                continue;
            }
        };
        let span = tracing::info_span!("reaction", durable = sub.durable, event = %envelope.event_type, trace_id = %trace.trace_id);
        let received = Received { subject: message.subject.to_string(), envelope, trace };
        match handler(received).instrument(span).await {
            Ok(()) => message.double_ack().await.map_err(|e| anyhow::anyhow!("{e}"))?,
            Err(ReactionError::Retry(reason)) if deliveries < MAX_DELIVER => {
                let delay = Duration::from_millis(100 * 2u64.saturating_pow(deliveries.clamp(1, 7) as u32 - 1));
                warn!(durable = sub.durable, subject = %message.subject, deliveries, ?delay, %reason, "reaction will be retried");
                message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Err(e) => {
                error!(durable = sub.durable, subject = %message.subject, deliveries, error = %e, "event set aside after failing");
                message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
    }
}
