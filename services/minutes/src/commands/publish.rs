//! `hoinghi.v1.minutes.persons.<person>.publish`: a minute-taker of the conference publishes the
//! approved minutes; from then on they are immutable.
//!
//! A document larger than the inline limit is stored in the records bucket first, then the event
//! that references it is appended ([`crate::document`]): the command decides once to render the
//! document and store it, then decides again to append, checking that the document it appends is
//! the one stored (if the minutes changed in between, it stores the new one and tries again).

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;
use hoinghi_shared::roles::actor;
use hoinghi_shared::ErrorCode;

use super::{command_reply, decide_minutes, Ctx};
use crate::document::{out_of_line, to_store, MOVED};
use crate::minutes::MinutesCommand;

/// How many times the document is stored again when the minutes changed while it was stored.
const ATTEMPTS: usize = 3;

/// Handles one request.
pub async fn handle(ctx: Ctx, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let at = chrono::Utc::now();
    let person = request.acting_person()?;
    let meta = request.command(actor::person(&person))?;
    let id = body.conference_id;
    let command = MinutesCommand::Publish { by: person, at };
    for attempt in 1..=ATTEMPTS {
        // The document, when it is too large to go inline (a refusal is left to the append below,
        // which decides on a state caught up with the log and answers it).
        let large = ctx
            .store
            .query(|state| {
                Ok(decide_minutes(state, &id, command.clone()).ok().as_ref().and_then(to_store).map(str::to_owned))
            })
            .await?;
        let stored = match large {
            Some(markdown) => Some(ctx.documents.store(&id, &markdown).await?),
            None => None,
        };
        let decide = |state: &_| out_of_line(decide_minutes(state, &id, command.clone())?, stored.as_ref());
        match ctx.store.execute(&meta, decide, |_, _| Ok(())).await {
            Err(e) if e.code == ErrorCode::Conflict && e.message == MOVED && attempt < ATTEMPTS => continue,
            outcome => outcome?,
        }
        break;
    }
    command_reply(&ctx, id).await
}
