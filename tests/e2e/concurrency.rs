//! Conflicting commands at the same moment, served by two instances of each service (queue groups):
//! every reply is a success or a 409, and the event log never holds two events that contradict each
//! other. The log is read back from JetStream and replayed against the life-cycle rules.

use std::collections::HashMap;
use std::sync::Arc;

use hoinghi_shared::api::{
    AttendanceStatus, ConferenceRef, ConferenceStatus, ConferenceView, ConfirmAttendance, DeclineAttendance, Person,
    RosterState,
};
use hoinghi_shared::events::{AttendanceEvent, SchedulingEvent};
use hoinghi_shared::subjects::{attendance, events, scheduling};
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode};
use hoinghi_tests::bulk::{self, StoredEvent};
use hoinghi_tests::{eventually, flow, scenario, Api, RawReply, Service};
use tokio::sync::Barrier;

use crate::common::two_of_each;

/// Sends every `(label, subject, body)` at the same moment (behind a barrier), each from its own task.
async fn all_at_once(api: &Api, requests: Vec<(String, String, Vec<u8>)>) -> Vec<(String, Result<RawReply, ApiError>)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(label, subject, body)| {
            let (api, barrier) = (api.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                (label, api.raw(&subject, body, None).await)
            })
        })
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    replies
}

/// Checks that every reply is a success or a 409 with a message; returns the successful ones.
#[track_caller]
fn successes_or_conflicts(replies: &[(String, Result<RawReply, ApiError>)]) -> Vec<(String, RawReply)> {
    let mut ok = Vec::new();
    for (label, reply) in replies {
        let reply = reply.as_ref().unwrap_or_else(|e| panic!("{label}: no reply: {e}"));
        match reply.api_error() {
            None => ok.push((label.clone(), reply.clone())),
            Some(e) if e.code == ErrorCode::Conflict && !e.message.trim().is_empty() => {}
            Some(e) => panic!("{label}: expected a success or a 409, got {e:?}"),
        }
    }
    ok
}

/// Replays a conference's scheduling events against its life cycle; returns the status they lead
/// to, or panics naming the first event that does not follow from the ones before.
#[track_caller]
fn replay_life_cycle(id: ConferenceId, history: &[StoredEvent]) -> ConferenceStatus {
    use ConferenceStatus as S;
    let mut status = None;
    for e in history {
        let next = match (status, e.event_type()) {
            (None, SchedulingEvent::CONFERENCE_SCHEDULED) => S::Scheduled,
            (Some(S::Scheduled), SchedulingEvent::INVITATIONS_ISSUED) => S::Invited,
            (Some(S::Invited), SchedulingEvent::SESSION_STARTED) => S::InSession,
            (Some(S::Scheduled), SchedulingEvent::CONFERENCE_CANCELLED)
            | (Some(S::Invited), SchedulingEvent::CONFERENCE_CANCELLED) => {
                let was_invited = e.envelope.data_value()["was_invited"].as_bool();
                assert_eq!(was_invited, Some(status == Some(S::Invited)), "{id}: was_invited of {:?}", e.envelope);
                S::Cancelled
            }
            (from, event) => {
                let types: Vec<&str> = history.iter().map(StoredEvent::event_type).collect();
                panic!("{id}: {event} (seq {}) cannot follow {from:?}; the log holds {types:?}", e.seq)
            }
        };
        status = Some(next);
    }
    status.unwrap_or_else(|| panic!("{id}: no events"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_cancel_and_start_racing_on_one_conference_leave_one_consistent_history() {
    let (stack, _second) = two_of_each().await;
    let api = stack.api.clone();
    flow::register_sites(&api).await.unwrap();
    let js = stack.jetstream();
    let mut outcomes: HashMap<ConferenceStatus, usize> = HashMap::new();
    for round in 0..6 {
        let id = api.create(&scenario::create_conference()).await.unwrap().id;
        // Half the rounds race from "scheduled" (invite against cancel, start refused), half from
        // "invited" (cancel against start, the pair that must never both win).
        if round % 2 == 1 {
            flow::invite(&api, id).await.unwrap();
        }
        let body = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
        let cancel = serde_json::to_vec(&serde_json::json!({"conference_id": id, "reason": "Mưa lũ"})).unwrap();
        let mut requests = Vec::new();
        for i in 0..8 {
            requests.push((format!("invite {i}"), scheduling::INVITE.to_owned(), body.clone()));
            requests.push((format!("cancel {i}"), scheduling::CANCEL.to_owned(), cancel.clone()));
            requests.push((format!("start {i}"), scheduling::START.to_owned(), body.clone()));
        }
        let replies = all_at_once(&api, requests).await;
        let ok = successes_or_conflicts(&replies);

        let history = bulk::read_events(
            &js,
            Service::Scheduling.stream().name,
            &events::conference_filter(Service::Scheduling, &id),
        )
        .await
        .unwrap();
        let status = replay_life_cycle(id, &history);
        let count = |t: &str| history.iter().filter(|e| e.event_type() == t).count();
        assert!(count(SchedulingEvent::INVITATIONS_ISSUED) <= 1, "{id}: invitations issued more than once");
        let won = |kind: &str| ok.iter().filter(|(l, _)| l.starts_with(kind)).count();
        assert!(won("cancel") == 0 || won("start") == 0, "{id}: both a cancel and a start succeeded: {ok:?}");
        assert_eq!(won("cancel") > 0, status == ConferenceStatus::Cancelled, "{id}: cancel replies vs the log");
        assert_eq!(won("start") > 0, status == ConferenceStatus::InSession, "{id}: start replies vs the log");
        for (label, reply) in &ok {
            let view: ConferenceView = reply.json().unwrap();
            let expected = match label.split(' ').next() {
                Some("cancel") => ConferenceStatus::Cancelled,
                Some("start") => ConferenceStatus::InSession,
                _ => continue,
            };
            assert_eq!(view.status, expected, "{id}: {label} answered {:?}", view.status);
        }
        assert_eq!(api.conference(id).await.unwrap().status, status, "{id}: get agrees with the log");

        // Attendance followed exactly once: one roster if invitations went out, cancelled with them.
        if count(SchedulingEvent::INVITATIONS_ISSUED) == 1 {
            let expected =
                if status == ConferenceStatus::Cancelled { RosterState::Cancelled } else { RosterState::Open };
            flow::wait_roster(&api, id, expected).await.unwrap();
            let opened = events::conference(Service::Attendance, &id, AttendanceEvent::ROSTER_OPENED);
            assert_eq!(
                stack.count_events(Service::Attendance.stream().name, &opened).await.unwrap(),
                1,
                "{id}: one roster"
            );
        } else {
            assert!(api.roster(id).await.is_err_and(|e| e.code == ErrorCode::NotFound), "{id}: no roster");
        }
        *outcomes.entry(status).or_default() += 1;
    }
    println!("concurrency: outcomes of 6 races of 24 commands: {outcomes:?}");
    stack.wait_for_reactions(hoinghi_tests::ASYNC_TIMEOUT).await.unwrap();
    assert_eq!(stack.dead_letters().await.unwrap(), 0);
}

/// What a site's command asked for, to find it again among the events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Asked {
    Confirm(u32),
    Decline(String),
    CheckIn,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_racing_for_one_site_leave_its_line_at_the_last_event() {
    let (stack, _second) = two_of_each().await;
    let api = stack.api.clone();
    let id = flow::invited(&api).await.unwrap();
    let js = stack.jetstream();
    let delegates =
        vec![Person { name: "Triệu Văn Hải".into(), title: "Trưởng Ban Dân vận Huyện ủy".into() }];

    // Three sites at once, each with 12 confirmations (distinct headcounts) and 12 refusals
    // (distinct reasons); the third also checks in 4 times, after which it may no longer decline.
    let sites = [scenario::site("ba-be"), scenario::site("cho-don"), scenario::site("na-ri")];
    let mut requests = Vec::new();
    let mut asked: HashMap<String, Asked> = HashMap::new();
    for (n, site) in sites.iter().enumerate() {
        let mut ask = |label: String, what: Asked, action: &str, body: Vec<u8>| {
            asked.insert(label.clone(), what);
            requests.push((label, attendance::site_command(site, action), body));
        };
        for i in 0..12u32 {
            let headcount = 10 + i;
            let confirm = ConfirmAttendance { conference_id: id, delegates: delegates.clone(), headcount };
            let body = serde_json::to_vec(&confirm).unwrap();
            ask(format!("{site} confirm {headcount}"), Asked::Confirm(headcount), attendance::CONFIRM, body);
            let reason = format!("Lý do số {i}");
            let decline = DeclineAttendance { conference_id: id, reason: reason.clone() };
            let body = serde_json::to_vec(&decline).unwrap();
            ask(format!("{site} decline {i}"), Asked::Decline(reason), attendance::DECLINE, body);
        }
        if n == 2 {
            let body = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
            for i in 0..4 {
                ask(format!("{site} check_in {i}"), Asked::CheckIn, attendance::CHECK_IN, body.clone());
            }
        }
    }
    let total = requests.len();
    let replies = all_at_once(&api, requests).await;
    let ok = successes_or_conflicts(&replies);
    let roster = api.roster(id).await.unwrap();

    for site in &sites {
        let prefix = format!("{site} ");
        let history = bulk::read_events(
            &js,
            Service::Attendance.stream().name,
            &events::conference_site_filter(Service::Attendance, &id, site),
        )
        .await
        .unwrap();
        let written: Vec<Asked> = history
            .iter()
            .map(|e| match e.event_type() {
                AttendanceEvent::ATTENDANCE_CONFIRMED => {
                    Asked::Confirm(e.envelope.data_value()["headcount"].as_u64().unwrap() as u32)
                }
                AttendanceEvent::ATTENDANCE_DECLINED => {
                    Asked::Decline(e.envelope.data_value()["reason"].as_str().unwrap().to_owned())
                }
                AttendanceEvent::SITE_CHECKED_IN => Asked::CheckIn,
                other => panic!("{site}: unexpected {other}"),
            })
            .collect();
        // Each successful answer wrote exactly one event, and each event comes from a success.
        let mut answered: Vec<Asked> = ok
            .iter()
            .filter(|(l, _)| l.starts_with(&prefix))
            .map(|(l, _)| asked[l].clone())
            .filter(|a| *a != Asked::CheckIn)
            .collect();
        let mut answers_written: Vec<Asked> = written.iter().filter(|a| **a != Asked::CheckIn).cloned().collect();
        answered.sort_by_key(|a| format!("{a:?}"));
        answers_written.sort_by_key(|a| format!("{a:?}"));
        assert_eq!(answered, answers_written, "{site}: successful answers vs the events written");
        // Never declined once checked in; checked in at most once.
        let check_ins = written.iter().filter(|a| **a == Asked::CheckIn).count();
        assert!(check_ins <= 1, "{site}: checked in {check_ins} times");
        if let Some(at) = written.iter().position(|a| *a == Asked::CheckIn) {
            let late: Vec<&Asked> = written[at..].iter().filter(|a| matches!(a, Asked::Decline(_))).collect();
            assert!(late.is_empty(), "{site}: declined after checking in: {late:?}");
        }
        // The roster line is what the last answer in stream order says.
        let line = roster.sites.iter().find(|l| l.site_id == *site).unwrap();
        match written.iter().rev().find(|a| **a != Asked::CheckIn) {
            Some(Asked::Confirm(headcount)) => {
                assert_eq!(line.headcount, *headcount, "{site}: headcount of the last confirmation");
                assert_eq!(line.delegates, delegates);
                assert_eq!(line.decline_reason, None);
            }
            Some(Asked::Decline(reason)) => {
                assert_eq!(line.decline_reason.as_deref(), Some(reason.as_str()), "{site}: the last reason");
                assert_eq!(line.headcount, 0);
            }
            _ => assert!(check_ins == 1 || written.is_empty(), "{site}: nothing but check-ins"),
        }
        let expected_status = match (check_ins, written.iter().rev().find(|a| **a != Asked::CheckIn)) {
            (1, _) => AttendanceStatus::CheckedIn,
            (_, Some(Asked::Confirm(_))) => AttendanceStatus::Confirmed,
            (_, Some(Asked::Decline(_))) => AttendanceStatus::Declined,
            _ => AttendanceStatus::Invited,
        };
        assert_eq!(line.status, expected_status, "{site}: status");
        println!(
            "concurrency: {site}: {} of its commands succeeded, {} events written",
            ok.iter().filter(|(l, _)| l.starts_with(&prefix)).count(),
            history.len()
        );
    }
    println!("concurrency: {total} answers sent at once, {} succeeded, the rest 409", ok.len());

    // Another instance answers the same: both projections hold the same roster.
    eventually(hoinghi_tests::ASYNC_TIMEOUT, || async {
        for _ in 0..6 {
            let again = api.roster(id).await.map_err(|e| e.to_string())?;
            if again != roster {
                return Err("an instance disagrees".to_owned());
            }
        }
        Ok(())
    })
    .await
    .unwrap();
}
