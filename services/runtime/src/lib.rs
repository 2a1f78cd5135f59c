//! The plumbing every hoinghi service runs on, so that a service crate holds only its domain.
//!
//! # Layout
//! - [`collections`]: hash maps with a fast, randomly seeded hasher.
//! - [`config`]: layered settings (base file, `HOINGHI_CONFIG` file, `HOINGHI__…` variables).
//! - [`telemetry`]: logging and W3C trace context carried in NATS headers.
//! - [`connect`]: connecting to NATS with reconnects and optional credentials.
//! - [`streams`]: the streams and durable consumers a service relies on, checked at start (a stream
//!   that could lose, expire or refuse events stops the service with every difference named).
//! - [`store`]: the JetStream event store and the projection each instance keeps.
//! - [`records`]: what is too large for one event (an attendance record, minutes) in the JetStream
//!   object store `HOINGHI_RECORDS`, content-addressed and checked against its SHA-256 on every read.
//! - [`log`]: the event log read as it is, message by message, across streams (the audit trail).
//! - [`aggregate`]: the one shape of every aggregate (decide, apply, address) and [`aggregate::decide`].
//! - [`testing`]: given / when / then for aggregates, with no broker.
//! - [`host`]: the NATS micro-service host with bounded concurrency and graceful stop.
//! - [`metrics`]: Prometheus metrics, `/healthz` and `/readyz` on an optional HTTP port.
//! - [`micro`]: the micro-service protocol (`$SRV.PING/INFO/STATS`) from per-endpoint atomic counters.
//! - [`reaction`]: durable consumers on other services' events.
//! - [`service`]: assembling a service from the parts above.
//! - [`working`]: the settings of the working streams (notifications, timers).
//! - [`timers`]: durable timers on JetStream message schedules, and the consumer of fired ones.
//! - [`notify`]: writing each site's notifications in bulk, and listing them since a cursor.
//! - [`input`]: parsing request bodies and bounded text at the edge.
//! - [`shutdown`]: SIGTERM / Ctrl-C.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod collections;
pub mod config;
pub mod connect;
pub mod host;
pub mod input;
pub mod log;
pub mod metrics;
pub mod micro;
pub mod notify;
pub mod reaction;
pub mod records;
pub mod service;
pub mod shutdown;
pub mod store;
pub mod streams;
pub mod telemetry;
pub mod testing;
pub mod timers;
pub mod working;
