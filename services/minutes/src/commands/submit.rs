//! `hoinghi.v1.minutes.submit`: the minute-taker sends the draft to the chairs.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{run, Store, MINUTE_TAKER};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    run(store, &request, MINUTE_TAKER.into(), body.conference_id, MinutesCommand::Submit).await
}
