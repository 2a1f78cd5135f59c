//! The attendance record a draft opened with, when `roster_closed` kept it out of line (the
//! records' object store, `hoinghi_runtime::records`): read back and checked (size and SHA-256 of
//! every byte against the reference the event carries) whenever the projection needs it, by the
//! [`Loader`].
//!
//! - **When the draft opens** ([`crate::reactions`]): the reaction reads the object `roster_closed`
//!   references and checks it ([`Loader::read_for_opening`]), writes its own `draft_opened`
//!   carrying **the same reference** (the object is content-addressed: nothing is copied), and the
//!   record it read is filled in, without reading it again.
//! - **When the service starts** ([`Loader::fill_pending`]): the replay applies `draft_opened`
//!   without the record (the event does not carry it); before the service announces itself, every
//!   record still missing is read back once, one after the other, and filled in. **Readiness**
//!   therefore means: every draft whose record the bucket served at start holds it (with a healthy
//!   bucket, every draft: a ready instance answers with every site's line). A record the bucket
//!   could not serve then (unreachable, or the object not visible yet) does not hold the start up:
//!   it is read again in the background ([`Loader::load`]), and until then that conference's
//!   minutes answer `unavailable`.
//! - **When another instance opened the draft** ([`Loader::watch`]): its `draft_opened` reaches
//!   this instance's projection by a catch-up; a background task reads the record and fills it in.
//!   The hook is installed before the records pending at start are read, so a draft opened
//!   meanwhile is not missed (filling in is idempotent).
//!
//! A read that fails for a reason that may pass ([`RecordError::is_transient`]) is tried again
//! without limit, waiting [`FIRST_RETRY`] and twice as long each time up to [`MAX_RETRY`], until it
//! succeeds or the draft no longer waits for that object; a read that cannot succeed (the bucket
//! holds other bytes than the reference names) is logged and not tried again. Reads go one at a
//! time ([`Loader`]'s permit: each is an object of up to tens of MiB).
//!
//! Until a draft's record is filled in, what shows or decides on it answers `unavailable` (retry
//! shortly, [`crate::minutes::Minutes::ensure_record`]); the decisions themselves stay pure (they
//! see the record in the projection, never the store).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hoinghi_runtime::records::{RecordError, Records};
use hoinghi_shared::events::{FinalRecord, MinutesEvent, StoredObject};
use hoinghi_shared::ConferenceId;
use tracing::{error, info, warn};

use crate::commands::Store;

/// How long a failed read of a record waits before it is tried again the first time.
pub const FIRST_RETRY: Duration = Duration::from_millis(200);

/// The longest wait between two reads of a record that keep failing.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

/// The wait after `delay`: twice as long, at most [`MAX_RETRY`].
pub fn next_retry(delay: Duration) -> Duration {
    delay.saturating_mul(2).min(MAX_RETRY)
}

/// Reads the record `reference` names and checks it.
///
/// # Errors
/// The store's ([`RecordError`]); [`RecordError::Mismatch`] for bytes that are not a record.
pub async fn read(records: &Records, reference: &StoredObject) -> Result<FinalRecord, RecordError> {
    let bytes = records.get(reference).await?;
    serde_json::from_slice(&bytes).map_err(|e| RecordError::Mismatch {
        object: reference.object.clone(),
        reason: format!("not an attendance record: {e}"),
    })
}

/// Reads the records drafts wait for, and fills them in the projection.
#[derive(Clone)]
pub struct Loader {
    store: Store,
    records: Records,
    /// Records the reaction read before appending the draft's opening, handed to whichever fills
    /// the draft in first (the reaction after its append, or the watch as the event is applied), so
    /// an object is not read twice.
    in_hand: Arc<Mutex<HashMap<StoredObject, FinalRecord>>>,
    /// One read of the bucket at a time (each object may take tens of MiB while it is checked).
    reading: Arc<tokio::sync::Semaphore>,
}

impl Loader {
    /// A loader over the service's store and the records bucket.
    pub fn new(store: Store, records: Records) -> Self {
        Self { store, records, in_hand: Arc::default(), reading: Arc::new(tokio::sync::Semaphore::new(1)) }
    }

    fn hand(&self) -> std::sync::MutexGuard<'_, HashMap<StoredObject, FinalRecord>> {
        self.in_hand.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads and checks the record `reference` names and keeps it in hand, for the draft about to
    /// open ([`Self::fill_in_hand`]).
    ///
    /// # Errors
    /// As [`read`].
    pub async fn read_for_opening(&self, reference: &StoredObject) -> Result<(), RecordError> {
        let record = read(&self.records, reference).await?;
        self.hand().insert(reference.clone(), record);
        Ok(())
    }

    /// Fills in conference `id`'s draft with the record in hand for `reference`, if it is still in
    /// hand (and drops it from hand either way). Returns whether it was filled in.
    pub fn fill_in_hand(&self, id: &ConferenceId, reference: &StoredObject) -> bool {
        let record = self.hand().remove(reference);
        record.is_some_and(|record| self.fill(id, reference, record))
    }

    /// Fills in the record of conference `id`'s minutes, if they still wait for `reference`.
    fn fill(&self, id: &ConferenceId, reference: &StoredObject, record: FinalRecord) -> bool {
        let sites = record.attendance.len();
        let filled =
            self.store.fill(|state| state.minutes.get_mut(id).is_some_and(|m| m.fill_record(reference, record)));
        if filled {
            info!(conference = %id, object = %reference.object, sites, "attendance record of the draft filled in");
        }
        filled
    }

    /// Whether conference `id`'s draft still waits for `reference`.
    fn waits_for(&self, id: &ConferenceId, reference: &StoredObject) -> bool {
        self.store.read(|state| state.minutes.get(id).is_some_and(|m| m.record_pending.as_ref() == Some(reference)))
    }

    /// Fills in `reference` once: from hand, or read from the bucket (one read at a time). Nothing
    /// is read when the draft no longer waits for it.
    ///
    /// # Errors
    /// The read's ([`read`]).
    async fn load_once(&self, id: &ConferenceId, reference: &StoredObject) -> Result<(), RecordError> {
        if self.fill_in_hand(id, reference) || !self.waits_for(id, reference) {
            return Ok(());
        }
        let _permit = self.reading.acquire().await;
        // Filled in while this waited for its turn?
        if self.fill_in_hand(id, reference) || !self.waits_for(id, reference) {
            return Ok(());
        }
        let record = read(&self.records, reference).await?;
        self.fill(id, reference, record);
        Ok(())
    }

    /// Fills in `reference` ([`Self::load_once`]), trying again after a transient failure without
    /// limit (waiting [`FIRST_RETRY`], then twice as long each time up to [`MAX_RETRY`]) until it
    /// is filled in or the draft no longer waits for it; a failure that is not transient is logged
    /// and ends it (the minutes of this conference answer `unavailable`, naming the object).
    pub async fn load(&self, id: ConferenceId, reference: StoredObject) {
        let mut delay = FIRST_RETRY;
        for attempt in 1u64.. {
            match self.load_once(&id, &reference).await {
                Ok(()) => return,
                Err(e) if e.is_transient() => {
                    warn!(
                        conference = %id, error = %e, attempt, retry_in_ms = delay.as_millis() as u64,
                        "cannot read the attendance record of the draft yet; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = next_retry(delay);
                }
                Err(e) => {
                    error!(
                        conference = %id, error = %e,
                        "cannot read the attendance record of the draft, and retrying will not help: restore the \
                         object from a backup of the records bucket, then restart the service"
                    );
                    return;
                }
            }
        }
    }

    /// Reads back and fills in every record the replay left missing, each once, before the service
    /// is ready; one the bucket cannot serve now is left to [`Self::load`] in the background (the
    /// service starts without waiting for it).
    pub async fn fill_pending(&self) {
        let pending: Vec<(ConferenceId, StoredObject)> = self.store.read(|state| {
            state.minutes.iter().filter_map(|(id, m)| m.record_pending.as_ref().map(|r| (*id, r.clone()))).collect()
        });
        if pending.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        let count = pending.len();
        let mut later = 0;
        // One at a time: each is one object of up to tens of MiB, read at the network's pace.
        for (id, reference) in pending {
            match self.load_once(&id, &reference).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => {
                    warn!(conference = %id, error = %e, "cannot read the attendance record yet; retrying in the background");
                    later += 1;
                    let loader = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(FIRST_RETRY).await;
                        loader.load(id, reference).await;
                    });
                }
                Err(e) => error!(
                    conference = %id, error = %e,
                    "cannot read the attendance record of the draft, and retrying will not help: restore the \
                     object from a backup of the records bucket, then restart the service"
                ),
            }
        }
        info!(
            count,
            in_background = later,
            ms = started.elapsed().as_millis() as u64,
            "attendance records read back after the replay"
        );
    }

    /// Fills in, in the background, the record of every `draft_opened` this instance applies from
    /// now on that references one: its own (from hand, if its reaction has not yet) and another
    /// instance's (reaching it by a catch-up: read from the store).
    pub fn watch(&self) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(ConferenceId, StoredObject)>();
        self.store.on_apply(move |_, meta, event| {
            if let (MinutesEvent::DraftOpened { record: Some(record), .. }, Some(id)) = (event, meta.conference_id) {
                let _ = tx.send((id, record.clone()));
            }
        });
        let loader = self.clone();
        tokio::spawn(async move {
            // Ends with the store's hook (the service's end). Each load in its own task, so one
            // record retried for long holds up no other (their reads still go one at a time).
            while let Some((id, reference)) = rx.recv().await {
                let loader = loader.clone();
                tokio::spawn(async move { loader.load(id, reference).await });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hoinghi_runtime::records::{object_name, sha256_hex};
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::events::{AttendanceStatus, ConferenceDetails, Person};
    use hoinghi_shared::ErrorCode;

    use super::*;
    use crate::minutes::{Minutes, MinutesCommand};
    use crate::testing::{absent, bac_kan_details, checked_in, site, submit};

    fn details() -> ConferenceDetails {
        bac_kan_details("Hội nghị", "Báo cáo")
    }

    fn record() -> FinalRecord {
        FinalRecord {
            attendance: vec![
                checked_in(
                    site("ba-be"),
                    "Huyện ủy Ba Bể".into(),
                    vec![Person { name: "A".into(), title: "B".into() }],
                ),
                absent(site("na-ri"), "Huyện ủy Na Rì".into(), AttendanceStatus::Declined, Some("lũ".into())),
            ],
            quorum: vec![],
            speakers: vec![hoinghi_shared::events::FloorSpeaker {
                item: 0,
                site_id: site("ba-be"),
                site_name: "Huyện ủy Ba Bể".into(),
                topic: "Du lịch".into(),
            }],
        }
    }

    fn reference(id: &ConferenceId, record: &FinalRecord) -> StoredObject {
        let bytes = serde_json::to_vec(record).unwrap();
        let sha256 = sha256_hex(&bytes);
        StoredObject { object: object_name("attendance-record", id, &sha256), size: bytes.len() as u64, sha256 }
    }

    #[test]
    fn a_failing_read_is_retried_ever_less_often_up_to_thirty_seconds() {
        // Given the first wait, when each retry fails again
        let waits: Vec<u64> = std::iter::successors(Some(FIRST_RETRY), |d| Some(next_retry(*d)))
            .take(12)
            .map(|d| d.as_millis() as u64)
            .collect();
        // Then the wait doubles from 200 ms, and stays at 30 s once it gets there
        assert_eq!(waits, [200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000, 30_000]);
    }

    #[test]
    fn a_draft_opened_out_of_line_carries_the_reference_and_waits_for_its_record() {
        let id = ConferenceId::generate();
        let stored = reference(&id, &record());
        // Given minutes not opened, when the closed roster's record comes out of line
        let open = MinutesCommand::Open {
            details: Box::new(details()),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: Some(stored.clone()),
        };
        // Then the draft's opening references the same object and carries no record
        given::<Minutes>(id, []).when(open).then(MinutesEvent::DraftOpened {
            details: details(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: Some(stored.clone()),
        });
        // Given that opening applied (as the replay applies it)
        let opened = given::<Minutes>(
            id,
            [MinutesEvent::DraftOpened {
                details: details(),
                attendance: vec![],
                quorum: vec![],
                speakers: vec![],
                record: Some(stored.clone()),
            }],
        );
        // Then until the record is read back, nothing that shows or decides on it is answered
        assert_eq!(opened.state().record_pending.as_ref(), Some(&stored));
        assert!(opened.state().attendance.is_empty());
        assert_eq!(opened.state().ensure_record(&id).unwrap_err().code, ErrorCode::Unavailable);
        assert_eq!(opened.when(submit()).decision.unwrap_err().code, ErrorCode::Unavailable);
        // When another record is offered, it is not filled in
        let mut minutes = opened.state().clone();
        let mut other = record();
        other.attendance.pop();
        assert!(!minutes.fill_record(&reference(&id, &other), other));
        assert!(minutes.record_pending.is_some());
        // When the record it references is filled in, the draft holds every line and its speakers
        assert!(minutes.fill_record(&stored, record()));
        assert_eq!(minutes.attendance, record().attendance);
        assert_eq!(minutes.floor_speakers, vec![vec!["Huyện ủy Ba Bể: Du lịch".to_owned()]]);
        minutes.ensure_record(&id).unwrap();
        // And filling it in again changes nothing
        assert!(!minutes.fill_record(&stored, record()));
        // And it decides as minutes opened inline would
        let inline = given::<Minutes>(
            id,
            [MinutesEvent::DraftOpened {
                details: details(),
                attendance: record().attendance,
                quorum: vec![],
                speakers: record().speakers,
                record: None,
            }],
        );
        assert_eq!(minutes.attendance, inline.state().attendance);
        assert_eq!(minutes.floor_speakers, inline.state().floor_speakers);
    }
}
