//! Logging and trace context.
//!
//! Every request may carry a W3C `traceparent` header; a service continues that trace (or starts one),
//! logs inside a span holding the `trace_id`, writes the `trace_id` into each event it appends (the
//! envelope), and a service reacting to that event continues the same trace. Grepping logs for one
//! `trace_id` follows a command through every service it touched. The `traceparent` header goes back
//! on the reply of a request that carried one; on events, and on every reply, it is written only
//! while spans are exported (below), where its parent span id links the spans: a header costs every
//! hop that parses it ([`TraceContext::inject_on_event`]).
//!
//! With `[telemetry] otlp_endpoint` set (off by default), the spans are also exported to an
//! OpenTelemetry collector over OTLP/HTTP (protobuf), with the maintained OpenTelemetry crates
//! (`opentelemetry-otlp`, `tracing-opentelemetry`): each request span and each reaction span
//! continues the W3C context of its message ([`continue_trace`], parsed by the SDK's
//! `TraceContextPropagator`), so one command is one trace across the services and the reactions.
//! The id of the request's span is the parent written on the events it appends; a reaction's span is
//! a child of the event's `traceparent`. The spans go out in batches from the SDK's own thread, so
//! a slow or absent collector never slows a request (the batch queue drops spans when full).

use std::sync::OnceLock;

use async_nats::HeaderMap;
use hoinghi_shared::headers::TRACEPARENT;
use hoinghi_shared::trace::{new_span_id, new_trace_id};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use serde::Deserialize;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogSettings;

/// Traces over OTLP.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP endpoint of an OpenTelemetry collector (e.g. `http://127.0.0.1:4318`; the
    /// traces go to `<endpoint>/v1/traces` unless it already ends so). Empty: no export.
    #[serde(default)]
    pub otlp_endpoint: String,
}

/// The tracer provider, while traces are exported.
static PROVIDER: OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber (logs only). Call once, from `main`.
pub fn init(settings: &LogSettings) {
    // Without an endpoint nothing can fail.
    let _ = init_with(settings, &TelemetrySettings::default(), "hoinghi");
}

/// Installs the global subscriber: the logs, and the export of the spans of `service` over OTLP
/// when `telemetry.otlp_endpoint` is set. Call once, from `main`; [`shutdown`] before exiting sends
/// the last spans.
///
/// # Errors
/// An endpoint the exporter cannot use.
pub fn init_with(log: &LogSettings, telemetry: &TelemetrySettings, service: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_target(false);
    let fmt = if log.format == "json" { fmt.json().boxed() } else { fmt.boxed() };
    let otel = match telemetry.otlp_endpoint.trim() {
        "" => None,
        endpoint => {
            use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
            let url = if endpoint.ends_with("/v1/traces") {
                endpoint.to_owned()
            } else {
                format!("{}/v1/traces", endpoint.trim_end_matches('/'))
            };
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(url.clone())
                .with_headers(std::collections::HashMap::new())
                .build()
                .map_err(|e| anyhow::anyhow!("telemetry.otlp_endpoint {url:?}: {e}"))?;
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build())
                .build();
            let tracer = provider.tracer(service.to_owned());
            let _ = PROVIDER.set(provider);
            Some(tracing_opentelemetry::layer().with_tracer(tracer))
        }
    };
    // A second init (tests running services in one process) is harmless, so its error is ignored.
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Ok(())
}

/// Whether spans are exported (then [`continue_trace`] links them).
pub fn exporting() -> bool {
    PROVIDER.get().is_some()
}

/// Sends the spans still queued and stops the export (a no-op when nothing is exported).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        if let Err(e) = provider.shutdown() {
            eprintln!("could not send the last spans: {e}");
        }
    }
}

/// Makes `span` (a request's or a reaction's) continue the W3C context of `headers` (when spans are
/// exported) and returns the context what it writes must carry: the same trace, with `span`'s id
/// as the parent. Without export, `trace` as it is.
pub fn continue_trace(span: &tracing::Span, headers: Option<&HeaderMap>, trace: TraceContext) -> TraceContext {
    if !exporting() {
        return trace;
    }
    use opentelemetry::propagation::TextMapPropagator as _;
    let propagator = opentelemetry_sdk::propagation::TraceContextPropagator::new();
    let parent = match headers {
        Some(headers) => propagator.extract(&Headers(headers)),
        None => opentelemetry::Context::new(),
    };
    // A message without a valid traceparent: the span is the root of the trace `trace` started.
    let parent = if parent.span().span_context().is_valid() {
        parent
    } else {
        let root = TraceContext::parse(&trace.header_value()).unwrap_or_else(TraceContext::new_root);
        let mut carrier = std::collections::HashMap::new();
        carrier.insert(TRACEPARENT.to_ascii_lowercase(), root.header_value());
        propagator.extract(&carrier)
    };
    let _ = span.set_parent(parent);
    let context = span.context();
    let own = context.span().span_context().clone();
    if own.is_valid() {
        TraceContext { trace_id: own.trace_id().to_string(), span_id: own.span_id().to_string() }
    } else {
        trace
    }
}

/// NATS headers as the OpenTelemetry propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        // The propagator asks for `traceparent` and `tracestate`, the names the contract uses.
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        ["traceparent", "tracestate"].into_iter().filter(|k| self.0.get(*k).is_some()).collect()
    }
}

/// A W3C trace context: trace id and parent span id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits: the span that sent the message.
    pub span_id: String,
}

impl TraceContext {
    /// A new trace.
    pub fn new_root() -> Self {
        Self { trace_id: new_trace_id(), span_id: new_span_id() }
    }

    /// Parses a `traceparent` value (`00-<trace>-<span>-<flags>`).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace, span, _flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        if version != "00" || !hex(trace, 32) || !hex(span, 16) || trace.bytes().all(|b| b == b'0') {
            return None;
        }
        Some(Self { trace_id: trace.to_ascii_lowercase(), span_id: span.to_ascii_lowercase() })
    }

    /// The valid context the headers carry, if any.
    pub fn carried(headers: Option<&HeaderMap>) -> Option<Self> {
        headers.and_then(|h| h.get(TRACEPARENT)).and_then(|v| Self::parse(v.as_str()))
    }

    /// The context of an event: its `traceparent` header when it has one (written while spans are
    /// exported, see [`Self::inject_on_event`]), else its envelope's `trace_id` with a new span, else
    /// a new trace (events written before traces existed).
    pub fn of_event(headers: Option<&HeaderMap>, trace_id: Option<&str>) -> Self {
        Self::carried(headers)
            .or_else(|| {
                let id = trace_id?;
                let valid =
                    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0');
                valid.then(|| Self { trace_id: id.to_ascii_lowercase(), span_id: new_span_id() })
            })
            .unwrap_or_else(Self::new_root)
    }

    /// The same trace, a new span: what this process sends onwards.
    pub fn child(&self) -> Self {
        Self { trace_id: self.trace_id.clone(), span_id: new_span_id() }
    }

    /// The `traceparent` header value. Its sampled flag says whether this process records the trace:
    /// `01` while the spans are exported ([`exporting`]), `00` otherwise (the trace id still goes
    /// everywhere and into the logs). The flag is not free: nats-server (≥ 2.11) lifts every header
    /// of a message whose `traceparent` is sampled into a map, for its own message tracing, which
    /// cost the server about 4 µs per command of the storm in docs/BENCHMARKS.md.
    pub fn header_value(&self) -> String {
        let flags = if exporting() { "01" } else { "00" };
        format!("00-{}-{}-{flags}", self.trace_id, self.span_id)
    }

    /// Adds `traceparent` to outgoing headers.
    pub fn inject(&self, headers: &mut HeaderMap) {
        headers.insert(TRACEPARENT, self.header_value().as_str());
    }

    /// Adds `traceparent` to an event's headers while spans are exported ([`exporting`]), where its
    /// parent span id links the reactions' spans to the request's. Otherwise the event goes without
    /// it: the trace id is in its envelope (`trace_id`), which is where reactions read it from
    /// ([`Self::of_event`]), and a header costs every hop that parses it (docs/BENCHMARKS.md: with
    /// the reply's, about 8 µs of CPU per command of the storm over the server, the service and the
    /// client).
    pub fn inject_on_event(&self, headers: &mut HeaderMap) {
        if exporting() {
            self.inject(headers);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_round_trips_and_children_keep_the_trace() {
        let root = TraceContext::new_root();
        let parsed = TraceContext::parse(&root.header_value()).unwrap();
        assert_eq!(parsed, root);
        let child = root.child();
        assert_eq!(child.trace_id, root.trace_id);
        assert_ne!(child.span_id, root.span_id);
        assert!(TraceContext::parse("garbage").is_none());
        assert!(TraceContext::parse("00-00000000000000000000000000000000-0000000000000001-01").is_none());
    }

    #[test]
    fn an_event_without_a_traceparent_continues_the_trace_of_its_envelope() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        // Without export (as in these tests) an event is written without the header...
        let mut headers = HeaderMap::new();
        TraceContext::parse(&format!("00-{trace}-00f067aa0ba902b7-01")).unwrap().inject_on_event(&mut headers);
        assert!(headers.is_empty());
        // ... and its reactions take the trace from the envelope
        let of_envelope = TraceContext::of_event(None, Some(trace));
        assert_eq!(of_envelope.trace_id, trace);
        // A header, when there is one, wins; a broken or absent trace id starts a new trace.
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assert_eq!(TraceContext::of_event(Some(&headers), Some(trace)).trace_id, "0af7651916cd43dd8448eb211c80319c");
        for broken in [None, Some("xyz"), Some("00000000000000000000000000000000")] {
            let fresh = TraceContext::of_event(None, broken);
            assert_eq!(fresh.trace_id.len(), 32);
            assert_ne!(Some(fresh.trace_id.as_str()), broken);
        }
    }
}
