//! The technical check (kiểm tra kỹ thuật) of one conference: before the session, usually the day
//! before, each bridge tests its picture, sound and network line and reports; a site that failed
//! re-tests, and each report replaces its previous one (every report stays in the log).
//!
//! Two aggregates, in the roster's shape:
//! - [`TechnicalCheck`], the conference's check (`…events.attendance.<conference>.technical_check_*`):
//!   the secretariat opens it; the start of the session closes it (the attendance service reacts to
//!   `session_started`), after which it no longer changes, so the roster and the minutes show each
//!   site's check as it stood at the start. It holds its sites' checks and admits a site's report
//!   (the check is open) before the site's check decides it.
//! - [`SiteCheck`], one site's reports (`…events.attendance.<conference>.<site>.technical_check_reported`).
//!
//! The [`Roster`] holds the conference's check and admits its commands first: the roster is opened
//! (invitations were issued), the site is invited, the roster is neither closed nor cancelled.
//!
//! A report decided before the close and appended after it has no effect (the check's `apply`
//! ignores it) and its sender is told so ([`TechnicalCheck::took_effect`]).

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{decide, own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::input;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::{
    self, FailedItem, FailingSite, SiteTechnicalCheck, TechnicalCheckCounts, TechnicalCheckState, TechnicalCheckSummary,
};
use hoinghi_shared::events::{AttendanceEvent, CheckItem, CheckResult, CheckStatus, DomainEvent};
use hoinghi_shared::limits::{shrink_page_to_fit, MAX_CHECK_NOTE_CHARS, REPLY_BUDGET};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::roster::Roster;
use crate::SERVICE;

/// A site's last report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Picture.
    pub picture: CheckResult,
    /// Sound.
    pub sound: CheckResult,
    /// Network line.
    pub line: CheckResult,
}

impl Report {
    /// Each item with its result, in report order.
    pub fn items(&self) -> [(CheckItem, &CheckResult); 3] {
        [(CheckItem::Picture, &self.picture), (CheckItem::Sound, &self.sound), (CheckItem::Line, &self.line)]
    }
}

/// One site's technical check: the aggregate of its reports, identified by the conference and the
/// site. `Default` is a site that has not reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteCheck {
    /// Its last report (it replaces the ones before).
    pub report: Option<Report>,
    /// When it last reported.
    pub reported_at: Option<DateTime<Utc>>,
    /// How many reports took effect.
    pub reports: u32,
    /// Stream sequence of its last report (0: none).
    pub last_seq: u64,
}

impl SiteCheck {
    /// Passed, failed or not checked, by its last report.
    pub fn status(&self) -> CheckStatus {
        match &self.report {
            None => CheckStatus::NotChecked,
            Some(r) if r.items().iter().all(|(_, r)| r.ok) => CheckStatus::Passed,
            Some(_) => CheckStatus::Failed,
        }
    }

    /// The items its last report failed, with their notes.
    pub fn failed(&self) -> Vec<(CheckItem, String)> {
        self.report.as_ref().map_or_else(Vec::new, |r| {
            r.items()
                .iter()
                .filter(|(_, r)| !r.ok)
                .map(|(item, r)| (*item, r.note.clone().unwrap_or_default()))
                .collect()
        })
    }
}

/// A site's report, as requested (unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCommand {
    /// Picture.
    pub picture: api::CheckResult,
    /// Sound.
    pub sound: api::CheckResult,
    /// Network line.
    pub line: api::CheckResult,
}

/// One item checked: a note (trimmed, within [`MAX_CHECK_NOTE_CHARS`]) is required when it failed.
fn checked(field: &str, result: &api::CheckResult) -> Result<CheckResult, ApiError> {
    let note =
        input::text(&format!("{field}.note"), result.note.as_deref().unwrap_or_default(), MAX_CHECK_NOTE_CHARS, false)?;
    if !result.ok && note.is_empty() {
        return Err(ApiError::invalid(format!(
            "{field} failed: say what was seen in {field}.note (e.g. \"mất tiếng\", \"hình bị giật\")"
        )));
    }
    Ok(CheckResult { ok: result.ok, note: (!note.is_empty()).then_some(note) })
}

impl Aggregate for SiteCheck {
    type Id = (ConferenceId, SiteId);
    type Event = AttendanceEvent;
    type Command = ReportCommand;

    /// Decides a report the conference's check admitted ([`TechnicalCheck::decide_site`]). The same
    /// report as the last one changes nothing.
    ///
    /// # Errors
    /// `invalid` for a failed item without a note, or a note too long or with control characters.
    fn handle(
        &self,
        _id: &(ConferenceId, SiteId),
        command: ReportCommand,
    ) -> Result<Option<AttendanceEvent>, ApiError> {
        let report = Report {
            picture: checked("picture", &command.picture)?,
            sound: checked("sound", &command.sound)?,
            line: checked("line", &command.line)?,
        };
        if self.report.as_ref() == Some(&report) {
            return Ok(None);
        }
        let Report { picture, sound, line } = report;
        Ok(Some(AttendanceEvent::TechnicalCheckReported { picture, sound, line }))
    }

    /// Records a report (the check hands it over only while it is open).
    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        if let AttendanceEvent::TechnicalCheckReported { picture, sound, line } = event {
            self.report = Some(Report { picture: picture.clone(), sound: sound.clone(), line: line.clone() });
            self.reported_at = Some(meta.occurred_at);
            self.reports += 1;
        }
        self.last_seq = meta.seq;
    }

    /// `hoinghi.v1.events.attendance.<conference>.<site>.technical_check_reported`, on the condition
    /// that the site reported nothing since it was read.
    fn address(&self, (conference, site): &(ConferenceId, SiteId), event: &AttendanceEvent) -> Address {
        let subject = events::conference_site(SERVICE, conference, site, event.event_type());
        Address::of_site(subject.clone(), own_subjects(subject, self.last_seq), conference, site)
    }
}

/// A command on the conference's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckCommand {
    /// The secretariat opens it (any conference may have one: every site's outcome goes into the
    /// attendance record, which is stored out of line when it is large).
    Open,
    /// The session started.
    Close,
}

/// The technical check of one conference. `Default` is a check never opened nor closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TechnicalCheck {
    /// When the secretariat opened it.
    pub opened_at: Option<DateTime<Utc>>,
    /// Sequence of `technical_check_opened` (0: none).
    pub opened_seq: u64,
    /// When the session started (and closed it).
    pub closed_at: Option<DateTime<Utc>>,
    /// Sequence of `technical_check_closed` (0: none): reports after it have no effect.
    pub closed_seq: u64,
    /// Sites that reported.
    pub sites: Map<SiteId, SiteCheck>,
}

impl TechnicalCheck {
    /// Whether the secretariat opened it.
    pub fn is_opened(&self) -> bool {
        self.opened_seq > 0
    }

    /// Whether the session started.
    pub fn is_closed(&self) -> bool {
        self.closed_seq > 0
    }

    /// Whether a report at `seq` took effect (it did unless the check was closed before it).
    pub fn took_effect(&self, seq: u64) -> bool {
        !self.is_closed() || seq < self.closed_seq
    }

    /// The check of `site` (one that has not reported: `Default`).
    pub fn site(&self, site: &SiteId) -> SiteCheck {
        self.sites.get(site).cloned().unwrap_or_default()
    }

    /// What the roster and the attendance record show for `site`: nothing when no check was opened,
    /// else its status and failed items.
    pub fn outcome(&self, site: &SiteId) -> (Option<CheckStatus>, Vec<CheckItem>) {
        if !self.is_opened() {
            return (None, vec![]);
        }
        self.sites.get(site).map_or((Some(CheckStatus::NotChecked), vec![]), |c| {
            (Some(c.status()), c.failed().into_iter().map(|(item, _)| item).collect())
        })
    }

    /// Admits a site's report (the check is open), then the site's check decides it.
    ///
    /// # Errors
    /// `conflict` before the check is opened or once the session started; the site check's refusals.
    pub fn decide_site(
        &self,
        id: &ConferenceId,
        site: &SiteId,
        command: ReportCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if self.is_closed() {
            return Err(closed(id));
        }
        if !self.is_opened() {
            return Err(ApiError::conflict(format!(
                "the technical check of conference {id} is not open: the secretariat opens it before sites report"
            )));
        }
        decide(&self.site(site), &(*id, site.clone()), command)
    }
}

/// The 409 of a check whose session started.
fn closed(id: &ConferenceId) -> ApiError {
    ApiError::conflict(format!("the session of conference {id} has started; its technical check is closed"))
}

impl Aggregate for TechnicalCheck {
    type Id = ConferenceId;
    type Event = AttendanceEvent;
    type Command = CheckCommand;

    /// Opening twice, or closing twice, changes nothing; a check never opened still closes, so it
    /// cannot be opened after the start.
    ///
    /// # Errors
    /// `conflict` for opening once the session started.
    fn handle(&self, id: &ConferenceId, command: CheckCommand) -> Result<Option<AttendanceEvent>, ApiError> {
        match command {
            CheckCommand::Close if self.is_closed() => Ok(None),
            CheckCommand::Close => Ok(Some(AttendanceEvent::TechnicalCheckClosed {})),
            CheckCommand::Open if self.is_closed() => Err(closed(id)),
            CheckCommand::Open if self.is_opened() => Ok(None),
            CheckCommand::Open => Ok(Some(AttendanceEvent::TechnicalCheckOpened {})),
        }
    }

    /// Records the check's own events and (`meta.site_id`) its sites' reports, which go to the
    /// site's check while it is open, and after the close only count in the site's sequence.
    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        match (event, &meta.site_id) {
            (AttendanceEvent::TechnicalCheckReported { .. }, Some(site)) => {
                let check = self.sites.entry(site.clone()).or_default();
                if self.opened_seq > 0 && self.closed_seq == 0 {
                    check.apply(event, meta);
                } else {
                    check.last_seq = meta.seq;
                }
            }
            (AttendanceEvent::TechnicalCheckOpened {}, None) if self.opened_seq == 0 => {
                self.opened_seq = meta.seq;
                self.opened_at = Some(meta.occurred_at);
            }
            (AttendanceEvent::TechnicalCheckClosed {}, None) if self.closed_seq == 0 => {
                self.closed_seq = meta.seq;
                self.closed_at = Some(meta.occurred_at);
            }
            _ => {}
        }
    }

    /// `hoinghi.v1.events.attendance.<conference>.technical_check_opened | _closed`, each on the
    /// condition that it was not written since the check was read.
    fn address(&self, id: &ConferenceId, event: &AttendanceEvent) -> Address {
        let subject = events::conference(SERVICE, id, event.event_type());
        let last = match event {
            AttendanceEvent::TechnicalCheckClosed {} => self.closed_seq,
            _ => self.opened_seq,
        };
        Address { expect: own_subjects(subject.clone(), last), subject, conference_id: Some(*id), site_id: None }
    }
}

/// The 409 of a check asked before the conference's invitations went out.
fn not_invited_yet(id: &ConferenceId) -> ApiError {
    ApiError::conflict(format!(
        "conference {id} has no roster: it does not exist or its invitations have not been issued yet; the \
         technical check opens once they are"
    ))
}

impl Roster {
    /// Decides a command on the conference's check: the secretariat's `Open` (the roster is opened
    /// and still open; the check's cost is computed from the conference as invited) or the
    /// reaction's `Close`.
    ///
    /// # Errors
    /// `conflict` before the invitations or once the roster is closed or cancelled (`not_found` for
    /// `Close` on a roster never opened, which the reaction retries); the check's refusals.
    pub fn decide_check(
        &self,
        id: &ConferenceId,
        command: CheckCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if !self.is_opened() {
            return match command {
                CheckCommand::Close => Err(ApiError::not_found(format!("no roster for conference {id} yet"))),
                CheckCommand::Open => Err(not_invited_yet(id)),
            };
        }
        if command == CheckCommand::Open {
            if self.technical_check.is_closed() {
                return Err(closed(id));
            }
            self.ensure_open(id)?;
        }
        decide(&self.technical_check, id, command)
    }

    /// Decides a site's report: the roster admits it (opened, the site invited, still open), then
    /// the check (open) and the site's check.
    ///
    /// # Errors
    /// `conflict` before the invitations, before the check opened, after the session started or
    /// once the roster is closed or cancelled; `forbidden` for a site not invited; `invalid` content.
    pub fn decide_check_report(
        &self,
        id: &ConferenceId,
        site: &SiteId,
        command: ReportCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if !self.is_opened() {
            return Err(not_invited_yet(id));
        }
        if !self.sites.contains_key(site) {
            return Err(ApiError::forbidden(format!("site {site} is not invited to conference {id}")));
        }
        self.ensure_open(id)?;
        self.technical_check.decide_site(id, site, command)
    }

    /// One site's check, for its reply; `None` for a site not invited.
    pub fn check_site_view(&self, id: ConferenceId, site: &SiteId) -> Option<SiteTechnicalCheck> {
        let entry = self.sites.get(site)?;
        let check = self.technical_check.site(site);
        let report = check.report.as_ref();
        Some(SiteTechnicalCheck {
            conference_id: id,
            site_id: site.clone(),
            site_name: entry.name.clone(),
            status: check.status().into(),
            picture: report.map(|r| (&r.picture).into()),
            sound: report.map(|r| (&r.sound).into()),
            line: report.map(|r| (&r.line).into()),
            reported_at: check.reported_at,
            reports: check.reports,
        })
    }

    /// The secretariat's summary: counts over every invited site, and the failing sites in `range`
    /// of the failing list (invitation order), fewer if the reply would be larger than
    /// [`REPLY_BUDGET`]; `None` for a roster never opened.
    pub fn check_summary(&self, id: ConferenceId, range: std::ops::Range<usize>) -> Option<TechnicalCheckSummary> {
        if !self.is_opened() {
            return None;
        }
        let check = &self.technical_check;
        let mut counts = TechnicalCheckCounts { sites: self.invited().len(), ..TechnicalCheckCounts::default() };
        let mut failing = Vec::new();
        for site in self.invited() {
            let c = check.sites.get(&site.id);
            match c.map_or(CheckStatus::NotChecked, SiteCheck::status) {
                CheckStatus::Passed => counts.passed += 1,
                CheckStatus::NotChecked => counts.not_checked += 1,
                CheckStatus::Failed => {
                    counts.failed += 1;
                    failing.push((site, c));
                }
            }
        }
        let total_failing = failing.len();
        let offset = range.start;
        let page = failing
            .get(range.start.min(total_failing)..range.end.min(total_failing))
            .unwrap_or_default()
            .iter()
            .filter_map(|(site, c)| {
                let c = (*c)?;
                Some(FailingSite {
                    site_id: site.id.clone(),
                    site_name: site.name.clone(),
                    failed: c.failed().into_iter().map(|(item, note)| FailedItem { item: item.into(), note }).collect(),
                    reported_at: c.reported_at?,
                    reports: c.reports,
                })
            })
            .collect();
        let state = match (check.is_opened(), check.is_closed()) {
            (_, true) => TechnicalCheckState::Closed,
            (true, false) => TechnicalCheckState::Open,
            (false, false) => TechnicalCheckState::NotOpened,
        };
        let mut view = TechnicalCheckSummary {
            conference_id: id,
            state,
            opened_at: check.opened_at,
            counts,
            total_failing,
            offset,
            failing: page,
        };
        shrink_page_to_fit(&mut view, |v| &mut v.failing, REPLY_BUDGET);
        Some(view)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::roster::RosterCommand;
    use crate::testing::{details, details_of, opened, site, Log};
    use hoinghi_runtime::testing::{given, Then};
    use hoinghi_shared::api::RosterState;
    use hoinghi_shared::ErrorCode;

    fn ok() -> api::CheckResult {
        api::CheckResult { ok: true, note: None }
    }

    fn failed(note: &str) -> api::CheckResult {
        api::CheckResult { ok: false, note: Some(note.into()) }
    }

    fn report(line: api::CheckResult) -> ReportCommand {
        ReportCommand { picture: ok(), sound: ok(), line }
    }

    fn reported(line: CheckResult) -> AttendanceEvent {
        let ok = CheckResult { ok: true, note: None };
        AttendanceEvent::TechnicalCheckReported { picture: ok.clone(), sound: ok, line }
    }

    fn line_down() -> AttendanceEvent {
        reported(CheckResult { ok: false, note: Some("mất kết nối".into()) })
    }

    fn all_ok() -> AttendanceEvent {
        reported(CheckResult { ok: true, note: None })
    }

    fn open() -> CheckCommand {
        CheckCommand::Open
    }

    /// When the secretariat opens the check of the log's conference, as the service decides it.
    fn when_open(log: &Log) -> Then<AttendanceEvent> {
        Then { decision: log.roster_state().decide_check(&log.id, open()) }
    }

    fn when_close(log: &Log) -> Then<AttendanceEvent> {
        Then { decision: log.roster_state().decide_check(&log.id, CheckCommand::Close) }
    }

    fn when_report(log: &Log, site_id: &str, command: ReportCommand) -> Then<AttendanceEvent> {
        Then { decision: log.roster_state().decide_check_report(&log.id, &site(site_id), command) }
    }

    // The conference's check alone.

    #[test]
    fn the_check_opens_once_and_not_after_the_start() {
        let id = ConferenceId::generate();
        let append = given::<TechnicalCheck>(id, []).when(open()).then(AttendanceEvent::TechnicalCheckOpened {});
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.technical_check_opened"));
        assert_eq!((append.expect.filter.as_str(), append.expect.last_seq), (append.subject.as_str(), 0));
        given::<TechnicalCheck>(id, [AttendanceEvent::TechnicalCheckOpened {}]).when(open()).then_nothing();
        let started = given::<TechnicalCheck>(id, [AttendanceEvent::TechnicalCheckClosed {}]);
        started.when(open()).then_refused(ErrorCode::Conflict, "has started");
        started.when(CheckCommand::Close).then_nothing();
        given::<TechnicalCheck>(id, []).when(CheckCommand::Close).then(AttendanceEvent::TechnicalCheckClosed {});
    }

    // A site's check alone.

    #[test]
    fn a_site_reports_and_a_failed_item_needs_a_note() {
        let (c, s) = (ConferenceId::generate(), site("pac-nam"));
        let check = given::<SiteCheck>((c, s.clone()), []);
        let append = check.when(report(failed("  mất kết nối "))).then(line_down());
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{c}.pac-nam.technical_check_reported"));
        assert_eq!((append.expect.filter.as_str(), append.expect.last_seq), (append.subject.as_str(), 0));
        assert_eq!(append.site_id, Some(s));
        check.when(report(api::CheckResult { ok: false, note: None })).then_refused(ErrorCode::Invalid, "line.note");
        check.when(report(failed("   "))).then_refused(ErrorCode::Invalid, "line failed");
        check.when(report(failed(&"x".repeat(MAX_CHECK_NOTE_CHARS + 1)))).then_refused(ErrorCode::Invalid, "limit");
        check.when(report(failed("a\u{7}b"))).then_refused(ErrorCode::Invalid, "control");
        // An ok item may carry a note.
        let noted =
            ReportCommand { picture: api::CheckResult { ok: true, note: Some(" hơi tối ".into()) }, ..report(ok()) };
        check.when(noted).then(AttendanceEvent::TechnicalCheckReported {
            picture: CheckResult { ok: true, note: Some("hơi tối".into()) },
            sound: CheckResult { ok: true, note: None },
            line: CheckResult { ok: true, note: None },
        });
    }

    #[test]
    fn a_re_test_replaces_the_last_report_and_the_same_report_changes_nothing() {
        let check = given::<SiteCheck>((ConferenceId::generate(), site("pac-nam")), [line_down()]);
        assert_eq!(check.state().status(), CheckStatus::Failed);
        assert_eq!(check.state().failed(), vec![(CheckItem::Line, "mất kết nối".to_owned())]);
        check.when(report(failed("mất kết nối"))).then_nothing();
        assert_eq!(check.when(report(ok())).then(all_ok()).expect.last_seq, 1);
        let retested = check.and(all_ok());
        assert_eq!((retested.state().status(), retested.state().reports), (CheckStatus::Passed, 2));
        assert!(retested.state().failed().is_empty());
    }

    // The check with the roster.

    #[test]
    fn the_secretariat_opens_the_check_of_an_invited_conference_only() {
        // Before the invitations (no roster): 409, and the reaction's close is retried.
        let never = Roster::default();
        let id = ConferenceId::generate();
        Then { decision: never.decide_check(&id, open()) }.then_refused(ErrorCode::Conflict, "invitations");
        Then { decision: never.decide_check(&id, CheckCommand::Close) }.then_refused(ErrorCode::NotFound, "no roster");
        Then { decision: never.decide_check_report(&id, &site("ba-be"), report(ok())) }
            .then_refused(ErrorCode::Conflict, "invitations");
        // Invited: it opens, however many sites (the outcomes go into the record, stored out of
        // line when large).
        let log = opened(details());
        when_open(&log).then(AttendanceEvent::TechnicalCheckOpened {});
        let huge = opened(details_of(20_000));
        when_open(&huge).then(AttendanceEvent::TechnicalCheckOpened {});
        // Cancelled or ended: 409.
        let cancelled = opened(details()).roster(AttendanceEvent::RosterCancelled { reason: "bão".into() });
        when_open(&cancelled).then_refused(ErrorCode::Conflict, "bão");
        assert_eq!(cancelled.roster_state().state, Some(RosterState::Cancelled));
    }

    #[test]
    fn a_report_needs_an_invited_site_and_an_open_check() {
        let log = opened(details());
        when_report(&log, "ba-be", report(ok())).then_refused(ErrorCode::Conflict, "not open");
        let log = log.roster(AttendanceEvent::TechnicalCheckOpened {});
        when_report(&log, "cho-don", report(ok())).then_refused(ErrorCode::Forbidden, "not invited");
        when_report(&log, "ba-be", report(api::CheckResult { ok: false, note: None }))
            .then_refused(ErrorCode::Invalid, "note");
        let append = when_report(&log, "ba-be", report(ok())).then(all_ok());
        assert_eq!(append.expect.last_seq, 0);
        let started = log.roster(AttendanceEvent::TechnicalCheckClosed {});
        when_report(&started, "ba-be", report(ok())).then_refused(ErrorCode::Conflict, "has started");
        when_open(&started).then_refused(ErrorCode::Conflict, "has started");
        when_close(&started).then_nothing();
    }

    #[test]
    fn the_summary_counts_every_site_and_lists_the_failing_items() {
        let log = opened(details())
            .roster(AttendanceEvent::TechnicalCheckOpened {})
            .site("pac-nam", line_down())
            .site("ba-be", all_ok());
        let summary = log.roster_state().check_summary(log.id, 0..10).unwrap();
        assert_eq!(summary.state, TechnicalCheckState::Open);
        assert_eq!(summary.counts, TechnicalCheckCounts { sites: 3, passed: 1, failed: 1, not_checked: 1 });
        assert_eq!(summary.total_failing, 1);
        assert_eq!(summary.failing[0].site_id, site("pac-nam"));
        assert_eq!(
            summary.failing[0].failed,
            vec![FailedItem { item: api::CheckItem::Line, note: "mất kết nối".into() }]
        );
        // Pác Nặm re-tests and passes.
        let log = log.site("pac-nam", all_ok());
        let summary = log.roster_state().check_summary(log.id, 0..10).unwrap();
        assert_eq!((summary.counts.passed, summary.counts.failed, summary.total_failing), (2, 0, 0));
        assert_eq!(log.roster_state().check_site_view(log.id, &site("pac-nam")).unwrap().reports, 2);
        // Paging past the end: an empty page, counts unchanged.
        assert!(log.roster_state().check_summary(log.id, 5..10).unwrap().failing.is_empty());
    }

    #[test]
    fn the_roster_shows_the_check_as_it_stood_at_the_start() {
        // No check opened: nothing shown or recorded.
        let plain = opened(details()).site("ba-be", all_ok());
        assert_eq!(plain.roster_state().site_view(plain.id, &site("ba-be")).unwrap().technical_check, None);
        assert!(plain.roster_state().records().iter().all(|r| r.technical_check.is_none()));
        // Opened; Pác Nặm's line fails, Ba Bể passes, Na Rì never checks; the session starts; a
        // report appended after the start has no effect.
        let log = opened(details())
            .roster(AttendanceEvent::TechnicalCheckOpened {})
            .site("pac-nam", line_down())
            .site("ba-be", all_ok())
            .roster(AttendanceEvent::TechnicalCheckClosed {})
            .site("pac-nam", all_ok());
        let check = &log.roster_state().technical_check;
        assert!(!check.took_effect(log.last_seq()));
        assert!(check.took_effect(3));
        let line = log.roster_state().site_view(log.id, &site("pac-nam")).unwrap();
        assert_eq!(line.technical_check, Some(api::CheckStatus::Failed));
        assert_eq!(line.technical_check_failed, vec![api::CheckItem::Line]);
        // The close carries each site's outcome.
        let Ok(Decision::Append(append)) = log.when(RosterCommand::Close).decision else { panic!("no append") };
        let AttendanceEvent::RosterClosed { attendance, .. } = append.event else { panic!() };
        let outcome: Vec<_> = attendance
            .iter()
            .map(|r| (r.site_id.as_str().to_owned(), r.technical_check, r.technical_check_failed.clone()))
            .collect();
        assert_eq!(
            outcome,
            vec![
                ("ba-be".to_owned(), Some(CheckStatus::Passed), vec![]),
                ("na-ri".to_owned(), Some(CheckStatus::NotChecked), vec![]),
                ("pac-nam".to_owned(), Some(CheckStatus::Failed), vec![CheckItem::Line]),
            ]
        );
    }
}
