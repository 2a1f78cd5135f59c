//! `hoinghi.v1.attendance.board` (a board's snapshot of one conference) and
//! `hoinghi.v1.attendance.board.changes` (its changes since a sequence, read from the event log):
//! see [`crate::board`].

use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_runtime::log::Source;
use hoinghi_shared::api::PageQuery;
use hoinghi_shared::board::{BoardChange, BoardChanges, BoardChangesQuery, MAX_CHANGES};
use hoinghi_shared::limits::{json_len, REPLY_BUDGET};
use hoinghi_shared::subjects::{attendance as subjects, events};
use hoinghi_shared::ApiError;

use super::Store;
use crate::roster::no_roster;

/// Adds the two endpoints to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: &Store) -> anyhow::Result<()> {
    host.endpoint_with("board", subjects::BOARD, store, snapshot).await?;
    host.endpoint_with("board-changes", subjects::BOARD_CHANGES, store, changes).await?;
    Ok(())
}

/// The board: one page of lines and the session state, as of its `seq`.
async fn snapshot(store: Store, request: Incoming) -> Reply {
    let body: PageQuery = parse_body(&request.payload, "{conference_id, offset?, limit?}")?;
    let id = body.conference_id;
    store.query(|state| json(&crate::board::snapshot(state, id, &body)?)).await
}

/// The changes of a conference with `seq > since`, from the log, at most `limit` and within one
/// message.
async fn changes(store: Store, request: Incoming) -> Reply {
    let body: BoardChangesQuery = parse_body(&request.payload, "{conference_id, since, limit?}")?;
    let id = body.conference_id;
    if body.limit == 0 || body.limit > MAX_CHANGES {
        return Err(ApiError::invalid(format!("limit must be between 1 and {MAX_CHANGES}")));
    }
    store
        .query(|state| state.rosters.get(&id).filter(|r| r.is_opened()).map(|_| ()).ok_or_else(|| no_roster(&id)))
        .await?;
    let service = crate::SERVICE;
    let source = Source { stream: service.stream(), filter: events::conference_all(service, &id) };
    // The reply's own fields, and room for the commas between changes.
    let mut room = REPLY_BUDGET - 1024;
    let (mut list, mut full, mut prev) = (Vec::<BoardChange>::new(), false, body.since);
    let (_, left) = store
        .log()
        .read_from(&source, body.since.saturating_add(1), body.limit as u64, |message| {
            // Messages that are not events (junk) are no change.
            let Ok(envelope) = message.envelope else { return };
            if full {
                return;
            }
            let change = BoardChange {
                seq: message.seq,
                prev,
                event_type: envelope.event_type,
                site_id: envelope.site_id,
                occurred_at: envelope.occurred_at,
                data: envelope.data,
            };
            let len = json_len(&change) + 1;
            if len > room && !list.is_empty() {
                full = true;
                return;
            }
            room = room.saturating_sub(len);
            prev = change.seq;
            list.push(change);
        })
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    json(&BoardChanges { conference_id: id, since: body.since, changes: list, more: full || left > 0 })
}
