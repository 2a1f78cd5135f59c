//! The roster's schedule: a conference moved after its invitations, and which sites have seen it.
//!
//! - The roster holds the schedule sequence (0 as invited). `conference_rescheduled` becomes
//!   `roster_rescheduled` (the reaction in [`crate::reactions`]): the roster's times and sequence
//!   are the new ones, and each site's entry learns the new sequence.
//! - Each site's line records the sequence its answer was given under, and the last sequence the
//!   site has seen: it sees the schedule when it answers, checks in, or acknowledges it with
//!   `schedule_seen` (a sequence other than the current one is `conflict`). An answer given under an
//!   older sequence is "answered before the change".
//! - Answers are kept by default. With `reanswer`, every answer is cleared back to "no answer", the
//!   answer it had is kept as its previous answer for the secretariat to see, and the counts show
//!   the sites as not answered. Check-ins are kept.
//!
//! An answer's sequence is the roster's when the answer is recorded: an answer decided just before a
//! reschedule but recorded just after it counts as given under the new schedule.

use chrono::{DateTime, FixedOffset, Utc};
use hoinghi_shared::api::{self, PreviousAnswer, RosterSchedule};
use hoinghi_shared::events::{AttendanceEvent, AttendanceStatus};
use hoinghi_shared::ApiError;

use crate::roster::{Answer, Roster, SiteEntry};

/// The move, as scheduling reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The new start.
    pub starts_at: DateTime<FixedOffset>,
    /// The new end.
    pub ends_at: DateTime<FixedOffset>,
    /// Why.
    pub reason: String,
    /// The new schedule sequence.
    pub sequence: u32,
    /// Every site must answer again.
    pub reanswer: bool,
}

/// An answer cleared by a reschedule that asked every site to answer again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// The answer.
    pub answer: Answer,
    /// When it was given.
    pub answered_at: Option<DateTime<Utc>>,
    /// The schedule sequence it was given under.
    pub answer_sequence: Option<u32>,
}

impl Cleared {
    /// As the site's line shows it.
    pub fn view(&self) -> PreviousAnswer {
        let (status, delegates, headcount, decline_reason) = match &self.answer {
            Answer::Confirmed { delegates, headcount } => {
                (AttendanceStatus::Confirmed, delegates.iter().map(api::Person::from).collect(), *headcount, None)
            }
            Answer::Declined { reason } => (AttendanceStatus::Declined, vec![], 0, Some(reason.clone())),
            Answer::None => (AttendanceStatus::Invited, vec![], 0, None),
        };
        PreviousAnswer {
            status: status.into(),
            delegates,
            headcount,
            decline_reason,
            answered_at: self.answered_at,
            answer_sequence: self.answer_sequence,
        }
    }
}

impl SiteEntry {
    /// Records that the site has seen the schedule `sequence`.
    pub(crate) fn saw(&mut self, sequence: u32) {
        self.seen_sequence = Some(self.seen_sequence.map_or(sequence, |seen| seen.max(sequence)));
    }

    /// The site has seen the current schedule.
    pub fn has_seen_current_schedule(&self) -> bool {
        self.seen_sequence.is_some_and(|seen| seen >= self.schedule_sequence)
    }

    /// Its answer was given under an older schedule.
    pub fn answered_before_change(&self) -> bool {
        self.answer_sequence.is_some_and(|given| given < self.schedule_sequence)
    }

    /// Decides a `schedule_seen`: the current sequence only; again changes nothing.
    ///
    /// # Errors
    /// `conflict` for a sequence that is not the current one, naming the current one.
    pub(crate) fn see_schedule(&self, sequence: u32) -> Result<Option<AttendanceEvent>, ApiError> {
        let current = self.schedule_sequence;
        if sequence != current {
            let when = if sequence < current { "an earlier" } else { "no such" };
            return Err(ApiError::conflict(format!(
                "schedule {sequence} is {when} schedule: the conference's current schedule is sequence {current}; \
                 read the conference again (hoinghi conference get) and acknowledge sequence {current}"
            )));
        }
        if self.has_seen_current_schedule() {
            return Ok(None);
        }
        Ok(Some(AttendanceEvent::ScheduleSeen { sequence }))
    }

    /// The roster moved to `sequence`; with `reanswer` the answer is cleared.
    fn rescheduled(&mut self, sequence: u32, reanswer: bool) {
        self.schedule_sequence = sequence;
        if reanswer && self.answer != Answer::None {
            self.previous = Some(Cleared {
                answer: std::mem::take(&mut self.answer),
                answered_at: self.answered_at.take(),
                answer_sequence: self.answer_sequence.take(),
            });
        }
    }
}

impl Roster {
    /// Decides a move reported by scheduling, on an open roster: a sequence already recorded changes
    /// nothing.
    pub(crate) fn reschedule(&self, moved: Moved) -> Option<AttendanceEvent> {
        let Moved { starts_at, ends_at, reason, sequence, reanswer } = moved;
        (sequence > self.schedule_sequence).then_some(AttendanceEvent::RosterRescheduled {
            starts_at,
            ends_at,
            reason,
            sequence,
            reanswer,
        })
    }

    /// Records a move: the roster's times and sequence, every site's current sequence, and with
    /// `reanswer` every answer cleared.
    pub(crate) fn apply_reschedule(
        &mut self,
        starts_at: DateTime<FixedOffset>,
        ends_at: DateTime<FixedOffset>,
        reason: &str,
        sequence: u32,
        reanswer: bool,
    ) {
        if let Some(details) = self.details.as_mut() {
            details.starts_at = starts_at;
            details.ends_at = ends_at;
        }
        self.schedule_sequence = sequence;
        self.rescheduled = Some((reason.to_owned(), reanswer));
        for entry in self.sites.values_mut() {
            entry.rescheduled(sequence, reanswer);
        }
    }

    /// The current schedule, with how many sites have seen it and answered before it.
    pub fn schedule_view(&self) -> Option<RosterSchedule> {
        let details = self.details.as_ref()?;
        let (reason, reanswer) = self.rescheduled.clone().map_or((None, false), |(r, a)| (Some(r), a));
        Some(RosterSchedule {
            sequence: self.schedule_sequence,
            starts_at: details.starts_at,
            ends_at: details.ends_at,
            reason,
            reanswer,
            seen: self.sites.values().filter(|e| e.has_seen_current_schedule()).count(),
            answered_before_change: self.sites.values().filter(|e| e.answered_before_change()).count(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hoinghi_shared::ErrorCode;

    use super::*;
    use crate::roster::{RosterCommand, SiteCommand};
    use crate::testing::{delegate, details, opened, Log};

    fn confirmed() -> AttendanceEvent {
        AttendanceEvent::AttendanceConfirmed { delegates: vec![delegate().into()], headcount: 3 }
    }

    fn declined() -> AttendanceEvent {
        AttendanceEvent::AttendanceDeclined { reason: "lũ quét".into() }
    }

    fn moved(sequence: u32, reanswer: bool) -> Moved {
        let d = details();
        Moved {
            starts_at: d.starts_at + chrono::Duration::hours(i64::from(sequence)),
            ends_at: d.ends_at + chrono::Duration::hours(i64::from(sequence)),
            reason: "bão số 3".into(),
            sequence,
            reanswer,
        }
    }

    fn rescheduled(sequence: u32, reanswer: bool) -> AttendanceEvent {
        let Moved { starts_at, ends_at, reason, sequence, reanswer } = moved(sequence, reanswer);
        AttendanceEvent::RosterRescheduled { starts_at, ends_at, reason, sequence, reanswer }
    }

    fn reschedule(sequence: u32, reanswer: bool) -> RosterCommand {
        RosterCommand::Reschedule(Box::new(moved(sequence, reanswer)))
    }

    fn seen(sequence: u32) -> SiteCommand {
        SiteCommand::SeeSchedule { sequence }
    }

    /// ba-be confirmed, na-ri declined, pac-nam silent.
    fn answered() -> Log {
        opened(details()).site("ba-be", confirmed()).site("na-ri", declined())
    }

    #[test]
    fn a_move_reaches_an_open_roster_once() {
        let log = answered();
        log.when(reschedule(1, false)).then(rescheduled(1, false));
        let log = log.roster(rescheduled(1, false));
        log.when(reschedule(1, false)).then_nothing();
        log.when(reschedule(2, true)).then(rescheduled(2, true));
        // A cancelled roster ignores a late move; one never opened waits for its opening.
        let cancelled = log.roster(AttendanceEvent::RosterCancelled { reason: "bão".into() });
        cancelled.when(reschedule(3, false)).then_nothing();
        hoinghi_runtime::testing::given::<Roster>(hoinghi_shared::ConferenceId::generate(), [])
            .when(reschedule(1, false))
            .then_refused(ErrorCode::NotFound, "no roster");
    }

    #[test]
    fn after_a_move_the_lines_show_answers_given_before_it_and_sites_that_have_not_seen_it() {
        // Given: before the move, everyone who answered has seen schedule 0
        let before = answered();
        let line = before.roster_state().site_view(before.id, &crate::testing::site("ba-be")).unwrap();
        assert_eq!((line.answer_sequence, line.seen_sequence), (Some(0), Some(0)));
        assert!(line.seen_current_schedule && !line.answered_before_change);
        let silent = before.roster_state().site_view(before.id, &crate::testing::site("pac-nam")).unwrap();
        assert!(!silent.seen_current_schedule && silent.seen_sequence.is_none());
        // When the conference moves by one hour
        let log = before.roster(rescheduled(1, false));
        let roster = log.roster_state();
        let line = |s: &str| roster.site_view(log.id, &crate::testing::site(s)).unwrap();
        // Then the answers are kept, given before the change, and nobody has seen the new schedule
        for s in ["ba-be", "na-ri"] {
            assert!(line(s).answered_before_change, "{s}");
            assert!(!line(s).seen_current_schedule, "{s}");
            assert_eq!((line(s).answer_sequence, line(s).seen_sequence), (Some(0), Some(0)));
        }
        assert_eq!(line("ba-be").status, api::AttendanceStatus::Confirmed);
        assert!(!line("pac-nam").answered_before_change);
        let view = roster.view(log.id, 0..10).unwrap();
        assert_eq!((view.counts.confirmed, view.counts.declined, view.counts.no_answer), (1, 1, 1));
        let schedule = view.schedule.unwrap();
        assert_eq!((schedule.sequence, schedule.seen, schedule.answered_before_change), (1, 0, 2));
        assert_eq!(schedule.starts_at, details().starts_at + chrono::Duration::hours(1));
        assert_eq!((schedule.reason.as_deref(), schedule.reanswer), (Some("bão số 3"), false));
    }

    #[test]
    fn a_site_sees_the_current_schedule_by_acknowledging_it_answering_or_checking_in() {
        let log = answered().roster(rescheduled(1, false));
        // Acknowledging: only the current sequence, once
        log.when_site("ba-be", seen(1)).then(AttendanceEvent::ScheduleSeen { sequence: 1 });
        log.when_site("ba-be", seen(0)).then_refused(ErrorCode::Conflict, "current schedule is sequence 1");
        log.when_site("ba-be", seen(2)).then_refused(ErrorCode::Conflict, "acknowledge sequence 1");
        log.when_site("cho-don", seen(1)).then_refused(ErrorCode::Forbidden, "not invited");
        let log = log.site("ba-be", AttendanceEvent::ScheduleSeen { sequence: 1 });
        log.when_site("ba-be", seen(1)).then_nothing();
        let ba_be = log.entry("ba-be");
        assert!(ba_be.has_seen_current_schedule() && ba_be.answered_before_change());
        // Answering again: seen, and no longer before the change
        let log = log.site("na-ri", confirmed());
        assert!(log.entry("na-ri").has_seen_current_schedule() && !log.entry("na-ri").answered_before_change());
        // Checking in: seen
        let log = log.site("pac-nam", AttendanceEvent::SiteCheckedIn {});
        assert!(log.entry("pac-nam").has_seen_current_schedule());
        let schedule = log.roster_state().schedule_view().unwrap();
        assert_eq!((schedule.seen, schedule.answered_before_change), (3, 1));
        // After the roster closes, acknowledging is refused like any site command
        let closed = log.roster(AttendanceEvent::RosterClosed {
            details: details(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: None,
        });
        closed.when_site("ba-be", seen(1)).then_refused(ErrorCode::Conflict, "has ended");
    }

    #[test]
    fn asking_every_site_to_answer_again_clears_the_answers_and_keeps_them_as_previous() {
        let log = answered().site("ba-be", AttendanceEvent::SiteCheckedIn {}).roster(rescheduled(1, false));
        // When the second move asks every site to answer again
        let log = log.roster(rescheduled(2, true));
        let roster = log.roster_state();
        let line = |s: &str| roster.site_view(log.id, &crate::testing::site(s)).unwrap();
        // Then no site has an answer, the counts say so, and each keeps what it had answered
        let view = roster.view(log.id, 0..10).unwrap();
        assert_eq!((view.counts.confirmed, view.counts.declined, view.counts.no_answer), (0, 0, 3));
        assert_eq!(view.counts.checked_in, 1, "check-ins are kept");
        let ba_be = line("ba-be");
        assert_eq!((ba_be.answer_sequence, ba_be.answered_before_change, ba_be.headcount), (None, false, 0));
        let previous = ba_be.previous_answer.unwrap();
        assert_eq!(
            (previous.status, previous.headcount, previous.answer_sequence),
            (api::AttendanceStatus::Confirmed, 3, Some(0))
        );
        assert_eq!(previous.delegates, vec![delegate()]);
        let previous = line("na-ri").previous_answer.unwrap();
        assert_eq!(
            (previous.status, previous.decline_reason.as_deref()),
            (api::AttendanceStatus::Declined, Some("lũ quét"))
        );
        assert!(line("pac-nam").previous_answer.is_none());
        let schedule = view.schedule.unwrap();
        assert_eq!((schedule.sequence, schedule.reanswer, schedule.answered_before_change), (2, true, 0));
        // And a site answering again under the new schedule keeps its previous answer on the line
        let log = log.site("na-ri", confirmed());
        let line = log.roster_state().site_view(log.id, &crate::testing::site("na-ri")).unwrap();
        assert_eq!((line.status, line.answer_sequence), (api::AttendanceStatus::Confirmed, Some(2)));
        assert!(line.seen_current_schedule && line.previous_answer.is_some());
    }

    #[test]
    fn the_move_is_appended_on_the_rosters_own_subjects_and_the_acknowledgement_on_the_sites() {
        let log = answered();
        let id = log.id;
        let append = log.when(reschedule(1, false)).then(rescheduled(1, false));
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.roster_rescheduled"));
        assert_eq!((append.expect.filter, append.expect.last_seq), (format!("hoinghi.v1.events.attendance.{id}.*"), 1));
        let log = log.roster(rescheduled(1, false));
        let append = log.when_site("pac-nam", seen(1)).then(AttendanceEvent::ScheduleSeen { sequence: 1 });
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.pac-nam.schedule_seen"));
        assert_eq!(append.site_id, Some(crate::testing::site("pac-nam")));
    }
}
