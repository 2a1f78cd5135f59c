//! Latency samples, throughput, and the report.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

/// What one load phase measured.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Requests completed.
    pub count: usize,
    /// Wall time of the phase.
    pub elapsed: Duration,
    /// Sorted latencies in microseconds.
    pub latencies_us: Vec<u64>,
    /// CPU each metered process spent per request over the phase, µs ([`CpuMeter`]).
    pub cpu_us: BTreeMap<String, f64>,
}

impl Phase {
    /// Builds a phase from raw latencies.
    pub fn new(elapsed: Duration, mut latencies_us: Vec<u64>) -> Self {
        latencies_us.sort_unstable();
        Self { count: latencies_us.len(), elapsed, latencies_us, cpu_us: BTreeMap::new() }
    }

    /// The phase with the CPU `meter` read since it started, per request.
    pub fn with_cpu(mut self, meter: &CpuMeter) -> Self {
        self.cpu_us = meter.per_request_us(self.count);
        self
    }

    /// Two runs of the same phase as one: every latency sample, and the throughput of their total
    /// time.
    pub fn combine(a: &Phase, b: &Phase) -> Phase {
        let mut latencies = a.latencies_us.clone();
        latencies.extend_from_slice(&b.latencies_us);
        let mut both = Phase::new(a.elapsed + b.elapsed, latencies);
        // The CPU per request of the two runs together, each weighed by its requests.
        for (name, us) in &a.cpu_us {
            if let Some(other) = b.cpu_us.get(name) {
                let total = us * a.count as f64 + other * b.count as f64;
                let per = total / (a.count + b.count).max(1) as f64;
                both.cpu_us.insert(name.clone(), (per * 10.0).round() / 10.0);
            }
        }
        both
    }

    /// Requests per second.
    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// A percentile (0–100) in microseconds.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank.min(self.latencies_us.len() - 1)]
    }
}

/// What the workload measured.
#[derive(Debug, Clone)]
pub struct WorkloadReport {
    /// Registering the sites.
    pub register: Phase,
    /// The storm: every site confirms and checks in.
    pub storm: Phase,
    /// The storm's commands through raw NATS in the contract's shape, and without each element.
    pub shapes: Vec<crate::shape::ShapeRun>,
    /// From the invite reply to the roster showing every site invited.
    pub invite_to_roster: Duration,
    /// From the end reply to the minutes draft holding every site's attendance.
    pub end_to_draft: Duration,
    /// Scheduling the conference (one request carrying every site).
    pub create: Duration,
    /// Publishing the minutes.
    pub publish: Duration,
    /// Size of the published Markdown.
    pub markdown_bytes: usize,
    /// Peak resident memory per service, MiB.
    pub peak_rss_mib: BTreeMap<String, f64>,
    /// Restart (SIGKILL, spawn, rebuild, answering) per service, ms.
    pub restart_rebuild_ms: BTreeMap<String, u64>,
    /// Events in each stream at the end.
    pub events: BTreeMap<String, u64>,
    /// Each step's time and the services' memory after it.
    pub steps: Vec<StepCost>,
    /// The reminder fan-out on a second conference.
    pub fan_out: crate::reminders::FanOutReport,
    /// The session day (live presence) on a third conference, unless skipped.
    pub session_day: Option<crate::presence::DayReport>,
}

/// Everything, ready to print and save.
pub struct Results {
    sites: usize,
    concurrency: usize,
    core: Phase,
    js: Phase,
    js_runs: [f64; 2],
    report: WorkloadReport,
}

impl Results {
    /// Bundles the figures.
    pub fn new(sites: usize, concurrency: usize, core: Phase, js: Phase, report: WorkloadReport) -> Self {
        Self { sites, concurrency, core, js, js_runs: [0.0; 2], report }
    }

    /// Records the throughput of each JetStream baseline run (before and after the workload).
    pub fn with_baseline_runs(mut self, runs: [f64; 2]) -> Self {
        self.js_runs = runs;
        self
    }

    fn ratio_throughput(&self) -> f64 {
        self.report.storm.per_second() / self.js.per_second().max(1e-9)
    }

    fn ratio_p50(&self) -> f64 {
        self.report.storm.percentile(50.0) as f64 / (self.js.percentile(50.0).max(1)) as f64
    }

    /// The JSON document.
    pub fn json(&self) -> serde_json::Value {
        let r = &self.report;
        json!({
            "sites": self.sites,
            "concurrency": self.concurrency,
            "storm_commands": r.storm.count,
            "storm_commands_per_s": round(r.storm.per_second()),
            "storm_p50_us": r.storm.percentile(50.0),
            "storm_p99_us": r.storm.percentile(99.0),
            "baseline_core_commands_per_s": round(self.core.per_second()),
            "baseline_core_p50_us": self.core.percentile(50.0),
            "baseline_core_p99_us": self.core.percentile(99.0),
            "baseline_js_commands_per_s": round(self.js.per_second()),
            "baseline_js_p50_us": self.js.percentile(50.0),
            "baseline_js_p99_us": self.js.percentile(99.0),
            "baseline_js_runs_per_s": [round(self.js_runs[0]), round(self.js_runs[1])],
            "ratio_throughput": round3(self.ratio_throughput()),
            "ratio_p50": round3(self.ratio_p50()),
            "ratio_throughput_vs_core": round3(r.storm.per_second() / self.core.per_second().max(1e-9)),
            "register_sites_per_s": round(r.register.per_second()),
            "create_ms": r.create.as_millis() as u64,
            "invite_to_roster_ms": r.invite_to_roster.as_millis() as u64,
            "end_to_draft_ms": r.end_to_draft.as_millis() as u64,
            "publish_ms": r.publish.as_millis() as u64,
            "markdown_bytes": r.markdown_bytes,
            "peak_rss_mib": r.peak_rss_mib,
            "restart_rebuild_ms": r.restart_rebuild_ms,
            "events": r.events,
            "steps": r.steps,
            "storm_cpu_us_per_command": r.storm.cpu_us,
            "contract_shape": crate::shape::json(&r.shapes),
            "ratio_throughput_shape_vs_js": r.shapes.first().map(|s| round3(s.phase.per_second() / self.js.per_second().max(1e-9))),
            "ratio_p50_shape_vs_js": r.shapes.first().map(|s| round3(s.phase.percentile(50.0) as f64 / self.js.percentile(50.0).max(1) as f64)),
            "ratio_throughput_storm_vs_shape": r.shapes.first().map(|s| round3(r.storm.per_second() / s.phase.per_second().max(1e-9))),
            "baseline_js_cpu_us_per_request": self.js.cpu_us,
            "baseline_core_cpu_us_per_request": self.core.cpu_us,
            "reminder_fan_out": r.fan_out,
            "session_day": r.session_day,
            "machine": machine(),
        })
    }

    /// A readable table.
    pub fn table(&self) -> String {
        let r = &self.report;
        let row = |name: &str, p: &Phase| {
            format!(
                "| {name:<44} | {:>10.0} | {:>9} | {:>9} |\n",
                p.per_second(),
                p.percentile(50.0),
                p.percentile(99.0)
            )
        };
        let mut out = format!("\nhoinghi-bench: {} sites, {} requests in flight\n\n", self.sites, self.concurrency);
        out.push_str("| phase                                        |  req/s     |  p50 µs   |  p99 µs   |\n");
        out.push_str("|----------------------------------------------|------------|-----------|-----------|\n");
        out.push_str(&row("baseline: core NATS request/reply (echo)", &self.core));
        out.push_str(&row("baseline: request → JetStream ack → reply", &self.js));
        out.push_str(&format!(
            "|   (runs before / after the workload: {:.0} / {:.0} req/s)\n",
            self.js_runs[0], self.js_runs[1]
        ));
        out.push_str(&row("hoinghi storm: confirm + check in", &r.storm));
        for shape in &r.shapes {
            out.push_str(&row(shape.what, &shape.phase));
        }
        out.push_str(&row("hoinghi: register sites", &r.register));
        out.push_str(&format!(
            "\nratio vs JetStream baseline: throughput {:.2} (target ≥ 0.75), p50 {:.2} (target ≤ 1.3)\n",
            self.ratio_throughput(),
            self.ratio_p50()
        ));
        if let Some(shape) = r.shapes.first() {
            out.push_str(&format!(
                "raw NATS in the storm's shape vs JetStream baseline: throughput {:.2}, p50 {:.2} · the storm vs that \
                 shape: throughput {:.2}, p50 {:.2}\n",
                shape.phase.per_second() / self.js.per_second().max(1e-9),
                shape.phase.percentile(50.0) as f64 / self.js.percentile(50.0).max(1) as f64,
                r.storm.per_second() / shape.phase.per_second().max(1e-9),
                r.storm.percentile(50.0) as f64 / shape.phase.percentile(50.0).max(1) as f64,
            ));
        }
        out.push_str(&format!(
            "create {} ms · invite → roster {} ms · end → draft {} ms · publish {} ms ({} bytes of Markdown)\n",
            r.create.as_millis(),
            r.invite_to_roster.as_millis(),
            r.end_to_draft.as_millis(),
            r.publish.as_millis(),
            r.markdown_bytes
        ));
        let f = &r.fan_out;
        out.push_str(&format!(
            "reminder fan-out: {} silent of {} sites · due → last reminder_sent {} ms · due → last notification {} ms \
             ({:.0} writes/s; storm {:.0} commands/s) · CPU attendance {} ms, nats-server {} ms · raw baseline: \
             {} JetStream publishes from one client (two per silent site), acks in bulk, {} ms\n",
            f.silent,
            f.sites,
            f.due_to_last_event_ms,
            f.due_to_last_notification_ms,
            f.writes_per_s,
            r.storm.per_second(),
            f.attendance_cpu_ms,
            f.server_cpu_ms,
            2 * f.silent,
            f.baseline_js_publish_ms
        ));
        if let Some(day) = &r.session_day {
            out.push_str(&crate::presence::lines(day));
        }
        let cpu = |p: &Phase| p.cpu_us.iter().map(|(k, v)| format!("{k} {v:.1}")).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "CPU per request, µs: storm: {} · JetStream baseline: {} · core baseline: {}\n",
            cpu(&r.storm),
            cpu(&self.js),
            cpu(&self.core)
        ));
        for shape in &r.shapes {
            out.push_str(&format!(
                "CPU per request, µs, {}: {}\n",
                shape.what.trim_start_matches([' ', '…']),
                cpu(&shape.phase)
            ));
        }
        out.push_str(&step_table(self.sites, &r.steps));
        for (service, mib) in &r.peak_rss_mib {
            let restart = r.restart_rebuild_ms.get(service).copied().unwrap_or_default();
            out.push_str(&format!("{service:<20} peak RSS {mib:>7.1} MiB · restart + rebuild {restart} ms\n"));
        }
        out
    }
}

fn round(x: f64) -> f64 {
    x.round()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    json!({ "cpu": cpu, "cores": cores, "date": chrono::Utc::now().to_rfc3339() })
}

/// Peak resident set (VmHWM) of a process, MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

/// Runs `count` requests, `concurrency` at a time, timing each.
///
/// # Errors
/// The first request that failed.
pub async fn drive<F, Fut>(count: usize, concurrency: usize, request: F) -> anyhow::Result<Phase>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    use futures::StreamExt;
    let started = std::time::Instant::now();
    let mut latencies = Vec::with_capacity(count);
    let mut results = futures::stream::iter(0..count)
        .map(|i| {
            let attempt = request(i);
            async move {
                let t = std::time::Instant::now();
                attempt.await.map(|()| t.elapsed().as_micros() as u64)
            }
        })
        .buffer_unordered(concurrency);
    while let Some(result) = results.next().await {
        latencies.push(result?);
    }
    Ok(Phase::new(started.elapsed(), latencies))
}

/// Resident memory of a process now (`VmRSS`), MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

/// The CPU time (user + system, from `/proc/<pid>/stat`) a set of named processes spent since the
/// meter started: what a phase cost each of them per request.
pub struct CpuMeter {
    start: Vec<(String, u32, u64)>,
}

impl CpuMeter {
    /// Starts metering the processes that have a pid.
    pub fn start(processes: &[(&str, Option<u32>)]) -> Self {
        let start = processes
            .iter()
            .filter_map(|(name, pid)| {
                let pid = (*pid)?;
                Some(((*name).to_owned(), pid, crate::reminders::cpu_ms(pid)?))
            })
            .collect();
        Self { start }
    }

    /// Microseconds of CPU per request of each process since the start, over `count` requests (the
    /// kernel counts in 10 ms ticks: a phase of a second or more reads to about 1 %).
    pub fn per_request_us(&self, count: usize) -> BTreeMap<String, f64> {
        self.start
            .iter()
            .filter_map(|(name, pid, from)| {
                let now = crate::reminders::cpu_ms(*pid)?;
                let us = now.saturating_sub(*from) as f64 * 1000.0 / count.max(1) as f64;
                Some((name.clone(), (us * 10.0).round() / 10.0))
            })
            .collect()
    }
}

/// What one step of the workload cost: its time, and the services' resident memory after it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepCost {
    /// The step.
    pub step: &'static str,
    /// Its wall time, ms.
    pub ms: f64,
    /// Resident memory (`VmRSS`) of each service right after it, MiB.
    pub rss_mib: BTreeMap<String, f64>,
}

/// The table of the workload's steps with their cost per site: time per site, and the services'
/// resident memory per site (their sum divided by the number of sites; at small sizes the fixed
/// cost of a process dominates it).
pub fn step_table(sites: usize, steps: &[StepCost]) -> String {
    let n = sites.max(1) as f64;
    let names: Vec<String> = steps.first().map(|s| s.rss_mib.keys().cloned().collect()).unwrap_or_default();
    let short: Vec<&str> = names.iter().map(|n| n.trim_start_matches("hoinghi-")).collect();
    let mut out = format!(
        "\n| step ({sites} sites) | ms | µs per site | RSS {} MiB | RSS KiB per site |\n|---|---|---|---|---|\n",
        short.join(" / ")
    );
    for step in steps {
        let rss: Vec<String> = names.iter().map(|k| format!("{:.0}", step.rss_mib.get(k).unwrap_or(&0.0))).collect();
        let total: f64 = step.rss_mib.values().sum();
        out.push_str(&format!(
            "| {} | {:.0} | {:.1} | {} | {:.2} |\n",
            step.step,
            step.ms,
            step.ms * 1000.0 / n,
            rss.join(" / "),
            total * 1024.0 / n
        ));
    }
    out
}
