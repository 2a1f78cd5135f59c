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
mod site_get;
mod submit;
mod tasks;

use std::borrow::Cow;
use std::future::Future;

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::store::{Decision, EventStore};
use hoinghi_shared::api::{DocumentForm, GetMinutes, PageQuery};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::minutes as subjects;
use hoinghi_shared::{ApiError, ConferenceId, PersonId, SiteId};

use crate::minutes::{no_minutes, Minutes, MinutesCommand};
use crate::state::MinutesState;

/// The minutes store.
pub type Store = EventStore<MinutesState>;

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    let person = |action| subjects::any_person(action);
    serve(host, &store, "persons-record", &person(subjects::RECORD), record::handle).await?;
    serve(host, &store, "persons-submit", &person(subjects::SUBMIT), submit::handle).await?;
    serve(host, &store, "persons-approve", &person(subjects::APPROVE), approve::handle).await?;
    serve(host, &store, "persons-request-changes", &person(subjects::REQUEST_CHANGES), request_changes::handle).await?;
    serve(host, &store, "persons-publish", &person(subjects::PUBLISH), publish::handle).await?;
    serve(host, &store, "get", subjects::GET, get::handle).await?;
    serve(host, &store, "sites-get", &subjects::any_site(subjects::SITE_GET), site_get::handle).await?;
    tasks::register(host, &store).await?;
    serve(host, &store, "sites-acknowledge", &subjects::any_site(subjects::ACKNOWLEDGE), acknowledge::handle).await?;
    Ok(())
}

/// Adds endpoint `name` on `subject` to the host, each request handled by `handler` with the store.
///
/// # Errors
/// The server refused the subscription.
pub async fn serve<F, Fut>(host: &Host, store: &Store, name: &str, subject: &str, handler: F) -> anyhow::Result<()>
where
    F: Fn(Store, Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let store = store.clone();
    host.endpoint(name, subject, move |request| handler(store.clone(), request)).await
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
    decide(&*minutes_of(state, id), id, command)
}

/// Decides a site's acknowledgement of the minutes of conference `id` (not opened, when unknown):
/// the minutes admit it, the site's acknowledgement decides it.
///
/// # Errors
/// The refusal of either.
pub fn decide_ack(state: &MinutesState, id: &ConferenceId, site: &SiteId) -> Result<Decision<MinutesEvent>, ApiError> {
    minutes_of(state, id).decide_ack(id, site)
}

/// The minutes of conference `id`, or minutes not opened when it is unknown.
fn minutes_of<'a>(state: &'a MinutesState, id: &ConferenceId) -> Cow<'a, Minutes> {
    state.minutes.get(id).map_or_else(|| Cow::Owned(Minutes::default()), Cow::Borrowed)
}

/// Runs a person's minutes command (made by `command` from the person of the subject, which NATS
/// lets only that person publish on) on conference `id`, recorded as `person:<id>`, and answers with
/// the minutes.
pub async fn run_as_person(
    store: Store,
    request: &Incoming,
    id: ConferenceId,
    command: impl FnOnce(PersonId) -> MinutesCommand,
) -> Reply {
    let person = request.acting_person()?;
    let meta = request.command(actor::person(&person))?;
    let command = command(person);
    store.execute(&meta, |state| decide_minutes(state, &id, command.clone()), |state, _| minutes_view(state, &id)).await
}
