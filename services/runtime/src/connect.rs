//! Connecting to NATS. The client reconnects by itself, forever, after any server restart.
//!
//! Authentication and transport security come from [`NatsSettings`]: a standard credentials file (a
//! user JWT with its nkey seed, as `hoinghi admin` writes), the identity whose inbox prefix
//! (`_INBOX.<identity>`) the connection uses (by default the JWT's `name`), and TLS.

use std::path::PathBuf;
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
        options = options
            .credentials_file(&path)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read NATS credentials {}: {e}", path.display()))?;
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

/// Reading a credentials file and naming the connection's identity and inbox: one definition, in
/// `hoinghi-credentials`, shared with the CLI and the test harness.
pub use hoinghi_credentials::{identity_of, inbox_prefix, read_credentials, Credentials};

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
    fn a_refused_publish_is_told_apart() {
        assert!(is_permission_violation("Permissions Violation for Publish to \"hoinghi.v1.events.x\""));
    }
}
