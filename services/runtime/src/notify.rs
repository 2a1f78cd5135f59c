//! Each site's notifications, in the `HOINGHI_NOTIFICATIONS` stream: written in bulk by the service
//! that knows the fact ([`publish_all`]), listed by a site since a cursor ([`list`]).
//!
//! Writing: every notification is published without waiting for the one before, with its
//! `Nats-Msg-Id` ([`Notification::message_id`]: the causing event, the kind and the site), and the
//! acknowledgements are awaited in bulk; a fan-out written again (a redelivered cause) is dropped by
//! the stream's duplicate window. Listing: an ordered consumer on `hoinghi.v1.notifications.<site>.>`
//! from the sequence after the cursor, so a site reads only its own subjects, whatever the request.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use async_nats::HeaderMap;
use futures::StreamExt;
use hoinghi_shared::notifications::{Notification, NotificationEntry};
use hoinghi_shared::streams::NOTIFICATIONS;
use hoinghi_shared::subjects::notifications;
use hoinghi_shared::SiteId;

/// How many publishes are in flight before their acknowledgements are awaited.
const WINDOW: usize = 1024;

/// How long a list waits for the next message before it answers with what it has.
const STALL: Duration = Duration::from_secs(5);

/// Writes every notification on its site's subject, acknowledged in bulk. Returns how many the
/// stream stored for the first time (the others were duplicates).
///
/// # Errors
/// A notification could not be written (the caller retries the whole fan-out: the ones already
/// stored are then duplicates).
pub async fn publish_all(js: &jetstream::Context, all: &[Notification]) -> anyhow::Result<usize> {
    let mut stored = 0;
    for chunk in all.chunks(WINDOW) {
        let mut acks = Vec::with_capacity(chunk.len());
        for n in chunk {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", n.message_id().as_str());
            let payload = serde_json::to_vec(n)?;
            let subject = notifications::site(&n.site_id, n.kind.token());
            acks.push(
                js.publish_with_headers(subject, headers, payload.into())
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot write a notification: {e}"))?,
            );
        }
        for ack in acks {
            let ack = ack.await.map_err(|e| anyhow::anyhow!("a notification was not stored: {e}"))?;
            if !ack.duplicate {
                stored += 1;
            }
        }
    }
    Ok(stored)
}

/// The notifications of `site` after the stream sequence `since`, oldest first, at most `limit`;
/// the last sequence read (`since` if none); and whether more follow.
///
/// # Errors
/// The stream could not be read.
pub async fn list(
    js: &jetstream::Context,
    site: &SiteId,
    since: u64,
    limit: usize,
) -> anyhow::Result<(Vec<NotificationEntry>, u64, bool)> {
    let stream = js.get_stream(NOTIFICATIONS.name).await.map_err(|e| anyhow::anyhow!("{}: {e}", NOTIFICATIONS.name))?;
    let mut consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: notifications::site_all(site),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: since.saturating_add(1) },
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading the notifications of {site}: {e}"))?;
    let pending = consumer.info().await.map_err(|e| anyhow::anyhow!("{e}"))?.num_pending;
    let mut out = Vec::new();
    if pending == 0 || limit == 0 {
        return Ok((out, since, pending > 0));
    }
    let mut messages = consumer.messages().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mut more, mut last) = (false, since);
    while out.len() < limit {
        let message = match tokio::time::timeout(STALL, messages.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(Some(Err(e))) => return Err(anyhow::anyhow!("reading the notifications of {site}: {e}")),
            Ok(None) | Err(_) => break,
        };
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (seq, left) = (info.stream_sequence, info.pending);
        last = seq;
        match serde_json::from_slice::<Notification>(&message.payload) {
            // Only the site's own: its subjects, and its id in the body.
            Ok(notification) if notification.site_id == *site => {
                out.push(NotificationEntry { seq, notification });
            }
            Ok(_) | Err(_) => {
                tracing::warn!(seq, subject = %message.subject, "not a notification of this site; skipped")
            }
        }
        more = left > 0;
        if left == 0 {
            break;
        }
    }
    Ok((out, last, more))
}
