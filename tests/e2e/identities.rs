//! Identities at national scale with NATS decentralized JWT authentication: an identity added while
//! the server runs connects at once with no reload, a revoked one is cut within a second, a rotated
//! one's old credentials are refused, credentials of an account the operator never signed are
//! refused; and `hoinghi admin` does the same from the command line, refusing bad input without
//! changing anything.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hoinghi_credentials as credentials;
use hoinghi_shared::subjects::attendance;
use hoinghi_tests::secure::{Attempt, SecureStack};
use hoinghi_tests::{scenario, Service};

fn cli() -> std::path::PathBuf {
    let cli = hoinghi_tests::service::bin_dir().unwrap().join("hoinghi");
    assert!(cli.is_file(), "{} missing: run cargo build --workspace --bins", cli.display());
    cli
}

fn admin(args: &[&str]) -> Output {
    Command::new(cli()).arg("admin").args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A confirmation with an empty body: allowed for the site, answered (with an error) by attendance.
async fn answered(stack: &SecureStack, identity: &str, site: &str) {
    let conn = stack.connect(identity).await.unwrap();
    let subject = attendance::site_command(&scenario::site(site), attendance::CONFIRM);
    match conn.attempt(&subject, "{}").await {
        Attempt::Answered(_) => {}
        other => panic!("{identity}: its own confirmation should be answered, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_added_while_the_server_runs_connects_at_once_without_a_reload() {
    let stack = SecureStack::start_with(&["ba-be"], false, &[Service::Attendance]).await.unwrap();
    let pid = stack.server_pid();
    let mut took = Vec::new();
    for i in 0..5 {
        let started = Instant::now();
        stack.add_site(&format!("moi-{i}")).unwrap();
        let conn = stack.connect(&format!("site-moi-{i}")).await.unwrap();
        conn.nats().flush().await.unwrap();
        took.push(started.elapsed());
    }
    took.sort();
    eprintln!("add a site and connect: {took:?}");
    assert!(took[2] < Duration::from_millis(50), "add-and-connect median {:?} (target < 50 ms): {took:?}", took[2]);
    // It acts as itself at once, and the server was neither reloaded nor restarted.
    answered(&stack, "site-moi-0", "moi-0").await;
    assert_eq!(stack.server_pid(), pid);
    let log = stack.server_log();
    assert!(!log.to_lowercase().contains("reloaded"), "no reload:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_identity_is_cut_within_a_second_and_stays_out() {
    let stack = SecureStack::start_with(&["ba-be", "na-ri"], false, &[Service::Attendance]).await.unwrap();
    let na_ri = stack.connect("site-na-ri").await.unwrap();
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let kept = stack.creds_dir().join("kept.creds");
    std::fs::copy(stack.creds("site-na-ri"), &kept).unwrap();
    let started = Instant::now();
    stack.revoke("site-na-ri").await.unwrap();
    na_ri.wait_report("disconnected", Duration::from_secs(5)).await.unwrap();
    let cut = started.elapsed();
    eprintln!("revoked connection cut {cut:?} after `revoke`");
    assert!(cut < Duration::from_secs(1), "cut after {cut:?} (target < 1 s)");
    assert!(stack.connect_with_creds("site-na-ri", &kept).await.is_err(), "its key is refused");
    // The other site's connection was not touched.
    assert!(!ba_be.reports().iter().any(|r| r.to_lowercase().contains("disconnected")), "{:?}", ba_be.reports());
    answered(&stack, "site-ba-be", "ba-be").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_identitys_old_credentials_are_refused_and_the_new_ones_work() {
    let stack = SecureStack::start_with(&["ba-be"], false, &[Service::Attendance]).await.unwrap();
    let old_conn = stack.connect("site-ba-be").await.unwrap();
    let old = stack.creds_dir().join("old-ba-be.creds");
    std::fs::copy(stack.creds("site-ba-be"), &old).unwrap();
    let old_key = stack.public_key("site-ba-be").unwrap();
    let new = stack.rotate("site-ba-be").await.unwrap();
    assert_eq!(new, stack.creds("site-ba-be"));
    assert_ne!(stack.public_key("site-ba-be").unwrap(), old_key);
    old_conn.wait_report("disconnected", Duration::from_secs(1)).await.unwrap();
    assert!(stack.connect_with_creds("site-ba-be", &old).await.is_err(), "the old key is refused");
    answered(&stack, "site-ba-be", "ba-be").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_of_an_account_the_operator_never_signed_are_refused() {
    let stack = SecureStack::start_with(&["ba-be"], false, &[]).await.unwrap();
    // Another deployment (another operator and account) with the same identity name.
    let other = tempfile::tempdir().unwrap();
    let mut foreign = credentials::Deployment::init(
        other.path(),
        credentials::ServerSettings::under(other.path(), "127.0.0.1:1"),
        false,
    )
    .unwrap();
    let creds = foreign.add("site-ba-be").unwrap();
    let refused = stack.connect_with_creds("site-ba-be", &creds).await;
    assert!(refused.is_err(), "a user of an unknown account must be refused");
    // The server looks the unknown account up through the resolver (up to its 1.9 s timeout), then
    // refuses the connection.
    let log = stack.server_log();
    assert!(log.contains("Account fetch failed") && log.contains("authentication error"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoinghi_admin_adds_revokes_and_lists_and_refuses_bad_input_changing_nothing() {
    let stack = SecureStack::start_with(&["ba-be"], false, &[Service::Attendance]).await.unwrap();
    let dir = stack.creds_dir();
    let d = dir.to_str().unwrap();
    let index = || std::fs::read_to_string(dir.join(credentials::IDENTITIES)).unwrap();

    // Sites from a file and a person, added with no server contact; they connect at once.
    let file = dir.join("new-sites.txt");
    std::fs::write(&file, "# new districts\ncho-don\n\nngan-son\n").unwrap();
    let out = admin(&["add-site", "--dir", d, "--sites-file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("added 2 identities"), "{}", text(&out));
    answered(&stack, "site-cho-don", "cho-don").await;
    let out = admin(&["add-person", "--dir", d, "lan"]);
    if hoinghi_shared::roles::Role::from_identity("person-lan").is_some() {
        assert!(out.status.success(), "{}", text(&out));
        assert!(stack.creds("person-lan").is_file());
    }

    // Bad input: a clear error, and nothing changes.
    let before = index();
    let cases: [(&[&str], &str); 5] = [
        (&["revoke", "--dir", d, "site-nowhere"], "not an identity"),
        (&["add-site", "--dir", d, "ba-be"], "exists already"),
        (&["add-site", "--dir", d, "Bad!"], "invalid value"),
        (&["add-site", "--dir", "/nonexistent/hoinghi", "x"], "not a deployment directory"),
        (&["rotate", "--dir", d, "root"], "not an identity"),
    ];
    for (args, expected) in cases {
        let out = admin(args);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(text(&out).contains(expected), "{args:?}: expected {expected:?} in {}", text(&out));
    }
    let bad_file = dir.join("bad-sites.txt");
    std::fs::write(&bad_file, "ok-one\nNOT OK\n").unwrap();
    let out = admin(&["add-site", "--dir", d, "--sites-file", bad_file.to_str().unwrap()]);
    assert!(!out.status.success() && text(&out).contains("bad-sites.txt:2"), "{}", text(&out));
    assert_eq!(index(), before, "bad input changed nothing");
    assert!(!stack.creds("site-ok-one").exists());

    // Revoke through the command: pushed to the running server, the open connection is cut.
    let conn = stack.connect("site-cho-don").await.unwrap();
    let out = admin(&["revoke", "--dir", d, "site-cho-don", "--server", &stack.url()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("jwt updated"), "the server's answer is reported: {}", text(&out));
    conn.wait_report("disconnected", Duration::from_secs(1)).await.unwrap();
    let out = admin(&["list", "--dir", d]);
    let listing = text(&out);
    assert!(listing.lines().any(|l| l.starts_with("site-cho-don") && l.contains("REVOKED")), "{listing}");
    assert!(listing.lines().any(|l| l.starts_with("site-ngan-son") && !l.contains("REVOKED")), "{listing}");

    // With no server there, revoke says so and changes nothing.
    let before = index();
    let out = admin(&["revoke", "--dir", d, "site-ngan-son", "--server", "nats://127.0.0.1:1"]);
    assert!(!out.status.success() && text(&out).contains("nothing changed"), "{}", text(&out));
    assert_eq!(index(), before);
    assert!(stack.creds("site-ngan-son").is_file());
}

/// Where a `.creds` file's identity comes from: the JWT's name, whatever the file is called.
#[test]
fn the_identity_of_a_credentials_file_is_its_jwts_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut d =
        credentials::Deployment::init(dir.path(), credentials::ServerSettings::under(dir.path(), "127.0.0.1:1"), false)
            .unwrap();
    let creds = d.add("site-ba-be").unwrap();
    let moved = dir.path().join("renamed.creds");
    std::fs::rename(&creds, &moved).unwrap();
    assert_eq!(credentials::identity_of("", Some(Path::new(&moved))).as_deref(), Some("site-ba-be"));
}
