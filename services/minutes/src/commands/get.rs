//! `hoinghi.v1.minutes.get`: read the minutes (any status; the document once published).

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::PageQuery;

use super::{minutes_page, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: PageQuery = parse_body(&request.payload, "{conference_id, offset?, limit?}")?;
    store.query(|state| minutes_page(state, &body)).await
}
