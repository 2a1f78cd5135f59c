//! Reading the attendance export by pages.
//!
//! The attendance export (`hoinghi.v1.minutes.attendance_export`, [`crate::api::ExportAttendance`])
//! has a row per invited site: about 170 bytes of CSV per row, 8.5 MB at 50,000 sites, more than
//! one reply may carry ([`crate::limits::REPLY_BUDGET`]). So it comes by pages of rows, like the
//! roster: a request names the first row (`offset`) and the most rows to return (`limit`, 1 to
//! [`crate::api::MAX_PAGE`]); the reply ([`AttendanceExport`]) says where its rows start
//! (`offset`), how many it holds (`rows`, possibly fewer than asked, so that the reply fits) and how
//! many the whole file has (`total_rows`). A reader reads on from `offset` + `rows` until
//! `total_rows` ([`read_all`]).
//!
//! - **CSV**: the first page's content starts with the header line; every page's content is the
//!   lines of its rows, so the contents one after the other are the file.
//! - **JSON**: each page's content is a JSON array of its rows ([`AttendanceRow`]); the file is the
//!   array of every page's rows, in order ([`read_all`] writes it as the service writes a page).
//!
//! The attendance record does not change once the draft opened (the export needs it), so pages
//! read one after the other make one file.

use std::future::Future;

use crate::api::{AttendanceExport, AttendanceRow, ExportFormat};
use crate::ApiError;

/// Why the pages read do not make the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A page did not start where the rows read so far end.
    #[error("a page starts at row {got}, not at row {expected} where the rows read so far end")]
    Gap {
        /// Where the page should start.
        expected: usize,
        /// Where it starts.
        got: usize,
    },
    /// A page is of another file (another format or number of rows).
    #[error("a page says {what} {got}, the first page said {expected}")]
    Changed {
        /// The field that differs.
        what: &'static str,
        /// What the first page said.
        expected: String,
        /// What this page says.
        got: String,
    },
    /// A page holds no row before the end.
    #[error("the page at row {offset} holds no row, and the file has {total} rows")]
    NoProgress {
        /// Where it starts.
        offset: usize,
        /// The file's rows.
        total: usize,
    },
    /// The pages hold more rows than the file has.
    #[error("the pages hold {read} rows, the file has {total}")]
    Overrun {
        /// Rows read.
        read: usize,
        /// The file's rows.
        total: usize,
    },
    /// A JSON page is not an array of as many rows as it says.
    #[error("the JSON page at row {offset} is not an array of its {rows} rows: {reason}")]
    Malformed {
        /// Where it starts.
        offset: usize,
        /// The rows it says it holds.
        rows: usize,
        /// What is wrong.
        reason: String,
    },
}

impl From<ExportError> for ApiError {
    /// An export that cannot be put together from its pages is the service's fault, not the
    /// caller's: `unavailable`, saying why.
    fn from(e: ExportError) -> Self {
        ApiError::unavailable(format!("the attendance export could not be read whole: {e}"))
    }
}

fn json_rows(page: &AttendanceExport) -> Result<Vec<AttendanceRow>, ExportError> {
    let malformed = |reason: String| ExportError::Malformed { offset: page.offset, rows: page.rows, reason };
    let rows: Vec<AttendanceRow> = serde_json::from_str(&page.content).map_err(|e| malformed(e.to_string()))?;
    if rows.len() != page.rows {
        return Err(malformed(format!("it holds {}", rows.len())));
    }
    Ok(rows)
}

/// Reads the whole export: `fetch(offset)` asks for the page of rows starting at `offset`; the
/// pages are read in order until `total_rows`, checked to follow one another, and put together
/// into one [`AttendanceExport`] holding the whole file (`offset` 0, `rows` = `total_rows`). A file
/// that fits one page takes one request.
///
/// # Errors
/// What `fetch` returns, or an [`ExportError`] (as `E`) when the pages do not make the file.
pub async fn read_all<E, F, Fut>(mut fetch: F) -> Result<AttendanceExport, E>
where
    E: From<ExportError>,
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<AttendanceExport, E>>,
{
    let mut whole = fetch(0).await?;
    if whole.offset != 0 {
        return Err(ExportError::Gap { expected: 0, got: whole.offset }.into());
    }
    let total = whole.total_rows;
    let mut rows = match whole.format {
        ExportFormat::Json => Some(json_rows(&whole)?),
        ExportFormat::Csv => None,
    };
    let mut read = whole.rows;
    while read < total {
        let page = fetch(read).await?;
        if page.offset != read {
            return Err(ExportError::Gap { expected: read, got: page.offset }.into());
        }
        if page.total_rows != total {
            let (expected, got) = (total.to_string(), page.total_rows.to_string());
            return Err(ExportError::Changed { what: "total_rows", expected, got }.into());
        }
        if page.format != whole.format {
            let (expected, got) = (format!("{:?}", whole.format), format!("{:?}", page.format));
            return Err(ExportError::Changed { what: "format", expected, got }.into());
        }
        if page.rows == 0 {
            return Err(ExportError::NoProgress { offset: read, total }.into());
        }
        match &mut rows {
            Some(rows) => rows.extend(json_rows(&page)?),
            None => whole.content.push_str(&page.content),
        }
        read += page.rows;
    }
    if read != total {
        return Err(ExportError::Overrun { read, total }.into());
    }
    if let Some(rows) = rows {
        // As the service writes a page: pretty-printed.
        whole.content = serde_json::to_string_pretty(&rows).map_err(|e| ExportError::Malformed {
            offset: 0,
            rows: total,
            reason: e.to_string(),
        })?;
    }
    whole.rows = total;
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConferenceId, ErrorCode, SiteId};

    fn row(i: usize) -> AttendanceRow {
        AttendanceRow {
            site_id: SiteId::parse(&format!("xa-{i}")).unwrap(),
            site_name: format!("Điểm cầu xã số {i}"),
            answer: "confirmed".into(),
            delegates: vec![],
            headcount: 2,
            decline_reason: None,
            checked_in_at: None,
            presence: None,
        }
    }

    /// The service's page of `rows` rows from `offset` of a file of `total` rows.
    fn page(format: ExportFormat, offset: usize, rows: usize, total: usize) -> AttendanceExport {
        let range = offset.min(total)..(offset + rows).min(total);
        let content = match format {
            ExportFormat::Csv => {
                let header = if offset == 0 { "site_id,site_name\r\n".to_owned() } else { String::new() };
                header + &range.clone().map(|i| format!("xa-{i},Điểm cầu xã số {i}\r\n")).collect::<String>()
            }
            ExportFormat::Json => serde_json::to_string_pretty(&range.clone().map(row).collect::<Vec<_>>()).unwrap(),
        };
        AttendanceExport {
            conference_id: ConferenceId::parse("0190e1a2-0000-7000-8000-000000000002").unwrap(),
            format,
            media_type: String::new(),
            file_name: String::new(),
            rows: range.len(),
            offset,
            total_rows: total,
            content,
        }
    }

    /// Runs a future that never waits (every test fetch is ready at once).
    fn block_on<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("the test fetches are ready at once"),
        }
    }

    #[test]
    fn pages_of_rows_make_the_whole_file_in_either_format() {
        // Given a file of 2,500 rows, served 1,000 at a time
        let mut requests = Vec::new();
        let csv = block_on(read_all::<ApiError, _, _>(|offset| {
            requests.push(offset);
            std::future::ready(Ok(page(ExportFormat::Csv, offset, 1_000, 2_500)))
        }))
        .unwrap();
        // Then the CSV is the header and every line once, in order, read in three requests
        assert_eq!(requests, [0, 1_000, 2_000]);
        assert_eq!((csv.offset, csv.rows, csv.total_rows), (0, 2_500, 2_500));
        assert_eq!(csv.content, page(ExportFormat::Csv, 0, 2_500, 2_500).content);
        // And the JSON is one array of every row, as the service writes one page
        let json = block_on(read_all::<ApiError, _, _>(|offset| {
            std::future::ready(Ok(page(ExportFormat::Json, offset, 1_000, 2_500)))
        }))
        .unwrap();
        assert_eq!(json.content, page(ExportFormat::Json, 0, 2_500, 2_500).content);
        // And a file of no row is one page
        let empty =
            block_on(read_all::<ApiError, _, _>(|_| std::future::ready(Ok(page(ExportFormat::Csv, 0, 1_000, 0)))));
        assert_eq!(empty.unwrap().rows, 0);
    }

    #[test]
    fn pages_that_do_not_make_the_file_are_refused() {
        let read = |serve: &dyn Fn(usize) -> AttendanceExport| {
            block_on(read_all::<ApiError, _, _>(|offset| std::future::ready(Ok(serve(offset))))).unwrap_err()
        };
        // A page that starts elsewhere than asked
        let gap = read(&|offset| page(ExportFormat::Csv, if offset == 0 { 0 } else { offset + 1 }, 10, 30));
        assert_eq!(gap.code, ErrorCode::Unavailable);
        assert!(gap.message.contains("starts at row 11, not at row 10"), "{gap:?}");
        // A page of a file that grew
        let grew = read(&|offset| page(ExportFormat::Csv, offset, 10, if offset == 0 { 30 } else { 31 }));
        assert!(grew.message.contains("total_rows 31"), "{grew:?}");
        // An empty page before the end
        let stuck = read(&|offset| page(ExportFormat::Csv, offset, if offset == 0 { 10 } else { 0 }, 30));
        assert!(stuck.message.contains("holds no row"), "{stuck:?}");
        // A JSON page holding fewer rows than it says
        let short = read(&|offset| {
            let mut p = page(ExportFormat::Json, offset, 10, 30);
            p.rows += 1;
            p
        });
        assert!(short.message.contains("is not an array of its 11 rows"), "{short:?}");
        // Pages holding more rows than the file has
        let over = read(&|offset| {
            let mut p = page(ExportFormat::Csv, offset, 20, 30);
            p.rows = 20;
            p
        });
        assert!(over.message.contains("the pages hold 40 rows, the file has 30"), "{over:?}");
    }
}
