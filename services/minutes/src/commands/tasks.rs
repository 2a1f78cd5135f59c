//! The tasks of the published minutes, followed to done:
//! - `hoinghi.v1.minutes.sites.<site>.tasks.report`: the owner site reports progress or completion;
//! - `hoinghi.v1.minutes.sites.<site>.tasks.list`: a site lists its own tasks;
//! - `hoinghi.v1.minutes.tasks.review`: the secretariat accepts or returns a task reported done;
//! - `hoinghi.v1.minutes.tasks.list`: the secretariat, the minute-taker and the chairs list tasks.
//!
//! "Today" (for overdue) is the service clock's day in Vietnam.

use chrono::{NaiveDate, Utc};
use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::{ListTasks, ReportTask, ReviewTask};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::minutes as subjects;
use hoinghi_shared::ApiError;

use super::{serve, Store};
use crate::tasks::{self, Sender, TaskCommand};

/// Adds the task endpoints to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: &Store) -> anyhow::Result<()> {
    serve(host, store, "sites-tasks-report", &subjects::any_site(subjects::SITE_TASKS_REPORT), report).await?;
    serve(host, store, "sites-tasks-list", &subjects::any_site(subjects::SITE_TASKS_LIST), list_own).await?;
    serve(host, store, "tasks-review", subjects::TASKS_REVIEW, review).await?;
    serve(host, store, "tasks-list", subjects::TASKS_LIST, list).await?;
    Ok(())
}

/// Today in Vietnam, by the service clock.
fn today() -> NaiveDate {
    tasks::today_in_vietnam(Utc::now())
}

/// A site reports on one of its tasks; answers with the task.
async fn report(store: Store, request: Incoming) -> Reply {
    let body: ReportTask = parse_body(
        &request.payload,
        "{conference_id, task_id: \"<item>-<index>\", kind: \"progress\"|\"done\", text, reference?}",
    )?;
    let site = request.acting_site()?;
    let meta = request.command(actor::site(&site))?;
    let (id, task) = (body.conference_id, body.task_id);
    let sender = Sender::Site(site);
    let command = TaskCommand::Report { kind: body.kind, text: body.text, reference: body.reference };
    let today = today();
    store
        .execute(
            &meta,
            |state| tasks::decide_task(state, &id, task, &sender, command.clone()),
            |state, _| json(&tasks::task_view(state, &id, task, today)?),
        )
        .await
}

/// The secretariat accepts or returns a task; answers with the task.
async fn review(store: Store, request: Incoming) -> Reply {
    let body: ReviewTask = parse_body(
        &request.payload,
        "{conference_id, task_id: \"<item>-<index>\", decision: \"accept\"|\"return\", comment}",
    )?;
    let meta = request.command(actor::SECRETARIAT)?;
    let (id, task) = (body.conference_id, body.task_id);
    let command = TaskCommand::Review { decision: body.decision, comment: body.comment };
    let today = today();
    store
        .execute(
            &meta,
            |state| tasks::decide_task(state, &id, task, &Sender::Secretariat, command.clone()),
            |state, _| json(&tasks::task_view(state, &id, task, today)?),
        )
        .await
}

const LIST_BODY: &str = "{conference_id?, site?, overdue_only?, offset?, limit?}";

/// Tasks of any site, for the secretariat, the minute-taker and the chairs.
async fn list(store: Store, request: Incoming) -> Reply {
    let body: ListTasks = parse_body(&request.payload, LIST_BODY)?;
    let today = today();
    store.query(|state| json(&tasks::list(state, &body, today)?)).await
}

/// A site's own tasks: `site`, if given, must be the subject's.
async fn list_own(store: Store, request: Incoming) -> Reply {
    let mut body: ListTasks = parse_body(&request.payload, LIST_BODY)?;
    let site = request.acting_site()?;
    if let Some(other) = body.site.as_ref().filter(|s| **s != site) {
        return Err(ApiError::forbidden(format!("site {site} may list only its own tasks, not those of {other}")));
    }
    body.site = Some(site);
    let today = today();
    store.query(|state| json(&tasks::list(state, &body, today)?)).await
}
