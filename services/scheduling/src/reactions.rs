//! What scheduling does when other services report: published minutes close the conference.

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::{ErrorCode, Service};

use crate::commands::{decide_conference, Store};
use crate::conference::ConferenceCommand;

/// The durable subscription to published minutes.
pub fn subscription() -> Subscription {
    Subscription::to_types("scheduling-on-minutes-published", Service::Minutes, &[MinutesEvent::MINUTES_PUBLISHED])
}

/// Closes the conference whose minutes were published.
///
/// # Errors
/// `Retry` while the log is unavailable; `Permanent` for an event that cannot apply.
pub async fn on_event(store: Store, received: Received) -> Result<(), ReactionError> {
    let MinutesEvent::MinutesPublished { sha256, .. } = received.event()? else { return Ok(()) };
    let id = received.conference_id()?;
    let meta = received.command(crate::SERVICE);
    let result = store
        .execute(
            &meta,
            |state| decide_conference(state, &id, ConferenceCommand::Close { minutes_sha256: sha256.clone() }),
            |_, _| Ok(()),
        )
        .await;
    result.map_err(|e| ReactionError::refused(e, &[ErrorCode::Unavailable]))
}
