//! Bad inputs: each gets the right code and a helpful message, changes nothing, and the service keeps
//! serving.

use hoinghi_shared::api::{ConferenceStatus, MinutesStatus, Person, RecordItem, Roster, RosterState, Task};
use hoinghi_shared::subjects::{attendance, minutes, scheduling};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::client::idempotency_headers;
use hoinghi_tests::{flow, scenario, Stack};
use serde_json::json;

use crate::common::{assert_refused, assert_refused_raw, stack, stack_at};

fn site(id: &str) -> SiteId {
    scenario::site(id)
}

/// What refused requests must leave as it was: the events in the streams and the roster.
struct Unchanged {
    totals: [u64; 3],
    roster: Roster,
}

impl Unchanged {
    /// As it is now.
    async fn now(stack: &Stack, id: ConferenceId) -> Self {
        Self { totals: stack.event_totals().await.unwrap(), roster: stack.api.roster(id).await.unwrap() }
    }

    /// Checks that it still is.
    async fn check(&self, stack: &Stack, id: ConferenceId) {
        assert_eq!(stack.event_totals().await.unwrap(), self.totals, "refused requests write no event");
        assert_eq!(stack.api.roster(id).await.unwrap(), self.roster, "the roster is unchanged");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbled_bodies_are_refused_with_400_and_change_nothing() {
    let (stack, id) = stack_at(flow::invited).await;
    let api = &stack.api;
    let unchanged = Unchanged::now(&stack, id).await;
    let conference = api.conference(id).await.unwrap();

    let confirm = attendance::site_command(&site("ba-be"), attendance::CONFIRM);
    let acknowledge = minutes::site_command(&site("ba-be"), minutes::ACKNOWLEDGE);
    let mut create_without_agenda = serde_json::to_value(scenario::create_conference()).unwrap();
    create_without_agenda.as_object_mut().unwrap().remove("agenda");
    let id_s = id.to_string();
    let record = flow::minute_taker_subject(minutes::RECORD);
    let cases: Vec<(&str, &str, Vec<u8>, Vec<&str>)> = vec![
        ("malformed JSON", scheduling::CREATE, r#"{"title": "Hội nghị", "organizer":"#.as_bytes().to_vec(), vec![]),
        ("malformed JSON", confirm.as_str(), b"{conference_id: 1}".to_vec(), vec![]),
        ("malformed JSON", record.as_str(), b"not json at all".to_vec(), vec![]),
        ("an empty body", scheduling::INVITE, Vec::new(), vec![]),
        ("an empty body", attendance::ROSTER, Vec::new(), vec![]),
        ("an empty body", minutes::GET, Vec::new(), vec![]),
        ("invalid UTF-8", scheduling::REGISTER_SITE, vec![0xff, 0xfe, 0x7b, 0x80], vec![]),
        ("invalid UTF-8", confirm.as_str(), vec![b'{', 0xc3, 0x28, b'}'], vec![]),
        ("invalid UTF-8", acknowledge.as_str(), vec![0xed, 0xa0, 0x80], vec![]),
        ("a JSON array instead of an object", scheduling::GET, b"[]".to_vec(), vec![]),
        ("a missing name", scheduling::REGISTER_SITE, br#"{"id":"ba-be"}"#.to_vec(), vec!["name"]),
        ("a missing agenda", scheduling::CREATE, serde_json::to_vec(&create_without_agenda).unwrap(), vec!["agenda"]),
        (
            "a missing headcount",
            confirm.as_str(),
            serde_json::to_vec(&json!({"conference_id": id_s, "delegates": [{"name": "Triệu Văn Hải"}]})).unwrap(),
            vec!["headcount"],
        ),
        ("a missing conference_id", attendance::ROSTER, b"{}".to_vec(), vec!["conference_id"]),
        ("a missing conference_id", minutes::GET, b"{}".to_vec(), vec!["conference_id"]),
        (
            "a missing summary",
            record.as_str(),
            serde_json::to_vec(&json!({"conference_id": id_s, "item": 0})).unwrap(),
            vec!["summary"],
        ),
        (
            "a conference id that is not a UUID v7",
            scheduling::CANCEL,
            r#"{"conference_id":"42","reason":"thử"}"#.as_bytes().to_vec(),
            vec!["42"],
        ),
    ];
    for (what, subject, payload, hints) in cases {
        let reply = api.raw(subject, payload, None).await;
        assert_refused_raw(&format!("{what} on {subject}"), reply, ErrorCode::Invalid, &hints);
    }

    unchanged.check(&stack, id).await;
    assert_eq!(api.conference(id).await.unwrap(), conference, "the conference is unchanged");
    let ok = api.confirm(&site("ba-be"), &scenario::confirmation(id, &site("ba-be")).unwrap()).await;
    assert!(ok.is_ok(), "a valid confirmation still works after the garbage: {ok:?}");
    assert!(api.register_site(&site("bang-lung"), "Huyện ủy Bằng Lũng").await.is_ok(), "scheduling still serves");
    assert!(api.minutes(ConferenceId::generate()).await.is_err_and(|e| e.code == ErrorCode::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_break_the_rules_are_refused_with_400_and_change_nothing() {
    let (stack, id) = stack_at(flow::invited).await;
    let api = &stack.api;
    let unchanged = Unchanged::now(&stack, id).await;

    // Sites.
    let reply =
        api.raw(scheduling::REGISTER_SITE, r#"{"id":"Ba.Be","name":"Huyện ủy Ba Bể"}"#.as_bytes().to_vec(), None).await;
    assert_refused_raw("a site id with capitals and a dot", reply, ErrorCode::Invalid, &["ba.be"]);
    let reply = api.raw(scheduling::REGISTER_SITE, r#"{"id":"","name":"Không tên"}"#.as_bytes().to_vec(), None).await;
    assert_refused_raw("an empty site id", reply, ErrorCode::Invalid, &[]);
    let reply = api.raw(scheduling::REGISTER_SITE, br#"{"id":"ba-be-2","name":""}"#.to_vec(), None).await;
    assert_refused_raw("an empty site name", reply, ErrorCode::Invalid, &["name"]);

    // Conferences.
    let good = scenario::create_conference();
    let mut c = good.clone();
    c.ends_at = scenario::time("2021-07-23T07:00:00+07:00");
    assert_refused("a conference that ends before it starts", api.create(&c).await, ErrorCode::Invalid, &["end"]);
    let mut c = good.clone();
    c.ends_at = c.starts_at;
    assert_refused("a conference that ends when it starts", api.create(&c).await, ErrorCode::Invalid, &[]);
    let mut c = good.clone();
    c.ends_at = scenario::time("2021-07-31T08:00:00+07:00");
    assert_refused("a conference longer than 7 days", api.create(&c).await, ErrorCode::Invalid, &[]);
    let mut c = good.clone();
    c.title = String::new();
    assert_refused("an empty title", api.create(&c).await, ErrorCode::Invalid, &["title"]);
    let mut c = good.clone();
    c.title = "x".repeat(hoinghi_shared::limits::MAX_TITLE_CHARS + 1);
    assert_refused("a title too long", api.create(&c).await, ErrorCode::Invalid, &["title"]);
    let mut c = good.clone();
    c.organizer = String::new();
    assert_refused("an empty organizer", api.create(&c).await, ErrorCode::Invalid, &["organi"]);
    let mut c = good.clone();
    c.sites.clear();
    assert_refused("no linked sites", api.create(&c).await, ErrorCode::Invalid, &[]);
    let mut c = good.clone();
    c.sites.push(site("ba-be"));
    assert_refused("a site listed twice", api.create(&c).await, ErrorCode::Invalid, &["ba-be"]);
    let mut c = good.clone();
    c.sites.push(scenario::host());
    assert_refused("the host listed among the sites", api.create(&c).await, ErrorCode::Invalid, &[]);
    let mut c = good.clone();
    c.chairs.clear();
    assert_refused("no chairs", api.create(&c).await, ErrorCode::Invalid, &["chair"]);
    let mut c = good.clone();
    c.agenda.clear();
    assert_refused("no agenda", api.create(&c).await, ErrorCode::Invalid, &["agenda"]);
    let mut raw = serde_json::to_value(&good).unwrap();
    raw["starts_at"] = json!("23/07/2021 08:00");
    let reply = api.raw(scheduling::CREATE, serde_json::to_vec(&raw).unwrap(), None).await;
    assert_refused_raw("a start time that is not RFC 3339", reply, ErrorCode::Invalid, &[]);
    assert_refused("cancelling without a reason", api.cancel(id, "").await, ErrorCode::Invalid, &["reason"]);

    // Attendance.
    let ba_be = site("ba-be");
    let confirm = attendance::site_command(&ba_be, attendance::CONFIRM);
    let body = json!({"conference_id": id.to_string(), "delegates": [{"name": "Triệu Văn Hải", "title": ""}], "headcount": -1});
    let reply = api.raw(&confirm, serde_json::to_vec(&body).unwrap(), None).await;
    assert_refused_raw("a negative headcount", reply, ErrorCode::Invalid, &[]);
    let mut request = scenario::confirmation(id, &ba_be).unwrap();
    request.headcount = 0;
    assert_refused("a headcount of 0", api.confirm(&ba_be, &request).await, ErrorCode::Invalid, &["headcount"]);
    request.headcount = 1;
    assert_refused(
        "a headcount below the number of delegates",
        api.confirm(&ba_be, &request).await,
        ErrorCode::Invalid,
        &["headcount"],
    );
    request.headcount = hoinghi_shared::limits::MAX_HEADCOUNT + 1;
    assert_refused("a headcount over 10000", api.confirm(&ba_be, &request).await, ErrorCode::Invalid, &["headcount"]);
    request.headcount = 25;
    request.delegates.clear();
    assert_refused("no delegates", api.confirm(&ba_be, &request).await, ErrorCode::Invalid, &["delegate"]);
    request.delegates = vec![Person { name: String::new(), title: "Trưởng ban".into() }];
    assert_refused("a delegate without a name", api.confirm(&ba_be, &request).await, ErrorCode::Invalid, &["name"]);
    request.delegates = (0..=hoinghi_shared::limits::MAX_PEOPLE)
        .map(|i| Person { name: format!("Đại biểu {i}"), title: String::new() })
        .collect();
    request.headcount = 1000;
    assert_refused("more than 200 delegates", api.confirm(&ba_be, &request).await, ErrorCode::Invalid, &[]);
    assert_refused("declining without a reason", api.decline(&ba_be, id, "").await, ErrorCode::Invalid, &["reason"]);
    let reply = api
        .raw(
            &confirm,
            serde_json::to_vec(&scenario::confirmation(id, &ba_be).unwrap()).unwrap(),
            Some(idempotency_headers("a key with spaces")),
        )
        .await;
    assert_refused_raw("an idempotency key with spaces", reply, ErrorCode::Invalid, &["Hoinghi-Idempotency-Key"]);

    unchanged.check(&stack, id).await;
    assert_eq!(api.conference(id).await.unwrap().status, ConferenceStatus::Invited);
    assert!(api.confirm(&ba_be, &scenario::confirmation(id, &ba_be).unwrap()).await.is_ok(), "valid still works");
    let renamed = api.register_site(&site("ngan-son"), "Huyện ủy Ngân Sơn (mới)").await.unwrap();
    assert_eq!(renamed.name, "Huyện ủy Ngân Sơn (mới)", "a valid rename still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_conferences_and_unregistered_sites_are_404() {
    let stack = stack().await;
    let api = &stack.api;
    flow::register_sites(api).await.unwrap();
    let scheduled = api.create(&scenario::create_conference()).await.unwrap().id;
    let before = stack.event_totals().await.unwrap();

    let unknown = ConferenceId::generate();
    let u = unknown.to_string();
    assert_refused("get an unknown conference", api.conference(unknown).await, ErrorCode::NotFound, &[&u]);
    assert_refused("invite to an unknown conference", api.invite(unknown).await, ErrorCode::NotFound, &[]);
    assert_refused("start an unknown conference", api.start(unknown).await, ErrorCode::NotFound, &[]);
    assert_refused("end an unknown conference", api.end(unknown).await, ErrorCode::NotFound, &[]);
    assert_refused("cancel an unknown conference", api.cancel(unknown, "lý do").await, ErrorCode::NotFound, &[]);
    assert_refused("the roster of an unknown conference", api.roster(unknown).await, ErrorCode::NotFound, &[]);
    let ba_be = site("ba-be");
    let request = scenario::confirmation(unknown, &ba_be).unwrap();
    assert_refused("confirm an unknown conference", api.confirm(&ba_be, &request).await, ErrorCode::NotFound, &[]);
    assert_refused("the minutes of an unknown conference", api.minutes(unknown).await, ErrorCode::NotFound, &[]);

    // Not invited yet: no roster, no minutes.
    assert_refused("the roster before the invitations", api.roster(scheduled).await, ErrorCode::NotFound, &[]);
    let request = scenario::confirmation(scheduled, &ba_be).unwrap();
    assert_refused("confirm before the invitations", api.confirm(&ba_be, &request).await, ErrorCode::NotFound, &[]);
    assert_refused("the minutes before the session", api.minutes(scheduled).await, ErrorCode::NotFound, &[]);

    // Sites that were never registered.
    let mut c = scenario::create_conference();
    c.sites.push(site("bang-lung"));
    assert_refused("a conference with an unregistered site", api.create(&c).await, ErrorCode::NotFound, &["bang-lung"]);
    let mut c = scenario::create_conference();
    c.host_site = site("ubnd-tinh-bac-kan");
    assert_refused("an unregistered host", api.create(&c).await, ErrorCode::NotFound, &["ubnd-tinh-bac-kan"]);

    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");
    assert_eq!(api.conference(scheduled).await.unwrap().status, ConferenceStatus::Scheduled);
    assert!(api.invite(scheduled).await.is_ok(), "a valid command still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_may_only_answer_for_a_conference_it_was_invited_to() {
    let stack = stack().await;
    let api = &stack.api;
    flow::register_sites(api).await.unwrap();
    let mut request = scenario::create_conference();
    request.sites.retain(|s| s.as_str() != "pac-nam");
    let id = api.create(&request).await.unwrap().id;
    flow::invite(api, id).await.unwrap();
    let unchanged = Unchanged::now(&stack, id).await;
    assert_eq!(unchanged.roster.counts.invited, 7);

    let pac_nam = site("pac-nam");
    let mut confirm = scenario::confirmation(id, &site("ba-be")).unwrap();
    assert_refused(
        "a registered site not invited confirms",
        api.confirm(&pac_nam, &confirm).await,
        ErrorCode::Forbidden,
        &[],
    );
    assert_refused("it declines", api.decline(&pac_nam, id, "không được mời").await, ErrorCode::Forbidden, &[]);
    assert_refused("it checks in", api.check_in(&pac_nam, id).await, ErrorCode::Forbidden, &[]);
    let stranger = site("xa-la");
    confirm.conference_id = id;
    assert_refused("an unknown site confirms", api.confirm(&stranger, &confirm).await, ErrorCode::Forbidden, &[]);
    let reply = api.raw("hoinghi.v1.attendance.sites.Ba_Be.confirm", serde_json::to_vec(&confirm).unwrap(), None).await;
    let e = reply.unwrap().api_error().expect("a site token that is not a site id is refused");
    assert!(
        matches!(e.code, ErrorCode::Invalid | ErrorCode::Forbidden),
        "a site token that is not a site id: 400 or 403, got {e:?}"
    );

    unchanged.check(&stack, id).await;
    let ba_be = site("ba-be");
    assert!(api.confirm(&ba_be, &scenario::confirmation(id, &ba_be).unwrap()).await.is_ok(), "valid still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduling_and_attendance_commands_in_the_wrong_state_are_409() {
    let (stack, id) = stack_at(flow::schedule).await;
    let api = &stack.api;
    let before = stack.event_totals().await.unwrap();
    assert_refused("start before the invitations", api.start(id).await, ErrorCode::Conflict, &["invit"]);
    assert_refused("end before the start", api.end(id).await, ErrorCode::Conflict, &[]);
    assert_eq!(stack.event_totals().await.unwrap(), before);

    flow::invite(api, id).await.unwrap();
    flow::answer_all(api, id).await.unwrap();
    flow::hold_session(api, id).await.unwrap();
    let unchanged = Unchanged::now(&stack, id).await;
    assert_refused("invite while in session", api.invite(id).await, ErrorCode::Conflict, &[]);
    assert_refused("cancel while in session", api.cancel(id, "muộn").await, ErrorCode::Conflict, &[]);
    let ba_be = site("ba-be");
    assert_refused("decline after checking in", api.decline(&ba_be, id, "mất kết nối").await, ErrorCode::Conflict, &[]);
    unchanged.check(&stack, id).await;

    api.end(id).await.unwrap();
    flow::wait_roster(api, id, RosterState::Closed).await.unwrap();
    flow::wait_draft(api, id).await.unwrap();
    let closed = Unchanged::now(&stack, id).await;
    let pac_nam = site("pac-nam");
    let late = scenario::confirmation(id, &ba_be).unwrap();
    assert_refused("confirm after the session", api.confirm(&pac_nam, &late).await, ErrorCode::Conflict, &[]);
    assert_refused("check in after the session", api.check_in(&site("na-ri"), id).await, ErrorCode::Conflict, &[]);
    assert_refused("start after the end", api.start(id).await, ErrorCode::Conflict, &[]);
    assert_refused("cancel after the end", api.cancel(id, "muộn").await, ErrorCode::Conflict, &[]);
    closed.check(&stack, id).await;
    assert_eq!(api.end(id).await.unwrap().status, ConferenceStatus::Ended, "a valid command still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_follow_draft_submit_approve_publish_and_only_a_chair_approves() {
    let (stack, id) = stack_at(flow::run_to_draft).await;
    let api = &stack.api;
    // Each acts as the person the conference binds to their part.
    let (taker, thanh, dien) = (flow::minute_taker(api), flow::chair(api, 0), flow::chair(api, 1));
    let before = stack.event_totals().await.unwrap();

    // Nothing to approve, publish or acknowledge yet.
    assert_refused("approve a draft", thanh.approve(id).await, ErrorCode::Conflict, &[]);
    assert_refused("publish a draft", taker.publish(id).await, ErrorCode::Conflict, &[]);
    assert_refused("acknowledge a draft", api.acknowledge(&site("ba-be"), id).await, ErrorCode::Conflict, &[]);

    // Records that break the rules.
    let good = scenario::records(id)[2].clone();
    let out_of_range = RecordItem { item: scenario::AGENDA.len(), ..good.clone() };
    assert_refused("an item out of range", taker.record(&out_of_range).await, ErrorCode::Invalid, &[]);
    let no_summary = RecordItem { summary: String::new(), ..good.clone() };
    assert_refused("an item without a summary", taker.record(&no_summary).await, ErrorCode::Invalid, &["summary"]);
    let mut stranger_task = good.clone();
    stranger_task.tasks.push(Task {
        description: "Việc của đơn vị không được mời".into(),
        owner_site: site("bang-lung"),
        due: chrono::NaiveDate::from_ymd_opt(2021, 12, 31).unwrap(),
    });
    assert_refused(
        "a task owned by a site not invited",
        taker.record(&stranger_task).await,
        ErrorCode::Invalid,
        &["bang-lung"],
    );
    // A due date only in the documented form, YYYY-MM-DD.
    for due in ["2021-1-1", " 2021-01-01", "+10000-01-01", "-0001-01-01", "2021-02-30"] {
        let mut body = serde_json::to_value(&good).unwrap();
        body["tasks"] = serde_json::json!([{"description": "Báo cáo", "owner_site": "ba-be", "due": due}]);
        let reply =
            api.raw(&flow::minute_taker_subject(minutes::RECORD), serde_json::to_vec(&body).unwrap(), None).await;
        assert_refused_raw(&format!("due {due:?}"), reply, ErrorCode::Invalid, &["YYYY-MM-DD"]);
    }
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");

    // Submitting needs every item recorded; the error names the missing one.
    let records = scenario::records(id);
    for r in &records[..4] {
        taker.record(r).await.unwrap();
    }
    let before = stack.event_totals().await.unwrap();
    let e = assert_refused("submit with an item missing", taker.submit(id).await, ErrorCode::Conflict, &[]);
    assert!(
        e.message.contains(scenario::AGENDA[4]) || e.message.contains('4') || e.message.contains('5'),
        "the error should name the missing item ({:?}): {:?}",
        scenario::AGENDA[4],
        e.message
    );
    assert_eq!(stack.event_totals().await.unwrap(), before);
    taker.record(&records[4]).await.unwrap();
    // Re-recording replaces.
    let mut changed = records[0].clone();
    changed.summary.push_str(" (bổ sung)");
    let view = taker.record(&changed).await.unwrap();
    assert_eq!(view.items[0].summary, changed.summary, "re-recording replaces the item");
    taker.record(&records[0]).await.unwrap();
    assert_eq!(taker.submit(id).await.unwrap().status, MinutesStatus::Submitted);

    // Submitted: no more records; not publishable before approval; only a chair approves.
    let before = stack.event_totals().await.unwrap();
    assert_refused("record after submitting", taker.record(&records[1]).await, ErrorCode::Conflict, &[]);
    assert_refused("publish unapproved minutes", taker.publish(id).await, ErrorCode::Conflict, &[]);
    let guest = flow::as_person(api, "pham-duy-hung").approve(id).await;
    assert_refused("approved by the guest's person", guest, ErrorCode::Forbidden, &["pham-duy-hung is not a chair"]);
    assert_refused("approved by the minute-taker", taker.approve(id).await, ErrorCode::Forbidden, &["not a chair"]);
    // A subject whose person token is no person id is refused as such.
    let body = serde_json::to_vec(&serde_json::json!({"conference_id": id})).unwrap();
    let bad = api.raw("hoinghi.v1.minutes.persons.Le_B.approve", body, None).await;
    assert_refused_raw("approved by no person", bad, ErrorCode::Invalid, &["person id"]);
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");
    assert_eq!(api.minutes(id).await.unwrap().status, MinutesStatus::Submitted);

    // The second co-chair approves first; the policy is `all`, so it waits for the other one.
    let approved = dien.approve(id).await.unwrap();
    assert_eq!(approved.approved_by.as_deref(), Some(scenario::CHAIRS[1].0));
    assert_eq!(approved.status, MinutesStatus::Submitted);
    let before = stack.event_totals().await.unwrap();
    assert_refused(
        "publish with one co-chair's approval",
        taker.publish(id).await,
        ErrorCode::Conflict,
        &[scenario::APPROVER],
    );
    assert_refused("approving twice", dien.approve(id).await, ErrorCode::Conflict, &["already approved"]);
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");
    assert_eq!(thanh.approve(id).await.unwrap().status, MinutesStatus::Approved);
    let published = taker.publish(id).await.unwrap();
    assert_eq!(published.status, MinutesStatus::Published);
    flow::wait_status(api, id, ConferenceStatus::Closed).await.unwrap();
    let before = stack.event_totals().await.unwrap();
    assert_refused("record after publishing", taker.record(&records[1]).await, ErrorCode::Conflict, &[]);
    assert_refused(
        "an uninvited site acknowledges",
        api.acknowledge(&site("bang-lung"), id).await,
        ErrorCode::Forbidden,
        &[],
    );
    assert_refused("approve after publishing", thanh.approve(id).await, ErrorCode::Conflict, &["published"]);
    assert_refused(
        "request changes after publishing",
        thanh.request_changes(id, "Sửa").await,
        ErrorCode::Conflict,
        &["published"],
    );
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");
    assert_eq!(api.minutes(id).await.unwrap(), published, "published minutes are immutable");
}
