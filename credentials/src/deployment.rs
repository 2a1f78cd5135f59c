//! A deployment directory: NATS decentralized JWT authentication for hoinghi (`hoinghi admin …`).
//!
//! One operator signs two accounts: `SYS`, the server's system account, and `HOINGHI`, the
//! application account (JetStream on) that holds every identity. Each identity is a user of
//! `HOINGHI` whose JWT, signed by the account key, is named after the identity and carries its
//! role's permissions ([`Role::permissions`]). Adding an identity therefore needs no server contact
//! at all: the server trusts whatever the account signs. Revoking one adds its user key to the
//! account JWT's `revocations`; the new account JWT is pushed to the running servers
//! (`$SYS.REQ.CLAIMS.UPDATE`, [`crate::push`]), which refuse and disconnect that user.
//!
//! The server resolves accounts with the NATS-based `full` resolver: every server keeps the
//! account JWTs in its own directory and the servers of a cluster (or super-cluster) exchange
//! updates over the system account, so an account update pushed to any one server reaches all
//! without a reload or a shared file system, and survives restarts. The `memory` resolver would
//! need a reload (and a config edit) on every node for each revocation; the URL resolver needs an
//! extra HTTP service. `resolver_preload` puts the initial account JWTs in place, so a fresh
//! server needs no push before its first client.
//!
//! Everything lives in one directory:
//! - `server.json`: the server settings (listen address, JetStream store, resolver directory, TLS);
//! - `nats-server.conf`: `listen`, `max_payload`, `jetstream`, optional `tls`, the `resolver`, and
//!   `include "auth.conf"`; `auth.conf`: `operator`, `system_account`, `resolver_preload` (the
//!   cluster's node configurations include the same file);
//! - `operator.nk`, `SYS.nk`, `HOINGHI.nk` (mode 0600): the seeds of the operator and accounts;
//!   `operator.jwt`, `SYS.jwt`, `HOINGHI.jwt`: their JWTs (the account's with its revocations);
//! - `sys.creds` (mode 0600): a user of the system account, for pushing account updates;
//! - `<identity>.creds` (mode 0600): each identity's standard credentials file;
//! - `identities.log`: the index, one line per change (`add <identity> <user key> <time>`,
//!   `revoke <identity> <user key> <time>`), so that `list` and `revoke` read one small file
//!   instead of thousands of JWTs, and adding an identity appends one line.
//!
//! One administrator at a time: the directory is not locked against concurrent `hoinghi admin`
//! runs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use hoinghi_shared::roles::{service_api_identity, service_identity, Permissions, Role, SECRETARIAT};
use hoinghi_shared::Service;
use nkeys::KeyPair;
use serde::{Deserialize, Serialize};

use crate::jwt;

/// The server configuration file's name.
pub const SERVER_CONF: &str = "nats-server.conf";
/// The operator/accounts part of the configuration, included by every server of the deployment.
pub const AUTH_CONF: &str = "auth.conf";
/// The index file's name.
pub const IDENTITIES: &str = "identities.log";
/// The server settings file's name.
pub const SERVER_JSON: &str = "server.json";
/// The system account user's credentials (pushes account updates).
pub const SYSTEM_CREDS: &str = "sys.creds";
/// The application account's name.
pub const ACCOUNT: &str = "HOINGHI";
/// The system account's name.
pub const SYSTEM_ACCOUNT: &str = "SYS";
const OPERATOR: &str = "operator";
const OPERATOR_NAME: &str = "hoinghi";

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
    /// connect over TLS and authenticates with its credentials.
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
    /// The full resolver's directory (where the server keeps the account JWTs).
    pub resolver_dir: String,
    /// TLS, if on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

impl ServerSettings {
    /// Listening on `listen`, with the JetStream store and the resolver's directory under `dir`.
    pub fn under(dir: &Path, listen: &str) -> Self {
        Self {
            listen: listen.to_owned(),
            store_dir: dir.join("nats-store").display().to_string(),
            resolver_dir: dir.join("resolver").display().to_string(),
            tls: None,
        }
    }

    /// The URL clients reach the server at (`nats://` or `tls://`; `0.0.0.0` becomes `127.0.0.1`).
    pub fn client_url(&self) -> String {
        let listen = self.listen.replace("0.0.0.0", "127.0.0.1");
        if self.tls.is_some() {
            format!("tls://{listen}")
        } else {
            format!("nats://{listen}")
        }
    }
}

/// A revoked user key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The identity it was.
    pub identity: String,
    /// The user's public key.
    pub key: String,
    /// When (unix seconds).
    pub at: i64,
}

/// An open deployment directory.
pub struct Deployment {
    dir: PathBuf,
    /// The server settings.
    pub server: ServerSettings,
    operator: KeyPair,
    system: KeyPair,
    account: KeyPair,
    identities: BTreeMap<String, String>,
    revoked: Vec<Revoked>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("dir", &self.dir)
            .field("server", &self.server)
            .field("account", &self.account.public_key())
            .field("identities", &self.identities.len())
            .field("revoked", &self.revoked.len())
            .finish_non_exhaustive()
    }
}

/// The permissions of an identity, from its name ([`Role::permissions`]); `None` for a name that is
/// no identity.
pub fn permissions(identity: &str) -> Option<Permissions> {
    Role::from_identity(identity).map(|role| role.permissions())
}

/// The identities every deployment has: the secretariat and the two identities of each service.
pub fn base_identities() -> Vec<String> {
    let mut all = vec![SECRETARIAT.to_owned()];
    all.extend(Service::ALL.into_iter().map(service_identity));
    all.extend(Service::ALL.into_iter().map(service_api_identity));
    all
}

fn seed_of(pair: &KeyPair) -> anyhow::Result<String> {
    pair.seed().map_err(|e| anyhow!("cannot encode a seed: {e}"))
}

fn read_seed(path: &Path) -> anyhow::Result<KeyPair> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    KeyPair::from_seed(text.trim()).map_err(|e| anyhow!("{} holds no valid seed: {e}", path.display()))
}

impl Deployment {
    /// A new deployment in `dir` (created if missing): operator, `SYS` and `HOINGHI` keys and JWTs,
    /// the system user, the server configuration, and an empty index. Add identities with
    /// [`Self::add_all`].
    ///
    /// # Errors
    /// `dir` holds a deployment already and `force` is off; files not writable.
    pub fn init(dir: &Path, server: ServerSettings, force: bool) -> anyhow::Result<Self> {
        if dir.join(SERVER_JSON).exists() {
            if !force {
                bail!(
                    "{} holds a deployment already ({SERVER_JSON}); use add-site, add-person, revoke or rotate to \
                     change it, or --force to replace every key",
                    dir.display()
                );
            }
            // Every old key goes: remove the old identities' credentials files.
            if let Ok(old) = Self::open(dir) {
                for identity in old.identities.keys() {
                    let _ = std::fs::remove_file(creds_path(dir, identity));
                }
            }
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let deployment = Self {
            dir: dir.to_path_buf(),
            server,
            operator: KeyPair::new_operator(),
            system: KeyPair::new_account(),
            account: KeyPair::new_account(),
            identities: BTreeMap::new(),
            revoked: Vec::new(),
        };
        write_file(&dir.join(format!("{OPERATOR}.nk")), seed_of(&deployment.operator)?.as_bytes(), 0o600)?;
        write_file(&dir.join(format!("{SYSTEM_ACCOUNT}.nk")), seed_of(&deployment.system)?.as_bytes(), 0o600)?;
        write_file(&dir.join(format!("{ACCOUNT}.nk")), seed_of(&deployment.account)?.as_bytes(), 0o600)?;
        let system_user = KeyPair::new_user();
        let system_jwt = jwt::user_jwt(&deployment.system, &system_user.public_key(), "hoinghi-system", None)?;
        write_file(&dir.join(SYSTEM_CREDS), jwt::creds_text(&system_jwt, &seed_of(&system_user)?).as_bytes(), 0o600)?;
        write_file(&dir.join(IDENTITIES), b"", 0o644)?;
        write_file(&dir.join(SERVER_JSON), serde_json::to_string_pretty(&deployment.server)?.as_bytes(), 0o644)?;
        deployment.write_accounts()?;
        write_file(&dir.join(SERVER_CONF), deployment.server_config().as_bytes(), 0o644)?;
        Ok(deployment)
    }

    /// Opens the deployment in `dir`.
    ///
    /// # Errors
    /// `dir` is no deployment directory, or a file in it is damaged.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let settings = dir.join(SERVER_JSON);
        if !settings.is_file() {
            bail!(
                "{} is not a deployment directory (no {SERVER_JSON}): make one with `hoinghi admin init --dir {}`",
                dir.display(),
                dir.display()
            );
        }
        let server: ServerSettings = serde_json::from_str(
            &std::fs::read_to_string(&settings).with_context(|| format!("cannot read {}", settings.display()))?,
        )
        .with_context(|| format!("{} is not valid", settings.display()))?;
        let mut deployment = Self {
            dir: dir.to_path_buf(),
            server,
            operator: read_seed(&dir.join(format!("{OPERATOR}.nk")))?,
            system: read_seed(&dir.join(format!("{SYSTEM_ACCOUNT}.nk")))?,
            account: read_seed(&dir.join(format!("{ACCOUNT}.nk")))?,
            identities: BTreeMap::new(),
            revoked: Vec::new(),
        };
        let index = dir.join(IDENTITIES);
        let text = std::fs::read_to_string(&index).with_context(|| format!("cannot read {}", index.display()))?;
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [] => {}
                ["add", identity, key, _] => {
                    deployment.identities.insert((*identity).to_owned(), (*key).to_owned());
                }
                ["revoke", identity, key, at] => {
                    let at = at.parse().with_context(|| format!("{}:{}: bad time", index.display(), n + 1))?;
                    if deployment.identities.get(*identity).is_some_and(|k| k == key) {
                        deployment.identities.remove(*identity);
                    }
                    deployment.revoked.push(Revoked { identity: (*identity).to_owned(), key: (*key).to_owned(), at });
                }
                _ => bail!("{}:{}: not an index line: {line:?}", index.display(), n + 1),
            }
        }
        Ok(deployment)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Identity -> user public key, of the identities not revoked.
    pub fn identities(&self) -> &BTreeMap<String, String> {
        &self.identities
    }

    /// The revoked user keys, oldest first.
    pub fn revoked(&self) -> &[Revoked] {
        &self.revoked
    }

    /// The application account's public key.
    pub fn account_key(&self) -> String {
        self.account.public_key()
    }

    /// The credentials file of `identity`.
    pub fn creds(&self, identity: &str) -> PathBuf {
        creds_path(&self.dir, identity)
    }

    /// The system account user's credentials file.
    pub fn system_creds(&self) -> PathBuf {
        self.dir.join(SYSTEM_CREDS)
    }

    /// The operator's JWT.
    ///
    /// # Errors
    /// Signing failed.
    pub fn operator_jwt(&self) -> anyhow::Result<String> {
        jwt::operator_jwt(&self.operator, OPERATOR_NAME, &self.system.public_key())
    }

    /// The application account's JWT, with every revocation.
    ///
    /// # Errors
    /// Signing failed.
    pub fn account_jwt(&self) -> anyhow::Result<String> {
        let revocations: BTreeMap<String, i64> = self.revoked.iter().map(|r| (r.key.clone(), r.at)).collect();
        jwt::account_jwt(&self.operator, &self.account.public_key(), ACCOUNT, true, &revocations)
    }

    /// The system account's JWT.
    ///
    /// # Errors
    /// Signing failed.
    pub fn system_account_jwt(&self) -> anyhow::Result<String> {
        jwt::account_jwt(&self.operator, &self.system.public_key(), SYSTEM_ACCOUNT, false, &BTreeMap::new())
    }

    /// `auth.conf`: the operator, the system account and the account JWTs the resolver starts with.
    ///
    /// # Errors
    /// Signing failed.
    pub fn auth_config(&self) -> anyhow::Result<String> {
        Ok(format!(
            "# Written by `hoinghi admin`: the operator, the system account, and the accounts the resolver starts\n\
             # with. Included by nats-server.conf (and by each cluster node's configuration). Do not edit.\n\
             operator: {}\n\
             system_account: {}\n\
             resolver_preload: {{\n  {}: {}\n  {}: {}\n}}\n",
            quote(&self.operator_jwt()?),
            quote(&self.system.public_key()),
            quote(&self.system.public_key()),
            quote(&self.system_account_jwt()?),
            quote(&self.account.public_key()),
            quote(&self.account_jwt()?),
        ))
    }

    /// The `nats-server` configuration of a single server.
    pub fn server_config(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# Written by `hoinghi admin init`. No user is listed here: identities are user JWTs signed by the\n",
        );
        out.push_str(
            "# HOINGHI account (operator mode), so adding or revoking one needs no reload (docs/SECURITY.md).\n",
        );
        out.push_str(&format!("listen: {}\n", quote(&self.server.listen)));
        out.push_str(hoinghi_shared::sizes::SERVER_MAX_PAYLOAD_CONF);
        out.push('\n');
        out.push_str(hoinghi_shared::sizes::SERVER_MAX_PENDING_CONF);
        out.push('\n');
        // One server holds the only copy: every write is flushed to disk before it is acknowledged,
        // so a power cut loses no acknowledged command (docs/RELIABILITY.md, "Durability").
        out.push_str(&format!(
            "jetstream {{\n  store_dir: {}\n  sync_interval: always\n}}\n",
            quote(&self.server.store_dir)
        ));
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
        out.push_str(&resolver_config(&self.server.resolver_dir));
        out.push_str(&format!("include {}\n", quote(AUTH_CONF)));
        out
    }

    fn write_accounts(&self) -> anyhow::Result<()> {
        write_file(&self.dir.join(format!("{OPERATOR}.jwt")), self.operator_jwt()?.as_bytes(), 0o644)?;
        write_file(&self.dir.join(format!("{SYSTEM_ACCOUNT}.jwt")), self.system_account_jwt()?.as_bytes(), 0o644)?;
        write_file(&self.dir.join(format!("{ACCOUNT}.jwt")), self.account_jwt()?.as_bytes(), 0o644)?;
        write_file(&self.dir.join(AUTH_CONF), self.auth_config()?.as_bytes(), 0o644)
    }

    fn append_index(&self, lines: &str) -> anyhow::Result<()> {
        let path = self.dir.join(IDENTITIES);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.write_all(lines.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        file.sync_data().ok();
        Ok(())
    }

    fn mint(&self, identity: &str, permissions: &Permissions) -> anyhow::Result<String> {
        let user = KeyPair::new_user();
        let token = jwt::user_jwt(&self.account, &user.public_key(), identity, Some(permissions))?;
        write_file(&self.creds(identity), jwt::creds_text(&token, &seed_of(&user)?).as_bytes(), 0o600)?;
        Ok(user.public_key())
    }

    /// Adds identities (user JWTs signed by the account and their `.creds` files); no server is
    /// contacted. All or nothing: every name is checked before any file is written.
    ///
    /// # Errors
    /// A name that is no identity, one listed twice, or one that exists already (nothing is
    /// written then); files not writable.
    pub fn add_all(&mut self, identities: &[String]) -> anyhow::Result<Vec<PathBuf>> {
        let mut seen = BTreeSet::new();
        let mut checked = Vec::with_capacity(identities.len());
        for identity in identities {
            let permissions = permissions(identity).ok_or_else(|| {
                anyhow!(
                    "{identity:?} is no identity (secretariat, site-<id>, person-<id>, service-<name>, \
                     service-<name>-api; ids are a-z, 0-9 and '-')"
                )
            })?;
            if !seen.insert(identity.as_str()) {
                bail!("{identity} is listed twice");
            }
            if self.identities.contains_key(identity) {
                bail!("{identity} exists already (use `hoinghi admin rotate {identity}` for a new key)");
            }
            checked.push((identity, permissions));
        }
        let mut lines = String::new();
        let mut written = Vec::with_capacity(checked.len());
        let at = jwt::now();
        for (identity, permissions) in checked {
            let key = self.mint(identity, &permissions)?;
            lines.push_str(&format!("add {identity} {key} {at}\n"));
            self.identities.insert(identity.clone(), key);
            written.push(self.creds(identity));
        }
        self.append_index(&lines)?;
        Ok(written)
    }

    /// Adds one identity ([`Self::add_all`]).
    ///
    /// # Errors
    /// As [`Self::add_all`].
    pub fn add(&mut self, identity: &str) -> anyhow::Result<PathBuf> {
        let mut written = self.add_all(&[identity.to_owned()])?;
        written.pop().ok_or_else(|| anyhow!("{identity} was not written"))
    }

    fn known(&self, identity: &str) -> anyhow::Result<String> {
        self.identities.get(identity).cloned().ok_or_else(|| {
            if self.revoked.iter().any(|r| r.identity == identity) {
                anyhow!("{identity} is revoked already (add it again for a new key)")
            } else {
                anyhow!("{identity} is not an identity of {} (see `hoinghi admin list`)", self.dir.display())
            }
        })
    }

    /// Revokes an identity: its user key goes into the account JWT's revocations (written to
    /// `HOINGHI.jwt` and `auth.conf`), its `.creds` file is deleted. Returns the new account JWT,
    /// to push to the running servers ([`crate::push::push_account`]).
    ///
    /// # Errors
    /// No such identity (nothing changes); files not writable.
    pub fn revoke(&mut self, identity: &str) -> anyhow::Result<String> {
        let key = self.known(identity)?;
        let at = jwt::now();
        self.revoked.push(Revoked { identity: identity.to_owned(), key: key.clone(), at });
        self.identities.remove(identity);
        // The index first (synced): the account JWT is always regenerated from it.
        self.append_index(&format!("revoke {identity} {key} {at}\n"))?;
        self.write_accounts()?;
        let creds = self.creds(identity);
        if creds.exists() {
            std::fs::remove_file(&creds).with_context(|| format!("cannot delete {}", creds.display()))?;
        }
        self.account_jwt()
    }

    /// Gives an identity a new user key (a new `.creds` file) and revokes the old key. Returns the
    /// new credentials file and the account JWT to push.
    ///
    /// # Errors
    /// No such identity (nothing changes); files not writable.
    pub fn rotate(&mut self, identity: &str) -> anyhow::Result<(PathBuf, String)> {
        let old = self.known(identity)?;
        let permissions = permissions(identity).ok_or_else(|| anyhow!("{identity} is no identity"))?;
        let at = jwt::now();
        self.revoked.push(Revoked { identity: identity.to_owned(), key: old.clone(), at });
        let key = self.mint(identity, &permissions)?;
        self.identities.insert(identity.to_owned(), key.clone());
        self.append_index(&format!("revoke {identity} {old} {at}\nadd {identity} {key} {at}\n"))?;
        self.write_accounts()?;
        Ok((self.creds(identity), self.account_jwt()?))
    }
}

/// The `resolver` block: the NATS-based full resolver keeping account JWTs in `dir`.
pub fn resolver_config(dir: &str) -> String {
    format!(
        "resolver {{\n  type: full\n  dir: {}\n  allow_delete: false\n  interval: \"2m\"\n  timeout: \"1.9s\"\n}}\n",
        quote(dir)
    )
}

/// A JSON string literal, which the NATS configuration format reads as a quoted string.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::file::read_credentials;
    use crate::jwt::{Account, Claims, User};

    fn new(dir: &Path) -> Deployment {
        let mut d = Deployment::init(dir, ServerSettings::under(dir, "127.0.0.1:4222"), false).unwrap();
        let mut ids = base_identities();
        ids.extend(["site-ba-be".to_owned(), "site-na-ri".to_owned()]);
        d.add_all(&ids).unwrap();
        d
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn every_identity_gets_a_standard_creds_file_signed_by_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let d = new(dir.path());
        for identity in ["secretariat", "service-minutes", "service-minutes-api", "site-ba-be", "site-na-ri"] {
            let creds = read_credentials(&d.creds(identity)).unwrap();
            assert_eq!(creds.name().as_deref(), Some(identity));
            let claims: Claims<User> = jwt::verify(&creds.jwt).unwrap();
            assert_eq!(claims.iss, d.account_key());
            assert_eq!(claims.sub, d.identities()[identity]);
            assert_eq!(nkeys::KeyPair::from_seed(&creds.seed).unwrap().public_key(), claims.sub);
            let p = permissions(identity).unwrap();
            assert_eq!(claims.nats.permissions.publish.allow, p.publish_allow);
            assert_eq!(claims.nats.permissions.subscribe.allow, p.subscribe_allow);
            assert_eq!(mode(&d.creds(identity)), 0o600, "{identity}");
        }
        for secret in ["operator.nk", "SYS.nk", "HOINGHI.nk", SYSTEM_CREDS] {
            assert_eq!(mode(&dir.path().join(secret)), 0o600, "{secret}");
        }
        let conf = std::fs::read_to_string(dir.path().join(SERVER_CONF)).unwrap();
        assert!(
            conf.contains("max_payload: 8MB") && conf.contains("type: full") && conf.contains("allow_delete: false")
        );
        assert!(conf.contains("include \"auth.conf\""));
        let auth = std::fs::read_to_string(dir.path().join(AUTH_CONF)).unwrap();
        assert!(auth.contains("operator: \"eyJ") && auth.contains(&d.account_key()));
        // No seed of an identity is anywhere but in its own file.
        let index = std::fs::read_to_string(dir.path().join(IDENTITIES)).unwrap();
        for identity in d.identities().keys() {
            let seed = read_credentials(&d.creds(identity)).unwrap().seed;
            assert!(!conf.contains(&seed) && !auth.contains(&seed) && !index.contains(&seed));
        }
        assert!(Deployment::init(dir.path(), d.server.clone(), false).is_err(), "no silent overwrite");
    }

    #[test]
    fn adding_revoking_and_rotating_keep_every_other_key_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = new(dir.path());
        let before = d.identities().clone();
        d.add("site-pac-nam").unwrap();
        let err = d.add("site-pac-nam").unwrap_err().to_string();
        assert!(err.contains("exists already"), "{err}");
        // All or nothing: one bad name, nothing written.
        let bad = d.add_all(&["site-x1".to_owned(), "site-Bad!".to_owned()]).unwrap_err().to_string();
        assert!(bad.contains("no identity"), "{bad}");
        assert!(!d.creds("site-x1").exists());
        let twice = d.add_all(&["site-x2".to_owned(), "site-x2".to_owned()]).unwrap_err().to_string();
        assert!(twice.contains("twice"), "{twice}");

        let old_key = d.identities()["site-ba-be"].clone();
        let account = d.revoke("site-ba-be").unwrap();
        let claims: Claims<Account> = jwt::verify(&account).unwrap();
        assert!(claims.nats.revocations.contains_key(&old_key));
        assert!(!d.creds("site-ba-be").exists());
        assert!(d.revoke("site-ba-be").unwrap_err().to_string().contains("revoked already"));
        assert!(d.revoke("site-nowhere").unwrap_err().to_string().contains("not an identity"));

        let old_secretariat = d.identities()["secretariat"].clone();
        let (path, account) = d.rotate("secretariat").unwrap();
        let new_key = read_credentials(&path).unwrap().public_key().unwrap();
        assert_ne!(new_key, old_secretariat);
        let claims: Claims<Account> = jwt::verify(&account).unwrap();
        assert!(claims.nats.revocations.contains_key(&old_secretariat));
        assert!(!claims.nats.revocations.contains_key(&new_key));

        let reopened = Deployment::open(dir.path()).unwrap();
        assert_eq!(reopened.identities()["secretariat"], new_key);
        assert_eq!(reopened.identities()["site-na-ri"], before["site-na-ri"]);
        assert!(reopened.identities().contains_key("site-pac-nam"));
        assert!(!reopened.identities().contains_key("site-ba-be"));
        assert_eq!(reopened.revoked().len(), 2);
        assert_eq!(reopened.account_key(), d.account_key());
        let preload = std::fs::read_to_string(dir.path().join(AUTH_CONF)).unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join("HOINGHI.jwt")).unwrap();
        assert!(preload.contains(&on_disk), "the preloaded account JWT carries the revocations");
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Deployment::open(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(err.contains("not a deployment directory") && err.contains("admin init"), "{err}");
    }

    #[test]
    fn a_site_may_act_only_for_itself_and_no_client_may_write_events() {
        let p = permissions("site-ba-be").unwrap();
        assert!(p.publish_allow.contains(&"hoinghi.v1.attendance.sites.ba-be.>".to_owned()));
        assert!(!p.publish_allow.iter().any(|s| s.contains("na-ri") || s.contains("events") || s.contains("$JS")));
        for client in ["secretariat", "site-ba-be"] {
            let p = permissions(client).unwrap();
            assert!(p.publish_deny.contains(&"hoinghi.v1.events.>".to_owned()), "{client}");
            assert!(!p.allow_responses);
        }
        let api = permissions("service-attendance-api").unwrap();
        assert_eq!(api.publish_allow, vec!["_INBOX.>".to_owned()], "it answers only to inboxes");
        assert!(permissions("service-unknown-api").is_none());
        assert!(permissions("site-Bad!").is_none());
        assert!(permissions("root").is_none());
    }
}
