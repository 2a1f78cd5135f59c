//! `hoinghi.v1.attendance.sites.<site>.status`: the site reads its own line of the roster (its
//! answer, its delegates, its check-in, its technical check). A query: nothing is appended. An
//! unknown conference and a site not on its roster are both 404, so a site learns nothing of the
//! conferences it is not invited to.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::{ConferenceRef, SiteAttendance};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use super::{opened_roster, Store};
use crate::roster::no_roster;
use crate::state::AttendanceState;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    store.query(|state| json(&site_status(state, body.conference_id, &site)?)).await
}

/// `site`'s line of the opened roster of conference `id`.
///
/// # Errors
/// `not_found` when the conference is unknown, its roster not opened, or `site` not on it.
pub fn site_status(state: &AttendanceState, id: ConferenceId, site: &SiteId) -> Result<SiteAttendance, ApiError> {
    opened_roster(state, &id)?.site_view(id, site).ok_or_else(|| no_roster(&id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hoinghi_shared::api::AttendanceStatus;
    use hoinghi_shared::events::AttendanceEvent;
    use hoinghi_shared::{ConferenceId, ErrorCode};

    use super::site_status;
    use crate::testing::{delegate, details, opened, site};

    #[test]
    fn a_site_reads_its_own_answer_and_check_in() {
        // Given a roster where Ba Bể confirmed with one delegate and checked in, Na Rì declined
        let log = opened(details())
            .site("ba-be", AttendanceEvent::AttendanceConfirmed { delegates: vec![delegate().into()], headcount: 3 })
            .site("ba-be", AttendanceEvent::SiteCheckedIn {})
            .site("na-ri", AttendanceEvent::AttendanceDeclined { reason: "lũ".into() });
        let seq = log.last_seq();
        // When each site reads its status
        let ba_be = site_status(&log.state, log.id, &site("ba-be")).unwrap();
        let na_ri = site_status(&log.state, log.id, &site("na-ri")).unwrap();
        let pac_nam = site_status(&log.state, log.id, &site("pac-nam")).unwrap();
        // Then each gets its own line, as the roster has it, and nothing was appended
        assert_eq!(ba_be.status, AttendanceStatus::CheckedIn);
        assert_eq!(ba_be.delegates.len(), 1);
        assert_eq!(ba_be.headcount, 3);
        assert!(ba_be.checked_in_at.is_some());
        assert_eq!(na_ri.status, AttendanceStatus::Declined);
        assert_eq!(na_ri.decline_reason.as_deref(), Some("lũ"));
        assert_eq!(pac_nam.status, AttendanceStatus::Invited);
        assert_eq!(log.last_seq(), seq);
    }

    #[test]
    fn an_uninvited_site_and_an_unknown_conference_are_not_found() {
        // Given a roster of Ba Bể, Na Rì and Pác Nặm
        let log = opened(details());
        // When a site not on it, or any site of an unknown conference, reads its status
        let uninvited = site_status(&log.state, log.id, &site("cho-don")).unwrap_err();
        let unknown = site_status(&log.state, ConferenceId::generate(), &site("ba-be")).unwrap_err();
        // Then both are 404, alike
        assert_eq!(uninvited.code, ErrorCode::NotFound);
        assert_eq!(unknown.code, ErrorCode::NotFound);
    }
}
