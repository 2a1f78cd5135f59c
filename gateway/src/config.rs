//! The gateway's settings, layered like the services' (`hoinghi_runtime::config::layers_over`):
//! the base file `config/base.toml` compiled in (every key with its default), a TOML file named by
//! `HOINGHI_CONFIG`, then `HOINGHI__<SECTION>__<KEY>` variables; an unknown key stops the gateway.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

/// The base layer: every key with its default.
pub const BASE: &str = include_str!("../config/base.toml");

/// All settings of the gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// The HTTP side.
    pub http: HttpSettings,
    /// How to reach NATS.
    pub nats: NatsSettings,
    /// Where the identities are.
    pub deployment: DeploymentSettings,
    /// Limits per identity and of the whole instance.
    pub limits: Limits,
    /// Logging (the services' settings).
    pub log: hoinghi_runtime::config::LogSettings,
}

/// The HTTP side.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    /// `address:port` to listen on.
    pub listen: String,
    /// Origins allowed by CORS, comma separated; empty: none.
    pub cors_allow_origins: String,
    /// Whether the pages' session cookie carries `Secure`.
    pub secure_cookies: bool,
}

impl HttpSettings {
    /// The CORS allow-list.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_allow_origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect()
    }
}

/// How to reach NATS.
#[derive(Debug, Clone, Deserialize)]
pub struct NatsSettings {
    /// Server URL(s), comma separated.
    pub url: String,
    /// PEM CA of the server's certificate.
    pub tls_ca: String,
    /// PEM client certificate.
    pub tls_cert: String,
    /// PEM client key.
    pub tls_key: String,
    /// How long one request waits for its reply.
    pub request_timeout_ms: u64,
}

/// Where the identities are.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentSettings {
    /// The deployment directory.
    pub dir: String,
}

/// Limits.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Limits {
    /// Sustained requests per second per identity.
    pub requests_per_second: u32,
    /// Burst above it.
    pub burst: u32,
    /// NATS connections (identities) at once.
    pub max_connections: usize,
    /// Idle time after which an identity's connection is closed.
    pub idle_close_s: u64,
    /// Live streams per identity.
    pub streams_per_identity: usize,
}

impl Settings {
    /// The settings from the process environment.
    ///
    /// # Errors
    /// An unknown key, a value that does not parse, a setting that makes no sense.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::vars())
    }

    /// The settings from the layers of `env`.
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn load_from(env: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<Self> {
        let settings: Self = hoinghi_runtime::config::layers_over(BASE, "gateway/config/base.toml", env)?
            .try_deserialize()
            .context("gateway configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.deployment.dir.is_empty(),
            "deployment.dir (HOINGHI__DEPLOYMENT__DIR) is required: the gateway acts as each caller's identity \
             with its credentials from that directory, and reads the tokens there"
        );
        anyhow::ensure!(self.limits.requests_per_second > 0, "limits.requests_per_second must be at least 1");
        anyhow::ensure!(self.limits.max_connections > 0, "limits.max_connections must be at least 1");
        anyhow::ensure!(
            matches!(self.log.format.as_str(), "text" | "json"),
            "log.format is {:?}: it is \"text\" or \"json\"",
            self.log.format
        );
        self.http.listen.parse::<std::net::SocketAddr>().with_context(|| {
            format!("http.listen is {:?}: it is an address and port, e.g. 127.0.0.1:8080", self.http.listen)
        })?;
        Ok(())
    }

    /// The deployment directory.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(&self.deployment.dir)
    }

    /// The client settings every identity's connection starts from (no identity yet).
    pub fn client(&self) -> hoinghi_client::Settings {
        let mut settings = hoinghi_client::Settings::new(self.nats.url.clone());
        settings.timeout = Duration::from_millis(self.nats.request_timeout_ms);
        settings.name = "hoinghi-gateway".to_owned();
        let file = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
        settings.tls_ca = file(&self.nats.tls_ca);
        if let (Some(cert), Some(key)) = (file(&self.nats.tls_cert), file(&self.nats.tls_key)) {
            settings.tls_client = Some((cert, key));
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn variables_override_the_base_and_a_misspelt_one_is_refused() {
        let s = Settings::load_from(env(&[
            ("HOINGHI__DEPLOYMENT__DIR", "/srv/hoinghi"),
            ("HOINGHI__HTTP__LISTEN", "0.0.0.0:9000"),
            ("HOINGHI__LIMITS__BURST", "7"),
            ("HOINGHI__HTTP__CORS_ALLOW_ORIGINS", "https://a.example, https://b.example"),
        ]))
        .unwrap();
        assert_eq!(s.http.listen, "0.0.0.0:9000");
        assert_eq!(s.limits.burst, 7);
        assert_eq!(s.http.cors_origins(), ["https://a.example", "https://b.example"]);
        assert_eq!(s.dir(), PathBuf::from("/srv/hoinghi"));
        let err =
            Settings::load_from(env(&[("HOINGHI__DEPLOYMENT__DIR", "/x"), ("HOINGHI__HTTP__LISTN", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("HOINGHI__HTTP__LISTEN"), "{err:#}");
    }

    #[test]
    fn the_deployment_directory_is_required_and_cors_is_closed_by_default() {
        let err = Settings::load_from(env(&[])).unwrap_err();
        assert!(err.to_string().contains("deployment.dir"), "{err}");
        let s = Settings::load_from(env(&[("HOINGHI__DEPLOYMENT__DIR", "/x")])).unwrap();
        assert!(s.http.cors_origins().is_empty());
    }
}
