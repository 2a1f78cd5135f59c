//! The conclusions notice's subjects, and [`register`] for them and for the receipts and the
//! attendance export:
//! - `hoinghi.v1.minutes.notices.issue`: the secretariat issues the notice of published minutes;
//! - `hoinghi.v1.minutes.notices.get`: the notice, or before it is issued its deadline;
//! - `hoinghi.v1.minutes.notices.overdue`: the notices not issued by their deadline;
//! - `hoinghi.v1.minutes.sites.<site>.notice_acknowledge`: a site acknowledges receipt;
//! - `hoinghi.v1.minutes.sites.<site>.notice_get`: a site reads its own copy.

use std::sync::Arc;

use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::{ConferenceRef, IssueNotice, OverdueNotice, OverdueNotices, OverdueQuery};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::minutes as subjects;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use super::{export, receipts, serve, Store};
use crate::calendar::Calendar;
use crate::minutes::{no_minutes, Minutes};
use crate::notice::{items_of, today, Notice, NoticeCommand};
use crate::state::MinutesState;

/// Adds the notice's, the receipts' and the export's endpoints to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store, calendar: Arc<Calendar>) -> anyhow::Result<()> {
    serve(host, &store, "notices-issue", subjects::NOTICES_ISSUE, with_calendar(&calendar, issue)).await?;
    serve(host, &store, "notices-get", subjects::NOTICES_GET, with_calendar(&calendar, get)).await?;
    serve(host, &store, "notices-overdue", subjects::NOTICES_OVERDUE, with_calendar(&calendar, overdue)).await?;
    let (site_acknowledge, site_get_subject) =
        (subjects::any_site(subjects::NOTICE_ACKNOWLEDGE), subjects::any_site(subjects::NOTICE_GET));
    serve(host, &store, "sites-notice-acknowledge", &site_acknowledge, with_calendar(&calendar, acknowledge)).await?;
    serve(host, &store, "sites-notice-get", &site_get_subject, with_calendar(&calendar, site_get)).await?;
    serve(host, &store, "receipts", subjects::RECEIPTS, receipts::handle).await?;
    serve(host, &store, "attendance-export", subjects::ATTENDANCE_EXPORT, export::handle).await?;
    Ok(())
}

/// `handler` with the working-day calendar.
fn with_calendar<F, Fut>(
    calendar: &Arc<Calendar>,
    handler: F,
) -> impl Fn(Store, Incoming) -> Fut + Send + Sync + 'static
where
    F: Fn(Store, Arc<Calendar>, Incoming) -> Fut + Send + Sync + 'static,
{
    let calendar = calendar.clone();
    move |store, request| handler(store, calendar.clone(), request)
}

/// The minutes and the notice of conference `id`.
fn both<'a>(state: &'a MinutesState, id: &ConferenceId) -> Result<(&'a Minutes, &'a Notice), ApiError> {
    match (state.minutes.get(id).filter(|m| m.is_opened()), state.notices.get(id)) {
        (Some(m), Some(n)) => Ok((m, n)),
        _ => Err(no_minutes(id)),
    }
}

/// The reply for the notice of conference `id` (a site's own copy with `site`).
fn notice_view(state: &MinutesState, calendar: &Calendar, id: ConferenceId, site: Option<&SiteId>) -> Reply {
    let (minutes, notice) = both(state, &id)?;
    json(&notice.view(id, minutes, calendar, today(), site)?)
}

async fn issue(store: Store, calendar: Arc<Calendar>, request: Incoming) -> Reply {
    let body: IssueNotice = parse_body(&request.payload, "{conference_id, number, issued_on?: YYYY-MM-DD}")?;
    let meta = request.command(actor::SECRETARIAT)?;
    let id = body.conference_id;
    let today = today();
    let decide = |state: &MinutesState| {
        let (minutes, notice) = both(state, &id)?;
        let command = NoticeCommand::Issue {
            number: body.number.clone(),
            issued_on: body.issued_on,
            today,
            calendar: calendar.clone(),
            items: items_of(minutes, id),
        };
        hoinghi_runtime::aggregate::decide(notice, &id, command)
    };
    store.execute(&meta, decide, |state, _| notice_view(state, &calendar, id, None)).await
}

async fn get(store: Store, calendar: Arc<Calendar>, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    store.query(|state| notice_view(state, &calendar, body.conference_id, None)).await
}

async fn site_get(store: Store, calendar: Arc<Calendar>, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    store.query(|state| notice_view(state, &calendar, body.conference_id, Some(&site))).await
}

async fn acknowledge(store: Store, calendar: Arc<Calendar>, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    let meta = request.command(actor::site(&site))?;
    let id = body.conference_id;
    let decide = |state: &MinutesState| {
        let (_, notice) = both(state, &id)?;
        notice.decide_ack(&id, &site)
    };
    store.execute(&meta, decide, |state, _| notice_view(state, &calendar, id, Some(&site))).await
}

async fn overdue(store: Store, calendar: Arc<Calendar>, request: Incoming) -> Reply {
    let payload: &[u8] = if request.payload.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &request.payload };
    let body: OverdueQuery = parse_body(payload, "{as_of?: YYYY-MM-DD}")?;
    let as_of = body.as_of.unwrap_or_else(today);
    store.query(|state| json(&overdue_notices(state, &calendar, as_of))).await
}

/// The notices not issued by their deadline as of `as_of`, oldest deadline first.
pub fn overdue_notices(state: &MinutesState, calendar: &Calendar, as_of: chrono::NaiveDate) -> OverdueNotices {
    let mut notices: Vec<OverdueNotice> = state
        .notices
        .iter()
        .filter(|(_, n)| n.is_overdue(calendar, as_of))
        .filter_map(|(id, n)| {
            let minutes = state.minutes.get(id)?;
            let (day, deadline) = (n.conference_day?, n.deadline(calendar)?);
            Some(OverdueNotice {
                conference_id: *id,
                title: minutes.details.as_ref()?.title.clone(),
                conference_day: day,
                deadline: deadline.date,
                holidays_known: deadline.holidays_known,
                days_overdue: (as_of - deadline.date).num_days(),
                minutes_status: minutes.status?,
            })
        })
        .collect();
    notices.sort_by_key(|n| (n.deadline, n.conference_id.to_string()));
    OverdueNotices { as_of, notices }
}
