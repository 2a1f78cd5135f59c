//! Moving a conference to a new time: the rules of [`ConferenceCommand::Reschedule`].
//!
//! - A conference that is invited (not yet started) moves, and its schedule sequence grows by one:
//!   every invited site is told (attendance records `roster_rescheduled`; each site's line shows
//!   whether it has seen the current schedule and whether its answer predates it).
//! - A conference that is only scheduled moves too: no site has been told anything yet, so the new
//!   time simply replaces the planned one and the sequence stays 0 (the invitations will announce
//!   the schedule as sequence 0); `reanswer` has nothing to clear and is recorded as `false`.
//! - One that has started, ended, been closed or cancelled is refused with `conflict`
//!   ([`crate::conference`] checks the status first).
//! - A new time in the past, an end not after the start, a conference longer than
//!   [`MAX_DURATION_HOURS`], the same times it already has, or a missing reason is `invalid`.
//!
//! [`ConferenceCommand::Reschedule`]: crate::conference::ConferenceCommand::Reschedule

use chrono::{DateTime, FixedOffset, Utc};
use hoinghi_runtime::input;
use hoinghi_shared::api::ConferenceStatus;
use hoinghi_shared::events::SchedulingEvent;
use hoinghi_shared::limits::{MAX_DURATION_HOURS, MAX_TEXT_CHARS};
use hoinghi_shared::{ApiError, ConferenceId};

use crate::conference::Conference;

/// What the secretariat asks for (unchecked), and when it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reschedule {
    /// The new start.
    pub starts_at: DateTime<FixedOffset>,
    /// The new end.
    pub ends_at: DateTime<FixedOffset>,
    /// Why.
    pub reason: String,
    /// Ask every site to answer again.
    pub reanswer: bool,
    /// The time of the request: the new start must be after it.
    pub now: DateTime<Utc>,
}

/// Decides a reschedule of `conference`, which is `Scheduled` or `Invited` (`status`).
///
/// # Errors
/// `invalid` for a time or reason a person must fix, `unavailable` for an incomplete record.
pub fn decide(
    conference: &Conference,
    id: &ConferenceId,
    status: ConferenceStatus,
    request: Reschedule,
) -> Result<SchedulingEvent, ApiError> {
    let Reschedule { starts_at, ends_at, reason, reanswer, now } = request;
    let Some(details) = conference.details.as_ref() else {
        return Err(ApiError::unavailable(format!("the record of conference {id} is incomplete")));
    };
    let reason = input::text("reason", &reason, MAX_TEXT_CHARS, true)?;
    if ends_at <= starts_at {
        return Err(ApiError::invalid(format!(
            "ends_at ({}) must be after starts_at ({})",
            ends_at.to_rfc3339(),
            starts_at.to_rfc3339()
        )));
    }
    if ends_at - starts_at > chrono::Duration::hours(MAX_DURATION_HOURS) {
        return Err(ApiError::invalid(format!("a conference may last at most {MAX_DURATION_HOURS} hours")));
    }
    if starts_at <= now {
        let now = now.with_timezone(starts_at.offset());
        return Err(ApiError::invalid(format!(
            "the new start {} is not in the future (it is now {}); choose a later time",
            starts_at.to_rfc3339(),
            now.format("%Y-%m-%dT%H:%M:%S%:z")
        )));
    }
    if starts_at == details.starts_at && ends_at == details.ends_at {
        return Err(ApiError::invalid(format!(
            "conference {id} is already scheduled from {} to {}; give a different time",
            starts_at.to_rfc3339(),
            ends_at.to_rfc3339()
        )));
    }
    let was_invited = status == ConferenceStatus::Invited;
    Ok(SchedulingEvent::ConferenceRescheduled {
        starts_at,
        ends_at,
        reason,
        sequence: if was_invited { conference.schedule_sequence + 1 } else { conference.schedule_sequence },
        reanswer: reanswer && was_invited,
        was_invited,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::Duration;
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::events::{AgendaItem, ApprovalPolicy, Chair, ConferenceDetails, SiteRef};
    use hoinghi_shared::{ErrorCode, SiteId};

    use super::*;
    use crate::conference::ConferenceCommand;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn details() -> ConferenceDetails {
        ConferenceDetails {
            title: "Hội nghị sơ kết công tác dân vận".into(),
            organizer: "Tỉnh ủy Bắc Kạn".into(),
            starts_at: at("2021-07-23T08:00:00+07:00"),
            ends_at: at("2021-07-23T11:30:00+07:00"),
            host_site: SiteRef { id: SiteId::parse("tinh-uy").unwrap(), name: "Tỉnh ủy Bắc Kạn".into() },
            sites: vec![SiteRef { id: SiteId::parse("ba-be").unwrap(), name: "Huyện ủy Ba Bể".into() }],
            chairs: vec![Chair { name: "Phương Thị Thanh".into(), title: "Phó Bí thư".into(), person_id: None }],
            minute_takers: vec![],
            guests: vec![],
            agenda: vec![AgendaItem { title: "Báo cáo sơ kết".into() }],
            approval_policy: ApprovalPolicy::Any,
            reminder_offsets_s: None,
            quorum: None,
        }
    }

    /// The day before the conference, at noon.
    fn now() -> DateTime<Utc> {
        at("2021-07-22T12:00:00+07:00").with_timezone(&Utc)
    }

    fn scheduled() -> SchedulingEvent {
        SchedulingEvent::ConferenceScheduled { details: details() }
    }

    fn invited() -> SchedulingEvent {
        SchedulingEvent::InvitationsIssued { details: details() }
    }

    /// Moved by `hours` because of the storm.
    fn move_by(hours: i64, reanswer: bool) -> ConferenceCommand {
        let d = details();
        ConferenceCommand::Reschedule(Box::new(Reschedule {
            starts_at: d.starts_at + Duration::hours(hours),
            ends_at: d.ends_at + Duration::hours(hours),
            reason: "bão số 3".into(),
            reanswer,
            now: now(),
        }))
    }

    fn moved(hours: i64, sequence: u32, reanswer: bool) -> SchedulingEvent {
        let d = details();
        SchedulingEvent::ConferenceRescheduled {
            starts_at: d.starts_at + Duration::hours(hours),
            ends_at: d.ends_at + Duration::hours(hours),
            reason: "bão số 3".into(),
            sequence,
            reanswer,
            was_invited: true,
        }
    }

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    #[test]
    fn an_invited_conference_moves_and_its_sequence_grows_with_each_change() {
        let id = id();
        let c = given::<Conference>(id, [scheduled(), invited()]);
        assert_eq!(c.state().view(&id).unwrap().schedule_sequence, 0);
        c.when(move_by(1, false)).then(moved(1, 1, false));
        let c = c.and(moved(1, 1, false));
        let view = c.state().view(&id).unwrap();
        assert_eq!((view.schedule_sequence, view.starts_at), (1, at("2021-07-23T09:00:00+07:00")));
        assert_eq!(view.ends_at, at("2021-07-23T12:30:00+07:00"));
        // A second move, asking every site to answer again
        c.when(move_by(2, true)).then(moved(2, 2, true));
        let c = c.and(moved(2, 2, true));
        assert_eq!(c.state().view(&id).unwrap().schedule_sequence, 2);
        // The session then starts as usual
        c.when(ConferenceCommand::Start).then(SchedulingEvent::SessionStarted {});
    }

    #[test]
    fn a_conference_not_yet_invited_moves_without_a_new_sequence() {
        let id = id();
        let c = given::<Conference>(id, [scheduled()]);
        let d = details();
        let moved = SchedulingEvent::ConferenceRescheduled {
            starts_at: d.starts_at + Duration::hours(1),
            ends_at: d.ends_at + Duration::hours(1),
            reason: "bão số 3".into(),
            sequence: 0,
            reanswer: false,
            was_invited: false,
        };
        c.when(move_by(1, true)).then(moved.clone());
        let c = c.and(moved);
        // The invitations then carry the new time
        let mut invited_at = details();
        invited_at.starts_at = d.starts_at + Duration::hours(1);
        invited_at.ends_at = d.ends_at + Duration::hours(1);
        c.when(ConferenceCommand::Invite).then(SchedulingEvent::InvitationsIssued { details: invited_at });
        assert_eq!(c.state().view(&id).unwrap().schedule_sequence, 0);
    }

    #[test]
    fn a_conference_that_started_ended_or_was_cancelled_cannot_move() {
        let started = [scheduled(), invited(), SchedulingEvent::SessionStarted {}];
        given::<Conference>(id(), started.clone())
            .when(move_by(1, false))
            .then_refused(ErrorCode::Conflict, "in progress");
        let mut ended = started.to_vec();
        ended.push(SchedulingEvent::SessionEnded {});
        given::<Conference>(id(), ended.clone()).when(move_by(1, false)).then_refused(ErrorCode::Conflict, "ended");
        ended.push(SchedulingEvent::ConferenceClosed { minutes_sha256: "ab".into() });
        given::<Conference>(id(), ended).when(move_by(1, false)).then_refused(ErrorCode::Conflict, "closed");
        let cancelled = SchedulingEvent::ConferenceCancelled { reason: "bão".into(), was_invited: true };
        given::<Conference>(id(), [scheduled(), invited(), cancelled])
            .when(move_by(1, false))
            .then_refused(ErrorCode::Conflict, "cancelled");
        given::<Conference>(id(), []).when(move_by(1, false)).then_refused(ErrorCode::NotFound, "no conference");
    }

    #[test]
    fn a_bad_new_time_or_reason_is_refused_with_what_to_fix() {
        let c = given::<Conference>(id(), [scheduled(), invited()]);
        let request = |starts: &str, ends: &str, reason: &str| {
            ConferenceCommand::Reschedule(Box::new(Reschedule {
                starts_at: at(starts),
                ends_at: at(ends),
                reason: reason.into(),
                reanswer: false,
                now: now(),
            }))
        };
        let cases = [
            (request("2021-07-22T08:00:00+07:00", "2021-07-22T11:00:00+07:00", "bão"), "not in the future"),
            (request("2021-07-23T09:00:00+07:00", "2021-07-23T09:00:00+07:00", "bão"), "must be after"),
            (request("2021-07-23T09:00:00+07:00", "2021-07-23T08:00:00+07:00", "bão"), "must be after"),
            (request("2021-07-23T08:00:00+07:00", "2021-07-23T11:30:00+07:00", "bão"), "already scheduled"),
            (request("2021-07-23T09:00:00+07:00", "2021-07-23T12:00:00+07:00", " "), "reason"),
            (request("2021-07-23T09:00:00+07:00", "2021-08-23T12:00:00+07:00", "bão"), "at most"),
        ];
        for (command, hint) in cases {
            c.when(command).then_refused(ErrorCode::Invalid, hint);
        }
    }
}
