//! The typed hoinghi client, used by the CLI (`hoinghi`), the test harness and the benchmark.
//!
//! - [`api`]: [`Settings`] (URL list, credentials through `hoinghi-credentials`, identity and its
//!   inbox prefix, TLS, timeout) and [`Api`], a connection with one typed method per public subject
//!   returning `Result<T, ApiError>`, plus [`Api::call`] returning the richer [`CallError`] for
//!   people, and [`Api::raw`] for exact bytes and headers. Every request carries a `traceparent`
//!   (this client's trace, a new span per request; ids from [`hoinghi_shared::trace`]); commands may
//!   carry a `Hoinghi-Idempotency-Key`.
//! - [`error`]: [`CallError`] (error reply, no responders, refused by the server's permissions,
//!   timed out, …) and how it maps onto the contract's [`ApiError`].
//! - [`reply`]: [`RawReply`], a reply as it came off the wire.
//! - [`board`]: following one conference live as a board does: snapshot, live changes, gaps
//!   filled from the log, resume after a disconnect.
//! - [`bac_kan`]: the canonical Bắc Kạn conference of 23 July 2021 and the requests built from it.
//! - [`eventually`]: polling for asynchronous effects (the roster after `invite`, the draft after
//!   `end`).

#![forbid(unsafe_code)]

pub mod api;
pub mod bac_kan;
pub mod board;
pub mod error;
pub mod reply;

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

pub use api::{Api, Settings, CONNECT_TIMEOUT, REQUEST_TIMEOUT};
pub use error::{CallError, Violation};
pub use hoinghi_shared::ApiError;
pub use reply::{idempotency_headers, RawReply};

/// Calls `attempt` until it returns `Ok`, backing off from 20 ms to 200 ms, for at most `timeout`;
/// the error names the last failure.
///
/// ```no_run
/// # async fn f(api: hoinghi_client::Api, id: hoinghi_shared::ConferenceId) -> anyhow::Result<()> {
/// let roster = hoinghi_client::eventually(std::time::Duration::from_secs(15), || api.roster(id)).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// Still failing after `timeout`.
pub async fn eventually<T, E, F, Fut>(timeout: Duration, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Debug,
{
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(20);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if Instant::now() >= deadline => {
                anyhow::bail!("not within {timeout:?}; last attempt: {e:?}")
            }
            Err(_) => {}
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(200));
    }
}
