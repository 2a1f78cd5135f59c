//! Bearer tokens: one or more per identity, issued by `hoinghi admin token issue <identity>`, kept
//! only as SHA-256 hashes in `<deployment dir>/tokens.json`.
//!
//! A token is `hn_` followed by 64 hex digits (32 bytes from the operating system's generator), shown
//! once when issued. The file maps each token's hash to its identity and when it was issued; nothing
//! in it lets anyone act (a hash is not a token, and an identity acts only with its `.creds`, which
//! stays with the deployment). Every gateway instance reads the same file ([`TokenStore`]), and
//! re-reads it when it changes, so a revocation takes effect within [`TokenStore::RECHECK`] on every
//! instance, with no state of the gateway's own.
//!
//! Why hashes of random tokens and not signed tokens (JWT): a token must be revocable at once and
//! the deployment directory is already the one place identities live; a lookup by hash needs no key
//! in the gateway and nothing to expire.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The file of a deployment's tokens.
pub const FILE: &str = "tokens.json";

/// What every token starts with (so a leaked one is recognisable by secret scanners).
pub const PREFIX: &str = "hn_";

/// One issued token, as the file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    /// Hex SHA-256 of the token.
    pub sha256: String,
    /// The identity the token acts as (`secretariat`, `site-<id>`, `person-<id>`).
    pub identity: String,
    /// When it was issued.
    pub created: DateTime<Utc>,
}

impl TokenEntry {
    /// A short handle of the token, the first 12 hex digits of its hash (what `token list` shows
    /// and `token revoke --id` takes).
    pub fn id(&self) -> &str {
        &self.sha256[..12.min(self.sha256.len())]
    }
}

/// The content of `tokens.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFile {
    /// Every token issued and not revoked.
    pub tokens: Vec<TokenEntry>,
}

/// The path of the tokens file of a deployment directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The hex SHA-256 of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Reads the tokens file (none yet: empty).
///
/// # Errors
/// The file exists but cannot be read or parsed.
pub fn read(dir: &Path) -> anyhow::Result<TokenFile> {
    let path = path(dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} is not a tokens file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the tokens file atomically (a temporary file renamed over it), mode 0600.
fn write(dir: &Path, file: &TokenFile) -> anyhow::Result<()> {
    let path = path(dir);
    let tmp = dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut out = options.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        out.write_all(&serde_json::to_vec_pretty(file)?)?;
        out.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Issues a new token for `identity`, whose credentials must be in `dir`; returns the token (shown
/// once: only its hash is kept).
///
/// # Errors
/// No `<identity>.creds` in `dir`, or the file cannot be written.
pub fn issue(dir: &Path, identity: &str) -> anyhow::Result<(String, TokenEntry)> {
    let creds = hoinghi_credentials::creds_path(dir, identity);
    anyhow::ensure!(
        creds.is_file(),
        "no credentials for {identity:?} in {} ({} is missing): a token acts as an identity of the deployment",
        dir.display(),
        creds.display()
    );
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    let entry = TokenEntry { sha256: hash(&token), identity: identity.to_owned(), created: Utc::now() };
    let mut file = read(dir)?;
    file.tokens.push(entry.clone());
    write(dir, &file)?;
    Ok((token, entry))
}

/// Revokes the tokens of `identity` (every one, or only the one whose [`TokenEntry::id`] starts
/// with `id`); returns those revoked.
///
/// # Errors
/// The file cannot be read or written.
pub fn revoke(dir: &Path, identity: &str, id: Option<&str>) -> anyhow::Result<Vec<TokenEntry>> {
    let mut file = read(dir)?;
    let (gone, kept): (Vec<_>, Vec<_>) = file
        .tokens
        .into_iter()
        .partition(|t| t.identity == identity && id.is_none_or(|id| !id.is_empty() && t.sha256.starts_with(id)));
    file.tokens = kept;
    if !gone.is_empty() {
        write(dir, &file)?;
    }
    Ok(gone)
}

/// The tokens of a deployment, as a gateway instance sees them: the file, re-read when it changed
/// (checked at most every [`Self::RECHECK`]).
#[derive(Debug)]
pub struct TokenStore {
    dir: PathBuf,
    state: Mutex<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    by_hash: HashMap<String, String>,
    stamp: Option<(SystemTime, u64)>,
    checked: Option<Instant>,
}

impl TokenStore {
    /// How long a read of the file is trusted before its modification time is looked at again.
    pub const RECHECK: Duration = Duration::from_secs(1);

    /// The same, after a token was not found: at once (one `stat` of the file, re-read only if it
    /// changed), so a token just issued works on its first request.
    pub const RECHECK_MISS: Duration = Duration::ZERO;

    /// The store of the deployment directory `dir`, read now.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let store = Self { dir: dir.to_path_buf(), state: Mutex::new(Loaded::default()) };
        store.refresh(true, Self::RECHECK)?;
        Ok(store)
    }

    /// The identity a token acts as, if it is a token of the deployment.
    pub fn identity(&self, token: &str) -> Option<String> {
        if !token.starts_with(PREFIX) {
            return None;
        }
        let hash = hash(token);
        // A known token is trusted for RECHECK (so a revocation takes at most that long); an
        // unknown one makes the file be looked at again sooner (a token just issued works at once).
        for window in [Self::RECHECK, Self::RECHECK_MISS] {
            if let Err(e) = self.refresh(false, window) {
                // Keep the last good read: a half-written file must not log everybody out.
                tracing::warn!(error = %format!("{e:#}"), "cannot re-read the tokens file");
            }
            if let Some(identity) = self.state.lock().ok()?.by_hash.get(&hash) {
                return Some(identity.clone());
            }
        }
        None
    }

    fn refresh(&self, force: bool, window: Duration) -> anyhow::Result<()> {
        let now = Instant::now();
        {
            let state = self.state.lock().map_err(|_| anyhow::anyhow!("token store poisoned"))?;
            if !force && state.checked.is_some_and(|c| now.duration_since(c) < window) {
                return Ok(());
            }
        }
        let path = path(&self.dir);
        let stamp = std::fs::metadata(&path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let unchanged = {
            let mut state = self.state.lock().map_err(|_| anyhow::anyhow!("token store poisoned"))?;
            state.checked = Some(now);
            !force && state.stamp == stamp
        };
        if unchanged {
            return Ok(());
        }
        let file = read(&self.dir)?;
        let by_hash = file.tokens.into_iter().map(|t| (t.sha256, t.identity)).collect();
        let mut state = self.state.lock().map_err(|_| anyhow::anyhow!("token store poisoned"))?;
        state.by_hash = by_hash;
        state.stamp = stamp;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(identities: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for identity in identities {
            std::fs::write(hoinghi_credentials::creds_path(dir.path(), identity), "x").unwrap();
        }
        dir
    }

    #[test]
    fn a_token_is_kept_only_as_its_hash_and_maps_to_its_identity() {
        let dir = deployment(&["site-ba-be", "secretariat"]);
        let (token, entry) = issue(dir.path(), "site-ba-be").unwrap();
        assert!(token.starts_with(PREFIX) && token.len() == PREFIX.len() + 64);
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert!(!text.contains(&token[PREFIX.len()..]), "the token itself is never written");
        assert!(text.contains(&entry.sha256));
        let store = TokenStore::open(dir.path()).unwrap();
        assert_eq!(store.identity(&token).as_deref(), Some("site-ba-be"));
        assert_eq!(store.identity("hn_00"), None);
        assert_eq!(store.identity(&token[PREFIX.len()..]), None, "without its prefix it is no token");
    }

    #[test]
    fn a_token_for_an_identity_without_credentials_is_refused() {
        let dir = deployment(&[]);
        let err = issue(dir.path(), "site-nowhere").unwrap_err();
        assert!(err.to_string().contains("no credentials"), "{err}");
        assert!(read(dir.path()).unwrap().tokens.is_empty());
    }

    #[test]
    fn a_revoked_token_stops_working_once_the_file_is_re_read() {
        let dir = deployment(&["secretariat"]);
        let (first, one) = issue(dir.path(), "secretariat").unwrap();
        let (second, _) = issue(dir.path(), "secretariat").unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        assert!(store.identity(&first).is_some() && store.identity(&second).is_some());
        assert!(revoke(dir.path(), "secretariat", Some("")).unwrap().is_empty(), "an empty id matches nothing");
        let gone = revoke(dir.path(), "secretariat", Some(one.id())).unwrap();
        assert_eq!(gone, vec![one]);
        std::thread::sleep(TokenStore::RECHECK + Duration::from_millis(50));
        assert_eq!(store.identity(&first), None);
        assert_eq!(store.identity(&second).as_deref(), Some("secretariat"));
        assert_eq!(revoke(dir.path(), "secretariat", None).unwrap().len(), 1);
    }
}
