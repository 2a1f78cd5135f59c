//! One file per command; [`register`] wires each to its subject.

mod board;
mod check_in;
pub mod close;
mod confirm;
mod decline;
mod floor;
pub mod quorum;
mod roll_call;
mod roster;
mod schedule_seen;
mod status;
pub mod technical_check;

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::reaction::ReactionError;
use hoinghi_runtime::store::{CommandMeta, Decision, EventStore};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::attendance as subjects;
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode, SiteId};

use crate::roster::{no_roster, Roster, RosterCommand, SiteCommand};
use crate::state::AttendanceState;

/// The attendance store.
pub type Store = EventStore<AttendanceState>;

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    host.endpoint_with("sites-confirm", &subjects::any_site(subjects::CONFIRM), &store, confirm::handle).await?;
    host.endpoint_with("sites-decline", &subjects::any_site(subjects::DECLINE), &store, decline::handle).await?;
    host.endpoint_with("sites-check-in", &subjects::any_site(subjects::CHECK_IN), &store, check_in::handle).await?;
    host.endpoint_with("sites-status", &subjects::any_site(subjects::STATUS), &store, status::handle).await?;
    host.endpoint_with(
        "sites-schedule-seen",
        &subjects::any_site(subjects::SCHEDULE_SEEN),
        &store,
        schedule_seen::handle,
    )
    .await?;
    technical_check::register(host, &store).await?;
    host.endpoint_with("roll-call", subjects::ROLL_CALL, &store, roll_call::handle).await?;
    host.endpoint_with("quorum", subjects::QUORUM, &store, quorum::handle).await?;
    board::register(host, &store).await?;
    floor::register(host, &store).await?;
    host.endpoint_with("roster", subjects::ROSTER, &store, roster::handle).await?;
    Ok(())
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
    on_roster(state, id, |roster| roster.decide_site(id, site, command))
}

/// Runs a site's command: decided by the site's aggregate, appended on the site's subject, answered
/// with the site's line of the roster.
pub async fn site_command(store: Store, request: Incoming, id: ConferenceId, command: SiteCommand) -> Reply {
    let site = request.acting_site()?;
    let meta = request.command(format!("site:{site}"))?;
    roster_command(
        &store,
        &meta,
        id,
        |roster| roster.decide_site(&id, &site, command.clone()),
        |roster, _, _| json(&roster.site_view(id, &site).ok_or_else(|| no_roster(&id))?),
    )
    .await
}

/// Runs a command on the roster of conference `id` (never opened, when unknown): `decide` decides
/// it; `answer` answers from the opened roster, given where the command's event was appended (if
/// anything was) and whether it took effect (see [`answering_roster`]).
///
/// # Errors
/// The refusals of `decide`, [`answering_roster`] and `answer`; the store's.
pub async fn roster_command<T>(
    store: &Store,
    meta: &CommandMeta,
    id: ConferenceId,
    decide: impl Fn(&Roster) -> Result<Decision<AttendanceEvent>, ApiError>,
    answer: impl Fn(&Roster, Option<u64>, bool) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    store
        .execute(
            meta,
            |state| on_roster(state, &id, &decide),
            |state, seq| {
                let (roster, took_effect) = answering_roster(state, &id, seq)?;
                answer(roster, seq, took_effect)
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
    on_roster(state, id, |roster| decide(roster, id, command))
}

/// Hands `f` the roster of conference `id`, or a never-opened one when it is unknown (for deciding
/// a command on it).
pub fn on_roster<T>(state: &AttendanceState, id: &ConferenceId, f: impl FnOnce(&Roster) -> T) -> T {
    match state.rosters.get(id) {
        Some(roster) => f(roster),
        None => f(&Roster::default()),
    }
}

/// The opened roster of conference `id`.
///
/// # Errors
/// `not_found` when it is unknown or not opened yet.
pub fn opened_roster<'a>(state: &'a AttendanceState, id: &ConferenceId) -> Result<&'a Roster, ApiError> {
    state.rosters.get(id).filter(|r| r.is_opened()).ok_or_else(|| no_roster(id))
}

/// The opened roster of conference `id` to answer a command with, and whether the command's event
/// (appended at `seq`, if anything was) took effect on it. An event that did not take effect
/// because the roster was sealed between deciding and appending answers the roster's refusal.
///
/// # Errors
/// `not_found` without an opened roster; the sealed roster's refusal.
pub fn answering_roster<'a>(
    state: &'a AttendanceState,
    id: &ConferenceId,
    seq: Option<u64>,
) -> Result<(&'a Roster, bool), ApiError> {
    let roster = opened_roster(state, id)?;
    let took_effect = seq.is_none_or(|seq| roster.took_effect(seq));
    if !took_effect {
        roster.ensure_open(id)?;
    }
    Ok((roster, took_effect))
}

/// Runs a reaction's command on the attendance log: the error a reaction answers for a refusal,
/// retried while the log is unavailable, the roster not there yet or a race was lost.
///
/// # Errors
/// `Retry` for `unavailable`, `not_found` and `conflict`; `Permanent` otherwise.
pub async fn react(
    store: &Store,
    meta: &CommandMeta,
    decide: impl Fn(&AttendanceState) -> Result<Decision<AttendanceEvent>, ApiError>,
) -> Result<(), ReactionError> {
    store
        .execute(meta, decide, |_, _| Ok(()))
        .await
        .map_err(|e| ReactionError::refused(e, &[ErrorCode::Unavailable, ErrorCode::NotFound, ErrorCode::Conflict]))
}
