//! Connecting to NATS. The client reconnects by itself, forever, after any server restart.

use std::time::Duration;

use tracing::{info, warn};

use crate::config::NatsSettings;

/// Connects with `name` as the connection name, retrying until `connect_timeout_ms`.
///
/// # Errors
/// No server answered in time, or the credentials file is unreadable.
pub async fn connect(settings: &NatsSettings, name: &str) -> anyhow::Result<async_nats::Client> {
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
                    other => info!(event = %other, "NATS client event"),
                }
            });
        if let Some(path) = settings.creds_path() {
            options = options
                .credentials_file(&path)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read NATS credentials {}: {e}", path.display()))?;
        }
        let attempt = tokio::time::timeout(Duration::from_secs(5), options.connect(settings.url.as_str())).await;
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
