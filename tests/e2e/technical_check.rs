//! The technical check (kiểm tra kỹ thuật) of the Bắc Kạn bridges, through the public subjects only:
//! the secretariat opens it the day before, the bridges report picture, sound and line (Pác Nặm's
//! line fails, then passes on re-test; Chợ Mới's sound fails and is not fixed; Ngân Sơn and Na Rì
//! never check), the summary counts them with the failing items, the roster flags who had not passed
//! when the session starts, and the published minutes say so in the attendance notes. Refusals
//! change nothing; on a stack with authentication a site cannot report for another.

use hoinghi_shared::api::{
    CheckItem, CheckResult, CheckStatus, ConferenceRef, FailedItem, PageQuery, ReportTechnicalCheck,
    TechnicalCheckState,
};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::{attendance, events};
use hoinghi_shared::{ConferenceId, ErrorCode, Service, SiteId};
use hoinghi_tests::secure::Attempt;
use hoinghi_tests::{flow, scenario, Api};

use crate::common::{assert_refused, markdown_text, secure_stack, stack_at_with_events, writes_nothing};

fn ok() -> CheckResult {
    CheckResult { ok: true, note: None }
}

fn failed(note: &str) -> CheckResult {
    CheckResult { ok: false, note: Some(note.to_owned()) }
}

fn report(id: ConferenceId, picture: CheckResult, sound: CheckResult, line: CheckResult) -> ReportTechnicalCheck {
    ReportTechnicalCheck { conference_id: id, picture, sound, line }
}

/// Sends a report with every item ok from `site`, which must be refused as a conflict naming `hint`.
async fn assert_report_conflicts(api: &Api, what: &str, site: &str, id: ConferenceId, hint: &str) {
    assert_refused(what, send(api, site, &report(id, ok(), ok(), ok())).await, ErrorCode::Conflict, &[hint]);
}

async fn send(api: &Api, site: &str, body: &ReportTechnicalCheck) -> Result<CheckStatus, hoinghi_shared::ApiError> {
    api.report_technical_check(&scenario::site(site), body).await.map(|c| c.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridges_check_the_day_before_and_the_minutes_note_who_had_not_passed() {
    let (stack, id, stream, all) = stack_at_with_events(Service::Attendance, flow::invited).await;
    let api = &stack.api;
    let count = |event_type: &'static str| {
        let filter = if event_type == AttendanceEvent::TECHNICAL_CHECK_REPORTED {
            format!("hoinghi.v1.events.attendance.{id}.*.{event_type}")
        } else {
            events::conference(Service::Attendance, &id, event_type)
        };
        let stack = &stack;
        async move { stack.count_events(stream, &filter).await.unwrap() }
    };

    // Refused before anything: a conference not invited, a report before the check opened.
    writes_nothing(&stack, stream, &all, async || {
        let scheduled_only = flow::schedule(api).await.unwrap();
        assert_refused(
            "a check for a conference not invited",
            api.open_technical_check(scheduled_only).await,
            ErrorCode::Conflict,
            &["invitations have not been issued"],
        );
        assert_report_conflicts(api, "a report before the check opened", "ba-be", id, "not open").await;
    })
    .await;

    // The secretariat opens it (twice: once).
    let opened = api.open_technical_check(id).await.unwrap();
    assert_eq!(opened.state, TechnicalCheckState::Open);
    assert_eq!((opened.counts.sites, opened.counts.not_checked), (8, 8));
    api.open_technical_check(id).await.unwrap();
    assert_eq!(count(AttendanceEvent::TECHNICAL_CHECK_OPENED).await, 1);

    // The bridges report.
    for site in ["thanh-uy-bac-kan", "ba-be", "bach-thong", "cho-don"] {
        assert_eq!(send(api, site, &report(id, ok(), ok(), ok())).await.unwrap(), CheckStatus::Passed);
    }
    let line_down = report(id, ok(), ok(), failed("Mất kết nối: lũ quét làm đứt cáp quang"));
    assert_eq!(send(api, "pac-nam", &line_down).await.unwrap(), CheckStatus::Failed);
    let noisy = report(id, ok(), failed("Micro bị rè"), ok());
    assert_eq!(send(api, "cho-moi", &noisy).await.unwrap(), CheckStatus::Failed);

    // Bad reports: a clear 4xx, nothing written.
    writes_nothing(&stack, stream, &all, async || {
        assert_refused(
            "a failed item without a note",
            send(api, "na-ri", &report(id, ok(), CheckResult { ok: false, note: None }, ok())).await,
            ErrorCode::Invalid,
            &["sound.note"],
        );
        assert_refused(
            "a site not invited",
            api.report_technical_check(&SiteId::parse("cao-bang").unwrap(), &report(id, ok(), ok(), ok())).await,
            ErrorCode::Forbidden,
            &["not invited"],
        );
        assert_refused(
            "a note too long",
            send(api, "na-ri", &report(id, failed(&"x".repeat(501)), ok(), ok())).await,
            ErrorCode::Invalid,
            &["picture.note", "500"],
        );
        assert_report_conflicts(api, "an unknown conference", "ba-be", ConferenceId::generate(), "no roster").await;
    })
    .await;

    // The summary: counts over every bridge, the failing ones with their items and notes.
    let summary = api.technical_check_summary(&PageQuery::first(id)).await.unwrap();
    let c = summary.counts;
    assert_eq!((c.sites, c.passed, c.failed, c.not_checked), (8, 4, 2, 2));
    let failing: Vec<_> = summary.failing.iter().map(|f| (f.site_id.as_str(), f.failed.clone())).collect();
    assert_eq!(
        failing,
        vec![
            ("cho-moi", vec![FailedItem { item: CheckItem::Sound, note: "Micro bị rè".into() }]),
            (
                "pac-nam",
                vec![FailedItem {
                    item: CheckItem::Line, note: "Mất kết nối: lũ quét làm đứt cáp quang".into()
                }]
            ),
        ]
    );
    let page = api.technical_check_summary(&PageQuery { conference_id: id, offset: 1, limit: 1 }).await.unwrap();
    assert_eq!((page.total_failing, page.offset, page.failing.len()), (2, 1, 1));
    assert_eq!(page.failing[0].site_id.as_str(), "pac-nam");

    // Pác Nặm re-tests and passes; the same report again changes nothing; every report is kept.
    let retest = report(id, ok(), ok(), CheckResult { ok: true, note: Some("Đường truyền dự phòng".into()) });
    assert_eq!(send(api, "pac-nam", &retest).await.unwrap(), CheckStatus::Passed);
    let again = api.report_technical_check(&scenario::site("pac-nam"), &retest).await.unwrap();
    assert_eq!(again.reports, 2);
    assert_eq!(count(AttendanceEvent::TECHNICAL_CHECK_REPORTED).await, 7);
    let c = api.technical_check_summary(&PageQuery::first(id)).await.unwrap().counts;
    assert_eq!((c.passed, c.failed, c.not_checked), (5, 1, 2));

    // The roster flags each bridge.
    let roster = api.roster(id).await.unwrap();
    let flag = |site: &str| {
        let line = roster.sites.iter().find(|l| l.site_id.as_str() == site).unwrap();
        (line.technical_check, line.technical_check_failed.clone())
    };
    assert_eq!(flag("pac-nam"), (Some(CheckStatus::Passed), vec![]));
    assert_eq!(flag("cho-moi"), (Some(CheckStatus::Failed), vec![CheckItem::Sound]));
    assert_eq!(flag("na-ri"), (Some(CheckStatus::NotChecked), vec![]));

    // The session starts with Chợ Mới failed and two bridges not checked: the check closes.
    flow::answer_all(api, id).await.unwrap();
    flow::hold_session(api, id).await.unwrap();
    let closed = hoinghi_tests::eventually(hoinghi_tests::ASYNC_TIMEOUT, || async {
        let s = api.technical_check_summary(&PageQuery::first(id)).await?;
        if s.state == TechnicalCheckState::Closed {
            Ok(s)
        } else {
            Err(hoinghi_shared::ApiError::conflict("not closed yet"))
        }
    })
    .await
    .unwrap();
    assert_eq!((closed.counts.failed, closed.counts.not_checked), (1, 2));
    writes_nothing(&stack, stream, &all, async || {
        assert_report_conflicts(api, "a report after the start", "cho-moi", id, "started").await;
        let opened = api.open_technical_check(id).await;
        assert_refused("opening after the start", opened, ErrorCode::Conflict, &["started"]);
    })
    .await;
    assert_eq!(count(AttendanceEvent::TECHNICAL_CHECK_CLOSED).await, 1);

    // The record and the minutes carry it.
    api.end(id).await.unwrap();
    flow::wait_draft(api, id).await.unwrap();
    let published = flow::write_and_publish(api, id).await.unwrap();
    let record = |site: &str| {
        let r = published.attendance.iter().find(|r| r.site_id.as_str() == site).unwrap();
        (r.technical_check, r.technical_check_failed.clone())
    };
    assert_eq!(record("cho-moi"), (Some(CheckStatus::Failed), vec![CheckItem::Sound]));
    assert_eq!(record("pac-nam"), (Some(CheckStatus::Passed), vec![]));
    let text = markdown_text(published.markdown.as_deref().unwrap());
    assert!(text.contains("Kiểm tra kỹ thuật chưa đạt: âm thanh"), "{text}");
    assert_eq!(text.matches("Chưa kiểm tra kỹ thuật").count(), 2, "Ngân Sơn and Na Rì: {text}");
    let markdown = published.markdown.unwrap();
    let row = |name: &str| markdown.lines().find(|l| l.contains(name)).unwrap().to_owned();
    assert!(!row("Huyện ủy Pác Nặm").contains("kỹ thuật"), "passed on re-test: {}", row("Huyện ủy Pác Nặm"));
    assert!(row("Huyện ủy Ngân Sơn").contains("Lý do:"), "the reason stays first");
    // The HTML form carries the same notes, in the same cells.
    let html = api.minutes_html(id).await.unwrap().html.unwrap();
    let cell = |name: &str| html.lines().find(|l| l.contains(name)).unwrap().to_owned();
    assert!(cell("Huyện ủy Chợ Mới").contains("Kiểm tra kỹ thuật chưa đạt: âm thanh"), "{}", cell("Huyện ủy Chợ Mới"));
    assert!(!cell("Huyện ủy Pác Nặm").contains("kỹ thuật"), "{}", cell("Huyện ủy Pác Nặm"));
    assert!(
        cell("Huyện ủy Ngân Sơn").contains("; Chưa kiểm tra kỹ thuật"),
        "after the reason: {}",
        cell("Huyện ủy Ngân Sơn")
    );
    assert_eq!(html.matches("Chưa kiểm tra kỹ thuật").count(), 2, "Ngân Sơn and Na Rì");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_reports_only_its_own_check_and_only_the_secretariat_opens_and_reads_it() {
    let stack = secure_stack().await;
    let secretariat = &stack.secretariat;
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let id = flow::invited(&secretariat.api).await.unwrap();
    let cref = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();

    // A site can neither open the check nor read the summary: the server drops the request.
    for subject in [attendance::TECHNICAL_CHECK_OPEN, attendance::TECHNICAL_CHECK_SUMMARY] {
        assert!(matches!(ba_be.attempt(subject, cref.clone()).await, Attempt::Refused(_)), "{subject}");
    }
    secretariat.api.open_technical_check(id).await.unwrap();
    // Ba Bể reports its own, not Na Rì's.
    let body = report(id, ok(), ok(), failed("Mất tiếng"));
    let own = ba_be.api.report_technical_check(&scenario::site("ba-be"), &body).await.unwrap();
    assert_eq!((own.status, own.site_id.as_str()), (CheckStatus::Failed, "ba-be"));
    let totals = stack.event_totals().await.unwrap();
    let forged = attendance::site_command(&scenario::site("na-ri"), attendance::TECHNICAL_CHECK);
    let attempt = ba_be.attempt(&forged, serde_json::to_vec(&body).unwrap()).await;
    assert!(matches!(attempt, Attempt::Refused(ref report) if report.contains(&forged)), "{attempt:?}");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no event was written");
    let summary = secretariat.api.technical_check_summary(&PageQuery::first(id)).await.unwrap();
    assert_eq!((summary.counts.failed, summary.counts.not_checked), (1, 7));
    let roster = secretariat.api.roster(id).await.unwrap();
    let na_ri = roster.sites.iter().find(|l| l.site_id.as_str() == "na-ri").unwrap();
    assert_eq!(na_ri.technical_check, Some(CheckStatus::NotChecked));
}
