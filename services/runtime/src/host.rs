//! The micro-service host: endpoints discoverable through the NATS micro-service protocol
//! (`$SRV.PING`, `$SRV.INFO`, `$SRV.STATS`, [`crate::micro`]: counted per endpoint with each error,
//! announced only once every endpoint is subscribed), a bounded number of requests in flight, error
//! replies in the contract's shape, and a graceful stop that lets in-flight requests finish.
//!
//! What the host refuses before any handler runs:
//! - a request whose reply subject is not an inbox (`_INBOX.…`), or that has none: a reply is only
//!   ever sent to a requester's inbox, never to a subject a client chose (an event subject, the
//!   dead letters, the JetStream API). The request is logged and counted, not handled;
//! - a body larger than its subject takes ([`hoinghi_shared::sizes::max_request_bytes`]): `too_large`
//!   at once, before parsing, so that bursts of maximum-size messages cost little.
//!
//! And after it: a reply larger than the server's `max_payload` is never dropped, it becomes a
//! `too_large` error that says to ask for a smaller page.
//!
//! The host's connection is the service's *API identity*: it may publish only to inboxes, so even a
//! bug in the check above cannot write into a stream; the events are appended through another
//! connection ([`crate::service::App`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use hoinghi_shared::error::ErrorBody;
use hoinghi_shared::headers::{IDEMPOTENCY_KEY, SERVICE_ERROR, SERVICE_ERROR_CODE};
use hoinghi_shared::ApiError;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn, Instrument};

use crate::micro::{EndpointStats, Micro, QUEUE_GROUP};
use crate::store::CommandMeta;
use crate::telemetry::TraceContext;

/// A request as a handler sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The subject it arrived on.
    pub subject: String,
    /// The body.
    pub payload: Bytes,
    /// The headers.
    pub headers: Option<HeaderMap>,
    /// The trace it belongs to.
    pub trace: TraceContext,
}

impl Incoming {
    /// The client's idempotency key, if it sent a valid one.
    ///
    /// # Errors
    /// `invalid` for a key that is empty, longer than 128 characters or not printable ASCII.
    pub fn idempotency_key(&self) -> Result<Option<String>, ApiError> {
        let Some(value) = self.headers.as_ref().and_then(|h| h.get(IDEMPOTENCY_KEY)) else {
            return Ok(None);
        };
        let key = value.as_str();
        if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid(format!(
                "{IDEMPOTENCY_KEY} must be 1 to 128 printable ASCII characters without spaces"
            )));
        }
        Ok(Some(key.to_owned()))
    }

    /// The metadata of a command sent by `actor`. The command id is the client's idempotency key
    /// scoped to the subject (so one key reused for two different commands does not merge them), or
    /// a fresh UUID.
    ///
    /// # Errors
    /// An invalid idempotency key.
    pub fn command(&self, actor: impl Into<String>) -> Result<CommandMeta, ApiError> {
        let command_id = match self.idempotency_key()? {
            Some(key) => format!("{}|{key}", self.subject),
            None => uuid::Uuid::now_v7().to_string(),
        };
        Ok(CommandMeta { command_id, actor: actor.into(), trace: self.trace.clone(), causation_id: None })
    }

    /// The site a per-site request acts for: the `<site>` token of its subject
    /// (`hoinghi.v1.<service>.sites.<site>.<action>`), which NATS permissions let only that site
    /// publish on; never a body field.
    ///
    /// # Errors
    /// `invalid` for a subject whose token is not a site id.
    pub fn acting_site(&self) -> Result<hoinghi_shared::SiteId, ApiError> {
        let token = hoinghi_shared::subjects::site_of_command(&self.subject).unwrap_or_default();
        hoinghi_shared::SiteId::parse(token).map_err(|e| ApiError::invalid(format!("subject {}: {e}", self.subject)))
    }

    /// The person a per-person request acts as: the `<person>` token of its subject
    /// (`hoinghi.v1.minutes.persons.<person>.<action>`), which NATS permissions let only that
    /// person publish on; never a body field.
    ///
    /// # Errors
    /// `invalid` for a subject whose token is not a person id.
    pub fn acting_person(&self) -> Result<hoinghi_shared::PersonId, ApiError> {
        let token = hoinghi_shared::subjects::minutes::person_of_command(&self.subject).unwrap_or_default();
        hoinghi_shared::PersonId::parse(token).map_err(|e| ApiError::invalid(format!("subject {}: {e}", self.subject)))
    }
}

/// What a handler answers: a JSON body or an error.
pub type Reply = Result<Bytes, ApiError>;

/// Serialises a reply body.
///
/// # Errors
/// Never in practice: the wire types always serialise.
pub fn json<T: Serialize>(value: &T) -> Reply {
    // Most replies are a few hundred bytes: one allocation rather than a buffer doubled from 8 bytes.
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(&mut out, value)
        .map(|()| Bytes::from(out))
        .map_err(|e| ApiError::unavailable(format!("could not encode the reply: {e}")))
}

/// The only prefix of the reply subjects the services answer to.
pub const INBOX_PREFIX: &str = "_INBOX.";

/// Whether a request may be answered on `reply`: an inbox, never a subject of the system.
pub fn is_inbox(reply: Option<&str>) -> bool {
    reply.is_some_and(|r| r.starts_with(INBOX_PREFIX) && r.len() > INBOX_PREFIX.len())
}

/// What the host refused before any handler ran, for logs and metrics.
#[derive(Debug, Default)]
pub struct Refusals {
    /// Requests whose reply subject was not an inbox (or was missing): not handled, not answered.
    pub not_an_inbox: AtomicU64,
    /// Requests larger than their subject takes: answered `too_large`.
    pub too_large_requests: AtomicU64,
    /// Replies larger than the server's `max_payload`: answered `too_large` instead.
    pub too_large_replies: AtomicU64,
}

/// A running micro service.
pub struct Host {
    client: async_nats::Client,
    micro: Arc<Micro>,
    tracker: TaskTracker,
    limiter: Arc<Semaphore>,
    stop: CancellationToken,
    refusals: Arc<Refusals>,
}

impl Host {
    /// A host for the micro service `name` (with its service-level `metadata`), not yet announced:
    /// add the endpoints, then [`Host::announce`] it.
    ///
    /// # Errors
    /// None today; kept fallible for the callers.
    pub async fn start(
        client: async_nats::Client,
        name: &str,
        description: &str,
        metadata: HashMap<String, String>,
        max_in_flight: usize,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client,
            micro: Arc::new(Micro::new(name, description, metadata)),
            tracker: TaskTracker::new(),
            limiter: Arc::new(Semaphore::new(max_in_flight.max(1))),
            stop: CancellationToken::new(),
            refusals: Arc::default(),
        })
    }

    /// What the host has refused so far.
    pub fn refusals(&self) -> Arc<Refusals> {
        self.refusals.clone()
    }

    /// The micro service: its identity, readiness and each endpoint's counters.
    pub fn micro(&self) -> Arc<Micro> {
        self.micro.clone()
    }

    /// Makes the service discoverable (`$SRV.PING`, `INFO`, `STATS`) and ready: call it once every
    /// endpoint is added (each is subscribed when [`Host::endpoint`] returns) and the projection has
    /// caught up.
    ///
    /// # Errors
    /// The server refused the subscriptions.
    pub async fn announce(&self) -> anyhow::Result<()> {
        self.micro.announce(&self.client, self.stop.clone()).await
    }

    /// Adds an endpoint like [`Host::endpoint`], served by `handler` with its own clone of `state`
    /// (a service's store) for each request.
    ///
    /// # Errors
    /// The server refused the subscription.
    pub async fn endpoint_with<S, F, Fut>(&self, name: &str, subject: &str, state: &S, handler: F) -> anyhow::Result<()>
    where
        S: Clone + Send + Sync + 'static,
        F: Fn(S, Incoming) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let state = state.clone();
        self.endpoint(name, subject, move |r| handler(state.clone(), r)).await
    }

    /// Adds an endpoint named `name` on `subject` (which may hold `*`), served by `handler`.
    ///
    /// # Errors
    /// The server refused the subscription.
    pub async fn endpoint<F, Fut>(&self, name: &str, subject: &str, handler: F) -> anyhow::Result<()>
    where
        F: Fn(Incoming) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let mut endpoint = self
            .client
            .queue_subscribe(subject.to_owned(), QUEUE_GROUP.to_owned())
            .await
            .map_err(|e| anyhow::anyhow!("cannot add endpoint {subject}: {e}"))?;
        let handler = Arc::new(handler);
        let tracker = self.tracker.clone();
        let limiter = self.limiter.clone();
        let stop = self.stop.clone();
        let refusals = self.refusals.clone();
        let stats = self.micro.add_endpoint(name, subject);
        let client = self.client.clone();
        let limits = Limits {
            request: hoinghi_shared::sizes::max_request_bytes(subject),
            reply: hoinghi_shared::sizes::max_reply_bytes(match self.client.server_info().max_payload {
                0 => hoinghi_shared::sizes::SERVER_MAX_PAYLOAD,
                known => known,
            }),
        };
        let endpoint_name = name.to_owned();
        let target = Arc::new(Target { client, stats });
        self.tracker.spawn(async move {
            let mut draining = false;
            loop {
                let request = if draining {
                    match endpoint.next().await {
                        Some(r) => r,
                        None => break,
                    }
                } else {
                    tokio::select! {
                        _ = stop.cancelled() => {
                            // Stop taking new requests but serve those already delivered to this
                            // subscription: drain unsubscribes, and the stream ends once the
                            // server has confirmed it and the buffered requests are read. A
                            // request is thus either answered or never taken (no responders).
                            draining = true;
                            if let Err(e) = endpoint.drain().await {
                                warn!(endpoint = %endpoint_name, error = %e, "could not drain the endpoint");
                                break;
                            }
                            continue;
                        }
                        r = endpoint.next() => match r { Some(r) => r, None => break },
                    }
                };
                let received = Instant::now();
                // Refusals cost no permit: they must stay cheap under a flood.
                let reply = request.reply.as_ref().map(|r| r.as_str());
                if !is_inbox(reply) {
                    refusals.not_an_inbox.fetch_add(1, Ordering::Relaxed);
                    warn!(
                        endpoint = %endpoint_name,
                        subject = %request.subject,
                        reply = reply.unwrap_or("(none)"),
                        "refused a request whose reply subject is not an inbox: it is neither handled nor answered"
                    );
                    continue;
                }
                if request.payload.len() > limits.request {
                    refusals.too_large_requests.fetch_add(1, Ordering::Relaxed);
                    let error = ApiError::too_large(format!(
                        "the request body is {} bytes; {} takes at most {} bytes",
                        request.payload.len(),
                        endpoint_name,
                        limits.request
                    ));
                    let target = target.clone();
                    tracker.spawn(async move { respond(&target, &request, Err(error), received).await });
                    continue;
                }
                let Ok(permit) = limiter.clone().acquire_owned().await else { break };
                let handler = handler.clone();
                let target = target.clone();
                let refusals = refusals.clone();
                tracker.spawn(Box::pin(async move {
                    let _permit = permit;
                    serve(&target, request, received, handler, limits, &refusals).await;
                }));
            }
        });
        Ok(())
    }

    /// Serves until `shutdown` resolves, then stops taking requests and waits (up to `drain`) for the
    /// ones in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>, drain: Duration) {
        shutdown.await;
        info!("stopping: no new requests; finishing those in flight");
        // Not ready any more; the verbs and the endpoints unsubscribe as their loops end.
        self.micro.set_stopping();
        self.stop.cancel();
        self.tracker.close();
        if tokio::time::timeout(drain, self.tracker.wait()).await.is_err() {
            warn!(?drain, "in-flight requests did not finish in time");
        }
        if let Err(e) = self.client.flush().await {
            warn!(error = %e, "could not flush the last replies");
        }
        info!("stopped");
    }
}

/// Where an endpoint's replies go out and are counted.
struct Target {
    /// The API identity's connection.
    client: async_nats::Client,
    /// The endpoint's counters (its name, for the logs).
    stats: Arc<EndpointStats>,
}

/// The sizes an endpoint enforces.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Largest request body.
    request: usize,
    /// Largest reply body.
    reply: usize,
}

async fn serve<F, Fut>(
    target: &Target,
    request: async_nats::Message,
    received: Instant,
    handler: Arc<F>,
    limits: Limits,
    refusals: &Refusals,
) where
    F: Fn(Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let message = &request;
    let carried = TraceContext::carried(message.headers.as_ref());
    let continues = carried.is_some();
    let trace = carried.unwrap_or_else(TraceContext::new_root);
    let endpoint = target.stats.name.as_str();
    let span = tracing::info_span!("request", endpoint, subject = %message.subject, trace_id = %trace.trace_id);
    // With OTLP export on, the span continues the message's context and becomes the events' parent.
    let trace = crate::telemetry::continue_trace(&span, message.headers.as_ref(), trace);
    let incoming = Incoming {
        subject: message.subject.to_string(),
        payload: message.payload.clone(),
        headers: message.headers.clone(),
        trace: trace.clone(),
    };
    async move {
        // A panic in a handler answers the caller instead of leaving it waiting, and never reaches
        // the service loop.
        let handled = std::panic::AssertUnwindSafe(Box::pin(handler(incoming))).catch_unwind().await;
        let reply = match handled {
            Ok(Ok(body)) if body.len() > limits.reply => {
                refusals.too_large_replies.fetch_add(1, Ordering::Relaxed);
                Err(ApiError::too_large(format!(
                    "the reply is {} bytes, more than the {} bytes one NATS message can carry here \
                     (max_payload); ask for a smaller page (a lower `limit`)",
                    body.len(),
                    limits.reply
                )))
            }
            Ok(reply) => reply,
            Err(_) => {
                error!("handler panicked");
                Err(ApiError::unavailable("internal error while handling the request; it has been logged"))
            }
        };
        let headers = trace_headers(&trace, continues);
        send(target, &request, reply, headers, received).await;
    }
    .instrument(span)
    .await
}

/// A reply's headers: its `traceparent` when the request carried one (the caller's trace goes on)
/// or while spans are exported. A request without one gets a reply without one: the trace the
/// service started is in its events' envelopes (`trace_id`) and its logs, and a header costs every
/// hop that parses it (docs/BENCHMARKS.md).
fn trace_headers(trace: &TraceContext, continues: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if continues || crate::telemetry::exporting() {
        trace.inject(&mut headers);
    }
    headers
}

/// Answers a request refused before its handler ran.
async fn respond(target: &Target, request: &async_nats::Message, reply: Reply, received: Instant) {
    let carried = TraceContext::carried(request.headers.as_ref());
    let continues = carried.is_some();
    let trace = carried.unwrap_or_else(TraceContext::new_root);
    send(target, request, reply, trace_headers(&trace, continues), received).await;
}

/// Sends a reply to the request's inbox and counts it under its outcome; an error goes out in the
/// contract's shape, with the micro-service error headers, and counts as the endpoint's last error.
async fn send(target: &Target, request: &async_nats::Message, reply: Reply, mut headers: HeaderMap, received: Instant) {
    let Some(inbox) = request.reply.clone() else { return };
    let body = match reply {
        Ok(body) => {
            target.stats.record(Ok(()), received.elapsed());
            body
        }
        Err(err) => {
            target.stats.record(Err(&err), received.elapsed());
            if err.code == hoinghi_shared::ErrorCode::Unavailable {
                warn!(code = err.code.as_str(), reason = %err.message, "request failed");
            } else {
                info!(code = err.code.as_str(), reason = %err.message, "request refused");
            }
            headers.insert(SERVICE_ERROR_CODE, err.code.status().to_string().as_str());
            headers.insert(SERVICE_ERROR, header_safe(&err.message).as_str());
            json(&ErrorBody { error: err }).unwrap_or_default()
        }
    };
    if let Err(e) = target.client.publish_with_headers(inbox, headers, body).await {
        warn!(error = %e, "could not send the reply");
    }
}

/// Header values cannot hold line breaks; long messages are cut (the body has the full text).
fn header_safe(message: &str) -> String {
    let flat: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).take(400).collect();
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_inbox_is_a_reply_subject() {
        assert!(is_inbox(Some("_INBOX.site-ba-be.abc.1")));
        assert!(is_inbox(Some("_INBOX.x")));
        for bad in [
            "hoinghi.v1.events.scheduling.0190.session_started",
            "hoinghi.v1.dead.minutes-on-roster-closed",
            "$JS.API.STREAM.PURGE.HOINGHI_SCHEDULING",
            "_INBOX.",
            "_INBOX",
            "x._INBOX.y",
            "",
        ] {
            assert!(!is_inbox(Some(bad)), "{bad}");
        }
        assert!(!is_inbox(None));
    }
}
