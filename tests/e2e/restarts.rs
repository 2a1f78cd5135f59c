//! SIGKILL loses nothing: each service killed mid-flow comes back with its state, and events that
//! arrived while it was down are processed when it returns.

use std::time::Duration;

use hoinghi_shared::api::{ConferenceStatus, RosterCounts, RosterState};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::ErrorCode;
use hoinghi_tests::{eventually, flow, scenario, Service, Stack, REDELIVERY_TIMEOUT};

use crate::common::{
    answer_and_finish, assert_attendance_is_the_scenario, assert_attendance_matches_roster, assert_refused,
    conference_event, drafts_opened, end_and_finish, every_service_back_after, finish, session_and_finish, stack_at,
};

/// SIGKILLs `service`, runs `meanwhile`, leaves the service down 200 ms more, then starts it again
/// and waits until it is ready; returns what `meanwhile` returned.
async fn while_down<T>(stack: &mut Stack, service: Service, meanwhile: impl AsyncFnOnce() -> T) -> T {
    stack.kill(service);
    let result = meanwhile().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stack.start_service(service).await.unwrap();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_killed_after_some_confirmations_keeps_them_and_takes_more() {
    let (mut stack, id) = stack_at(flow::invited).await;
    let api = stack.api.clone();
    let sites = scenario::site_ids();
    for site in &sites[..3] {
        flow::answer(&api, id, site).await.unwrap();
    }
    let before = api.roster(id).await.unwrap();
    assert_eq!(before.counts.confirmed, 3);
    let events = stack.stream_messages(Service::Attendance.stream().name).await.unwrap();

    stack.kill(Service::Attendance);
    assert_refused("the roster while attendance is down", api.roster(id).await, ErrorCode::Unavailable, &[]);
    stack.start_service(Service::Attendance).await.unwrap();

    assert_eq!(api.roster(id).await.unwrap(), before, "the roster comes back as it was");
    let again = api.confirm(&sites[0], &scenario::confirmation(id, &sites[0]).unwrap()).await.unwrap();
    assert_eq!(again, before.sites[0], "the same confirmation again answers the same line");
    assert_eq!(
        stack.stream_messages(Service::Attendance.stream().name).await.unwrap(),
        events,
        "and writes no event after the restart either"
    );

    for site in &sites[3..] {
        flow::answer(&api, id, site).await.unwrap();
    }
    let counts = api.roster(id).await.unwrap().counts;
    assert_eq!(counts, RosterCounts { invited: 8, confirmed: 6, declined: 1, no_answer: 1, checked_in: 0 });
    flow::hold_session(&api, id).await.unwrap();
    stack.restart(Service::Attendance).await.unwrap();
    assert_eq!(api.roster(id).await.unwrap().counts.checked_in, 5, "check-ins survive a SIGKILL");
    end_and_finish(&stack, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_issued_while_attendance_is_down_opens_the_roster_when_it_returns() {
    let (mut stack, id) = stack_at(flow::schedule).await;
    let api = stack.api.clone();
    let invited = while_down(&mut stack, Service::Attendance, async || api.invite(id).await.unwrap()).await;
    assert_eq!(invited.status, ConferenceStatus::Invited, "scheduling does not need attendance");
    let roster = flow::wait_roster(&api, id, RosterState::Open).await.unwrap();
    assert_eq!(roster.counts.invited, 8);
    assert_eq!(roster.sites.len(), 8);
    answer_and_finish(&stack, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_killed_the_moment_invitations_go_out_opens_the_roster_exactly_once() {
    let (mut stack, id) = stack_at(flow::schedule).await;
    let api = stack.api.clone();
    api.invite(id).await.unwrap();
    stack.kill(Service::Attendance);
    stack.start_service(Service::Attendance).await.unwrap();
    let roster = eventually(REDELIVERY_TIMEOUT, || api.roster(id)).await.unwrap();
    assert_eq!(roster.counts.invited, 8);
    stack.wait_for_reactions(REDELIVERY_TIMEOUT).await.unwrap();
    let opened = conference_event(Service::Attendance, id, AttendanceEvent::ROSTER_OPENED);
    assert_eq!(stack.count_events(Service::Attendance.stream().name, &opened).await.unwrap(), 1, "one roster");
    answer_and_finish(&stack, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_down_when_the_session_ends_opens_the_draft_once_it_returns() {
    let (mut stack, id) = stack_at(flow::run_to_session).await;
    let api = stack.api.clone();
    while_down(&mut stack, Service::Minutes, async || {
        api.end(id).await.unwrap();
        flow::wait_roster(&api, id, RosterState::Closed).await.unwrap();
    })
    .await;
    let draft = flow::wait_draft(&api, id).await.unwrap();
    assert_attendance_is_the_scenario(&draft.attendance);

    // Killed again with the draft open: it comes back once, unchanged.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.restart(Service::Minutes).await.unwrap();
    assert_eq!(api.minutes(id).await.unwrap(), draft, "the draft survives a SIGKILL");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(drafts_opened(&stack, id).await, 1, "one draft, not one per start");
    finish(&stack, id).await;
}

/// Ends the session, SIGKILLs minutes `delay` later (around the moment it takes the `roster_closed`
/// event and opens the draft), starts it again: the draft opens exactly once, with the attendance.
/// If the event was delivered to the killed instance and not acknowledged, JetStream redelivers it
/// after the consumer's ack wait, hence the longer timeout.
async fn kill_minutes_as_the_session_ends(delay: Duration) {
    let (mut stack, id) = stack_at(flow::run_to_session).await;
    let api = stack.api.clone();
    api.end(id).await.unwrap();
    tokio::time::sleep(delay).await;
    stack.kill(Service::Minutes);
    stack.start_service(Service::Minutes).await.unwrap();
    let draft = flow::wait_draft_within(&api, id, REDELIVERY_TIMEOUT).await.unwrap();
    let roster = flow::wait_roster(&api, id, RosterState::Closed).await.unwrap();
    assert_attendance_matches_roster(&draft, &roster);
    assert_attendance_is_the_scenario(&draft.attendance);
    stack.wait_for_reactions(REDELIVERY_TIMEOUT).await.unwrap();
    assert_eq!(drafts_opened(&stack, id).await, 1, "killed {delay:?} after the end: exactly one draft");
    assert_eq!(api.minutes(id).await.unwrap(), draft, "and it is not reopened by a redelivery");
    finish(&stack, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_killed_the_moment_the_session_ends_opens_the_draft_exactly_once() {
    kill_minutes_as_the_session_ends(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_killed_while_the_draft_opens_opens_it_exactly_once() {
    kill_minutes_as_the_session_ends(Duration::from_millis(8)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduling_killed_after_invitations_still_answers_and_the_flow_completes() {
    let (mut stack, id) = stack_at(flow::invited).await;
    let api = stack.api.clone();
    let view = api.conference(id).await.unwrap();
    stack.restart(Service::Scheduling).await.unwrap();
    assert_eq!(api.conference(id).await.unwrap(), view, "the conference comes back as it was");
    assert_eq!(api.invite(id).await.unwrap(), view, "inviting again is still a no-op");
    let site = api.register_site(&scenario::host(), scenario::HOST.1).await.unwrap();
    assert_eq!(site.name, scenario::HOST.1, "the site registry comes back too");

    flow::answer_all(&api, id).await.unwrap();
    flow::hold_session(&api, id).await.unwrap();
    stack.restart(Service::Scheduling).await.unwrap();
    assert_eq!(api.conference(id).await.unwrap().status, ConferenceStatus::InSession);
    end_and_finish(&stack, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_published_while_scheduling_is_down_close_the_conference_when_it_returns() {
    let (mut stack, id) = stack_at(flow::run_to_draft).await;
    let api = stack.api.clone();
    flow::record_all(&api, id).await.unwrap();
    let taker = flow::minute_taker(&api);
    taker.submit(id).await.unwrap();
    flow::approve_all(&api, id).await.unwrap();
    let published = while_down(&mut stack, Service::Scheduling, async || taker.publish(id).await.unwrap()).await;
    let closed = flow::wait_status(&api, id, ConferenceStatus::Closed).await.unwrap();
    assert_eq!(closed.minutes_sha256, published.sha256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_killed_at_once_mid_flow_loses_nothing() {
    let (stack, id) = every_service_back_after(async |stack, s| stack.kill(s)).await;
    session_and_finish(&stack, id).await;
}
