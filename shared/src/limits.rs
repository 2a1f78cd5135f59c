//! Input size limits and the size budgets of a conference. A request over any of them is refused
//! with `invalid` and changes nothing.
//!
//! # Why budgets
//! The per-field limits alone do not compose: a message is at most the server's `max_payload`
//! ([`MAX_PAYLOAD`], 8 MiB), and thousands of sites each within its limits could make one larger.
//! What grows with the sites is therefore either **kept out of line** or **bounded**:
//!
//! - **Out of line**: the final attendance record (every site's line, with the quorum and the
//!   speakers: `roster_closed`, then `draft_opened`) and the published minutes (which list every
//!   site) are written to the JetStream object store (`HOINGHI_RECORDS`, the runtime's `records`)
//!   when larger than 256 KiB, and the events carry a reference (name, size, SHA-256 of every byte)
//!   instead; the replies that show them give them a page at a time. They no longer bound a
//!   conference's size.
//! - **Bounded**: the conference's details, its sites' ids and names and its own text, still
//!   travel whole in one message: the events that schedule it, invite it and open, close and draft
//!   its roster (`conference_scheduled`, `invitations_issued`, `roster_opened`, `roster_closed`,
//!   `draft_opened`, beside the record's reference) and the conference's view
//!   (`conferences.get`, the create reply). [`DETAILS_BUDGET`] bounds them, checked by
//!   `conferences.create` ([`conference_fixed_cost`]); every other reply listing sites gives a
//!   page that fits [`REPLY_BUDGET`] ([`shrink_page_to_fit`]), or, for the minutes'
//!   acknowledgements, holds ids only ([`MAX_SITES`] × a slug).
//!
//! The other budgets bound what the record and the minutes hold, for the services' memory and for
//! the replies that show a whole item:
//!
//! - [`RECORD_VARIABLE_BUDGET`]: the sites' answers (delegates' names and titles, or a decline
//!   reason), shared equally by the invited sites: each site's answer may cost at most
//!   [`site_answer_budget`] (`confirm` and `decline` check it).
//! - [`FLOOR_SPEAKERS_BUDGET`]: the speakers the record carries to the minutes (those who had the
//!   floor, [`floor_speaker_cost`]; the roster's close takes them in order until it is spent).
//! - [`RECORD_PRESENCE_BUDGET`]: the sites' live presence in the record.
//! - [`MINUTES_CONTENT_BUDGET`]: everything the minute-taker records over all agenda items
//!   ([`recorded_item_cost`]; `minutes.record` checks it).
//!
//! Costs are upper bounds of bytes, in the worst output form ([`content_cost`]), plus measured
//! per-entry overheads (JSON keys, a Markdown table row). They measure what the events carry, so
//! they take the event payload types ([`crate::events::Person`], [`crate::events::Task`]).
//!
//! The benchmark's conference of 50,000 sites (named `Điểm cầu xã số N`, each confirming two
//! delegates) takes 2.67 MiB of the details budget, and each site's answer 133 of the 335 bytes it
//! may take (see the tests); at 50,000 sites, a site with a 16-byte id may have a name of 110 bytes.

use crate::events::{Chair, ConferenceDetails, Person, Task};
use crate::SiteId;

/// Longest title (conference or agenda item), in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest name of a person, site or organiser, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest position or title of a person, in characters.
pub const MAX_PERSON_TITLE_CHARS: usize = 500;
/// Longest speaker entry ("Name, position, site"), in characters.
pub const MAX_SPEAKER_CHARS: usize = 400;
/// Longest free text (summary, reason, conclusion, task), in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most sites linked to one conference (the details budget may allow fewer with very long names).
pub const MAX_SITES: usize = 50_000;
/// Most chairs, guests, delegates or speakers in one list.
pub const MAX_PEOPLE: usize = 200;
/// Most agenda items.
pub const MAX_AGENDA_ITEMS: usize = 100;
/// Most conclusions or tasks on one agenda item.
pub const MAX_ITEM_ENTRIES: usize = 500;
/// Largest headcount a bridge may declare.
pub const MAX_HEADCOUNT: u32 = 10_000;
/// Longest conference, in hours.
pub const MAX_DURATION_HOURS: i64 = 7 * 24;
/// Longest note on one item of a technical check, in characters.
pub const MAX_CHECK_NOTE_CHARS: usize = 500;
/// Longest topic of a request for the floor, in characters.
pub const MAX_FLOOR_TOPIC_CHARS: usize = 200;
/// Most speakers of one agenda item the attendance record carries to the minutes (the first who had
/// the floor on it; the floor's history keeps every turn). See [`FLOOR_SPEAKERS_BUDGET`].
pub const MAX_FLOOR_SPEAKERS_PER_ITEM: usize = 20;
/// Longest reason the secretariat gives for a bridge absent at the roll call, in characters.
pub const MAX_ROLL_CALL_REASON_CHARS: usize = 500;

// ---------------------------------------------------------------- size budgets

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The server's `max_payload` the budgets are designed for ([`crate::sizes::SERVER_MAX_PAYLOAD`],
/// 8 MiB; nats-server warns above 8 MB). Every message a service writes or sends (request, reply,
/// event) must fit in it.
pub const MAX_PAYLOAD: usize = crate::sizes::SERVER_MAX_PAYLOAD;

/// The most an event or a reply may take with content within the budgets: 7.5 MiB, leaving half a
/// MiB of [`MAX_PAYLOAD`] for headers and the event envelope.
pub const MESSAGE_BUDGET: usize = 7 * MIB + MIB / 2;

/// The most a reply may take: a view holding a page of a long list (the minutes' attendance and
/// document, the roster's sites) is answered with a shorter page when the page asked for would not fit.
pub const REPLY_BUDGET: usize = MESSAGE_BUDGET;

/// A conference's details, which travel whole in one message (the events that schedule, invite,
/// open, close and draft it; its view): [`conference_fixed_cost`] of its sites' ids and names and
/// of its own text must not exceed 7 MiB (checked when it is created), leaving half a MiB of
/// [`MESSAGE_BUDGET`] for what those messages carry beside them (a record's reference, a view's
/// status, the envelope).
pub const DETAILS_BUDGET: usize = 7 * MIB;

/// The sites' answers in a conference's attendance record: 16 MiB, shared equally by the invited
/// sites ([`site_answer_budget`]). The record is stored out of line when large, so this bounds the
/// record object and what the attendance and minutes services hold of it in memory, not a message.
pub const RECORD_VARIABLE_BUDGET: usize = 16 * MIB;

/// What the speakers the attendance record carries to the minutes (those who had the floor, see
/// [`crate::events::FloorSpeaker`]) may take over one conference, as [`floor_speaker_cost`] counts
/// them: 64 KiB (in the minutes reply they show twice, the view and the document). At most [`MAX_FLOOR_SPEAKERS_PER_ITEM`] per item are carried, in the order the
/// floor was given, and none once this budget is spent (the floor's history keeps them all). In the
/// minutes they stand for the items the minute-taker has not recorded (a record replaces them).
pub const FLOOR_SPEAKERS_BUDGET: usize = 64 * KIB;

/// Bytes a carried speaker takes besides its site's id and name and its topic:
/// `{"item":99,"site_id":"","site_name":"","topic":""},` (51); its line in the minutes
/// (`<name>: <topic>` with the item's list overhead) takes less.
pub const FLOOR_SPEAKER_OVERHEAD: usize = 51;

/// Everything the minute-taker records for one conference, over all agenda items (speakers,
/// summaries, conclusions, tasks), as [`recorded_item_cost`] counts it: 256 KiB.
pub const MINUTES_CONTENT_BUDGET: usize = 256 * KIB;

/// What one ASCII punctuation or control character may take once escaped (`&quot;`, `\u0000`).
pub const ESCAPED_CHAR_COST: usize = 6;

/// Bytes a linked site takes in the conference's details besides its id and name: the JSON keys of
/// its entry (`{"id":…,"name":…},`, 20 with its comma). Its line of the attendance record is not
/// counted: the record is stored out of line when large, and shown a page at a time.
pub const SITE_ENTRY_OVERHEAD: usize = 20;

/// Bytes one recorded quorum takes, in the attendance record (`{"at":"…","item":99,"rule":{"basis":
/// "delegates","percent":100},"quorate":false,"required":…,"present":…,"total":…}`, at most 170
/// with 9-digit counts) and as its line in the minutes (`| Bắt đầu mục 100 | Đại biểu có mặt: …/… —
/// không đủ số lượng theo quy định (100% đại biểu, cần …) |`, at most 220): a fixed size, since the
/// snapshot carries no text anyone typed (the minutes name the agenda item by its number). A
/// conference with a quorum rule records one at the start of the session and at most one at the
/// start of each agenda item ([`quorum_fixed_cost`]), whose lines a minutes reply may show.
pub const QUORUM_SNAPSHOT_OVERHEAD: usize = 512;

/// Bytes one person (chair, guest or delegate) takes besides name and title (`{"name":"","title":""},`).
pub const PERSON_OVERHEAD: usize = 23;

/// Bytes a confirmation takes besides its delegates: the headcount's digits beyond the first.
pub const CONFIRMATION_OVERHEAD: usize = 4;

/// Bytes a refusal takes besides its reason (`,"decline_reason":""`; `Lý do: ` in the document).
pub const DECLINE_OVERHEAD: usize = 20;

/// Bytes one agenda item takes besides its title, in any one form (its entry in a minutes view,
/// `{"index":99,"title":"","recorded":false,…}`, is the largest).
pub const AGENDA_ITEM_OVERHEAD: usize = 128;

/// How many times the conference's own text (title, organiser, host, chairs, guests, agenda) counts
/// in its fixed cost: once in the details, and up to twice in a minutes reply (the view and a page
/// of the document), plus one for a margin.
pub const CONFERENCE_TEXT_COPIES: usize = 3;

/// Bytes of a conference's messages that do not depend on content: the event envelope, dates, keys,
/// the document's headings and the table headers.
pub const CONFERENCE_OVERHEAD: usize = 8 * KIB;

/// Bytes a recorded agenda item takes besides its content (the document's headings for speakers,
/// conclusions and the task table).
pub const RECORDED_ITEM_OVERHEAD: usize = 256;

/// Bytes one speaker or conclusion takes besides its text.
pub const ITEM_ENTRY_OVERHEAD: usize = 8;

/// Bytes one task takes besides its description, its owner's id and its owner's name.
pub const TASK_OVERHEAD: usize = 64;

/// An upper bound of the bytes `text` can take once escaped in any output form (JSON, Markdown,
/// HTML, and Markdown inside JSON): each ASCII punctuation or control character (newline, tab)
/// counts [`ESCAPED_CHAR_COST`], every other character (space included) its UTF-8 length.
pub fn content_cost(text: &str) -> usize {
    text.chars()
        .map(|c| if c.is_ascii_punctuation() || c.is_ascii_control() { ESCAPED_CHAR_COST } else { c.len_utf8() })
        .sum()
}

/// What a linked site takes of the details budget: its id and name plus [`SITE_ENTRY_OVERHEAD`].
/// Ids are slugs, never escaped.
pub fn site_fixed_cost(id: &str, name: &str) -> usize {
    id.len() + content_cost(name) + SITE_ENTRY_OVERHEAD
}

/// What one person takes: name, title and [`PERSON_OVERHEAD`].
pub fn person_cost(person: &Person) -> usize {
    content_cost(&person.name) + content_cost(&person.title) + PERSON_OVERHEAD
}

/// What one chair takes: name, title, person id and [`PERSON_OVERHEAD`].
pub fn chair_cost(chair: &Chair) -> usize {
    content_cost(&chair.name)
        + content_cost(&chair.title)
        + chair.person_id.as_ref().map_or(0, |p| p.as_str().len())
        + PERSON_OVERHEAD
}

/// One copy of the conference's own text: title, organiser, host, chairs, minute-takers, guests and
/// agenda.
pub fn conference_text_cost(details: &ConferenceDetails) -> usize {
    content_cost(&details.title)
        + content_cost(&details.organizer)
        + details.host_site.id.as_str().len()
        + content_cost(&details.host_site.name)
        + details.chairs.iter().map(chair_cost).sum::<usize>()
        + details.minute_takers.iter().map(|p| p.as_str().len() + ITEM_ENTRY_OVERHEAD).sum::<usize>()
        + details.guests.iter().map(person_cost).sum::<usize>()
        + details.agenda.iter().map(|a| content_cost(&a.title) + AGENDA_ITEM_OVERHEAD).sum::<usize>()
}

/// The sites' part of the fixed cost: [`site_fixed_cost`] of every linked site.
pub fn sites_fixed_cost(details: &ConferenceDetails) -> usize {
    details.sites.iter().map(|s| site_fixed_cost(s.id.as_str(), &s.name)).sum()
}

/// The fixed cost of a conference, which must not exceed [`DETAILS_BUDGET`]:
/// [`CONFERENCE_TEXT_COPIES`] × its own text + [`CONFERENCE_OVERHEAD`] + its sites.
pub fn conference_fixed_cost(details: &ConferenceDetails) -> usize {
    CONFERENCE_TEXT_COPIES * conference_text_cost(details)
        + CONFERENCE_OVERHEAD
        + sites_fixed_cost(details)
        + quorum_fixed_cost(details)
}

/// What the recorded quorum may take: for a conference with a quorum rule,
/// [`QUORUM_SNAPSHOT_OVERHEAD`] for the start of the session and for each agenda item; nothing
/// without a rule.
pub fn quorum_fixed_cost(details: &ConferenceDetails) -> usize {
    if details.quorum.is_some() {
        (details.agenda.len() + 1) * QUORUM_SNAPSHOT_OVERHEAD
    } else {
        0
    }
}

/// What the live presence of all sites may take in the attendance record (`roster_closed`,
/// `draft_opened`): 16 MiB, shared equally by the invited sites ([`presence_interval_cap`]), so that
/// every site of a 50,000-site conference keeps its exact connected total and 4 intervals (the
/// earliest merged beyond); the events in the log keep every transition. It bounds the record (out
/// of line when large) and the services' memory, not a message.
pub const RECORD_PRESENCE_BUDGET: usize = 16 * MIB;

/// Most connected intervals one site's line of the record keeps (beyond, the earliest are merged).
pub const MAX_PRESENCE_INTERVALS: usize = 50;

/// Bytes a site's presence takes in the record besides its intervals
/// (`,"presence":{"connected_s":1234567,"intervals":[],"merged":99}`).
pub const PRESENCE_OVERHEAD: usize = 64;

/// Bytes one closed interval takes in the record
/// (`{"from":"2021-07-23T01:00:00Z","until":"2021-07-23T04:30:00Z"},`, times to the second).
pub const PRESENCE_INTERVAL_COST: usize = 63;

/// How many intervals each site's line of the record keeps when `invited_sites` share
/// [`RECORD_PRESENCE_BUDGET`]: at most [`MAX_PRESENCE_INTERVALS`], fewer for a large conference, and
/// 0 when a site's share cannot hold one interval (more than the contract's 50,000 sites, so
/// never): the record then carries no presence (the events in the log still hold every transition).
pub fn presence_interval_cap(invited_sites: usize) -> usize {
    let share = RECORD_PRESENCE_BUDGET / invited_sites.max(1);
    (share.saturating_sub(PRESENCE_OVERHEAD) / PRESENCE_INTERVAL_COST).min(MAX_PRESENCE_INTERVALS)
}

/// The most one site's answer may cost when `invited_sites` sites share the variable budget:
/// [`RECORD_VARIABLE_BUDGET`] / `invited_sites`.
pub fn site_answer_budget(invited_sites: usize) -> usize {
    RECORD_VARIABLE_BUDGET / invited_sites.max(1)
}

/// What a confirmation costs: its delegates ([`person_cost`]) plus [`CONFIRMATION_OVERHEAD`].
pub fn confirmation_cost(delegates: &[Person]) -> usize {
    delegates.iter().map(person_cost).sum::<usize>() + CONFIRMATION_OVERHEAD
}

/// What one speaker carried by the attendance record costs: its site's id (a slug, never escaped) and
/// name, its topic and [`FLOOR_SPEAKER_OVERHEAD`].
pub fn floor_speaker_cost(site_id: &str, site_name: &str, topic: &str) -> usize {
    site_id.len() + content_cost(site_name) + content_cost(topic) + FLOOR_SPEAKER_OVERHEAD
}

/// What a refusal costs: its reason plus [`DECLINE_OVERHEAD`].
pub fn decline_cost(reason: &str) -> usize {
    content_cost(reason) + DECLINE_OVERHEAD
}

/// What one task costs: its description, its owner's id and name (the document names the owner) and
/// [`TASK_OVERHEAD`].
pub fn task_cost(task: &Task, owner_name: &str) -> usize {
    content_cost(&task.description) + task.owner_site.as_str().len() + content_cost(owner_name) + TASK_OVERHEAD
}

/// What one recorded agenda item costs; `owner_name` gives the name of a task's owner site.
pub fn recorded_item_cost(
    speakers: &[String],
    summary: &str,
    conclusions: &[String],
    tasks: &[Task],
    owner_name: &dyn Fn(&SiteId) -> String,
) -> usize {
    let entries = |list: &[String]| list.iter().map(|s| content_cost(s) + ITEM_ENTRY_OVERHEAD).sum::<usize>();
    RECORDED_ITEM_OVERHEAD
        + entries(speakers)
        + content_cost(summary)
        + entries(conclusions)
        + tasks.iter().map(|t| task_cost(t, &owner_name(&t.owner_site))).sum::<usize>()
}

/// The length of `value`'s JSON, counted without building it.
pub fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and the wire types always serialise.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Shortens the page `page(view)` (a list of entries inside a reply `view`) from its end until the
/// view's JSON takes at most `budget` bytes, possibly to no entry at all. Returns how many entries
/// were dropped (0 when the view already fits). The reply says where its page starts and how long
/// the whole list is, so a client reads on from the entries it got.
pub fn shrink_page_to_fit<V, E>(view: &mut V, page: impl Fn(&mut V) -> &mut Vec<E>, budget: usize) -> usize
where
    V: serde::Serialize,
    E: serde::Serialize,
{
    let total = json_len(view);
    if total <= budget {
        return 0;
    }
    let entries = page(view);
    let lens: Vec<usize> = entries.iter().map(|e| json_len(e)).collect();
    // The view is its other fields, then `[`, the entries separated by commas, `]`.
    let base = total - lens.iter().sum::<usize>() - lens.len().saturating_sub(1);
    let mut len = base;
    let mut keep = 0;
    for (i, entry) in lens.iter().enumerate() {
        let next = len + entry + usize::from(i > 0);
        if next > budget {
            break;
        }
        len = next;
        keep += 1;
    }
    let dropped = entries.len() - keep;
    entries.truncate(keep);
    dropped
}

/// A size for people: `812 bytes`, `14.2 KiB`, `256 KiB`, `3.41 MiB`.
pub fn describe_size(bytes: usize) -> String {
    let unit = |size: usize, name: &str, decimals: usize| {
        if bytes.is_multiple_of(size) {
            format!("{} {name}", bytes / size)
        } else {
            format!("{:.*} {name}", decimals, bytes as f64 / size as f64)
        }
    };
    if bytes >= MIB {
        unit(MIB, "MiB", 2)
    } else if bytes >= KIB {
        unit(KIB, "KiB", 1)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::events::{AgendaItem, AttendanceEntry, AttendanceStatus, SiteRef};
    use chrono::{DateTime, Utc};

    fn site(id: &str) -> SiteId {
        SiteId::parse(id).unwrap()
    }

    fn details(sites: Vec<SiteRef>) -> ConferenceDetails {
        ConferenceDetails {
            chairs: vec![Chair {
                name: "Chủ trì Hội nghị".into(),
                title: "Đồng chí chủ trì".into(),
                person_id: Some(crate::ids::PersonId::parse("chu-tri").unwrap()),
            }],
            minute_takers: vec![crate::ids::PersonId::parse("thu-ky").unwrap()],
            agenda: vec![
                AgendaItem { title: "Quán triệt nghị quyết".into() },
                AgendaItem { title: "Thảo luận".into() },
            ],
            ..ConferenceDetails::new(
                "Hội nghị toàn quốc trực tuyến đến cấp xã",
                "Văn phòng Trung ương",
                ("2026-12-01T08:00:00+07:00", "2026-12-01T11:30:00+07:00"),
                SiteRef { id: site("trung-uong"), name: "Trụ sở Trung ương".into() },
                sites,
            )
            .unwrap()
        }
    }

    /// The benchmark's sites and delegates (bench/src/workload.rs).
    fn bench_sites(n: usize) -> Vec<SiteRef> {
        (0..n).map(|i| SiteRef { id: site(&format!("xa-{i:05}")), name: format!("Điểm cầu xã số {i}") }).collect()
    }

    fn bench_delegates(i: usize) -> Vec<Person> {
        vec![
            Person { name: format!("Nguyễn Văn {i}"), title: "Bí thư Đảng ủy xã".into() },
            Person { name: format!("Trần Thị {i}"), title: "Chủ tịch UBND xã".into() },
        ]
    }

    #[test]
    fn a_quorum_rule_counts_a_fixed_size_per_agenda_item_and_one_for_the_start() {
        let plain = details(bench_sites(10));
        assert_eq!(quorum_fixed_cost(&plain), 0, "no rule: nothing recorded");
        let rule = crate::events::QuorumRule { basis: crate::events::QuorumBasis::Delegates, percent: 100 };
        let with = ConferenceDetails { quorum: Some(rule), ..plain.clone() };
        assert_eq!(quorum_fixed_cost(&with), 3 * QUORUM_SNAPSHOT_OVERHEAD, "two items and the start");
        assert_eq!(conference_fixed_cost(&with), conference_fixed_cost(&plain) + 3 * QUORUM_SNAPSHOT_OVERHEAD);
        // The largest snapshot, as the record carries it, fits its share
        let snapshot = crate::events::QuorumSnapshot {
            at: "2021-07-23T01:00:00.123456789Z".parse().unwrap(),
            item: Some(MAX_AGENDA_ITEMS - 1),
            rule,
            quorate: false,
            required: u64::from(MAX_HEADCOUNT) * MAX_SITES as u64,
            present: u64::from(MAX_HEADCOUNT) * MAX_SITES as u64 - 1,
            total: u64::from(MAX_HEADCOUNT) * MAX_SITES as u64,
        };
        let in_record = json_len(&snapshot) + 1;
        let in_minutes = format!("- {} (08:05): {}\n", snapshot.moment_vi(), snapshot.line_vi()).len();
        assert!(in_record + in_minutes <= QUORUM_SNAPSHOT_OVERHEAD, "{in_record} + {in_minutes}");
    }

    #[test]
    fn presence_fits_the_record_within_its_own_budget() {
        // Bắc Kạn's 9 bridges and up to 5,000 sites keep 50 intervals each; 20,000 sites 12; the
        // contract's 50,000 sites 4 each (the earliest merged beyond, the total exact).
        assert_eq!(presence_interval_cap(9), MAX_PRESENCE_INTERVALS);
        assert_eq!(presence_interval_cap(5_000), MAX_PRESENCE_INTERVALS);
        assert_eq!(presence_interval_cap(20_000), 12);
        assert_eq!(presence_interval_cap(MAX_SITES), 4);
        assert!(presence_interval_cap(MAX_SITES) >= 1, "every site of the largest conference keeps its total");
        // A full line of presence costs what the constants say, and all lines stay in the budget.
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        let interval =
            crate::presence::Interval { from: at("2021-07-23T01:00:00Z"), until: Some(at("2021-07-23T04:30:00Z")) };
        for sites in [1, 9, 100, 1_000, 3_000, 20_000, MAX_SITES] {
            let cap = presence_interval_cap(sites);
            let record =
                crate::presence::PresenceRecord { connected_s: 1_234_567, intervals: vec![interval; cap], merged: 99 };
            let line = json_len(&record) + ",\"presence\":".len() + 1;
            assert!(line <= PRESENCE_OVERHEAD + cap * PRESENCE_INTERVAL_COST, "{sites}: {line}");
            assert!(sites * line <= RECORD_PRESENCE_BUDGET, "{sites} sites take {}", sites * line);
        }
    }

    #[test]
    fn content_cost_counts_escapable_characters_six_and_others_their_bytes() {
        assert_eq!(content_cost(""), 0);
        assert_eq!(content_cost("Ba Bể"), 7, "letters and space 1, ể 3");
        assert_eq!(content_cost("|"), 6);
        assert_eq!(content_cost("<\"\\&"), 24);
        assert_eq!(content_cost("a\nb\tc"), 15, "newline and tab escape too");
        assert_eq!(content_cost("😀"), 4);
        assert_eq!(content_cost(&"|".repeat(20_000)), 120_000);
    }

    #[test]
    fn content_cost_bounds_every_escaped_form() {
        let texts = ["|", "\\", "\"", "<", "&", "\n", "\t", "😀", "ể", "a", " ", "Lý do: 'x' > \"y\" | z\\"];
        for text in texts {
            let json = serde_json::to_string(text).unwrap().len() - 2;
            // Markdown table cell (pipe and backslash escaped), then that document inside JSON.
            let cell = text.replace('\\', "\\\\").replace('|', "\\|");
            let cell_in_json = serde_json::to_string(&cell).unwrap().len() - 2;
            let html: usize = text
                .chars()
                .map(|c| match c {
                    '&' => 5,
                    '<' | '>' => 4,
                    '"' | '\'' => 6,
                    c => c.len_utf8(),
                })
                .sum();
            for (form, bytes) in [("JSON", json), ("Markdown in JSON", cell_in_json), ("HTML", html)] {
                assert!(bytes <= content_cost(text), "{text:?} takes {bytes} bytes as {form}");
            }
        }
    }

    /// The smallest roster line: site `a`, no name, checked in (at `checked_in_at`, if given).
    fn empty_line(checked_in_at: Option<DateTime<Utc>>) -> AttendanceEntry {
        AttendanceEntry {
            site_id: site("a"),
            site_name: String::new(),
            status: AttendanceStatus::CheckedIn,
            confirmed: false,
            delegates: vec![],
            headcount: 0,
            decline_reason: None,
            checked_in_at,
            technical_check: None,
            technical_check_failed: vec![],
            presence: None,
        }
    }

    #[test]
    fn the_overheads_are_what_the_json_takes() {
        let at: DateTime<Utc> = "2021-07-23T01:02:03.123456789Z".parse().unwrap();
        let line = empty_line(Some(at));
        let entry_bytes = json(&SiteRef { id: site("a"), name: String::new() }) - 1 + 1; // without the id, with its comma
        assert_eq!(entry_bytes, SITE_ENTRY_OVERHEAD);
        let declined = AttendanceEntry { decline_reason: Some(String::new()), ..line.clone() };
        assert_eq!(json(&declined) - json(&line), DECLINE_OVERHEAD);
        let confirmed = AttendanceEntry { headcount: MAX_HEADCOUNT, ..line.clone() };
        assert_eq!(json(&confirmed) - json(&line), CONFIRMATION_OVERHEAD);
        assert_eq!(json(&Person { name: String::new(), title: String::new() }) + 1, PERSON_OVERHEAD);
    }

    fn json<T: serde::Serialize>(value: &T) -> usize {
        serde_json::to_vec(value).unwrap().len()
    }

    /// `n` sites with ids of `id_len` bytes and names of `name_len` counted bytes (emoji and
    /// letters).
    fn sites_of(n: usize, id_len: usize, name_len: usize) -> Vec<SiteRef> {
        let name = format!("{}{}", "😀".repeat(name_len / 4), "a".repeat(name_len % 4));
        (0..n).map(|i| SiteRef { id: site(&format!("{}{i:05}", "x".repeat(id_len - 5))), name: name.clone() }).collect()
    }

    #[test]
    fn what_travels_whole_fits_a_message_and_no_more() {
        const { assert!(MESSAGE_BUDGET < MAX_PAYLOAD) };
        const { assert!(DETAILS_BUDGET + MIB / 2 <= MESSAGE_BUDGET) };
        assert_eq!(MAX_PAYLOAD, crate::sizes::SERVER_MAX_PAYLOAD, "the budgets assume the servers' max_payload");
        assert!(REPLY_BUDGET <= crate::sizes::max_reply_bytes(crate::sizes::SERVER_MAX_PAYLOAD));
        // Given the most sites, with names as long as the details budget lets them be
        let id_len = 16;
        let base = conference_fixed_cost(&details(vec![]));
        let name_len = (DETAILS_BUDGET - base) / MAX_SITES - id_len - SITE_ENTRY_OVERHEAD;
        let full = details(sites_of(MAX_SITES, id_len, name_len));
        assert!(conference_fixed_cost(&full) <= DETAILS_BUDGET);
        assert!(DETAILS_BUDGET - conference_fixed_cost(&full) < MAX_SITES, "the budget is full");
        // Then every message carrying the details whole fits, the record's reference beside them
        let reference = crate::events::StoredObject {
            object: format!("attendance-record/{}/{}", crate::ConferenceId::generate(), "a".repeat(64)),
            size: 40 * MIB as u64,
            sha256: "a".repeat(64),
        };
        let closed = crate::events::AttendanceEvent::RosterClosed {
            details: full.clone(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: Some(reference.clone()),
        };
        let opened = crate::events::MinutesEvent::DraftOpened {
            details: full.clone(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: Some(reference),
        };
        let mut head = crate::events::EventEnvelope::head(&closed, "service:attendance");
        head.conference_id = Some(crate::ConferenceId::generate());
        head.command_id = Some(format!("attendance:{}", uuid::Uuid::now_v7()));
        head.causation_id = Some(uuid::Uuid::now_v7());
        head.trace_id = Some("0af7651916cd43dd8448eb211c80319c".into());
        for len in [head.encode_with(&closed).unwrap().len(), head.encode_with(&opened).unwrap().len()] {
            assert!(len <= MESSAGE_BUDGET, "{}", describe_size(len));
            assert!(len > DETAILS_BUDGET * 3 / 4, "the sites are most of it: {}", describe_size(len));
        }
        // And the minutes' acknowledgements of every site, ids only, fit a reply beside the text
        let ack = json(&crate::api::Acknowledgement {
            site_id: site(&"x".repeat(64)),
            at: "2021-07-23T01:02:03.123456789Z".parse().unwrap(),
        }) + 1;
        assert!(MAX_SITES * ack + CONFERENCE_TEXT_COPIES * MIB / 2 <= REPLY_BUDGET, "{}", MAX_SITES * ack);
    }

    #[test]
    fn the_benchmarks_conference_fits_the_details_budget_at_50000_sites() {
        let bench = details(bench_sites(50_000));
        let cost = conference_fixed_cost(&bench);
        assert!(cost <= DETAILS_BUDGET, "{} of {}", describe_size(cost), describe_size(DETAILS_BUDGET));
        assert_eq!(describe_size(cost), "2.67 MiB");
        // And at 50,000 sites, a site with a 16-byte id may have a name of about 110 bytes
        let room = (DETAILS_BUDGET - conference_fixed_cost(&details(vec![]))) / 50_000;
        assert_eq!(room - SITE_ENTRY_OVERHEAD - 16, 110);
    }

    #[test]
    fn the_benchmarks_answer_fits_the_share_of_50000_sites() {
        let share = site_answer_budget(50_000);
        assert_eq!(share, 335);
        let largest = (0..50_000).map(|i| confirmation_cost(&bench_delegates(i))).max().unwrap();
        assert_eq!(largest, 133);
        assert!(largest <= share);
        // tests/src/bulk.rs: one delegate per site, a few hundred to a few thousand sites.
        let bulk = confirmation_cost(&[Person {
            name: "Đại biểu bulk-0001".into(),
            title: "Trưởng Ban Dân vận".into(),
        }]);
        assert!(bulk <= site_answer_budget(3_000), "{bulk}");
    }

    #[test]
    fn a_site_answer_budget_is_an_equal_share() {
        assert_eq!(site_answer_budget(1), RECORD_VARIABLE_BUDGET);
        assert_eq!(site_answer_budget(0), RECORD_VARIABLE_BUDGET);
        assert_eq!(site_answer_budget(8), RECORD_VARIABLE_BUDGET / 8);
        assert!(
            site_answer_budget(100)
                < confirmation_cost(&vec![
                    Person {
                        name: "😀".repeat(MAX_NAME_CHARS),
                        title: "😀".repeat(MAX_PERSON_TITLE_CHARS)
                    };
                    MAX_PEOPLE
                ])
        );
        assert!(site_answer_budget(330) < decline_cost(&"|".repeat(MAX_TEXT_CHARS)));
    }

    #[test]
    fn the_fixed_cost_counts_sites_once_and_the_conference_text_three_times() {
        let one = details(vec![SiteRef { id: site("ba-be"), name: "Huyện ủy Ba Bể".into() }]);
        let none = details(vec![]);
        assert_eq!(site_fixed_cost("ba-be", "Huyện ủy Ba Bể"), 5 + 20 + SITE_ENTRY_OVERHEAD);
        assert_eq!(
            conference_fixed_cost(&one) - conference_fixed_cost(&none),
            site_fixed_cost("ba-be", "Huyện ủy Ba Bể")
        );
        assert_eq!(
            conference_fixed_cost(&none),
            CONFERENCE_TEXT_COPIES * conference_text_cost(&none) + CONFERENCE_OVERHEAD
        );
    }

    #[test]
    fn a_carried_speaker_fits_its_overhead() {
        let speaker = crate::events::FloorSpeaker {
            item: MAX_AGENDA_ITEMS - 1,
            site_id: site("a"),
            site_name: String::new(),
            topic: String::new(),
        };
        assert_eq!(json(&speaker) - 1 + 1, FLOOR_SPEAKER_OVERHEAD, "without the id, with its comma");
        assert_eq!(floor_speaker_cost("ba-be", "Huyện ủy Ba Bể", "Ý kiến"), 5 + 20 + 9 + FLOOR_SPEAKER_OVERHEAD);
        // A whole agenda of full items does not fit: the budget is what bounds the record.
        let largest = floor_speaker_cost("a", &"|".repeat(MAX_NAME_CHARS), &"|".repeat(MAX_FLOOR_TOPIC_CHARS));
        assert!(largest * MAX_FLOOR_SPEAKERS_PER_ITEM * MAX_AGENDA_ITEMS > FLOOR_SPEAKERS_BUDGET);
        assert!(largest <= FLOOR_SPEAKERS_BUDGET);
    }

    #[test]
    fn a_task_counts_its_owners_name() {
        let task = Task {
            description: "Rà soát".into(),
            owner_site: site("ba-be"),
            due: chrono::NaiveDate::from_ymd_opt(2021, 9, 30).unwrap(),
        };
        assert_eq!(task_cost(&task, "Huyện ủy Ba Bể"), 9 + 5 + 20 + TASK_OVERHEAD);
        let cost =
            recorded_item_cost(&["A".into()], "B", &[], std::slice::from_ref(&task), &|_| "Huyện ủy Ba Bể".into());
        assert_eq!(cost, RECORDED_ITEM_OVERHEAD + 1 + ITEM_ENTRY_OVERHEAD + 1 + task_cost(&task, "Huyện ủy Ba Bể"));
    }

    #[test]
    fn a_page_that_does_not_fit_is_shortened_until_it_does() {
        #[derive(serde::Serialize)]
        struct View {
            total: usize,
            page: Vec<String>,
        }
        let view = || View { total: 5, page: (0..5).map(|i| format!("{i}").repeat(10)).collect() };
        let full = json_len(&view());
        assert_eq!(full, serde_json::to_vec(&view()).unwrap().len());
        // Given a budget the whole view fits: nothing dropped
        let mut v = view();
        assert_eq!(shrink_page_to_fit(&mut v, |v| &mut v.page, full), 0);
        assert_eq!(v.page.len(), 5);
        // Given one byte less: the last entry goes, and the view fits
        for budget in [full - 1, full - 13, full - 14, 20, 0] {
            let mut v = view();
            let dropped = shrink_page_to_fit(&mut v, |v| &mut v.page, budget);
            assert_eq!(v.page.len(), 5 - dropped);
            assert!(json_len(&v) <= budget || v.page.is_empty(), "{budget}: {}", json_len(&v));
            if let Some(longer) = view().page.get(v.page.len()) {
                assert!(json_len(&v) + longer.len() + 2 + usize::from(!v.page.is_empty()) > budget, "{budget}");
            }
        }
    }

    #[test]
    fn sizes_are_described_for_people() {
        assert_eq!(describe_size(812), "812 bytes");
        assert_eq!(describe_size(14_540), "14.2 KiB");
        assert_eq!(describe_size(DETAILS_BUDGET), "7 MiB");
        assert_eq!(describe_size(MINUTES_CONTENT_BUDGET), "256 KiB");
        assert_eq!(describe_size(MAX_PAYLOAD), "8 MiB");
    }
}
