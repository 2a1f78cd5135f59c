//! The site registry: one aggregate per site (subject `hoinghi.v1.events.sites.<site>.*`).

use chrono::{DateTime, Utc};
use hoinghi_runtime::input;
use hoinghi_shared::api::SiteView;
use hoinghi_shared::events::SchedulingEvent;
use hoinghi_shared::limits::MAX_NAME_CHARS;
use hoinghi_shared::{ApiError, SiteId};

/// A registered site.
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
        /// The site.
        id: SiteId,
        /// The name asked for (unchecked).
        name: String,
    },
}

impl Site {
    /// Whether the site exists.
    pub fn is_registered(&self) -> bool {
        self.registered_at.is_some()
    }

    /// Decides a command.
    ///
    /// # Errors
    /// `invalid` for a bad name.
    pub fn handle(&self, command: SiteCommand) -> Result<Vec<SchedulingEvent>, ApiError> {
        match command {
            SiteCommand::Register { id, name } => {
                let name = input::text("name", &name, MAX_NAME_CHARS, true)?;
                if self.is_registered() && self.name == name {
                    return Ok(vec![]);
                }
                Ok(vec![SchedulingEvent::SiteRegistered { site_id: id, name }])
            }
        }
    }

    /// Applies one of its events.
    pub fn apply(&mut self, event: &SchedulingEvent, at: DateTime<Utc>, seq: u64) {
        if let SchedulingEvent::SiteRegistered { name, .. } = event {
            self.name.clone_from(name);
            self.registered_at.get_or_insert(at);
        }
        self.last_seq = seq;
    }

    /// The reply view.
    pub fn view(&self, id: &SiteId) -> SiteView {
        SiteView { id: id.clone(), name: self.name.clone(), registered_at: self.registered_at.unwrap_or_default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(name: &str) -> SiteCommand {
        SiteCommand::Register { id: SiteId::parse("ba-be").unwrap(), name: name.into() }
    }

    #[test]
    fn registering_the_same_name_again_changes_nothing() {
        let mut site = Site::default();
        let events = site.handle(register("Huyện ủy Ba Bể")).unwrap();
        assert_eq!(events.len(), 1);
        site.apply(&events[0], Utc::now(), 1);
        assert!(site.handle(register(" Huyện ủy Ba Bể ")).unwrap().is_empty());
        assert_eq!(site.handle(register("Huyện ủy Ba Bể (mới)")).unwrap().len(), 1);
    }

    #[test]
    fn a_site_needs_a_name() {
        assert_eq!(Site::default().handle(register("  ")).unwrap_err().code, hoinghi_shared::ErrorCode::Invalid);
    }
}
