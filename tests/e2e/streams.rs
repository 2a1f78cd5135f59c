//! Stream settings are checked at start: a stream that already exists with settings under which
//! events could be lost, expired or refused stops every service at once, with one error naming each
//! difference (expected against found) and how to fix it; harmless differences are fixed or kept
//! with a warning; a reaction's durable consumer with other filters or acks is created again.

use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use hoinghi_shared::events::{EventEnvelope, SchedulingEvent};
use hoinghi_shared::streams::{StreamDef, ATTENDANCE, SCHEDULING};
use hoinghi_shared::subjects::events;
use hoinghi_tests::{flow, scenario, service, NatsServer, Service, Stack, READY_TIMEOUT};

/// How long a service may take to refuse to start.
const PROMPTLY: Duration = Duration::from_secs(10);

/// A stream as the services create it.
fn fit(def: StreamDef) -> stream::Config {
    stream::Config {
        name: def.name.to_owned(),
        subjects: def.subjects.iter().map(|s| (*s).to_owned()).collect(),
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        allow_direct: true,
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    }
}

/// Runs a service binary against `server` until it exits (killed after `timeout`); returns how it
/// exited, its output, and how long it ran.
fn run_to_exit(service: Service, server: &NatsServer, timeout: Duration) -> (Option<ExitStatus>, String, Duration) {
    let log = server.dir().join(format!("{}-refused.log", service.name()));
    let out = std::fs::File::create(&log).unwrap();
    let started = Instant::now();
    let mut child = Command::new(service::binary(service).unwrap())
        .env("HOINGHI__NATS__URL", server.url())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("HOINGHI_CONFIG")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&log).unwrap(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_that_could_lose_events_stop_every_service_at_once_naming_each_difference() {
    let server = NatsServer::start().await.unwrap();
    let js = jetstream::new(async_nats::connect(server.url()).await.unwrap());
    // The setup: scheduling in memory, events expiring after 60 s, one message per
    // subject, purges allowed; attendance on other subjects.
    js.create_stream(stream::Config {
        storage: stream::StorageType::Memory,
        max_age: Duration::from_secs(60),
        duplicate_window: Duration::from_secs(60),
        max_messages_per_subject: 1,
        deny_purge: false,
        ..fit(SCHEDULING)
    })
    .await
    .unwrap();
    js.create_stream(stream::Config { subjects: vec!["hoinghi.v1.other.attendance.>".into()], ..fit(ATTENDANCE) })
        .await
        .unwrap();

    for service in Service::ALL {
        let (status, output, ran) = run_to_exit(service, &server, Duration::from_secs(60));
        let status = status.unwrap_or_else(|| panic!("{service} still running after 60 s; output:\n{output}"));
        assert!(!status.success(), "{service} must exit with an error, exited {status}; output:\n{output}");
        assert!(ran < PROMPTLY, "{service} refused only after {ran:?}");
        for expected in [
            "stream HOINGHI_SCHEDULING:",
            "storage: expected file, found memory",
            "max_age: expected unlimited (0), found 60s",
            "max_msgs_per_subject: expected unlimited (-1), found 1",
            "deny_purge: expected true, found false",
            "nats stream edit HOINGHI_SCHEDULING --deny-purge",
            "stream HOINGHI_ATTENDANCE:",
            "subjects: expected [hoinghi.v1.events.attendance.>], found [hoinghi.v1.other.attendance.>]",
        ] {
            assert!(output.contains(expected), "{service}: the error should say {expected:?}; output:\n{output}");
        }
        assert!(!output.contains("ready_ms"), "{service} must not have served; output:\n{output}");
        println!("streams: {service} refused to start after {ran:.1?} ({status})");
    }
    // The streams were left as they were: the services neither used nor "repaired" them.
    let scheduling = js.get_stream(SCHEDULING.name).await.unwrap().cached_info().clone();
    assert_eq!(scheduling.config.storage, stream::StorageType::Memory);
    assert_eq!(scheduling.config.max_age, Duration::from_secs(60));
    assert_eq!(scheduling.state.messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harmless_differences_are_fixed_or_kept_and_a_reaction_consumer_with_other_settings_is_recreated() {
    let mut stack = Stack::start_with(&[]).await.unwrap();
    let js = stack.jetstream();
    // Scheduling's stream fit for the log, but with direct gets off and a 10 s duplicate window.
    js.create_stream(stream::Config {
        allow_direct: false,
        duplicate_window: Duration::from_secs(10),
        ..fit(SCHEDULING)
    })
    .await
    .unwrap();
    // The minutes' durable consumer already there, on every attendance event and without acks.
    let attendance = js.create_stream(fit(ATTENDANCE)).await.unwrap();
    attendance
        .create_consumer(consumer::pull::Config {
            durable_name: Some("minutes-on-roster-closed".into()),
            filter_subject: "hoinghi.v1.events.attendance.>".into(),
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();

    for s in Service::ALL {
        stack.start_service(s).await.unwrap();
    }
    let id = flow::run_to_draft(&stack.api).await.expect("the flow reaches the draft");
    flow::write_and_publish(&stack.api, id).await.unwrap();
    stack.wait_for_reactions(hoinghi_tests::ASYNC_TIMEOUT).await.unwrap();
    assert_eq!(stack.dead_letters().await.unwrap(), 0);

    let scheduling = js.get_stream(SCHEDULING.name).await.unwrap().cached_info().config.clone();
    assert!(scheduling.allow_direct, "direct gets were turned on");
    assert_eq!(scheduling.duplicate_window, Duration::from_secs(10), "the duplicate window was kept");
    let log = std::fs::read_to_string(stack.service(Service::Scheduling).log_path()).unwrap();
    assert!(log.lines().any(|l| l.contains("updating it") && l.contains("allow_direct")), "{log}");
    assert!(log.lines().any(|l| l.contains("kept") && l.contains("duplicate_window")), "{log}");

    let consumer = attendance.consumer_info("minutes-on-roster-closed").await.unwrap().config;
    let mut filters = consumer.filter_subjects.clone();
    if !consumer.filter_subject.is_empty() {
        filters.push(consumer.filter_subject.clone());
    }
    assert_eq!(filters, vec!["hoinghi.v1.events.attendance.*.roster_closed".to_owned()]);
    assert_eq!(consumer.ack_policy, consumer::AckPolicy::Explicit);
    let log = std::fs::read_to_string(stack.service(Service::Minutes).log_path()).unwrap();
    let line = log.lines().find(|l| l.contains("exists with other settings")).unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains("filter_subjects") && line.contains("ack_policy: expected explicit, found none"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_missing_messages_is_replayed_from_its_first_sequence_without_waiting_for_them() {
    let mut stack = Stack::start_with(&[]).await.unwrap();
    let js = stack.jetstream();
    // Six site registrations, then the first, the fourth and the last deleted (as expiry or an
    // operator would have removed them before deletes were denied).
    let mut config = fit(SCHEDULING);
    config.deny_delete = false;
    let stream = js.create_stream(config.clone()).await.unwrap();
    let registrations: Vec<_> = scenario::registrations().into_iter().take(6).collect();
    for r in &registrations {
        let event = SchedulingEvent::SiteRegistered { site_id: r.id.clone(), name: r.name.clone() };
        let envelope = serde_json::to_vec(&EventEnvelope::new(&event, "secretariat")).unwrap();
        js.publish(events::site(&r.id, SchedulingEvent::SITE_REGISTERED), envelope.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    for seq in [1, 4, 6] {
        assert!(stream.delete_message(seq).await.unwrap());
    }
    config.deny_delete = true;
    js.update_stream(config).await.unwrap();

    // The service starts at once (it used to wait for the missing sequences until its 300 s bound).
    let started = Instant::now();
    stack.start_service(Service::Scheduling).await.unwrap();
    assert!(started.elapsed() < READY_TIMEOUT);
    let log = std::fs::read_to_string(stack.service(Service::Scheduling).log_path()).unwrap();
    assert!(log.contains("no longer holds"), "the gaps are reported; log:\n{log}");

    // The three registrations it read are known (registering again writes nothing); the three
    // that are gone are written again.
    let before = stack.stream_messages(SCHEDULING.name).await.unwrap();
    for r in &registrations {
        stack.api.register_site(&r.id, &r.name).await.unwrap();
    }
    assert_eq!(stack.stream_messages(SCHEDULING.name).await.unwrap(), before + 3);
    println!("streams: replayed a stream missing 3 of 6 messages and was ready after {:.1?}", started.elapsed());
}
