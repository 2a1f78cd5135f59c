//! Tasks followed to done: the Bắc Kạn minutes are published with their ten tasks; a site lists and
//! reports on its own, the secretariat returns then accepts, another site's report is refused, and
//! the overdue tasks (every task of 2021 not accepted) are listed per site and per conference.

use hoinghi_shared::api::{ListTasks, ReportTask, ReviewTask, TaskDecision, TaskList, TaskReportKind, TaskStatus};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::ids::TaskId;
use hoinghi_shared::limits::MAX_TEXT_CHARS;
use hoinghi_shared::subjects::{events, minutes};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::secure::{Attempt, SecureStack};
use hoinghi_tests::{flow, scenario, Service};

use crate::common::{assert_refused, stack_at};

fn site(id: &str) -> SiteId {
    scenario::site(id)
}

fn task(id: &str) -> TaskId {
    TaskId::parse(id).unwrap()
}

fn ids(list: &TaskList) -> Vec<String> {
    list.tasks.iter().map(|t| t.task_id.to_string()).collect()
}

fn report(conference: ConferenceId, task_id: &str, kind: TaskReportKind, text: &str) -> ReportTask {
    ReportTask { conference_id: conference, task_id: task(task_id), kind, text: text.to_owned(), reference: None }
}

fn of(conference: ConferenceId) -> ListTasks {
    ListTasks { conference_id: Some(conference), ..ListTasks::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bac_kan_tasks_are_followed_to_done() {
    let (stack, id) = stack_at(flow::run_to_draft).await;
    let api = &stack.api;
    let (ba_be, cho_don) = (site("ba-be"), site("cho-don"));

    // Before publication there is nothing to follow.
    let early = api.report_task(&ba_be, &report(id, "2-1", TaskReportKind::Progress, "Đang triển khai")).await;
    assert_refused("a report on a draft", early, ErrorCode::Conflict, &["not published"]);
    assert_refused("the tasks of a draft", api.tasks(&of(id)).await, ErrorCode::Conflict, &["not published"]);
    flow::write_and_publish(api, id).await.unwrap();

    // Every task of the minutes is tracked from publication, in item order, all overdue in 2021's terms.
    let all = api.tasks(&of(id)).await.unwrap();
    assert_eq!(ids(&all), ["1-0", "2-0", "2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "3-0", "4-0"]);
    assert_eq!(all.total, 10);
    assert!(all.tasks.iter().all(|t| t.status == TaskStatus::Open && t.overdue && t.reports == 0), "{all:?}");
    let ba_be_task = &all.tasks[2];
    assert_eq!((ba_be_task.owner_site.as_str(), ba_be_task.owner_site_name.as_str()), ("ba-be", "Huyện ủy Ba Bể"));
    assert_eq!(ba_be_task.item_title, scenario::agenda()[2].title);
    assert_eq!(ba_be_task.conference_title, scenario::TITLE);

    // A site lists its own tasks only, on its own subject.
    let own = api.site_tasks(&cho_don, &ListTasks::default()).await.unwrap();
    assert_eq!(ids(&own), ["1-0", "2-3"]);
    assert!(own.tasks.iter().all(|t| t.owner_site == cho_don));
    let nosy = ListTasks { site: Some(ba_be.clone()), ..ListTasks::default() };
    assert_refused(
        "a site listing another's tasks",
        api.site_tasks(&cho_don, &nosy).await,
        ErrorCode::Forbidden,
        &["only its own"],
    );

    // Bad reports change nothing: another site's task, an unknown task, empty or too long text.
    let before = stack.event_totals().await.unwrap();
    let forged = api.report_task(&cho_don, &report(id, "2-1", TaskReportKind::Done, "Xong")).await;
    assert_refused("Chợ Đồn reporting on Ba Bể's task", forged, ErrorCode::Forbidden, &["Huyện ủy Ba Bể", "cho-don"]);
    let unknown = api.report_task(&ba_be, &report(id, "7-0", TaskReportKind::Done, "Xong")).await;
    assert_refused("an unknown task", unknown, ErrorCode::NotFound, &["7-0"]);
    let empty = api.report_task(&ba_be, &report(id, "2-1", TaskReportKind::Done, "  ")).await;
    assert_refused("an empty report", empty, ErrorCode::Invalid, &["text"]);
    let long = api.report_task(&ba_be, &report(id, "2-1", TaskReportKind::Done, &"x".repeat(MAX_TEXT_CHARS + 1))).await;
    assert_refused("a report over the limit", long, ErrorCode::Invalid, &["20000"]);
    let premature = api.accept_task(id, task("2-1"), "").await;
    assert_refused("accepting a task not reported done", premature, ErrorCode::Conflict, &["reported done"]);
    let bad_body = api.raw(minutes::TASKS_REVIEW, br#"{"conference_id":"x","task_id":"2-1"}"#.to_vec(), None).await;
    assert!(bad_body.unwrap().is_error());
    assert_eq!(stack.event_totals().await.unwrap(), before, "no refused request wrote an event");

    // Ba Bể reports progress, then completion with a reference.
    let progress = api.report_task(&ba_be, &report(id, "2-1", TaskReportKind::Progress, "Đã xây dựng kế hoạch")).await;
    assert_eq!(progress.unwrap().status, TaskStatus::InProgress);
    let done = ReportTask {
        reference: Some("Báo cáo số 45-BC/HU".to_owned()),
        ..report(id, "2-1", TaskReportKind::Done, "Đã tổ chức 12 buổi tuyên truyền")
    };
    let reported = api.report_task(&ba_be, &done).await.unwrap();
    assert_eq!((reported.status, reported.reports), (TaskStatus::ReportedDone, 2));
    assert_eq!(reported.last_report.unwrap().reference.as_deref(), Some("Báo cáo số 45-BC/HU"));
    // The same report again changes nothing.
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.report_task(&ba_be, &done).await.unwrap().reports, 2);
    assert_eq!(stack.event_totals().await.unwrap(), totals);

    // The secretariat returns it (a return says why); it is in progress until reported done again.
    let silent = api.return_task(id, task("2-1"), " ").await;
    assert_refused("a return without a comment", silent, ErrorCode::Invalid, &["comment"]);
    let returned = api.return_task(id, task("2-1"), "Thiếu danh sách xã").await.unwrap();
    assert_eq!(returned.status, TaskStatus::InProgress);
    assert_eq!(returned.last_review.as_ref().map(|r| r.decision), Some(TaskDecision::Return));
    let again = api.report_task(&ba_be, &done).await.unwrap();
    assert_eq!((again.status, again.reports), (TaskStatus::ReportedDone, 3));
    let review = ReviewTask {
        conference_id: id,
        task_id: task("2-1"),
        decision: TaskDecision::Accept,
        comment: "Đạt yêu cầu".to_owned(),
    };
    let accepted = api.review_task(&review).await.unwrap();
    assert_eq!((accepted.status, accepted.overdue), (TaskStatus::Accepted, false));
    assert_eq!(api.review_task(&review).await.unwrap().status, TaskStatus::Accepted, "accepting again: unchanged");
    let late = api.report_task(&ba_be, &report(id, "2-1", TaskReportKind::Progress, "Bổ sung")).await;
    assert_refused("a report on an accepted task", late, ErrorCode::Conflict, &["accepted"]);

    // The overdue tasks, per conference and per site: all but the accepted one.
    let overdue = ListTasks { overdue_only: true, ..of(id) };
    let listed = api.tasks(&overdue).await.unwrap();
    assert_eq!(listed.total, 9);
    assert!(!ids(&listed).contains(&"2-1".to_owned()));
    let host_overdue = api.tasks(&ListTasks { site: Some(scenario::host()), ..overdue.clone() }).await.unwrap();
    assert_eq!(ids(&host_overdue), ["2-4", "2-5", "4-0"]);
    assert_eq!(api.site_tasks(&ba_be, &overdue).await.unwrap().total, 0, "Ba Bể has nothing overdue");
    assert_eq!(ids(&api.site_tasks(&cho_don, &overdue).await.unwrap()), ["1-0", "2-3"]);
    let page = api.tasks(&ListTasks { offset: 8, limit: 5, ..overdue }).await.unwrap();
    assert_eq!((page.total, page.offset, ids(&page)), (9, 8, vec!["4-0".to_owned()]));

    // Every step is an event on the task's own subjects, naming its owner site.
    let filter = events::conference_task_filter(Service::Minutes, &id, &task("2-1"));
    assert_eq!(stack.count_events("HOINGHI_MINUTES", &filter).await.unwrap(), 5, "3 reports, 1 return, 1 acceptance");
    let accepted_subject = events::conference_task(Service::Minutes, &id, &task("2-1"), MinutesEvent::TASK_ACCEPTED);
    assert_eq!(stack.count_events("HOINGHI_MINUTES", &accepted_subject).await.unwrap(), 1);
    // The minutes themselves are unchanged, and so is what their readers see.
    assert_eq!(api.minutes(id).await.unwrap().status, hoinghi_shared::api::MinutesStatus::Published);
}

/// Who may do what with the tasks is enforced by the server, from the permissions built from the
/// subjects: a site reports and lists only on its own subjects; only the secretariat reviews; the
/// secretariat, the minute-taker and the chairs list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_site_reports_and_only_the_secretariat_reviews() {
    let stack = SecureStack::start(&["ba-be", "na-ri"]).await.unwrap();
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let taker = stack.connect(&format!("person-{}", scenario::MINUTE_TAKER)).await.unwrap();
    let chair = stack.connect(&format!("person-{}", scenario::CHAIR_PERSONS[0])).await.unwrap();
    let id = ConferenceId::generate();
    let body = |value: serde_json::Value| serde_json::to_vec(&value).unwrap();
    let report = body(serde_json::json!({"conference_id": id, "task_id": "2-1", "kind": "done", "text": "Xong"}));
    let review = body(serde_json::json!({"conference_id": id, "task_id": "2-1", "decision": "accept"}));
    let list = body(serde_json::json!({}));
    let (s_ba_be, s_na_ri) = (site("ba-be"), site("na-ri"));

    let refused = [
        (&ba_be, minutes::site_command(&s_na_ri, minutes::SITE_TASKS_REPORT), report.clone()),
        (&ba_be, minutes::site_command(&s_na_ri, minutes::SITE_TASKS_LIST), list.clone()),
        (&ba_be, minutes::TASKS_REVIEW.to_owned(), review.clone()),
        (&ba_be, minutes::TASKS_LIST.to_owned(), list.clone()),
        (&taker, minutes::TASKS_REVIEW.to_owned(), review.clone()),
        (&chair, minutes::TASKS_REVIEW.to_owned(), review.clone()),
        (&taker, minutes::site_command(&s_ba_be, minutes::SITE_TASKS_REPORT), report.clone()),
    ];
    for (who, subject, payload) in refused {
        match who.attempt(&subject, payload).await {
            Attempt::Refused(report) => assert!(report.contains(&subject), "{}: {report}", who.identity),
            other => {
                panic!("{} publishing to {subject}: expected the server to refuse it, got {other:?}", who.identity)
            }
        }
    }

    // What each may do reaches the service (no minutes here: 404, or an empty list).
    let unknown = stack.secretariat.api.accept_task(id, task("2-1"), "").await;
    assert_refused("the secretariat reviews", unknown, ErrorCode::NotFound, &["no minutes"]);
    let own = ba_be.api.report_task(&s_ba_be, &serde_json::from_slice(&report).unwrap()).await;
    assert_refused("Ba Bể reports on its own subject", own, ErrorCode::NotFound, &["no minutes"]);
    assert_eq!(ba_be.api.site_tasks(&s_ba_be, &ListTasks::default()).await.unwrap().total, 0);
    for who in [&stack.secretariat, &taker, &chair] {
        let listed = who.api.tasks(&ListTasks::default()).await;
        assert_eq!(listed.unwrap_or_else(|e| panic!("{} lists: {e}", who.identity)).total, 0);
    }
    assert_eq!(stack.event_totals().await.unwrap()[2], 0, "nothing was written in the minutes stream");
}
