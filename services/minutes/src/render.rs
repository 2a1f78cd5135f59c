//! The published document: Markdown that people read, in Vietnamese, with names rather than ids.
//!
//! Rendering is a pure function of the minutes and the publication time, so the same input always
//! gives the same bytes and the same SHA-256.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_shared::events::{AttendanceEntry, AttendanceStatus, ConferenceDetails, Person};
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

/// Text safe inside a table cell: no pipes, no line breaks.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Text safe on one line of a list.
fn line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn person(p: &Person) -> String {
    if p.title.is_empty() {
        line(&p.name)
    } else {
        format!("{}, {}", line(&p.name), line(&p.title))
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

/// Renders the minutes of the conference `d` as they will be published at `published_at`.
pub fn markdown(m: &Minutes, d: &ConferenceDetails, published_at: DateTime<Utc>) -> String {
    let mut out = String::new();
    let start = vn_fixed(d.starts_at);
    let end = vn_fixed(d.ends_at);
    let _ = writeln!(out, "# BIÊN BẢN HỘI NGHỊ\n");
    let _ = writeln!(out, "## {}\n", line(&d.title));
    let _ = writeln!(out, "- **Cơ quan tổ chức:** {}", line(&d.organizer));
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
    let _ = writeln!(out, "- **Thời gian:** {when} (giờ Việt Nam, UTC+07:00)");
    let _ = writeln!(
        out,
        "- **Hình thức:** trực tuyến; điểm cầu chính: {}; {} điểm cầu được mời",
        line(&d.host_site.name),
        d.sites.len()
    );
    let chair_label = if d.chairs.len() > 1 { "Đồng chủ trì" } else { "Chủ trì" };
    let chairs: Vec<String> = d.chairs.iter().map(person).collect();
    let _ = writeln!(out, "- **{chair_label}:** {}", chairs.join("; "));
    if !d.guests.is_empty() {
        let guests: Vec<String> = d.guests.iter().map(person).collect();
        let _ = writeln!(out, "- **Cùng dự:** {}", guests.join("; "));
    }

    let count = |f: &dyn Fn(&AttendanceEntry) -> bool| m.attendance.iter().filter(|r| f(r)).count();
    let present = count(&|r| r.status == AttendanceStatus::CheckedIn);
    let confirmed = count(&|r| r.confirmed);
    let declined = count(&|r| r.status == AttendanceStatus::Declined);
    let silent = count(&|r| r.status == AttendanceStatus::Invited);
    let people: u32 =
        m.attendance.iter().filter(|r| r.status == AttendanceStatus::CheckedIn).map(|r| r.headcount).sum();
    let _ = writeln!(out, "\n## Thành phần tham dự\n");
    let _ = writeln!(
        out,
        "Được mời {} điểm cầu: {confirmed} xác nhận tham dự, {declined} báo vắng, {silent} không phản hồi; \
         {present} điểm cầu có mặt (điểm danh) với {people} người theo số đăng ký.\n",
        m.attendance.len()
    );
    let _ = writeln!(out, "| # | Điểm cầu | Trả lời | Điểm danh | Đại biểu | Số người | Ghi chú |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for (i, r) in m.attendance.iter().enumerate() {
        let (answer, presence) = status_vi(r);
        let presence = match r.checked_in_at.map(|at| at.with_timezone(&Ho_Chi_Minh)) {
            Some(at) if at.date_naive() == start.date_naive() => format!("{presence} ({})", at.format("%H:%M")),
            Some(at) => format!("{presence} ({})", at.format("%H:%M %d/%m/%Y")),
            None => presence.to_owned(),
        };
        let delegates: Vec<String> = r.delegates.iter().map(person).collect();
        let headcount = if r.confirmed { r.headcount.to_string() } else { "—".to_owned() };
        let note = r.decline_reason.as_deref().map(|x| format!("Lý do: {x}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {answer} | {presence} | {} | {headcount} | {} |",
            i + 1,
            cell(&r.site_name),
            cell(&if delegates.is_empty() { "—".to_owned() } else { delegates.join("; ") }),
            cell(&note)
        );
    }

    let _ = writeln!(out, "\n## Nội dung hội nghị");
    for (i, agenda) in d.agenda.iter().enumerate() {
        let _ = writeln!(out, "\n### {}. {}\n", i + 1, line(&agenda.title));
        let Some(Some(item)) = m.items.get(i) else {
            let _ = writeln!(out, "_(không ghi nhận)_");
            continue;
        };
        if !item.speakers.is_empty() {
            let speakers: Vec<String> = item.speakers.iter().map(|s| line(s)).collect();
            let _ = writeln!(out, "**Phát biểu:** {}\n", speakers.join("; "));
        }
        let _ = writeln!(out, "{}", item.summary.trim());
        if !item.conclusions.is_empty() {
            let _ = writeln!(out, "\n**Kết luận:**\n");
            for c in &item.conclusions {
                let _ = writeln!(out, "- {}", line(c));
            }
        }
        if !item.tasks.is_empty() {
            let _ = writeln!(out, "\n**Nhiệm vụ:**\n");
            let _ = writeln!(out, "| Nhiệm vụ | Đơn vị thực hiện | Thời hạn |");
            let _ = writeln!(out, "|---|---|---|");
            for t in &item.tasks {
                let owner = m.site_name(&t.owner_site);
                let _ = writeln!(out, "| {} | {} | {} |", cell(&t.description), cell(&owner), t.due.format("%d/%m/%Y"));
            }
        }
    }

    let _ = writeln!(out, "\n## Xác nhận\n");
    if let Some(chair) = &m.approved_by {
        let _ = writeln!(out, "- **Phê duyệt:** {}", line(chair));
    }
    let _ = writeln!(out, "- **Công bố:** {}", vn(published_at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn the_hash_is_of_the_utf8_bytes() {
        assert_eq!(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex("Bắc Kạn").len(), 64);
    }
}
