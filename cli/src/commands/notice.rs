//! `hoinghi notice …`: the conclusions notice (thông báo kết luận): the secretariat issues it and
//! lists the overdue ones, sites acknowledge it and read their own copy; plus `hoinghi minutes
//! receipts` ([`receipts`]) and `hoinghi attendance export` ([`export`]).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use hoinghi_shared::api::{
    date_only, ExportFormat, IssueNotice, NoticeStatus, NoticeView, OverdueNotices, PageQuery, Receipts,
};
use hoinghi_shared::{ConferenceId, SiteId};

use super::Ctx;
use crate::output;

/// Conclusions notice commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Issue the conclusions notice of published minutes (secretariat), with its number and date.
    Issue {
        /// The conference id.
        conference: ConferenceId,
        /// The document number (số/ký hiệu), e.g. 15/TB-TU.
        #[arg(long)]
        number: String,
        /// The date on the notice, YYYY-MM-DD (default: today in Vietnam).
        #[arg(long, value_parser = date_only::parse)]
        issued_on: Option<NaiveDate>,
    },
    /// Show a conference's notice, or before it is issued its deadline; with --site, the site's own
    /// copy and receipt.
    Get {
        /// The conference id.
        conference: ConferenceId,
        /// Read as this site (its own copy).
        #[arg(long)]
        site: Option<SiteId>,
    },
    /// Acknowledge receipt of the notice for a site.
    Acknowledge {
        /// The site acknowledging.
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
    },
    /// List the notices not issued by their deadline (5 working days after the conference).
    Overdue {
        /// Judge as of this day, YYYY-MM-DD (default: today in Vietnam).
        #[arg(long, value_parser = date_only::parse)]
        as_of: Option<NaiveDate>,
    },
}

/// Runs a notice command.
///
/// # Errors
/// Error replies.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let client = ctx.client().await?;
    let view = match cmd {
        Cmd::Issue { conference, number, issued_on } => {
            client.issue_notice(&IssueNotice { conference_id: conference, number, issued_on }).await?
        }
        Cmd::Get { conference, site: None } => client.notice(conference).await?,
        Cmd::Get { conference, site: Some(site) } => client.site_notice(&site, conference).await?,
        Cmd::Acknowledge { site, conference } => client.acknowledge_notice(&site, conference).await?,
        Cmd::Overdue { as_of } => {
            let list = client.overdue_notices(as_of).await?;
            output::emit(ctx.json, &list, overdue_text)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    output::emit(ctx.json, &view, notice_text)?;
    Ok(ExitCode::SUCCESS)
}

fn notice_text(n: &NoticeView) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let status = match n.status {
        NoticeStatus::AwaitingMinutes => "awaiting the published minutes",
        NoticeStatus::Due => "due, not issued",
        NoticeStatus::Issued => "issued",
    };
    let _ = writeln!(out, "Conclusions notice of {} ({})", n.title, n.conference_id);
    let _ = writeln!(out, "  status: {status}");
    let _ = writeln!(out, "  conference day: {}", n.conference_day);
    let known =
        if n.holidays_known { "" } else { " (holidays of that year unknown: weekends and solar holidays only)" };
    let _ = writeln!(out, "  deadline: {} (5 working days){known}", n.deadline);
    if n.overdue {
        let _ = writeln!(out, "  OVERDUE: not issued by its deadline");
    }
    if let (Some(number), Some(on)) = (&n.number, n.issued_on) {
        let late = if n.late { " — LATE" } else { "" };
        let _ = writeln!(out, "  number {number}, dated {on}{late}");
    }
    for item in &n.items {
        let _ = writeln!(out, "  {}. {}", item.index + 1, item.title);
        for c in &item.conclusions {
            let _ = writeln!(out, "     - {c}");
        }
        for t in &item.tasks {
            let _ = writeln!(out, "     * {} — {} ({}), due {}", t.description, t.owner_name, t.owner_site, t.due);
        }
    }
    let _ = writeln!(out, "  receipts: {} of {} sites", n.acknowledged, n.sites_total);
    if let Some(r) = &n.receipt {
        match r.acknowledged_at {
            Some(at) => {
                let _ = writeln!(out, "  {} acknowledged at {at}", r.site_name);
            }
            None => {
                let _ = writeln!(out, "  {} has not acknowledged yet", r.site_name);
            }
        }
    }
    out
}

fn overdue_text(list: &OverdueNotices) -> String {
    use std::fmt::Write as _;
    let mut out = format!("Conclusions notices overdue as of {}: {}\n", list.as_of, list.notices.len());
    for n in &list.notices {
        let known = if n.holidays_known { "" } else { ", holidays unknown" };
        let _ = writeln!(
            out,
            "  {}  {}  held {}, due {} ({} days overdue{known}), minutes {}",
            n.conference_id,
            n.title,
            n.conference_day,
            n.deadline,
            n.days_overdue,
            output::minutes_status(n.minutes_status)
        );
    }
    out
}

/// `hoinghi minutes receipts`.
#[derive(Debug, Args)]
pub struct ReceiptsArgs {
    /// The conference id.
    conference: ConferenceId,
    /// Index of the first waiting site.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Most sites to list.
    #[arg(long, default_value_t = hoinghi_shared::api::DEFAULT_PAGE)]
    limit: usize,
}

/// Lists the sites that have not acknowledged the minutes or the notice.
///
/// # Errors
/// Error replies.
pub async fn receipts(ctx: &Ctx, args: ReceiptsArgs) -> anyhow::Result<ExitCode> {
    let query = PageQuery { conference_id: args.conference, offset: args.offset, limit: args.limit };
    let receipts = ctx.client().await?.receipts(&query).await?;
    output::emit(ctx.json, &receipts, receipts_text)?;
    Ok(ExitCode::SUCCESS)
}

fn waited(seconds: i64) -> String {
    let (days, hours, minutes) = (seconds / 86_400, seconds % 86_400 / 3_600, seconds % 3_600 / 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else {
        format!("{hours}h {minutes}m")
    }
}

fn receipts_text(r: &Receipts) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "Receipts of {}: {} sites; {} have not acknowledged the minutes, {} the notice\n",
        r.conference_id, r.sites_total, r.minutes_waiting, r.notice_waiting
    );
    if r.minutes_published_at.is_none() {
        out.push_str("  the minutes are not published yet\n");
    }
    if r.notice_issued_at.is_none() {
        out.push_str("  the conclusions notice is not issued yet\n");
    }
    for s in &r.sites {
        let minutes =
            s.minutes_waiting_seconds.map_or_else(|| "received".to_owned(), |w| format!("waiting {}", waited(w)));
        let notice = s.notice_waiting_seconds.map_or_else(
            || if s.notice_acknowledged_at.is_some() { "received".to_owned() } else { "-".to_owned() },
            |w| format!("waiting {}", waited(w)),
        );
        let _ = writeln!(out, "  {:<24} {:<40} minutes: {minutes:<18} notice: {notice}", s.site_id, s.site_name);
    }
    if r.offset + r.sites.len() < r.waiting_total {
        let _ = writeln!(
            out,
            "  … {} more (--offset {})",
            r.waiting_total - r.offset - r.sites.len(),
            r.offset + r.sites.len()
        );
    }
    out
}

/// The export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// CSV with a header row (formula-safe for spreadsheets).
    Csv,
    /// A JSON array.
    Json,
}

/// `hoinghi attendance export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The conference id.
    conference: ConferenceId,
    /// csv or json.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Exports the attendance record (site, answer, delegates, headcount, check-in time; `presence`
/// stays empty until live presence is recorded). The service answers by pages of rows; every page is
/// read, in order, and the whole file written.
///
/// # Errors
/// Error replies, an unwritable file.
pub async fn export(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Format::Csv => ExportFormat::Csv,
        Format::Json => ExportFormat::Json,
    };
    let export = ctx.client().await?.export_attendance(args.conference, format).await?;
    if ctx.json {
        output::print_json(&export)?;
        return Ok(ExitCode::SUCCESS);
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, export.content.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{} rows written to {}", export.rows, path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(export.content.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
