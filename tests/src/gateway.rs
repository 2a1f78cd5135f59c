//! The HTTP gateway as a process, like the services ([`crate::service`]): `hoinghi-gateway` from the
//! same binary directory, configured through `HOINGHI__…` variables (listen address on a free port,
//! the NATS URL, the deployment directory of a [`crate::secure::SecureStack`]), its log captured,
//! ready once `/healthz` answers; plus tokens issued into the deployment directory and a small
//! HTTP client for the tests.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::nats::free_port;
use crate::tail;

/// The gateway binary's name.
pub const BINARY: &str = "hoinghi-gateway";

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    dir: PathBuf,
}

impl Gateway {
    /// Starts a gateway on a free port, acting with the identities of `deployment_dir`, talking
    /// to NATS at `nats_url`, with `env` added (e.g. `HOINGHI__LIMITS__REQUESTS_PER_SECOND`); waits
    /// until it answers.
    ///
    /// # Errors
    /// The binary is missing, or it did not come up within 20 s (its log is in the error).
    pub async fn start(
        nats_url: &str,
        deployment_dir: &Path,
        log_dir: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let bin = crate::service::bin_dir()?.join(BINARY);
        if !bin.is_file() {
            bail!("{} not found: run `cargo build --workspace --bins` first", bin.display());
        }
        let log = log_dir.join("hoinghi-gateway.log");
        let port = free_port()?;
        let out = OpenOptions::new().create(true).append(true).open(&log).context("open the gateway's log")?;
        let mut command = Command::new(&bin);
        command
            .env("HOINGHI__HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("HOINGHI__NATS__URL", nats_url)
            .env("HOINGHI__DEPLOYMENT__DIR", deployment_dir)
            .env("RUST_LOG", std::env::var("HOINGHI_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            .stdin(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| format!("spawn {}", bin.display()))?;
        let mut gateway = Self { child: Some(child), port, log, dir: deployment_dir.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/healthz", gateway.url())).await {
                if response.status().is_success() {
                    return Ok(gateway);
                }
            }
            if let Some(child) = gateway.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    bail!("the gateway exited ({status}):\n{}", gateway.log_tail(40));
                }
            }
            if Instant::now() > deadline {
                bail!("the gateway did not answer /healthz within 20 s:\n{}", gateway.log_tail(40));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Issues a token for `identity` (what `hoinghi admin token issue` does).
    ///
    /// # Errors
    /// No credentials for the identity.
    pub fn token(&self, identity: &str) -> anyhow::Result<String> {
        Ok(hoinghi_gateway::tokens::issue(&self.dir, identity)?.0)
    }

    /// The last lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// The whole log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it with SIGTERM and waits up to `timeout` for it to exit; its exit status.
    ///
    /// # Errors
    /// Not running, or still running after `timeout` (then it is killed).
    pub async fn terminate(&mut self, timeout: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let mut child = self.child.take().context("the gateway is not running")?;
        crate::service::send_signal(child.id(), "TERM")?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the gateway did not stop within {timeout:?} of SIGTERM:\n{}", self.log_tail(20));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A reply as the tests look at it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// The body as JSON (`null` if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `POST url` with a JSON body, a bearer token (if any) and extra headers.
///
/// # Errors
/// The request could not be made.
pub async fn post(
    url: &str,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> anyhow::Result<Reply> {
    let client = reqwest::Client::new();
    let mut request = client.post(url).header("content-type", "application/json").body(body);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    reply(request.send().await?).await
}

/// `GET url` with a bearer token (if any).
///
/// # Errors
/// The request could not be made.
pub async fn get(url: &str, token: Option<&str>) -> anyhow::Result<Reply> {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    reply(request.send().await?).await
}

async fn reply(response: reqwest::Response) -> anyhow::Result<Reply> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = response.text().await?;
    Ok(Reply { status, headers, body })
}
