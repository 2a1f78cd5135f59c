//! The NATS micro-service protocol of a host (`$SRV.PING`, `$SRV.INFO`, `$SRV.STATS`), answered
//! from counters that the request path updates with a few atomic operations.
//!
//! The replies are async-nats's own wire types ([`async_nats::service::PingResponse`],
//! [`async_nats::service::Info`], [`async_nats::service::Stats`]), so `nats micro` and every micro
//! client read them as from any micro service. Only the responder is ours, because the library's
//! [`async_nats::service::Service`] cannot give what an operator needs here:
//! - it counts an error only when the reply goes through `Request::respond(Err(..))`, which sends an
//!   *empty* body: the contract's error body (`{"error":{"code","message"}}`, the full message, the
//!   header holds at most 400 characters) would be lost, so the host answered errors as `Ok` replies
//!   with the error headers set by hand and `$SRV.STATS` showed `num_errors: 0`;
//! - it answers `$SRV.PING` from the moment the service is created, before any endpoint is
//!   subscribed, so a client could find the service and send a request nobody was listening for;
//! - it takes one process-wide mutex per reply to update its counters.
//!
//! Here an endpoint's counters are atomics ([`EndpointStats::record`]: the outcome, the count, the
//! time spent, one histogram bucket; the last error's text takes a lock only on the error path), and
//! the verbs are subscribed by [`Micro::announce`], which the service calls once every endpoint is
//! subscribed and its projection has caught up: answering `$SRV.PING` means *ready*. The same
//! counters feed the Prometheus metrics ([`crate::metrics`]).
//!
//! Metadata: the service carries its `version` and `stream`; each endpoint its `subject`, the API
//! `version` and `roles`, the kinds of identity whose NATS permissions
//! ([`hoinghi_shared::roles::Role::permissions`]) let them send it a request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_nats::service::{endpoint, error, Info, PingResponse, Stats};
use bytes::Bytes;
use futures::StreamExt;
use hoinghi_shared::roles::Role;
use hoinghi_shared::{ApiError, ErrorCode, PersonId, SiteId};
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// The queue group every endpoint subscribes in (the micro protocol's default), so the instances of
/// a service share its requests.
pub const QUEUE_GROUP: &str = "q";

/// The prefix of the micro-service protocol's subjects.
const SRV: &str = "$SRV";

/// Upper bounds of the latency histogram's buckets, in seconds (the last bucket, `+Inf`, is implied).
pub const LATENCY_BUCKETS_S: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The same bounds in nanoseconds, for the request path.
const LATENCY_BUCKETS_NS: [u64; 14] = [
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// The outcomes a request is counted under: `ok`, then each error code.
pub const OUTCOMES: [&str; 7] = ["ok", "invalid", "forbidden", "not_found", "conflict", "too_large", "unavailable"];

fn outcome_index(code: ErrorCode) -> usize {
    match code {
        ErrorCode::Invalid => 1,
        ErrorCode::Forbidden => 2,
        ErrorCode::NotFound => 3,
        ErrorCode::Conflict => 4,
        ErrorCode::TooLarge => 5,
        ErrorCode::Unavailable => 6,
    }
}

/// One endpoint: what it is, and what it has served.
#[derive(Debug)]
pub struct EndpointStats {
    /// Its name (`conferences-create`, …).
    pub name: String,
    /// Its subject (may hold `*`).
    pub subject: String,
    /// Its metadata (`subject`, `version`, `roles`).
    pub metadata: HashMap<String, String>,
    requests: AtomicU64,
    outcomes: [AtomicU64; OUTCOMES.len()],
    processing_ns: AtomicU64,
    /// Requests per latency bucket (not cumulative; the last one is `+Inf`).
    buckets: [AtomicU64; LATENCY_BUCKETS_NS.len() + 1],
    last_error: Mutex<Option<error::Error>>,
}

impl EndpointStats {
    fn new(name: &str, subject: &str, metadata: HashMap<String, String>) -> Self {
        Self {
            name: name.to_owned(),
            subject: subject.to_owned(),
            metadata,
            requests: AtomicU64::new(0),
            outcomes: Default::default(),
            processing_ns: AtomicU64::new(0),
            buckets: Default::default(),
            last_error: Mutex::new(None),
        }
    }

    /// Counts one answered request: its outcome and the time from its arrival to its reply. Four
    /// relaxed atomic additions; an error also replaces the last error (a lock, on that path only).
    pub fn record(&self, outcome: Result<(), &ApiError>, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.processing_ns.fetch_add(nanos, Ordering::Relaxed);
        let bucket = LATENCY_BUCKETS_NS.iter().position(|&bound| nanos <= bound).unwrap_or(LATENCY_BUCKETS_NS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(()) => {
                self.outcomes[0].fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.outcomes[outcome_index(e.code)].fetch_add(1, Ordering::Relaxed);
                let last = error::Error { status: e.message.clone(), code: usize::from(e.code.status()) };
                *self.last_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(last);
            }
        }
    }

    /// Requests answered.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests answered with an error.
    pub fn errors(&self) -> u64 {
        self.outcomes[1..].iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Requests answered per outcome, in the order of [`OUTCOMES`].
    pub fn outcomes(&self) -> [u64; OUTCOMES.len()] {
        std::array::from_fn(|i| self.outcomes[i].load(Ordering::Relaxed))
    }

    /// Time spent answering, in total.
    pub fn processing_time(&self) -> Duration {
        Duration::from_nanos(self.processing_ns.load(Ordering::Relaxed))
    }

    /// The latency histogram: cumulative counts at each bound of [`LATENCY_BUCKETS_S`], then `+Inf`.
    pub fn latency_buckets(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        self.latency_bucket_counts()
            .into_iter()
            .map(|(bound, count)| {
                total += count;
                (bound, total)
            })
            .collect()
    }

    /// The latency histogram as each bucket's own count (not cumulative), as the exposition's
    /// encoder takes it.
    pub fn latency_bucket_counts(&self) -> Vec<(f64, u64)> {
        LATENCY_BUCKETS_S
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(&self.buckets)
            .map(|(bound, count)| (bound, count.load(Ordering::Relaxed)))
            .collect()
    }

    /// The last error answered: its status code and message.
    pub fn last_error(&self) -> Option<(usize, String)> {
        self.last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|e| (e.code, e.status.clone()))
    }

    fn stats(&self) -> endpoint::Stats {
        let requests = self.requests();
        let processing_time = self.processing_time();
        endpoint::Stats {
            name: self.name.clone(),
            subject: self.subject.clone(),
            requests: usize::try_from(requests).unwrap_or(usize::MAX),
            errors: usize::try_from(self.errors()).unwrap_or(usize::MAX),
            processing_time,
            average_processing_time: match requests {
                0 => Duration::ZERO,
                n => processing_time / u32::try_from(n).unwrap_or(u32::MAX),
            },
            last_error: self.last_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
            data: None,
            queue_group: QUEUE_GROUP.to_owned(),
        }
    }

    fn info(&self) -> endpoint::Info {
        endpoint::Info {
            name: self.name.clone(),
            subject: self.subject.clone(),
            queue_group: QUEUE_GROUP.to_owned(),
            metadata: self.metadata.clone(),
        }
    }
}

/// The kinds of identity whose permissions let them send a request on `subject` (`*` in it stands
/// for any site or person): some of `secretariat`, `person`, `site`.
pub fn roles_allowed(subject: &str) -> Vec<&'static str> {
    let (Ok(site), Ok(person)) = (SiteId::parse("example"), PersonId::parse("example")) else {
        return Vec::new();
    };
    let concrete = subject.split('.').map(|t| if t == "*" { "example" } else { t }).collect::<Vec<_>>().join(".");
    [("secretariat", Role::Secretariat), ("person", Role::Person(person)), ("site", Role::Site(site))]
        .into_iter()
        .filter(|(_, role)| {
            let permissions = role.permissions();
            permissions.publish_allow.iter().any(|allow| crate::store::subject_matches(allow, &concrete))
                && !permissions.publish_deny.iter().any(|deny| crate::store::subject_matches(deny, &concrete))
        })
        .map(|(kind, _)| kind)
        .collect()
}

/// The contract's version, the second token of every subject (`v1`).
pub fn api_version() -> &'static str {
    hoinghi_shared::subjects::PREFIX.rsplit('.').next().unwrap_or_default()
}

/// A service's micro-service identity and its endpoints' counters.
#[derive(Debug)]
pub struct Micro {
    name: String,
    id: String,
    version: String,
    description: String,
    metadata: HashMap<String, String>,
    started: async_nats::datetime::DateTime,
    endpoints: RwLock<Vec<Arc<EndpointStats>>>,
    ready: AtomicBool,
}

impl Micro {
    /// A service named `name` (validated by the server's subjects only: the hoinghi names are
    /// `hoinghi-<service>`), not yet announced.
    pub fn new(name: &str, description: &str, metadata: HashMap<String, String>) -> Self {
        Self {
            name: name.to_owned(),
            id: uuid::Uuid::new_v4().simple().to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: description.to_owned(),
            metadata,
            started: async_nats::datetime::now(),
            endpoints: RwLock::default(),
            ready: AtomicBool::new(false),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This instance's id (as `$SRV.PING` answers it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Adds an endpoint on `subject`, with its metadata (`subject`, API `version`, `roles`), and
    /// returns the counters its requests update.
    pub fn add_endpoint(&self, name: &str, subject: &str) -> Arc<EndpointStats> {
        let metadata = HashMap::from([
            ("subject".to_owned(), subject.to_owned()),
            ("version".to_owned(), api_version().to_owned()),
            ("roles".to_owned(), roles_allowed(subject).join(",")),
        ]);
        let stats = Arc::new(EndpointStats::new(name, subject, metadata));
        self.endpoints.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(stats.clone());
        stats
    }

    /// Every endpoint's counters.
    pub fn endpoints(&self) -> Vec<Arc<EndpointStats>> {
        self.endpoints.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Whether the service is announced (its endpoints subscribed, its projection caught up) and not
    /// stopping.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the service as stopping: not ready any more.
    pub fn set_stopping(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    /// Subscribes the `$SRV` verbs on `client` (for every service, this name, and this instance) and
    /// answers them until `stop` is cancelled; call it once the endpoints are subscribed and the
    /// projection has caught up. Returns once the server has the subscriptions.
    ///
    /// # Errors
    /// The server refused a subscription.
    pub async fn announce(
        self: &Arc<Self>,
        client: &async_nats::Client,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut subscriptions = Vec::new();
        for verb in ["PING", "INFO", "STATS"] {
            for subject in [
                format!("{SRV}.{verb}"),
                format!("{SRV}.{verb}.{}", self.name),
                format!("{SRV}.{verb}.{}.{}", self.name, self.id),
            ] {
                let subscriber = client
                    .subscribe(subject.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot subscribe to {subject}: {e}"))?;
                subscriptions.push(subscriber);
            }
        }
        // The endpoints' subscriptions went out before these: once the server has answered a flush,
        // it holds them all, so whoever finds the service can reach its endpoints.
        client.flush().await.map_err(|e| anyhow::anyhow!("cannot announce the service: {e}"))?;
        self.ready.store(true, Ordering::Relaxed);
        let mut verbs = futures::stream::select_all(subscriptions);
        let (micro, client) = (self.clone(), client.clone());
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    _ = stop.cancelled() => break,
                    m = verbs.next() => match m { Some(m) => m, None => break },
                };
                // As for the endpoints: an answer goes to a requester's inbox, never to a subject of
                // the system a client chose.
                let Some(reply) = message.reply.filter(|r| crate::host::is_inbox(Some(r.as_str()))) else { continue };
                let verb = message.subject.split('.').nth(1).unwrap_or_default();
                let body = match micro.answer(verb) {
                    Ok(body) => body,
                    Err(e) => {
                        warn!(error = %e, verb, "could not encode a $SRV reply");
                        continue;
                    }
                };
                if let Err(e) = client.publish(reply, body).await {
                    warn!(error = %e, verb, "could not answer a $SRV request");
                }
            }
            // Dropping the subscribers unsubscribes: the instance disappears from discovery.
        });
        Ok(())
    }

    /// The reply to a verb: `PING`, `INFO` or `STATS`.
    fn answer(&self, verb: &str) -> serde_json::Result<Bytes> {
        let body = match verb {
            "PING" => serde_json::to_vec(&self.ping())?,
            "INFO" => serde_json::to_vec(&self.info())?,
            _ => serde_json::to_vec(&self.stats())?,
        };
        Ok(Bytes::from(body))
    }

    /// The `$SRV.PING` reply.
    pub fn ping(&self) -> PingResponse {
        PingResponse {
            kind: "io.nats.micro.v1.ping_response".to_owned(),
            name: self.name.clone(),
            id: self.id.clone(),
            version: self.version.clone(),
            metadata: self.metadata.clone(),
        }
    }

    /// The `$SRV.INFO` reply.
    pub fn info(&self) -> Info {
        Info {
            kind: "io.nats.micro.v1.info_response".to_owned(),
            name: self.name.clone(),
            id: self.id.clone(),
            description: self.description.clone(),
            version: self.version.clone(),
            metadata: self.metadata.clone(),
            endpoints: self.endpoints().iter().map(|e| e.info()).collect(),
        }
    }

    /// The `$SRV.STATS` reply.
    pub fn stats(&self) -> Stats {
        Stats {
            kind: "io.nats.micro.v1.stats_response".to_owned(),
            name: self.name.clone(),
            id: self.id.clone(),
            version: self.version.clone(),
            started: self.started,
            endpoints: self.endpoints().iter().map(|e| e.stats()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoinghi_shared::subjects;

    #[test]
    fn errors_are_counted_with_the_last_one() {
        // Given an endpoint
        let micro = Micro::new("hoinghi-test", "test", HashMap::new());
        let endpoint = micro.add_endpoint("conferences-get", subjects::scheduling::GET);
        // When it answers once, then refuses twice
        endpoint.record(Ok(()), Duration::from_micros(300));
        endpoint.record(Err(&ApiError::invalid("bad body")), Duration::from_millis(3));
        endpoint.record(Err(&ApiError::not_found("no such conference")), Duration::from_secs(20));
        // Then its stats count three requests, two errors, and the last one
        let stats = micro.stats();
        let stats = &stats.endpoints[0];
        assert_eq!((stats.requests, stats.errors), (3, 2));
        let last = stats.last_error.clone().unwrap();
        assert_eq!((last.code, last.status.as_str()), (404, "no such conference"));
        assert_eq!(endpoint.outcomes(), [1, 1, 0, 1, 0, 0, 0]);
        // And the histogram puts each in its bucket, cumulatively
        let buckets = endpoint.latency_buckets();
        assert_eq!(buckets[0], (0.0005, 1));
        assert_eq!(buckets[3], (0.005, 2));
        assert_eq!(buckets.last().copied(), Some((f64::INFINITY, 3)));
        assert_eq!(buckets[LATENCY_BUCKETS_S.len() - 1].1, 2, "20 s is above the last bound");
    }

    #[test]
    fn endpoints_name_who_may_call_them() {
        assert_eq!(roles_allowed(subjects::scheduling::CREATE), ["secretariat"]);
        assert_eq!(roles_allowed(&subjects::attendance::any_site(subjects::attendance::CONFIRM)), ["site"]);
        assert_eq!(roles_allowed(subjects::attendance::ROSTER), ["secretariat", "person"]);
        assert!(roles_allowed("hoinghi.v1.nothing.here").is_empty());
        let micro = Micro::new("hoinghi-test", "test", HashMap::new());
        let endpoint = micro.add_endpoint("roster", subjects::attendance::ROSTER);
        assert_eq!(endpoint.metadata["roles"], "secretariat,person");
        assert_eq!(endpoint.metadata["subject"], subjects::attendance::ROSTER);
    }
}
