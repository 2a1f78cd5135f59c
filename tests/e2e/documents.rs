//! Safe, faithful documents: a conference whose sites, delegates, reasons, chairs and minutes hold
//! hostile text and names typed in decomposed Unicode (NFD) runs from registration to publication,
//! and its published Markdown, read by a CommonMark parser, has the structure of a plain
//! conference's, with every user string as text exactly once; its HTML form is escaped and matches
//! the hash recorded at publication.

use chrono::NaiveDate;
use hoinghi_shared::api::{
    AgendaItem, ApprovalPolicy, Chair, ConfirmAttendance, CreateConference, MinutesStatus, Person, RecordItem,
    RosterState, Task,
};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::commonmark::{forbidden_markup, outline, skeleton, squeeze, tables, text, PAYLOADS};
use hoinghi_tests::{flow, scenario, Api};

use crate::common::{assert_refused, sha256_hex, stack};

/// A chair's name as a decomposed (NFD) keyboard sends it, and its NFC form.
const CHAIR_NFD: &str = "Phu\u{31b}o\u{31b}ng Thi\u{323} Thanh";
const CHAIR_NFC: &str = "Phương Thị Thanh";
/// The co-chair, created in NFC.
const CO_CHAIR_NFC: &str = "Ma Từ Đông Điền";
/// The persons bound to the chair and the co-chair.
const CHAIR_PERSON: &str = "phuong-thi-thanh";
const CO_CHAIR_PERSON: &str = "ma-tu-dong-dien";
/// A delegate typed in NFD, and the NFC form the documents show.
const DELEGATE_NFD: &str = "Hoa\u{300}ng Va\u{306}n A";
const DELEGATE_NFC: &str = "Hoàng Văn A";

/// Text with a unique tag (so that each piece can be counted), hostile or plain.
struct Texts {
    hostile: bool,
    next: usize,
    /// Each piece of user text as the documents must show it, and how many times.
    shown: Vec<(String, usize)>,
}

impl Texts {
    fn next(&mut self, field: &str) -> String {
        self.next += 1;
        let tag = format!("⟨{field} {:03}⟩", self.next);
        let text = if self.hostile {
            format!("{tag} {}", PAYLOADS[self.next % PAYLOADS.len()])
        } else {
            format!("{tag} văn bản thường")
        };
        self.shown.push((text.clone(), 1));
        text
    }
}

struct Published {
    markdown: String,
    html: String,
    shown: Vec<(String, usize)>,
}

fn id(text: &str) -> SiteId {
    SiteId::parse(text).unwrap()
}

/// Runs a conference of a host and three sites (one confirming, one declining, one silent), two
/// agenda items, two co-chairs (`all` must approve, each typing their name in the other form), and
/// publishes its minutes.
async fn publish(api: &Api, hostile: bool) -> Published {
    let prefix = if hostile { "h" } else { "p" };
    let mut t = Texts { hostile, next: 0, shown: vec![] };
    let host = id(&format!("{prefix}-host"));
    let sites: Vec<SiteId> = (1..=3).map(|i| id(&format!("{prefix}-site-{i}"))).collect();
    let host_name = t.next("host");
    api.register_site(&host, &host_name).await.unwrap();
    let mut site_names = vec![];
    for site in &sites {
        let name = t.next("site");
        api.register_site(site, &name).await.unwrap();
        site_names.push(name);
    }
    let request = CreateConference {
        title: t.next("title"),
        organizer: t.next("organizer"),
        starts_at: "2021-07-23T08:00:00+07:00".parse().unwrap(),
        ends_at: "2021-07-23T11:30:00+07:00".parse().unwrap(),
        host_site: host.clone(),
        sites: sites.clone(),
        chairs: vec![
            Chair {
                name: CHAIR_NFD.into(),
                title: t.next("chair title"),
                person_id: Some(scenario::person_id(CHAIR_PERSON)),
            },
            Chair {
                name: CO_CHAIR_NFC.into(),
                title: t.next("chair title"),
                person_id: Some(scenario::person_id(CO_CHAIR_PERSON)),
            },
        ],
        minute_takers: vec![scenario::person_id(scenario::MINUTE_TAKER)],
        guests: vec![Person { name: t.next("guest"), title: t.next("guest title") }],
        agenda: vec![AgendaItem { title: t.next("agenda") }, AgendaItem { title: t.next("agenda") }],
        approval_policy: Some(ApprovalPolicy::All),
        reminder_offsets_s: None,
        quorum: None,
    };
    let created = api.create(&request).await.unwrap();
    let conference = created.id;
    let chairs: Vec<&str> = created.chairs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(chairs, [CHAIR_NFC, CO_CHAIR_NFC], "the chairs' names are kept in NFC");
    api.invite(conference).await.unwrap();
    flow::wait_roster(api, conference, RosterState::Open).await.unwrap();

    let delegates = vec![
        Person { name: DELEGATE_NFD.into(), title: t.next("delegate title") },
        Person { name: t.next("delegate | ống"), title: String::new() },
    ];
    let confirmed = api
        .confirm(&sites[0], &ConfirmAttendance { conference_id: conference, delegates, headcount: 4 })
        .await
        .unwrap();
    assert_eq!(confirmed.delegates[0].name, DELEGATE_NFC, "a delegate's name is kept in NFC");
    let reason = t.next("reason");
    api.decline(&sites[1], conference, &reason).await.unwrap();
    api.start(conference).await.unwrap();
    api.check_in(&sites[0], conference).await.unwrap();
    api.end(conference).await.unwrap();
    flow::wait_draft(api, conference).await.unwrap();

    let mut host_tasks = 0;
    for item in 0..2 {
        let task = |t: &mut Texts, owner: &SiteId| Task {
            description: t.next("task"),
            owner_site: owner.clone(),
            due: NaiveDate::from_ymd_opt(2021, 9, 30).unwrap(),
        };
        let tasks = vec![task(&mut t, &host), task(&mut t, &sites[2])];
        host_tasks += 1;
        let record = RecordItem {
            conference_id: conference,
            item,
            speakers: vec![t.next("speaker"), t.next("speaker")],
            summary: t.next("summary"),
            conclusions: vec![t.next("conclusion"), t.next("conclusion")],
            tasks,
        };
        flow::minute_taker(api).record(&record).await.unwrap();
    }
    flow::minute_taker(api).submit(conference).await.unwrap();
    // Each chair approves as their person; the name recorded is the one the conference binds (NFC).
    flow::as_person(api, CHAIR_PERSON).approve(conference).await.unwrap();
    flow::as_person(api, CO_CHAIR_PERSON).approve(conference).await.unwrap();
    let published = flow::minute_taker(api).publish(conference).await.unwrap();
    assert_eq!(published.status, MinutesStatus::Published);
    let markdown = published.markdown.clone().unwrap();
    assert_eq!(published.sha256.as_deref(), Some(sha256_hex(&markdown).as_str()));
    let html_sha256 = published.html_sha256.clone().expect("the HTML's hash is recorded at publication");
    let with_html = api.minutes_html(conference).await.unwrap();
    let html = with_html.html.clone().unwrap();
    assert_eq!(sha256_hex(&html), html_sha256, "the HTML rendered on demand is the one published");
    assert_eq!(with_html.markdown, None, "the HTML comes instead of the Markdown");
    assert_eq!(api.minutes(conference).await.unwrap().html, None, "the HTML only when asked for");

    // Shown once each but: the host (its bridge, and each task it owns), the silent site (its row
    // and its tasks), each chair (the chairs, and the approvals), the delegate in NFC.
    let mut shown = t.shown;
    for (text, times) in &mut shown {
        if *text == host_name {
            *times += host_tasks;
        } else if *text == site_names[2] {
            *times += 2;
        }
    }
    shown.extend([(CHAIR_NFC.to_owned(), 2), (CO_CHAIR_NFC.to_owned(), 2), (DELEGATE_NFC.to_owned(), 1)]);
    Published { markdown, html, shown }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_and_nfd_names_are_published_as_text_in_the_documents_structure() {
    let stack = stack().await;
    let api = &stack.api;
    let plain = publish(api, false).await;
    let hostile = publish(api, true).await;

    // The same heading outline, and the same structure altogether
    let outline_plain = outline(&plain.markdown, &plain.shown);
    assert!(outline_plain.len() > 5, "{outline_plain:?}");
    assert_eq!(outline(&hostile.markdown, &hostile.shown), outline_plain, "\n{}", hostile.markdown);
    assert_eq!(skeleton(&hostile.markdown), skeleton(&plain.markdown), "\n{}", hostile.markdown);

    // No HTML, no link, no image, no code
    assert_eq!(forbidden_markup(&hostile.markdown), Vec::<String>::new(), "in\n{}", hostile.markdown);

    // Tables keep their rows and columns: the attendance (a header and three sites) and each item's
    // tasks (a header and two)
    let tables_hostile = tables(&hostile.markdown);
    assert_eq!(tables_hostile, vec![vec![7; 4], vec![3; 3], vec![3; 3]], "\n{}", hostile.markdown);
    assert_eq!(tables_hostile, tables(&plain.markdown));

    // Every user string is in the text exactly once (the approving chairs twice)
    for doc in [&plain, &hostile] {
        let text = text(&doc.markdown);
        for (s, times) in &doc.shown {
            let found = text.matches(&squeeze(s)).count();
            assert_eq!(found, *times, "{s:?} is in the text {found} times, not {times}:\n{}", doc.markdown);
        }
        assert!(!doc.markdown.contains(CHAIR_NFD) && !doc.markdown.contains(DELEGATE_NFD), "names in NFC only");
    }

    // The HTML form: escaped, with the administrative layout
    for tag in ["<script", "<iframe", "<img", "<b>đậm"] {
        assert!(!hostile.html.contains(tag), "{tag} in the HTML");
    }
    for needle in [
        "lang=\"vi\"",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BIÊN BẢN",
        CHAIR_NFC,
        CO_CHAIR_NFC,
    ] {
        assert!(hostile.html.contains(needle), "{needle} not in the HTML");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_and_the_html_exists_only_once_published() {
    let stack = stack().await;
    let api = &stack.api;
    let conference = flow::run_to_draft(api).await.unwrap();
    // A control character other than newline and tab, even after combining marks
    let record = RecordItem {
        conference_id: conference,
        item: 0,
        speakers: vec![],
        summary: "Phu\u{31b}o\u{31b}ng\u{7} chuông".into(),
        conclusions: vec![],
        tasks: vec![],
    };
    let bel = flow::minute_taker(api).record(&record).await;
    assert_refused("a BEL in a summary", bel, ErrorCode::Invalid, &["control characters"]);
    assert_refused("the HTML of a draft", api.minutes_html(conference).await, ErrorCode::Conflict, &["not published"]);
    let _: ConferenceId = conference;
}
