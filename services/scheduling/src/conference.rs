//! The conference aggregate (subject `hoinghi.v1.events.scheduling.<conference>.*`): its life from
//! scheduling to closing. `handle` holds every rule; `apply` only records what happened.

use hoinghi_runtime::collections::{Map, Set};

use hoinghi_runtime::input;
use hoinghi_shared::api::{AgendaItem, ConferenceStatus, ConferenceView, CreateConference, Person, SiteRef};
use hoinghi_shared::events::{ConferenceDetails, SchedulingEvent};
use hoinghi_shared::limits::{
    conference_fixed_cost, describe_size, sites_fixed_cost, MAX_AGENDA_ITEMS, MAX_DURATION_HOURS, MAX_NAME_CHARS,
    MAX_PEOPLE, MAX_PERSON_TITLE_CHARS, MAX_SITES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, RECORD_FIXED_BUDGET,
};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::site::Site;

/// A conference, as its events built it. `Default` is "never scheduled".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conference {
    /// `None` until scheduled.
    pub status: Option<ConferenceStatus>,
    /// What was scheduled.
    pub details: Option<ConferenceDetails>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// SHA-256 of the published minutes, once closed.
    pub minutes_sha256: Option<String>,
    /// Number of events applied.
    pub version: u64,
    /// Stream sequence of its last event (0: none).
    pub last_seq: u64,
}

/// A command on a conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConferenceCommand {
    /// Schedule it (details already checked by [`plan`]).
    Schedule(Box<ConferenceDetails>),
    /// Issue the invitations.
    Invite,
    /// Open the session.
    Start,
    /// Close the session.
    End,
    /// Cancel.
    Cancel {
        /// Why (unchecked).
        reason: String,
    },
    /// Record that the minutes were published.
    Close {
        /// The minutes' SHA-256.
        minutes_sha256: String,
    },
}

/// Checks a scheduling request against the rules and the site registry, and resolves site names.
///
/// # Errors
/// `invalid` for content that breaks a rule, `not_found` for unregistered sites (all of them named).
pub fn plan(request: CreateConference, sites: &Map<SiteId, Site>) -> Result<ConferenceDetails, ApiError> {
    let title = input::text("title", &request.title, MAX_TITLE_CHARS, true)?;
    let organizer = input::text("organizer", &request.organizer, MAX_NAME_CHARS, true)?;
    if request.ends_at <= request.starts_at {
        return Err(ApiError::invalid(format!(
            "ends_at ({}) must be after starts_at ({})",
            request.ends_at.to_rfc3339(),
            request.starts_at.to_rfc3339()
        )));
    }
    if request.ends_at - request.starts_at > chrono::Duration::hours(MAX_DURATION_HOURS) {
        return Err(ApiError::invalid(format!("a conference may last at most {MAX_DURATION_HOURS} hours")));
    }
    input::list_len("sites", &request.sites, 1, MAX_SITES)?;
    input::list_len("chairs", &request.chairs, 1, MAX_PEOPLE)?;
    input::list_len("guests", &request.guests, 0, MAX_PEOPLE)?;
    input::list_len("agenda", &request.agenda, 1, MAX_AGENDA_ITEMS)?;
    let mut seen = Set::with_capacity_and_hasher(request.sites.len(), Default::default());
    for site in &request.sites {
        if !seen.insert(site) {
            return Err(ApiError::invalid(format!("site {site} is listed twice in sites")));
        }
    }
    if seen.contains(&request.host_site) {
        return Err(ApiError::invalid(format!(
            "host_site {} must not also be listed in sites: sites are the linked bridges invited to join the host",
            request.host_site
        )));
    }
    let name_of = |id: &SiteId| sites.get(id).filter(|s| s.is_registered()).map(|s| s.name.clone());
    let host_name = name_of(&request.host_site).ok_or_else(|| {
        ApiError::not_found(format!("host_site {} is not registered; register it first", request.host_site))
    })?;
    let unknown: Vec<&str> = request.sites.iter().filter(|s| name_of(s).is_none()).map(SiteId::as_str).collect();
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown.iter().take(20).copied().collect();
        let more = if unknown.len() > 20 { format!(" and {} more", unknown.len() - 20) } else { String::new() };
        return Err(ApiError::not_found(format!(
            "{} site(s) not registered: {}{more}; register them first",
            unknown.len(),
            shown.join(", ")
        )));
    }
    let people = |field: &str, list: &[Person]| -> Result<Vec<Person>, ApiError> {
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                Ok(Person {
                    name: input::text(&format!("{field}[{i}].name"), &p.name, MAX_NAME_CHARS, true)?,
                    title: input::text(&format!("{field}[{i}].title"), &p.title, MAX_PERSON_TITLE_CHARS, false)?,
                })
            })
            .collect()
    };
    let agenda = request
        .agenda
        .iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(AgendaItem { title: input::text(&format!("agenda[{i}].title"), &a.title, MAX_TITLE_CHARS, true)? })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let details = ConferenceDetails {
        title,
        organizer,
        starts_at: request.starts_at,
        ends_at: request.ends_at,
        host_site: SiteRef { id: request.host_site.clone(), name: host_name },
        sites: request
            .sites
            .iter()
            .map(|id| SiteRef { id: id.clone(), name: name_of(id).unwrap_or_default() })
            .collect(),
        chairs: people("chairs", &request.chairs)?,
        guests: people("guests", &request.guests)?,
        agenda,
    };
    check_fixed_budget(&details)?;
    Ok(details)
}

/// Refuses a conference whose fixed part (its sites' ids and names, its own text) would not leave
/// its attendance record within [`RECORD_FIXED_BUDGET`]: the record travels as one message.
///
/// # Errors
/// `invalid` with the sizes and what to change.
pub fn check_fixed_budget(details: &ConferenceDetails) -> Result<(), ApiError> {
    let total = conference_fixed_cost(details);
    if total <= RECORD_FIXED_BUDGET {
        return Ok(());
    }
    let sites = sites_fixed_cost(details);
    let rest = total - sites;
    let count = details.sites.len();
    let fit = match sites.checked_div(count) {
        Some(each) if each > 0 => RECORD_FIXED_BUDGET.saturating_sub(rest) / each,
        _ => 0,
    };
    Err(ApiError::invalid(format!(
        "these {} sites' ids and names take {} of the attendance record, and the conference's title, organizer, \
         host, chairs, guests and agenda {} more; a conference's record holds at most {} of them (it travels as one \
         message): link fewer sites (about {} sites like these fit) or shorten their names, or shorten the \
         conference's texts",
        thousands(count),
        describe_size(sites),
        describe_size(rest),
        describe_size(RECORD_FIXED_BUDGET),
        thousands(fit)
    )))
}

/// `30000` as `30,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Conference {
    /// Decides a command. An empty list means the command repeats the current state.
    ///
    /// # Errors
    /// `not_found` for a conference never scheduled, `conflict` for a command its status forbids,
    /// `invalid` for a bad reason.
    pub fn handle(&self, id: &ConferenceId, command: ConferenceCommand) -> Result<Vec<SchedulingEvent>, ApiError> {
        use ConferenceStatus as S;
        let Some(status) = self.status else {
            return match command {
                ConferenceCommand::Schedule(details) => {
                    Ok(vec![SchedulingEvent::ConferenceScheduled { details: *details }])
                }
                _ => Err(ApiError::not_found(format!("no conference {id}"))),
            };
        };
        let refuse = |what: &str| {
            let why = match status {
                S::Scheduled => "its invitations have not been issued",
                S::Invited => "its session has not started",
                S::InSession => "its session is in progress",
                S::Ended => "its session has ended",
                S::Cancelled => "it was cancelled",
                S::Closed => "its minutes are published and it is closed",
            };
            Err(ApiError::conflict(format!("cannot {what} conference {id}: {why}")))
        };
        match (command, status) {
            (ConferenceCommand::Schedule(_), _) => Err(ApiError::conflict(format!("conference {id} already exists"))),
            (ConferenceCommand::Invite, S::Scheduled) => match &self.details {
                Some(details) => Ok(vec![SchedulingEvent::InvitationsIssued { details: details.clone() }]),
                None => Err(ApiError::unavailable(format!("the record of conference {id} is incomplete"))),
            },
            (ConferenceCommand::Invite, S::Invited) => Ok(vec![]),
            (ConferenceCommand::Invite, _) => refuse("issue invitations for"),
            (ConferenceCommand::Start, S::Invited) => Ok(vec![SchedulingEvent::SessionStarted {}]),
            (ConferenceCommand::Start, S::InSession) => Ok(vec![]),
            (ConferenceCommand::Start, S::Scheduled) => {
                Err(ApiError::conflict(format!("cannot start conference {id}: issue the invitations first")))
            }
            (ConferenceCommand::Start, _) => refuse("start"),
            (ConferenceCommand::End, S::InSession) => Ok(vec![SchedulingEvent::SessionEnded {}]),
            (ConferenceCommand::End, S::Ended) => Ok(vec![]),
            (ConferenceCommand::End, _) => refuse("end"),
            (ConferenceCommand::Cancel { reason }, S::Scheduled | S::Invited) => {
                let reason = input::text("reason", &reason, MAX_TEXT_CHARS, true)?;
                Ok(vec![SchedulingEvent::ConferenceCancelled { reason, was_invited: status == S::Invited }])
            }
            (ConferenceCommand::Cancel { .. }, S::Cancelled) => Ok(vec![]),
            (ConferenceCommand::Cancel { .. }, _) => refuse("cancel"),
            (ConferenceCommand::Close { minutes_sha256 }, S::Ended) => {
                Ok(vec![SchedulingEvent::ConferenceClosed { minutes_sha256 }])
            }
            (ConferenceCommand::Close { .. }, S::Closed) => Ok(vec![]),
            (ConferenceCommand::Close { .. }, _) => refuse("close"),
        }
    }

    /// Applies one of its events.
    pub fn apply(&mut self, event: &SchedulingEvent, seq: u64) {
        use ConferenceStatus as S;
        match event {
            SchedulingEvent::ConferenceScheduled { details } => {
                self.status = Some(S::Scheduled);
                self.details = Some(details.clone());
            }
            SchedulingEvent::InvitationsIssued { .. } => self.status = Some(S::Invited),
            SchedulingEvent::SessionStarted {} => self.status = Some(S::InSession),
            SchedulingEvent::SessionEnded {} => self.status = Some(S::Ended),
            SchedulingEvent::ConferenceCancelled { reason, .. } => {
                self.status = Some(S::Cancelled);
                self.cancel_reason = Some(reason.clone());
            }
            SchedulingEvent::ConferenceClosed { minutes_sha256 } => {
                self.status = Some(S::Closed);
                self.minutes_sha256 = Some(minutes_sha256.clone());
            }
            SchedulingEvent::SiteRegistered { .. } => {}
        }
        self.version += 1;
        self.last_seq = seq;
    }

    /// The reply view, if the conference exists.
    pub fn view(&self, id: &ConferenceId) -> Option<ConferenceView> {
        let (status, d) = (self.status?, self.details.as_ref()?);
        Some(ConferenceView {
            id: *id,
            status,
            title: d.title.clone(),
            organizer: d.organizer.clone(),
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            host_site: d.host_site.clone(),
            sites: d.sites.clone(),
            chairs: d.chairs.clone(),
            guests: d.guests.clone(),
            agenda: d.agenda.clone(),
            cancel_reason: self.cancel_reason.clone(),
            minutes_sha256: self.minutes_sha256.clone(),
            version: self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{DateTime, Utc};
    use hoinghi_shared::ErrorCode;

    fn site(name: &str) -> Site {
        Site { name: name.into(), registered_at: Some(Utc::now()), last_seq: 1 }
    }

    fn registry() -> Map<SiteId, Site> {
        [("tinh-uy", "Tỉnh ủy Bắc Kạn"), ("ba-be", "Huyện ủy Ba Bể"), ("na-ri", "Huyện ủy Na Rì")]
            .into_iter()
            .map(|(id, name)| (SiteId::parse(id).unwrap(), site(name)))
            .collect()
    }

    fn request() -> CreateConference {
        CreateConference {
            title: "Hội nghị sơ kết công tác dân vận".into(),
            organizer: "Tỉnh ủy Bắc Kạn".into(),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:30:00+07:00").unwrap(),
            host_site: SiteId::parse("tinh-uy").unwrap(),
            sites: vec![SiteId::parse("ba-be").unwrap(), SiteId::parse("na-ri").unwrap()],
            chairs: vec![Person { name: "Phương Thị Thanh".into(), title: "Phó Bí thư".into() }],
            guests: vec![],
            agenda: vec![AgendaItem { title: "Báo cáo sơ kết".into() }],
        }
    }

    /// Given these events, when this command, then these events or this error.
    fn given(events: &[SchedulingEvent]) -> Conference {
        let mut c = Conference::default();
        for (i, e) in events.iter().enumerate() {
            c.apply(e, i as u64 + 1);
        }
        c
    }

    fn scheduled() -> SchedulingEvent {
        SchedulingEvent::ConferenceScheduled { details: plan(request(), &registry()).unwrap() }
    }

    fn invited() -> SchedulingEvent {
        SchedulingEvent::InvitationsIssued { details: plan(request(), &registry()).unwrap() }
    }

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    #[test]
    fn planning_resolves_site_names() {
        let details = plan(request(), &registry()).unwrap();
        assert_eq!(details.host_site.name, "Tỉnh ủy Bắc Kạn");
        assert_eq!(details.sites[1].name, "Huyện ủy Na Rì");
    }

    #[test]
    fn planning_refuses_unregistered_sites_and_names_them() {
        let mut r = request();
        r.sites.push(SiteId::parse("pac-nam").unwrap());
        let err = plan(r, &registry()).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert!(err.message.contains("pac-nam"));
    }

    #[test]
    fn planning_refuses_sites_whose_ids_and_names_would_overflow_the_record() {
        // Given 3,000 registered sites with 64-character ids and 200-emoji names (1,896 bytes each)
        let mut registry = registry();
        let ids: Vec<SiteId> =
            (0..3_000).map(|i| SiteId::parse(&format!("{}-{i:04}", "x".repeat(59))).unwrap()).collect();
        for id in &ids {
            registry.insert(id.clone(), site(&"😀".repeat(MAX_NAME_CHARS)));
        }
        // When the secretariat links all of them, then it is told the sizes and what to do
        let mut r = request();
        r.sites.clone_from(&ids);
        let err = plan(r, &registry).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
        for hint in ["3,000 sites", "5.42 MiB", "4.75 MiB", "link fewer sites", "about 2,62", "shorten their names"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        // When it links as many as fit, then the conference is planned
        let mut r = request();
        r.sites = ids[..2_620].to_vec();
        let details = plan(r, &registry).unwrap();
        assert!(conference_fixed_cost(&details) <= RECORD_FIXED_BUDGET);
    }

    #[test]
    fn the_fixed_budget_counts_the_conference_text_too() {
        // Given the longest title, chairs, guests and agenda the input limits allow, in emoji
        let long = |n: usize| "😀".repeat(n);
        let mut r = request();
        r.title = long(MAX_TITLE_CHARS);
        r.chairs = vec![Person { name: long(MAX_NAME_CHARS), title: long(MAX_PERSON_TITLE_CHARS) }; MAX_PEOPLE];
        r.guests = r.chairs.clone();
        r.agenda = vec![AgendaItem { title: long(MAX_TITLE_CHARS) }; MAX_AGENDA_ITEMS];
        // Then it still fits with a few sites, and leaves room for fewer sites
        let details = plan(r, &registry()).unwrap();
        let cost = conference_fixed_cost(&details);
        assert!(cost <= RECORD_FIXED_BUDGET && cost > RECORD_FIXED_BUDGET / 2, "{cost}");
    }

    type Breaker = Box<dyn Fn(&mut CreateConference)>;

    #[test]
    fn planning_refuses_bad_content() {
        let cases: Vec<Breaker> = vec![
            Box::new(|r| r.ends_at = r.starts_at),
            Box::new(|r| r.title = " ".into()),
            Box::new(|r| r.sites.clear()),
            Box::new(|r| r.sites.push(r.sites[0].clone())),
            Box::new(|r| r.sites.push(r.host_site.clone())),
            Box::new(|r| r.chairs.clear()),
            Box::new(|r| r.agenda.clear()),
            Box::new(|r| r.ends_at = r.starts_at + chrono::Duration::days(30)),
        ];
        for (i, break_it) in cases.iter().enumerate() {
            let mut r = request();
            break_it(&mut r);
            assert_eq!(plan(r, &registry()).unwrap_err().code, ErrorCode::Invalid, "case {i}");
        }
    }

    #[test]
    fn a_scheduled_conference_can_be_invited_once() {
        let c = given(&[scheduled()]);
        let events = c.handle(&id(), ConferenceCommand::Invite).unwrap();
        assert!(matches!(events[..], [SchedulingEvent::InvitationsIssued { .. }]));
        let c = given(&[scheduled(), invited()]);
        assert!(c.handle(&id(), ConferenceCommand::Invite).unwrap().is_empty());
    }

    #[test]
    fn a_session_cannot_start_before_the_invitations() {
        let err = given(&[scheduled()]).handle(&id(), ConferenceCommand::Start).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        assert!(err.message.contains("invitations"));
    }

    #[test]
    fn the_session_runs_start_to_end_to_close() {
        let c = given(&[scheduled(), invited(), SchedulingEvent::SessionStarted {}]);
        assert_eq!(c.handle(&id(), ConferenceCommand::End).unwrap(), vec![SchedulingEvent::SessionEnded {}]);
        let c = given(&[scheduled(), invited(), SchedulingEvent::SessionStarted {}, SchedulingEvent::SessionEnded {}]);
        assert!(c.handle(&id(), ConferenceCommand::End).unwrap().is_empty());
        let closed = c.handle(&id(), ConferenceCommand::Close { minutes_sha256: "ab".into() }).unwrap();
        assert_eq!(closed.len(), 1);
    }

    #[test]
    fn a_cancelled_conference_refuses_everything_but_a_repeat_cancel() {
        let c = given(&[
            scheduled(),
            invited(),
            SchedulingEvent::ConferenceCancelled { reason: "bão".into(), was_invited: true },
        ]);
        assert!(c.handle(&id(), ConferenceCommand::Cancel { reason: "bão".into() }).unwrap().is_empty());
        for cmd in [ConferenceCommand::Invite, ConferenceCommand::Start, ConferenceCommand::End] {
            assert_eq!(c.handle(&id(), cmd).unwrap_err().code, ErrorCode::Conflict);
        }
        assert_eq!(c.view(&id()).unwrap().cancel_reason.as_deref(), Some("bão"));
    }

    #[test]
    fn a_session_in_progress_cannot_be_cancelled() {
        let c = given(&[scheduled(), invited(), SchedulingEvent::SessionStarted {}]);
        assert_eq!(
            c.handle(&id(), ConferenceCommand::Cancel { reason: "x".into() }).unwrap_err().code,
            ErrorCode::Conflict
        );
    }

    #[test]
    fn cancelling_needs_a_reason() {
        let err = given(&[scheduled()]).handle(&id(), ConferenceCommand::Cancel { reason: "".into() }).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
    }

    #[test]
    fn an_unknown_conference_is_not_found() {
        assert_eq!(
            Conference::default().handle(&id(), ConferenceCommand::Invite).unwrap_err().code,
            ErrorCode::NotFound
        );
    }
}
