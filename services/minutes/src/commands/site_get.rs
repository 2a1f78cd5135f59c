//! `hoinghi.v1.minutes.sites.<site>.get`: a site reads the minutes of one of its own conferences,
//! as `hoinghi.v1.minutes.get` answers them.
//!
//! The site is the `<site>` token of the subject, which NATS permissions let only that site publish
//! on. Minutes of a conference the site is not part of (neither its host bridge nor one of its
//! linked bridges) answer `not_found` exactly as minutes that do not exist, so that a site learns
//! nothing of the conferences it is not invited to.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::GetMinutes;

use super::{get::EXPECTED, minutes_reply, Ctx};
use crate::minutes::no_minutes;

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: GetMinutes = parse_body(&request.payload, EXPECTED)?;
    let site = request.acting_site()?;
    let id = body.conference_id;
    minutes_reply(&ctx, &body, true, |state| {
        let invited = state.minutes.get(&id).is_some_and(|m| m.is_participant(&site));
        if invited {
            Ok(())
        } else {
            Err(no_minutes(&id))
        }
    })
    .await
}
