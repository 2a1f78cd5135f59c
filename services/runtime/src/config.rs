//! Layered configuration: the base file compiled in, an optional file named by `HOINGHI_CONFIG`, then
//! environment variables `HOINGHI__<SECTION>__<KEY>`.

use std::path::PathBuf;

use serde::Deserialize;

/// The base layer: every key with its default.
pub const BASE: &str = include_str!("../config/base.toml");

/// All settings of a service.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// How to reach NATS.
    pub nats: NatsSettings,
    /// Request handling.
    pub service: ServiceSettings,
    /// Reactions to other services' events.
    pub reactions: ReactionSettings,
    /// Logging.
    pub log: LogSettings,
    /// The working-day calendar (the minutes service's notice deadlines).
    #[serde(default)]
    pub calendar: CalendarSettings,
    /// Live presence of the bridges (attendance).
    #[serde(default)]
    pub presence: PresenceSettings,
}

/// Live presence: bridges' heartbeats turned into transitions (attendance).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct PresenceSettings {
    /// How often a bridge's endpoint sends its heartbeat (what `hoinghi presence beat` uses).
    pub heartbeat_interval_ms: u64,
    /// A connected bridge unheard for this long is dropped; also the listening window after a
    /// start or a reconnect, during which no drop is decided.
    pub grace_ms: u64,
    /// How often the sweeper looks for bridges gone silent.
    pub sweep_ms: u64,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self { heartbeat_interval_ms: 5_000, grace_ms: 15_000, sweep_ms: 1_000 }
    }
}

/// The working-day calendar.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CalendarSettings {
    /// A TOML file of public holidays per year (the format of the minutes service's
    /// `config/holidays.toml`); each year it lists replaces the compiled-in year or adds to them.
    /// Empty: the compiled-in table only. A file that cannot be read or parsed stops the service
    /// at start.
    #[serde(default)]
    pub holidays_file: String,
}

/// Reactions to other services' events.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ReactionSettings {
    /// Deliveries before an event is parked.
    pub max_deliver: i64,
    /// First retry delay.
    pub backoff_ms: u64,
}

/// How to reach NATS.
#[derive(Clone, Deserialize)]
pub struct NatsSettings {
    /// Server URL(s), comma separated.
    pub url: String,
    /// Credentials file; empty for none.
    pub creds: String,
    /// Give up the first connection after this long.
    pub connect_timeout_ms: u64,
    /// JetStream replicas for created streams.
    pub replicas: usize,
    /// The identity this connection acts as (`service-scheduling`, `site-ba-be`, …): its inbox prefix
    /// is `_INBOX.<identity>`. Empty: taken from the credentials file's name, else plain `_INBOX`.
    #[serde(default)]
    pub identity: String,
    /// PEM file of the CA that signed the server's certificate; non-empty turns TLS on.
    #[serde(default)]
    pub tls_ca: String,
    /// PEM client certificate (for servers that verify clients); needs `tls_key`.
    #[serde(default)]
    pub tls_cert: String,
    /// PEM private key of `tls_cert`.
    #[serde(default)]
    pub tls_key: String,
    /// Credentials of the service's API identity, the connection that answers requests: it may
    /// publish only to inboxes, never into a stream. Required when `creds` is set.
    #[serde(default)]
    pub api_creds: String,
    /// The API identity (`service-<name>-api`); empty: the `api_creds` file's name.
    #[serde(default)]
    pub api_identity: String,
}

impl std::fmt::Debug for NatsSettings {
    // The credentials path is not secret, but keep the habit: settings are logged at start.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSettings")
            .field("url", &self.url)
            .field("creds", &if self.creds.is_empty() { "none" } else { "<file>" })
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("replicas", &self.replicas)
            .field("identity", &self.identity())
            .field("tls", &self.tls_enabled())
            .field("api_creds", &if self.api_creds.is_empty() { "none" } else { "<file>" })
            .finish()
    }
}

impl NatsSettings {
    /// The credentials file, if one is configured.
    pub fn creds_path(&self) -> Option<PathBuf> {
        (!self.creds.trim().is_empty()).then(|| PathBuf::from(self.creds.trim()))
    }

    /// The identity: `nats.identity`, else the credentials file's name without `.creds`
    /// (`site-ba-be.creds` -> `site-ba-be`), else none.
    pub fn identity(&self) -> Option<String> {
        crate::connect::identity_of(&self.identity, self.creds_path().as_deref())
    }

    /// The inbox prefix of this identity: `_INBOX.<identity>`, or `_INBOX` without one.
    pub fn inbox_prefix(&self) -> String {
        crate::connect::inbox_prefix(self.identity().as_deref())
    }

    /// Whether any TLS setting is given (then TLS is required).
    pub fn tls_enabled(&self) -> bool {
        [&self.tls_ca, &self.tls_cert, &self.tls_key].iter().any(|v| !v.trim().is_empty())
    }

    /// The settings of the connection that answers requests: the same server and TLS, as the API
    /// identity (`api_creds`, `api_identity`). Without credentials (an open server) both connections
    /// are anonymous.
    ///
    /// # Errors
    /// `creds` is set but `api_creds` is not: the identity that answers requests would be the one
    /// that writes the event log, so a reply could be steered into a stream.
    pub fn api(&self) -> anyhow::Result<Self> {
        match (self.creds.trim().is_empty(), self.api_creds.trim().is_empty()) {
            (true, true) => Ok(self.clone()),
            (false, true) => anyhow::bail!(
                "nats.api_creds (HOINGHI__NATS__API_CREDS) is not set: with nats.creds set, a service needs a \
                 second identity that answers requests and may publish only to inboxes \
                 (service-<name>-api.creds from `hoinghi admin credentials`; see docs/SECURITY.md)"
            ),
            _ => Ok(Self {
                creds: self.api_creds.clone(),
                identity: self.api_identity.clone(),
                api_creds: String::new(),
                api_identity: String::new(),
                ..self.clone()
            }),
        }
    }
}

/// Request handling.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    /// Threads running requests (1: a single-threaded runtime).
    pub worker_threads: usize,
    /// Most requests in flight per instance.
    pub max_in_flight: usize,
    /// Drain time on SIGTERM.
    pub drain_timeout_ms: u64,
    /// How long a command waits for its own event to be applied.
    pub apply_timeout_ms: u64,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// A tracing filter.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Settings {
    /// Loads the layers from the process environment.
    ///
    /// # Errors
    /// A file that cannot be read, or a value of the wrong type (the message names the key).
    pub fn load() -> Result<Self, config::ConfigError> {
        Self::load_from(std::env::vars())
    }

    /// Loads the layers from the given environment (tests pass their own).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_from(env: impl IntoIterator<Item = (String, String)>) -> Result<Self, config::ConfigError> {
        let env: std::collections::HashMap<String, String> = env.into_iter().collect();
        let mut builder = config::Config::builder().add_source(config::File::from_str(BASE, config::FileFormat::Toml));
        if let Some(path) = env.get("HOINGHI_CONFIG").filter(|p| !p.is_empty()) {
            builder = builder.add_source(config::File::with_name(path).required(true));
        }
        builder
            .add_source(
                config::Environment::with_prefix("HOINGHI")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(env.into_iter().collect())),
            )
            .build()?
            .try_deserialize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_variables_override_the_base_file() {
        let settings = Settings::load_from([
            ("HOINGHI__NATS__URL".to_owned(), "nats://10.1.2.3:4333".to_owned()),
            ("HOINGHI__SERVICE__MAX_IN_FLIGHT".to_owned(), "7".to_owned()),
        ])
        .unwrap();
        assert_eq!(settings.nats.url, "nats://10.1.2.3:4333");
        assert_eq!(settings.service.max_in_flight, 7);
        assert_eq!(settings.log.level, "info");
        assert!(settings.nats.creds_path().is_none());
        assert_eq!(settings.nats.inbox_prefix(), "_INBOX");
        assert!(!settings.nats.tls_enabled());
    }

    #[test]
    fn the_identity_comes_from_the_setting_or_the_credentials_file_name() {
        let settings =
            Settings::load_from([("HOINGHI__NATS__CREDS".to_owned(), "/etc/hoinghi/service-minutes.creds".to_owned())])
                .unwrap();
        assert_eq!(settings.nats.identity().as_deref(), Some("service-minutes"));
        assert_eq!(settings.nats.inbox_prefix(), "_INBOX.service-minutes");
        let settings = Settings::load_from([
            ("HOINGHI__NATS__CREDS".to_owned(), "/etc/hoinghi/x.creds".to_owned()),
            ("HOINGHI__NATS__IDENTITY".to_owned(), "service-attendance".to_owned()),
        ])
        .unwrap();
        assert_eq!(settings.nats.inbox_prefix(), "_INBOX.service-attendance");
    }

    #[test]
    fn requests_are_answered_by_an_identity_of_their_own() {
        let open = Settings::load_from(std::iter::empty()).unwrap();
        assert!(open.nats.api().unwrap().creds_path().is_none());
        let settings = Settings::load_from([
            ("HOINGHI__NATS__CREDS".to_owned(), "/etc/hoinghi/service-minutes.creds".to_owned()),
            ("HOINGHI__NATS__API_CREDS".to_owned(), "/etc/hoinghi/service-minutes-api.creds".to_owned()),
        ])
        .unwrap();
        let api = settings.nats.api().unwrap();
        assert_eq!(api.inbox_prefix(), "_INBOX.service-minutes-api");
        assert_eq!(settings.nats.inbox_prefix(), "_INBOX.service-minutes");
        let one_identity =
            Settings::load_from([("HOINGHI__NATS__CREDS".to_owned(), "/etc/hoinghi/service-minutes.creds".to_owned())])
                .unwrap();
        let err = one_identity.nats.api().unwrap_err().to_string();
        assert!(err.contains("api_creds"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_reported_with_its_key() {
        let err = Settings::load_from([("HOINGHI__NATS__REPLICAS".to_owned(), "three".to_owned())]).unwrap_err();
        assert!(err.to_string().contains("replicas"), "{err}");
    }
}
