//! Layered configuration: the base file compiled in, an optional file named by `HOINGHI_CONFIG`, then
//! environment variables `HOINGHI__<SECTION>__<KEY>`.
//!
//! The configuration refuses what it does not know: every key is in the base file
//! (`config/base.toml`), and a key of the `HOINGHI_CONFIG` file or a `HOINGHI__…` variable that is
//! not one of them stops the service at start, with a message naming it and the closest valid key
//! ([`Settings::load_from`]), so a misspelt `HOINGHI__NATS__CRED` never starts a service without
//! credentials. [`effective`] shows the configuration a service would run with, secrets masked
//! (`hoinghi-<service> --check-config`).

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
    /// Traces exported over OTLP (off by default).
    #[serde(default)]
    pub telemetry: crate::telemetry::TelemetrySettings,
    /// Prometheus metrics and health checks over HTTP (off by default).
    #[serde(default)]
    pub metrics: crate::metrics::MetricsSettings,
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
    /// The API identity (`service-<name>-api`); empty: the name in the `api_creds` file's JWT.
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

    /// The identity: `nats.identity`, else the `name` of the user JWT in the credentials file
    /// (`hoinghi admin` names each user after its identity), else none.
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
                 (service-<name>-api.creds from `hoinghi admin init`; see docs/SECURITY.md)"
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
        layers(env)?.try_deserialize()
    }

    /// Checks what the layers cannot: settings that contradict each other or do not parse (the
    /// NATS URLs, the two identities, the TLS pair, the log format).
    ///
    /// # Errors
    /// The first problem found, naming the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::connect::server_list(&self.nats.url)?;
        self.nats.api()?;
        anyhow::ensure!(
            self.nats.tls_cert.trim().is_empty() == self.nats.tls_key.trim().is_empty(),
            "nats.tls_cert and nats.tls_key go together: set both or neither"
        );
        anyhow::ensure!(
            matches!(self.log.format.as_str(), "text" | "json"),
            "log.format is {:?}: it is \"text\" or \"json\"",
            self.log.format
        );
        Ok(())
    }
}

/// The prefix of the configuration's environment variables, with its separator.
const ENV_PREFIX: &str = "HOINGHI__";

/// The layers, each key checked against the base file's: the base file, the `HOINGHI_CONFIG` file,
/// the `HOINGHI__…` variables of `env`.
fn layers(env: impl IntoIterator<Item = (String, String)>) -> Result<config::Config, config::ConfigError> {
    layers_over(BASE, "services/runtime/config/base.toml", env)
}

/// The same three layers over another program's base file (`base`, shown as `base_path` in
/// messages), e.g. the gateway's: the base, the `HOINGHI_CONFIG` file, the `HOINGHI__…` variables of
/// `env`, every key checked against the base's.
///
/// # Errors
/// An unknown key (naming the closest known one), an unreadable file, a value that does not parse.
pub fn layers_over(
    base: &str,
    base_path: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<config::Config, config::ConfigError> {
    let env: std::collections::HashMap<String, String> = env.into_iter().collect();
    let known = leaf_keys(
        &config::Config::builder()
            .add_source(config::File::from_str(base, config::FileFormat::Toml))
            .build()?
            .try_deserialize::<config::Map<String, config::Value>>()?,
    );
    let known: std::collections::BTreeSet<String> = known.into_iter().collect();
    let unknown = |key: &str, origin: &str, known: &std::collections::BTreeSet<String>, as_variable: bool| {
        unknown(key, origin, known, as_variable, base_path)
    };
    let mut builder = config::Config::builder().add_source(config::File::from_str(base, config::FileFormat::Toml));
    if let Some(path) = env.get("HOINGHI_CONFIG").filter(|p| !p.is_empty()) {
        let file = config::File::with_name(path).required(true);
        let keys = leaf_keys(
            &config::Config::builder()
                .add_source(file.clone())
                .build()?
                .try_deserialize::<config::Map<String, config::Value>>()?,
        );
        for key in keys {
            if !known.contains(&key) {
                return Err(unknown(&key, &format!("the configuration file {path} (HOINGHI_CONFIG)"), &known, false));
            }
        }
        builder = builder.add_source(file);
    }
    for name in env.keys().filter(|name| name.starts_with(ENV_PREFIX)) {
        let key = name[ENV_PREFIX.len()..].split("__").collect::<Vec<_>>().join(".").to_ascii_lowercase();
        if !known.contains(&key) {
            return Err(unknown(&key, &format!("the environment variable {name}"), &known, true));
        }
    }
    builder
        .add_source(
            config::Environment::with_prefix("HOINGHI")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(env.into_iter().collect())),
        )
        .build()
}

/// Every key of the configuration, `section.key`, as the base file lists them.
///
/// # Errors
/// Never for the compiled-in file (a test reads it).
pub fn known_keys() -> Result<std::collections::BTreeSet<String>, config::ConfigError> {
    let base = config::Config::builder().add_source(config::File::from_str(BASE, config::FileFormat::Toml)).build()?;
    Ok(leaf_keys(&base.try_deserialize::<config::Map<String, config::Value>>()?).into_iter().collect())
}

/// The dotted paths of the leaves of a table (`nats.url`, …), lowercased.
fn leaf_keys(table: &config::Map<String, config::Value>) -> Vec<String> {
    let mut keys = Vec::new();
    for (name, value) in table {
        match value.clone().into_table() {
            Ok(inner) if !inner.is_empty() => {
                keys.extend(leaf_keys(&inner).into_iter().map(|k| format!("{}.{k}", name.to_ascii_lowercase())))
            }
            _ => keys.push(name.to_ascii_lowercase()),
        }
    }
    keys
}

/// The error for an unknown `key` found in `origin`, naming the closest known key.
fn unknown(
    key: &str,
    origin: &str,
    known: &std::collections::BTreeSet<String>,
    as_variable: bool,
    base_path: &str,
) -> config::ConfigError {
    let closest = known.iter().min_by_key(|k| strsim::levenshtein(k, key)).map(String::as_str).unwrap_or_default();
    let spelled = |k: &str| {
        if as_variable {
            format!("{ENV_PREFIX}{}", k.replace('.', "__").to_ascii_uppercase())
        } else {
            format!("`{k}`")
        }
    };
    config::ConfigError::Message(format!(
        "unknown configuration key `{key}` in {origin}; the closest valid key is {} (every key is listed, \
         with its default, in {base_path})",
        spelled(closest)
    ))
}

/// Key names whose values are secrets: shown masked.
const SECRET_WORDS: [&str; 5] = ["token", "seed", "password", "secret", "nkey"];

/// The configuration the process would run with, from the layers of `env`, as TOML (one table per
/// section, keys sorted), each secret masked: a key named like a token, seed, password or secret,
/// and the password of a URL (`nats://user:<masked>@host`). File paths (credentials, TLS) are shown.
///
/// # Errors
/// As [`Settings::load_from`], and [`Settings::validate`].
pub fn effective(env: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<String> {
    let env: Vec<(String, String)> = env.into_iter().collect();
    let settings = Settings::load_from(env.clone())?;
    settings.validate()?;
    let table = layers(env)?.try_deserialize::<config::Map<String, config::Value>>()?;
    let mut sections: Vec<_> = table.into_iter().collect();
    sections.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (section, value) in sections {
        let mut keys: Vec<_> = value.into_table()?.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        out.push_str(&format!("[{section}]\n"));
        for (key, value) in keys {
            let json: serde_json::Value = value.try_deserialize()?;
            let shown = match json {
                serde_json::Value::String(s) if SECRET_WORDS.iter().any(|w| key.contains(w)) && !s.is_empty() => {
                    serde_json::Value::String("<masked>".to_owned())
                }
                serde_json::Value::String(s) => serde_json::Value::String(mask_url_password(&s)),
                other => other,
            };
            out.push_str(&format!("{key} = {shown}\n"));
        }
        out.push('\n');
    }
    Ok(out)
}

/// `scheme://user:password@host…` with the password masked (each URL of a comma-separated list).
fn mask_url_password(value: &str) -> String {
    value
        .split(',')
        .map(|url| match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let userinfo = &url[scheme + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => format!("{}{user}:<masked>{}", &url[..scheme + 3], &url[at..]),
                    None => url.to_owned(),
                }
            }
            _ => url.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
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
    fn the_identity_comes_from_the_setting_or_the_credentials_files_jwt() {
        let dir = tempfile::tempdir().unwrap();
        let creds = deployment(dir.path());
        let settings = Settings::load_from([("HOINGHI__NATS__CREDS".to_owned(), creds("service-minutes"))]).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        let creds = deployment(dir.path());
        let settings = Settings::load_from([
            ("HOINGHI__NATS__CREDS".to_owned(), creds("service-minutes")),
            ("HOINGHI__NATS__API_CREDS".to_owned(), creds("service-minutes-api")),
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

    /// A deployment in `dir` with the minutes service's identities; the path of an identity's
    /// credentials file.
    fn deployment(dir: &std::path::Path) -> impl Fn(&str) -> String + '_ {
        let server = hoinghi_credentials::ServerSettings::under(dir, "127.0.0.1:4222");
        let mut d = hoinghi_credentials::Deployment::init(dir, server, false).unwrap();
        d.add_all(&["service-minutes".to_owned(), "service-minutes-api".to_owned()]).unwrap();
        move |identity| hoinghi_credentials::creds_path(dir, identity).display().to_string()
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_misspelt_variable_stops_the_service_naming_the_closest_key() {
        // Given a variable one letter short of nats.creds
        // When the settings are loaded
        let err = Settings::load_from(env(&[("HOINGHI__NATS__CRED", "/etc/hoinghi/service-minutes.creds")]))
            .unwrap_err()
            .to_string();
        // Then they are refused, naming the variable and the closest valid one
        assert!(err.contains("HOINGHI__NATS__CRED"), "{err}");
        assert!(err.contains("HOINGHI__NATS__CREDS"), "{err}");
        let err = Settings::load_from(env(&[("HOINGHI__SERVCE__MAX_IN_FLIGHT", "8")])).unwrap_err().to_string();
        assert!(err.contains("HOINGHI__SERVICE__MAX_IN_FLIGHT"), "{err}");
        // Variables outside the prefix are not the configuration's
        Settings::load_from(env(&[("HOINGHI_TEST_LOG", "debug"), ("HOME", "/root")])).unwrap();
    }

    #[test]
    fn an_unknown_key_in_the_file_stops_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hoinghi.toml");
        std::fs::write(&path, "[nats]\nurl = \"nats://10.0.0.5:4222\"\nrepilcas = 3\n").unwrap();
        let err = Settings::load_from(env(&[("HOINGHI_CONFIG", path.to_str().unwrap())])).unwrap_err().to_string();
        assert!(err.contains("`nats.repilcas`") && err.contains("`nats.replicas`"), "{err}");
        std::fs::write(&path, "[nats]\nurl = \"nats://10.0.0.5:4222\"\nreplicas = 3\n[logs]\nlevel = \"debug\"\n")
            .unwrap();
        let err = Settings::load_from(env(&[("HOINGHI_CONFIG", path.to_str().unwrap())])).unwrap_err().to_string();
        assert!(err.contains("`logs.level`") && err.contains("`log.level`"), "{err}");
        std::fs::write(&path, "[nats]\nurl = \"nats://10.0.0.5:4222\"\nreplicas = 3\n").unwrap();
        let settings = Settings::load_from(env(&[("HOINGHI_CONFIG", path.to_str().unwrap())])).unwrap();
        assert_eq!(settings.nats.replicas, 3);
    }

    #[test]
    fn the_effective_configuration_masks_secrets_and_shows_paths() {
        let shown = effective(env(&[
            ("HOINGHI__NATS__URL", "nats://ops:hunter2@10.0.0.5:4222,nats://10.0.0.6:4222"),
            ("HOINGHI__NATS__CREDS", "/etc/hoinghi/service-minutes.creds"),
            ("HOINGHI__NATS__API_CREDS", "/etc/hoinghi/service-minutes-api.creds"),
            ("HOINGHI__SERVICE__MAX_IN_FLIGHT", "7"),
        ]))
        .unwrap();
        assert!(shown.contains("[nats]\n"), "{shown}");
        assert!(shown.contains("creds = \"/etc/hoinghi/service-minutes.creds\""), "{shown}");
        assert!(shown.contains("url = \"nats://ops:<masked>@10.0.0.5:4222,nats://10.0.0.6:4222\""), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("max_in_flight = 7"), "{shown}");
        assert_eq!(mask_url_password("nats://10.0.0.5:4222"), "nats://10.0.0.5:4222");
        // Invalid: creds without the API identity's
        let err = effective(env(&[("HOINGHI__NATS__CREDS", "/etc/hoinghi/service-minutes.creds")])).unwrap_err();
        assert!(err.to_string().contains("api_creds"), "{err}");
    }

    #[test]
    fn every_key_the_settings_read_is_in_the_base_file() {
        // The base file is the list of valid keys: a key missing from it would be refused.
        let known = known_keys().unwrap();
        for key in ["nats.creds", "nats.api_identity", "calendar.holidays_file", "presence.sweep_ms", "log.format"] {
            assert!(known.contains(key), "{key}");
        }
        Settings::load_from(std::iter::empty()).unwrap().validate().unwrap();
    }

    #[test]
    fn a_value_of_the_wrong_type_is_reported_with_its_key() {
        let err = Settings::load_from([("HOINGHI__NATS__REPLICAS".to_owned(), "three".to_owned())]).unwrap_err();
        assert!(err.to_string().contains("replicas"), "{err}");
    }
}
