//! `hoinghi status` and `hoinghi ping`: service discovery over the NATS micro-service API.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use async_nats::service::{Info, PingResponse};
use bytes::Bytes;
use clap::Args;
use futures::StreamExt;

use hoinghi_shared::subjects::discovery;
use hoinghi_shared::Service;

use super::Ctx;
use crate::output;

/// The services of a complete stack, by micro-service name.
pub const SERVICES: [&str; 3] = [Service::Scheduling.name(), Service::Attendance.name(), Service::Minutes.name()];

/// `hoinghi status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How long to collect answers, in seconds.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    wait: f64,
}

/// `hoinghi ping`.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Service names (default: the three hoinghi services).
    names: Vec<String>,
    /// Keep trying this many seconds before giving up.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    wait: f64,
}

fn seconds(s: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| anyhow::anyhow!("{flag} must be a number of seconds"))
}

/// Sends one request and gathers every answer that arrives within `window`.
async fn gather(ctx: &Ctx, subject: &str, window: Duration) -> anyhow::Result<Vec<Bytes>> {
    let nats = ctx.client().await?.nats();
    let inbox = nats.new_inbox();
    let mut sub = nats.subscribe(inbox.clone()).await?;
    nats.publish_with_reply(subject.to_owned(), inbox, Bytes::new()).await?;
    nats.flush().await?;
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, sub.next()).await {
        if message.status.is_none() {
            out.push(message.payload);
        }
    }
    Ok(out)
}

/// Lists the services that answer `$SRV.INFO`; exits 1 unless all three hoinghi services answer.
///
/// # Errors
/// Transport failures.
pub async fn status(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let window = seconds(args.wait, "--wait")?;
    let answers = gather(ctx, discovery::INFO, window).await?;
    let mut infos: BTreeMap<(String, String), Info> = BTreeMap::new();
    for payload in answers {
        if let Ok(info) = serde_json::from_slice::<Info>(&payload) {
            infos.insert((info.name.clone(), info.id.clone()), info);
        }
    }
    let missing: Vec<&str> = SERVICES.iter().copied().filter(|s| !infos.keys().any(|(name, _)| name == s)).collect();
    if ctx.json {
        let list: Vec<&Info> = infos.values().collect();
        output::print_json(&serde_json::json!({ "services": list, "missing": missing }))?;
    } else {
        let rows: Vec<Vec<String>> = infos
            .values()
            .map(|i| {
                let subjects: Vec<&str> = i.endpoints.iter().map(|e| e.subject.as_str()).collect();
                vec![i.name.clone(), i.id.clone(), i.version.clone(), subjects.len().to_string(), i.description.clone()]
            })
            .collect();
        if rows.is_empty() {
            println!("no micro service answered $SRV.INFO on this NATS within {:.1}s", window.as_secs_f64());
        } else {
            print!("{}", output::table(&["SERVICE", "INSTANCE", "VERSION", "ENDPOINTS", "DESCRIPTION"], &rows));
        }
        if missing.is_empty() {
            println!("all hoinghi services are up");
        } else {
            println!("not answering: {}", missing.join(", "));
        }
    }
    Ok(if missing.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Pings each named service until it answers or `--wait` runs out.
///
/// # Errors
/// A service that never answered, or transport failures.
pub async fn ping(ctx: &Ctx, args: PingArgs) -> anyhow::Result<ExitCode> {
    let wait = seconds(args.wait, "--wait")?;
    let names: Vec<String> =
        if args.names.is_empty() { SERVICES.iter().map(|s| (*s).to_owned()).collect() } else { args.names };
    let started = Instant::now();
    let mut failed = Vec::new();
    for name in &names {
        let subject = discovery::ping(name);
        loop {
            let sent = Instant::now();
            match ctx.client().await?.send(&subject, Bytes::new(), None).await {
                Ok(message) => {
                    let pong: Option<PingResponse> = serde_json::from_slice(&message.payload).ok();
                    let rtt = sent.elapsed();
                    if ctx.json {
                        output::print_json(&serde_json::json!({
                            "name": name, "up": true, "rtt_ms": rtt.as_secs_f64() * 1000.0,
                            "id": pong.as_ref().map(|p| p.id.clone()),
                            "version": pong.as_ref().map(|p| p.version.clone()),
                        }))?;
                    } else {
                        let detail =
                            pong.map(|p| format!(" (instance {}, version {})", p.id, p.version)).unwrap_or_default();
                        println!("{name}: up{detail}, {:.1} ms", rtt.as_secs_f64() * 1000.0);
                    }
                    break;
                }
                Err(e) => {
                    if e.is_transient() && started.elapsed() < wait {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    if ctx.json {
                        output::print_json(&serde_json::json!({ "name": name, "up": false, "error": e.to_string() }))?;
                    } else {
                        println!("{name}: DOWN: {e:#}");
                    }
                    failed.push(name.clone());
                    break;
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        anyhow::bail!("not answering after {:.1}s: {}", started.elapsed().as_secs_f64(), failed.join(", "))
    }
}
