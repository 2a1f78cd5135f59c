//! `hoinghi.v1.minutes.persons.<person>.publish`: a minute-taker of the conference publishes the
//! approved minutes; from then on they are immutable.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{run_as_person, Store};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let at = chrono::Utc::now();
    run_as_person(store, &request, body.conference_id, |by| MinutesCommand::Publish { by, at }).await
}
