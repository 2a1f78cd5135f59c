//! Persons and sites at national scale (issue 12): every chair and minute-taker is a person with an
//! identity of their own, who acts only in the parts a conference binds them to; a site reads only
//! the conferences (and their invitations and minutes) it is part of.
//!
//! The open stack checks the services' rules (a site not part of a conference gets exactly the 404 of
//! an unknown one); the authenticated stack checks them with the server's permissions and the
//! persons' own credentials.

use hoinghi_shared::api::{ConferenceRef, GetMinutes, MinutesStatus, PageQuery};
use hoinghi_shared::events::{EventEnvelope, MinutesEvent};
use hoinghi_shared::subjects::{attendance, events, minutes, scheduling};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::secure::{Attempt, Conn};
use hoinghi_tests::{flow, scenario, Api, Service};

use crate::common::{all_sites, assert_refused, assert_refused_raw, secure_stack, stack_at};

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// `who` publishing `body` on `subject` is refused by the server itself.
#[track_caller]
fn server_refused(who: &Conn, subject: &str, attempt: Attempt) {
    match attempt {
        Attempt::Refused(report) => assert!(report.contains(subject), "{}: {report}", who.identity),
        other => panic!("{} publishing to {subject}: expected the server to refuse it, got {other:?}", who.identity),
    }
}

/// The error a site gets reading `conference` on its per-site subjects: the conference, its
/// invitation, its minutes.
async fn site_reads(api: &Api, site: &SiteId, conference: ConferenceId) -> [Result<u16, String>; 3] {
    let cref = json(&ConferenceRef { conference_id: conference });
    let page = json(&GetMinutes::from(PageQuery::first(conference)));
    let subjects = [
        (scheduling::site_command(site, scheduling::SITE_GET), cref.clone()),
        (scheduling::site_command(site, scheduling::SITE_ICS), cref),
        (minutes::site_command(site, minutes::SITE_GET), page),
    ];
    let mut out = [Ok(0), Ok(0), Ok(0)];
    for (slot, (subject, body)) in out.iter_mut().zip(subjects) {
        let reply = api.raw(&subject, body, None).await.unwrap();
        *slot = match reply.status {
            None => Ok(200),
            Some(status) => Err(format!("{status} {}", reply.api_error().map(|e| e.message).unwrap_or_default())),
        };
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_reads_only_the_conferences_it_is_part_of_and_others_look_unknown() {
    // Given the Bắc Kạn conference with its minutes drafted, and a registered site it does not link
    let (stack, id) = stack_at(flow::run_to_draft).await;
    let api = &stack.api;
    let outsider = scenario::site("xa-ngoai");
    api.register_site(&outsider, "Xã Ngoài").await.unwrap();

    // Then its host and a linked bridge read it, its invitation and its minutes on their own subjects
    for site in [scenario::host(), scenario::site("ba-be")] {
        assert_eq!(site_reads(api, &site, id).await, [Ok(200), Ok(200), Ok(200)], "{site}");
    }
    let ba_be = scenario::site("ba-be");
    let cref = json(&ConferenceRef { conference_id: id });
    let view: hoinghi_shared::api::ConferenceView = api
        .raw(&scheduling::site_command(&ba_be, scheduling::SITE_GET), cref.clone(), None)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(view.id, id);
    assert_eq!(view.chairs, scenario::chairs(), "chairs with the persons bound to them");

    // And a site it does not link is answered exactly as for a conference that does not exist
    let unknown = ConferenceId::generate();
    let outside = site_reads(api, &outsider, id).await;
    let nowhere = site_reads(api, &outsider, unknown).await;
    for ((seen, absent), what) in outside.iter().zip(&nowhere).zip(["get", "ics", "minutes"]) {
        let seen = seen.clone().expect_err(what).replace(&id.to_string(), "<id>");
        let absent = absent.clone().expect_err(what).replace(&unknown.to_string(), "<id>");
        assert!(seen.starts_with("404 "), "{what}: {seen}");
        assert_eq!(seen, absent, "{what}: a conference the site is not part of looks unknown");
    }

    // A site token that is not a slug is refused as such
    let bad = api.raw("hoinghi.v1.scheduling.sites.Xa_Ngoai.get", cref, None).await;
    assert_refused_raw("a site token that is not a slug", bad, ErrorCode::Invalid, &["site id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_acts_only_as_themself_and_sites_read_only_their_own() {
    let stack = secure_stack().await;
    let secretariat = &stack.secretariat;
    let person = |id: &str| format!("person-{id}");
    let taker = stack.connect(&person(scenario::MINUTE_TAKER)).await.unwrap();
    let thanh = stack.connect(&person(scenario::CHAIR_PERSONS[0])).await.unwrap();
    let dien = stack.connect(&person(scenario::CHAIR_PERSONS[1])).await.unwrap();
    // A person of the deployment whom this conference does not bind to anything, added with no reload.
    stack.add_person("nguoi-la").unwrap();
    let stranger = stack.connect("person-nguoi-la").await.unwrap();
    let (thanh_id, dien_id) =
        (scenario::person_id(scenario::CHAIR_PERSONS[0]), scenario::person_id(scenario::CHAIR_PERSONS[1]));

    // The secretariat runs the conference to its draft; each present site answers and checks in itself.
    let id = flow::schedule(&secretariat.api).await.unwrap();
    flow::invite(&secretariat.api, id).await.unwrap();
    let mut sites = Vec::new();
    for s in flow::present_sites() {
        let conn = stack.connect(&format!("site-{s}")).await.unwrap();
        flow::answer(&conn.api, id, &s).await.unwrap();
        sites.push((s, conn));
    }
    secretariat.api.start(id).await.unwrap();
    for (s, conn) in &sites {
        conn.api.check_in(s, id).await.unwrap();
    }
    secretariat.api.end(id).await.unwrap();
    flow::wait_draft(&taker.api, id).await.unwrap();
    let item = scenario::records(id).remove(0);

    // A person the conference does not bind: refused by the service with what to do, nothing written
    let before = stack.event_totals().await.unwrap();
    let refused = stranger.api.record(&item).await;
    assert_refused(
        "a stranger records",
        refused,
        ErrorCode::Forbidden,
        &["nguoi-la", "not a minute-taker", "secretariat"],
    );
    // and by the server on another person's subjects
    let as_taker = minutes::person_command(&scenario::person_id(scenario::MINUTE_TAKER), minutes::RECORD);
    server_refused(&stranger, &as_taker, stranger.attempt(&as_taker, json(&item)).await);
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");

    // The minute-taker records, submits: each event is theirs
    flow::record_all(&taker.api, id).await.unwrap();
    assert_eq!(taker.api.submit(id).await.unwrap().status, MinutesStatus::Submitted);
    let js = stack.operator().await.unwrap();
    let stream = js.get_stream(Service::Minutes.stream().name).await.unwrap();
    let last = |event_type: &'static str| {
        let stream = stream.clone();
        async move {
            let subject = events::conference(Service::Minutes, &id, event_type);
            let raw = stream.get_last_raw_message_by_subject(&subject).await.unwrap();
            EventEnvelope::from_slice(&raw.payload).unwrap()
        }
    };
    let taker_actor = format!("person:{}", scenario::MINUTE_TAKER);
    assert_eq!(last(MinutesEvent::ITEM_RECORDED).await.actor, taker_actor);
    assert_eq!(last(MinutesEvent::MINUTES_SUBMITTED).await.actor, taker_actor);

    // Nobody approves in another chair's name: not the stranger (403), not Thanh on Điền's subject
    let before = stack.event_totals().await.unwrap();
    let approve = json(&hoinghi_shared::api::ApproveMinutes { conference_id: id });
    let refused = stranger.api.approve(id).await;
    assert_refused(
        "a stranger approves",
        refused,
        ErrorCode::Forbidden,
        &["nguoi-la is not a chair", scenario::APPROVER],
    );
    let as_dien = minutes::person_command(&dien_id, minutes::APPROVE);
    server_refused(&thanh, &as_dien, thanh.attempt(&as_dien, approve.clone()).await);
    let as_thanh = minutes::person_command(&thanh_id, minutes::APPROVE);
    server_refused(&dien, &as_thanh, dien.attempt(&as_thanh, approve).await);
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused approvals write no event");

    // Each chair approves as themself: the event names the person and the name bound to them
    thanh.api.approve(id).await.unwrap();
    let approval = last(MinutesEvent::MINUTES_APPROVED).await;
    assert_eq!(approval.actor, format!("person:{thanh_id}"));
    assert_eq!(approval.data_value()["approved_by"], scenario::APPROVER);
    assert_eq!(approval.data_value()["person_id"], thanh_id.as_str());
    let approved = dien.api.approve(id).await.unwrap();
    assert_eq!(approved.status, MinutesStatus::Approved);
    let persons: Vec<_> = approved.approvals.iter().map(|a| a.person_id.clone()).collect();
    assert_eq!(persons, [Some(thanh_id.clone()), Some(dien_id.clone())]);
    assert_eq!(last(MinutesEvent::MINUTES_APPROVED).await.data_value()["approved_by"], scenario::CHAIRS[1].0);

    // The minute-taker publishes
    assert_eq!(taker.api.publish(id).await.unwrap().status, MinutesStatus::Published);
    assert_eq!(last(MinutesEvent::MINUTES_PUBLISHED).await.actor, taker_actor);

    // A site reads its own conference and minutes on its own subjects, never the shared ones nor
    // another site's
    let (ba_be_id, ba_be) = sites.iter().find(|(s, _)| s.as_str() == "ba-be").unwrap();
    assert_eq!(ba_be.api.conference(id).await.unwrap().id, id);
    assert_eq!(ba_be.api.minutes(id).await.unwrap().status, MinutesStatus::Published);
    let cref = json(&ConferenceRef { conference_id: id });
    let na_ri = scenario::site("na-ri");
    for subject in [
        scheduling::GET.to_owned(),
        scheduling::ICS.to_owned(),
        minutes::GET.to_owned(),
        scheduling::site_command(&na_ri, scheduling::SITE_GET),
        minutes::site_command(&na_ri, minutes::SITE_GET),
        attendance::site_command(&na_ri, attendance::STATUS),
    ] {
        server_refused(ba_be, &subject, ba_be.attempt(&subject, cref.clone()).await);
    }
    assert_eq!(ba_be.api.ics(id, ba_be_id).await.unwrap().site, *ba_be_id);

    // A site with credentials that the conference does not link: it looks like no conference at all
    let outsider = scenario::site("xa-ngoai");
    secretariat.api.register_site(&outsider, "Xã Ngoài").await.unwrap();
    stack.add_site("xa-ngoai").unwrap();
    let xa = stack.connect("site-xa-ngoai").await.unwrap();
    let message = format!("no conference {id}");
    assert_refused("an outsider reads the conference", xa.api.conference(id).await, ErrorCode::NotFound, &[&message]);
    assert_refused(
        "an outsider reads its invitation",
        xa.api.ics(id, &outsider).await,
        ErrorCode::NotFound,
        &[&message],
    );
    let minutes = xa.api.minutes(id).await;
    assert_refused("an outsider reads the minutes", minutes, ErrorCode::NotFound, &["no minutes for conference"]);
    assert_refused(
        "an outsider reads its line of the roster",
        xa.api.site_status(&outsider, id).await,
        ErrorCode::NotFound,
        &[&format!("no roster for conference {id}")],
    );
    assert!(all_sites().iter().all(|s| *s != "xa-ngoai"), "the outsider is not one of the scenario's sites");
}
