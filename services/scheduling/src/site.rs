//! The site registry: one aggregate per site (subject `hoinghi.v1.events.sites.<site>.*`).

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{own_subjects, Address, Aggregate};
use hoinghi_runtime::input;
use hoinghi_runtime::store::EventMeta;
use hoinghi_shared::api::SiteView;
use hoinghi_shared::events::{DomainEvent, SchedulingEvent};
use hoinghi_shared::limits::MAX_NAME_CHARS;
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, SiteId};

/// A registered site. `Default` is "never registered".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    /// Its current name; empty until registered.
    pub name: String,
    /// When first registered.
    pub registered_at: Option<DateTime<Utc>>,
    /// Stream sequence of its last event (0: none).
    pub last_seq: u64,
}

/// A command on a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteCommand {
    /// Register, or rename.
    Register {
        /// The name asked for (unchecked).
        name: String,
    },
}

impl Site {
    /// Whether the site exists.
    pub fn is_registered(&self) -> bool {
        self.registered_at.is_some()
    }

    /// The reply view.
    pub fn view(&self, id: &SiteId) -> SiteView {
        SiteView { id: id.clone(), name: self.name.clone(), registered_at: self.registered_at.unwrap_or_default() }
    }
}

impl Aggregate for Site {
    type Id = SiteId;
    type Event = SchedulingEvent;
    type Command = SiteCommand;

    /// Registering a site again under the same name changes nothing.
    ///
    /// # Errors
    /// `invalid` for a bad name.
    fn handle(&self, id: &SiteId, command: SiteCommand) -> Result<Option<SchedulingEvent>, ApiError> {
        match command {
            SiteCommand::Register { name } => {
                let name = input::text("name", &name, MAX_NAME_CHARS, true)?;
                if self.is_registered() && self.name == name {
                    return Ok(None);
                }
                Ok(Some(SchedulingEvent::SiteRegistered { site_id: id.clone(), name }))
            }
        }
    }

    fn apply(&mut self, event: &SchedulingEvent, meta: &EventMeta) {
        if let SchedulingEvent::SiteRegistered { name, .. } = event {
            self.name.clone_from(name);
            self.registered_at.get_or_insert(meta.occurred_at);
        }
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.sites.<site>.<type>`, on the condition that nothing was written on the
    /// site's subjects since it was read.
    fn address(&self, id: &SiteId, event: &SchedulingEvent) -> Address {
        Address {
            subject: events::site(id, event.event_type()),
            expect: own_subjects(events::site_filter(id), self.last_seq),
            conference_id: None,
            site_id: Some(id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::ErrorCode;

    fn ba_be() -> SiteId {
        SiteId::parse("ba-be").unwrap()
    }

    fn register(name: &str) -> SiteCommand {
        SiteCommand::Register { name: name.into() }
    }

    fn registered(name: &str) -> SchedulingEvent {
        SchedulingEvent::SiteRegistered { site_id: ba_be(), name: name.into() }
    }

    #[test]
    fn registering_the_same_name_again_changes_nothing() {
        given::<Site>(ba_be(), []).when(register("Huyện ủy Ba Bể")).then(registered("Huyện ủy Ba Bể"));
        let site = given::<Site>(ba_be(), [registered("Huyện ủy Ba Bể")]);
        site.when(register(" Huyện ủy Ba Bể ")).then_nothing();
        site.when(register("Huyện ủy Ba Bể (mới)")).then(registered("Huyện ủy Ba Bể (mới)"));
        assert!(site.state().is_registered());
    }

    #[test]
    fn a_site_needs_a_name() {
        given::<Site>(ba_be(), []).when(register("  ")).then_refused(ErrorCode::Invalid, "name");
    }

    #[test]
    fn a_rename_keeps_the_first_registration_time() {
        let site = given::<Site>(ba_be(), [registered("Huyện ủy Ba Bể")]);
        let first = site.state().registered_at;
        let renamed = site.and(registered("Huyện ủy Ba Bể (mới)"));
        assert_eq!((renamed.state().name.as_str(), renamed.state().registered_at), ("Huyện ủy Ba Bể (mới)", first));
    }

    #[test]
    fn a_registration_is_appended_on_the_sites_own_subjects() {
        // A new site: its subject, expected empty
        let append = given::<Site>(ba_be(), []).when(register("Huyện ủy Ba Bể")).then(registered("Huyện ủy Ba Bể"));
        assert_eq!(append.subject, "hoinghi.v1.events.sites.ba-be.site_registered");
        assert_eq!((append.expect.filter.as_str(), append.expect.last_seq), ("hoinghi.v1.events.sites.ba-be.*", 0));
        assert_eq!((append.conference_id, append.site_id), (None, Some(ba_be())));
        // A rename: at the site's last sequence
        let site = given::<Site>(ba_be(), [registered("a"), registered("b")]);
        let append = site.when(register("c")).then(registered("c"));
        assert_eq!(append.expect.last_seq, site.last_seq());
        assert_eq!(append.expect.last_seq, 2);
    }
}
