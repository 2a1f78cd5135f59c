//! `hoinghi-bench identities [--sites N]`: NATS decentralized JWT authentication at national scale,
//! the figures of docs/SECURITY.md. In a temporary directory it makes a deployment with the
//! secretariat, the services and N sites (the same code as `hoinghi admin init --sites-file`), then
//! measures: the time to mint the N user JWTs and `.creds` files, the size of the server
//! configuration, the time until a server started on it accepts an authenticated connection, its
//! idle resident memory, the time to add one more site and for that site to connect (no reload), the
//! same through the `hoinghi admin add-site` command when its binary is built, and the time from
//! pushing a revocation to the revoked site's connection being cut. Last, for the choice of one
//! account over two, the round trip of a request answered within one account against one crossing a
//! service export/import between two accounts (5,000 sequential requests each).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use hoinghi_credentials::{self as credentials, push, Deployment, ServerSettings};

const ROUNDS: usize = 20;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("read /proc/<pid>/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

async fn connect(
    url: &str,
    creds: &Path,
) -> anyhow::Result<(async_nats::Client, tokio::sync::mpsc::UnboundedReceiver<()>)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let identity = credentials::identity_of("", Some(creds)).unwrap_or_default();
    let client = async_nats::ConnectOptions::with_credentials_file(creds)
        .await?
        .custom_inbox_prefix(credentials::inbox_prefix(Some(&identity)))
        .max_reconnects(Some(0))
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if matches!(event, async_nats::Event::Disconnected) {
                    let _ = tx.send(());
                }
            }
        })
        .connect(url)
        .await?;
    Ok((client, rx))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    let median = samples[samples.len() / 2];
    let max = samples[samples.len() - 1];
    format!("{name:<52} median {:>8.2} ms   max {:>8.2} ms   ({} runs)", ms(median), ms(max), samples.len())
}

/// Runs the measurements and prints them.
///
/// # Errors
/// No nats-server, or a step failed.
pub async fn main(args: Vec<String>) -> anyhow::Result<()> {
    let mut sites = 20_000usize;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sites" => sites = args.next().context("--sites needs a number")?.parse().context("--sites")?,
            other => bail!("unknown option {other} (hoinghi-bench identities [--sites N])"),
        }
    }
    let bin = hoinghi_tests::nats::find_nats_server()?;
    let tmp = tempfile::Builder::new().prefix("hoinghi-identities-").tempdir()?;
    let dir = tmp.path().join("auth");
    let port = hoinghi_tests::nats::free_port()?;
    let url = format!("nats://127.0.0.1:{port}");
    let mut deployment = Deployment::init(&dir, ServerSettings::under(&dir, &format!("127.0.0.1:{port}")), false)?;
    let mut identities = credentials::base_identities();
    identities.extend((0..sites).map(|i| format!("site-s{i:05}")));
    let started = Instant::now();
    deployment.add_all(&identities)?;
    let mint = started.elapsed();
    let config_bytes = std::fs::metadata(dir.join(credentials::SERVER_CONF))?.len()
        + std::fs::metadata(dir.join(credentials::AUTH_CONF))?.len();
    let index_bytes = std::fs::metadata(dir.join(credentials::IDENTITIES))?.len();

    // Start: until an authenticated connection (the secretariat) succeeds.
    let started = Instant::now();
    let child = Command::new(&bin)
        .arg("-c")
        .arg(dir.join(credentials::SERVER_CONF))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.path().join("server.log"))?)
        .spawn()
        .with_context(|| format!("spawn {}", bin.display()))?;
    let server = Server(child);
    let secretariat = deployment.creds("secretariat");
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            if let Ok((c, _)) = connect(&url, &secretariat).await {
                drop(c);
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the server did not accept the secretariat within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let start = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(server.0.id())?;

    // Add a site and connect it, in-process (what `hoinghi admin add-site` does, then the site).
    let mut add_connect = Vec::new();
    for i in 0..ROUNDS {
        let started = Instant::now();
        let creds = deployment.add(&format!("site-new-{i}"))?;
        let (client, _) = connect(&url, &creds).await?;
        client.flush().await?;
        add_connect.push(started.elapsed());
    }
    // The same through the command (a process that opens the 20,000-line index), if built.
    let cli = hoinghi_tests::service::bin_dir()?.join("hoinghi");
    let mut cli_add_connect = Vec::new();
    if cli.is_file() {
        drop(deployment);
        for i in 0..ROUNDS {
            let started = Instant::now();
            let out =
                Command::new(&cli).args(["admin", "add-site", "--dir"]).arg(&dir).arg(format!("cli-{i}")).output()?;
            if !out.status.success() {
                bail!("hoinghi admin add-site failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let (client, _) = connect(&url, &credentials::creds_path(&dir, &format!("site-cli-{i}"))).await?;
            client.flush().await?;
            cli_add_connect.push(started.elapsed());
        }
        deployment = Deployment::open(&dir)?;
    } else {
        eprintln!(
            "{} not built: skipping the command's add-and-connect (cargo build --release -p hoinghi)",
            cli.display()
        );
    }

    // Revocation: push the account JWT, wait for the revoked site's disconnection.
    let system = push::connect_system(&url, &deployment.system_creds(), None).await?;
    let mut cut = Vec::new();
    for i in 0..ROUNDS {
        let identity = format!("site-s{i:05}");
        let (_client, mut disconnected) = connect(&url, &deployment.creds(&identity)).await?;
        let account = deployment.revoke(&identity)?;
        let started = Instant::now();
        push::push_account(&system, &account).await?;
        tokio::time::timeout(Duration::from_secs(5), disconnected.recv())
            .await
            .with_context(|| format!("{identity} was not cut within 5 s"))?;
        cut.push(started.elapsed());
    }
    let after = rss_kib(server.0.id())?;

    println!("NATS decentralized JWT authentication, {sites} sites ({} identities), this machine:", identities.len());
    println!("{:<52} {:>8.2} s", "mint the user JWTs and .creds files", mint.as_secs_f64());
    println!("{:<52} {:>8} bytes", "server configuration (nats-server.conf + auth.conf)", config_bytes);
    println!("{:<52} {:>8} bytes", "index (identities.log)", index_bytes);
    println!("{:<52} {:>8.1} ms", "server start, until an authenticated connection", ms(start));
    println!("{:<52} {:>8.1} MB", "server idle RSS", idle as f64 / 1024.0);
    println!("{}", summary("add a site and connect it (in-process, no reload)", add_connect));
    if !cli_add_connect.is_empty() {
        println!("{}", summary("`hoinghi admin add-site` + connect (no reload)", cli_add_connect));
    }
    println!("{}", summary("revocation pushed -> revoked connection cut", cut));
    println!("{:<52} {:>8.1} MB", "server RSS after the runs above", after as f64 / 1024.0);
    drop(server);
    accounts(&bin, tmp.path()).await
}

/// One account or two: the round trip of a request answered in the requester's own account, and of
/// one crossing a service export/import between two accounts, on one server.
async fn accounts(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    const REQUESTS: usize = 5_000;
    let port = hoinghi_tests::nats::free_port()?;
    let conf = dir.join("accounts.conf");
    std::fs::write(
        &conf,
        format!(
            "listen: 127.0.0.1:{port}\naccounts {{\n  SERVICES {{ users: [{{user: svc, password: svc}}, {{user: near, \
             password: near}}], exports: [{{service: \"svc.>\"}}] }}\n  PEOPLE {{ users: [{{user: far, password: far}}], \
             imports: [{{service: {{account: SERVICES, subject: \"svc.>\"}}}}] }}\n}}\n"
        ),
    )?;
    let _server = Server(
        Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?,
    );
    let server_url = format!("nats://127.0.0.1:{port}");
    let connect = |user: &str| {
        async_nats::ConnectOptions::with_user_and_password(user.to_owned(), user.to_owned()).connect(server_url.clone())
    };
    let started = Instant::now();
    let responder = loop {
        match connect("svc").await {
            Ok(c) => break c,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(e) => bail!("the accounts server did not start: {e}"),
        }
    };
    let mut requests = responder.subscribe("svc.echo").await?;
    let answering = responder.clone();
    tokio::spawn(async move {
        use futures::StreamExt as _;
        while let Some(m) = requests.next().await {
            if let Some(reply) = m.reply {
                let _ = answering.publish(reply, m.payload).await;
            }
        }
    });
    responder.flush().await?;
    let mut lines = Vec::new();
    for (who, label) in [("near", "request answered in the same account"), ("far", "request across a service import")] {
        let client = connect(who).await?;
        let mut samples = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let started = Instant::now();
            client.request("svc.echo", "{}".into()).await?;
            samples.push(started.elapsed());
        }
        lines.push(summary(label, samples));
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
