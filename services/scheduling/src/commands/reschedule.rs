//! `hoinghi.v1.scheduling.conferences.reschedule`: move a conference that has not started to a new
//! time, with a reason (rules in [`crate::reschedule`]).

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RescheduleConference;

use super::{conference_command, Store};
use crate::conference::ConferenceCommand;
use crate::reschedule::Reschedule;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: RescheduleConference =
        parse_body(&request.payload, "{conference_id, starts_at, ends_at, reason, reanswer?}")?;
    let id = body.conference_id;
    let command = move || {
        ConferenceCommand::Reschedule(Box::new(Reschedule {
            starts_at: body.starts_at,
            ends_at: body.ends_at,
            reason: body.reason.clone(),
            reanswer: body.reanswer,
            now: chrono::Utc::now(),
        }))
    };
    conference_command(store, &request, id, command).await
}
