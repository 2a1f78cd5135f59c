//! The minutes projection: every conference's minutes, rebuilt from the minutes stream.

use hoinghi_runtime::aggregate::Aggregate;
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::store::{EventMeta, Projection};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::ConferenceId;

use crate::minutes::Minutes;
use crate::notice::Notice;
use crate::tasks::Tasks;

/// Everything the minutes service knows.
#[derive(Debug, Default)]
pub struct MinutesState {
    /// Minutes by conference (there from their first event, opened by `draft_opened`).
    pub minutes: Map<ConferenceId, Minutes>,
    /// The follow-up of the published minutes' tasks (only the tasks something was reported on).
    pub tasks: Tasks,
    /// The conclusions notices by conference (there from the conference's first event).
    pub notices: Map<ConferenceId, Notice>,
}

impl Projection for MinutesState {
    type Event = MinutesEvent;

    /// Every event of a conference goes to its minutes, which hand a site's acknowledgement to the
    /// site's [`crate::minutes::Ack`].
    fn apply(&mut self, meta: &EventMeta, event: MinutesEvent) {
        let Some(id) = meta.conference_or_log("minutes") else {
            return;
        };
        if self.tasks.apply(id, &event, meta) {
            return;
        }
        self.notices.entry(id).or_default().apply(&event, meta);
        self.minutes.entry(id).or_default().apply(&event, meta);
    }
}
