//! `hoinghi.v1.scheduling.conferences.cancel`: cancel a conference that has not been held.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::CancelConference;

use super::{conference_command, Store};
use crate::conference::ConferenceCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: CancelConference = parse_body(&request.payload, "{conference_id, reason}")?;
    conference_command(store, &request, body.conference_id, || ConferenceCommand::Cancel {
        reason: body.reason.clone(),
    })
    .await
}
