//! Pushing an account JWT to running servers through the system account
//! (`$SYS.REQ.CLAIMS.UPDATE`): how a revocation reaches the servers without a reload. With the full
//! resolver, the server that receives the update stores it and passes it to every other server of
//! the cluster; each disconnects the users the new JWT revokes.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};

/// The subject a system account user sends an account JWT to.
pub const CLAIMS_UPDATE: &str = "$SYS.REQ.CLAIMS.UPDATE";

/// Connects to `url` (one URL or several, comma separated) as the system account's user
/// (`sys.creds` of the deployment), with `tls_ca` trusted if given.
///
/// # Errors
/// No server answered, or it refused the credentials.
pub async fn connect_system(
    url: &str,
    system_creds: &Path,
    tls_ca: Option<&Path>,
) -> anyhow::Result<async_nats::Client> {
    connect_system_with(url, system_creds, tls_ca, None).await
}

/// [`connect_system`], also presenting a client certificate and key (a server that verifies
/// clients: `hoinghi admin init --tls-verify-clients`).
///
/// # Errors
/// No server answered, or it refused the credentials or the certificate.
pub async fn connect_system_with(
    url: &str,
    system_creds: &Path,
    tls_ca: Option<&Path>,
    client_cert: Option<(&Path, &Path)>,
) -> anyhow::Result<async_nats::Client> {
    let mut options = async_nats::ConnectOptions::new()
        .name("hoinghi-admin")
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(Some(0))
        .credentials_file(system_creds)
        .await
        .with_context(|| format!("cannot read {}", system_creds.display()))?;
    if let Some(ca) = tls_ca {
        options = options.require_tls(true).add_root_certificates(ca.to_path_buf());
    }
    if let Some((cert, key)) = client_cert {
        options = options.require_tls(true).add_client_certificate(cert.to_path_buf(), key.to_path_buf());
    }
    let servers: Vec<async_nats::ServerAddr> = url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| u.parse().map_err(|e| anyhow!("{u:?} is not a NATS URL: {e}")))
        .collect::<anyhow::Result<_>>()?;
    options.connect(servers).await.with_context(|| format!("cannot reach the NATS server at {url} as the system user"))
}

/// Sends `account_jwt` to `$SYS.REQ.CLAIMS.UPDATE` and checks the server's answer; returns its
/// message (`jwt updated`).
///
/// The server stores what a system user pushes even when another operator signed it (which then
/// locks the account's users out), so the system user's credentials are as secret as the
/// operator's seed, and this checks the JWT's signature and kind before sending it.
///
/// # Errors
/// Not a signed account JWT, no answer in 5 s, or the server refused the JWT (its description in
/// the error).
pub async fn push_account(client: &async_nats::Client, account_jwt: &str) -> anyhow::Result<String> {
    let claims: crate::jwt::Claims<crate::jwt::Account> =
        crate::jwt::verify(account_jwt).context("refusing to push: not a signed account JWT")?;
    anyhow::ensure!(claims.nats.kind == "account", "refusing to push a {} JWT as an account", claims.nats.kind);
    let request =
        async_nats::Request::new().payload(account_jwt.to_owned().into()).timeout(Some(Duration::from_secs(5)));
    let reply = client.send_request(CLAIMS_UPDATE, request).await.with_context(|| {
        format!("no answer to {CLAIMS_UPDATE} (is the server in operator mode with this system account?)")
    })?;
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload)
        .with_context(|| format!("{CLAIMS_UPDATE} answered something that is not JSON"))?;
    if let Some(error) = answer.get("error") {
        let description = error.get("description").and_then(|d| d.as_str()).unwrap_or("no description");
        bail!("the server refused the account JWT: {description}");
    }
    let data =
        answer.get("data").ok_or_else(|| anyhow!("{CLAIMS_UPDATE} answered neither data nor error: {answer}"))?;
    if data.get("code").and_then(serde_json::Value::as_i64).is_some_and(|c| c != 200) {
        bail!("the server did not take the account JWT: {data}");
    }
    Ok(data.get("message").and_then(|m| m.as_str()).unwrap_or("jwt updated").to_owned())
}
