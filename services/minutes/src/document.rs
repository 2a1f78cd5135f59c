//! The published document out of line, and read back for the replies that carry a page of it.
//!
//! The Markdown of the published minutes grows with the conference (its attendance table has a
//! row per site: about 9 MB for the benchmark's 50,000 sites, up to about 22 MB for a conference
//! filling every budget, docs/RELIABILITY.md), past what one event may carry. So when it is larger
//! than [`INLINE_LIMIT`] the publish command stores it in the records bucket (object kind
//! [`KIND`], [`Records::put`]) *before* appending `minutes_published`, and the event carries the
//! reference ([`StoredObject`]: name, size, SHA-256 of every byte) with `markdown` empty; `sha256`
//! and `html_sha256` stay the hashes of the whole document ([`out_of_line`]). A smaller document
//! stays inline exactly as before.
//!
//! # Read back lazily, held in a bounded cache
//! The projection keeps only the reference ([`crate::minutes::Minutes::document`]): a restart
//! replays the log without reading any object (the replay of a 50,000-site conference stays a
//! replay of events), and the state holds no document. A reply that carries a page of it reads
//! the whole object back once ([`Documents::markdown`]: [`Records::get`] checks its size and
//! SHA-256 against the reference, a mismatch is an error, never a page), then serves every page
//! from [`Documents`]' cache: at most [`CACHE_BYTES`] of documents (Markdown, and the HTML form,
//! which is rendered from the minutes rather than stored and is as costly to render again),
//! least recently used first out (`quick_cache`). Concurrent readers of a document not yet cached
//! wait for one read of it rather than each reading it.
//!
//! # Pages
//! Every reply carries one page of the document ([`hoinghi_shared::document`] has the rules); the
//! aggregate cuts it ([`crate::minutes::Minutes::paged_view`]) from the whole text this module
//! hands it.

use std::sync::Arc;

use hoinghi_runtime::records::{RecordError, Records, INLINE_LIMIT};
use hoinghi_runtime::store::Decision;
use hoinghi_shared::events::{MinutesEvent, StoredObject};
use hoinghi_shared::{ApiError, ConferenceId};

use crate::commands::Store;
use crate::minutes::no_minutes;

/// The kind of the published Markdown's objects in the records bucket:
/// `minutes-document/<conference>/<sha256>`.
pub const KIND: &str = "minutes-document";

/// The most bytes of documents the cache holds: 64 MiB, within a service's memory budget. That is
/// room for the Markdown and the HTML form of several benchmark conferences of 50,000 sites (about
/// 9 MB of Markdown each). A conference that fills every budget has up to about 22 MB of Markdown
/// and a larger HTML form, so fewer of those fit. A form larger than the cache admits (about
/// 62 MiB, `quick_cache`'s hot share of it) is not kept: it is read back or rendered again for
/// each request.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Weighs a cached document by its bytes (at least 1: the cache needs no zero weights).
#[derive(Debug, Clone, Copy)]
struct Bytes;

impl quick_cache::Weighter<String, Arc<str>> for Bytes {
    fn weight(&self, key: &String, value: &Arc<str>) -> u64 {
        (key.len() + value.len()).max(1) as u64
    }
}

/// The published documents read back from the records bucket (and the HTML forms rendered), with
/// the bounded cache.
#[derive(Clone)]
pub struct Documents {
    records: Records,
    cache: Arc<quick_cache::sync::Cache<String, Arc<str>, Bytes>>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents").field("cached_bytes", &self.cache.weight()).finish()
    }
}

/// What a failed read or write of the records bucket is for a caller: the bucket unreachable (or
/// an object not visible yet) is `unavailable`, worth retrying shortly. An object that is not what
/// its reference names is `unavailable` too (503: the service's fault, not the caller's; the
/// contract has no other code for it), but its message says that retrying will not help and that
/// the operator must restore the object, which the service's log names, from a backup.
fn api_error(what: &str, e: &RecordError) -> ApiError {
    if e.is_transient() {
        return ApiError::unavailable(format!("{what}: {e}; try again shortly"));
    }
    tracing::error!(
        error = %e,
        "{what}: the records bucket does not hold what the log references; restore the object from a backup"
    );
    ApiError::unavailable(format!("{what}: {e}. {NOT_TRANSIENT}"))
}

/// What a reply says of a document that cannot be served as published, however often it is asked.
pub const NOT_TRANSIENT: &str = "Retrying will not help: the operator must restore this object of the records bucket \
                                 from a backup (the minutes service's log names it)";

/// Checks that `object`, the document a publication references, is the document it published
/// (`sha256`, the hash the replies advertise): the publish command only appends them equal; an
/// event read from the log that disagrees is not served.
///
/// # Errors
/// `unavailable`, saying retrying will not help.
pub fn check_published(object: &StoredObject, sha256: &str) -> Result<(), ApiError> {
    if object.sha256 == sha256 {
        return Ok(());
    }
    tracing::error!(
        object = %object.object,
        sha256,
        "the published minutes reference a document whose hash is not the one they published"
    );
    Err(ApiError::unavailable(format!(
        "the published minutes could not be read back: they were published with SHA-256 {sha256}, and the object \
         they reference, {}, holds a document with SHA-256 {}. {NOT_TRANSIENT}",
        object.object, object.sha256
    )))
}

impl Documents {
    /// The documents kept in `records`, with an empty cache.
    pub fn new(records: Records) -> Self {
        Self { records, cache: Arc::new(quick_cache::sync::Cache::with_weighter(16, CACHE_BYTES, Bytes)) }
    }

    /// Stores the Markdown of conference `conference`'s minutes (before the event that references
    /// it is appended) and keeps it in the cache, for the reply that follows.
    ///
    /// # Errors
    /// `unavailable` if the bucket could not be written: nothing is appended, the minute-taker
    /// publishes again.
    pub async fn store(&self, conference: &ConferenceId, markdown: &str) -> Result<StoredObject, ApiError> {
        let stored = self
            .records
            .put(KIND, conference, markdown.as_bytes())
            .await
            .map_err(|e| api_error("the published minutes could not be stored", &e))?;
        self.cache.insert(markdown_key(&stored.sha256), Arc::from(markdown));
        Ok(stored)
    }

    /// The whole published Markdown `object` references, published with SHA-256 `sha256` (checked
    /// to be the object's, [`check_published`]): from the cache, or read back from the records
    /// bucket and checked against the reference (one read for concurrent callers).
    ///
    /// # Errors
    /// `unavailable` if the bucket cannot be read, or holds other bytes than the reference names,
    /// or the reference is not of the document published.
    pub async fn markdown(&self, object: &StoredObject, sha256: &str) -> Result<Arc<str>, ApiError> {
        check_published(object, sha256)?;
        let key = markdown_key(&object.sha256);
        let guard = match self.cache.get_value_or_guard_async(&key).await {
            Ok(text) => return Ok(text),
            Err(guard) => guard,
        };
        let what = "the published minutes could not be read back";
        let bytes = self.records.get(object).await.map_err(|e| api_error(what, &e))?;
        let text: Arc<str> = String::from_utf8(bytes)
            .map_err(|_| ApiError::unavailable(format!("{what}: object {} is not UTF-8 text", object.object)))?
            .into();
        let _ = guard.insert(text.clone());
        Ok(text)
    }

    /// The published Markdown, whole, when a reply needs it: inline in the state (`None` here, the
    /// caller takes it from the state), or read back ([`Self::markdown`]) when `document` is stored
    /// out of line, published with SHA-256 `sha256`.
    ///
    /// # Errors
    /// As [`Self::markdown`]; `unavailable` for a stored document without a published hash.
    pub async fn stored_markdown(
        &self,
        document: Option<&StoredObject>,
        sha256: Option<&str>,
    ) -> Result<Option<Arc<str>>, ApiError> {
        match document {
            Some(object) => self.markdown(object, sha256.unwrap_or_default()).await.map(Some),
            None => Ok(None),
        }
    }

    /// The HTML form of conference `id`'s published minutes, whose recorded hash is `html_sha256`:
    /// from the cache, or rendered and checked against that hash
    /// ([`crate::minutes::Minutes::published_html`]) and cached under it. Concurrent callers of a
    /// form not yet cached wait (asynchronously) for one rendering. Rendering takes a copy of the
    /// minutes out of the state's lock ([`crate::minutes::Minutes::for_rendering`]) and runs on a
    /// blocking thread, so neither the lock nor a runtime thread is held while a large document is
    /// built.
    ///
    /// # Errors
    /// As [`crate::minutes::Minutes::published_html`]; `unavailable` if the rendering thread failed.
    pub async fn html(&self, store: &Store, id: ConferenceId, html_sha256: Option<&str>) -> Result<Arc<str>, ApiError> {
        let Some(hash) = html_sha256 else {
            // Published before the HTML form existed: nothing to key it by, and small.
            return render_html(store, id).await;
        };
        match self.cache.get_value_or_guard_async(&format!("html:{hash}")).await {
            Ok(html) => Ok(html),
            Err(guard) => {
                let html = render_html(store, id).await?;
                let _ = guard.insert(html.clone());
                Ok(html)
            }
        }
    }
}

/// Renders the HTML form of conference `id`'s published minutes outside the state's lock and off
/// the runtime's threads ([`Documents::html`]).
async fn render_html(store: &Store, id: ConferenceId) -> Result<Arc<str>, ApiError> {
    let minutes = store.read(|state| {
        let minutes = state.minutes.get(&id).ok_or_else(|| no_minutes(&id))?;
        // Without the attendance record read back, the document would render without its lines.
        minutes.ensure_record(&id)?;
        Ok::<_, ApiError>(minutes.for_rendering())
    })?;
    tokio::task::spawn_blocking(move || minutes.published_html(&id).map(Arc::<str>::from))
        .await
        .map_err(|e| ApiError::unavailable(format!("the HTML form of the minutes could not be rendered: {e}")))?
}

fn markdown_key(sha256: &str) -> String {
    format!("markdown:{sha256}")
}

/// Whether `decision` publishes a document too large to go inline, and if so the document (whose
/// [`Documents::store`] must come before the append).
pub fn to_store(decision: &Decision<MinutesEvent>) -> Option<&str> {
    match decision {
        Decision::Append(append) => match &append.event {
            MinutesEvent::MinutesPublished { markdown, document: None, .. } if markdown.len() > INLINE_LIMIT => {
                Some(markdown)
            }
            _ => None,
        },
        Decision::Unchanged => None,
    }
}

/// Puts the document of a publication too large to go inline out of line: the event carries
/// `stored`, the reference to it written beforehand, in place of the text (`sha256` and
/// `html_sha256` unchanged: the hashes of the whole). Any other decision is left as it is.
///
/// # Errors
/// `conflict` when the document to publish is not the one stored (the minutes changed between the
/// two decisions, say a second chair's approval) or none was stored: the caller stores the new one
/// and decides again.
pub fn out_of_line(
    decision: Decision<MinutesEvent>,
    stored: Option<&StoredObject>,
) -> Result<Decision<MinutesEvent>, ApiError> {
    if to_store(&decision).is_none() {
        return Ok(decision);
    }
    let Decision::Append(mut append) = decision else { return Ok(decision) };
    if let MinutesEvent::MinutesPublished { markdown, sha256, document, .. } = &mut append.event {
        match stored {
            Some(object) if object.sha256 == *sha256 && object.size == markdown.len() as u64 => {
                *document = Some(object.clone());
                markdown.clear();
            }
            _ => return Err(ApiError::conflict(MOVED)),
        }
    }
    Ok(Decision::Append(append))
}

/// The message of [`out_of_line`]'s conflict (the publish command recognises it and tries again).
pub const MOVED: &str = "the minutes changed while their document was being stored; publish them again";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hoinghi_runtime::store::{Append, Expect};

    fn publication(markdown: String) -> Decision<MinutesEvent> {
        let sha256 = crate::render::sha256_hex(&markdown);
        Decision::Append(Append {
            subject: "hoinghi.v1.events.minutes.x.minutes_published".into(),
            expect: Expect { filter: "hoinghi.v1.events.minutes.x.*".into(), last_seq: 4 },
            event: MinutesEvent::MinutesPublished {
                markdown,
                sha256,
                document: None,
                html_sha256: Some("b".repeat(64)),
                published_at: None,
            },
            conference_id: None,
            site_id: None,
        })
    }

    fn reference(markdown: &str) -> StoredObject {
        let sha256 = crate::render::sha256_hex(markdown);
        StoredObject {
            object: format!("{KIND}/0190e1a2-0000-7000-8000-000000000002/{sha256}"),
            size: markdown.len() as u64,
            sha256,
        }
    }

    #[test]
    fn a_small_document_stays_inline() {
        // Given a publication whose document is exactly the inline limit
        let small = "ệ".repeat(INLINE_LIMIT / 3);
        assert!(small.len() <= INLINE_LIMIT);
        let decision = publication(small.clone());
        // Then there is nothing to store, and it is appended as decided
        assert!(to_store(&decision).is_none());
        let kept = out_of_line(decision, None).unwrap();
        let Decision::Append(append) = kept else { panic!() };
        assert!(
            matches!(append.event, MinutesEvent::MinutesPublished { ref markdown, document: None, .. } if *markdown == small)
        );
    }

    #[test]
    fn a_large_document_goes_out_of_line_with_the_hash_of_the_whole() {
        // Given a publication one byte over the inline limit, stored beforehand
        let large = "x".repeat(INLINE_LIMIT + 1);
        let decision = publication(large.clone());
        assert_eq!(to_store(&decision), Some(large.as_str()));
        let stored = reference(&large);
        // When it is put out of line
        let Decision::Append(append) = out_of_line(decision, Some(&stored)).unwrap() else { panic!() };
        // Then the event carries the reference, no text, and the hash of the whole document
        let MinutesEvent::MinutesPublished { markdown, sha256, document, html_sha256, .. } = append.event else {
            panic!()
        };
        assert_eq!((markdown.as_str(), sha256.as_str()), ("", stored.sha256.as_str()));
        assert_eq!(document, Some(stored));
        assert_eq!(html_sha256, Some("b".repeat(64)));
        assert_eq!(append.expect.last_seq, 4, "the append's condition is unchanged");
    }

    #[test]
    fn a_reference_to_another_document_than_the_one_published_is_not_served() {
        let published = "x".repeat(INLINE_LIMIT + 1);
        let stored = reference(&published);
        // Given the reference of the document published, it is served
        check_published(&stored, &crate::render::sha256_hex(&published)).unwrap();
        // Given an event whose reference names another document than the hash it published
        let refused = check_published(&reference("khác"), &stored.sha256).unwrap_err();
        // Then it is refused, naming both hashes, and saying that retrying will not help
        assert_eq!(refused.code, hoinghi_shared::ErrorCode::Unavailable);
        assert!(refused.message.contains(&stored.sha256) && refused.message.contains(NOT_TRANSIENT), "{refused:?}");
    }

    #[test]
    fn a_record_that_cannot_be_read_says_whether_retrying_helps() {
        let transient = api_error("read", &RecordError::Unavailable("no responders".into()));
        assert!(transient.message.ends_with("try again shortly"), "{transient:?}");
        let mismatch = RecordError::Mismatch { object: "minutes-document/x/y".into(), reason: "truncated".into() };
        let permanent = api_error("read", &mismatch);
        assert_eq!(permanent.code, hoinghi_shared::ErrorCode::Unavailable);
        assert!(permanent.message.contains("minutes-document/x/y"), "{permanent:?}");
        assert!(permanent.message.ends_with(NOT_TRANSIENT), "{permanent:?}");
    }

    #[test]
    fn a_document_that_is_not_the_one_stored_is_not_published() {
        let large = "x".repeat(INLINE_LIMIT + 1);
        for stored in [None, Some(reference("another document"))] {
            let refused = out_of_line(publication(large.clone()), stored.as_ref()).unwrap_err();
            assert_eq!((refused.code, refused.message.as_str()), (hoinghi_shared::ErrorCode::Conflict, MOVED));
        }
        // Anything but a publication passes through
        assert!(matches!(out_of_line(Decision::Unchanged, None), Ok(Decision::Unchanged)));
    }
}
