//! One file per command; [`register`] wires each to its subject.

mod acknowledge;
mod approve;
mod get;
mod publish;
mod record;
mod submit;

use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::store::{Append, Decision, EventStore, Expect};
use hoinghi_shared::api::PageQuery;
use hoinghi_shared::events::{DomainEvent, MinutesEvent};
use hoinghi_shared::streams::MINUTES_SERVICE;
use hoinghi_shared::subjects::{events, minutes as subjects};
use hoinghi_shared::{ApiError, ConferenceId};

use crate::minutes::{Minutes, MinutesCommand};
use crate::state::MinutesState;

/// The minutes store.
pub type Store = EventStore<MinutesState>;

/// The actor recorded for the minute-taker's commands.
pub const MINUTE_TAKER: &str = "minute-taker";

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    let s = store.clone();
    host.endpoint("record", subjects::RECORD, move |r| record::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("submit", subjects::SUBMIT, move |r| submit::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("approve", subjects::APPROVE, move |r| approve::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("publish", subjects::PUBLISH, move |r| publish::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("get", subjects::GET, move |r| get::handle(s.clone(), r)).await?;
    let s = store;
    host.endpoint("sites-acknowledge", &subjects::any_site(subjects::ACKNOWLEDGE), move |r| {
        acknowledge::handle(s.clone(), r)
    })
    .await?;
    Ok(())
}

/// 404 for minutes that do not exist (yet).
pub fn no_minutes(id: &ConferenceId) -> ApiError {
    ApiError::not_found(format!(
        "no minutes for conference {id}: it does not exist or its session has not ended yet (the draft opens when it ends)"
    ))
}

/// The reply for a conference's minutes, with the first page of attendance.
///
/// # Errors
/// `not_found`.
pub fn minutes_view(state: &MinutesState, id: &ConferenceId) -> Reply {
    minutes_page(state, &PageQuery::first(*id))
}

/// The reply for a conference's minutes, with the page of attendance asked for.
///
/// # Errors
/// `not_found`, or `invalid` for a bad page.
pub fn minutes_page(state: &MinutesState, query: &PageQuery) -> Reply {
    let id = &query.conference_id;
    let minutes = state.minutes.get(id).ok_or_else(|| no_minutes(id))?;
    json(&minutes.view(*id, hoinghi_runtime::input::page(query, minutes.attendance.len())?))
}

/// Decides a command on the minutes of a conference.
///
/// # Errors
/// `not_found` or the aggregate's refusal.
pub fn decide(
    state: &MinutesState,
    id: &ConferenceId,
    command: MinutesCommand,
) -> Result<Decision<MinutesEvent>, ApiError> {
    let minutes = state.minutes.get(id).ok_or_else(|| no_minutes(id))?;
    let events = minutes.handle(id, command)?;
    Ok(append(id, minutes.last_seq, events))
}

/// The append for events on the minutes' own subjects.
pub fn append(id: &ConferenceId, last_seq: u64, events: Vec<MinutesEvent>) -> Decision<MinutesEvent> {
    match events.into_iter().next() {
        None => Decision::Unchanged,
        Some(event) => Decision::Append(Append {
            subject: events::conference(MINUTES_SERVICE, id, event.event_type()),
            expect: Expect { filter: events::conference_filter(MINUTES_SERVICE, id), last_seq },
            event,
            conference_id: Some(*id),
            site_id: None,
        }),
    }
}

/// Runs a minutes command and answers with the minutes.
pub async fn run(store: Store, request: &Incoming, actor: String, id: ConferenceId, command: MinutesCommand) -> Reply {
    let meta = request.command(actor)?;
    store.execute(&meta, |state| decide(state, &id, command.clone()), |state, _| minutes_view(state, &id)).await
}

/// Exposed for the reaction: the open decision.
pub fn decide_open(
    state: &MinutesState,
    id: &ConferenceId,
    details: hoinghi_shared::events::ConferenceDetails,
    attendance: Vec<hoinghi_shared::api::AttendanceRecord>,
) -> Decision<MinutesEvent> {
    let existing = state.minutes.get(id);
    append(id, existing.map_or(0, |m| m.last_seq), Minutes::open(existing, details, attendance))
}
