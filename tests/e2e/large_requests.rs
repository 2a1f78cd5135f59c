//! Message sizes (issue 16): each subject takes a bounded body and refuses more with 413 before
//! parsing it; a burst of maximum-size messages never disconnects a service (no slow consumer) and
//! every one of them is answered.

use std::time::Duration;

use futures::future::join_all;
use hoinghi_shared::sizes::{self, max_request_bytes};
use hoinghi_shared::subjects::{attendance, minutes, scheduling};
use hoinghi_shared::ErrorCode;
use hoinghi_tests::{flow, scenario, Service};

use crate::common::{assert_refused_raw, stack, stack_at};

/// A JSON-looking body of exactly `len` bytes.
fn body_of(len: usize) -> Vec<u8> {
    let mut body = b"{\"conference_id\":\"".to_vec();
    body.resize(len - 2, b'a');
    body.extend_from_slice(b"\"}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_larger_than_its_subject_takes_is_refused_before_it_is_read() {
    let stack = stack().await;
    let api = &stack.api;
    let site = scenario::site("ba-be");
    let confirm = attendance::site_command(&site, attendance::CONFIRM);
    let record = flow::minute_taker_subject(minutes::RECORD);
    for subject in [scheduling::GET, scheduling::CREATE, confirm.as_str(), record.as_str(), attendance::ROSTER] {
        let limit = max_request_bytes(subject);
        let reply = api.raw(subject, body_of(limit + 1), None).await;
        let error = assert_refused_raw(subject, reply, ErrorCode::TooLarge, &["bytes", &limit.to_string()]);
        assert!(error.message.contains(&(limit + 1).to_string()), "{subject}: names the size sent: {error:?}");
        // At the limit the body is read (and refused for its content, not its size).
        let reply = api.raw(subject, body_of(limit), None).await.unwrap();
        assert_ne!(reply.status, Some(413), "{subject}: a body of exactly the limit is read");
    }
    assert_eq!(stack.event_totals().await.unwrap(), [0, 0, 0], "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_maximum_size_requests_never_disconnects_a_service() {
    let (stack, id) = stack_at(flow::invited).await;
    let api = &stack.api;
    // Just under the server's max_payload: the largest message a client can send at all.
    let huge = body_of(sizes::SERVER_MAX_PAYLOAD - 8 * 1024);
    let site = scenario::site("ba-be");
    let confirm = attendance::site_command(&site, attendance::CONFIRM);
    let record = flow::minute_taker_subject(minutes::RECORD);
    let mut requests = Vec::new();
    // 24 of them at once, 16 on one subject: twice nats-server's default 64 MB pending buffer for
    // one connection, the burst that made the server cut a service as a slow consumer before (and,
    // with the buffer at 64 MB, still did when the service was starved of CPU; hoinghi's servers
    // buffer 256 MB, shared/src/sizes.rs).
    for _ in 0..16 {
        requests.push(api.raw(scheduling::CREATE, huge.clone(), None));
    }
    for _ in 0..4 {
        requests.push(api.raw(&confirm, huge.clone(), None));
        requests.push(api.raw(&record, huge.clone(), None));
    }
    let started = std::time::Instant::now();
    let replies = join_all(requests).await;
    let unanswered: Vec<String> = replies
        .iter()
        .filter_map(|r| match r {
            Ok(reply) if reply.status == Some(413) => None,
            Ok(reply) => Some(format!("status {:?}", reply.status)),
            Err(e) => Some(e.to_string()),
        })
        .collect();
    assert!(unanswered.is_empty(), "every request is answered 413 (took {:?}): {unanswered:?}", started.elapsed());

    // No service lost its connection, and each still works.
    let server_log = std::fs::read_to_string(stack.server.log_path()).unwrap_or_default();
    assert!(!server_log.contains("Slow Consumer"), "the server cut a slow consumer:\n{}", stack.server.log_tail(30));
    for service in Service::ALL {
        let log = std::fs::read_to_string(stack.service(service).log_path()).unwrap_or_default();
        assert!(!log.contains("disconnected from NATS"), "{service:?} was disconnected:\n{}", stack.logs(20));
    }
    flow::answer(api, id, &site).await.unwrap();
    let roster = tokio::time::timeout(Duration::from_secs(10), api.roster(id)).await.unwrap().unwrap();
    assert_eq!(roster.counts.confirmed, 1);
}
