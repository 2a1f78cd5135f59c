//! Appending: a command decided against the projection, its event written with optimistic
//! concurrency, and the reply built from a state that holds it.
//!
//! The event is published with `Nats-Expected-Last-Subject-Sequence` over the aggregate's subject
//! filter (`Nats-Expected-Last-Subject-Sequence-Subject`, nats-server ≥ 2.11) and the command id as
//! `Nats-Msg-Id`. If another instance wrote first, the server refuses it (JetStream error 10071,
//! wrong last sequence) and the command is decided again on the fresh state. The condition is
//! raised over junk on the aggregate's subjects before it is sent (see `junk.rs`).
//!
//! The acknowledgement carries the event's sequence: the event is offered to the reorder buffer at
//! once (see `order.rs`), and if it lies above a gap the gap is read from the stream soon after.

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishError, context::PublishErrorKind};
use async_nats::HeaderMap;
use hoinghi_shared::events::EventEnvelope;
use hoinghi_shared::{ApiError, ErrorCode};
use tracing::{debug, error, warn};
use uuid::Uuid;

use super::{Append, AppendError, CommandMeta, Decision, EventMeta, EventStore, Projection};

impl<P: Projection> EventStore<P> {
    /// Appends one event, returning its stream sequence (the original's, for a duplicate command).
    ///
    /// The condition is sent as given: [`Self::execute`] has already raised it over messages of the
    /// aggregate's subjects that are not events (see `junk.rs`).
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
        // An event that does not encode is a bug, not an outage: said so, and nothing is sent.
        let payload = envelope.encode_with(&append.event).map_err(|e| AppendError::Encode(e.to_string()))?;

        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", meta.command_id.as_str());
        headers.insert("Nats-Expected-Last-Subject-Sequence", append.expect.last_seq.to_string().as_str());
        headers.insert("Nats-Expected-Last-Subject-Sequence-Subject", append.expect.filter.as_str());
        meta.trace.child().inject_on_event(&mut headers);

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
    /// read ([`super::junk::Rejected::raise`]).
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
                    crate::metrics::APPEND_RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // A short random pause spreads out writers racing for the same aggregate, so they
                    // do not collide again on the next attempt.
                    let jitter_us = (Uuid::new_v4().as_u128() % 1_000) as u64 * attempt as u64;
                    tokio::time::sleep(Duration::from_micros(jitter_us)).await;
                    self.catch_up().await?;
                }
                Err(AppendError::TooLarge) => {
                    return Err(ApiError::too_large(
                        "the change is larger than the server accepts in one message (max_payload); send less",
                    ))
                }
                Err(AppendError::Encode(reason)) => {
                    error!(%subject, %reason, "an event does not encode; nothing was written");
                    return Err(ApiError::unavailable(format!(
                        "the change could not be written: its event does not encode ({reason})"
                    )));
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

/// What a refused publish means for the command, by the kind async-nats gives it and, for an error
/// the JetStream API returned, by its code (never by its text).
pub(super) fn map_publish_error(e: PublishError) -> AppendError {
    match e.kind() {
        PublishErrorKind::WrongLastSequence => AppendError::Conflict,
        PublishErrorKind::MaxPayloadExceeded => AppendError::TooLarge,
        _ => match api_error_code(&e) {
            // async-nats gives 10071 its own kind; the code is checked too in case another path
            // hands the API error over as `Other`.
            Some(jetstream::ErrorCode::STREAM_WRONG_LAST_SEQUENCE) => AppendError::Conflict,
            // Larger than the stream's `max_msg_size`.
            Some(jetstream::ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM) => AppendError::TooLarge,
            _ => AppendError::Unavailable(e.to_string()),
        },
    }
}

/// The JetStream API error code of a refused publish, when the server's acknowledgement carried one.
fn api_error_code(e: &PublishError) -> Option<jetstream::ErrorCode> {
    let source = std::error::Error::source(e)?;
    source.downcast_ref::<jetstream::Error>().map(jetstream::Error::error_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error as the JetStream API returns it in a publish acknowledgement.
    fn api_error(code: u64, description: &str) -> jetstream::Error {
        serde_json::from_value(serde_json::json!({ "code": 400, "err_code": code, "description": description }))
            .unwrap()
    }

    #[test]
    fn publish_errors_are_told_apart_by_kind_and_code() {
        let conflict = |e| matches!(map_publish_error(e), AppendError::Conflict);
        let too_large = |e| matches!(map_publish_error(e), AppendError::TooLarge);
        let unavailable = |e| matches!(map_publish_error(e), AppendError::Unavailable(_));
        // A lost race, as async-nats reports it, and as a bare API error
        assert!(conflict(PublishError::with_source(
            PublishErrorKind::WrongLastSequence,
            api_error(10071, "wrong last sequence: 7")
        )));
        assert!(conflict(PublishError::new(PublishErrorKind::WrongLastSequence)));
        assert!(conflict(PublishError::with_source(PublishErrorKind::Other, api_error(10071, "anything"))));
        // Too large for the client's max_payload, or for the stream
        assert!(too_large(PublishError::new(PublishErrorKind::MaxPayloadExceeded)));
        assert!(too_large(PublishError::with_source(
            PublishErrorKind::Other,
            api_error(10054, "message size exceeds maximum allowed")
        )));
        // Anything else is the log being unavailable, whatever its text says
        assert!(unavailable(PublishError::with_source(
            PublishErrorKind::Other,
            api_error(10077, "wrong last sequence 10071 (a description is not a code)")
        )));
        assert!(unavailable(PublishError::with_source(PublishErrorKind::Other, std::io::Error::other("10071"))));
        assert!(unavailable(PublishError::new(PublishErrorKind::TimedOut)));
        assert!(unavailable(PublishError::new(PublishErrorKind::StreamNotFound)));
        assert!(unavailable(PublishError::new(PublishErrorKind::WrongLastMessageId)));
    }
}
