//! The minutes projection: every conference's minutes, rebuilt from the minutes stream.

use hoinghi_runtime::collections::Map;

use hoinghi_runtime::store::{EventMeta, Projection};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::ConferenceId;

use crate::minutes::Minutes;

/// Everything the minutes service knows.
#[derive(Debug, Default)]
pub struct MinutesState {
    /// Minutes by conference.
    pub minutes: Map<ConferenceId, Minutes>,
}

impl Projection for MinutesState {
    type Event = MinutesEvent;

    fn apply(&mut self, meta: &EventMeta, event: MinutesEvent) {
        let Some(id) = meta.conference_id else {
            tracing::error!(seq = meta.seq, "minutes event without a conference id ignored");
            return;
        };
        if let MinutesEvent::DraftOpened { details, attendance } = &event {
            self.minutes.entry(id).or_insert_with(|| Minutes::opened(details, attendance, meta.seq));
            return;
        }
        match self.minutes.get_mut(&id) {
            Some(m) => m.apply(&event, meta.site_id.as_ref(), meta.occurred_at, meta.seq),
            None => tracing::error!(seq = meta.seq, conference = %id, "minutes event before its draft opened ignored"),
        }
    }
}
