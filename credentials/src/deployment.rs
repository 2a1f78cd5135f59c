//! A deployment directory: one nkey user per identity, the `nats-server` configuration that pins
//! each identity's permissions ([`Role::permissions`]), and the credentials files
//! (`hoinghi admin …`).
//!
//! Everything lives in one directory:
//! - `nats-server.conf`: `listen`, `max_payload`, `jetstream { store_dir }`, optional `tls`, and
//!   `authorization { users: [...] }` with one nkey user per identity and its permissions;
//! - `<identity>.creds` (mode 0600): the identity's nkey seed in the standard
//!   `-----BEGIN USER NKEY SEED-----` block; the services and the CLI read it from
//!   `HOINGHI__NATS__CREDS`, and take the identity (hence the inbox prefix `_INBOX.<identity>`) from
//!   the file name;
//! - `identities.json`: identity -> public nkey (no seeds), the source the configuration is written
//!   from, so that adding, revoking or rotating one identity changes no other key;
//! - `server.json`: the server settings the configuration was written with (listen address, store
//!   directory, TLS files).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use hoinghi_shared::roles::{site_identity, Permissions, Role};
use hoinghi_shared::SiteId;
use serde::{Deserialize, Serialize};

/// The server configuration file's name.
pub const SERVER_CONF: &str = "nats-server.conf";
/// The identity -> public key file's name.
pub const IDENTITIES: &str = "identities.json";
/// The server settings file's name.
pub const SERVER_JSON: &str = "server.json";

/// The credentials file of an identity in `dir`.
pub fn creds_path(dir: &Path, identity: &str) -> PathBuf {
    dir.join(format!("{identity}.creds"))
}

/// TLS for the server's client port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tls {
    /// The server's certificate (PEM).
    pub cert: String,
    /// Its private key (PEM).
    pub key: String,
    /// A CA (PEM) whose client certificates the server requires (mutual TLS); none: any client may
    /// connect over TLS and authenticates with its nkey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_clients_ca: Option<String>,
}

/// The server settings the configuration is written with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// `host:port` for clients.
    pub listen: String,
    /// JetStream's store directory.
    pub store_dir: String,
    /// TLS, if on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { listen: "127.0.0.1:4222".to_owned(), store_dir: "./nats-store".to_owned(), tls: None }
    }
}

/// A deployment directory's contents (without the seeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The server settings.
    pub server: ServerSettings,
    /// Identity -> public nkey.
    pub identities: BTreeMap<String, String>,
}

impl Deployment {
    /// Reads `identities.json` and `server.json` from `dir`.
    ///
    /// # Errors
    /// Missing or unreadable files.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read {} (is {} a directory made by `hoinghi admin credentials`?)",
                    path.display(),
                    dir.display()
                )
            })
        };
        let identities: BTreeMap<String, String> =
            serde_json::from_str(&read(IDENTITIES)?).with_context(|| format!("{IDENTITIES} is not valid"))?;
        let server: ServerSettings =
            serde_json::from_str(&read(SERVER_JSON)?).with_context(|| format!("{SERVER_JSON} is not valid"))?;
        Ok(Self { server, identities })
    }

    /// The site ids among the identities.
    pub fn sites(&self) -> Vec<String> {
        self.identities
            .keys()
            .filter_map(|i| match Role::from_identity(i) {
                Some(Role::Site(site)) => Some(site.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    /// The `nats-server` configuration.
    pub fn server_config(&self) -> String {
        let mut out = String::new();
        out.push_str("# Written by `hoinghi admin` from identities.json and server.json: do not edit by hand;\n");
        out.push_str("# regenerate with `hoinghi admin add-site|revoke-site|rotate`, then reload the server:\n");
        out.push_str("#   nats-server --signal reload=<pid>   (or kill -HUP <pid>)\n");
        out.push_str(&format!("listen: {}\n", quote(&self.server.listen)));
        out.push_str(hoinghi_shared::sizes::SERVER_MAX_PAYLOAD_CONF);
        out.push('\n');
        out.push_str("jetstream {\n");
        out.push_str(&format!("  store_dir: {}\n", quote(&self.server.store_dir)));
        out.push_str("}\n");
        if let Some(tls) = &self.server.tls {
            out.push_str("tls {\n");
            out.push_str(&format!("  cert_file: {}\n", quote(&tls.cert)));
            out.push_str(&format!("  key_file: {}\n", quote(&tls.key)));
            if let Some(ca) = &tls.verify_clients_ca {
                out.push_str(&format!("  ca_file: {}\n", quote(ca)));
                out.push_str("  verify: true\n");
            }
            out.push_str("}\n");
        }
        out.push_str("authorization {\n  users: [\n");
        for (identity, public_key) in &self.identities {
            let Some(perms) = permissions(identity) else { continue };
            out.push_str(&format!("    # {identity}\n"));
            out.push_str(&format!("    {{\n      nkey: {}\n      permissions: {{\n", quote(public_key)));
            out.push_str(&format!("        publish: {{\n          allow: {}\n", list(&perms.publish_allow)));
            if !perms.publish_deny.is_empty() {
                out.push_str(&format!("          deny: {}\n", list(&perms.publish_deny)));
            }
            out.push_str("        }\n");
            out.push_str(&format!(
                "        subscribe: {{\n          allow: {}\n        }}\n",
                list(&perms.subscribe_allow)
            ));
            if perms.allow_responses {
                out.push_str("        allow_responses: true\n");
            }
            out.push_str("      }\n    }\n");
        }
        out.push_str("  ]\n}\n");
        out
    }

    /// Writes `identities.json`, `server.json` and `nats-server.conf` into `dir`.
    ///
    /// # Errors
    /// The directory is not writable.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        write_file(&dir.join(IDENTITIES), serde_json::to_string_pretty(&self.identities)?.as_bytes(), 0o644)?;
        write_file(&dir.join(SERVER_JSON), serde_json::to_string_pretty(&self.server)?.as_bytes(), 0o644)?;
        write_file(&dir.join(SERVER_CONF), self.server_config().as_bytes(), 0o644)?;
        Ok(())
    }
}

/// A JSON string literal, which the NATS configuration format reads as a quoted string.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Writes a file atomically (temporary file, then rename) with the given Unix mode.
fn write_file(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(contents).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.sync_all().ok();
    drop(file);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The text of a credentials file for `identity`: comments, then the seed block.
pub fn creds_text(identity: &str, public_key: &str, seed: &str) -> String {
    format!(
        "# hoinghi NATS credentials of the identity \"{identity}\" (nkey user {public_key}).\n\
         # Written by `hoinghi admin`. The seed below is a secret: whoever holds this file acts as {identity}.\n\
         # Use it with HOINGHI__NATS__CREDS=<this file> (or `hoinghi --creds <this file>`); the identity, and so\n\
         # the inbox prefix _INBOX.{identity}, is taken from the file name.\n\
         \n\
         -----BEGIN USER NKEY SEED-----\n\
         {seed}\n\
         ------END USER NKEY SEED------\n"
    )
}

/// Makes a new nkey user for `identity`, writes `<identity>.creds` (mode 0600) into `dir` and returns
/// the public key.
fn new_identity(dir: &Path, identity: &str) -> anyhow::Result<String> {
    let pair = nkeys::KeyPair::new_user();
    let seed = pair.seed().map_err(|e| anyhow::anyhow!("cannot encode the seed of {identity}: {e}"))?;
    let public_key = pair.public_key();
    write_file(&creds_path(dir, identity), creds_text(identity, &public_key, &seed).as_bytes(), 0o600)?;
    Ok(public_key)
}

/// The permissions of an identity, from its name ([`Role::permissions`]); `None` for a name that is
/// no identity.
pub fn permissions(identity: &str) -> Option<Permissions> {
    Role::from_identity(identity).map(|role| role.permissions())
}

/// Every identity of a deployment with these sites ([`Role::all`]).
pub fn identities_for(sites: &[SiteId]) -> Vec<String> {
    Role::all(sites).iter().map(Role::identity).collect()
}

/// `hoinghi admin credentials`: a new deployment in `dir` (created if missing) with fresh keys for
/// every identity.
///
/// # Errors
/// `dir` already holds a deployment and `force` is off; repeated sites; files not writable.
pub fn generate(dir: &Path, sites: &[SiteId], server: ServerSettings, force: bool) -> anyhow::Result<Deployment> {
    if !force && dir.join(IDENTITIES).exists() {
        bail!(
            "{} already holds a deployment ({IDENTITIES}); use add-site, revoke-site or rotate to change it, \
             or --force to replace every key",
            dir.display()
        );
    }
    let mut seen = std::collections::HashSet::new();
    for site in sites {
        if !seen.insert(site) {
            bail!("site {site} is listed twice");
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut identities = BTreeMap::new();
    for identity in identities_for(sites) {
        let public_key = new_identity(dir, &identity)?;
        identities.insert(identity, public_key);
    }
    let deployment = Deployment { server, identities };
    deployment.save(dir)?;
    Ok(deployment)
}

/// `hoinghi admin add-site`: a new identity `site-<id>`; every other key stays.
///
/// # Errors
/// The site is there already, or the directory is not a deployment.
pub fn add_site(dir: &Path, site: &SiteId) -> anyhow::Result<Deployment> {
    let mut deployment = Deployment::load(dir)?;
    let identity = site_identity(site);
    if deployment.identities.contains_key(&identity) {
        bail!("{identity} exists already (use `hoinghi admin rotate {identity}` for a new key)");
    }
    let public_key = new_identity(dir, &identity)?;
    deployment.identities.insert(identity, public_key);
    deployment.save(dir)?;
    Ok(deployment)
}

/// `hoinghi admin revoke-site`: removes `site-<id>` from the server configuration and deletes its
/// credentials file; every other key stays.
///
/// # Errors
/// No such site, or the directory is not a deployment.
pub fn revoke_site(dir: &Path, site: &SiteId) -> anyhow::Result<Deployment> {
    let mut deployment = Deployment::load(dir)?;
    let identity = site_identity(site);
    if deployment.identities.remove(&identity).is_none() {
        bail!("{identity} is not in {}", dir.join(IDENTITIES).display());
    }
    deployment.save(dir)?;
    let creds = creds_path(dir, &identity);
    if creds.exists() {
        std::fs::remove_file(&creds).with_context(|| format!("cannot delete {}", creds.display()))?;
    }
    Ok(deployment)
}

/// `hoinghi admin rotate`: a new key for one identity (its old credentials stop working once the
/// server reloads); every other key stays.
///
/// # Errors
/// No such identity, or the directory is not a deployment.
pub fn rotate(dir: &Path, identity: &str) -> anyhow::Result<Deployment> {
    let mut deployment = Deployment::load(dir)?;
    if !deployment.identities.contains_key(identity) {
        bail!("{identity} is not in {}", dir.join(IDENTITIES).display());
    }
    let public_key = new_identity(dir, identity)?;
    deployment.identities.insert(identity.to_owned(), public_key);
    deployment.save(dir)?;
    Ok(deployment)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::file::{parse_credentials, Credentials};

    fn site(s: &str) -> SiteId {
        SiteId::parse(s).unwrap()
    }

    #[test]
    fn every_identity_gets_a_seed_file_and_a_user_in_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let d = generate(dir.path(), &[site("ba-be"), site("na-ri")], ServerSettings::default(), false).unwrap();
        let names: Vec<&str> = d.identities.keys().map(String::as_str).collect();
        for expected in [
            "chair",
            "minute-taker",
            "secretariat",
            "service-attendance",
            "service-attendance-api",
            "service-minutes",
            "service-minutes-api",
            "service-scheduling",
            "service-scheduling-api",
            "site-ba-be",
            "site-na-ri",
        ] {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
            let creds = std::fs::read_to_string(creds_path(dir.path(), expected)).unwrap();
            assert!(
                creds.contains("-----BEGIN USER NKEY SEED-----") && creds.contains("------END USER NKEY SEED------")
            );
            let Some(Credentials::Seed(seed)) = parse_credentials(&creds) else { panic!("no seed in {expected}") };
            let pair = nkeys::KeyPair::from_seed(&seed).unwrap();
            assert_eq!(pair.public_key(), d.identities[expected]);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(creds_path(dir.path(), expected)).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{expected}");
            }
        }
        let conf = std::fs::read_to_string(dir.path().join(SERVER_CONF)).unwrap();
        assert!(conf.contains("max_payload: 8MB"));
        assert!(conf.contains(&d.identities["site-ba-be"]));
        assert!(conf.contains("\"_INBOX.site-ba-be.>\""));
        let ids = std::fs::read_to_string(dir.path().join(IDENTITIES)).unwrap();
        for identity in d.identities.keys() {
            let creds = std::fs::read_to_string(creds_path(dir.path(), identity)).unwrap();
            let Some(Credentials::Seed(seed)) = parse_credentials(&creds) else { panic!() };
            assert!(!conf.contains(&seed) && !ids.contains(&seed), "the seed of {identity} leaked");
        }
        assert!(generate(dir.path(), &[], ServerSettings::default(), false).is_err(), "no silent overwrite");
    }

    #[test]
    fn adding_and_revoking_a_site_keeps_every_other_key() {
        let dir = tempfile::tempdir().unwrap();
        let before = generate(dir.path(), &[site("ba-be")], ServerSettings::default(), false).unwrap();
        let added = add_site(dir.path(), &site("pac-nam")).unwrap();
        for (k, v) in &before.identities {
            assert_eq!(&added.identities[k], v);
        }
        assert!(creds_path(dir.path(), "site-pac-nam").exists());
        assert!(add_site(dir.path(), &site("pac-nam")).is_err());
        let revoked = revoke_site(dir.path(), &site("ba-be")).unwrap();
        assert!(!revoked.identities.contains_key("site-ba-be"));
        assert!(!creds_path(dir.path(), "site-ba-be").exists());
        assert_eq!(revoked.identities["site-pac-nam"], added.identities["site-pac-nam"]);
        let conf = std::fs::read_to_string(dir.path().join(SERVER_CONF)).unwrap();
        assert!(!conf.contains(&before.identities["site-ba-be"]));
        let rotated = rotate(dir.path(), "chair").unwrap();
        assert_ne!(rotated.identities["chair"], before.identities["chair"]);
        assert_eq!(rotated.identities["secretariat"], before.identities["secretariat"]);
    }

    #[test]
    fn a_site_may_act_only_for_itself_and_no_client_may_write_events() {
        let p = permissions("site-ba-be").unwrap();
        assert!(p.publish_allow.contains(&"hoinghi.v1.attendance.sites.ba-be.>".to_owned()));
        assert!(!p.publish_allow.iter().any(|s| s.contains("na-ri") || s.contains("events") || s.contains("$JS")));
        // Its own inbox and its own notifications, nothing else.
        assert_eq!(
            p.subscribe_allow,
            vec!["_INBOX.site-ba-be.>".to_owned(), "hoinghi.v1.notifications.ba-be.>".to_owned()]
        );
        for client in ["secretariat", "minute-taker", "chair", "site-ba-be"] {
            let p = permissions(client).unwrap();
            assert!(p.publish_deny.contains(&"hoinghi.v1.events.>".to_owned()), "{client}");
            assert!(!p.allow_responses);
        }
        let s = permissions("service-attendance").unwrap();
        assert!(!s.allow_responses);
        assert!(s.publish_deny.contains(&"$JS.API.STREAM.DELETE.>".to_owned()));
        assert!(s.publish_allow.contains(&"hoinghi.v1.events.attendance.>".to_owned()));
        assert!(!s.publish_allow.iter().any(|p| p.contains("events.scheduling") || p.contains("events.minutes")));
        assert_eq!(s.subscribe_allow, vec!["_INBOX.service-attendance.>".to_owned()], "it serves no request");
        let api = permissions("service-attendance-api").unwrap();
        assert_eq!(api.publish_allow, vec!["_INBOX.>".to_owned()], "it answers only to inboxes");
        assert!(api.publish_deny.contains(&"hoinghi.>".to_owned()) && api.publish_deny.contains(&"$JS.>".to_owned()));
        assert!(!api.allow_responses);
        assert!(api.subscribe_allow.contains(&"hoinghi.v1.attendance.>".to_owned()));
        assert!(permissions("service-unknown-api").is_none());
        assert!(permissions("site-Bad!").is_none());
        assert!(permissions("service-unknown").is_none());
        assert!(permissions("root").is_none());
    }
}
