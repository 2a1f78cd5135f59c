//! One file per command; [`register`] wires each to its subject.

mod acknowledge;
mod approve;
mod export;
mod get;
pub mod notice;
mod publish;
mod receipts;
mod record;
mod request_changes;
mod submit;
mod tasks;

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::store::{Decision, EventStore};
use hoinghi_shared::api::{DocumentForm, GetMinutes, PageQuery};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::subjects::minutes as subjects;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::minutes::{no_minutes, Minutes, MinutesCommand};
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
    host.endpoint("request-changes", subjects::REQUEST_CHANGES, move |r| request_changes::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("publish", subjects::PUBLISH, move |r| publish::handle(s.clone(), r)).await?;
    let s = store.clone();
    host.endpoint("get", subjects::GET, move |r| get::handle(s.clone(), r)).await?;
    tasks::register(host, &store).await?;
    let s = store;
    host.endpoint("sites-acknowledge", &subjects::any_site(subjects::ACKNOWLEDGE), move |r| {
        acknowledge::handle(s.clone(), r)
    })
    .await?;
    Ok(())
}

/// The reply for a conference's minutes, with the first page of attendance.
///
/// # Errors
/// `not_found`.
pub fn minutes_view(state: &MinutesState, id: &ConferenceId) -> Reply {
    minutes_page(state, &PageQuery::first(*id).into())
}

/// The reply for a conference's minutes (as they are now, or the version asked for), with the page
/// of attendance asked for.
///
/// # Errors
/// `not_found` (also for a version never submitted), or `invalid` for a bad page.
pub fn minutes_page(state: &MinutesState, query: &GetMinutes) -> Reply {
    let id = &query.conference_id;
    let minutes = state.minutes.get(id).filter(|m| m.is_opened()).ok_or_else(|| no_minutes(id))?;
    let range = hoinghi_runtime::input::page(&query.page(), minutes.attendance.len())?;
    match (query.version, query.form) {
        (Some(_), Some(DocumentForm::Html)) => {
            Err(ApiError::invalid("the HTML form is that of the published minutes: ask for it without a version"))
        }
        (None, Some(DocumentForm::Html)) => json(&minutes.html_view(*id, range)?),
        (Some(version), _) => json(&minutes.version_view(*id, range, version)?),
        (None, _) => json(&minutes.view(*id, range).ok_or_else(|| no_minutes(id))?),
    }
}

/// Decides a command on the minutes of conference `id` (not opened, when unknown): the aggregate
/// decides, and addresses the event.
///
/// # Errors
/// The aggregate's refusal (`not_found` before the draft opened).
pub fn decide_minutes(
    state: &MinutesState,
    id: &ConferenceId,
    command: MinutesCommand,
) -> Result<Decision<MinutesEvent>, ApiError> {
    let not_opened = Minutes::default();
    decide(state.minutes.get(id).unwrap_or(&not_opened), id, command)
}

/// Decides a site's acknowledgement of the minutes of conference `id` (not opened, when unknown):
/// the minutes admit it, the site's acknowledgement decides it.
///
/// # Errors
/// The refusal of either.
pub fn decide_ack(state: &MinutesState, id: &ConferenceId, site: &SiteId) -> Result<Decision<MinutesEvent>, ApiError> {
    let not_opened = Minutes::default();
    state.minutes.get(id).unwrap_or(&not_opened).decide_ack(id, site)
}

/// Runs a minutes command and answers with the minutes.
pub async fn run(store: Store, request: &Incoming, actor: String, id: ConferenceId, command: MinutesCommand) -> Reply {
    let meta = request.command(actor)?;
    store.execute(&meta, |state| decide_minutes(state, &id, command.clone()), |state, _| minutes_view(state, &id)).await
}
