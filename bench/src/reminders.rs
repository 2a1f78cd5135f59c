//! The reminder fan-out: a second conference linking every site, of which all but 1,000 (or 5 %)
//! stay silent; one reminder fires on its durable timer (a JetStream message schedule) and the
//! attendance service records `reminder_sent` for each silent site and writes its notification.
//! Measured from the time the reminder was due to the last event and notification written, with the
//! CPU the attendance service and the nats-server spent; beside it, a raw-NATS baseline of the same
//! shape: one client publishing as many messages to JetStream, asynchronously, acks awaited in bulk.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use async_nats::jetstream;
use bytes::Bytes;
use chrono::{DurationRound, Utc};
use hoinghi_shared::api::{ConfirmAttendance, Person};
use hoinghi_shared::streams::{ATTENDANCE, NOTIFICATIONS};
use hoinghi_shared::subjects::attendance;
use serde::Serialize;

use crate::workload::{vietnam, Fleet};

/// What the fan-out measured.
#[derive(Debug, Clone, Serialize)]
pub struct FanOutReport {
    /// Sites linked.
    pub sites: usize,
    /// Sites that had not answered when the reminder fired.
    pub silent: usize,
    /// From the due time to the last `reminder_sent` event stored.
    pub due_to_last_event_ms: u64,
    /// From the due time to the last notification stored.
    pub due_to_last_notification_ms: u64,
    /// Records written per second (events and notifications) from the due time to the last one.
    pub writes_per_s: f64,
    /// CPU the attendance service spent over the fan-out, ms.
    pub attendance_cpu_ms: u64,
    /// CPU the nats-server spent over the fan-out, ms.
    pub server_cpu_ms: u64,
    /// The raw baseline of the same shape: two JetStream publishes per silent site (as many writes as
    /// the fan-out's events and notifications) from one client, acks awaited in bulk, ms.
    pub baseline_js_publish_ms: u64,
}

/// User + system CPU time of a process, ms (Linux `/proc`).
pub fn cpu_ms(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), closed by ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    // The kernel counts in clock ticks, 100 per second on Linux.
    Some((utime + stime) * 10)
}

async fn messages(js: &jetstream::Context, stream: &str) -> anyhow::Result<u64> {
    let mut s = js.get_stream(stream).await.map_err(|e| anyhow!("{e}"))?;
    Ok(s.info().await.map_err(|e| anyhow!("{e}"))?.state.messages)
}

/// Runs the fan-out on the fleet's sites.
///
/// # Errors
/// A step failed or the reminders did not all arrive within two minutes.
pub async fn fan_out(fleet: &Fleet<'_>, concurrency: usize) -> anyhow::Result<FanOutReport> {
    let Fleet { client, site, sites, pids: (attendance_pid, server_pid), .. } = *fleet;
    let js = jetstream::new(client.clone());
    let answering = (sites / 20).clamp(usize::from(sites > 1), 1_000).min(sites.saturating_sub(1));
    let silent = sites - answering;
    // Due on a whole second (the schedule's time is to the second), far enough ahead for the
    // invitation and the answers.
    let lead = Duration::from_secs(20 + (sites / 1_000) as u64);
    let due = (Utc::now() + lead).duration_trunc(chrono::Duration::seconds(1))?;
    let offset_s = 60u32;
    let starts_at = (due + chrono::Duration::seconds(i64::from(offset_s))).with_timezone(&vietnam()?);
    let title = "Hội nghị toàn quốc: nhắc lịch các điểm cầu chưa xác nhận";
    let id = fleet.open_conference(title, starts_at, chrono::Duration::hours(3), vec![offset_s], "the fan-out").await?;
    let body = |i: usize| ConfirmAttendance {
        conference_id: id,
        delegates: vec![Person { name: format!("Đại biểu {i}"), title: String::new() }],
        headcount: 1,
    };
    crate::measure::drive(answering, concurrency, |i| {
        let (client, payload) = (client.clone(), serde_json::to_vec(&body(i)));
        let subject = attendance::site_command(&site(i), attendance::CONFIRM);
        async move {
            let reply = client.request(subject, Bytes::from(payload?)).await?;
            anyhow::ensure!(reply.headers.is_none_or(|h| h.get(hoinghi_shared::headers::SERVICE_ERROR_CODE).is_none()));
            Ok(())
        }
    })
    .await?;
    // Let the invitation notifications settle, then count from there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (events0, notes0) = (messages(&js, ATTENDANCE.name).await?, messages(&js, NOTIFICATIONS.name).await?);
    let wait = (due - Utc::now()).to_std().unwrap_or_default();
    anyhow::ensure!(!wait.is_zero(), "the reminder came due before the fan-out was ready; raise the lead");
    eprintln!("workload: {answering} sites answered; the reminder for {silent} silent sites is due in {wait:?}");
    tokio::time::sleep(wait.saturating_sub(Duration::from_millis(300))).await;
    let cpu0 = (attendance_pid.and_then(cpu_ms), server_pid.and_then(cpu_ms));
    let (mut last_event, mut last_note) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while last_event.is_none() || last_note.is_none() {
        anyhow::ensure!(Instant::now() < deadline, "the reminders did not all arrive within two minutes");
        if last_event.is_none() && messages(&js, ATTENDANCE.name).await? >= events0 + silent as u64 {
            last_event = Some(Utc::now());
        }
        if last_note.is_none() && messages(&js, NOTIFICATIONS.name).await? >= notes0 + silent as u64 {
            last_note = Some(Utc::now());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cpu1 = (attendance_pid.and_then(cpu_ms), server_pid.and_then(cpu_ms));
    let since_due = |t: Option<chrono::DateTime<Utc>>| t.map_or(0, |t| (t - due).num_milliseconds().max(0) as u64);
    let (to_event, to_note) = (since_due(last_event), since_due(last_note));
    let baseline = baseline_publishes(&js, silent).await.context("the fan-out's raw baseline")?;
    Ok(FanOutReport {
        sites,
        silent,
        due_to_last_event_ms: to_event,
        due_to_last_notification_ms: to_note,
        writes_per_s: (2 * silent) as f64 / (to_event.max(to_note).max(1) as f64 / 1000.0),
        attendance_cpu_ms: cpu1.0.zip(cpu0.0).map_or(0, |(b, a)| b.saturating_sub(a)),
        server_cpu_ms: cpu1.1.zip(cpu0.1).map_or(0, |(b, a)| b.saturating_sub(a)),
        baseline_js_publish_ms: baseline.as_millis() as u64,
    })
}

/// The fan-out's shape without hoinghi: for each of `count` sites, two JetStream publishes (an
/// event-sized and a notification-sized message, as the fan-out writes a `reminder_sent` and a
/// notification per silent site) from one client, each with a message id, sent without waiting and
/// acknowledged in bulk (windows of 1,024), into a stream of its own.
async fn baseline_publishes(js: &jetstream::Context, count: usize) -> anyhow::Result<Duration> {
    js.create_stream(crate::baseline::file_stream("BENCH_FANOUT", "bench.fanout.>"))
        .await
        .map_err(|e| anyhow!("creating the baseline stream: {e}"))?;
    let payload = Bytes::from(vec![b'x'; 420]);
    let started = Instant::now();
    let count = 2 * count;
    let mut sent = 0;
    while sent < count {
        let window = (count - sent).min(1024);
        let mut acks = Vec::with_capacity(window);
        for i in sent..sent + window {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("fanout-{i}").as_str());
            let kind = if i % 2 == 0 { "event" } else { "note" };
            acks.push(
                js.publish_with_headers(format!("bench.fanout.{kind}.{}", i / 2), headers, payload.clone())
                    .await
                    .map_err(|e| anyhow!("{e}"))?,
            );
        }
        for ack in acks {
            ack.await.map_err(|e| anyhow!("{e}"))?;
        }
        sent += window;
    }
    Ok(started.elapsed())
}
