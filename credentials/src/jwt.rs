//! NATS JWTs (the "v2" claims of NATS decentralized authentication): operator, account and user
//! JWTs, signed with nkeys, and standard credentials files.
//!
//! A JWT is `base64url(header) "." base64url(claims) "." base64url(ed25519 signature)` (no padding),
//! the header being `{"typ":"JWT","alg":"ed25519-nkey"}` and the signature made by the issuer's nkey
//! over the first two parts. The claims are those of `github.com/nats-io/jwt/v2`:
//! `jti` (the base32 SHA-512/256 hash of the claims with an empty `jti`, as `jwt/v2` computes it —
//! the server does not check it), `iat`, `iss` (the signer's public key), `sub` (the subject's
//! public key), `name`, and a `nats` object with `type` (`operator`, `account`, `user`) and
//! `version: 2`:
//! - operator (self-signed): `system_account`;
//! - account (signed by the operator): `limits` (`-1` is unlimited; JetStream is on when
//!   `mem_storage`/`disk_storage` are not 0), `default_permissions`, and `revocations`
//!   (user public key -> unix time: the server refuses, and disconnects, every user JWT of that key
//!   issued at or before it);
//! - user (signed by the account): `pub`/`sub` allow and deny lists, `resp` (allow responses),
//!   `subs`/`data`/`payload` limits (`-1`: the account's and server's limits apply).
//!
//! Why not a crate: `nats-jwt` 0.3 (AircastDev) makes only account and user JWTs (no operator JWT,
//! no `revocations`, no JetStream limits, no `resp`) and panics instead of returning errors;
//! `nats-io-jwt` 0.1 is a code-generated schema binding without signing of operator/account
//! hierarchies or tests against a server. This module is small, uses the `nkeys` crate for keys
//! and signatures, and every JWT kind is checked against a real `nats-server` by the end-to-end
//! tests (tests/e2e/security.rs, standard_clients.rs), so a claim the server refuses fails a test.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context as _};
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use hoinghi_shared::roles::Permissions;
use nkeys::KeyPair;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha512_256};

/// The JWT header every NATS JWT carries.
const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

/// The claims every NATS JWT has, around its kind's `nats` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims<N> {
    /// The JWT id: the base32 SHA-512/256 hash of the claims with `jti` empty.
    #[serde(default)]
    pub jti: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// The issuer's public key.
    pub iss: String,
    /// A name (for a user: the hoinghi identity).
    #[serde(default)]
    pub name: String,
    /// The subject's public key.
    pub sub: String,
    /// The kind's claims.
    pub nats: N,
}

/// An operator's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    /// The system account's public key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub system_account: String,
    /// `operator`.
    #[serde(rename = "type")]
    pub kind: String,
    /// 2.
    pub version: u32,
}

/// An account's limits (`-1`: unlimited).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLimits {
    /// Subscriptions.
    pub subs: i64,
    /// Bytes of data.
    pub data: i64,
    /// Bytes of one message.
    pub payload: i64,
    /// Imports.
    pub imports: i64,
    /// Exports.
    pub exports: i64,
    /// Whether exports may hold wildcards.
    pub wildcards: bool,
    /// Connections.
    pub conn: i64,
    /// Leaf node connections.
    pub leaf: i64,
    /// JetStream memory storage (bytes; 0 with `disk_storage` 0: no JetStream).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mem_storage: i64,
    /// JetStream file storage (bytes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub disk_storage: i64,
    /// JetStream streams.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub streams: i64,
    /// JetStream consumers.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub consumer: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Allow and deny lists of subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectPermission {
    /// Subjects allowed (empty: every subject not denied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Subjects denied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// Publish and subscribe permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PubSub {
    /// Publish.
    #[serde(rename = "pub", default)]
    pub publish: SubjectPermission,
    /// Subscribe.
    #[serde(rename = "sub", default)]
    pub subscribe: SubjectPermission,
}

/// An account's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Limits.
    pub limits: AccountLimits,
    /// The permissions of a user JWT that sets none.
    #[serde(default)]
    pub default_permissions: PubSub,
    /// Revoked user keys -> unix time (JWTs of that key issued at or before it are refused).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revocations: BTreeMap<String, i64>,
    /// `account`.
    #[serde(rename = "type")]
    pub kind: String,
    /// 2.
    pub version: u32,
}

/// Permission to publish one reply to a message received (`allow_responses`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responses {
    /// Replies per request.
    pub max: i64,
    /// For how long (nanoseconds; 0: the server's default).
    pub ttl: i64,
}

/// A user's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Publish and subscribe permissions.
    #[serde(flatten)]
    pub permissions: PubSub,
    /// Allow responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp: Option<Responses>,
    /// Subscriptions (-1: unlimited).
    pub subs: i64,
    /// Bytes of data (-1: unlimited).
    pub data: i64,
    /// Bytes of one message (-1: the account's and the server's limit).
    pub payload: i64,
    /// `user`.
    #[serde(rename = "type")]
    pub kind: String,
    /// 2.
    pub version: u32,
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Signs `claims` (setting `iss` and `jti`) with `signer`.
///
/// # Errors
/// The key cannot sign (a public-only key).
pub fn sign<N: Serialize>(mut claims: Claims<N>, signer: &KeyPair) -> anyhow::Result<String> {
    claims.iss = signer.public_key();
    claims.jti = String::new();
    let unhashed = serde_json::to_vec(&claims)?;
    claims.jti = BASE32_NOPAD.encode(&Sha512_256::digest(&unhashed));
    let body = serde_json::to_vec(&claims)?;
    let signed = format!("{}.{}", BASE64URL_NOPAD.encode(HEADER.as_bytes()), BASE64URL_NOPAD.encode(&body));
    let signature = signer.sign(signed.as_bytes()).map_err(|e| anyhow!("cannot sign a JWT: {e}"))?;
    Ok(format!("{signed}.{}", BASE64URL_NOPAD.encode(&signature)))
}

/// The claims of a JWT, without checking its signature.
///
/// # Errors
/// Not three dot-separated base64url parts, or claims of another shape.
pub fn decode<N: DeserializeOwned>(jwt: &str) -> anyhow::Result<Claims<N>> {
    let mut parts = jwt.trim().split('.');
    let (Some(_), Some(body), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        bail!("not a JWT (three dot-separated parts)");
    };
    let body = BASE64URL_NOPAD.decode(body.as_bytes()).context("a JWT's claims are not base64url")?;
    serde_json::from_slice(&body).context("a JWT's claims are not NATS claims")
}

/// The claims of a JWT whose signature its issuer (`iss`) made, and whose header is NATS's.
///
/// # Errors
/// A malformed JWT, another header, or a signature that does not verify.
pub fn verify<N: DeserializeOwned>(jwt: &str) -> anyhow::Result<Claims<N>> {
    let jwt = jwt.trim();
    let (signed, signature) = jwt.rsplit_once('.').ok_or_else(|| anyhow!("not a JWT"))?;
    let (header, _) = signed.split_once('.').ok_or_else(|| anyhow!("not a JWT"))?;
    let header = BASE64URL_NOPAD.decode(header.as_bytes()).context("a JWT's header is not base64url")?;
    let header: serde_json::Value = serde_json::from_slice(&header).context("a JWT's header is not JSON")?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("ed25519-nkey") {
        bail!("a JWT's header does not name the ed25519-nkey algorithm");
    }
    let claims: Claims<N> = decode(jwt)?;
    let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).context("a JWT's signature is not base64url")?;
    KeyPair::from_public_key(&claims.iss)
        .map_err(|e| anyhow!("a JWT's issuer is not a public key: {e}"))?
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| anyhow!("a JWT's signature does not verify"))?;
    Ok(claims)
}

/// The operator's JWT (self-signed), naming the system account.
///
/// # Errors
/// `operator` is not an operator key with its seed.
pub fn operator_jwt(operator: &KeyPair, name: &str, system_account: &str) -> anyhow::Result<String> {
    let claims = Claims {
        jti: String::new(),
        iat: now(),
        iss: String::new(),
        name: name.to_owned(),
        sub: operator.public_key(),
        nats: Operator { system_account: system_account.to_owned(), kind: "operator".to_owned(), version: 2 },
    };
    sign(claims, operator)
}

/// An account's JWT, signed by the operator: no limits but the server's, JetStream on or off, and
/// the revoked user keys.
///
/// # Errors
/// `operator` cannot sign.
pub fn account_jwt(
    operator: &KeyPair,
    account: &str,
    name: &str,
    jetstream: bool,
    revocations: &BTreeMap<String, i64>,
) -> anyhow::Result<String> {
    let js = if jetstream { -1 } else { 0 };
    let claims = Claims {
        jti: String::new(),
        iat: now(),
        iss: String::new(),
        name: name.to_owned(),
        sub: account.to_owned(),
        nats: Account {
            limits: AccountLimits {
                subs: -1,
                data: -1,
                payload: -1,
                imports: -1,
                exports: -1,
                wildcards: true,
                conn: -1,
                leaf: -1,
                mem_storage: js,
                disk_storage: js,
                streams: js,
                consumer: js,
            },
            default_permissions: PubSub::default(),
            revocations: revocations.clone(),
            kind: "account".to_owned(),
            version: 2,
        },
    };
    sign(claims, operator)
}

/// A user's JWT, signed by its account, named `name` (the hoinghi identity), with `permissions`
/// (`None`: everything the account allows, for the system account's user).
///
/// An empty allow list means "every subject" in a JWT, whereas a role with nothing to publish (or
/// subscribe to) means "none": such a list becomes a deny of `>`.
///
/// # Errors
/// `account` cannot sign.
pub fn user_jwt(
    account: &KeyPair,
    user: &str,
    name: &str,
    permissions: Option<&Permissions>,
) -> anyhow::Result<String> {
    let (pubsub, resp) = match permissions {
        None => (PubSub::default(), None),
        Some(p) => {
            let side = |allow: &[String], deny: &[String]| {
                let mut deny = deny.to_vec();
                if allow.is_empty() {
                    deny = vec![">".to_owned()];
                }
                SubjectPermission { allow: allow.to_vec(), deny }
            };
            let pubsub =
                PubSub { publish: side(&p.publish_allow, &p.publish_deny), subscribe: side(&p.subscribe_allow, &[]) };
            (pubsub, p.allow_responses.then_some(Responses { max: 1, ttl: 0 }))
        }
    };
    let claims = Claims {
        jti: String::new(),
        iat: now(),
        iss: String::new(),
        name: name.to_owned(),
        sub: user.to_owned(),
        nats: User { permissions: pubsub, resp, subs: -1, data: -1, payload: -1, kind: "user".to_owned(), version: 2 },
    };
    sign(claims, account)
}

/// A standard NATS credentials file (as `nsc` writes it): the user JWT block, then the seed block.
/// async-nats (`credentials_file`), nats.go, nats-py (`user_credentials=`) and the `nats` CLI read it.
pub fn creds_text(jwt: &str, seed: &str) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
         *************************************************************\n"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn perms() -> Permissions {
        Permissions {
            publish_allow: vec!["a.>".to_owned()],
            publish_deny: vec!["a.b".to_owned()],
            subscribe_allow: vec!["_INBOX.x.>".to_owned()],
            allow_responses: false,
        }
    }

    #[test]
    fn a_user_jwt_carries_the_identity_the_permissions_and_the_account_signature() {
        let account = KeyPair::new_account();
        let user = KeyPair::new_user();
        let jwt = user_jwt(&account, &user.public_key(), "site-ba-be", Some(&perms())).unwrap();
        let header = BASE64URL_NOPAD.decode(jwt.split('.').next().unwrap().as_bytes()).unwrap();
        assert_eq!(header, HEADER.as_bytes());
        let claims: Claims<User> = verify(&jwt).unwrap();
        assert_eq!(claims.name, "site-ba-be");
        assert_eq!(claims.iss, account.public_key());
        assert_eq!(claims.sub, user.public_key());
        assert_eq!(claims.nats.kind, "user");
        assert_eq!(claims.nats.version, 2);
        assert_eq!(claims.nats.permissions.publish.allow, vec!["a.>"]);
        assert_eq!(claims.nats.permissions.publish.deny, vec!["a.b"]);
        assert_eq!(claims.nats.permissions.subscribe.allow, vec!["_INBOX.x.>"]);
        assert!(claims.nats.permissions.subscribe.deny.is_empty());
        assert_eq!((claims.nats.subs, claims.nats.data, claims.nats.payload), (-1, -1, -1));
        assert!(claims.nats.resp.is_none());
        // jti is the hash of the claims without it.
        let mut unhashed = claims.clone();
        unhashed.jti = String::new();
        let expected = BASE32_NOPAD.encode(&Sha512_256::digest(serde_json::to_vec(&unhashed).unwrap()));
        assert_eq!(claims.jti, expected);
        // The raw claims are the documented field names.
        let raw: serde_json::Value = decode::<serde_json::Value>(&jwt).unwrap().nats;
        assert_eq!(raw["pub"]["allow"][0], "a.>");
        assert_eq!(raw["sub"]["allow"][0], "_INBOX.x.>");
        assert_eq!(raw["type"], "user");
    }

    #[test]
    fn a_tampered_or_foreign_jwt_does_not_verify() {
        let account = KeyPair::new_account();
        let jwt = user_jwt(&account, &KeyPair::new_user().public_key(), "secretariat", Some(&perms())).unwrap();
        let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value = decode(&jwt).map(|c: Claims<serde_json::Value>| c.nats).unwrap();
        claims["pub"]["allow"] = serde_json::json!([">"]);
        let mut forged: Claims<serde_json::Value> = decode(&jwt).unwrap();
        forged.nats = claims;
        parts[1] = BASE64URL_NOPAD.encode(&serde_json::to_vec(&forged).unwrap());
        assert!(verify::<User>(&parts.join(".")).unwrap_err().to_string().contains("signature"));
        assert!(verify::<User>("abc").is_err());
        assert!(decode::<User>("a.b").is_err());
        assert!(decode::<User>("a.!!.c").is_err());
    }

    #[test]
    fn nothing_allowed_is_a_deny_of_everything_not_an_empty_allow() {
        let account = KeyPair::new_account();
        let none = Permissions {
            publish_allow: vec![],
            publish_deny: vec![],
            subscribe_allow: vec!["_INBOX.x.>".to_owned()],
            allow_responses: true,
        };
        let jwt = user_jwt(&account, &KeyPair::new_user().public_key(), "x", Some(&none)).unwrap();
        let claims: Claims<User> = verify(&jwt).unwrap();
        assert_eq!(claims.nats.permissions.publish.deny, vec![">"]);
        assert_eq!(claims.nats.resp, Some(Responses { max: 1, ttl: 0 }));
        let all = user_jwt(&account, &KeyPair::new_user().public_key(), "sys", None).unwrap();
        assert_eq!(verify::<User>(&all).unwrap().nats.permissions, PubSub::default());
    }

    #[test]
    fn operator_and_account_jwts_name_the_system_account_jetstream_and_revocations() {
        let operator = KeyPair::new_operator();
        let sys = KeyPair::new_account();
        let op: Claims<Operator> = verify(&operator_jwt(&operator, "hoinghi", &sys.public_key()).unwrap()).unwrap();
        assert_eq!(
            (op.iss.as_str(), op.sub.as_str()),
            (operator.public_key().as_str(), operator.public_key().as_str())
        );
        assert_eq!(op.nats.system_account, sys.public_key());
        assert_eq!(op.nats.kind, "operator");
        let app = KeyPair::new_account();
        let revoked = BTreeMap::from([(KeyPair::new_user().public_key(), 1_700_000_000)]);
        let acc: Claims<Account> =
            verify(&account_jwt(&operator, &app.public_key(), "HOINGHI", true, &revoked).unwrap()).unwrap();
        assert_eq!(acc.iss, operator.public_key());
        assert_eq!(acc.nats.revocations, revoked);
        assert_eq!((acc.nats.limits.disk_storage, acc.nats.limits.mem_storage), (-1, -1));
        let sys_claims: Claims<serde_json::Value> =
            decode(&account_jwt(&operator, &sys.public_key(), "SYS", false, &BTreeMap::new()).unwrap()).unwrap();
        assert!(sys_claims.nats["limits"].get("disk_storage").is_none(), "no JetStream in SYS");
        assert!(sys_claims.nats.get("revocations").is_none());
    }

    #[test]
    fn a_credentials_file_has_the_two_standard_blocks() {
        let text = creds_text("eyJ.a.b", "SUAB");
        assert!(text.starts_with("-----BEGIN NATS USER JWT-----\neyJ.a.b\n------END NATS USER JWT------\n"));
        assert!(text.contains("-----BEGIN USER NKEY SEED-----\nSUAB\n------END USER NKEY SEED------\n"));
    }
}
