//! The conference aggregate (subject `hoinghi.v1.events.scheduling.<conference>.*`): its life from
//! scheduling to closing. `handle` holds every rule; `apply` only records what happened.

use hoinghi_runtime::aggregate::{own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::{Map, Set};
use hoinghi_runtime::input;
use hoinghi_runtime::store::EventMeta;
use hoinghi_shared::api::{self, ConferenceStatus, ConferenceView, CreateConference};
use hoinghi_shared::events::{AgendaItem, Chair, ConferenceDetails, DomainEvent, Person, SchedulingEvent, SiteRef};
use hoinghi_shared::limits::{
    conference_fixed_cost, describe_size, sites_fixed_cost, DETAILS_BUDGET, MAX_AGENDA_ITEMS, MAX_DURATION_HOURS,
    MAX_NAME_CHARS, MAX_PEOPLE, MAX_PERSON_TITLE_CHARS, MAX_SITES, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
};
use hoinghi_shared::notifications::validate_reminder_offsets;
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, PersonId, SiteId};

use crate::site::Site;
use crate::SERVICE;

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
    /// The schedule sequence: 0 as invited, +1 with each reschedule after the invitations.
    pub schedule_sequence: u32,
    /// Whether its invitations were issued (still true once cancelled): who may have it in a calendar.
    pub invited: bool,
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
    /// Move it to a new time (rules in [`crate::reschedule`]).
    Reschedule(Box<crate::reschedule::Reschedule>),
}

/// Checks a scheduling request against the rules and the site registry, and resolves site names:
/// the details its events carry, built from the request.
///
/// # Errors
/// `invalid` for content that breaks a rule, `not_found` for unregistered sites (all of them named).
pub fn plan(request: &CreateConference, sites: &Map<SiteId, Site>) -> Result<ConferenceDetails, ApiError> {
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
    input::list_len("minute_takers", &request.minute_takers, 1, MAX_PEOPLE)?;
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
    let people = |field: &str, list: &[api::Person]| -> Result<Vec<Person>, ApiError> {
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
    let chairs = request
        .chairs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(Chair {
                name: input::text(&format!("chairs[{i}].name"), &c.name, MAX_NAME_CHARS, true)?,
                title: input::text(&format!("chairs[{i}].title"), &c.title, MAX_PERSON_TITLE_CHARS, false)?,
                person_id: Some(c.person_id.clone().ok_or_else(|| {
                    ApiError::invalid(format!(
                        "chairs[{i}].person_id is missing: bind each chair to the person who chairs (their person id, \
                         like \"nguyen-van-a\"), who alone may approve the minutes as this chair"
                    ))
                })?),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    no_repeats("chairs", chairs.iter().filter_map(|c| c.person_id.as_ref()))?;
    no_repeats("minute_takers", request.minute_takers.iter())?;
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
        chairs,
        minute_takers: request.minute_takers.clone(),
        guests: people("guests", &request.guests)?,
        agenda,
        approval_policy: request.approval_policy.unwrap_or_default().into(),
        reminder_offsets_s: request.reminder_offsets_s.as_deref().map(validate_reminder_offsets).transpose()?,
        quorum: request.quorum.map(validate_quorum).transpose()?,
    };
    check_fixed_budget(&details)?;
    Ok(details)
}

/// Refuses a list of persons (`field`) naming one person twice.
///
/// # Errors
/// `invalid` naming the field and the person.
fn no_repeats<'a>(field: &str, persons: impl Iterator<Item = &'a PersonId>) -> Result<(), ApiError> {
    let mut seen = Set::default();
    for person in persons {
        if !seen.insert(person) {
            return Err(ApiError::invalid(format!("person {person} is listed twice in {field}")));
        }
    }
    Ok(())
}

/// A quorum rule as requested: `percent` between 1 and 100.
///
/// # Errors
/// `invalid` naming the field.
pub fn validate_quorum(rule: api::QuorumRule) -> Result<hoinghi_shared::events::QuorumRule, ApiError> {
    if !(1..=100).contains(&rule.percent) {
        return Err(ApiError::invalid(format!(
            "quorum.percent must be between 1 and 100 (the share of the {} that must be present), not {}",
            match rule.basis {
                api::QuorumBasis::Bridges => "invited bridges",
                api::QuorumBasis::Delegates => "expected delegates",
            },
            rule.percent
        )));
    }
    Ok(rule.into())
}

/// Refuses a conference whose details (its sites' ids and names, its own text) would not fit
/// [`DETAILS_BUDGET`]: they travel whole in one message (the events that schedule, invite, open and
/// close it, and its view).
///
/// # Errors
/// `invalid` with the sizes and what to change.
pub fn check_fixed_budget(details: &ConferenceDetails) -> Result<(), ApiError> {
    let total = conference_fixed_cost(details);
    if total <= DETAILS_BUDGET {
        return Ok(());
    }
    let sites = sites_fixed_cost(details);
    let rest = total - sites;
    let count = details.sites.len();
    let fit = match sites.checked_div(count) {
        Some(each) if each > 0 => DETAILS_BUDGET.saturating_sub(rest) / each,
        _ => 0,
    };
    Err(ApiError::invalid(format!(
        "these {} sites' ids and names take {} of the conference's details, and the conference's title, organizer, \
         host, chairs, minute-takers, guests and agenda {} more; a conference's details take at most {} (they travel \
         whole in one message): link fewer sites (about {} sites like these fit) or shorten their names, or shorten \
         the conference's texts",
        thousands(count),
        describe_size(sites),
        describe_size(rest),
        describe_size(DETAILS_BUDGET),
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
            host_site: (&d.host_site).into(),
            sites: d.sites.iter().map(api::SiteRef::from).collect(),
            chairs: d.chairs.iter().map(api::Chair::from).collect(),
            minute_takers: d.minute_takers.clone(),
            guests: d.guests.iter().map(api::Person::from).collect(),
            agenda: d.agenda.iter().map(api::AgendaItem::from).collect(),
            cancel_reason: self.cancel_reason.clone(),
            minutes_sha256: self.minutes_sha256.clone(),
            approval_policy: d.approval_policy.into(),
            quorum: d.quorum.map(Into::into),
            version: self.version,
            schedule_sequence: self.schedule_sequence,
            reminder_offsets_s: hoinghi_shared::notifications::reminder_offsets(d.reminder_offsets_s.as_deref()),
        })
    }
}

impl Aggregate for Conference {
    type Id = ConferenceId;
    type Event = SchedulingEvent;
    type Command = ConferenceCommand;

    /// `None` means the command repeats the current state.
    ///
    /// # Errors
    /// `not_found` for a conference never scheduled, `conflict` for a command its status forbids,
    /// `invalid` for a bad reason.
    fn handle(&self, id: &ConferenceId, command: ConferenceCommand) -> Result<Option<SchedulingEvent>, ApiError> {
        use ConferenceStatus as S;
        let Some(status) = self.status else {
            return match command {
                ConferenceCommand::Schedule(details) => {
                    Ok(Some(SchedulingEvent::ConferenceScheduled { details: *details }))
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
                Some(details) => Ok(Some(SchedulingEvent::InvitationsIssued { details: details.clone() })),
                None => Err(ApiError::unavailable(format!("the record of conference {id} is incomplete"))),
            },
            (ConferenceCommand::Invite, S::Invited) => Ok(None),
            (ConferenceCommand::Invite, _) => refuse("issue invitations for"),
            (ConferenceCommand::Start, S::Invited) => Ok(Some(SchedulingEvent::SessionStarted {})),
            (ConferenceCommand::Start, S::InSession) => Ok(None),
            (ConferenceCommand::Start, S::Scheduled) => {
                Err(ApiError::conflict(format!("cannot start conference {id}: issue the invitations first")))
            }
            (ConferenceCommand::Start, _) => refuse("start"),
            (ConferenceCommand::End, S::InSession) => Ok(Some(SchedulingEvent::SessionEnded {})),
            (ConferenceCommand::End, S::Ended) => Ok(None),
            (ConferenceCommand::End, _) => refuse("end"),
            (ConferenceCommand::Cancel { reason }, S::Scheduled | S::Invited) => {
                let reason = input::text("reason", &reason, MAX_TEXT_CHARS, true)?;
                Ok(Some(SchedulingEvent::ConferenceCancelled { reason, was_invited: status == S::Invited }))
            }
            (ConferenceCommand::Cancel { .. }, S::Cancelled) => Ok(None),
            (ConferenceCommand::Cancel { .. }, _) => refuse("cancel"),
            (ConferenceCommand::Close { minutes_sha256 }, S::Ended) => {
                Ok(Some(SchedulingEvent::ConferenceClosed { minutes_sha256 }))
            }
            (ConferenceCommand::Close { .. }, S::Closed) => Ok(None),
            (ConferenceCommand::Close { .. }, _) => refuse("close"),
            (ConferenceCommand::Reschedule(r), S::Scheduled | S::Invited) => {
                crate::reschedule::decide(self, id, status, *r).map(Some)
            }
            (ConferenceCommand::Reschedule(_), _) => refuse("reschedule"),
        }
    }

    fn apply(&mut self, event: &SchedulingEvent, meta: &EventMeta) {
        use ConferenceStatus as S;
        match event {
            SchedulingEvent::ConferenceScheduled { details } => {
                self.status = Some(S::Scheduled);
                self.details = Some(details.clone());
            }
            SchedulingEvent::InvitationsIssued { .. } => {
                self.status = Some(S::Invited);
                self.invited = true;
            }
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
            SchedulingEvent::ConferenceRescheduled { starts_at, ends_at, sequence, .. } => {
                if let Some(details) = self.details.as_mut() {
                    details.starts_at = *starts_at;
                    details.ends_at = *ends_at;
                }
                self.schedule_sequence = *sequence;
            }
            SchedulingEvent::SiteRegistered { .. } => {}
        }
        self.version += 1;
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.scheduling.<conference>.<type>`, on the condition that nothing was written
    /// on the conference's subjects since it was read.
    fn address(&self, id: &ConferenceId, event: &SchedulingEvent) -> Address {
        Address {
            subject: events::conference(SERVICE, id, event.event_type()),
            expect: own_subjects(events::conference_filter(SERVICE, id), self.last_seq),
            conference_id: Some(*id),
            site_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{DateTime, Utc};
    use hoinghi_runtime::testing::given;
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
            chairs: vec![api::Chair {
                name: "Phương Thị Thanh".into(),
                title: "Phó Bí thư".into(),
                person_id: Some(PersonId::parse("phuong-thi-thanh").unwrap()),
            }],
            minute_takers: vec![PersonId::parse("thu-ky").unwrap()],
            guests: vec![],
            agenda: vec![api::AgendaItem { title: "Báo cáo sơ kết".into() }],
            approval_policy: None,
            reminder_offsets_s: None,
            quorum: None,
        }
    }

    #[test]
    fn a_quorum_rule_is_kept_with_the_details_and_its_percent_checked() {
        use hoinghi_shared::events::{QuorumBasis, QuorumRule};
        assert_eq!(details().quorum, None, "no rule: always quorate");
        let with = |basis, percent| CreateConference { quorum: Some(api::QuorumRule { basis, percent }), ..request() };
        let planned = plan(&with(api::QuorumBasis::Bridges, 50), &registry()).unwrap();
        assert_eq!(planned.quorum, Some(QuorumRule { basis: QuorumBasis::Bridges, percent: 50 }));
        let planned = plan(&with(api::QuorumBasis::Delegates, 100), &registry()).unwrap();
        assert_eq!(planned.quorum, Some(QuorumRule { basis: QuorumBasis::Delegates, percent: 100 }));
        for percent in [0, 101, 255] {
            let err = plan(&with(api::QuorumBasis::Bridges, percent), &registry()).unwrap_err();
            assert_eq!(err.code, ErrorCode::Invalid);
            assert!(err.message.contains("quorum.percent"), "{}", err.message);
        }
        let body = r#"{"title":"t","organizer":"o","starts_at":"2021-07-23T08:00:00+07:00","ends_at":"2021-07-23T11:30:00+07:00","host_site":"tinh-uy","sites":["ba-be"],"chairs":[{"name":"c","person_id":"c"}],"minute_takers":["t"],"agenda":[{"title":"a"}],"quorum":{"basis":"delegates","percent":60}}"#;
        let parsed: CreateConference = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.quorum, Some(api::QuorumRule { basis: api::QuorumBasis::Delegates, percent: 60 }));
        let bad = body.replace("delegates", "people");
        assert!(serde_json::from_str::<CreateConference>(&bad).is_err());
    }

    fn details() -> ConferenceDetails {
        plan(&request(), &registry()).unwrap()
    }

    fn scheduled() -> SchedulingEvent {
        SchedulingEvent::ConferenceScheduled { details: details() }
    }

    fn invited() -> SchedulingEvent {
        SchedulingEvent::InvitationsIssued { details: details() }
    }

    fn started() -> SchedulingEvent {
        SchedulingEvent::SessionStarted {}
    }

    fn ended() -> SchedulingEvent {
        SchedulingEvent::SessionEnded {}
    }

    fn cancelled() -> SchedulingEvent {
        SchedulingEvent::ConferenceCancelled { reason: "bão".into(), was_invited: true }
    }

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    #[test]
    fn planning_resolves_site_names() {
        let details = details();
        assert_eq!(details.host_site.name, "Tỉnh ủy Bắc Kạn");
        assert_eq!(details.sites[1].name, "Huyện ủy Na Rì");
    }

    #[test]
    fn planning_refuses_unregistered_sites_and_names_them() {
        let mut r = request();
        r.sites.push(SiteId::parse("pac-nam").unwrap());
        let err = plan(&r, &registry()).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert!(err.message.contains("pac-nam"));
    }

    #[test]
    fn planning_refuses_sites_whose_ids_and_names_would_overflow_the_details() {
        // Given 10,000 registered sites with 64-character ids and 200-emoji names (884 bytes each)
        let mut registry = registry();
        let ids: Vec<SiteId> =
            (0..10_000).map(|i| SiteId::parse(&format!("{}-{i:05}", "x".repeat(58))).unwrap()).collect();
        for id in &ids {
            registry.insert(id.clone(), site(&"😀".repeat(MAX_NAME_CHARS)));
        }
        // When the secretariat links all of them, then it is told the sizes and what to do
        let mut r = request();
        r.sites.clone_from(&ids);
        let err = plan(&r, &registry).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
        for hint in ["10,000 sites", "8.43 MiB", "7 MiB", "link fewer sites", "about 8,29", "shorten their names"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        // When it links as many as fit, then the conference is planned
        let mut r = request();
        r.sites = ids[..8_290].to_vec();
        let details = plan(&r, &registry).unwrap();
        assert!(conference_fixed_cost(&details) <= DETAILS_BUDGET);
    }

    #[test]
    fn planning_takes_the_most_sites_named_like_the_benchmarks_and_longer() {
        // Given 50,000 registered sites named like the benchmark's, and 50,000 with 40-character
        // Vietnamese names (`Điểm cầu Ủy ban nhân dân xã …`, about 55 bytes)
        let mut registry = registry();
        let bench: Vec<SiteId> = (0..50_000).map(|i| SiteId::parse(&format!("xa-{i:05}")).unwrap()).collect();
        let long: Vec<SiteId> = (0..50_000).map(|i| SiteId::parse(&format!("xa-dai-{i:05}")).unwrap()).collect();
        for (i, id) in bench.iter().enumerate() {
            registry.insert(id.clone(), site(&format!("Điểm cầu xã số {i}")));
        }
        for (i, id) in long.iter().enumerate() {
            registry.insert(id.clone(), site(&format!("Điểm cầu Ủy ban nhân dân xã Nghĩa Tá số {i:05}")));
        }
        // When the secretariat links every one of either, then the conference is planned
        for ids in [bench, long] {
            let mut r = request();
            r.sites = ids;
            let details = plan(&r, &registry).unwrap();
            assert_eq!(details.sites.len(), MAX_SITES);
            assert!(conference_fixed_cost(&details) <= DETAILS_BUDGET);
        }
    }

    #[test]
    fn the_fixed_budget_counts_the_conference_text_too() {
        // Given the longest title, chairs, guests and agenda the input limits allow, in emoji
        let long = |n: usize| "😀".repeat(n);
        let mut r = request();
        r.title = long(MAX_TITLE_CHARS);
        let person = |i: usize| PersonId::parse(&format!("{}-{i:03}", "p".repeat(60))).unwrap();
        r.chairs = (0..MAX_PEOPLE)
            .map(|i| api::Chair {
                name: long(MAX_NAME_CHARS),
                title: long(MAX_PERSON_TITLE_CHARS),
                person_id: Some(person(i)),
            })
            .collect();
        r.minute_takers = (0..MAX_PEOPLE).map(person).collect();
        r.guests = vec![api::Person { name: long(MAX_NAME_CHARS), title: long(MAX_PERSON_TITLE_CHARS) }; MAX_PEOPLE];
        r.agenda = vec![api::AgendaItem { title: long(MAX_TITLE_CHARS) }; MAX_AGENDA_ITEMS];
        // Then it still fits with a few sites, and leaves room for fewer sites
        let details = plan(&r, &registry()).unwrap();
        let cost = conference_fixed_cost(&details);
        assert!(cost <= DETAILS_BUDGET && cost > DETAILS_BUDGET / 3, "{cost}");
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
            Box::new(|r| r.chairs[0].person_id = None),
            Box::new(|r| {
                let again = r.chairs[0].clone();
                r.chairs.push(again);
            }),
            Box::new(|r| r.minute_takers.clear()),
            Box::new(|r| r.minute_takers.push(r.minute_takers[0].clone())),
            Box::new(|r| r.agenda.clear()),
            Box::new(|r| r.ends_at = r.starts_at + chrono::Duration::days(30)),
        ];
        for (i, break_it) in cases.iter().enumerate() {
            let mut r = request();
            break_it(&mut r);
            assert_eq!(plan(&r, &registry()).unwrap_err().code, ErrorCode::Invalid, "case {i}");
        }
    }

    #[test]
    fn planning_binds_each_chair_to_a_person_and_names_the_minute_takers() {
        let details = details();
        assert_eq!(details.chairs[0].person_id, Some(PersonId::parse("phuong-thi-thanh").unwrap()));
        assert_eq!(details.minute_takers, [PersonId::parse("thu-ky").unwrap()]);
        let mut r = request();
        r.chairs[0].person_id = None;
        let err = plan(&r, &registry()).unwrap_err();
        assert!(err.message.contains("chairs[0].person_id is missing"), "{}", err.message);
        let mut r = request();
        r.minute_takers.push(r.minute_takers[0].clone());
        let err = plan(&r, &registry()).unwrap_err();
        assert_eq!(err.message, "person thu-ky is listed twice in minute_takers");
        let view = given::<Conference>(id(), [scheduled()]).state().view(&id()).unwrap();
        assert_eq!(view.chairs[0].person_id.as_ref().map(PersonId::as_str), Some("phuong-thi-thanh"));
        assert_eq!(view.minute_takers, details.minute_takers);
    }

    #[test]
    fn a_planned_conference_is_scheduled_once() {
        let schedule = || ConferenceCommand::Schedule(Box::new(details()));
        given::<Conference>(id(), []).when(schedule()).then(scheduled());
        given::<Conference>(id(), [scheduled()]).when(schedule()).then_refused(ErrorCode::Conflict, "already exists");
    }

    #[test]
    fn a_scheduled_conference_can_be_invited_once() {
        given::<Conference>(id(), [scheduled()]).when(ConferenceCommand::Invite).then(invited());
        given::<Conference>(id(), [scheduled(), invited()]).when(ConferenceCommand::Invite).then_nothing();
    }

    #[test]
    fn a_session_cannot_start_before_the_invitations() {
        given::<Conference>(id(), [scheduled()])
            .when(ConferenceCommand::Start)
            .then_refused(ErrorCode::Conflict, "invitations");
    }

    #[test]
    fn the_session_runs_start_to_end_to_close() {
        given::<Conference>(id(), [scheduled(), invited()]).when(ConferenceCommand::Start).then(started());
        given::<Conference>(id(), [scheduled(), invited(), started()]).when(ConferenceCommand::End).then(ended());
        let c = given::<Conference>(id(), [scheduled(), invited(), started(), ended()]);
        c.when(ConferenceCommand::End).then_nothing();
        c.when(ConferenceCommand::Close { minutes_sha256: "ab".into() })
            .then(SchedulingEvent::ConferenceClosed { minutes_sha256: "ab".into() });
        let closed = c.and(SchedulingEvent::ConferenceClosed { minutes_sha256: "ab".into() });
        closed.when(ConferenceCommand::Close { minutes_sha256: "ab".into() }).then_nothing();
        let view = closed.state().view(&id()).unwrap();
        assert_eq!(
            (view.status, view.minutes_sha256.as_deref(), view.version),
            (ConferenceStatus::Closed, Some("ab"), 5)
        );
    }

    #[test]
    fn a_cancelled_conference_refuses_everything_but_a_repeat_cancel() {
        let c = given::<Conference>(id(), [scheduled(), invited(), cancelled()]);
        c.when(ConferenceCommand::Cancel { reason: "bão".into() }).then_nothing();
        for cmd in [ConferenceCommand::Invite, ConferenceCommand::Start, ConferenceCommand::End] {
            c.when(cmd).then_refused(ErrorCode::Conflict, "cancelled");
        }
        assert_eq!(c.state().view(&id()).unwrap().cancel_reason.as_deref(), Some("bão"));
    }

    #[test]
    fn a_cancellation_says_whether_the_invitations_had_gone_out() {
        let cancel = || ConferenceCommand::Cancel { reason: "bão".into() };
        given::<Conference>(id(), [scheduled()])
            .when(cancel())
            .then(SchedulingEvent::ConferenceCancelled { reason: "bão".into(), was_invited: false });
        given::<Conference>(id(), [scheduled(), invited()]).when(cancel()).then(cancelled());
    }

    #[test]
    fn a_session_in_progress_cannot_be_cancelled() {
        given::<Conference>(id(), [scheduled(), invited(), started()])
            .when(ConferenceCommand::Cancel { reason: "x".into() })
            .then_refused(ErrorCode::Conflict, "in progress");
    }

    #[test]
    fn cancelling_needs_a_reason() {
        given::<Conference>(id(), [scheduled()])
            .when(ConferenceCommand::Cancel { reason: "".into() })
            .then_refused(ErrorCode::Invalid, "reason");
    }

    #[test]
    fn an_unknown_conference_is_not_found() {
        for cmd in [ConferenceCommand::Invite, ConferenceCommand::Close { minutes_sha256: "ab".into() }] {
            given::<Conference>(id(), []).when(cmd).then_refused(ErrorCode::NotFound, "no conference");
        }
        assert!(Conference::default().view(&id()).is_none());
    }

    #[test]
    fn a_conference_event_is_appended_on_the_conferences_own_subjects() {
        let id = id();
        // Scheduling: a new conference's subjects, expected empty
        let append =
            given::<Conference>(id, []).when(ConferenceCommand::Schedule(Box::new(details()))).then(scheduled());
        assert_eq!(append.subject, format!("hoinghi.v1.events.scheduling.{id}.conference_scheduled"));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.scheduling.{id}.*"));
        assert_eq!(append.expect.last_seq, 0);
        assert_eq!((append.conference_id, append.site_id), (Some(id), None));
        // Later steps: at the conference's last sequence
        let c = given::<Conference>(id, [scheduled(), invited(), started()]);
        let append = c.when(ConferenceCommand::End).then(ended());
        assert_eq!(append.subject, format!("hoinghi.v1.events.scheduling.{id}.session_ended"));
        assert_eq!((append.expect.last_seq, c.last_seq()), (3, 3));
        assert_eq!(append.conference_id, Some(id));
    }
}
