//! Live presence of the bridges, through the public subjects only, with a short heartbeat interval
//! (200 ms) and grace period (1 s) set on the attendance process: bridges heartbeat, one stops
//! (dropped after the grace period), resumes (rejoined); attendance is SIGKILLed and restarted in
//! the middle of an interval (no false drop, no lost or doubled interval), while another bridge
//! goes silent during the downtime (dropped after the listening window); the session ends with
//! intervals still open (closed at the end time); the minutes and the export carry the intervals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hoinghi_shared::api::{ExportFormat, RosterState};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::presence::PresenceState;
use hoinghi_shared::{ConferenceId, Service, SiteId};
use hoinghi_tests::{flow, scenario, Api, Stack};

const INTERVAL: Duration = Duration::from_millis(200);
const GRACE: Duration = Duration::from_millis(1000);

/// A bridge's endpoint: heartbeats every [`INTERVAL`] while `on`.
struct Bridge {
    on: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Bridge {
    fn start(api: &Api, site: &str, id: ConferenceId) -> Self {
        let on = Arc::new(AtomicBool::new(true));
        let (api, site, flag) = (api.clone(), scenario::site(site), on.clone());
        let task = tokio::spawn(async move {
            loop {
                if flag.load(Ordering::Relaxed) {
                    let _ = api.heartbeat(&site, id).await;
                }
                tokio::time::sleep(INTERVAL).await;
            }
        });
        Self { on, task }
    }

    fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The presence state of `site` on the roster.
async fn state(api: &Api, id: ConferenceId, site: &str) -> Option<PresenceState> {
    let roster = api.roster(id).await.ok()?;
    let line = roster.sites.into_iter().find(|l| l.site_id.as_str() == site)?;
    line.presence.map(|p| p.state)
}

/// Waits until `site` is in `want`; how long it took.
async fn wait_state(api: &Api, id: ConferenceId, site: &str, want: PresenceState, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if state(api, id, site).await == Some(want) {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{site} not {want:?} within {within:?}: {:?}", state(api, id, site).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presence events of the conference, by (site, type).
async fn transitions(stack: &Stack, id: ConferenceId) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for site in scenario::site_ids() {
        for t in [AttendanceEvent::SITE_CONNECTED, AttendanceEvent::SITE_DROPPED, AttendanceEvent::SITE_REJOINED] {
            let filter = format!("hoinghi.v1.events.attendance.{id}.{site}.presence.{t}");
            let n = stack.count_events(Service::Attendance.stream().name, &filter).await.unwrap();
            if n > 0 {
                counts.insert((site.to_string(), t.to_owned()), n);
            }
        }
    }
    counts
}

fn expect(list: &[(&str, &str, usize)]) -> HashMap<(String, String), usize> {
    list.iter().map(|(s, t, n)| (((*s).to_owned(), (*t).to_owned()), *n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridges_drop_rejoin_survive_a_restart_and_the_minutes_carry_their_intervals() {
    let mut stack = Stack::start_with(&[Service::Scheduling, Service::Minutes]).await.unwrap();
    let attendance = stack.service_mut(Service::Attendance);
    attendance.set_env("HOINGHI__PRESENCE__HEARTBEAT_INTERVAL_MS", INTERVAL.as_millis().to_string());
    attendance.set_env("HOINGHI__PRESENCE__GRACE_MS", GRACE.as_millis().to_string());
    attendance.set_env("HOINGHI__PRESENCE__SWEEP_MS", "100");
    stack.start_service(Service::Attendance).await.unwrap();
    let api = stack.api.clone();

    // Heartbeats before the session count for nothing.
    let id = flow::invited(&api).await.unwrap();
    flow::answer_all(&api, id).await.unwrap();
    let ba_be = Bridge::start(&api, "ba-be", id);
    let na_ri = Bridge::start(&api, "na-ri", id);
    tokio::time::sleep(INTERVAL * 3).await;
    assert!(transitions(&stack, id).await.is_empty(), "no transition before the session");

    // The session starts: both connect, once each, however many heartbeats follow.
    flow::hold_session(&api, id).await.unwrap();
    let cho_moi = Bridge::start(&api, "cho-moi", id);
    for site in ["ba-be", "na-ri", "cho-moi"] {
        wait_state(&api, id, site, PresenceState::Connected, Duration::from_secs(5)).await;
    }
    tokio::time::sleep(INTERVAL * 5).await;
    let connected = [("ba-be", "site_connected", 1), ("na-ri", "site_connected", 1), ("cho-moi", "site_connected", 1)];
    assert_eq!(transitions(&stack, id).await, expect(&connected));
    assert_eq!(state(&api, id, "pac-nam").await, Some(PresenceState::NeverConnected));

    // Na Rì's line fails: dropped after the grace period, at its last heartbeat.
    na_ri.set(false);
    let stopped = Instant::now();
    wait_state(&api, id, "na-ri", PresenceState::Dropped, GRACE * 5).await;
    let drop_latency = stopped.elapsed();
    // Its last heartbeat was up to one interval before `stopped`: the drop comes a grace period after it.
    assert!(drop_latency + INTERVAL >= GRACE, "dropped after {drop_latency:?}, before the grace period");
    // It comes back: rejoined.
    na_ri.set(true);
    wait_state(&api, id, "na-ri", PresenceState::Connected, Duration::from_secs(5)).await;
    let line = api.roster(id).await.unwrap().sites.into_iter().find(|l| l.site_id.as_str() == "na-ri").unwrap();
    let p = line.presence.unwrap();
    assert_eq!(p.intervals.len(), 2, "{p:?}");
    assert!(p.intervals[0].until.is_some() && p.intervals[1].until.is_none(), "{p:?}");

    // Attendance is SIGKILLed in the middle of ba-be's interval; Chợ Mới goes silent while no one
    // listens. After the restart, ba-be (still heartbeating) is not dropped, Chợ Mới is, once the
    // listening window has passed.
    stack.kill(Service::Attendance);
    cho_moi.set(false);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted = Instant::now();
    stack.start_service(Service::Attendance).await.unwrap();
    wait_state(&api, id, "cho-moi", PresenceState::Dropped, GRACE * 6).await;
    assert!(restarted.elapsed() >= GRACE, "a drop was decided within the listening window");
    tokio::time::sleep(GRACE * 2).await;
    assert_eq!(state(&api, id, "ba-be").await, Some(PresenceState::Connected), "no false drop after the restart");
    assert_eq!(state(&api, id, "na-ri").await, Some(PresenceState::Connected));
    let after_restart = [
        ("ba-be", "site_connected", 1),
        ("na-ri", "site_connected", 1),
        ("na-ri", "site_dropped", 1),
        ("na-ri", "site_rejoined", 1),
        ("cho-moi", "site_connected", 1),
        ("cho-moi", "site_dropped", 1),
    ];
    assert_eq!(transitions(&stack, id).await, expect(&after_restart), "one event per transition, none doubled");

    // The session ends with ba-be's and na-ri's intervals open: the record closes them at the end.
    let ended = api.end(id).await.unwrap();
    flow::wait_roster(&api, id, RosterState::Closed).await.unwrap();
    drop((ba_be, na_ri, cho_moi));
    let draft = flow::wait_draft(&api, id).await.unwrap();
    let record = |site: &str| draft.attendance.iter().find(|r| r.site_id.as_str() == site).unwrap().clone();
    let ba_be_p = record("ba-be").presence.expect("ba-be's presence in the record");
    assert_eq!(ba_be_p.intervals.len(), 1, "one interval across the restart, not two: {ba_be_p:?}");
    let end = ba_be_p.intervals[0].until.unwrap();
    let na_ri_p = record("na-ri").presence.unwrap();
    assert_eq!(na_ri_p.intervals.len(), 2);
    assert_eq!(na_ri_p.intervals[1].until, Some(end), "open intervals closed at the same end time");
    let cho_moi_p = record("cho-moi").presence.unwrap();
    assert!(cho_moi_p.intervals[0].until.unwrap() < end);
    assert_eq!(record("pac-nam").presence, None, "never heard");
    assert!(ba_be_p.connected_s >= 3, "{ba_be_p:?}");
    let total: u64 = ba_be_p.intervals.iter().map(|i| i.seconds(end)).sum();
    assert_eq!(ba_be_p.connected_s, total);
    let _ = ended;

    // The export lists them; the published minutes say so.
    let csv = api.export_attendance(id, ExportFormat::Csv).await.unwrap().content;
    let ba_be_row = csv.lines().find(|l| l.starts_with("ba-be,")).unwrap();
    assert!(ba_be_row.contains("+07:00/"), "{ba_be_row}");
    let json = api.export_attendance(id, ExportFormat::Json).await.unwrap().content;
    assert!(json.contains("+07:00/"), "{json}");
    let published = flow::write_and_publish(&api, id).await.unwrap();
    let markdown = published.markdown.unwrap();
    assert_eq!(markdown.matches("; trực tuyến ").count(), 3, "{markdown}");
    let html = api.minutes_html(id).await.map(|m| m.html.unwrap_or_default()).unwrap_or_default();
    if !html.is_empty() {
        assert_eq!(html.matches("; trực tuyến ").count(), 3);
    }

    // Heartbeats after the end change nothing.
    api.heartbeat(&SiteId::parse("pac-nam").unwrap(), id).await.unwrap();
    tokio::time::sleep(INTERVAL * 3).await;
    assert_eq!(transitions(&stack, id).await, expect(&after_restart));
    eprintln!(
        "presence e2e: drop after {drop_latency:?} of silence (grace {GRACE:?}); restart with ba-be connected: no event"
    );
}
