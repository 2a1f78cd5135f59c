//! Readable text for every reply type, and `--json` output.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use hoinghi_shared::api::{
    AttendanceRecord, AttendanceStatus, Chair, ConferenceStatus, ConferenceView, MinutesStatus, MinutesView, Person,
    Roster, RosterState, SiteAttendance, SiteRef, SiteView,
};
use hoinghi_shared::SiteId;
use serde::Serialize;

/// Prints `value` as pretty JSON.
///
/// # Errors
/// Never in practice: reply types always serialise.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a reply as JSON or as text.
///
/// # Errors
/// As [`print_json`].
pub fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
    if json {
        print_json(value)
    } else {
        print!("{}", text(value));
        Ok(())
    }
}

/// Longest rule drawn under the last column.
const RULE_MAX: usize = 40;

/// A left-aligned text table; widths count characters, so Vietnamese names line up.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count());
            text.push_str(cell);
            text.push_str(&" ".repeat(pad + 2));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut out, &mut header.iter().copied());
    // The last column is not padded; keep its rule short so one long cell does not draw a long line.
    let last = widths.len().saturating_sub(1);
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let header_width = header.get(i).map_or(0, |h| h.chars().count());
            let w = if i == last { (*w).min(header_width.max(RULE_MAX)) } else { *w };
            "-".repeat(w)
        })
        .collect();
    line(&mut out, &mut rule.iter().map(String::as_str));
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

/// "Name (Title)", or just the name.
pub fn person(p: &Person) -> String {
    if p.title.trim().is_empty() {
        p.name.clone()
    } else {
        format!("{} ({})", p.name, p.title)
    }
}

/// "Name (Title) [person-id]": a chair and the person bound to them.
pub fn chair(c: &Chair) -> String {
    let named = person(&Person { name: c.name.clone(), title: c.title.clone() });
    match &c.person_id {
        Some(id) => format!("{named} [{id}]"),
        None => named,
    }
}

fn people(list: &[Person]) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.iter().map(person).collect::<Vec<_>>().join("; ")
    }
}

/// The wire name of a conference status.
pub fn conference_status(s: ConferenceStatus) -> &'static str {
    match s {
        ConferenceStatus::Scheduled => "scheduled",
        ConferenceStatus::Invited => "invited",
        ConferenceStatus::InSession => "in_session",
        ConferenceStatus::Ended => "ended",
        ConferenceStatus::Cancelled => "cancelled",
        ConferenceStatus::Closed => "closed",
    }
}

/// The wire name of an attendance status.
pub fn attendance_status(s: AttendanceStatus) -> &'static str {
    match s {
        AttendanceStatus::Invited => "invited",
        AttendanceStatus::Confirmed => "confirmed",
        AttendanceStatus::Declined => "declined",
        AttendanceStatus::CheckedIn => "checked_in",
    }
}

/// The wire name of a minutes status.
pub fn minutes_status(s: MinutesStatus) -> &'static str {
    match s {
        MinutesStatus::Draft => "draft",
        MinutesStatus::Submitted => "submitted",
        MinutesStatus::Approved => "approved",
        MinutesStatus::Published => "published",
    }
}

fn roster_state(s: RosterState) -> &'static str {
    match s {
        RosterState::Open => "open",
        RosterState::Closed => "closed",
        RosterState::Cancelled => "cancelled",
    }
}

/// A registered site.
pub fn site(view: &SiteView) -> String {
    format!("site {}  {}  (registered {})\n", view.id, view.name, view.registered_at.to_rfc3339())
}

/// The lines a conference and its minutes both begin with: title, organizer, time, host, chairs,
/// guests.
fn heading(
    title: &str,
    organizer: &str,
    [starts_at, ends_at]: [&DateTime<FixedOffset>; 2],
    host: &SiteRef,
    chairs: &[Chair],
    guests: &[Person],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  title:     {title}");
    let _ = writeln!(out, "  organizer: {organizer}");
    let _ = writeln!(out, "  time:      {} .. {}", starts_at.to_rfc3339(), ends_at.to_rfc3339());
    let _ = writeln!(out, "  host:      {} ({})", host.name, host.id);
    let _ = writeln!(
        out,
        "  chairs:    {}",
        if chairs.is_empty() { "-".to_owned() } else { chairs.iter().map(chair).collect::<Vec<_>>().join("; ") }
    );
    let _ = writeln!(out, "  guests:    {}", people(guests));
    out
}

/// A conference.
pub fn conference(view: &ConferenceView) -> String {
    let mut out = format!("conference {}  [{}]\n", view.id, conference_status(view.status));
    let time = [&view.starts_at, &view.ends_at];
    out.push_str(&heading(&view.title, &view.organizer, time, &view.host_site, &view.chairs, &view.guests));
    let takers: Vec<&str> = view.minute_takers.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(out, "  minute-takers: {}", if takers.is_empty() { "-".to_owned() } else { takers.join(", ") });
    let _ = writeln!(out, "  sites ({}):", view.sites.len());
    for s in &view.sites {
        let _ = writeln!(out, "    - {} ({})", s.name, s.id);
    }
    let _ = writeln!(out, "  agenda:");
    for (i, item) in view.agenda.iter().enumerate() {
        let _ = writeln!(out, "    {}. {}", i + 1, item.title);
    }
    if let Some(reason) = &view.cancel_reason {
        let _ = writeln!(out, "  cancelled: {reason}");
    }
    if let Some(sha) = &view.minutes_sha256 {
        let _ = writeln!(out, "  minutes sha256: {sha}");
    }
    if view.schedule_sequence > 0 {
        let _ = writeln!(out, "  schedule:  sequence {} (rescheduled)", view.schedule_sequence);
    }
    let _ = writeln!(out, "  reminders: {}", reminder_offsets(&view.reminder_offsets_s));
    let _ = writeln!(out, "  version:   {}", view.version);
    out
}

/// Reminder offsets as people read them: `24 h, 1 h before the start`, `none`.
pub fn reminder_offsets(offsets: &[u32]) -> String {
    if offsets.is_empty() {
        return "none".to_owned();
    }
    let each: Vec<String> = offsets
        .iter()
        .map(|&s| {
            let parts = [(s / 3_600, "h"), (s % 3_600 / 60, "min"), (s % 60, "s")];
            let parts: Vec<String> =
                parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n} {unit}")).collect();
            parts.join(" ")
        })
        .collect();
    format!("{} before the start, to the sites that have not answered", each.join(", "))
}

/// One site's attendance line.
pub fn site_attendance(a: &SiteAttendance) -> String {
    let mut out = format!("{} ({}): {}", a.site_name, a.site_id, attendance_status(a.status));
    if a.headcount > 0 {
        let _ = write!(out, ", headcount {}", a.headcount);
    }
    if !a.delegates.is_empty() {
        let _ = write!(out, ", delegates: {}", people(&a.delegates));
    }
    if let Some(reason) = &a.decline_reason {
        let _ = write!(out, ", reason: {reason}");
    }
    out.push_str(&schedule_note(a));
    out.push('\n');
    out
}

/// What a site's line says about the schedule after a reschedule: whether the site has seen the
/// current schedule, whether its answer predates it, and an answer cleared for a new one.
fn schedule_note(a: &SiteAttendance) -> String {
    let mut notes = Vec::new();
    if let Some(seen) = a.seen_sequence {
        if !a.seen_current_schedule {
            notes.push(format!("NOT SEEN the new schedule (last seen {seen})"));
        } else if seen > 0 {
            notes.push(format!("seen schedule {seen}"));
        }
    } else if !a.seen_current_schedule {
        notes.push("schedule not seen".to_owned());
    }
    if a.answered_before_change {
        notes.push(format!("answered before the change (schedule {})", a.answer_sequence.unwrap_or_default()));
    }
    if let Some(previous) = &a.previous_answer {
        notes.push(format!("previous answer: {}", attendance_status(previous.status)));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" [{}]", notes.join("; "))
    }
}

/// The columns of an attendance table (a roster, the attendance in the minutes).
const ATTENDANCE_COLUMNS: [&str; 5] = ["SITE", "NAME", "STATUS", "HEADCOUNT", "DELEGATES"];

/// One site's row of an attendance table.
fn attendance_row(
    site_id: &SiteId,
    site_name: &str,
    status: AttendanceStatus,
    headcount: u32,
    detail: String,
) -> Vec<String> {
    vec![
        site_id.to_string(),
        site_name.to_owned(),
        attendance_status(status).to_owned(),
        if headcount > 0 { headcount.to_string() } else { "-".to_owned() },
        detail,
    ]
}

/// A roster as a table with its counts.
pub fn roster(r: &Roster) -> String {
    let rows: Vec<Vec<String>> = r
        .sites
        .iter()
        .map(|a| {
            let detail = match &a.decline_reason {
                Some(reason) if a.status == AttendanceStatus::Declined => {
                    format!("reason: {reason}")
                }
                _ => people(&a.delegates),
            };
            let detail = if r.schedule.as_ref().is_some_and(|s| s.sequence > 0) {
                format!("{detail}{}", schedule_note(a))
            } else {
                detail
            };
            let detail = match &a.presence {
                Some(p) => format!("{detail}; {}", presence_note(p)),
                None => detail,
            };
            attendance_row(&a.site_id, &a.site_name, a.status, a.headcount, detail)
        })
        .collect();
    let mut out = format!("roster of {}  [{}]\n", r.conference_id, roster_state(r.state));
    out.push_str(&table(&ATTENDANCE_COLUMNS, &rows));
    let c = &r.counts;
    let people_expected: u32 = r.sites.iter().map(|a| a.headcount).sum();
    let _ = writeln!(
        out,
        "invited {}, confirmed {}, declined {}, no answer {}, checked in {}; {} people expected",
        c.invited, c.confirmed, c.declined, c.no_answer, c.checked_in, people_expected
    );
    if let Some(s) = r.schedule.as_ref().filter(|s| s.sequence > 0) {
        let _ = writeln!(
            out,
            "schedule {}: {} .. {} ({}){}; seen by {} of {}, {} answered before the change",
            s.sequence,
            s.starts_at.to_rfc3339(),
            s.ends_at.to_rfc3339(),
            s.reason.as_deref().unwrap_or("rescheduled"),
            if s.reanswer { ", every site asked to answer again" } else { "" },
            s.seen,
            c.invited,
            s.answered_before_change
        );
    }
    out
}

/// A bridge's live presence on its roster line: `connected since 08:00:05, 2 intervals, 1h02m00s`.
pub fn presence_note(p: &hoinghi_shared::presence::SitePresence) -> String {
    use hoinghi_shared::presence::{describe_seconds, PresenceState};
    // Vietnam time (UTC+07:00, no daylight saving).
    let vn = chrono::Duration::hours(7);
    let since = p.since.map(|t| format!(" since {}", (t + vn).format("%H:%M:%S"))).unwrap_or_default();
    let state = match p.state {
        PresenceState::NeverConnected => return "never connected".to_owned(),
        PresenceState::Connected => "connected",
        PresenceState::Dropped => "dropped",
    };
    let n = p.intervals.len();
    format!("{state}{since}, {n} interval{}, {}", if n == 1 { "" } else { "s" }, describe_seconds(p.connected_s))
}

fn attendance_record(a: &AttendanceRecord) -> Vec<String> {
    let detail = match &a.decline_reason {
        Some(reason) => format!("reason: {reason}"),
        None => people(&a.delegates),
    };
    attendance_row(&a.site_id, &a.site_name, a.status, a.headcount, detail)
}

/// Minutes, summarised (the Markdown is printed by `minutes get --markdown`).
pub fn minutes(m: &MinutesView) -> String {
    let mut out = format!("minutes of {}  [{}]\n", m.conference_id, minutes_status(m.status));
    out.push_str(&heading(&m.title, &m.organizer, [&m.starts_at, &m.ends_at], &m.host_site, &m.chairs, &m.guests));
    let _ = writeln!(out, "  attendance:");
    let rows: Vec<Vec<String>> = m.attendance.iter().map(attendance_record).collect();
    for line in table(&ATTENDANCE_COLUMNS, &rows).lines() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(out, "  items:");
    for item in &m.items {
        let mark = if item.recorded { "recorded" } else { "NOT RECORDED" };
        let _ = writeln!(out, "    {}. {}  [{mark}]", item.index + 1, item.title);
        if item.recorded {
            let _ = writeln!(
                out,
                "       {} speaker(s), {} conclusion(s), {} task(s)",
                item.speakers.len(),
                item.conclusions.len(),
                item.tasks.len()
            );
        }
    }
    let policy = match m.approval_policy {
        hoinghi_shared::api::ApprovalPolicy::Any => "any chair",
        hoinghi_shared::api::ApprovalPolicy::All => "all chairs",
    };
    let _ = writeln!(out, "  version:     {} of {} submitted (approval by {policy})", m.version, m.latest_version);
    for a in &m.approvals {
        let _ = writeln!(out, "  approved by: {} (version {}, {})", a.by, a.version, a.at.to_rfc3339());
    }
    if !m.awaiting.is_empty() {
        let _ = writeln!(out, "  awaiting:    {}", m.awaiting.join(", "));
    }
    if let Some(c) = &m.changes {
        let names = |list: &[hoinghi_shared::api::ChangedItem]| {
            let names: Vec<String> = list.iter().map(|i| format!("{}. {}", i.index + 1, i.title)).collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join("; ")
            }
        };
        let _ = writeln!(out, "  changes from version {}:", c.from_version);
        let _ = writeln!(out, "    added:   {}", names(&c.added));
        let _ = writeln!(out, "    changed: {}", names(&c.changed));
        let _ = writeln!(out, "    removed: {}", names(&c.removed));
        if let Some(r) = &c.change_request {
            let _ = writeln!(out, "    after {} requested changes: {}", r.requested_by, r.comment);
        }
    }
    for r in &m.change_requests {
        let _ = writeln!(out, "  changes requested on version {} by {}: {}", r.version, r.requested_by, r.comment);
    }
    if let Some(at) = &m.published_at {
        let _ = writeln!(out, "  published:   {}", at.to_rfc3339());
    }
    if let Some(sha) = &m.sha256 {
        let _ = writeln!(out, "  sha256:      {sha}");
    }
    if let Some(total) = m.document_total_bytes {
        let _ = writeln!(out, "  document:    {total} bytes (read it whole with `minutes get --markdown`)");
    }
    let acks: Vec<String> = m.acknowledgements.iter().map(|a| a.site_id.to_string()).collect();
    let _ = writeln!(
        out,
        "  acknowledged by {} site(s){}",
        acks.len(),
        if acks.is_empty() { String::new() } else { format!(": {}", acks.join(", ")) }
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_table_lines_up_vietnamese_names() {
        let rows = vec![vec!["ba-be".to_owned(), "Huyện ủy Ba Bể".to_owned()], vec!["x".to_owned(), "y".to_owned()]];
        let text = table(&["SITE", "NAME"], &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "SITE   NAME");
        assert_eq!(lines[1], "-----  --------------");
        assert_eq!(lines[2], "ba-be  Huyện ủy Ba Bể");
        assert_eq!(lines[3], "x      y");
    }

    #[test]
    fn reminder_offsets_read_as_hours_minutes_and_seconds() {
        assert_eq!(
            reminder_offsets(&[86_400, 3_600]),
            "24 h, 1 h before the start, to the sites that have not answered"
        );
        assert_eq!(reminder_offsets(&[149_834, 90]).split(" before").next(), Some("41 h 37 min 14 s, 1 min 30 s"));
        assert_eq!(reminder_offsets(&[]), "none");
    }
}
