//! `hoinghi-bench`: one national conference against the limit of this machine, raw NATS.
//!
//! It starts a private nats-server (JetStream, temporary store) and runs, in one process and one run:
//! 1. two baselines with the workload's client concurrency and message size: core NATS
//!    request/reply to an echo responder, and "request → JetStream publish with ack → reply";
//! 2. the workload: register N sites, schedule one conference linking all of them, invite, a storm in
//!    which every site confirms (with delegates) and checks in, end the session, open, write and
//!    publish the minutes;
//!    right after the storm, its own commands again through raw NATS in the contract's shape (two
//!    connections, the event's envelope and headers, the live change, the roster-line reply), and
//!    with each element of the contract taken away in turn ([`shape`]);
//! 3. the reminder fan-out: a second conference of N sites, all but 5 % (at most 1,000 answering)
//!    silent, one reminder fired by its durable timer and recorded for each silent site, against a
//!    raw baseline of as many JetStream publishes from one client;
//! 4. the session day: every bridge heartbeats (live presence) at the configured interval for
//!    `--heartbeat-seconds`, 1 % dropping and rejoining, beside the same heartbeats to a plain
//!    subscriber;
//! 5. peak resident memory of each service, and the time each takes to restart and rebuild.
//!
//! Figures are printed as a table and written as JSON (`--out`).
//!
//! `hoinghi-bench identities [--sites N]` measures the identities instead (docs/SECURITY.md):
//! see [`identities`].

#![forbid(unsafe_code)]

mod baseline;
mod identities;
mod measure;
mod presence;
mod reminders;
mod shape;
mod workload;

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(name = "hoinghi-bench", about = "Benchmark hoinghi against raw NATS on this machine")]
struct Options {
    /// Sites (bridges) linked to the conference.
    #[arg(long, default_value_t = 20_000)]
    sites: usize,
    /// Requests in flight at once (the same for the baselines and the storm).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// The session day: how long every bridge sends its heartbeat of live presence (0: skip it).
    #[arg(long, default_value_t = 180)]
    heartbeat_seconds: u64,
    /// The session day: the heartbeat interval (the service's `presence.heartbeat_interval_ms`).
    #[arg(long, default_value_t = 5_000)]
    heartbeat_interval_ms: u64,
    /// The session day: the grace period before a silent bridge is dropped (`presence.grace_ms`).
    #[arg(long, default_value_t = 15_000)]
    grace_ms: u64,
    /// Run nats-server with `sync_interval: always`: JetStream flushes every write to disk before
    /// acknowledging it (the durability setting measured in docs/RELIABILITY.md).
    #[arg(long)]
    sync_always: bool,
    /// Where to write the JSON figures.
    #[arg(long, default_value = "bench-results/latest.json")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("identities") {
        return identities::main(std::env::args().skip(2).collect()).await;
    }
    let options = Options::parse();
    anyhow::ensure!(options.sites >= 1, "--sites must be at least 1");
    anyhow::ensure!(options.concurrency >= 1, "--concurrency must be at least 1");
    let jetstream = if options.sync_always { "sync_interval: always" } else { "" };
    let server =
        hoinghi_tests::NatsServer::start_with_jetstream(jetstream).await.context("starting a private nats-server")?;
    eprintln!("nats-server on {} (store {})", server.url(), server.store_dir().display());

    let storm_messages = options.sites * 2;
    let payload = workload::sample_confirm_payload();
    eprintln!("baseline: core request/reply, {storm_messages} requests, {} bytes each", payload.len());
    // The baselines' CPU per request, metered like the storm's: the nats-server, and this process
    // (the client and the responder).
    let metered = [("nats-server", server.pid()), ("bench client + responder", Some(std::process::id()))];
    let meter = measure::CpuMeter::start(&metered);
    let core =
        baseline::core_echo(&server.url(), storm_messages, options.concurrency, &payload).await?.with_cpu(&meter);
    eprintln!("baseline: request → JetStream publish (ack) → reply");
    let meter = measure::CpuMeter::start(&metered);
    let js_before = baseline::jetstream_append(&server.url(), storm_messages, options.concurrency, &payload, "before")
        .await?
        .with_cpu(&meter);

    let day = presence::DayOptions {
        seconds: options.heartbeat_seconds,
        interval_ms: options.heartbeat_interval_ms,
        grace_ms: options.grace_ms,
    };
    let report = workload::run(&server, options.sites, options.concurrency, day).await?;

    // The machine's speed drifts (other processes, a virtual machine's neighbours): the JetStream
    // baseline runs again after the workload, and the two runs together are the limit.
    eprintln!("baseline again: request → JetStream publish (ack) → reply");
    let meter = measure::CpuMeter::start(&metered);
    let js_after = baseline::jetstream_append(&server.url(), storm_messages, options.concurrency, &payload, "after")
        .await?
        .with_cpu(&meter);
    let js = measure::Phase::combine(&js_before, &js_after);
    let results = measure::Results::new(options.sites, options.concurrency, core, js, report)
        .with_baseline_runs([js_before.per_second(), js_after.per_second()]);
    println!("{}", results.table());
    if let Some(dir) = options.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&options.out, serde_json::to_vec_pretty(&results.json())?)
        .with_context(|| format!("writing {}", options.out.display()))?;
    eprintln!("figures written to {}", options.out.display());
    Ok(())
}
