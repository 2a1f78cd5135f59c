//! Calendar invitations (RFC 5545) through `hoinghi.v1.scheduling.conferences.ics`: the Bắc Kạn
//! conference is invited, Ba Bể's invitation parses with an independent parser (`ical`) as a
//! `METHOD:REQUEST` at the right times, a reschedule gives `SEQUENCE:1` and the new times under the
//! same `UID`, a cancellation `METHOD:CANCEL` and `STATUS:CANCELLED`; the refusals (404, 403, 409)
//! and, with authentication on, who may ask.

use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};
use hoinghi_shared::api::{IcsMethod, IcsRequest, RescheduleConference};
use hoinghi_shared::subjects::scheduling;
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::secure::Attempt;
use hoinghi_tests::{flow, scenario};
use ical::parser::ical::component::IcalEvent;

use crate::common::{assert_refused, assert_refused_raw, secure_stack, stack};

/// Parses an invitation with `ical`: one calendar, one event; its `METHOD` and the event.
fn parse(ics: &str) -> (String, IcalEvent) {
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
    // RFC 5545 §3.1 unfolding (`ical` 0.11 trims each physical line before joining them)
    let unfolded = ics.replace("\r\n ", "");
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(unfolded.as_bytes()));
    let calendar = calendars.next().expect("a calendar").expect("it parses");
    assert!(calendars.next().is_none());
    assert_eq!(calendar.events.len(), 1, "one VEVENT");
    let method = calendar.properties.iter().find(|p| p.name == "METHOD").and_then(|p| p.value.clone());
    (method.expect("METHOD"), calendar.events[0].clone())
}

fn value(event: &IcalEvent, name: &str) -> String {
    let found: Vec<_> = event.properties.iter().filter(|p| p.name == name).collect();
    assert_eq!(found.len(), 1, "one {name}");
    found[0].value.clone().unwrap_or_default()
}

/// A UTC `DATE-TIME` of the file, as the RFC 3339 instant it names.
fn instant(value: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").expect("a UTC DATE-TIME").and_utc()
}

/// The RFC 5545 TEXT unescaping (the parser hands values over still escaped).
fn unescape(raw: &str) -> String {
    raw.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_site_gets_its_calendar_invitation_rescheduled_and_cancelled() {
    let stack = stack().await;
    let api = &stack.api;
    let ba_be = scenario::site("ba-be");

    // Scheduled, not invited: nothing to put in a calendar yet.
    let id = flow::schedule(api).await.unwrap();
    assert_refused("before the invitations", api.ics(id, &ba_be).await, ErrorCode::Conflict, &["not been issued"]);
    flow::invite(api, id).await.unwrap();

    // Invited: Ba Bể's invitation is a REQUEST, SEQUENCE 0, 08:00 to 11:30 Vietnam time.
    let first = api.ics(id, &ba_be).await.unwrap();
    assert_eq!((first.conference_id, &first.site, first.method, first.sequence), (id, &ba_be, IcsMethod::Request, 0));
    let (method, event) = parse(&first.ics);
    assert_eq!(method, "REQUEST");
    let uid = value(&event, "UID");
    assert_eq!(uid, format!("{id}@hoinghi"));
    assert_eq!(value(&event, "SEQUENCE"), "0");
    assert_eq!(value(&event, "DTSTART"), "20210723T010000Z");
    assert_eq!(instant(&value(&event, "DTSTART")), DateTime::parse_from_rfc3339(scenario::STARTS_AT).unwrap());
    assert_eq!(instant(&value(&event, "DTEND")), DateTime::parse_from_rfc3339(scenario::ENDS_AT).unwrap());
    assert_eq!(unescape(&value(&event, "SUMMARY")), scenario::TITLE);
    assert_eq!(unescape(&value(&event, "LOCATION")), scenario::HOST.1);
    let description = unescape(&value(&event, "DESCRIPTION"));
    for item in scenario::create_conference().agenda {
        assert!(description.contains(&item.title), "{:?} in {description}", item.title);
    }
    assert!(value(&event, "ORGANIZER").starts_with("mailto:"));
    assert_eq!(value(&event, "ATTENDEE"), "mailto:ba-be@hoinghi.invalid");
    // The host bridge gets one too, under the same UID
    let host = api.ics(id, &scenario::site(scenario::HOST.0)).await.unwrap();
    assert_eq!(value(&parse(&host.ics).1, "UID"), uid);

    // Refusals: unknown conference 404, a site not invited 403; bad input 400.
    let unknown = ConferenceId::generate();
    assert_refused("an unknown conference", api.ics(unknown, &ba_be).await, ErrorCode::NotFound, &["no conference"]);
    let stranger = SiteId::parse("cao-bang").unwrap();
    assert_refused("a site not invited", api.ics(id, &stranger).await, ErrorCode::Forbidden, &["not invited"]);
    let missing = serde_json::to_vec(&serde_json::json!({"conference_id": id})).unwrap();
    assert_refused_raw("no site", api.raw(scheduling::ICS, missing, None).await, ErrorCode::Invalid, &["site"]);

    // Rescheduled to tomorrow 14:00 to 16:00 Vietnam time: SEQUENCE 1, the new times, the same UID.
    let vietnam = FixedOffset::east_opt(7 * 3600).unwrap();
    let tomorrow = (Utc::now().with_timezone(&vietnam) + Duration::days(1)).with_hour(14).unwrap();
    let starts_at = tomorrow.with_minute(0).unwrap().with_second(0).unwrap().with_nanosecond(0).unwrap();
    let ends_at = starts_at + Duration::hours(2);
    let reschedule = RescheduleConference {
        conference_id: id,
        starts_at,
        ends_at,
        reason: "Lãnh đạo tỉnh bận đột xuất; dời sang chiều mai".into(),
        reanswer: false,
    };
    assert_eq!(api.reschedule(&reschedule).await.unwrap().schedule_sequence, 1);
    let moved = api.ics(id, &ba_be).await.unwrap();
    assert_eq!((moved.method, moved.sequence), (IcsMethod::Request, 1));
    let (_, event) = parse(&moved.ics);
    assert_eq!((value(&event, "UID"), value(&event, "SEQUENCE")), (uid.clone(), "1".to_owned()));
    assert_eq!(instant(&value(&event, "DTSTART")), starts_at);
    assert_eq!(instant(&value(&event, "DTEND")), ends_at);

    // Cancelled: METHOD:CANCEL, STATUS:CANCELLED, the same UID, SEQUENCE one more.
    api.cancel(id, "Bão số 3; đường bị chia cắt").await.unwrap();
    let cancelled = api.ics(id, &ba_be).await.unwrap();
    assert_eq!((cancelled.method, cancelled.sequence), (IcsMethod::Cancel, 2));
    let (method, event) = parse(&cancelled.ics);
    assert_eq!(method, "CANCEL");
    assert_eq!(value(&event, "STATUS"), "CANCELLED");
    assert_eq!((value(&event, "UID"), value(&event, "SEQUENCE")), (uid, "2".to_owned()));
    assert!(unescape(&value(&event, "DESCRIPTION")).contains("Bão số 3; đường bị chia cắt"));

    // A conference cancelled before its invitations never had one.
    let never = api.create(&scenario::create_conference()).await.unwrap().id;
    api.cancel(never, "Trùng lịch").await.unwrap();
    assert_refused("cancelled before invitations", api.ics(never, &ba_be).await, ErrorCode::Conflict, &["cancelled"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretariat_and_sites_may_ask_for_invitations_the_others_may_not() {
    let stack = secure_stack().await;
    let secretariat = &stack.secretariat;
    let id = flow::invited(&secretariat.api).await.unwrap();
    let ba_be = scenario::site("ba-be");

    let from_secretariat = secretariat.api.ics(id, &ba_be).await.unwrap();
    let site = stack.connect("site-ba-be").await.unwrap();
    let from_site = site.api.ics(id, &ba_be).await.unwrap();
    assert_eq!(parse(&from_site.ics).1.properties.len(), parse(&from_secretariat.ics).1.properties.len());
    assert_eq!(from_site.method, IcsMethod::Request);

    let body = serde_json::to_vec(&IcsRequest { conference_id: id, site: ba_be }).unwrap();
    for person in [scenario::MINUTE_TAKER, scenario::CHAIR_PERSONS[0]] {
        let who = stack.connect(&format!("person-{person}")).await.unwrap();
        let attempt = who.attempt(scheduling::ICS, body.clone()).await;
        assert!(matches!(&attempt, Attempt::Refused(r) if r.contains(scheduling::ICS)), "{person}: {attempt:?}");
    }
    // A site asks on its own subject only: neither the shared one nor another site's.
    let cref = serde_json::to_vec(&hoinghi_shared::api::ConferenceRef { conference_id: id }).unwrap();
    let na_ri = scheduling::site_command(&scenario::site("na-ri"), scheduling::SITE_ICS);
    for (subject, body) in [(scheduling::ICS, body.clone()), (na_ri.as_str(), cref)] {
        let attempt = site.attempt(subject, body).await;
        assert!(matches!(&attempt, Attempt::Refused(r) if r.contains(subject)), "{subject}: {attempt:?}");
    }

    // The CLI prints the raw object, ready for `> moi-hop.ics`.
    let cli = hoinghi_tests::service::bin_dir().unwrap().join("hoinghi");
    assert!(cli.is_file(), "{} missing: run cargo build --workspace --bins", cli.display());
    let creds = stack.creds("site-ba-be").display().to_string();
    let out = std::process::Command::new(&cli)
        .args(["--nats-url", &stack.url(), "--creds", &creds, "conference", "ics", &id.to_string()])
        .args(["--site", "ba-be"])
        .env_remove("HOINGHI__NATS__IDENTITY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let (method, event) = parse(&printed);
    assert_eq!((method.as_str(), value(&event, "UID")), ("REQUEST", format!("{id}@hoinghi")));
}
