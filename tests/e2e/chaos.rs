//! Crash anywhere, lose nothing: a few hundred sites confirm and check in, each command retried with
//! its idempotency key on a timeout, "no responders" or 503, while each service in turn is
//! SIGKILLed and restarted and the nats-server itself is restarted (gracefully, then with SIGKILL)
//! on the same store. Every acknowledged command must have its effect exactly once.
//!
//! The figures are printed; see them with
//! `cargo test -p hoinghi-tests --test e2e chaos -- --nocapture`.

use std::time::{Duration, Instant};

use hoinghi_shared::api::{AttendanceStatus, ConferenceRef, RosterState, SiteAttendance};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::{attendance, events, scheduling};
use hoinghi_tests::bulk::{self, PacedLoad, RetryingClient};
use hoinghi_tests::{flow, Api, Service, REDELIVERY_TIMEOUT};

use crate::common::{assert_attendance_matches_roster, drafts_opened, stack, stack_at};

/// A new site starts its commands this often.
const PACE: Duration = Duration::from_millis(25);
/// How long a killed service or server stays down before it is started again.
const DOWN: Duration = Duration::from_millis(400);

#[derive(Debug, Clone, Copy)]
enum Fault {
    Kill(Service),
    RestartServer,
    KillServer,
}

/// 300 sites, 600 commands, 7 faults: each service killed, the server restarted and killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_acknowledged_through_kills_and_server_restarts_take_effect_exactly_once() {
    chaos(300, 1).await;
}

/// The soak: `HOINGHI_CHAOS_SITES` sites (default 3,000) and `HOINGHI_CHAOS_ROUNDS` rounds of the 7
/// faults (default 10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: run with --include-ignored"]
async fn chaos_soak() {
    let var = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    chaos(var("HOINGHI_CHAOS_SITES", 3_000), var("HOINGHI_CHAOS_ROUNDS", 10)).await;
}

async fn chaos(site_count: usize, rounds: usize) {
    let started = Instant::now();
    let mut stack = stack().await;
    let api = stack.api.clone();
    let sites = bulk::site_ids("xa", site_count);
    bulk::register_sites(&api, &sites, 8).await.unwrap();
    let id = api.create(&bulk::conference("Hội nghị trực tuyến: thử sự cố", &sites)).await.unwrap().id;
    flow::invite(&api, id).await.unwrap();

    // The load's own connection: one attempt waits 2 s, so a command sent to a killed instance is
    // retried soon; it reconnects by itself after the server restarts.
    let nats = async_nats::ConnectOptions::new()
        .request_timeout(Some(Duration::from_secs(2)))
        .max_reconnects(None)
        .connect(stack.server.url())
        .await
        .unwrap();
    let client = RetryingClient::new(Api::from_client(nats), Duration::from_secs(120));

    let load = PacedLoad::start(&client, id, &sites, PACE);

    let round = [
        Fault::Kill(Service::Attendance),
        Fault::Kill(Service::Scheduling),
        Fault::RestartServer,
        Fault::Kill(Service::Minutes),
        Fault::Kill(Service::Attendance),
        Fault::KillServer,
        Fault::Kill(Service::Attendance),
    ];
    let faults: Vec<Fault> = round.iter().copied().cycle().take(round.len() * rounds).collect();
    // Fault k strikes once k/(faults+1) of the sites have started, so every fault hits the load
    // however fast or slow this machine is.
    let mut fault_log = Vec::new();
    let strikes = faults.len() + 1;
    for (k, fault) in faults.iter().copied().enumerate() {
        let due = (k + 1) * site_count / strikes;
        load.wait_started(due).await;
        let at = started.elapsed();
        match fault {
            Fault::Kill(s) => {
                stack.kill(s);
                tokio::time::sleep(DOWN).await;
                stack.start_service(s).await.unwrap();
            }
            Fault::RestartServer => {
                stack.server.stop().await;
                tokio::time::sleep(DOWN).await;
                stack.server.restart().await.unwrap();
            }
            Fault::KillServer => {
                stack.server.kill();
                tokio::time::sleep(DOWN).await;
                stack.server.restart().await.unwrap();
            }
        }
        fault_log.push(format!(
            "{fault:?} after {} sites had started, at {at:.1?}, back after {:.1?}",
            due,
            started.elapsed() - at
        ));
    }
    let sent = load.finish().await.unwrap();
    let counts = client.tally().counts();
    let load_time = started.elapsed();

    // Read the log back: every site event of the conference, with the command that wrote it.
    let js = stack.jetstream();
    let all =
        bulk::read_events(&js, Service::Attendance.stream().name, &events::conference_all(Service::Attendance, &id))
            .await
            .unwrap();
    let found = bulk::effects(&sent, &all);
    let acknowledged: Vec<&bulk::Sent> = sent.iter().filter(|s| s.reply.is_some()).collect();
    println!("chaos: {site_count} sites, {} commands, {} faults", sent.len(), faults.len());
    for line in &fault_log {
        println!("chaos: fault {line}");
    }
    println!(
        "chaos: commands sent {}, acknowledged {}, retried {} ({} attempts on the wire), refused {}, gave up {}",
        counts.sent, counts.acknowledged, counts.retried, counts.attempts, counts.refused, counts.gave_up
    );
    println!("chaos: effects found {}, lost {}, doubled {}", found.found, found.lost.len(), found.doubled.len());
    println!("chaos: set-up and load took {load_time:.1?}");

    assert_eq!(found.lost, Vec::<String>::new(), "acknowledged commands without an event");
    assert_eq!(found.doubled, Vec::<String>::new(), "commands or site answers recorded twice");
    assert_eq!(found.strangers, Vec::<String>::new(), "site events written by commands nobody sent");
    assert_eq!(counts.refused + counts.gave_up, 0, "every command is eventually acknowledged: {counts:?}");
    assert_eq!(counts.acknowledged as usize, 2 * site_count);
    assert_eq!(found.found, 2 * site_count, "one event per command");
    for s in &acknowledged {
        let reply = s.reply.as_ref().unwrap();
        assert_eq!(reply.site_id, s.site, "{}: the reply is about its site", s.command_id);
        assert!(
            matches!(reply.status, AttendanceStatus::Confirmed | AttendanceStatus::CheckedIn),
            "{}: {reply:?}",
            s.command_id
        );
        assert_eq!(reply.delegates, vec![bulk::delegate(&s.site)], "{}", s.command_id);
    }

    // The roster says the same, and after the session the minutes record exactly the roster.
    let roster = api.roster(id).await.unwrap();
    assert_eq!(roster.counts.confirmed, site_count);
    assert_eq!(roster.counts.checked_in, site_count);
    let end = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
    client.send(scheduling::START, &end, "chaos-start").await.unwrap();
    client.send(scheduling::END, &end, "chaos-end").await.unwrap();
    // Minutes dies as the roster closes; it opens the draft once when it is back.
    stack.restart(Service::Minutes).await.unwrap();
    let closed = flow::wait_roster(&api, id, RosterState::Closed).await.unwrap();
    let draft = flow::wait_draft_within(&api, id, REDELIVERY_TIMEOUT).await.unwrap();
    assert_eq!(draft.attendance_total, site_count);
    assert_attendance_matches_roster(&draft, &closed);
    stack.wait_for_reactions(REDELIVERY_TIMEOUT).await.unwrap();
    assert_eq!(drafts_opened(&stack, id).await, 1, "exactly one draft");
    assert_eq!(stack.dead_letters().await.unwrap(), 0, "nothing parked as a dead letter");
    // The final record travels inline in the event up to 256 KiB, out of line beyond (records.rs).
    let closed_filter = events::conference(Service::Attendance, &id, AttendanceEvent::ROSTER_CLOSED);
    let closed_event = bulk::read_events(&js, Service::Attendance.stream().name, &closed_filter).await.unwrap();
    let bytes = closed_event[0].envelope.data.get().len();
    println!(
        "chaos: the roster_closed event holds {bytes} bytes of data for {site_count} sites ({} per site)",
        bytes / site_count
    );
    println!("chaos: finished in {:.1?}", started.elapsed());
}

/// The guarantee outlasts JetStream's duplicate window: with the window shrunk to 1 s on the
/// test's private server, a retry sent after it (and after a restart of attendance, which rebuilds
/// its index of applied commands from the log) is still answered from the first effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_duplicate_window_and_a_restart_takes_effect_once() {
    let (mut stack, id) = stack_at(flow::invited).await;
    let api = stack.api.clone();
    let js = stack.jetstream();
    let mut config = js.get_stream(Service::Attendance.stream().name).await.unwrap().cached_info().config.clone();
    config.duplicate_window = Duration::from_secs(1);
    js.update_stream(config).await.unwrap();

    let site = hoinghi_tests::scenario::site("ba-be");
    let subject = attendance::site_command(&site, attendance::CONFIRM);
    let request = hoinghi_tests::scenario::confirmation(id, &site).unwrap();
    let first: SiteAttendance = api.request_with_key(&subject, &request, "ba-be-xac-nhan").await.unwrap();
    let totals = stack.event_totals().await.unwrap();

    stack.restart(Service::Attendance).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again: SiteAttendance = api.request_with_key(&subject, &request, "ba-be-xac-nhan").await.unwrap();
    assert_eq!(again, first, "the retry is answered from the first effect");
    // Even a retry whose body changed is the same command: the key decides.
    let mut changed = request.clone();
    changed.headcount += 7;
    let changed_reply: SiteAttendance = api.request_with_key(&subject, &changed, "ba-be-xac-nhan").await.unwrap();
    assert_eq!(changed_reply, first);
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no second event after the window and the restart");
    let confirmed = events::conference_site(Service::Attendance, &id, &site, AttendanceEvent::ATTENDANCE_CONFIRMED);
    assert_eq!(stack.count_events(Service::Attendance.stream().name, &confirmed).await.unwrap(), 1);
}
