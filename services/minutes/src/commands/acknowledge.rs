//! `hoinghi.v1.minutes.sites.<site>.acknowledge`: a site confirms it received the published minutes.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{decide_ack, minutes_view, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    let meta = request.command(format!("site:{site}"))?;
    let id = body.conference_id;
    store.execute(&meta, |state| decide_ack(state, &id, &site), |state, _| minutes_view(state, &id)).await
}
