//! `hoinghi.v1.scheduling.conferences.get`: read a conference.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{conference_view, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    store.query(|state| conference_view(state, &body.conference_id)).await
}
