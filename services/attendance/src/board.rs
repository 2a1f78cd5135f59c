//! The boards' live feed of a conference (the secretariat's screen, the chair's): the snapshot a
//! board starts from, each applied event published as a change, and the changes since a sequence
//! read back from the log (`commands/board.rs` answers the two requests).
//!
//! # Who publishes
//! Every instance publishes every event it applies, in stream order, on
//! `hoinghi.v1.live.<conference>` (core NATS), once it runs (the replay at start is not
//! published). So a change reaches the boards as soon as the fastest instance applied it (the one
//! that appended it applies it at the acknowledgement), and an instance that dies between its
//! append and its publish loses nothing: the others publish it too. With N instances a board gets
//! each change up to N times and drops the copies by `seq`; the cost is N small messages per event,
//! which nats-server drops at once while no board follows the conference. A change missed anyway (a
//! board's connection cut, a slow consumer) shows as a `prev` above what the board holds, and is
//! read back from `hoinghi.v1.attendance.board.changes`.
//!
//! # The extension point
//! [`session`] fills the board's conference-wide state beyond the roster lines (current agenda
//! item, the floor, the quorum now): add to it what the roster learns; a site's own state belongs on
//! its roster line (`SiteAttendance`), which the board carries as it is.

use std::sync::Arc;

use bytes::Bytes;
use hoinghi_runtime::store::EventMeta;
use hoinghi_shared::api::PageQuery;
use hoinghi_shared::board::{Board, BoardChange};
use hoinghi_shared::events::{AttendanceEvent, EventEnvelope};
use hoinghi_shared::limits::{shrink_page_to_fit, REPLY_BUDGET};
use hoinghi_shared::subjects::live;
use hoinghi_shared::{ApiError, ConferenceId};
use tokio::sync::mpsc;

use crate::commands::Store;
use crate::roster::{no_roster, Roster};
use crate::state::AttendanceState;

/// One page of the board of conference `id`, as the state holds it now.
///
/// # Errors
/// `not_found` for a roster never opened; `invalid` for a bad page.
pub fn snapshot(state: &AttendanceState, id: ConferenceId, query: &PageQuery) -> Result<Board, ApiError> {
    let roster = state.rosters.get(&id).filter(|r| r.is_opened()).ok_or_else(|| no_roster(&id))?;
    let range = hoinghi_runtime::input::page(query, roster.invited().len())?;
    let view = roster.view(id, range).ok_or_else(|| no_roster(&id))?;
    let mut board = Board {
        conference_id: id,
        seq: roster.last_seq_any,
        live_subject: live::conference(&id),
        roster: view,
        session: session(roster, id),
    };
    shrink_page_to_fit(&mut board, |b| &mut b.roster.sites, REPLY_BUDGET);
    Ok(board)
}

/// The conference's session state beyond the roster lines, by name: `floor` (the current agenda
/// item, the queue, who speaks; as `hoinghi.v1.attendance.floor` answers it) and `quorum` (whether
/// the conference is quorate now; as `hoinghi.v1.attendance.quorum` answers it). Extend it with
/// what else the roster learns of the session; keep each value bounded, the board travels as one
/// message. (Each site's presence and roll call are on its roster line.)
pub fn session(roster: &Roster, id: ConferenceId) -> serde_json::Map<String, serde_json::Value> {
    let mut session = serde_json::Map::new();
    let mut put = |name: &str, value: Result<serde_json::Value, serde_json::Error>| match value {
        Ok(value) => {
            session.insert(name.to_owned(), value);
        }
        Err(e) => tracing::error!(error = %e, "the board's {name} could not be encoded"),
    };
    if let Some(floor) = roster.floor_view(id) {
        put("floor", serde_json::to_value(floor));
    }
    put("quorum", serde_json::to_value(roster.quorum_now(id)));
    session
}

/// The change an event makes, `prev` being the sequence of the conference's event before it.
pub fn change_of(prev: u64, meta: &EventMeta, event: &AttendanceEvent) -> BoardChange {
    use hoinghi_shared::events::DomainEvent as _;
    BoardChange {
        seq: meta.seq,
        prev,
        event_type: event.event_type().to_owned(),
        site_id: meta.site_id.clone(),
        occurred_at: meta.occurred_at,
        data: EventEnvelope::new(event, "").data,
    }
}

/// A live change as it is published: [`BoardChange`]'s fields, the event's `type` and `data` written
/// straight from the event (no copy of it, no second encoding). Readers see the same object.
#[derive(serde::Serialize)]
struct LiveChange<'a> {
    seq: u64,
    prev: u64,
    /// `type` and `data`: the event enums are adjacently tagged.
    #[serde(flatten)]
    event: &'a AttendanceEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<&'a hoinghi_shared::SiteId>,
    occurred_at: chrono::DateTime<chrono::Utc>,
}

/// The encoded change of an event, `prev` being the sequence of the conference's event before it
/// (what [`publish_live`] sends; it reads back as [`change_of`] says).
///
/// # Errors
/// The event does not encode (never, for the event enum).
pub fn encode_live(prev: u64, meta: &EventMeta, event: &AttendanceEvent) -> serde_json::Result<Bytes> {
    let change =
        LiveChange { seq: meta.seq, prev, event, site_id: meta.site_id.as_ref(), occurred_at: meta.occurred_at };
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, &change)?;
    Ok(Bytes::from(out))
}

/// What the store hands the publisher: the conference, the event's sequence and its encoded change.
type Applied = (ConferenceId, u64, Bytes);

/// Publishes every event this instance applies from now on, as a [`BoardChange`] on
/// `hoinghi.v1.live.<conference>`, through `client` (the connection of the identity that writes the
/// log: the API identity may publish to inboxes only). Call it once the store is open.
///
/// The change is encoded as the event is applied (one small serialisation of the event, nothing
/// cloned), and sent by a task of its own so the store's lock is never held across a publish.
pub fn publish_live(store: &Store, client: async_nats::Client) {
    let (tx, rx) = mpsc::unbounded_channel::<Applied>();
    store.on_apply(move |state: &AttendanceState, meta: &EventMeta, event: &AttendanceEvent| {
        let Some(id) = meta.conference_id else { return };
        let prev = state.rosters.get(&id).map_or(0, |r| r.last_seq_any);
        match encode_live(prev, meta, event) {
            // The receiver lives as long as the service; a send fails only once it stops.
            Ok(payload) => drop(tx.send((id, meta.seq, payload))),
            Err(e) => tracing::error!(seq = meta.seq, error = %e, "a board change could not be encoded"),
        }
    });
    tokio::spawn(publish(rx, Arc::new(client)));
}

async fn publish(mut rx: mpsc::UnboundedReceiver<Applied>, client: Arc<async_nats::Client>) {
    while let Some((id, seq, payload)) = rx.recv().await {
        if let Err(e) = client.publish(live::conference(&id), payload).await {
            // Boards read what they missed back from the log (`board.changes`).
            tracing::debug!(seq, error = %e, "a board change could not be published");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoinghi_shared::api::AttendanceStatus;
    use hoinghi_shared::SiteId;

    use crate::testing::{delegate, details, opened};

    #[test]
    fn the_snapshot_holds_every_line_and_the_last_sequence_of_the_conference() {
        // Given a roster where Ba Bể confirmed and checked in
        let log = opened(details())
            .site("ba-be", AttendanceEvent::AttendanceConfirmed { delegates: vec![delegate().into()], headcount: 3 })
            .site("ba-be", AttendanceEvent::SiteCheckedIn {});
        let id = log.id;
        // When the board is read
        let board = snapshot(&log.state, id, &PageQuery::first(id)).unwrap();
        // Then it has every line, and its seq is the conference's last event
        assert_eq!(board.seq, log.last_seq());
        assert_eq!(board.live_subject, format!("hoinghi.v1.live.{id}"));
        assert_eq!(board.roster.sites.len(), 3);
        assert_eq!(board.roster.sites[0].status, AttendanceStatus::CheckedIn);
        assert_eq!(board.roster.sites[1].status, AttendanceStatus::Invited);
        assert_eq!(board.session["floor"]["in_session"], false);
        assert_eq!(board.session["quorum"]["quorate"], true, "no quorum rule");
        // And a conference without a roster has no board
        let other = ConferenceId::generate();
        assert_eq!(snapshot(&log.state, other, &PageQuery::first(other)).unwrap_err().code.status(), 404);
    }

    #[test]
    fn a_change_carries_the_event_as_the_log_holds_it() {
        let id = ConferenceId::generate();
        let site = SiteId::parse("ba-be").unwrap();
        let event = AttendanceEvent::AttendanceDeclined { reason: "Lũ quét".into() };
        let envelope = EventEnvelope::new(&event, "site:ba-be");
        let meta = EventMeta {
            seq: 12,
            subject: format!("hoinghi.v1.events.attendance.{id}.ba-be.attendance_declined"),
            id: envelope.id,
            conference_id: Some(id),
            site_id: Some(site.clone()),
            occurred_at: envelope.occurred_at,
            actor: envelope.actor.clone(),
            command_id: None,
        };
        let change = change_of(9, &meta, &event);
        assert_eq!((change.seq, change.prev, change.event_type.as_str()), (12, 9, "attendance_declined"));
        assert_eq!(change.site_id, Some(site));
        assert_eq!(change.data.get(), envelope.data.get());
        assert!(change.data.get().contains("Lũ quét"));
        // And the live feed publishes the same change, encoded straight from the event
        let live: BoardChange = serde_json::from_slice(&encode_live(9, &meta, &event).unwrap()).unwrap();
        assert_eq!(live, change);
        let checked_in = AttendanceEvent::SiteCheckedIn {};
        let live: BoardChange = serde_json::from_slice(&encode_live(12, &meta, &checked_in).unwrap()).unwrap();
        assert_eq!(live, change_of(12, &meta, &checked_in));
    }
}
