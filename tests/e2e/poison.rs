//! Poison events: an event a reaction cannot process (written by a newer version) is retried with
//! backoff, then parked in `HOINGHI_DEAD_LETTERS` with the reason and an error line in the log; a
//! message that is not an event at all is parked at once, since no retry can help. Neither blocks the
//! events behind it nor disappears.

use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::TryStreamExt;
use hoinghi_shared::events::{EventEnvelope, SchedulingEvent};
use hoinghi_shared::headers::{DEAD_REASON, DEAD_SOURCE, DEAD_SUBJECT};
use hoinghi_shared::streams::{DEAD_LETTERS, SCHEDULING};
use hoinghi_shared::subjects::events;
use hoinghi_shared::ConferenceId;
use hoinghi_tests::{eventually, flow, scenario, Service, Stack, ASYNC_TIMEOUT};

/// The durable consumer through which attendance follows scheduling.
const CONSUMER: &str = "attendance-on-scheduling";

/// A parked message: subject, headers, payload.
type Parked = (String, HeaderMap, Bytes);

async fn parked(js: &async_nats::jetstream::Context) -> Vec<Parked> {
    let Ok(stream) = js.get_stream(DEAD_LETTERS.name).await else { return Vec::new() };
    let last = stream.cached_info().state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let m = stream.get_raw_message(seq).await.unwrap();
        out.push((m.subject.to_string(), m.headers, m.payload));
    }
    out
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).map(|v| v.as_str().to_owned()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_a_reaction_cannot_read_is_retried_then_parked_and_the_events_behind_it_go_through() {
    let mut stack = Stack::start_with(&[Service::Scheduling, Service::Minutes]).await.unwrap();
    let attendance = stack.service_mut(Service::Attendance);
    attendance.set_env("HOINGHI__REACTIONS__MAX_DELIVER", "3");
    attendance.set_env("HOINGHI__REACTIONS__BACKOFF_MS", "50");
    stack.start_service(Service::Attendance).await.unwrap();
    let api = stack.api.clone();
    let js = stack.jetstream();
    let real = flow::schedule(&api).await.unwrap();

    // Written by a newer version: invitations_issued at version 99, with a field this reader lacks.
    let newer_id = ConferenceId::generate();
    let mut newer = EventEnvelope::new(&SchedulingEvent::SessionStarted {}, "secretariat");
    newer.event_type = SchedulingEvent::INVITATIONS_ISSUED.into();
    newer.version = 99;
    newer.conference_id = Some(newer_id);
    newer.set_data(&serde_json::json!({ "details": { "title": "Hội nghị của phiên bản sau" }, "seating_plan": [] }));
    let newer_subject = events::conference(Service::Scheduling, &newer_id, SchedulingEvent::INVITATIONS_ISSUED);
    let newer_bytes = Bytes::from(serde_json::to_vec(&newer).unwrap());
    // Not an event at all.
    let garbage_id = ConferenceId::generate();
    let garbage_subject = events::conference(Service::Scheduling, &garbage_id, SchedulingEvent::INVITATIONS_ISSUED);
    let garbage_bytes = Bytes::from_static(b"\x00\x01 this is not an event envelope {");

    let published = Instant::now();
    let mut sources = Vec::new();
    for (subject, bytes, msg_id) in [
        (&newer_subject, &newer_bytes, format!("poison-newer-{newer_id}")),
        (&garbage_subject, &garbage_bytes, format!("poison-garbage-{garbage_id}")),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id.as_str());
        let ack = js.publish_with_headers(subject.clone(), headers, bytes.clone()).await.unwrap().await.unwrap();
        sources.push(format!("{}:{}", SCHEDULING.name, ack.sequence));
    }
    // A valid event behind them in the same stream, for the same consumer.
    flow::invite(&api, real).await.unwrap();
    let roster_open_after = published.elapsed();

    let dead = eventually(ASYNC_TIMEOUT, || async {
        let dead = parked(&js).await;
        if dead.len() >= 2 {
            Ok(dead)
        } else {
            Err(format!("{} parked so far", dead.len()))
        }
    })
    .await
    .unwrap();
    let parked_after = published.elapsed();
    assert_eq!(dead.len(), 2, "exactly the two poison events are parked");
    let dead_subject = events::dead_letter(CONSUMER);
    for (original_subject, original, source, reason) in [
        (&newer_subject, &newer_bytes, &sources[0], "version 99 is newer than this reader"),
        (&garbage_subject, &garbage_bytes, &sources[1], "not an event envelope"),
    ] {
        // The not-an-event is parked at once, so it may come first: match by the original subject.
        let (subject, headers, payload) = dead
            .iter()
            .find(|(_, headers, _)| header(headers, DEAD_SUBJECT) == *original_subject)
            .unwrap_or_else(|| panic!("{original_subject} is parked"));
        assert_eq!(subject, &dead_subject);
        assert!(header(headers, DEAD_REASON).contains(reason), "{DEAD_REASON}: {:?}", header(headers, DEAD_REASON));
        assert_eq!(&header(headers, DEAD_SOURCE), source, "{DEAD_SOURCE}");
        assert_eq!(&header(headers, DEAD_SUBJECT), original_subject, "{DEAD_SUBJECT}");
        assert_eq!(payload, original, "the parked event is the original, byte for byte");
    }

    // The newer version's event is retried with backoff first (3 deliveries), the garbage is parked
    // at once; each with an error line naming the reason.
    let log = std::fs::read_to_string(stack.service(Service::Attendance).log_path()).unwrap();
    for (subject, retries) in [(&newer_subject, 2), (&garbage_subject, 0)] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(subject.as_str())).collect();
        let retried = lines.iter().filter(|l| l.contains("reaction will be retried")).count();
        let parked = lines.iter().filter(|l| l.contains("event parked in the dead-letter stream")).count();
        assert_eq!((retried, parked), (retries, 1), "{subject}: {retries} retries then parked:\n{}", lines.join("\n"));
        assert!(lines.iter().any(|l| l.contains("ERROR") && l.contains("parked")), "an error line: {lines:?}");
    }
    assert!(log.contains("version 99"), "the log names the reason");

    // The consumer moved on: the roster behind the poison opened, nothing is pending.
    let roster = flow::wait_roster(&api, real, hoinghi_shared::api::RosterState::Open).await.unwrap();
    assert_eq!(roster.counts.invited, scenario::SITES.len());
    stack.wait_for_reactions(ASYNC_TIMEOUT).await.unwrap();
    println!(
        "poison: 2 poison events parked {parked_after:.1?} after publishing; the valid invitation behind them \
         answered after {roster_open_after:.1?}"
    );

    // A restart does not take the parked events up again.
    stack.restart(Service::Attendance).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stack.wait_for_reactions(ASYNC_TIMEOUT).await.unwrap();
    assert_eq!(parked(&js).await.len(), 2, "still two dead letters after a restart");
    let consumer = js.get_stream(SCHEDULING.name).await.unwrap().consumer_info(CONSUMER).await.unwrap();
    assert_eq!((consumer.num_pending, consumer.num_ack_pending), (0, 0));
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    assert!(names.iter().any(|n| n == DEAD_LETTERS.name));
    let scheduling_log = std::fs::read_to_string(stack.service(Service::Scheduling).log_path()).unwrap();
    assert!(
        scheduling_log.contains("skipping an event this version cannot read"),
        "scheduling's own projection skips the unreadable event in its log, with a line saying so"
    );
}
