//! Connecting to NATS. The client reconnects by itself, forever, after any server restart.
//!
//! Authentication and transport security come from [`NatsSettings`]: a credentials file (a user JWT
//! with its nkey seed, or a seed-only file as `hoinghi admin credentials` writes), the identity whose
//! inbox prefix (`_INBOX.<identity>`) the connection uses, and TLS.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::{info, warn};

use crate::config::NatsSettings;

/// Connects with `name` as the connection name, retrying until `connect_timeout_ms`.
///
/// # Errors
/// No server answered in time, or the credentials file is unreadable.
pub async fn connect(settings: &NatsSettings, name: &str) -> anyhow::Result<async_nats::Client> {
    let servers = server_list(&settings.url)?;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(settings.connect_timeout_ms);
    let mut delay = Duration::from_millis(100);
    loop {
        let mut options = async_nats::ConnectOptions::new()
            .name(name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .request_timeout(Some(Duration::from_secs(10)))
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => info!("connected to NATS"),
                    async_nats::Event::Disconnected => warn!("disconnected from NATS; reconnecting"),
                    async_nats::Event::ServerError(e) if is_permission_violation(&e.to_string()) => {
                        warn!(error = %e, "permission violation: the NATS server refused a publish or subscription")
                    }
                    other => info!(event = %other, "NATS client event"),
                }
            });
        options = secure(options, settings).await?;
        let attempt = tokio::time::timeout(Duration::from_secs(5), options.connect(servers.clone())).await;
        match attempt {
            Ok(Ok(client)) => {
                // retry_on_initial_connect returns at once; wait until the connection is real.
                while client.connection_state() != async_nats::connection::State::Connected {
                    if tokio::time::Instant::now() > deadline {
                        anyhow::bail!(
                            "no NATS server answered at {} within {} ms",
                            settings.url,
                            settings.connect_timeout_ms
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                return Ok(client);
            }
            Ok(Err(e)) if tokio::time::Instant::now() > deadline => {
                anyhow::bail!("cannot connect to NATS at {}: {e}", settings.url)
            }
            Err(_) if tokio::time::Instant::now() > deadline => {
                anyhow::bail!("no NATS server answered at {} within {} ms", settings.url, settings.connect_timeout_ms)
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Parses `nats.url`: one URL or several separated by commas (the nodes of a cluster).
///
/// # Errors
/// A URL that does not parse, named in the message.
pub fn server_list(urls: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    let servers = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.parse::<async_nats::ServerAddr>().map_err(|e| anyhow::anyhow!("nats.url: {u:?} is not a NATS URL: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!servers.is_empty(), "nats.url is empty: give at least one NATS URL");
    Ok(servers)
}

/// Adds the credentials, the identity's inbox prefix and TLS of `settings` to `options`.
///
/// # Errors
/// An unreadable or malformed credentials file.
pub async fn secure(
    mut options: async_nats::ConnectOptions,
    settings: &NatsSettings,
) -> anyhow::Result<async_nats::ConnectOptions> {
    if let Some(path) = settings.creds_path() {
        options = match read_credentials(&path)? {
            Credentials::Jwt(contents) => options
                .credentials(&contents)
                .map_err(|e| anyhow::anyhow!("cannot read NATS credentials {}: {e}", path.display()))?,
            Credentials::Seed(seed) => options.nkey(seed),
        };
    }
    options = options.custom_inbox_prefix(settings.inbox_prefix());
    if settings.tls_enabled() {
        options = options.require_tls(true);
        if !settings.tls_ca.trim().is_empty() {
            options = options.add_root_certificates(PathBuf::from(settings.tls_ca.trim()));
        }
        match (settings.tls_cert.trim(), settings.tls_key.trim()) {
            ("", "") => {}
            (cert, key) if !cert.is_empty() && !key.is_empty() => {
                options = options.add_client_certificate(PathBuf::from(cert), PathBuf::from(key));
            }
            _ => anyhow::bail!("nats.tls_cert and nats.tls_key go together: set both or neither"),
        }
    }
    Ok(options)
}

/// What a credentials file holds.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user JWT and its seed (the file as `nsc` writes it): the whole text.
    Jwt(String),
    /// Only a user nkey seed (the file as `hoinghi admin credentials` writes it).
    Seed(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Jwt(_) => "Credentials::Jwt(<secret>)",
            Self::Seed(_) => "Credentials::Seed(<secret>)",
        })
    }
}

/// Reads a credentials file and tells its format apart.
///
/// # Errors
/// Unreadable, or neither a JWT nor a user nkey seed in it.
pub fn read_credentials(path: &Path) -> anyhow::Result<Credentials> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read NATS credentials {}: {e}", path.display()))?;
    parse_credentials(&text).ok_or_else(|| {
        anyhow::anyhow!(
            "{} holds neither a NATS user JWT nor a user nkey seed (-----BEGIN USER NKEY SEED----- block)",
            path.display()
        )
    })
}

/// Tells the format of a credentials text apart: a `BEGIN NATS USER JWT` block means a JWT file; else
/// the first line that is a user seed (`SU…`), inside the seed block or alone.
pub fn parse_credentials(text: &str) -> Option<Credentials> {
    if text.contains("BEGIN NATS USER JWT") {
        return Some(Credentials::Jwt(text.to_owned()));
    }
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("SU") && line.len() > 50 && line.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|seed| Credentials::Seed(seed.to_owned()))
}

/// The identity: `configured` if set, else the credentials file's name without `.creds`.
pub fn identity_of(configured: &str, creds: Option<&Path>) -> Option<String> {
    let configured = configured.trim();
    if !configured.is_empty() {
        return Some(configured.to_owned());
    }
    let path = creds?;
    let stem = path.file_stem()?.to_str()?.trim();
    (!stem.is_empty()).then(|| stem.to_owned())
}

/// `_INBOX.<identity>`, or `_INBOX` without an identity.
pub fn inbox_prefix(identity: Option<&str>) -> String {
    match identity {
        Some(identity) if !identity.is_empty() => format!("_INBOX.{identity}"),
        _ => "_INBOX".to_owned(),
    }
}

/// Whether a server error is a refused publish or subscription (`Permissions Violation for …`).
pub fn is_permission_violation(message: &str) -> bool {
    message.to_ascii_lowercase().contains("permissions violation")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_is_given_as_a_comma_separated_list() {
        let servers = server_list("nats://127.0.0.1:4222, nats://127.0.0.1:4223,nats://127.0.0.1:4224").unwrap();
        assert_eq!(servers.len(), 3);
        assert!(server_list("nats://127.0.0.1:notaport").unwrap_err().to_string().contains("notaport"));
        assert!(server_list(" , ").is_err());
    }

    #[test]
    fn a_seed_only_file_and_a_jwt_file_are_told_apart() {
        let seed = format!("S{}", "U".repeat(57));
        let seed_file = format!("-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n");
        assert_eq!(parse_credentials(&seed_file), Some(Credentials::Seed(seed.clone())));
        let jwt_file = format!(
            "-----BEGIN NATS USER JWT-----\neyJ0eXAi.x.y\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        );
        assert!(matches!(parse_credentials(&jwt_file), Some(Credentials::Jwt(_))));
        assert_eq!(parse_credentials("password=hunter2"), None);
    }

    #[test]
    fn the_inbox_prefix_names_the_identity() {
        assert_eq!(identity_of("", Some(Path::new("/x/site-ba-be.creds"))).as_deref(), Some("site-ba-be"));
        assert_eq!(identity_of("chair", Some(Path::new("/x/site-ba-be.creds"))).as_deref(), Some("chair"));
        assert_eq!(identity_of("", None), None);
        assert_eq!(inbox_prefix(Some("site-ba-be")), "_INBOX.site-ba-be");
        assert_eq!(inbox_prefix(None), "_INBOX");
        assert!(is_permission_violation("Permissions Violation for Publish to \"hoinghi.v1.events.x\""));
    }
}
