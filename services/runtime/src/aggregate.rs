//! One shape for every aggregate: a consistency boundary that decides commands into events and is
//! rebuilt by applying them.
//!
//! An aggregate owns three things, and nothing outside it repeats them:
//! - its **rules** ([`Aggregate::handle`]): a command becomes at most one event, or a refusal, or
//!   nothing when the command repeats the current state;
//! - its **record** ([`Aggregate::apply`]): an event only records what happened, it never fails;
//! - its **address** ([`Aggregate::address`]): the subject its event is written on, the conference
//!   and site the envelope names, and the concurrency condition of the append, usually "nothing was
//!   written on my own subjects since I was read" ([`own_subjects`]), and for a fence (closing a
//!   roster) a wider filter ([`fence`]).
//!
//! [`decide`] puts the three together into the [`Decision`] the store appends, so a command handler
//! is: read the state, find the aggregate, `decide`, `execute`. The state of an aggregate that has no
//! event yet is its `Default`. [`crate::testing`] runs an aggregate given / when / then, with no
//! broker.

use hoinghi_shared::events::DomainEvent;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::store::{Append, Decision, EventMeta, Expect};

/// Where an aggregate's event is appended and on what condition.
#[derive(Debug, Clone)]
pub struct Address {
    /// The subject, ending with the event type.
    pub subject: String,
    /// The optimistic-concurrency condition.
    pub expect: Expect,
    /// The conference the envelope names.
    pub conference_id: Option<ConferenceId>,
    /// The site the envelope names.
    pub site_id: Option<SiteId>,
}

impl Address {
    /// The address of an event of `site` in `conference`, written on `subject` on the condition
    /// `expect`: the envelope names both.
    pub fn of_site(subject: String, expect: Expect, conference: &ConferenceId, site: &SiteId) -> Self {
        Self { subject, expect, conference_id: Some(*conference), site_id: Some(site.clone()) }
    }
}

/// A consistency boundary of one service.
pub trait Aggregate: Default {
    /// What identifies one (a site id, a conference id, a conference and a site).
    type Id;
    /// The service's events.
    type Event: DomainEvent;
    /// What it may be asked to do.
    type Command;

    /// Decides a command: the event to append, `None` when it would change nothing.
    ///
    /// # Errors
    /// The refusal, for a person: `invalid`, `forbidden`, `not_found` or `conflict`.
    fn handle(&self, id: &Self::Id, command: Self::Command) -> Result<Option<Self::Event>, ApiError>;

    /// Records one of its events, read from the stream at `meta.seq`.
    fn apply(&mut self, event: &Self::Event, meta: &EventMeta);

    /// Where `event`, decided by this aggregate in its current state, is appended.
    fn address(&self, id: &Self::Id, event: &Self::Event) -> Address;
}

/// The decision of `aggregate` about `command`, addressed for [`crate::store::EventStore::execute`].
///
/// # Errors
/// The aggregate's refusal.
pub fn decide<A: Aggregate>(aggregate: &A, id: &A::Id, command: A::Command) -> Result<Decision<A::Event>, ApiError> {
    Ok(match aggregate.handle(id, command)? {
        None => Decision::Unchanged,
        Some(event) => {
            let Address { subject, expect, conference_id, site_id } = aggregate.address(id, &event);
            Decision::Append(Append { subject, expect, event, conference_id, site_id })
        }
    })
}

/// The concurrency condition of an aggregate whose events are all under `filter` and whose last
/// event is at `last_seq` (0: none yet).
pub fn own_subjects(filter: String, last_seq: u64) -> Expect {
    Expect { filter, last_seq }
}

/// The concurrency condition of a fence: the append is refused if anything was written anywhere
/// under `filter`, wider than the aggregate's own subjects, after `last_seq`, the last sequence of
/// any event under it that the aggregate applied. Closing a roster fences its sites' subjects, so
/// the record the close carries is complete.
pub fn fence(filter: String, last_seq: u64) -> Expect {
    Expect { filter, last_seq }
}
