//! What attendance does when scheduling reports: invitations open the roster, the end of the session
//! closes it with the final record, the start of the session closes the technical check, a cancellation cancels it, a reschedule after the invitations
//! moves it (`roster_rescheduled`).

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_runtime::records::Records;
use hoinghi_shared::events::SchedulingEvent;
use hoinghi_shared::Service;

use crate::commands::{decide_roster, react, Store};
use crate::roster::RosterCommand;

/// The durable subscription to the scheduling events attendance needs.
pub fn subscription() -> Subscription {
    Subscription::to_types(
        "attendance-on-scheduling",
        Service::Scheduling,
        &[
            SchedulingEvent::INVITATIONS_ISSUED,
            SchedulingEvent::SESSION_STARTED,
            SchedulingEvent::SESSION_ENDED,
            SchedulingEvent::CONFERENCE_CANCELLED,
            SchedulingEvent::CONFERENCE_RESCHEDULED,
        ],
    )
}

/// Applies one scheduling event to the roster.
///
/// # Errors
/// `Retry` while the log is unavailable or the roster is not there yet; `Permanent` otherwise.
pub async fn on_event(store: Store, records: Records, received: Received) -> Result<(), ReactionError> {
    let event: SchedulingEvent = received.event()?;
    let id = received.conference_id()?;
    if let SchedulingEvent::SessionEnded {} = event {
        // The final record, out of line when it is too large for one event.
        return crate::commands::close::on_session_ended(&store, &records, &received, id).await;
    }
    if let SchedulingEvent::SessionStarted {} = event {
        crate::commands::technical_check::on_session_started(store.clone(), &received, id).await?;
        // The session is in progress once the check is closed: the quorum at the start.
        return crate::commands::quorum::on_session_started(store, &received, id).await;
    }
    let command = match event {
        SchedulingEvent::InvitationsIssued { details } => RosterCommand::Open(Box::new(details)),
        SchedulingEvent::ConferenceCancelled { was_invited: false, .. } => return Ok(()),
        SchedulingEvent::ConferenceCancelled { reason, .. } => RosterCommand::Cancel { reason },
        SchedulingEvent::ConferenceRescheduled { was_invited: false, .. } => return Ok(()),
        SchedulingEvent::ConferenceRescheduled { starts_at, ends_at, reason, sequence, reanswer, .. } => {
            RosterCommand::Reschedule(Box::new(crate::schedule::Moved {
                starts_at,
                ends_at,
                reason,
                sequence,
                reanswer,
            }))
        }
        _ => return Ok(()),
    };
    let meta = received.command(crate::SERVICE);
    // The record closes the intervals still open at the session's end time (the scheduling event's).
    let ended_at = received.envelope.occurred_at;
    react(&store, &meta, |state| {
        crate::presence::stamp_close(state, &id, decide_roster(state, &id, command.clone()), ended_at)
    })
    .await
}
