//! The JWTs and the server configuration this crate writes, checked against a real `nats-server`
//! (`NATS_SERVER_BIN`, else `.tools/nats/bin/nats-server` from `deploy/install-nats.sh`): the server
//! starts with the generated configuration, takes the user JWTs the account signs, applies their
//! permissions, takes a pushed account JWT with a revocation and cuts the revoked user, and refuses
//! a user of an account it does not know, a tampered user JWT, and a JWT presented with another seed. Any claim the server refuses fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hoinghi_credentials::{jwt, push, Deployment, ServerSettings};

fn nats_server() -> PathBuf {
    if let Some(bin) = std::env::var_os("NATS_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/nats/bin/nats-server");
    assert!(local.is_file(), "no nats-server: run deploy/install-nats.sh (or set NATS_SERVER_BIN)");
    local
}

struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A deployment in `dir` with `identities`, and a server running its configuration.
async fn start(dir: &Path, identities: &[&str]) -> (Deployment, Server) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut deployment =
        Deployment::init(dir, ServerSettings::under(dir, &format!("127.0.0.1:{port}")), false).unwrap();
    deployment.add_all(&identities.iter().map(|i| (*i).to_owned()).collect::<Vec<_>>()).unwrap();
    let log = dir.join("server.log");
    let child = Command::new(nats_server())
        .arg("-c")
        .arg(dir.join(hoinghi_credentials::SERVER_CONF))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let server = Server { child, url: format!("nats://127.0.0.1:{port}"), log };
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not start:\n{}",
            std::fs::read_to_string(&server.log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (deployment, server)
}

type Events = tokio::sync::mpsc::UnboundedReceiver<async_nats::Event>;

async fn connect(server: &Server, creds: &Path, identity: &str) -> anyhow::Result<async_nats::Client> {
    Ok(connect_watched(server, creds, identity).await?.0)
}

/// Connects, with the connection's events (server errors, disconnections) on a channel.
async fn connect_watched(
    server: &Server,
    creds: &Path,
    identity: &str,
) -> anyhow::Result<(async_nats::Client, Events)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::with_credentials_file(creds)
        .await?
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .custom_inbox_prefix(format!("_INBOX.{identity}"))
        .connection_timeout(Duration::from_secs(3))
        .max_reconnects(Some(0))
        .connect(&server.url)
        .await?;
    Ok((client, rx))
}

#[tokio::test]
async fn the_server_takes_the_generated_configuration_and_jwts_and_applies_the_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let (deployment, server) = start(dir.path(), &["service-scheduling-api", "service-scheduling", "site-ba-be"]).await;
    // JetStream is on in the HOINGHI account: the scheduling service may use its API.
    let service = connect(&server, &deployment.creds("service-scheduling"), "service-scheduling").await.unwrap();
    let js = async_nats::jetstream::new(service.clone());
    js.query_account().await.expect("JetStream is enabled for the account");
    // A site may subscribe to its own inbox, not to another's; may publish to its subjects only.
    let (site, mut events) = connect_watched(&server, &deployment.creds("site-ba-be"), "site-ba-be").await.unwrap();
    let mut own = site.subscribe("_INBOX.site-ba-be.x").await.unwrap();
    site.flush().await.unwrap();
    // The API identity answers on inboxes.
    let api = connect(&server, &deployment.creds("service-scheduling-api"), "service-scheduling-api").await.unwrap();
    api.publish("_INBOX.site-ba-be.x", "hello".into()).await.unwrap();
    api.flush().await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(3), futures_next(&mut own)).await.unwrap();
    assert_eq!(&got[..], b"hello");
    site.publish("hoinghi.v1.events.scheduling.x", "forged".into()).await.unwrap();
    site.flush().await.unwrap();
    let report = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Some(async_nats::Event::ServerError(e)) = events.recv().await {
                return e.to_string();
            }
        }
    })
    .await
    .expect("the server reports the refused publish");
    assert!(report.to_lowercase().contains("permissions violation"), "{report}");
}

async fn futures_next(sub: &mut async_nats::Subscriber) -> bytes::Bytes {
    use futures::StreamExt as _;
    sub.next().await.unwrap().payload
}

#[tokio::test]
async fn a_user_added_while_the_server_runs_connects_and_a_revoked_one_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (mut deployment, server) = start(dir.path(), &["secretariat"]).await;
    // Added after the server started: no reload, the account's signature is enough.
    let creds = deployment.add("site-pac-nam").unwrap();
    let (_site, mut events) =
        connect_watched(&server, &creds, "site-pac-nam").await.expect("a new site connects at once");
    let kept = dir.path().join("kept.creds");
    std::fs::copy(&creds, &kept).unwrap();
    let account = deployment.revoke("site-pac-nam").unwrap();
    let system = push::connect_system(&server.url, &deployment.system_creds(), None).await.unwrap();
    let pushed = Instant::now();
    let answer = push::push_account(&system, &account).await.expect("the server takes the account JWT");
    assert!(answer.contains("updated"), "{answer}");
    tokio::time::timeout(Duration::from_secs(1), async {
        while !matches!(events.recv().await, Some(async_nats::Event::Disconnected) | None) {}
    })
    .await
    .expect("the revoked site's connection is cut within a second");
    eprintln!("revoked connection cut {:?} after the push", pushed.elapsed());
    assert!(connect(&server, &kept, "site-pac-nam").await.is_err(), "the revoked key is refused");
    assert!(connect(&server, &deployment.creds("secretariat"), "secretariat").await.is_ok(), "others still connect");
}

#[tokio::test]
async fn a_user_of_an_unknown_account_a_tampered_jwt_and_a_wrong_seed_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (deployment, server) = start(dir.path(), &["secretariat"]).await;
    // A user signed by an account the operator never signed.
    let stranger = nkeys::KeyPair::new_account();
    let user = nkeys::KeyPair::new_user();
    let token = jwt::user_jwt(&stranger, &user.public_key(), "secretariat", None).unwrap();
    let creds = dir.path().join("stranger.creds");
    std::fs::write(&creds, jwt::creds_text(&token, &user.seed().unwrap())).unwrap();
    assert!(connect(&server, &creds, "secretariat").await.is_err(), "an unknown account's user is refused");
    // A real user's JWT with its permissions widened (the account's signature no longer matches).
    let real = hoinghi_credentials::read_credentials(&deployment.creds("secretariat")).unwrap();
    let mut claims: jwt::Claims<serde_json::Value> = jwt::decode(&real.jwt).unwrap();
    claims.nats["pub"] = serde_json::json!({"allow": [">"]});
    let mut parts: Vec<String> = real.jwt.split('.').map(str::to_owned).collect();
    parts[1] = data_encoding::BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims).unwrap());
    let tampered = dir.path().join("tampered.creds");
    std::fs::write(&tampered, jwt::creds_text(&parts.join("."), &real.seed)).unwrap();
    assert!(connect(&server, &tampered, "secretariat").await.is_err(), "a tampered user JWT is refused");
    // A JWT with the wrong seed (someone else's key) is refused too.
    let other = nkeys::KeyPair::new_user().seed().unwrap();
    let wrong_seed = dir.path().join("wrong-seed.creds");
    std::fs::write(&wrong_seed, jwt::creds_text(&real.jwt, &other)).unwrap();
    assert!(connect(&server, &wrong_seed, "secretariat").await.is_err(), "a JWT without its own seed is refused");
    // The real account is untouched: its users still connect.
    assert!(connect(&server, &deployment.creds("secretariat"), "secretariat").await.is_ok());
}
