//! Authentication on: each role can do its part and nothing more, enforced by the NATS server with
//! the permissions `hoinghi admin` signs into each identity's user JWT; every refusal is checked by its real effect
//! (nothing changed in the roster, the minutes or the streams), not only by an error.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hoinghi_shared::api::{
    ApproveMinutes, AttendanceStatus, AuditTrail, ConferenceRef, ConferenceStatus, MinutesStatus, PageQuery,
};
use hoinghi_shared::events::{AttendanceEvent, EventEnvelope, MinutesEvent, SchedulingEvent};
use hoinghi_shared::subjects::{attendance, events, minutes, scheduling};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::secure::{Attempt, Conn, SecureStack};
use hoinghi_tests::{flow, scenario, Service};

use crate::common::{all_sites, assert_refused, secure_stack};

fn site(id: &str) -> SiteId {
    scenario::site(id)
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// Sends a request the server must refuse, and checks it did (with its report naming the subject).
#[track_caller]
fn assert_server_refused(who: &Conn, subject: &str, attempt: Attempt) {
    match attempt {
        Attempt::Refused(report) => {
            assert!(report.contains(subject), "{}: the refusal should name {subject}: {report}", who.identity)
        }
        other => panic!("{} publishing to {subject}: expected the server to refuse it, got {other:?}", who.identity),
    }
}

async fn refused(who: &Conn, subject: &str, body: Vec<u8>) {
    let attempt = who.attempt(subject, body).await;
    assert_server_refused(who, subject, attempt);
}

/// The public key of an identity as the deployment lists it.
fn public_key(stack: &SecureStack, identity: &str) -> String {
    stack.public_key(identity).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_its_part_and_nothing_more() {
    let stack = secure_stack().await;
    let secretariat = &stack.secretariat;
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let na_ri = stack.connect("site-na-ri").await.unwrap();
    // The minute-taker and the two co-chairs, each a person of their own.
    let person = |id: &str| format!("person-{id}");
    let taker = stack.connect(&person(scenario::MINUTE_TAKER)).await.unwrap();
    let chair = stack.connect(&person(scenario::CHAIR_PERSONS[0])).await.unwrap();
    let co_chair = stack.connect(&person(scenario::CHAIR_PERSONS[1])).await.unwrap();
    let (thanh, dien) =
        (scenario::person_id(scenario::CHAIR_PERSONS[0]), scenario::person_id(scenario::CHAIR_PERSONS[1]));
    let taker_id = scenario::person_id(scenario::MINUTE_TAKER);
    let (s_ba_be, s_na_ri) = (site("ba-be"), site("na-ri"));

    // The secretariat registers the sites, schedules and invites.
    let id = flow::schedule(&secretariat.api).await.unwrap();
    let cref = json(&ConferenceRef { conference_id: id });
    flow::invite(&secretariat.api, id).await.unwrap();

    // No one else may run the conference: a site and the minute-taker cannot cancel it.
    let cancel = json(&serde_json::json!({"conference_id": id, "reason": "giả mạo"}));
    refused(&ba_be, scheduling::CANCEL, cancel.clone()).await;
    refused(&taker, scheduling::CANCEL, cancel).await;
    refused(&chair, scheduling::START, cref.clone()).await;
    assert_eq!(secretariat.api.conference(id).await.unwrap().status, ConferenceStatus::Invited, "still invited");

    // Ba Bể confirms for itself.
    flow::answer(&ba_be.api, id, &s_ba_be).await.unwrap();
    let totals = stack.event_totals().await.unwrap();

    // Ba Bể may not confirm, decline or check in for Na Rì: the server drops the request.
    let forged = scenario::confirmation(id, &s_ba_be).unwrap();
    refused(&ba_be, &attendance::site_command(&s_na_ri, attendance::CONFIRM), json(&forged)).await;
    let decline = json(&serde_json::json!({"conference_id": id, "reason": "giả mạo"}));
    refused(&ba_be, &attendance::site_command(&s_na_ri, attendance::DECLINE), decline).await;
    refused(&ba_be, &attendance::site_command(&s_na_ri, attendance::CHECK_IN), cref.clone()).await;
    // Nor read the roster (the secretariat's).
    refused(&ba_be, attendance::ROSTER, cref.clone()).await;
    let roster = secretariat.api.roster(id).await.unwrap();
    let line = roster.sites.iter().find(|l| l.site_id == s_na_ri).unwrap();
    assert_eq!(line.status, AttendanceStatus::Invited, "Na Rì's line is untouched: {line:?}");
    let na_ri_events = events::conference_site_filter(Service::Attendance, &id, &s_na_ri);
    assert_eq!(stack.count_events("HOINGHI_ATTENDANCE", &na_ri_events).await.unwrap(), 0, "no event for Na Rì");
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no event was written");

    // Ba Bể may not read Na Rì's replies: subscriptions outside its own inbox are refused…
    let mut spy = ba_be.nats().subscribe("_INBOX.site-na-ri.>").await.unwrap();
    let mut wide = ba_be.nats().subscribe("_INBOX.>").await.unwrap();
    let mut requests = ba_be.nats().subscribe("hoinghi.v1.>").await.unwrap();
    ba_be.nats().flush().await.unwrap();
    for subject in ["_INBOX.site-na-ri.>", "_INBOX.>", "hoinghi.v1.>"] {
        let report = ba_be.wait_report(&format!("Subscription to \"{subject}\""), Duration::from_secs(5)).await;
        assert!(report.is_ok(), "{report:?}");
    }
    // …so when Na Rì confirms, Ba Bể sees neither the request nor the reply.
    flow::answer(&na_ri.api, id, &s_na_ri).await.unwrap();
    let na_ri_line = secretariat.api.roster(id).await.unwrap();
    assert!(na_ri_line.sites.iter().any(|l| l.site_id == s_na_ri && l.status == AttendanceStatus::Confirmed));
    for sub in [&mut spy, &mut wide, &mut requests] {
        let got = tokio::time::timeout(Duration::from_millis(500), sub.next()).await;
        assert!(!matches!(got, Ok(Some(_))), "Ba Bể received someone else's message: {got:?}");
    }
    // And it cannot borrow Na Rì's inbox prefix: its requests then get no reply at all.
    let borrowed = stack.connect_with_inbox("site-ba-be", "_INBOX.site-na-ri").await.unwrap();
    let own_read = scheduling::site_command(&site("ba-be"), scheduling::SITE_GET);
    let attempt = borrowed.attempt(&own_read, cref.clone()).await;
    assert!(matches!(attempt, Attempt::Nothing(_)), "no reply may reach a borrowed inbox: {attempt:?}");
    assert!(borrowed.wait_report("Subscription to \"_INBOX.site-na-ri", Duration::from_secs(5)).await.is_ok());

    // No client may write into the event streams or use the JetStream API.
    let totals = stack.event_totals().await.unwrap();
    let mut envelope = EventEnvelope::new(
        &hoinghi_shared::events::AttendanceEvent::SiteCheckedIn {},
        format!("site:{}", s_na_ri.as_str()),
    );
    envelope.conference_id = Some(id);
    envelope.site_id = Some(s_na_ri.clone());
    let forged_event = json(&envelope);
    let event_subject = events::conference_site(Service::Attendance, &id, &s_na_ri, AttendanceEvent::SITE_CHECKED_IN);
    for who in [&ba_be, secretariat, &taker, &chair] {
        refused(who, &event_subject, forged_event.clone()).await;
        refused(who, "$JS.API.STREAM.PURGE.HOINGHI_ATTENDANCE", Vec::new()).await;
        refused(who, "$JS.API.STREAM.DELETE.HOINGHI_MINUTES", Vec::new()).await;
        refused(who, "$JS.API.CONSUMER.CREATE.HOINGHI_ATTENDANCE", Vec::new()).await;
        refused(who, "hoinghi.v1.dead.attendance-on-scheduling", forged_event.clone()).await;
    }
    // Nor may one service write into another's stream.
    let attendance_service = stack.connect("service-attendance").await.unwrap();
    let cancelled = events::conference(Service::Scheduling, &id, SchedulingEvent::CONFERENCE_CANCELLED);
    refused(&attendance_service, &cancelled, forged_event.clone()).await;
    // And no service may delete or purge a stream, though it uses the JetStream API.
    refused(&attendance_service, "$JS.API.STREAM.DELETE.HOINGHI_SCHEDULING", Vec::new()).await;
    refused(&attendance_service, "$JS.API.STREAM.PURGE.HOINGHI_ATTENDANCE", Vec::new()).await;
    assert_eq!(stack.event_totals().await.unwrap(), totals, "the streams are unchanged");
    let line = secretariat.api.roster(id).await.unwrap();
    assert!(
        line.sites.iter().any(|l| l.site_id == s_na_ri && l.status == AttendanceStatus::Confirmed),
        "the forged check-in had no effect"
    );

    // The session runs; the minute-taker writes and submits.
    for s in flow::present_sites() {
        if s != s_ba_be && s != s_na_ri {
            flow::answer(&stack.connect(&format!("site-{s}")).await.unwrap().api, id, &s).await.unwrap();
        }
    }
    secretariat.api.start(id).await.unwrap();
    for s in flow::present_sites() {
        let conn = stack.connect(&format!("site-{s}")).await.unwrap();
        conn.api.check_in(&s, id).await.unwrap();
    }
    secretariat.api.end(id).await.unwrap();
    flow::wait_draft(&taker.api, id).await.unwrap();
    // The chair may not write the minutes: not on the minute-taker's subject (the server refuses),
    // and on their own the minutes service answers that they are no minute-taker of it.
    let item = scenario::records(id).into_iter().next().unwrap();
    refused(&chair, &minutes::person_command(&taker_id, minutes::RECORD), json(&item)).await;
    assert_refused("a chair records", chair.api.record(&item).await, ErrorCode::Forbidden, &["not a minute-taker"]);
    flow::record_all(&taker.api, id).await.unwrap();
    taker.api.submit(id).await.unwrap();

    // A district point, the secretariat, the minute-taker and the other co-chair may not approve as
    // Thanh: only her identity may publish on her subjects.
    let minutes_before = stack.stream_messages("HOINGHI_MINUTES").await.unwrap();
    let approve = json(&ApproveMinutes { conference_id: id });
    let as_thanh = minutes::person_command(&thanh, minutes::APPROVE);
    for who in [&ba_be, secretariat, &taker, &co_chair] {
        refused(who, &as_thanh, approve.clone()).await;
    }
    // The minute-taker approving on their own subject: the service says they chair nothing here.
    assert_refused("the minute-taker approves", taker.api.approve(id).await, ErrorCode::Forbidden, &["not a chair"]);
    assert_eq!(taker.api.minutes(id).await.unwrap().status, MinutesStatus::Submitted, "still waiting for a chair");
    assert_eq!(stack.stream_messages("HOINGHI_MINUTES").await.unwrap(), minutes_before, "no event");

    // The chair approves as herself, in the name the conference binds to her.
    let approved = chair.api.approve(id).await.unwrap();
    assert_eq!(approved.status, MinutesStatus::Submitted, "the other co-chair has not approved yet");
    assert_eq!(approved.approved_by.as_deref(), Some(scenario::APPROVER));
    // The event records the authenticated person as the actor, and their chair's name and id.
    let js = stack.operator().await.unwrap();
    let approval_subject = events::conference(Service::Minutes, &id, MinutesEvent::MINUTES_APPROVED);
    let raw = js
        .get_stream("HOINGHI_MINUTES")
        .await
        .unwrap()
        .get_last_raw_message_by_subject(&approval_subject)
        .await
        .unwrap();
    let envelope = EventEnvelope::from_slice(&raw.payload).unwrap();
    assert_eq!(envelope.actor, format!("person:{thanh}"));
    assert_eq!(envelope.data_value()["approved_by"], scenario::APPROVER);
    assert_eq!(envelope.data_value()["person_id"], thanh.as_str());
    // Only Điền may send the minutes back or approve as Điền.
    let changes = json(&hoinghi_shared::api::RequestChanges { conference_id: id, comment: "Sửa".to_owned() });
    for who in [&ba_be, secretariat, &taker, &chair] {
        refused(who, &minutes::person_command(&dien, minutes::REQUEST_CHANGES), changes.clone()).await;
        refused(who, &minutes::person_command(&dien, minutes::APPROVE), approve.clone()).await;
    }
    assert_eq!(co_chair.api.approve(id).await.unwrap().status, MinutesStatus::Approved);

    // The minute-taker publishes; each site acknowledges only for itself.
    let published = taker.api.publish(id).await.unwrap();
    assert_eq!(published.status, MinutesStatus::Published);
    refused(&ba_be, &minutes::site_command(&s_na_ri, minutes::ACKNOWLEDGE), cref.clone()).await;
    ba_be.api.acknowledge(&s_ba_be, id).await.unwrap();
    let view = ba_be.api.minutes(id).await.unwrap();
    assert_eq!(view.acknowledgements.iter().map(|a| a.site_id.clone()).collect::<Vec<_>>(), vec![s_ba_be.clone()]);
    flow::wait_status(&secretariat.api, id, ConferenceStatus::Closed).await.unwrap();

    // The audit trail: only the secretariat may read it…
    let query = json(&PageQuery::first(id));
    refused(&ba_be, scheduling::AUDIT, query.clone()).await;
    refused(&chair, scheduling::AUDIT, query).await;
    let trail: AuditTrail = secretariat.api.request(scheduling::AUDIT, &PageQuery::first(id)).await.unwrap();
    // …and lists every event about the conference, in time order, with who caused it.
    let mut expected_total = 0;
    for (stream, service) in [
        ("HOINGHI_SCHEDULING", Service::Scheduling),
        ("HOINGHI_ATTENDANCE", Service::Attendance),
        ("HOINGHI_MINUTES", Service::Minutes),
    ] {
        expected_total += stack.count_events(stream, &events::conference_all(service, &id)).await.unwrap();
    }
    assert_eq!(trail.total, expected_total, "one entry per event in the three streams");
    assert_eq!(trail.entries.len(), expected_total);
    assert!(trail.entries.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at), "time order");
    let actor_of = |event_type: &str| -> Vec<String> {
        trail.entries.iter().filter(|e| e.event_type == event_type).map(|e| e.actor.clone()).collect()
    };
    assert_eq!(actor_of(SchedulingEvent::CONFERENCE_SCHEDULED), vec!["secretariat"]);
    assert_eq!(actor_of(SchedulingEvent::INVITATIONS_ISSUED), vec!["secretariat"]);
    assert_eq!(actor_of(AttendanceEvent::ROSTER_OPENED), vec!["service:attendance"]);
    assert_eq!(actor_of(MinutesEvent::DRAFT_OPENED), vec!["service:minutes"]);
    assert_eq!(
        actor_of(MinutesEvent::MINUTES_APPROVED),
        vec![format!("person:{thanh}"), format!("person:{dien}")],
        "both co-chairs approved, each as themself"
    );
    assert_eq!(actor_of(MinutesEvent::MINUTES_PUBLISHED), vec![format!("person:{taker_id}")]);
    assert_eq!(actor_of(SchedulingEvent::CONFERENCE_CLOSED), vec!["service:scheduling"]);
    assert!(actor_of(MinutesEvent::ITEM_RECORDED).iter().all(|a| *a == format!("person:{taker_id}")));
    for entry in trail.entries.iter().filter(|e| e.site_id.is_some()) {
        let site = entry.site_id.as_ref().unwrap();
        assert_eq!(entry.actor, format!("site:{site}"), "a site's event is caused by that site only: {entry:?}");
    }
    assert!(
        trail.entries.iter().any(|e| e.event_type == AttendanceEvent::ATTENDANCE_CONFIRMED && e.actor == "site:na-ri"),
        "Na Rì's own confirmation is there"
    );
    // Paging.
    let page: AuditTrail = secretariat
        .api
        .request(scheduling::AUDIT, &PageQuery { conference_id: id, offset: 3, limit: 5 })
        .await
        .unwrap();
    assert_eq!((page.total, page.offset), (trail.total, 3));
    assert_eq!(page.entries, trail.entries[3..8].to_vec());

    // The services needed no more than their own permissions for the whole flow.
    for s in Service::ALL {
        let log = stack.service_log(s);
        assert!(!log.contains("permission violation"), "{s} was refused something:\n{log}");
    }
    // And the server logged the refusals, naming the identity's key and the subject.
    let log = stack.server_log();
    let key = public_key(&stack, "site-ba-be");
    assert!(
        log.lines().any(|l| l.contains(&key) && l.contains("Publish Violation") && l.contains(&as_thanh)),
        "the server log should name Ba Bể's key and the approval subject:\n{}",
        log.lines().filter(|l| l.contains("Violation")).collect::<Vec<_>>().join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_site_is_refused_and_no_other_key_changes() {
    let stack = secure_stack().await;
    let secretariat = &stack.secretariat;
    let (s_ba_be, s_na_ri) = (site("ba-be"), site("na-ri"));
    let id = flow::schedule(&secretariat.api).await.unwrap();
    flow::invite(&secretariat.api, id).await.unwrap();
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let na_ri = stack.connect("site-na-ri").await.unwrap();
    // A copy of its credentials, as a holder might keep.
    let old_creds = stack.creds_dir().join("kept-site-na-ri.creds");
    std::fs::copy(stack.creds("site-na-ri"), &old_creds).unwrap();
    let before = stack.identities().unwrap();

    // Revoke Na Rì while the server runs: the account JWT with the revocation is pushed, no reload.
    let revoked_at = Instant::now();
    stack.revoke("site-na-ri").await.unwrap();
    let mut expected = before.clone();
    expected.remove("site-na-ri");
    assert_eq!(stack.identities().unwrap(), expected, "every other key is unchanged");
    assert!(!stack.creds("site-na-ri").exists(), "its credentials file is gone");

    // Its open connection is cut within a second, and its key no longer connects.
    let cut = na_ri.wait_report("disconnected", Duration::from_secs(10)).await;
    assert!(cut.is_ok(), "the revoked site's connection should be closed: {cut:?}");
    assert!(revoked_at.elapsed() < Duration::from_secs(1), "cut after {:?}", revoked_at.elapsed());
    let refused = stack.connect_with_creds("site-na-ri", &old_creds).await;
    assert!(refused.is_err(), "the revoked key must not connect");
    // Whatever it sends has no effect.
    let confirm = scenario::confirmation(id, &s_na_ri).unwrap();
    assert!(na_ri.api.confirm(&s_na_ri, &confirm).await.is_err());
    let roster = secretariat.api.roster(id).await.unwrap();
    assert_eq!(roster.sites.iter().find(|l| l.site_id == s_na_ri).unwrap().status, AttendanceStatus::Invited);
    let na_ri_events = events::conference_site_filter(Service::Attendance, &id, &s_na_ri);
    assert_eq!(stack.count_events("HOINGHI_ATTENDANCE", &na_ri_events).await.unwrap(), 0);

    // The other sites carry on, on their open connections and on new ones.
    flow::answer(&ba_be.api, id, &s_ba_be).await.unwrap();
    let cho_moi = stack.connect("site-cho-moi").await.unwrap();
    flow::answer(&cho_moi.api, id, &site("cho-moi")).await.unwrap();

    // Re-admitted with a new key (add-site, no reload), the old key stays refused and the new one works.
    stack.add_site("na-ri").unwrap();
    assert_ne!(stack.public_key("site-na-ri").unwrap(), before["site-na-ri"], "a new key");
    let na_ri = stack.connect("site-na-ri").await.unwrap();
    assert!(stack.connect_with_creds("site-na-ri", &old_creds).await.is_err(), "the old key stays refused");
    flow::answer(&na_ri.api, id, &s_na_ri).await.unwrap();
    let roster = secretariat.api.roster(id).await.unwrap();
    assert_eq!(roster.sites.iter().find(|l| l.site_id == s_na_ri).unwrap().status, AttendanceStatus::Confirmed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_a_refusal_at_once() {
    // No service is needed: the server refuses the publish itself.
    let stack = SecureStack::start_with(&["ba-be", "na-ri"], false, &[]).await.unwrap();
    let cli = hoinghi_tests::service::bin_dir().unwrap().join("hoinghi");
    assert!(cli.is_file(), "{} missing: run cargo build --workspace --bins", cli.display());
    let id = ConferenceId::generate().to_string();
    let creds = stack.creds("site-ba-be").display().to_string();
    let run = |args: &[&str]| {
        let started = Instant::now();
        let out = std::process::Command::new(&cli)
            .args(["--nats-url", &stack.url(), "--creds", &creds, "--timeout", "30"])
            .args(args)
            .env_remove("HOINGHI__NATS__IDENTITY")
            .output()
            .unwrap();
        (out, started.elapsed())
    };

    // A site sends a command that is no site's (a refusal the server makes).
    let (out, took) = run(&["conference", "start", &id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "starting a conference must fail: {stderr}");
    assert!(
        stderr.contains(
            "permission denied: identity site-ba-be may not publish to hoinghi.v1.scheduling.conferences.start"
        ),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "it failed at once, not after the 30 s timeout: {took:?}");
    let log = stack.server_log();
    let key = public_key(&stack, "site-ba-be");
    assert!(
        log.lines().any(|l| l.contains(&key) && l.contains("Publish Violation") && l.contains(scheduling::START)),
        "the server logs the refusal:\n{log}"
    );

    // Acting for another site with one's own key: the reply inbox is refused, also at once.
    let (out, took) = run(&["--identity", "site-na-ri", "conference", "get", &id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("permission denied: identity site-na-ri may not subscribe to _INBOX.site-na-ri"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_runs_over_tls_and_refuses_plain_connections() {
    let stack = SecureStack::start_tls(&all_sites()).await.expect("start the stack with TLS and authentication");
    let secretariat = &stack.secretariat;
    // The services talk to the server over TLS: the cross-service chain works.
    let id = flow::schedule(&secretariat.api).await.unwrap();
    let roster = flow::invite(&secretariat.api, id).await.unwrap();
    assert_eq!(roster.counts.invited, scenario::SITES.len());
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    flow::answer(&ba_be.api, id, &site("ba-be")).await.unwrap();

    // A client with valid credentials but without TLS is refused.
    let plain = async_nats::ConnectOptions::with_credentials_file(stack.creds("secretariat"))
        .await
        .unwrap()
        .custom_inbox_prefix("_INBOX.secretariat")
        .connection_timeout(Duration::from_secs(3))
        .connect(stack.url())
        .await;
    assert!(plain.is_err(), "a plain-text connection must be refused");
    // And a TLS client that does not trust the deployment's CA is refused too.
    let untrusted = async_nats::ConnectOptions::with_credentials_file(stack.creds("site-ba-be"))
        .await
        .unwrap()
        .require_tls(true)
        .connection_timeout(Duration::from_secs(3))
        .connect(stack.url())
        .await;
    assert!(untrusted.is_err(), "a server certificate from an unknown CA must not be accepted");
}
