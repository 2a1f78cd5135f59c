//! `hoinghi.v1.minutes.receipts`: the sites that have not acknowledged the published minutes or the
//! issued conclusions notice, and how long they have been waited for.

use chrono::{DateTime, Utc};
use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::{page, parse_body};
use hoinghi_shared::api::{PageQuery, Receipts, SiteReceipts};
use hoinghi_shared::ConferenceId;

use super::Store;
use crate::minutes::no_minutes;
use crate::state::MinutesState;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: PageQuery = parse_body(&request.payload, "{conference_id, offset?, limit?}")?;
    store.query(|state| receipts(state, &body, Utc::now()).and_then(|r| json(&r))).await
}

/// The waiting sites of one conference, the page `query` asks for, waiting times as of `now`.
///
/// # Errors
/// `not_found` before the draft opened, `invalid` for a bad page.
pub fn receipts(
    state: &MinutesState,
    query: &PageQuery,
    now: DateTime<Utc>,
) -> Result<Receipts, hoinghi_shared::ApiError> {
    let id: ConferenceId = query.conference_id;
    let minutes = state.minutes.get(&id).filter(|m| m.is_opened()).ok_or_else(|| no_minutes(&id))?;
    let details = minutes.details.as_ref().ok_or_else(|| no_minutes(&id))?;
    let notice = state.notices.get(&id);
    let published = minutes.published_at;
    let issued = notice.and_then(|n| n.issued.as_ref()).map(|i| i.at);
    let seconds = |since: DateTime<Utc>| (now - since).num_seconds().max(0);
    let (mut minutes_waiting, mut notice_waiting) = (0, 0);
    let waiting: Vec<SiteReceipts> = details
        .sites
        .iter()
        .filter_map(|s| {
            let minutes_at = minutes.acks.get(&s.id).and_then(|a| a.at);
            let notice_at = notice.and_then(|n| n.receipts.get(&s.id)).and_then(|r| r.at);
            let minutes_since = published.filter(|_| minutes_at.is_none());
            let notice_since = issued.filter(|_| notice_at.is_none());
            minutes_waiting += usize::from(minutes_since.is_some());
            notice_waiting += usize::from(notice_since.is_some());
            (minutes_since.is_some() || notice_since.is_some()).then(|| SiteReceipts {
                site_id: s.id.clone(),
                site_name: s.name.clone(),
                minutes_acknowledged_at: minutes_at,
                minutes_waiting_since: minutes_since,
                minutes_waiting_seconds: minutes_since.map(seconds),
                notice_acknowledged_at: notice_at,
                notice_waiting_since: notice_since,
                notice_waiting_seconds: notice_since.map(seconds),
            })
        })
        .collect();
    let range = page(query, waiting.len())?;
    Ok(Receipts {
        conference_id: id,
        as_of: now,
        minutes_published_at: published,
        notice_issued_at: issued,
        sites_total: details.sites.len(),
        minutes_waiting,
        notice_waiting,
        waiting_total: waiting.len(),
        offset: range.start,
        sites: waiting.get(range).unwrap_or_default().to_vec(),
    })
}
