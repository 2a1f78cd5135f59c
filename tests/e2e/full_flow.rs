//! The whole life of a conference, through the public subjects only.

use hoinghi_shared::api::{AttendanceStatus, ConferenceStatus, MinutesStatus, RosterCounts, RosterState, SiteRef};
use hoinghi_shared::ErrorCode;
use hoinghi_tests::scenario::{self, Answer};
use hoinghi_tests::{flow, Service};

use crate::common::{
    assert_attendance_is_the_scenario, assert_attendance_matches_roster, assert_refused, markdown_text, sha256_hex,
    squeeze, stack, stack_at,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bac_kan_conference_runs_from_invitation_to_closed_minutes() {
    let stack = stack().await;
    let api = &stack.api;

    // The secretariat registers the nine bridges.
    for r in scenario::registrations() {
        let site = api.register_site(&r.id, &r.name).await.unwrap();
        assert_eq!((site.id, site.name), (r.id.clone(), r.name.clone()));
    }

    // It schedules the conference.
    let created = api.create(&scenario::create_conference()).await.unwrap();
    let id = created.id;
    assert_eq!(created.status, ConferenceStatus::Scheduled);
    assert_eq!(created.title, scenario::TITLE);
    assert_eq!(created.organizer, scenario::ORGANIZER);
    assert_eq!(created.starts_at, scenario::time(scenario::STARTS_AT));
    assert_eq!(created.ends_at, scenario::time(scenario::ENDS_AT));
    assert_eq!(created.host_site, SiteRef { id: scenario::host(), name: scenario::HOST.1.to_owned() });
    let expected_sites: Vec<SiteRef> =
        scenario::SITES.iter().map(|(id, name)| SiteRef { id: scenario::site(id), name: (*name).to_owned() }).collect();
    assert_eq!(created.sites, expected_sites, "linked sites, by name, in order");
    assert_eq!(created.chairs, scenario::chairs());
    assert_eq!(created.guests, scenario::guests());
    assert_eq!(created.agenda, scenario::agenda());
    assert_eq!(created.cancel_reason, None);
    assert_eq!(api.conference(id).await.unwrap(), created, "get answers what create answered");

    // Invitations go out; the roster opens with the eight sites, none answered yet.
    let invited = api.invite(id).await.unwrap();
    assert_eq!(invited.status, ConferenceStatus::Invited);
    let roster = flow::wait_roster(api, id, RosterState::Open).await.unwrap();
    assert_eq!(roster.conference_id, id);
    assert_eq!(
        roster.counts,
        RosterCounts { invited: 8, confirmed: 0, declined: 0, no_answer: 8, checked_in: 0 },
        "counts right after the invitations"
    );
    let roster_sites: Vec<_> = roster.sites.iter().map(|s| (s.site_id.as_str(), s.site_name.as_str())).collect();
    assert_eq!(roster_sites, scenario::SITES.to_vec(), "one line per invited site, in invitation order");
    assert!(roster.sites.iter().all(|s| s.status == AttendanceStatus::Invited && s.delegates.is_empty()));

    // Six sites confirm, one declines with a reason, one never answers.
    for (site, answer) in scenario::answers() {
        match answer {
            Answer::Confirm { delegates, headcount, .. } => {
                let request = scenario::confirmation(id, &site).unwrap();
                let line = api.confirm(&site, &request).await.unwrap();
                assert_eq!(line.site_id, site);
                assert_eq!(Some(line.site_name.as_str()), scenario::site_name(&site));
                assert_eq!(line.status, AttendanceStatus::Confirmed, "{site}");
                assert_eq!(line.delegates, delegates);
                assert_eq!(line.headcount, headcount);
                assert!(line.answered_at.is_some(), "{site}: answered_at");
            }
            Answer::Decline { reason } => {
                let line = api.decline(&site, id, &reason).await.unwrap();
                assert_eq!(line.status, AttendanceStatus::Declined);
                assert_eq!(line.decline_reason.as_deref(), Some(reason.as_str()));
            }
            Answer::Silent => {}
        }
    }
    let roster = api.roster(id).await.unwrap();
    assert_eq!(roster.counts, RosterCounts { invited: 8, confirmed: 6, declined: 1, no_answer: 1, checked_in: 0 });

    // The session opens; five of the six confirmed sites check in (Na Rì never does).
    assert_eq!(api.start(id).await.unwrap().status, ConferenceStatus::InSession);
    for site in flow::present_sites() {
        let line = api.check_in(&site, id).await.unwrap();
        assert_eq!(line.status, AttendanceStatus::CheckedIn, "{site}");
        assert!(line.checked_in_at.is_some(), "{site}: checked_in_at");
        assert!(!line.delegates.is_empty(), "{site}: delegates kept at check-in");
    }
    let roster = api.roster(id).await.unwrap();
    assert_eq!(roster.state, RosterState::Open);
    assert_eq!(roster.counts, RosterCounts { invited: 8, confirmed: 6, declined: 1, no_answer: 1, checked_in: 5 });
    let no_show = roster.sites.iter().find(|s| s.site_id.as_str() == scenario::NO_SHOW_SITE).unwrap();
    assert_eq!(no_show.status, AttendanceStatus::Confirmed);

    // The session ends: the roster closes, the minutes draft opens with the attendance record.
    assert_eq!(api.end(id).await.unwrap().status, ConferenceStatus::Ended);
    let closed = flow::wait_roster(api, id, RosterState::Closed).await.unwrap();
    assert_eq!(closed.counts, roster.counts, "closing changes no answer");
    let draft = flow::wait_draft(api, id).await.unwrap();
    assert_eq!(draft.status, MinutesStatus::Draft);
    assert_eq!(draft.conference_id, id);
    assert_eq!(draft.title, scenario::TITLE);
    assert_eq!(draft.organizer, scenario::ORGANIZER);
    assert_eq!(draft.host_site.id, scenario::host());
    assert_eq!(draft.host_site.name, scenario::HOST.1);
    assert_eq!(draft.chairs, scenario::chairs());
    assert_eq!(draft.guests, scenario::guests());
    assert_eq!(draft.starts_at, scenario::time(scenario::STARTS_AT));
    assert_eq!(draft.ends_at, scenario::time(scenario::ENDS_AT));
    let titles: Vec<_> = draft.items.iter().map(|i| (i.index, i.title.as_str(), i.recorded)).collect();
    let expected: Vec<_> = scenario::AGENDA.iter().enumerate().map(|(i, t)| (i, *t, false)).collect();
    assert_eq!(titles, expected, "one unrecorded item per agenda item");
    assert_attendance_matches_roster(&draft, &closed);
    assert_attendance_is_the_scenario(&draft.attendance);
    assert!(draft.markdown.is_none() && draft.sha256.is_none(), "nothing published yet");

    // The minute-taker records the five items.
    let recorded = flow::record_all(api, id).await.unwrap();
    for (item, wanted) in recorded.items.iter().zip(scenario::records(id)) {
        assert!(item.recorded, "item {} recorded", item.index);
        assert_eq!(item.speakers, wanted.speakers);
        assert_eq!(item.summary, wanted.summary);
        assert_eq!(item.conclusions, wanted.conclusions);
        assert_eq!(item.tasks, wanted.tasks);
    }

    // Submitted, approved by both co-chairs (the policy is `all`), published.
    let taker = flow::minute_taker(api);
    let submitted = taker.submit(id).await.unwrap();
    assert_eq!((submitted.status, submitted.version), (MinutesStatus::Submitted, 1));
    let first = flow::chair(api, 0).approve(id).await.unwrap();
    assert_eq!(first.status, MinutesStatus::Submitted, "one of two co-chairs approved");
    assert_eq!(first.awaiting, [scenario::CHAIRS[1].0]);
    let approved = flow::chair(api, 1).approve(id).await.unwrap();
    assert_eq!(approved.status, MinutesStatus::Approved);
    assert_eq!(approved.approved_by.as_deref(), Some(scenario::APPROVER));
    let approvers: Vec<&str> = approved.approvals.iter().map(|a| a.by.as_str()).collect();
    assert_eq!(approvers, [scenario::CHAIRS[0].0, scenario::CHAIRS[1].0]);
    let persons: Vec<Option<&str>> =
        approved.approvals.iter().map(|a| a.person_id.as_ref().map(|p| p.as_str())).collect();
    assert_eq!(persons, scenario::CHAIR_PERSONS.map(Some), "each approval is its chair's person's");
    let published = taker.publish(id).await.unwrap();
    assert_eq!(published.status, MinutesStatus::Published);
    assert!(published.published_at.is_some());
    let markdown = published.markdown.clone().expect("published minutes carry their markdown");
    let sha = published.sha256.clone().expect("published minutes carry their sha256");
    assert_eq!(sha, sha256_hex(&markdown), "sha256 is the hex SHA-256 of the markdown");

    // The document says who, what, when — by name, not by id.
    let mut must_contain: Vec<String> = vec![
        scenario::TITLE.into(),
        scenario::ORGANIZER.into(),
        scenario::HOST.1.into(),
        scenario::DECLINE_REASON.into(),
    ];
    must_contain.extend(scenario::SITES.iter().map(|(_, name)| (*name).to_owned()));
    must_contain.extend(scenario::CHAIRS.iter().map(|(n, _)| (*n).to_owned()));
    must_contain.extend(scenario::GUESTS.iter().map(|(n, _)| (*n).to_owned()));
    must_contain.extend(scenario::AGENDA.iter().map(|t| (*t).to_owned()));
    must_contain.extend(scenario::delegate_names());
    for r in scenario::records(id) {
        must_contain.push(r.summary.clone());
        must_contain.extend(r.conclusions.iter().cloned());
        must_contain.extend(r.tasks.iter().map(|t| t.description.clone()));
    }
    let read = markdown_text(&markdown);
    for text in &must_contain {
        assert!(read.contains(&squeeze(text)), "the minutes should contain {text:?}; markdown:\n{markdown}");
    }

    // Every invited site reads the same document and acknowledges it.
    for site in scenario::site_ids() {
        let seen = api.minutes(id).await.unwrap();
        assert_eq!(seen.sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(seen.markdown.as_deref(), Some(markdown.as_str()));
        let acked = api.acknowledge(&site, id).await.unwrap();
        assert!(acked.acknowledgements.iter().any(|a| a.site_id == site), "{site} acknowledged");
    }
    let after = api.minutes(id).await.unwrap();
    assert_eq!(after.acknowledgements.len(), 8, "one acknowledgement per invited site");
    assert_eq!(after.markdown.as_deref(), Some(markdown.as_str()), "acknowledgements do not change the document");

    // The conference is closed, with the minutes' fingerprint.
    let closed = flow::wait_status(api, id, ConferenceStatus::Closed).await.unwrap();
    assert_eq!(closed.minutes_sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(stack.dead_letters().await.unwrap(), 0, "no event was parked as a dead letter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_conference_shows_its_reason_and_refuses_later_answers() {
    let (stack, id) = stack_at(flow::invited).await;
    let api = &stack.api;
    let ba_be = scenario::site("ba-be");
    api.confirm(&ba_be, &scenario::confirmation(id, &ba_be).unwrap()).await.unwrap();

    assert_refused("cancel without a reason", api.cancel(id, "").await, ErrorCode::Invalid, &["reason"]);
    let reason = "Hoãn do diễn biến phức tạp của dịch Covid-19";
    let cancelled = api.cancel(id, reason).await.unwrap();
    assert_eq!(cancelled.status, ConferenceStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason.as_deref(), Some(reason));
    let got = api.conference(id).await.unwrap();
    assert_eq!(got.status, ConferenceStatus::Cancelled);
    assert_eq!(got.cancel_reason.as_deref(), Some(reason));

    let roster = flow::wait_roster(api, id, RosterState::Cancelled).await.unwrap();
    let events = stack.stream_messages(Service::Attendance.stream().name).await.unwrap();
    let all = stack.event_totals().await.unwrap();

    let cho_don = scenario::site("cho-don");
    let late = api.confirm(&cho_don, &scenario::confirmation(id, &cho_don).unwrap()).await;
    assert_refused("confirming a cancelled conference", late, ErrorCode::Conflict, &[]);
    let late = api.decline(&scenario::site("na-ri"), id, "không dự").await;
    assert_refused("declining a cancelled conference", late, ErrorCode::Conflict, &[]);
    assert_refused("checking in to a cancelled conference", api.check_in(&ba_be, id).await, ErrorCode::Conflict, &[]);
    assert_refused("starting a cancelled conference", api.start(id).await, ErrorCode::Conflict, &[]);
    assert_refused("inviting to a cancelled conference", api.invite(id).await, ErrorCode::Conflict, &[]);

    let again = api.cancel(id, reason).await.unwrap();
    assert_eq!(again, got, "cancelling again answers the same and changes nothing");
    assert_eq!(api.roster(id).await.unwrap(), roster, "the roster is unchanged");
    assert_eq!(stack.stream_messages(Service::Attendance.stream().name).await.unwrap(), events);
    assert_eq!(stack.event_totals().await.unwrap(), all, "no event written by refused commands");
}
