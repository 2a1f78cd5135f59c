//! Size limits that compose (issue 16, items 2 and 3): whatever the sites send within the published
//! input limits, a conference closes, drafts, is approved, published and read, and every reply
//! arrives. The sizes are the budgets of `hoinghi_shared::limits`; this test fills them with the
//! content the issue found harmful (`|`, `<`, `\`, emoji, long reasons) and checks each message.

use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use hoinghi_shared::api::{
    AgendaItem, Chair, ConferenceRef, ConfirmAttendance, CreateConference, DocumentForm, MinutesStatus, MinutesView,
    PageQuery, Person, RecordItem, Roster, RosterState, Task, MAX_PAGE,
};
use hoinghi_shared::events::{AttendanceEvent, ConferenceDetails, MinutesEvent};
use hoinghi_shared::limits::{
    conference_fixed_cost, confirmation_cost, content_cost, decline_cost, person_cost, site_answer_budget, task_cost,
    CONFIRMATION_OVERHEAD, DECLINE_OVERHEAD, DETAILS_BUDGET, ITEM_ENTRY_OVERHEAD, MAX_AGENDA_ITEMS, MAX_NAME_CHARS,
    MAX_PAYLOAD, MAX_PEOPLE, MAX_PERSON_TITLE_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, MESSAGE_BUDGET,
    MINUTES_CONTENT_BUDGET, PERSON_OVERHEAD, RECORDED_ITEM_OVERHEAD, REPLY_BUDGET,
};
use hoinghi_shared::subjects;
use hoinghi_shared::{ConferenceId, ErrorCode, PersonId, SiteId};
use hoinghi_tests::{flow, scenario, Service, Stack};

use crate::common::{assert_refused, conference_event, sha256_hex, stack};

/// Linked sites: enough that a page of the minutes' attendance no longer fits one reply.
const SITES: usize = 2_400;

/// Registered sites: with the longest texts, enough that the conference's details overflow their
/// budget (7 MiB).
const REGISTERED: usize = 4_000;

/// A site id of the longest kind (64 characters).
fn site_id(i: usize) -> SiteId {
    scenario::site(&format!("{:a<59}-{i:04}", "diem-cau"))
}

/// Site names of 200 characters: mostly emoji (4 bytes each), some `|` and `<` (escaped, 6 as counted).
fn site_name(i: usize) -> String {
    match i % 8 {
        1 => format!("{}{}", "|".repeat(100), "<".repeat(100)),
        _ => "😀".repeat(MAX_NAME_CHARS),
    }
}

/// Delegates whose confirmation costs as much of `share` as names of `name` and titles of `title`
/// can fill.
fn delegates_filling(share: usize, name: &str, title: &str) -> Vec<Person> {
    let (name_cost, title_cost) = (content_cost(name), content_cost(title));
    let mut cost = CONFIRMATION_OVERHEAD;
    let mut people = Vec::new();
    while people.len() < MAX_PEOPLE && share - cost >= PERSON_OVERHEAD + name_cost {
        let room = share - cost - PERSON_OVERHEAD;
        let names = (room / name_cost).min(MAX_NAME_CHARS);
        let titles = ((room - names * name_cost) / title_cost).min(MAX_PERSON_TITLE_CHARS);
        let person = Person { name: name.repeat(names), title: title.repeat(titles) };
        cost += person_cost(&person.clone().into());
        people.push(person);
    }
    people
}

/// Text of `unit` repeated to cost at most `cost` and at most `max_chars` characters.
fn text_filling(cost: usize, unit: &str, max_chars: usize) -> String {
    unit.repeat((cost / content_cost(unit)).min(max_chars / unit.chars().count()))
}

/// What a site sends: the largest answer its share allows, in turn with `|` names, `<` and `&`,
/// emoji, a reason of `\|`, a reason of emoji.
enum Answer {
    Confirm(Vec<Person>),
    Decline(String),
}

fn answer(i: usize, share: usize) -> Answer {
    match i % 5 {
        0 => Answer::Confirm(delegates_filling(share, "|", "😀")),
        1 => Answer::Confirm(delegates_filling(share, "<", "&")),
        2 => Answer::Confirm(delegates_filling(share, "😀", "😀")),
        3 => Answer::Decline(text_filling(share - DECLINE_OVERHEAD, "\\|", MAX_TEXT_CHARS)),
        _ => Answer::Decline(text_filling(share - DECLINE_OVERHEAD, "😀", MAX_TEXT_CHARS)),
    }
}

/// The conference as the secretariat asks for it; with `largest_text`, the longest title, chairs,
/// guests and agenda the input limits allow.
fn create_request(sites: &[SiteId], largest_text: bool) -> CreateConference {
    let mut request = hoinghi_tests::bulk::conference("Hội nghị 😀 | <b>giới hạn</b> \\ kích thước", sites);
    request.agenda = (0..3).map(|i| AgendaItem { title: format!("Nội dung {i} | <i>😀</i>") }).collect();
    if largest_text {
        let emoji = |n: usize| "😀".repeat(n);
        request.title = emoji(MAX_TITLE_CHARS);
        // Chairs bound to distinct persons with the longest ids.
        let person = |i: usize| scenario::person_id(&format!("{}-{i:03}", "p".repeat(PersonId::MAX_LEN - 4)));
        request.chairs = (0..MAX_PEOPLE)
            .map(|i| Chair {
                name: emoji(MAX_NAME_CHARS),
                title: emoji(MAX_PERSON_TITLE_CHARS),
                person_id: Some(person(i)),
            })
            .collect();
        request.minute_takers = (0..MAX_PEOPLE).map(person).collect();
        request.guests = vec![Person { name: emoji(MAX_NAME_CHARS), title: emoji(MAX_PERSON_TITLE_CHARS) }; MAX_PEOPLE];
        request.agenda = vec![AgendaItem { title: emoji(MAX_TITLE_CHARS) }; MAX_AGENDA_ITEMS];
    }
    request
}

/// The size of the last event of `event_type` about the conference, as JetStream stores it.
async fn event_size(stack: &Stack, service: Service, id: ConferenceId, event_type: &str) -> usize {
    let stream = stack.jetstream().get_stream(service.stream().name).await.unwrap();
    let message = stream.get_last_raw_message_by_subject(&conference_event(service, id, event_type)).await.unwrap();
    message.payload.len()
}

/// Sends a request and returns the reply's size and body (every reply must arrive and decode).
async fn sized<T: serde::Serialize, R: serde::de::DeserializeOwned>(
    stack: &Stack,
    subject: &str,
    body: &T,
    key: Option<&str>,
) -> (usize, R) {
    let headers = key.map(hoinghi_tests::client::idempotency_headers);
    let reply = stack.api.raw(subject, serde_json::to_vec(body).unwrap(), headers).await.unwrap();
    (reply.payload.len(), reply.json().unwrap_or_else(|e| panic!("{subject}: {e}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_content_at_the_budgets_limits_still_closes_publishes_and_reads() {
    let started = Instant::now();
    let stack = stack().await;
    let api = &stack.api;
    let registered: Vec<SiteId> = (0..REGISTERED).map(site_id).collect();
    let sites = &registered[..SITES];

    // The secretariat registers the host and 4,000 sites with 64-character ids and 200-character names.
    api.register_site(&scenario::host(), scenario::HOST.1).await.unwrap();
    futures::stream::iter(registered.iter().enumerate())
        .map(|(i, site)| async move { api.register_site(site, &site_name(i)).await })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();

    // Linking them to a conference with the longest texts the input limits allow: refused at once,
    // with the sizes and what to do, and nothing written.
    let before = stack.event_totals().await.unwrap();
    let largest = create_request(&registered, true);
    let err = assert_refused(
        "a conference whose details overflow their budget",
        api.create(&largest).await,
        ErrorCode::Invalid,
        &["4,000 sites' ids and names take", "at most 7 MiB", "link fewer sites", "shorten"],
    );
    eprintln!("limits: create refused: {}", err.message);
    assert_eq!(stack.event_totals().await.unwrap(), before, "a refused create writes nothing");

    // With ordinary texts, 2,400 of them fit.
    let created = api.create(&create_request(sites, false)).await.unwrap();
    let id = created.id;
    let details = ConferenceDetails {
        title: created.title.clone(),
        organizer: created.organizer.clone(),
        starts_at: created.starts_at,
        ends_at: created.ends_at,
        host_site: created.host_site.clone().into(),
        sites: created.sites.iter().cloned().map(Into::into).collect(),
        chairs: created.chairs.iter().cloned().map(Into::into).collect(),
        minute_takers: created.minute_takers.clone(),
        guests: created.guests.iter().cloned().map(Into::into).collect(),
        agenda: created.agenda.iter().cloned().map(Into::into).collect(),
        approval_policy: created.approval_policy.into(),
        reminder_offsets_s: None,
        quorum: None,
    };
    let fixed = conference_fixed_cost(&details);
    assert!(fixed <= DETAILS_BUDGET);
    flow::invite(api, id).await.unwrap();

    // Each site answers with the largest answer its share of the record allows.
    let share = site_answer_budget(SITES);
    let mut variable = 0;
    let answers: Vec<(SiteId, Answer)> = sites.iter().enumerate().map(|(i, s)| (s.clone(), answer(i, share))).collect();
    for (_, a) in &answers {
        let cost = match a {
            Answer::Confirm(d) => confirmation_cost(&d.iter().cloned().map(Into::into).collect::<Vec<_>>()),
            Answer::Decline(r) => decline_cost(r),
        };
        assert!(cost <= share && cost + 12 + PERSON_OVERHEAD > share, "{cost} of {share}: the answers fill the share");
        variable += cost;
    }
    futures::stream::iter(answers.iter())
        .map(|(site, a)| async move {
            match a {
                Answer::Confirm(delegates) => {
                    let body = ConfirmAttendance { conference_id: id, delegates: delegates.clone(), headcount: 10_000 };
                    api.confirm(site, &body).await
                }
                Answer::Decline(reason) => api.decline(site, id, reason).await,
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();

    // Answers over the share are refused with what to do, and change nothing: the 200
    // delegates of emoji, its 20,000 `|` reason, and one byte over the share.
    let victim = &sites[3];
    let line_before = api.roster(id).await.unwrap().sites.into_iter().find(|s| &s.site_id == victim).unwrap();
    let attendance_before = stack.stream_messages(Service::Attendance.stream().name).await.unwrap();
    let huge = Person { name: "😀".repeat(MAX_NAME_CHARS), title: "😀".repeat(MAX_PERSON_TITLE_CHARS) };
    let body = ConfirmAttendance { conference_id: id, delegates: vec![huge; MAX_PEOPLE], headcount: 300 };
    assert_refused(
        "200 delegates of emoji",
        api.confirm(victim, &body).await,
        ErrorCode::Invalid,
        &["200 delegates take", "2400 invited sites", "name fewer delegates"],
    );
    assert_refused(
        "a reason of 20,000 `|`",
        api.decline(victim, id, &"|".repeat(MAX_TEXT_CHARS)).await,
        ErrorCode::Invalid,
        &["reason takes 117.2 KiB", "at most", "shorten the reason"],
    );
    let one_over = "a".repeat(share - DECLINE_OVERHEAD + 1);
    assert_refused(
        "one byte over the share",
        api.decline(victim, id, &one_over).await,
        ErrorCode::Invalid,
        &["at most"],
    );
    let line_after = api.roster(id).await.unwrap().sites.into_iter().find(|s| &s.site_id == victim).unwrap();
    assert_eq!(line_after, line_before, "a refused answer changes nothing");
    assert_eq!(stack.stream_messages(Service::Attendance.stream().name).await.unwrap(), attendance_before);

    // The session: every other site checks in; then it ends, and the record closes.
    api.start(id).await.unwrap();
    futures::stream::iter(sites.iter().step_by(2))
        .map(|site| async move { api.check_in(site, id).await })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    api.end(id).await.unwrap();
    flow::wait_roster(api, id, RosterState::Closed).await.unwrap();
    // The roster, read page by page: the sites' answers fill 16 MiB, more than one reply holds.
    let mut roster_lines = Vec::new();
    let mut roster_len = 0;
    while roster_lines.len() < SITES {
        let query = PageQuery { conference_id: id, offset: roster_lines.len(), limit: MAX_PAGE };
        let (len, page): (usize, Roster) = sized(&stack, subjects::attendance::ROSTER, &query, None).await;
        assert!(!page.sites.is_empty() && len <= REPLY_BUDGET, "every page holds a line and fits: {len}");
        roster_len = roster_len.max(len);
        roster_lines.extend(page.sites);
    }
    assert_eq!(roster_lines.len(), SITES);
    let closed = event_size(&stack, Service::Attendance, id, AttendanceEvent::ROSTER_CLOSED).await;
    let draft = flow::wait_draft(api, id).await.unwrap();
    assert_eq!(draft.status, MinutesStatus::Draft);
    assert_eq!(draft.attendance_total, SITES);
    let opened = event_size(&stack, Service::Minutes, id, MinutesEvent::DRAFT_OPENED).await;

    // The minute-taker records the three items up to the minutes budget, with `|`, `\` and emoji;
    // a record that would pass the budget is refused and changes nothing.
    let owner = sites[0].clone();
    let per_item = MINUTES_CONTENT_BUDGET / 3;
    let mut items = Vec::new();
    for item in 0..3 {
        let task = Task {
            description: "Báo cáo | <kết quả> \\ 😀".into(),
            owner_site: owner.clone(),
            due: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        };
        let mut left = per_item - RECORDED_ITEM_OVERHEAD - task_cost(&task.clone().into(), &site_name(0));
        let summary = text_filling(left, "😀", MAX_TEXT_CHARS);
        left -= content_cost(&summary);
        let conclusion = text_filling(left - ITEM_ENTRY_OVERHEAD, "|\\", MAX_TEXT_CHARS);
        let record = RecordItem {
            conference_id: id,
            item,
            speakers: vec![],
            summary,
            conclusions: vec![conclusion],
            tasks: vec![task],
        };
        flow::minute_taker(api).record(&record).await.unwrap();
        items.push(record);
    }
    let minutes_before = stack.stream_messages(Service::Minutes.stream().name).await.unwrap();
    let mut longer = items[0].clone();
    longer.conclusions.push("x".repeat(40));
    assert_refused(
        "one item more than the minutes budget",
        flow::minute_taker(api).record(&longer).await,
        ErrorCode::Invalid,
        &["item 0", "at most 256 KiB", "shorten"],
    );
    assert_eq!(stack.stream_messages(Service::Minutes.stream().name).await.unwrap(), minutes_before);

    // Submitted, approved, published: the reply arrives, and a keyed retry gets the same document.
    flow::minute_taker(api).submit(id).await.unwrap();
    for chair in &created.chairs {
        api.as_person(chair.person_id.as_ref().unwrap()).approve(id).await.unwrap();
    }
    let publish = ConferenceRef { conference_id: id };
    let publish_subject =
        subjects::minutes::person_command(&scenario::person_id(scenario::MINUTE_TAKER), subjects::minutes::PUBLISH);
    let (published_len, published): (usize, MinutesView) =
        sized(&stack, &publish_subject, &publish, Some("limits-publish")).await;
    assert_eq!(published.status, MinutesStatus::Published);
    // The reply carries the first page of the document; read whole (every page), it is the
    // document whose hash every page carries.
    let markdown = api.minutes_document(id, DocumentForm::Markdown).await.unwrap().markdown.unwrap();
    assert_eq!(published.sha256.as_deref(), Some(sha256_hex(&markdown).as_str()));
    assert_eq!(published.document_total_bytes, Some(markdown.len()));
    assert!(markdown.starts_with(published.markdown.as_deref().unwrap()), "the first page is the document's start");
    let (_, retried): (usize, MinutesView) = sized(&stack, &publish_subject, &publish, Some("limits-publish")).await;
    assert_eq!((retried.markdown, retried.sha256), (published.markdown.clone(), published.sha256.clone()));
    let minutes_published = event_size(&stack, Service::Minutes, id, MinutesEvent::MINUTES_PUBLISHED).await;
    assert!(markdown.contains("\\|") && markdown.contains("😀"), "the hostile content is in the document");

    // Read: `minutes.get` with the default page, and page by page with the largest page; a page that
    // would not fit one reply comes shorter, and the client reads on from where it ended.
    let (get_len, first): (usize, MinutesView) =
        sized(&stack, subjects::minutes::GET, &PageQuery::first(id), None).await;
    assert_eq!(first.markdown, published.markdown, "the first page of the document");
    let mut offset = 0;
    let mut pages = Vec::new();
    let mut attendance = Vec::new();
    while offset < SITES {
        let query = PageQuery { conference_id: id, offset, limit: MAX_PAGE };
        let (len, page): (usize, MinutesView) = sized(&stack, subjects::minutes::GET, &query, None).await;
        assert_eq!((page.attendance_total, page.attendance_offset), (SITES, offset));
        assert!(!page.attendance.is_empty(), "every page holds at least one line");
        pages.push((page.attendance.len(), len));
        offset += page.attendance.len();
        attendance.extend(page.attendance);
    }
    assert!(pages.len() > 1, "the largest page of this attendance does not fit one reply: {pages:?}");
    let read: Vec<_> = attendance.iter().map(|r| (&r.site_id, &r.delegates, &r.decline_reason)).collect();
    let expected: Vec<_> = roster_lines.iter().map(|s| (&s.site_id, &s.delegates, &s.decline_reason)).collect();
    assert_eq!(read, expected, "read page by page, the attendance is the closed roster");

    // The sites acknowledge (each reply a minutes view); the conference closes; nothing was parked.
    for site in sites.iter().take(3) {
        api.acknowledge(site, id).await.unwrap();
    }
    flow::wait_status(api, id, hoinghi_shared::api::ConferenceStatus::Closed).await.unwrap();
    assert_eq!(stack.dead_letters().await.unwrap(), 0, "no event was parked");

    eprintln!(
        "limits: {SITES} sites, fixed part {fixed} bytes as counted, answers {variable} of share {share} each; \
         roster_closed {closed}, draft_opened {opened}, minutes_published {minutes_published}, markdown {}; \
         replies: roster {roster_len}, publish {published_len}, get {get_len}, pages of {MAX_PAGE} asked \
         (lines, bytes) {pages:?}; {:.1} s",
        markdown.len(),
        started.elapsed().as_secs_f64()
    );
    for (what, len) in [
        (AttendanceEvent::ROSTER_CLOSED, closed),
        (MinutesEvent::DRAFT_OPENED, opened),
        (MinutesEvent::MINUTES_PUBLISHED, minutes_published),
    ] {
        assert!(len <= MESSAGE_BUDGET, "{what} takes {len} bytes of {MAX_PAYLOAD}");
    }
    for len in [roster_len, published_len, get_len].into_iter().chain(pages.iter().map(|p| p.1)) {
        assert!(len <= REPLY_BUDGET, "a reply of {len} bytes");
    }
}
