//! Reading the stream into the projection, in order.
//!
//! The projection reads the stream from its first sequence with an ordered consumer (one reader at
//! a time). A sequence the stream no longer holds (expired or deleted before this instance read it)
//! is skipped with a warning, so a replay never waits for a message that will not come; a long
//! replay logs its progress every 2 s, and one that stalls or takes too long fails saying how far it
//! got.
//!
//! Each message is read as an event of the service ([`read_event`]): a message that is not one is
//! skipped as junk (see `junk.rs`), an event of a newer version or an unknown type is skipped and
//! held back on, both reported once.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use hoinghi_shared::events::{DecodeError, DomainEvent};
use hoinghi_shared::streams::StreamDef;
use tracing::{debug, error, info, warn};

use super::order::Indexed;
use super::progress::Progress;
use super::{EventMeta, Projection};
use crate::log::envelope_of;

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
pub(super) async fn read_range<P: Projection>(
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
    let envelope = match envelope_of(subject, payload) {
        Ok(envelope) => envelope,
        Err(why) => return Read::NotAnEvent(why.0),
    };
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
pub(super) fn apply_message<P: Projection>(
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
    use hoinghi_shared::events::{EventEnvelope, SchedulingEvent};

    use super::*;
    use crate::store::fixture::{expect, Order};
    use crate::store::StoreStats;

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
        undecodable.event_type = SchedulingEvent::CONFERENCE_CANCELLED.into();
        undecodable.set_data(&serde_json::json!({ "reason": 42 }));
        let mut newer = EventEnvelope::head(&SchedulingEvent::SessionStarted {}, "x");
        newer.version = 99;
        let messages: Vec<(String, Vec<u8>)> = vec![
            (format!("{C}.{}", SchedulingEvent::INVITATIONS_ISSUED), event_bytes(&SchedulingEvent::SessionEnded {})),
            (
                format!("{C}.{}", SchedulingEvent::SESSION_STARTED),
                br#"{"id":"C","state":"invited","title":"a view"}"#.to_vec(),
            ),
            (format!("{C}.{}", SchedulingEvent::SESSION_ENDED), started.clone()),
            (format!("{C}.session_paused"), serde_json::to_vec(&unknown).unwrap()),
            (format!("{C}.{}", SchedulingEvent::CONFERENCE_CANCELLED), serde_json::to_vec(&undecodable).unwrap()),
            (format!("{C}.{}", SchedulingEvent::SESSION_STARTED), serde_json::to_vec(&newer).unwrap()),
            (format!("{C}.{}", SchedulingEvent::SESSION_STARTED), started),
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
}
