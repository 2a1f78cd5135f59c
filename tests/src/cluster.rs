//! A private three-node NATS cluster on loopback, run from the configuration files the project ships
//! in `deploy/cluster/node-{1,2,3}.conf` with their ports moved to free ones and their stores moved
//! into a temporary directory. Nodes can be stopped, killed and started again one by one.
//!
//! TLS is on for clients and routes, as the shipped files have it, with a test CA's certificate for
//! 127.0.0.1 in `<dir>/tls` ([`NatsCluster::tls_ca`], [`NatsCluster::options`]).
//!
//! Authentication is on, as the shipped files have it: a deployment made by the same code as
//! `hoinghi admin init` in `<dir>/auth` (which the nodes' `include "auth/auth.conf"` reads), the
//! secretariat's and the services' identities in it ([`NatsCluster::creds`],
//! [`NatsCluster::configure_service`]), and one extra user of the HOINGHI account without
//! restrictions that only the harness holds, to drive a load of many sites from one connection
//! ([`NatsCluster::connect`]).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use async_nats::ServerAddr;
use hoinghi_credentials::{self as credentials, jwt, Deployment, ServerSettings};

use crate::nats::{find_nats_server, free_port};
use crate::service::ServiceProcess;
use crate::{repo_root, tail};

/// The harness's own user, without restrictions (not an identity of the deployment).
const DRIVER: &str = "test-driver";

/// The client ports of `deploy/cluster/node-{1,2,3}.conf`.
const SHIPPED_CLIENT_PORTS: [u16; 3] = [4222, 4223, 4224];
/// The route ports of `deploy/cluster/node-{1,2,3}.conf`.
const SHIPPED_ROUTE_PORTS: [u16; 3] = [6222, 6223, 6224];

#[derive(Debug)]
struct Node {
    port: u16,
    route_port: u16,
    child: Option<Child>,
}

/// Three `nats-server` processes forming one JetStream cluster.
#[derive(Debug)]
pub struct NatsCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

impl NatsCluster {
    /// Starts the three nodes of `deploy/cluster/` on free ports and waits until JetStream can place a
    /// stream with three replicas.
    ///
    /// # Errors
    /// No `nats-server`, the shipped configuration is missing, or the cluster did not form.
    pub async fn start() -> anyhow::Result<Self> {
        let bin = find_nats_server()?;
        let mut last = None;
        // A port probed free may be taken before the server binds it: try a few sets.
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("hoinghi-cluster-")
                .tempdir()
                .context("create a temporary directory")?;
            let mut nodes = Vec::new();
            for _ in 0..3 {
                nodes.push(Node { port: free_port()?, route_port: free_port()?, child: None });
            }
            make_deployment(dir.path(), nodes[0].port)?;
            make_tls(dir.path())?;
            let mut cluster = Self { bin: bin.clone(), dir, nodes };
            match cluster.boot().await {
                Ok(()) => return Ok(cluster),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("the cluster did not form")))
    }

    async fn boot(&mut self) -> anyhow::Result<()> {
        for i in 0..3 {
            self.spawn(i)?;
        }
        for i in 0..3 {
            self.wait_accepting(i, Duration::from_secs(10)).await?;
        }
        self.wait_jetstream(Duration::from_secs(30)).await
    }

    /// The directory holding the node configs, stores and logs (and, by convention, service logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `nats://127.0.0.1:<port>` of node `i` (0, 1 or 2).
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].port)
    }

    /// The three client URLs.
    pub fn urls(&self) -> Vec<String> {
        (0..self.nodes.len()).map(|i| self.url(i)).collect()
    }

    /// The three client URLs, comma separated, as `HOINGHI__NATS__URL` takes them.
    pub fn url_list(&self) -> String {
        self.urls().join(",")
    }

    /// The `server_name` of node `i` (`hoinghi-n1`, …), as JetStream reports leaders and peers.
    pub fn name(i: usize) -> String {
        format!("hoinghi-n{}", i + 1)
    }

    /// The index of the node named `name`.
    pub fn index_of(name: &str) -> Option<usize> {
        (0..3).find(|&i| Self::name(i) == name)
    }

    /// Node `i`'s log file.
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node-{}.log", i + 1))
    }

    /// The last lines of every node's log.
    pub fn logs(&self, lines: usize) -> String {
        (0..self.nodes.len())
            .map(|i| format!("----- {}\n{}\n", Self::name(i), tail(&self.log_path(i), lines)))
            .collect()
    }

    /// Whether node `i` is running.
    pub fn is_running(&mut self, i: usize) -> bool {
        match self.nodes[i].child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(_) => {
                self.nodes[i].child = None;
                false
            }
            None => false,
        }
    }

    /// The deployment directory (`hoinghi admin init --dir`).
    pub fn creds_dir(&self) -> PathBuf {
        self.dir.path().join("auth")
    }

    /// The credentials file of an identity.
    pub fn creds(&self, identity: &str) -> PathBuf {
        credentials::creds_path(&self.creds_dir(), identity)
    }

    /// The CA that signed the nodes' certificates (`<dir>/tls/ca.pem`): clients trust it.
    pub fn tls_ca(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    /// Connection options with the credentials file `creds` and TLS trusting the nodes' CA (the
    /// nodes require TLS).
    ///
    /// # Errors
    /// The credentials file is unreadable.
    pub async fn options(&self, creds: &Path) -> anyhow::Result<async_nats::ConnectOptions> {
        Ok(async_nats::ConnectOptions::with_credentials_file(creds)
            .await
            .with_context(|| format!("read {}", creds.display()))?
            .require_tls(true)
            .add_root_certificates(self.tls_ca()))
    }

    /// Gives a service process its two identities' credentials and the nodes' CA.
    pub fn configure_service(&self, p: &mut ServiceProcess) {
        p.set_env("HOINGHI__NATS__TLS_CA", self.tls_ca().display().to_string());
        let service = p.service();
        p.set_env("HOINGHI__NATS__CREDS", self.creds(&credentials::service_identity(service)).display().to_string());
        p.set_env(
            "HOINGHI__NATS__API_CREDS",
            self.creds(&credentials::service_api_identity(service)).display().to_string(),
        );
    }

    /// The deployment, to add, revoke or rotate identities.
    ///
    /// # Errors
    /// The directory is damaged.
    pub fn deployment(&self) -> anyhow::Result<Deployment> {
        Deployment::open(&self.creds_dir())
    }

    /// The node URLs, parsed.
    fn addrs(&self) -> anyhow::Result<Vec<ServerAddr>> {
        self.urls()
            .iter()
            .map(|u| u.parse::<ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .context("parse the node URLs")
    }

    /// A client as `identity` connected to node `i` only (no failover to the others).
    ///
    /// # Errors
    /// The node refused or did not answer.
    pub async fn connect_as(&self, identity: &str, i: usize) -> anyhow::Result<async_nats::Client> {
        self.options(&self.creds(identity))
            .await?
            .custom_inbox_prefix(credentials::inbox_prefix(Some(identity)))
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(Some(0))
            .connect(self.url(i))
            .await
            .with_context(|| format!("connect as {identity} to {}", Self::name(i)))
    }

    /// A client connected to the whole cluster (it fails over between the nodes by itself), as the
    /// harness's unrestricted user.
    ///
    /// # Errors
    /// No node answered.
    pub async fn connect(&self, request_timeout: Duration) -> anyhow::Result<async_nats::Client> {
        let addrs = self.addrs()?;
        self.options(&self.creds(DRIVER))
            .await
            .context("read the harness's credentials")?
            .request_timeout(Some(request_timeout))
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None)
            .connect(addrs)
            .await
            .context("connect to the cluster")
    }

    /// Kills node `i` (SIGKILL) and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops node `i` with SIGTERM and waits (up to 10 s, then SIGKILL).
    pub async fn stop(&mut self, i: usize) {
        let Some(child) = self.nodes[i].child.as_mut() else { return };
        let _ = crate::service::send_signal(child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                self.nodes[i].child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill(i);
    }

    /// Starts node `i` again (same ports, same store) and waits until it accepts connections.
    ///
    /// # Errors
    /// It did not come back.
    pub async fn start_node(&mut self, i: usize) -> anyhow::Result<()> {
        if self.is_running(i) {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.spawn(i)?;
            match self.wait_accepting(i, Duration::from_secs(10)).await {
                Ok(()) => return Ok(()),
                // The port may linger for a moment after the old process exits.
                Err(_) if Instant::now() < deadline => {
                    self.kill(i);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The shipped configuration of node `i`, with its ports and store moved.
    fn config(&self, i: usize) -> anyhow::Result<String> {
        let shipped = repo_root().join(format!("deploy/cluster/node-{}.conf", i + 1));
        let mut text = std::fs::read_to_string(&shipped).with_context(|| format!("read {}", shipped.display()))?;
        for (n, node) in self.nodes.iter().enumerate() {
            text = text.replace(&format!("127.0.0.1:{}", SHIPPED_CLIENT_PORTS[n]), &format!("127.0.0.1:{}", node.port));
            text = text
                .replace(&format!("127.0.0.1:{}", SHIPPED_ROUTE_PORTS[n]), &format!("127.0.0.1:{}", node.route_port));
        }
        let store = self.dir.path().join(format!("node-{}", i + 1));
        let shipped_store = format!("store_dir: \"node-{}\"", i + 1);
        if !text.contains(&shipped_store) {
            bail!("{} no longer holds `{shipped_store}`: update tests/src/cluster.rs", shipped.display());
        }
        text = text.replace(&shipped_store, &format!("store_dir: {:?}", store.display().to_string()));
        Ok(text)
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let config = self.dir.path().join(format!("node-{}.conf", i + 1));
        std::fs::write(&config, self.config(i)?).context("write a node config")?;
        let log = OpenOptions::new().create(true).append(true).open(self.log_path(i)).context("open a node log")?;
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&config)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawn {}", self.bin.display()))?;
        self.nodes[i].child = Some(child);
        Ok(())
    }

    async fn wait_accepting(&mut self, i: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_running(i) {
                bail!("{} exited while starting; log:\n{}", Self::name(i), tail(&self.log_path(i), 30));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.nodes[i].port)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{} not accepting within {timeout:?}; log:\n{}", Self::name(i), tail(&self.log_path(i), 30));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until a stream with three replicas can be created (a meta leader is elected and every
    /// peer is known), then removes the probe.
    async fn wait_jetstream(&self, timeout: Duration) -> anyhow::Result<()> {
        let client = self.connect(Duration::from_secs(5)).await?;
        let js = async_nats::jetstream::new(client.clone());
        let deadline = Instant::now() + timeout;
        let probe = async_nats::jetstream::stream::Config {
            name: "HOINGHI_CLUSTER_PROBE".into(),
            subjects: vec!["hoinghi.cluster.probe".into()],
            num_replicas: 3,
            storage: async_nats::jetstream::stream::StorageType::Memory,
            ..Default::default()
        };
        loop {
            match js.get_or_create_stream(probe.clone()).await {
                Ok(_) => {
                    js.delete_stream("HOINGHI_CLUSTER_PROBE").await.context("delete the probe stream")?;
                    let _ = client.drain().await;
                    return Ok(());
                }
                Err(e) if Instant::now() >= deadline => {
                    bail!("JetStream cluster not ready within {timeout:?}: {e}; logs:\n{}", self.logs(20))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
        if std::env::var_os("HOINGHI_TEST_KEEP").is_some() {
            self.dir.disable_cleanup(true);
            eprintln!("kept the cluster directory {} (HOINGHI_TEST_KEEP is set)", self.dir.path().display());
        }
    }
}

/// The deployment of a cluster in `<dir>/auth`: operator, accounts, the secretariat and the
/// services, and the harness's unrestricted user of the HOINGHI account.
/// The nodes' TLS files where the shipped configurations look for them (`tls/ca.pem`,
/// `tls/node-{1,2,3}.{pem,key}`, relative to the directory the nodes run in): a test CA and one
/// certificate for 127.0.0.1, good for serving clients and for the routes' mutual verification,
/// shared by the three loopback nodes.
fn make_tls(dir: &Path) -> anyhow::Result<()> {
    let tls = dir.join("tls");
    let certs = crate::secure::TestCerts::generate(&tls)?;
    for n in 1..=3 {
        std::fs::copy(&certs.cert, tls.join(format!("node-{n}.pem"))).context("copy a node certificate")?;
        std::fs::copy(&certs.key, tls.join(format!("node-{n}.key"))).context("copy a node key")?;
    }
    Ok(())
}

fn make_deployment(dir: &Path, first_port: u16) -> anyhow::Result<()> {
    let auth = dir.join("auth");
    let mut deployment =
        Deployment::init(&auth, ServerSettings::under(&auth, &format!("127.0.0.1:{first_port}")), false)?;
    deployment.add_all(&credentials::base_identities())?;
    let account_seed = std::fs::read_to_string(auth.join(format!("{}.nk", credentials::deployment::ACCOUNT)))?;
    let account = nkeys::KeyPair::from_seed(account_seed.trim()).map_err(|e| anyhow!("the account seed: {e}"))?;
    let user = nkeys::KeyPair::new_user();
    let token = jwt::user_jwt(&account, &user.public_key(), DRIVER, None)?;
    let seed = user.seed().map_err(|e| anyhow!("a seed: {e}"))?;
    std::fs::write(credentials::creds_path(&auth, DRIVER), jwt::creds_text(&token, &seed))?;
    Ok(())
}
