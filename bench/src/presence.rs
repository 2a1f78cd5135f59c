//! The session day: every bridge of a conference of N sites in session sends its heartbeat of live
//! presence every `--heartbeat-interval-ms` for `--heartbeat-seconds`; 1 % of them stop for longer
//! than the grace period, then resume. Measured: the heartbeat rate held, the transitions written
//! (one per transition, never per heartbeat: N connected + 1 % dropped + 1 % rejoined, no false drop),
//! the CPU and memory of the attendance service and the CPU of the nats-server, and the time from a
//! bridge's last heartbeat to its `site_dropped` (p50 / p99). Beside it, a raw-NATS baseline of the
//! same shape: the same publishes at the same rate to one plain core subscriber.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use hoinghi_shared::api::Roster;
use hoinghi_shared::presence::Heartbeat;
use hoinghi_shared::subjects::presence;
use hoinghi_shared::ConferenceId;
use serde::Serialize;

use crate::reminders::cpu_ms;
use crate::workload::{poll, vietnam, Fleet};

/// The session day's settings.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DayOptions {
    /// How long every bridge heartbeats (0: the phase is skipped).
    pub seconds: u64,
    /// The heartbeat interval.
    pub interval_ms: u64,
    /// The grace period.
    pub grace_ms: u64,
}

/// What the session day measured.
#[derive(Debug, Clone, Serialize)]
pub struct DayReport {
    /// The settings.
    pub options: DayOptions,
    /// Bridges heartbeating.
    pub sites: usize,
    /// Bridges that stopped, were dropped and rejoined.
    pub dropping: usize,
    /// Heartbeats sent.
    pub heartbeats: u64,
    /// Heartbeats per second sent over the phase (the target is sites ÷ interval).
    pub heartbeats_per_s: f64,
    /// The target rate.
    pub target_per_s: f64,
    /// Transitions written, by type.
    pub connected: usize,
    /// `site_dropped` written.
    pub dropped: usize,
    /// `site_rejoined` written.
    pub rejoined: usize,
    /// Drops of bridges that never stopped heartbeating.
    pub false_drops: usize,
    /// Last heartbeat → `site_dropped`, median, ms.
    pub drop_latency_p50_ms: u64,
    /// Last heartbeat → `site_dropped`, 99th percentile, ms.
    pub drop_latency_p99_ms: u64,
    /// Attendance's CPU over the heartbeating, as a share of one core.
    pub attendance_cpu_share: f64,
    /// The nats-server's CPU over the heartbeating, as a share of one core.
    pub server_cpu_share: f64,
    /// Attendance's resident memory at the end (MiB).
    pub attendance_rss_mib: Option<u64>,
    /// Baseline: the same heartbeats to one plain core subscriber: rate received per second.
    pub baseline_received_per_s: f64,
    /// Baseline: received ÷ sent.
    pub baseline_delivered: f64,
    /// Baseline: the nats-server's CPU share over it.
    pub baseline_server_cpu_share: f64,
    /// Baseline: how long it ran, s.
    pub baseline_seconds: f64,
}

/// Resident memory now (`VmRSS`), MiB.
fn rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb / 1024)
}

fn share(cpu: (Option<u64>, Option<u64>), elapsed: Duration) -> f64 {
    cpu.0.zip(cpu.1).map_or(0.0, |(a, b)| b.saturating_sub(a) as f64 / 1000.0 / elapsed.as_secs_f64().max(1e-9))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Publishes one heartbeat per site every `interval`, spread evenly, for `seconds`; a site for which
/// `off(i, elapsed)` holds is silent then. Returns the heartbeats sent and, per site, the last time
/// one was sent before each silence began.
async fn beat(
    client: &async_nats::Client,
    subjects: &[String],
    payload: &Bytes,
    interval: Duration,
    seconds: Duration,
    off: impl Fn(usize, Duration) -> bool,
    last_before_silence: &mut HashMap<usize, Instant>,
) -> anyhow::Result<u64> {
    let n = subjects.len();
    let tick = Duration::from_millis(10);
    let per_tick = |elapsed: Duration| -> usize {
        // Sites due by `elapsed` since the start, round robin over the interval.
        ((elapsed.as_secs_f64() / interval.as_secs_f64()) * n as f64) as usize
    };
    let start = Instant::now();
    let mut done = 0usize;
    let mut sent = 0u64;
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while start.elapsed() < seconds {
        ticker.tick().await;
        let elapsed = start.elapsed();
        let due = per_tick(elapsed);
        while done < due {
            let i = done % n;
            done += 1;
            if off(i, elapsed) {
                continue;
            }
            client.publish(subjects[i].clone(), payload.clone()).await.map_err(|e| anyhow!("{e}"))?;
            last_before_silence.insert(i, Instant::now());
            sent += 1;
        }
    }
    client.flush().await.map_err(|e| anyhow!("{e}"))?;
    Ok(sent)
}

/// Runs the session day on the fleet's sites; `server_url` is the nats-server's.
///
/// # Errors
/// A step failed.
pub async fn session_day(fleet: &Fleet<'_>, server_url: &str, options: DayOptions) -> anyhow::Result<DayReport> {
    let Fleet { api, client, site, sites, pids: (attendance_pid, server_pid), .. } = *fleet;
    let interval = Duration::from_millis(options.interval_ms);
    let grace = Duration::from_millis(options.grace_ms);
    let seconds = Duration::from_secs(options.seconds);
    let subjects: Vec<String> = (0..sites).map(|i| presence::site(&site(i))).collect();

    // Baseline: the same publishes at the same rate to one plain subscriber on another connection.
    let baseline_seconds = seconds.min(Duration::from_secs(20));
    let subscriber = async_nats::connect(server_url).await?;
    let mut sub = subscriber.subscribe("bench.presence.sites.*").await?;
    subscriber.flush().await?;
    let received = Arc::new(Mutex::new(0u64));
    let counter = received.clone();
    let reader = tokio::spawn(async move {
        while sub.next().await.is_some() {
            *counter.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    });
    let bench_subjects: Vec<String> = (0..sites).map(|i| format!("bench.presence.sites.{}", site(i))).collect();
    let sample = Bytes::from(serde_json::to_vec(&Heartbeat { conference_id: ConferenceId::generate() })?);
    eprintln!(
        "session day: baseline, {sites} heartbeats every {interval:?} to a plain subscriber for {baseline_seconds:?}"
    );
    let cpu0 = server_pid.and_then(cpu_ms);
    let t = Instant::now();
    let sent =
        beat(client, &bench_subjects, &sample, interval, baseline_seconds, |_, _| false, &mut HashMap::new()).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let baseline_elapsed = t.elapsed();
    let baseline_cpu = share((cpu0, server_pid.and_then(cpu_ms)), baseline_elapsed);
    let got = *received.lock().unwrap_or_else(|e| e.into_inner());
    reader.abort();

    // The conference in session.
    let starts_at = (Utc::now() + chrono::Duration::hours(1)).with_timezone(&vietnam()?);
    let title = "Hội nghị toàn quốc: ngày họp, điểm cầu trực tuyến";
    let id = fleet.open_conference(title, starts_at, chrono::Duration::hours(4), vec![], "the session day").await?;
    api.start(id).await?;
    // The session is under way for attendance once it closed the technical check.
    let under_way = |r: &Roster| r.sites.first().is_some_and(|l| l.presence.is_some());
    poll("attendance seeing the session start", || api.roster(id), under_way).await?;

    // Every transition as it is written (the stream's subjects are plain subjects too).
    let mut transitions = client.subscribe(format!("hoinghi.v1.events.attendance.{id}.*.presence.*")).await?;
    client.flush().await?;
    let seen: Arc<Mutex<Vec<(String, String, Instant)>>> = Arc::default();
    let log = seen.clone();
    let watcher = tokio::spawn(async move {
        while let Some(m) = transitions.next().await {
            let mut tokens = m.subject.as_str().rsplit('.');
            let (t, _, s) = (tokens.next(), tokens.next(), tokens.next());
            if let (Some(t), Some(s)) = (t, s) {
                log.lock().unwrap_or_else(|e| e.into_inner()).push((s.to_owned(), t.to_owned(), Instant::now()));
            }
        }
    });

    // 1 % stop from a quarter of the time for the grace period plus four intervals, then resume.
    let dropping = (sites / 100).max(1);
    let stop_at = (seconds / 4).max(interval * 2);
    let resume_at = stop_at + grace + interval * 4;
    anyhow::ensure!(
        resume_at + interval * 3 < seconds,
        "--heartbeat-seconds {} is too short for a drop and a rejoin with this interval and grace; give at least {}",
        options.seconds,
        (resume_at + interval * 3).as_secs() + 1
    );
    let stride = sites / dropping;
    let is_dropping = |i: usize| i.is_multiple_of(stride) && i / stride < dropping;
    let payload = Bytes::from(serde_json::to_vec(&Heartbeat { conference_id: id })?);
    eprintln!(
        "session day: {sites} bridges heartbeat every {interval:?} for {seconds:?} (grace {grace:?}); {dropping} stop at \
         {stop_at:?} and resume at {resume_at:?}"
    );
    let cpu0 = (attendance_pid.and_then(cpu_ms), server_pid.and_then(cpu_ms));
    let t = Instant::now();
    let mut stopped_last: HashMap<usize, Instant> = HashMap::new();
    let off = |i: usize, elapsed: Duration| is_dropping(i) && elapsed >= stop_at && elapsed < resume_at;
    let heartbeats = beat(client, &subjects, &payload, interval, seconds, off, &mut HashMap::new()).await?;
    let elapsed = t.elapsed();
    let cpu1 = (attendance_pid.and_then(cpu_ms), server_pid.and_then(cpu_ms));
    // The last heartbeat before each silence: recomputed from the schedule (the map holds the last
    // send overall). A site's slot repeats every interval; its last send before `stop_at` is the last
    // slot before it.
    let n = sites as f64;
    for i in (0..sites).filter(|i| is_dropping(*i)) {
        let slot = interval.as_secs_f64() * (i as f64 / n);
        let before = ((stop_at.as_secs_f64() - slot) / interval.as_secs_f64()).ceil() - 1.0;
        let last = Duration::from_secs_f64(slot + before.max(0.0) * interval.as_secs_f64());
        stopped_last.insert(i, t + last);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    watcher.abort();
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let index: HashMap<String, usize> = (0..sites).map(|i| (site(i).to_string(), i)).collect();
    let count = |t: &str| seen.iter().filter(|(_, ty, _)| ty == t).count();
    let mut latencies: Vec<u64> = vec![];
    let mut false_drops = 0;
    for (s, ty, at) in &seen {
        if ty != "site_dropped" {
            continue;
        }
        match index.get(s).and_then(|i| stopped_last.get(i)) {
            Some(last) => latencies.push(at.saturating_duration_since(*last).as_millis() as u64),
            None => false_drops += 1,
        }
    }
    latencies.sort_unstable();
    Ok(DayReport {
        options,
        sites,
        dropping,
        heartbeats,
        heartbeats_per_s: heartbeats as f64 / elapsed.as_secs_f64(),
        target_per_s: sites as f64 / interval.as_secs_f64(),
        connected: count("site_connected"),
        dropped: count("site_dropped"),
        rejoined: count("site_rejoined"),
        false_drops,
        drop_latency_p50_ms: percentile(&latencies, 0.5),
        drop_latency_p99_ms: percentile(&latencies, 0.99),
        attendance_cpu_share: share((cpu0.0, cpu1.0), elapsed),
        server_cpu_share: share((cpu0.1, cpu1.1), elapsed),
        attendance_rss_mib: attendance_pid.and_then(rss_mib),
        baseline_received_per_s: got as f64 / baseline_elapsed.as_secs_f64(),
        baseline_delivered: got as f64 / (sent.max(1)) as f64,
        baseline_server_cpu_share: baseline_cpu,
        baseline_seconds: baseline_elapsed.as_secs_f64(),
    })
}

/// The report's lines for the table.
pub fn lines(r: &DayReport) -> String {
    format!(
        "session day: {} bridges every {} ms for {} s (grace {} ms): {:.0} heartbeats/s held of {:.0} targeted; \
         transitions {} connected, {} dropped, {} rejoined ({} of {} stopping; {} false drops); last heartbeat → \
         site_dropped p50 {} ms, p99 {} ms; CPU attendance {:.2} core, nats-server {:.2} core; attendance RSS {} MiB\n\
         session day baseline: the same heartbeats to a plain subscriber for {:.0} s: {:.0}/s received ({:.4} \
         delivered), nats-server {:.2} core\n",
        r.sites,
        r.options.interval_ms,
        r.options.seconds,
        r.options.grace_ms,
        r.heartbeats_per_s,
        r.target_per_s,
        r.connected,
        r.dropped,
        r.rejoined,
        r.dropping,
        r.sites,
        r.false_drops,
        r.drop_latency_p50_ms,
        r.drop_latency_p99_ms,
        r.attendance_cpu_share,
        r.server_cpu_share,
        r.attendance_rss_mib.map_or("?".to_owned(), |m| m.to_string()),
        r.baseline_seconds,
        r.baseline_received_per_s,
        r.baseline_delivered,
        r.baseline_server_cpu_share,
    )
}
