//! Tasks followed to done: each task of the published minutes (the `tasks` of each recorded agenda
//! item) is tracked from publication under a stable id, `<item>-<index>` ([`TaskId`]). The owner
//! site reports progress and completion, the secretariat accepts a task reported done or returns it
//! (it is then in progress again), and the tasks past their due date and not accepted are listed per
//! site and per conference.
//!
//! One aggregate per task, [`FollowUp`] (subject `hoinghi.v1.events.minutes.<conference>.tasks.<task>.*`,
//! envelope site: the owner), whose `Default` is a task nothing has been reported on. The published
//! minutes admit a command first ([`admit`]: they exist, they are published, the task is one of
//! theirs, and for a report the site owns it), then the task's [`FollowUp`] decides it.
//!
//! Overdue is counted from "today" in Vietnam (Asia/Ho_Chi_Minh): every function that needs the day
//! takes it ([`today_in_vietnam`] of the service clock in the handlers, any date in the tests).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_runtime::aggregate::{decide, own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::input;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::{
    self, ListTasks, MinutesStatus, TaskDecision, TaskList, TaskStatus, TaskView, DEFAULT_PAGE, MAX_PAGE,
};
use hoinghi_shared::events::{DomainEvent, MinutesEvent, Task, TaskReportKind};
use hoinghi_shared::ids::TaskId;
use hoinghi_shared::limits::{shrink_page_to_fit, MAX_TEXT_CHARS, MAX_TITLE_CHARS, REPLY_BUDGET};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::minutes::{no_minutes, Minutes};
use crate::state::MinutesState;
use crate::SERVICE;

/// The day in Vietnam (UTC+07:00, no daylight saving) at `now`: the "today" of overdue.
pub fn today_in_vietnam(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Ho_Chi_Minh).date_naive()
}

/// Whether a task due on `due` in `status` is overdue on `today`: its due date has passed and it is
/// not accepted (a task is due by the end of its due date).
pub fn is_overdue(due: NaiveDate, status: TaskStatus, today: NaiveDate) -> bool {
    due < today && status != TaskStatus::Accepted
}

/// One report of the owner site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Progress or done.
    pub kind: TaskReportKind,
    /// What was done.
    pub text: String,
    /// The reference given, if any.
    pub reference: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One review of the secretariat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Accepted or returned.
    pub decision: TaskDecision,
    /// Why.
    pub comment: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The follow-up of one task: the aggregate of one task of one conference's published minutes.
/// `Default` is a task nothing has been reported on (`open`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// Where it is.
    pub status: TaskStatus,
    /// Every report, oldest first.
    pub reports: Vec<Report>,
    /// The latest review.
    pub last_review: Option<Review>,
    /// Whether the latest event was a return (so the same return again changes nothing).
    pub just_returned: bool,
    /// Last sequence on the task's subjects (0: none).
    pub last_seq: u64,
}

impl Default for FollowUp {
    fn default() -> Self {
        Self { status: TaskStatus::Open, reports: vec![], last_review: None, just_returned: false, last_seq: 0 }
    }
}

/// Which task: the conference, the task, and its owner site (named on the envelope of its events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskKey {
    /// The conference.
    pub conference: ConferenceId,
    /// The task.
    pub task: TaskId,
    /// The site that owns it.
    pub owner: SiteId,
}

/// A command on a task, admitted by the published minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCommand {
    /// The owner site reports (unchecked text, as requested).
    Report {
        /// Progress or done.
        kind: api::TaskReportKind,
        /// What was done.
        text: String,
        /// A reference, if any.
        reference: Option<String>,
    },
    /// The secretariat accepts or returns the task.
    Review {
        /// Accept or return.
        decision: TaskDecision,
        /// Why (required to return).
        comment: String,
    },
}

/// Who sends a command: the owner must be the reporting site; the secretariat reviews any task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A site, acting on its per-site subject.
    Site(SiteId),
    /// The secretariat.
    Secretariat,
}

fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Open => "open (nothing reported yet)",
        TaskStatus::InProgress => "in progress",
        TaskStatus::ReportedDone => "reported done",
        TaskStatus::Accepted => "accepted",
    }
}

fn status_after(kind: TaskReportKind) -> TaskStatus {
    match kind {
        TaskReportKind::Progress => TaskStatus::InProgress,
        TaskReportKind::Done => TaskStatus::ReportedDone,
    }
}

impl Aggregate for FollowUp {
    type Id = TaskKey;
    type Event = MinutesEvent;
    type Command = TaskCommand;

    /// The same report or review again changes nothing.
    ///
    /// # Errors
    /// `invalid` for empty or too long text, `conflict` for a report on an accepted task, or a
    /// review of a task not reported done.
    fn handle(&self, key: &TaskKey, command: TaskCommand) -> Result<Option<MinutesEvent>, ApiError> {
        let task = key.task;
        match command {
            TaskCommand::Report { kind, text, reference } => {
                if self.status == TaskStatus::Accepted {
                    return Err(ApiError::conflict(format!(
                        "task {task} of conference {} was accepted by the secretariat; it takes no more reports",
                        key.conference
                    )));
                }
                let text = input::text("text", &text, MAX_TEXT_CHARS, true)?;
                let reference = match reference {
                    Some(r) => Some(input::text("reference", &r, MAX_TITLE_CHARS, false)?).filter(|r| !r.is_empty()),
                    None => None,
                };
                let kind = TaskReportKind::from(kind);
                let repeated = self.reports.last().is_some_and(|last| {
                    last.kind == kind && last.text == text && last.reference == reference && !self.just_returned
                });
                if repeated && self.status == status_after(kind) {
                    return Ok(None);
                }
                Ok(Some(MinutesEvent::TaskReported { task_id: task, kind, text, reference }))
            }
            TaskCommand::Review { decision, comment } => {
                let comment = input::text("comment", &comment, MAX_TEXT_CHARS, decision == TaskDecision::Return)
                    .map_err(|e| match decision {
                        TaskDecision::Return => ApiError::invalid(format!("{}: say what is missing", e.message)),
                        TaskDecision::Accept => e,
                    })?;
                let verb = match decision {
                    TaskDecision::Accept => "accepted",
                    TaskDecision::Return => "returned",
                };
                match (decision, self.status) {
                    (TaskDecision::Accept, TaskStatus::ReportedDone) => {
                        Ok(Some(MinutesEvent::TaskAccepted { task_id: task, comment }))
                    }
                    (TaskDecision::Accept, TaskStatus::Accepted) => Ok(None),
                    (TaskDecision::Return, TaskStatus::ReportedDone) => {
                        Ok(Some(MinutesEvent::TaskReturned { task_id: task, comment }))
                    }
                    (TaskDecision::Return, TaskStatus::InProgress)
                        if self.just_returned && self.last_review.as_ref().is_some_and(|r| r.comment == comment) =>
                    {
                        Ok(None)
                    }
                    (_, status) => Err(ApiError::conflict(format!(
                        "task {task} of conference {} is {}; only a task its site reported done can be {verb}",
                        key.conference,
                        status_name(status)
                    ))),
                }
            }
        }
    }

    fn apply(&mut self, event: &MinutesEvent, meta: &EventMeta) {
        let review = |decision, comment: &String| Review { decision, comment: comment.clone(), at: meta.occurred_at };
        match event {
            MinutesEvent::TaskReported { kind, text, reference, .. } if self.status != TaskStatus::Accepted => {
                self.reports.push(Report {
                    kind: *kind,
                    text: text.clone(),
                    reference: reference.clone(),
                    at: meta.occurred_at,
                });
                self.status = status_after(*kind);
                self.just_returned = false;
            }
            MinutesEvent::TaskAccepted { comment, .. } => {
                self.status = TaskStatus::Accepted;
                self.last_review = Some(review(TaskDecision::Accept, comment));
                self.just_returned = false;
            }
            MinutesEvent::TaskReturned { comment, .. } if self.status != TaskStatus::Accepted => {
                self.status = TaskStatus::InProgress;
                self.last_review = Some(review(TaskDecision::Return, comment));
                self.just_returned = true;
            }
            _ => {}
        }
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.minutes.<conference>.tasks.<task>.<type>`, on the condition that nothing
    /// was written on the task's subjects since it was read; the envelope names the owner site.
    fn address(&self, key: &TaskKey, event: &MinutesEvent) -> Address {
        Address {
            subject: events::conference_task(SERVICE, &key.conference, &key.task, event.event_type()),
            expect: own_subjects(events::conference_task_filter(SERVICE, &key.conference, &key.task), self.last_seq),
            conference_id: Some(key.conference),
            site_id: Some(key.owner.clone()),
        }
    }
}

/// The follow-up of every task, by conference: the part of the projection that holds the task
/// events.
#[derive(Debug, Default)]
pub struct Tasks {
    /// By conference, then task (tasks nothing was written about yet are absent: open).
    pub by_conference: Map<ConferenceId, Map<TaskId, FollowUp>>,
}

impl Tasks {
    /// The follow-up of one task (`open` when nothing was written about it).
    pub fn get(&self, conference: &ConferenceId, task: &TaskId) -> Option<&FollowUp> {
        self.by_conference.get(conference).and_then(|tasks| tasks.get(task))
    }

    /// Takes `event` if it is a task's, applying it to that task's follow-up; `false` for every
    /// other event (the minutes' and the sites' acknowledgements).
    pub fn apply(&mut self, conference: ConferenceId, event: &MinutesEvent, meta: &EventMeta) -> bool {
        let task = match event {
            MinutesEvent::TaskReported { task_id, .. }
            | MinutesEvent::TaskAccepted { task_id, .. }
            | MinutesEvent::TaskReturned { task_id, .. } => *task_id,
            _ => return false,
        };
        self.by_conference.entry(conference).or_default().entry(task).or_default().apply(event, meta);
        true
    }
}

/// A task of published minutes, as recorded.
#[derive(Debug, Clone, Copy)]
pub struct Assigned<'a> {
    /// Its id.
    pub id: TaskId,
    /// The title of its agenda item.
    pub item_title: &'a str,
    /// What, who, by when.
    pub task: &'a Task,
}

/// The tasks of `minutes`, in order of item then position; none unless they are published.
pub fn assigned(minutes: &Minutes) -> Vec<Assigned<'_>> {
    let (Some(MinutesStatus::Published), Some(details)) = (minutes.status, &minutes.details) else {
        return vec![];
    };
    minutes
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| item.as_ref().map(|item| (i, item)))
        .flat_map(|(i, item)| {
            let item_title = details.agenda.get(i).map_or("", |a| a.title.as_str());
            item.tasks.iter().enumerate().map(move |(j, task)| Assigned { id: TaskId::new(i, j), item_title, task })
        })
        .collect()
}

/// Finds the task a command is about and checks who sends it.
///
/// # Errors
/// `not_found` for minutes that do not exist (yet) or a task they do not have, `conflict` before
/// publication, `forbidden` for a site reporting on another site's task.
pub fn admit<'a>(
    minutes: Option<&'a Minutes>,
    conference: &ConferenceId,
    task: TaskId,
    sender: &Sender,
) -> Result<Assigned<'a>, ApiError> {
    let minutes = minutes.filter(|m| m.is_opened()).ok_or_else(|| no_minutes(conference))?;
    if minutes.status != Some(MinutesStatus::Published) {
        return Err(ApiError::conflict(format!(
            "the minutes of conference {conference} are not published yet; their tasks are followed from publication"
        )));
    }
    let item_title = minutes.details.as_ref().and_then(|d| d.agenda.get(task.item)).map_or("", |a| a.title.as_str());
    let found = minutes
        .items
        .get(task.item)
        .and_then(Option::as_ref)
        .and_then(|item| item.tasks.get(task.index))
        .map(|t| Assigned { id: task, item_title, task: t })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "conference {conference} has no task {task} (a task id is <item>-<index>, both 0-based, as \
                 `hoinghi task list` shows them)"
            ))
        })?;
    if let Sender::Site(site) = sender {
        let owner = &found.task.owner_site;
        if owner != site {
            return Err(ApiError::forbidden(format!(
                "task {task} of conference {conference} belongs to {} ({owner}); site {site} may report only on its \
                 own tasks",
                minutes.site_name(owner)
            )));
        }
    }
    Ok(found)
}

/// Decides a command on task `task` of conference `conference`: the published minutes admit it,
/// then the task's [`FollowUp`] decides it and addresses its event.
///
/// # Errors
/// The refusal of either.
pub fn decide_task(
    state: &MinutesState,
    conference: &ConferenceId,
    task: TaskId,
    sender: &Sender,
    command: TaskCommand,
) -> Result<Decision<MinutesEvent>, ApiError> {
    let found = admit(state.minutes.get(conference), conference, task, sender)?;
    let key = TaskKey { conference: *conference, task, owner: found.task.owner_site.clone() };
    let open = FollowUp::default();
    decide(state.tasks.get(conference, &task).unwrap_or(&open), &key, command)
}

/// The view of one task on `today`.
pub fn view(
    conference: ConferenceId,
    minutes: &Minutes,
    task: &Assigned<'_>,
    follow_up: &FollowUp,
    today: NaiveDate,
) -> TaskView {
    let t = task.task;
    TaskView {
        conference_id: conference,
        conference_title: minutes.details.as_ref().map(|d| d.title.clone()).unwrap_or_default(),
        task_id: task.id,
        item_title: task.item_title.to_owned(),
        description: t.description.clone(),
        owner_site: t.owner_site.clone(),
        owner_site_name: minutes.site_name(&t.owner_site),
        due: t.due,
        status: follow_up.status,
        overdue: is_overdue(t.due, follow_up.status, today),
        reports: follow_up.reports.len(),
        last_report: follow_up.reports.last().map(|r| api::TaskReport {
            kind: r.kind.into(),
            text: r.text.clone(),
            reference: r.reference.clone(),
            at: r.at,
        }),
        last_review: follow_up.last_review.as_ref().map(|r| api::TaskReview {
            decision: r.decision,
            comment: r.comment.clone(),
            at: r.at,
        }),
    }
}

/// The view of one task of published minutes on `today`.
///
/// # Errors
/// As [`admit`] (for the secretariat).
pub fn task_view(
    state: &MinutesState,
    conference: &ConferenceId,
    task: TaskId,
    today: NaiveDate,
) -> Result<TaskView, ApiError> {
    let found = admit(state.minutes.get(conference), conference, task, &Sender::Secretariat)?;
    let open = FollowUp::default();
    let follow_up = state.tasks.get(conference, &task).unwrap_or(&open);
    let minutes = state.minutes.get(conference).ok_or_else(|| no_minutes(conference))?;
    Ok(view(*conference, minutes, &found, follow_up, today))
}

/// One page of the tasks `query` asks for, on `today`: every published conference's (or the one
/// named), ordered by the conference's start then task id, of one site if named, overdue only if
/// asked. The page is shortened if the reply would not fit a message.
///
/// # Errors
/// `invalid` for a limit outside 1 to [`MAX_PAGE`]; for a named conference, `not_found` for minutes
/// that do not exist (yet) and `conflict` before they are published.
pub fn list(state: &MinutesState, query: &ListTasks, today: NaiveDate) -> Result<TaskList, ApiError> {
    if query.limit == 0 || query.limit > MAX_PAGE {
        return Err(ApiError::invalid(format!("limit must be between 1 and {MAX_PAGE} (default {DEFAULT_PAGE})")));
    }
    let mut conferences: Vec<(&ConferenceId, &Minutes)> = match &query.conference_id {
        Some(id) => {
            let minutes = state.minutes.get(id).filter(|m| m.is_opened()).ok_or_else(|| no_minutes(id))?;
            if minutes.status != Some(MinutesStatus::Published) {
                return Err(ApiError::conflict(format!(
                    "the minutes of conference {id} are not published yet; their tasks are followed from publication"
                )));
            }
            vec![(id, minutes)]
        }
        None => state.minutes.iter().filter(|(_, m)| m.status == Some(MinutesStatus::Published)).collect(),
    };
    conferences.sort_by_key(|(id, m)| (m.details.as_ref().map(|d| d.starts_at), **id));
    let open = &FollowUp::default();
    let matching: Vec<(ConferenceId, &Minutes, Assigned<'_>, &FollowUp)> = conferences
        .into_iter()
        .flat_map(|(id, minutes)| {
            assigned(minutes).into_iter().map(move |a| (*id, minutes, a, state.tasks.get(id, &a.id).unwrap_or(open)))
        })
        .filter(|(_, _, a, _)| query.site.as_ref().is_none_or(|s| *s == a.task.owner_site))
        .filter(|(_, _, a, f)| !query.overdue_only || is_overdue(a.task.due, f.status, today))
        .collect();
    let start = query.offset.min(matching.len());
    let end = start.saturating_add(query.limit).min(matching.len());
    let mut reply = TaskList {
        today,
        total: matching.len(),
        offset: start,
        tasks: matching
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|(id, minutes, a, f)| view(*id, minutes, a, f, today))
            .collect(),
    };
    shrink_page_to_fit(&mut reply, |r| &mut r.tasks, REPLY_BUDGET);
    Ok(reply)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{read_back, site};
    use hoinghi_runtime::testing::{given, Given, Then};
    use hoinghi_shared::api::TaskReportKind as Kind;
    use hoinghi_shared::ErrorCode;
    use serde_json::json;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An event of the minutes, written as it is stored.
    fn stored(event_type: &str, data: serde_json::Value) -> MinutesEvent {
        serde_json::from_value(json!({ "type": event_type, "data": data })).unwrap()
    }

    /// Minutes of a conference with Ba Bể and Na Rì linked to the host, whose item 1 has two tasks
    /// (Ba Bể's due 30 September 2021, the host's due 31 December 2021), published if `published`.
    fn minutes(id: ConferenceId, published: bool) -> Minutes {
        let details = json!({
            "title": "Hội nghị trực tuyến sơ kết công tác dân vận",
            "organizer": "Tỉnh ủy Bắc Kạn",
            "starts_at": "2021-07-23T08:00:00+07:00",
            "ends_at": "2021-07-23T11:30:00+07:00",
            "host_site": {"id": "tinh-uy", "name": "Tỉnh ủy Bắc Kạn"},
            "sites": [{"id": "ba-be", "name": "Huyện ủy Ba Bể"}, {"id": "na-ri", "name": "Huyện ủy Na Rì"}],
            "chairs": [{"name": "Phương Thị Thanh", "title": "Phó Bí thư"}],
            "guests": [],
            "agenda": [{"title": "Báo cáo sơ kết"}, {"title": "Nhiệm vụ trọng tâm"}],
        });
        let item = |item: usize, tasks: serde_json::Value| {
            stored(
                MinutesEvent::ITEM_RECORDED,
                json!({"item": item, "speakers": [], "summary": "s", "conclusions": [], "tasks": tasks}),
            )
        };
        let mut events = vec![
            stored(MinutesEvent::DRAFT_OPENED, json!({"details": details, "attendance": []})),
            item(0, json!([])),
            item(
                1,
                json!([
                    {"description": "Tuyên truyền, vận động nhân dân", "owner_site": "ba-be", "due": "2021-09-30"},
                    {"description": "Tổ chức hội nghị biểu dương", "owner_site": "tinh-uy", "due": "2021-12-31"},
                ]),
            ),
            stored(MinutesEvent::MINUTES_SUBMITTED, json!({"version": 1})),
            stored(MinutesEvent::MINUTES_APPROVED, json!({"approved_by": "Phương Thị Thanh", "version": 1})),
        ];
        if published {
            events.push(stored(MinutesEvent::MINUTES_PUBLISHED, json!({"markdown": "# Biên bản", "sha256": "0"})));
        }
        let minutes = given::<Minutes>(id, events).state().clone();
        assert_eq!(minutes.status == Some(MinutesStatus::Published), published, "the fixture's minutes");
        minutes
    }

    fn state(id: ConferenceId, published: bool) -> MinutesState {
        let mut state = MinutesState::default();
        state.minutes.insert(id, minutes(id, published));
        state
    }

    const BA_BE_TASK: TaskId = TaskId { item: 1, index: 0 };

    fn key(id: ConferenceId) -> TaskKey {
        TaskKey { conference: id, task: BA_BE_TASK, owner: site("ba-be") }
    }

    fn report(kind: Kind, text: &str) -> TaskCommand {
        TaskCommand::Report { kind, text: text.into(), reference: None }
    }

    fn review(decision: TaskDecision, comment: &str) -> TaskCommand {
        TaskCommand::Review { decision, comment: comment.into() }
    }

    fn reported(kind: TaskReportKind, text: &str) -> MinutesEvent {
        MinutesEvent::TaskReported { task_id: BA_BE_TASK, kind, text: text.into(), reference: None }
    }

    fn accepted() -> MinutesEvent {
        MinutesEvent::TaskAccepted { task_id: BA_BE_TASK, comment: String::new() }
    }

    fn returned(comment: &str) -> MinutesEvent {
        MinutesEvent::TaskReturned { task_id: BA_BE_TASK, comment: comment.into() }
    }

    fn task(events: impl IntoIterator<Item = MinutesEvent>) -> Given<FollowUp> {
        given::<FollowUp>(key(ConferenceId::generate()), events)
    }

    #[test]
    fn a_site_reports_progress_then_done_with_a_reference() {
        let t = task([]);
        assert_eq!(t.state().status, TaskStatus::Open);
        t.when(report(Kind::Progress, "  Đã xây dựng kế hoạch  "))
            .then(reported(TaskReportKind::Progress, "Đã xây dựng kế hoạch"));
        let t = task([reported(TaskReportKind::Progress, "Đã xây dựng kế hoạch")]);
        assert_eq!(t.state().status, TaskStatus::InProgress);
        let done = TaskCommand::Report {
            kind: Kind::Done,
            text: "Đã tổ chức 12 buổi tuyên truyền".into(),
            reference: Some(" Báo cáo số 45-BC/HU ".into()),
        };
        t.when(done).then(MinutesEvent::TaskReported {
            task_id: BA_BE_TASK,
            kind: TaskReportKind::Done,
            text: "Đã tổ chức 12 buổi tuyên truyền".into(),
            reference: Some("Báo cáo số 45-BC/HU".into()),
        });
        // An empty reference is no reference
        let blank = TaskCommand::Report { kind: Kind::Progress, text: "x".into(), reference: Some("  ".into()) };
        t.when(blank).then(reported(TaskReportKind::Progress, "x"));
    }

    #[test]
    fn the_same_report_again_changes_nothing() {
        let t = task([reported(TaskReportKind::Progress, "a")]);
        t.when(report(Kind::Progress, "a")).then_nothing();
        t.when(report(Kind::Done, "a")).then(reported(TaskReportKind::Done, "a"));
        task([reported(TaskReportKind::Done, "a")]).when(report(Kind::Done, "a")).then_nothing();
    }

    #[test]
    fn the_secretariat_accepts_a_task_reported_done_once() {
        let t = task([reported(TaskReportKind::Done, "xong")]);
        assert_eq!(t.state().status, TaskStatus::ReportedDone);
        t.when(review(TaskDecision::Accept, "")).then(accepted());
        let closed = t.and(accepted());
        assert_eq!(closed.state().status, TaskStatus::Accepted);
        closed.when(review(TaskDecision::Accept, "")).then_nothing();
        closed.when(report(Kind::Progress, "thêm")).then_refused(ErrorCode::Conflict, "accepted");
        closed.when(review(TaskDecision::Return, "thiếu")).then_refused(ErrorCode::Conflict, "accepted");
    }

    #[test]
    fn only_a_task_reported_done_is_accepted_or_returned() {
        for events in [vec![], vec![reported(TaskReportKind::Progress, "a")]] {
            let t = task(events);
            t.when(review(TaskDecision::Accept, "")).then_refused(ErrorCode::Conflict, "reported done");
            t.when(review(TaskDecision::Return, "thiếu")).then_refused(ErrorCode::Conflict, "reported done");
        }
    }

    #[test]
    fn a_returned_task_is_in_progress_until_reported_done_again() {
        let t = task([reported(TaskReportKind::Done, "xong")]);
        t.when(review(TaskDecision::Return, "")).then_refused(ErrorCode::Invalid, "what is missing");
        t.when(review(TaskDecision::Return, "Thiếu báo cáo")).then(returned("Thiếu báo cáo"));
        let t = t.and(returned("Thiếu báo cáo"));
        assert_eq!(t.state().status, TaskStatus::InProgress);
        assert_eq!(t.state().last_review.as_ref().map(|r| r.decision), Some(TaskDecision::Return));
        // The same return again changes nothing; accepting it now is refused
        t.when(review(TaskDecision::Return, "Thiếu báo cáo")).then_nothing();
        t.when(review(TaskDecision::Accept, "")).then_refused(ErrorCode::Conflict, "in progress");
        // The same "done" as before is a new report now, and then it can be accepted
        t.when(report(Kind::Done, "xong")).then(reported(TaskReportKind::Done, "xong"));
        let t = t.and(reported(TaskReportKind::Done, "xong"));
        assert_eq!((t.state().status, t.state().reports.len()), (TaskStatus::ReportedDone, 2));
        t.when(review(TaskDecision::Accept, "Đạt yêu cầu"))
            .then(MinutesEvent::TaskAccepted { task_id: BA_BE_TASK, comment: "Đạt yêu cầu".into() });
    }

    #[test]
    fn text_is_required_and_bounded() {
        let t = task([]);
        t.when(report(Kind::Progress, " \n ")).then_refused(ErrorCode::Invalid, "text must not be empty");
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        t.when(report(Kind::Done, &long)).then_refused(ErrorCode::Invalid, "the limit is 20000");
        let reference = Some("r".repeat(MAX_TITLE_CHARS + 1));
        t.when(TaskCommand::Report { kind: Kind::Done, text: "x".into(), reference })
            .then_refused(ErrorCode::Invalid, "reference");
        t.when(report(Kind::Done, "a\u{7}b")).then_refused(ErrorCode::Invalid, "control characters");
        let done = task([reported(TaskReportKind::Done, "x")]);
        done.when(review(TaskDecision::Accept, &long)).then_refused(ErrorCode::Invalid, "comment");
    }

    #[test]
    fn a_tasks_events_are_appended_on_its_own_subjects_naming_its_owner() {
        let id = ConferenceId::generate();
        let append = given::<FollowUp>(key(id), [reported(TaskReportKind::Done, "a")])
            .when(review(TaskDecision::Accept, ""))
            .then(accepted());
        assert_eq!(append.subject, format!("hoinghi.v1.events.minutes.{id}.tasks.1-0.task_accepted"));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.minutes.{id}.tasks.1-0.*"));
        assert_eq!(append.expect.last_seq, 1);
        assert_eq!((append.conference_id, append.site_id), (Some(id), Some(site("ba-be"))));
    }

    #[test]
    fn only_the_owner_site_reports_and_only_on_published_minutes() {
        let id = ConferenceId::generate();
        let published = state(id, true);
        let by = |s: &str| Sender::Site(site(s));
        let decide = |state: &MinutesState, task: TaskId, sender: &Sender| Then {
            decision: decide_task(state, &id, task, sender, report(Kind::Done, "xong")),
        };
        // Another site's task: 403 naming the owner
        decide(&published, BA_BE_TASK, &by("na-ri")).then_refused(ErrorCode::Forbidden, "Huyện ủy Ba Bể");
        decide(&published, TaskId::new(1, 1), &by("ba-be")).then_refused(ErrorCode::Forbidden, "own tasks");
        // An unknown task: 404
        for unknown in [TaskId::new(1, 2), TaskId::new(0, 0), TaskId::new(9, 0)] {
            decide(&published, unknown, &by("ba-be")).then_refused(ErrorCode::NotFound, &unknown.to_string());
        }
        // Minutes not published: 409; unknown minutes: 404
        decide(&state(id, false), BA_BE_TASK, &by("ba-be")).then_refused(ErrorCode::Conflict, "not published");
        decide(&MinutesState::default(), BA_BE_TASK, &by("ba-be")).then_refused(ErrorCode::NotFound, "no minutes");
        // The owner reports; the host reports on its own task
        let Ok(Decision::Append(append)) = decide(&published, BA_BE_TASK, &by("ba-be")).decision else {
            panic!("Ba Bể reports on its own task")
        };
        assert_eq!(append.event, reported(TaskReportKind::Done, "xong"));
        assert!(matches!(decide(&published, TaskId::new(1, 1), &by("tinh-uy")).decision, Ok(Decision::Append(_))));
        // The secretariat reviews any task, but only one reported done
        let review = decide_task(&published, &id, BA_BE_TASK, &Sender::Secretariat, review(TaskDecision::Accept, ""));
        Then { decision: review }.then_refused(ErrorCode::Conflict, "open");
    }

    #[test]
    fn today_is_the_day_in_vietnam() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(today_in_vietnam(at("2021-09-30T16:59:59Z")), date(2021, 9, 30));
        assert_eq!(today_in_vietnam(at("2021-09-30T17:00:00Z")), date(2021, 10, 1));
    }

    /// Applies `event` to the state as the projection does, at `seq`.
    fn applied(state: &mut MinutesState, id: ConferenceId, event: MinutesEvent, seq: u64) {
        use hoinghi_runtime::store::Projection as _;
        state.apply(&read_back::<FollowUp>(&key(id), &event, seq, Utc::now(), &site("ba-be")), event);
    }

    #[test]
    fn overdue_tasks_are_listed_per_site_and_per_conference_on_the_day_given() {
        let id = ConferenceId::generate();
        let mut state = state(id, true);
        let query = |site: Option<&str>, overdue_only| ListTasks {
            conference_id: Some(id),
            site: site.map(crate::testing::site),
            overdue_only,
            offset: 0,
            limit: DEFAULT_PAGE,
        };
        let ids = |list: &TaskList| list.tasks.iter().map(|t| t.task_id.to_string()).collect::<Vec<_>>();
        // On its due date a task is not overdue yet; the day after it is
        let on_due = list(&state, &query(None, true), date(2021, 9, 30)).unwrap();
        assert_eq!((on_due.total, on_due.today), (0, date(2021, 9, 30)));
        let after = list(&state, &query(None, true), date(2021, 10, 1)).unwrap();
        assert_eq!(ids(&after), ["1-0"]);
        assert!(after.tasks[0].overdue);
        assert_eq!(after.tasks[0].owner_site_name, "Huyện ủy Ba Bể");
        assert_eq!(after.tasks[0].item_title, "Nhiệm vụ trọng tâm");
        let new_year = list(&state, &query(None, true), date(2022, 1, 1)).unwrap();
        assert_eq!(ids(&new_year), ["1-0", "1-1"]);
        // Per site
        let host = list(&state, &query(Some("tinh-uy"), true), date(2022, 1, 1)).unwrap();
        assert_eq!(ids(&host), ["1-1"]);
        assert_eq!(list(&state, &query(Some("na-ri"), false), date(2022, 1, 1)).unwrap().total, 0);
        // Reported done is still overdue; accepted is not
        let before = state.minutes[&id].clone();
        applied(&mut state, id, reported(TaskReportKind::Done, "xong"), 10);
        let still = list(&state, &query(None, true), date(2022, 1, 1)).unwrap();
        assert_eq!(
            (ids(&still), still.tasks[0].status),
            (vec!["1-0".to_owned(), "1-1".to_owned()], TaskStatus::ReportedDone)
        );
        applied(&mut state, id, accepted(), 11);
        assert_eq!(ids(&list(&state, &query(None, true), date(2022, 1, 1)).unwrap()), ["1-1"]);
        let all = list(&state, &query(None, false), date(2022, 1, 1)).unwrap();
        assert_eq!((all.total, all.tasks[0].status, all.tasks[0].overdue), (2, TaskStatus::Accepted, false));
        assert_eq!(all.tasks[0].reports, 1);
        // Every conference (none named), paged
        let every = ListTasks { limit: 1, offset: 1, ..ListTasks::default() };
        let page = list(&state, &every, date(2022, 1, 1)).unwrap();
        assert_eq!((page.total, page.offset, ids(&page)), (2, 1, vec!["1-1".to_owned()]));
        let bad = ListTasks { limit: 0, ..ListTasks::default() };
        assert_eq!(list(&state, &bad, date(2022, 1, 1)).unwrap_err().code, ErrorCode::Invalid);
        // A named conference that is not published, or does not exist
        let draft = self::state(id, false);
        assert_eq!(list(&draft, &query(None, false), date(2022, 1, 1)).unwrap_err().code, ErrorCode::Conflict);
        let other = ListTasks { conference_id: Some(ConferenceId::generate()), ..query(None, false) };
        assert_eq!(list(&state, &other, date(2022, 1, 1)).unwrap_err().code, ErrorCode::NotFound);
        // A task event does not touch the minutes nor any acknowledgement
        assert_eq!(state.minutes[&id], before);
    }
}
