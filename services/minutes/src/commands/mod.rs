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
use hoinghi_shared::api::{DocumentForm, GetMinutes, MinutesStatus, PageQuery};
use hoinghi_shared::events::{MinutesEvent, StoredObject};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::minutes as subjects;
use hoinghi_shared::{ApiError, ConferenceId, PersonId, SiteId};

use crate::document::Documents;
use crate::minutes::{no_minutes, DocumentText, DocumentWindow, Minutes, MinutesCommand};
use crate::state::MinutesState;

/// The minutes store.
pub type Store = EventStore<MinutesState>;

/// What the endpoints that answer with the minutes need: the store, and the published documents
/// stored out of line ([`crate::document`]).
#[derive(Clone)]
pub struct Ctx {
    /// The minutes store.
    pub store: Store,
    /// The published documents.
    pub documents: Documents,
}

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, ctx: Ctx) -> anyhow::Result<()> {
    let person = |action| subjects::any_person(action);
    serve_minutes(host, &ctx, "persons-record", &person(subjects::RECORD), record::handle).await?;
    serve_minutes(host, &ctx, "persons-submit", &person(subjects::SUBMIT), submit::handle).await?;
    serve_minutes(host, &ctx, "persons-approve", &person(subjects::APPROVE), approve::handle).await?;
    let request_changes = &person(subjects::REQUEST_CHANGES);
    serve_minutes(host, &ctx, "persons-request-changes", request_changes, request_changes::handle).await?;
    serve_minutes(host, &ctx, "persons-publish", &person(subjects::PUBLISH), publish::handle).await?;
    serve_minutes(host, &ctx, "get", subjects::GET, get::handle).await?;
    serve_minutes(host, &ctx, "sites-get", &subjects::any_site(subjects::SITE_GET), site_get::handle).await?;
    tasks::register(host, &ctx.store).await?;
    let acknowledge = &subjects::any_site(subjects::ACKNOWLEDGE);
    serve_minutes(host, &ctx, "sites-acknowledge", acknowledge, acknowledge::handle).await?;
    Ok(())
}

/// Adds endpoint `name` on `subject` to the host, each request handled by `handler` with the
/// store and the documents.
///
/// # Errors
/// The server refused the subscription.
async fn serve_minutes<F, Fut>(host: &Host, ctx: &Ctx, name: &str, subject: &str, handler: F) -> anyhow::Result<()>
where
    F: Fn(Ctx, Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let ctx = ctx.clone();
    host.endpoint(name, subject, move |request| handler(ctx.clone(), request)).await
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

/// The reply for a conference's minutes as `query` asks for them (as they are now, or the version
/// asked for; the page of attendance and the page of the published document asked for), once
/// `admit` lets the caller read them. With `catch_up`, the state first catches up with the log (a
/// read); without, it is read as it is (the reply to a command, whose state holds its event).
///
/// The whole published document is obtained first, outside the state's lock: the Markdown stored
/// out of line read back ([`Documents::markdown`], checked against the hash the minutes published),
/// or the HTML form from the cache or rendered ([`Documents::html`]); then the reply is built
/// from the state and that text ([`minutes_page`]).
///
/// # Errors
/// `admit`'s refusal; `not_found` (also for a version never submitted), `invalid` for a bad page
/// of attendance or of the document, `conflict` for the HTML form of minutes not published,
/// `unavailable` if the document cannot be read back.
pub async fn minutes_reply(
    ctx: &Ctx,
    query: &GetMinutes,
    catch_up: bool,
    admit: impl Fn(&MinutesState) -> Result<(), ApiError>,
) -> Reply {
    let id = &query.conference_id;
    let published = |state: &MinutesState| {
        admit(state)?;
        Ok::<_, ApiError>(state.minutes.get(id).and_then(Published::of))
    };
    let published = if catch_up { ctx.store.query(published).await? } else { ctx.store.read(published)? };
    let html = query.form == Some(DocumentForm::Html);
    let document = match published {
        // The version asked for is refused by the page builder; only the published form is rendered.
        Some(p) if html && query.version.is_none() => {
            Some(ctx.documents.html(&ctx.store, *id, p.html_sha256.as_deref()).await?)
        }
        Some(p) if !html => ctx.documents.stored_markdown(p.object.as_ref(), p.sha256.as_deref()).await?,
        _ => None,
    };
    ctx.store.read(|state| minutes_page(state, query, document.as_deref()))
}

/// What a reply needs to know of published minutes to obtain their document outside the state's
/// lock.
struct Published {
    /// The Markdown stored out of line (`None`: inline in the state).
    object: Option<StoredObject>,
    /// The whole Markdown's SHA-256.
    sha256: Option<String>,
    /// The HTML form's SHA-256.
    html_sha256: Option<String>,
}

impl Published {
    /// `minutes`' publication, `None` when they are not published.
    fn of(minutes: &Minutes) -> Option<Self> {
        (minutes.status == Some(MinutesStatus::Published)).then(|| Self {
            object: minutes.document.clone(),
            sha256: minutes.sha256.clone(),
            html_sha256: minutes.html_sha256.clone(),
        })
    }
}

/// The reply for a conference's minutes, as [`minutes_reply`], from the state as it is, with
/// `document` the whole published document of the form asked for when the caller obtained it
/// (the Markdown when it is stored out of line, the HTML form always); an inline Markdown is taken
/// from the state.
///
/// # Errors
/// As [`minutes_reply`].
pub fn minutes_page(state: &MinutesState, query: &GetMinutes, document: Option<&str>) -> Reply {
    let id = &query.conference_id;
    let minutes = state.minutes.get(id).filter(|m| m.is_opened()).ok_or_else(|| no_minutes(id))?;
    minutes.ensure_record(id)?;
    let range = hoinghi_runtime::input::page(&query.page(), minutes.attendance.len())?;
    let window = DocumentWindow::from(query);
    let just_published =
        || ApiError::unavailable(format!("the minutes of conference {id} were published just now; read them again"));
    match (query.version, query.form) {
        (Some(_), Some(DocumentForm::Html)) => {
            Err(ApiError::invalid("the HTML form is that of the published minutes: ask for it without a version"))
        }
        (None, Some(DocumentForm::Html)) => {
            // Not published: the refusal says so.
            minutes.publication(id)?;
            let html = document.ok_or_else(just_published)?;
            json(&minutes.paged_view(*id, range, None, Some(DocumentText::html(html)), window)?)
        }
        (version, _) => {
            let text = document.or(minutes.markdown.as_deref());
            if text.is_none() && minutes.document.is_some() {
                // Published out of line between the read of the state and now.
                return Err(just_published());
            }
            json(&minutes.paged_view(*id, range, version, text.map(DocumentText::markdown), window)?)
        }
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
/// the minutes ([`command_reply`]).
pub async fn run_as_person(
    ctx: Ctx,
    request: &Incoming,
    id: ConferenceId,
    command: impl FnOnce(PersonId) -> MinutesCommand,
) -> Reply {
    let person = request.acting_person()?;
    let meta = request.command(actor::person(&person))?;
    let command = command(person);
    ctx.store.execute(&meta, |state| decide_minutes(state, &id, command.clone()), |_, _| Ok(())).await?;
    command_reply(&ctx, id).await
}

/// The reply to a command on the minutes of conference `id`, from the state that holds its event:
/// the minutes with the first page of their attendance and of their published document.
///
/// # Errors
/// As [`minutes_reply`].
pub async fn command_reply(ctx: &Ctx, id: ConferenceId) -> Reply {
    minutes_reply(ctx, &PageQuery::first(id).into(), false, |_| Ok(())).await
}
