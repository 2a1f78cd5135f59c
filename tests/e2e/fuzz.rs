//! Hostile input on every command and query subject, from a seeded generator: random bytes, invalid
//! UTF-8, bodies of the wrong JSON type, wrong field types, missing and unknown fields, strings and
//! lists over the limits of `hoinghi_shared::limits`, deeply nested JSON, ids holding subject
//! wildcards or dots, dates out of range, negative or overflowing numbers, and site tokens in the
//! subject that are not slugs.
//!
//! Every input is refused with a 400 (413 when the body is larger than its subject takes,
//! `hoinghi_shared::sizes`) — or, for the few inputs that are well-formed but name something
//! that is not there, the status documented on their case (403 for a valid site slug that is not
//! invited, 404 for a valid conference id that does not exist) — with the error headers and body of
//! the contract and a message; the services keep answering PING; and the event streams are exactly as
//! they were before.
//!
//! The seed is fixed (set `HOINGHI_FUZZ_SEED` to try another, `HOINGHI_FUZZ_ROUNDS` to scale up);
//! the count of inputs tried is printed. Longer run:
//! `HOINGHI_FUZZ_ROUNDS=40 cargo test -p hoinghi-tests --test e2e fuzz -- --include-ignored --nocapture`.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::StreamExt;
use hoinghi_shared::error::ErrorBody;
use hoinghi_shared::limits::{
    MAX_AGENDA_ITEMS, MAX_CHECK_NOTE_CHARS, MAX_HEADCOUNT, MAX_ITEM_ENTRIES, MAX_NAME_CHARS, MAX_PEOPLE,
    MAX_PERSON_TITLE_CHARS, MAX_SITES, MAX_SPEAKER_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
};
use hoinghi_shared::notifications::MAX_NOTIFICATIONS_PAGE;
use hoinghi_shared::subjects::{attendance, minutes, scheduling};
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::{flow, scenario, Service, Stack};
use serde_json::{json, Value};

use crate::common::stack;

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The shape of a request field, which decides how it is broken.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Checked text: at most this many characters (required ones may not be empty).
    Text(usize),
    /// A conference id (UUID v7).
    Conference,
    /// A site id (slug).
    Site,
    /// An RFC 3339 time with offset.
    Time,
    /// An unsigned number in `min..=max`.
    Number(u64, u64),
    /// A list of people (`{name, title}`), at most this many.
    People(usize),
    /// A list of checked texts: at most `.0` entries of at most `.1` characters.
    Texts(usize, usize),
    /// A list of site ids.
    Sites,
    /// A list of agenda items.
    Agenda,
    /// A list of tasks.
    Tasks,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// `true` or `false`.
    Bool,
    /// A task id, `<item>-<index>`.
    Task,
    /// One item of a technical check: `{ok, note?}`, a note (at most this many characters)
    /// required when it failed.
    Check(usize),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn field(name: &'static str, kind: Kind, required: bool) -> Field {
    Field { name, kind, required }
}

/// A subject with a valid body for it, and the fields of that body.
#[derive(Debug, Clone)]
struct Template {
    subject: String,
    /// For a per-site subject, the subject with `{}` in place of the site token.
    site_subject: Option<String>,
    body: Value,
    fields: Vec<Field>,
    /// A site's list of its own things (notifications, tasks): a site that is not invited anywhere
    /// gets an empty list, not a 403.
    own_list: bool,
    /// What a well-formed request naming a conference that does not exist gets (404, or 409 where
    /// the service cannot tell an unknown conference from one not invited yet).
    unknown_conference: &'static [u16],
    /// What the site (or person) of the subject gets for a conference it has no part in: 403, or
    /// 404 for a site's reads, which answer exactly as for an unknown conference.
    uninvited: &'static [u16],
}

impl Template {
    fn own_list(mut self) -> Self {
        self.own_list = true;
        self
    }

    fn unknown_conference(mut self, statuses: &'static [u16]) -> Self {
        self.unknown_conference = statuses;
        self
    }
}

/// One input and what it must get.
struct Case {
    category: &'static str,
    subject: String,
    payload: Vec<u8>,
    /// The statuses it may get; 400 unless the case is well-formed and names something absent.
    allowed: &'static [u16],
}

const INVALID: &[u16] = &[400];

fn person(name: &str) -> Value {
    json!({"name": name, "title": "Trưởng Ban Dân vận"})
}

/// The conferences the templates act on: one invited (its technical check open), one with its
/// minutes in draft, one with its minutes published (for the notice and the tasks, whose content is
/// checked only once there is something to act on), and a task of Ba Bể in the latter.
#[derive(Debug, Clone, Copy)]
struct Targets {
    invited: ConferenceId,
    drafted: ConferenceId,
    published: ConferenceId,
    task: hoinghi_shared::ids::TaskId,
}

fn templates(targets: Targets) -> Vec<Template> {
    let Targets { invited, drafted, published, task } = targets;
    let p = published.to_string();
    let task = task.to_string();
    use Kind::*;
    let c = invited.to_string();
    let d = drafted.to_string();
    let create = serde_json::to_value(scenario::create_conference()).unwrap();
    let reference = |subject: &str, id: &str| Template {
        subject: subject.to_owned(),
        site_subject: None,
        body: json!({"conference_id": id}),
        fields: vec![field("conference_id", Conference, true)],
        own_list: false,
        unknown_conference: &[404],
        uninvited: &[403],
    };
    let page = |subject: &str, id: &str| Template {
        subject: subject.to_owned(),
        site_subject: None,
        body: json!({"conference_id": id, "offset": 0, "limit": 10}),
        fields: vec![
            field("conference_id", Conference, true),
            field("offset", Number(0, u64::MAX), false),
            field("limit", Number(1, 5_000), false),
        ],
        own_list: false,
        unknown_conference: &[404],
        uninvited: &[403],
    };
    // A person's minutes command: the person token is checked like a site's, and a person with no
    // part in the conference is refused (403).
    let person_pattern = |action: &str| format!("hoinghi.v1.minutes.persons.{{}}.{action}");
    let per_person = |action: &str, t: Template| Template { site_subject: Some(person_pattern(action)), ..t };
    let per_site = |action: &str, body: Value, fields: Vec<Field>, minutes_service: bool| {
        let ba_be = scenario::site("ba-be");
        let (subject, pattern) = if minutes_service {
            (minutes::site_command(&ba_be, action), format!("hoinghi.v1.minutes.sites.{{}}.{action}"))
        } else {
            (attendance::site_command(&ba_be, action), format!("hoinghi.v1.attendance.sites.{{}}.{action}"))
        };
        Template {
            subject,
            site_subject: Some(pattern),
            body,
            fields,
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        }
    };
    vec![
        Template {
            subject: scheduling::REGISTER_SITE.to_owned(),
            site_subject: None,
            body: json!({"id": "diem-cau-thu", "name": "Điểm cầu thử"}),
            fields: vec![field("id", Site, true), field("name", Text(MAX_NAME_CHARS), true)],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        Template {
            subject: scheduling::CREATE.to_owned(),
            site_subject: None,
            body: create,
            fields: vec![
                field("title", Text(MAX_TITLE_CHARS), true),
                field("organizer", Text(MAX_NAME_CHARS), true),
                field("starts_at", Time, true),
                field("ends_at", Time, true),
                field("host_site", Site, true),
                field("sites", Sites, true),
                field("chairs", People(MAX_PEOPLE), true),
                field("guests", People(MAX_PEOPLE), false),
                field("agenda", Agenda, true),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        reference(scheduling::INVITE, &c),
        reference(scheduling::START, &c),
        reference(scheduling::END, &c),
        Template {
            subject: scheduling::CANCEL.to_owned(),
            site_subject: None,
            body: json!({"conference_id": c, "reason": "Mưa lũ chia cắt giao thông"}),
            fields: vec![field("conference_id", Conference, true), field("reason", Text(MAX_TEXT_CHARS), true)],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        Template {
            subject: scheduling::RESCHEDULE.to_owned(),
            site_subject: None,
            body: json!({
                "conference_id": c, "starts_at": "2099-07-23T09:00:00+07:00", "ends_at": "2099-07-23T12:30:00+07:00",
                "reason": "Bão số 3, lùi 1 giờ",
            }),
            fields: vec![
                field("conference_id", Conference, true),
                field("starts_at", Time, true),
                field("ends_at", Time, true),
                field("reason", Text(MAX_TEXT_CHARS), true),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        reference(scheduling::GET, &c),
        Template {
            site_subject: Some("hoinghi.v1.scheduling.sites.{}.get".to_owned()),
            uninvited: &[404],
            ..reference(&scheduling::site_command(&scenario::site("ba-be"), scheduling::SITE_GET), &c)
        },
        Template {
            site_subject: Some("hoinghi.v1.scheduling.sites.{}.ics".to_owned()),
            uninvited: &[404],
            ..reference(&scheduling::site_command(&scenario::site("ba-be"), scheduling::SITE_ICS), &c)
        },
        Template {
            subject: scheduling::ICS.to_owned(),
            site_subject: None,
            body: json!({"conference_id": c, "site": "ba-be"}),
            fields: vec![field("conference_id", Conference, true), field("site", Site, true)],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        page(scheduling::AUDIT, &c),
        per_site(
            attendance::CONFIRM,
            json!({"conference_id": c, "delegates": [person("Triệu Văn Hải")], "headcount": 3}),
            vec![
                field("conference_id", Conference, true),
                field("delegates", People(MAX_PEOPLE), true),
                field("headcount", Number(1, MAX_HEADCOUNT as u64), true),
            ],
            false,
        ),
        per_site(
            attendance::DECLINE,
            json!({"conference_id": c, "reason": "Trùng lịch"}),
            vec![field("conference_id", Conference, true), field("reason", Text(MAX_TEXT_CHARS), true)],
            false,
        ),
        per_site(
            attendance::CHECK_IN,
            json!({"conference_id": c}),
            vec![field("conference_id", Conference, true)],
            false,
        ),
        Template {
            uninvited: &[404],
            ..per_site(
                attendance::STATUS,
                json!({"conference_id": c}),
                vec![field("conference_id", Conference, true)],
                false,
            )
        },
        per_site(
            attendance::SCHEDULE_SEEN,
            json!({"conference_id": c, "sequence": 0}),
            vec![field("conference_id", Conference, true), field("sequence", Number(0, u64::from(u32::MAX)), true)],
            false,
        ),
        page(attendance::ROSTER, &c),
        // Issue 11: the boards' snapshot and changes since a sequence.
        page(attendance::BOARD, &c),
        Template {
            subject: attendance::BOARD_CHANGES.to_owned(),
            site_subject: None,
            body: json!({"conference_id": c, "since": 0, "limit": 10}),
            fields: vec![
                field("conference_id", Conference, true),
                field("since", Number(0, u64::MAX), true),
                field("limit", Number(1, hoinghi_shared::board::MAX_CHANGES as u64), false),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        Template {
            subject: flow::minute_taker_subject(minutes::RECORD),
            site_subject: Some(person_pattern(minutes::RECORD)),
            body: json!({
                "conference_id": d, "item": 1, "summary": "Thảo luận", "speakers": ["Hà Văn Toàn, Bạch Thông"],
                "conclusions": ["Thống nhất"],
                "tasks": [{"description": "Báo cáo kết quả", "owner_site": "ba-be", "due": "2021-12-31"}],
            }),
            fields: vec![
                field("conference_id", Conference, true),
                field("item", Number(0, 4), true),
                field("summary", Text(MAX_TEXT_CHARS), true),
                field("speakers", Texts(MAX_PEOPLE, MAX_SPEAKER_CHARS), false),
                field("conclusions", Texts(MAX_ITEM_ENTRIES, MAX_TEXT_CHARS), false),
                field("tasks", Tasks, false),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        per_person(minutes::SUBMIT, reference(&flow::minute_taker_subject(minutes::SUBMIT), &d)),
        Template {
            subject: flow::chair_subject(0, minutes::APPROVE),
            site_subject: Some(person_pattern(minutes::APPROVE)),
            body: json!({"conference_id": d}),
            fields: vec![field("conference_id", Conference, true)],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        Template {
            subject: flow::chair_subject(0, minutes::REQUEST_CHANGES),
            site_subject: Some(person_pattern(minutes::REQUEST_CHANGES)),
            body: json!({"conference_id": d, "comment": "Sửa"}),
            fields: vec![field("conference_id", Conference, true), field("comment", Text(2_000), true)],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        per_person(minutes::PUBLISH, reference(&flow::minute_taker_subject(minutes::PUBLISH), &d)),
        {
            let mut get = page(minutes::GET, &d);
            get.fields.push(field("version", Number(1, u64::from(u32::MAX)), false));
            get
        },
        // A site's own reads: a conference it has no part in answers as an unknown one (404).
        {
            let ba_be = scenario::site("ba-be");
            let mut get = page(&minutes::site_command(&ba_be, minutes::SITE_GET), &d);
            get.fields.push(field("version", Number(1, u64::from(u32::MAX)), false));
            Template { site_subject: Some("hoinghi.v1.minutes.sites.{}.get".to_owned()), uninvited: &[404], ..get }
        },
        per_site(
            minutes::ACKNOWLEDGE,
            json!({"conference_id": d}),
            vec![field("conference_id", Conference, true)],
            true,
        ),
        // Issue 10: the technical check and each site's notifications (attendance).
        // Attendance knows a conference from its invitations: before them (or for none) the
        // technical check is refused as not open yet (409), as documented.
        reference(attendance::TECHNICAL_CHECK_OPEN, &c).unknown_conference(&[409]),
        per_site(
            attendance::TECHNICAL_CHECK,
            json!({
                "conference_id": c, "picture": {"ok": true}, "sound": {"ok": true},
                "line": {"ok": false, "note": "Mất kết nối: lũ quét làm đứt cáp quang"},
            }),
            vec![
                field("conference_id", Conference, true),
                field("picture", Check(MAX_CHECK_NOTE_CHARS), true),
                field("sound", Check(MAX_CHECK_NOTE_CHARS), true),
                field("line", Check(MAX_CHECK_NOTE_CHARS), true),
            ],
            false,
        )
        .unknown_conference(&[409]),
        page(attendance::TECHNICAL_CHECK_SUMMARY, &c),
        per_site(
            attendance::NOTIFICATIONS,
            json!({"since": 0, "limit": 10}),
            vec![
                field("since", Number(0, u64::MAX), false),
                field("limit", Number(1, MAX_NOTIFICATIONS_PAGE as u64), false),
            ],
            false,
        )
        .own_list(),
        // The conclusions notice, receipts, the attendance export and the tasks (minutes).
        Template {
            subject: minutes::NOTICES_ISSUE.to_owned(),
            site_subject: None,
            body: json!({"conference_id": p, "number": "15/TB-TU", "issued_on": "2021-07-30"}),
            fields: vec![
                field("conference_id", Conference, true),
                field("number", Text(50), true),
                field("issued_on", Date, false),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        reference(minutes::NOTICES_GET, &p),
        Template {
            subject: minutes::NOTICES_OVERDUE.to_owned(),
            site_subject: None,
            body: json!({"as_of": "2021-08-10"}),
            fields: vec![field("as_of", Date, false)],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        per_site(
            minutes::NOTICE_ACKNOWLEDGE,
            json!({"conference_id": p}),
            vec![field("conference_id", Conference, true)],
            true,
        ),
        per_site(
            minutes::NOTICE_GET,
            json!({"conference_id": p}),
            vec![field("conference_id", Conference, true)],
            true,
        ),
        page(minutes::RECEIPTS, &p),
        Template {
            subject: minutes::ATTENDANCE_EXPORT.to_owned(),
            site_subject: None,
            body: json!({"conference_id": p, "format": "csv", "offset": 0, "limit": 10}),
            fields: vec![
                field("conference_id", Conference, true),
                field("format", Choice(&["csv", "json"]), true),
                field("offset", Number(0, u64::MAX), false),
                field("limit", Number(1, 5_000), false),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        per_site(
            minutes::SITE_TASKS_REPORT,
            json!({
                "conference_id": p, "task_id": task, "kind": "done", "text": "Đã tổ chức tuyên truyền",
                "reference": "Báo cáo số 12-BC/HU",
            }),
            vec![
                field("conference_id", Conference, true),
                field("task_id", Task, true),
                field("kind", Choice(&["progress", "done"]), true),
                field("text", Text(MAX_TEXT_CHARS), true),
                field("reference", Text(MAX_TITLE_CHARS), false),
            ],
            true,
        ),
        per_site(minutes::SITE_TASKS_LIST, tasks_list(&p), tasks_list_fields(), true).own_list(),
        Template {
            subject: minutes::TASKS_REVIEW.to_owned(),
            site_subject: None,
            body: json!({"conference_id": p, "task_id": task, "decision": "return", "comment": "Chưa có văn bản"}),
            fields: vec![
                field("conference_id", Conference, true),
                field("task_id", Task, true),
                field("decision", Choice(&["accept", "return"]), true),
                field("comment", Text(MAX_TEXT_CHARS), false),
            ],
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
        Template {
            subject: minutes::TASKS_LIST.to_owned(),
            site_subject: None,
            body: tasks_list(&p),
            fields: tasks_list_fields(),
            own_list: false,
            unknown_conference: &[404],
            uninvited: &[403],
        },
    ]
}

/// The body of a tasks list (a site's own or anyone's): every field set.
fn tasks_list(conference: &str) -> Value {
    json!({"conference_id": conference, "site": "ba-be", "overdue_only": false, "offset": 0, "limit": 10})
}

fn tasks_list_fields() -> Vec<Field> {
    use Kind::*;
    vec![
        field("conference_id", Conference, false),
        field("site", Site, false),
        field("overdue_only", Bool, false),
        field("offset", Number(0, u64::MAX), false),
        field("limit", Number(1, 5_000), false),
    ]
}

/// A value of another JSON type than field `f` takes (`null` is the absence of an optional field,
/// so an optional one gets another).
fn wrong_type_of(rng: &mut Rng, f: Field) -> Value {
    match wrong_type(rng, f.kind) {
        Value::Null if !f.required => json!(true),
        other => other,
    }
}

/// A value of another JSON type than `kind` expects.
fn wrong_type(rng: &mut Rng, kind: Kind) -> Value {
    let scalars_for_text = [json!(42), json!(true), json!(null), json!([]), json!({}), json!(["x"]), json!(-3.5)];
    let for_numbers = [json!("3"), json!(true), json!(null), json!([]), json!({}), json!(1.5), json!("")];
    let for_lists =
        [json!("x"), json!(1), json!({}), json!(null), json!(true), json!([1, 2]), json!([null]), json!([[]])];
    match kind {
        Kind::Text(_) | Kind::Conference | Kind::Site | Kind::Time => rng.pick(&scalars_for_text).clone(),
        Kind::Number(..) => rng.pick(&for_numbers).clone(),
        Kind::People(_) => {
            let nested = [json!([{"name": 7, "title": ""}]), json!([{"name": "A", "title": false}]), json!(["Tên"])];
            if rng.chance(40) {
                rng.pick(&nested).clone()
            } else {
                rng.pick(&for_lists).clone()
            }
        }
        Kind::Texts(..) | Kind::Sites | Kind::Agenda | Kind::Tasks => rng.pick(&for_lists).clone(),
        Kind::Date | Kind::Choice(_) | Kind::Task => rng.pick(&scalars_for_text).clone(),
        Kind::Bool => rng.pick(&[json!("true"), json!(1), json!(0), json!([]), json!({}), json!("false")]).clone(),
        Kind::Check(_) => {
            let nested = [json!({"ok": "yes"}), json!({"ok": 1}), json!({"ok": true, "note": 5}), json!({"note": "x"})];
            if rng.chance(40) {
                rng.pick(&nested).clone()
            } else {
                rng.pick(&for_lists).clone()
            }
        }
    }
}

fn long_text(rng: &mut Rng, chars: usize) -> String {
    // Multi-byte letters count as one character each, like the limits.
    let unit = *rng.pick(&["x", "ệ", "Đ", "文", "🙂"]);
    unit.repeat(chars)
}

/// A value over the limits `kind` has.
fn over_limit(rng: &mut Rng, kind: Kind) -> Value {
    match kind {
        Kind::Text(max) => {
            if rng.chance(5) {
                json!(long_text(rng, 1_000_000))
            } else {
                let chars = max + 1 + rng.below(50);
                json!(long_text(rng, chars))
            }
        }
        Kind::Conference => json!(format!("{}{}", ConferenceId::generate(), "0".repeat(1 + rng.below(100_000)))),
        Kind::Site => json!("a".repeat(SiteId::MAX_LEN + 1 + rng.below(1_000))),
        Kind::Time => json!(format!("2021-07-23{}", "9".repeat(1 + rng.below(10_000)))),
        // An offset has no limit of its own: over u64 it is a float, which is refused.
        Kind::Number(_, u64::MAX) => json!(1.8446744073709552e19),
        Kind::Number(_, max) => json!(max + 1 + rng.below(1_000) as u64),
        Kind::People(max) => {
            if rng.chance(50) {
                json!((0..=max).map(|i| person(&format!("Đại biểu {i}"))).collect::<Vec<_>>())
            } else if rng.chance(50) {
                json!([{"name": long_text(rng, MAX_NAME_CHARS + 1), "title": ""}])
            } else {
                json!([{"name": "Hà Văn Toàn", "title": long_text(rng, MAX_PERSON_TITLE_CHARS + 1)}])
            }
        }
        Kind::Texts(max, chars) => {
            if rng.chance(50) {
                json!(vec!["Một dòng"; max + 1])
            } else {
                json!([long_text(rng, chars + 1)])
            }
        }
        Kind::Sites => {
            if rng.chance(10) {
                json!((0..=MAX_SITES).map(|i| format!("s{i}")).collect::<Vec<_>>())
            } else {
                json!(["ba-be", "a".repeat(SiteId::MAX_LEN + 1)])
            }
        }
        Kind::Agenda => {
            if rng.chance(50) {
                json!(vec![json!({"title": "Mục"}); MAX_AGENDA_ITEMS + 1])
            } else {
                json!([{"title": long_text(rng, MAX_TITLE_CHARS + 1)}])
            }
        }
        Kind::Tasks => {
            let task = json!({"description": "Việc", "owner_site": "ba-be", "due": "2021-12-31"});
            if rng.chance(50) {
                json!(vec![task; MAX_ITEM_ENTRIES + 1])
            } else {
                json!([{"description": long_text(rng, MAX_TEXT_CHARS + 1), "owner_site": "ba-be", "due": "2021-12-31"}])
            }
        }
        Kind::Date => json!(format!("2021-12-31{}", "9".repeat(1 + rng.below(10_000)))),
        Kind::Choice(_) => {
            let chars = 1 + rng.below(10_000);
            json!(long_text(rng, chars))
        }
        // A boolean has no limit: a number in its place is refused.
        Kind::Bool => json!(2),
        Kind::Task => json!(format!("{}-0", "9".repeat(7 + rng.below(1_000)))),
        Kind::Check(max) => {
            let chars = max + 1 + rng.below(50);
            json!({"ok": false, "note": long_text(rng, chars)})
        }
    }
}

const BAD_CONFERENCE_IDS: &[&str] = &[
    "*",
    ">",
    "a.b",
    "hoinghi.v1.>",
    "",
    " ",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "0191a3c2-7c4b-7a51-9d3e-2b8f4c1a9e70.*",
    "0191a3c2-7c4b-7a51-9d3e-2b8f4c1a9e7",
    "../../etc/passwd",
    "0191a3c2-7c4b-7a51-9d3e-2b8f4c1a9e70\n",
    "'; DROP TABLE conferences; --",
];
const BAD_SITE_IDS: &[&str] =
    &["ba.be", "*", ">", "ba.*", "BA-BE", "Ba-Be", "ba be", "", "bắc-kạn", "ba\nbe", "ba_be", "ba\u{0}be", "ba/be"];
const BAD_TIMES: &[&str] = &[
    "2021-13-01T08:00:00+07:00",
    "2021-02-30T08:00:00+07:00",
    "2021-07-23T25:00:00+07:00",
    "2021-07-23T08:61:00+07:00",
    "2021-07-23T08:00:00+25:00",
    "2021-07-23T08:00:00",
    "2021-07-23",
    "23/07/2021 08:00",
    "0000-00-00T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "-9999999-01-01T00:00:00Z",
    "",
    "now",
];
const BAD_TASK_IDS: &[&str] = &["", "1", "a-b", "-1-0", "1-", "1-2-3", "1.0", "*", ">", " 1-0", "01-0", "1--0"];
const BAD_DATES: &[&str] =
    &["2021-02-30", "2021-13-01", "2021-00-10", "2021-12-32", "31/12/2021", "2021-12-31T00:00:00Z", "", "hôm qua"];

/// A value of the right JSON type whose content is out of range or not an id.
fn bad_value(rng: &mut Rng, kind: Kind) -> Value {
    match kind {
        Kind::Conference => json!(rng.pick(BAD_CONFERENCE_IDS)),
        Kind::Site => json!(rng.pick(BAD_SITE_IDS)),
        Kind::Sites => json!([rng.pick(BAD_SITE_IDS)]),
        Kind::Time => json!(rng.pick(BAD_TIMES)),
        Kind::Number(min, max) => {
            let mut options = vec![json!(-1), json!(-10_000), json!(i64::MIN), json!(1e300)];
            if max < u32::MAX as u64 {
                options.push(json!(4_294_967_296u64));
            }
            if min > 0 {
                options.push(json!(min - 1));
            }
            rng.pick(&options).clone()
        }
        // Control characters are refused in every text; a required text may not be blank.
        Kind::Text(_) => json!(rng.pick(&["a\u{0}b", "\u{7}", "x\u{1b}[31m", "\u{7f}"])),
        Kind::People(_) => json!([{"name": rng.pick(&["", "   ", "a\u{0}b"]), "title": ""}]),
        Kind::Texts(..) => json!([rng.pick(&["", "  ", "a\u{0}b"])]),
        Kind::Agenda => json!(rng.pick(&[json!([]), json!([{"title": ""}])])),
        Kind::Tasks => {
            let owner = rng.pick(&["ba.be", "*", "", "bang-lung"]);
            json!([{"description": "Việc", "owner_site": owner, "due": rng.pick(BAD_DATES)}])
        }
        Kind::Date => json!(rng.pick(BAD_DATES)),
        Kind::Choice(words) => {
            let others: Vec<&str> = ["", "CSV", "xml", "Done", "accept ", "true", "*", "progress", "csv"]
                .into_iter()
                .filter(|w| !words.contains(w))
                .collect();
            json!(rng.pick(&others))
        }
        Kind::Bool => json!(rng.pick(&["yes", "có", ""])),
        Kind::Task => json!(rng.pick(BAD_TASK_IDS)),
        // A failed item needs a note; no text may hold control characters.
        Kind::Check(_) => rng
            .pick(&[json!({"ok": false}), json!({"ok": false, "note": "  "}), json!({"ok": true, "note": "a\u{0}b"})])
            .clone(),
    }
}

/// `depth` nested arrays (or objects) around a value.
fn nested(rng: &mut Rng, depth: usize) -> String {
    if rng.chance(50) {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    }
}

fn with_field(body: &Value, name: &str, value: Value) -> Vec<u8> {
    let mut body = body.clone();
    body[name] = value;
    serde_json::to_vec(&body).unwrap()
}

/// One random broken input for a template. A body whose fields are all optional may be empty
/// (`notices.overdue` takes an empty body as `{}`) or `[]` (serde's sequence form of a struct with
/// every field left out): such an input becomes `[{}]`, which is refused.
fn mutate(rng: &mut Rng, t: &Template) -> Case {
    let mut case = mutate_any(rng, t);
    let blank = case.payload.iter().all(u8::is_ascii_whitespace);
    if !t.fields.iter().any(|f| f.required) && (blank || case.payload == b"[]") {
        case.payload = b"[{}]".to_vec();
    }
    case
}

fn mutate_any(rng: &mut Rng, t: &Template) -> Case {
    let valid = serde_json::to_vec(&t.body).unwrap();
    let f = *rng.pick(&t.fields);
    let case = |category, payload| Case { category, subject: t.subject.clone(), payload, allowed: INVALID };
    match rng.below(12) {
        0 => {
            let n = *rng.pick(&[0, 1, 7, 64, 512, 4096]);
            case("random bytes", rng.bytes(n))
        }
        1 => {
            let mut p = valid.clone();
            let sequences: [&[u8]; 5] =
                [&[0xff], &[0xc3, 0x28], &[0xed, 0xa0, 0x80], &[0xf8, 0x88, 0x80, 0x80], &[0x80]];
            let bad = *rng.pick(&sequences);
            // Inside a string value, so that only the encoding is wrong.
            let at = p.iter().position(|b| *b == b'"').map_or(0, |q| q + 1);
            p.splice(at..at, bad.iter().copied());
            case("invalid UTF-8", p)
        }
        2 => {
            let root = *rng.pick(&["[]", "null", "\"texte\"", "42", "true", "[{}]", "{\"conference_id\":[]}x"]);
            case("wrong JSON type of the body", root.as_bytes().to_vec())
        }
        3 => case("wrong field type", with_field(&t.body, f.name, wrong_type_of(rng, f))),
        4 if t.fields.iter().any(|f| f.required) => {
            let required: Vec<&Field> = t.fields.iter().filter(|f| f.required).collect();
            let gone = rng.pick(&required).name;
            let mut body = t.body.clone();
            body.as_object_mut().unwrap().remove(gone);
            case("missing field", serde_json::to_vec(&body).unwrap())
        }
        4 | 5 => {
            let unknown: Vec<&str> =
                ["extra", "Conference_Id", "conference_id ", "admin", "__proto__", "version", "site"]
                    .into_iter()
                    .filter(|n| !t.fields.iter().any(|f| f.name == *n))
                    .collect();
            let name = *rng.pick(&unknown);
            let value = rng.pick(&[json!(1), json!("x"), json!(null), json!({"a": 1})]).clone();
            case("unknown field", with_field(&t.body, name, value))
        }
        6 | 7 => case("over a limit", with_field(&t.body, f.name, over_limit(rng, f.kind))),
        8 => {
            let depth = *rng.pick(&[129, 1_000, 100_000]);
            if rng.chance(30) {
                case("deeply nested JSON", nested(rng, depth).into_bytes())
            } else {
                let mut body = t.body.clone();
                body[f.name] = json!("__NESTED__");
                let text = serde_json::to_string(&body).unwrap().replace("\"__NESTED__\"", &nested(rng, depth));
                case("deeply nested JSON", text.into_bytes())
            }
        }
        9 | 10 => {
            let category = match f.kind {
                Kind::Conference | Kind::Site | Kind::Sites => "id with wildcards, dots or capitals",
                Kind::Time | Kind::Tasks | Kind::Date => "date out of range",
                Kind::Task => "task id that is not <item>-<index>",
                Kind::Choice(_) | Kind::Bool => "word that is not one of the choices",
                Kind::Number(..) => "negative or overflowing number",
                _ => "empty text or control characters",
            };
            case(category, with_field(&t.body, f.name, bad_value(rng, f.kind)))
        }
        _ => match &t.site_subject {
            Some(pattern) => {
                let token =
                    rng.pick(&["Ba_Be", "BA-BE", "ba_be", "bắc-kạn", "ba%20be", "ba+be", "ba@be", "ba~be", "ÀÁ"]);
                let long = "a".repeat(SiteId::MAX_LEN + 1);
                let token = if rng.chance(20) { long.as_str() } else { token };
                Case {
                    category: "site token that is not a slug",
                    subject: pattern.replace("{}", token),
                    payload: valid,
                    allowed: INVALID,
                }
            }
            None => case("wrong field type", with_field(&t.body, f.name, wrong_type_of(rng, f))),
        },
    }
}

/// Inputs that are well-formed but name something that is not there.
fn absent(t: &Template) -> Vec<Case> {
    let mut cases = Vec::new();
    if t.fields.iter().any(|f| matches!(f.kind, Kind::Conference)) && t.subject != scheduling::CREATE {
        let unknown = ConferenceId::generate();
        cases.push(Case {
            category: "unknown conference (404; 409 where documented)",
            subject: t.subject.clone(),
            payload: with_field(&t.body, "conference_id", json!(unknown)),
            allowed: t.unknown_conference,
        });
    }
    if let Some(pattern) = t.site_subject.as_ref().filter(|_| !t.own_list) {
        cases.push(Case {
            category: "site or person with no part in the conference (403, 404 for a site's reads)",
            subject: pattern.replace("{}", "xa-khong-duoc-moi"),
            payload: serde_json::to_vec(&t.body).unwrap(),
            allowed: t.uninvited,
        });
    }
    cases
}

/// Checks one reply; returns a complaint, if any.
fn judge(
    case: &Case,
    reply: Result<hoinghi_tests::RawReply, hoinghi_shared::ApiError>,
) -> Result<(u16, String), String> {
    let what = || {
        let shown: String = String::from_utf8_lossy(&case.payload).chars().take(120).collect();
        format!("{} on {} ({} bytes: {shown:?})", case.category, case.subject, case.payload.len())
    };
    let reply = reply.map_err(|e| format!("{}: no reply: {e}", what()))?;
    let status =
        reply.status.ok_or_else(|| format!("{}: accepted: {}", what(), String::from_utf8_lossy(&reply.payload)))?;
    // A body larger than its subject takes is refused for its size (413) before it is read.
    let oversized = case.payload.len() > hoinghi_shared::sizes::max_request_bytes(&case.subject);
    let allowed: &[u16] = if oversized { &[413] } else { case.allowed };
    if !allowed.contains(&status) {
        return Err(format!("{}: status {status}, expected {allowed:?}: {:?}", what(), reply.api_error()));
    }
    if reply.error_header.as_deref().is_none_or(|h| h.trim().is_empty()) {
        return Err(format!("{}: no Nats-Service-Error header", what()));
    }
    let body: ErrorBody = serde_json::from_slice(&reply.payload)
        .map_err(|e| format!("{}: error body is not the contract's: {e}", what()))?;
    if body.error.code != ErrorCode::from_status(status).unwrap_or(ErrorCode::Unavailable)
        || body.error.message.trim().chars().count() < 8
    {
        return Err(format!("{}: unhelpful error {:?}", what(), body.error));
    }
    Ok((status, body.error.message))
}

async fn ping_all(stack: &Stack) {
    for s in Service::ALL {
        stack.api.ping(s).await.unwrap_or_else(|e| panic!("{s} stopped answering PING: {e}\n{}", stack.logs(40)));
    }
}

async fn fuzz(rounds: usize) {
    let started = Instant::now();
    let stack = stack().await;
    let api = &stack.api;
    let drafted = flow::run_to_draft(api).await.unwrap();
    let published = flow::run_to_draft(api).await.unwrap();
    let minutes = flow::write_and_publish(api, published).await.unwrap();
    let ba_be = scenario::site("ba-be");
    let task = minutes
        .items
        .iter()
        .flat_map(|item| item.tasks.iter().enumerate().map(move |(i, t)| (item.index, i, &t.owner_site)))
        .find(|(_, _, owner)| **owner == ba_be)
        .map(|(item, index, _)| hoinghi_shared::ids::TaskId::new(item, index))
        .expect("the scenario's minutes give Ba Bể a task");
    let invited = api.create(&scenario::create_conference()).await.unwrap().id;
    flow::invite(api, invited).await.unwrap();
    stack.wait_for_reactions(hoinghi_tests::ASYNC_TIMEOUT).await.unwrap();
    // The technical check is open, so that a site's report reaches the checks of its content.
    flow::wait_roster(api, invited, hoinghi_shared::api::RosterState::Open).await.unwrap();
    api.open_technical_check(invited).await.unwrap();
    let before = stack.event_totals().await.unwrap();
    let (roster, draft) = (api.roster(invited).await.unwrap(), api.minutes(drafted).await.unwrap());
    let conference = api.conference(invited).await.unwrap();

    let seed = std::env::var("HOINGHI_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x0B4C_2021_0723);
    let mut rng = Rng(seed);
    let templates = templates(Targets { invited, drafted, published, task });
    let mut cases = Vec::new();
    for t in &templates {
        cases.extend(absent(t));
        for _ in 0..rounds {
            cases.push(mutate(&mut rng, t));
        }
    }
    let total = cases.len();
    let bytes: usize = cases.iter().map(|c| c.payload.len()).sum();

    let mut complaints = Vec::new();
    let mut by_category: BTreeMap<(&str, u16), (usize, String)> = BTreeMap::new();
    let mut longest_message = 0;
    for chunk in cases.chunks(250) {
        let replies: Vec<_> = futures::stream::iter(chunk)
            .map(|case| async move { (case, api.raw(&case.subject, case.payload.clone(), None).await) })
            .buffer_unordered(8)
            .collect()
            .await;
        for (case, reply) in replies {
            if let Ok(r) = &reply {
                longest_message = longest_message.max(r.api_error().map_or(0, |e| e.message.len()));
            }
            match judge(case, reply) {
                Ok((status, message)) => {
                    let entry = by_category.entry((case.category, status)).or_insert((0, message));
                    entry.0 += 1;
                }
                Err(complaint) => complaints.push(complaint),
            }
        }
        ping_all(&stack).await;
        assert!(complaints.len() < 20, "{} complaints already:\n{}", complaints.len(), complaints.join("\n"));
    }

    println!("fuzz: seed {seed:#x}: {total} inputs ({bytes} bytes) on {} subjects", templates.len());
    for ((category, status), (count, example)) in &by_category {
        let example: String = example.chars().take(110).collect();
        println!("fuzz:   {count:5} × {status} {category}, e.g. {example:?}");
    }
    println!("fuzz: longest error message {longest_message} bytes; finished in {:.1?}", started.elapsed());
    assert!(complaints.is_empty(), "{} inputs were not refused properly:\n{}", complaints.len(), complaints.join("\n"));
    ping_all(&stack).await;
    assert_eq!(stack.event_totals().await.unwrap(), before, "no input wrote an event");
    assert_eq!(stack.dead_letters().await.unwrap(), 0);
    assert_eq!(api.roster(invited).await.unwrap(), roster, "the roster is unchanged");
    assert_eq!(api.minutes(drafted).await.unwrap(), draft, "the draft is unchanged");
    assert_eq!(api.conference(invited).await.unwrap(), conference, "the conference is unchanged");

    // The bodies the inputs were made from are themselves valid: sent as they are, none is refused
    // as invalid (attendance first, while the roster is open; the cancellation before the start).
    let rank = |t: &Template| match t.subject.as_str() {
        s if s.starts_with("hoinghi.v1.attendance.") => 0,
        s if s.starts_with("hoinghi.v1.minutes.") => 1,
        scheduling::CANCEL => 2,
        _ => 3,
    };
    let mut valid = templates.clone();
    valid.sort_by_key(rank);
    for t in &valid {
        let reply = api.raw(&t.subject, serde_json::to_vec(&t.body).unwrap(), None).await.unwrap();
        assert_ne!(reply.status, Some(400), "the template of {} is itself invalid: {:?}", t.subject, reply.api_error());
    }
}

/// About 7,500 inputs (200 per subject, plus the well-formed ones that name something absent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subject_refuses_hostile_input_and_keeps_serving_with_its_state_unchanged() {
    fuzz(200).await;
}

/// The long run: `HOINGHI_FUZZ_ROUNDS` (default 2,000) inputs per subject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: run with --include-ignored"]
async fn fuzz_soak() {
    let rounds = std::env::var("HOINGHI_FUZZ_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    fuzz(rounds).await;
}
