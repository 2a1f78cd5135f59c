//! `hoinghi.v1.minutes.sites.<site>.acknowledge`: a site confirms it received the published minutes.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{command_reply, decide_ack, Ctx};

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    let meta = request.command(format!("site:{site}"))?;
    let id = body.conference_id;
    ctx.store.execute(&meta, |state| decide_ack(state, &id, &site), |_, _| Ok(())).await?;
    command_reply(&ctx, id).await
}
