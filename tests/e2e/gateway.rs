//! The HTTP gateway (`hoinghi-gateway`) over a stack with authentication on: each caller acts as its
//! own identity (the actor recorded is the caller's, another site's subject is refused by the NATS
//! server: 403), errors and bodies are the NATS replies', `Idempotency-Key` and `traceparent` pass
//! through, 401 / 413 / 429 and CORS, the board over Server-Sent Events (snapshot, changes,
//! resume with `Last-Event-ID`), and schemathesis fuzzing the OpenAPI document it serves.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use hoinghi_shared::api::{AttendanceStatus, ConferenceRef, PageQuery};
use hoinghi_shared::events::{AttendanceEvent, EventEnvelope};
use hoinghi_shared::subjects::{attendance, events};
use hoinghi_shared::{ConferenceId, Service};
use hoinghi_tests::gateway::{self, Gateway};
use hoinghi_tests::secure::SecureStack;
use hoinghi_tests::{eventually, flow, scenario};

use crate::common::secure_stack;

/// A secured stack with the scenario's conference invited, and a gateway over it.
async fn setup(env: &[(&str, &str)]) -> (SecureStack, Gateway, ConferenceId) {
    let stack = secure_stack().await;
    let id = flow::invited(&stack.secretariat.api).await.unwrap();
    let logs = stack.creds_dir().parent().unwrap().to_path_buf();
    let gateway = Gateway::start(&stack.url(), &stack.creds_dir(), &logs, env).await.unwrap();
    (stack, gateway, id)
}

fn body(id: ConferenceId) -> String {
    serde_json::to_string(&ConferenceRef { conference_id: id }).unwrap()
}

async fn line(stack: &SecureStack, id: ConferenceId, site: &str) -> hoinghi_shared::api::SiteAttendance {
    let roster = stack.secretariat.api.roster(id).await.unwrap();
    roster.sites.into_iter().find(|l| l.site_id.as_str() == site).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_http_caller_acts_as_its_own_identity_with_the_nats_replies() {
    let (stack, gw, id) =
        setup(&[("HOINGHI__LIMITS__REQUESTS_PER_SECOND", "1000"), ("HOINGHI__LIMITS__BURST", "1000")]).await;
    let url = gw.url();
    let secretariat = gw.token("secretariat").unwrap();
    let ba_be = gw.token("site-ba-be").unwrap();

    // The document is served without a token, OpenAPI 3.1.
    let doc = gateway::get(&format!("{url}/openapi.json"), None).await.unwrap();
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json()["openapi"], "3.1.0");

    // No token, a made-up token: 401 with the error body and a challenge.
    let get = format!("{url}/v1/scheduling/conferences/get");
    for token in [None, Some("hn_0000"), Some("not-even-a-token")] {
        let r = gateway::post(&get, token, body(id), &[]).await.unwrap();
        assert_eq!(r.status, 401, "{token:?}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "unauthorized");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }

    // The secretariat reads the conference.
    let r = gateway::post(&get, Some(&secretariat), body(id), &[]).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], id.to_string());

    // Ba Bể confirms for itself: the event's actor is the site's own, not the gateway's.
    let confirm = serde_json::json!({
        "conference_id": id, "delegates": [{"name": "Hoàng Văn A", "title": "Bí thư Huyện ủy"}], "headcount": 12
    })
    .to_string();
    let r = gateway::post(&format!("{url}/v1/attendance/sites/ba-be/confirm"), Some(&ba_be), confirm.clone(), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "confirmed");
    assert_eq!(line(&stack, id, "ba-be").await.status, AttendanceStatus::Confirmed);
    let audit = stack.secretariat.api.audit(&PageQuery { conference_id: id, offset: 0, limit: 5000 }).await.unwrap();
    let confirmed = audit.entries.iter().rev().find(|e| e.event_type == "attendance_confirmed").unwrap();
    assert_eq!(confirmed.actor, "site:ba-be");

    // Ba Bể's token cannot act for Nà Rì nor read the roster: the NATS server refuses its identity.
    let events_before = stack
        .count_events(Service::Attendance.stream().name, &events::conference_all(Service::Attendance, &id))
        .await
        .unwrap();
    for (path, payload) in
        [("/v1/attendance/sites/na-ri/confirm", confirm.clone()), ("/v1/attendance/roster", body(id))]
    {
        let r = gateway::post(&format!("{url}{path}"), Some(&ba_be), payload, &[]).await.unwrap();
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "forbidden");
        assert!(r.json()["error"]["message"].as_str().unwrap().contains("site-ba-be"), "{}", r.body);
    }
    assert_eq!(line(&stack, id, "na-ri").await.status, AttendanceStatus::Invited, "Nà Rì unchanged");

    // A site that is not one, a body over the subject's limit: 400, 413, before NATS.
    let r =
        gateway::post(&format!("{url}/v1/attendance/sites/NA.RI/check_in"), Some(&ba_be), body(id), &[]).await.unwrap();
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (400, Some("invalid")), "{}", r.body);
    let big = format!("{{\"conference_id\":\"{id}\",\"x\":\"{}\"}}", "a".repeat(70 * 1024));
    let r = gateway::post(&format!("{url}/v1/attendance/sites/ba-be/check_in"), Some(&ba_be), big, &[]).await.unwrap();
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (413, Some("too_large")), "{}", r.body);
    let events_after = stack
        .count_events(Service::Attendance.stream().name, &events::conference_all(Service::Attendance, &id))
        .await
        .unwrap();
    assert_eq!(events_after, events_before, "no refused request wrote anything");

    // A malformed body: the service's 400, with exactly the body NATS gives.
    let direct = stack.connect("site-ba-be").await.unwrap();
    let subject = attendance::site_command(&scenario::site("ba-be"), attendance::CHECK_IN);
    let nats = direct.api.raw(&subject, "{not json", None).await.unwrap();
    let r = gateway::post(&format!("{url}/v1/attendance/sites/ba-be/check_in"), Some(&ba_be), "{not json", &[])
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(Some(r.status), nats.status);
    assert_eq!(r.body.as_bytes(), &nats.payload[..], "the same error body as on NATS");

    // Idempotency-Key and traceparent pass through: Nà Rì declines twice with one key, one event,
    // carrying the caller's trace.
    let na_ri = gw.token("site-na-ri").unwrap();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    let decline = format!("{url}/v1/attendance/sites/na-ri/decline");
    for reason in ["Lũ quét", "Lý do khác"] {
        let payload = serde_json::json!({"conference_id": id, "reason": reason}).to_string();
        let headers = [("Idempotency-Key", "decline-na-ri-1"), ("traceparent", traceparent.as_str())];
        let r = gateway::post(&decline, Some(&na_ri), payload, &headers).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["decline_reason"], "Lũ quét", "the retry is answered from the first effect");
    }
    let filter = events::conference_site(
        Service::Attendance,
        &id,
        &scenario::site("na-ri"),
        AttendanceEvent::ATTENDANCE_DECLINED,
    );
    assert_eq!(stack.count_events(Service::Attendance.stream().name, &filter).await.unwrap(), 1, "one effect");
    let js = stack.operator().await.unwrap();
    let stream = js.get_stream(Service::Attendance.stream().name).await.unwrap();
    let message = stream.get_last_raw_message_by_subject(&filter).await.unwrap();
    let envelope: EventEnvelope = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(envelope.trace_id.as_deref(), Some(trace), "the event carries the caller's trace");
    assert_eq!(envelope.actor, "site:na-ri");

    // A second instance over the same deployment serves the same tokens (the gateway keeps no
    // state), and a revoked token stops working within a second or so on both.
    let logs = stack.creds_dir().parent().unwrap().join("second");
    std::fs::create_dir_all(&logs).unwrap();
    let second = Gateway::start(&stack.url(), &stack.creds_dir(), &logs, &[]).await.unwrap();
    let own = |base: &str| format!("{base}/v1/scheduling/sites/na-ri/get");
    for base in [gw.url(), second.url()] {
        let r = gateway::post(&own(&base), Some(&na_ri), body(id), &[]).await.unwrap();
        assert_eq!(r.status, 200, "{base}: {}", r.body);
    }
    hoinghi_gateway::tokens::revoke(&stack.creds_dir(), "site-na-ri", None).unwrap();
    for base in [gw.url(), second.url()] {
        eventually(Duration::from_secs(5), || async {
            let r = gateway::post(&own(&base), Some(&na_ri), body(id), &[]).await.map_err(|e| e.to_string())?;
            if r.status == 401 {
                Ok(())
            } else {
                Err(format!("still {}", r.status))
            }
        })
        .await
        .unwrap();
    }

    // CORS is closed by default: a preflight from another origin gets no allowance.
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &get)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
    let log = gw.log();
    assert!(log.contains("identity=site-ba-be"), "calls are logged with the caller's identity");
    assert!(!log.contains(&ba_be[3..]), "no token in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_identity_has_its_rate_limit_and_allowed_origins_get_cors() {
    let (_stack, gw, id) = setup(&[
        ("HOINGHI__LIMITS__REQUESTS_PER_SECOND", "1"),
        ("HOINGHI__LIMITS__BURST", "3"),
        ("HOINGHI__HTTP__CORS_ALLOW_ORIGINS", "https://ecabinet.backan.gov.vn"),
    ])
    .await;
    let url = format!("{}/v1/scheduling/conferences/get", gw.url());
    let secretariat = gw.token("secretariat").unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = gateway::post(&url, Some(&secretariat), body(id), &[]).await.unwrap();
        if r.status == 429 {
            assert_eq!(r.json()["error"]["code"], "rate_limited");
            assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
        }
        statuses.push(r.status);
    }
    assert_eq!(&statuses[..3], [200, 200, 200], "the burst passes");
    assert!(statuses[3..].contains(&429), "then the identity is slowed down: {statuses:?}");
    // Another identity has its own bucket.
    let ba_be = gw.token("site-ba-be").unwrap();
    let own = format!("{}/v1/scheduling/sites/ba-be/get", gw.url());
    let r = gateway::post(&own, Some(&ba_be), body(id), &[]).await.unwrap();
    assert_ne!(r.status, 429, "{}", r.body);
    // An allowed origin gets the CORS allowance, another does not.
    for (origin, allowed) in [("https://ecabinet.backan.gov.vn", true), ("https://evil.example", false)] {
        let preflight = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
            .await
            .unwrap();
        let header = preflight.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref() == Some(origin), allowed, "{origin}: {header:?}");
    }
}

/// Reads server-sent events from a streaming response: `(event, id, data)`.
struct Events {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Events {
    async fn open(url: &str, token: &str, last_event_id: Option<&str>) -> (u16, Self) {
        let mut request = reqwest::Client::new().get(url).header("authorization", format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, Self { body: Box::pin(response.bytes_stream()), buffer: String::new() })
    }

    async fn next(&mut self) -> (String, String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue; // a keep-alive comment
                }
                return (event, id, data);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.body.next())
                .await
                .expect("an event within 20 s")
                .expect("the stream is open")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_streams_a_snapshot_then_changes_and_resumes_from_the_last_event_id() {
    let (_stack, gw, id) = setup(&[]).await;
    let secretariat = gw.token("secretariat").unwrap();
    let ba_be = gw.token("site-ba-be").unwrap();
    let na_ri = gw.token("site-na-ri").unwrap();
    let stream = format!("{}/v1/attendance/board/{id}/events", gw.url());

    // A site may not follow the board: refused before any event.
    let (status, _) = Events::open(&stream, &ba_be, None).await;
    assert_eq!(status, 403);

    let (status, mut events) = Events::open(&stream, &secretariat, None).await;
    assert_eq!(status, 200);
    let (event, snapshot_id, data) = events.next().await;
    assert_eq!(event, "snapshot");
    let board: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(board["seq"].to_string(), snapshot_id);
    assert_eq!(board["roster"]["sites"].as_array().unwrap().len(), scenario::SITES.len());

    let check_in = format!("{}/v1/attendance/sites/ba-be/check_in", gw.url());
    assert_eq!(gateway::post(&check_in, Some(&ba_be), body(id), &[]).await.unwrap().status, 200);
    let (event, change_id, data) = events.next().await;
    assert_eq!(event, "change");
    let change: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!((change["type"].as_str(), change["site_id"].as_str()), (Some("site_checked_in"), Some("ba-be")));
    assert!(change_id.parse::<u64>().unwrap() > snapshot_id.parse::<u64>().unwrap());
    drop(events);

    // While nobody follows, Nà Rì declines; resuming from the last id gives that change, no snapshot.
    let decline = format!("{}/v1/attendance/sites/na-ri/decline", gw.url());
    let payload = serde_json::json!({"conference_id": id, "reason": "Lũ quét"}).to_string();
    assert_eq!(gateway::post(&decline, Some(&na_ri), payload, &[]).await.unwrap().status, 200);
    let (status, mut resumed) = Events::open(&stream, &secretariat, Some(&change_id)).await;
    assert_eq!(status, 200);
    let (event, _, data) = resumed.next().await;
    assert_eq!(event, "change", "{data}");
    let change: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!((change["type"].as_str(), change["site_id"].as_str()), (Some("attendance_declined"), Some("na-ri")));

    let (status, _) = Events::open(&stream, &secretariat, Some("x")).await;
    assert_eq!(status, 400, "a Last-Event-ID that is no sequence");

    // SIGTERM ends the open stream instead of waiting for the browser to hang up.
    let mut gw = gw;
    let started = std::time::Instant::now();
    let exit = gw.terminate(Duration::from_secs(10)).await.unwrap();
    assert!(exit.success(), "{exit}");
    assert!(started.elapsed() < Duration::from_secs(5), "stopped in {:?}", started.elapsed());
    drop(resumed);
}

/// The schemathesis command: `HOINGHI_SCHEMATHESIS` (set by deploy/test.sh; then a missing tool
/// fails the test), else target/test-venv's; `None` (skip, loudly) when neither is there.
fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HOINGHI_SCHEMATHESIS").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "HOINGHI_SCHEMATHESIS={} does not exist: run deploy/install-test-tools.sh",
            path.display()
        );
        return Some(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/schemathesis");
    venv.is_file().then_some(venv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_reply_off_the_schema() {
    let Some(tool) = schemathesis() else {
        eprintln!("!!! SKIPPED: schemathesis is not installed (deploy/install-test-tools.sh installs it)");
        return;
    };
    let (stack, gw, id) =
        setup(&[("HOINGHI__LIMITS__REQUESTS_PER_SECOND", "100000"), ("HOINGHI__LIMITS__BURST", "100000")]).await;
    let secretariat = gw.token("secretariat").unwrap();
    let report = stack.creds_dir().parent().unwrap().join("schemathesis");
    let max_examples = std::env::var("HOINGHI_FUZZ_EXAMPLES").unwrap_or_else(|_| "6".into());
    let output = tokio::task::spawn_blocking({
        let (url, report) = (gw.url(), report.clone());
        move || {
            // Its working directory is the stack's temporary one: schemathesis keeps a cache
            // (`.schemathesis/`) in it.
            std::fs::create_dir_all(&report).unwrap();
            Command::new(&tool)
                .current_dir(&report)
                .arg("run")
                .arg(format!("{url}/openapi.json"))
                .args(["--url", &url])
                .args(["--header", &format!("Authorization: Bearer {secretariat}")])
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth",
                ])
                .args(["--max-examples", &max_examples])
                .args(["--phases", "examples,coverage,fuzzing"])
                .args(["--seed", "20210723"])
                .args(["--workers", "2"])
                .args(["--request-timeout", "20"])
                .arg("--report=junit")
                .arg(format!("--report-dir={}", report.display()))
                .env("NO_COLOR", "1")
                .env("SCHEMATHESIS_HOOKS", "")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The counts, for the record (docs/RELIABILITY.md quotes them).
    for line in stdout.lines().filter(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("test cases") || l.contains("operations") || l.contains("passed") || l.contains("failed")
    }) {
        eprintln!("schemathesis: {line}");
    }
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{stderr}\ngateway log:\n{}",
        gw.log_tail(60)
    );
    assert!(stdout.contains("generated") || stdout.contains("passed"), "schemathesis ran cases:\n{stdout}");
    // The conference the fuzzer could not have guessed is untouched.
    assert_eq!(
        stack.secretariat.api.conference(id).await.unwrap().status,
        hoinghi_shared::api::ConferenceStatus::Invited
    );
    assert!(!gw.log().contains("panicked"), "the gateway did not panic");
}

/// The pages as a browser without JavaScript uses them: the login form's cookie, then plain GETs
/// and form posts (with this origin's `Origin`, as browsers send).
struct Pages {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Pages {
    async fn login(base: &str, token: &str) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = client
            .post(format!("{base}/dang-nhap"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "the login redirects");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let cookie = cookie.split(';').next().unwrap().to_owned();
        Self { client, base: base.to_owned(), cookie }
    }

    async fn get(&self, path: &str) -> gateway::Reply {
        let r = self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.unwrap();
        reply(r).await
    }

    async fn form(&self, path: &str, fields: &[(&str, &str)], origin: Option<&str>) -> gateway::Reply {
        let body = fields.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect::<Vec<_>>().join("&");
        let origin = origin.map(str::to_owned).unwrap_or_else(|| self.base.clone());
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        reply(r).await
    }
}

fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn reply(r: reqwest::Response) -> gateway::Reply {
    let status = r.status().as_u16();
    let headers =
        r.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    gateway::Reply { status, headers, body: r.text().await.unwrap() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_point_does_every_step_on_its_page_and_reads_the_minutes() {
    let (stack, gw, id) = setup(&[]).await;
    let url = gw.url();
    let api = &stack.secretariat.api;
    let cho_don = Pages::login(&url, &gw.token("site-cho-don").unwrap()).await;

    // Its page lists the invitation, with the .ics.
    let page = cho_don.get("/diem-cau").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Hội nghị trực tuyến sơ kết công tác dân vận"), "{}", page.body);
    assert!(page.body.contains(&format!("/diem-cau/{id}/moi-hop.ics")));
    let ics = cho_don.get(&format!("/diem-cau/{id}/moi-hop.ics")).await;
    assert_eq!(ics.status, 200, "{}", ics.body);
    assert!(ics.header("content-type").unwrap().starts_with("text/calendar"));
    assert!(ics.body.contains("BEGIN:VCALENDAR") && ics.body.contains(&format!("UID:{id}@hoinghi")), "{}", ics.body);

    // A form posted from another site is refused, nothing changes.
    let evil =
        cho_don.form(&format!("/diem-cau/{id}/bao-vang"), &[("reason", "x")], Some("https://evil.example")).await;
    assert_eq!(evil.status, 403, "{}", evil.body);
    assert_eq!(line(&stack, id, "cho-don").await.status, AttendanceStatus::Invited);

    // It declines with a reason (hostile text stays text), then confirms with its delegates instead.
    let reason = "Đường bị sạt lở <script>alert(1)</script>";
    let declined = cho_don.form(&format!("/diem-cau/{id}/bao-vang"), &[("reason", reason)], None).await;
    assert_eq!(declined.status, 200, "{}", declined.body);
    assert!(declined.body.contains("Đã báo vắng."));
    assert_eq!(line(&stack, id, "cho-don").await.decline_reason.as_deref(), Some(reason));
    // After a reload its page shows the refusal with its reason (escaped), the reason pre-filled.
    let page = cho_don.get("/diem-cau").await;
    assert!(
        page.body.contains("Đã từ chối: Đường bị sạt lở &#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    let confirm = [("delegates", "Nguyễn Văn B | Bí thư\nLê Thị C | dự thay đồng chí D"), ("headcount", "9")];
    let confirmed = cho_don.form(&format!("/diem-cau/{id}/xac-nhan"), &confirm, None).await;
    assert!(confirmed.body.contains("Đã xác nhận tham dự: 2 đại biểu, 9 người."), "{}", confirmed.body);
    let l = line(&stack, id, "cho-don").await;
    assert_eq!(
        (l.status, l.headcount, l.delegates[1].title.as_str()),
        (AttendanceStatus::Confirmed, 9, "dự thay đồng chí D")
    );
    // Its own line over HTTP (`status`, read only) and its page after a reload: the confirmed
    // answer, the delegates and the headcount pre-filled.
    let token = gw.token("site-cho-don").unwrap();
    let status = |site: &str| format!("{url}/v1/attendance/sites/{site}/status");
    let r = gateway::post(&status("cho-don"), Some(&token), body(id), &[]).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let own: hoinghi_shared::api::SiteAttendance = serde_json::from_str(&r.body).unwrap();
    assert_eq!((own.status, own.headcount, own.delegates.len()), (AttendanceStatus::Confirmed, 9, 2));
    assert_eq!(own.delegates[0].name, "Nguyễn Văn B");
    let page = cho_don.get("/diem-cau").await;
    assert!(page.body.contains("Đã xác nhận (2 đại biểu, 9 người)"), "{}", page.body);
    assert!(page.body.contains("Nguyễn Văn B | Bí thư\nLê Thị C | dự thay đồng chí D</textarea>"), "{}", page.body);
    assert!(page.body.contains(r#"value="9""#), "{}", page.body);
    // Another site's line is refused by the server (403), nothing is read.
    let r = gateway::post(&status("ba-be"), Some(&token), body(id), &[]).await.unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    // A headcount that is no number: the page says so, nothing changes.
    let bad =
        cho_don.form(&format!("/diem-cau/{id}/xac-nhan"), &[("delegates", ""), ("headcount", "chín")], None).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("Dữ liệu chưa hợp lệ"));
    assert_eq!(line(&stack, id, "cho-don").await.headcount, 9);
    let checked = cho_don.form(&format!("/diem-cau/{id}/diem-danh"), &[], None).await;
    assert!(checked.body.contains("Đã điểm danh."), "{}", checked.body);
    let r = gateway::post(&status("cho-don"), Some(&token), body(id), &[]).await.unwrap();
    let own: hoinghi_shared::api::SiteAttendance = serde_json::from_str(&r.body).unwrap();
    assert_eq!((own.status, own.headcount, own.checked_in_at.is_some()), (AttendanceStatus::CheckedIn, 9, true));
    let page = cho_don.get("/diem-cau").await;
    assert!(page.body.contains("Đã điểm danh (đã xác nhận 2 đại biểu, 9 người)"), "{}", page.body);

    // Before the session there are no minutes: the page says so.
    let none = cho_don.get(&format!("/bien-ban/{id}")).await;
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(none.body.contains("Không xem được biên bản"), "{}", none.body);

    // The session runs; the minute-taker and the chairs do their part over HTTP, as themselves.
    api.start(id).await.unwrap();
    api.end(id).await.unwrap();
    flow::wait_draft(api, id).await.unwrap();
    let taker = gw.token(&format!("person-{}", scenario::MINUTE_TAKER)).unwrap();
    let person = |p: &str, action: &str| format!("{url}/v1/minutes/persons/{p}/{action}");
    for item in scenario::records(id) {
        let r = gateway::post(
            &person(scenario::MINUTE_TAKER, "record"),
            Some(&taker),
            serde_json::to_string(&item).unwrap(),
            &[],
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = gateway::post(&person(scenario::MINUTE_TAKER, "submit"), Some(&taker), body(id), &[]).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    // A chair's token cannot approve as the other chair.
    let first = gw.token(&format!("person-{}", scenario::CHAIR_PERSONS[0])).unwrap();
    let r = gateway::post(&person(scenario::CHAIR_PERSONS[1], "approve"), Some(&first), body(id), &[]).await.unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    for chair in scenario::CHAIR_PERSONS {
        let token = gw.token(&format!("person-{chair}")).unwrap();
        let r = gateway::post(&person(chair, "approve"), Some(&token), body(id), &[]).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = gateway::post(&person(scenario::MINUTE_TAKER, "publish"), Some(&taker), body(id), &[]).await.unwrap();
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("published")), "{}", r.body);
    api.issue_notice(&hoinghi_shared::api::IssueNotice {
        conference_id: id,
        number: "15/TB-TU".into(),
        issued_on: None,
    })
    .await
    .unwrap();

    // The district reads the minutes as HTML, acknowledges them and the notice, reports on its task.
    let minutes = cho_don.get(&format!("/bien-ban/{id}")).await;
    assert_eq!(minutes.status, 200, "{}", minutes.body);
    assert!(minutes.header("content-security-policy").unwrap().starts_with("default-src 'none'"), "no script runs");
    assert!(
        minutes.body.contains("BIÊN BẢN") || minutes.body.contains("Biên bản"),
        "{}",
        &minutes.body[..500.min(minutes.body.len())]
    );
    let page = cho_don.get("/diem-cau").await;
    assert!(page.body.contains("Thông báo kết luận số 15/TB-TU"), "{}", page.body);
    assert!(page.body.contains("Tổng hợp, gửi Ban Dân vận Tỉnh ủy"), "its task is listed: {}", page.body);
    let ack = cho_don.form(&format!("/diem-cau/{id}/nhan-bien-ban"), &[], None).await;
    assert!(ack.body.contains("Đã xác nhận đã nhận biên bản."), "{}", ack.body);
    let ack = cho_don.form(&format!("/diem-cau/{id}/nhan-thong-bao"), &[], None).await;
    assert!(ack.body.contains("Đã xác nhận đã nhận thông báo kết luận."), "{}", ack.body);
    assert!(ack.body.contains("(đã xác nhận đã nhận)"));
    let report = [("kind", "done"), ("text", "Đã gửi văn bản tổng hợp kiến nghị"), ("reference", "123/BC-HU")];
    let reported = cho_don.form(&format!("/diem-cau/{id}/nhiem-vu/1-0"), &report, None).await;
    assert!(reported.body.contains("Đã gửi báo cáo nhiệm vụ."), "{}", reported.body);
    assert!(reported.body.contains("Đã báo cáo hoàn thành"), "{}", reported.body);
    let receipts = api.receipts(&PageQuery { conference_id: id, offset: 0, limit: 5000 }).await.unwrap();
    let pending = serde_json::to_string(&receipts).unwrap();
    assert!(!pending.contains("\"cho-don\""), "Chợ Đồn acknowledged both: {pending}");
}
