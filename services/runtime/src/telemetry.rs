//! Logging and trace context.
//!
//! Every request may carry a W3C `traceparent` header; a service continues that trace (or starts one),
//! logs inside a span holding the `trace_id`, writes the `traceparent` on each event it appends, and
//! a service reacting to that event continues the same trace. Grepping logs for one `trace_id` follows
//! a command through every service it touched.

use async_nats::HeaderMap;
use hoinghi_shared::headers::TRACEPARENT;
use hoinghi_shared::trace::{new_span_id, new_trace_id};
use tracing_subscriber::EnvFilter;

use crate::config::LogSettings;

/// Installs the global subscriber. Call once, from `main`.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    // A second init (tests running services in one process) is harmless, so its error is ignored.
    let _ = if settings.format == "json" { builder.json().try_init() } else { builder.try_init() };
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

    /// The context of incoming headers, or a new trace when there is none.
    pub fn from_headers(headers: Option<&HeaderMap>) -> Self {
        headers.and_then(|h| h.get(TRACEPARENT)).and_then(|v| Self::parse(v.as_str())).unwrap_or_else(Self::new_root)
    }

    /// The same trace, a new span: what this process sends onwards.
    pub fn child(&self) -> Self {
        Self { trace_id: self.trace_id.clone(), span_id: new_span_id() }
    }

    /// The `traceparent` header value.
    pub fn header_value(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }

    /// Adds `traceparent` to outgoing headers.
    pub fn inject(&self, headers: &mut HeaderMap) {
        headers.insert(TRACEPARENT, self.header_value().as_str());
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
}
