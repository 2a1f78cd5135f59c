//! What scheduling does when other services report: published minutes close the conference.

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ErrorCode, Service};

use crate::commands::{decide_conference, Store};
use crate::conference::ConferenceCommand;

/// The durable subscription to published minutes.
pub fn subscription() -> Subscription {
    Subscription {
        durable: "scheduling-on-minutes-published",
        source: Service::Minutes,
        filters: vec![events::of_type(Service::Minutes, MinutesEvent::MINUTES_PUBLISHED)],
    }
}

/// Closes the conference whose minutes were published.
///
/// # Errors
/// `Retry` while the log is unavailable; `Permanent` for an event that cannot apply.
pub async fn on_event(store: Store, received: Received) -> Result<(), ReactionError> {
    let event: MinutesEvent = received.envelope.decode().map_err(|e| ReactionError::Retry(e.to_string()))?;
    let MinutesEvent::MinutesPublished { sha256, .. } = event else { return Ok(()) };
    let Some(id) = received.envelope.conference_id else {
        return Err(ReactionError::Permanent("minutes_published without a conference id".into()));
    };
    let meta = received.command(crate::SERVICE);
    let result = store
        .execute(
            &meta,
            |state| decide_conference(state, &id, ConferenceCommand::Close { minutes_sha256: sha256.clone() }),
            |_, _| Ok(()),
        )
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.code == ErrorCode::Unavailable => Err(ReactionError::Retry(e.message)),
        Err(e) => Err(ReactionError::Permanent(e.message)),
    }
}
