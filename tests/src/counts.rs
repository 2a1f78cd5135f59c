//! What the streams hold, counted on any JetStream context: the one home of the counters of
//! [`crate::Stack`] and [`crate::secure::SecureStack`].

use anyhow::Context as _;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::Context;
use hoinghi_shared::streams::DEAD_LETTERS;

use crate::service::Service;

/// How many messages a stream holds.
///
/// # Errors
/// The stream does not exist or JetStream did not answer.
pub async fn stream_messages(js: &Context, stream: &str) -> anyhow::Result<u64> {
    let stream = js.get_stream(stream).await.with_context(|| format!("stream {stream}"))?;
    Ok(stream.cached_info().state.messages)
}

/// How many messages a stream holds, 0 for a stream not created yet.
async fn messages_or_none(js: &Context, stream: &str) -> anyhow::Result<u64> {
    match js.get_stream(stream).await {
        Ok(stream) => Ok(stream.cached_info().state.messages),
        Err(e) if matches!(e.kind(), GetStreamErrorKind::JetStream(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// How many messages of a stream match a subject filter (e.g.
/// `hoinghi.v1.events.minutes.<conference>.draft_opened`).
///
/// # Errors
/// The stream does not exist or JetStream did not answer.
pub async fn count_events(js: &Context, stream: &str, filter: &str) -> anyhow::Result<usize> {
    Ok(crate::bulk::count_by_subject(js, stream, filter).await?.values().sum())
}

/// Messages in the scheduling, attendance and minutes streams (0 for a stream not created yet).
///
/// # Errors
/// JetStream did not answer.
pub async fn event_totals(js: &Context) -> anyhow::Result<[u64; 3]> {
    let mut totals = [0; 3];
    for (total, service) in totals.iter_mut().zip(Service::ALL) {
        *total = messages_or_none(js, service.stream().name).await?;
    }
    Ok(totals)
}

/// How many events reactions parked in `HOINGHI_DEAD_LETTERS` (0 if the stream does not exist).
///
/// # Errors
/// JetStream did not answer.
pub async fn dead_letters(js: &Context) -> anyhow::Result<u64> {
    messages_or_none(js, DEAD_LETTERS.name).await
}
