//! `hoinghi presence beat <CONF> --site X [--every 5s] [--count N]`: a bridge's endpoint, sending
//! its heartbeat of live presence (`hoinghi.v1.presence.sites.<site>`, no reply) while it runs.
//! Attendance records the site `connected` at the first heartbeat of the session, `dropped` once no
//! heartbeat came for the grace period, `rejoined` at the next one; `hoinghi attendance roster`
//! shows each bridge's state, intervals and total.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Subcommand;
use hoinghi_shared::{ConferenceId, SiteId};

use super::Ctx;

/// `hoinghi presence …`.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Heartbeat for a site's bridge (its endpoint loop): one every `--every` until `--count` are
    /// sent (forever without it) or Ctrl-C.
    Beat {
        /// The conference id.
        conference: ConferenceId,
        /// The bridge's site (acting for it; the server lets a site heartbeat only for itself).
        #[arg(long)]
        site: SiteId,
        /// The interval, e.g. `5s`, `500ms`, `1m` (the service's `presence.heartbeat_interval_ms`,
        /// 5 s by default; the grace period is 15 s).
        #[arg(long, default_value = "5s", value_parser = parse_interval)]
        every: Duration,
        /// Stop after this many heartbeats.
        #[arg(long)]
        count: Option<u64>,
    },
}

/// `5s`, `500ms`, `1m`, or a number of seconds.
///
/// # Errors
/// Anything else, or zero.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = number.parse().map_err(|_| format!("{s:?}: expected e.g. 5s, 500ms or 1m"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("{s:?}: the unit is ms, s or m")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("{s:?}: must be more than zero"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Runs the command.
///
/// # Errors
/// No connection.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Beat { conference, site, every, count } => {
            let api = ctx.client().await?;
            let mut ticker = tokio::time::interval(every);
            let mut sent = 0u64;
            while count.is_none_or(|c| sent < c) {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    _ = ticker.tick() => {}
                }
                api.heartbeat(&site, conference).await?;
                sent += 1;
            }
            api.nats().flush().await?;
            if !ctx.json {
                eprintln!("{site}: {sent} heartbeats sent for {conference}, every {every:?}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The demo's bridges on the line: each of `sites` heartbeats every second on its own connection
/// (`client_of`) until the returned guard is dropped; `dropping` stops for longer than the grace
/// period (the service's default, 15 s), is recorded dropped, resumes and is recorded rejoined. The
/// roster is read through `secretariat`. Prints what happened.
///
/// # Errors
/// A heartbeat could not be sent, or a transition did not show within `wait` past the grace period.
pub async fn demo_drop_and_rejoin(
    secretariat: &hoinghi_client::Api,
    client_of: impl Fn(&SiteId) -> anyhow::Result<hoinghi_client::Api>,
    conference: ConferenceId,
    sites: &[SiteId],
    dropping: &SiteId,
    wait: Duration,
) -> anyhow::Result<DemoBridges> {
    use hoinghi_shared::presence::PresenceState;
    let every = Duration::from_secs(1);
    let mut bridges = DemoBridges { tasks: Vec::new(), dropping: None };
    for site in sites {
        let (api, site_id, on) = (client_of(site)?, site.clone(), std::sync::Arc::new(AtomicBool::new(true)));
        let flag = on.clone();
        bridges.tasks.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                if flag.load(Ordering::Relaxed) {
                    let _ = api.heartbeat(&site_id, conference).await;
                }
            }
        }));
        if site == dropping {
            bridges.dropping = Some(on);
        }
    }
    let state_of = async |site: &SiteId| -> Option<hoinghi_shared::presence::SitePresence> {
        let roster = secretariat.roster(conference).await.ok()?;
        roster.sites.into_iter().find(|l| &l.site_id == site).and_then(|l| l.presence)
    };
    let until = async |site: &SiteId, want: PresenceState, within: Duration| -> anyhow::Result<Duration> {
        let started = std::time::Instant::now();
        loop {
            if state_of(site).await.is_some_and(|p| p.state == want) {
                return Ok(started.elapsed());
            }
            anyhow::ensure!(started.elapsed() < within, "{site} was not {want:?} within {within:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let took = until(dropping, PresenceState::Connected, wait).await?;
    println!(
        "         {} bridges heartbeat every {every:?}; {dropping} connected after {:.1}s",
        sites.len(),
        took.as_secs_f64()
    );
    // A moment on the line first, so its first interval is not empty.
    tokio::time::sleep(every * 3).await;
    if let Some(on) = &bridges.dropping {
        on.store(false, Ordering::Relaxed);
    }
    println!("         {dropping}'s line fails (no heartbeat) …");
    let took = until(dropping, PresenceState::Dropped, wait + Duration::from_secs(16)).await?;
    println!("         {dropping} recorded dropped after {:.1}s of silence (grace period 15 s)", took.as_secs_f64());
    if let Some(on) = &bridges.dropping {
        on.store(true, Ordering::Relaxed);
    }
    let took = until(dropping, PresenceState::Connected, wait).await?;
    if let Some(p) = state_of(dropping).await {
        println!("         {dropping} rejoined after {:.1}s: {}", took.as_secs_f64(), crate::output::presence_note(&p));
    }
    Ok(bridges)
}

/// The demo's heartbeating bridges; dropping it stops them.
pub struct DemoBridges {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    dropping: Option<std::sync::Arc<AtomicBool>>,
}

impl Drop for DemoBridges {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse() {
        assert_eq!(parse_interval("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_interval("2"), Ok(Duration::from_secs(2)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5h").is_err());
    }
}
