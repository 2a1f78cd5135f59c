//! `hoinghi.v1.minutes.record`: the minute-taker records one agenda item of the draft.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RecordItem;

use super::{run, Store, MINUTE_TAKER};
use crate::minutes::MinutesCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: RecordItem = parse_body(
        &request.payload,
        "{conference_id, item, speakers:[string], summary, conclusions:[string], tasks:[{description, owner_site, due}]}",
    )?;
    let command = MinutesCommand::Record {
        item: body.item,
        speakers: body.speakers,
        summary: body.summary,
        conclusions: body.conclusions,
        tasks: body.tasks,
    };
    run(store, &request, MINUTE_TAKER.into(), body.conference_id, command).await
}
