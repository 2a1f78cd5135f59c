//! `hoinghi attendance …`: a district point answers and checks in; the secretariat reads the roster.

use std::process::ExitCode;

use clap::Subcommand;
use hoinghi_shared::api::{ConferenceRef, ConfirmAttendance, DeclineAttendance, Person, Roster, SiteAttendance};
use hoinghi_shared::subjects::attendance;
use hoinghi_shared::{ConferenceId, SiteId};

use super::{parse_person, Ctx};
use crate::output;

/// Attendance commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Confirm attendance for a site, naming its delegates (again to change them or name a substitute).
    Confirm {
        /// The site answering (the district point's own site).
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
        /// A delegate, as "Name|Title" (repeat).
        #[arg(long = "delegate", required = true, value_parser = parse_person)]
        delegates: Vec<Person>,
        /// How many people will be at the bridge in all (at least the number of delegates).
        #[arg(long)]
        headcount: u32,
    },
    /// Decline for a site, with the reason (recorded in the minutes).
    Decline {
        /// The site answering.
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
        /// Why the site cannot attend.
        #[arg(long)]
        reason: String,
    },
    /// Check a site in at the session (điểm danh).
    CheckIn {
        /// The site checking in.
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
    },
    /// Show a site's own line of the roster: its answer, delegates, check-in and technical check.
    Status {
        /// The site reading its line.
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
    },
    /// Acknowledge for a site that it has seen the conference's current schedule (after a
    /// reschedule).
    ScheduleSeen {
        /// The site acknowledging.
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
        /// The schedule sequence seen (default: the conference's current one, read first).
        #[arg(long)]
        sequence: Option<u32>,
    },
    /// Show the roster: every invited site's answer, delegates and headcount, and the counts.
    Roster {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Export the final attendance record as CSV or JSON (secretariat).
    Export(super::notice::ExportArgs),
    /// Take the roll (điểm danh) of one bridge during the session (secretariat): `--present
    /// --people N` or `--absent --reason "…"`.
    RollCall(super::roll_call::RollCallArgs),
    /// Whether the conference is quorate now, under its quorum rule.
    Quorum {
        /// The conference id.
        conference: ConferenceId,
    },
}

/// Runs an attendance command.
///
/// # Errors
/// Error replies.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let line: SiteAttendance = match cmd {
        Cmd::Export(args) => return super::notice::export(ctx, args).await,
        Cmd::RollCall(args) => return super::roll_call::roll_call(ctx, args).await,
        Cmd::Quorum { conference } => return super::roll_call::quorum(ctx, conference).await,
        Cmd::Confirm { site, conference, delegates, headcount } => {
            let body = ConfirmAttendance { conference_id: conference, delegates, headcount };
            ctx.client().await?.call(&attendance::site_command(&site, attendance::CONFIRM), &body).await?
        }
        Cmd::Decline { site, conference, reason } => {
            let body = DeclineAttendance { conference_id: conference, reason };
            ctx.client().await?.call(&attendance::site_command(&site, attendance::DECLINE), &body).await?
        }
        Cmd::CheckIn { site, conference } => {
            let body = ConferenceRef { conference_id: conference };
            ctx.client().await?.call(&attendance::site_command(&site, attendance::CHECK_IN), &body).await?
        }
        Cmd::Status { site, conference } => {
            let body = ConferenceRef { conference_id: conference };
            ctx.client().await?.call(&attendance::site_command(&site, attendance::STATUS), &body).await?
        }
        Cmd::ScheduleSeen { site, conference, sequence } => {
            let client = ctx.client().await?;
            let sequence = match sequence {
                Some(sequence) => sequence,
                None => {
                    // The site reads its own conference, on its per-site subject.
                    use hoinghi_shared::subjects::scheduling;
                    let body = ConferenceRef { conference_id: conference };
                    let view: hoinghi_shared::api::ConferenceView =
                        client.call(&scheduling::site_command(&site, scheduling::SITE_GET), &body).await?;
                    view.schedule_sequence
                }
            };
            let body = hoinghi_shared::api::ScheduleSeen { conference_id: conference, sequence };
            client.call(&attendance::site_command(&site, attendance::SCHEDULE_SEEN), &body).await?
        }
        Cmd::Roster { conference } => {
            let roster: Roster =
                ctx.client().await?.call(attendance::ROSTER, &ConferenceRef { conference_id: conference }).await?;
            output::emit(ctx.json, &roster, output::roster)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    output::emit(ctx.json, &line, output::site_attendance)?;
    Ok(ExitCode::SUCCESS)
}
