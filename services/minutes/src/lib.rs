//! The minutes service: drafts opened with the real attendance record when a session ends, agenda
//! items recorded by the minute-taker, approval by a chair, publication as an immutable Markdown
//! document with its SHA-256, and each site's acknowledgement.
//!
//! # Layout
//! - [`minutes`]: the aggregates, each a [`hoinghi_runtime::aggregate::Aggregate`] (`handle` decides,
//!   `apply` records, `address` says where and on what condition its event is appended): the
//!   minutes, [`minutes::Minutes`] (`…events.minutes.<conference>.*`), which admit a site's
//!   acknowledgement before the site's own, [`minutes::Ack`] (`…events.minutes.<conference>.<site>.*`),
//!   decides it.
//! - [`document`]: the published document stored out of line in the records bucket when it is
//!   too large for one event, read back (hash checked) into a bounded cache for the replies, which
//!   carry it by pages.
//! - [`receipt`]: each invited site's receipt of the minutes or of the notice, and the address of an
//!   event on a conference's own subjects.
//! - [`render`]: the published documents (Markdown, and HTML from `templates/minutes.html`), user
//!   text escaped by construction, and their hashes.
//! - [`tasks`]: the tasks of the published minutes followed to done, one aggregate per task,
//!   [`tasks::FollowUp`] (`…events.minutes.<conference>.tasks.<task>.*`): the owner site reports,
//!   the secretariat accepts or returns; overdue counted in Vietnam time.
//! - [`state`]: the projection rebuilt from the `HOINGHI_MINUTES` stream; it hands each event of a
//!   conference to the minutes' `apply`.
//! - [`commands`]: one file per request subject: find the aggregate in the state, `decide`,
//!   `execute`.
//! - [`reactions`]: opening the draft when attendance closes the roster.
//! - [`record`]: the attendance record kept out of line, read back and checked when the draft
//!   opens, when the service starts and when another instance opened it.
//! - [`notifications`]: each invited site's notification that the minutes were published.
//! - `testing` (tests only): support for the minutes' given / when / then.

#![forbid(unsafe_code)]

pub mod calendar;
pub mod commands;
pub mod document;
pub mod minutes;
pub mod notice;
pub mod notifications;
pub mod presence_text;
pub mod reactions;
pub mod receipt;
pub mod record;
pub mod render;
pub mod state;
pub mod tasks;
#[cfg(test)]
mod testing;

use std::future::Future;

use hoinghi_runtime::config::Settings;
use hoinghi_runtime::service;
use hoinghi_shared::Service;

/// This service: its token, micro-service name (also the binary's) and stream.
pub const SERVICE: Service = Service::Minutes;

/// The micro-service name (also the binary's), `hoinghi-minutes`.
pub const NAME: &str = SERVICE.name();

/// Runs the service until `shutdown` resolves.
///
/// # Errors
/// NATS unreachable at start, or the event log cannot be read.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    // A malformed holiday table stops the service before it serves anything.
    let calendar = std::sync::Arc::new(calendar::Calendar::load(&settings.calendar.holidays_file)?);
    let app = service::App::<state::MinutesState>::build(&settings, SERVICE).await?;
    // The attendance records the replay left out of line are read back before the service is ready
    // (those the bucket serves; the others in the background, `record`). The hook goes in first,
    // so a draft another instance opens meanwhile is loaded too (a load is idempotent).
    let records = hoinghi_runtime::records::Records::open(&app.jetstream()).await?;
    let loader = record::Loader::new(app.store.clone(), records.clone());
    loader.watch();
    loader.fill_pending().await;
    let store = app.store.clone();
    app.react(reactions::subscription(), move |event| reactions::on_event(store.clone(), loader.clone(), event));
    let store = app.store.clone();
    app.react(notifications::subscription(), move |event| notifications::on_event(store.clone(), event));
    let host = app.host("Minutes: drafting, approval by a chair, publication and acknowledgement").await?;
    let documents = document::Documents::new(records);
    commands::register(&host, commands::Ctx { store: app.store.clone(), documents }).await?;
    commands::notice::register(&host, app.store.clone(), calendar).await?;
    app.run(host, shutdown).await?;
    Ok(())
}
