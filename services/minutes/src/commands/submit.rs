//! `hoinghi.v1.minutes.persons.<person>.submit`: a minute-taker of the conference sends the draft
//! to the chairs.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{run_as_person, Ctx};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    run_as_person(ctx, &request, body.conference_id, |by| MinutesCommand::Submit { by }).await
}
