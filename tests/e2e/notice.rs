//! The conclusions notice, the receipts and the attendance export, through the public subjects
//! only: the Bắc Kạn conference (23 July 2021) runs to published minutes, the secretariat issues the
//! notice, sites acknowledge it, the receipts list who has not, and the exports parse.

use chrono::NaiveDate;
use hoinghi_shared::api::{
    AttendanceRow, ExportAttendance, ExportFormat, IssueNotice, MinutesStatus, NoticeStatus, PageQuery,
};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::subjects::{events, minutes};
use hoinghi_shared::{ConferenceId, ErrorCode, Service, SiteId};
use hoinghi_tests::{flow, scenario};

use crate::common::{assert_refused, assert_refused_raw, stack_at_with_events};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notice_is_issued_after_publication_acknowledged_by_sites_and_receipts_and_exports_follow() {
    let (stack, id, stream, all_events) = stack_at_with_events(Service::Minutes, flow::run_to_draft).await;
    let api = &stack.api;
    let issue = |number: &str| IssueNotice { conference_id: id, number: number.to_owned(), issued_on: None };

    // Before publication the notice shows its deadline: 5 working days after Friday 23 July 2021,
    // a year whose holidays are not in the table (weekends and solar holidays only, and it says so).
    let notice = api.notice(id).await.unwrap();
    assert_eq!(notice.status, NoticeStatus::AwaitingMinutes);
    assert_eq!((notice.conference_day, notice.deadline), (day("2021-07-23"), day("2021-07-30")));
    assert!(!notice.holidays_known);
    assert!(notice.overdue, "long past its deadline and not issued");
    assert_eq!((notice.sites_total, notice.acknowledged), (scenario::SITES.len(), 0));
    let overdue = api.overdue_notices(None).await.unwrap();
    let listed = overdue.notices.iter().find(|n| n.conference_id == id).expect("listed as overdue");
    assert_eq!((listed.deadline, listed.minutes_status), (day("2021-07-30"), MinutesStatus::Draft));
    assert!(listed.days_overdue > 365);
    let not_yet = api.overdue_notices(Some(day("2021-07-30"))).await.unwrap();
    assert!(not_yet.notices.iter().all(|n| n.conference_id != id), "not overdue on its deadline");

    // Issuing before publication is refused and writes nothing.
    let before = stack.count_events(stream, &all_events).await.unwrap();
    assert_refused(
        "issue before publication",
        api.issue_notice(&issue("15/TB-TU")).await,
        ErrorCode::Conflict,
        &["not published"],
    );
    assert_eq!(stack.count_events(stream, &all_events).await.unwrap(), before);

    flow::write_and_publish(api, id).await.unwrap();
    assert_eq!(api.notice(id).await.unwrap().status, NoticeStatus::Due);

    // Bad input: a clear 4xx, nothing written.
    let before = stack.count_events(stream, &all_events).await.unwrap();
    let unknown = IssueNotice { conference_id: ConferenceId::generate(), number: "15/TB-TU".into(), issued_on: None };
    assert_refused("an unknown conference", api.issue_notice(&unknown).await, ErrorCode::NotFound, &["no minutes"]);
    for bad in ["TB-TU", "15/tb", "15/TB <b>x</b>", ""] {
        assert_refused(
            &format!("number {bad:?}"),
            api.issue_notice(&issue(bad)).await,
            ErrorCode::Invalid,
            &["notice number"],
        );
    }
    let future = IssueNotice { issued_on: Some(day("2999-01-01")), ..issue("15/TB-TU") };
    assert_refused("a date in the future", api.issue_notice(&future).await, ErrorCode::Invalid, &["after today"]);
    let reply = api
        .raw(
            minutes::NOTICES_ISSUE,
            format!(r#"{{"conference_id":"{id}","number":"15/TB-TU","issued_on":"26/07/2021"}}"#),
            None,
        )
        .await;
    assert_refused_raw("a date not YYYY-MM-DD", reply, ErrorCode::Invalid, &["YYYY-MM-DD"]);
    let outsider = SiteId::parse("xa-khong-moi").unwrap();
    assert_refused(
        "acknowledging before the notice is issued",
        api.acknowledge_notice(&scenario::site("ba-be"), id).await,
        ErrorCode::Conflict,
        &["not been issued"],
    );
    assert_eq!(stack.count_events(stream, &all_events).await.unwrap(), before);

    // The secretariat issues it: the conclusions and tasks of the published minutes, late.
    let issued =
        api.issue_notice(&IssueNotice { issued_on: Some(day("2021-08-02")), ..issue("15/TB-TU") }).await.unwrap();
    assert_eq!(issued.status, NoticeStatus::Issued);
    assert_eq!((issued.number.as_deref(), issued.issued_on), (Some("15/TB-TU"), Some(day("2021-08-02"))));
    assert!(issued.late && !issued.overdue);
    let published = api.minutes(id).await.unwrap();
    let expected: Vec<(usize, Vec<String>, usize)> = published
        .items
        .iter()
        .filter(|i| !i.conclusions.is_empty() || !i.tasks.is_empty())
        .map(|i| (i.index, i.conclusions.clone(), i.tasks.len()))
        .collect();
    let got: Vec<(usize, Vec<String>, usize)> =
        issued.items.iter().map(|i| (i.index, i.conclusions.clone(), i.tasks.len())).collect();
    assert_eq!(got, expected, "the conclusions and tasks of the published minutes");
    assert!(!got.is_empty());
    for task in issued.items.iter().flat_map(|i| &i.tasks) {
        assert!(!task.owner_name.is_empty() && task.owner_name != task.owner_site.as_str(), "{task:?}");
    }
    let issued_events = events::conference(Service::Minutes, &id, MinutesEvent::NOTICE_ISSUED);
    assert_eq!(stack.count_events(stream, &issued_events).await.unwrap(), 1);
    // Once: the same number again changes nothing, another number is refused.
    assert_eq!(api.issue_notice(&issue("15/TB-TU")).await.unwrap().issued_at, issued.issued_at);
    assert_refused(
        "a second number",
        api.issue_notice(&issue("16/TB-TU")).await,
        ErrorCode::Conflict,
        &["already issued as number 15/TB-TU"],
    );
    assert_eq!(stack.count_events(stream, &issued_events).await.unwrap(), 1);
    assert!(api.overdue_notices(None).await.unwrap().notices.iter().all(|n| n.conference_id != id));

    // Sites acknowledge: the first three the minutes, the first two the notice; twice is once.
    let sites: Vec<SiteId> = scenario::SITES.iter().map(|(s, _)| scenario::site(s)).collect();
    for site in &sites[..3] {
        api.acknowledge(site, id).await.unwrap();
    }
    for site in &sites[..2] {
        let own = api.acknowledge_notice(site, id).await.unwrap();
        assert_eq!(own.receipt.as_ref().map(|r| &r.site_id), Some(site));
        assert!(own.receipt.unwrap().acknowledged_at.is_some());
    }
    let again = api.acknowledge_notice(&sites[0], id).await.unwrap();
    assert_eq!(again.acknowledged, 2);
    let acks = events::conference_site(Service::Minutes, &id, &sites[0], MinutesEvent::NOTICE_ACKNOWLEDGED);
    assert_eq!(stack.count_events(stream, &acks).await.unwrap(), 1);
    assert_refused(
        "a site not invited",
        api.acknowledge_notice(&outsider, id).await,
        ErrorCode::Forbidden,
        &["not invited"],
    );
    assert_refused(
        "a site not invited reads",
        api.site_notice(&outsider, id).await,
        ErrorCode::Forbidden,
        &["not invited"],
    );
    let unread = api.site_notice(&sites[5], id).await.unwrap();
    assert_eq!(unread.receipt.map(|r| r.acknowledged_at), Some(None));

    // The receipts list who has not acknowledged, with how long they have waited.
    let receipts = api.receipts(&PageQuery::first(id)).await.unwrap();
    assert_eq!(receipts.sites_total, sites.len());
    assert_eq!((receipts.minutes_waiting, receipts.notice_waiting), (sites.len() - 3, sites.len() - 2));
    let waiting: Vec<&SiteId> = receipts.sites.iter().map(|s| &s.site_id).collect();
    assert_eq!(waiting, sites[2..].iter().collect::<Vec<_>>(), "in invitation order, only those waiting");
    let third = &receipts.sites[0];
    assert!(third.minutes_acknowledged_at.is_some() && third.minutes_waiting_since.is_none());
    assert_eq!(third.notice_waiting_since, issued.issued_at);
    assert!(third.notice_waiting_seconds.is_some_and(|s| s >= 0));
    let last = receipts.sites.last().unwrap();
    assert_eq!(last.minutes_waiting_since, published.published_at);
    assert!(last.minutes_waiting_seconds.is_some_and(|s| s >= 0));
    let page = api.receipts(&PageQuery { conference_id: id, offset: 2, limit: 2 }).await.unwrap();
    assert_eq!((page.offset, page.sites.len(), page.waiting_total), (2, 2, sites.len() - 2));

    // The attendance exports, parsed.
    let csv = api.export_attendance(id, ExportFormat::Csv).await.unwrap();
    assert_eq!((csv.rows, csv.media_type.as_str()), (sites.len(), "text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(csv.content.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        ["site_id", "site_name", "answer", "delegates", "headcount", "decline_reason", "checked_in_at", "presence"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), sites.len());
    let answer_of = |site: &str| records.iter().find(|r| &r[0] == site).map(|r| r[2].to_owned()).unwrap();
    assert_eq!(answer_of(scenario::DECLINING_SITE), "declined");
    assert_eq!(answer_of(scenario::SILENT_SITE), "no_answer");
    assert_eq!(answer_of("ba-be"), "confirmed");
    assert!(records.iter().all(|r| r[7].is_empty()), "presence is empty until live presence is recorded");
    // One page of rows: where it starts, how many of how many; no header past the first row
    let query = ExportAttendance { offset: 2, limit: 2, ..ExportAttendance::first(id, ExportFormat::Csv) };
    let page = api.export_attendance_page(&query).await.unwrap();
    assert_eq!((page.offset, page.rows, page.total_rows), (2, 2, sites.len()));
    let lines: Vec<&str> = csv.content.split_inclusive("\r\n").collect();
    assert_eq!(page.content, lines[3..5].concat(), "rows 2 and 3 of the file, without its header");
    let json = api.export_attendance(id, ExportFormat::Json).await.unwrap();
    let rows: Vec<AttendanceRow> = serde_json::from_str(&json.content).unwrap();
    assert_eq!(rows.len(), sites.len());
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(
            (row.site_id.as_str(), row.site_name.as_str(), row.answer.as_str()),
            (&record[0], &record[1], &record[2])
        );
        assert_eq!(row.headcount.to_string(), &record[4]);
        assert_eq!(row.checked_in_at.is_some(), !record[6].is_empty());
        assert!(row.presence.is_none());
    }
    let declined = rows.iter().find(|r| r.site_id.as_str() == scenario::DECLINING_SITE).unwrap();
    assert_eq!(declined.decline_reason.as_deref(), Some(scenario::DECLINE_REASON));
    let reply =
        api.raw(minutes::ATTENDANCE_EXPORT, format!(r#"{{"conference_id":"{id}","format":"xlsx"}}"#), None).await;
    assert_refused_raw("a bad export format", reply, ErrorCode::Invalid, &["xlsx"]);
}
