//! The conclusions notice (thông báo kết luận) of one conference, [`Notice`] (subject
//! `hoinghi.v1.events.minutes.<conference>.notice_issued`), and each invited site's receipt of it,
//! [`Receipt`] (`hoinghi.v1.events.minutes.<conference>.<site>.notice_acknowledged`), held by the
//! notice, which admits a site's acknowledgement (the site invited, the notice issued) before the
//! site's [`Receipt`] decides it ([`Notice::decide_ack`]).
//!
//! The notice is its own document: once the minutes are published, the secretariat issues it once,
//! with a number and a date, holding the conclusions and the tasks of the published minutes. It is
//! due 5 working days after the conference ([`crate::calendar`]); issued later, it is marked late.
//!
//! The notice sees every event of its conference (the projection hands it each one) to learn the
//! conference's day and sites and the minutes' publication, and shares the minutes' subjects: its
//! append is conditioned on nothing written on the conference's own subjects since it was read
//! (so on the minutes as they were), and a receipt's on nothing written on the site's subjects.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_runtime::aggregate::{decide, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::{self, NoticeStatus, NoticeView};
use hoinghi_shared::events::{DomainEvent, MinutesEvent, NoticeItem};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::calendar::{Calendar, Counted};
use crate::minutes::{no_minutes, Minutes};
use crate::receipt::{conference_address, invited, Document, SiteReceipt};
use crate::SERVICE;

/// The longest document number.
pub const MAX_NUMBER_CHARS: usize = 50;

/// The notice as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The document number.
    pub number: String,
    /// The date on it.
    pub issued_on: NaiveDate,
    /// The deadline it had.
    pub deadline: NaiveDate,
    /// Whether that deadline counted every public holiday.
    pub holidays_known: bool,
    /// Issued after the deadline.
    pub late: bool,
    /// Its conclusions and tasks.
    pub items: Vec<NoticeItem>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// A site's receipt of the notice: the aggregate of one site in one conference. `Default` is "not
/// acknowledged".
pub type Receipt = SiteReceipt<AcknowledgeNotice>;

/// The conclusions notice of one conference. `Default` is a conference whose draft has not opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notice {
    /// The day of the conference (its end, in Vietnam), from the draft's opening.
    pub conference_day: Option<NaiveDate>,
    /// When the minutes were published.
    pub published_at: Option<DateTime<Utc>>,
    /// The notice, once issued.
    pub issued: Option<Issued>,
    /// Every invited site's receipt, from the draft's opening.
    pub receipts: Map<SiteId, Receipt>,
    /// Last sequence on the conference's own subjects.
    pub last_seq: u64,
}

/// A command on the notice.
#[derive(Debug, Clone)]
pub enum NoticeCommand {
    /// Issue it.
    Issue {
        /// The document number, as requested.
        number: String,
        /// The date on it (default: `today`).
        issued_on: Option<NaiveDate>,
        /// Today in Vietnam (the clock is the caller's).
        today: NaiveDate,
        /// The working-day calendar.
        calendar: Arc<Calendar>,
        /// The conclusions and tasks of the published minutes.
        items: Vec<NoticeItem>,
    },
}

/// A site acknowledges receipt of the notice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcknowledgeNotice;

impl Document for AcknowledgeNotice {
    fn acknowledged() -> MinutesEvent {
        MinutesEvent::NoticeAcknowledged {}
    }
}

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Ho_Chi_Minh).date_naive()
}

/// Checks a document number (số/ký hiệu): 1 to 6 digits, then `/` or `-` and a symbol of capital
/// letters (Đ included), digits, `-`, `/` or `.`, no two separators in a row, none at the end, e.g.
/// `15/TB-TU`, `245-TB/TU`, `12/TB-VPUBND`.
///
/// # Errors
/// `invalid`, with the form expected.
pub fn check_number(number: &str) -> Result<String, ApiError> {
    let number = number.trim();
    let bad = |why: &str| {
        ApiError::invalid(format!(
            "number {number:?} {why}: a notice number is digits, then / or - and a symbol of capital letters, \
             digits, -, / or . (e.g. 15/TB-TU or 245-TB/TU), at most {MAX_NUMBER_CHARS} characters"
        ))
    };
    let chars: Vec<char> = number.chars().collect();
    if chars.is_empty() {
        return Err(bad("is empty"));
    }
    if chars.len() > MAX_NUMBER_CHARS {
        return Err(bad("is too long"));
    }
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 6 {
        return Err(bad("must start with 1 to 6 digits"));
    }
    let separator = |c: char| matches!(c, '/' | '-' | '.');
    let rest = &chars[digits..];
    if !matches!(rest.first(), Some('/' | '-')) || rest.len() < 2 {
        return Err(bad("needs a symbol after the digits"));
    }
    if let Some(c) =
        rest.iter().find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || **c == 'Đ' || separator(**c)))
    {
        return Err(bad(&format!("has {c:?}")));
    }
    if rest.windows(2).any(|w| separator(w[0]) && separator(w[1])) || rest.last().is_some_and(|c| separator(*c)) {
        return Err(bad("has separators in a row or at the end"));
    }
    Ok(number.to_owned())
}

/// The items of the published minutes that have conclusions or tasks, for the notice.
pub fn items_of(minutes: &Minutes, id: ConferenceId) -> Vec<NoticeItem> {
    // Its items only: no page of attendance, none of the document.
    let window = crate::minutes::DocumentWindow::default();
    let Ok(view) = minutes.paged_view(id, 0..0, None, None, window) else { return vec![] };
    view.items
        .into_iter()
        .filter(|i| !i.conclusions.is_empty() || !i.tasks.is_empty())
        .map(|i| NoticeItem {
            index: i.index,
            title: i.title,
            conclusions: i.conclusions,
            tasks: i.tasks.into_iter().map(Into::into).collect(),
        })
        .collect()
}

impl Notice {
    /// Whether the draft opened (the conference is known here).
    pub fn is_known(&self) -> bool {
        self.conference_day.is_some()
    }

    /// The deadline by `calendar`; `None` before the draft opened.
    pub fn deadline(&self, calendar: &Calendar) -> Option<Counted> {
        self.conference_day.map(|day| calendar.notice_deadline(day))
    }

    /// Not issued, and `today` is after the deadline.
    pub fn is_overdue(&self, calendar: &Calendar, today: NaiveDate) -> bool {
        self.issued.is_none() && self.deadline(calendar).is_some_and(|d| today > d.date)
    }

    /// Decides a site's acknowledgement: the notice admits it (issued, the site invited), then the
    /// site's own [`Receipt`] decides it and addresses its event on the site's subjects.
    ///
    /// # Errors
    /// `not_found` before the draft opened, `forbidden` for a site not invited, `conflict` before
    /// the notice is issued.
    pub fn decide_ack(&self, id: &ConferenceId, site: &SiteId) -> Result<Decision<MinutesEvent>, ApiError> {
        if !self.is_known() {
            return Err(no_minutes(id));
        }
        let receipt = invited(&self.receipts, id, site)?;
        if self.issued.is_none() {
            return Err(ApiError::conflict(format!(
                "the conclusions notice of conference {id} has not been issued yet"
            )));
        }
        decide(receipt, &(*id, site.clone()), AcknowledgeNotice)
    }

    /// The reply view; `site`: a site's own read, with its receipt (`forbidden` for a site not
    /// invited).
    ///
    /// # Errors
    /// `not_found` before the draft opened, `forbidden` for a site not invited.
    pub fn view(
        &self,
        id: ConferenceId,
        minutes: &Minutes,
        calendar: &Calendar,
        today: NaiveDate,
        site: Option<&SiteId>,
    ) -> Result<NoticeView, ApiError> {
        let (Some(day), Some(details)) = (self.conference_day, minutes.details.as_ref()) else {
            return Err(no_minutes(&id));
        };
        let receipt = match site {
            None => None,
            Some(site) => {
                let r = invited(&self.receipts, &id, site)?;
                Some(api::NoticeReceipt {
                    site_id: site.clone(),
                    site_name: minutes.site_name(site),
                    acknowledged_at: r.at,
                })
            }
        };
        let (deadline, holidays_known) = match &self.issued {
            Some(issued) => (issued.deadline, issued.holidays_known),
            None => {
                let counted = calendar.notice_deadline(day);
                (counted.date, counted.holidays_known)
            }
        };
        let status = match (&self.issued, self.published_at) {
            (Some(_), _) => NoticeStatus::Issued,
            (None, Some(_)) => NoticeStatus::Due,
            (None, None) => NoticeStatus::AwaitingMinutes,
        };
        let issued = self.issued.as_ref();
        Ok(NoticeView {
            conference_id: id,
            title: details.title.clone(),
            organizer: details.organizer.clone(),
            conference_day: day,
            status,
            deadline,
            holidays_known,
            overdue: issued.is_none() && today > deadline,
            number: issued.map(|i| i.number.clone()),
            issued_on: issued.map(|i| i.issued_on),
            issued_at: issued.map(|i| i.at),
            late: issued.is_some_and(|i| i.late),
            items: issued
                .map(|i| {
                    i.items
                        .iter()
                        .map(|item| api::NoticeItem {
                            index: item.index,
                            title: item.title.clone(),
                            conclusions: item.conclusions.clone(),
                            tasks: item
                                .tasks
                                .iter()
                                .map(|t| api::NoticeTask {
                                    description: t.description.clone(),
                                    owner_site: t.owner_site.clone(),
                                    owner_name: minutes.site_name(&t.owner_site),
                                    due: t.due,
                                })
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            sites_total: self.receipts.len(),
            acknowledged: self.receipts.values().filter(|r| r.at.is_some()).count(),
            receipt,
        })
    }
}

impl Aggregate for Notice {
    type Id = ConferenceId;
    type Event = MinutesEvent;
    type Command = NoticeCommand;

    /// Issuing again with the same number changes nothing.
    ///
    /// # Errors
    /// `not_found` before the draft opened, `invalid` for a malformed number or date, `conflict`
    /// before publication or for a second number.
    fn handle(&self, id: &ConferenceId, command: NoticeCommand) -> Result<Option<MinutesEvent>, ApiError> {
        let NoticeCommand::Issue { number, issued_on, today, calendar, items } = command;
        let Some(day) = self.conference_day else { return Err(no_minutes(id)) };
        let number = check_number(&number)?;
        if self.published_at.is_none() {
            return Err(ApiError::conflict(format!(
                "the minutes of conference {id} are not published yet; the conclusions notice is issued after \
                 their publication"
            )));
        }
        if let Some(issued) = &self.issued {
            if issued.number == number {
                return Ok(None);
            }
            return Err(ApiError::conflict(format!(
                "the conclusions notice of conference {id} was already issued as number {} on {}; a notice is \
                 issued once",
                issued.number, issued.issued_on
            )));
        }
        let issued_on = issued_on.unwrap_or(today);
        if issued_on > today {
            return Err(ApiError::invalid(format!("issued_on {issued_on} is after today ({today})")));
        }
        if issued_on < day {
            return Err(ApiError::invalid(format!("issued_on {issued_on} is before the conference ({day})")));
        }
        let deadline = calendar.notice_deadline(day);
        Ok(Some(MinutesEvent::NoticeIssued {
            number,
            issued_on,
            deadline: deadline.date,
            holidays_known: deadline.holidays_known,
            late: issued_on > deadline.date,
            items,
        }))
    }

    /// Records an event of the conference: its own subjects' (the minutes' and the notice's), or a
    /// site's (to the site's [`Receipt`]); other subjects (a task's) are not its.
    fn apply(&mut self, event: &MinutesEvent, meta: &EventMeta) {
        let Some(id) = meta.conference_id else { return };
        let event_type = event.event_type();
        if let Some(site) = &meta.site_id {
            if meta.subject == events::conference_site(SERVICE, &id, site, event_type) {
                if let Some(receipt) = self.receipts.get_mut(site) {
                    receipt.apply(event, meta);
                }
            }
            return;
        }
        if meta.subject != events::conference(SERVICE, &id, event_type) {
            return;
        }
        self.last_seq = meta.seq;
        match event {
            MinutesEvent::DraftOpened { details, .. } if !self.is_known() => {
                self.conference_day = Some(details.ends_at.with_timezone(&Ho_Chi_Minh).date_naive());
                self.receipts = details.sites.iter().map(|s| (s.id.clone(), Receipt::default())).collect();
            }
            MinutesEvent::MinutesPublished { .. } => {
                self.published_at.get_or_insert(meta.occurred_at);
            }
            MinutesEvent::NoticeIssued { number, issued_on, deadline, holidays_known, late, items }
                if self.issued.is_none() =>
            {
                self.issued = Some(Issued {
                    number: number.clone(),
                    issued_on: *issued_on,
                    deadline: *deadline,
                    holidays_known: *holidays_known,
                    late: *late,
                    items: items.clone(),
                    at: meta.occurred_at,
                });
            }
            _ => {}
        }
    }

    /// `hoinghi.v1.events.minutes.<conference>.<type>`, on the condition that nothing was written on
    /// the conference's own subjects since it was read.
    fn address(&self, id: &ConferenceId, event: &MinutesEvent) -> Address {
        conference_address(id, event, self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{day as d, read_back, site};
    use hoinghi_runtime::testing::{given, Given, Then};
    use hoinghi_shared::events::Task;
    use hoinghi_shared::ErrorCode;

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    /// A conference held on `day` (Vietnam time) with two invited sites (written as the log holds
    /// it, so fields added later take their defaults).
    fn opened(day: &str) -> MinutesEvent {
        serde_json::from_value(serde_json::json!({"type": "draft_opened", "data": {
            "details": {
                "title": "Hội nghị trực tuyến",
                "organizer": "Tỉnh ủy Bắc Kạn",
                "starts_at": format!("{day}T08:00:00+07:00"),
                "ends_at": format!("{day}T11:30:00+07:00"),
                "host_site": {"id": "tinh-uy", "name": "Tỉnh ủy Bắc Kạn"},
                "sites": [{"id": "ba-be", "name": "Huyện ủy Ba Bể"}, {"id": "na-ri", "name": "Huyện ủy Na Rì"}],
                "chairs": [{"name": "Phương Thị Thanh", "title": ""}],
                "guests": [],
                "agenda": [{"title": "Nhiệm vụ trọng tâm"}]
            },
            "attendance": []
        }}))
        .unwrap()
    }

    fn published() -> MinutesEvent {
        let data = serde_json::json!({"markdown": "# Biên bản", "sha256": "0".repeat(64)});
        serde_json::from_value(serde_json::json!({"type": "minutes_published", "data": data})).unwrap()
    }

    fn items() -> Vec<NoticeItem> {
        vec![NoticeItem {
            index: 0,
            title: "Nhiệm vụ trọng tâm".into(),
            conclusions: vec!["Nhân rộng mô hình Dân vận khéo".into()],
            tasks: vec![Task { description: "Rà soát".into(), owner_site: site("ba-be"), due: d("2026-03-31") }],
        }]
    }

    fn issue(number: &str, issued_on: Option<&str>, today: &str) -> NoticeCommand {
        NoticeCommand::Issue {
            number: number.into(),
            issued_on: issued_on.map(d),
            today: d(today),
            calendar: Arc::new(Calendar::builtin().unwrap()),
            items: items(),
        }
    }

    fn issued(number: &str, issued_on: &str, deadline: &str, late: bool) -> MinutesEvent {
        MinutesEvent::NoticeIssued {
            number: number.into(),
            issued_on: d(issued_on),
            deadline: d(deadline),
            holidays_known: true,
            late,
            items: items(),
        }
    }

    /// A site's event read back on the site's subject, applied through the notice as the
    /// projection applies it.
    fn site_event(notice: &mut Notice, id: ConferenceId, s: &str, event: MinutesEvent, seq: u64) {
        let at = "2026-02-27T03:00:00Z".parse().unwrap();
        notice.apply(&event, &read_back::<Receipt>(&(id, site(s)), &event, seq, at, &site(s)));
    }

    #[test]
    fn a_notice_issued_in_time_across_tet_has_its_deadline_after_the_break() {
        // Given minutes of a conference on Thursday 12 February 2026, published
        let id = id();
        let n = given::<Notice>(id, [opened("2026-02-12"), published()]);
        // When the secretariat issues the notice on 26 February (the 5th working day after Tết)
        let append = n.when(issue("15/TB-TU", Some("2026-02-26"), "2026-03-02")).then(issued(
            "15/TB-TU",
            "2026-02-26",
            "2026-02-26",
            false,
        ));
        // Then it is appended on the conference's subjects, after the minutes' events
        assert_eq!(append.subject, format!("hoinghi.v1.events.minutes.{id}.notice_issued"));
        assert_eq!((append.expect.filter, append.expect.last_seq), (format!("hoinghi.v1.events.minutes.{id}.*"), 2));
    }

    #[test]
    fn a_notice_issued_after_the_deadline_is_marked_late() {
        let id = id();
        let n = given::<Notice>(id, [opened("2026-02-12"), published()]);
        n.when(issue("16/TB-TU", Some("2026-02-27"), "2026-02-27")).then(issued(
            "16/TB-TU",
            "2026-02-27",
            "2026-02-26",
            true,
        ));
        // Issued today by default
        n.when(issue("16/TB-TU", None, "2026-03-05")).then(issued("16/TB-TU", "2026-03-05", "2026-02-26", true));
    }

    #[test]
    fn a_notice_is_issued_only_after_publication_and_once() {
        let id = id();
        given::<Notice>(id, [])
            .when(issue("1/TB-TU", None, "2026-03-02"))
            .then_refused(ErrorCode::NotFound, "no minutes");
        given::<Notice>(id, [opened("2026-02-12")])
            .when(issue("1/TB-TU", None, "2026-03-02"))
            .then_refused(ErrorCode::Conflict, "not published");
        let n = given::<Notice>(
            id,
            [opened("2026-02-12"), published(), issued("1/TB-TU", "2026-02-25", "2026-02-26", false)],
        );
        n.when(issue("1/TB-TU", None, "2026-03-02")).then_nothing();
        n.when(issue(" 1/TB-TU ", Some("2026-03-01"), "2026-03-02")).then_nothing();
        n.when(issue("2/TB-TU", None, "2026-03-02"))
            .then_refused(ErrorCode::Conflict, "already issued as number 1/TB-TU");
        assert_eq!(n.state().issued.as_ref().unwrap().number, "1/TB-TU");
    }

    #[test]
    fn bad_numbers_and_dates_are_refused() {
        let id = id();
        let n = given::<Notice>(id, [opened("2026-02-12"), published()]);
        for bad in
            ["", "TB-TU", "15", "15/", "15/tb-tu", "15//TB", "15/TB-", "1234567/TB", "15 /TB", "15/TB\nx", "15/TB<b>"]
        {
            n.when(issue(bad, None, "2026-03-02")).then_refused(ErrorCode::Invalid, "notice number");
        }
        for good in ["15/TB-TU", "245-TB/TU", "12/TB-VPUBND", "3/TB-ĐU", "7/TB-UBND.VP"] {
            assert!(check_number(good).is_ok(), "{good}");
        }
        n.when(issue("1/TB-TU", Some("2026-03-03"), "2026-03-02")).then_refused(ErrorCode::Invalid, "after today");
        n.when(issue("1/TB-TU", Some("2026-02-11"), "2026-03-02"))
            .then_refused(ErrorCode::Invalid, "before the conference");
    }

    #[test]
    fn only_invited_sites_acknowledge_once_and_only_an_issued_notice() {
        let id = id();
        let n = given::<Notice>(id, [opened("2026-02-12"), published()]);
        Then { decision: n.state().decide_ack(&id, &site("ba-be")) }
            .then_refused(ErrorCode::Conflict, "not been issued");
        Then { decision: given::<Notice>(id, []).state().decide_ack(&id, &site("ba-be")) }
            .then_refused(ErrorCode::NotFound, "no minutes");
        let n: Given<Notice> = n.and(issued("1/TB-TU", "2026-02-25", "2026-02-26", false));
        Then { decision: n.state().decide_ack(&id, &site("cho-don")) }
            .then_refused(ErrorCode::Forbidden, "not invited");
        let Ok(Decision::Append(append)) = n.state().decide_ack(&id, &site("na-ri")) else { panic!("no append") };
        assert_eq!(append.event, MinutesEvent::NoticeAcknowledged {});
        assert_eq!(append.subject, format!("hoinghi.v1.events.minutes.{id}.na-ri.notice_acknowledged"));
        assert_eq!(
            (append.expect.filter, append.expect.last_seq),
            (format!("hoinghi.v1.events.minutes.{id}.na-ri.*"), 0)
        );
        // The site's minutes acknowledgement moves its sequence, and its receipt counts once
        let mut notice = n.state().clone();
        site_event(&mut notice, id, "na-ri", MinutesEvent::MinutesAcknowledged {}, 4);
        let Ok(Decision::Append(append)) = notice.decide_ack(&id, &site("na-ri")) else { panic!("no append") };
        assert_eq!(append.expect.last_seq, 4);
        site_event(&mut notice, id, "na-ri", MinutesEvent::NoticeAcknowledged {}, 5);
        Then { decision: notice.decide_ack(&id, &site("na-ri")) }.then_nothing();
        assert!(notice.receipts[&site("na-ri")].at.is_some());
        assert_eq!(notice.last_seq, 3, "a site's events are not the conference's");
        given::<Receipt>((id, site("ba-be")), []).when(AcknowledgeNotice).then(MinutesEvent::NoticeAcknowledged {});
    }

    #[test]
    fn an_unissued_notice_past_its_deadline_is_overdue() {
        let id = id();
        let calendar = Calendar::builtin().unwrap();
        let n = given::<Notice>(id, [opened("2026-02-12"), published()]);
        assert!(!n.state().is_overdue(&calendar, d("2026-02-26")));
        assert!(n.state().is_overdue(&calendar, d("2026-02-27")));
        let n = n.and(issued("1/TB-TU", "2026-03-02", "2026-02-26", true));
        assert!(!n.state().is_overdue(&calendar, d("2026-03-05")), "issued, late");
        // A 2021 conference: weekends and solar holidays only
        let old = given::<Notice>(id, [opened("2021-07-23")]);
        assert_eq!(old.state().deadline(&calendar).unwrap(), Counted { date: d("2021-07-30"), holidays_known: false });
    }
}
