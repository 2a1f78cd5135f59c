//! Junk in a stream: a message on an aggregate's subject that is not a well-formed event of its
//! service (here written straight into JetStream by the test's unrestricted client, as the
//! reply-subject trick of issue 16 did) freezes no aggregate and no reaction. Each service skips it
//! with an error line, counts it in the write conditions of the aggregates on its subject (so the
//! next command on them succeeds, also after a restart), reactions park it at once, and the audit
//! lists it as `not_an_event` with the time the stream stored it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use hoinghi_shared::api::{AuditTrail, ConferenceStatus, PageQuery};
use hoinghi_shared::events::{AttendanceEvent, MinutesEvent, SchedulingEvent};
use hoinghi_shared::headers::{DEAD_REASON, DEAD_SUBJECT};
use hoinghi_shared::streams::DEAD_LETTERS;
use hoinghi_shared::subjects::{events, scheduling};
use hoinghi_shared::ConferenceId;
use hoinghi_tests::{flow, scenario, Service, Stack, ASYNC_TIMEOUT};

/// The durable consumer through which minutes follows the roster closing.
const ROSTER_CLOSED_CONSUMER: &str = "minutes-on-roster-closed";

/// Publishes `payload` straight into the stream on `subject`; returns its sequence.
async fn junk(js: &async_nats::jetstream::Context, subject: &str, payload: Vec<u8>) -> u64 {
    js.publish(subject.to_owned(), Bytes::from(payload)).await.unwrap().await.unwrap().sequence
}

fn log(stack: &Stack, service: Service) -> String {
    std::fs::read_to_string(stack.service(service).log_path()).unwrap()
}

/// The lines of a log that report `subject`'s message at `seq` as not an event.
fn reported(log: &str, subject: &str, seq: u64) -> usize {
    log.lines()
        .filter(|l| l.contains("ERROR") && l.contains("is not an event") && l.contains(subject))
        .filter(|l| l.contains(&format!("seq={seq} ")) || l.contains(&format!("seq={seq}\n")))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_on_the_aggregates_subjects_freezes_nothing_and_the_conference_still_ends_with_published_minutes() {
    let mut stack = Stack::start().await.unwrap();
    let api = stack.api.clone();
    let js = stack.jetstream();
    let begun = Utc::now();
    let id: ConferenceId = flow::schedule(&api).await.unwrap();
    // What the reply-subject trick stored: a reply's JSON (here the conference view).
    let view = serde_json::to_vec(&api.conference(id).await.unwrap()).unwrap();
    let site = scenario::site("ba-be");

    // Scheduling: junk on the conference's subject, then the next command on it.
    let s1_subject = events::conference(Service::Scheduling, &id, SchedulingEvent::SESSION_STARTED);
    let s1 = junk(&js, &s1_subject, view.clone()).await;
    // Attendance: junk on the roster-close fence before the roster even exists.
    let fence = events::conference(Service::Attendance, &id, AttendanceEvent::ROSTER_CLOSED);
    let a1 = junk(&js, &fence, view.clone()).await;
    flow::invite(&api, id).await.expect("invite after junk on the conference's subject (was 409 forever)");
    // Attendance: junk on a site's subject, then that site answers.
    let a2_subject = events::conference_site(Service::Attendance, &id, &site, AttendanceEvent::SITE_CHECKED_IN);
    let a2 = junk(&js, &a2_subject, br#"{"site_id":"ba-be","status":"checked_in"}"#.to_vec()).await;
    flow::answer_all(&api, id).await.expect("every site answers, ba-be after junk on its subject");

    // A restart replays the junk: no freeze comes back.
    stack.restart(Service::Scheduling).await.unwrap();
    stack.restart(Service::Attendance).await.unwrap();
    api.start(id).await.expect("start after a restart of scheduling");
    flow::check_in_present(&api, id).await.expect("check-ins after a restart of attendance, ba-be's too");

    // Junk on the subject the minutes' reaction consumes, right before the real roster_closed.
    let a3 = junk(&js, &fence, b"\x00 not json".to_vec()).await;
    let ended = Instant::now();
    api.end(id).await.expect("end");
    flow::wait_draft_within(&api, id, Duration::from_secs(5)).await.expect("a draft promptly");
    let drafted_after = ended.elapsed();

    // Minutes: junk on the minutes' subject, then record; restart; then the rest.
    let m1_subject = events::conference(Service::Minutes, &id, MinutesEvent::ITEM_RECORDED);
    let m1 = junk(&js, &m1_subject, view.clone()).await;
    let first = scenario::records(id).remove(0);
    flow::minute_taker(&api).record(&first).await.expect("record after junk on the minutes' subject");
    stack.restart(Service::Minutes).await.unwrap();
    let published = flow::write_and_publish(&api, id).await.expect("the minutes are published after a restart");
    assert!(published.markdown.is_some());
    flow::wait_status(&api, id, ConferenceStatus::Closed).await.expect("the conference closes");
    stack.wait_for_reactions(ASYNC_TIMEOUT).await.unwrap();

    // Each service reported its junk as not an event (once per message and per run: the restarted
    // ones again when replaying).
    let scheduling_log = log(&stack, Service::Scheduling);
    let attendance_log = log(&stack, Service::Attendance);
    let minutes_log = log(&stack, Service::Minutes);
    assert_eq!(reported(&scheduling_log, &s1_subject, s1), 2, "scheduling: before and after its restart");
    assert_eq!(reported(&attendance_log, &fence, a1), 2, "attendance: the fence junk, before and after");
    assert_eq!(reported(&attendance_log, &a2_subject, a2), 2, "attendance: the site junk, before and after");
    assert_eq!(reported(&attendance_log, &fence, a3), 1, "attendance: the junk after the restart");
    assert_eq!(reported(&minutes_log, &m1_subject, m1), 2, "minutes: before and after its restart");
    assert!(!scheduling_log.contains("too many concurrent changes"));

    // The reaction parked the two junk messages on roster_closed at once, without a retry.
    let dead = js.get_stream(DEAD_LETTERS.name).await.unwrap();
    let last = dead.cached_info().state.last_sequence;
    let mut parked = Vec::new();
    for seq in 1..=last {
        let m = dead.get_raw_message(seq).await.unwrap();
        let header = |name: &str| m.headers.get(name).map(|v| v.as_str().to_owned()).unwrap_or_default();
        parked.push((m.subject.to_string(), header(DEAD_SUBJECT), header(DEAD_REASON)));
    }
    // Each junk message is parked once by every reaction that follows its subject: the two on the
    // fence by the minutes (draft) and by the attendance reminders, the one on session_started by
    // attendance (which closes the technical check at the start).
    for (subject, _, reason) in &parked {
        assert!(reason.starts_with("not an event: "), "{subject}: {reason}");
    }
    let by = |consumer: &str| {
        parked.iter().filter(|(subject, _, _)| *subject == events::dead_letter(consumer)).collect::<Vec<_>>()
    };
    let drafts = by(ROSTER_CLOSED_CONSUMER);
    assert_eq!(drafts.len(), 2, "the two junk messages on the fence, parked by the minutes: {parked:?}");
    assert!(drafts.iter().all(|(_, source, _)| source == &fence), "{drafts:?}");
    assert_eq!(by("attendance-reminders").len(), 2, "{parked:?}");
    assert_eq!(by("attendance-on-scheduling").len(), 1, "{parked:?}");
    assert_eq!(parked.len(), 5, "nothing else is parked: {parked:?}");
    let retried = minutes_log.lines().filter(|l| l.contains("reaction will be retried")).count();
    assert_eq!(retried, 0, "junk is not retried");
    let parked_lines = minutes_log
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("parked") && l.contains("not an event"))
        .count();
    assert_eq!(parked_lines, 2);

    // The audit lists the junk as not an event, with the time the stream stored it.
    let trail: AuditTrail = api.request(scheduling::AUDIT, &PageQuery::first(id)).await.unwrap();
    let junk_entries: Vec<_> = trail.entries.iter().filter(|e| e.event_type == "not_an_event").collect();
    let mut seqs: Vec<(String, u64)> = junk_entries.iter().map(|e| (e.stream.clone(), e.seq)).collect();
    seqs.sort();
    let mut expected = vec![
        ("HOINGHI_ATTENDANCE".to_owned(), a1),
        ("HOINGHI_ATTENDANCE".to_owned(), a2),
        ("HOINGHI_ATTENDANCE".to_owned(), a3),
        ("HOINGHI_MINUTES".to_owned(), m1),
        ("HOINGHI_SCHEDULING".to_owned(), s1),
    ];
    expected.sort();
    assert_eq!(seqs, expected);
    let now = Utc::now();
    for entry in junk_entries {
        assert_eq!(entry.actor, "unknown");
        assert!(entry.occurred_at >= begun - chrono::Duration::seconds(5) && entry.occurred_at <= now, "{entry:?}");
    }
    println!(
        "junk: 5 junk messages on 4 aggregates' subjects and a reaction's; every next command succeeded, also \
         after restarts; the draft opened {drafted_after:.1?} after `end`, behind junk parked at once"
    );
}
