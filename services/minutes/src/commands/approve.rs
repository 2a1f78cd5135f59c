//! `hoinghi.v1.minutes.approve`: a chair of the conference approves the submitted minutes.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ApproveMinutes;

use super::{run, Store};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ApproveMinutes = parse_body(&request.payload, "{conference_id, approved_by}")?;
    let actor = format!("chair:{}", body.approved_by.trim());
    run(store, &request, actor, body.conference_id, MinutesCommand::Approve { by: body.approved_by }).await
}
