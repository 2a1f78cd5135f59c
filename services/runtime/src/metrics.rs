//! Prometheus metrics and health checks on an optional HTTP port (`[metrics] listen`, off by
//! default): `GET /metrics` (the OpenMetrics text exposition when the scraper's `Accept` asks for it,
//! as Prometheus does, else Prometheus' text format 0.0.4), `GET
//! /healthz` (the process is alive: 200) and `GET /readyz` (200 only once the service is announced —
//! its endpoints subscribed, its projection caught up — and while both NATS connections are up;
//! 503 otherwise, saying why).
//!
//! What is measured, and where it comes from:
//! - requests by endpoint and outcome, and their latency (histogram): the endpoints' counters in
//!   [`crate::micro`], the ones `$SRV.STATS` reports, read at scrape time (the request path pays a
//!   few relaxed atomic additions, nothing more);
//! - append retries (a command that lost a race on its aggregate and decided again), reaction
//!   retries and events parked as dead letters: process-wide atomic counters ([`APPEND_RETRIES`],
//!   [`REACTION_RETRIES`], [`EVENTS_PARKED`]);
//! - each reaction's lag (messages not yet delivered, delivered and not yet acknowledged,
//!   redelivered) from its durable consumer; the dead letters per consumer from
//!   `HOINGHI_DEAD_LETTERS`; the service's stream (messages, bytes, last sequence) and how far the
//!   projection is behind it: asked of JetStream at scrape time, each question bounded by 2 s (an
//!   unanswered one is left out and counted in `hoinghi_scrape_errors`);
//! - figures a service adds ([`Metrics::add_figures`]), e.g. attendance's heartbeats and presence
//!   transitions.
//!
//! Crates: `prometheus-client` (the Prometheus project's Rust client) encodes the exposition; its
//! `Histogram` takes a mutex per observation, so the latency histogram is kept in the endpoints'
//! atomic buckets and handed to its encoder at scrape time. `axum` (already the gateway's) serves the
//! three routes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_nats::jetstream;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use futures::StreamExt;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::micro::{Micro, OUTCOMES};

/// Commands that lost a race on their aggregate and decided again (the event store).
pub static APPEND_RETRIES: AtomicU64 = AtomicU64::new(0);
/// Events a reaction asked to see again later (a retry with backoff).
pub static REACTION_RETRIES: AtomicU64 = AtomicU64::new(0);
/// Events parked in `HOINGHI_DEAD_LETTERS` by this process.
pub static EVENTS_PARKED: AtomicU64 = AtomicU64::new(0);

/// The content type of the OpenMetrics text exposition.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of Prometheus' text exposition.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long a scrape waits for each JetStream answer.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);

/// The metrics settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsSettings {
    /// `host:port` of the HTTP listener for `/metrics`, `/healthz` and `/readyz`; empty: off.
    #[serde(default)]
    pub listen: String,
}

/// A figure a service adds to the exposition.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Its name (`hoinghi_…`; a counter without the `_total` the exposition adds).
    pub name: &'static str,
    /// What it measures.
    pub help: &'static str,
    /// A counter (only ever grows) or a gauge.
    pub counter: bool,
    /// Its value now.
    pub value: u64,
}

type Figures = Box<dyn Fn() -> Vec<Figure> + Send + Sync>;

/// Where a service's figures come from.
pub struct Metrics {
    service: &'static str,
    stream: &'static str,
    js: jetstream::Context,
    connections: Vec<async_nats::Client>,
    micro: OnceLock<Arc<Micro>>,
    reactions: Mutex<Vec<(&'static str, &'static str)>>,
    projection: OnceLock<Box<dyn Fn() -> u64 + Send + Sync>>,
    figures: Mutex<Vec<Figures>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("service", &self.service).field("stream", &self.stream).finish()
    }
}

impl Metrics {
    /// The metrics of `service`, whose events are in `stream`, asking JetStream through `js`;
    /// `connections` are the NATS connections readiness requires.
    pub fn new(
        service: &'static str,
        stream: &'static str,
        js: jetstream::Context,
        connections: Vec<async_nats::Client>,
    ) -> Self {
        Self {
            service,
            stream,
            js,
            connections,
            micro: OnceLock::new(),
            reactions: Mutex::default(),
            projection: OnceLock::new(),
            figures: Mutex::default(),
        }
    }

    /// The micro service whose endpoints are counted and whose announcement makes the service ready.
    pub fn set_micro(&self, micro: Arc<Micro>) {
        let _ = self.micro.set(micro);
    }

    /// The projection's last applied stream sequence, read at scrape time.
    pub fn set_projection(&self, applied_seq: impl Fn() -> u64 + Send + Sync + 'static) {
        let _ = self.projection.set(Box::new(applied_seq));
    }

    /// A reaction: durable consumer `durable` on `stream`.
    pub fn add_reaction(&self, stream: &'static str, durable: &'static str) {
        self.reactions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((stream, durable));
    }

    /// Figures read at each scrape (e.g. attendance's heartbeats).
    pub fn add_figures(&self, figures: impl Fn() -> Vec<Figure> + Send + Sync + 'static) {
        self.figures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Box::new(figures));
    }

    /// Whether the service is ready, or why not.
    pub fn readiness(&self) -> Result<(), &'static str> {
        if !self.micro.get().is_some_and(|m| m.is_ready()) {
            return Err("not announced: starting (catching up, subscribing) or stopping");
        }
        if self.connections.iter().any(|c| c.connection_state() != async_nats::connection::State::Connected) {
            return Err("a NATS connection is down; reconnecting");
        }
        Ok(())
    }

    /// The exposition now: the OpenMetrics text format, or Prometheus' text format 0.0.4.
    pub async fn scrape(&self, openmetrics: bool) -> String {
        let snapshot = self.snapshot().await;
        let mut registry = Registry::default();
        registry.register_collector(Box::new(snapshot));
        let mut text = String::new();
        let encoded = if openmetrics {
            prometheus_client::encoding::text::encode(&mut text, &registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        };
        if let Err(e) = encoded {
            warn!(error = %e, "could not encode the metrics");
        }
        text
    }

    async fn snapshot(&self) -> Snapshot {
        let mut errors = 0;
        let stream = match bounded(self.js.get_stream(self.stream)).await {
            Some(mut s) => match bounded(s.info()).await {
                Some(info) => Some((info.state.messages, info.state.bytes, info.state.last_sequence)),
                None => {
                    errors += 1;
                    None
                }
            },
            None => {
                errors += 1;
                None
            }
        };
        let dead = match self.dead_letters().await {
            Some(dead) => dead,
            None => {
                errors += 1;
                Vec::new()
            }
        };
        let mut reactions = Vec::new();
        let durables = self.reactions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for (stream_name, durable) in durables {
            let info = match bounded(self.js.get_stream(stream_name)).await {
                Some(s) => bounded(s.consumer_info(durable)).await,
                None => None,
            };
            match info {
                Some(i) => reactions.push(ReactionLag {
                    durable,
                    pending: i.num_pending,
                    ack_pending: i.num_ack_pending as u64,
                    redelivered: i.num_redelivered as u64,
                }),
                None => errors += 1,
            }
        }
        let figures =
            self.figures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().flat_map(|f| f()).collect();
        Snapshot {
            service: self.service,
            stream_name: self.stream,
            micro: self.micro.get().cloned(),
            ready: self.readiness().is_ok(),
            applied: self.projection.get().map(|f| f()),
            stream,
            dead,
            reactions,
            figures,
            scrape_errors: errors,
        }
    }

    /// Messages in the dead-letter stream per consumer (`hoinghi.v1.dead.<consumer>`).
    async fn dead_letters(&self) -> Option<Vec<(String, u64)>> {
        let name = hoinghi_shared::streams::DEAD_LETTERS.name;
        let stream = bounded(self.js.get_stream_no_info(name)).await?;
        let mut subjects = bounded(stream.info_with_subjects(hoinghi_shared::subjects::events::DEAD_LETTERS)).await?;
        let mut dead = Vec::new();
        loop {
            match tokio::time::timeout(SCRAPE_TIMEOUT, subjects.next()).await {
                Ok(Some(Ok((subject, count)))) => {
                    let consumer = subject.rsplit('.').next().unwrap_or_default().to_owned();
                    dead.push((consumer, count as u64));
                }
                Ok(None) => break,
                _ => return None,
            }
        }
        dead.sort();
        Some(dead)
    }

    /// Serves `/metrics`, `/healthz` and `/readyz` on `listen` until `stop` is cancelled.
    ///
    /// # Errors
    /// The address is not `host:port`, or cannot be bound (in use, not allowed).
    pub async fn serve(self: &Arc<Self>, listen: &str, stop: CancellationToken) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("metrics.listen: cannot listen on {listen:?}: {e}"))?;
        info!(listen = %listener.local_addr()?, "serving /metrics, /healthz and /readyz");
        let metrics = self.clone();
        let ready = self.clone();
        let app = axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(move |request: axum::http::HeaderMap| {
                    let metrics = metrics.clone();
                    async move {
                        // OpenMetrics when the scraper asks for it (Prometheus does), else the classic
                        // text format.
                        let openmetrics = request
                            .get(header::ACCEPT)
                            .and_then(|v| v.to_str().ok())
                            .is_some_and(|v| v.contains("application/openmetrics-text"));
                        let kind = if openmetrics { OPENMETRICS } else { PROMETHEUS_TEXT };
                        ([(header::CONTENT_TYPE, kind)], metrics.scrape(openmetrics).await)
                    }
                }),
            )
            .route("/healthz", axum::routing::get(|| async { "ok\n" }))
            .route(
                "/readyz",
                axum::routing::get(move || {
                    let ready = ready.clone();
                    async move {
                        match ready.readiness() {
                            Ok(()) => (StatusCode::OK, "ready\n".to_owned()).into_response(),
                            Err(why) => {
                                (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")).into_response()
                            }
                        }
                    }
                }),
            );
        tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
            if let Err(e) = served {
                warn!(error = %e, "the metrics listener stopped");
            }
        });
        Ok(())
    }
}

/// A JetStream question, given up after [`SCRAPE_TIMEOUT`].
async fn bounded<T, E>(question: impl std::future::Future<Output = Result<T, E>>) -> Option<T> {
    tokio::time::timeout(SCRAPE_TIMEOUT, question).await.ok()?.ok()
}

/// One reaction's consumer, as JetStream counts it.
#[derive(Debug)]
struct ReactionLag {
    durable: &'static str,
    pending: u64,
    ack_pending: u64,
    redelivered: u64,
}

/// Everything one scrape shows.
#[derive(Debug)]
struct Snapshot {
    service: &'static str,
    stream_name: &'static str,
    micro: Option<Arc<Micro>>,
    ready: bool,
    applied: Option<u64>,
    stream: Option<(u64, u64, u64)>,
    dead: Vec<(String, u64)>,
    reactions: Vec<ReactionLag>,
    figures: Vec<Figure>,
    scrape_errors: u64,
}

type Labels = Vec<(&'static str, String)>;

/// Writes one metric family of counters or gauges.
fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: &[(Labels, u64)],
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in samples {
        let mut sample = metric.encode_family(labels)?;
        if matches!(kind, MetricType::Counter) {
            sample.encode_counter::<NoLabelSet, _, u64>(value, None)?;
        } else {
            sample.encode_gauge(value)?;
        }
    }
    Ok(())
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let service = || ("service", self.service.to_owned());
        let one = |value: u64| vec![(vec![service()], value)];
        use MetricType::{Counter, Gauge};
        family(
            &mut encoder,
            "hoinghi_ready",
            "1 once the service is announced and connected, else 0",
            Gauge,
            &one(u64::from(self.ready)),
        )?;
        if let Some(micro) = &self.micro {
            let endpoints = micro.endpoints();
            let mut requests = Vec::new();
            for endpoint in &endpoints {
                for (outcome, count) in OUTCOMES.iter().zip(endpoint.outcomes()) {
                    requests.push((
                        vec![service(), ("endpoint", endpoint.name.clone()), ("outcome", (*outcome).to_owned())],
                        count,
                    ));
                }
            }
            family(
                &mut encoder,
                "hoinghi_requests",
                "Requests answered, by endpoint and outcome (ok or the error code)",
                Counter,
                &requests,
            )?;
            let mut metric = encoder.encode_descriptor(
                "hoinghi_request_duration_seconds",
                "Time from a request's arrival to its reply, by endpoint",
                None,
                MetricType::Histogram,
            )?;
            for endpoint in &endpoints {
                let labels: Labels = vec![service(), ("endpoint", endpoint.name.clone())];
                // The encoder sums the buckets itself.
                let buckets = endpoint.latency_bucket_counts();
                metric.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                    endpoint.processing_time().as_secs_f64(),
                    endpoint.requests(),
                    &buckets,
                    None,
                )?;
            }
        }
        family(
            &mut encoder,
            "hoinghi_append_retries",
            "Commands that lost a race on their aggregate and decided again",
            Counter,
            &one(APPEND_RETRIES.load(Ordering::Relaxed)),
        )?;
        family(
            &mut encoder,
            "hoinghi_reaction_retries",
            "Events a reaction will see again after a backoff",
            Counter,
            &one(REACTION_RETRIES.load(Ordering::Relaxed)),
        )?;
        family(
            &mut encoder,
            "hoinghi_events_parked",
            "Events this process parked in HOINGHI_DEAD_LETTERS",
            Counter,
            &one(EVENTS_PARKED.load(Ordering::Relaxed)),
        )?;
        let lag = |pick: fn(&ReactionLag) -> u64| -> Vec<(Labels, u64)> {
            self.reactions.iter().map(|r| (vec![service(), ("durable", r.durable.to_owned())], pick(r))).collect()
        };
        family(
            &mut encoder,
            "hoinghi_reaction_pending",
            "Events of a reaction's source not yet delivered to it (its lag)",
            Gauge,
            &lag(|r| r.pending),
        )?;
        family(
            &mut encoder,
            "hoinghi_reaction_ack_pending",
            "Events delivered to a reaction and not yet acknowledged",
            Gauge,
            &lag(|r| r.ack_pending),
        )?;
        family(
            &mut encoder,
            "hoinghi_reaction_redelivered",
            "Events being redelivered to a reaction",
            Gauge,
            &lag(|r| r.redelivered),
        )?;
        let dead: Vec<(Labels, u64)> =
            self.dead.iter().map(|(consumer, n)| (vec![("consumer", consumer.clone())], *n)).collect();
        family(
            &mut encoder,
            "hoinghi_dead_letters",
            "Events parked in HOINGHI_DEAD_LETTERS, by the consumer that parked them",
            Gauge,
            &dead,
        )?;
        if let Some((messages, bytes, last)) = self.stream {
            let stream = || vec![service(), ("stream", self.stream_name.to_owned())];
            family(
                &mut encoder,
                "hoinghi_stream_messages",
                "Messages in the service's stream",
                Gauge,
                &[(stream(), messages)],
            )?;
            family(&mut encoder, "hoinghi_stream_bytes", "Bytes in the service's stream", Gauge, &[(stream(), bytes)])?;
            family(
                &mut encoder,
                "hoinghi_stream_last_sequence",
                "Last sequence of the service's stream",
                Gauge,
                &[(stream(), last)],
            )?;
            if let Some(applied) = self.applied {
                family(
                    &mut encoder,
                    "hoinghi_projection_lag",
                    "Stream sequences the projection has not applied yet",
                    Gauge,
                    &[(stream(), last.saturating_sub(applied))],
                )?;
            }
        }
        if let Some(applied) = self.applied {
            family(
                &mut encoder,
                "hoinghi_projection_applied_sequence",
                "Last stream sequence the projection applied (its size in events)",
                Gauge,
                &one(applied),
            )?;
        }
        for figure in &self.figures {
            family(
                &mut encoder,
                figure.name,
                figure.help,
                if figure.counter { Counter } else { Gauge },
                &one(figure.value),
            )?;
        }
        family(
            &mut encoder,
            "hoinghi_scrape_errors",
            "JetStream questions of this scrape left unanswered",
            Gauge,
            &one(self.scrape_errors),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_requests_latency_and_dead_letters() {
        // Given a service with one endpoint that answered twice, one dead letter, and a reaction
        let micro = Arc::new(Micro::new("hoinghi-test", "test", std::collections::HashMap::new()));
        let endpoint = micro.add_endpoint("conferences-get", hoinghi_shared::subjects::scheduling::GET);
        endpoint.record(Ok(()), Duration::from_millis(2));
        endpoint.record(Err(&hoinghi_shared::ApiError::not_found("none")), Duration::from_millis(40));
        let snapshot = Snapshot {
            service: "hoinghi-test",
            stream_name: "HOINGHI_TEST",
            micro: Some(micro),
            ready: true,
            applied: Some(7),
            stream: Some((9, 1000, 9)),
            dead: vec![("minutes-on-roster-closed".to_owned(), 1)],
            reactions: vec![ReactionLag {
                durable: "minutes-on-roster-closed",
                pending: 3,
                ack_pending: 1,
                redelivered: 0,
            }],
            figures: vec![Figure { name: "hoinghi_presence_heartbeats", help: "Heartbeats", counter: true, value: 5 }],
            scrape_errors: 0,
        };
        // When it is encoded
        let mut registry = Registry::default();
        registry.register_collector(Box::new(snapshot));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        // Then each figure is there, in the exposition's shape
        for line in [
            "# TYPE hoinghi_requests counter",
            "hoinghi_requests_total{service=\"hoinghi-test\",endpoint=\"conferences-get\",outcome=\"not_found\"} 1",
            "hoinghi_request_duration_seconds_bucket{le=\"0.0025\",service=\"hoinghi-test\",endpoint=\"conferences-get\"} 1",
            "hoinghi_request_duration_seconds_count{service=\"hoinghi-test\",endpoint=\"conferences-get\"} 2",
            "hoinghi_request_duration_seconds_bucket{le=\"0.05\",service=\"hoinghi-test\",endpoint=\"conferences-get\"} 2",
            "hoinghi_request_duration_seconds_bucket{le=\"+Inf\",service=\"hoinghi-test\",endpoint=\"conferences-get\"} 2",
            "hoinghi_dead_letters{consumer=\"minutes-on-roster-closed\"} 1",
            "hoinghi_reaction_pending{service=\"hoinghi-test\",durable=\"minutes-on-roster-closed\"} 3",
            "hoinghi_projection_lag{service=\"hoinghi-test\",stream=\"HOINGHI_TEST\"} 2",
            "hoinghi_presence_heartbeats_total{service=\"hoinghi-test\"} 5",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
