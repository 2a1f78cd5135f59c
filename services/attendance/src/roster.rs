//! The attendance aggregates of one conference.
//!
//! The unit of consistency is the site, not the conference: each site's answers are one aggregate
//! (subject `hoinghi.v1.events.attendance.<conference>.<site>.*`), so twenty thousand sites answering
//! at once never queue behind each other. The roster itself (opened, closed, cancelled) is another
//! aggregate (`hoinghi.v1.events.attendance.<conference>.*`). Closing or cancelling the roster is
//! appended on the condition that nothing was written anywhere in the conference since it was read
//! (filter `hoinghi.v1.events.attendance.<conference>.>`), so the record it carries is complete; a
//! site event that still lands after it has no effect (`apply` ignores it) and its sender is told so.

use hoinghi_runtime::collections::Map;

use chrono::{DateTime, Utc};
use hoinghi_runtime::input;
use hoinghi_shared::api::{
    AttendanceRecord, AttendanceStatus, Person, Roster as RosterView, RosterCounts, RosterState, SiteAttendance,
};
use hoinghi_shared::events::{AttendanceEvent, ConferenceDetails};
use hoinghi_shared::limits::{
    confirmation_cost, decline_cost, describe_size, shrink_page_to_fit, site_answer_budget, MAX_HEADCOUNT,
    MAX_NAME_CHARS, MAX_PEOPLE, MAX_PERSON_TITLE_CHARS, MAX_TEXT_CHARS, PERSON_OVERHEAD, RECORD_VARIABLE_BUDGET,
    REPLY_BUDGET,
};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

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

/// One invited site's attendance.
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
    /// Stream sequence of the last event on its subject (0: none).
    pub last_seq: u64,
}

/// A command from a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteCommand {
    /// Will attend.
    Confirm {
        /// Named delegates (unchecked).
        delegates: Vec<Person>,
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
}

impl SiteEntry {
    /// The status shown on the roster.
    pub fn status(&self) -> AttendanceStatus {
        match (&self.checked_in_at, &self.answer) {
            (Some(_), _) => AttendanceStatus::CheckedIn,
            (None, Answer::Confirmed { .. }) => AttendanceStatus::Confirmed,
            (None, Answer::Declined { .. }) => AttendanceStatus::Declined,
            (None, Answer::None) => AttendanceStatus::Invited,
        }
    }

    /// Decides a site's command when `invited` sites share the record's variable budget. The roster
    /// must be open (checked by [`Roster::handle_site`]).
    ///
    /// # Errors
    /// `invalid` for bad content or an answer larger than the site's share of the record,
    /// `conflict` for declining after checking in.
    pub fn handle(&self, command: SiteCommand, invited: usize) -> Result<Vec<AttendanceEvent>, ApiError> {
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
                        return Ok(vec![]);
                    }
                }
                Ok(vec![AttendanceEvent::AttendanceConfirmed { delegates, headcount }])
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
                    return Ok(vec![]);
                }
                Ok(vec![AttendanceEvent::AttendanceDeclined { reason }])
            }
            SiteCommand::CheckIn => {
                if self.checked_in_at.is_some() {
                    return Ok(vec![]);
                }
                Ok(vec![AttendanceEvent::SiteCheckedIn {}])
            }
        }
    }

    /// Applies one of its events (the roster has already checked that it takes effect).
    pub fn apply(&mut self, event: &AttendanceEvent, at: DateTime<Utc>) {
        match event {
            AttendanceEvent::AttendanceConfirmed { delegates, headcount } => {
                self.answer = Answer::Confirmed { delegates: delegates.clone(), headcount: *headcount };
                self.answered_at = Some(at);
            }
            AttendanceEvent::AttendanceDeclined { reason } => {
                self.answer = Answer::Declined { reason: reason.clone() };
                self.answered_at = Some(at);
            }
            AttendanceEvent::SiteCheckedIn {} => {
                self.checked_in_at.get_or_insert(at);
            }
            _ => {}
        }
    }

    fn view(&self, conference_id: ConferenceId, site_id: &SiteId) -> SiteAttendance {
        let (delegates, headcount, decline_reason) = match &self.answer {
            Answer::Confirmed { delegates, headcount } => (delegates.clone(), *headcount, None),
            Answer::Declined { reason } => (vec![], 0, Some(reason.clone())),
            Answer::None => (vec![], 0, None),
        };
        SiteAttendance {
            conference_id,
            site_id: site_id.clone(),
            site_name: self.name.clone(),
            status: self.status(),
            delegates,
            headcount,
            decline_reason,
            answered_at: self.answered_at,
            checked_in_at: self.checked_in_at,
        }
    }

    fn record(&self, site_id: &SiteId) -> AttendanceRecord {
        let (delegates, headcount, decline_reason) = match &self.answer {
            Answer::Confirmed { delegates, headcount } => (delegates.clone(), *headcount, None),
            Answer::Declined { reason } => (vec![], 0, Some(reason.clone())),
            Answer::None => (vec![], 0, None),
        };
        AttendanceRecord {
            site_id: site_id.clone(),
            site_name: self.name.clone(),
            status: self.status(),
            confirmed: matches!(self.answer, Answer::Confirmed { .. }),
            delegates,
            headcount,
            decline_reason,
            checked_in_at: self.checked_in_at,
        }
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
}

/// The roster of one conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The conference as invited.
    pub details: ConferenceDetails,
    /// Open, closed or cancelled.
    pub state: RosterState,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Sequence of the close or cancel event: site events after it have no effect.
    pub sealed_at: Option<u64>,
    /// Invited sites.
    pub sites: Map<SiteId, SiteEntry>,
    /// Last sequence on the roster's own subjects.
    pub last_seq: u64,
    /// Last sequence of any attendance event of this conference.
    pub last_seq_any: u64,
}

impl Roster {
    /// Decides a command on a roster that may not exist yet.
    ///
    /// # Errors
    /// Never for `Open`; `not_found` for closing or cancelling a roster never opened (the caller retries).
    pub fn handle(
        roster: Option<&Self>,
        id: &ConferenceId,
        command: RosterCommand,
    ) -> Result<Vec<AttendanceEvent>, ApiError> {
        match (roster, command) {
            (None, RosterCommand::Open(details)) => Ok(vec![AttendanceEvent::RosterOpened { details: *details }]),
            (Some(_), RosterCommand::Open(_)) => Ok(vec![]),
            (None, _) => Err(ApiError::not_found(format!("no roster for conference {id} yet"))),
            (Some(r), RosterCommand::Close) => match r.state {
                RosterState::Open => {
                    Ok(vec![AttendanceEvent::RosterClosed { details: r.details.clone(), attendance: r.records() }])
                }
                RosterState::Closed | RosterState::Cancelled => Ok(vec![]),
            },
            (Some(r), RosterCommand::Cancel { reason }) => match r.state {
                RosterState::Open => Ok(vec![AttendanceEvent::RosterCancelled { reason }]),
                RosterState::Closed | RosterState::Cancelled => Ok(vec![]),
            },
        }
    }

    /// Decides a site's command.
    ///
    /// # Errors
    /// `forbidden` for a site not invited, `conflict` once the roster is closed or cancelled, and the
    /// site aggregate's refusals.
    pub fn handle_site(
        &self,
        id: &ConferenceId,
        site: &SiteId,
        command: SiteCommand,
    ) -> Result<Vec<AttendanceEvent>, ApiError> {
        let entry = self
            .sites
            .get(site)
            .ok_or_else(|| ApiError::forbidden(format!("site {site} is not invited to conference {id}")))?;
        self.ensure_open(id)?;
        entry.handle(command, self.details.sites.len())
    }

    /// Refuses unless the roster still takes answers.
    ///
    /// # Errors
    /// `conflict` naming why.
    pub fn ensure_open(&self, id: &ConferenceId) -> Result<(), ApiError> {
        match self.state {
            RosterState::Open => Ok(()),
            RosterState::Closed => Err(ApiError::conflict(format!(
                "the session of conference {id} has ended; attendance can no longer change"
            ))),
            RosterState::Cancelled => Err(ApiError::conflict(format!(
                "conference {id} was cancelled ({}); nothing more can be confirmed for it",
                self.cancel_reason.as_deref().unwrap_or("no reason given")
            ))),
        }
    }

    /// Whether an event at `seq` took effect (it did unless the roster was sealed before it).
    pub fn took_effect(&self, seq: u64) -> bool {
        self.sealed_at.is_none_or(|sealed| seq < sealed)
    }

    /// A new roster from its opening event.
    pub fn opened(details: &ConferenceDetails, seq: u64) -> Self {
        let sites = details
            .sites
            .iter()
            .map(|s| (s.id.clone(), SiteEntry { name: s.name.clone(), ..SiteEntry::default() }))
            .collect();
        Self {
            details: details.clone(),
            state: RosterState::Open,
            cancel_reason: None,
            sealed_at: None,
            sites,
            last_seq: seq,
            last_seq_any: seq,
        }
    }

    /// Applies an event of this conference at `seq`, for `site` when it is a site event.
    pub fn apply(&mut self, event: &AttendanceEvent, site: Option<&SiteId>, at: DateTime<Utc>, seq: u64) {
        self.last_seq_any = seq;
        match (event, site) {
            (AttendanceEvent::RosterClosed { .. }, _) => {
                self.state = RosterState::Closed;
                self.sealed_at = Some(seq);
                self.last_seq = seq;
            }
            (AttendanceEvent::RosterCancelled { reason }, _) => {
                self.state = RosterState::Cancelled;
                self.cancel_reason = Some(reason.clone());
                self.sealed_at = Some(seq);
                self.last_seq = seq;
            }
            (AttendanceEvent::RosterOpened { .. }, _) => self.last_seq = seq,
            (_, Some(site)) => {
                let open = self.state == RosterState::Open;
                if let Some(entry) = self.sites.get_mut(site) {
                    entry.last_seq = seq;
                    if open {
                        entry.apply(event, at);
                    }
                }
            }
            (_, None) => {}
        }
    }

    /// One site's line.
    pub fn site_view(&self, id: ConferenceId, site: &SiteId) -> Option<SiteAttendance> {
        self.sites.get(site).map(|e| e.view(id, site))
    }

    /// The attendance record, in invitation order.
    pub fn records(&self) -> Vec<AttendanceRecord> {
        self.details.sites.iter().filter_map(|s| self.sites.get(&s.id).map(|e| e.record(&s.id))).collect()
    }

    /// The roster with the sites in `range` (of the invitation order), fewer if the reply would be
    /// larger than [`REPLY_BUDGET`].
    pub fn view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> RosterView {
        let offset = range.start;
        let page = self.details.sites.get(range).unwrap_or_default();
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
            state: self.state,
            counts,
            total_sites: self.details.sites.len(),
            offset,
            sites,
        };
        // Within the budgets a page of 5,000 lines fits; this keeps a reply within the limit whatever
        // the log holds.
        shrink_page_to_fit(&mut view, |v| &mut v.sites, REPLY_BUDGET);
        view
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hoinghi_shared::api::SiteRef;
    use hoinghi_shared::ErrorCode;

    fn site(id: &str) -> SiteId {
        SiteId::parse(id).unwrap()
    }

    fn details() -> ConferenceDetails {
        ConferenceDetails {
            title: "Hội nghị".into(),
            organizer: "Tỉnh ủy Bắc Kạn".into(),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:30:00+07:00").unwrap(),
            host_site: SiteRef { id: site("tinh-uy"), name: "Tỉnh ủy".into() },
            sites: ["ba-be", "na-ri", "pac-nam"]
                .iter()
                .map(|s| SiteRef { id: site(s), name: format!("Huyện ủy {s}") })
                .collect(),
            chairs: vec![],
            guests: vec![],
            agenda: vec![],
        }
    }

    /// Given these events (site or roster), build the roster.
    fn given(events: &[(Option<&str>, AttendanceEvent)]) -> Roster {
        let mut roster = Roster::opened(&details(), 1);
        for (i, (s, e)) in events.iter().enumerate() {
            roster.apply(e, s.map(site).as_ref(), Utc::now(), i as u64 + 2);
        }
        roster
    }

    fn delegate() -> Person {
        Person { name: "Hoàng Văn A".into(), title: "Bí thư Huyện ủy".into() }
    }

    fn confirm(headcount: u32) -> SiteCommand {
        SiteCommand::Confirm { delegates: vec![delegate()], headcount }
    }

    fn confirmed(headcount: u32) -> AttendanceEvent {
        AttendanceEvent::AttendanceConfirmed { delegates: vec![delegate()], headcount }
    }

    #[test]
    fn an_invited_site_confirms_with_its_delegates() {
        let events = given(&[]).handle_site(&ConferenceId::generate(), &site("ba-be"), confirm(5)).unwrap();
        assert_eq!(events, vec![confirmed(5)]);
    }

    #[test]
    fn confirming_again_with_the_same_delegates_changes_nothing() {
        let roster = given(&[(Some("ba-be"), confirmed(5))]);
        let c = ConferenceId::generate();
        assert!(roster.handle_site(&c, &site("ba-be"), confirm(5)).unwrap().is_empty());
        assert_eq!(roster.handle_site(&c, &site("ba-be"), confirm(6)).unwrap(), vec![confirmed(6)]);
    }

    #[test]
    fn a_site_not_invited_is_forbidden() {
        let err = given(&[]).handle_site(&ConferenceId::generate(), &site("cho-don"), confirm(5)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
    }

    #[test]
    fn bad_confirmations_are_refused() {
        let roster = given(&[]);
        let c = ConferenceId::generate();
        for command in [
            confirm(0),
            SiteCommand::Confirm { delegates: vec![], headcount: 3 },
            SiteCommand::Confirm { delegates: vec![delegate(), delegate()], headcount: 1 },
            confirm(MAX_HEADCOUNT + 1),
            SiteCommand::Confirm { delegates: vec![Person { name: " ".into(), title: String::new() }], headcount: 1 },
            SiteCommand::Decline { reason: "".into() },
        ] {
            assert_eq!(roster.handle_site(&c, &site("ba-be"), command).unwrap_err().code, ErrorCode::Invalid);
        }
    }

    #[test]
    fn a_site_cannot_confirm_after_the_conference_is_cancelled() {
        let roster = given(&[(None, AttendanceEvent::RosterCancelled { reason: "bão số 3".into() })]);
        let err = roster.handle_site(&ConferenceId::generate(), &site("ba-be"), confirm(5)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        assert!(err.message.contains("bão số 3"));
    }

    #[test]
    fn a_site_event_after_the_roster_closed_has_no_effect() {
        let closed = AttendanceEvent::RosterClosed { details: details(), attendance: vec![] };
        let roster = given(&[(None, closed), (Some("ba-be"), AttendanceEvent::SiteCheckedIn {})]);
        assert_eq!(roster.sites[&site("ba-be")].status(), AttendanceStatus::Invited);
        assert!(!roster.took_effect(3));
        assert!(roster.took_effect(1));
    }

    #[test]
    fn closing_records_attendance_as_it_happened() {
        let roster = given(&[
            (Some("ba-be"), confirmed(5)),
            (Some("ba-be"), AttendanceEvent::SiteCheckedIn {}),
            (Some("na-ri"), AttendanceEvent::AttendanceDeclined { reason: "lũ quét".into() }),
        ]);
        let events = Roster::handle(Some(&roster), &ConferenceId::generate(), RosterCommand::Close).unwrap();
        let [AttendanceEvent::RosterClosed { attendance, .. }] = &events[..] else { panic!("{events:?}") };
        let statuses: Vec<_> = attendance.iter().map(|r| (r.site_id.as_str(), r.status)).collect();
        assert_eq!(
            statuses,
            vec![
                ("ba-be", AttendanceStatus::CheckedIn),
                ("na-ri", AttendanceStatus::Declined),
                ("pac-nam", AttendanceStatus::Invited)
            ]
        );
        assert_eq!(attendance[1].decline_reason.as_deref(), Some("lũ quét"));
    }

    #[test]
    fn a_checked_in_site_cannot_decline_but_may_update_its_delegates() {
        let roster = given(&[(Some("ba-be"), confirmed(5)), (Some("ba-be"), AttendanceEvent::SiteCheckedIn {})]);
        let c = ConferenceId::generate();
        assert_eq!(
            roster.handle_site(&c, &site("ba-be"), SiteCommand::Decline { reason: "x".into() }).unwrap_err().code,
            ErrorCode::Conflict
        );
        assert_eq!(roster.handle_site(&c, &site("ba-be"), confirm(7)).unwrap().len(), 1);
        assert!(roster.handle_site(&c, &site("ba-be"), SiteCommand::CheckIn).unwrap().is_empty());
    }

    /// A roster of `n` invited sites `site-0000`, `site-0001`, …
    fn roster_of(n: usize) -> Roster {
        let mut d = details();
        d.sites = (0..n).map(|i| SiteRef { id: site(&format!("site-{i:04}")), name: format!("Xã {i}") }).collect();
        Roster::opened(&d, 1)
    }

    #[test]
    fn a_confirmation_larger_than_the_sites_share_is_refused_and_changes_nothing() {
        // Given 35 invited sites (each may answer with 2.75 MiB / 35 = 80.5 KiB)
        let roster = roster_of(35);
        let c = ConferenceId::generate();
        // When one confirms 200 delegates with 200-emoji names and 500-emoji titles (551 KiB)
        let huge = Person { name: "😀".repeat(MAX_NAME_CHARS), title: "😀".repeat(MAX_PERSON_TITLE_CHARS) };
        let command = SiteCommand::Confirm { delegates: vec![huge; MAX_PEOPLE], headcount: 300 };
        let err = roster.handle_site(&c, &site("site-0007"), command).unwrap_err();
        // Then it is refused with the sizes and what to do, and no event is written
        assert_eq!(err.code, ErrorCode::Invalid);
        for hint in ["200 delegates take 551.4 KiB", "2.75 MiB", "35", "at most 80.5 KiB", "name fewer delegates"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        assert_eq!(roster.sites[&site("site-0007")].answer, Answer::None);
    }

    #[test]
    fn an_answer_of_exactly_the_share_is_taken_and_one_byte_more_is_not() {
        // Given 62 invited sites: a share of 46,509 bytes
        let roster = roster_of(62);
        let c = ConferenceId::generate();
        let share = site_answer_budget(62);
        assert_eq!(share, 46_509);
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
        let exact = SiteCommand::Confirm { delegates: list.clone(), headcount: 100 };
        assert_eq!(roster.handle_site(&c, &site("site-0001"), exact).unwrap().len(), 1);
        list[0].title.push('a');
        let over = SiteCommand::Confirm { delegates: list, headcount: 100 };
        assert_eq!(roster.handle_site(&c, &site("site-0001"), over).unwrap_err().code, ErrorCode::Invalid);
    }

    #[test]
    fn a_refusal_reason_larger_than_the_sites_share_is_refused() {
        // Given 330 invited sites: a share of 8,738 bytes
        let roster = roster_of(330);
        let c = ConferenceId::generate();
        // When one declines with 20,000 `|` (120,000 bytes as counted)
        let err = roster
            .handle_site(&c, &site("site-0100"), SiteCommand::Decline { reason: "|".repeat(MAX_TEXT_CHARS) })
            .unwrap_err();
        // Then it is refused, naming the cost, the share and what to do
        assert_eq!(err.code, ErrorCode::Invalid);
        for hint in ["117.2 KiB", "330 invited sites", "8.5 KiB", "shorten the reason"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        // And a reason that fills the share exactly is taken
        let share = site_answer_budget(330);
        let fits = "|".repeat((share - hoinghi_shared::limits::DECLINE_OVERHEAD) / 6);
        assert!(decline_cost(&fits) <= share);
        let events = roster.handle_site(&c, &site("site-0100"), SiteCommand::Decline { reason: fits }).unwrap();
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn a_page_of_the_roster_that_would_not_fit_a_reply_is_shortened() {
        // Given 3 sites whose answers (written before the budgets existed) take 3 MiB each
        let long = "😀".repeat(MAX_TEXT_CHARS);
        let mut roster = given(&[]);
        for (i, s) in ["ba-be", "na-ri", "pac-nam"].iter().enumerate() {
            let reason = long.repeat(40);
            roster.apply(&AttendanceEvent::AttendanceDeclined { reason }, Some(&site(s)), Utc::now(), i as u64 + 2);
        }
        // When the whole roster is asked for, then the page holds the first two lines only
        let view = roster.view(ConferenceId::generate(), 0..3);
        assert_eq!((view.total_sites, view.offset, view.sites.len()), (3, 0, 2));
        assert!(hoinghi_shared::limits::json_len(&view) <= REPLY_BUDGET);
        assert_eq!(roster.view(ConferenceId::generate(), 2..3).sites.len(), 1, "the next page starts where it ended");
    }

    #[test]
    fn opening_twice_changes_nothing() {
        let roster = given(&[]);
        assert!(Roster::handle(Some(&roster), &ConferenceId::generate(), RosterCommand::Open(Box::new(details())))
            .unwrap()
            .is_empty());
    }
}
