//! One file per command; [`register`] wires each to its subject.

mod audit;
mod cancel;
mod create;
mod get;
mod ics;
mod lifecycle;
mod register_site;
mod reschedule;

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::Host;
use hoinghi_runtime::store::{Decision, EventStore};
use hoinghi_shared::events::SchedulingEvent;
use hoinghi_shared::subjects::scheduling as subjects;
use hoinghi_shared::{ApiError, ConferenceId};

use crate::conference::{Conference, ConferenceCommand};
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
    host.endpoint("conferences-reschedule", subjects::RESCHEDULE, move |r| reschedule::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("conferences-get", subjects::GET, move |r| get::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("conferences-ics", subjects::ICS, move |r| ics::handle(s.clone(), r)).await?;
    let s = store;
    host.endpoint("conferences-audit", subjects::AUDIT, move |r| audit::handle(s.clone(), r)).await?;
    Ok(())
}

/// Decides a command on one conference: its aggregate ([`Conference::default`], never scheduled,
/// when unknown) decides, and addresses the event.
///
/// # Errors
/// The aggregate's refusal.
pub fn decide_conference(
    state: &SchedulingState,
    id: &ConferenceId,
    command: ConferenceCommand,
) -> Result<Decision<SchedulingEvent>, ApiError> {
    let never_scheduled = Conference::default();
    decide(state.conferences.get(id).unwrap_or(&never_scheduled), id, command)
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
