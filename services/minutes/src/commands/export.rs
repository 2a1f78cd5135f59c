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
//!
//! The file comes by pages of rows (`offset`, `limit`, like the roster; the reply says `offset`,
//! `rows` and `total_rows`): at 50,000 sites the CSV alone takes about 8.5 MB, more than one reply
//! may carry. A page holds fewer rows than asked when that many would not fit a reply. The pages'
//! shape, and how a reader puts them together, are in [`hoinghi_shared::export`].

use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::{self, AttendanceExport, AttendanceRow, ExportAttendance, ExportFormat, PageQuery};
use hoinghi_shared::events::{AttendanceEntry, AttendanceStatus};
use hoinghi_shared::limits::{describe_size, REPLY_BUDGET};
use hoinghi_shared::ApiError;

use super::Store;
use crate::minutes::no_minutes;
use crate::state::MinutesState;

/// The CSV header.
pub const CSV_HEADER: [&str; 8] =
    ["site_id", "site_name", "answer", "delegates", "headcount", "decline_reason", "checked_in_at", "presence"];

/// Handles one request: the page's rows are taken from the state under its lock, and the file
/// written from them outside it, on a blocking thread.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ExportAttendance =
        parse_body(&request.payload, "{conference_id, format: \"csv\" | \"json\", offset?, limit?}")?;
    let rows = store.query(|state| page_rows(state, &body)).await?;
    let export = tokio::task::spawn_blocking(move || rows.write())
        .await
        .map_err(|e| ApiError::unavailable(format!("the attendance export could not be written: {e}")))??;
    json(&export)
}

/// What a page's content may take as a JSON string: a reply, less room for its other fields.
const CONTENT_BUDGET: usize = REPLY_BUDGET - 4096;

/// The rows of one page of the export, taken from the state.
#[derive(Debug)]
pub struct PageRows {
    /// What was asked for.
    query: ExportAttendance,
    /// Where the rows start in the whole file.
    offset: usize,
    /// The whole file's rows.
    total_rows: usize,
    /// The rows asked for (the page may hold fewer, [`Self::write`]).
    rows: Vec<AttendanceRow>,
}

/// The rows of the page of conference `query.conference_id`'s attendance export that `query`
/// asks for.
///
/// # Errors
/// `not_found` before the draft opened; `unavailable` while its attendance record is read back;
/// `invalid` for a limit outside 1 to [`MAX_PAGE`](hoinghi_shared::api::MAX_PAGE).
pub fn page_rows(state: &MinutesState, query: &ExportAttendance) -> Result<PageRows, ApiError> {
    let id = query.conference_id;
    let minutes = state.minutes.get(&id).filter(|m| m.is_opened()).ok_or_else(|| no_minutes(&id))?;
    minutes.ensure_record(&id)?;
    let total_rows = minutes.attendance.len();
    let page = PageQuery { conference_id: id, offset: query.offset, limit: query.limit };
    let range = hoinghi_runtime::input::page(&page, total_rows)?;
    let rows = minutes.attendance[range.clone()].iter().map(row).collect();
    Ok(PageRows { query: query.clone(), offset: range.start, total_rows, rows })
}

impl PageRows {
    /// The reply: as many of the rows as fit a reply, written in the format asked for.
    ///
    /// # Errors
    /// `too_large` if a single row does not fit a reply (no row within the limits is that large).
    pub fn write(self) -> Result<AttendanceExport, ApiError> {
        let id = self.query.conference_id;
        let (content, kept) = fit(self.query.format, &self.rows, self.offset)?;
        let (media_type, extension) = match self.query.format {
            ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
            ExportFormat::Json => ("application/json", "json"),
        };
        Ok(AttendanceExport {
            conference_id: id,
            format: self.query.format,
            media_type: media_type.to_owned(),
            file_name: format!("attendance-{id}.{extension}"),
            rows: kept,
            offset: self.offset,
            total_rows: self.total_rows,
            content,
        })
    }
}

/// The content of the page of `rows` (starting at row `offset` of the file) in `format`, and how
/// many of the rows it holds: all, or as many as fit [`CONTENT_BUDGET`] as a JSON string (the
/// content travels as one: escaping can double its quotes and backslashes).
///
/// # Errors
/// `too_large` if not even the first row fits; `unavailable` if the content cannot be written.
fn fit(format: ExportFormat, rows: &[AttendanceRow], offset: usize) -> Result<(String, usize), ApiError> {
    let content = |n: usize| page_content(format, &rows[..n], offset == 0);
    let fits = |text: &str| hoinghi_shared::limits::json_len(text) <= CONTENT_BUDGET;
    let all = content(rows.len())?;
    if fits(&all) {
        return Ok((all, rows.len()));
    }
    // The most rows that fit: `fitting` fit, `over` do not.
    let (mut fitting, mut over) = (0, rows.len());
    while over - fitting > 1 {
        let middle = fitting + (over - fitting) / 2;
        if fits(&content(middle)?) {
            fitting = middle;
        } else {
            over = middle;
        }
    }
    if fitting == 0 {
        let size = hoinghi_shared::limits::json_len(&content(1)?);
        return Err(ApiError::too_large(format!(
            "row {offset} of the attendance export takes {} as a reply, more than a reply may ({})",
            describe_size(size),
            describe_size(CONTENT_BUDGET)
        )));
    }
    Ok((content(fitting)?, fitting))
}

/// The content of a page holding `rows`: CSV lines (after the header line when `first`), or a
/// JSON array of the rows.
fn page_content(format: ExportFormat, rows: &[AttendanceRow], first: bool) -> Result<String, ApiError> {
    match format {
        ExportFormat::Csv => csv(rows, first),
        ExportFormat::Json => {
            serde_json::to_string_pretty(rows).map_err(|e| ApiError::unavailable(format!("export: {e}")))
        }
    }
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

/// The CSV lines of `rows`, after the header line when `header`.
fn csv(rows: &[AttendanceRow], header: bool) -> Result<String, ApiError> {
    let failed = |e: &dyn std::fmt::Display| ApiError::unavailable(format!("the CSV could not be written: {e}"));
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(vec![]);
    if header {
        writer.write_record(CSV_HEADER).map_err(|e| failed(&e))?;
    }
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

    /// The page `query` asks for, as [`handle`] answers it.
    fn export(state: &MinutesState, query: &ExportAttendance) -> Result<AttendanceExport, ApiError> {
        page_rows(state, query)?.write()
    }

    /// Minutes opened with `attendance`.
    fn opened(attendance: Vec<AttendanceEntry>) -> (MinutesState, hoinghi_shared::ConferenceId) {
        let id = hoinghi_shared::ConferenceId::generate();
        let mut state = MinutesState::default();
        let minutes = crate::minutes::Minutes {
            status: Some(hoinghi_shared::api::MinutesStatus::Draft),
            attendance,
            ..Default::default()
        };
        state.minutes.insert(id, minutes);
        (state, id)
    }

    /// The whole export, read page by page as a client reads it.
    async fn read_whole(
        state: &MinutesState,
        id: hoinghi_shared::ConferenceId,
        format: ExportFormat,
    ) -> AttendanceExport {
        hoinghi_shared::export::read_all::<ApiError, _, _>(|offset| {
            let query = ExportAttendance { conference_id: id, format, offset, limit: hoinghi_shared::api::MAX_PAGE };
            std::future::ready(export(state, &query))
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn the_export_of_50000_sites_comes_whole_by_pages_of_rows() {
        // Given minutes opened with 50,000 sites, each with two named delegates
        let delegates = vec![
            Person { name: "Nguyễn Văn Hùng".into(), title: "Bí thư Đảng ủy xã".into() },
            Person { name: "Trần Thị Hương".into(), title: "Chủ tịch Ủy ban nhân dân xã".into() },
        ];
        let attendance = (0..50_000)
            .map(|i| {
                crate::testing::checked_in(
                    SiteId::parse(&format!("xa-{i}")).unwrap(),
                    format!("Điểm cầu xã số {i}"),
                    delegates.clone(),
                )
            })
            .collect();
        let (state, id) = opened(attendance);
        // When the first page is asked for, then it says where it is in the whole file
        let first = export(&state, &ExportAttendance::first(id, ExportFormat::Csv)).unwrap();
        assert_eq!((first.offset, first.rows, first.total_rows), (0, hoinghi_shared::api::DEFAULT_PAGE, 50_000));
        // When every page is read, then the CSV is the whole file: larger than one reply may carry
        let csv = read_whole(&state, id, ExportFormat::Csv).await;
        assert!(csv.content.len() > REPLY_BUDGET, "{} bytes", csv.content.len());
        let mut reader = ::csv::Reader::from_reader(csv.content.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!((records.len(), csv.rows), (50_000, 50_000));
        assert_eq!((&records[0][0], &records[49_999][0]), ("xa-0", "xa-49999"));
        assert_eq!(
            &records[12_345][3],
            "Nguyễn Văn Hùng (Bí thư Đảng ủy xã); Trần Thị Hương (Chủ tịch Ủy ban nhân dân xã)"
        );
        // And the JSON is one array of every row
        let json = read_whole(&state, id, ExportFormat::Json).await;
        let rows: Vec<AttendanceRow> = serde_json::from_str(&json.content).unwrap();
        assert_eq!(rows.len(), 50_000);
        assert_eq!(rows.iter().map(|r| r.site_id.as_str()).nth(49_999), Some("xa-49999"));
        // And a limit outside 1 to MAX_PAGE is refused
        for limit in [0, hoinghi_shared::api::MAX_PAGE + 1] {
            let query = ExportAttendance { limit, ..ExportAttendance::first(id, ExportFormat::Csv) };
            assert_eq!(export(&state, &query).unwrap_err().code, hoinghi_shared::ErrorCode::Invalid);
        }
    }

    #[tokio::test]
    async fn a_page_too_large_for_a_reply_holds_fewer_rows_and_reading_on_gets_the_rest() {
        // Given 5,000 sites whose delegate's name and title are as long as the limits allow, of
        // `"` (two bytes in the CSV, each two again in the JSON string that carries it)
        let (name, title) = ("\"".repeat(200), "\"".repeat(500));
        let attendance = (0..5_000)
            .map(|i| {
                let delegates = vec![Person { name: name.clone(), title: title.clone() }];
                crate::testing::checked_in(SiteId::parse(&format!("xa-{i}")).unwrap(), format!("Xã {i}"), delegates)
            })
            .collect();
        let (state, id) = opened(attendance);
        for format in [ExportFormat::Csv, ExportFormat::Json] {
            // When a page of all of them is asked for
            let query = ExportAttendance { limit: 5_000, ..ExportAttendance::first(id, format) };
            let page = export(&state, &query).unwrap();
            // Then it holds fewer, and fits a reply
            assert!(page.rows > 0 && page.rows < 5_000, "{format:?}: {} rows", page.rows);
            assert!(serde_json::to_vec(&page).unwrap().len() <= REPLY_BUDGET);
            // And reading on from where it ends gets every row
            assert_eq!(read_whole(&state, id, format).await.rows, 5_000);
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
        let text = csv(&rows, true).unwrap();
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
