//! `hoinghi.v1.attendance.roster`: the secretariat's view of who answered and who is present.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{no_roster, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let id = body.conference_id;
    store.query(|state| json(&state.rosters.get(&id).ok_or_else(|| no_roster(&id))?.view(id))).await
}
