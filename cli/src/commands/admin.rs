//! `hoinghi admin …`: a deployment's NATS decentralized authentication (operator, accounts, one user
//! JWT and standard `.creds` file per identity) and its server configuration
//! ([`hoinghi_credentials::deployment`]). Everything but `revoke` and `rotate` is offline; those two
//! also push the new account JWT to the running server over the system account.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use hoinghi_credentials::{self as credentials, push, Deployment, ServerSettings, Tls};
use hoinghi_shared::roles::person_identity;
use hoinghi_shared::{PersonId, Service, SiteId};

use super::Ctx;

/// Admin commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Make a deployment in DIR: the operator, the SYS and HOINGHI accounts, DIR/nats-server.conf
    /// (operator mode, full resolver), and a user JWT with a standard credentials file
    /// DIR/<identity>.creds (mode 0600) for the secretariat, each service (service-<name>,
    /// service-<name>-api), and the given sites and persons. With the global --tls-cert and
    /// --tls-key (the server's certificate and key), the server requires TLS.
    Init(InitArgs),
    /// Add a site: a user JWT and DIR/site-<id>.creds. No server contact and no reload: the site can
    /// connect at once.
    AddSite {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The site ids (each gets the identity site-<id>).
        #[arg(required_unless_present = "sites_file")]
        sites: Vec<SiteId>,
        /// A file with one site id per line (for thousands).
        #[arg(long, value_name = "FILE")]
        sites_file: Option<PathBuf>,
    },
    /// Add a person (a chair or a minute-taker): a user JWT and DIR/person-<id>.creds. No server
    /// contact and no reload.
    AddPerson {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The person ids (each gets the identity person-<id>).
        #[arg(required_unless_present = "persons_file")]
        persons: Vec<PersonId>,
        /// A file with one person id per line.
        #[arg(long, value_name = "FILE")]
        persons_file: Option<PathBuf>,
    },
    /// Revoke an identity: its key goes into the HOINGHI account's revocations, its .creds file is
    /// deleted, and the account JWT is pushed to the running server, which cuts its connections.
    Revoke(ChangeArgs),
    /// Give an identity a new key (a new .creds file) and revoke the old one (pushed like revoke).
    Rotate(ChangeArgs),
    /// List the identities (revoked keys marked) and what each may publish.
    List {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// Also print each identity's publish permissions.
        #[arg(long)]
        long: bool,
    },
    /// The HTTP gateway's bearer tokens, one or more per identity (cli/src/commands/token.rs).
    #[command(subcommand)]
    Token(super::token::Cmd),
}

/// `admin revoke|rotate`.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// The deployment directory.
    #[arg(long)]
    dir: PathBuf,
    /// The identity (e.g. site-ba-be, person-lan, secretariat, service-minutes).
    identity: String,
    /// The server to push the account JWT to (default: the deployment's listen address). With TLS
    /// give the global --tls-ca (and --tls-cert/--tls-key for a server that verifies clients).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Only write the files; push the account JWT later (e.g. `revoke` of another identity pushes
    /// every revocation) or let the server read it from auth.conf at its next start.
    #[arg(long)]
    offline: bool,
}

/// `admin init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write (created if missing).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The address the server listens on for clients.
    #[arg(long, default_value = "127.0.0.1:4222", value_name = "HOST:PORT")]
    listen: String,
    /// JetStream's store directory (default: DIR/nats-store).
    #[arg(long, value_name = "PATH")]
    store_dir: Option<PathBuf>,
    /// The resolver's directory, where the server keeps the account JWTs (default: DIR/resolver).
    #[arg(long, value_name = "PATH")]
    resolver_dir: Option<PathBuf>,
    /// Require client certificates signed by this CA (mutual TLS; needs --tls-cert and --tls-key).
    #[arg(long, value_name = "CA_FILE")]
    tls_verify_clients: Option<PathBuf>,
    /// Sites, comma separated (each gets the identity site-<id>).
    #[arg(long, value_delimiter = ',')]
    sites: Vec<SiteId>,
    /// A file with one site id per line (for thousands of sites).
    #[arg(long, value_name = "FILE")]
    sites_file: Option<PathBuf>,
    /// Persons (chairs, minute-takers), comma separated (each gets the identity person-<id>).
    #[arg(long, value_delimiter = ',')]
    persons: Vec<PersonId>,
    /// A file with one person id per line.
    #[arg(long, value_name = "FILE")]
    persons_file: Option<PathBuf>,
    /// Replace an existing deployment in DIR (every key changes).
    #[arg(long)]
    force: bool,
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir()?.join(path) })
}

fn existing(path: &Path, what: &str) -> anyhow::Result<String> {
    let path = std::fs::canonicalize(path).with_context(|| format!("{what} {} not found", path.display()))?;
    Ok(path.display().to_string())
}

/// Ids given on the command line and in a file (one per line; blank lines and `#` comments
/// skipped), each checked, as identities.
fn ids<T: std::str::FromStr + std::fmt::Display>(
    given: &[T],
    file: Option<&Path>,
    identity: impl Fn(&T) -> String,
) -> anyhow::Result<Vec<String>>
where
    T::Err: std::fmt::Display,
{
    let mut all: Vec<String> = given.iter().map(&identity).collect();
    if let Some(file) = file {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id: T = line.parse().map_err(|e| anyhow::anyhow!("{}:{}: {line:?}: {e}", file.display(), n + 1))?;
            all.push(identity(&id));
        }
    }
    Ok(all)
}

/// Runs an admin command.
///
/// # Errors
/// Bad input (nothing changes then), unwritable files, a directory that is not a deployment, a
/// server that did not take a revocation.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Token(cmd) => return super::token::run(cmd, ctx.json),
        Cmd::Init(args) => init(ctx, args)?,
        Cmd::AddSite { dir, sites, sites_file } => {
            let identities = ids(&sites, sites_file.as_deref(), credentials::site_identity)?;
            add(&dir, &identities)?;
        }
        Cmd::AddPerson { dir, persons, persons_file } => {
            let identities = ids(&persons, persons_file.as_deref(), person_identity)?;
            add(&dir, &identities)?;
        }
        Cmd::Revoke(args) => {
            let mut deployment = Deployment::open(&args.dir)?;
            let client = system_connection(ctx, &deployment, &args).await?;
            let account = deployment.revoke(&args.identity)?;
            println!("revoked {} (its key is in the account's revocations; its .creds file is deleted)", args.identity);
            publish(client, &account).await?;
        }
        Cmd::Rotate(args) => {
            let mut deployment = Deployment::open(&args.dir)?;
            let client = system_connection(ctx, &deployment, &args).await?;
            let (path, account) = deployment.rotate(&args.identity)?;
            println!("new key for {}: {} (the old key is revoked)", args.identity, path.display());
            publish(client, &account).await?;
        }
        Cmd::List { dir, long } => {
            let deployment = Deployment::open(&dir)?;
            println!(
                "server listens on {}; JetStream in {}; TLS {}",
                deployment.server.listen,
                deployment.server.store_dir,
                if deployment.server.tls.is_some() { "on" } else { "off" }
            );
            println!("{} identities, {} revoked keys", deployment.identities().len(), deployment.revoked().len());
            for (identity, key) in deployment.identities() {
                println!("{identity:<32} {key}");
                if long {
                    let publish =
                        credentials::permissions(identity).map(|p| p.publish_allow.join(" ")).unwrap_or_default();
                    println!("{:<32} may publish: {publish}", "");
                }
            }
            for revoked in deployment.revoked() {
                println!("{:<32} {} REVOKED at {}", revoked.identity, revoked.key, revoked.at);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn init(ctx: &Ctx, args: InitArgs) -> anyhow::Result<()> {
    let dir = absolute(&args.dir)?;
    // Check every id before anything is written.
    let mut identities = credentials::base_identities();
    identities.extend(ids(&args.sites, args.sites_file.as_deref(), credentials::site_identity)?);
    identities.extend(ids(&args.persons, args.persons_file.as_deref(), person_identity)?);
    let mut seen = std::collections::BTreeSet::new();
    for identity in &identities {
        anyhow::ensure!(credentials::permissions(identity).is_some(), "{identity:?} is no identity");
        anyhow::ensure!(seen.insert(identity), "{identity} is listed twice");
    }
    let tls = match (&ctx.settings.tls_client, &args.tls_verify_clients) {
        (Some((cert, key)), verify) => Some(Tls {
            cert: existing(cert, "--tls-cert")?,
            key: existing(key, "--tls-key")?,
            verify_clients_ca: verify.as_deref().map(|ca| existing(ca, "--tls-verify-clients")).transpose()?,
        }),
        (None, Some(_)) => anyhow::bail!("--tls-verify-clients needs --tls-cert and --tls-key"),
        (None, None) => None,
    };
    let mut server = ServerSettings::under(&dir, &args.listen);
    if let Some(store) = &args.store_dir {
        server.store_dir = absolute(store)?.display().to_string();
    }
    if let Some(resolver) = &args.resolver_dir {
        server.resolver_dir = absolute(resolver)?.display().to_string();
    }
    server.tls = tls;
    let mut deployment = Deployment::init(&dir, server, args.force)?;
    deployment.add_all(&identities)?;
    println!("wrote a deployment with {} identities to {}:", identities.len(), dir.display());
    println!("  {}  (and {})", dir.join(credentials::SERVER_CONF).display(), credentials::AUTH_CONF);
    println!("  {}/<identity>.creds  (standard NATS credentials, mode 0600)", dir.display());
    println!("  {}  (the index: identities and revocations)", dir.join(credentials::IDENTITIES).display());
    println!();
    println!("start the server:  nats-server -c {}", dir.join(credentials::SERVER_CONF).display());
    println!(
        "each service:      HOINGHI__NATS__CREDS={} HOINGHI__NATS__API_CREDS={} hoinghi-scheduling   (and so on)",
        deployment.creds(&credentials::service_identity(Service::Scheduling)).display(),
        deployment.creds(&credentials::service_api_identity(Service::Scheduling)).display()
    );
    println!("each site, person: hoinghi --creds {} …", deployment.creds("site-<id>").display());
    println!("hand each .creds file only to its holder; the seeds in them (and the *.nk files) are secrets");
    Ok(())
}

fn add(dir: &Path, identities: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(!identities.is_empty(), "no id given");
    let mut deployment = Deployment::open(dir)?;
    let written = deployment.add_all(identities)?;
    if let [one] = written.as_slice() {
        println!("added {}: {} (it may connect now; no reload)", identities[0], one.display());
    } else {
        println!("added {} identities in {} (they may connect now; no reload)", written.len(), dir.display());
    }
    Ok(())
}

/// The system user's connection to the server a revocation goes to, made before anything changes
/// (an unknown identity or an unreachable server change nothing); none with `--offline`.
async fn system_connection(
    ctx: &Ctx,
    deployment: &Deployment,
    args: &ChangeArgs,
) -> anyhow::Result<Option<(String, async_nats::Client)>> {
    if !deployment.identities().contains_key(&args.identity) || args.offline {
        // An unknown identity: the revocation itself says why, before any connection.
        return Ok(None);
    }
    let url = args.server.clone().unwrap_or_else(|| deployment.server.client_url());
    let client_cert = ctx.settings.tls_client.as_ref().map(|(cert, key)| (cert.as_path(), key.as_path()));
    let client =
        push::connect_system_with(&url, &deployment.system_creds(), ctx.settings.tls_ca.as_deref(), client_cert)
            .await
            .context(
                "nothing changed; start the server, give --server <url>, or use --offline to only write the files",
            )?;
    Ok(Some((url, client)))
}

/// Pushes the account JWT over the system connection and reports the server's answer.
async fn publish(client: Option<(String, async_nats::Client)>, account: &str) -> anyhow::Result<()> {
    let Some((url, client)) = client else {
        println!(
            "not pushed (--offline): the server takes the account JWT at its next start (auth.conf), or with the \
             next revoke or rotate that is pushed"
        );
        return Ok(());
    };
    let answer = push::push_account(&client, account).await.context(
        "the files are written but the server did not take the revocation: run `hoinghi admin rotate` or \
                  `revoke` of another identity to push the account again",
    )?;
    println!("pushed to {url}: {answer}; the server cuts the revoked key's connections");
    let _ = client.drain().await;
    Ok(())
}
