//! `hoinghi.v1.attendance.sites.<site>.check_in`: the site's bridge is present.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{site_command, Store};
use crate::roster::SiteCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    site_command(store, request, body.conference_id, SiteCommand::CheckIn).await
}
