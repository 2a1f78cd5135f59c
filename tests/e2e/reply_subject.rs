//! The reply-subject attack (issue 16): a client sends an ordinary request whose *reply subject* is
//! an event subject, a dead-letter subject or the JetStream API, hoping the service publishes its
//! reply there and so writes into a stream. Every service endpoint, with every kind of client
//! identity, on the authenticated deployment; and the same on an open server, where only the
//! services' own check stands. Checked by its effect: no stream gains a message, and the conference
//! goes on.

use std::time::Duration;

use hoinghi_shared::api::{ConferenceRef, ConferenceStatus, PageQuery};
use hoinghi_shared::events::{AttendanceEvent, MinutesEvent, SchedulingEvent};
use hoinghi_shared::subjects::{attendance, events, minutes, scheduling};
use hoinghi_shared::{ConferenceId, SiteId};
use hoinghi_tests::secure::{Conn, SecureStack};
use hoinghi_tests::{flow, scenario, Service, Stack};

/// Reply subjects an attacker would choose: the last message of an aggregate, the roster-close fence,
/// the dead letters, the JetStream API.
fn hostile_replies(id: &ConferenceId, site: &SiteId, other: &SiteId) -> Vec<String> {
    vec![
        events::conference(Service::Scheduling, id, SchedulingEvent::SESSION_STARTED),
        events::conference_site(Service::Attendance, id, other, AttendanceEvent::SITE_CHECKED_IN),
        events::conference_site(Service::Attendance, id, site, AttendanceEvent::ATTENDANCE_CONFIRMED),
        events::conference(Service::Attendance, id, AttendanceEvent::ROSTER_CLOSED),
        events::conference(Service::Minutes, id, MinutesEvent::ITEM_RECORDED),
        "hoinghi.v1.dead.minutes-on-roster-closed".to_owned(),
        "hoinghi.v1.dead.attendance-on-scheduling".to_owned(),
        "$JS.API.STREAM.PURGE.HOINGHI_SCHEDULING".to_owned(),
        "$JS.API.STREAM.MSG.DELETE.HOINGHI_ATTENDANCE".to_owned(),
    ]
}

/// The identity of the scenario's person `id`.
fn person_identity(id: &str) -> String {
    hoinghi_shared::roles::person_identity(&scenario::person_id(id))
}

/// Every endpoint an identity may call, with a body that would succeed or be refused for its content.
fn endpoints(identity: &str, id: &ConferenceId, own: Option<&SiteId>) -> Vec<(String, Vec<u8>)> {
    let cref = serde_json::to_vec(&ConferenceRef { conference_id: *id }).unwrap();
    let page = serde_json::to_vec(&PageQuery::first(*id)).unwrap();
    // A site reads on its own subjects, everyone else on the shared ones.
    let mut list = match own {
        Some(site) => vec![
            (scheduling::site_command(site, scheduling::SITE_GET), cref.clone()),
            (scheduling::site_command(site, scheduling::SITE_ICS), cref.clone()),
            (minutes::site_command(site, minutes::SITE_GET), page.clone()),
        ],
        None => vec![(scheduling::GET.to_owned(), cref.clone()), (minutes::GET.to_owned(), page.clone())],
    };
    let (taker, chair) = (person_identity(scenario::MINUTE_TAKER), person_identity(scenario::CHAIR_PERSONS[0]));
    let identity = if identity == taker {
        "minute-taker"
    } else if identity == chair {
        "chair"
    } else {
        identity
    };
    match (identity, own) {
        ("secretariat", _) => {
            for subject in [scheduling::INVITE, scheduling::START, scheduling::END] {
                list.push((subject.to_owned(), cref.clone()));
            }
            list.push((scheduling::AUDIT.to_owned(), page.clone()));
            list.push((attendance::ROSTER.to_owned(), page.clone()));
            list.push((attendance::BOARD.to_owned(), page.clone()));
            let changes = serde_json::json!({"conference_id": id, "since": 0});
            list.push((attendance::BOARD_CHANGES.to_owned(), serde_json::to_vec(&changes).unwrap()));
            let cancel = serde_json::json!({"conference_id": id, "reason": "thử"});
            list.push((scheduling::CANCEL.to_owned(), serde_json::to_vec(&cancel).unwrap()));
            let site = serde_json::json!({"id": "xa-moi", "name": "Xã Mới"});
            list.push((scheduling::REGISTER_SITE.to_owned(), serde_json::to_vec(&site).unwrap()));
        }
        ("minute-taker", _) => {
            for action in [minutes::SUBMIT, minutes::PUBLISH] {
                list.push((flow::minute_taker_subject(action), cref.clone()));
            }
            let item = serde_json::json!({"conference_id": id, "item": 1, "summary": "Tóm tắt"});
            list.push((flow::minute_taker_subject(minutes::RECORD), serde_json::to_vec(&item).unwrap()));
        }
        ("chair", _) => {
            list.push((flow::chair_subject(0, minutes::APPROVE), cref.clone()));
            let changes = serde_json::json!({"conference_id": id, "comment": "Sửa"});
            list.push((flow::chair_subject(0, minutes::REQUEST_CHANGES), serde_json::to_vec(&changes).unwrap()));
        }
        (_, Some(site)) => {
            let confirm = serde_json::json!({
                "conference_id": id,
                "delegates": [{"name": "Hoàng Văn Hải", "title": "Bí thư"}],
                "headcount": 3,
            });
            list.push((attendance::site_command(site, attendance::CONFIRM), serde_json::to_vec(&confirm).unwrap()));
            let decline = serde_json::json!({"conference_id": id, "reason": "Mất điện"});
            list.push((attendance::site_command(site, attendance::DECLINE), serde_json::to_vec(&decline).unwrap()));
            list.push((attendance::site_command(site, attendance::CHECK_IN), cref.clone()));
            list.push((minutes::site_command(site, minutes::ACKNOWLEDGE), cref));
        }
        _ => {}
    }
    list
}

/// Sends every request of `who` with every hostile reply subject.
async fn attack(nats: &async_nats::Client, requests: &[(String, Vec<u8>)], replies: &[String]) -> usize {
    let mut sent = 0;
    for (subject, body) in requests {
        for reply in replies {
            nats.publish_with_reply(subject.clone(), reply.clone(), body.clone().into()).await.unwrap();
            sent += 1;
        }
    }
    nats.flush().await.unwrap();
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identity_writes_into_a_stream_through_a_reply_subject() {
    let stack = SecureStack::start(&scenario_sites()).await.expect("start the stack with authentication on");
    let secretariat = &stack.secretariat;
    let id = flow::schedule(&secretariat.api).await.unwrap();
    let (ba_be, na_ri) = (scenario::site("ba-be"), scenario::site("na-ri"));
    let outsider_site = scenario::site("xa-ngoai");

    let before = stack.event_totals().await.unwrap();
    let dead_before = stack.stream_messages("HOINGHI_DEAD_LETTERS").await.unwrap();
    let replies = hostile_replies(&id, &ba_be, &na_ri);
    let mut sent = 0;
    let (taker, chair) = (person_identity(scenario::MINUTE_TAKER), person_identity(scenario::CHAIR_PERSONS[0]));
    for (identity, site) in [
        ("secretariat", None),
        (taker.as_str(), None),
        (chair.as_str(), None),
        ("site-ba-be", Some(&ba_be)),
        ("site-xa-ngoai", Some(&outsider_site)),
    ] {
        let conn: Conn = stack.connect(identity).await.unwrap();
        sent += attack(conn.nats(), &endpoints(identity, &id, site), &replies).await;
    }
    assert!(sent > 100, "every endpoint with every hostile reply: {sent} requests");
    // Give the services time to (not) act on them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(stack.event_totals().await.unwrap(), before, "no stream gained a message");
    assert_eq!(stack.stream_messages("HOINGHI_DEAD_LETTERS").await.unwrap(), dead_before, "nor the dead letters");
    for service in Service::ALL {
        let log = stack.service_log(service);
        assert!(
            log.contains("reply subject is not an inbox"),
            "{service:?} should log the refused requests:\n{}",
            stack.logs(20)
        );
    }

    // The conference was not frozen: it runs to the end as usual.
    flow::invite(&secretariat.api, id).await.unwrap();
    for s in flow::present_sites() {
        let conn = stack.connect(&format!("site-{s}")).await.unwrap();
        flow::answer(&conn.api, id, &s).await.unwrap();
    }
    secretariat.api.start(id).await.unwrap();
    assert_eq!(secretariat.api.conference(id).await.unwrap().status, ConferenceStatus::InSession);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_open_server_the_services_still_answer_only_inboxes() {
    let stack = Stack::start().await.expect("start the stack");
    let api = &stack.api;
    let id = flow::schedule(api).await.unwrap();
    flow::invite(api, id).await.unwrap();
    let (ba_be, na_ri) = (scenario::site("ba-be"), scenario::site("na-ri"));
    let before = stack.event_totals().await.unwrap();
    let dead_before = stack.dead_letters().await.unwrap();
    let replies = hostile_replies(&id, &ba_be, &na_ri);
    let mut requests = endpoints("secretariat", &id, None);
    requests.extend(endpoints(&person_identity(scenario::MINUTE_TAKER), &id, None));
    requests.extend(endpoints(&person_identity(scenario::CHAIR_PERSONS[0]), &id, None));
    requests.extend(endpoints("site-ba-be", &id, Some(&ba_be)));
    // Also a request with no reply subject at all: not a request, nothing is done.
    let cancel = serde_json::json!({"conference_id": id, "reason": "không trả lời"});
    api.nats().publish(scheduling::CANCEL, serde_json::to_vec(&cancel).unwrap().into()).await.unwrap();
    attack(api.nats(), &requests, &replies).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(stack.event_totals().await.unwrap(), before, "no stream gained a message");
    assert_eq!(stack.dead_letters().await.unwrap(), dead_before, "nor the dead letters");
    assert_eq!(api.conference(id).await.unwrap().status, ConferenceStatus::Invited, "not cancelled, not started");
    flow::answer(api, id, &ba_be).await.unwrap();
    api.start(id).await.unwrap();
}

fn scenario_sites() -> Vec<&'static str> {
    crate::common::all_sites().into_iter().chain(["xa-ngoai"]).collect()
}
