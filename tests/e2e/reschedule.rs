//! Moving a conference: the Bắc Kạn conference, held the day after tomorrow, is moved by one hour
//! because of a storm, then by two with every site asked to answer again; each site's line shows
//! whether it has seen the current schedule and whether its answer predates it; refusals change
//! nothing; the conference then runs to published minutes.

use chrono::{Duration, FixedOffset, Utc};
use hoinghi_shared::api::{
    AttendanceStatus, ConferenceStatus, CreateConference, RescheduleConference, Roster, RosterCounts, RosterState,
    SiteAttendance,
};
use hoinghi_shared::subjects::{attendance, scheduling};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::scenario::{self, Answer};
use hoinghi_tests::secure::Attempt;
use hoinghi_tests::{eventually, flow, Api, Stack, ASYNC_TIMEOUT};

use crate::common::{assert_refused, secure_stack, stack};

const STORM: &str = "Bão số 3 gây mưa lớn, sạt lở trên tuyến đường đến các điểm cầu; lùi 1 giờ";
const AGAIN: &str = "Lũ quét tại Ba Bể và Pác Nặm; lùi thêm 1 giờ, đề nghị các đơn vị xác nhận lại";

/// Vietnam time.
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap()
}

/// The Bắc Kạn conference, on the day after tomorrow at the same hours (08:00-11:30, UTC+7): a
/// conference in the future, which can be moved.
fn future_conference() -> CreateConference {
    let mut c = scenario::create_conference();
    let day = (Utc::now().with_timezone(&vietnam()) + Duration::days(2)).date_naive();
    let starts = day.and_hms_opt(8, 0, 0).unwrap().and_local_timezone(vietnam()).unwrap();
    c.ends_at = starts + (c.ends_at - c.starts_at);
    c.starts_at = starts;
    c
}

/// Registers the sites and schedules [`future_conference`], not invited yet: the request and its id.
async fn scheduled_ahead(api: &Api) -> (CreateConference, ConferenceId) {
    flow::register_sites(api).await.unwrap();
    let planned = future_conference();
    let id = api.create(&planned).await.unwrap().id;
    (planned, id)
}

fn moved(id: ConferenceId, from: &CreateConference, hours: i64, reason: &str, reanswer: bool) -> RescheduleConference {
    RescheduleConference {
        conference_id: id,
        starts_at: from.starts_at + Duration::hours(hours),
        ends_at: from.ends_at + Duration::hours(hours),
        reason: reason.into(),
        reanswer,
    }
}

/// Polls until the roster holds the schedule `sequence`.
async fn wait_schedule(api: &Api, id: ConferenceId, sequence: u32) -> Roster {
    eventually(ASYNC_TIMEOUT, || async {
        let roster = api.roster(id).await.map_err(|e| e.to_string())?;
        match &roster.schedule {
            Some(s) if s.sequence == sequence => Ok(roster),
            other => Err(format!("schedule {:?}", other.as_ref().map(|s| s.sequence))),
        }
    })
    .await
    .unwrap()
}

fn line<'r>(roster: &'r Roster, site: &str) -> &'r SiteAttendance {
    roster.sites.iter().find(|s| s.site_id.as_str() == site).unwrap()
}

/// The counts and every stream's size: a refusal changes none of them.
async fn snapshot(stack: &Stack, id: ConferenceId) -> (String, Roster, [u64; 3]) {
    let conference = serde_json::to_string(&stack.api.conference(id).await.unwrap()).unwrap();
    (conference, stack.api.roster(id).await.unwrap(), stack.event_totals().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bac_kan_conference_is_moved_by_a_storm_and_runs_to_published_minutes() {
    let stack = stack().await;
    let api = &stack.api;
    let (planned, id) = scheduled_ahead(api).await;
    let invited = api.invite(id).await.unwrap();
    assert_eq!(invited.schedule_sequence, 0, "the invitations announce schedule 0");
    let roster = flow::wait_roster(api, id, RosterState::Open).await.unwrap();
    assert_eq!(roster.schedule.as_ref().map(|s| (s.sequence, s.starts_at)), Some((0, planned.starts_at)));

    // Six sites confirm, Ngân Sơn declines, Pác Nặm is silent.
    flow::answer_all(api, id).await.unwrap();
    let answered = RosterCounts { invited: 8, confirmed: 6, declined: 1, no_answer: 1, checked_in: 0 };
    assert_eq!(api.roster(id).await.unwrap().counts, answered);

    // Bad new times are refused with what to fix, and change nothing.
    let before = snapshot(&stack, id).await;
    let mut past = moved(id, &planned, 0, STORM, false);
    past.starts_at = (Utc::now() - Duration::hours(1)).with_timezone(&vietnam());
    past.ends_at = past.starts_at + Duration::hours(3);
    assert_refused("a time in the past", api.reschedule(&past).await, ErrorCode::Invalid, &["not in the future"]);
    let mut backwards = moved(id, &planned, 1, STORM, false);
    backwards.ends_at = backwards.starts_at - Duration::minutes(30);
    assert_refused("end before start", api.reschedule(&backwards).await, ErrorCode::Invalid, &["must be after"]);
    let same = moved(id, &planned, 0, STORM, false);
    assert_refused("the same time", api.reschedule(&same).await, ErrorCode::Invalid, &["already scheduled"]);
    let no_reason = moved(id, &planned, 1, " ", false);
    assert_refused("no reason", api.reschedule(&no_reason).await, ErrorCode::Invalid, &["reason"]);
    let unknown = moved(ConferenceId::generate(), &planned, 1, STORM, false);
    assert_refused("an unknown conference", api.reschedule(&unknown).await, ErrorCode::NotFound, &[]);
    assert_eq!(snapshot(&stack, id).await, before, "refusals change nothing");

    // The storm: one hour later. Schedule 1; the answers are kept but given before the change, and
    // no site has seen the new schedule yet.
    let first = moved(id, &planned, 1, STORM, false);
    let view = api.reschedule(&first).await.unwrap();
    assert_eq!((view.status, view.schedule_sequence), (ConferenceStatus::Invited, 1));
    assert_eq!((view.starts_at, view.ends_at), (first.starts_at, first.ends_at));
    assert_eq!(api.conference(id).await.unwrap(), view, "get answers what reschedule answered");
    let roster = wait_schedule(api, id, 1).await;
    assert_eq!(roster.counts, answered, "answers are kept by default");
    let schedule = roster.schedule.clone().unwrap();
    assert_eq!((schedule.starts_at, schedule.ends_at), (first.starts_at, first.ends_at));
    assert_eq!((schedule.reason.as_deref(), schedule.reanswer), (Some(STORM), false));
    assert_eq!((schedule.seen, schedule.answered_before_change), (0, 7));
    for (site, answer) in scenario::answers() {
        let l = line(&roster, site.as_str());
        assert!(!l.seen_current_schedule, "{site} has not seen schedule 1");
        match answer {
            Answer::Silent => assert!(!l.answered_before_change && l.answer_sequence.is_none(), "{site}"),
            _ => {
                assert!(l.answered_before_change, "{site} answered before the change");
                assert_eq!((l.answer_sequence, l.seen_sequence), (Some(0), Some(0)), "{site}");
            }
        }
    }

    // Ba Bể acknowledges the new schedule; an old sequence is 409, a site not invited 403.
    let ba_be = scenario::site("ba-be");
    let stale = api.schedule_seen(&ba_be, id, 0).await;
    assert_refused("acknowledging an old schedule", stale, ErrorCode::Conflict, &["sequence 1"]);
    let seen = api.schedule_seen(&ba_be, id, 1).await.unwrap();
    assert!(seen.seen_current_schedule && seen.answered_before_change);
    assert_eq!((seen.seen_sequence, seen.status), (Some(1), AttendanceStatus::Confirmed));
    let totals = stack.event_totals().await.unwrap();
    assert_eq!(api.schedule_seen(&ba_be, id, 1).await.unwrap(), seen, "acknowledging again changes nothing");
    assert_eq!(stack.event_totals().await.unwrap(), totals);
    let host = scenario::host();
    assert_refused("a site not invited", api.schedule_seen(&host, id, 1).await, ErrorCode::Forbidden, &[]);
    let roster = api.roster(id).await.unwrap();
    assert_eq!(roster.schedule.as_ref().map(|s| s.seen), Some(1));

    // Flash floods: one more hour, and every site must answer again. Schedule 2; every answer is
    // cleared back to "no answer", the previous one kept on the line.
    let second = moved(id, &planned, 2, AGAIN, true);
    assert_eq!(api.reschedule(&second).await.unwrap().schedule_sequence, 2);
    let roster = wait_schedule(api, id, 2).await;
    assert_eq!(roster.counts, RosterCounts { invited: 8, confirmed: 0, declined: 0, no_answer: 8, checked_in: 0 });
    let schedule = roster.schedule.clone().unwrap();
    assert_eq!((schedule.reanswer, schedule.seen, schedule.answered_before_change), (true, 0, 0));
    let previous = line(&roster, "ba-be").previous_answer.clone().expect("Ba Bể's previous answer");
    assert_eq!((previous.status, previous.answer_sequence), (AttendanceStatus::Confirmed, Some(0)));
    let Some((_, Answer::Confirm { delegates, headcount, .. })) =
        scenario::answers().into_iter().find(|(s, _)| *s == ba_be)
    else {
        panic!("Ba Bể confirms in the scenario")
    };
    assert_eq!((previous.delegates, previous.headcount), (delegates, headcount));
    let declined = line(&roster, scenario::DECLINING_SITE).previous_answer.clone().unwrap();
    assert_eq!(declined.decline_reason.as_deref(), Some(scenario::DECLINE_REASON));
    assert!(line(&roster, scenario::SILENT_SITE).previous_answer.is_none());
    assert!(roster.sites.iter().all(|l| l.status == AttendanceStatus::Invited && !l.seen_current_schedule));

    // The sites answer again: under schedule 2, seen, their previous answers still shown.
    flow::answer_all(api, id).await.unwrap();
    let roster = api.roster(id).await.unwrap();
    assert_eq!(roster.counts, answered);
    let l = line(&roster, "ba-be");
    assert!(l.seen_current_schedule && !l.answered_before_change && l.previous_answer.is_some());
    assert_eq!(l.answer_sequence, Some(2));
    assert_eq!(roster.schedule.as_ref().map(|s| s.seen), Some(7));

    // The session starts: no more moves (409), whatever the time asked for; nothing changes.
    flow::hold_session(api, id).await.unwrap();
    let before = snapshot(&stack, id).await;
    let late = moved(id, &planned, 3, STORM, false);
    assert_refused("moving a session in progress", api.reschedule(&late).await, ErrorCode::Conflict, &["in progress"]);
    assert_refused("moving it into the past", api.reschedule(&past).await, ErrorCode::Conflict, &["in progress"]);
    assert_eq!(snapshot(&stack, id).await, before, "refusals change nothing");

    // It ends and runs to published minutes, which carry the time it was held.
    api.end(id).await.unwrap();
    let draft = flow::wait_draft(api, id).await.unwrap();
    assert_eq!((draft.starts_at, draft.ends_at), (second.starts_at, second.ends_at));
    assert_refused("moving an ended conference", api.reschedule(&late).await, ErrorCode::Conflict, &["ended"]);
    let published = flow::write_and_publish(api, id).await.unwrap();
    let closed = flow::wait_status(api, id, ConferenceStatus::Closed).await.unwrap();
    assert_eq!(closed.minutes_sha256, published.sha256);
    assert_eq!(closed.schedule_sequence, 2);
    assert_refused("moving a closed conference", api.reschedule(&late).await, ErrorCode::Conflict, &["closed"]);
    assert_eq!(stack.dead_letters().await.unwrap(), 0, "no event was parked as a dead letter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conference_not_yet_invited_just_takes_the_new_time_and_a_cancelled_one_cannot_move() {
    let stack = stack().await;
    let api = &stack.api;
    let (planned, id) = scheduled_ahead(api).await;
    // Moved before the invitations: no site was told anything, the sequence stays 0.
    let view = api.reschedule(&moved(id, &planned, 1, STORM, true)).await.unwrap();
    assert_eq!((view.status, view.schedule_sequence), (ConferenceStatus::Scheduled, 0));
    assert_eq!(view.starts_at, planned.starts_at + Duration::hours(1));
    // The invitations announce the new time.
    api.invite(id).await.unwrap();
    let roster = flow::wait_roster(api, id, RosterState::Open).await.unwrap();
    let schedule = roster.schedule.unwrap();
    assert_eq!((schedule.sequence, schedule.starts_at), (0, planned.starts_at + Duration::hours(1)));
    // Cancelled: 409, nothing changes.
    api.cancel(id, "Hoãn theo chỉ đạo của Thường trực Tỉnh ủy").await.unwrap();
    flow::wait_roster(api, id, RosterState::Cancelled).await.unwrap();
    let totals = stack.event_totals().await.unwrap();
    let again = api.reschedule(&moved(id, &planned, 2, STORM, false)).await;
    assert_refused("moving a cancelled conference", again, ErrorCode::Conflict, &["cancelled"]);
    let ba_be = scenario::site("ba-be");
    let seen = api.schedule_seen(&ba_be, id, 0).await;
    assert_refused("acknowledging for a cancelled conference", seen, ErrorCode::Conflict, &["cancelled"]);
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no event written by refused commands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_secretariat_moves_a_conference_and_a_site_acknowledges_only_for_itself() {
    let stack = secure_stack().await;
    let secretariat = &stack.secretariat.api;
    let (planned, id) = scheduled_ahead(secretariat).await;
    flow::invite(secretariat, id).await.unwrap();
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let chair = stack.connect(&format!("person-{}", scenario::CHAIR_PERSONS[0])).await.unwrap();
    let body = serde_json::to_vec(&moved(id, &planned, 1, STORM, false)).unwrap();
    for who in [&ba_be, &chair] {
        let attempt = who.attempt(scheduling::RESCHEDULE, body.clone()).await;
        assert!(matches!(attempt, Attempt::Refused(_)), "{}: {attempt:?}", who.identity);
    }
    assert_eq!(secretariat.conference(id).await.unwrap().schedule_sequence, 0, "not moved");
    secretariat.reschedule(&moved(id, &planned, 1, STORM, false)).await.unwrap();
    wait_schedule(secretariat, id, 1).await;
    // Ba Bể acknowledges for itself, and cannot for Na Rì.
    let na_ri: SiteId = scenario::site("na-ri");
    let seen = serde_json::to_vec(&serde_json::json!({"conference_id": id, "sequence": 1})).unwrap();
    let attempt = ba_be.attempt(&attendance::site_command(&na_ri, attendance::SCHEDULE_SEEN), seen).await;
    assert!(matches!(attempt, Attempt::Refused(_)), "{attempt:?}");
    let own = ba_be.api.schedule_seen(&scenario::site("ba-be"), id, 1).await.unwrap();
    assert!(own.seen_current_schedule);
    let roster = secretariat.roster(id).await.unwrap();
    assert!(!line(&roster, "na-ri").seen_current_schedule);
    assert_eq!(roster.schedule.map(|s| s.seen), Some(1));
}
