//! The scheduling service: the site registry and each conference's life, from scheduling through
//! invitations, session start and end, to cancellation or closing.
//!
//! # Layout
//! - [`site`], [`conference`]: the aggregates, each a [`hoinghi_runtime::aggregate::Aggregate`]
//!   (`handle` decides, `apply` records, `address` says where and on what condition its event is
//!   appended: a site on `…events.sites.<site>.*`, a conference on `…events.scheduling.<conference>.*`).
//! - [`state`]: the projection rebuilt from the `HOINGHI_SCHEDULING` stream; it hands each event to
//!   its aggregate's `apply`.
//! - [`commands`]: one file per request subject: find the aggregate in the state, `decide`,
//!   `execute`.
//! - [`reactions`]: closing a conference when its minutes are published.

#![forbid(unsafe_code)]

pub mod commands;
pub mod conference;
pub mod ics;
pub mod reactions;
pub mod reschedule;
pub mod site;
pub mod state;

use std::future::Future;

use hoinghi_runtime::config::Settings;
use hoinghi_runtime::service;
use hoinghi_shared::Service;

/// This service: its token, micro-service name (also the binary's) and stream.
pub const SERVICE: Service = Service::Scheduling;

/// The micro-service name (also the binary's), `hoinghi-scheduling`.
pub const NAME: &str = SERVICE.name();

/// Runs the service until `shutdown` resolves.
///
/// # Errors
/// NATS unreachable at start, or the event log cannot be read.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let app = service::App::<state::SchedulingState>::build(&settings, SERVICE).await?;
    let store = app.store.clone();
    app.react(reactions::subscription(), move |event| reactions::on_event(store.clone(), event));
    let host = app.host("Schedules conferences: sites, invitations, session start and end, cancellation").await?;
    commands::register(&host, app.store.clone()).await?;
    app.run(host, shutdown).await?;
    Ok(())
}
