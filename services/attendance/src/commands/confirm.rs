//! `hoinghi.v1.attendance.sites.<site>.confirm`: the site will attend, with its named delegates.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConfirmAttendance;

use super::{site_command, Store};
use crate::roster::SiteCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConfirmAttendance = parse_body(&request.payload, "{conference_id, delegates:[{name,title}], headcount}")?;
    let command = SiteCommand::Confirm { delegates: body.delegates, headcount: body.headcount };
    site_command(store, request, body.conference_id, command).await
}
