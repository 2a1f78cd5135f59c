//! `hoinghi.v1.minutes.attendance_export`: the attendance record as it happened, as CSV or JSON, for
//! the secretariat's spreadsheets and archives.
//!
//! Columns: site id, site name, answer (`confirmed`, `declined`, `no_answer`), delegates, headcount,
//! decline reason, check-in time, presence. `presence` lists the intervals the bridge was connected
//! (live presence, its heartbeats) as ISO 8601 intervals in Vietnam time joined by `; `
//! (`2021-07-23T08:00:00+07:00/2021-07-23T09:12:00+07:00; …`); empty for a bridge never heard.
//! In the CSV, delegates are `Name (position)` joined by `; `, times RFC 3339 in Vietnam time, and a
//! cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a
//! spreadsheet does not run what a user typed as a formula.

use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::{self, AttendanceExport, AttendanceRow, ExportAttendance, ExportFormat};
use hoinghi_shared::events::{AttendanceEntry, AttendanceStatus};
use hoinghi_shared::limits::{describe_size, REPLY_BUDGET};
use hoinghi_shared::{ApiError, ConferenceId};

use super::Store;
use crate::minutes::no_minutes;
use crate::state::MinutesState;

/// The CSV header.
pub const CSV_HEADER: [&str; 8] =
    ["site_id", "site_name", "answer", "delegates", "headcount", "decline_reason", "checked_in_at", "presence"];

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ExportAttendance = parse_body(&request.payload, "{conference_id, format: \"csv\" | \"json\"}")?;
    store.query(|state| export(state, body.conference_id, body.format).and_then(|e| json(&e))).await
}

/// The export of conference `id`'s attendance.
///
/// # Errors
/// `not_found` before the draft opened; `too_large` for a file larger than one reply.
pub fn export(state: &MinutesState, id: ConferenceId, format: ExportFormat) -> Result<AttendanceExport, ApiError> {
    let minutes = state.minutes.get(&id).filter(|m| m.is_opened()).ok_or_else(|| no_minutes(&id))?;
    minutes.ensure_record(&id)?;
    let rows: Vec<AttendanceRow> = minutes.attendance.iter().map(row).collect();
    let (content, media_type, extension) = match format {
        ExportFormat::Csv => (csv(&rows)?, "text/csv; charset=utf-8", "csv"),
        ExportFormat::Json => (
            serde_json::to_string_pretty(&rows).map_err(|e| ApiError::unavailable(format!("export: {e}")))?,
            "application/json",
            "json",
        ),
    };
    // The content travels as a JSON string: escaping can double its quotes and backslashes.
    let size = hoinghi_shared::limits::json_len(&content);
    if size > REPLY_BUDGET - 4096 {
        return Err(ApiError::too_large(format!(
            "the export of conference {id} takes {} as a reply, more than a reply may ({}); export as csv",
            describe_size(size),
            describe_size(REPLY_BUDGET)
        )));
    }
    Ok(AttendanceExport {
        conference_id: id,
        format,
        media_type: media_type.to_owned(),
        file_name: format!("attendance-{id}.{extension}"),
        rows: rows.len(),
        content,
    })
}

/// One site's line.
pub fn row(e: &AttendanceEntry) -> AttendanceRow {
    let answer = match (e.status, e.confirmed) {
        (AttendanceStatus::Declined, _) => "declined",
        (_, true) => "confirmed",
        (_, false) => "no_answer",
    };
    AttendanceRow {
        site_id: e.site_id.clone(),
        site_name: e.site_name.clone(),
        answer: answer.to_owned(),
        delegates: e.delegates.iter().map(api::Person::from).collect(),
        headcount: e.headcount,
        decline_reason: e.decline_reason.clone(),
        checked_in_at: e.checked_in_at,
        presence: e.presence.as_ref().map(crate::presence_text::intervals_iso),
    }
}

/// A cell a spreadsheet will not read as a formula: text starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'`.
pub fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

fn csv(rows: &[AttendanceRow]) -> Result<String, ApiError> {
    let failed = |e: &dyn std::fmt::Display| ApiError::unavailable(format!("the CSV could not be written: {e}"));
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(vec![]);
    writer.write_record(CSV_HEADER).map_err(|e| failed(&e))?;
    for r in rows {
        let delegates = r
            .delegates
            .iter()
            .map(|p| if p.title.is_empty() { p.name.clone() } else { format!("{} ({})", p.name, p.title) })
            .collect::<Vec<_>>()
            .join("; ");
        let checked_in = r.checked_in_at.map(|t| t.with_timezone(&Ho_Chi_Minh).to_rfc3339()).unwrap_or_default();
        let headcount = r.headcount.to_string();
        let record = [
            cell(r.site_id.as_str()),
            cell(&r.site_name),
            cell(&r.answer),
            cell(&delegates),
            cell(&headcount),
            cell(r.decline_reason.as_deref().unwrap_or_default()),
            cell(&checked_in),
            cell(r.presence.as_deref().unwrap_or_default()),
        ];
        writer.write_record(record.iter().map(|c| c.as_bytes())).map_err(|e| failed(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(&e))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hoinghi_shared::events::Person;
    use hoinghi_shared::SiteId;

    fn entry(site: &str, name: &str, status: AttendanceStatus, confirmed: bool) -> AttendanceEntry {
        AttendanceEntry {
            site_id: SiteId::parse(site).unwrap(),
            site_name: name.into(),
            status,
            confirmed,
            delegates: vec![],
            headcount: 0,
            decline_reason: None,
            checked_in_at: None,
            technical_check: None,
            technical_check_failed: vec![],
            presence: None,
        }
    }

    #[test]
    fn formulas_typed_by_users_are_neutralised_in_the_csv() {
        let mut hostile = entry("ba-be", "=HYPERLINK(\"http://x\")", AttendanceStatus::CheckedIn, true);
        hostile.delegates = vec![
            Person { name: "+cmd|' /C calc'!A0".into(), title: "-2+3".into() },
            Person { name: "@SUM(A1)".into(), title: String::new() },
        ];
        hostile.headcount = 12;
        hostile.checked_in_at = Some("2021-07-23T01:05:00Z".parse().unwrap());
        let mut declined = entry("na-ri", "Huyện ủy Na Rì, \"Bắc Kạn\"", AttendanceStatus::Declined, false);
        declined.decline_reason = Some("-Lũ quét\nchia cắt".into());
        let silent = entry("ngan-son", "Huyện ủy Ngân Sơn", AttendanceStatus::Invited, false);
        let rows: Vec<AttendanceRow> = [hostile, declined, silent].iter().map(row).collect();
        let text = csv(&rows).unwrap();
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(&records[0][1], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&records[0][2], "confirmed");
        assert_eq!(&records[0][3], "'+cmd|' /C calc'!A0 (-2+3); @SUM(A1)");
        assert_eq!(&records[0][4], "12");
        assert_eq!(&records[0][6], "2021-07-23T08:05:00+07:00");
        assert_eq!(&records[0][7], "", "presence stays empty");
        assert_eq!(&records[1][1], "Huyện ủy Na Rì, \"Bắc Kạn\"");
        assert_eq!((&records[1][2], &records[1][5]), ("declined", "'-Lũ quét\nchia cắt"));
        assert_eq!(&records[2][2], "no_answer");
        for record in &records {
            for value in record {
                assert!(!value.starts_with(['=', '+', '-', '@']), "{value:?}");
            }
        }
    }
}
