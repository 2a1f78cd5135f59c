//! The hoinghi wire contract, shared by every service and client.
//!
//! Nothing here talks to NATS: these are the names and shapes that cross the wire, so that a client
//! in any language can be written from this crate (or from `docs/asyncapi.yaml`, which mirrors it).
//!
//! # Layout
//! - [`subjects`]: every NATS subject, built by functions, all composed from one prefix
//!   ([`subjects::PREFIX`]); services named by [`Service`], never by a bare token.
//! - [`ids`]: parsed identifiers ([`ids::ConferenceId`], [`ids::SiteId`], [`ids::PersonId`]).
//! - [`api`]: request and reply bodies of the public API v1.
//! - [`board`]: the boards' live feed of a conference: snapshot, live changes, changes since.
//! - [`document`]: the published minutes read by pages, put together and checked against their
//!   hash.
//! - [`events`]: the event envelope, the events of each service (each type named once, as a
//!   constant of its enum) and the payload types they carry, separate from the [`api`] types.
//! - [`error`]: error codes and the error reply body.
//! - [`export`]: the attendance export read by pages of rows and put together into the file.
//! - [`headers`]: header names with a meaning in the contract.
//! - [`limits`]: input size limits every service enforces.
//! - [`sizes`]: message sizes: the server's `max_payload`, the largest request per subject, replies.
//! - [`notifications`]: each site's notifications, their list, and the reminder offsets and timers.
//! - [`streams`]: the JetStream streams that hold the event log.
//! - [`service`]: the three services ([`Service`]): token, micro-service name, stream.
//! - [`roles`]: who acts: each role's NATS identity, the actor its events record, and its
//!   permissions, built from [`subjects`].
//! - [`trace`]: trace and span ids for the `traceparent` header.
//!
//! With the `openapi` feature every request and reply type also derives `utoipa::ToSchema` (each new
//! one with `#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]`), and the ids have
//! hand-written schemas (`openapi.rs`): the HTTP gateway builds its OpenAPI document from them.

#![forbid(unsafe_code)]

pub mod api;
pub mod board;
pub mod document;
pub mod error;
pub mod events;
pub mod export;
pub mod headers;
pub mod ids;
pub mod limits;
pub mod notifications;
#[cfg(feature = "openapi")]
mod openapi;
pub mod presence;
pub mod roles;
pub mod service;
pub mod sizes;
pub mod streams;
pub mod subjects;
pub mod trace;

pub use error::{ApiError, ErrorCode};
pub use ids::{ConferenceId, PersonId, SiteId};
pub use roles::Role;
pub use service::Service;
