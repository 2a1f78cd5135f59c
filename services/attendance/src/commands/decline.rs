//! `hoinghi.v1.attendance.sites.<site>.decline`: the site will not attend, and says why.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::DeclineAttendance;

use super::{site_command, Store};
use crate::roster::SiteCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: DeclineAttendance = parse_body(&request.payload, "{conference_id, reason}")?;
    site_command(store, request, body.conference_id, SiteCommand::Decline { reason: body.reason }).await
}
