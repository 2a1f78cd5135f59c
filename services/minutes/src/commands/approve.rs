//! `hoinghi.v1.minutes.approve`: a chair of the conference approves the submitted minutes.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ApproveMinutes;

use super::{run, Store};
use crate::minutes::MinutesCommand;

/// The actor recorded for an approval: the role that NATS permissions pin to this subject. The
/// approving person is not an authenticated identity; their name (one of the conference's chairs,
/// checked by the aggregate) is kept in the event's `approved_by`.
pub const CHAIR: &str = "chair";

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ApproveMinutes = parse_body(&request.payload, "{conference_id, approved_by}")?;
    run(store, &request, CHAIR.to_owned(), body.conference_id, MinutesCommand::Approve { by: body.approved_by }).await
}
