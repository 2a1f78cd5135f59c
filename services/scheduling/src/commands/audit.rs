//! `hoinghi.v1.scheduling.conferences.audit`: who did what and when in a conference, read from the
//! event log itself (not from a projection), so the answer is what the three streams hold.
//!
//! Each of the three service streams is read with an ephemeral ordered consumer filtered to the
//! conference (`hoinghi.v1.events.<service>.<conference>.>`), up to the last message it held when the
//! query began. Only the envelope's header fields are decoded (the payloads are skipped), the entries
//! are merged in time order (then stream, then sequence), and one page is returned.
//!
//! A message that is not an event (not an envelope, or an envelope whose type is not its subject's
//! last token: junk that reached the stream some other way) is listed as such: type
//! [`NOT_AN_EVENT`], actor `unknown`, dated by the time the stream stored it.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::{page, parse_body};
use hoinghi_shared::api::{AuditEntry, AuditTrail, PageQuery};
use hoinghi_shared::streams::{
    StreamDef, ATTENDANCE, ATTENDANCE_SERVICE, MINUTES, MINUTES_SERVICE, SCHEDULING, SCHEDULING_SERVICE,
};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, SiteId};
use serde::Deserialize;

use super::Store;

/// Most events of one conference the audit reads from one stream (a national conference of 20,000
/// bridges writes about 100,000 in all).
pub const MAX_EVENTS_PER_STREAM: u64 = 500_000;

/// The type under which the audit lists a message that is not an event.
pub const NOT_AN_EVENT: &str = "not_an_event";

/// How long to wait for the next message of a stream before giving up.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The envelope fields the audit shows; the payload is skipped without being parsed into a tree.
#[derive(Debug, Deserialize)]
struct Head {
    #[serde(rename = "type")]
    event_type: String,
    occurred_at: DateTime<Utc>,
    actor: String,
    #[serde(default)]
    site_id: Option<SiteId>,
}

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let query: PageQuery = parse_body(&request.payload, "{conference_id, offset?, limit?}")?;
    let id = query.conference_id;
    store
        .query(|state| {
            state
                .conferences
                .get(&id)
                .and_then(|c| c.view(&id))
                .map(|_| ())
                .ok_or_else(|| ApiError::not_found(format!("no conference {id}")))
        })
        .await?;
    // Checked before reading the log: a bad page costs nothing.
    page(&query, 0)?;
    let mut entries = Vec::new();
    for (def, service) in
        [(SCHEDULING, SCHEDULING_SERVICE), (ATTENDANCE, ATTENDANCE_SERVICE), (MINUTES, MINUTES_SERVICE)]
    {
        read_stream(store.jetstream(), def, &events::conference_all(service, &id), &mut entries).await?;
    }
    entries.sort_by(|a, b| {
        (a.occurred_at, stream_rank(&a.stream), a.seq).cmp(&(b.occurred_at, stream_rank(&b.stream), b.seq))
    });
    let total = entries.len();
    let range = page(&query, total)?;
    let offset = range.start;
    let entries: Vec<AuditEntry> = entries.drain(range).collect();
    json(&AuditTrail { conference_id: id, total, offset, entries })
}

/// The envelope fields of a message, or why it is not an event: not an envelope, or one whose type
/// is not the last token of its subject.
fn head_of(subject: &str, payload: &[u8]) -> Result<Head, String> {
    let head = serde_json::from_slice::<Head>(payload).map_err(|e| format!("not an event envelope: {e}"))?;
    let token = subject.rsplit('.').next().unwrap_or_default();
    if head.event_type == token {
        Ok(head)
    } else {
        Err(format!("its envelope's type {:?} is not its subject's last token {token:?}", head.event_type))
    }
}

/// When the stream stored a message (nanoseconds since the Unix epoch, from JetStream's metadata).
fn stored_at(unix_nanos: i128) -> DateTime<Utc> {
    i64::try_from(unix_nanos).map_or(DateTime::<Utc>::UNIX_EPOCH, DateTime::<Utc>::from_timestamp_nanos)
}

fn stream_rank(name: &str) -> usize {
    [SCHEDULING.name, ATTENDANCE.name, MINUTES.name].iter().position(|n| *n == name).unwrap_or(usize::MAX)
}

/// Appends the entries of one stream matching `filter`, up to the last one present now.
async fn read_stream(
    js: &jetstream::Context,
    def: StreamDef,
    filter: &str,
    out: &mut Vec<AuditEntry>,
) -> Result<(), ApiError> {
    let unavailable = |e: &dyn std::fmt::Display| ApiError::unavailable(format!("event log {}: {e}", def.name));
    let stream = js.get_stream(def.name).await.map_err(|e| unavailable(&e))?;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: filter.to_owned(),
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| unavailable(&e))?;
    let pending = consumer.cached_info().num_pending;
    if pending == 0 {
        return Ok(());
    }
    if pending > MAX_EVENTS_PER_STREAM {
        return Err(ApiError::invalid(format!(
            "the conference has {pending} events in {}; the audit reads at most {MAX_EVENTS_PER_STREAM}",
            def.name
        )));
    }
    let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    let mut read = 0u64;
    while read < pending {
        let message = match tokio::time::timeout(READ_TIMEOUT, messages.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return Err(unavailable(&e)),
            Ok(None) => break,
            Err(_) => return Err(unavailable(&"timed out reading the log")),
        };
        let info = message.info().map_err(|e| unavailable(&e))?;
        let (seq, left) = (info.stream_sequence, info.pending);
        let stored_at = stored_at(info.published.unix_timestamp_nanos());
        read += 1;
        match head_of(&message.subject, &message.payload) {
            Ok(head) => out.push(AuditEntry {
                stream: def.name.to_owned(),
                seq,
                occurred_at: head.occurred_at,
                actor: head.actor,
                event_type: head.event_type,
                site_id: head.site_id,
            }),
            Err(why) => {
                tracing::warn!(
                    stream = def.name,
                    seq,
                    subject = %message.subject,
                    reason = %why,
                    "audit: a message that is not an event is listed as such"
                );
                out.push(AuditEntry {
                    stream: def.name.to_owned(),
                    seq,
                    occurred_at: stored_at,
                    actor: "unknown".to_owned(),
                    event_type: NOT_AN_EVENT.to_owned(),
                    site_id: None,
                });
            }
        }
        if left == 0 {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECT: &str = "hoinghi.v1.events.scheduling.0190e1a2-0000-7000-8000-000000000001.session_started";

    #[test]
    fn junk_is_told_from_events_and_dated_by_the_stream() {
        // Given an event, a reply's JSON and an envelope on a subject of another type
        let event = br#"{"id":"0190e1a2-0000-7000-8000-000000000009","type":"session_started","occurred_at":"2021-07-23T01:00:00Z","actor":"secretariat","data":{}}"#;
        let view = br#"{"id":"0190e1a2-0000-7000-8000-000000000001","state":"invited"}"#;
        let moved = br#"{"type":"session_ended","occurred_at":"2021-07-23T01:00:00Z","actor":"secretariat","data":{}}"#;
        // When the audit reads them
        // Then only the event is an event
        assert_eq!(head_of(SUBJECT, event).unwrap().event_type, "session_started");
        assert!(head_of(SUBJECT, view).unwrap_err().contains("not an event envelope"));
        assert!(head_of(SUBJECT, moved).unwrap_err().contains("\"session_ended\" is not its subject's last token"));
        // And junk is dated by when the stream stored it
        assert_eq!(stored_at(1_627_002_000_000_000_000).to_rfc3339(), "2021-07-23T01:00:00+00:00");
    }
}
