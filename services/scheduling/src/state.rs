//! The scheduling projection: every site and conference, rebuilt from the scheduling stream.

use hoinghi_runtime::aggregate::Aggregate;
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::store::{EventMeta, Projection};
use hoinghi_shared::events::SchedulingEvent;
use hoinghi_shared::{ConferenceId, SiteId};

use crate::conference::Conference;
use crate::site::Site;

/// Everything the scheduling service knows.
#[derive(Debug, Default)]
pub struct SchedulingState {
    /// Registered sites.
    pub sites: Map<SiteId, Site>,
    /// Conferences.
    pub conferences: Map<ConferenceId, Conference>,
    /// Which conference the event at a sequence scheduled (to answer a repeated `create`).
    pub scheduled_at: Map<u64, ConferenceId>,
}

impl Projection for SchedulingState {
    type Event = SchedulingEvent;

    /// A registry event goes to its site, every other event to its conference.
    fn apply(&mut self, meta: &EventMeta, event: SchedulingEvent) {
        if let SchedulingEvent::SiteRegistered { site_id, .. } = &event {
            self.sites.entry(site_id.clone()).or_default().apply(&event, meta);
            return;
        }
        let Some(id) = meta.conference_or_log("conference") else {
            return;
        };
        if matches!(event, SchedulingEvent::ConferenceScheduled { .. }) {
            self.scheduled_at.insert(meta.seq, id);
        }
        self.conferences.entry(id).or_default().apply(&event, meta);
    }
}
