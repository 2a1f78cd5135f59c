//! The roll call (điểm danh) and the quorum of the Bắc Kạn conference, through the public subjects
//! only: the conference requires 75% of its eight bridges (6); five bridges check in before the
//! start, so the quorum recorded at the start is 5/8, not quorate; the secretariat calls Na Rì
//! present (6/8, quorate), Pác Nặm absent, Ba Bể present with its people in the room; the quorum is
//! recorded again when the session moves to the second agenda item; refusals change nothing; the
//! published minutes say what was recorded. On a stack with authentication a site cannot take the
//! roll.

use hoinghi_shared::api::{ConferenceRef, QuorumBasis, QuorumRule, RollCall};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::{attendance, events};
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode, Service, SiteId};
use hoinghi_tests::secure::Attempt;
use hoinghi_tests::{eventually, flow, scenario, Api, ASYNC_TIMEOUT};

use crate::common::{assert_refused, markdown_text, secure_session, stack};

fn present(id: ConferenceId, site: &str, people: u32) -> RollCall {
    RollCall { conference_id: id, site: scenario::site(site), present: true, people: Some(people), reason: None }
}

fn absent(id: ConferenceId, site: &str, reason: &str) -> RollCall {
    RollCall {
        conference_id: id,
        site: scenario::site(site),
        present: false,
        people: None,
        reason: Some(reason.into()),
    }
}

/// Waits until `recorded` (the quorum records written) counts `times`; `missing` says what is not
/// recorded yet.
async fn until_recorded(recorded: impl AsyncFn() -> usize, times: usize, missing: &str) {
    eventually(ASYNC_TIMEOUT, || async {
        if recorded().await == times {
            Ok(())
        } else {
            Err(ApiError::conflict(missing))
        }
    })
    .await
    .unwrap();
}

/// Schedules the Bắc Kạn conference with a quorum rule, invites, answers.
async fn invited_with_quorum(api: &Api, rule: QuorumRule) -> ConferenceId {
    flow::register_sites(api).await.unwrap();
    let request = hoinghi_shared::api::CreateConference { quorum: Some(rule), ..scenario::create_conference() };
    let created = api.create(&request).await.unwrap();
    assert_eq!(created.quorum, Some(rule), "the conference's details carry the rule");
    flow::invite(api, created.id).await.unwrap();
    flow::answer_all(api, created.id).await.unwrap();
    created.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretariat_takes_the_roll_and_the_minutes_record_the_quorum() {
    let stack = stack().await;
    let api = &stack.api;
    let rule = QuorumRule { basis: QuorumBasis::Bridges, percent: 75 };
    let id = invited_with_quorum(api, rule).await;
    let stream = Service::Attendance.stream().name;
    let all = events::conference_all(Service::Attendance, &id);
    let count = |filter: String| {
        let stack = &stack;
        async move { stack.count_events(stream, &filter).await.unwrap() }
    };
    let roll_calls = || count(format!("hoinghi.v1.events.attendance.{id}.*.{}", AttendanceEvent::ROLL_CALLED));
    let recorded = || count(events::conference(Service::Attendance, &id, AttendanceEvent::QUORUM_RECORDED));

    // Before the session: nobody present, not quorate; the roll cannot be called yet.
    let q = api.quorum(id).await.unwrap();
    assert_eq!((q.quorate, q.required, q.present, q.total), (false, 6, 0, 8));
    assert_eq!((q.rule, q.basis), (Some(rule), Some(QuorumBasis::Bridges)));
    let before = count(all.clone()).await;
    assert_refused(
        "a roll call before the start",
        api.roll_call(&present(id, "na-ri", 12)).await,
        ErrorCode::Conflict,
        &["has not started"],
    );
    assert_eq!(count(all.clone()).await, before, "nothing written");

    // Five bridges check in, then the session starts: the quorum at the start is 5/8.
    flow::check_in_present(api, id).await.unwrap();
    let q = api.quorum(id).await.unwrap();
    assert_eq!((q.quorate, q.present, q.by_check_in), (false, 5, 5));
    api.start(id).await.unwrap();
    // The quorum at the start is recorded once attendance has processed the start, which also puts
    // the session under way for the roll call.
    until_recorded(recorded, 1, "the quorum at the start is not recorded yet").await;
    let line = api.roll_call(&present(id, "na-ri", 12)).await.unwrap();
    let call = line.roll_call.clone().unwrap();
    assert_eq!((call.present, call.people, call.calls), (true, Some(12), 1));
    assert!(line.checked_in_at.is_none(), "the roll call complements the check-in, it does not replace it");

    // Na Rì present: 6/8, quorate.
    let q = api.quorum(id).await.unwrap();
    assert_eq!((q.quorate, q.required, q.present, q.total), (true, 6, 6, 8));
    assert_eq!((q.by_roll_call, q.by_check_in), (1, 5));
    // Pác Nặm absent; Ba Bể present with 20 people (its check-in stays on its line).
    let pac_nam = api.roll_call(&absent(id, "pac-nam", "Mất kết nối do mưa lũ")).await.unwrap();
    assert_eq!(pac_nam.roll_call.unwrap().reason.as_deref(), Some("Mất kết nối do mưa lũ"));
    let ba_be = api.roll_call(&present(id, "ba-be", 20)).await.unwrap();
    assert!(ba_be.checked_in_at.is_some());
    assert_eq!(ba_be.roll_call.unwrap().people, Some(20));
    // The same roll call again changes nothing; a later one replaces it, every one kept in the log.
    api.roll_call(&present(id, "ba-be", 20)).await.unwrap();
    assert_eq!(roll_calls().await, 3);
    let ba_be = api.roll_call(&present(id, "ba-be", 18)).await.unwrap();
    assert_eq!((ba_be.roll_call.as_ref().unwrap().people, ba_be.roll_call.unwrap().calls), (Some(18), 2));
    assert_eq!(roll_calls().await, 4);
    let roster = api.roster(id).await.unwrap();
    let na_ri = roster.sites.iter().find(|l| l.site_id.as_str() == "na-ri").unwrap();
    assert!(na_ri.roll_call.as_ref().is_some_and(|r| r.present));

    // Refusals: a clear 4xx, nothing written.
    let before = count(all.clone()).await;
    let cao_bang = RollCall { site: SiteId::parse("cao-bang").unwrap(), ..present(id, "na-ri", 3) };
    assert_refused("a site not invited", api.roll_call(&cao_bang).await, ErrorCode::NotFound, &["not a bridge"]);
    assert_refused("no people", api.roll_call(&present(id, "na-ri", 0)).await, ErrorCode::Invalid, &["people"]);
    let no_reason = RollCall { reason: None, ..absent(id, "na-ri", "") };
    assert_refused("absent without a reason", api.roll_call(&no_reason).await, ErrorCode::Invalid, &["reason"]);
    let both = RollCall { people: Some(3), ..absent(id, "na-ri", "x") };
    assert_refused("absent with people", api.roll_call(&both).await, ErrorCode::Invalid, &["people"]);
    let unknown = ConferenceId::generate();
    assert_refused(
        "an unknown conference",
        api.roll_call(&present(unknown, "na-ri", 3)).await,
        ErrorCode::NotFound,
        &["no roster"],
    );
    assert_refused(
        "the quorum of an unknown conference",
        api.quorum(unknown).await,
        ErrorCode::NotFound,
        &["no roster"],
    );
    assert_eq!(count(all.clone()).await, before, "nothing written");
    let q = api.quorum(id).await.unwrap();
    assert_eq!((q.quorate, q.present, q.by_roll_call, q.by_check_in), (true, 6, 2, 4));

    // The session moves to the second item: the quorum is recorded again (once per item).
    api.move_agenda(id, 1).await.unwrap();
    until_recorded(recorded, 2, "the quorum at the second item is not recorded yet").await;

    // The end: the roll cannot be called any more; the minutes say what was recorded.
    api.end(id).await.unwrap();
    flow::wait_roster(api, id, hoinghi_shared::api::RosterState::Closed).await.unwrap();
    assert_refused(
        "a roll call after the end",
        api.roll_call(&present(id, "na-ri", 3)).await,
        ErrorCode::Conflict,
        &["has ended"],
    );
    flow::wait_draft(api, id).await.unwrap();
    let published = flow::write_and_publish(api, id).await.unwrap();
    let text = markdown_text(published.markdown.as_deref().unwrap());
    assert!(text.contains("Quy định số lượng tối thiểu: 75% điểm cầu có mặt."), "{text}");
    assert!(
        text.contains("Điểm cầu có mặt: 5/8 — không đủ số lượng theo quy định (75% điểm cầu, cần 6)"),
        "the start: {text}"
    );
    assert!(text.contains("Bắt đầu mục 2"), "the second item: {text}");
    assert!(
        text.contains("Điểm cầu có mặt: 6/8 — đủ số lượng theo quy định (75% điểm cầu, cần 6)"),
        "the second item: {text}"
    );
    let html = api.minutes_html(id).await.unwrap().html.unwrap();
    assert!(html.contains("Điểm cầu có mặt: 6/8 — đủ số lượng theo quy định"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_rule_the_conference_is_always_quorate_and_a_site_cannot_take_the_roll() {
    let (stack, id, ba_be, chair) = secure_session().await;
    let secretariat = &stack.secretariat;

    // A site can neither call the roll (not even its own) nor ask the quorum: the server drops it.
    let body = serde_json::to_vec(&present(id, "ba-be", 10)).unwrap();
    let totals = stack.event_totals().await.unwrap();
    let attempt = ba_be.attempt(attendance::ROLL_CALL, body).await;
    assert!(matches!(attempt, Attempt::Refused(ref report) if report.contains(attendance::ROLL_CALL)), "{attempt:?}");
    let cref = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
    assert!(matches!(ba_be.attempt(attendance::QUORUM, cref).await, Attempt::Refused(_)));
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no event was written");

    // The secretariat calls the roll; the chair asks the quorum: no rule, always quorate.
    let line = eventually(ASYNC_TIMEOUT, || async { secretariat.api.roll_call(&present(id, "ba-be", 10)).await })
        .await
        .unwrap();
    assert_eq!(line.roll_call.unwrap().people, Some(10));
    let q = chair.api.quorum(id).await.unwrap();
    assert!(q.quorate);
    assert_eq!((q.rule, q.required, q.present, q.total), (None, 0, 1, 8));
    assert!(q.note.contains("no quorum rule"), "{}", q.note);
}
