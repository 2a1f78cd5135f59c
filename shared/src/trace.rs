//! Trace and span ids of the W3C trace context carried in [`crate::headers::TRACEPARENT`]: one
//! generator for the services and the clients. No I/O beyond seeding once per thread.

use std::cell::Cell;
use std::fmt::Write as _;

/// A new trace id: 32 lowercase hex digits, never all zeros.
pub fn new_trace_id() -> String {
    random_hex(16)
}

/// A new span id: 16 lowercase hex digits, never all zeros.
pub fn new_span_id() -> String {
    random_hex(8)
}

/// The `traceparent` value (`00-<trace>-<span>-01`, sampled) of a span in a trace.
pub fn traceparent(trace_id: &str, span_id: &str) -> String {
    format!("00-{trace_id}-{span_id}-01")
}

/// `bytes` pseudo-random bytes as lowercase hex. Unique enough for ids, not secret: never use it for
/// keys or tokens.
pub fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2 + 16);
    while out.len() < bytes * 2 {
        let _ = write!(out, "{:016x}", next_random());
    }
    out.truncate(bytes * 2);
    out
}

/// A xorshift64* generator per thread, seeded from the OS once: trace and span ids need to be
/// unique, not secret, and one is made for every request.
fn next_random() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new((uuid::Uuid::new_v4().as_u128() as u64) | 1);
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_of_the_right_length_and_differ() {
        let (trace, span) = (new_trace_id(), new_span_id());
        assert_eq!(trace.len(), 32);
        assert_eq!(span.len(), 16);
        assert!(trace.bytes().chain(span.bytes()).all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(new_trace_id(), trace);
        assert_eq!(random_hex(3).len(), 6);
        assert_eq!(traceparent(&trace, &span), format!("00-{trace}-{span}-01"));
        let distinct: std::collections::HashSet<String> = (0..1000).map(|_| new_span_id()).collect();
        assert_eq!(distinct.len(), 1000);
    }
}
