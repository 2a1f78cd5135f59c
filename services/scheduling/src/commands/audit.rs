//! `hoinghi.v1.scheduling.conferences.audit`: who did what and when in a conference, read from the
//! event log itself (not from a projection), so the answer is what the three streams hold.
//!
//! The runtime's [`hoinghi_runtime::log`] reads each of the three service streams on the conference's
//! subjects (`hoinghi.v1.events.<service>.<conference>.>`), up to the last message it held when the
//! query began, at most [`MAX_EVENTS_PER_STREAM`] from each. Only the envelope's header fields are
//! kept (the payloads are never decoded), the entries are merged in time order (then stream, then
//! sequence), and one page is returned.
//!
//! A message that is not an event (not an envelope, or an envelope whose type is not its subject's
//! last token: junk that reached the stream some other way) is listed as such: type
//! [`NOT_AN_EVENT`], actor `unknown`, dated by the time the stream stored it.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::{page, parse_body};
use hoinghi_runtime::log::{LogError, LogMessage, Source};
use hoinghi_shared::api::{AuditEntry, AuditTrail, PageQuery};
use hoinghi_shared::service::Service;
use hoinghi_shared::subjects::events;
use hoinghi_shared::ApiError;

use super::Store;

/// Most events of one conference the audit reads from one stream (a national conference of 20,000
/// bridges writes about 100,000 in all).
pub const MAX_EVENTS_PER_STREAM: u64 = 500_000;

/// The type under which the audit lists a message that is not an event.
pub const NOT_AN_EVENT: &str = "not_an_event";

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
    let sources: Vec<Source> = Service::ALL
        .into_iter()
        .map(|service| Source { stream: service.stream(), filter: events::conference_all(service, &id) })
        .collect();
    let mut entries = Vec::new();
    store.log().read(&sources, MAX_EVENTS_PER_STREAM, |message| entries.push(entry(message))).await.map_err(
        |e| match e {
            LogError::TooMany { stream, held, limit, .. } => ApiError::invalid(format!(
                "the conference has {held} events in {stream}; the audit reads at most {limit}"
            )),
            e @ LogError::Unavailable { .. } => ApiError::unavailable(e.to_string()),
        },
    )?;
    entries.sort_by(|a, b| {
        (a.occurred_at, stream_rank(&a.stream), a.seq).cmp(&(b.occurred_at, stream_rank(&b.stream), b.seq))
    });
    let total = entries.len();
    let range = page(&query, total)?;
    let offset = range.start;
    let entries: Vec<AuditEntry> = entries.drain(range).collect();
    json(&AuditTrail { conference_id: id, total, offset, entries })
}

/// The audit's entry for one message of the log: the event's own header fields, or, for a message
/// that is not an event, [`NOT_AN_EVENT`] by `unknown`, dated by the stream.
fn entry(message: LogMessage) -> AuditEntry {
    let LogMessage { stream, seq, subject, stored_at, envelope } = message;
    match envelope {
        Ok(envelope) => AuditEntry {
            stream: stream.to_owned(),
            seq,
            occurred_at: envelope.occurred_at,
            actor: envelope.actor,
            event_type: envelope.event_type,
            site_id: envelope.site_id,
        },
        Err(why) => {
            tracing::warn!(
                stream,
                seq,
                subject = %subject,
                reason = %why,
                "audit: a message that is not an event is listed as such"
            );
            AuditEntry {
                stream: stream.to_owned(),
                seq,
                occurred_at: stored_at,
                actor: "unknown".to_owned(),
                event_type: NOT_AN_EVENT.to_owned(),
                site_id: None,
            }
        }
    }
}

fn stream_rank(name: &str) -> usize {
    Service::ALL.iter().position(|s| s.stream().name == name).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use hoinghi_runtime::log::envelope_of;

    use super::*;

    const SUBJECT: &str = "hoinghi.v1.events.attendance.0190e1a2-0000-7000-8000-000000000001.ba-be.site_checked_in";

    fn message(seq: u64, payload: &[u8]) -> LogMessage {
        LogMessage {
            stream: "HOINGHI_ATTENDANCE",
            seq,
            subject: SUBJECT.to_owned(),
            stored_at: DateTime::parse_from_rfc3339("2021-07-23T08:05:00+07:00").unwrap().with_timezone(&Utc),
            envelope: envelope_of(SUBJECT, payload),
        }
    }

    #[test]
    fn junk_is_listed_as_not_an_event_by_unknown_dated_by_the_stream() {
        // Given an event and a reply's JSON on an event subject
        let event = br#"{"id":"0190e1a2-0000-7000-8000-000000000009","type":"site_checked_in","occurred_at":"2021-07-23T01:00:00Z","actor":"site:ba-be","site_id":"ba-be","data":{}}"#;
        let view = br#"{"id":"0190e1a2-0000-7000-8000-000000000001","state":"invited"}"#;
        // When the audit lists them
        let event = entry(message(4, event));
        let junk = entry(message(5, view));
        // Then the event is listed from its envelope
        assert_eq!(
            (event.event_type.as_str(), event.actor.as_str(), event.site_id.as_ref().map(|s| s.as_str())),
            (hoinghi_shared::events::AttendanceEvent::SITE_CHECKED_IN, "site:ba-be", Some("ba-be"))
        );
        assert_eq!((event.stream.as_str(), event.seq), ("HOINGHI_ATTENDANCE", 4));
        assert_eq!(event.occurred_at.to_rfc3339(), "2021-07-23T01:00:00+00:00");
        // And the junk as not an event, by an unknown actor, when the stream stored it
        assert_eq!((junk.event_type.as_str(), junk.actor.as_str(), junk.site_id), (NOT_AN_EVENT, "unknown", None));
        assert_eq!((junk.stream.as_str(), junk.seq), ("HOINGHI_ATTENDANCE", 5));
        assert_eq!(junk.occurred_at.to_rfc3339(), "2021-07-23T01:05:00+00:00");
    }

    #[test]
    fn entries_of_the_same_time_keep_the_order_of_the_event_chain() {
        assert!(stream_rank("HOINGHI_SCHEDULING") < stream_rank("HOINGHI_ATTENDANCE"));
        assert!(stream_rank("HOINGHI_ATTENDANCE") < stream_rank("HOINGHI_MINUTES"));
        assert_eq!(stream_rank("HOINGHI_DEAD_LETTERS"), usize::MAX);
    }
}
