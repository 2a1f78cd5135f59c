//! What minutes does when attendance reports: a closed roster opens the draft, holding the agenda
//! and the attendance record as it happened.

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ErrorCode, Service};

use crate::commands::{decide_minutes, Store};
use crate::minutes::MinutesCommand;

/// The durable subscription to closed rosters.
pub fn subscription() -> Subscription {
    Subscription {
        durable: "minutes-on-roster-closed",
        source: Service::Attendance,
        filters: vec![events::of_type(Service::Attendance, AttendanceEvent::ROSTER_CLOSED)],
    }
}

/// Opens the draft.
///
/// # Errors
/// `Retry` while the log is unavailable; `Permanent` for an event that cannot apply.
pub async fn on_event(store: Store, received: Received) -> Result<(), ReactionError> {
    let event: AttendanceEvent = received.envelope.decode().map_err(|e| ReactionError::Retry(e.to_string()))?;
    let AttendanceEvent::RosterClosed { details, attendance, quorum, speakers } = event else { return Ok(()) };
    let Some(id) = received.envelope.conference_id else {
        return Err(ReactionError::Permanent("roster_closed without a conference id".into()));
    };
    let meta = received.command(crate::SERVICE);
    let open = MinutesCommand::Open { details: Box::new(details), attendance, quorum, speakers };
    let result = store.execute(&meta, |state| decide_minutes(state, &id, open.clone()), |_, _| Ok(())).await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.code, ErrorCode::Unavailable | ErrorCode::Conflict) => {
            Err(ReactionError::Retry(e.message))
        }
        Err(e) => Err(ReactionError::Permanent(e.message)),
    }
}
