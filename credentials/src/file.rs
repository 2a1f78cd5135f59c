//! Reading a standard NATS credentials file (a user JWT block and its nkey seed block, as `nsc` and
//! `hoinghi admin` write it), and the identity and inbox prefix a connection takes from it: the same
//! for the services (`hoinghi-runtime`), the client, the CLI and the test harness.
//!
//! The identity is the user JWT's `name` claim (`hoinghi admin` names each user after its identity:
//! `secretariat`, `site-<id>`, `person-<id>`, `service-<name>`, `service-<name>-api`), so a
//! credentials file may be renamed or moved freely; the connection's inbox prefix is
//! `_INBOX.<identity>`, the only inbox its JWT lets it subscribe to.

use std::path::Path;

use hoinghi_shared::subjects::inbox;

use crate::jwt;

/// A credentials file's contents.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user JWT.
    pub jwt: String,
    /// The user's nkey seed (a secret).
    pub seed: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("jwt", &self.jwt).field("seed", &"<secret>").finish()
    }
}

impl Credentials {
    /// The user JWT's `name` claim: the identity (not verified; the server verifies the JWT).
    pub fn name(&self) -> Option<String> {
        let claims: jwt::Claims<serde_json::Value> = jwt::decode(&self.jwt).ok()?;
        let name = claims.name.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }

    /// The user's public key (the JWT's subject).
    pub fn public_key(&self) -> Option<String> {
        jwt::decode::<serde_json::Value>(&self.jwt).ok().map(|c| c.sub)
    }
}

/// Reads a credentials file.
///
/// # Errors
/// Unreadable, or not a user JWT block followed by a seed block.
pub fn read_credentials(path: &Path) -> anyhow::Result<Credentials> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read NATS credentials {}: {e}", path.display()))?;
    parse_credentials(&text).ok_or_else(|| {
        anyhow::anyhow!(
            "{} is not a NATS credentials file (a -----BEGIN NATS USER JWT----- block and a -----BEGIN USER NKEY \
             SEED----- block, as `hoinghi admin add-site|add-person` writes)",
            path.display()
        )
    })
}

/// The JWT and the seed of a credentials text: the first non-empty line after each `-----BEGIN`
/// marker, as every NATS client reads it.
pub fn parse_credentials(text: &str) -> Option<Credentials> {
    let after = |marker: &str| {
        let mut lines = text.lines().map(str::trim);
        lines.find(|l| l.starts_with("-----BEGIN") && l.contains(marker))?;
        lines.find(|l| !l.is_empty()).filter(|l| !l.starts_with("---")).map(str::to_owned)
    };
    let jwt = after("NATS USER JWT")?;
    let seed = after("USER NKEY SEED")?;
    (jwt.split('.').count() == 3 && seed.starts_with("SU")).then_some(Credentials { jwt, seed })
}

/// The identity of a connection: `configured` if set (not blank), else the `name` of the user JWT
/// in the credentials file; none without either (or with an unreadable file, which the connection
/// then reports).
pub fn identity_of(configured: &str, creds: Option<&Path>) -> Option<String> {
    let configured = configured.trim();
    if !configured.is_empty() {
        return Some(configured.to_owned());
    }
    read_credentials(creds?).ok()?.name()
}

/// `_INBOX.<identity>`, or `_INBOX` without an identity.
pub fn inbox_prefix(identity: Option<&str>) -> String {
    match identity {
        Some(identity) if !identity.is_empty() => inbox::prefix(identity),
        _ => inbox::ROOT.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn file(name: &str) -> (String, Credentials) {
        let account = nkeys::KeyPair::new_account();
        let user = nkeys::KeyPair::new_user();
        let jwt = jwt::user_jwt(&account, &user.public_key(), name, None).unwrap();
        let seed = user.seed().unwrap();
        (jwt::creds_text(&jwt, &seed), Credentials { jwt, seed })
    }

    #[test]
    fn a_standard_file_gives_its_jwt_seed_and_name() {
        let (text, expected) = file("site-ba-be");
        let parsed = parse_credentials(&text).unwrap();
        assert_eq!(parsed, expected);
        assert_eq!(parsed.name().as_deref(), Some("site-ba-be"));
        assert!(!format!("{parsed:?}").contains(&expected.seed), "the seed never shows in Debug");
        // A bare seed file (what hoinghi wrote before JWTs) is not a credentials file.
        let seed_only = format!("-----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n", expected.seed);
        assert_eq!(parse_credentials(&seed_only), None);
        assert_eq!(parse_credentials("password=hunter2"), None);
    }

    #[test]
    fn the_identity_is_the_jwt_name_unless_configured_and_names_the_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anything.creds");
        std::fs::write(&path, file("person-lan").0).unwrap();
        assert_eq!(identity_of("", Some(&path)).as_deref(), Some("person-lan"));
        assert_eq!(identity_of("secretariat", Some(&path)).as_deref(), Some("secretariat"));
        assert_eq!(identity_of(" ", None), None);
        assert_eq!(identity_of("", Some(&dir.path().join("missing.creds"))), None);
        assert_eq!(inbox_prefix(Some("site-ba-be")), "_INBOX.site-ba-be");
        assert_eq!(inbox_prefix(Some("")), "_INBOX");
        assert_eq!(inbox_prefix(None), "_INBOX");
    }

    #[test]
    fn an_unreadable_or_foreign_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.creds");
        assert!(read_credentials(&path).unwrap_err().to_string().contains("x.creds"));
        std::fs::write(&path, "password=hunter2").unwrap();
        assert!(read_credentials(&path).unwrap_err().to_string().contains("not a NATS credentials file"));
    }
}
