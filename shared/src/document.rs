//! Reading the published minutes by pages.
//!
//! The published minutes of a national conference run to megabytes: about 3.7 MB of Markdown at
//! 20,000 sites, which would still fit one reply ([`crate::limits::REPLY_BUDGET`], 7.5 MiB), 9 MB
//! at 50,000 (the benchmark's conference) and up to about 22 MB for a conference that fills every
//! budget (docs/RELIABILITY.md), which would not. So every reply that carries the document —
//! `minutes.get`, `minutes.sites.<site>.get`, and the replies of the minutes' commands
//! (`minutes.persons.<person>.publish`, …) — carries one **page** of it, whatever its size (one
//! shape for every document, and a page leaves room in the reply for the rest): a byte range of the whole document's UTF-8, cut only between characters, together with
//! where the page starts (`document_offset`), the whole document's length in bytes
//! (`document_total_bytes`) and its SHA-256 (`sha256`, and `html_sha256` for the HTML form). A
//! reader reads on from `document_offset` + the page's length until it reaches
//! `document_total_bytes`, then checks the hash of everything it read ([`Assembler`],
//! [`read_all`]).
//!
//! # The rules of a page
//! A reader asks for a page with `document_offset` and `document_limit` (fields of
//! [`crate::api::GetMinutes`]; the commands' replies always carry the first page):
//! - `document_offset` (default 0) is a byte offset into the document of the form asked for (the
//!   Markdown, or the HTML with `"form": "html"`); `document_limit` (default
//!   [`DEFAULT_DOCUMENT_PAGE`], 1 MiB) the most bytes to return; a larger limit is clamped to
//!   [`MAX_DOCUMENT_PAGE`] (2 MiB); 0 is refused (`invalid`).
//! - Both ends of the window `[offset, offset + limit)` are moved back to the start of the
//!   character they fall in, so a page never splits a character, and windows of one fixed size
//!   (`k × limit`) tile the document with no gap and no overlap; the reply's `document_offset` says
//!   where the page really starts. A window too short to hold the character it starts in holds
//!   that one character, so reading on always progresses.
//! - An offset equal to the document's length gives an empty last page; an offset past it is
//!   refused (`invalid`, naming the length), and so is any other value that is not a byte count
//!   (negative, fractional, a string: the body does not parse).
//! - The service may return fewer bytes than asked, so that the reply fits the reply budget: a
//!   reader always reads on from where the page it got ends, never from where it asked to.
//! - A document no longer than the default page comes whole in the first page, so a reader of
//!   small minutes sees no difference (`document_offset` 0, `document_total_bytes` the page's
//!   length).
//! - Minutes that are not published have no document: the page fields are ignored and the reply
//!   carries none.

use std::future::Future;
use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::api::MinutesView;
use crate::ApiError;

/// The bytes of the document a page holds unless `document_limit` says otherwise: 1 MiB, so that
/// even a page made of characters that JSON escapes (each `"` or newline taking two bytes) leaves
/// most of the reply budget to the rest of the reply.
pub const DEFAULT_DOCUMENT_PAGE: usize = 1024 * 1024;

/// The most bytes of the document one page may hold: a larger `document_limit` is clamped to it.
pub const MAX_DOCUMENT_PAGE: usize = 2 * 1024 * 1024;

/// The start of the character `index` falls in (`index` itself on a boundary; the length for an
/// index past the end).
fn floor_boundary(text: &str, index: usize) -> usize {
    let mut i = index.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The byte range of `text` a page asked for with `offset` and `limit` holds (the rules of the
/// [module](self)).
///
/// # Errors
/// `invalid` for a limit of 0 or an offset past the end of the text.
pub fn page_range(text: &str, offset: usize, limit: Option<usize>) -> Result<Range<usize>, ApiError> {
    let limit = match limit {
        None => DEFAULT_DOCUMENT_PAGE,
        Some(0) => {
            return Err(ApiError::invalid(format!(
                "document_limit must be 1 or more (bytes of the document per page; default {DEFAULT_DOCUMENT_PAGE}, \
                 at most {MAX_DOCUMENT_PAGE})"
            )))
        }
        Some(n) => n.min(MAX_DOCUMENT_PAGE),
    };
    let len = text.len();
    if offset > len {
        return Err(ApiError::invalid(format!(
            "document_offset {offset} is past the end of the document, which has {len} bytes: read from 0 up to {len}"
        )));
    }
    let start = floor_boundary(text, offset);
    let mut end = floor_boundary(text, offset.saturating_add(limit));
    if end <= start && start < len {
        // The window ends inside the character it starts in: that one character.
        end = start + text[start..].chars().next().map_or(0, char::len_utf8);
    }
    Ok(start..end)
}

/// `range` of `text` shortened (from its end, between characters) until the page takes at most
/// `budget` bytes as a JSON string, keeping at least one character.
pub fn fit_json(text: &str, range: Range<usize>, budget: usize) -> Range<usize> {
    let Range { start, mut end } = range;
    while crate::limits::json_len(&text[start..end]) > budget {
        let half = floor_boundary(text, start + (end - start) / 2);
        if half <= start {
            break;
        }
        end = half;
    }
    start..end
}

/// One page of a document as a reply carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    /// Where it starts in the whole document, in bytes.
    pub offset: usize,
    /// Its text.
    pub text: &'a str,
    /// The whole document's length in bytes.
    pub total_bytes: usize,
    /// The whole document's hex SHA-256, when the reply carries one.
    pub sha256: Option<&'a str>,
}

impl MinutesView {
    /// The page of the published document this reply carries: of the HTML form when it carries
    /// `html`, else of the Markdown; `None` when it carries neither. A reply of a service from
    /// before documents came by pages (no `document_offset`, no `document_total_bytes`) carries the
    /// whole document: read as one page at 0.
    pub fn document_page(&self) -> Option<Page<'_>> {
        let (text, sha256) = match (&self.html, &self.markdown) {
            (Some(html), _) => (html.as_str(), self.html_sha256.as_deref()),
            (None, Some(markdown)) => (markdown.as_str(), self.sha256.as_deref()),
            (None, None) => return None,
        };
        let offset = self.document_offset.unwrap_or(0);
        Some(Page { offset, text, total_bytes: self.document_total_bytes.unwrap_or(offset + text.len()), sha256 })
    }
}

/// Why the pages read do not make the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// A page did not start where the text read so far ends.
    #[error("a page of the document starts at byte {got}, not at byte {expected} where the text read so far ends")]
    Gap {
        /// Where the next page should have started.
        expected: usize,
        /// Where it started.
        got: usize,
    },
    /// The whole document's length or hash differs from one page to the next.
    #[error("the document changed between pages ({what} was {before}, is now {after})")]
    Changed {
        /// `document_total_bytes` or `sha256`.
        what: &'static str,
        /// Its value on the first page.
        before: String,
        /// Its value now.
        after: String,
    },
    /// A page brought nothing before the end, or went past it.
    #[error("a page of {len} bytes at byte {offset} does not progress within the document's {total} bytes")]
    NoProgress {
        /// Where the page starts.
        offset: usize,
        /// Its length.
        len: usize,
        /// The whole document's length.
        total: usize,
    },
    /// [`Assembler::finish`] before the last page.
    #[error("only {read} of the document's {total} bytes were read")]
    Incomplete {
        /// Bytes read.
        read: usize,
        /// The whole document's length.
        total: usize,
    },
    /// Everything was read, but its hash is not the one every page carries.
    #[error("the document read has SHA-256 {actual}, not the {expected} its pages carry")]
    HashMismatch {
        /// The hash the pages carry.
        expected: String,
        /// The hash of what was read.
        actual: String,
    },
    /// A reply carries no document (minutes not published, or a reply without it).
    #[error("the reply carries no page of the published document")]
    NoDocument,
}

impl From<DocumentError> for ApiError {
    /// A document that cannot be put together from its pages is the service's fault, not the
    /// caller's: `unavailable`, saying why.
    fn from(e: DocumentError) -> Self {
        ApiError::unavailable(format!("the published minutes could not be read whole: {e}"))
    }
}

/// Puts a document together from its pages, in order, and checks the whole against its hash.
#[derive(Debug, Default)]
pub struct Assembler {
    text: String,
    total: Option<usize>,
    sha256: Option<String>,
}

impl Assembler {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the next page must start: the length read so far.
    pub fn next_offset(&self) -> usize {
        self.text.len()
    }

    /// Whether the whole document has been read.
    pub fn is_complete(&self) -> bool {
        self.total == Some(self.text.len())
    }

    /// Adds the next page.
    ///
    /// # Errors
    /// A page that does not start where the text read ends, that does not progress (empty before
    /// the end, or past it), or whose document's length or hash differs from the first page's.
    pub fn push(&mut self, page: Page<'_>) -> Result<(), DocumentError> {
        if page.offset != self.text.len() {
            return Err(DocumentError::Gap { expected: self.text.len(), got: page.offset });
        }
        match self.total {
            None => self.total = Some(page.total_bytes),
            Some(total) if total != page.total_bytes => {
                return Err(DocumentError::Changed {
                    what: "document_total_bytes",
                    before: total.to_string(),
                    after: page.total_bytes.to_string(),
                })
            }
            Some(_) => {}
        }
        match (&self.sha256, page.sha256) {
            (None, Some(hash)) if self.text.is_empty() => self.sha256 = Some(hash.to_owned()),
            (Some(before), after) if after != Some(before.as_str()) => {
                return Err(DocumentError::Changed {
                    what: "sha256",
                    before: before.clone(),
                    after: after.unwrap_or("none").to_owned(),
                })
            }
            _ => {}
        }
        let end = page.offset + page.text.len();
        let stalled = page.text.is_empty() && page.offset < page.total_bytes;
        if stalled || end > page.total_bytes {
            return Err(DocumentError::NoProgress {
                offset: page.offset,
                len: page.text.len(),
                total: page.total_bytes,
            });
        }
        self.text.push_str(page.text);
        Ok(())
    }

    /// The whole document, once every page is read and its hash (when the pages carry one) is
    /// checked.
    ///
    /// # Errors
    /// Pages missing, or a hash that is not the one the pages carry.
    pub fn finish(self) -> Result<String, DocumentError> {
        let total = self.total.unwrap_or(0);
        if self.text.len() != total {
            return Err(DocumentError::Incomplete { read: self.text.len(), total });
        }
        if let Some(expected) = self.sha256 {
            let actual = hex::encode(Sha256::digest(self.text.as_bytes()));
            if !actual.eq_ignore_ascii_case(&expected) {
                return Err(DocumentError::HashMismatch { expected, actual });
            }
        }
        Ok(self.text)
    }
}

/// Reads every page of the published document and returns the reply of the first page with the
/// whole document, checked against its hash, in place of its page (`markdown`, or `html` for the
/// HTML form; `document_offset` 0). `fetch(offset)` asks for the page at `offset` (with the same
/// query otherwise, `document_offset` set to `offset`); it is called first with 0, and again only
/// while pages remain, so a small document takes one request. A reply without a document (minutes
/// not published) is returned as it is.
///
/// # Errors
/// What `fetch` returns, or a [`DocumentError`] (as `E`) when the pages do not make the document.
pub async fn read_all<E, F, Fut>(mut fetch: F) -> Result<MinutesView, E>
where
    E: From<DocumentError>,
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<MinutesView, E>>,
{
    let mut first = fetch(0).await?;
    let Some(page) = first.document_page() else { return Ok(first) };
    let mut assembler = Assembler::new();
    assembler.push(page)?;
    while !assembler.is_complete() {
        let next = fetch(assembler.next_offset()).await?;
        assembler.push(next.document_page().ok_or(DocumentError::NoDocument)?)?;
    }
    let whole = assembler.finish()?;
    first.document_offset = Some(0);
    first.document_total_bytes = Some(whole.len());
    if first.html.is_some() {
        first.html = Some(whole);
    } else {
        first.markdown = Some(whole);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    /// Vietnamese text: each "ệ" takes 3 bytes, each "ư" 2.
    const TEXT: &str = "Nghị quyết: tiếp tục nhân rộng mô hình \"Dân vận khéo\" ở các điểm cầu xã.\n";

    fn hash(text: &str) -> String {
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn a_window_never_splits_a_character_and_fixed_windows_tile_the_text() {
        // Given a text whose characters take 1 to 3 bytes
        let text = TEXT.repeat(3);
        for limit in 1..=17 {
            // When it is read in windows of `limit` bytes at k × limit
            let mut read = String::new();
            let mut offset = 0;
            while offset < text.len() {
                let range = page_range(&text, offset, Some(limit)).unwrap();
                // Then each page starts and ends between characters
                assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
                if limit >= 3 {
                    // and windows of at least a character's size tile the text
                    assert_eq!(range.start, read.len(), "limit {limit} at {offset}");
                    read.push_str(&text[range.clone()]);
                    offset += limit;
                } else {
                    // and a shorter window still holds the character it starts in
                    assert!(!range.is_empty());
                    read.push_str(&text[range.clone()]);
                    offset = range.end;
                }
            }
            assert_eq!(read, text, "limit {limit}");
        }
    }

    #[test]
    fn an_offset_inside_a_character_starts_the_page_at_that_character() {
        let text = "ệệ";
        // "ệ" is bytes 0..3 and 3..6: offsets 1 and 2 fall inside the first
        assert_eq!(page_range(text, 1, Some(4)).unwrap(), 0..3);
        assert_eq!(page_range(text, 4, Some(100)).unwrap(), 3..6);
        // A window of 1 byte holds the one character it starts in
        assert_eq!(page_range(text, 3, Some(1)).unwrap(), 3..6);
        assert_eq!(page_range(text, 5, Some(1)).unwrap(), 3..6);
    }

    #[test]
    fn the_end_the_limits_and_what_is_refused() {
        let text = TEXT;
        // An offset at the end gives an empty last page; past it is refused, naming the length
        assert_eq!(page_range(text, text.len(), None).unwrap(), text.len()..text.len());
        for offset in [text.len() + 1, usize::MAX] {
            let e = page_range(text, offset, None).unwrap_err();
            assert_eq!(e.code, ErrorCode::Invalid);
            assert!(e.message.contains(&format!("has {} bytes", text.len())), "{}", e.message);
        }
        // A limit of 0 is refused
        let e = page_range(text, 0, Some(0)).unwrap_err();
        assert!(e.code == ErrorCode::Invalid && e.message.contains("document_limit"), "{e:?}");
        // Without a limit, a short text comes whole; a huge limit is clamped, never overflowing
        assert_eq!(page_range(text, 0, None).unwrap(), 0..text.len());
        let long = "ư".repeat(MAX_DOCUMENT_PAGE);
        assert_eq!(page_range(&long, 0, None).unwrap(), 0..DEFAULT_DOCUMENT_PAGE);
        assert_eq!(page_range(&long, 1, Some(usize::MAX)).unwrap(), 0..MAX_DOCUMENT_PAGE);
    }

    #[test]
    fn a_page_is_shortened_between_characters_until_its_json_fits() {
        // Quotes take two bytes each as JSON
        let text = "\"ệ\"".repeat(100);
        let range = fit_json(&text, 0..text.len(), 101);
        assert!(crate::limits::json_len(&text[range.clone()]) <= 101);
        assert!(text.is_char_boundary(range.end) && range.end > 0);
        // A page that fits is kept whole
        assert_eq!(fit_json(&text, 5..text.len(), usize::MAX), 5..text.len());
    }

    /// The reply to a page of `text` at `offset` of at most `limit` bytes.
    fn reply(text: &str, offset: usize, limit: usize) -> MinutesView {
        let range = page_range(text, offset, Some(limit)).unwrap();
        let mut view: MinutesView = serde_json::from_value(serde_json::json!({
            "conference_id": "0190e1a2-0000-7000-8000-000000000002",
            "status": "published",
            "title": "t", "organizer": "o",
            "starts_at": "2021-07-23T08:00:00+07:00", "ends_at": "2021-07-23T11:30:00+07:00",
            "host_site": {"id": "tinh-uy", "name": "Tỉnh ủy"},
            "chairs": [], "guests": [], "attendance_total": 0, "attendance_offset": 0, "attendance": [],
            "items": [], "acknowledgements": []
        }))
        .unwrap();
        view.markdown = Some(text[range.clone()].to_owned());
        view.sha256 = Some(hash(text));
        view.document_offset = Some(range.start);
        view.document_total_bytes = Some(text.len());
        view
    }

    #[test]
    fn every_page_read_makes_the_document_whose_hash_every_page_carries() {
        let text = TEXT.repeat(40);
        let mut asked = vec![];
        let whole = futures_lite_block_on(read_all::<ApiError, _, _>(|offset| {
            asked.push(offset);
            std::future::ready(Ok(reply(&text, offset, 100)))
        }))
        .unwrap();
        assert_eq!(whole.markdown.as_deref(), Some(text.as_str()));
        assert_eq!((whole.document_offset, whole.document_total_bytes), (Some(0), Some(text.len())));
        assert!(asked.len() > text.len() / 100 && asked[0] == 0, "{asked:?}");
        // A small document takes one request
        let mut requests = 0;
        let small = futures_lite_block_on(read_all::<ApiError, _, _>(|offset| {
            requests += 1;
            std::future::ready(Ok(reply(TEXT, offset, DEFAULT_DOCUMENT_PAGE)))
        }))
        .unwrap();
        assert_eq!((small.markdown.as_deref(), requests), (Some(TEXT), 1));
    }

    #[test]
    fn pages_that_do_not_make_the_document_are_refused() {
        let text = "Dan van kheo. ".repeat(12);
        let page = |offset: usize, limit: usize| reply(&text, offset, limit);
        let push = |a: &mut Assembler, v: &MinutesView| a.push(v.document_page().unwrap());
        // A gap
        let mut a = Assembler::new();
        push(&mut a, &page(0, 50)).unwrap();
        assert!(matches!(push(&mut a, &page(60, 50)), Err(DocumentError::Gap { expected: 50, got: 60 })));
        // Another document's page
        let mut other = page(50, 50);
        other.sha256 = Some(hash("khác"));
        assert!(matches!(push(&mut a, &other), Err(DocumentError::Changed { what: "sha256", .. })));
        let mut longer = page(50, 50);
        longer.document_total_bytes = Some(text.len() + 1);
        assert!(matches!(push(&mut a, &longer), Err(DocumentError::Changed { what: "document_total_bytes", .. })));
        // An empty page before the end
        let mut empty = page(50, 50);
        empty.markdown = Some(String::new());
        assert!(matches!(push(&mut a, &empty), Err(DocumentError::NoProgress { .. })));
        // Finishing early
        assert!(matches!(a.finish(), Err(DocumentError::Incomplete { read: 50, .. })));
        // Every page read, but the bytes are not the ones hashed
        let mut a = Assembler::new();
        let mut forged = page(0, text.len());
        forged.markdown = Some(text.replace("khéo", "kheo").replacen("a", "aaa", 1));
        forged.document_total_bytes = Some(forged.markdown.as_ref().unwrap().len());
        push(&mut a, &forged).unwrap();
        assert!(matches!(a.finish(), Err(DocumentError::HashMismatch { .. })));
    }

    /// Runs a future that never waits (every test fetch is ready at once).
    fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("the test fetches are ready at once"),
        }
    }
}
