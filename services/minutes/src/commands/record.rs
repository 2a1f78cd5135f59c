//! `hoinghi.v1.minutes.persons.<person>.record`: a minute-taker of the conference records one agenda
//! item of the draft.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RecordItem;

use super::{run_as_person, Ctx};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: RecordItem = parse_body(
        &request.payload,
        "{conference_id, item, speakers:[string], summary, conclusions:[string], tasks:[{description, owner_site, due}]}",
    )?;
    let command = |by| MinutesCommand::Record {
        by,
        item: body.item,
        speakers: body.speakers,
        summary: body.summary,
        conclusions: body.conclusions,
        tasks: body.tasks,
    };
    run_as_person(ctx, &request, body.conference_id, command).await
}
