//! `hoinghi.v1.minutes.request_changes`: a chair of the conference asks for changes to the submitted
//! version instead of approving it; the minutes become a draft again for the minute-taker to revise.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RequestChanges;

use super::approve::CHAIR;
use super::{run, Store};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: RequestChanges = parse_body(&request.payload, "{conference_id, requested_by, comment}")?;
    let command = MinutesCommand::RequestChanges { by: body.requested_by, comment: body.comment };
    run(store, &request, CHAIR.to_owned(), body.conference_id, command).await
}
