//! `hoinghi task …`: the tasks of the published minutes followed to done. A site lists its own
//! tasks and reports progress or completion; the secretariat accepts or returns a task reported
//! done and lists every site's (the minute-taker and the chairs may list too).

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hoinghi_shared::api::{ListTasks, ReportTask, TaskList, TaskReportKind, TaskStatus, TaskView, DEFAULT_PAGE};
use hoinghi_shared::ids::TaskId;
use hoinghi_shared::{ConferenceId, Role, SiteId};

use super::Ctx;
use crate::output;

/// Task commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List tasks: as a site (credentials of `site-<id>`), only the site's own; otherwise every
    /// site's, or one site's with --site.
    List(ListArgs),
    /// Report progress on one of a site's tasks, or with --done its completion.
    Report {
        /// The conference id.
        conference: ConferenceId,
        /// The task id, `<item>-<index>` as listed (e.g. 2-0).
        task: TaskId,
        /// The site reporting (default: the site of the credentials).
        #[arg(long)]
        site: Option<SiteId>,
        /// The task is done (the secretariat then accepts or returns it); without it, progress.
        #[arg(long)]
        done: bool,
        /// What was done.
        #[arg(long)]
        text: String,
        /// A document number, a link or another reference to the evidence.
        #[arg(long)]
        reference: Option<String>,
    },
    /// Accept a task its site reported done (secretariat).
    Accept {
        /// The conference id.
        conference: ConferenceId,
        /// The task id.
        task: TaskId,
        /// A comment.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Return a task reported done to its site, saying what is missing (secretariat); it is in
    /// progress again.
    Return {
        /// The conference id.
        conference: ConferenceId,
        /// The task id.
        task: TaskId,
        /// What is missing.
        #[arg(long)]
        comment: String,
    },
}

/// `task list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this conference's tasks (default: every conference with published minutes).
    #[arg(long)]
    conference: Option<ConferenceId>,
    /// Only this site's tasks (a site sees only its own anyway).
    #[arg(long)]
    site: Option<SiteId>,
    /// Only tasks past their due date and not accepted.
    #[arg(long)]
    overdue: bool,
    /// Index of the first task.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Most tasks to show (1 to 5,000).
    #[arg(long, default_value_t = DEFAULT_PAGE)]
    limit: usize,
}

/// The site the connection acts for, if its identity is a site's.
fn own_site(identity: &str) -> Option<SiteId> {
    match Role::from_identity(identity) {
        Some(Role::Site(site)) => Some(site),
        _ => None,
    }
}

/// Runs a task command.
///
/// # Errors
/// Error replies, or a report without a site.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let api = ctx.client().await?;
    let view = match cmd {
        Cmd::List(args) => {
            let query = ListTasks {
                conference_id: args.conference,
                site: args.site,
                overdue_only: args.overdue,
                offset: args.offset,
                limit: args.limit,
            };
            let list = match own_site(api.identity()) {
                Some(site) => api.site_tasks(&site, &query).await?,
                None => api.tasks(&query).await?,
            };
            output::emit(ctx.json, &list, task_list)?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Report { conference, task, site, done, text, reference } => {
            let Some(site) = site.or_else(|| own_site(api.identity())) else {
                anyhow::bail!("name the reporting site with --site (or use a site's credentials)");
            };
            let kind = if done { TaskReportKind::Done } else { TaskReportKind::Progress };
            let report = ReportTask { conference_id: conference, task_id: task, kind, text, reference };
            api.report_task(&site, &report).await?
        }
        Cmd::Accept { conference, task, comment } => api.accept_task(conference, task, &comment).await?,
        Cmd::Return { conference, task, comment } => api.return_task(conference, task, &comment).await?,
    };
    output::emit(ctx.json, &view, task)?;
    Ok(ExitCode::SUCCESS)
}

/// The wire name of a task status.
pub fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Open => "open",
        TaskStatus::InProgress => "in_progress",
        TaskStatus::ReportedDone => "reported_done",
        TaskStatus::Accepted => "accepted",
    }
}

fn status_cell(t: &TaskView) -> String {
    if t.overdue {
        format!("{} OVERDUE", status_name(t.status))
    } else {
        status_name(t.status).to_owned()
    }
}

/// One task, in full.
pub fn task(t: &TaskView) -> String {
    let mut out = format!("task {} of conference {}  [{}]\n", t.task_id, t.conference_id, status_cell(t));
    let _ = writeln!(out, "  conference:  {}", t.conference_title);
    let _ = writeln!(out, "  item:        {}. {}", t.task_id.item + 1, t.item_title);
    let _ = writeln!(out, "  task:        {}", t.description);
    let _ = writeln!(out, "  owner:       {} ({})", t.owner_site_name, t.owner_site);
    let _ = writeln!(out, "  due:         {}", t.due.format("%Y-%m-%d"));
    if let Some(r) = &t.last_report {
        let kind = match r.kind {
            TaskReportKind::Progress => "progress",
            TaskReportKind::Done => "done",
        };
        let _ = writeln!(out, "  last report: {kind}, {} ({} in all): {}", r.at.to_rfc3339(), t.reports, r.text);
        if let Some(reference) = &r.reference {
            let _ = writeln!(out, "  reference:   {reference}");
        }
    }
    if let Some(r) = &t.last_review {
        let decision = match r.decision {
            hoinghi_shared::api::TaskDecision::Accept => "accepted",
            hoinghi_shared::api::TaskDecision::Return => "returned",
        };
        let comment = if r.comment.is_empty() { String::new() } else { format!(": {}", r.comment) };
        let _ = writeln!(out, "  review:      {decision}, {}{comment}", r.at.to_rfc3339());
    }
    out
}

/// A page of tasks as a table.
pub fn task_list(list: &TaskList) -> String {
    let rows: Vec<Vec<String>> = list
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.conference_id.to_string(),
                t.task_id.to_string(),
                t.owner_site.to_string(),
                t.due.format("%Y-%m-%d").to_string(),
                status_cell(t),
                t.description.clone(),
            ]
        })
        .collect();
    let mut out = format!(
        "{} task(s) as of {}; showing {} from {}\n",
        list.total,
        list.today.format("%Y-%m-%d"),
        list.tasks.len(),
        list.offset
    );
    out.push_str(&output::table(&["CONFERENCE", "TASK", "SITE", "DUE", "STATUS", "DESCRIPTION"], &rows));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_site_identity_lists_through_its_own_subject() {
        assert_eq!(own_site("site-ba-be"), Some(SiteId::parse("ba-be").unwrap()));
        for other in ["secretariat", "chair", "minute-taker", "anonymous", "service-minutes"] {
            assert_eq!(own_site(other), None, "{other}");
        }
    }
}
