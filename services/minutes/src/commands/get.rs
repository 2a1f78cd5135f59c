//! `hoinghi.v1.minutes.get`: read the minutes (any status; a page of the document once published),
//! or one submitted version of them with what changed from the version before.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::GetMinutes;

use super::{minutes_reply, Ctx};

/// What a request may hold, for the message of a malformed one.
pub const EXPECTED: &str =
    "{conference_id, offset?, limit?, version?, form?: \"markdown\" | \"html\", document_offset?, document_limit?}";

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: GetMinutes = parse_body(&request.payload, EXPECTED)?;
    minutes_reply(&ctx, &body, true, |_| Ok(())).await
}
