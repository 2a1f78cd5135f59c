//! `hoinghi.v1.minutes.publish`: the minute-taker publishes the approved minutes; from then on they
//! are immutable.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{run, Store, MINUTE_TAKER};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let command = MinutesCommand::Publish { at: chrono::Utc::now() };
    run(store, &request, MINUTE_TAKER.into(), body.conference_id, command).await
}
