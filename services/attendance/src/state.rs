//! The attendance projection: every conference's roster, rebuilt from the attendance stream.

use hoinghi_runtime::aggregate::Aggregate;
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::store::{EventMeta, Projection};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::ConferenceId;

use crate::roster::Roster;

/// Everything the attendance service knows.
#[derive(Debug, Default)]
pub struct AttendanceState {
    /// Rosters by conference (a roster is there from its first event, and opened by `roster_opened`).
    pub rosters: Map<ConferenceId, Roster>,
    /// Every conference's reminders: offsets, schedule, who was reminded.
    pub reminders: crate::reminders::Plans,
}

impl Projection for AttendanceState {
    type Event = AttendanceEvent;

    /// Every event of a conference goes to its roster, which hands a site's event to the site's entry.
    fn apply(&mut self, meta: &EventMeta, event: AttendanceEvent) {
        let Some(id) = meta.conference_or_log("attendance") else {
            return;
        };
        self.reminders.apply(id, meta, &event);
        self.rosters.entry(id).or_default().apply(&event, meta);
    }
}
