//! The attendance service: each conference's roster, from the invitations to the final attendance
//! record — sites confirm with named delegates, decline with a reason, and check in.
//!
//! # Layout
//! - [`roster`]: the aggregates, each a [`hoinghi_runtime::aggregate::Aggregate`] (`handle` decides,
//!   `apply` records, `address` says where and on what condition its event is appended): each site's
//!   answers, [`roster::SiteEntry`] (`…events.attendance.<conference>.<site>.*`), and the roster,
//!   [`roster::Roster`] (`…events.attendance.<conference>.*`; its close and cancel are fenced over the
//!   whole conference), which admits a site's command before the site's entry decides it.
//! - [`state`]: the projection rebuilt from the `HOINGHI_ATTENDANCE` stream; it hands each event of
//!   a conference to the roster's `apply`.
//! - [`commands`]: one file per request subject: find the aggregate in the state, `decide`,
//!   `execute`.
//! - [`reactions`]: opening, closing, cancelling and rescheduling rosters on scheduling's events.
//! - [`schedule`]: a conference moved after its invitations: the roster's schedule sequence, which
//!   sites have seen it, answers given before it, answers cleared when every site must answer again.
//! - [`reminders`]: reminders on durable timers (JetStream message schedules) for the sites that
//!   have not answered, and the invitation, reschedule and cancellation notifications.
//! - [`notifications`]: the list of a site's notifications since its cursor.
//! - [`board`]: the boards' live feed: the snapshot, each applied event published on
//!   `hoinghi.v1.live.<conference>`, the changes since a sequence read from the log.
//! - `testing` (tests only): given / when / then over a conference's whole attendance log.

#![forbid(unsafe_code)]

pub mod board;
pub mod commands;
pub mod floor;
pub mod notifications;
pub mod presence;
pub mod quorum;
pub mod reactions;
pub mod reminders;
pub mod roll_call;
pub mod roster;
pub mod schedule;
pub mod state;
pub mod technical_check;
#[cfg(test)]
mod testing;

use std::future::Future;

use hoinghi_runtime::config::Settings;
use hoinghi_runtime::service;
use hoinghi_shared::Service;

/// This service: its token, micro-service name (also the binary's) and stream.
pub const SERVICE: Service = Service::Attendance;

/// The micro-service name (also the binary's), `hoinghi-attendance`.
pub const NAME: &str = SERVICE.name();

/// Runs the service until `shutdown` resolves.
///
/// # Errors
/// NATS unreachable at start, or the event log cannot be read.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let app = service::App::<state::AttendanceState>::build(&settings, SERVICE).await?;
    // The boards' live feed, from the identity that writes the log (the replay is not published).
    board::publish_live(&app.store, app.jetstream().client());
    let store = app.store.clone();
    // The object store of the final records too large for one event (written before `roster_closed`).
    let records = hoinghi_runtime::records::Records::open(&app.jetstream()).await?;
    app.react(reactions::subscription(), move |event| reactions::on_event(store.clone(), records.clone(), event));
    let store = app.store.clone();
    app.react(reminders::subscription(), move |event| reminders::on_roster_event(store.clone(), event));
    let store = app.store.clone();
    app.react(commands::quorum::subscription(), move |event| {
        commands::quorum::on_agenda_item_started(store.clone(), event)
    });
    let store = app.store.clone();
    app.on_timers(reminders::DUE_DURABLE, hoinghi_shared::subjects::timers::DUE_ALL.to_owned(), move |fired| {
        reminders::on_due(store.clone(), fired)
    });
    let host = app.host("Rosters: confirmations, refusals and check-ins of every invited site").await?;
    // Live presence: every instance hears every bridge's heartbeats (a plain subscription on the
    // API connection, not a queue group) and turns them into transitions.
    let tracker = presence::run(app.store.clone(), app.api_client(), app.settings().presence, app.background()).await?;
    app.metrics().add_figures(move || presence::figures(&tracker));
    commands::register(&host, app.store.clone()).await?;
    notifications::register(&host, app.store.clone()).await?;
    app.run(host, shutdown).await?;
    Ok(())
}
