//! What minutes does when attendance reports: a closed roster opens the draft, holding the agenda
//! and the attendance record as it happened (inline, or out of line: [`crate::record`]).

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::{ErrorCode, Service};

use crate::commands::{decide_minutes, Store};
use crate::minutes::MinutesCommand;
use crate::record::Loader;

/// The durable subscription to closed rosters.
pub fn subscription() -> Subscription {
    Subscription::to_types("minutes-on-roster-closed", Service::Attendance, &[AttendanceEvent::ROSTER_CLOSED])
}

/// Opens the draft. A record `roster_closed` kept out of line is read back and checked first; the
/// draft's opening then references the same object, and the record is filled in.
///
/// # Errors
/// `Retry` while the log or the object store is unavailable; `Permanent` for an event that cannot
/// apply, or a record that does not match its reference.
pub async fn on_event(store: Store, loader: Loader, received: Received) -> Result<(), ReactionError> {
    let AttendanceEvent::RosterClosed { details, attendance, quorum, speakers, record } = received.event()? else {
        return Ok(());
    };
    let id = received.conference_id()?;
    let meta = received.command(crate::SERVICE);
    if let Some(reference) = &record {
        loader.read_for_opening(reference).await.map_err(|e| {
            if e.is_transient() {
                ReactionError::Retry(e.to_string())
            } else {
                ReactionError::Permanent(e.to_string())
            }
        })?;
    }
    // Out of line, the command carries the reference only: the event carries nothing more.
    let open =
        MinutesCommand::Open { details: Box::new(details), attendance, quorum, speakers, record: record.clone() };
    let result = store.execute(&meta, |state| decide_minutes(state, &id, open.clone()), |_, _| Ok(())).await;
    // Filled in now (unless the watch did as the event was applied), and never kept in hand.
    if let Some(reference) = &record {
        loader.fill_in_hand(&id, reference);
    }
    result.map_err(|e| ReactionError::refused(e, &[ErrorCode::Unavailable, ErrorCode::Conflict]))
}
