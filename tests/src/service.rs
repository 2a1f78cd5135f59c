//! The service processes: where their binaries are, spawning, readiness, SIGKILL, SIGTERM, restart.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::tail;

/// One of the three services: the contract's own type. Its [`Service::name`] is the binary's name,
/// the micro-service name and the name of its log; its stream's name is `service.stream().name`.
pub use hoinghi_shared::Service;

/// Where the stacks keep a service's process: its place in [`Service::ALL`].
fn index(service: Service) -> usize {
    match service {
        Service::Scheduling => 0,
        Service::Attendance => 1,
        Service::Minutes => 2,
    }
}

/// The directory holding the service binaries: `HOINGHI_BIN_DIR`, else the target directory of the
/// running executable (`target/<profile>/deps/x` or `target/<profile>/x` -> `target/<profile>/`).
///
/// # Errors
/// The current executable's path is unknown.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("HOINGHI_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("the path of the running executable")?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of a service binary.
///
/// # Errors
/// Not built, with a message saying how to build it.
pub fn binary(service: Service) -> anyhow::Result<PathBuf> {
    let dir = bin_dir()?;
    let path = dir.join(service.name());
    if path.is_file() {
        Ok(path)
    } else {
        bail!(
            "{} not found in {}: run `cargo build --workspace --bins` first (deploy/test.sh does this), \
             or set HOINGHI_BIN_DIR to the directory holding the service binaries",
            service.name(),
            dir.display()
        )
    }
}

/// Sends a signal (`TERM`, `KILL`, `INT`, …) to a process with the `kill` command.
///
/// # Errors
/// `kill` could not be run or failed (e.g. no such process).
pub fn send_signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("run kill")?;
    if status.success() {
        Ok(())
    } else {
        bail!("kill -{signal} {pid} failed ({status})")
    }
}

/// The instance ids of every instance of `service` answering `$SRV.PING.<name>`: replies are
/// gathered for up to 250 ms (or none at all if nobody listens), or until `enough` says so.
pub async fn ping_ids(
    client: &async_nats::Client,
    service: Service,
    enough: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    use futures::StreamExt;
    let mut ids = Vec::new();
    let inbox = client.new_inbox();
    let Ok(mut replies) = client.subscribe(inbox.clone()).await else { return ids };
    let subject = format!("$SRV.PING.{}", service.name());
    // Without responders the server answers at once with a 503 status (no need to wait).
    if client.publish_with_reply(subject, inbox, "".into()).await.is_err() {
        return ids;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(250);
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, replies.next()).await {
        if message.status.is_some_and(|s| s == async_nats::StatusCode::NO_RESPONDERS) {
            break;
        }
        let ping: serde_json::Value = serde_json::from_slice(&message.payload).unwrap_or_default();
        if let Some(id) = ping.get("id").and_then(|v| v.as_str()) {
            ids.push(id.to_owned());
        }
        if enough(&ids) {
            break;
        }
    }
    ids
}

/// A service process (maybe stopped), restartable with the same settings.
#[derive(Debug)]
pub struct ServiceProcess {
    service: Service,
    bin: PathBuf,
    nats_url: String,
    log: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    instance_id: Option<String>,
    /// Instance ids of other processes of the same service, seen before this one was spawned.
    others: HashSet<String>,
}

impl ServiceProcess {
    /// A service that will talk to the server at `nats_url` and append its output to
    /// `<log_dir>/<name>.log`; not started yet.
    ///
    /// # Errors
    /// The binary is missing.
    pub fn new(service: Service, nats_url: &str, log_dir: &Path) -> anyhow::Result<Self> {
        Self::with_log(service, nats_url, log_dir.join(format!("{}.log", service.name())))
    }

    /// Like [`Self::new`], with the log file named (e.g. for a second instance of the same service).
    ///
    /// # Errors
    /// The binary is missing.
    pub fn with_log(service: Service, nats_url: &str, log: PathBuf) -> anyhow::Result<Self> {
        Ok(Self {
            service,
            bin: binary(service)?,
            nats_url: nats_url.to_owned(),
            log,
            env: Vec::new(),
            child: None,
            instance_id: None,
            others: HashSet::new(),
        })
    }

    /// Adds an environment variable for the next starts (e.g. `HOINGHI__SERVICE__MAX_IN_FLIGHT`).
    pub fn set_env(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.env.push((key.into(), value.into()));
    }

    /// Which service this is.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Its log file (stdout and stderr of every run, appended).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// The last lines of its log under a line naming the service and the file, for a failure report.
    pub fn log_report(&self, lines: usize) -> String {
        format!("----- {} ({})\n{}\n", self.service.name(), self.log.display(), self.log_tail(lines))
    }

    /// The process id, while started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The micro-service instance id that answered the last successful [`Self::wait_ready`].
    pub fn instance_id(&self) -> Option<&str> {
        self.instance_id.as_deref()
    }

    /// Whether the process is alive (reaps it if it exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(_) => {
                self.child = None;
                false
            }
            None => false,
        }
    }

    /// Spawns the process (if it is not running).
    ///
    /// # Errors
    /// The binary could not be spawned.
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let log = OpenOptions::new().create(true).append(true).open(&self.log).context("open the service log")?;
        let mut command = Command::new(&self.bin);
        command
            .env("HOINGHI__NATS__URL", &self.nats_url)
            .env("RUST_LOG", std::env::var("HOINGHI_TEST_LOG").unwrap_or_else(|_| "info".to_owned()))
            .env("NO_COLOR", "1")
            .env_remove("HOINGHI_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let child = command.spawn().with_context(|| format!("spawn {}", self.bin.display()))?;
        self.instance_id = None;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until this process answers `$SRV.PING.<name>` (which it does once its state is rebuilt).
    /// Other instances of the same service that were running when [`Self::start`] was called are told
    /// apart by their instance ids, so their answers do not count.
    ///
    /// # Errors
    /// It exited, or did not answer within `timeout` (the error holds the tail of its log).
    pub async fn wait_ready(&mut self, client: &async_nats::Client, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_running() {
                bail!("{} is not running (exited?); log:\n{}", self.service.name(), self.log_tail(40));
            }
            let ids = ping_ids(client, self.service, |ids| ids.iter().any(|id| !self.others.contains(id))).await;
            if let Some(id) = ids.into_iter().find(|id| !self.others.contains(id)) {
                self.instance_id = Some(id);
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{0} did not answer $SRV.PING.{0} within {timeout:?}; log:\n{1}",
                    self.service.name(),
                    self.log_tail(40)
                );
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Spawns the process and waits until it is ready (answers PING with an instance id that was not
    /// there before it was spawned).
    ///
    /// # Errors
    /// See [`Self::spawn`] and [`Self::wait_ready`].
    pub async fn start(&mut self, client: &async_nats::Client, timeout: Duration) -> anyhow::Result<()> {
        if self.is_running() {
            return self.wait_ready(client, timeout).await;
        }
        self.others = ping_ids(client, self.service, |_| false).await.into_iter().collect();
        self.spawn()?;
        self.wait_ready(client, timeout).await
    }

    /// Kills the process with SIGKILL (nothing is flushed, nothing is drained) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit; returns how it exited.
    ///
    /// # Errors
    /// Not running, or still alive after `timeout` (it is then killed).
    pub async fn terminate(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else { bail!("{} is not running", self.service.name()) };
        send_signal(child.id(), "TERM")?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                self.kill();
                bail!("{} still running {timeout:?} after SIGTERM; log:\n{}", self.service.name(), self.log_tail(40));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, then start again and wait until ready.
    ///
    /// # Errors
    /// It did not come back.
    pub async fn restart(&mut self, client: &async_nats::Client, timeout: Duration) -> anyhow::Result<()> {
        self.kill();
        self.start(client, timeout).await
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One process of each service, kept in the order of [`Service::ALL`]; the stacks' services.
#[derive(Debug)]
pub struct Services(Vec<ServiceProcess>);

impl Services {
    /// A process of each service for the server at `nats_url`, logging into `log_dir`, set up by
    /// `configure` (e.g. with credentials); none started yet.
    ///
    /// # Errors
    /// A binary is missing.
    pub fn new(nats_url: &str, log_dir: &Path, mut configure: impl FnMut(&mut ServiceProcess)) -> anyhow::Result<Self> {
        let mut processes = Vec::new();
        for service in Service::ALL {
            let mut process = ServiceProcess::new(service, nats_url, log_dir)?;
            configure(&mut process);
            processes.push(process);
        }
        Ok(Self(processes))
    }

    /// One service's process.
    pub fn get(&self, service: Service) -> &ServiceProcess {
        &self.0[index(service)]
    }

    /// One service's process, mutably.
    pub fn get_mut(&mut self, service: Service) -> &mut ServiceProcess {
        &mut self.0[index(service)]
    }

    /// Spawns the `running` services all at once, then waits until each answers `$SRV.PING` on
    /// `client`.
    ///
    /// # Errors
    /// One did not come up.
    pub async fn start(&mut self, running: &[Service], client: &async_nats::Client) -> anyhow::Result<()> {
        for &s in running {
            self.get_mut(s).spawn()?;
        }
        for &s in running {
            self.get_mut(s).wait_ready(client, crate::READY_TIMEOUT).await?;
        }
        Ok(())
    }

    /// The tails of their logs, then the tail of the server's log at `server_log`, for a failure
    /// report.
    pub fn logs(&self, server_log: &Path, lines: usize) -> String {
        let mut out: String = self.0.iter().map(|p| p.log_report(lines)).collect();
        out.push_str(&format!("----- nats-server\n{}\n", tail(server_log, lines / 2)));
        out
    }

    /// SIGKILLs every one of them.
    pub fn kill_all(&mut self) {
        for p in &mut self.0 {
            p.kill();
        }
    }
}
