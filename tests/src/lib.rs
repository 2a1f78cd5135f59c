//! Test harness for hoinghi: a private `nats-server`, the three service processes, a typed client
//! and the canonical Bắc Kạn scenario. Used by the end-to-end suite (`tests/e2e`) and meant to be
//! reused by benchmarks and demos.
//!
//! # Modules
//! - [`nats`]: find a `nats-server` (>= 2.11) and run a private one ([`nats::NatsServer`]) on a free
//!   port with JetStream in a temporary store; restart it on the same port and store.
//! - [`service`]: find the service binaries and run them ([`service::ServiceProcess`], one of each
//!   in [`service::Services`]; the services are the contract's [`hoinghi_shared::Service`]): wait
//!   until they answer `$SRV.PING`, SIGKILL, SIGTERM, restart, log capture.
//! - [`client`]: the typed client ([`client::Api`], from the `hoinghi-client` crate) speaking the public
//!   subjects, mapping error replies to [`hoinghi_shared::ApiError`]; the [`client::eventually`]
//!   polling helper.
//! - [`stack`]: [`stack::Stack`] = server + the three services + a client, with JetStream counters to
//!   check how many events were written.
//! - [`counts`]: those counters (messages per stream, per subject filter, per service, dead
//!   letters) on any JetStream context, for both stacks.
//! - [`scenario`]: the canonical data ([`hoinghi_client::bac_kan`]): nine Bắc Kạn sites, the conference
//!   of 23 July 2021, who confirms, declines, stays silent, checks in, and the minutes of its five
//!   agenda items.
//! - [`flow`]: steps that drive the scenario through the public API (register, schedule, invite,
//!   answer, check in, run the session, write and publish the minutes).
//! - [`secure`]: [`secure::SecureStack`], the same with authentication on: credentials from
//!   `hoinghi admin init`'s code (`hoinghi-credentials`: NATS JWT authentication), each service with its own
//!   identities, connections as any identity that record what the server refused them.
//! - [`bulk`]: load for the reliability tests: generated sites, a client that retries with its
//!   idempotency key and counts, events read back from JetStream.
//! - [`gateway`]: the HTTP gateway as a process ([`gateway::Gateway`]) over a secured stack, tokens
//!   for its identities, and a small HTTP client.
//! - [`browser`]: headless Chromium (the Debian package) driven over the DevTools protocol, for the
//!   gateway's pages; screenshots and the pixels in them.
//! - [`cluster`]: [`cluster::NatsCluster`], three nodes of `deploy/cluster/` on loopback.
//! - [`commonmark`]: published Markdown as a reader's CommonMark parser reads it, and the hostile
//!   text that must stay text in it (also used by the minutes' render tests).
//!
//! # Environment
//! - `NATS_SERVER_BIN`: the `nats-server` to use (else `<repo>/.tools/nats/bin/nats-server`, else
//!   `nats-server` on `PATH` if >= 2.11; `deploy/install-nats.sh` installs one).
//! - `HOINGHI_BIN_DIR`: where `hoinghi-{scheduling,attendance,minutes}` are (else the cargo target
//!   directory of the running executable, e.g. `target/debug/`).
//! - `HOINGHI_TEST_KEEP`: when set, the temporary directories (config, store, logs) are kept.
//! - `HOINGHI_TEST_LOG`: `RUST_LOG` for the services (default `info`).
//! - `HOINGHI_CHROMIUM`: the Chromium binary of the browser tests (else `/usr/bin/chromium`, else
//!   `chromium` on `PATH`; `deploy/install-test-tools.sh` installs Debian's).
//! - `HOINGHI_SCHEMATHESIS`: the schemathesis command of the HTTP fuzzing (set by `deploy/test.sh`;
//!   else `target/test-venv/bin/schemathesis`, else that test is skipped loudly);
//!   `HOINGHI_FUZZ_EXAMPLES` its examples per operation (default 6).
//! - `HOINGHI_BOARD_SITES`: the bridges of the board's scale test in the browser (default 20,000).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

pub mod browser;
pub mod bulk;
pub mod client;
pub mod cluster;
pub mod commonmark;
pub mod counts;
pub mod flow;
pub mod gateway;
pub mod nats;
pub mod scenario;
pub mod secure;
pub mod service;
pub mod stack;

pub use client::{eventually, Api, RawReply};
pub use nats::NatsServer;
pub use service::{Service, ServiceProcess};
pub use stack::Stack;

/// How long asynchronous effects (roster opening, draft opening, closing) may take in tests.
pub const ASYNC_TIMEOUT: Duration = Duration::from_secs(15);

/// How long an event may take to be processed when the instance it was delivered to was SIGKILLed
/// before acknowledging it: JetStream redelivers it after the consumer's ack wait (30 s in the services'
/// reaction consumers), plus a margin.
pub const REDELIVERY_TIMEOUT: Duration = Duration::from_secs(45);

/// How long a service may take to answer `$SRV.PING` after it is spawned.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root (the workspace directory holding `tests/`).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), std::path::Path::to_path_buf)
}

/// The last `lines` lines of a text file, or a note saying why it could not be read.
pub fn tail(path: &std::path::Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let start = all.len().saturating_sub(lines);
            all[start..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
