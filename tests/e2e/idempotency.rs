//! Retried commands: with the same `Hoinghi-Idempotency-Key` they have their effect once, and a
//! command that changes nothing writes no event.

use hoinghi_shared::api::{ConferenceView, SiteAttendance};
use hoinghi_shared::events::{AttendanceEvent, MinutesEvent, SchedulingEvent};
use hoinghi_shared::subjects::{attendance, events, scheduling};
use hoinghi_tests::{flow, scenario, Service};

use crate::common::{conference_event, stack, stack_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_retried_with_the_same_key_is_recorded_once() {
    let (stack, id) = stack_at(flow::invited).await;
    let api = &stack.api;
    let site = scenario::site("ba-be");
    let subject = attendance::site_command(&site, attendance::CONFIRM);
    let confirmed = events::conference_site(Service::Attendance, &id, &site, AttendanceEvent::ATTENDANCE_CONFIRMED);
    let stream = Service::Attendance.stream().name;
    let request = scenario::confirmation(id, &site).unwrap();

    let before = stack.stream_messages(stream).await.unwrap();
    let first: SiteAttendance = api.request_with_key(&subject, &request, "xac-nhan-ba-be-1").await.unwrap();
    assert_eq!(stack.count_events(stream, &confirmed).await.unwrap(), 1);
    let roster = api.roster(id).await.unwrap();

    let retried: SiteAttendance = api.request_with_key(&subject, &request, "xac-nhan-ba-be-1").await.unwrap();
    assert_eq!(retried, first, "the retry answers the same");
    assert_eq!(stack.count_events(stream, &confirmed).await.unwrap(), 1, "one event for the two sends");
    assert_eq!(stack.stream_messages(stream).await.unwrap(), before + 1, "nothing else written");
    assert_eq!(api.roster(id).await.unwrap(), roster, "the roster is unchanged");

    // A new key with new content is a new confirmation.
    let mut changed = request.clone();
    changed.headcount += 5;
    let updated: SiteAttendance = api.request_with_key(&subject, &changed, "xac-nhan-ba-be-2").await.unwrap();
    assert_eq!(updated.headcount, changed.headcount);
    assert_eq!(stack.count_events(stream, &confirmed).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conference_created_twice_with_the_same_key_is_scheduled_once() {
    let stack = stack().await;
    let api = &stack.api;
    flow::register_sites(api).await.unwrap();
    let request = scenario::create_conference();
    let first: ConferenceView =
        api.request_with_key(scheduling::CREATE, &request, "tao-hoi-nghi-2021-07-23").await.unwrap();
    let retried: ConferenceView =
        api.request_with_key(scheduling::CREATE, &request, "tao-hoi-nghi-2021-07-23").await.unwrap();
    assert_eq!(retried.id, first.id, "the retry answers the same conference");
    let scheduled = events::of_type(Service::Scheduling, SchedulingEvent::CONFERENCE_SCHEDULED);
    assert_eq!(stack.count_events(Service::Scheduling.stream().name, &scheduled).await.unwrap(), 1, "scheduled once");
    let other: ConferenceView = api.request_with_key(scheduling::CREATE, &request, "tao-hoi-nghi-khac").await.unwrap();
    assert_ne!(other.id, first.id, "another key schedules another conference");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeating_a_command_answers_the_same_and_writes_no_new_event() {
    let stack = stack().await;
    let api = &stack.api;
    let host = scenario::host();

    let site = api.register_site(&host, scenario::HOST.1).await.unwrap();
    flow::register_sites(api).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.register_site(&host, scenario::HOST.1).await.unwrap(), site, "same id and name: same answer");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "re-registering writes nothing");

    let id = api.create(&scenario::create_conference()).await.unwrap().id;
    let invited = api.invite(id).await.unwrap();
    flow::wait_roster(api, id, hoinghi_shared::api::RosterState::Open).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.invite(id).await.unwrap(), invited, "invite again");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "invite again writes nothing");

    flow::answer_all(api, id).await.unwrap();
    let ba_be = scenario::site("ba-be");
    let request = scenario::confirmation(id, &ba_be).unwrap();
    let line = api.roster(id).await.unwrap().sites.into_iter().find(|s| s.site_id == ba_be).unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.confirm(&ba_be, &request).await.unwrap(), line, "same confirmation again");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "same confirmation writes nothing");

    let started = api.start(id).await.unwrap();
    // The start is followed by attendance's own reaction (the technical check closes, presence
    // starts, the quorum is recorded): let it land before the check-in whose reply is compared,
    // and before counting.
    stack.wait_for_reactions(hoinghi_tests::ASYNC_TIMEOUT).await.unwrap();
    let checked_in = api.check_in(&ba_be, id).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.start(id).await.unwrap(), started, "start again");
    assert_eq!(api.check_in(&ba_be, id).await.unwrap(), checked_in, "check in again");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "start and check-in again write nothing");

    // Confirming after check-in updates the delegates; the site stays checked in.
    let mut update = request.clone();
    update
        .delegates
        .push(hoinghi_shared::api::Person { name: "Bàn Văn Tài".into(), title: "Cán bộ Ban Dân vận".into() });
    update.headcount += 1;
    let updated = api.confirm(&ba_be, &update).await.unwrap();
    assert_eq!(updated.status, hoinghi_shared::api::AttendanceStatus::CheckedIn);
    assert_eq!(updated.delegates, update.delegates);
    assert_eq!(updated.checked_in_at, checked_in.checked_in_at);

    flow::check_in_present(api, id).await.unwrap();
    let ended = api.end(id).await.unwrap();
    flow::wait_draft(api, id).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.end(id).await.unwrap(), ended, "end again");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "end again writes nothing");

    flow::record_all(api, id).await.unwrap();
    let taker = flow::minute_taker(api);
    let submitted = taker.submit(id).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(taker.submit(id).await.unwrap(), submitted, "submit again");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "submit again writes nothing");

    flow::approve_all(api, id).await.unwrap();
    let published = taker.publish(id).await.unwrap();
    let acked = api.acknowledge(&ba_be, id).await.unwrap();
    flow::wait_status(api, id, hoinghi_shared::api::ConferenceStatus::Closed).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(taker.publish(id).await.unwrap().sha256, published.sha256, "publish again");
    assert_eq!(api.acknowledge(&ba_be, id).await.unwrap(), acked, "acknowledge again");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "publish and acknowledge again write nothing");
    let drafts = conference_event(Service::Minutes, id, MinutesEvent::DRAFT_OPENED);
    assert_eq!(stack.count_events(Service::Minutes.stream().name, &drafts).await.unwrap(), 1);
}
