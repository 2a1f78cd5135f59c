//! A conference whose final attendance record is larger than one event may carry inline
//! (`hoinghi_runtime::records::INLINE_LIMIT`): 2,000 sites with long names, each confirming two
//! named delegates, run from invitation to the draft. `roster_closed` references the record in the
//! object store (name, size, SHA-256) with no entry inline; the object is there with that hash and
//! is the whole record; `draft_opened` references the same object; the draft holds every site's
//! line; and a restarted minutes service rebuilds the draft from it. Restarted while the object is
//! missing, the service is ready without it (the draft answers `unavailable`), and fills the draft
//! in by itself once the object is back.

use std::time::{Duration, Instant};

use hoinghi_runtime::records::{sha256_hex, Records, INLINE_LIMIT};
use hoinghi_shared::api::{MinutesStatus, PageQuery, Person, RosterState, MAX_PAGE};
use hoinghi_shared::events::{AttendanceEvent, EventEnvelope, FinalRecord, MinutesEvent, StoredObject};
use hoinghi_shared::streams::RECORDS_BUCKET;
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::{bulk, flow, Service, Stack};

use crate::common::{conference_event, stack};

const SITES: usize = 2_000;

/// A long name, as a commune's bridge may be called.
fn name(i: usize) -> String {
    format!("Điểm cầu Ủy ban nhân dân xã Nghĩa Tá, huyện Chợ Đồn, tỉnh Bắc Kạn — số {i:04}")
}

fn delegates(i: usize) -> Vec<Person> {
    vec![
        Person { name: format!("Nguyễn Văn Hùng {i}"), title: "Bí thư Đảng ủy xã".into() },
        Person { name: format!("Trần Thị Hương {i}"), title: "Chủ tịch Ủy ban nhân dân xã".into() },
    ]
}

/// The last event of `event_type` about the conference.
async fn last_event(stack: &Stack, service: Service, id: ConferenceId, event_type: &str) -> (usize, EventEnvelope) {
    let stream = stack.jetstream().get_stream(service.stream().name).await.unwrap();
    let message = stream.get_last_raw_message_by_subject(&conference_event(service, id, event_type)).await.unwrap();
    (message.payload.len(), serde_json::from_slice(&message.payload).unwrap())
}

/// Every line of the draft, read page by page.
async fn draft_lines(stack: &Stack, id: ConferenceId) -> Vec<hoinghi_shared::api::AttendanceRecord> {
    let mut lines = Vec::new();
    loop {
        let query = PageQuery { conference_id: id, offset: lines.len(), limit: MAX_PAGE };
        let page = stack.api.minutes_page(&query).await.unwrap();
        assert_eq!(page.status, MinutesStatus::Draft);
        assert_eq!(page.attendance_total, SITES);
        assert!(!page.attendance.is_empty());
        lines.extend(page.attendance);
        if lines.len() == SITES {
            return lines;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_too_large_for_one_event_goes_out_of_line_and_the_draft_holds_every_site() {
    let started = Instant::now();
    let mut stack = stack().await;
    let api = stack.api.clone();
    let sites: Vec<SiteId> = bulk::site_ids("xa", SITES);

    // Given 2,000 sites with long names, linked to a conference and invited
    bulk::register_named_sites(&api, &sites, |i, _| name(i), 32).await.unwrap();
    let id = api.create(&bulk::conference("Hội nghị trực tuyến toàn tỉnh", &sites)).await.unwrap().id;
    flow::invite(&api, id).await.unwrap();

    // When each site confirms two named delegates, and the session runs and ends
    bulk::confirm_sites(&api, id, sites.iter().enumerate().map(|(i, site)| (site, delegates(i))), 32).await.unwrap();
    api.start(id).await.unwrap();
    api.end(id).await.unwrap();
    flow::wait_roster(&api, id, RosterState::Closed).await.unwrap();

    // Then `roster_closed` carries a reference to the record and no entry inline, and is small
    let (closed_len, closed) = last_event(&stack, Service::Attendance, id, AttendanceEvent::ROSTER_CLOSED).await;
    let AttendanceEvent::RosterClosed { attendance, record, details, .. } = closed.decode().unwrap() else {
        panic!("not a roster_closed")
    };
    let reference: StoredObject = record.expect("the record is out of line");
    assert!(attendance.is_empty(), "no entry inline");
    assert_eq!(details.sites.len(), SITES);
    assert!(reference.size as usize > INLINE_LIMIT, "{reference:?}");
    assert!(reference.object.starts_with(&format!("attendance-record/{id}/")));
    // (the conference's details, with every site's name, and the reference: nothing else)
    let details_len = serde_json::to_vec(&details).unwrap().len();
    assert!(closed_len < details_len + 2048, "the event is {closed_len} bytes, its details {details_len}");

    // And the object exists with that hash, and is the whole record
    let records = Records::open(&stack.jetstream()).await.unwrap();
    let bytes = records.get(&reference).await.unwrap();
    assert_eq!(sha256_hex(&bytes), reference.sha256);
    let stored: FinalRecord = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(stored.attendance.len(), SITES);
    for (i, line) in stored.attendance.iter().enumerate() {
        assert_eq!((&line.site_id, &line.site_name), (&sites[i], &name(i)));
        let names: Vec<&str> = line.delegates.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, [format!("Nguyễn Văn Hùng {i}"), format!("Trần Thị Hương {i}")]);
    }

    // And the draft references the same object and holds every site's line with its delegates
    let draft = flow::wait_draft(&api, id).await.unwrap();
    assert_eq!(draft.attendance_total, SITES);
    let (_, opened) = last_event(&stack, Service::Minutes, id, MinutesEvent::DRAFT_OPENED).await;
    let MinutesEvent::DraftOpened { attendance, record, .. } = opened.decode().unwrap() else {
        panic!("not a draft_opened")
    };
    assert!(attendance.is_empty());
    assert_eq!(record.as_ref(), Some(&reference), "the same object, not a copy");
    let lines = draft_lines(&stack, id).await;
    let by_line = |l: &hoinghi_shared::api::AttendanceRecord| {
        (l.site_id.clone(), l.site_name.clone(), l.delegates.iter().map(|d| d.name.clone()).collect::<Vec<_>>())
    };
    let expected: Vec<_> = stored
        .attendance
        .iter()
        .map(|l| (l.site_id.clone(), l.site_name.clone(), l.delegates.iter().map(|d| d.name.clone()).collect()))
        .collect();
    assert_eq!(lines.iter().map(by_line).collect::<Vec<_>>(), expected);

    // When the minutes service restarts, then it rebuilds the draft from the stored record
    let restarting = Instant::now();
    stack.restart(Service::Minutes).await.unwrap();
    let ready = restarting.elapsed();
    let after = draft_lines(&stack, id).await;
    assert_eq!(after.iter().map(by_line).collect::<Vec<_>>(), expected, "the draft rebuilt whole");

    // Given the object gone from the bucket (as if the bucket were unreachable for it)
    let bucket = stack.jetstream().get_object_store(RECORDS_BUCKET).await.unwrap();
    bucket.delete(reference.object.as_str()).await.unwrap();
    // When the minutes service restarts, then it is ready without the record, and the draft
    // answers `unavailable` (retry) rather than lines missing
    let restarting = Instant::now();
    stack.restart(Service::Minutes).await.unwrap();
    let ready_without = restarting.elapsed();
    let query = PageQuery { conference_id: id, offset: 0, limit: 1 };
    let refused = stack.api.minutes_page(&query).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable, "{refused:?}");
    // When the object is back (the same bytes, so the same name), then the service, retrying in
    // the background, fills the draft in without a restart
    records.put("attendance-record", &id, &bytes).await.unwrap();
    let back = Instant::now();
    while stack.api.minutes_page(&query).await.is_err() {
        assert!(back.elapsed() < Duration::from_secs(40), "the record was not read again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refilled = back.elapsed();
    let again = draft_lines(&stack, id).await;
    assert_eq!(again.iter().map(by_line).collect::<Vec<_>>(), expected, "the draft filled in whole");
    assert_eq!(stack.dead_letters().await.unwrap(), 0, "no event was parked");
    eprintln!(
        "large record: ready without the object in {} ms; filled in {} ms after it was back",
        ready_without.as_millis(),
        refilled.as_millis()
    );
    eprintln!(
        "large record: {SITES} sites, record {} bytes out of line, roster_closed {closed_len} bytes; minutes \
         restarted and ready in {} ms; {:.1} s in all",
        reference.size,
        ready.as_millis(),
        started.elapsed().as_secs_f64()
    );
}
