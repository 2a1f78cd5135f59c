//! One file per command; [`register`] wires each to its subject.

mod audit;
mod cancel;
mod create;
mod get;
mod ics;
mod lifecycle;
mod register_site;
mod reschedule;
mod site_reads;

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::{Host, Incoming, Reply};
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
    host.endpoint_with("sites-register", subjects::REGISTER_SITE, &store, register_site::handle).await?;
    host.endpoint_with("conferences-create", subjects::CREATE, &store, create::handle).await?;
    for (name, subject, command) in [
        ("conferences-invite", subjects::INVITE, lifecycle::Lifecycle::Invite),
        ("conferences-start", subjects::START, lifecycle::Lifecycle::Start),
        ("conferences-end", subjects::END, lifecycle::Lifecycle::End),
    ] {
        let s = store.clone();
        host.endpoint(name, subject, move |r| lifecycle::handle(s.clone(), r, command)).await?;
    }
    host.endpoint_with("conferences-cancel", subjects::CANCEL, &store, cancel::handle).await?;
    host.endpoint_with("conferences-reschedule", subjects::RESCHEDULE, &store, reschedule::handle).await?;
    host.endpoint_with("conferences-get", subjects::GET, &store, get::handle).await?;
    host.endpoint_with("conferences-ics", subjects::ICS, &store, ics::handle).await?;
    host.endpoint_with("conferences-audit", subjects::AUDIT, &store, audit::handle).await?;
    host.endpoint_with("sites-get", &subjects::any_site(subjects::SITE_GET), &store, site_reads::get).await?;
    host.endpoint_with("sites-ics", &subjects::any_site(subjects::SITE_ICS), &store, site_reads::ics).await?;
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

/// Runs the secretariat's `command` (made again for each attempt) on conference `id` of `request`,
/// and answers the conference.
pub async fn conference_command(
    store: Store,
    request: &Incoming,
    id: ConferenceId,
    command: impl Fn() -> ConferenceCommand,
) -> Reply {
    let meta = request.command(SECRETARIAT)?;
    store.execute(&meta, |state| decide_conference(state, &id, command()), |state, _| conference_view(state, &id)).await
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
