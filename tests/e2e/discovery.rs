//! Discovery (`$SRV.PING`, `$SRV.INFO`) and graceful shutdown.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use hoinghi_shared::api::RosterState;
use hoinghi_shared::subjects::{attendance, minutes, scheduling};
use hoinghi_shared::ErrorCode;
use hoinghi_tests::{flow, scenario, Service};

use crate::common::{every_service_back_after, stack, stack_at};

/// Every endpoint each service must list in `$SRV.INFO` (the subjects it serves; a per-site action
/// as its `sites.*` wildcard), as `hoinghi_shared::subjects` lists them.
fn expected_subjects(service: Service) -> Vec<String> {
    let requests = |subjects: &[&str]| subjects.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match service {
        Service::Scheduling => {
            let mut subjects = requests(scheduling::REQUESTS);
            subjects.extend(scheduling::SITE_ACTIONS.iter().copied().map(scheduling::any_site));
            subjects
        }
        Service::Attendance => {
            let mut subjects = requests(attendance::REQUESTS);
            subjects.extend(attendance::SITE_ACTIONS.iter().copied().map(attendance::any_site));
            subjects
        }
        Service::Minutes => {
            let mut subjects = requests(minutes::REQUESTS);
            subjects.extend(minutes::SITE_ACTIONS.iter().copied().map(minutes::any_site));
            subjects.extend(minutes::PERSON_ACTIONS.iter().copied().map(minutes::any_person));
            subjects
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_answers_ping_and_info_under_its_own_name() {
    let stack = stack().await;
    let api = &stack.api;
    for service in Service::ALL {
        let ping = api.ping(service).await.unwrap();
        assert_eq!(ping["name"], service.name(), "ping of {service}: {ping}");
        assert_eq!(ping["type"], "io.nats.micro.v1.ping_response", "{ping}");
        assert!(ping["id"].as_str().is_some_and(|id| !id.is_empty()), "{service} has an instance id: {ping}");
        assert!(ping["version"].as_str().is_some_and(|v| !v.is_empty()), "{service} has a version: {ping}");

        let info = api.info(service).await.unwrap();
        assert_eq!(info["name"], service.name(), "info of {service}: {info}");
        assert_eq!(info["type"], "io.nats.micro.v1.info_response", "{info}");
        let subjects: BTreeSet<String> = info["endpoints"]
            .as_array()
            .unwrap_or_else(|| panic!("{service} lists its endpoints: {info}"))
            .iter()
            .filter_map(|e| e["subject"].as_str().map(str::to_owned))
            .collect();
        for subject in expected_subjects(service) {
            assert!(subjects.contains(&subject), "{service} should list an endpoint on {subject}: {subjects:?}");
        }
    }

    // A PING to every service at once gets the three names.
    let client = api.nats();
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await.unwrap();
    client.publish_with_reply("$SRV.PING", inbox, "".into()).await.unwrap();
    let mut names = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while names.len() < 3 {
        match tokio::time::timeout_at(deadline, replies.next()).await {
            Ok(Some(m)) => {
                let ping: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
                names.insert(ping["name"].as_str().unwrap_or_default().to_owned());
            }
            _ => break,
        }
    }
    let all: BTreeSet<String> = Service::ALL.iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(names, all, "$SRV.PING reaches every service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_exits_cleanly_on_sigterm_and_comes_back_with_its_state() {
    let (stack, id) = every_service_back_after(async |stack, service| {
        let status = stack.terminate(service).await.unwrap();
        assert!(status.success(), "{service} should exit 0 after SIGTERM, exited with {status}");
        let ping = stack.api.ping(service).await;
        assert!(ping.is_err(), "{service} stopped answering PING after SIGTERM: {ping:?}");
    })
    .await;
    flow::hold_session(&stack.api, id).await.unwrap();
    assert_eq!(stack.api.roster(id).await.unwrap().counts.checked_in, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_requests_in_flight_finish() {
    let (mut stack, id) = stack_at(flow::invited).await;
    let api = stack.api.clone();
    let sites: Vec<_> = flow::present_sites();

    // A burst of confirmations, with SIGTERM in the middle of it.
    let mut tasks = Vec::new();
    for i in 0..60_u32 {
        let api = api.clone();
        let site = sites[i as usize % sites.len()].clone();
        let mut request = scenario::confirmation(id, &site).unwrap();
        request.headcount += i;
        tasks.push(tokio::spawn(async move { api.confirm(&site, &request).await }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let status = stack.terminate(Service::Attendance).await.unwrap();
    assert!(status.success(), "attendance exits 0 after SIGTERM, exited with {status}");

    let mut answered = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => answered += 1,
            // Losing a race with a concurrent change to the same site is an answer too.
            Err(e) if e.code == ErrorCode::Conflict => answered += 1,
            Err(e) => assert!(
                e.code == ErrorCode::Unavailable && e.message.contains("no responders"),
                "a request was either answered or never taken (no responders), not dropped: {e}"
            ),
        }
    }
    stack.start_service(Service::Attendance).await.unwrap();
    let roster = flow::wait_roster(&api, id, RosterState::Open).await.unwrap();
    if answered > 0 {
        assert!(roster.counts.confirmed > 0, "answered confirmations are kept ({answered} answered)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_answers_ping_already_serves_its_endpoints() {
    let mut stack = stack().await;
    let api = stack.api.clone();
    let unknown = hoinghi_shared::ConferenceId::generate();
    let body = serde_json::to_vec(&hoinghi_shared::api::ConferenceRef { conference_id: unknown }).unwrap();
    let queries = [
        (Service::Scheduling, scheduling::GET),
        (Service::Attendance, attendance::ROSTER),
        (Service::Minutes, minutes::GET),
    ];
    let mut early = Vec::new();
    for round in 0..5 {
        for (service, subject) in queries {
            stack.kill(service);
            stack.service_mut(service).spawn().unwrap();
            // The first PING answer, then at once a query on an endpoint.
            let ping = format!("$SRV.PING.{}", service.name());
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while api.nats().request(ping.clone(), "".into()).await.is_err() {
                assert!(tokio::time::Instant::now() < deadline, "{service} never answered PING");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let reply = api.raw(subject, body.clone(), None).await;
            match reply.map(|r| r.api_error()) {
                Ok(Some(e)) if e.code == ErrorCode::NotFound => {}
                other => early.push(format!("round {round}: {service} {subject}: {other:?}")),
            }
            stack.service_mut(service).wait_ready(api.nats(), Duration::from_secs(20)).await.unwrap();
        }
    }
    assert!(early.is_empty(), "PING answered before the endpoints were served:\n{}", early.join("\n"));
}
