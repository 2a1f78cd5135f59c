//! A private `nats-server` with JetStream: free port, temporary store, killed on drop.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};

use crate::{repo_root, tail};

/// The oldest server version the services need (for JetStream features they use).
const MIN_VERSION: (u32, u32) = (2, 11);

/// Finds the `nats-server` to run: `NATS_SERVER_BIN`, then `<repo>/.tools/nats/bin/nats-server`,
/// then `nats-server` on `PATH` if its `--version` is >= 2.11.
///
/// # Errors
/// None found, with a message saying to run `deploy/install-nats.sh`.
pub fn find_nats_server() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("NATS_SERVER_BIN") {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        bail!("NATS_SERVER_BIN={} is not a file; unset it or run `deploy/install-nats.sh`", bin.display());
    }
    let local = repo_root().join(".tools/nats/bin/nats-server");
    if local.is_file() {
        return Ok(local);
    }
    if let Ok(out) = Command::new("nats-server").arg("--version").output() {
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.success() && parse_version(&text).is_some_and(|v| v >= MIN_VERSION) {
            return Ok(PathBuf::from("nats-server"));
        }
    }
    bail!(
        "no nats-server >= {}.{} found (looked at $NATS_SERVER_BIN, {}, and PATH): run `deploy/install-nats.sh`",
        MIN_VERSION.0,
        MIN_VERSION.1,
        local.display()
    )
}

/// Reads `major.minor` from `nats-server: v2.15.1`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let start = text.as_bytes().windows(2).position(|w| w[0] == b'v' && w[1].is_ascii_digit())? + 1;
    let mut parts = text[start..].split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
///
/// # Errors
/// The OS refused to bind.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running private `nats-server`.
#[derive(Debug)]
pub struct NatsServer {
    bin: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Extra lines of the `jetstream { }` block (e.g. `sync_interval: always`).
    jetstream_options: String,
}

impl NatsServer {
    /// Starts a server on a free port with JetStream in a fresh temporary directory and waits until
    /// it accepts connections and JetStream answers.
    ///
    /// # Errors
    /// No `nats-server`, or it did not come up (the error holds the tail of its log).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_jetstream("").await
    }

    /// [`Self::start`] with extra lines in the configuration's `jetstream { }` block, e.g.
    /// `sync_interval: always` (the benchmark's `--sync-always`).
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_with_jetstream(options: &str) -> anyhow::Result<Self> {
        let bin = find_nats_server()?;
        let dir = tempfile::Builder::new().prefix("hoinghi-test-").tempdir().context("create a temporary directory")?;
        let mut server = Self { bin, port: 0, dir, child: None, jetstream_options: options.to_owned() };
        let mut last = None;
        // Another process may grab the port between our probe and the server's bind: try a few.
        for _ in 0..3 {
            server.port = free_port()?;
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(e) => {
                    server.kill();
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("nats-server did not start")))
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary directory holding the config, the JetStream store and the logs (of the server and,
    /// by convention, of the services started by [`crate::Stack`]).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The JetStream store directory.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("jetstream")
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 5 s) and starts it again on the same
    /// port with the same store.
    ///
    /// # Errors
    /// It did not come back.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn_and_wait().await {
                Ok(()) => return Ok(()),
                // The port may linger for a moment after the old process exits.
                Err(e) if Instant::now() < deadline => {
                    self.kill();
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit (SIGKILL after 5 s).
    pub async fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let _ = crate::service::send_signal(child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                self.child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_path(), lines)
    }

    fn write_config(&self) -> anyhow::Result<PathBuf> {
        let store = self.store_dir();
        std::fs::create_dir_all(&store).context("create the JetStream store directory")?;
        let config = format!(
            "listen: 127.0.0.1:{port}\nmax_payload: 8MB\nmax_pending: 256MB\njetstream {{\n  store_dir: {store:?}\n  {options}\n}}\n",
            port = self.port,
            store = store.display().to_string(),
            options = self.jetstream_options,
        );
        let path = self.dir.path().join("nats-server.conf");
        std::fs::write(&path, config).context("write the nats-server config")?;
        Ok(path)
    }

    async fn spawn_and_wait(&mut self) -> anyhow::Result<()> {
        let config = self.write_config()?;
        let log = OpenOptions::new().create(true).append(true).open(self.log_path()).context("open the server log")?;
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawn {}", self.bin.display()))?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(10)).await
    }

    async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let url = self.url();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    bail!("nats-server exited ({status}) while starting; log:\n{}", self.log_tail(30));
                }
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                if let Ok(client) = async_nats::connect(&url).await {
                    let js = async_nats::jetstream::new(client.clone());
                    let ready = js.query_account().await.is_ok();
                    let _ = client.drain().await;
                    if ready {
                        return Ok(());
                    }
                }
            }
            if Instant::now() >= deadline {
                bail!("nats-server on {url} not ready within {timeout:?}; log:\n{}", self.log_tail(30));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        if std::env::var_os("HOINGHI_TEST_KEEP").is_some() {
            self.dir.disable_cleanup(true);
            eprintln!("kept the test directory {} (HOINGHI_TEST_KEEP is set)", self.dir.path().display());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::{parse_version, NatsServer};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restarted_server_keeps_its_port_and_its_streams() {
        let mut server = NatsServer::start().await.unwrap();
        let port = server.port();
        let client = async_nats::connect(server.url()).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "HARNESS_CHECK".into(),
            subjects: vec!["harness.check".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        js.publish("harness.check", "kept".into()).await.unwrap().await.unwrap();
        drop(js);
        drop(client);

        server.restart().await.unwrap();
        assert_eq!(server.port(), port);
        let client = async_nats::connect(server.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream("HARNESS_CHECK").await.unwrap();
        assert_eq!(stream.cached_info().state.messages, 1, "the store survives the restart");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ping_nobody_answers_returns_at_once() {
        let server = NatsServer::start().await.unwrap();
        let client = async_nats::connect(server.url()).await.unwrap();
        let started = std::time::Instant::now();
        let ids = crate::service::ping_ids(&client, crate::Service::Minutes, |_| false).await;
        assert!(ids.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_millis(200), "{:?}", started.elapsed());
    }

    #[test]
    fn the_server_version_is_read_from_its_banner() {
        assert_eq!(parse_version("nats-server: v2.15.1\n"), Some((2, 15)));
        assert_eq!(parse_version("nats-server: v2.9.0"), Some((2, 9)));
        assert_eq!(parse_version("garbage"), None);
    }
}
