//! The `.creds` files `hoinghi admin` writes are standard NATS credentials: the official clients use
//! them unchanged. async-nats (`ConnectOptions::with_credentials_file`) and nats-py
//! (`user_credentials=`) each connect as a site, send one request the site may send (the attendance
//! service answers) and one publish it may not (the server refuses it).
//!
//! The Python half needs python3 with nats-py and nkeys (deploy/test-requirements.txt; deploy/test.sh
//! installs them into target/test-venv and sets HOINGHI_TEST_PYTHON). Without them locally it skips
//! with a loud message; with HOINGHI_TEST_PYTHON set (as in CI) a missing package fails the test.

use std::process::Command;
use std::time::Duration;

use hoinghi_shared::subjects::attendance;
use hoinghi_tests::secure::SecureStack;
use hoinghi_tests::{repo_root, scenario, Service};

const REFUSED: &str = "hoinghi.v1.events.attendance.forged";

fn allowed() -> String {
    attendance::site_command(&scenario::site("ba-be"), attendance::CONFIRM)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_nats_connects_with_the_creds_file_unchanged() {
    let stack = SecureStack::start_with(&["ba-be"], false, &[Service::Attendance]).await.unwrap();
    let (tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::with_credentials_file(stack.creds("site-ba-be"))
        .await
        .unwrap()
        .custom_inbox_prefix("_INBOX.site-ba-be")
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if let async_nats::Event::ServerError(e) = event {
                    let _ = tx.send(e.to_string());
                }
            }
        })
        .connect(stack.url())
        .await
        .unwrap();
    let reply = client.request(allowed(), "{}".into()).await.expect("an allowed request is answered");
    assert!(!reply.payload.is_empty());
    client.publish(REFUSED, "{}".into()).await.unwrap();
    client.flush().await.unwrap();
    let report = tokio::time::timeout(Duration::from_secs(5), errors.recv()).await.unwrap().unwrap();
    assert!(report.to_lowercase().contains("permissions violation") && report.contains(REFUSED), "{report}");
}

/// The Python interpreter to use, or why there is none.
fn python() -> Result<String, String> {
    let configured = std::env::var("HOINGHI_TEST_PYTHON").ok().filter(|p| !p.is_empty());
    let venv = repo_root().join("target/test-venv/bin/python");
    let candidates: Vec<String> = match &configured {
        Some(p) => vec![p.clone()],
        None => vec![venv.display().to_string(), "python3".to_owned()],
    };
    for python in &candidates {
        let ok = Command::new(python).args(["-c", "import nats, nkeys"]).output().is_ok_and(|o| o.status.success());
        if ok {
            return Ok(python.clone());
        }
    }
    match configured {
        Some(p) => panic!("HOINGHI_TEST_PYTHON={p} has no nats-py/nkeys: pip install -r deploy/test-requirements.txt"),
        None => Err(format!("none of {candidates:?} imports nats and nkeys")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_py_connects_with_the_creds_file_unchanged() {
    let python = match python() {
        Ok(p) => p,
        Err(why) => {
            eprintln!(
                "\n!!!!!!!! SKIPPED nats_py_connects_with_the_creds_file_unchanged: {why}.\n!!!!!!!! Install the test \
                 packages: python3 -m venv target/test-venv && target/test-venv/bin/pip install -r \
                 deploy/test-requirements.txt (deploy/test.sh does it)\n"
            );
            return;
        }
    };
    let stack = SecureStack::start_with(&["ba-be"], false, &[Service::Attendance]).await.unwrap();
    let script = repo_root().join("tests/clients/nats_py_creds.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(stack.url())
        .arg(stack.creds("site-ba-be"))
        .arg("site-ba-be")
        .arg(allowed())
        .arg(REFUSED)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "nats-py: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(result["reply"].as_str().is_some_and(|r| !r.is_empty()), "{result}");
    assert!(result["errors"].to_string().contains(REFUSED), "{result}");
}
