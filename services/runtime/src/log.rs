//! The event log read as it is, message by message: for answers that must show what the streams
//! hold rather than what a projection made of them (the audit trail).
//!
//! [`Log::read`] reads every message on a subject filter from each of a list of streams, one stream
//! after the other and each in stream order, up to the last message the stream held on the filter
//! when its read began. Each message comes with where it lies (stream, sequence, subject), when the
//! stream stored it, and its envelope or why it is not one ([`envelope_of`], the same test the event
//! store's projection applies before decoding a payload).
//!
//! Nothing is collected here: each message is handed to the caller as it is read, and a stream that
//! holds more messages on the filter than the caller's bound is refused before any is read, so what
//! stays in memory is what the caller keeps.

use std::fmt::Display;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use hoinghi_shared::events::EventEnvelope;
use hoinghi_shared::streams::StreamDef;
use tracing::debug;

/// How long a read waits for the next message of a stream before it gives up.
const STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One stream to read, and the subjects to read in it.
#[derive(Debug, Clone)]
pub struct Source {
    /// The stream.
    pub stream: StreamDef,
    /// The subject filter (wildcards allowed).
    pub filter: String,
}

/// One message of the log.
#[derive(Debug)]
pub struct LogMessage {
    /// The stream that holds it.
    pub stream: &'static str,
    /// Its sequence in that stream.
    pub seq: u64,
    /// The subject it was published on.
    pub subject: String,
    /// When the stream stored it (the server's clock, whatever the message says).
    pub stored_at: DateTime<Utc>,
    /// Its envelope, or why it is not an event.
    pub envelope: Result<EventEnvelope, NotAnEvent>,
}

/// Why a message is not an event: not an envelope, or an envelope whose type is not the last token
/// of its subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAnEvent(pub String);

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A stream holds more messages on the filter than the caller reads at most (nothing of that
    /// stream was read).
    #[error("{stream} holds {held} messages on {filter}; at most {limit} are read")]
    TooMany {
        /// The stream.
        stream: &'static str,
        /// The filter.
        filter: String,
        /// How many messages it holds on the filter.
        held: u64,
        /// The caller's bound.
        limit: u64,
    },
    /// The stream could not be read.
    #[error("event log {stream}: {reason}")]
    Unavailable {
        /// The stream.
        stream: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Reads the event log through a JetStream context (see [`crate::store::EventStore::log`]).
#[derive(Clone)]
pub struct Log {
    js: jetstream::Context,
}

impl Log {
    /// A reader of the streams `js` reaches.
    pub fn new(js: jetstream::Context) -> Self {
        Self { js }
    }

    /// Reads every message on each source's filter, source after source, each in stream order, up to
    /// the last one the stream held on the filter when its read began, and hands each to `visit`.
    /// Returns how many messages were read.
    ///
    /// # Errors
    /// [`LogError::TooMany`] when a stream holds more than `limit` messages on its filter (checked
    /// before reading it); [`LogError::Unavailable`] when a stream cannot be read, or no message came
    /// for 10 s.
    pub async fn read(
        &self,
        sources: &[Source],
        limit: u64,
        mut visit: impl FnMut(LogMessage),
    ) -> Result<u64, LogError> {
        let mut read = 0;
        for source in sources {
            read += self.read_source(source, limit, &mut visit).await?;
        }
        Ok(read)
    }

    /// Reads the messages on `source`'s filter with a sequence of at least `from`, in stream order,
    /// at most `max` of them (a page: the rest is left unread), and hands each to `visit`. Returns
    /// how many were read and how many more the stream held on the filter after them when the read
    /// began.
    ///
    /// # Errors
    /// [`LogError::Unavailable`] when the stream cannot be read, or no message came for 10 s.
    pub async fn read_from(
        &self,
        source: &Source,
        from: u64,
        max: u64,
        mut visit: impl FnMut(LogMessage),
    ) -> Result<(u64, u64), LogError> {
        let deliver = consumer::DeliverPolicy::ByStartSequence { start_sequence: from.max(1) };
        let mut held = 0;
        let read = self
            .read_with(
                source,
                deliver,
                |pending| {
                    held = pending;
                    Ok(pending.min(max))
                },
                &mut visit,
            )
            .await?;
        Ok((read, held.saturating_sub(read)))
    }

    async fn read_source(
        &self,
        source: &Source,
        limit: u64,
        visit: &mut impl FnMut(LogMessage),
    ) -> Result<u64, LogError> {
        let too_many =
            |held| LogError::TooMany { stream: source.stream.name, filter: source.filter.clone(), held, limit };
        self.read_with(
            source,
            consumer::DeliverPolicy::All,
            |held| if held > limit { Err(too_many(held)) } else { Ok(held) },
            visit,
        )
        .await
    }

    /// Reads from where `deliver` says, as many messages as `take` allows given how many are
    /// pending on the filter.
    async fn read_with(
        &self,
        source: &Source,
        deliver: consumer::DeliverPolicy,
        take: impl FnOnce(u64) -> Result<u64, LogError>,
        visit: &mut impl FnMut(LogMessage),
    ) -> Result<u64, LogError> {
        let name = source.stream.name;
        let unavailable = |e: &dyn Display| LogError::Unavailable { stream: name, reason: e.to_string() };
        let stream = self.js.get_stream_no_info(name).await.map_err(|e| unavailable(&e))?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: source.filter.clone(),
                deliver_policy: deliver,
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable(&e))?;
        let consumer_name = consumer.cached_info().name.clone();
        let held = consumer.cached_info().num_pending;
        let result = match take(held) {
            Ok(0) => Ok(0),
            Ok(n) => read_messages(consumer, name, n, visit).await,
            Err(e) => Err(e),
        };
        // The consumer was only for this read: remove it rather than leave the server tracking it
        // until it expires.
        if let Err(e) = stream.delete_consumer(&consumer_name).await {
            debug!(stream = name, consumer = %consumer_name, error = %e, "could not delete a finished reader");
        }
        result
    }
}

/// Reads the `held` messages a fresh consumer has pending (fewer if the stream loses some meanwhile).
async fn read_messages(
    consumer: consumer::Consumer<consumer::pull::OrderedConfig>,
    stream: &'static str,
    held: u64,
    visit: &mut impl FnMut(LogMessage),
) -> Result<u64, LogError> {
    let unavailable = |e: &dyn Display| LogError::Unavailable { stream, reason: e.to_string() };
    let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    let mut read = 0u64;
    while read < held {
        let message = match tokio::time::timeout(STALL_TIMEOUT, messages.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return Err(unavailable(&e)),
            Ok(None) => break,
            Err(_) => return Err(unavailable(&"timed out reading the log")),
        };
        let info = message.info().map_err(|e| unavailable(&e))?;
        let (seq, left) = (info.stream_sequence, info.pending);
        let stored_at = stored_at(info.published.unix_timestamp_nanos());
        read += 1;
        let subject = message.subject.to_string();
        let envelope = envelope_of(&subject, &message.payload);
        visit(LogMessage { stream, seq, subject, stored_at, envelope });
        if left == 0 {
            break;
        }
    }
    Ok(read)
}

/// The envelope of the message on `subject` holding `payload`, or why it is not an event: not an
/// envelope, or one whose type is not the last token of its subject.
///
/// # Errors
/// [`NotAnEvent`], saying why.
pub fn envelope_of(subject: &str, payload: &[u8]) -> Result<EventEnvelope, NotAnEvent> {
    let envelope = EventEnvelope::from_slice(payload).map_err(|e| NotAnEvent(e.to_string()))?;
    let token = subject.rsplit('.').next().unwrap_or_default();
    if envelope.event_type == token {
        Ok(envelope)
    } else {
        Err(NotAnEvent(format!(
            "its envelope's type {:?} is not its subject's last token {token:?}",
            envelope.event_type
        )))
    }
}

/// When the stream stored a message (nanoseconds since the Unix epoch, from JetStream's metadata).
fn stored_at(unix_nanos: i128) -> DateTime<Utc> {
    i64::try_from(unix_nanos).map_or(DateTime::<Utc>::UNIX_EPOCH, DateTime::<Utc>::from_timestamp_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoinghi_shared::events::SchedulingEvent;

    const SUBJECT: &str = "hoinghi.v1.events.scheduling.0190e1a2-0000-7000-8000-000000000001.session_started";

    #[test]
    fn junk_is_told_from_events() {
        // Given an event, a reply's JSON and an envelope on a subject of another type
        let event = br#"{"id":"0190e1a2-0000-7000-8000-000000000009","type":"session_started","occurred_at":"2021-07-23T01:00:00Z","actor":"secretariat","data":{}}"#;
        let view = br#"{"id":"0190e1a2-0000-7000-8000-000000000001","state":"invited"}"#;
        let moved = br#"{"id":"0190e1a2-0000-7000-8000-000000000008","type":"session_ended","occurred_at":"2021-07-23T01:00:00Z","actor":"secretariat","data":{}}"#;
        // When they are read
        // Then only the event is an event
        let envelope = envelope_of(SUBJECT, event).unwrap();
        assert_eq!(
            (envelope.event_type.as_str(), envelope.actor.as_str()),
            (SchedulingEvent::SESSION_STARTED, "secretariat")
        );
        assert!(SUBJECT.ends_with(SchedulingEvent::SESSION_STARTED));
        assert!(envelope_of(SUBJECT, view).unwrap_err().0.contains("not an event envelope"));
        assert!(envelope_of(SUBJECT, moved)
            .unwrap_err()
            .0
            .contains("\"session_ended\" is not its subject's last token"));
    }

    #[test]
    fn messages_are_dated_by_the_stream() {
        assert_eq!(stored_at(1_627_002_000_000_000_000).to_rfc3339(), "2021-07-23T01:00:00+00:00");
        assert_eq!(stored_at(i128::MAX), DateTime::<Utc>::UNIX_EPOCH, "out of range: the epoch, not a panic");
    }
}
