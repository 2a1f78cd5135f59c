//! What minutes does when attendance reports: a closed roster opens the draft, holding the agenda
//! and the attendance record as it happened.

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::{ErrorCode, Service};

use crate::commands::{decide_minutes, Store};
use crate::minutes::MinutesCommand;

/// The durable subscription to closed rosters.
pub fn subscription() -> Subscription {
    Subscription::to_types("minutes-on-roster-closed", Service::Attendance, &[AttendanceEvent::ROSTER_CLOSED])
}

/// Opens the draft.
///
/// # Errors
/// `Retry` while the log is unavailable; `Permanent` for an event that cannot apply.
pub async fn on_event(store: Store, received: Received) -> Result<(), ReactionError> {
    let AttendanceEvent::RosterClosed { details, attendance, quorum, speakers } = received.event()? else {
        return Ok(());
    };
    let id = received.conference_id()?;
    let meta = received.command(crate::SERVICE);
    let open = MinutesCommand::Open { details: Box::new(details), attendance, quorum, speakers };
    let result = store.execute(&meta, |state| decide_minutes(state, &id, open.clone()), |_, _| Ok(())).await;
    result.map_err(|e| ReactionError::refused(e, &[ErrorCode::Unavailable, ErrorCode::Conflict]))
}
