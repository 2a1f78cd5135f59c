//! The boards' live feed of one conference (the secretariat's screen, the chair's): a snapshot, the
//! live changes, and the changes since a sequence to resume without a gap.
//!
//! - `hoinghi.v1.attendance.board` [`BoardQuery`] → [`Board`]: every roster line (answer, check-in,
//!   technical check, and whatever else the roster's lines carry) and the conference's session
//!   state, with `seq`, the attendance stream sequence of the last event of the conference the
//!   state includes.
//! - `hoinghi.v1.live.<conference>` (core NATS, published by the attendance service): each event of
//!   the conference as a [`BoardChange`] once applied.
//! - `hoinghi.v1.attendance.board.changes` [`BoardChangesQuery`] → [`BoardChanges`]: the changes
//!   with `seq > since`, read from the event log, in pages.
//!
//! A board subscribes to the live subject first, then reads the snapshot, then delivers the live
//! changes with `seq` above the one it holds. Each change carries `prev`: no change of the conference
//! lies strictly between `prev` and `seq`. A change whose `prev` is above the last `seq` the board
//! holds reveals a gap, filled from `board.changes`; a change at or below it is a duplicate, dropped.
//! The follower that does this is `hoinghi_client::board`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::api::{Roster, DEFAULT_PAGE, MAX_PAGE};
use crate::ids::{ConferenceId, SiteId};

/// `hoinghi.v1.attendance.board`: one page of a conference's board (the roster lines in
/// invitation order, like the roster's pages).
pub type BoardQuery = crate::api::PageQuery;

/// Reply to `hoinghi.v1.attendance.board`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Board {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The attendance stream sequence of the last event of the conference this state includes (0:
    /// none). Follow on with the live changes whose `seq` is above it.
    pub seq: u64,
    /// The subject of the conference's live changes, `hoinghi.v1.live.<conference>`.
    pub live_subject: String,
    /// The roster: its state, the counts, and one page of lines (see [`crate::api::PageQuery`]).
    pub roster: Roster,
    /// The conference's session state beyond the roster lines (current agenda item, the floor, the
    /// quorum, ...), by name; empty when there is none yet.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub session: serde_json::Map<String, serde_json::Value>,
}

/// One change of a conference: an attendance event, as the board sees it (live on
/// `hoinghi.v1.live.<conference>`, or read back from `hoinghi.v1.attendance.board.changes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardChange {
    /// The event's attendance stream sequence: changes come in increasing `seq`.
    pub seq: u64,
    /// No change of the conference lies strictly between `prev` and `seq` (live: the previous
    /// event of the conference, 0 for its first; read back: the change before it in the reply, or
    /// `since` for the first). A board that holds less than `prev` has missed something.
    pub prev: u64,
    /// The event type (`attendance_confirmed`, `site_checked_in`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The site the event is about, for a site's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The event's `data`, as the event log holds it (see the events in `docs/asyncapi.yaml`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Box<RawValue>,
}

impl PartialEq for BoardChange {
    fn eq(&self, other: &Self) -> bool {
        (self.seq, self.prev, &self.event_type, &self.site_id, self.occurred_at, self.data.get())
            == (other.seq, other.prev, &other.event_type, &other.site_id, other.occurred_at, other.data.get())
    }
}

/// `hoinghi.v1.attendance.board.changes`: the changes of a conference with `seq > since`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BoardChangesQuery {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The last `seq` the board holds (a snapshot's, or the last change's).
    pub since: u64,
    /// Most changes to return, 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]); a page that would not
    /// fit in one message comes shorter.
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    DEFAULT_PAGE
}

/// Reply to `hoinghi.v1.attendance.board.changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardChanges {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The `since` asked.
    pub since: u64,
    /// The changes with `seq > since`, in `seq` order, as many as the page holds.
    pub changes: Vec<BoardChange>,
    /// More changes follow the last one: ask again from its `seq`.
    pub more: bool,
}

/// Most changes one page may hold.
pub const MAX_CHANGES: usize = MAX_PAGE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_back_as_it_was_written() {
        let json = r#"{"seq":12,"prev":9,"type":"site_checked_in","site_id":"ba-be","occurred_at":"2021-07-23T01:05:00Z","data":{}}"#;
        let change: BoardChange = serde_json::from_str(json).unwrap();
        assert_eq!((change.seq, change.prev, change.event_type.as_str()), (12, 9, "site_checked_in"));
        assert_eq!(serde_json::to_string(&change).unwrap(), json);
        let query: BoardChangesQuery =
            serde_json::from_str(r#"{"conference_id":"0190e1a2-0000-7000-8000-000000000001","since":3}"#).unwrap();
        assert_eq!(query.limit, DEFAULT_PAGE);
    }
}
