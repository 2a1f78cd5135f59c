//! `hoinghi admin …`: a deployment's credentials and nats-server configuration (offline).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use hoinghi_credentials::{self as credentials, Deployment, ServerSettings, Tls};
use hoinghi_shared::{Service, SiteId};

use super::Ctx;

/// Admin commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Generate a deployment: one nkey user per identity (secretariat, minute-taker, chair,
    /// site-<id> for each site, service-<name> and service-<name>-api per service), DIR/<identity>.creds for
    /// each (mode 0600), DIR/nats-server.conf with each identity's permissions, and
    /// DIR/identities.json (identity -> public key). With the global --tls-cert and --tls-key (the
    /// server's certificate and key), the server requires TLS.
    Credentials(CredentialsArgs),
    /// Add one site (a new site-<id> identity) without changing any other key; then reload the
    /// server: nats-server --signal reload=<pid>.
    AddSite {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The site id.
        site: SiteId,
    },
    /// Revoke one site: remove site-<id> from the configuration and delete its credentials file;
    /// then reload the server (nats-server --signal reload=<pid>), which disconnects it.
    RevokeSite {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The site id.
        site: SiteId,
    },
    /// Give one identity a new key (its old credentials stop working once the server reloads).
    Rotate {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The identity (e.g. chair, site-ba-be, service-minutes).
        identity: String,
    },
    /// List the identities of a deployment, their public keys and what each may publish.
    List {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

/// `admin credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Where to write (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The sites, comma separated (each gets the identity site-<id>).
    #[arg(long, value_delimiter = ',', required = true)]
    sites: Vec<SiteId>,
    /// JetStream's store directory (default: DIR/nats-store).
    #[arg(long, value_name = "PATH")]
    store_dir: Option<PathBuf>,
    /// The address the server listens on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The client port.
    #[arg(long, default_value_t = 4222)]
    port: u16,
    /// Require client certificates signed by this CA (mutual TLS; needs --tls-cert and --tls-key).
    #[arg(long, value_name = "CA_FILE")]
    tls_verify_clients: Option<PathBuf>,
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

/// Runs an admin command.
///
/// # Errors
/// Unwritable files, a directory that is not a deployment, unknown identities.
pub fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Credentials(args) => {
            let out = absolute(&args.out)?;
            let store_dir = match &args.store_dir {
                Some(dir) => absolute(dir)?,
                None => out.join("nats-store"),
            };
            let tls = match (&ctx.settings.tls_client, &args.tls_verify_clients) {
                (Some((cert, key)), verify) => Some(Tls {
                    cert: existing(cert, "--tls-cert")?,
                    key: existing(key, "--tls-key")?,
                    verify_clients_ca: verify.as_deref().map(|ca| existing(ca, "--tls-verify-clients")).transpose()?,
                }),
                (None, Some(_)) => anyhow::bail!("--tls-verify-clients needs --tls-cert and --tls-key"),
                (None, None) => None,
            };
            let server = ServerSettings {
                listen: format!("{}:{}", args.host, args.port),
                store_dir: store_dir.display().to_string(),
                tls,
            };
            let deployment = credentials::generate(&out, &args.sites, server, args.force)?;
            println!("wrote {} identities to {}:", deployment.identities.len(), out.display());
            for identity in deployment.identities.keys() {
                println!("  {}", credentials::creds_path(&out, identity).display());
            }
            println!("  {}", out.join(credentials::SERVER_CONF).display());
            println!("  {}", out.join(credentials::IDENTITIES).display());
            println!();
            println!("start the server:  nats-server -c {}", out.join(credentials::SERVER_CONF).display());
            println!(
                "each service:      HOINGHI__NATS__CREDS={} HOINGHI__NATS__API_CREDS={} hoinghi-scheduling   (and so on)",
                credentials::creds_path(&out, &credentials::service_identity(Service::Scheduling)).display(),
                credentials::creds_path(&out, &credentials::service_api_identity(Service::Scheduling)).display()
            );
            println!("each person:       hoinghi --creds {} …", credentials::creds_path(&out, "site-<id>").display());
            println!("hand each .creds file only to its holder; the seeds in them are secrets");
        }
        Cmd::AddSite { dir, site } => {
            credentials::add_site(&dir, &site)?;
            let identity = credentials::site_identity(&site);
            println!("added {identity}: {}", credentials::creds_path(&dir, &identity).display());
            reload_hint(&dir);
        }
        Cmd::RevokeSite { dir, site } => {
            credentials::revoke_site(&dir, &site)?;
            println!("revoked {}: removed from {}", credentials::site_identity(&site), credentials::SERVER_CONF);
            reload_hint(&dir);
        }
        Cmd::Rotate { dir, identity } => {
            credentials::rotate(&dir, &identity)?;
            println!("new key for {identity}: {}", credentials::creds_path(&dir, &identity).display());
            reload_hint(&dir);
        }
        Cmd::List { dir } => {
            let deployment = Deployment::load(&dir)?;
            println!("server listens on {}; JetStream in {}", deployment.server.listen, deployment.server.store_dir);
            println!("TLS: {}", if deployment.server.tls.is_some() { "on" } else { "off" });
            for (identity, public_key) in &deployment.identities {
                let publish = credentials::permissions(identity).map(|p| p.publish_allow.join(" ")).unwrap_or_default();
                println!("{identity:<20} {public_key}\n{:<20} may publish: {publish}", "");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn reload_hint(dir: &Path) {
    println!(
        "rewrote {}; apply it with: nats-server --signal reload=<pid>  (or kill -HUP <pid>)",
        dir.join(credentials::SERVER_CONF).display()
    );
}
