//! A private deployment with authentication on: NATS decentralized JWT authentication made by the
//! same code as `hoinghi admin init` ([`hoinghi_credentials::Deployment`]), a `nats-server` running
//! the configuration it writes (operator mode, full resolver), the three services each with its own
//! identity, and connections as any identity. Identities can be minted while the server runs
//! ([`SecureStack::add_site`], [`SecureStack::add_person`]: no reload), revoked and rotated (the
//! account JWT pushed over the system account, as `hoinghi admin revoke|rotate` does).
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! let stack = hoinghi_tests::secure::SecureStack::start(&["ba-be", "na-ri"]).await?;
//! let ba_be = stack.connect("site-ba-be").await?;
//! let attempt = ba_be.attempt("hoinghi.v1.attendance.sites.na-ri.confirm", "{}").await;
//! assert!(attempt.is_refused());
//! # Ok(()) }
//! ```

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use hoinghi_credentials::{self as credentials, Deployment, ServerSettings, Tls};
use hoinghi_shared::roles::Role;
use hoinghi_shared::SiteId;
use tokio::sync::broadcast;

use crate::client::{Api, RawReply, REQUEST_TIMEOUT};
use crate::counts;
use crate::nats::{find_nats_server, free_port};
use crate::service::{send_signal, Service, Services};
use crate::tail;

/// How long [`Conn::attempt`] waits for the server to report a refusal (or for a reply).
pub const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);

/// PEM files of a test certificate authority and a server certificate for 127.0.0.1 signed by it.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA certificate (clients trust it).
    pub ca: PathBuf,
    /// The server certificate.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
}

impl TestCerts {
    /// Makes a CA and a server certificate (SAN `IP:127.0.0.1`, `DNS:localhost`) with `openssl` in
    /// `dir`.
    ///
    /// # Errors
    /// `openssl` is missing or failed.
    pub fn generate(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let certs = Self { ca: dir.join("ca.pem"), cert: dir.join("server.pem"), key: dir.join("server.key") };
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )?;
        let ca_key = dir.join("ca.key");
        let csr = dir.join("server.csr");
        let p = |p: &Path| p.display().to_string();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca_args = vec!["req", "-x509"];
        ca_args.extend(ec);
        let (ca_key_s, ca_s) = (p(&ca_key), p(&certs.ca));
        ca_args.extend([
            "-keyout",
            &ca_key_s,
            "-out",
            &ca_s,
            "-days",
            "2",
            "-subj",
            "/CN=hoinghi test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&ca_args)?;
        let mut csr_args = vec!["req"];
        csr_args.extend(ec);
        let (key_s, csr_s) = (p(&certs.key), p(&csr));
        csr_args.extend(["-keyout", &key_s, "-out", &csr_s, "-subj", "/CN=127.0.0.1"]);
        openssl(&csr_args)?;
        let (cert_s, ext_s) = (p(&certs.cert), p(&ext));
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr_s,
            "-CA",
            &ca_s,
            "-CAkey",
            &ca_key_s,
            "-CAcreateserial",
            "-out",
            &cert_s,
            "-days",
            "2",
            "-extfile",
            &ext_s,
        ])?;
        Ok(certs)
    }
}

fn openssl(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("openssl").args(args).output().context("run openssl (is it installed?)")?;
    if !out.status.success() {
        bail!("openssl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// What a request that may be refused came to.
#[derive(Debug)]
pub enum Attempt {
    /// The server refused it; the report it sent.
    Refused(String),
    /// A service answered.
    Answered(RawReply),
    /// Neither within [`REFUSAL_TIMEOUT`] (or a transport error, with its text).
    Nothing(String),
}

impl Attempt {
    /// Whether the server refused it.
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

/// A connection as one identity, recording what the server refused it.
#[derive(Debug, Clone)]
pub struct Conn {
    /// The identity.
    pub identity: String,
    /// The typed client on this connection.
    pub api: Api,
    reports: broadcast::Sender<String>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Conn {
    /// The NATS connection.
    pub fn nats(&self) -> &async_nats::Client {
        self.api.nats()
    }

    /// Every event reported on this connection so far (server errors such as refusals,
    /// disconnections, failed reconnections).
    pub fn reports(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits for a report mentioning `needle` (case-insensitive), for at most `timeout`.
    ///
    /// # Errors
    /// None came.
    pub async fn wait_report(&self, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        let mut rx = self.reports.subscribe();
        let needle = needle.to_lowercase();
        if let Some(found) = self.reports().into_iter().find(|r| r.to_lowercase().contains(&needle)) {
            return Ok(found);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(report)) if report.to_lowercase().contains(&needle) => return Ok(report),
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => {
                    bail!("{}: no server report mentioning {needle:?}; reports: {:?}", self.identity, self.reports())
                }
            }
        }
    }

    /// Sends a request and waits for the server's refusal of its publish or for a reply.
    pub async fn attempt(&self, subject: &str, body: impl Into<Bytes>) -> Attempt {
        let mut rx = self.reports.subscribe();
        let wanted = format!("publish to \"{subject}\"").to_lowercase();
        let request = async_nats::Request::new().payload(body.into()).timeout(Some(REFUSAL_TIMEOUT));
        let sent = self.nats().send_request(subject.to_owned(), request);
        tokio::pin!(sent);
        loop {
            tokio::select! {
                outcome = &mut sent => {
                    return match outcome {
                        Ok(message) => Attempt::Answered(RawReply::from(message)),
                        Err(e) => {
                            // The refusal may have been reported just before the request timed out.
                            match self.reports().into_iter().find(|r| r.to_lowercase().contains(&wanted)) {
                                Some(report) => Attempt::Refused(report),
                                None => Attempt::Nothing(e.to_string()),
                            }
                        }
                    };
                }
                report = rx.recv() => {
                    if let Ok(report) = report {
                        if report.to_lowercase().contains(&wanted) {
                            return Attempt::Refused(report);
                        }
                    }
                }
            }
        }
    }
}

/// Server + services + credentials, with authentication on.
#[derive(Debug)]
pub struct SecureStack {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    server: Option<Child>,
    services: Services,
    tls: Option<TestCerts>,
    /// Held while the deployment directory changes (the directory is the state: `hoinghi admin`
    /// commands run by a test change it too).
    changing: Mutex<()>,
    /// The secretariat's connection (also used to wait for the services).
    pub secretariat: Conn,
}

impl SecureStack {
    /// Makes a deployment with the secretariat, the services' identities, `sites` and the
    /// scenario's persons (its co-chairs and minute-taker, `person-<id>`), starts the server with it
    /// and the three services, each with its own credentials, and waits until every service answers.
    ///
    /// # Errors
    /// Anything that did not come up.
    pub async fn start(sites: &[&str]) -> anyhow::Result<Self> {
        Self::start_with(sites, false, &Service::ALL).await
    }

    /// Like [`Self::start`], with the server requiring TLS (a test CA made with `openssl`).
    ///
    /// # Errors
    /// Anything that did not come up.
    pub async fn start_tls(sites: &[&str]) -> anyhow::Result<Self> {
        Self::start_with(sites, true, &Service::ALL).await
    }

    /// Starts the server with `tls` on or off, and only the `running` services.
    ///
    /// # Errors
    /// Anything that did not come up.
    pub async fn start_with(sites: &[&str], tls: bool, running: &[Service]) -> anyhow::Result<Self> {
        let bin = find_nats_server()?;
        let dir =
            tempfile::Builder::new().prefix("hoinghi-secure-").tempdir().context("create a temporary directory")?;
        let sites: Vec<SiteId> =
            sites.iter().map(|s| SiteId::parse(s).map_err(|e| anyhow!("{s}: {e}"))).collect::<anyhow::Result<_>>()?;
        let certs = if tls { Some(TestCerts::generate(&dir.path().join("tls"))?) } else { None };
        let mut last = None;
        let mut identities = credentials::base_identities();
        identities.extend(sites.iter().map(credentials::site_identity));
        let persons = crate::scenario::CHAIR_PERSONS.into_iter().chain([crate::scenario::MINUTE_TAKER]);
        identities.extend(persons.map(|p| format!("person-{p}")).filter(|i| Role::from_identity(i).is_some()));
        for attempt in 0..3 {
            let port = free_port()?;
            let server = ServerSettings {
                listen: format!("127.0.0.1:{port}"),
                store_dir: dir.path().join("store").display().to_string(),
                resolver_dir: dir.path().join("resolver").display().to_string(),
                tls: certs.as_ref().map(|c| Tls {
                    cert: c.cert.display().to_string(),
                    key: c.key.display().to_string(),
                    verify_clients_ca: None,
                }),
            };
            let creds_dir = dir.path().join("auth");
            let mut deployment = Deployment::init(&creds_dir, server, attempt > 0)?;
            deployment.add_all(&identities)?;
            let mut child = Some(spawn_server(&bin, dir.path())?);
            match wait_server(&mut child, port, &creds_dir, certs.as_ref(), &dir.path().join("nats-server.log")).await {
                Ok(()) => {
                    let url = format!("nats://127.0.0.1:{port}");
                    let services = Services::new(&url, dir.path(), |p| {
                        let identity = credentials::service_identity(p.service());
                        let creds = credentials::creds_path(&creds_dir, &identity);
                        p.set_env("HOINGHI__NATS__CREDS", creds.display().to_string());
                        let api = credentials::service_api_identity(p.service());
                        p.set_env(
                            "HOINGHI__NATS__API_CREDS",
                            credentials::creds_path(&creds_dir, &api).display().to_string(),
                        );
                        if let Some(c) = &certs {
                            p.set_env("HOINGHI__NATS__TLS_CA", c.ca.display().to_string());
                        }
                    })?;
                    let secretariat = connect(port, &creds_dir, certs.as_ref(), "secretariat", None).await?;
                    let mut stack = Self {
                        dir,
                        bin,
                        port,
                        server: child,
                        services,
                        tls: certs.clone(),
                        changing: Mutex::new(()),
                        secretariat,
                    };
                    let client = stack.secretariat.nats().clone();
                    stack.services.start(running, &client).await?;
                    return Ok(stack);
                }
                Err(e) => {
                    if let Some(mut c) = child {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
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

    /// The deployment directory (what `hoinghi admin init --dir` wrote).
    pub fn creds_dir(&self) -> PathBuf {
        self.dir.path().join("auth")
    }

    /// The credentials file of an identity.
    pub fn creds(&self, identity: &str) -> PathBuf {
        credentials::creds_path(&self.creds_dir(), identity)
    }

    /// The deployment as its directory holds it now, and the guard that keeps other changes out.
    fn deployment(&self) -> anyhow::Result<(std::sync::MutexGuard<'_, ()>, Deployment)> {
        let guard = self.changing.lock().unwrap_or_else(|e| e.into_inner());
        Ok((guard, Deployment::open(&self.creds_dir())?))
    }

    /// Mints an identity while the server runs (a user JWT signed by the account and its `.creds`
    /// file, as `hoinghi admin add-site|add-person` does; no server contact, no reload) and returns
    /// its credentials file.
    ///
    /// # Errors
    /// A name that is no identity, or one that exists already.
    pub fn add_identity(&self, identity: &str) -> anyhow::Result<PathBuf> {
        self.deployment()?.1.add(identity)
    }

    /// [`Self::add_identity`] of `site-<id>`.
    ///
    /// # Errors
    /// As [`Self::add_identity`].
    pub fn add_site(&self, id: &str) -> anyhow::Result<PathBuf> {
        self.add_identity(&format!("site-{id}"))
    }

    /// [`Self::add_identity`] of `person-<id>` (a chair or a minute-taker).
    ///
    /// # Errors
    /// As [`Self::add_identity`].
    pub fn add_person(&self, id: &str) -> anyhow::Result<PathBuf> {
        self.add_identity(&format!("person-{id}"))
    }

    /// The public key of an identity's current user.
    ///
    /// # Errors
    /// No such identity.
    pub fn public_key(&self, identity: &str) -> anyhow::Result<String> {
        self.deployment()?.1.identities().get(identity).cloned().ok_or_else(|| anyhow!("no identity {identity}"))
    }

    /// The identities (identity -> user public key) not revoked.
    ///
    /// # Errors
    /// The deployment directory is damaged.
    pub fn identities(&self) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
        Ok(self.deployment()?.1.identities().clone())
    }

    /// Revokes an identity as `hoinghi admin revoke` does: the account JWT with the revocation is
    /// pushed to the server over the system account, which cuts the identity's connections.
    ///
    /// # Errors
    /// No such identity, or the server did not take the account JWT.
    pub async fn revoke(&self, identity: &str) -> anyhow::Result<()> {
        let account = self.deployment()?.1.revoke(identity)?;
        self.push_account(&account).await
    }

    /// Gives an identity a new key and revokes the old one (pushed), as `hoinghi admin rotate` does;
    /// returns the new credentials file.
    ///
    /// # Errors
    /// No such identity, or the server did not take the account JWT.
    pub async fn rotate(&self, identity: &str) -> anyhow::Result<PathBuf> {
        let (path, account) = self.deployment()?.1.rotate(identity)?;
        self.push_account(&account).await?;
        Ok(path)
    }

    /// Pushes an account JWT to the server as the system user (`$SYS.REQ.CLAIMS.UPDATE`).
    ///
    /// # Errors
    /// The server did not take it.
    pub async fn push_account(&self, account_jwt: &str) -> anyhow::Result<()> {
        let ca = self.tls.as_ref().map(|c| c.ca.as_path());
        let system =
            credentials::push::connect_system(&self.url(), &self.creds_dir().join(credentials::SYSTEM_CREDS), ca)
                .await?;
        credentials::push::push_account(&system, account_jwt).await?;
        let _ = system.drain().await;
        Ok(())
    }

    /// The test CA, when TLS is on.
    pub fn tls(&self) -> Option<&TestCerts> {
        self.tls.as_ref()
    }

    /// Connects as `identity` with its inbox prefix `_INBOX.<identity>`.
    ///
    /// # Errors
    /// The server refused the connection (e.g. a revoked identity).
    pub async fn connect(&self, identity: &str) -> anyhow::Result<Conn> {
        connect(self.port, &self.creds_dir(), self.tls.as_ref(), identity, None).await
    }

    /// Connects as `identity` with another inbox prefix (to show what the server then refuses).
    ///
    /// # Errors
    /// The server refused the connection.
    pub async fn connect_with_inbox(&self, identity: &str, inbox_prefix: &str) -> anyhow::Result<Conn> {
        connect(self.port, &self.creds_dir(), self.tls.as_ref(), identity, Some(inbox_prefix)).await
    }

    /// Connects with the credentials of another file (e.g. a copy kept after revocation) as
    /// `identity`.
    ///
    /// # Errors
    /// The server refused the connection.
    pub async fn connect_with_creds(&self, identity: &str, creds: &Path) -> anyhow::Result<Conn> {
        connect_creds(self.port, self.tls.as_ref(), identity, creds, None).await
    }

    /// A connection as the scheduling service (it may use the JetStream API), to look at the streams.
    ///
    /// # Errors
    /// The server refused the connection.
    pub async fn operator(&self) -> anyhow::Result<async_nats::jetstream::Context> {
        let conn = self.connect(&credentials::service_identity(Service::Scheduling)).await?;
        Ok(async_nats::jetstream::new(conn.nats().clone()))
    }

    /// How many messages a stream holds.
    ///
    /// # Errors
    /// JetStream did not answer.
    pub async fn stream_messages(&self, stream: &str) -> anyhow::Result<u64> {
        counts::stream_messages(&self.operator().await?, stream).await
    }

    /// How many messages of a stream match a subject filter.
    ///
    /// # Errors
    /// JetStream did not answer.
    pub async fn count_events(&self, stream: &str, filter: &str) -> anyhow::Result<usize> {
        counts::count_events(&self.operator().await?, stream, filter).await
    }

    /// Messages in the scheduling, attendance and minutes streams (0 for a stream not created yet).
    ///
    /// # Errors
    /// JetStream did not answer.
    pub async fn event_totals(&self) -> anyhow::Result<[u64; 3]> {
        counts::event_totals(&self.operator().await?).await
    }

    /// Makes the server read its configuration again (SIGHUP, what `nats-server --signal reload`
    /// sends). Identities need none; kept for the tests that show it.
    ///
    /// # Errors
    /// The server is not running.
    pub fn reload(&self) -> anyhow::Result<()> {
        let pid = self.server.as_ref().map(Child::id).ok_or_else(|| anyhow!("nats-server is not running"))?;
        send_signal(pid, "HUP")
    }

    /// The server's process id, if it runs.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// The server's log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats-server.log")).unwrap_or_default()
    }

    /// A service's log so far.
    pub fn service_log(&self, service: Service) -> String {
        std::fs::read_to_string(self.services.get(service).log_path()).unwrap_or_default()
    }

    /// The tails of every log, for a failure report.
    pub fn logs(&self, lines: usize) -> String {
        self.services.logs(&self.dir.path().join("nats-server.log"), lines)
    }

    /// The `nats-server` binary in use.
    pub fn nats_server_bin(&self) -> &Path {
        &self.bin
    }
}

impl Drop for SecureStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("===== logs of the failed test's secure stack (last lines)\n{}", self.logs(60));
        }
        self.services.kill_all();
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::env::var_os("HOINGHI_TEST_KEEP").is_some() {
            self.dir.disable_cleanup(true);
            eprintln!("kept the test directory {} (HOINGHI_TEST_KEEP is set)", self.dir.path().display());
        }
    }
}

fn spawn_server(bin: &Path, dir: &Path) -> anyhow::Result<Child> {
    let log = OpenOptions::new().create(true).append(true).open(dir.join("nats-server.log"))?;
    Command::new(bin)
        .arg("-c")
        .arg(dir.join("auth").join(credentials::SERVER_CONF))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawn {}", bin.display()))
}

async fn wait_server(
    child: &mut Option<Child>,
    port: u16,
    creds_dir: &Path,
    tls: Option<&TestCerts>,
    log: &Path,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(c) = child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                *child = None;
                bail!("nats-server exited ({status}) while starting; log:\n{}", tail(log, 30));
            }
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            if let Ok(conn) =
                connect(port, creds_dir, tls, &credentials::service_identity(Service::Scheduling), None).await
            {
                let js = async_nats::jetstream::new(conn.nats().clone());
                if js.query_account().await.is_ok() {
                    return Ok(());
                }
            }
        }
        if Instant::now() >= deadline {
            bail!("nats-server on port {port} not ready; log:\n{}", tail(log, 30));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn connect(
    port: u16,
    creds_dir: &Path,
    tls: Option<&TestCerts>,
    identity: &str,
    inbox: Option<&str>,
) -> anyhow::Result<Conn> {
    connect_creds(port, tls, identity, &credentials::creds_path(creds_dir, identity), inbox).await
}

async fn connect_creds(
    port: u16,
    tls: Option<&TestCerts>,
    identity: &str,
    creds: &Path,
    inbox: Option<&str>,
) -> anyhow::Result<Conn> {
    let (reports, _) = broadcast::channel::<String>(256);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, log) = (reports.clone(), seen.clone());
    let prefix = inbox.map_or_else(|| credentials::inbox_prefix(Some(identity)), str::to_owned);
    let mut options = async_nats::ConnectOptions::new()
        .credentials_file(creds)
        .await
        .with_context(|| format!("read the credentials {}", creds.display()))?
        .custom_inbox_prefix(prefix)
        .request_timeout(Some(REQUEST_TIMEOUT))
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(Some(3))
        .event_callback(move |event| {
            let (tx, log) = (tx.clone(), log.clone());
            async move {
                // Everything but the first connection: server errors (refusals), disconnections and
                // failed reconnections.
                if !matches!(event, async_nats::Event::Connected) {
                    let text = event.to_string();
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(text.clone());
                    let _ = tx.send(text);
                }
            }
        });
    if let Some(certs) = tls {
        options = options.require_tls(true).add_root_certificates(certs.ca.clone());
    }
    let client =
        options.connect(format!("nats://127.0.0.1:{port}")).await.with_context(|| format!("connect as {identity}"))?;
    Ok(Conn { identity: identity.to_owned(), api: Api::from_client_as(client, identity), reports, seen })
}
