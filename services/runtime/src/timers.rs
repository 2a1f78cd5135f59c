//! Durable timers on JetStream message schedules (nats-server >= 2.12, ADR-51), in the
//! `HOINGHI_TIMERS` stream, which allows them.
//!
//! A timer is one message on its own schedule subject with the headers
//! `Nats-Schedule: @at <RFC 3339 UTC>` and `Nats-Schedule-Target: <subject in the same stream>`
//! ([`schedule_at`]). The server holds it and, at that time, publishes its body on the target
//! subject (adding `Nats-Scheduler: <schedule subject>`) and removes the schedule, whether or not
//! any hoinghi service is running. A subject holds one schedule: publishing another on the same
//! subject replaces it (a rescheduled conference moves its reminders so); [`purge`] drops them (a
//! cancelled conference). A durable pull consumer of the service that handles the fired messages
//! ([`run_due`]) takes each up when it runs, so a timer that fired while the service was down is
//! handled when it comes back; no timer lives in a process.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use hoinghi_shared::streams::TIMERS;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::ReactionSettings;
use crate::reaction::{keep_consuming, pull_config, retry_delay, with_progress, ReactionError};

/// The header holding a message's schedule.
pub const SCHEDULE: &str = "Nats-Schedule";
/// The header naming the subject a schedule fires onto.
pub const SCHEDULE_TARGET: &str = "Nats-Schedule-Target";
/// The header the server sets on a fired message: the subject that held its schedule.
pub const SCHEDULER: &str = "Nats-Scheduler";

/// The `Nats-Schedule` value of a one-off timer at `at`: `@at 2026-02-12T01:00:00Z`.
pub fn at_header(at: DateTime<Utc>) -> String {
    format!("@at {}", at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Sets (or replaces) the timer on `schedule_subject`: at `at` the server publishes `body` on
/// `target` (both subjects of `HOINGHI_TIMERS`). Returns once the stream holds it.
///
/// # Errors
/// The stream refused it or did not answer.
pub async fn schedule_at(
    js: &jetstream::Context,
    schedule_subject: String,
    target: &str,
    at: DateTime<Utc>,
    body: Bytes,
) -> anyhow::Result<()> {
    let mut headers = HeaderMap::new();
    headers.insert(SCHEDULE, at_header(at).as_str());
    headers.insert(SCHEDULE_TARGET, target);
    js.publish_with_headers(schedule_subject.clone(), headers, body)
        .await
        .map_err(|e| anyhow::anyhow!("cannot set the timer {schedule_subject}: {e}"))?
        .await
        .map_err(|e| anyhow::anyhow!("cannot set the timer {schedule_subject}: {e}"))?;
    Ok(())
}

/// Drops every timer (scheduled or fired and not yet handled) on `filter`.
///
/// # Errors
/// The stream refused the purge or did not answer.
pub async fn purge(js: &jetstream::Context, filter: &str) -> anyhow::Result<u64> {
    let stream = js.get_stream(TIMERS.name).await.map_err(|e| anyhow::anyhow!("{}: {e}", TIMERS.name))?;
    let purged = stream.purge().filter(filter).await.map_err(|e| anyhow::anyhow!("purging {filter}: {e}"))?;
    Ok(purged.purged)
}

/// A fired timer as its handler receives it.
#[derive(Debug, Clone)]
pub struct Fired {
    /// The target subject it was fired on.
    pub subject: String,
    /// The schedule's body.
    pub payload: Bytes,
    /// The subject that held its schedule (`Nats-Scheduler`), if the server set it.
    pub scheduler: Option<String>,
}

/// How long the server waits for an ack before redelivering a fired timer.
const ACK_WAIT: Duration = Duration::from_secs(10);

/// Handles the timers fired on `filter` with a durable consumer named `durable`, one at a time, until
/// `shutdown`: acknowledged when `handler` succeeds, redelivered with backoff when it asks to retry
/// (up to `reactions.max_deliver`), dropped with an error line when it cannot be handled.
pub async fn run_due<F, Fut>(
    js: jetstream::Context,
    durable: &'static str,
    filter: String,
    settings: ReactionSettings,
    handler: F,
    shutdown: CancellationToken,
) where
    F: Fn(Fired) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ReactionError>> + Send,
{
    keep_consuming("timer", durable, &shutdown, || run_once(&js, durable, &filter, settings, &handler, &shutdown))
        .await;
}

async fn run_once<F, Fut>(
    js: &jetstream::Context,
    durable: &'static str,
    filter: &str,
    settings: ReactionSettings,
    handler: &F,
    shutdown: &CancellationToken,
) -> anyhow::Result<()>
where
    F: Fn(Fired) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ReactionError>> + Send,
{
    let stream = js.get_stream(TIMERS.name).await?;
    let max_deliver = settings.max_deliver.max(1);
    let config = pull_config(durable, vec![filter.to_owned()], ACK_WAIT, max_deliver);
    let consumer: consumer::PullConsumer = crate::streams::ensure_consumer(&stream, config).await?;
    info!(durable, "timer consumer ready");
    let mut messages = consumer.messages().await?;
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            m = messages.next() => match m { Some(m) => m?, None => return Ok(()) },
        };
        let deliveries = message.info().map_err(|e| anyhow::anyhow!("{e}"))?.delivered;
        let fired = Fired {
            subject: message.subject.to_string(),
            payload: message.payload.clone(),
            scheduler: message.headers.as_ref().and_then(|h| h.get(SCHEDULER)).map(|v| v.as_str().to_owned()),
        };
        let outcome = with_progress(&message, ACK_WAIT, handler(fired)).await;
        match outcome {
            Ok(()) => message.double_ack().await.map_err(|e| anyhow::anyhow!("{e}"))?,
            Err(ReactionError::Retry(reason)) if deliveries < max_deliver => {
                let delay = retry_delay(settings, deliveries);
                warn!(durable, subject = %message.subject, deliveries, ?delay, %reason, "timer will be retried");
                message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Err(e) => {
                error!(durable, subject = %message.subject, deliveries, reason = %e, "fired timer dropped: it cannot be handled");
                message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_header_is_rfc3339_utc_to_the_second() {
        let at = DateTime::parse_from_rfc3339("2021-07-23T08:00:00.250+07:00").unwrap().with_timezone(&Utc);
        assert_eq!(at_header(at), "@at 2021-07-23T01:00:00Z");
    }
}
