//! Assertions shared by the end-to-end tests.

use hoinghi_shared::api::{AttendanceRecord, AttendanceStatus, ConferenceStatus, MinutesView, Roster, RosterState};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode};
use hoinghi_tests::scenario::{self, Answer};
use hoinghi_tests::secure::{Conn, SecureStack};
use hoinghi_tests::{flow, Api, RawReply, Service, ServiceProcess, Stack, READY_TIMEOUT};
use sha2::{Digest, Sha256};

/// `markdown_text`: the text a reader sees in published Markdown, every run of whitespace as one
/// space (user text is escaped in the document, so look for it here); `squeeze`: every run of
/// whitespace as one space.
pub use hoinghi_tests::commonmark::{squeeze, text as markdown_text};

/// A private stack with all three services running.
pub async fn stack() -> Stack {
    Stack::start().await.expect("start the private nats-server and the three services")
}

/// A private stack, with the scenario's conference brought as far as `step` takes it (e.g.
/// [`flow::invited`]: scheduled, invitations out, roster open).
pub async fn stack_at(step: impl AsyncFnOnce(&Api) -> anyhow::Result<ConferenceId>) -> (Stack, ConferenceId) {
    let stack = stack().await;
    let id = step(&stack.api).await.unwrap();
    (stack, id)
}

/// [`stack_at`], with the stream of `service` and the filter of all its events about the
/// conference, to count what a step wrote (see [`writes_nothing`]).
pub async fn stack_at_with_events(
    service: Service,
    step: impl AsyncFnOnce(&Api) -> anyhow::Result<ConferenceId>,
) -> (Stack, ConferenceId, &'static str, String) {
    let (stack, id) = stack_at(step).await;
    (stack, id, service.stream().name, hoinghi_shared::subjects::events::conference_all(service, &id))
}

/// Runs `refusals` and checks that they wrote no event matching `filter` to `stream`.
pub async fn writes_nothing(stack: &Stack, stream: &str, filter: &str, refusals: impl AsyncFnOnce()) {
    let before = stack.count_events(stream, filter).await.unwrap();
    refusals().await;
    assert_eq!(stack.count_events(stream, filter).await.unwrap(), before, "nothing written");
}

/// The nine bridges of the scenario: the host and the eight linked sites.
pub fn all_sites() -> Vec<&'static str> {
    std::iter::once(scenario::HOST.0).chain(scenario::SITES.iter().map(|(id, _)| *id)).collect()
}

/// A private stack with authentication on, with credentials for every bridge of the scenario.
pub async fn secure_stack() -> SecureStack {
    SecureStack::start(&all_sites()).await.expect("start the stack with authentication on")
}

/// A stack with authentication on, the scenario's conference invited and started by the
/// secretariat, and connections as Ba Bể and as the person of its first co-chair.
pub async fn secure_session() -> (SecureStack, ConferenceId, Conn, Conn) {
    let stack = secure_stack().await;
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let chair = stack.connect(&format!("person-{}", scenario::CHAIR_PERSONS[0])).await.unwrap();
    let id = flow::invited(&stack.secretariat.api).await.unwrap();
    stack.secretariat.api.start(id).await.unwrap();
    (stack, id, ba_be, chair)
}

/// Second instances of each service, whose logs are printed if the test fails.
pub struct Second(Vec<ServiceProcess>);

impl Drop for Second {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for p in &self.0 {
                eprint!("second instance {}", p.log_report(40));
            }
        }
    }
}

/// A stack with two instances of every service.
pub async fn two_of_each() -> (Stack, Second) {
    let stack = stack().await;
    let mut second = Second(Vec::new());
    for s in Service::ALL {
        let log = stack.server.dir().join(format!("{}-2.log", s.name()));
        let mut p = ServiceProcess::with_log(s, &stack.server.url(), log).unwrap();
        p.start(stack.api.nats(), READY_TIMEOUT).await.unwrap();
        second.0.push(p);
    }
    (stack, second)
}

/// Hex SHA-256 of a string's UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Checks an error reply as it came off the wire: the `Nats-Service-Error-Code` header, the
/// `Nats-Service-Error` header, the body's code, and a message for a person that mentions every
/// hint (case-insensitive). Returns the error.
#[track_caller]
pub fn assert_refused_raw(what: &str, reply: Result<RawReply, ApiError>, code: ErrorCode, hints: &[&str]) -> ApiError {
    let reply = match reply {
        Ok(r) => r,
        Err(e) => panic!("{what}: expected a {} reply, the request failed: {e}", code.status()),
    };
    assert!(
        reply.is_error(),
        "{what}: expected a {} error reply, got a success: {}",
        code.status(),
        String::from_utf8_lossy(&reply.payload)
    );
    assert_eq!(
        reply.status,
        Some(code.status()),
        "{what}: Nats-Service-Error-Code; body: {}",
        String::from_utf8_lossy(&reply.payload)
    );
    assert!(
        reply.error_header.as_deref().is_some_and(|h| !h.trim().is_empty()),
        "{what}: the Nats-Service-Error header should carry the message"
    );
    let body: hoinghi_shared::error::ErrorBody = serde_json::from_slice(&reply.payload).unwrap_or_else(|e| {
        panic!(
            "{what}: error body is not {{\"error\":{{code,message}}}}: {e}: {}",
            String::from_utf8_lossy(&reply.payload)
        )
    });
    check_error(what, &body.error, code, hints);
    body.error
}

/// Checks the error of a typed call.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, ApiError>,
    code: ErrorCode,
    hints: &[&str],
) -> ApiError {
    match result {
        Ok(v) => panic!("{what}: expected {} ({}), got a success: {v:?}", code.as_str(), code.status()),
        Err(e) => {
            check_error(what, &e, code, hints);
            e
        }
    }
}

#[track_caller]
fn check_error(what: &str, error: &ApiError, code: ErrorCode, hints: &[&str]) {
    assert_eq!(error.code, code, "{what}: wrong code; message: {:?}", error.message);
    assert!(error.message.trim().chars().count() >= 8, "{what}: the message is not helpful: {:?}", error.message);
    let lower = error.message.to_lowercase();
    for hint in hints {
        assert!(
            lower.contains(&hint.to_lowercase()),
            "{what}: the message should mention {hint:?}: {:?}",
            error.message
        );
    }
}

/// Checks that the minutes' attendance is, site by site, exactly the closed roster.
#[track_caller]
pub fn assert_attendance_matches_roster(minutes: &MinutesView, roster: &Roster) {
    assert_eq!(
        minutes.attendance.len(),
        roster.sites.len(),
        "one attendance record per invited site: {:#?}",
        minutes.attendance
    );
    for line in &roster.sites {
        let record = minutes
            .attendance
            .iter()
            .find(|r| r.site_id == line.site_id)
            .unwrap_or_else(|| panic!("no attendance record for {}", line.site_id));
        let what = format!("attendance of {}", line.site_id);
        assert_eq!(record.site_name, line.site_name, "{what}: name");
        assert_eq!(record.status, line.status, "{what}: status");
        assert_eq!(record.delegates, line.delegates, "{what}: delegates");
        assert_eq!(record.headcount, line.headcount, "{what}: headcount");
        assert_eq!(record.decline_reason, line.decline_reason, "{what}: decline reason");
        assert_eq!(record.checked_in_at, line.checked_in_at, "{what}: check-in time");
        let confirmed = matches!(line.status, AttendanceStatus::Confirmed | AttendanceStatus::CheckedIn);
        assert_eq!(record.confirmed, confirmed, "{what}: confirmed flag");
    }
}

/// Checks that the minutes' attendance is what the scenario played: who confirmed, checked in,
/// declined (with its reason) and never answered.
#[track_caller]
pub fn assert_attendance_is_the_scenario(attendance: &[AttendanceRecord]) {
    for (site, answer) in scenario::answers() {
        let record =
            attendance.iter().find(|r| r.site_id == site).unwrap_or_else(|| panic!("no attendance record for {site}"));
        assert_eq!(Some(record.site_name.as_str()), scenario::site_name(&site), "{site}: name");
        match answer {
            Answer::Confirm { delegates, headcount, checks_in } => {
                assert!(record.confirmed, "{site} confirmed");
                assert_eq!(record.delegates, delegates, "{site}: delegates");
                assert_eq!(record.headcount, headcount, "{site}: headcount");
                assert_eq!(record.decline_reason, None, "{site}: no decline reason");
                if checks_in {
                    assert_eq!(record.status, AttendanceStatus::CheckedIn, "{site} checked in");
                    assert!(record.checked_in_at.is_some(), "{site}: check-in time");
                } else {
                    assert_eq!(record.status, AttendanceStatus::Confirmed, "{site} confirmed but never checked in");
                    assert_eq!(record.checked_in_at, None, "{site}: no check-in time");
                }
            }
            Answer::Decline { reason } => {
                assert_eq!(record.status, AttendanceStatus::Declined, "{site} declined");
                assert!(!record.confirmed, "{site} did not confirm");
                assert_eq!(record.decline_reason.as_deref(), Some(reason.as_str()), "{site}: reason");
                assert!(record.delegates.is_empty(), "{site}: no delegates");
            }
            Answer::Silent => {
                assert_eq!(record.status, AttendanceStatus::Invited, "{site} never answered");
                assert!(!record.confirmed, "{site} did not confirm");
                assert!(record.delegates.is_empty(), "{site}: no delegates");
                assert_eq!(record.headcount, 0, "{site}: no headcount");
                assert_eq!(record.decline_reason, None, "{site}: no reason");
            }
        }
    }
}

/// The subject filter of one event type about one conference (conference-level events).
pub fn conference_event(service: Service, conference: hoinghi_shared::ConferenceId, event_type: &str) -> String {
    hoinghi_shared::subjects::events::conference(service, &conference, event_type)
}

/// How many `draft_opened` events the minutes stream holds for a conference.
pub async fn drafts_opened(stack: &Stack, id: ConferenceId) -> usize {
    let filter = conference_event(Service::Minutes, id, MinutesEvent::DRAFT_OPENED);
    stack.count_events(Service::Minutes.stream().name, &filter).await.unwrap()
}

/// From the answers on: every site answers, then [`session_and_finish`].
pub async fn answer_and_finish(stack: &Stack, id: ConferenceId) {
    flow::answer_all(&stack.api, id).await.unwrap();
    session_and_finish(stack, id).await;
}

/// The session runs (the present sites check in), then [`end_and_finish`].
pub async fn session_and_finish(stack: &Stack, id: ConferenceId) {
    flow::hold_session(&stack.api, id).await.unwrap();
    end_and_finish(stack, id).await;
}

/// The session ends, then [`finish`].
pub async fn end_and_finish(stack: &Stack, id: ConferenceId) {
    stack.api.end(id).await.unwrap();
    finish(stack, id).await;
}

/// A stack where every site has answered; then `stop` stops each service its own way, all are
/// started again, and the conference, its roster and the streams must be as they were.
pub async fn every_service_back_after(mut stop: impl AsyncFnMut(&mut Stack, Service)) -> (Stack, ConferenceId) {
    let (mut stack, id) = stack_at(flow::invited).await;
    let api = stack.api.clone();
    flow::answer_all(&api, id).await.unwrap();
    let conference = api.conference(id).await.unwrap();
    let roster = api.roster(id).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    for s in Service::ALL {
        stop(&mut stack, s).await;
    }
    for s in Service::ALL {
        stack.start_service(s).await.unwrap();
    }
    assert_eq!(api.conference(id).await.unwrap(), conference, "the conference comes back as it was");
    assert_eq!(api.roster(id).await.unwrap(), roster, "the roster comes back as it was");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "restarting writes no event");
    (stack, id)
}

/// After the session ended: checks the draft opened once with the scenario's attendance, then writes,
/// publishes, waits for the conference to close, and checks that no event was parked as a dead letter.
pub async fn finish(stack: &Stack, id: ConferenceId) {
    let api = &stack.api;
    let roster = flow::wait_roster(api, id, RosterState::Closed).await.unwrap();
    let draft = flow::wait_draft(api, id).await.unwrap();
    assert_attendance_matches_roster(&draft, &roster);
    assert_attendance_is_the_scenario(&draft.attendance);
    let published = flow::write_and_publish(api, id).await.unwrap();
    let closed = flow::wait_status(api, id, ConferenceStatus::Closed).await.unwrap();
    assert_eq!(closed.minutes_sha256, published.sha256);
    assert_eq!(drafts_opened(stack, id).await, 1, "exactly one draft for the conference");
    assert_eq!(stack.dead_letters().await.unwrap(), 0, "no event was parked as a dead letter");
}
