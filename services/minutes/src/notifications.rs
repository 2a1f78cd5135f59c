//! Each invited site's notification that the minutes were published: a durable reaction on the
//! minutes service's own `minutes_published` (the service that knows the fact), one notification
//! per invited site on `hoinghi.v1.notifications.<site>.minutes_published`, written in bulk with
//! `Nats-Msg-Id` derived from the event and the site, so a redelivery writes nothing twice.

use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::notifications::{Notification, NotificationKind};

use crate::commands::Store;
use crate::SERVICE;

/// The durable subscription to the service's own publications.
pub fn subscription() -> Subscription {
    Subscription::to_types("minutes-notifications", SERVICE, &[MinutesEvent::MINUTES_PUBLISHED])
}

fn retry(e: impl std::fmt::Display) -> ReactionError {
    ReactionError::Retry(e.to_string())
}

/// Notifies every invited site of the published minutes.
///
/// # Errors
/// `Retry` while the state or the notifications stream is unavailable.
pub async fn on_event(store: Store, received: Received) -> Result<(), ReactionError> {
    let MinutesEvent::MinutesPublished { sha256, .. } = received.event()? else { return Ok(()) };
    let id = received.conference_id()?;
    store.catch_up().await.map_err(|e| retry(e.message))?;
    let Some(details) = store.read(|s| s.minutes.get(&id).and_then(|m| m.details.clone())) else {
        return Err(retry("the minutes' conference is not there yet"));
    };
    let text = format!("Biên bản {} đã được công bố; đề nghị xác nhận đã nhận.", details.title);
    let all: Vec<Notification> = details
        .sites
        .iter()
        .map(|site| Notification {
            kind: NotificationKind::MinutesPublished,
            site_id: site.id.clone(),
            conference_id: id,
            title: details.title.clone(),
            starts_at: Some(details.starts_at),
            ends_at: Some(details.ends_at),
            schedule_sequence: 0,
            reason: None,
            offset_s: None,
            minutes_sha256: Some(sha256.clone()),
            text: text.clone(),
            caused_by: received.envelope.id,
            occurred_at: received.envelope.occurred_at,
        })
        .collect();
    hoinghi_runtime::notify::publish_all(store.jetstream(), &all).await.map_err(retry)?;
    Ok(())
}
