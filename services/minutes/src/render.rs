//! The published document, in two forms that people read, in Vietnamese, with names rather than
//! ids: Markdown ([`markdown`], the text kept in `minutes_published`) and HTML ([`html`], laid out
//! like a Vietnamese administrative document).
//!
//! Rendering is a pure function of the minutes and the publication time, so the same input always
//! gives the same bytes and the same SHA-256.
//!
//! # User text is text, never structure
//! Everything users typed (the conference's title, organiser, site names, chairs and guests,
//! delegates, decline reasons, agenda titles, speakers, summaries, conclusions, tasks) is escaped by
//! construction, each piece through one function per form:
//!
//! - Markdown: [`md_block`] (a paragraph or a list item) and [`md_line`] (a heading or a table
//!   cell). No maintained crate escapes text *for* CommonMark (`pulldown-cmark-escape` and the like
//!   escape *to* HTML), so the rule is written here, and it is the spec's own: CommonMark 0.31 §2.4
//!   says that any ASCII punctuation character may be backslash-escaped and is then literal text, and
//!   every construct that gives text structure starts with or is made of ASCII punctuation (`#`
//!   headings, `>` quotes, `-` `+` `*` and `1.` `1)` list markers, `---` `===` `***` breaks and setext
//!   underlines, `` ` `` and `~` fences and code spans, `*` `_` emphasis, `[` `]` `(` `)` `!` links and
//!   images, `<` autolinks and raw HTML, `&` entities, `|` table cells, `~` strikethrough, `:` `.`
//!   `@` the bare URLs and e-mail addresses that GitHub-flavoured renderers turn into links). So
//!   [`md_escape`] puts a backslash before *every* ASCII punctuation character, not a chosen few.
//!   The other two ways text becomes structure are handled too: indentation (four spaces or a tab
//!   at the start of a block make an indented code block; the first whitespace character of a block
//!   is written as a numeric character reference, `&#32;` or `&#9;`, which is text) and line
//!   breaks (a blank line would end the paragraph and let the next line start any block): inside a
//!   paragraph or a list item a user's line break becomes a hard line break (`\` at the end of the
//!   line, CommonMark §6.7), the next line continuing the same paragraph (so its leading spaces
//!   cannot start a code block, and a line of spaces is written empty rather than blank); in a heading
//!   or a table cell, which hold one line, it becomes a space.
//! - HTML: the compile-time template `templates/minutes.html` (askama), which escapes every value
//!   for HTML (`&`, `<`, `>`, `"`, `'`); line breaks stay line breaks through `white-space:
//!   pre-line`.
//!
//! The tests below parse the Markdown of a conference full of hostile text with a CommonMark parser
//! (pulldown-cmark with GitHub's extensions, through `hoinghi_tests::commonmark`, which the
//! end-to-end documents test shares) and check that its heading outline is that of a plain
//! conference, that it has no HTML, no link and no image, that the attendance table keeps its rows
//! and columns, and that every user string is in its text exactly once.
//!
//! # Why the HTML is not stored
//! `minutes_published` records the Markdown and the SHA-256 of both forms, not the HTML: the
//! event's size budget ([`hoinghi_shared::limits`]) is designed for the Markdown only, and the HTML
//! adds nothing that is not already in the log, being a pure function of the published minutes and
//! the publication time (also recorded). It is rendered again when asked for, and its hash checked
//! against the recorded one before it is served, so a copy in anyone's hands is verified against
//! the log either way. The template is therefore part of the record: changing how published minutes
//! render would make their HTML fail that check, so a change of layout needs a new template kept
//! beside the old one.

use std::fmt::Write as _;

use askama::Template;
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_shared::events::{AttendanceEntry, AttendanceStatus, Chair, ConferenceDetails, Person};
use sha2::{Digest, Sha256};

use crate::minutes::Minutes;

/// Hex SHA-256 of the UTF-8 bytes of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn vn(at: DateTime<Utc>) -> String {
    at.with_timezone(&Ho_Chi_Minh).format("%H:%M ngày %d/%m/%Y").to_string()
}

fn vn_fixed(at: DateTime<FixedOffset>) -> DateTime<chrono_tz::Tz> {
    at.with_timezone(&Ho_Chi_Minh)
}

/// Appends `line` (one line of user text, no line break in it) as CommonMark text: a backslash
/// before every ASCII punctuation character (CommonMark §2.4), every other character as it is.
fn md_escape(line: &str, out: &mut String) {
    for c in line.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Appends the first character of a block when it is a space or a tab, as a character reference
/// (text, where four of them would start an indented code block); returns the rest.
fn md_leading_space<'a>(text: &'a str, out: &mut String) -> &'a str {
    match text.chars().next() {
        Some(' ') => {
            out.push_str("&#32;");
            &text[1..]
        }
        Some('\t') => {
            out.push_str("&#9;");
            &text[1..]
        }
        _ => text,
    }
}

/// User text as the content of a heading or a table cell, which hold one line: escaped
/// ([`md_escape`]), each line break a space.
pub fn md_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let rest = md_leading_space(text, &mut out);
    for (i, line) in rest.split('\n').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        md_escape(line.strip_suffix('\r').unwrap_or(line), &mut out);
    }
    out
}

/// User text as the content of a paragraph, or of a list item whose content starts `indent` columns
/// in: escaped ([`md_escape`]), each line break a hard line break (`\` then the line break and
/// `indent` spaces), so that every line stays in the same paragraph. Surrounding line breaks are
/// dropped (a paragraph cannot end with a hard break).
pub fn md_block(text: &str, indent: usize) -> String {
    let text = text.trim_matches(|c| c == '\n' || c == '\r');
    let mut out = String::with_capacity(text.len() + 8);
    let rest = md_leading_space(text, &mut out);
    for (i, line) in rest.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            out.push_str("\\\n");
            out.extend(std::iter::repeat_n(' ', indent));
            if line.trim().is_empty() {
                // A line of spaces would be a blank line and end the paragraph.
                continue;
            }
        }
        md_escape(line, &mut out);
    }
    out
}

fn person(p: &Person) -> String {
    person_with(p, |s| s.to_owned())
}

/// A chair as [`person`] shows a person: "name, title".
fn chair(c: &Chair) -> String {
    named_with(&c.name, &c.title, |s| s.to_owned())
}

/// "name, title" (or the name alone), each part through `escape`.
fn person_with(p: &Person, escape: impl Fn(&str) -> String) -> String {
    named_with(&p.name, &p.title, escape)
}

/// "name, title" (or the name alone when the title is empty), each part through `escape`.
fn named_with(name: &str, title: &str, escape: impl Fn(&str) -> String) -> String {
    if title.is_empty() {
        escape(name)
    } else {
        format!("{}, {}", escape(name), escape(title))
    }
}

fn status_vi(r: &AttendanceEntry) -> (&'static str, &'static str) {
    match r.status {
        AttendanceStatus::CheckedIn if r.confirmed => ("Xác nhận tham dự", "Có mặt"),
        AttendanceStatus::CheckedIn => ("Không xác nhận trước", "Có mặt"),
        AttendanceStatus::Confirmed => ("Xác nhận tham dự", "Vắng (không điểm danh)"),
        AttendanceStatus::Declined => ("Báo vắng", "Vắng"),
        AttendanceStatus::Invited => ("Không phản hồi", "Vắng"),
    }
}

/// What both forms say, computed once: dates, counts and each attendance line, in words.
struct Facts {
    when: String,
    chair_label: &'static str,
    counts: String,
    rows: Vec<Row>,
    /// The quorum rule and each recorded quorum, in words (empty without a rule).
    quorum: Vec<String>,
}

/// The recorded quorum in words: the rule, then one line per snapshot, e.g. `Khai mạc phiên họp
/// (08:05): Điểm cầu có mặt: 7/8 — đủ số lượng theo quy định (50% điểm cầu, cần 4)`. No user text.
fn quorum_lines(m: &Minutes, d: &ConferenceDetails) -> Vec<String> {
    let Some(rule) = d.quorum else { return vec![] };
    let mut lines = vec![format!("Quy định số lượng tối thiểu: {}% {} có mặt.", rule.percent, rule.basis.vi())];
    if m.quorum.is_empty() {
        lines.push("Không ghi nhận số lượng có mặt trong phiên họp.".to_owned());
    }
    for s in &m.quorum {
        let at = s.at.with_timezone(&Ho_Chi_Minh).format("%H:%M");
        lines.push(format!("{} ({at}): {}", s.moment_vi(), s.line_vi()));
    }
    lines
}

/// One line of the attendance table; the site's name, delegates and reason are the user's text.
struct Row {
    number: usize,
    site: String,
    answer: &'static str,
    presence: String,
    delegates: Vec<Person>,
    headcount: String,
    reason: Option<String>,
    /// The note for a site whose technical check had not passed by the start (after any reason).
    check: Option<String>,
}

fn facts(m: &Minutes, d: &ConferenceDetails) -> Facts {
    let start = vn_fixed(d.starts_at);
    let end = vn_fixed(d.ends_at);
    let when = if start.date_naive() == end.date_naive() {
        format!("từ {} đến {} ngày {}", start.format("%H:%M"), end.format("%H:%M"), start.format("%d/%m/%Y"))
    } else {
        format!(
            "từ {} ngày {} đến {} ngày {}",
            start.format("%H:%M"),
            start.format("%d/%m/%Y"),
            end.format("%H:%M"),
            end.format("%d/%m/%Y")
        )
    };
    let chair_label = if d.chairs.len() > 1 { "Đồng chủ trì" } else { "Chủ trì" };
    let count = |f: &dyn Fn(&AttendanceEntry) -> bool| m.attendance.iter().filter(|r| f(r)).count();
    let present = count(&|r| r.status == AttendanceStatus::CheckedIn);
    let confirmed = count(&|r| r.confirmed);
    let declined = count(&|r| r.status == AttendanceStatus::Declined);
    let silent = count(&|r| r.status == AttendanceStatus::Invited);
    let people: u32 =
        m.attendance.iter().filter(|r| r.status == AttendanceStatus::CheckedIn).map(|r| r.headcount).sum();
    let counts = format!(
        "Được mời {} điểm cầu: {confirmed} xác nhận tham dự, {declined} báo vắng, {silent} không phản hồi; \
         {present} điểm cầu có mặt (điểm danh) với {people} người theo số đăng ký.",
        m.attendance.len()
    );
    let rows = m
        .attendance
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (answer, presence) = status_vi(r);
            let presence = match r.checked_in_at.map(|at| at.with_timezone(&Ho_Chi_Minh)) {
                Some(at) if at.date_naive() == start.date_naive() => format!("{presence} ({})", at.format("%H:%M")),
                Some(at) => format!("{presence} ({})", at.format("%H:%M %d/%m/%Y")),
                None => presence.to_owned(),
            };
            // Live presence: the connected intervals and their total (system text: times only).
            let presence = match &r.presence {
                Some(p) => format!("{presence}; {}", crate::presence_text::intervals_vi(p, start.date_naive())),
                None => presence,
            };
            Row {
                number: i + 1,
                site: r.site_name.clone(),
                answer,
                presence,
                delegates: r.delegates.clone(),
                headcount: if r.confirmed { r.headcount.to_string() } else { "—".to_owned() },
                reason: r.decline_reason.clone(),
                check: hoinghi_shared::events::check_note_vi(r.technical_check, &r.technical_check_failed),
            }
        })
        .collect();
    Facts { when, chair_label, counts, rows, quorum: quorum_lines(m, d) }
}

/// Renders the minutes of the conference `d` as they will be published at `published_at`, as
/// Markdown. Every piece of user text goes through [`md_line`] or [`md_block`].
pub fn markdown(m: &Minutes, d: &ConferenceDetails, published_at: DateTime<Utc>) -> String {
    let mut out = String::new();
    let facts = facts(m, d);
    let people = |list: &[Person], indent: usize| -> String {
        list.iter().map(|p| person_with(p, |s| md_block(s, indent))).collect::<Vec<_>>().join("; ")
    };
    let chairs = |list: &[Chair], indent: usize| -> String {
        list.iter().map(|c| named_with(&c.name, &c.title, |s| md_block(s, indent))).collect::<Vec<_>>().join("; ")
    };
    let _ = writeln!(out, "# BIÊN BẢN HỘI NGHỊ\n");
    let _ = writeln!(out, "## {}\n", md_line(&d.title));
    let _ = writeln!(out, "- **Cơ quan tổ chức:** {}", md_block(&d.organizer, 2));
    let _ = writeln!(out, "- **Thời gian:** {} (giờ Việt Nam, UTC+07:00)", facts.when);
    let _ = writeln!(
        out,
        "- **Hình thức:** trực tuyến; điểm cầu chính: {}; {} điểm cầu được mời",
        md_block(&d.host_site.name, 2),
        d.sites.len()
    );
    let _ = writeln!(out, "- **{}:** {}", facts.chair_label, chairs(&d.chairs, 2));
    if !d.guests.is_empty() {
        let _ = writeln!(out, "- **Cùng dự:** {}", people(&d.guests, 2));
    }

    let _ = writeln!(out, "\n## Thành phần tham dự\n");
    let _ = writeln!(out, "{}\n", facts.counts);
    let _ = writeln!(out, "| # | Điểm cầu | Trả lời | Điểm danh | Đại biểu | Số người | Ghi chú |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for r in &facts.rows {
        let delegates = if r.delegates.is_empty() {
            "—".to_owned()
        } else {
            r.delegates.iter().map(|p| person_with(p, md_line)).collect::<Vec<_>>().join("; ")
        };
        // A site whose technical check had not passed by the start gets a short note after any reason.
        let reason = r.reason.as_deref().map(|x| format!("Lý do: {}", md_line(x)));
        let note = reason.into_iter().chain(r.check.as_deref().map(md_line)).collect::<Vec<_>>().join("; ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {delegates} | {} | {note} |",
            r.number,
            md_line(&r.site),
            r.answer,
            r.presence,
            r.headcount
        );
    }

    if let Some((rule, snapshots)) = facts.quorum.split_first() {
        let _ = writeln!(out, "\n{rule}\n");
        for line in snapshots {
            let _ = writeln!(out, "- {line}");
        }
    }

    let _ = writeln!(out, "\n## Nội dung hội nghị");
    for (i, agenda) in d.agenda.iter().enumerate() {
        let _ = writeln!(out, "\n### {}. {}\n", i + 1, md_line(&agenda.title));
        let Some(Some(item)) = m.items.get(i) else {
            let speakers = m.prefilled_speakers(i);
            if !speakers.is_empty() {
                let speakers: Vec<String> = speakers.iter().map(|s| md_block(s, 0)).collect();
                let _ = writeln!(out, "**Phát biểu:** {}\n", speakers.join("; "));
            }
            let _ = writeln!(out, "_(không ghi nhận)_");
            continue;
        };
        if !item.speakers.is_empty() {
            let speakers: Vec<String> = item.speakers.iter().map(|s| md_block(s, 0)).collect();
            let _ = writeln!(out, "**Phát biểu:** {}\n", speakers.join("; "));
        }
        let _ = writeln!(out, "{}", md_block(item.summary.trim(), 0));
        if !item.conclusions.is_empty() {
            let _ = writeln!(out, "\n**Kết luận:**\n");
            for c in &item.conclusions {
                let _ = writeln!(out, "- {}", md_block(c, 2));
            }
        }
        if !item.tasks.is_empty() {
            let _ = writeln!(out, "\n**Nhiệm vụ:**\n");
            let _ = writeln!(out, "| Nhiệm vụ | Đơn vị thực hiện | Thời hạn |");
            let _ = writeln!(out, "|---|---|---|");
            for t in &item.tasks {
                let owner = m.site_name(&t.owner_site);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    md_line(&t.description),
                    md_line(&owner),
                    t.due.format("%d/%m/%Y")
                );
            }
        }
    }

    let _ = writeln!(out, "\n## Xác nhận\n");
    let approvers = m.approvers();
    if !approvers.is_empty() {
        let names: Vec<String> = approvers.iter().map(|a| md_block(a, 2)).collect();
        let _ = writeln!(out, "- **Phê duyệt:** {}", names.join("; "));
    }
    let _ = writeln!(out, "- **Công bố:** {}", vn(published_at));
    out
}

/// The HTML document: `templates/minutes.html`, every value escaped by askama.
#[derive(Template)]
#[template(path = "minutes.html")]
struct HtmlMinutes<'a> {
    organizer: &'a str,
    title: &'a str,
    place: &'a str,
    date_line: String,
    when: String,
    host: &'a str,
    invited: usize,
    chair_label: &'static str,
    chairs: Vec<String>,
    guests: Vec<String>,
    counts: String,
    rows: Vec<Row>,
    quorum: Vec<String>,
    items: Vec<HtmlItem<'a>>,
    signers: Vec<Signer<'a>>,
    published: String,
}

/// One agenda item in the HTML.
struct HtmlItem<'a> {
    number: usize,
    title: &'a str,
    recorded: bool,
    speakers: Vec<&'a str>,
    summary: &'a str,
    conclusions: Vec<&'a str>,
    tasks: Vec<HtmlTask<'a>>,
}

/// One task in the HTML.
struct HtmlTask<'a> {
    description: &'a str,
    owner: String,
    due: String,
}

/// A signature in the HTML's signature block.
struct Signer<'a> {
    role: &'static str,
    position: &'a str,
    name: &'a str,
}

/// Renders the minutes of the conference `d` as they will be published at `published_at`, as HTML
/// laid out like a Vietnamese administrative document (Decree 30/2020/NĐ-CP): the issuing body and
/// the number block on the left and the national motto on the right, the place and date, the title,
/// the body, and the signatures of the minute-taker and of the approving chairs. The number is left
/// for the office's clerk (văn thư) to write, as on a paper original.
pub fn html(m: &Minutes, d: &ConferenceDetails, published_at: DateTime<Utc>) -> String {
    let facts = facts(m, d);
    let published_vn = published_at.with_timezone(&Ho_Chi_Minh);
    let approvers = m.approvers();
    let signers = approvers
        .iter()
        .filter_map(|name| d.chairs.iter().find(|c| c.name == *name))
        .map(|c| Signer {
            role: if d.chairs.len() > 1 { "ĐỒNG CHỦ TRÌ" } else { "CHỦ TRÌ" },
            position: &c.title,
            name: &c.name,
        })
        .collect();
    let items = d
        .agenda
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let item = m.items.get(i).and_then(Option::as_ref);
            HtmlItem {
                number: i + 1,
                title: &a.title,
                recorded: item.is_some(),
                speakers: item
                    .map_or(m.prefilled_speakers(i), |x| x.speakers.as_slice())
                    .iter()
                    .map(String::as_str)
                    .collect(),
                summary: item.map_or("", |x| x.summary.trim()),
                conclusions: item.map(|x| x.conclusions.iter().map(String::as_str).collect()).unwrap_or_default(),
                tasks: item
                    .map(|x| {
                        x.tasks
                            .iter()
                            .map(|t| HtmlTask {
                                description: &t.description,
                                owner: m.site_name(&t.owner_site),
                                due: t.due.format("%d/%m/%Y").to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    let page = HtmlMinutes {
        organizer: &d.organizer,
        title: &d.title,
        place: &d.host_site.name,
        date_line: format!("ngày {} tháng {} năm {}", published_vn.day(), published_vn.month(), published_vn.year()),
        when: facts.when,
        host: &d.host_site.name,
        invited: d.sites.len(),
        chair_label: facts.chair_label,
        chairs: d.chairs.iter().map(chair).collect(),
        guests: d.guests.iter().map(person).collect(),
        counts: facts.counts,
        rows: facts.rows,
        quorum: facts.quorum,
        items,
        signers,
        published: vn(published_at),
    };
    // Rendering fails only if a value's `Display` fails, and these are strings and numbers.
    page.render().unwrap_or_else(|e| format!("<!doctype html><p>{e}</p>"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_minutes_say_the_quorum_recorded_in_both_forms() {
        use hoinghi_shared::events::{QuorumBasis, QuorumRule, QuorumSnapshot, SiteRef};
        let rule = QuorumRule { basis: QuorumBasis::Bridges, percent: 50 };
        let at = |hm: &str| format!("2021-07-23T{hm}:00+07:00").parse::<DateTime<chrono::FixedOffset>>().unwrap();
        let d = ConferenceDetails {
            title: "Hội nghị".into(),
            organizer: "Tỉnh ủy Bắc Kạn".into(),
            starts_at: at("08:00"),
            ends_at: at("11:30"),
            host_site: SiteRef { id: hoinghi_shared::SiteId::parse("tinh-uy").unwrap(), name: "Tỉnh ủy".into() },
            sites: vec![],
            chairs: vec![],
            minute_takers: vec![],
            guests: vec![],
            agenda: vec![hoinghi_shared::events::AgendaItem { title: "Báo cáo".into() }],
            approval_policy: Default::default(),
            reminder_offsets_s: None,
            quorum: Some(rule),
        };
        let snapshot = |item, hm: &str, present| QuorumSnapshot {
            at: at(hm).to_utc(),
            item,
            rule,
            quorate: present >= 4,
            required: 4,
            present,
            total: 8,
        };
        let m = Minutes {
            items: vec![None],
            quorum: vec![snapshot(None, "08:05", 7), snapshot(Some(0), "08:20", 3)],
            ..Minutes::default()
        };
        let md = markdown(&m, &d, Utc::now());
        assert!(md.contains("Quy định số lượng tối thiểu: 50% điểm cầu có mặt."), "{md}");
        assert!(
            md.contains(
                "- Khai mạc phiên họp (08:05): Điểm cầu có mặt: 7/8 — đủ số lượng theo quy định (50% điểm cầu, cần 4)"
            ),
            "{md}"
        );
        assert!(md.contains("- Bắt đầu mục 1 (08:20): Điểm cầu có mặt: 3/8 — không đủ số lượng theo quy định"), "{md}");
        let page = html(&m, &d, Utc::now());
        assert!(
            page.contains("<li>Khai mạc phiên họp (08:05): Điểm cầu có mặt: 7/8 — đủ số lượng theo quy định"),
            "{page}"
        );
        // Without a rule, nothing is said
        let plain = ConferenceDetails { quorum: None, ..d };
        assert!(!markdown(&m, &plain, Utc::now()).contains("số lượng tối thiểu"));
        assert!(!html(&m, &plain, Utc::now()).contains("số lượng tối thiểu"));
    }

    #[test]
    fn cells_cannot_break_a_table() {
        assert_eq!(md_line("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn every_ascii_punctuation_is_escaped_and_nothing_else() {
        assert_eq!(md_line("# Bắc Kạn: 1. <b>"), "\\# Bắc Kạn\\: 1\\. \\<b\\>");
        assert_eq!(md_line("\\"), "\\\\");
        assert_eq!(md_line("    code"), "&#32;   code");
        assert_eq!(md_block("\tcode", 0), "&#9;code");
    }

    #[test]
    fn a_line_break_in_a_block_is_a_hard_break_in_the_same_paragraph() {
        assert_eq!(md_block("a\n\n## b", 2), "a\\\n  \\\n  \\#\\# b");
        assert_eq!(md_block("a\n   \n    b", 0), "a\\\n\\\n    b");
    }

    #[test]
    fn the_html_escapes_what_the_template_is_given() {
        let page = HtmlMinutes {
            organizer: "<script>alert(1)</script>",
            title: "\"a\" & 'b'",
            place: "p",
            date_line: String::new(),
            when: String::new(),
            host: "h",
            invited: 0,
            chair_label: "Chủ trì",
            chairs: vec![],
            guests: vec![],
            counts: String::new(),
            rows: vec![],
            quorum: vec![],
            items: vec![],
            signers: vec![],
            published: String::new(),
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{html}");
        assert!(html.contains("&#34;a&#34; &#38; &#39;b&#39;"), "{html}");
    }

    #[test]
    fn the_html_notes_a_technical_check_not_passed_after_the_reason() {
        let row = |reason: Option<&str>, check: Option<&str>| Row {
            number: 1,
            site: "Huyện ủy Ngân Sơn".into(),
            answer: "Báo vắng",
            presence: "Vắng".into(),
            delegates: vec![],
            headcount: "—".into(),
            reason: reason.map(Into::into),
            check: check.map(Into::into),
        };
        let render = |rows: Vec<Row>| {
            HtmlMinutes {
                organizer: "o",
                title: "t",
                place: "p",
                date_line: String::new(),
                when: String::new(),
                host: "h",
                invited: 1,
                chair_label: "Chủ trì",
                chairs: vec![],
                guests: vec![],
                counts: String::new(),
                rows,
                quorum: vec![],
                items: vec![],
                signers: vec![],
                published: String::new(),
            }
            .render()
            .unwrap()
        };
        let cell = |html: &str| html.lines().find(|l| l.contains("Ngân Sơn")).unwrap().to_owned();
        let both = render(vec![row(Some("Trùng lịch"), Some("Chưa kiểm tra kỹ thuật"))]);
        assert!(cell(&both).ends_with("<td>Lý do: Trùng lịch; Chưa kiểm tra kỹ thuật</tr>"), "{}", cell(&both));
        let check = render(vec![row(None, Some("Kiểm tra kỹ thuật chưa đạt: âm thanh"))]);
        assert!(cell(&check).ends_with("<td>Kiểm tra kỹ thuật chưa đạt: âm thanh</tr>"), "{}", cell(&check));
        let neither = render(vec![row(Some("Trùng lịch"), None)]);
        assert!(cell(&neither).ends_with("<td>Lý do: Trùng lịch</tr>"), "unchanged without a note: {}", cell(&neither));
    }

    #[test]
    fn the_hash_is_of_the_utf8_bytes() {
        assert_eq!(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex("Bắc Kạn").len(), 64);
    }
}

/// The published document of a conference full of hostile text, read by a CommonMark parser.
#[cfg(test)]
mod hostile {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::minutes::MinutesCommand;
    use crate::testing::{self, decided, site};
    use chrono::NaiveDate;
    use hoinghi_runtime::testing::{given, Given};
    use hoinghi_shared::api;
    use hoinghi_shared::events::{AgendaItem, ApprovalPolicy, SiteRef};
    use hoinghi_shared::ConferenceId;
    use hoinghi_tests::commonmark::{self, forbidden_markup, outline, skeleton, squeeze, tables, text, PAYLOADS};

    /// Text with a unique tag (so each piece can be counted) and, when hostile, a payload: the
    /// `n`-th piece of a conference gets payload `n + shift`, so that over every shift each field
    /// gets every payload.
    struct Texts {
        hostile: Option<usize>,
        next: usize,
    }

    impl Texts {
        fn next(&mut self, field: &str) -> String {
            self.next += 1;
            let tag = format!("⟨{field} {:03}⟩", self.next);
            if let Some(shift) = self.hostile {
                format!("{tag} {}", PAYLOADS[(self.next + shift) % PAYLOADS.len()])
            } else {
                format!("{tag} văn bản thường")
            }
        }
    }

    struct Published {
        markdown: String,
        html: String,
        html_sha256: Option<String>,
        /// Each piece of user text and how many times the document shows it.
        texts: Vec<(String, usize)>,
        sites: usize,
    }

    /// A conference with three sites (one confirming, one declining, one silent), two agenda items
    /// with speakers, conclusions and tasks; a chair approves in NFD; published.
    fn publish(hostile: Option<usize>) -> Published {
        let mut t = Texts { hostile, next: 0 };
        let mut texts: Vec<(String, usize)> = vec![];
        let once = |s: String, texts: &mut Vec<(String, usize)>| {
            texts.push((s.clone(), 1));
            s
        };
        let host_name = t.next("host");
        let sites: Vec<SiteRef> = ["ba-be", "na-ri", "ngan-son"]
            .iter()
            .map(|id| SiteRef { id: site(id), name: once(t.next("site"), &mut texts) })
            .collect();
        let chair = Chair {
            name: "Phương Thị Thanh".into(),
            title: once(t.next("chair title"), &mut texts),
            person_id: Some(testing::person("thanh")),
        };
        let co_chair = Chair {
            name: once(t.next("co-chair"), &mut texts),
            title: once(t.next("title"), &mut texts),
            person_id: Some(testing::person("co-chair")),
        };
        let guest = Person { name: once(t.next("guest"), &mut texts), title: once(t.next("title"), &mut texts) };
        let details = ConferenceDetails {
            title: once(t.next("title"), &mut texts),
            organizer: once(t.next("organizer"), &mut texts),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:30:00+07:00").unwrap(),
            host_site: SiteRef { id: site("tinh-uy"), name: host_name.clone() },
            sites: sites.clone(),
            chairs: vec![chair, co_chair],
            minute_takers: vec![testing::person(testing::TAKER)],
            guests: vec![guest],
            agenda: vec![
                AgendaItem { title: once(t.next("agenda"), &mut texts) },
                AgendaItem { title: once(t.next("agenda"), &mut texts) },
            ],
            approval_policy: ApprovalPolicy::Any,
            reminder_offsets_s: None,
            quorum: None,
        };
        let absent = |site: &SiteRef, status, decline_reason| {
            testing::absent(site.id.clone(), site.name.clone(), status, decline_reason)
        };
        let attendance = vec![
            testing::checked_in(
                sites[0].id.clone(),
                sites[0].name.clone(),
                vec![
                    Person { name: once(t.next("delegate"), &mut texts), title: once(t.next("title"), &mut texts) },
                    Person { name: once(t.next("delegate | ống"), &mut texts), title: String::new() },
                ],
            ),
            absent(&sites[1], AttendanceStatus::Declined, Some(once(t.next("reason"), &mut texts))),
            absent(&sites[2], AttendanceStatus::Invited, None),
        ];
        let id = ConferenceId::generate();
        let mut m: Given<crate::minutes::Minutes> = given(id, []);
        let step = |m: Given<crate::minutes::Minutes>, command: MinutesCommand| {
            let event = decided(&m, command);
            m.and(event)
        };
        m = step(
            m,
            MinutesCommand::Open {
                details: Box::new(details.clone()),
                attendance,
                quorum: vec![],
                speakers: vec![],
                record: None,
            },
        );
        let mut host_tasks = 0;
        for item in 0..2 {
            let task = |t: &mut Texts, texts: &mut Vec<(String, usize)>, owner: &str| api::Task {
                description: once(t.next("task"), texts),
                owner_site: site(owner),
                due: NaiveDate::from_ymd_opt(2021, 9, 30).unwrap(),
            };
            let tasks = vec![task(&mut t, &mut texts, "tinh-uy"), task(&mut t, &mut texts, "ngan-son")];
            host_tasks += 1;
            let command = MinutesCommand::Record {
                by: testing::person(testing::TAKER),
                item,
                speakers: vec![once(t.next("speaker"), &mut texts), once(t.next("speaker"), &mut texts)],
                summary: once(t.next("summary"), &mut texts),
                conclusions: vec![once(t.next("conclusion"), &mut texts), once(t.next("conclusion"), &mut texts)],
                tasks,
            };
            m = step(m, command);
        }
        // The host's name: "điểm cầu chính" and each task it owns; the third site's: its row and
        // its tasks; the approving chair's: the chairs and the approval.
        texts.push((host_name, 1 + host_tasks));
        if let Some(entry) = texts.iter_mut().find(|(s, _)| *s == sites[2].name) {
            entry.1 += 2;
        }
        texts.push(("Phương Thị Thanh".into(), 2));
        m = step(m, testing::submit());
        // The chair approves as the person the conference binds to her
        m = step(m, MinutesCommand::Approve { by: testing::person("thanh") });
        let at = "2021-07-23T05:00:00Z".parse().unwrap();
        let event = decided(&m, MinutesCommand::Publish { by: testing::person(testing::TAKER), at });
        let MinutesEvent::MinutesPublished { markdown, html_sha256, .. } = event.clone() else { panic!("{event:?}") };
        let published = m.and(event);
        let html = published.state().published_html(&id).unwrap();
        Published { markdown, html, html_sha256, texts, sites: sites.len() }
    }

    use hoinghi_shared::events::MinutesEvent;

    #[test]
    fn hostile_text_does_not_change_the_heading_outline() {
        let plain = publish(None);
        let outline = outline(&plain.markdown, &plain.texts);
        assert!(outline.len() > 5, "{outline:?}");
        for shift in 0..PAYLOADS.len() {
            let hostile = publish(Some(shift));
            assert_eq!(commonmark::outline(&hostile.markdown, &hostile.texts), outline, "\n{}", hostile.markdown);
            // Nor any other structure: lists, tables, emphasis, breaks of the document's own.
            assert_eq!(skeleton(&hostile.markdown), skeleton(&plain.markdown), "\n{}", hostile.markdown);
        }
    }

    #[test]
    fn hostile_text_makes_no_html_no_link_no_image_no_code() {
        for doc in (0..PAYLOADS.len()).map(|shift| publish(Some(shift))) {
            assert_eq!(forbidden_markup(&doc.markdown), Vec::<String>::new(), "in\n{}", doc.markdown);
        }
    }

    #[test]
    fn every_user_string_is_in_the_text_exactly_once() {
        for hostile in std::iter::once(None).chain((0..PAYLOADS.len()).map(Some)) {
            let doc = publish(hostile);
            let text = text(&doc.markdown);
            for (s, times) in &doc.texts {
                let found = text.matches(&squeeze(s)).count();
                assert_eq!(found, *times, "{s:?} is in the text {found} times, not {times}:\n{text}\n{}", doc.markdown);
            }
        }
    }

    #[test]
    fn the_tables_keep_their_rows_and_columns() {
        let plain = commonmark::tables(&publish(None).markdown);
        for shift in 0..PAYLOADS.len() {
            let hostile = publish(Some(shift));
            let tables = tables(&hostile.markdown);
            assert_eq!(tables, plain, "\n{}", hostile.markdown);
            assert_eq!(tables[0], vec![7; 1 + hostile.sites], "the attendance table: a header and a row per site");
            assert_eq!(tables.len(), 3, "attendance and one task table per item");
            assert!(tables[1..].iter().all(|t| *t == vec![3; 3]));
        }
    }

    #[test]
    fn the_html_is_escaped_and_verified_against_its_hash() {
        let doc = publish(Some(0));
        assert_eq!(doc.html_sha256, Some(sha256_hex(&doc.html)));
        let escape = |s: &str| {
            s.replace('&', "&#38;")
                .replace('<', "&#60;")
                .replace('>', "&#62;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;")
        };
        // Each piece of text escaped, whole (the title, organiser and host show twice: in the head
        // of the document and in its body)
        for (s, times) in &doc.texts {
            let found = doc.html.matches(&escape(s)).count();
            assert!(found >= *times && found <= times + 1, "{s:?} {found} times in\n{}", doc.html);
        }
        // Only the template's own elements
        let allowed = [
            "!doctype", "html", "head", "meta", "title", "style", "body", "header", "div", "p", "hr", "span", "h1",
            "h2", "h3", "main", "ul", "li", "b", "table", "thead", "tbody", "tr", "th", "td", "section", "i", "br",
            "footer",
        ];
        for tag in doc.html.split('<').skip(1) {
            let name: String =
                tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '!').collect();
            assert!(allowed.contains(&name.to_lowercase().as_str()), "<{name} in the HTML");
        }
        for needle in ["lang=\"vi\"", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BIÊN BẢN"]
        {
            assert!(doc.html.contains(needle), "{needle}");
        }
        assert_eq!(publish(Some(0)).html, doc.html, "the HTML is a pure function of the minutes and the time");
    }
}
