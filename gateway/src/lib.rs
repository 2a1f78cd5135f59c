//! `hoinghi-gateway`: the hoinghi API over HTTP/JSON, live boards over Server-Sent Events, and the
//! web pages of the secretariat and the district points, all by calling the NATS API as the caller's
//! own identity. It holds no state of the conferences: any number of instances may run side by side.
//!
//! # Modules
//! - [`config`]: settings, layered like the services' (`config/base.toml`, `HOINGHI_CONFIG`,
//!   `HOINGHI__…`).
//! - [`tokens`]: bearer tokens per identity, kept as SHA-256 hashes in `<deployment>/tokens.json`
//!   (issued by `hoinghi admin token`).
//! - [`auth`]: the caller from its token or session cookie, and its rate limit.
//! - [`pool`]: one NATS connection per calling identity, with its `.creds`, closed when idle.
//! - [`routes`]: the one table of endpoints (one per request subject) and the OpenAPI document made
//!   from it.
//! - [`http`]: the router and the handler every endpoint runs.
//! - [`error`]: the error body and statuses (the contract's, plus 401 and 429).
//! - [`sse`]: a conference's board as an event stream, resumable with `Last-Event-ID`.
//! - [`pages`]: the server-rendered pages (askama, in Vietnamese): login, the board, a district
//!   point's page, the published minutes.

#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod pages;
pub mod pool;
pub mod routes;
pub mod sse;
pub mod tokens;

pub use config::Settings;
pub use http::{router, App};
