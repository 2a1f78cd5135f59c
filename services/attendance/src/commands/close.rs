//! Closing the roster when the session ends (`session_ended`), with the final record inline or out
//! of line.
//!
//! The roster decides the close as always (`roster_closed` with the whole `FinalRecord`: every
//! site's line, the quorum, the speakers). When that record's JSON is larger than
//! [`INLINE_LIMIT`] (a conference of thousands of sites), it is first written to the records'
//! object store ([`Records::put`], kind [`ATTENDANCE_RECORD`]), and then the close is decided again
//! and [`outline_close`] (pure) swaps the record for the reference, **provided the record decided
//! now is byte for byte the one stored** (same SHA-256); a record that changed in between (an event
//! the first decision did not see) is a conflict, and the reaction decides again from the start. The
//! close's fence (nothing written in the conference since the roster was read) then guarantees the
//! referenced record is the final one. Attendance never reads the record back: its projection of a
//! closed roster needs only that it is closed.

use hoinghi_runtime::reaction::{ReactionError, Received};
use hoinghi_runtime::records::{out_of_line, sha256_hex, Records, INLINE_LIMIT};
use hoinghi_runtime::store::Decision;
use hoinghi_shared::events::{AttendanceEvent, StoredObject};
use hoinghi_shared::limits::describe_size;
use hoinghi_shared::{ApiError, ConferenceId};

use super::{decide_roster, react, Store};
use crate::roster::RosterCommand;
use crate::state::AttendanceState;

/// The object kind of an attendance record kept out of line.
pub const ATTENDANCE_RECORD: &str = "attendance-record";

/// The close of conference `id` as the roster decides it now, the presence intervals still open
/// closed at `ended_at`, the record inline.
fn decide_close(
    state: &AttendanceState,
    id: &ConferenceId,
    ended_at: chrono::DateTime<chrono::Utc>,
) -> Result<Decision<AttendanceEvent>, ApiError> {
    crate::presence::stamp_close(state, id, decide_roster(state, id, RosterCommand::Close), ended_at)
}

/// The record of a close decision that must go out of line, as the bytes to store; `None` for any
/// other decision, or a record small enough to stay inline.
pub fn record_to_store(decision: &Result<Decision<AttendanceEvent>, ApiError>) -> Option<Vec<u8>> {
    let Ok(Decision::Append(append)) = decision else { return None };
    let AttendanceEvent::RosterClosed { attendance, quorum, speakers, record: None, .. } = &append.event else {
        return None;
    };
    // Measured as it is stored, without cloning the record to measure it.
    #[derive(serde::Serialize)]
    struct View<'a> {
        attendance: &'a [hoinghi_shared::events::AttendanceEntry],
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        quorum: &'a [hoinghi_shared::events::QuorumSnapshot],
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        speakers: &'a [hoinghi_shared::events::FloorSpeaker],
    }
    out_of_line(&View { attendance, quorum, speakers })
}

/// A close decision with its record out of line when it must be: unchanged when the record fits
/// inline ([`INLINE_LIMIT`]) or the decision is not a close; otherwise the record is replaced by
/// `stored` (its fields emptied, `record` set), provided `stored` holds exactly this record.
///
/// # Errors
/// The decision's own error; `conflict` when the record must go out of line and `stored` is absent
/// or holds another record (it changed since it was stored: decide again).
pub fn outline_close(
    id: &ConferenceId,
    decision: Result<Decision<AttendanceEvent>, ApiError>,
    stored: Option<&StoredObject>,
) -> Result<Decision<AttendanceEvent>, ApiError> {
    let Some(bytes) = record_to_store(&decision) else { return decision };
    let sha256 = sha256_hex(&bytes);
    let Some(stored) = stored.filter(|s| s.sha256 == sha256 && s.size == bytes.len() as u64) else {
        return Err(ApiError::conflict(format!(
            "the attendance record of conference {id} ({}) is larger than {} and must be stored before the roster \
             closes; it changed since it was stored, so the close is decided again",
            describe_size(bytes.len()),
            describe_size(INLINE_LIMIT)
        )));
    };
    let mut decision = decision?;
    if let Decision::Append(append) = &mut decision {
        if let AttendanceEvent::RosterClosed { attendance, quorum, speakers, record, .. } = &mut append.event {
            attendance.clear();
            quorum.clear();
            speakers.clear();
            *record = Some(stored.clone());
        }
    }
    Ok(decision)
}

/// On `session_ended`: closes the roster of conference `id` with its final record, stored out of
/// line first when it is too large to travel inline.
///
/// # Errors
/// `Retry` while the log or the object store is unavailable, the roster not there yet or the
/// record changed while it was stored; `Permanent` otherwise.
pub async fn on_session_ended(
    store: &Store,
    records: &Records,
    received: &Received,
    id: ConferenceId,
) -> Result<(), ReactionError> {
    let meta = received.command(crate::SERVICE);
    // The record closes the intervals still open at the session's end time (the scheduling event's).
    let ended_at = received.envelope.occurred_at;
    // Decided once on the latest state to learn whether the record goes out of line.
    let bytes = store
        .query(|state| Ok(record_to_store(&decide_close(state, &id, ended_at))))
        .await
        .map_err(|e| ReactionError::Retry(e.message))?;
    let stored = match bytes {
        Some(bytes) => {
            let stored = records.put(ATTENDANCE_RECORD, &id, &bytes).await.map_err(|e| match e.is_transient() {
                true => ReactionError::Retry(e.to_string()),
                false => ReactionError::Permanent(e.to_string()),
            })?;
            Some(stored)
        }
        None => None,
    };
    react(store, &meta, |state| outline_close(&id, decide_close(state, &id, ended_at), stored.as_ref())).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hoinghi_shared::api::Person;
    use hoinghi_shared::events::SiteRef;

    use super::*;
    use crate::roster::SiteCommand;
    use crate::testing::{details, details_of, opened};
    use hoinghi_shared::events::FinalRecord;

    /// The record a close carries inline.
    fn inline_record(event: &AttendanceEvent) -> Option<FinalRecord> {
        match event {
            AttendanceEvent::RosterClosed { attendance, quorum, speakers, record: None, .. } => {
                Some(FinalRecord { attendance: attendance.clone(), quorum: quorum.clone(), speakers: speakers.clone() })
            }
            _ => None,
        }
    }

    /// `n` sites with long names, each confirming two delegates.
    fn large(n: usize) -> crate::testing::Log {
        let mut d = details_of(n);
        for (i, s) in d.sites.iter_mut().enumerate() {
            *s = SiteRef {
                id: s.id.clone(), name: format!("Điểm cầu Ủy ban nhân dân xã số {i}, huyện Chợ Đồn")
            };
        }
        let mut log = opened(d);
        for i in 0..n {
            let delegates = vec![
                Person { name: format!("Nguyễn Văn {i}"), title: "Bí thư Đảng ủy xã".into() },
                Person { name: format!("Trần Thị {i}"), title: "Chủ tịch UBND xã".into() },
            ];
            let Ok(Decision::Append(append)) =
                log.when_site(&format!("site-{i:04}"), SiteCommand::Confirm { delegates, headcount: 2 }).decision
            else {
                panic!("not confirmed")
            };
            log = log.site(&format!("site-{i:04}"), append.event);
        }
        log
    }

    fn stored(bytes: &[u8], id: &ConferenceId) -> StoredObject {
        let sha256 = sha256_hex(bytes);
        StoredObject {
            object: hoinghi_runtime::records::object_name(ATTENDANCE_RECORD, id, &sha256),
            size: bytes.len() as u64,
            sha256,
        }
    }

    #[test]
    fn a_small_record_stays_inline() {
        // Given a conference of three sites
        let log = opened(details());
        // When the session ends
        let decision = log.when(RosterCommand::Close).decision;
        // Then nothing needs storing, and the close is the roster's, whole and inline
        assert!(record_to_store(&decision).is_none());
        let Ok(Decision::Append(append)) = outline_close(&log.id, decision, None) else { panic!() };
        let record = inline_record(&append.event).unwrap();
        assert_eq!(record.attendance.len(), 3);
    }

    #[test]
    fn a_large_record_goes_out_of_line_once_stored_and_only_as_stored() {
        // Given 1,200 sites with long names, each confirming two delegates
        let log = large(1_200);
        let id = log.id;
        // When the session ends, the record is too large to travel inline
        let decision = log.when(RosterCommand::Close).decision;
        let bytes = record_to_store(&decision).unwrap();
        assert!(bytes.len() > INLINE_LIMIT, "{}", bytes.len());
        let whole: FinalRecord = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(whole.attendance.len(), 1_200);
        assert!(whole.attendance.iter().all(|e| e.delegates.len() == 2));
        // Then without the stored reference it is not closed (the store is written first)
        let refused = outline_close(&id, decision.clone(), None).unwrap_err();
        assert_eq!(refused.code, hoinghi_shared::ErrorCode::Conflict);
        // And with a reference to other bytes neither (the record changed since it was stored)
        let other = stored(b"another record", &id);
        assert!(outline_close(&id, decision.clone(), Some(&other)).is_err());
        // And with the reference to exactly these bytes, the event carries it and no entry
        let reference = stored(&bytes, &id);
        let Ok(Decision::Append(append)) = outline_close(&id, decision, Some(&reference)) else { panic!() };
        let AttendanceEvent::RosterClosed { attendance, quorum, speakers, record, details } = &append.event else {
            panic!("{:?}", append.event)
        };
        assert!(attendance.is_empty() && quorum.is_empty() && speakers.is_empty());
        assert_eq!(record.as_ref(), Some(&reference));
        assert_eq!(details.sites.len(), 1_200);
        // And the event is small
        assert!(serde_json::to_vec(&append.event).unwrap().len() < INLINE_LIMIT);
        // And the close stays fenced: a site event after it moves the fence, and the record with it
        let later = log_after(log, "site-0001");
        let again = later.when(RosterCommand::Close).decision;
        assert!(outline_close(&id, again, Some(&reference)).is_err(), "another record: decided again");
    }

    fn log_after(log: crate::testing::Log, who: &str) -> crate::testing::Log {
        let Ok(Decision::Append(append)) = log.when_site(who, SiteCommand::CheckIn).decision else { panic!() };
        log.site(who, append.event)
    }
}
