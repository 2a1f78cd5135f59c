//! `hoinghi.v1.minutes.get`: read the minutes (any status; the document once published).

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{minutes_view, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    store.query(|state| minutes_view(state, &body.conference_id)).await
}
