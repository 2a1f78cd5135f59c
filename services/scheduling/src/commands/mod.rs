//! One file per command; [`register`] wires each to its subject.

mod audit;
mod cancel;
mod create;
mod get;
mod lifecycle;
mod register_site;

use hoinghi_runtime::host::Host;
use hoinghi_runtime::store::{Append, Decision, EventStore, Expect};
use hoinghi_shared::events::SchedulingEvent;
use hoinghi_shared::streams::SCHEDULING_SERVICE;
use hoinghi_shared::subjects::{events, scheduling as subjects};
use hoinghi_shared::{ApiError, ConferenceId};

use crate::conference::ConferenceCommand;
use crate::state::SchedulingState;

/// The scheduling store.
pub type Store = EventStore<SchedulingState>;

/// The actor recorded for every scheduling command.
pub const SECRETARIAT: &str = "secretariat";

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    let s = store.clone();
    host.endpoint("sites-register", subjects::REGISTER_SITE, move |r| register_site::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("conferences-create", subjects::CREATE, move |r| create::handle(s.clone(), r)).await?;
    for (name, subject, command) in [
        ("conferences-invite", subjects::INVITE, lifecycle::Lifecycle::Invite),
        ("conferences-start", subjects::START, lifecycle::Lifecycle::Start),
        ("conferences-end", subjects::END, lifecycle::Lifecycle::End),
    ] {
        let s = store.clone();
        host.endpoint(name, subject, move |r| lifecycle::handle(s.clone(), r, command)).await?;
    }
    let s = store.clone();
    host.endpoint("conferences-cancel", subjects::CANCEL, move |r| cancel::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("conferences-get", subjects::GET, move |r| get::handle(s.clone(), r)).await?;
    let s = store;
    host.endpoint("conferences-audit", subjects::AUDIT, move |r| audit::handle(s.clone(), r)).await?;
    Ok(())
}

/// Decides a command on one conference: the events its aggregate produces, as an append with the
/// conference's subject filter as the concurrency condition.
///
/// # Errors
/// The aggregate's refusal.
pub fn decide(
    state: &SchedulingState,
    id: &ConferenceId,
    command: ConferenceCommand,
) -> Result<Decision<SchedulingEvent>, ApiError> {
    let conference = state.conferences.get(id).cloned().unwrap_or_default();
    let events = conference.handle(id, command)?;
    Ok(match events.into_iter().next() {
        None => Decision::Unchanged,
        Some(event) => Decision::Append(Append {
            subject: events::conference(SCHEDULING_SERVICE, id, event_type(&event)),
            expect: Expect { filter: events::conference_filter(SCHEDULING_SERVICE, id), last_seq: conference.last_seq },
            event,
            conference_id: Some(*id),
            site_id: None,
        }),
    })
}

fn event_type(event: &SchedulingEvent) -> &'static str {
    use hoinghi_shared::events::DomainEvent;
    event.event_type()
}

/// The reply for a conference: its view, or 404.
///
/// # Errors
/// `not_found`.
pub fn conference_view(state: &SchedulingState, id: &ConferenceId) -> Result<bytes::Bytes, ApiError> {
    let view = state
        .conferences
        .get(id)
        .and_then(|c| c.view(id))
        .ok_or_else(|| ApiError::not_found(format!("no conference {id}")))?;
    hoinghi_runtime::host::json(&view)
}
