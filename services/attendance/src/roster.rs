//! The attendance aggregates of one conference.
//!
//! The unit of consistency is the site, not the conference: each site's answers are one aggregate,
//! [`SiteEntry`] (subject `hoinghi.v1.events.attendance.<conference>.<site>.*`), so twenty thousand
//! sites answering at once never queue behind each other. The roster itself (opened, closed,
//! cancelled) is another aggregate, [`Roster`] (`hoinghi.v1.events.attendance.<conference>.*`), which
//! holds its sites' entries: it admits a site's command (the site is invited, the roster open) before
//! the site's entry decides it ([`Roster::decide_site`]), and hands each site event to the entry.
//!
//! **The fence.** Closing or cancelling the roster is appended on the condition that nothing was
//! written anywhere in the conference since it was read (filter
//! `hoinghi.v1.events.attendance.<conference>.>` at the last sequence of any of its events, see
//! [`Roster`]'s `address`), so the record it carries is complete; a site event that still lands after
//! it has no effect (the roster's `apply` does not hand it to the entry) and its sender is told so
//! ([`Roster::took_effect`]).

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{decide, fence, own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::input;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::{self, Roster as RosterView, RosterCounts, RosterState, SiteAttendance};
use hoinghi_shared::events::{
    AttendanceEntry, AttendanceEvent, AttendanceStatus, ConferenceDetails, DomainEvent, Person, SiteRef,
};
use hoinghi_shared::limits::{
    confirmation_cost, decline_cost, describe_size, shrink_page_to_fit, site_answer_budget, MAX_HEADCOUNT,
    MAX_NAME_CHARS, MAX_PEOPLE, MAX_PERSON_TITLE_CHARS, MAX_TEXT_CHARS, PERSON_OVERHEAD, RECORD_VARIABLE_BUDGET,
    REPLY_BUDGET,
};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::SERVICE;

/// A site's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Answer {
    /// None yet.
    #[default]
    None,
    /// Attending.
    Confirmed {
        /// Named delegates.
        delegates: Vec<Person>,
        /// Headcount.
        headcount: u32,
    },
    /// Not attending.
    Declined {
        /// Why.
        reason: String,
    },
}

/// One invited site's attendance: the aggregate of the site's answers in a conference, identified
/// by the conference and the site. `Default` is a site that has not answered (its name comes from
/// the roster's opening).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteEntry {
    /// Its name.
    pub name: String,
    /// Its answer.
    pub answer: Answer,
    /// When it last answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The roster's current schedule sequence (kept here so the entry decides and records alone).
    pub schedule_sequence: u32,
    /// The schedule sequence its current answer was given under.
    pub answer_sequence: Option<u32>,
    /// The last schedule sequence it has seen (answering, checking in, `schedule_seen`).
    pub seen_sequence: Option<u32>,
    /// The answer cleared when every site was asked to answer again.
    pub previous: Option<crate::schedule::Cleared>,
    /// Stream sequence of the last event on its subject (0: none).
    pub last_seq: u64,
}

/// A command from a site, with the content of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteCommand {
    /// Will attend.
    Confirm {
        /// Named delegates, as requested (unchecked).
        delegates: Vec<api::Person>,
        /// Headcount (unchecked).
        headcount: u32,
    },
    /// Will not attend.
    Decline {
        /// Why (unchecked).
        reason: String,
    },
    /// Is present.
    CheckIn,
    /// Has seen the schedule with this sequence.
    SeeSchedule {
        /// The sequence it saw (unchecked).
        sequence: u32,
    },
}

/// A site's command as the roster admits it: with the number of sites it invited, which share the
/// attendance record's budget for answers equally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// What the site asks.
    pub command: SiteCommand,
    /// How many sites the roster invited.
    pub invited: usize,
}

impl SiteEntry {
    /// The status shown on the roster and recorded in the attendance record.
    pub fn status(&self) -> AttendanceStatus {
        match (&self.checked_in_at, &self.answer) {
            (Some(_), _) => AttendanceStatus::CheckedIn,
            (None, Answer::Confirmed { .. }) => AttendanceStatus::Confirmed,
            (None, Answer::Declined { .. }) => AttendanceStatus::Declined,
            (None, Answer::None) => AttendanceStatus::Invited,
        }
    }

    fn view(&self, conference_id: ConferenceId, site_id: &SiteId) -> SiteAttendance {
        let (delegates, headcount, decline_reason) = match &self.answer {
            Answer::Confirmed { delegates, headcount } => {
                (delegates.iter().map(api::Person::from).collect(), *headcount, None)
            }
            Answer::Declined { reason } => (vec![], 0, Some(reason.clone())),
            Answer::None => (vec![], 0, None),
        };
        SiteAttendance {
            conference_id,
            site_id: site_id.clone(),
            site_name: self.name.clone(),
            status: self.status().into(),
            delegates,
            headcount,
            decline_reason,
            answered_at: self.answered_at,
            checked_in_at: self.checked_in_at,
            answer_sequence: self.answer_sequence,
            answered_before_change: self.answered_before_change(),
            seen_sequence: self.seen_sequence,
            seen_current_schedule: self.has_seen_current_schedule(),
            previous_answer: self.previous.as_ref().map(crate::schedule::Cleared::view),
            technical_check: None,
            technical_check_failed: vec![],
            roll_call: None,
            presence: None,
        }
    }

    fn record(&self, site_id: &SiteId) -> AttendanceEntry {
        let (delegates, headcount, decline_reason) = match &self.answer {
            Answer::Confirmed { delegates, headcount } => (delegates.clone(), *headcount, None),
            Answer::Declined { reason } => (vec![], 0, Some(reason.clone())),
            Answer::None => (vec![], 0, None),
        };
        AttendanceEntry {
            site_id: site_id.clone(),
            site_name: self.name.clone(),
            status: self.status(),
            confirmed: matches!(self.answer, Answer::Confirmed { .. }),
            delegates,
            headcount,
            decline_reason,
            checked_in_at: self.checked_in_at,
            technical_check: None,
            technical_check_failed: vec![],
            presence: None,
        }
    }
}

impl Aggregate for SiteEntry {
    type Id = (ConferenceId, SiteId);
    type Event = AttendanceEvent;
    type Command = Admitted;

    /// Decides a command the roster admitted ([`Roster::decide_site`]: the site is invited and the
    /// roster open), the `invited` sites sharing the record's budget for answers.
    ///
    /// # Errors
    /// `invalid` for bad content or an answer larger than the site's share of the record,
    /// `conflict` for declining after checking in.
    fn handle(&self, _id: &(ConferenceId, SiteId), admitted: Admitted) -> Result<Option<AttendanceEvent>, ApiError> {
        let Admitted { command, invited } = admitted;
        match command {
            SiteCommand::Confirm { delegates, headcount } => {
                input::list_len("delegates", &delegates, 1, MAX_PEOPLE)?;
                let delegates = delegates
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        Ok(Person {
                            name: input::text(&format!("delegates[{i}].name"), &p.name, MAX_NAME_CHARS, true)?,
                            title: input::text(
                                &format!("delegates[{i}].title"),
                                &p.title,
                                MAX_PERSON_TITLE_CHARS,
                                false,
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                if headcount == 0 || headcount > MAX_HEADCOUNT {
                    return Err(ApiError::invalid(format!("headcount must be between 1 and {MAX_HEADCOUNT}")));
                }
                if (headcount as usize) < delegates.len() {
                    return Err(ApiError::invalid(format!(
                        "headcount {headcount} is less than the {} named delegates",
                        delegates.len()
                    )));
                }
                let cost = confirmation_cost(&delegates);
                if cost > site_answer_budget(invited) {
                    return Err(over_share(
                        &format!(
                            "this confirmation's {} delegates take {} ({} each plus their names and titles; \
                             {COUNTED})",
                            delegates.len(),
                            describe_size(cost),
                            describe_size(PERSON_OVERHEAD)
                        ),
                        invited,
                        "name fewer delegates (the headcount counts everyone present, named or not) or shorten \
                         their names and titles",
                    ));
                }
                if let Answer::Confirmed { delegates: d, headcount: h } = &self.answer {
                    if *d == delegates && *h == headcount {
                        return Ok(None);
                    }
                }
                Ok(Some(AttendanceEvent::AttendanceConfirmed { delegates, headcount }))
            }
            SiteCommand::Decline { reason } => {
                let reason = input::text("reason", &reason, MAX_TEXT_CHARS, true)?;
                let cost = decline_cost(&reason);
                if cost > site_answer_budget(invited) {
                    return Err(over_share(
                        &format!("this refusal's reason takes {} ({COUNTED})", describe_size(cost)),
                        invited,
                        "shorten the reason",
                    ));
                }
                if self.checked_in_at.is_some() {
                    return Err(ApiError::conflict("the site has already checked in; it cannot decline now"));
                }
                if matches!(&self.answer, Answer::Declined { reason: r } if *r == reason) {
                    return Ok(None);
                }
                Ok(Some(AttendanceEvent::AttendanceDeclined { reason }))
            }
            SiteCommand::CheckIn => {
                if self.checked_in_at.is_some() {
                    return Ok(None);
                }
                Ok(Some(AttendanceEvent::SiteCheckedIn {}))
            }
            SiteCommand::SeeSchedule { sequence } => self.see_schedule(sequence),
        }
    }

    /// Records one of its events (the roster hands it over only while it is open).
    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        let at = meta.occurred_at;
        match event {
            AttendanceEvent::AttendanceConfirmed { delegates, headcount } => {
                self.answer = Answer::Confirmed { delegates: delegates.clone(), headcount: *headcount };
                self.answered_at = Some(at);
                self.answer_sequence = Some(self.schedule_sequence);
                self.saw(self.schedule_sequence);
            }
            AttendanceEvent::AttendanceDeclined { reason } => {
                self.answer = Answer::Declined { reason: reason.clone() };
                self.answered_at = Some(at);
                self.answer_sequence = Some(self.schedule_sequence);
                self.saw(self.schedule_sequence);
            }
            AttendanceEvent::SiteCheckedIn {} => {
                self.checked_in_at.get_or_insert(at);
                self.saw(self.schedule_sequence);
            }
            AttendanceEvent::ScheduleSeen { sequence } => self.saw(*sequence),
            _ => {}
        }
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.attendance.<conference>.<site>.<type>`, on the condition that nothing was
    /// written on the site's subjects in the conference since it was read.
    fn address(&self, (conference, site): &(ConferenceId, SiteId), event: &AttendanceEvent) -> Address {
        Address::of_site(
            events::conference_site(SERVICE, conference, site, event.event_type()),
            own_subjects(events::conference_site_filter(SERVICE, conference, site), self.last_seq),
            conference,
            site,
        )
    }
}

/// How answers are counted, for the refusals.
const COUNTED: &str = "punctuation counts 6 bytes, other characters their UTF-8 bytes";

/// The refusal of an answer larger than a site's share of the attendance record.
fn over_share(what: &str, invited: usize, fix: &str) -> ApiError {
    ApiError::invalid(format!(
        "{what} of the attendance record; the record holds {} of answers shared equally by the conference's {invited} \
         invited sites, so one site's answer may take at most {}: {fix}",
        describe_size(RECORD_VARIABLE_BUDGET),
        describe_size(site_answer_budget(invited)),
    ))
}

/// A command on the roster, from the scheduling service's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterCommand {
    /// Invitations were issued.
    Open(Box<ConferenceDetails>),
    /// The session ended.
    Close,
    /// The conference was cancelled.
    Cancel {
        /// Why.
        reason: String,
    },
    /// The conference was moved (from `conference_rescheduled`).
    Reschedule(Box<crate::schedule::Moved>),
}

/// The 404 of a roster that does not exist (yet) for a site or the secretariat.
pub fn no_roster(id: &ConferenceId) -> ApiError {
    ApiError::not_found(format!(
        "no roster for conference {id}: it does not exist or its invitations have not been issued yet"
    ))
}

/// The roster of one conference. `Default` is a roster never opened (the conference's invitations
/// have not been processed yet): no details, no state, no sites.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    /// The conference as invited (`None` until opened).
    pub details: Option<ConferenceDetails>,
    /// Open, closed or cancelled (`None` until opened).
    pub state: Option<RosterState>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The schedule sequence (0 as invited, +1 with each reschedule).
    pub schedule_sequence: u32,
    /// The latest reschedule's reason and whether it asked every site to answer again.
    pub rescheduled: Option<(String, bool)>,
    /// Sequence of the close or cancel event: site events after it have no effect.
    pub sealed_at: Option<u64>,
    /// Invited sites.
    pub sites: Map<SiteId, SiteEntry>,
    /// Last sequence on the roster's own subjects (0: none).
    pub last_seq: u64,
    /// Last sequence of any attendance event of this conference, the roster's or a site's (0: none).
    pub last_seq_any: u64,
    /// The conference's technical check (see [`crate::technical_check`]).
    pub technical_check: crate::technical_check::TechnicalCheck,
    /// The bridges' live presence during the session (see [`crate::presence`]).
    pub presence: crate::presence::Presence,
    /// The session's roll calls and recorded quorum (see [`crate::roll_call`], [`crate::quorum`]).
    pub session: crate::roll_call::Session,
    /// The agenda's current item and the floor (see [`crate::floor`]).
    pub floor: crate::floor::Floor,
}

impl Roster {
    /// Whether the roster was opened.
    pub fn is_opened(&self) -> bool {
        self.state.is_some()
    }

    /// The invited sites, in invitation order (none until opened).
    pub fn invited(&self) -> &[SiteRef] {
        self.details.as_ref().map_or(&[], |d| &d.sites)
    }

    /// Decides a site's command: the roster admits it (it is open and invited the site), then the
    /// site's own entry decides it and addresses its event on the site's subjects.
    ///
    /// # Errors
    /// `not_found` for a roster never opened, `forbidden` for a site not invited, `conflict` once the
    /// roster is closed or cancelled, and the site entry's refusals.
    pub fn decide_site(
        &self,
        id: &ConferenceId,
        site: &SiteId,
        command: SiteCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if !self.is_opened() {
            return Err(no_roster(id));
        }
        let entry = self
            .sites
            .get(site)
            .ok_or_else(|| ApiError::forbidden(format!("site {site} is not invited to conference {id}")))?;
        self.ensure_open(id)?;
        decide(entry, &(*id, site.clone()), Admitted { command, invited: self.invited().len() })
    }

    /// Refuses unless the roster still takes answers.
    ///
    /// # Errors
    /// `conflict` naming why; `not_found` for a roster never opened.
    pub fn ensure_open(&self, id: &ConferenceId) -> Result<(), ApiError> {
        match self.state {
            Some(RosterState::Open) => Ok(()),
            Some(RosterState::Closed) => Err(ApiError::conflict(format!(
                "the session of conference {id} has ended; attendance can no longer change"
            ))),
            Some(RosterState::Cancelled) => Err(ApiError::conflict(format!(
                "conference {id} was cancelled ({}); nothing more can be confirmed for it",
                self.cancel_reason.as_deref().unwrap_or("no reason given")
            ))),
            None => Err(no_roster(id)),
        }
    }

    /// Whether an event at `seq` took effect (it did unless the roster was sealed before it).
    pub fn took_effect(&self, seq: u64) -> bool {
        self.sealed_at.is_none_or(|sealed| seq < sealed)
    }

    /// One site's line.
    pub fn site_view(&self, id: ConferenceId, site: &SiteId) -> Option<SiteAttendance> {
        let (check, failed) = self.technical_check.outcome(site);
        self.sites.get(site).map(|e| SiteAttendance {
            technical_check: check.map(Into::into),
            technical_check_failed: failed.iter().map(|i| (*i).into()).collect(),
            roll_call: self.session.line(site),
            presence: self.presence_view(site, chrono::Utc::now()),
            ..e.view(id, site)
        })
    }

    /// The attendance record, in invitation order.
    pub fn records(&self) -> Vec<AttendanceEntry> {
        let with_check = |s: &SiteRef, e: &SiteEntry| {
            let (technical_check, technical_check_failed) = self.technical_check.outcome(&s.id);
            // An interval still open is closed now; the close on `session_ended` stamps the end time
            // instead (`stamp_presence`).
            let presence = self.presence.record(&s.id, self.invited().len(), chrono::Utc::now());
            AttendanceEntry { technical_check, technical_check_failed, presence, ..e.record(&s.id) }
        };
        self.invited().iter().filter_map(|s| self.sites.get(&s.id).map(|e| with_check(s, e))).collect()
    }

    /// The roster with the sites in `range` (of the invitation order), fewer if the reply would be
    /// larger than [`REPLY_BUDGET`]; `None` for a roster never opened.
    pub fn view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> Option<RosterView> {
        let state = self.state?;
        let offset = range.start;
        let page = self.invited().get(range).unwrap_or_default();
        let sites: Vec<SiteAttendance> = page.iter().filter_map(|s| self.site_view(id, &s.id)).collect();
        let mut counts = RosterCounts { invited: self.sites.len(), ..RosterCounts::default() };
        for entry in self.sites.values() {
            match entry.answer {
                Answer::Confirmed { .. } => counts.confirmed += 1,
                Answer::Declined { .. } => counts.declined += 1,
                Answer::None => counts.no_answer += 1,
            }
            if entry.checked_in_at.is_some() {
                counts.checked_in += 1;
            }
        }
        let mut view = RosterView {
            conference_id: id,
            state,
            counts,
            total_sites: self.invited().len(),
            offset,
            sites,
            schedule: self.schedule_view(),
        };
        // Within the budgets a page of 5,000 lines fits; this keeps a reply within the limit whatever
        // the log holds.
        shrink_page_to_fit(&mut view, |v| &mut v.sites, REPLY_BUDGET);
        Some(view)
    }
}

impl Aggregate for Roster {
    type Id = ConferenceId;
    type Event = AttendanceEvent;
    type Command = RosterCommand;

    /// Opening twice, or closing or cancelling a roster no longer open, changes nothing.
    ///
    /// # Errors
    /// Never for `Open`; `not_found` for closing or cancelling a roster never opened (the reaction
    /// retries until the opening is there).
    fn handle(&self, id: &ConferenceId, command: RosterCommand) -> Result<Option<AttendanceEvent>, ApiError> {
        let (Some(state), Some(details)) = (self.state, &self.details) else {
            return match command {
                RosterCommand::Open(details) => Ok(Some(AttendanceEvent::RosterOpened { details: *details })),
                RosterCommand::Close | RosterCommand::Cancel { .. } | RosterCommand::Reschedule(_) => {
                    Err(ApiError::not_found(format!("no roster for conference {id} yet")))
                }
            };
        };
        Ok(match (command, state) {
            (RosterCommand::Open(_), _) => None,
            (RosterCommand::Close, RosterState::Open) => Some(AttendanceEvent::RosterClosed {
                details: details.clone(),
                attendance: self.records(),
                quorum: self.session.quorum.snapshots.clone(),
                speakers: self.floor_speakers(),
                record: None,
            }),
            (RosterCommand::Cancel { reason }, RosterState::Open) => Some(AttendanceEvent::RosterCancelled { reason }),
            (RosterCommand::Close | RosterCommand::Cancel { .. }, RosterState::Closed | RosterState::Cancelled) => None,
            (RosterCommand::Reschedule(moved), RosterState::Open) => self.reschedule(*moved),
            (RosterCommand::Reschedule(_), RosterState::Closed | RosterState::Cancelled) => None,
        })
    }

    /// Records an event of the conference: the roster's own, or (`meta.site_id`) a site's, which
    /// goes to the site's entry while the roster is open and after the close or cancel only counts
    /// in the entry's sequence, without effect.
    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        self.last_seq_any = meta.seq;
        if crate::presence::is_presence(event) {
            // Its own aggregate (one token deeper than the site's answers): never the site's entry.
            self.presence.apply(event, meta, self.state == Some(RosterState::Open));
            return;
        }
        self.floor.apply(event, meta);
        if self.state == Some(RosterState::Open) {
            self.technical_check.apply(event, meta);
            self.session.apply(event, meta);
        }
        if let Some(site) = &meta.site_id {
            if let Some(entry) = self.sites.get_mut(site) {
                if self.state == Some(RosterState::Open) {
                    entry.apply(event, meta);
                } else {
                    entry.last_seq = meta.seq;
                }
            }
            return;
        }
        self.last_seq = meta.seq;
        match event {
            AttendanceEvent::RosterOpened { details } if !self.is_opened() => {
                self.sites = details
                    .sites
                    .iter()
                    .map(|s| (s.id.clone(), SiteEntry { name: s.name.clone(), ..SiteEntry::default() }))
                    .collect();
                self.details = Some(details.clone());
                self.state = Some(RosterState::Open);
            }
            AttendanceEvent::RosterOpened { .. } => {}
            _ if !self.is_opened() => {
                tracing::error!(seq = meta.seq, subject = %meta.subject, "attendance event before its roster opened ignored");
            }
            AttendanceEvent::RosterClosed { .. } => {
                self.state = Some(RosterState::Closed);
                self.sealed_at = Some(meta.seq);
            }
            AttendanceEvent::RosterCancelled { reason } => {
                self.state = Some(RosterState::Cancelled);
                self.cancel_reason = Some(reason.clone());
                self.sealed_at = Some(meta.seq);
            }
            AttendanceEvent::RosterRescheduled { starts_at, ends_at, reason, sequence, reanswer } => {
                self.apply_reschedule(*starts_at, *ends_at, reason, *sequence, *reanswer);
            }
            _ => {}
        }
    }

    /// `hoinghi.v1.events.attendance.<conference>.<type>`. Opening: on the condition that nothing
    /// was written on the roster's own subjects. Closing and cancelling: **the fence**, nothing
    /// written anywhere in the conference (`hoinghi.v1.events.attendance.<conference>.>`, the sites'
    /// subjects too) since the roster was read, so the record sealed is complete.
    fn address(&self, id: &ConferenceId, event: &AttendanceEvent) -> Address {
        let expect = match event {
            AttendanceEvent::RosterClosed { .. } | AttendanceEvent::RosterCancelled { .. } => {
                fence(events::conference_all(SERVICE, id), self.last_seq_any)
            }
            _ => own_subjects(events::conference_filter(SERVICE, id), self.last_seq),
        };
        Address {
            subject: events::conference(SERVICE, id, event.event_type()),
            expect,
            conference_id: Some(*id),
            site_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{at, delegate, details, details_of, opened, site};
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::ErrorCode;

    /// Site `id` of a new conference.
    fn key(id: &str) -> (ConferenceId, SiteId) {
        (ConferenceId::generate(), site(id))
    }

    /// `command` admitted by a roster that invited `invited` sites.
    fn among(invited: usize, command: SiteCommand) -> Admitted {
        Admitted { command, invited }
    }

    fn confirm(headcount: u32) -> SiteCommand {
        SiteCommand::Confirm { delegates: vec![delegate()], headcount }
    }

    fn confirmed(headcount: u32) -> AttendanceEvent {
        AttendanceEvent::AttendanceConfirmed { delegates: vec![delegate().into()], headcount }
    }

    fn checked_in() -> AttendanceEvent {
        AttendanceEvent::SiteCheckedIn {}
    }

    fn closed() -> AttendanceEvent {
        AttendanceEvent::RosterClosed {
            details: details(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: None,
        }
    }

    fn cancelled(reason: &str) -> AttendanceEvent {
        AttendanceEvent::RosterCancelled { reason: reason.into() }
    }

    // A site's entry, alone.

    #[test]
    fn an_invited_site_confirms_with_its_delegates() {
        given::<SiteEntry>(key("ba-be"), []).when(among(3, confirm(5))).then(confirmed(5));
        opened(details()).when_site("ba-be", confirm(5)).then(confirmed(5));
    }

    #[test]
    fn confirming_again_with_the_same_delegates_changes_nothing() {
        let entry = given::<SiteEntry>(key("ba-be"), [confirmed(5)]);
        entry.when(among(3, confirm(5))).then_nothing();
        entry.when(among(3, confirm(6))).then(confirmed(6));
    }

    #[test]
    fn bad_confirmations_are_refused() {
        let entry = given::<SiteEntry>(key("ba-be"), []);
        for (command, hint) in [
            (confirm(0), "headcount"),
            (SiteCommand::Confirm { delegates: vec![], headcount: 3 }, "delegates"),
            (SiteCommand::Confirm { delegates: vec![delegate(), delegate()], headcount: 1 }, "less than"),
            (confirm(MAX_HEADCOUNT + 1), "headcount"),
            (
                SiteCommand::Confirm {
                    delegates: vec![api::Person { name: " ".into(), title: String::new() }],
                    headcount: 1,
                },
                "delegates[0].name",
            ),
            (SiteCommand::Decline { reason: "".into() }, "reason"),
        ] {
            entry.when(among(3, command)).then_refused(ErrorCode::Invalid, hint);
        }
    }

    #[test]
    fn a_checked_in_site_cannot_decline_but_may_update_its_delegates() {
        let entry = given::<SiteEntry>(key("ba-be"), [confirmed(5), checked_in()]);
        entry
            .when(among(3, SiteCommand::Decline { reason: "x".into() }))
            .then_refused(ErrorCode::Conflict, "checked in");
        entry.when(among(3, confirm(7))).then(confirmed(7));
        entry.when(among(3, SiteCommand::CheckIn)).then_nothing();
        assert_eq!(entry.state().status(), AttendanceStatus::CheckedIn);
    }

    #[test]
    fn declining_twice_for_the_same_reason_changes_nothing() {
        let declined = AttendanceEvent::AttendanceDeclined { reason: "lũ quét".into() };
        let entry = given::<SiteEntry>(key("na-ri"), [declined.clone()]);
        entry.when(among(3, SiteCommand::Decline { reason: " lũ quét ".into() })).then_nothing();
        given::<SiteEntry>(key("na-ri"), [])
            .when(among(3, SiteCommand::Decline { reason: "lũ quét".into() }))
            .then(declined);
    }

    #[test]
    fn a_confirmation_larger_than_the_sites_share_is_refused_and_changes_nothing() {
        // Given 100 invited sites (each may answer with 16 MiB / 100 = 163.8 KiB)
        let entry = given::<SiteEntry>(key("site-0007"), []);
        // When one confirms 200 delegates with 200-emoji names and 500-emoji titles (551 KiB)
        let huge = api::Person { name: "😀".repeat(MAX_NAME_CHARS), title: "😀".repeat(MAX_PERSON_TITLE_CHARS) };
        let command = SiteCommand::Confirm { delegates: vec![huge; MAX_PEOPLE], headcount: 300 };
        // Then it is refused with the sizes and what to do, and no event is written
        let err = entry.when(among(100, command)).then_refused(ErrorCode::Invalid, "name fewer delegates");
        for hint in ["200 delegates take 551.4 KiB", "16 MiB", "100", "at most 163.8 KiB"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        assert_eq!(entry.state().answer, Answer::None);
    }

    #[test]
    fn an_answer_of_exactly_the_share_is_taken_and_one_byte_more_is_not() {
        // Given 620 invited sites: a share of 27,060 bytes
        let entry = given::<SiteEntry>(key("site-0001"), []);
        let share = site_answer_budget(620);
        assert_eq!(share, 27_060);
        // Delegates named `|` (6 bytes each as counted) and titled with emoji, up to the share
        let delegate = |title: usize| Person { name: "|".into(), title: "😀".repeat(title) };
        let per_delegate = PERSON_OVERHEAD + 6;
        let delegates = 100;
        let room = share - hoinghi_shared::limits::CONFIRMATION_OVERHEAD - delegates * per_delegate;
        let mut list: Vec<Person> = (0..delegates).map(|_| delegate(room / delegates / 4)).collect();
        let used = confirmation_cost(&list);
        // Fill the last bytes with plain letters in the first delegate's title.
        list[0].title.push_str(&"a".repeat(share - used));
        assert_eq!(confirmation_cost(&list), share);
        let requested = |list: &[Person]| list.iter().map(api::Person::from).collect();
        let exact = SiteCommand::Confirm { delegates: requested(&list), headcount: 100 };
        entry
            .when(among(620, exact))
            .then(AttendanceEvent::AttendanceConfirmed { delegates: list.clone(), headcount: 100 });
        list[0].title.push('a');
        let over = SiteCommand::Confirm { delegates: requested(&list), headcount: 100 };
        entry.when(among(620, over)).then_refused(ErrorCode::Invalid, "620 invited sites");
    }

    #[test]
    fn a_refusal_reason_larger_than_the_sites_share_is_refused() {
        // Given 330 invited sites: a share of 50,840 bytes
        let entry = given::<SiteEntry>(key("site-0100"), []);
        // When one declines with 20,000 `|` (120,000 bytes as counted)
        let err = entry
            .when(among(330, SiteCommand::Decline { reason: "|".repeat(MAX_TEXT_CHARS) }))
            .then_refused(ErrorCode::Invalid, "shorten the reason");
        // Then it is refused, naming the cost, the share and what to do
        for hint in ["117.2 KiB", "330 invited sites", "49.6 KiB"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        // And a reason that fills the share exactly is taken
        let share = site_answer_budget(330);
        let fits = "|".repeat((share - hoinghi_shared::limits::DECLINE_OVERHEAD) / 6);
        assert!(decline_cost(&fits) <= share);
        entry
            .when(among(330, SiteCommand::Decline { reason: fits.clone() }))
            .then(AttendanceEvent::AttendanceDeclined { reason: fits });
    }

    #[test]
    fn the_roster_admits_a_site_with_the_number_of_sites_it_invited() {
        // 330 invited sites: the share is the one of 330, as the entry alone decides it
        let reason = "|".repeat((site_answer_budget(330) - hoinghi_shared::limits::DECLINE_OVERHEAD) / 6 + 1);
        let log = opened(details_of(330));
        log.when_site("site-0100", SiteCommand::Decline { reason: reason.clone() })
            .then_refused(ErrorCode::Invalid, "330 invited sites");
        opened(details_of(3))
            .when_site("site-0001", SiteCommand::Decline { reason: reason.clone() })
            .then(AttendanceEvent::AttendanceDeclined { reason });
    }

    // The roster, and the roster with its sites.

    #[test]
    fn a_roster_opens_once() {
        let id = ConferenceId::generate();
        let open = || RosterCommand::Open(Box::new(details()));
        given::<Roster>(id, []).when(open()).then(AttendanceEvent::RosterOpened { details: details() });
        given::<Roster>(id, [AttendanceEvent::RosterOpened { details: details() }]).when(open()).then_nothing();
        let log = opened(details());
        assert_eq!(log.roster_state().state, Some(RosterState::Open));
        assert_eq!(log.entry("na-ri").name, "Huyện ủy na-ri");
    }

    #[test]
    fn a_roster_never_opened_cannot_be_closed_yet_and_answers_no_one() {
        // The reaction retries a `not_found` until the opening is there.
        let never = given::<Roster>(ConferenceId::generate(), []);
        never.when(RosterCommand::Close).then_refused(ErrorCode::NotFound, "no roster");
        never.when(RosterCommand::Cancel { reason: "bão".into() }).then_refused(ErrorCode::NotFound, "no roster");
        assert!(never.state().view(ConferenceId::generate(), 0..10).is_none());
        let log = opened(details());
        let other = crate::commands::decide_site(&log.state, &ConferenceId::generate(), &site("ba-be"), confirm(5));
        assert_eq!(other.unwrap_err().code, ErrorCode::NotFound);
    }

    #[test]
    fn a_site_not_invited_is_forbidden() {
        opened(details()).when_site("cho-don", confirm(5)).then_refused(ErrorCode::Forbidden, "not invited");
    }

    #[test]
    fn a_site_cannot_confirm_after_the_conference_is_cancelled() {
        let log = opened(details()).roster(cancelled("bão số 3"));
        log.when_site("ba-be", confirm(5)).then_refused(ErrorCode::Conflict, "bão số 3");
        log.when(RosterCommand::Cancel { reason: "bão".into() }).then_nothing();
        log.when(RosterCommand::Close).then_nothing();
    }

    #[test]
    fn a_closed_roster_refuses_answers_and_closes_once() {
        let log = opened(details()).roster(closed());
        log.when_site("ba-be", SiteCommand::CheckIn).then_refused(ErrorCode::Conflict, "has ended");
        log.when(RosterCommand::Close).then_nothing();
        log.when(RosterCommand::Cancel { reason: "bão".into() }).then_nothing();
    }

    #[test]
    fn a_site_event_after_the_roster_closed_has_no_effect() {
        // Given a check-in decided before the close but appended after it
        let log = opened(details()).site("na-ri", checked_in()).roster(closed()).site("ba-be", checked_in());
        // Then it records nothing, but counts in the site's sequence, and its sender is told so
        let roster = log.roster_state();
        assert_eq!(log.entry("ba-be").status(), AttendanceStatus::Invited);
        assert_eq!(log.entry("ba-be").last_seq, 4);
        assert_eq!(log.entry("na-ri").status(), AttendanceStatus::CheckedIn);
        assert_eq!((roster.sealed_at, roster.last_seq, roster.last_seq_any), (Some(3), 3, 4));
        assert!(!roster.took_effect(4));
        assert!(roster.took_effect(2));
        let conflict = roster.ensure_open(&log.id).unwrap_err();
        assert_eq!(conflict.code, ErrorCode::Conflict);
        // And the same after a cancellation
        let log = opened(details()).roster(cancelled("bão")).site("ba-be", confirmed(5));
        assert_eq!(log.entry("ba-be").answer, Answer::None);
        assert!(!log.roster_state().took_effect(3));
    }

    #[test]
    fn closing_records_attendance_as_it_happened() {
        let log = opened(details())
            .site("ba-be", confirmed(5))
            .site("ba-be", checked_in())
            .site("na-ri", AttendanceEvent::AttendanceDeclined { reason: "lũ quét".into() });
        let record = |id: &str, status, confirmed, delegates: Vec<Person>, headcount, reason: Option<&str>, at| {
            AttendanceEntry {
                site_id: site(id),
                site_name: format!("Huyện ủy {id}"),
                status,
                confirmed,
                delegates,
                headcount,
                decline_reason: reason.map(str::to_owned),
                checked_in_at: at,
                technical_check: None,
                technical_check_failed: vec![],
                presence: None,
            }
        };
        log.when(RosterCommand::Close).then(AttendanceEvent::RosterClosed {
            details: details(),
            attendance: vec![
                record("ba-be", AttendanceStatus::CheckedIn, true, vec![delegate().into()], 5, None, Some(at(3))),
                record("na-ri", AttendanceStatus::Declined, false, vec![], 0, Some("lũ quét"), None),
                record("pac-nam", AttendanceStatus::Invited, false, vec![], 0, None, None),
            ],
            quorum: vec![],
            speakers: vec![],
            record: None,
        });
    }

    #[test]
    fn a_page_of_the_roster_that_would_not_fit_a_reply_is_shortened() {
        // Given 3 sites whose answers (written before the budgets existed) take 3 MiB each
        let reason = "😀".repeat(MAX_TEXT_CHARS).repeat(40);
        let log = ["ba-be", "na-ri", "pac-nam"].iter().fold(opened(details()), |log, s| {
            log.site(s, AttendanceEvent::AttendanceDeclined { reason: reason.clone() })
        });
        // When the whole roster is asked for, then the page holds the first two lines only
        let view = log.roster_state().view(log.id, 0..3).unwrap();
        assert_eq!((view.total_sites, view.offset, view.sites.len()), (3, 0, 2));
        assert!(hoinghi_shared::limits::json_len(&view) <= REPLY_BUDGET);
        assert_eq!(view.counts.declined, 3);
        let next = log.roster_state().view(log.id, 2..3).unwrap();
        assert_eq!(next.sites.len(), 1, "the next page starts where it ended");
    }

    // Where each event is appended, and on what condition.

    #[test]
    fn a_sites_answer_is_appended_on_the_sites_own_subjects() {
        // Given ba-be answered at 2, and other sites since
        let log =
            opened(details()).site("ba-be", confirmed(5)).site("na-ri", checked_in()).site("pac-nam", checked_in());
        let id = log.id;
        // When ba-be checks in, then on its own subject, at its own last sequence
        let append = log.when_site("ba-be", SiteCommand::CheckIn).then(checked_in());
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.ba-be.site_checked_in"));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.attendance.{id}.ba-be.*"));
        assert_eq!(append.expect.last_seq, 2);
        assert_eq!((append.conference_id, append.site_id), (Some(id), Some(site("ba-be"))));
        // A site that never answered: expected empty
        let append = log.when_site("na-ri", confirm(3)).then(confirmed(3));
        assert_eq!(append.expect.last_seq, 3);
        let (c, s) = key("pac-nam");
        let append = given::<SiteEntry>((c, s.clone()), []).when(among(3, confirm(1))).then(confirmed(1));
        assert_eq!((append.expect.last_seq, append.conference_id, append.site_id), (0, Some(c), Some(s)));
    }

    #[test]
    fn the_opening_is_appended_on_the_rosters_own_subjects() {
        let id = ConferenceId::generate();
        let append = given::<Roster>(id, [])
            .when(RosterCommand::Open(Box::new(details())))
            .then(AttendanceEvent::RosterOpened { details: details() });
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.roster_opened"));
        assert_eq!((append.expect.filter, append.expect.last_seq), (format!("hoinghi.v1.events.attendance.{id}.*"), 0));
        assert_eq!((append.conference_id, append.site_id), (Some(id), None));
    }

    #[test]
    fn closing_is_fenced_over_the_whole_conference_at_its_last_event() {
        // Given the roster opened at 1, and site events up to 4
        let log = opened(details()).site("ba-be", confirmed(5)).site("na-ri", checked_in()).site("ba-be", checked_in());
        let id = log.id;
        assert_eq!((log.roster_state().last_seq, log.last_seq()), (1, 4));
        // When the session ends, then the close expects nothing written anywhere in the conference
        // after the last site event, not only on the roster's own subjects
        let Ok(Decision::Append(append)) = log.when(RosterCommand::Close).decision else { panic!("no append") };
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.roster_closed"));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.attendance.{id}.>"));
        assert_eq!(append.expect.last_seq, 4);
        assert_eq!((append.conference_id, append.site_id), (Some(id), None));
        // And so does a cancellation
        let append = log.when(RosterCommand::Cancel { reason: "bão".into() }).then(cancelled("bão"));
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.roster_cancelled"));
        assert_eq!((append.expect.filter, append.expect.last_seq), (format!("hoinghi.v1.events.attendance.{id}.>"), 4));
        // A site event the close did not see moves the fence: the close is decided again on it
        let later = log.site("pac-nam", checked_in());
        let Ok(Decision::Append(append)) = later.when(RosterCommand::Close).decision else { panic!("no append") };
        assert_eq!(append.expect.last_seq, 5);
        let AttendanceEvent::RosterClosed { attendance, .. } = append.event else { panic!("{:?}", append.event) };
        assert_eq!(attendance[2].status, AttendanceStatus::CheckedIn);
    }
}
