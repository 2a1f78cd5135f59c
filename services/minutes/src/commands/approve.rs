//! `hoinghi.v1.minutes.persons.<person>.approve`: the chair the conference binds to that person
//! approves the submitted minutes, recorded as that person with their chair's name.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ApproveMinutes;

use super::{run_as_person, Ctx};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: ApproveMinutes = parse_body(&request.payload, "{conference_id}")?;
    run_as_person(ctx, &request, body.conference_id, |by| MinutesCommand::Approve { by }).await
}
