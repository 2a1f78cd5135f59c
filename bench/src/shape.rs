//! The contract's shape in raw NATS: the storm's messages, one for one, with nothing of hoinghi in
//! the way, and what each element of the contract adds to them.
//!
//! The JetStream baseline (`baseline::jetstream_append`) is the least a durable request can cost: a
//! 214-byte request, one header, an 11-byte reply, one connection. A storm command asks more of NATS
//! than that, whatever the service does with its CPU:
//! - the request arrives on the service's *API identity*, which may publish only to inboxes, and the
//!   event is appended through a *second connection*, the identity that writes the log
//!   (docs/SECURITY.md);
//! - the event is the contract's envelope (ids, actor, command id, trace id; ≈ 600 bytes for a
//!   confirmation with two delegates) with three headers: the command id as `Nats-Msg-Id` and the
//!   optimistic-concurrency condition, `Nats-Expected-Last-Subject-Sequence` over the site's subject
//!   filter (`…-Subject`);
//! - the change goes out on the conference's live subject for the boards;
//! - the reply is the site's roster line (≈ 450 bytes).
//!
//! [`run_all`] sends the storm's own requests, in its order, to a raw responder that does exactly
//! that with prepared bytes (the real envelopes, encoded before the clock starts; the storm's own
//! replies), then again with one element taken away (or the condition narrowed to the event's own
//! subject) at a time. Each run is metered like the
//! baselines (the nats-server, and this process: the client and the responder), so the storm can be
//! read against the least its contract costs, and the contract against the baseline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use async_nats::jetstream;
use bytes::Bytes;
use futures::StreamExt;
use hoinghi_tests::NatsServer;
use serde::Serialize;

use crate::baseline::file_stream;
use crate::measure::{drive, CpuMeter, Phase};

/// One of the storm's commands as the shape sends it.
pub struct Command {
    /// The site's index (the aggregate whose last sequence the condition names).
    pub site: usize,
    /// The request's body.
    pub request: Bytes,
    /// The event's subject below the run's prefix (`<conference>.<site>.<type>`).
    pub event_subject: String,
    /// The site's filter below the run's prefix (`<conference>.<site>.*`).
    pub filter: String,
    /// The encoded event envelope.
    pub event: Bytes,
    /// The reply the storm got for this kind of command.
    pub reply: Bytes,
}

/// The optimistic-concurrency condition an append carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    /// The contract's: the last sequence over the site's subject filter (`<conference>.<site>.*`),
    /// so that an event of any type on the site's aggregate since the decision refuses the append.
    SiteFilter,
    /// Over the event's own subject only, a literal (what the server checks cheaply; not the
    /// contract's, whose aggregates span one subject per event type).
    OwnSubject,
    /// None.
    None,
}

/// What a run keeps of the contract.
#[derive(Debug, Clone, Copy)]
struct Variant {
    /// Short name (JSON key).
    name: &'static str,
    /// What it is, for the table.
    what: &'static str,
    /// The event goes through a second connection (the identity that writes the log).
    two_connections: bool,
    /// The optimistic-concurrency condition.
    condition: Condition,
    /// The contract's event and reply; otherwise the request's bytes and an 11-byte reply, as the
    /// baseline.
    contract_sizes: bool,
    /// The change on the live subject.
    live: bool,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        name: "contract",
        what: "raw NATS, the storm's shape",
        two_connections: true,
        condition: Condition::SiteFilter,
        contract_sizes: true,
        live: true,
    },
    Variant {
        name: "one_connection",
        what: "  … on one connection",
        two_connections: false,
        condition: Condition::SiteFilter,
        contract_sizes: true,
        live: true,
    },
    Variant {
        name: "own_subject_condition",
        what: "  … condition on the event's own subject",
        two_connections: true,
        condition: Condition::OwnSubject,
        contract_sizes: true,
        live: true,
    },
    Variant {
        name: "no_condition",
        what: "  … without the concurrency condition",
        two_connections: true,
        condition: Condition::None,
        contract_sizes: true,
        live: true,
    },
    Variant {
        name: "baseline_sizes",
        what: "  … with the baseline's message sizes",
        two_connections: true,
        condition: Condition::SiteFilter,
        contract_sizes: false,
        live: true,
    },
    Variant {
        name: "no_live",
        what: "  … without the live change",
        two_connections: true,
        condition: Condition::SiteFilter,
        contract_sizes: true,
        live: false,
    },
];

/// One measured run.
#[derive(Debug, Clone)]
pub struct ShapeRun {
    /// Short name.
    pub name: &'static str,
    /// What it is.
    pub what: &'static str,
    /// The figures.
    pub phase: Phase,
}

/// What [`run_all`] reports, as JSON.
#[derive(Debug, Serialize)]
struct RunJson {
    name: &'static str,
    commands_per_s: f64,
    p50_us: u64,
    p99_us: u64,
    cpu_us_per_command: std::collections::BTreeMap<String, f64>,
}

/// The runs as JSON, each with its throughput and latency.
pub fn json(runs: &[ShapeRun]) -> serde_json::Value {
    let runs: Vec<RunJson> = runs
        .iter()
        .map(|r| RunJson {
            name: r.name,
            commands_per_s: r.phase.per_second().round(),
            p50_us: r.phase.percentile(50.0),
            p99_us: r.phase.percentile(99.0),
            cpu_us_per_command: r.phase.cpu_us.clone(),
        })
        .collect();
    serde_json::to_value(runs).unwrap_or_default()
}

/// Runs the contract's shape and each variant once, `concurrency` requests in flight, metered.
///
/// # Errors
/// NATS unreachable or a request failed.
pub async fn run_all(server: &NatsServer, concurrency: usize, commands: Vec<Command>) -> anyhow::Result<Vec<ShapeRun>> {
    let commands = Arc::new(commands);
    let metered = [("nats-server", server.pid()), ("bench client + responder", Some(std::process::id()))];
    let mut runs = Vec::with_capacity(VARIANTS.len());
    for variant in VARIANTS {
        let meter = CpuMeter::start(&metered);
        let phase = run(&server.url(), concurrency, commands.clone(), variant)
            .await
            .with_context(|| format!("the contract's shape ({})", variant.name))?
            .with_cpu(&meter);
        runs.push(ShapeRun { name: variant.name, what: variant.what, phase });
    }
    Ok(runs)
}

async fn run(url: &str, concurrency: usize, commands: Arc<Vec<Command>>, variant: Variant) -> anyhow::Result<Phase> {
    let api = async_nats::connect(url).await?;
    let store = if variant.two_connections { async_nats::connect(url).await? } else { api.clone() };
    let js = jetstream::new(store.clone());
    let prefix = format!("bench.shape.{}", variant.name);
    js.get_or_create_stream(file_stream(
        &format!("BENCH_SHAPE_{}", variant.name.to_uppercase()),
        &format!("{prefix}.>"),
    ))
    .await
    .map_err(|e| anyhow::anyhow!("creating the shape's stream: {e}"))?;
    let sites = commands.iter().map(|c| c.site + 1).max().unwrap_or(0);
    // The last sequence of each site's aggregate, as the service's state knows it.
    let last: Arc<Vec<AtomicU64>> = Arc::new((0..sites).map(|_| AtomicU64::new(0)).collect());
    // Subjects are formatted before the clock starts, as the storm's requests are built.
    let events: Arc<Vec<(String, String)>> = Arc::new(
        commands.iter().map(|c| (format!("{prefix}.{}", c.event_subject), format!("{prefix}.{}", c.filter))).collect(),
    );
    let requests: Arc<Vec<String>> =
        Arc::new((0..commands.len()).map(|i| format!("bench.shape_request.{}.{i}", variant.name)).collect());
    let live = format!("bench.shape_live.{}", variant.name);
    let small_reply = Bytes::from_static(b"{\"ok\":true}");

    let mut sub = api.subscribe(format!("bench.shape_request.{}.*", variant.name)).await?;
    let (responder_api, responder_commands) = (api.clone(), commands.clone());
    let responder = tokio::spawn(async move {
        while let Some(message) = sub.next().await {
            let (js, api, store, last, events, commands, live, small_reply) = (
                js.clone(),
                responder_api.clone(),
                store.clone(),
                last.clone(),
                events.clone(),
                responder_commands.clone(),
                live.clone(),
                small_reply.clone(),
            );
            tokio::spawn(async move {
                let Some(i) = message.subject.as_str().rsplit('.').next().and_then(|t| t.parse::<usize>().ok()) else {
                    return;
                };
                let (Some(command), Some((subject, filter))) = (commands.get(i), events.get(i)) else { return };
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", uuid::Uuid::new_v4().to_string().as_str());
                match variant.condition {
                    Condition::SiteFilter => {
                        let expect = last[command.site].load(Ordering::Acquire);
                        headers.insert("Nats-Expected-Last-Subject-Sequence", expect.to_string().as_str());
                        headers.insert("Nats-Expected-Last-Subject-Sequence-Subject", filter.as_str());
                    }
                    // Every event of the storm is the first on its own subject.
                    Condition::OwnSubject => headers.insert("Nats-Expected-Last-Subject-Sequence", "0"),
                    Condition::None => {}
                }
                let event = if variant.contract_sizes { command.event.clone() } else { message.payload.clone() };
                let acked = match js.publish_with_headers(subject.clone(), headers, event).await {
                    Ok(ack) => ack.await.ok(),
                    Err(_) => None,
                };
                if let Some(ack) = &acked {
                    last[command.site].store(ack.sequence, Ordering::Release);
                    if variant.live {
                        let _ = store.publish(live, command.event.clone()).await;
                    }
                }
                if let Some(reply) = message.reply {
                    let body = match (&acked, variant.contract_sizes) {
                        (None, _) => Bytes::new(),
                        (Some(_), true) => command.reply.clone(),
                        (Some(_), false) => small_reply,
                    };
                    let _ = api.publish(reply, body).await;
                }
            });
        }
    });
    api.flush().await?;

    let client = async_nats::connect(url).await?;
    client.flush().await?;
    let phase = drive(commands.len(), concurrency, |i| {
        let (client, subject, body) = (client.clone(), requests[i].clone(), commands[i].request.clone());
        async move {
            let reply = client.request(subject, body).await.context("a request of the contract's shape")?;
            anyhow::ensure!(!reply.payload.is_empty(), "an append of the contract's shape failed");
            Ok(())
        }
    })
    .await;
    responder.abort();
    phase
}
