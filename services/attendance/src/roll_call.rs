//! The roll call (điểm danh) during the session: the secretariat calls each bridge and records it
//! present, with the number of people in the room, or absent, with a reason. It complements the
//! site's own check-in: both are on the site's line of the roster; a later roll call of a bridge
//! replaces its earlier one, and every one stays in the log.
//!
//! One aggregate per bridge, [`SiteRollCall`] (`…events.attendance.<conference>.<site>.roll_called`).
//! The [`Roster`] admits the secretariat's command first ([`Roster::decide_roll_call`]): the roster is
//! opened, the site is one of its bridges, the session has started (the technical check was closed
//! by `session_started`) and not ended ([`Roster::in_session`], shared with the floor). Like every
//! site event, a roll call decided before the roster closed and appended after it has no effect,
//! and the secretariat is told so.
//!
//! Whether a bridge is **present** ([`Roster::bridge_presence`]): its latest roll call if it has one;
//! else whether it is connected now by live presence ([`Roster::presence_now`], the hook for the
//! heartbeat-driven presence); else whether it checked in.

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{decide, own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::input;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::RollCallLine;
use hoinghi_shared::events::{AttendanceEvent, DomainEvent};
use hoinghi_shared::limits::{MAX_HEADCOUNT, MAX_ROLL_CALL_REASON_CHARS};
use hoinghi_shared::presence::PresenceState;
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::roster::{no_roster, Roster};
use crate::SERVICE;

/// The latest roll call of a bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Present, or absent.
    pub present: bool,
    /// People in the room, when present.
    pub people: Option<u32>,
    /// Why it is absent.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One bridge's roll calls: the aggregate, identified by the conference and the site. `Default` is a
/// bridge whose roll was never called.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteRollCall {
    /// Its latest roll call (it replaces the ones before).
    pub latest: Option<Call>,
    /// How many roll calls took effect.
    pub calls: u32,
    /// Stream sequence of its last roll call (0: none).
    pub last_seq: u64,
}

/// The secretariat's roll call of one bridge, as requested (unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollCallCommand {
    /// Present, or absent.
    pub present: bool,
    /// People in the room (required when present).
    pub people: Option<u32>,
    /// Why it is absent (required when absent).
    pub reason: Option<String>,
}

impl Aggregate for SiteRollCall {
    type Id = (ConferenceId, SiteId);
    type Event = AttendanceEvent;
    type Command = RollCallCommand;

    /// Present needs the number of people in the room (1 to [`MAX_HEADCOUNT`]) and no reason;
    /// absent needs a reason and no number. The same roll call as the latest changes nothing.
    ///
    /// # Errors
    /// `invalid` naming the field.
    fn handle(
        &self,
        _id: &(ConferenceId, SiteId),
        command: RollCallCommand,
    ) -> Result<Option<AttendanceEvent>, ApiError> {
        let RollCallCommand { present, people, reason } = command;
        let (people, reason) = if present {
            if reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
                return Err(ApiError::invalid("reason is for a bridge absent; a bridge present gives people"));
            }
            match people {
                Some(n) if (1..=MAX_HEADCOUNT).contains(&n) => (Some(n), None),
                Some(n) => {
                    return Err(ApiError::invalid(format!(
                        "people must be between 1 and {MAX_HEADCOUNT} (the people in the bridge's room), not {n}"
                    )))
                }
                None => {
                    return Err(ApiError::invalid(
                        "people is required for a bridge present: the number of people in its room",
                    ))
                }
            }
        } else {
            if people.is_some() {
                return Err(ApiError::invalid("people is for a bridge present; a bridge absent gives a reason"));
            }
            let reason =
                input::text("reason", reason.as_deref().unwrap_or_default(), MAX_ROLL_CALL_REASON_CHARS, true)?;
            (None, Some(reason))
        };
        if self.latest.as_ref().is_some_and(|c| c.present == present && c.people == people && c.reason == reason) {
            return Ok(None);
        }
        Ok(Some(AttendanceEvent::RollCalled { present, people, reason }))
    }

    /// Records a roll call (the roster hands it over only while it is open).
    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        if let AttendanceEvent::RollCalled { present, people, reason } = event {
            self.latest =
                Some(Call { present: *present, people: *people, reason: reason.clone(), at: meta.occurred_at });
            self.calls += 1;
        }
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.attendance.<conference>.<site>.roll_called`, on the condition that the
    /// bridge's roll was not called since it was read.
    fn address(&self, (conference, site): &(ConferenceId, SiteId), event: &AttendanceEvent) -> Address {
        let subject = events::conference_site(SERVICE, conference, site, event.event_type());
        Address::of_site(subject.clone(), own_subjects(subject, self.last_seq), conference, site)
    }
}

/// What live presence says of a bridge now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Its endpoint is connected (heartbeats arrive).
    Connected,
    /// It dropped, or never connected while presence was kept.
    NotConnected,
    /// Presence is not known for it (no presence state is kept): the check-in counts instead.
    Unknown,
}

/// Why a bridge counts as present or absent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Its latest roll call.
    RollCall,
    /// Live presence.
    Presence,
    /// Its own check-in (or the lack of one).
    CheckIn,
}

/// A bridge present or not, why, and how many people it counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgePresence {
    /// Present now.
    pub present: bool,
    /// What decided it.
    pub source: Source,
    /// The delegates it counts for when present: the people its roll call counted, else its
    /// confirmed headcount (0 without a confirmation).
    pub people: u64,
}

/// The conference's session: the bridges' roll calls and the quorum recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// Roll calls by bridge.
    pub roll_calls: Map<SiteId, SiteRollCall>,
    /// The quorum recorded at the start of the session and of the agenda items.
    pub quorum: crate::quorum::QuorumLog,
}

impl Session {
    /// Records the session's events: a bridge's roll call (`meta.site_id`) and the quorum recorded.
    /// The roster hands them over only while it is open.
    pub fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        match (event, &meta.site_id) {
            (AttendanceEvent::RollCalled { .. }, Some(site)) => {
                self.roll_calls.entry(site.clone()).or_default().apply(event, meta);
            }
            (AttendanceEvent::QuorumRecorded { .. }, None) => self.quorum.apply(event, meta),
            _ => {}
        }
    }

    /// The bridge's roll-call aggregate (one never called: `Default`).
    pub fn roll_call(&self, site: &SiteId) -> SiteRollCall {
        self.roll_calls.get(site).cloned().unwrap_or_default()
    }

    /// The latest roll call of `site`, for its line of the roster.
    pub fn line(&self, site: &SiteId) -> Option<RollCallLine> {
        let r = self.roll_calls.get(site)?;
        let c = r.latest.as_ref()?;
        Some(RollCallLine { present: c.present, people: c.people, reason: c.reason.clone(), at: c.at, calls: r.calls })
    }
}

/// The 409 of a roll call outside the session.
fn not_in_session(id: &ConferenceId) -> ApiError {
    ApiError::conflict(format!(
        "the session of conference {id} has not started: the roll is called during the session (after `start`, \
         before `end`)"
    ))
}

impl Roster {
    /// **Presence hook.** What live presence (heartbeats turned into `site_connected` /
    /// `site_dropped` / `site_rejoined` transitions, [`crate::presence`]) says of `site` now:
    /// connected, dropped, or unknown for a bridge never heard (its endpoint sends no heartbeat, or
    /// presence is not kept), whose check-in then counts instead.
    pub fn presence_now(&self, site: &SiteId) -> Presence {
        match self.presence.sites.get(site).map(crate::presence::SitePresence::state) {
            Some(PresenceState::Connected) => Presence::Connected,
            Some(PresenceState::Dropped) => Presence::NotConnected,
            Some(PresenceState::NeverConnected) | None => Presence::Unknown,
        }
    }

    /// Whether `site` is present now: its latest roll call, else live presence, else its check-in.
    pub fn bridge_presence(&self, site: &SiteId) -> BridgePresence {
        let headcount = self.sites.get(site).map_or(0, |e| match &e.answer {
            crate::roster::Answer::Confirmed { headcount, .. } => u64::from(*headcount),
            _ => 0,
        });
        if let Some(call) = self.session.roll_calls.get(site).and_then(|r| r.latest.as_ref()) {
            let people = if call.present { call.people.map_or(headcount, u64::from) } else { 0 };
            return BridgePresence { present: call.present, source: Source::RollCall, people };
        }
        let (present, source) = match self.presence_now(site) {
            Presence::Connected => (true, Source::Presence),
            Presence::NotConnected => (false, Source::Presence),
            Presence::Unknown => (self.sites.get(site).is_some_and(|e| e.checked_in_at.is_some()), Source::CheckIn),
        };
        BridgePresence { present, source, people: if present { headcount } else { 0 } }
    }

    /// Decides the secretariat's roll call of `site`: the roster admits it (opened, the site one of
    /// its bridges, the session in progress), then the bridge's roll call decides it.
    ///
    /// # Errors
    /// `not_found` for a roster never opened or a site that is not one of its bridges; `conflict`
    /// before the start or once the session ended (or the conference was cancelled); `invalid`
    /// content.
    pub fn decide_roll_call(
        &self,
        id: &ConferenceId,
        site: &SiteId,
        command: RollCallCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if !self.is_opened() {
            return Err(no_roster(id));
        }
        if !self.sites.contains_key(site) {
            return Err(ApiError::not_found(format!(
                "site {site} is not a bridge of conference {id}: it was not invited"
            )));
        }
        self.ensure_open(id)?;
        if !self.in_session() {
            return Err(not_in_session(id));
        }
        decide(&self.session.roll_call(site), &(*id, site.clone()), command)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{details, opened, site, Log};
    use hoinghi_runtime::testing::{given, Then};
    use hoinghi_shared::ErrorCode;

    fn present(people: u32) -> RollCallCommand {
        RollCallCommand { present: true, people: Some(people), reason: None }
    }

    fn absent(reason: &str) -> RollCallCommand {
        RollCallCommand { present: false, people: None, reason: Some(reason.into()) }
    }

    fn called(people: u32) -> AttendanceEvent {
        AttendanceEvent::RollCalled { present: true, people: Some(people), reason: None }
    }

    fn called_absent(reason: &str) -> AttendanceEvent {
        AttendanceEvent::RollCalled { present: false, people: None, reason: Some(reason.into()) }
    }

    fn started() -> Log {
        opened(details()).roster(AttendanceEvent::TechnicalCheckClosed {})
    }

    fn when_called(log: &Log, site_id: &str, command: RollCallCommand) -> Then<AttendanceEvent> {
        Then { decision: log.roster_state().decide_roll_call(&log.id, &site(site_id), command) }
    }

    #[test]
    fn a_bridge_is_called_present_with_its_people_or_absent_with_a_reason() {
        let log = started();
        let append = when_called(&log, "ba-be", present(12)).then(called(12));
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{}.ba-be.roll_called", log.id));
        assert_eq!(append.expect.last_seq, 0);
        when_called(&log, "na-ri", absent(" mất điện ")).then(called_absent("mất điện"));
    }

    #[test]
    fn bad_roll_calls_are_refused() {
        let log = started();
        for (command, hint) in [
            (RollCallCommand { present: true, people: None, reason: None }, "people is required"),
            (present(0), "between 1 and"),
            (present(MAX_HEADCOUNT + 1), "between 1 and"),
            (RollCallCommand { present: true, people: Some(3), reason: Some("x".into()) }, "reason is for"),
            (RollCallCommand { present: false, people: None, reason: None }, "reason"),
            (absent("   "), "reason"),
            (absent(&"x".repeat(MAX_ROLL_CALL_REASON_CHARS + 1)), "reason"),
            (RollCallCommand { present: false, people: Some(2), reason: Some("x".into()) }, "people is for"),
        ] {
            when_called(&log, "ba-be", command).then_refused(ErrorCode::Invalid, hint);
        }
    }

    #[test]
    fn the_roll_is_called_only_during_the_session_and_only_for_the_bridges() {
        let before = opened(details());
        when_called(&before, "ba-be", present(3)).then_refused(ErrorCode::Conflict, "has not started");
        let log = started();
        when_called(&log, "cho-don", present(3)).then_refused(ErrorCode::NotFound, "not a bridge");
        let ended = log.roster(AttendanceEvent::RosterClosed {
            details: details(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: None,
        });
        when_called(&ended, "ba-be", present(3)).then_refused(ErrorCode::Conflict, "has ended");
        let never = crate::roster::Roster::default();
        let id = ConferenceId::generate();
        assert_eq!(never.decide_roll_call(&id, &site("ba-be"), present(3)).unwrap_err().code, ErrorCode::NotFound);
    }

    #[test]
    fn a_later_roll_call_replaces_the_earlier_one_and_the_same_one_changes_nothing() {
        let entry = given::<SiteRollCall>((ConferenceId::generate(), site("ba-be")), [called(12)]);
        entry.when(present(12)).then_nothing();
        entry.when(present(10)).then(called(10));
        entry.when(absent("mất kết nối")).then(called_absent("mất kết nối"));
        let log = started().site("ba-be", called(12)).site("ba-be", called_absent("mất kết nối"));
        let line = log.roster_state().site_view(log.id, &site("ba-be")).unwrap().roll_call.unwrap();
        assert_eq!(
            (line.present, line.people, line.reason.as_deref(), line.calls),
            (false, None, Some("mất kết nối"), 2)
        );
        // The roll call counts in the site's sequence, so its own answers are decided on it
        assert_eq!(log.entry("ba-be").last_seq, 4);
    }

    #[test]
    fn a_bridge_is_present_by_its_roll_call_else_by_presence_else_by_its_check_in() {
        let confirmed =
            AttendanceEvent::AttendanceConfirmed { delegates: vec![crate::testing::delegate().into()], headcount: 5 };
        let log = started()
            .site("ba-be", confirmed.clone())
            .site("ba-be", AttendanceEvent::SiteCheckedIn {})
            .site("na-ri", confirmed)
            .site("na-ri", AttendanceEvent::SiteCheckedIn {})
            .site("na-ri", called_absent("mất kết nối"))
            .site("pac-nam", called(7));
        let roster = log.roster_state();
        let p = |s: &str| roster.bridge_presence(&site(s));
        assert_eq!(p("ba-be"), BridgePresence { present: true, source: Source::CheckIn, people: 5 });
        assert_eq!(p("na-ri"), BridgePresence { present: false, source: Source::RollCall, people: 0 });
        assert_eq!(p("pac-nam"), BridgePresence { present: true, source: Source::RollCall, people: 7 });
        assert_eq!(roster.presence_now(&site("ba-be")), Presence::Unknown, "never heard: its check-in counts");
        // Ba Bể's endpoint is heard, then drops: live presence decides over its check-in
        let at = crate::testing::at(20);
        let log = log.site("ba-be", AttendanceEvent::SiteConnected { at });
        let p = log.roster_state().bridge_presence(&site("ba-be"));
        assert_eq!(p, BridgePresence { present: true, source: Source::Presence, people: 5 });
        let log = log.site("ba-be", AttendanceEvent::SiteDropped { last_heard_at: at });
        assert_eq!(log.roster_state().presence_now(&site("ba-be")), Presence::NotConnected);
        let p = log.roster_state().bridge_presence(&site("ba-be"));
        assert_eq!(p, BridgePresence { present: false, source: Source::Presence, people: 0 });
        // and a roll call decides over both
        let log = log.site("ba-be", called(4));
        assert_eq!(log.roster_state().bridge_presence(&site("ba-be")).source, Source::RollCall);
    }

    #[test]
    fn a_roll_call_after_the_roster_closed_has_no_effect() {
        let log = started()
            .roster(AttendanceEvent::RosterClosed {
                details: details(),
                attendance: vec![],
                quorum: vec![],
                speakers: vec![],
                record: None,
            })
            .site("ba-be", called(3));
        assert!(!log.roster_state().session.roll_calls.contains_key(&site("ba-be")));
        assert!(!log.roster_state().took_effect(3));
    }
}
