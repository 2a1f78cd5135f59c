//! `hoinghi.v1.scheduling.conferences.ics`: one site's invitation as an iCalendar object
//! ([`crate::ics`]).

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::IcsRequest;

use super::Store;
use crate::conference::Conference;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: IcsRequest = parse_body(&request.payload, "{conference_id, site}")?;
    let stamp = chrono::Utc::now();
    store
        .query(|state| {
            let never_scheduled = Conference::default();
            let conference = state.conferences.get(&body.conference_id).unwrap_or(&never_scheduled);
            let reply = crate::ics::for_site(conference, &body.conference_id, &body.site, stamp)?;
            hoinghi_runtime::host::json(&reply)
        })
        .await
}
