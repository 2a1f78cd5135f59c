//! Given / when / then over one conference's whole attendance log, for the rules that span the roster
//! and its sites (admission, the close fence, sealing): the roster's events and its sites' are
//! applied through the projection as the service applies them, each on the subject its aggregate
//! gives it, and commands are decided as the service decides them. One aggregate alone is tested
//! with [`hoinghi_runtime::testing::given`].

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{Address, Aggregate};
use hoinghi_runtime::store::{EventMeta, Projection};
use hoinghi_runtime::testing::Then;
use hoinghi_shared::api::Person;
use hoinghi_shared::events::{AttendanceEvent, ConferenceDetails, SiteRef};
use hoinghi_shared::{ConferenceId, SiteId};

use crate::commands::{decide_roster, decide_site};
use crate::roster::{Roster, RosterCommand, SiteCommand, SiteEntry};
use crate::state::AttendanceState;

/// A site id.
pub fn site(id: &str) -> SiteId {
    SiteId::parse(id).unwrap()
}

/// A conference inviting `ba-be`, `na-ri` and `pac-nam`.
pub fn details() -> ConferenceDetails {
    let sites =
        ["ba-be", "na-ri", "pac-nam"].iter().map(|s| SiteRef { id: site(s), name: format!("Huyện ủy {s}") });
    ConferenceDetails::new(
        "Hội nghị",
        "Tỉnh ủy Bắc Kạn",
        ("2021-07-23T08:00:00+07:00", "2021-07-23T11:30:00+07:00"),
        SiteRef { id: site("tinh-uy"), name: "Tỉnh ủy".into() },
        sites.collect(),
    )
    .unwrap()
}

/// A conference inviting `n` sites `site-0000`, `site-0001`, …
pub fn details_of(n: usize) -> ConferenceDetails {
    let mut d = details();
    d.sites = (0..n).map(|i| SiteRef { id: site(&format!("site-{i:04}")), name: format!("Xã {i}") }).collect();
    d
}

/// A delegate, as a site's confirmation names them.
pub fn delegate() -> Person {
    Person { name: "Hoàng Văn A".into(), title: "Bí thư Huyện ủy".into() }
}

/// When the event at `seq` happened: 2021-07-23 01:00 UTC plus `seq` minutes.
pub fn at(seq: u64) -> DateTime<Utc> {
    "2021-07-23T01:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(seq as i64)
}

/// The attendance log of one conference.
pub struct Log {
    /// The conference.
    pub id: ConferenceId,
    /// The projection, as the events built it.
    pub state: AttendanceState,
    seq: u64,
}

/// Given the roster of a new conference opened with `details`, at sequence 1.
pub fn opened(details: ConferenceDetails) -> Log {
    Log { id: ConferenceId::generate(), state: AttendanceState::default(), seq: 0 }
        .roster(AttendanceEvent::RosterOpened { details })
}

impl Log {
    /// And the roster's `event`, at the next sequence.
    #[must_use]
    pub fn roster(self, event: AttendanceEvent) -> Self {
        let id = self.id;
        self.append::<Roster>(&id, event)
    }

    /// And `site`'s `event`, at the next sequence.
    #[must_use]
    pub fn site(self, site_id: &str, event: AttendanceEvent) -> Self {
        let id = (self.id, site(site_id));
        self.append::<SiteEntry>(&id, event)
    }

    fn append<A: Aggregate<Event = AttendanceEvent>>(mut self, id: &A::Id, event: AttendanceEvent) -> Self {
        self.seq += 1;
        let Address { subject, conference_id, site_id, .. } = A::default().address(id, &event);
        let meta = EventMeta {
            seq: self.seq,
            subject,
            id: uuid::Uuid::now_v7(),
            conference_id,
            site_id,
            occurred_at: at(self.seq),
            actor: "test".into(),
            command_id: None,
        };
        self.state.apply(&meta, event);
        self
    }

    /// The roster as the log built it.
    pub fn roster_state(&self) -> &Roster {
        &self.state.rosters[&self.id]
    }

    /// One site's entry.
    pub fn entry(&self, site_id: &str) -> &SiteEntry {
        &self.roster_state().sites[&site(site_id)]
    }

    /// The last sequence of the log.
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// When scheduling's events ask the roster `command`.
    pub fn when(&self, command: RosterCommand) -> Then<AttendanceEvent> {
        Then { decision: decide_roster(&self.state, &self.id, command) }
    }

    /// When `site` sends `command`.
    pub fn when_site(&self, site_id: &str, command: SiteCommand) -> Then<AttendanceEvent> {
        Then { decision: decide_site(&self.state, &self.id, &site(site_id), command) }
    }
}
