//! `hoinghi.v1.scheduling.conferences.create`: schedule a conference.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::CreateConference;
use hoinghi_shared::{ApiError, ConferenceId};

use super::{conference_view, decide_conference, Store, SECRETARIAT};
use crate::conference::{plan, ConferenceCommand};

const EXPECTED: &str =
    "{title, organizer, starts_at, ends_at, host_site, sites:[site id], chairs:[{name,title,person_id}], minute_takers:[person id], guests:[{name,title}], agenda:[{title}]}";

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: CreateConference = parse_body(&request.payload, EXPECTED)?;
    let meta = request.command(SECRETARIAT)?;
    let id = ConferenceId::generate();
    store
        .execute(
            &meta,
            |state| {
                let details = plan(&body, &state.sites)?;
                decide_conference(state, &id, ConferenceCommand::Schedule(Box::new(details)))
            },
            |state, seq| {
                // A repeated command (same idempotency key) answers with the conference it created
                // the first time, not the id generated for this attempt.
                let created = seq.and_then(|s| state.scheduled_at.get(&s)).copied().unwrap_or(id);
                if !state.conferences.contains_key(&created) {
                    return Err(ApiError::unavailable("the conference was scheduled but is not visible yet"));
                }
                conference_view(state, &created)
            },
        )
        .await
}
