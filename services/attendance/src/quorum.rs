//! The quorum (số lượng tối thiểu) of a conference: its rule (a share of the invited bridges, or
//! of the expected delegates: the sum of the confirmed headcounts) comes with the conference's
//! details; whether it is quorate now is counted from the roster ([`Roster::quorum_now`]), a bridge
//! counting as present by [`Roster::bridge_presence`] (roll call, else live presence, else
//! check-in). Without a rule a conference is always quorate.
//!
//! The quorum is **recorded** (`quorum_recorded`, on `…events.attendance.<conference>.quorum_recorded`)
//! at the start of the session (the reaction to `session_started`) and at the start of each agenda
//! item (the reaction to `agenda_item_started`, [`AGENDA_ITEM_STARTED`]), at most once for each of
//! these moments, and only for a conference with a rule. [`QuorumLog`] is the aggregate; its
//! snapshots travel in the attendance record (`roster_closed.quorum`) to the minutes.

use hoinghi_runtime::aggregate::{decide, own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Set;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::{self, RosterState};
use hoinghi_shared::events::{AttendanceEvent, DomainEvent, QuorumBasis, QuorumRule, QuorumSnapshot};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId};

use crate::roll_call::Source;
use crate::roster::Roster;
use crate::SERVICE;

/// The type of the event that starts an agenda item during the session (`agenda_item_started`,
/// written by the agenda's moves in the attendance stream, see [`crate::floor`]; `data.item` is
/// the 0-based item). The quorum is recorded when it
/// is applied ([`crate::commands::quorum::subscription`]).
pub const AGENDA_ITEM_STARTED: &str = AttendanceEvent::AGENDA_ITEM_STARTED;

/// Who is present now, counted over every invited bridge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Bridges present.
    pub bridges_present: u64,
    /// Bridges invited.
    pub bridges_total: u64,
    /// Delegates present (people counted by roll calls, else confirmed headcounts of bridges present).
    pub delegates_present: u64,
    /// Delegates expected: the sum of the confirmed headcounts.
    pub delegates_expected: u64,
    /// Bridges present by their roll call.
    pub by_roll_call: u64,
    /// Bridges present by live presence.
    pub by_presence: u64,
    /// Bridges present by their check-in only.
    pub by_check_in: u64,
    /// Whether live presence decided for any bridge.
    pub presence_known: bool,
}

impl Count {
    /// `(required, present, total, quorate)` under `rule`.
    pub fn under(&self, rule: &QuorumRule) -> (u64, u64, u64, bool) {
        let (present, total) = match rule.basis {
            QuorumBasis::Bridges => (self.bridges_present, self.bridges_total),
            QuorumBasis::Delegates => (self.delegates_present, self.delegates_expected),
        };
        let required = rule.required(total);
        (required, present, total, present >= required)
    }
}

/// A command on the conference's recorded quorum: record it now, at the start of the session
/// (`item` `None`) or of agenda item `item`, with the roster's count and rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The moment: `None` the start of the session, else the agenda item.
    pub item: Option<usize>,
    /// The conference's rule (none: nothing is recorded).
    pub rule: Option<QuorumRule>,
    /// Who is present now.
    pub count: Count,
}

/// The quorum recorded during a session. `Default`: nothing recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuorumLog {
    /// Every snapshot, in the order recorded.
    pub snapshots: Vec<QuorumSnapshot>,
    /// The moments already recorded.
    pub recorded: Set<Option<usize>>,
    /// Stream sequence of the last `quorum_recorded` (0: none).
    pub last_seq: u64,
}

impl Aggregate for QuorumLog {
    type Id = ConferenceId;
    type Event = AttendanceEvent;
    type Command = Record;

    /// Records the quorum once per moment, only under a rule.
    ///
    /// # Errors
    /// Never.
    fn handle(&self, _id: &ConferenceId, command: Record) -> Result<Option<AttendanceEvent>, ApiError> {
        let Record { item, rule, count } = command;
        let Some(rule) = rule else { return Ok(None) };
        if self.recorded.contains(&item) {
            return Ok(None);
        }
        let (required, present, total, quorate) = count.under(&rule);
        Ok(Some(AttendanceEvent::QuorumRecorded { item, rule, quorate, required, present, total }))
    }

    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        if let AttendanceEvent::QuorumRecorded { item, rule, quorate, required, present, total } = event {
            if self.recorded.insert(*item) {
                self.snapshots.push(QuorumSnapshot {
                    at: meta.occurred_at,
                    item: *item,
                    rule: *rule,
                    quorate: *quorate,
                    required: *required,
                    present: *present,
                    total: *total,
                });
            }
            self.last_seq = meta.seq;
        }
    }

    /// `hoinghi.v1.events.attendance.<conference>.quorum_recorded`, on the condition that none was
    /// recorded since it was read.
    fn address(&self, id: &ConferenceId, event: &AttendanceEvent) -> Address {
        let subject = events::conference(SERVICE, id, event.event_type());
        Address {
            expect: own_subjects(subject.clone(), self.last_seq),
            subject,
            conference_id: Some(*id),
            site_id: None,
        }
    }
}

impl Roster {
    /// The conference's quorum rule (none: always quorate).
    pub fn quorum_rule(&self) -> Option<QuorumRule> {
        self.details.as_ref().and_then(|d| d.quorum)
    }

    /// Who is present now, over every invited bridge.
    pub fn count_present(&self) -> Count {
        let mut count = Count::default();
        for s in self.invited() {
            let b = self.bridge_presence(&s.id);
            count.bridges_total += 1;
            if let Some(crate::roster::Answer::Confirmed { headcount, .. }) = self.sites.get(&s.id).map(|e| &e.answer) {
                count.delegates_expected += u64::from(*headcount);
            }
            if b.source == Source::Presence {
                count.presence_known = true;
            }
            if b.present {
                count.bridges_present += 1;
                count.delegates_present += b.people;
                match b.source {
                    Source::RollCall => count.by_roll_call += 1,
                    Source::Presence => count.by_presence += 1,
                    Source::CheckIn => count.by_check_in += 1,
                }
            }
        }
        count
    }

    /// Whether the conference is quorate now, for the reply of `attendance.quorum`.
    pub fn quorum_now(&self, id: ConferenceId) -> api::Quorum {
        let count = self.count_present();
        let base = api::Quorum {
            conference_id: id,
            quorate: true,
            basis: None,
            required: 0,
            present: count.bridges_present,
            total: count.bridges_total,
            rule: None,
            bridges_present: count.bridges_present as usize,
            bridges_total: count.bridges_total as usize,
            by_roll_call: count.by_roll_call as usize,
            by_presence: count.by_presence as usize,
            by_check_in: count.by_check_in as usize,
            presence_known: count.presence_known,
            note: String::new(),
        };
        let Some(rule) = self.quorum_rule() else {
            return api::Quorum {
                note: format!(
                    "no quorum rule: the conference is always quorate ({} of {} bridges present)",
                    count.bridges_present, count.bridges_total
                ),
                ..base
            };
        };
        let (required, present, total, quorate) = count.under(&rule);
        let what = match rule.basis {
            QuorumBasis::Bridges => "bridges",
            QuorumBasis::Delegates => "expected delegates",
        };
        api::Quorum {
            quorate,
            basis: Some(rule.basis.into()),
            required,
            present,
            total,
            rule: Some(rule.into()),
            note: format!(
                "{} : {present} of {total} {what} present, {required} required ({}% of {what})",
                if quorate { "quorate" } else { "not quorate" },
                rule.percent
            ),
            ..base
        }
    }

    /// Decides recording the quorum now, at the start of the session (`item` `None`) or of an agenda
    /// item. Nothing is recorded without a rule, twice for the same moment, or once the roster is
    /// closed or cancelled.
    ///
    /// # Errors
    /// `not_found` for a roster never opened (the reaction retries until it is there).
    pub fn decide_quorum_record(
        &self,
        id: &ConferenceId,
        item: Option<usize>,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if !self.is_opened() {
            return Err(ApiError::not_found(format!("no roster for conference {id} yet")));
        }
        if self.state != Some(RosterState::Open) {
            return Ok(Decision::Unchanged);
        }
        decide(&self.session.quorum, id, Record { item, rule: self.quorum_rule(), count: self.count_present() })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::roster::RosterCommand;
    use crate::testing::{delegate, details, opened, Log};
    use hoinghi_runtime::testing::Then;

    fn with_rule(basis: QuorumBasis, percent: u8) -> hoinghi_shared::events::ConferenceDetails {
        hoinghi_shared::events::ConferenceDetails { quorum: Some(QuorumRule { basis, percent }), ..details() }
    }

    fn confirmed(headcount: u32) -> AttendanceEvent {
        AttendanceEvent::AttendanceConfirmed { delegates: vec![delegate().into()], headcount }
    }

    fn called(people: u32) -> AttendanceEvent {
        AttendanceEvent::RollCalled { present: true, people: Some(people), reason: None }
    }

    fn called_absent() -> AttendanceEvent {
        AttendanceEvent::RollCalled { present: false, people: None, reason: Some("mất kết nối".into()) }
    }

    /// Ba Bể confirmed 10 and checked in, Na Rì confirmed 6 (not checked in), Pác Nặm confirmed 4
    /// and checked in; the session started.
    fn session(details: hoinghi_shared::events::ConferenceDetails) -> Log {
        opened(details)
            .site("ba-be", confirmed(10))
            .site("ba-be", AttendanceEvent::SiteCheckedIn {})
            .site("na-ri", confirmed(6))
            .site("pac-nam", confirmed(4))
            .site("pac-nam", AttendanceEvent::SiteCheckedIn {})
            .roster(AttendanceEvent::TechnicalCheckClosed {})
    }

    fn when_recorded(log: &Log, item: Option<usize>) -> Then<AttendanceEvent> {
        Then { decision: log.roster_state().decide_quorum_record(&log.id, item) }
    }

    fn recorded(
        item: Option<usize>,
        rule: QuorumRule,
        quorate: bool,
        required: u64,
        present: u64,
        total: u64,
    ) -> AttendanceEvent {
        AttendanceEvent::QuorumRecorded { item, rule, quorate, required, present, total }
    }

    #[test]
    fn the_quorum_on_bridges_counts_roll_calls_then_check_ins() {
        let rule = QuorumRule { basis: QuorumBasis::Bridges, percent: 100 };
        let log = session(with_rule(rule.basis, rule.percent));
        let q = log.roster_state().quorum_now(log.id);
        assert_eq!((q.quorate, q.required, q.present, q.total, q.by_check_in), (false, 3, 2, 3, 2));
        assert_eq!(q.rule, Some(api::QuorumRule { basis: api::QuorumBasis::Bridges, percent: 100 }));
        assert!(!q.presence_known);
        // Na Rì is called present: all three
        let log = log.site("na-ri", called(5));
        let q = log.roster_state().quorum_now(log.id);
        assert_eq!((q.quorate, q.present, q.by_roll_call, q.by_check_in), (true, 3, 1, 2));
        // Ba Bể checked in but is called absent: the roll call wins
        let log = log.site("ba-be", called_absent());
        let q = log.roster_state().quorum_now(log.id);
        assert_eq!((q.quorate, q.present), (false, 2));
    }

    #[test]
    fn the_quorum_on_delegates_counts_the_people_called_else_the_confirmed_headcounts() {
        let log = session(with_rule(QuorumBasis::Delegates, 60));
        // expected 10 + 6 + 4 = 20, 60% = 12; present: Ba Bể 10 + Pác Nặm 4 = 14
        let q = log.roster_state().quorum_now(log.id);
        assert_eq!((q.quorate, q.required, q.present, q.total), (true, 12, 14, 20));
        assert_eq!(q.basis, Some(api::QuorumBasis::Delegates));
        // Ba Bể has only 3 people in the room: 3 + 4 = 7
        let log = log.site("ba-be", called(3));
        let q = log.roster_state().quorum_now(log.id);
        assert_eq!((q.quorate, q.present), (false, 7));
        assert!(q.note.starts_with("not quorate"), "{}", q.note);
    }

    #[test]
    fn without_a_rule_the_conference_is_always_quorate_and_nothing_is_recorded() {
        let log = session(details());
        let q = log.roster_state().quorum_now(log.id);
        assert!(q.quorate);
        assert_eq!((q.rule, q.basis, q.required, q.present, q.total), (None, None, 0, 2, 3));
        assert!(q.note.contains("no quorum rule"), "{}", q.note);
        when_recorded(&log, None).then_nothing();
        when_recorded(&log, Some(0)).then_nothing();
    }

    #[test]
    fn the_quorum_is_recorded_at_the_start_and_once_per_agenda_item() {
        let rule = QuorumRule { basis: QuorumBasis::Bridges, percent: 50 };
        let log = session(with_rule(rule.basis, rule.percent));
        // At the start: 2 of 3 present, 2 required
        let start = recorded(None, rule, true, 2, 2, 3);
        let append = when_recorded(&log, None).then(start.clone());
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{}.quorum_recorded", log.id));
        let log = log.roster(start);
        when_recorded(&log, None).then_nothing();
        // Ba Bể is called absent before item 1 starts: 1 of 3 (Pác Nặm), not quorate
        let log = log.site("ba-be", called_absent());
        let first = recorded(Some(0), rule, false, 2, 1, 3);
        when_recorded(&log, Some(0)).then(first.clone());
        let log = log.roster(first);
        when_recorded(&log, Some(0)).then_nothing();
        let snapshots = &log.roster_state().session.quorum.snapshots;
        assert_eq!(
            snapshots.iter().map(|s| (s.item, s.quorate, s.present)).collect::<Vec<_>>(),
            [(None, true, 2), (Some(0), false, 1)]
        );
        // The snapshots travel in the attendance record
        let Ok(Decision::Append(close)) = log.when(RosterCommand::Close).decision else { panic!("no close") };
        let AttendanceEvent::RosterClosed { quorum, .. } = close.event else { panic!("{:?}", close.event) };
        assert_eq!(&quorum, snapshots);
        // Nothing is recorded once the roster is closed, or before it opened
        let closed = log.roster(AttendanceEvent::RosterClosed {
            details: details(),
            attendance: vec![],
            quorum,
            speakers: vec![],
            record: None,
        });
        when_recorded(&closed, Some(1)).then_nothing();
        let never = Roster::default();
        assert!(never.decide_quorum_record(&ConferenceId::generate(), None).is_err());
    }
}
