//! Schema evolution: a log holding an older version of an event is read through the upcaster, into
//! the same state as the current version, by a live instance and by one that replays the log.

use async_nats::HeaderMap;
use chrono::Utc;
use hoinghi_shared::api::{AttendanceStatus, Person, RosterState, SiteAttendance};
use hoinghi_shared::events::{AttendanceEvent, EventEnvelope};
use hoinghi_shared::subjects::{attendance, events};
use hoinghi_shared::{ConferenceId, SiteId};
use hoinghi_tests::{flow, scenario, Service};

use crate::common::stack;

/// The delegates, as names only (version 1) and as people without titles (version 2).
const NAMES: [&str; 2] = ["Triệu Văn Hải", "Lý Thị Mai"];
const HEADCOUNT: u32 = 25;

fn people() -> Vec<Person> {
    NAMES.iter().map(|n| Person { name: (*n).to_owned(), title: String::new() }).collect()
}

/// Appends a confirmation to the attendance stream as the service would have written it, with the
/// given schema version and payload.
async fn append_confirmation(
    js: &async_nats::jetstream::Context,
    id: ConferenceId,
    site: &SiteId,
    version: u32,
    data: serde_json::Value,
    at: chrono::DateTime<Utc>,
) -> u64 {
    let mut envelope = EventEnvelope::new(
        &AttendanceEvent::AttendanceConfirmed { delegates: vec![], headcount: 0 },
        format!("site:{site}"),
    );
    envelope.version = version;
    envelope.set_data(&data);
    envelope.conference_id = Some(id);
    envelope.site_id = Some(site.clone());
    envelope.occurred_at = at;
    let command_id = format!("{}|legacy-v{version}-{site}", attendance::site_command(site, attendance::CONFIRM));
    envelope.command_id = Some(command_id.clone());
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", command_id.as_str());
    let subject = events::conference_site(Service::Attendance, &id, site, AttendanceEvent::ATTENDANCE_CONFIRMED);
    let ack = js
        .publish_with_headers(subject, headers, serde_json::to_vec(&envelope).unwrap().into())
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(!ack.duplicate);
    ack.sequence
}

/// A roster line without what tells two sites apart.
fn anonymous(line: &SiteAttendance) -> SiteAttendance {
    SiteAttendance { site_id: scenario::site("x"), site_name: String::new(), ..line.clone() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_confirmation_in_the_log_reads_as_the_same_state_as_version_2() {
    let mut stack = stack().await;
    let api = stack.api.clone();
    let js = stack.jetstream();
    let id = flow::schedule(&api).await.unwrap();
    flow::invite(&api, id).await.unwrap();
    let (old, new) = (scenario::site("ba-be"), scenario::site("bach-thong"));
    let at = Utc::now();
    // Version 1 named the delegates by name only; version 2 gives each a {name, title}.
    append_confirmation(&js, id, &old, 1, serde_json::json!({ "delegates": NAMES, "headcount": HEADCOUNT }), at).await;
    let v2 = serde_json::json!({ "delegates": people(), "headcount": HEADCOUNT });
    let last = append_confirmation(&js, id, &new, 2, v2, at).await;

    let line = |roster: &hoinghi_shared::api::Roster, site: &SiteId| {
        roster.sites.iter().find(|l| l.site_id == *site).cloned().unwrap()
    };
    let check = |roster: &hoinghi_shared::api::Roster, when: &str| {
        let (o, n) = (line(roster, &old), line(roster, &new));
        assert_eq!(o.status, AttendanceStatus::Confirmed, "{when}: the v1 confirmation counts");
        assert_eq!(o.delegates, people(), "{when}: names read as delegates without titles");
        assert_eq!(o.headcount, HEADCOUNT, "{when}");
        assert_eq!(anonymous(&o), anonymous(&n), "{when}: v1 and v2 give the same line");
        assert_eq!(roster.counts.confirmed, 2, "{when}");
    };
    // The live instance applies it as it follows the log.
    let live = hoinghi_tests::eventually(hoinghi_tests::ASYNC_TIMEOUT, || async {
        let r = api.roster(id).await.map_err(|e| e.to_string())?;
        if r.counts.confirmed == 2 {
            Ok(r)
        } else {
            Err(format!("{:?}", r.counts))
        }
    })
    .await
    .unwrap();
    check(&live, "live");

    // A restarted instance replays the log from the start, through the upcaster.
    stack.restart(Service::Attendance).await.unwrap();
    let replayed = api.roster(id).await.unwrap();
    check(&replayed, "replayed");
    assert_eq!(replayed, live, "replaying gives the state the live instance had");

    // The state is really the v2 state: confirming the same delegates again changes nothing.
    let totals = stack.event_totals().await.unwrap();
    let again = api
        .confirm(
            &old,
            &hoinghi_shared::api::ConfirmAttendance { conference_id: id, delegates: people(), headcount: HEADCOUNT },
        )
        .await
        .unwrap();
    assert_eq!(again, line(&replayed, &old));
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no new event: the upcast state equals the request");
    assert!(stack.stream_messages(Service::Attendance.stream().name).await.unwrap() >= last);

    // The final record carries the upcast delegates on to the minutes.
    api.start(id).await.unwrap();
    api.end(id).await.unwrap();
    flow::wait_roster(&api, id, RosterState::Closed).await.unwrap();
    let draft = flow::wait_draft(&api, id).await.unwrap();
    let record = |site: &SiteId| draft.attendance.iter().find(|r| r.site_id == *site).cloned().unwrap();
    assert_eq!(record(&old).delegates, people());
    assert_eq!(record(&old).headcount, record(&new).headcount);
    assert_eq!(record(&old).status, record(&new).status);
    assert_eq!(stack.dead_letters().await.unwrap(), 0);
}
