//! Records kept out of line: the JetStream object store `HOINGHI_RECORDS`
//! ([`hoinghi_shared::streams::RECORDS_BUCKET`]).
//!
//! An event is one JetStream message, and a message is at most the server's `max_payload` (8 MiB).
//! What grows with a conference's size (the final attendance record of 50,000 sites, the published
//! minutes listing them) can outgrow it. Such content, once larger than [`INLINE_LIMIT`], is
//! written here first with [`Records::put`], and the event that records it carries the returned
//! [`StoredObject`] (name, size, SHA-256 of every byte) instead of the content. Smaller content
//! stays inline in the event, exactly as before; an event without a reference is complete.
//!
//! # Integrity
//! - **Content-addressed**: an object is named `<kind>/<conference id>/<sha256 hex>`, so one name
//!   always means the same bytes, and two events (say `roster_closed` and the minutes'
//!   `draft_opened`) share one object without copying it.
//! - **Written once**: [`Records::put`] first looks the name up; an object already there with the
//!   same size and digest is not written again (a retried command, or a reaction redelivered,
//!   never replaces or purges an object an event already references). The object store's own put
//!   would write fresh chunks and purge the old ones. Two first puts of the same new bytes at the
//!   same moment (two instances) both find no object and both write: the object store's put looks
//!   the name up once, at its start, so neither sees the other's object and neither purges the
//!   other's chunks. The metadata written last wins and names its own chunks; the earlier put's
//!   chunks stay in the bucket unreferenced. That wastes their space (once, for a race that needs
//!   two instances storing the same record at the same moment), never serves other bytes: both
//!   chunk sets hold the same bytes, and a read checks them against the reference.
//! - **Checked on every read**: [`Records::get`] reads every chunk and checks the number of bytes
//!   and their SHA-256 against the *reference the event carries*, not against the bucket's own
//!   metadata (which a writer of the bucket could rewrite): a truncated, replaced or corrupted
//!   object is an error ([`RecordError::Mismatch`]), never bytes handed on.
//! - **Never purged**: the services' identities may write the bucket
//!   (`$O.HOINGHI_RECORDS.>`) but not purge or delete its stream (see `hoinghi_shared::roles`);
//!   clients have no access to it at all and read through the services' replies.
//!
//! # The bucket
//! Every service ensures it at start, with the event streams ([`crate::streams::ensure_all_streams`]):
//! created when missing with [`expected_config`] (file storage, no limit of age, bytes or messages,
//! the configured replicas), and otherwise compared by [`differences`], a pure function: a setting
//! under which an object could be lost or expire stops the service like one of the event streams
//! would; direct reads and missing replicas are updated.

use std::time::Duration;

use async_nats::jetstream::{self, object_store, stream};
use base64::Engine as _;
use hoinghi_shared::events::StoredObject;
use hoinghi_shared::streams::{RECORDS_BUCKET, RECORDS_BUCKET_STREAM};
use hoinghi_shared::ConferenceId;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;
use tracing::{debug, info};

use crate::streams::{Action, Difference};

/// A record or document whose JSON (or text) is larger than this goes out of line: 256 KiB, far
/// below `max_payload`, so the event around an inline record always fits one message.
pub const INLINE_LIMIT: usize = 256 * 1024;

/// How long reading one object may take before it is given up (and retried by whoever asked).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an object could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// JetStream did not answer or refused the request: worth trying again.
    #[error("records bucket {RECORDS_BUCKET} unavailable: {0}")]
    Unavailable(String),
    /// The bucket holds no object of that name.
    #[error("object {0} is not in the records bucket {RECORDS_BUCKET}")]
    Missing(String),
    /// The bytes are not those the reference names (truncated, replaced or corrupted), or the
    /// reference is malformed. Never handed on.
    #[error("object {object} does not match its reference: {reason}")]
    Mismatch {
        /// The object's name, as the reference gives it.
        object: String,
        /// What differs.
        reason: String,
    },
    /// A kind that is not a lower-case token (`attendance-record`, `minutes-document`).
    #[error("invalid object kind {0:?}: lower-case letters, digits and '-' only")]
    InvalidKind(String),
}

impl RecordError {
    /// Whether asking again may help (the bucket unreachable, or an object not visible yet).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Missing(_))
    }
}

/// The records bucket.
#[derive(Clone)]
pub struct Records {
    store: object_store::ObjectStore,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records").field("bucket", &RECORDS_BUCKET).finish()
    }
}

/// The JSON of `record` when it must go out of line (larger than [`INLINE_LIMIT`]); `None` when it
/// stays inline (measured without building it).
pub fn out_of_line<T: serde::Serialize + ?Sized>(record: &T) -> Option<Vec<u8>> {
    if hoinghi_shared::limits::json_len(record) <= INLINE_LIMIT {
        return None;
    }
    serde_json::to_vec(record).ok()
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The name of the object holding `sha256` of `kind` for `conference`: `<kind>/<conference>/<sha256>`.
pub fn object_name(kind: &str, conference: &ConferenceId, sha256: &str) -> String {
    format!("{kind}/{conference}/{sha256}")
}

fn valid_kind(kind: &str) -> bool {
    !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks that a reference is well formed: its name ends with its own SHA-256 (64 lower-case hex
/// digits) after a kind and a conference id. A reference that fails this names no object
/// [`Records::put`] could have written.
///
/// # Errors
/// [`RecordError::Mismatch`] saying what is wrong.
pub fn check_reference(object: &StoredObject) -> Result<(), RecordError> {
    let mismatch = |reason: &str| RecordError::Mismatch { object: object.object.clone(), reason: reason.to_owned() };
    let hex_ok =
        object.sha256.len() == 64 && object.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok {
        return Err(mismatch("the SHA-256 is not 64 lower-case hex digits"));
    }
    let mut parts = object.object.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(kind), Some(conference), Some(sha256), None)
            if valid_kind(kind) && ConferenceId::parse(conference).is_ok() =>
        {
            if sha256 == object.sha256 {
                Ok(())
            } else {
                Err(mismatch("the name and the SHA-256 differ"))
            }
        }
        _ => Err(mismatch("the name is not <kind>/<conference id>/<sha256>")),
    }
}

/// The bucket's digest of `sha256` (`SHA-256=<base64url>`), as the object store records it.
fn bucket_digest(sha256: &[u8]) -> String {
    format!("SHA-256={}", base64::engine::general_purpose::URL_SAFE.encode(sha256))
}

impl Records {
    /// Opens the bucket (created at start by [`crate::streams::ensure_all_streams`]).
    ///
    /// # Errors
    /// [`RecordError::Unavailable`] if JetStream did not answer or the bucket does not exist.
    pub async fn open(js: &jetstream::Context) -> Result<Records, RecordError> {
        let store = js
            .get_object_store(RECORDS_BUCKET)
            .await
            .map_err(|e| RecordError::Unavailable(format!("cannot open the bucket: {e}")))?;
        Ok(Records { store })
    }

    /// Writes `bytes` as an object of `kind` (`attendance-record`, `minutes-document`) for `conference`, and
    /// returns the reference an event carries. Content-addressed: the object is named
    /// `<kind>/<conference id>/<sha256 hex>`; if an object of that name already exists with these
    /// bytes' size and digest, nothing is written (so a retried command never replaces or purges).
    ///
    /// # Errors
    /// [`RecordError::InvalidKind`]; [`RecordError::Unavailable`] if JetStream failed (nothing the
    /// event could reference was written: try again); [`RecordError::Mismatch`] if an object of
    /// that name exists with other content (the bucket was tampered with: it is not overwritten).
    pub async fn put(&self, kind: &str, conference: &ConferenceId, bytes: &[u8]) -> Result<StoredObject, RecordError> {
        if !valid_kind(kind) {
            return Err(RecordError::InvalidKind(kind.to_owned()));
        }
        let digest = Sha256::digest(bytes);
        let sha256 = hex::encode(digest);
        let name = object_name(kind, conference, &sha256);
        let reference = StoredObject { object: name.clone(), size: bytes.len() as u64, sha256 };
        match self.store.info(&name).await {
            Ok(info) if !info.deleted => {
                if info.size as u64 == reference.size && info.digest.as_deref() == Some(bucket_digest(&digest).as_str())
                {
                    debug!(object = %name, "object already stored; nothing written");
                    return Ok(reference);
                }
                return Err(RecordError::Mismatch {
                    object: name,
                    reason: format!(
                        "the bucket holds {} bytes with digest {} under this name; it is left as found",
                        info.size,
                        info.digest.as_deref().unwrap_or("none")
                    ),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == object_store::InfoErrorKind::NotFound => {}
            Err(e) => return Err(RecordError::Unavailable(format!("cannot look up {name}: {e}"))),
        }
        let mut reader = bytes;
        let info = self
            .store
            .put(name.as_str(), &mut reader)
            .await
            .map_err(|e| RecordError::Unavailable(format!("cannot write {name}: {e}")))?;
        info!(object = %name, bytes = info.size, chunks = info.chunks, "object stored");
        Ok(reference)
    }

    /// Reads the object `object` references: every chunk, then checks the size and the SHA-256 of
    /// all the bytes against the reference. A mismatch is an error; the bytes are never returned.
    ///
    /// # Errors
    /// [`RecordError::Mismatch`] (malformed reference, other size or digest),
    /// [`RecordError::Missing`], [`RecordError::Unavailable`] (JetStream failed, or reading took
    /// longer than [`READ_TIMEOUT`]).
    pub async fn get(&self, object: &StoredObject) -> Result<Vec<u8>, RecordError> {
        check_reference(object)?;
        let name = object.object.as_str();
        let mismatch = |reason: String| RecordError::Mismatch { object: name.to_owned(), reason };
        let read = async {
            let mut found = self.store.get(name).await.map_err(|e| match e.kind() {
                object_store::GetErrorKind::NotFound => RecordError::Missing(name.to_owned()),
                _ => RecordError::Unavailable(format!("cannot read {name}: {e}")),
            })?;
            if found.info().size as u64 != object.size {
                return Err(mismatch(format!(
                    "the bucket holds {} bytes, the reference says {}",
                    found.info().size,
                    object.size
                )));
            }
            read_bounded(&mut found, object.size).await.map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    // The object store's own check of its chunks against its metadata.
                    mismatch(format!("its chunks do not match the bucket's digest: {e}"))
                } else {
                    RecordError::Unavailable(format!("cannot read {name}: {e}"))
                }
            })
        };
        let bytes = tokio::time::timeout(READ_TIMEOUT, read)
            .await
            .map_err(|_| RecordError::Unavailable(format!("reading {name} took longer than {READ_TIMEOUT:?}")))??;
        if bytes.len() as u64 != object.size {
            return Err(mismatch(format!("read {} bytes, the reference says {}", bytes.len(), object.size)));
        }
        let sha256 = sha256_hex(&bytes);
        if sha256 != object.sha256 {
            return Err(mismatch(format!("the bytes read hash to {sha256}")));
        }
        Ok(bytes)
    }
}

/// Reads `reader` to its end, but at most `size + 1` bytes: an object with more chunks than its
/// reference's size is read only one byte past that size (and then refused for its length), never
/// whole.
///
/// # Errors
/// The reader's.
async fn read_bounded<R: tokio::io::AsyncRead + Unpin>(reader: R, size: u64) -> std::io::Result<Vec<u8>> {
    // The capacity the reference announces, within reason (it is checked, not trusted).
    let capacity = usize::try_from(size).unwrap_or(0).min(64 * 1024 * 1024);
    let mut bytes = Vec::with_capacity(capacity);
    reader.take(size.saturating_add(1)).read_to_end(&mut bytes).await?;
    Ok(bytes)
}

/// The settings of the bucket's stream, as [`object_store`] creates it with file storage and
/// `replicas`: no limit of age, bytes or messages; rollups of the metadata subjects allowed (the
/// object store writes each object's metadata as a rollup of its subject).
pub fn expected_config(replicas: usize) -> stream::Config {
    stream::Config {
        name: RECORDS_BUCKET_STREAM.to_owned(),
        description: Some(description()),
        subjects: vec![format!("$O.{RECORDS_BUCKET}.C.>"), format!("$O.{RECORDS_BUCKET}.M.>")],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: Duration::ZERO,
        max_bytes: -1,
        max_messages: -1,
        max_messages_per_subject: -1,
        discard: stream::DiscardPolicy::New,
        num_replicas: replicas.max(1),
        duplicate_window: Duration::from_secs(120),
        allow_rollup: true,
        allow_direct: true,
        ..Default::default()
    }
}

fn description() -> String {
    "hoinghi: records too large for one event (attendance records, minutes), content-addressed".to_owned()
}

/// Every difference between the bucket's stream as expected ([`expected_config`]) and as found,
/// with what to do: [`Action::Stop`] for what could lose an object or expire it (storage,
/// retention, subjects, a limit, a time to live, a mirror, asynchronous persistence, sealed),
/// [`Action::Update`] for direct reads and fewer replicas than configured, [`Action::Keep`] for the
/// rest the operator may choose (the duplicate window, more replicas).
pub fn differences(expected: &stream::Config, found: &stream::Config) -> Vec<Difference> {
    let name = RECORDS_BUCKET_STREAM;
    let mut out = Vec::new();
    let mut stop = |field, expected: String, found: String, fix: String| {
        out.push(Difference { field, expected, found, action: Action::Stop, fix });
    };
    let debug = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
    let lost = "Objects the events reference could be lost";
    if found.storage != expected.storage {
        stop("storage", debug(&expected.storage), debug(&found.storage), format!("{lost} when the server stops"));
    }
    if found.retention != expected.retention {
        stop("retention", debug(&expected.retention), debug(&found.retention), format!("{lost} once read"));
    }
    let (mut want, mut have) = (expected.subjects.clone(), found.subjects.clone());
    want.sort();
    have.sort();
    if want != have {
        stop(
            "subjects",
            format!("[{}]", want.join(", ")),
            format!("[{}]", have.join(", ")),
            format!("Set exactly these subjects: `nats stream edit {name} --subjects \"{}\"`", want.join(",")),
        );
    }
    if !found.max_age.is_zero() {
        stop(
            "max_age",
            "unlimited (0)".to_owned(),
            format!("{:?}", found.max_age),
            format!("{lost} when they expire: `nats stream edit {name} --max-age=0`"),
        );
    }
    for (field, value) in [
        ("max_msgs", found.max_messages),
        ("max_bytes", found.max_bytes),
        ("max_msgs_per_subject", found.max_messages_per_subject),
    ] {
        if value > 0 {
            stop(
                field,
                "unlimited (-1)".to_owned(),
                value.to_string(),
                format!("Objects beyond this limit are refused or dropped: remove it with `nats stream edit {name}`"),
            );
        }
    }
    if found.sealed {
        stop("sealed", "false".to_owned(), "true".to_owned(), "A sealed bucket takes no more objects".to_owned());
    }
    if found.mirror.is_some() || found.sources.as_ref().is_some_and(|s| !s.is_empty()) {
        stop(
            "mirror/sources",
            "none".to_owned(),
            "set".to_owned(),
            "The bucket is written by the services only".into(),
        );
    }
    if found.allow_message_ttl {
        stop("allow_msg_ttl", "false".to_owned(), "true".to_owned(), format!("{lost} when a chunk expires"));
    }
    if found.persist_mode.is_some_and(|m| m != stream::PersistenceMode::Default) {
        stop(
            "persist_mode",
            "default".to_owned(),
            debug(&found.persist_mode),
            "Asynchronous persistence acknowledges an object before it is stored".to_owned(),
        );
    }
    if !found.allow_rollup {
        stop(
            "allow_rollup",
            "true".to_owned(),
            "false".to_owned(),
            format!("The object store writes metadata as rollups: `nats stream edit {name} --allow-rollup`"),
        );
    }
    out.extend(crate::streams::copies_and_window(expected, found, true, "Kept: objects are content-addressed"));
    out
}

/// The settings of the bucket's stream, creating the bucket if it is missing (`None` then).
pub(crate) async fn found_or_created(
    js: &jetstream::Context,
    replicas: usize,
) -> Result<Option<stream::Config>, crate::streams::SetupError> {
    let unreachable = |what: &str, e: &dyn std::fmt::Display| {
        crate::streams::SetupError::Unreachable(anyhow::anyhow!("{what} the object store {RECORDS_BUCKET}: {e}"))
    };
    for _ in 0..3 {
        match js.get_stream(RECORDS_BUCKET_STREAM).await {
            Ok(stream) => return Ok(Some(stream.cached_info().config.clone())),
            Err(e) if crate::streams::is_not_found(&e) => {}
            Err(e) => return Err(unreachable("cannot read", &e)),
        }
        let config = object_store::Config {
            bucket: RECORDS_BUCKET.to_owned(),
            description: Some(description()),
            storage: stream::StorageType::File,
            num_replicas: replicas.max(1),
            ..Default::default()
        };
        match js.create_object_store(config).await {
            Ok(_) => {
                info!(bucket = RECORDS_BUCKET, "created the object store");
                return Ok(None);
            }
            // Another service may have created it meanwhile: read it again.
            Err(e) => {
                tracing::warn!(bucket = RECORDS_BUCKET, error = %e, "could not create the object store; reading it again")
            }
        }
    }
    Err(unreachable("cannot create", &"created and not found again"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reference(bytes: &[u8]) -> StoredObject {
        let conference = ConferenceId::parse("0190a6f2-8c3e-7abc-8def-0123456789ab").unwrap();
        let sha256 = sha256_hex(bytes);
        StoredObject {
            object: object_name("attendance-record", &conference, &sha256),
            size: bytes.len() as u64,
            sha256,
        }
    }

    #[test]
    fn a_reference_names_its_own_hash() {
        // Given a reference as put makes it
        let good = reference(b"record");
        // Then it is well formed
        check_reference(&good).unwrap();
        assert!(good.object.starts_with("attendance-record/0190a6f2-8c3e-7abc-8def-0123456789ab/"));
        assert!(good.object.ends_with(&good.sha256) && good.sha256.len() == 64);
        // When its name and hash disagree, or either is malformed, it is refused
        let other = StoredObject { sha256: reference(b"other").sha256, ..good.clone() };
        let upper = StoredObject { sha256: good.sha256.to_uppercase(), ..good.clone() };
        let short = StoredObject { object: format!("attendance-record/{}", good.sha256), ..good.clone() };
        let bad_kind = StoredObject { object: good.object.replace("attendance-record", "Attendance"), ..good.clone() };
        let extra = StoredObject { object: format!("{}/x", good.object), ..good.clone() };
        for bad in [other, upper, short, bad_kind, extra] {
            assert!(matches!(check_reference(&bad), Err(RecordError::Mismatch { .. })), "{bad:?}");
        }
    }

    #[test]
    fn the_bucket_as_created_has_no_difference_and_a_limit_stops() {
        // Given the bucket's stream as expected
        let expected = expected_config(1);
        assert!(differences(&expected, &expected).is_empty());
        // When it is found in memory, with an age limit and a byte limit
        let found = stream::Config {
            storage: stream::StorageType::Memory,
            max_age: Duration::from_secs(3600),
            max_bytes: 1 << 30,
            ..expected.clone()
        };
        // Then each stops the service
        let fields: Vec<(&str, Action)> = differences(&expected, &found).iter().map(|d| (d.field, d.action)).collect();
        assert_eq!(fields, vec![("storage", Action::Stop), ("max_age", Action::Stop), ("max_bytes", Action::Stop)]);
        // And fewer replicas than configured are updated
        let three = expected_config(3);
        let fields: Vec<(&str, Action)> = differences(&three, &expected).iter().map(|d| (d.field, d.action)).collect();
        assert_eq!(fields, vec![("num_replicas", Action::Update)]);
    }

    /// A reader that fails if read: what lies past the bytes a bounded read may take.
    struct NeverRead;

    impl tokio::io::AsyncRead for NeverRead {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Err(std::io::Error::other("read past size + 1")))
        }
    }

    #[tokio::test]
    async fn an_object_longer_than_its_reference_is_read_one_byte_past_its_size_only() {
        let record = b"0123456789".repeat(100);
        // Given an object of exactly the size its reference names, it is read whole
        assert_eq!(read_bounded(&record[..], record.len() as u64).await.unwrap(), record);
        // Given an object with more bytes than the reference names, followed by bytes that must
        // not be read
        let longer = tokio::io::AsyncReadExt::chain(&record[..], NeverRead);
        // When it is read against a reference of 100 bytes
        let read = read_bounded(longer, 100).await.unwrap();
        // Then 101 bytes are read (so its length is refused), and nothing beyond them
        assert_eq!(read, &record[..101]);
        // And a shorter object is read as it is (and refused for its length by the caller)
        assert_eq!(read_bounded(&record[..10], 100).await.unwrap(), &record[..10]);
    }

    #[test]
    fn kinds_are_lower_case_tokens() {
        assert!(valid_kind("attendance-record"));
        assert!(valid_kind("minutes"));
        for bad in ["", "Minutes", "a/b", "a.b", "a b"] {
            assert!(!valid_kind(bad), "{bad:?}");
        }
    }
}
