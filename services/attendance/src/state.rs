//! The attendance projection: every conference's roster, rebuilt from the attendance stream.

use hoinghi_runtime::collections::Map;

use hoinghi_runtime::store::{EventMeta, Projection};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::ConferenceId;

use crate::roster::Roster;

/// Everything the attendance service knows.
#[derive(Debug, Default)]
pub struct AttendanceState {
    /// Rosters by conference.
    pub rosters: Map<ConferenceId, Roster>,
}

impl Projection for AttendanceState {
    type Event = AttendanceEvent;

    fn apply(&mut self, meta: &EventMeta, event: AttendanceEvent) {
        let Some(id) = meta.conference_id else {
            tracing::error!(seq = meta.seq, "attendance event without a conference id ignored");
            return;
        };
        if let AttendanceEvent::RosterOpened { details } = &event {
            self.rosters.entry(id).or_insert_with(|| Roster::opened(details, meta.seq));
            return;
        }
        match self.rosters.get_mut(&id) {
            Some(roster) => roster.apply(&event, meta.site_id.as_ref(), meta.occurred_at, meta.seq),
            None => {
                tracing::error!(seq = meta.seq, conference = %id, "attendance event before its roster opened ignored")
            }
        }
    }
}
