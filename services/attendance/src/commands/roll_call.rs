//! `hoinghi.v1.attendance.roll_call` `{conference_id, site, present, people?, reason?}`: the
//! secretariat takes the roll of one bridge during the session; answers the bridge's line of the
//! roster.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RollCall;
use hoinghi_shared::roles::actor;
use hoinghi_shared::ApiError;

use super::{roster_command, Store};
use crate::roll_call::RollCallCommand;
use crate::roster::no_roster;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: RollCall = parse_body(&request.payload, "{conference_id, site, present, people?, reason?}")?;
    let meta = request.command(actor::SECRETARIAT)?;
    let (id, site) = (body.conference_id, body.site);
    let command = RollCallCommand { present: body.present, people: body.people, reason: body.reason };
    roster_command(
        &store,
        &meta,
        id,
        |roster| roster.decide_roll_call(&id, &site, command.clone()),
        |roster, _, took_effect| {
            if !took_effect {
                // The session ended between deciding and appending: the roll call is void.
                return Err(ApiError::conflict(format!(
                    "the session of conference {id} ended before the roll call arrived"
                )));
            }
            json(&roster.site_view(id, &site).ok_or_else(|| no_roster(&id))?)
        },
    )
    .await
}
