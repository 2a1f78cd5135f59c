//! The technical check's subjects: `hoinghi.v1.attendance.technical_check.open` and `.summary` (the
//! secretariat), `hoinghi.v1.attendance.sites.<site>.technical_check` (a site reports its own), and
//! the close on `session_started` (the reaction).

use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::input::{page, parse_body};
use hoinghi_runtime::reaction::{ReactionError, Received};
use hoinghi_shared::api::{ConferenceRef, PageQuery, ReportTechnicalCheck};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::attendance as subjects;
use hoinghi_shared::{ApiError, ConferenceId};

use super::{on_roster, opened_roster, react, roster_command, Store};
use crate::roster::{no_roster, Roster};
use crate::technical_check::{CheckCommand, ReportCommand};

/// Adds the check's endpoints to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: &Store) -> anyhow::Result<()> {
    host.endpoint_with("technical-check-open", subjects::TECHNICAL_CHECK_OPEN, store, open).await?;
    host.endpoint_with("technical-check-summary", subjects::TECHNICAL_CHECK_SUMMARY, store, summary).await?;
    host.endpoint_with("sites-technical-check", &subjects::any_site(subjects::TECHNICAL_CHECK), store, report).await?;
    Ok(())
}

/// The summary's first page, or its 404.
fn first_summary(
    roster: Option<&Roster>,
    id: ConferenceId,
) -> Result<hoinghi_shared::api::TechnicalCheckSummary, ApiError> {
    let roster = roster.filter(|r| r.is_opened()).ok_or_else(|| no_roster(&id))?;
    roster.check_summary(id, page(&PageQuery::first(id), roster.invited().len())?).ok_or_else(|| no_roster(&id))
}

/// `technical_check.open` `{conference_id}`: opens the check; answers the summary.
async fn open(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let id = body.conference_id;
    let meta = request.command(actor::SECRETARIAT)?;
    store
        .execute(
            &meta,
            |state| on_roster(state, &id, |roster| roster.decide_check(&id, CheckCommand::Open)),
            |state, _| json(&first_summary(state.rosters.get(&id), id)?),
        )
        .await
}

/// `technical_check.summary` `{conference_id, offset?, limit?}`: counts and one page of failing sites.
async fn summary(store: Store, request: Incoming) -> Reply {
    let body: PageQuery = parse_body(&request.payload, "{conference_id, offset?, limit?}")?;
    let id = body.conference_id;
    store
        .query(|state| {
            let roster = opened_roster(state, &id)?;
            let failing = roster.check_summary(id, 0..0).map_or(0, |s| s.total_failing);
            json(&roster.check_summary(id, page(&body, failing)?).ok_or_else(|| no_roster(&id))?)
        })
        .await
}

/// `sites.<site>.technical_check` `{conference_id, picture, sound, line}`: the site of the subject
/// reports; answers its check.
async fn report(store: Store, request: Incoming) -> Reply {
    let body: ReportTechnicalCheck =
        parse_body(&request.payload, "{conference_id, picture: {ok, note?}, sound: {ok, note?}, line: {ok, note?}}")?;
    let site = request.acting_site()?;
    let meta = request.command(actor::site(&site))?;
    let id = body.conference_id;
    let command = ReportCommand { picture: body.picture, sound: body.sound, line: body.line };
    roster_command(
        &store,
        &meta,
        id,
        |roster| roster.decide_check_report(&id, &site, command.clone()),
        |roster, seq, _| {
            if let Some(seq) = seq {
                if !roster.technical_check.took_effect(seq) {
                    return Err(ApiError::conflict(format!(
                        "the session of conference {id} started before the report arrived; its technical check \
                         is closed"
                    )));
                }
            }
            json(&roster.check_site_view(id, &site).ok_or_else(|| no_roster(&id))?)
        },
    )
    .await
}

/// On `session_started`: closes the conference's check (opened or not), so the roster and the
/// minutes show each site's check as it stood at the start.
///
/// # Errors
/// `Retry` while the log is unavailable or the roster is not there yet; `Permanent` otherwise.
pub async fn on_session_started(store: Store, received: &Received, id: ConferenceId) -> Result<(), ReactionError> {
    let meta = received.command(crate::SERVICE);
    react(&store, &meta, |state| on_roster(state, &id, |roster| roster.decide_check(&id, CheckCommand::Close))).await
}
