//! `hoinghi attendance roll-call` and `hoinghi attendance quorum`: the secretariat takes the roll of
//! a bridge during the session, and asks whether the conference is quorate now.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use hoinghi_shared::api::{ConferenceRef, Quorum, QuorumBasis, RollCall, SiteAttendance};
use hoinghi_shared::subjects::attendance;
use hoinghi_shared::{ConferenceId, SiteId};

use super::Ctx;
use crate::output;

/// `roll-call <CONF> --site X --present --people N | --absent --reason …`.
#[derive(Debug, Args)]
pub struct RollCallArgs {
    /// The conference id.
    pub conference: ConferenceId,
    /// The bridge called.
    #[arg(long)]
    pub site: SiteId,
    /// The bridge is present (give --people).
    #[arg(long, conflicts_with_all = ["absent", "reason"], required_unless_present = "absent", requires = "people")]
    pub present: bool,
    /// The number of people in the bridge's room.
    #[arg(long)]
    pub people: Option<u32>,
    /// The bridge is absent (give --reason).
    #[arg(long, conflicts_with = "people", requires = "reason")]
    pub absent: bool,
    /// Why the bridge is absent.
    #[arg(long)]
    pub reason: Option<String>,
}

/// Takes the roll of one bridge; prints its line of the roster.
///
/// # Errors
/// Error replies.
pub async fn roll_call(ctx: &Ctx, args: RollCallArgs) -> anyhow::Result<ExitCode> {
    let RollCallArgs { conference, site, present, people, absent: _, reason } = args;
    let body = RollCall { conference_id: conference, site, present, people, reason };
    let line: SiteAttendance = ctx.client().await?.call(attendance::ROLL_CALL, &body).await?;
    output::emit(ctx.json, &line, |l| format!("{}{}", output::site_attendance(l), roll_call_line(l)))?;
    Ok(ExitCode::SUCCESS)
}

/// Whether the conference is quorate now; exits 0 either way (the answer is in the output).
///
/// # Errors
/// Error replies.
pub async fn quorum(ctx: &Ctx, conference: ConferenceId) -> anyhow::Result<ExitCode> {
    let q: Quorum = ctx.client().await?.call(attendance::QUORUM, &ConferenceRef { conference_id: conference }).await?;
    output::emit(ctx.json, &q, quorum_text)?;
    Ok(ExitCode::SUCCESS)
}

/// The roll call on a site's line, if any.
pub fn roll_call_line(l: &SiteAttendance) -> String {
    let Some(r) = &l.roll_call else { return String::new() };
    let what = if r.present {
        format!("present, {} people", r.people.unwrap_or_default())
    } else {
        format!("absent: {}", r.reason.as_deref().unwrap_or_default())
    };
    format!("  roll call: {what} at {} ({} call(s))\n", r.at.to_rfc3339(), r.calls)
}

/// The quorum in words.
pub fn quorum_text(q: &Quorum) -> String {
    let mut out = String::new();
    let verdict = if q.quorate { "QUORATE" } else { "NOT QUORATE" };
    match q.rule {
        None => {
            let _ = writeln!(out, "{verdict}: no quorum rule (always quorate)");
        }
        Some(rule) => {
            let what = match rule.basis {
                QuorumBasis::Bridges => "bridges",
                QuorumBasis::Delegates => "delegates",
            };
            let _ = writeln!(
                out,
                "{verdict}: {} of {} {what} present, {} required ({}% of {what})",
                q.present, q.total, q.required, rule.percent
            );
        }
    }
    let _ = writeln!(
        out,
        "bridges present {} of {} (roll call {}, presence {}, check-in {}){}",
        q.bridges_present,
        q.bridges_total,
        q.by_roll_call,
        q.by_presence,
        q.by_check_in,
        if q.presence_known { "" } else { "; live presence not known: check-ins count" }
    );
    out
}
