//! `hoinghi.v1.attendance.sites.<site>.schedule_seen`: the site has seen the conference's current
//! schedule (after a reschedule). A sequence that is not the current one is refused (409).

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ScheduleSeen;

use super::{site_command, Store};
use crate::roster::SiteCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ScheduleSeen = parse_body(&request.payload, "{conference_id, sequence}")?;
    site_command(store, request, body.conference_id, SiteCommand::SeeSchedule { sequence: body.sequence }).await
}
