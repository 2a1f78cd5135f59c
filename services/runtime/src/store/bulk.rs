//! Appending many independent events at once: each on its own aggregate (a site's subjects) with its
//! own condition and command id, published asynchronously and acknowledged in bulk rather than one
//! round trip each (the reminders of 20,000 silent sites). Each event is offered to the projection
//! when its acknowledgement arrives, as [`EventStore::append`] does.

use async_nats::HeaderMap;
use hoinghi_shared::events::EventEnvelope;

use super::append::map_publish_error;
use super::{Append, AppendError, CommandMeta, EventMeta, EventStore, Projection};

/// How many publishes are in flight before their acknowledgements are awaited.
const WINDOW: usize = 1024;

impl<P: Projection> EventStore<P> {
    /// The JetStream context the store writes through (the service's event-writer identity).
    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.js
    }

    /// Appends every event, each with its own condition and command id, without waiting for one
    /// acknowledgement before sending the next. Returns one result per event, in order: its stream
    /// sequence (the original's for a duplicate command), [`AppendError::Conflict`] if its
    /// aggregate changed since it was decided (decide it again), or another [`AppendError`].
    pub async fn append_many(&self, appends: Vec<(Append<P::Event>, CommandMeta)>) -> Vec<Result<u64, AppendError>> {
        let mut results = Vec::with_capacity(appends.len());
        let mut queue = appends.into_iter();
        let mut highest = 0;
        loop {
            let chunk: Vec<_> = queue.by_ref().take(WINDOW).collect();
            if chunk.is_empty() {
                break;
            }
            let mut sent = Vec::with_capacity(chunk.len());
            for (append, meta) in chunk {
                let mut envelope = EventEnvelope::head(&append.event, meta.actor.clone());
                envelope.conference_id = append.conference_id;
                envelope.site_id = append.site_id.clone();
                envelope.command_id = Some(meta.command_id.clone());
                envelope.causation_id = meta.causation_id;
                envelope.trace_id = Some(meta.trace.trace_id.clone());
                let payload = match envelope.encode_with(&append.event) {
                    Ok(payload) => payload,
                    Err(e) => {
                        sent.push(Err(AppendError::Encode(e.to_string())));
                        continue;
                    }
                };
                let mut headers = HeaderMap::new();
                headers.insert("Nats-Msg-Id", meta.command_id.as_str());
                headers.insert("Nats-Expected-Last-Subject-Sequence", append.expect.last_seq.to_string().as_str());
                headers.insert("Nats-Expected-Last-Subject-Sequence-Subject", append.expect.filter.as_str());
                meta.trace.child().inject_on_event(&mut headers);
                match self.js.publish_with_headers(append.subject.clone(), headers, payload.into()).await {
                    Ok(ack) => sent.push(Ok((ack, envelope, append))),
                    Err(e) => sent.push(Err(map_publish_error(e))),
                }
            }
            for item in sent {
                let (ack, envelope, append) = match item {
                    Ok(item) => item,
                    Err(e) => {
                        results.push(Err(e));
                        continue;
                    }
                };
                match ack.await {
                    Ok(ack) => {
                        if !ack.duplicate {
                            let local = EventMeta::of(ack.sequence, append.subject, envelope);
                            let applied = {
                                let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
                                guard.offer(local, append.event)
                            };
                            self.applied.advance(applied);
                            highest = highest.max(ack.sequence);
                        }
                        results.push(Ok(ack.sequence));
                    }
                    Err(e) => results.push(Err(map_publish_error(e))),
                }
            }
        }
        if highest > self.applied.applied() {
            self.fill_gap_soon();
        }
        results
    }
}
