//! What the minutes and the conclusions notice share: the address of an event on the conference's
//! own subjects, and each invited site's receipt of the document, [`SiteReceipt`], an aggregate of
//! one site in one conference on the site's subjects
//! (`hoinghi.v1.events.minutes.<conference>.<site>.*`): [`crate::minutes::Ack`] for the published
//! minutes, [`crate::notice::Receipt`] for the notice. The document admits a site's acknowledgement
//! (the site invited, the document out) before the site's receipt decides it.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::store::EventMeta;
use hoinghi_shared::events::{DomainEvent, MinutesEvent};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::SERVICE;

/// A document a site acknowledges; the type is the command that acknowledges it.
pub trait Document {
    /// The event that records the acknowledgement.
    fn acknowledged() -> MinutesEvent;
}

/// A site's receipt of document `D`. `Default` is "not acknowledged".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteReceipt<D> {
    /// When (None: not yet).
    pub at: Option<DateTime<Utc>>,
    /// Last sequence on the site's subjects in the conference.
    pub last_seq: u64,
    document: PhantomData<D>,
}

/// The receipt of `site` among those of the sites invited to conference `id`.
///
/// # Errors
/// `forbidden` for a site not invited.
pub fn invited<'a, D>(
    receipts: &'a Map<SiteId, SiteReceipt<D>>,
    id: &ConferenceId,
    site: &SiteId,
) -> Result<&'a SiteReceipt<D>, ApiError> {
    receipts.get(site).ok_or_else(|| ApiError::forbidden(format!("site {site} was not invited to conference {id}")))
}

/// `hoinghi.v1.events.minutes.<conference>.<type>`, on the condition that nothing was written on
/// the conference's own subjects since `last_seq`.
pub fn conference_address(id: &ConferenceId, event: &MinutesEvent, last_seq: u64) -> Address {
    Address {
        subject: events::conference(SERVICE, id, event.event_type()),
        expect: own_subjects(events::conference_filter(SERVICE, id), last_seq),
        conference_id: Some(*id),
        site_id: None,
    }
}

impl<D: Document + Default> Aggregate for SiteReceipt<D> {
    type Id = (ConferenceId, SiteId);
    type Event = MinutesEvent;
    type Command = D;

    /// Acknowledging twice changes nothing. The document has admitted it.
    fn handle(&self, _id: &(ConferenceId, SiteId), _command: D) -> Result<Option<MinutesEvent>, ApiError> {
        Ok(if self.at.is_some() { None } else { Some(D::acknowledged()) })
    }

    /// Every event on the site's subjects moves its sequence; only the document's acknowledgement
    /// is a receipt.
    fn apply(&mut self, event: &MinutesEvent, meta: &EventMeta) {
        if *event == D::acknowledged() {
            self.at.get_or_insert(meta.occurred_at);
        }
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.minutes.<conference>.<site>.<type>`, on the condition that nothing was
    /// written on the site's subjects in the conference since it was read.
    fn address(&self, (conference, site): &(ConferenceId, SiteId), event: &MinutesEvent) -> Address {
        Address::of_site(
            events::conference_site(SERVICE, conference, site, event.event_type()),
            own_subjects(events::conference_site_filter(SERVICE, conference, site), self.last_seq),
            conference,
            site,
        )
    }
}
