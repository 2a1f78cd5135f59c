//! `hoinghi.v1.scheduling.sites.<site>.get` and `hoinghi.v1.scheduling.sites.<site>.ics`: a site
//! reads one of its own conferences, and its invitation to it as iCalendar.
//!
//! The site is the `<site>` token of the subject, which NATS permissions let only that site
//! publish on. A conference the site is not part of (neither its host bridge nor one of its linked
//! bridges) answers `not_found` exactly as a conference that does not exist, so that a site learns
//! nothing of the conferences it is not invited to.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use super::{conference_view, Store};
use crate::conference::Conference;
use crate::state::SchedulingState;

/// `sites.<site>.get` `{conference_id}`: the conference, as `conferences.get` answers it.
pub async fn get(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    store
        .query(|state| {
            own_conference(state, &body.conference_id, &site)?;
            conference_view(state, &body.conference_id)
        })
        .await
}

/// `sites.<site>.ics` `{conference_id}`: the site's invitation, as `conferences.ics` answers it.
pub async fn ics(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    let stamp = chrono::Utc::now();
    store
        .query(|state| {
            let conference = own_conference(state, &body.conference_id, &site)?;
            json(&crate::ics::for_site(conference, &body.conference_id, &site, stamp)?)
        })
        .await
}

/// Conference `id` if `site` is its host or one of its linked bridges.
///
/// # Errors
/// `not_found`, worded as for an unknown conference, otherwise.
pub fn own_conference<'a>(
    state: &'a SchedulingState,
    id: &ConferenceId,
    site: &SiteId,
) -> Result<&'a Conference, ApiError> {
    state
        .conferences
        .get(id)
        .filter(|c| {
            c.details.as_ref().is_some_and(|d| d.host_site.id == *site || d.sites.iter().any(|s| s.id == *site))
        })
        .ok_or_else(|| ApiError::not_found(format!("no conference {id}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::events::{ConferenceDetails, SchedulingEvent, SiteRef};
    use hoinghi_shared::ErrorCode;

    use super::*;

    fn site(id: &str) -> SiteId {
        SiteId::parse(id).unwrap()
    }

    /// Given a conference hosted by `tinh-uy` and linking `ba-be`, and `cho-don` invited nowhere.
    fn state(id: ConferenceId) -> SchedulingState {
        let sref = |id: &str| SiteRef { id: site(id), name: id.to_owned() };
        let details = ConferenceDetails::new(
            "Hội nghị",
            "Tỉnh ủy",
            ("2021-07-23T08:00:00+07:00", "2021-07-23T11:00:00+07:00"),
            sref("tinh-uy"),
            vec![sref("ba-be")],
        )
        .unwrap();
        let conference = given::<Conference>(id, [SchedulingEvent::ConferenceScheduled { details }]).state().clone();
        let mut state = SchedulingState::default();
        state.conferences.insert(id, conference);
        state
    }

    #[test]
    fn a_site_reads_only_the_conferences_it_is_part_of() {
        let id = ConferenceId::generate();
        let state = state(id);
        // Then the host and the linked bridge read it
        for invited in ["tinh-uy", "ba-be"] {
            assert!(own_conference(&state, &id, &site(invited)).is_ok(), "{invited}");
        }
        // And a site not invited is told exactly what an unknown conference would tell it
        let not_invited = own_conference(&state, &id, &site("cho-don")).unwrap_err();
        let other = ConferenceId::generate();
        let unknown = own_conference(&state, &other, &site("ba-be")).unwrap_err();
        assert_eq!(not_invited.code, ErrorCode::NotFound);
        assert_eq!(not_invited.message, format!("no conference {id}"));
        assert_eq!(unknown.message, format!("no conference {other}"));
    }
}
