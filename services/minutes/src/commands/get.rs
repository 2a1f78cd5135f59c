//! `hoinghi.v1.minutes.get`: read the minutes (any status; the document once published), or one
//! submitted version of them with what changed from the version before.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::GetMinutes;

use super::{minutes_page, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: GetMinutes = parse_body(&request.payload, "{conference_id, offset?, limit?, version?, form?}")?;
    store.query(|state| minutes_page(state, &body)).await
}
