//! `hoinghi.v1.attendance.roster`: the secretariat's view of who answered and who is present.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::page;
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::PageQuery;

use super::{opened_roster, Store};
use crate::roster::no_roster;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: PageQuery = parse_body(&request.payload, "{conference_id, offset?, limit?}")?;
    let id = body.conference_id;
    store
        .query(|state| {
            let roster = opened_roster(state, &id)?;
            json(&roster.view(id, page(&body, roster.invited().len())?).ok_or_else(|| no_roster(&id))?)
        })
        .await
}
