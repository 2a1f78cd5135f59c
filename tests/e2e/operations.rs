//! Operating the services: `$SRV.STATS` error counts and metadata, strict configuration and
//! `--check-config`, JSON logs, the Prometheus endpoint and readiness (issue 14).

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use hoinghi_shared::api::ConferenceRef;
use hoinghi_shared::subjects::{attendance, scheduling};
use hoinghi_shared::{ConferenceId, ErrorCode};
use hoinghi_tests::service::binary;
use hoinghi_tests::{Service, Stack};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::stack;

/// A body naming a conference that does not exist.
fn unknown_conference() -> Vec<u8> {
    serde_json::to_vec(&ConferenceRef { conference_id: ConferenceId::generate() }).unwrap()
}

/// Asks one `$SRV` verb of `service`.
async fn srv(stack: &Stack, verb: &str, service: Service) -> serde_json::Value {
    let reply = stack.api.nats().request(format!("$SRV.{verb}.{}", service.name()), "".into()).await.unwrap();
    serde_json::from_slice(&reply.payload).unwrap()
}

/// The entry of `endpoints` named `name`.
fn endpoint<'a>(reply: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    reply["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {name} in {reply}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_each_error_on_its_endpoint_and_info_carries_metadata() {
    let stack = stack().await;
    // Given a 400 on create and a 404 on get
    let bad = stack.api.raw(scheduling::CREATE, "not json", None).await.unwrap();
    assert_eq!(bad.api_error().unwrap().code, ErrorCode::Invalid);
    let missing = stack.api.raw(scheduling::GET, unknown_conference(), None).await.unwrap();
    assert_eq!(missing.api_error().unwrap().code, ErrorCode::NotFound);
    // And the error replies still carry the contract's body
    let body: serde_json::Value = serde_json::from_slice(&missing.payload).unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");

    // When the service's stats are asked for
    let stats = srv(&stack, "STATS", Service::Scheduling).await;
    // Then each error is counted on its endpoint, with the last one
    let create = endpoint(&stats, "conferences-create");
    assert_eq!((create["num_requests"].as_u64(), create["num_errors"].as_u64()), (Some(1), Some(1)), "{create}");
    assert!(create["last_error"].as_str().unwrap().starts_with("400:"), "{create}");
    let get = endpoint(&stats, "conferences-get");
    assert_eq!((get["num_requests"].as_u64(), get["num_errors"].as_u64()), (Some(1), Some(1)), "{get}");
    let last = get["last_error"].as_str().unwrap();
    assert!(last.starts_with("404:") && last.contains("conference"), "{get}");
    assert!(get["processing_time"].as_u64().unwrap() > 0, "{get}");
    let invite = endpoint(&stats, "conferences-invite");
    assert_eq!((invite["num_requests"].as_u64(), invite["num_errors"].as_u64()), (Some(0), Some(0)), "{invite}");
    assert_eq!(invite["last_error"], "", "{invite}");

    // And INFO carries the service's and each endpoint's metadata
    let info = srv(&stack, "INFO", Service::Scheduling).await;
    assert_eq!(info["metadata"]["version"], env!("CARGO_PKG_VERSION"), "{info}");
    assert_eq!(info["metadata"]["stream"], "HOINGHI_SCHEDULING", "{info}");
    let create = endpoint(&info, "conferences-create");
    assert_eq!(create["metadata"]["subject"], scheduling::CREATE, "{create}");
    assert_eq!(create["metadata"]["roles"], "secretariat", "{create}");
    assert_eq!(create["metadata"]["version"], "v1", "{create}");
    assert_eq!(create["queue_group"], "q", "{create}");
    let info = srv(&stack, "INFO", Service::Attendance).await;
    let confirm = endpoint(&info, "sites-confirm");
    assert_eq!(confirm["metadata"]["roles"], "site", "{confirm}");
    assert_eq!(confirm["subject"], attendance::any_site(attendance::CONFIRM), "{confirm}");
}

/// Runs a service binary with `args` and exactly the configuration variables `env` (the rest of the
/// environment is cleared, but for `PATH`), to its exit.
fn run_binary(service: Service, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(binary(service).unwrap());
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn a_misspelt_variable_or_key_stops_the_service_at_start() {
    // Given a variable one letter short of HOINGHI__NATS__CREDS
    // When the service starts (nothing listens at the URL: it must stop before connecting)
    let out = run_binary(
        Service::Minutes,
        &[],
        &[("HOINGHI__NATS__URL", "nats://127.0.0.1:1"), ("HOINGHI__NATS__CRED", "/etc/hoinghi/service-minutes.creds")],
    );
    // Then it stops at once, naming the variable and the closest valid one
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("HOINGHI__NATS__CRED ") || stderr.contains("HOINGHI__NATS__CRED;"), "{stderr}");
    assert!(stderr.contains("HOINGHI__NATS__CREDS"), "{stderr}");

    // And so does an unknown key of the configuration file
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scheduling.toml");
    std::fs::write(&file, "[service]\nmax_in_fligth = 64\n").unwrap();
    let out = run_binary(Service::Scheduling, &[], &[("HOINGHI_CONFIG", file.to_str().unwrap())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("`service.max_in_fligth`") && stderr.contains("`service.max_in_flight`"), "{stderr}");
}

#[test]
fn check_config_prints_the_effective_configuration_with_secrets_masked() {
    // Given a configuration with credentials, a URL with a password and a file layer
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attendance.toml");
    std::fs::write(&file, "[presence]\ngrace_ms = 20000\n").unwrap();
    let env = [
        ("HOINGHI_CONFIG", file.to_str().unwrap()),
        ("HOINGHI__NATS__URL", "nats://ops:s3cr3t-pass@10.0.0.5:4222"),
        ("HOINGHI__NATS__CREDS", "/etc/hoinghi/service-attendance.creds"),
        ("HOINGHI__NATS__API_CREDS", "/etc/hoinghi/service-attendance-api.creds"),
    ];
    // When the binary is asked to check it
    let out = run_binary(Service::Attendance, &["--check-config"], &env);
    // Then it prints every layer's effect, masks the password, shows the paths, and exits 0
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "[nats]",
        "creds = \"/etc/hoinghi/service-attendance.creds\"",
        "url = \"nats://ops:<masked>@10.0.0.5:4222\"",
        "[presence]",
        "grace_ms = 20000",
        "max_in_flight = 1024",
        "[metrics]",
        "listen = \"\"",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in\n{stdout}");
    }
    assert!(!stdout.contains("s3cr3t-pass"), "{stdout}");

    // And an invalid configuration exits non-zero with the reason
    let out = run_binary(Service::Attendance, &["--check-config"], &env[2..3]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("invalid configuration") && stderr.contains("api_creds"), "{stderr}");
    let out = run_binary(Service::Attendance, &["--check-config"], &[("HOINGHI__LOG__FROMAT", "json")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOINGHI__LOG__FORMAT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_keep_the_event_text_beside_the_error() {
    let mut stack = stack().await;
    stack.service_mut(Service::Scheduling).set_env("HOINGHI__LOG__FORMAT", "json");
    stack.restart(Service::Scheduling).await.unwrap();
    // Given a refused request
    let missing = stack.api.raw(scheduling::GET, unknown_conference(), None).await.unwrap();
    let message = missing.api_error().unwrap().message;
    // Then its JSON log line has the event's text and the error's, each in its own field
    let log = std::fs::read_to_string(stack.service(Service::Scheduling).log_path()).unwrap();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["reason"] == message.as_str())
        .unwrap_or_else(|| panic!("no JSON line with reason {message:?} in\n{log}"));
    assert_eq!(line["fields"]["message"], "request refused", "{line}");
    assert_eq!(line["fields"]["code"], "not_found", "{line}");
    assert_eq!(line["span"]["endpoint"], "conferences-get", "{line}");
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET path` on `127.0.0.1:port`: the status and the body (`None` when nothing listens).
async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_get_accepting(port, path, "*/*").await
}

/// `GET path` with an `Accept` header.
async fn http_get_accepting(port: u16, path: &str, accept: &str) -> Option<(u16, String)> {
    // A plain HTTP/1.0 GET is all three routes need; no client crate for it.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// The value of the sample `name{labels…}` of a parsed exposition.
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_scraped_in_the_exposition_format() {
    let mut stack = stack().await;
    let port = free_port();
    stack.service_mut(Service::Attendance).set_env("HOINGHI__METRICS__LISTEN", format!("127.0.0.1:{port}"));
    stack.restart(Service::Attendance).await.unwrap();
    // Given two refusals and an answer
    for _ in 0..2 {
        let missing = stack.api.raw(attendance::ROSTER, unknown_conference(), None).await.unwrap();
        assert_eq!(missing.api_error().unwrap().code, ErrorCode::NotFound);
    }
    let bad = stack.api.raw(attendance::QUORUM, "{", None).await.unwrap();
    assert_eq!(bad.api_error().unwrap().code, ErrorCode::Invalid);
    // And a message on an event subject that is no event: attendance's reaction parks it at once
    let junk = hoinghi_shared::subjects::events::conference(
        Service::Scheduling,
        &ConferenceId::generate(),
        hoinghi_shared::events::SchedulingEvent::INVITATIONS_ISSUED,
    );
    stack.jetstream().publish(junk, "not an event".into()).await.unwrap().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stack.dead_letters().await.unwrap() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the junk was never parked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // When /metrics is scraped as Prometheus does, asking for OpenMetrics
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let (status, openmetrics) = http_get_accepting(port, "/metrics", accept).await.expect("the metrics port answers");
    assert_eq!(status, 200, "{openmetrics}");
    assert!(openmetrics.ends_with("# EOF\n"), "an OpenMetrics exposition ends with # EOF:\n{openmetrics}");
    assert!(openmetrics.contains("\nhoinghi_requests_total{"), "{openmetrics}");
    // Or in the classic text format otherwise
    let (status, body) = http_get(port, "/metrics").await.expect("the metrics port answers");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("# EOF"), "{body}");
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();

    // Then it counts requests by endpoint and outcome, with their latency, and the service's figures
    let roster = [("endpoint", "roster"), ("outcome", "not_found")];
    assert_eq!(sample(&scrape, "hoinghi_requests_total", &roster), Some(2.0), "{body}");
    assert_eq!(sample(&scrape, "hoinghi_requests_total", &[("endpoint", "quorum"), ("outcome", "invalid")]), Some(1.0));
    // The histogram, line by line (its buckets are cumulative, +Inf holds every request)
    for line in [
        "# TYPE hoinghi_request_duration_seconds histogram",
        "hoinghi_request_duration_seconds_bucket{le=\"+Inf\",service=\"hoinghi-attendance\",endpoint=\"roster\"} 2",
        "hoinghi_request_duration_seconds_count{service=\"hoinghi-attendance\",endpoint=\"roster\"} 2",
    ] {
        assert!(openmetrics.lines().any(|l| l == line), "missing {line:?} in\n{openmetrics}");
    }
    assert!(
        scrape.docs.contains_key("hoinghi_request_duration_seconds"),
        "the parser sees the histogram's help: {:?}",
        scrape.docs.keys().collect::<Vec<_>>()
    );
    assert_eq!(sample(&scrape, "hoinghi_ready", &[]), Some(1.0), "{body}");
    assert_eq!(
        sample(&scrape, "hoinghi_dead_letters", &[("consumer", "attendance-on-scheduling")]),
        Some(1.0),
        "{body}"
    );
    assert_eq!(sample(&scrape, "hoinghi_events_parked_total", &[]), Some(1.0), "{body}");
    assert!(
        sample(&scrape, "hoinghi_reaction_pending", &[("durable", "attendance-on-scheduling")]).is_some(),
        "{body}"
    );
    assert!(sample(&scrape, "hoinghi_projection_applied_sequence", &[]).is_some(), "{body}");
    assert!(sample(&scrape, "hoinghi_presence_heartbeats_total", &[]).is_some(), "{body}");
    assert!(sample(&scrape, "hoinghi_append_retries_total", &[]).is_some(), "{body}");
    assert_eq!(sample(&scrape, "hoinghi_scrape_errors", &[]), Some(0.0), "{body}");

    // And promtool, when installed, finds the exposition well formed
    if let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "promtool check metrics: {said}\n{body}");
    }

    // And the health checks answer
    assert_eq!(http_get(port, "/healthz").await.map(|r| r.0), Some(200));
    assert_eq!(http_get(port, "/readyz").await.map(|r| r.0), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_200_only_once_the_endpoints_serve() {
    let mut stack = stack().await;
    let port = free_port();
    let process = stack.service_mut(Service::Scheduling);
    process.set_env("HOINGHI__METRICS__LISTEN", format!("127.0.0.1:{port}"));
    let mut seen = HashMap::new();
    for round in 0..3 {
        stack.kill(Service::Scheduling);
        stack.service_mut(Service::Scheduling).spawn().unwrap();
        // Poll /readyz from the spawn on; the first 200 must mean the endpoints serve
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let status = http_get(port, "/readyz").await.map(|r| r.0);
            *seen.entry(status).or_insert(0) += 1;
            if status == Some(200) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never ready: {seen:?}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let reply = stack.api.raw(scheduling::GET, unknown_conference(), None).await;
        match reply.map(|r| r.api_error()) {
            Ok(Some(e)) if e.code == ErrorCode::NotFound => {}
            other => panic!("round {round}: /readyz said 200 before the endpoints served: {other:?}"),
        }
        let client = stack.api.nats().clone();
        stack.service_mut(Service::Scheduling).wait_ready(&client, Duration::from_secs(20)).await.unwrap();
    }
    // And once stopping, it is not ready
    let status = stack.terminate(Service::Scheduling).await.unwrap();
    assert!(status.success());
    assert_eq!(http_get(port, "/readyz").await, None, "nothing listens once stopped");
}

/// Runs a tool of the test-tool set (deploy/install-test-tools.sh installs them) in `dir`.
fn tool(program: &str, args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(program).args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("{program} is needed for this test ({e}); install the test tools: deploy/install-test-tools.sh")
    })
}

#[test]
fn the_alert_rules_are_valid_and_fire_when_they_should() {
    // promtool (Debian's `prometheus` package) checks the rules and runs their unit tests.
    let dir = hoinghi_tests::repo_root().join("deploy/prometheus");
    for args in [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]] {
        let out = tool("promtool", &args, &dir);
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "promtool {}: {said}", args.join(" "));
        assert!(said.contains("SUCCESS"), "{said}");
    }
}

/// Copies the directory tree `from` into `to` (created).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What the three services answer about a conference, as JSON.
async fn views(stack: &Stack, id: ConferenceId) -> [serde_json::Value; 3] {
    let api = &stack.api;
    [
        serde_json::to_value(api.conference(id).await.unwrap()).unwrap(),
        serde_json::to_value(api.roster(id).await.unwrap()).unwrap(),
        serde_json::to_value(api.minutes(id).await.unwrap()).unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_the_stopped_store_restores_the_same_state_after_a_wipe() {
    // Given a conference as far as its minutes draft: events in the three streams, reactions done
    let mut stack = stack().await;
    let id = hoinghi_tests::flow::run_to_draft(&stack.api).await.unwrap();
    stack.wait_for_reactions(Duration::from_secs(20)).await.unwrap();
    let before = views(&stack, id).await;
    let totals = stack.event_totals().await.unwrap();
    assert!(totals.iter().all(|&n| n > 0), "{totals:?}");

    // When the server is stopped, its store directory copied (the backup), and it starts again
    let store = stack.server.store_dir();
    let backup = tempfile::tempdir().unwrap();
    stack.server.stop().await;
    copy_tree(&store, backup.path());
    stack.server.restart().await.unwrap();
    // And later the store is lost: wiped, the server restarted empty
    for service in Service::ALL {
        stack.kill(service);
    }
    stack.server.stop().await;
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    stack.server.restart().await.unwrap();
    assert!(stack.jetstream().get_stream(Service::Scheduling.stream().name).await.is_err(), "wiped");
    // And the backup is put back in place of the store, the server and the services started again
    stack.server.stop().await;
    std::fs::remove_dir_all(&store).unwrap();
    copy_tree(backup.path(), &store);
    stack.server.restart().await.unwrap();
    for service in Service::ALL {
        stack.start_service(service).await.unwrap();
    }

    // Then every stream holds what it held, and the services rebuilt the same state from them
    assert_eq!(stack.event_totals().await.unwrap(), totals);
    assert_eq!(views(&stack, id).await, before);
    // And the restored log takes new commands where it stopped
    let api = &stack.api;
    api.conference(id).await.unwrap();
    let other = hoinghi_tests::flow::schedule(api).await.unwrap();
    assert_eq!(api.conference(other).await.unwrap().id, other);
    assert_eq!(stack.dead_letters().await.unwrap(), 0);
}

#[test]
fn the_systemd_units_verify_and_are_hardened() {
    // The units as shipped, with ExecStart pointing at the binaries built here instead of /usr/bin.
    let root = hoinghi_tests::repo_root();
    let bin_dir = hoinghi_tests::service::bin_dir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in ["hoinghi-scheduling", "hoinghi-attendance", "hoinghi-minutes", "hoinghi-gateway"] {
        let unit = std::fs::read_to_string(root.join(format!("deploy/systemd/{name}.service"))).unwrap();
        assert!(unit.contains(&format!("ExecStart=/usr/bin/{name}\n")), "{name}");
        for option in
            ["DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=always", "LoadCredential="]
        {
            assert!(unit.contains(option), "{name} has {option}");
        }
        let path = dir.path().join(format!("{name}.service"));
        std::fs::write(&path, unit.replace("/usr/bin/", &format!("{}/", bin_dir.display()))).unwrap();
        units.push(path);
    }
    // systemd-analyze verify: every key known, every command there; a warning is a failure
    let mut args = vec!["verify".to_owned()];
    args.extend(units.iter().map(|u| u.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tool("systemd-analyze", &args, dir.path());
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
    // And the sandbox rates OK: an exposure of at most 2 on systemd's scale of 0 (locked) to 10
    for unit in &units {
        let out = tool(
            "systemd-analyze",
            &["security", "--offline=yes", "--threshold=20", unit.to_str().unwrap()],
            dir.path(),
        );
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
        let level: f64 = said
            .lines()
            .find_map(|l| l.split("exposure level for ").nth(1))
            .and_then(|rest| rest.split(':').nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level in {said}"));
        assert!(level <= 2.0, "{}: exposure {level}", unit.display());
    }
}

/// The spans an OTLP/HTTP receiver got: (service name, trace id, span name).
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>;

/// A tiny OTLP/HTTP receiver on 127.0.0.1: accepts `POST /v1/traces` (protobuf
/// `ExportTraceServiceRequest`) and records every span; returns its port.
async fn otlp_receiver(received: Received) -> u16 {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let received = received.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                // HTTP/1.1 with keep-alive: one request after the other on the connection.
                loop {
                    let head_end = loop {
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break end + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        let mut chunk = [0u8; 8192];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body: Vec<u8> = buffer.drain(..head_end + length).skip(head_end).collect();
                    let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
                    for resource in request.resource_spans {
                        let service = resource
                            .resource
                            .iter()
                            .flat_map(|r| &r.attributes)
                            .find(|a| a.key == "service.name")
                            .and_then(|a| a.value.as_ref())
                            .map(|v| format!("{:?}", v.value))
                            .unwrap_or_default();
                        for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                            received.lock().unwrap().push((
                                service.clone(),
                                hex::encode(&span.trace_id),
                                span.name.clone(),
                            ));
                        }
                    }
                    let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if stream.write_all(ok.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_is_one_trace_across_the_services_over_otlp() {
    // Given scheduling and attendance exporting their spans to a collector
    let received = Received::default();
    let port = otlp_receiver(received.clone()).await;
    let mut stack = stack().await;
    for service in [Service::Scheduling, Service::Attendance] {
        let process = stack.service_mut(service);
        process.set_env("HOINGHI__TELEMETRY__OTLP_ENDPOINT", format!("http://127.0.0.1:{port}"));
        process.set_env("OTEL_BSP_SCHEDULE_DELAY", "100");
        stack.restart(service).await.unwrap();
    }
    let id = hoinghi_tests::flow::schedule(&stack.api).await.unwrap();

    // When the secretariat invites, in a trace of its own
    let trace_id = hoinghi_shared::trace::new_trace_id();
    let mut headers = async_nats::HeaderMap::new();
    let traceparent = format!("00-{trace_id}-{}-01", hoinghi_shared::trace::new_span_id());
    headers.insert(hoinghi_shared::headers::TRACEPARENT, traceparent.as_str());
    let body = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
    let reply = stack.api.raw(scheduling::INVITE, body, Some(headers)).await.unwrap();
    assert!(reply.api_error().is_none(), "{:?}", reply.api_error());
    hoinghi_tests::flow::wait_roster(&stack.api, id, hoinghi_shared::api::RosterState::Open).await.unwrap();

    // Then the collector gets, in that one trace, scheduling's request and attendance's reaction
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let spans: Vec<_> = received.lock().unwrap().iter().filter(|(_, t, _)| *t == trace_id).cloned().collect();
        let has = |service: &str, name: &str| spans.iter().any(|(s, _, n)| s.contains(service) && n == name);
        if has("hoinghi-scheduling", "request") && has("hoinghi-attendance", "reaction") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "trace {trace_id} lacks a span; of it: {spans:?}; all: {:?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_kubernetes_manifests_validate_against_the_schemas() {
    // The test tools' Python (deploy/install-test-tools.sh: kubernetes-validate, PyYAML).
    let root = hoinghi_tests::repo_root();
    let python = std::env::var("HOINGHI_TEST_PYTHON")
        .unwrap_or_else(|_| root.join("target/test-venv/bin/python").display().to_string());
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("hoinghi.toml");
    let script = root.join("deploy/kubernetes/validate.py");
    let out = tool(&python, &[script.to_str().unwrap(), "1.33.0", toml.to_str().unwrap()], &root);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "deploy/kubernetes/validate.py: {said}");
    assert!(said.starts_with("ok: "), "{said}");
    // And the services' configuration in the ConfigMap is one they accept
    for service in Service::ALL {
        let name = service.name().trim_start_matches("hoinghi-").to_owned();
        let (creds, api) = (
            format!("/etc/hoinghi/creds/service-{name}.creds"),
            format!("/etc/hoinghi/creds/service-{name}-api.creds"),
        );
        let env = [
            ("HOINGHI_CONFIG", toml.to_str().unwrap()),
            ("HOINGHI__NATS__CREDS", &creds),
            ("HOINGHI__NATS__API_CREDS", &api),
        ];
        let out = run_binary(service, &["--check-config"], &env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{service}: {}{stdout}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("replicas = 3"), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_takes_clients_over_tls_only() {
    // The shipped node configurations (deploy/cluster/) with a test CA's certificates: the routes
    // verify each other's certificate (the cluster forms: start() waits for JetStream on 3 nodes)
    let cluster = hoinghi_tests::cluster::NatsCluster::start().await.unwrap();
    let creds = cluster.creds("secretariat");
    for i in 0..3 {
        // A client that does not trust the deployment's CA is refused
        let plain = async_nats::ConnectOptions::with_credentials_file(&creds)
            .await
            .unwrap()
            .max_reconnects(Some(0))
            .connection_timeout(Duration::from_secs(3))
            .connect(cluster.url(i))
            .await;
        assert!(plain.is_err(), "node {i} took a client without TLS");
        // One that does gets in
        let client = cluster.options(&creds).await.unwrap().max_reconnects(Some(0)).connect(cluster.url(i)).await;
        let client = client.unwrap_or_else(|e| panic!("node {i}: {e}"));
        assert!(client.server_info().tls_required, "node {i}");
    }
}
