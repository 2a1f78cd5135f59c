//! One file per command; [`register`] wires each to its subject.

mod board;
mod check_in;
mod confirm;
mod decline;
mod floor;
pub mod quorum;
mod roll_call;
mod roster;
mod schedule_seen;
pub mod technical_check;

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::store::{Decision, EventStore};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::{attendance as subjects, site_of_command};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::roster::{no_roster, Roster, RosterCommand, SiteCommand};
use crate::state::AttendanceState;

/// The attendance store.
pub type Store = EventStore<AttendanceState>;

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    let s = store.clone();
    host.endpoint("sites-confirm", &subjects::any_site(subjects::CONFIRM), move |r| confirm::handle(s.clone(), r))
        .await?;
    let s = store.clone();
    host.endpoint("sites-decline", &subjects::any_site(subjects::DECLINE), move |r| decline::handle(s.clone(), r))
        .await?;
    let s = store.clone();
    host.endpoint("sites-check-in", &subjects::any_site(subjects::CHECK_IN), move |r| check_in::handle(s.clone(), r))
        .await?;
    let s = store.clone();
    host.endpoint("sites-schedule-seen", &subjects::any_site(subjects::SCHEDULE_SEEN), move |r| {
        schedule_seen::handle(s.clone(), r)
    })
    .await?;
    technical_check::register(host, &store).await?;
    let s = store.clone();
    host.endpoint("roll-call", subjects::ROLL_CALL, move |r| roll_call::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("quorum", subjects::QUORUM, move |r| quorum::handle(s.clone(), r)).await?;
    board::register(host, &store).await?;
    floor::register(host, &store).await?;
    let s = store;
    host.endpoint("roster", subjects::ROSTER, move |r| roster::handle(s.clone(), r)).await?;
    Ok(())
}

/// The site a request acts for: the `<site>` token of its subject, never a body field.
///
/// # Errors
/// `invalid` for a token that is not a site id.
pub fn acting_site(request: &Incoming) -> Result<SiteId, ApiError> {
    let token = site_of_command(&request.subject).unwrap_or_default();
    SiteId::parse(token).map_err(|e| ApiError::invalid(format!("subject {}: {e}", request.subject)))
}

/// Decides a site's command on the roster of conference `id` (never opened, when unknown): the
/// roster admits it, the site's entry decides it.
///
/// # Errors
/// The roster's or the entry's refusal.
pub fn decide_site(
    state: &AttendanceState,
    id: &ConferenceId,
    site: &SiteId,
    command: SiteCommand,
) -> Result<Decision<AttendanceEvent>, ApiError> {
    let never_opened = Roster::default();
    state.rosters.get(id).unwrap_or(&never_opened).decide_site(id, site, command)
}

/// Runs a site's command: decided by the site's aggregate, appended on the site's subject, answered
/// with the site's line of the roster.
pub async fn site_command(store: Store, request: Incoming, id: ConferenceId, command: SiteCommand) -> Reply {
    let site = acting_site(&request)?;
    let meta = request.command(format!("site:{site}"))?;
    store
        .execute(
            &meta,
            |state| decide_site(state, &id, &site, command.clone()),
            |state, seq| {
                let roster = state.rosters.get(&id).filter(|r| r.is_opened()).ok_or_else(|| no_roster(&id))?;
                if let Some(seq) = seq {
                    if !roster.took_effect(seq) {
                        // The roster was sealed between deciding and appending: the event is void.
                        roster.ensure_open(&id)?;
                    }
                }
                json(&roster.site_view(id, &site).ok_or_else(|| no_roster(&id))?)
            },
        )
        .await
}

/// Decides a roster command (from scheduling's events) on the roster of conference `id` (never
/// opened, when unknown). Close and cancel are fenced by the roster's address.
///
/// # Errors
/// The roster's refusal.
pub fn decide_roster(
    state: &AttendanceState,
    id: &ConferenceId,
    command: RosterCommand,
) -> Result<Decision<AttendanceEvent>, ApiError> {
    let never_opened = Roster::default();
    decide(state.rosters.get(id).unwrap_or(&never_opened), id, command)
}
