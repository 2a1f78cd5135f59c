//! `hoinghi.v1.minutes.persons.<person>.request_changes`: the chair the conference binds to that
//! person asks for changes to the submitted version instead of approving it; the minutes become a
//! draft again for the minute-taker to revise.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RequestChanges;

use super::{run_as_person, Ctx};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: RequestChanges = parse_body(&request.payload, "{conference_id, comment}")?;
    let comment = body.comment;
    run_as_person(ctx, &request, body.conference_id, |by| MinutesCommand::RequestChanges { by, comment }).await
}
