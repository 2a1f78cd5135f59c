//! The library side of the `hoinghi` client: what other crates (the test harness, tools) reuse.
//!
//! - [`bac_kan`]: the facts of the canonical Bắc Kạn conference, shared by the demo and the tests.
//! - [`credentials`]: a deployment's NATS identities, the `nats-server` configuration with each
//!   identity's permissions, and the credentials files (`hoinghi admin …`).

#![forbid(unsafe_code)]

pub mod bac_kan;
pub mod credentials;
