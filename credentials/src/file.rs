//! Reading a credentials file, and the identity and inbox prefix a connection takes from it: the
//! same for the services (`hoinghi-runtime`), the CLI and the test harness.

use std::path::Path;

use hoinghi_shared::subjects::inbox;

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
            "{} holds neither a NATS user JWT nor a user nkey seed (-----BEGIN USER NKEY SEED----- block; see \
             `hoinghi admin credentials`)",
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

/// The identity of a connection: `configured` if set (not blank), else the credentials file's name
/// without `.creds` (`site-ba-be.creds` -> `site-ba-be`).
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
        Some(identity) if !identity.is_empty() => inbox::prefix(identity),
        _ => inbox::ROOT.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(format!("{:?}", Credentials::Seed(seed)), "Credentials::Seed(<secret>)");
    }

    #[test]
    fn the_identity_is_the_file_name_and_names_the_inbox() {
        assert_eq!(identity_of("", Some(Path::new("/a/site-ba-be.creds"))).as_deref(), Some("site-ba-be"));
        assert_eq!(identity_of("chair", Some(Path::new("/a/site-ba-be.creds"))).as_deref(), Some("chair"));
        assert_eq!(identity_of(" ", None), None);
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
        assert!(read_credentials(&path).unwrap_err().to_string().contains("neither"));
    }
}
