//! Given / when / then for aggregates, with no broker: the domain rules of every service are tested
//! the same way.
//!
//! ```ignore
//! given::<Conference>(id, [scheduled(), invited()])
//!     .when(ConferenceCommand::Start)
//!     .then(SchedulingEvent::SessionStarted {});
//! ```

use std::fmt::Debug;

use hoinghi_shared::{ApiError, ErrorCode};

use crate::aggregate::{decide, Address, Aggregate};
use crate::store::{Append, Decision, EventMeta};

/// An aggregate built from past events.
pub struct Given<A: Aggregate> {
    aggregate: A,
    id: A::Id,
    seq: u64,
}

/// Builds the aggregate `id` by applying `events` in order, at stream sequences 1, 2, …, on the
/// subjects its address gives them.
pub fn given<A: Aggregate>(id: A::Id, events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let mut given = Given { aggregate: A::default(), id, seq: 0 };
    for event in events {
        given = given.and(event);
    }
    given
}

/// The metadata of an event appended at `address` as it is read back from the stream at `seq`: now,
/// by `test` (set other fields with `EventMeta { actor, ..read_back(address, seq) }`).
pub fn read_back(address: Address, seq: u64) -> EventMeta {
    EventMeta {
        seq,
        subject: address.subject,
        id: uuid::Uuid::now_v7(),
        conference_id: address.conference_id,
        site_id: address.site_id,
        occurred_at: chrono::Utc::now(),
        actor: "test".to_owned(),
        command_id: None,
    }
}

impl<A: Aggregate> Given<A> {
    /// Applies one more past event.
    #[must_use]
    pub fn and(mut self, event: A::Event) -> Self {
        self.seq += 1;
        let meta = read_back(self.aggregate.address(&self.id, &event), self.seq);
        self.aggregate.apply(&event, &meta);
        self
    }

    /// The aggregate as the events built it.
    pub fn state(&self) -> &A {
        &self.aggregate
    }

    /// The last stream sequence applied.
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// Decides `command` against the aggregate.
    pub fn when(&self, command: A::Command) -> Then<A::Event> {
        Then { decision: decide(&self.aggregate, &self.id, command) }
    }
}

/// What a command decided, to check.
#[derive(Debug)]
pub struct Then<E> {
    /// The decision.
    pub decision: Result<Decision<E>, ApiError>,
}

impl<E: PartialEq + Debug> Then<E> {
    /// The command appends `expected`; returns the append to check its address.
    #[track_caller]
    pub fn then(self, expected: E) -> Append<E> {
        match self.decision {
            Ok(Decision::Append(append)) => {
                assert_eq!(append.event, expected, "the event decided");
                append
            }
            other => panic!("expected the event {expected:?}, got {other:?}"),
        }
    }

    /// The command changes nothing (it repeats the current state).
    #[track_caller]
    pub fn then_nothing(self) {
        match self.decision {
            Ok(Decision::Unchanged) => {}
            other => panic!("expected no change, got {other:?}"),
        }
    }

    /// The command is refused with `code` and a message that mentions `hint` (case-insensitive).
    #[track_caller]
    pub fn then_refused(self, code: ErrorCode, hint: &str) -> ApiError {
        match self.decision {
            Err(e) => {
                assert_eq!(e.code, code, "refused with the wrong code: {e:?}");
                assert!(
                    e.message.to_lowercase().contains(&hint.to_lowercase()),
                    "the refusal should mention {hint:?}: {e:?}"
                );
                e
            }
            Ok(decision) => panic!("expected a {} refusal, got {decision:?}", code.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::own_subjects;
    use hoinghi_shared::events::{DomainEvent as _, SchedulingEvent};

    /// The least aggregate that exercises every helper: the command is the event to append,
    /// repeating the last event changes nothing, an empty id is refused. The real aggregates live in
    /// the service crates, which depend on this one (as dev-dependencies they would bring a second
    /// copy of `Aggregate`), and every service's aggregate tests run them through these helpers; so
    /// this one keeps to one line a rule instead of mirroring their shape.
    #[derive(Default)]
    struct Echo {
        last: Option<SchedulingEvent>,
        seq: u64,
    }

    impl Aggregate for Echo {
        type Id = String;
        type Event = SchedulingEvent;
        type Command = SchedulingEvent;

        fn handle(&self, id: &String, event: SchedulingEvent) -> Result<Option<SchedulingEvent>, ApiError> {
            if id.is_empty() {
                return Err(ApiError::invalid("an empty id"));
            }
            Ok((self.last.as_ref() != Some(&event)).then_some(event))
        }

        fn apply(&mut self, event: &SchedulingEvent, meta: &EventMeta) {
            (self.last, self.seq) = (Some(event.clone()), meta.seq);
        }

        fn address(&self, id: &String, event: &SchedulingEvent) -> Address {
            let (subject, filter) = (format!("s.{id}.{}", event.event_type()), format!("s.{id}.*"));
            Address { subject, expect: own_subjects(filter, self.seq), conference_id: None, site_id: None }
        }
    }

    #[test]
    fn a_decision_is_addressed_by_the_aggregate() {
        let append = given::<Echo>("a".into(), [SchedulingEvent::SessionStarted {}])
            .when(SchedulingEvent::SessionEnded {})
            .then(SchedulingEvent::SessionEnded {});
        assert_eq!(append.subject, "s.a.session_ended");
        assert_eq!((append.expect.filter.as_str(), append.expect.last_seq), ("s.a.*", 1));
    }

    #[test]
    fn repeats_change_nothing_and_refusals_say_why() {
        let started = given::<Echo>("a".into(), [SchedulingEvent::SessionStarted {}]);
        started.when(SchedulingEvent::SessionStarted {}).then_nothing();
        assert_eq!(started.last_seq(), 1);
        given::<Echo>(String::new(), [])
            .when(SchedulingEvent::SessionStarted {})
            .then_refused(ErrorCode::Invalid, "empty id");
        let fresh = given::<Echo>("a".into(), []);
        assert_eq!(
            fresh.when(SchedulingEvent::SessionStarted {}).then(SchedulingEvent::SessionStarted {}).expect.last_seq,
            0
        );
        assert!(fresh.state().last.is_none());
    }
}
