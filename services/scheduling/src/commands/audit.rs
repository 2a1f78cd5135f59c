//! `hoinghi.v1.scheduling.conferences.audit`: who did what and when in a conference, read from the
//! event log itself (not from a projection), so the answer is what the three streams hold.
//!
//! Each of the three service streams is read with an ephemeral ordered consumer filtered to the
//! conference (`hoinghi.v1.events.<service>.<conference>.>`), up to the last message it held when the
//! query began. Only the envelope's header fields are decoded (the payloads are skipped), the entries
//! are merged in time order (then stream, then sequence), and one page is returned.

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

/// How long to wait for the next message of a stream before giving up.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The envelope fields the audit shows; the payload is skipped without being parsed into a tree.
#[derive(Deserialize)]
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
        read += 1;
        match serde_json::from_slice::<Head>(&message.payload) {
            Ok(head) => out.push(AuditEntry {
                stream: def.name.to_owned(),
                seq,
                occurred_at: head.occurred_at,
                actor: head.actor,
                event_type: head.event_type,
                site_id: head.site_id,
            }),
            Err(e) => {
                tracing::warn!(stream = def.name, seq, error = %e, "audit: an unreadable event is listed as such");
                out.push(AuditEntry {
                    stream: def.name.to_owned(),
                    seq,
                    occurred_at: DateTime::<Utc>::MIN_UTC,
                    actor: "unknown".to_owned(),
                    event_type: "unreadable".to_owned(),
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
