//! The library side of the `hoinghi` client: what other crates (the test harness, tools) reuse.
//!
//! - [`credentials`]: a deployment's NATS identities, the `nats-server` configuration with each
//!   identity's permissions, and the credentials files (`hoinghi admin …`).

#![forbid(unsafe_code)]

pub mod credentials;
