//! The minutes aggregate of one conference (subject `hoinghi.v1.events.minutes.<conference>.*`) and
//! each site's acknowledgement (`hoinghi.v1.events.minutes.<conference>.<site>.*`).
//!
//! Draft → submitted → approved (by a chair of the conference) → published, then immutable.

use hoinghi_runtime::collections::Map;

use chrono::{DateTime, Utc};
use hoinghi_runtime::input;
use hoinghi_shared::api::{Acknowledgement, AttendanceRecord, MinutesItem, MinutesStatus, MinutesView, Task};
use hoinghi_shared::events::{ConferenceDetails, MinutesEvent};
use hoinghi_shared::limits::{
    describe_size, recorded_item_cost, shrink_page_to_fit, MAX_ITEM_ENTRIES, MAX_NAME_CHARS, MAX_PEOPLE,
    MAX_SPEAKER_CHARS, MAX_TEXT_CHARS, MINUTES_CONTENT_BUDGET, REPLY_BUDGET,
};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::render;

/// One recorded agenda item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Speakers.
    pub speakers: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Conclusions.
    pub conclusions: Vec<String>,
    /// Tasks.
    pub tasks: Vec<Task>,
}

/// A site's acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ack {
    /// When (None: not yet).
    pub at: Option<DateTime<Utc>>,
    /// Last sequence on the site's subject.
    pub last_seq: u64,
}

/// The minutes of one conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minutes {
    /// Where they are in their life.
    pub status: MinutesStatus,
    /// The conference.
    pub details: ConferenceDetails,
    /// Attendance as it happened.
    pub attendance: Vec<AttendanceRecord>,
    /// One slot per agenda item.
    pub items: Vec<Option<Item>>,
    /// The approving chair.
    pub approved_by: Option<String>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// The published document.
    pub markdown: Option<String>,
    /// The length of the document as a JSON string (kept to size replies without encoding it).
    pub markdown_json_len: usize,
    /// Its SHA-256.
    pub sha256: Option<String>,
    /// Acknowledgements by site.
    pub acks: Map<SiteId, Ack>,
    /// Where each linked site is in `details.sites`.
    pub site_index: Map<SiteId, usize>,
    /// Last sequence on the minutes' own subjects.
    pub last_seq: u64,
}

/// A command on the minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinutesCommand {
    /// Record an agenda item (unchecked content).
    Record {
        /// 0-based index.
        item: usize,
        /// Speakers.
        speakers: Vec<String>,
        /// Summary.
        summary: String,
        /// Conclusions.
        conclusions: Vec<String>,
        /// Tasks.
        tasks: Vec<Task>,
    },
    /// Send to the chairs.
    Submit,
    /// A chair approves.
    Approve {
        /// The chair's name.
        by: String,
    },
    /// Publish at this time.
    Publish {
        /// Publication time (the clock is the caller's).
        at: DateTime<Utc>,
    },
}

/// Whether two names are the same person's, ignoring case and surrounding space.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Minutes {
    /// Decides whether to open a draft (from the closed roster). Opening twice changes nothing.
    pub fn open(
        existing: Option<&Self>,
        details: ConferenceDetails,
        attendance: Vec<AttendanceRecord>,
    ) -> Vec<MinutesEvent> {
        match existing {
            Some(_) => vec![],
            None => vec![MinutesEvent::DraftOpened { details, attendance }],
        }
    }

    /// A new draft from its opening event.
    pub fn opened(details: &ConferenceDetails, attendance: &[AttendanceRecord], seq: u64) -> Self {
        Self {
            status: MinutesStatus::Draft,
            items: vec![None; details.agenda.len()],
            details: details.clone(),
            attendance: attendance.to_vec(),
            approved_by: None,
            published_at: None,
            markdown: None,
            markdown_json_len: 0,
            sha256: None,
            acks: details.sites.iter().map(|s| (s.id.clone(), Ack::default())).collect(),
            site_index: details.sites.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect(),
            last_seq: seq,
        }
    }

    /// The name of a site of this conference (the id if unknown).
    pub fn site_name(&self, id: &SiteId) -> String {
        if self.details.host_site.id == *id {
            return self.details.host_site.name.clone();
        }
        self.site_index
            .get(id)
            .and_then(|&i| self.details.sites.get(i))
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    }

    /// What a recorded item takes of [`MINUTES_CONTENT_BUDGET`].
    pub fn item_cost(&self, item: &Item) -> usize {
        recorded_item_cost(&item.speakers, &item.summary, &item.conclusions, &item.tasks, &|s| self.site_name(s))
    }

    /// What every recorded item but `except` takes of [`MINUTES_CONTENT_BUDGET`].
    pub fn recorded_cost_except(&self, except: usize) -> usize {
        self.items
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != except)
            .filter_map(|(_, item)| item.as_ref())
            .map(|item| self.item_cost(item))
            .sum()
    }

    fn is_participant(&self, id: &SiteId) -> bool {
        self.details.host_site.id == *id || self.acks.contains_key(id)
    }

    /// Decides a command.
    ///
    /// # Errors
    /// `invalid` for bad content, `forbidden` for an approval by someone not a chair, `conflict` for a
    /// step the status does not allow.
    pub fn handle(&self, id: &ConferenceId, command: MinutesCommand) -> Result<Vec<MinutesEvent>, ApiError> {
        use MinutesStatus as S;
        match command {
            MinutesCommand::Record { item, speakers, summary, conclusions, tasks } => {
                if self.status != S::Draft {
                    return Err(ApiError::conflict(format!(
                        "the minutes of conference {id} are {}; items can only be recorded in a draft",
                        status_name(self.status)
                    )));
                }
                let Some(agenda) = self.details.agenda.get(item) else {
                    return Err(ApiError::invalid(format!(
                        "item {item} does not exist: the agenda has items 0 to {}",
                        self.details.agenda.len().saturating_sub(1)
                    )));
                };
                input::list_len("speakers", &speakers, 0, MAX_PEOPLE)?;
                input::list_len("conclusions", &conclusions, 0, MAX_ITEM_ENTRIES)?;
                input::list_len("tasks", &tasks, 0, MAX_ITEM_ENTRIES)?;
                let speakers = speakers
                    .iter()
                    .enumerate()
                    .map(|(i, s)| input::text(&format!("speakers[{i}]"), s, MAX_SPEAKER_CHARS, true))
                    .collect::<Result<Vec<_>, _>>()?;
                let summary = input::text("summary", &summary, MAX_TEXT_CHARS, true)?;
                let conclusions = conclusions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| input::text(&format!("conclusions[{i}]"), c, MAX_TEXT_CHARS, true))
                    .collect::<Result<Vec<_>, _>>()?;
                let tasks = tasks
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if !self.is_participant(&t.owner_site) {
                            return Err(ApiError::invalid(format!(
                                "tasks[{i}].owner_site {} is neither the host nor a site invited to conference {id}",
                                t.owner_site
                            )));
                        }
                        Ok(Task {
                            description: input::text(
                                &format!("tasks[{i}].description"),
                                &t.description,
                                MAX_TEXT_CHARS,
                                true,
                            )?,
                            ..t
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let recorded = Item { speakers, summary, conclusions, tasks };
                let cost = self.item_cost(&recorded);
                let others = self.recorded_cost_except(item);
                if cost + others > MINUTES_CONTENT_BUDGET {
                    return Err(ApiError::invalid(format!(
                        "item {item} ({}) takes {} as recorded and the other recorded items {}; the minutes of a \
                         conference hold at most {} of recorded text, counted as it can take in the published \
                         document (punctuation counts 6 bytes, other characters their UTF-8 bytes, a task also its \
                         owner site's name): shorten this item's speakers, summary, conclusions or tasks, or \
                         re-record another item shorter",
                        agenda.title,
                        describe_size(cost),
                        describe_size(others),
                        describe_size(MINUTES_CONTENT_BUDGET)
                    )));
                }
                if self.items.get(item).and_then(Option::as_ref) == Some(&recorded) {
                    return Ok(vec![]);
                }
                Ok(vec![MinutesEvent::ItemRecorded {
                    item,
                    speakers: recorded.speakers,
                    summary: recorded.summary,
                    conclusions: recorded.conclusions,
                    tasks: recorded.tasks,
                }])
            }
            MinutesCommand::Submit => match self.status {
                S::Draft => {
                    if let Some(missing) = self.items.iter().position(Option::is_none) {
                        return Err(ApiError::conflict(format!(
                            "agenda item {missing} ({}) is not recorded yet; record every item before submitting",
                            self.details.agenda.get(missing).map_or("", |a| a.title.as_str())
                        )));
                    }
                    Ok(vec![MinutesEvent::MinutesSubmitted {}])
                }
                S::Submitted => Ok(vec![]),
                other => Err(ApiError::conflict(format!("the minutes are already {}", status_name(other)))),
            },
            MinutesCommand::Approve { by } => {
                let by = input::text("approved_by", &by, MAX_NAME_CHARS, true)?;
                let Some(chair) = self.details.chairs.iter().find(|c| same_name(&c.name, &by)) else {
                    return Err(ApiError::forbidden(format!(
                        "{by} is not a chair of conference {id}; only its chairs may approve the minutes"
                    )));
                };
                match self.status {
                    S::Submitted => Ok(vec![MinutesEvent::MinutesApproved { approved_by: chair.name.clone() }]),
                    S::Approved if self.approved_by.as_deref() == Some(chair.name.as_str()) => Ok(vec![]),
                    S::Draft => Err(ApiError::conflict(
                        "the minutes are still a draft; the minute-taker must submit them first",
                    )),
                    other => Err(ApiError::conflict(format!("the minutes are already {}", status_name(other)))),
                }
            }
            MinutesCommand::Publish { at } => match self.status {
                S::Approved => {
                    let markdown = render::markdown(self, at);
                    let sha256 = render::sha256_hex(&markdown);
                    Ok(vec![MinutesEvent::MinutesPublished { markdown, sha256 }])
                }
                S::Published => Ok(vec![]),
                S::Draft | S::Submitted => Err(ApiError::conflict(format!(
                    "the minutes of conference {id} are {}; a chair must approve them before they are published",
                    status_name(self.status)
                ))),
            },
        }
    }

    /// Decides a site's acknowledgement.
    ///
    /// # Errors
    /// `forbidden` for a site not invited, `conflict` before publication.
    pub fn acknowledge(&self, id: &ConferenceId, site: &SiteId) -> Result<Vec<MinutesEvent>, ApiError> {
        let ack = self
            .acks
            .get(site)
            .ok_or_else(|| ApiError::forbidden(format!("site {site} was not invited to conference {id}")))?;
        if self.status != MinutesStatus::Published {
            return Err(ApiError::conflict(format!("the minutes of conference {id} are not published yet")));
        }
        Ok(if ack.at.is_some() { vec![] } else { vec![MinutesEvent::MinutesAcknowledged {}] })
    }

    /// Applies an event at `seq`, for `site` when it is a site's.
    pub fn apply(&mut self, event: &MinutesEvent, site: Option<&SiteId>, at: DateTime<Utc>, seq: u64) {
        match event {
            MinutesEvent::DraftOpened { .. } => {}
            MinutesEvent::ItemRecorded { item, speakers, summary, conclusions, tasks } => {
                if let Some(slot) = self.items.get_mut(*item) {
                    *slot = Some(Item {
                        speakers: speakers.clone(),
                        summary: summary.clone(),
                        conclusions: conclusions.clone(),
                        tasks: tasks.clone(),
                    });
                }
            }
            MinutesEvent::MinutesSubmitted {} => self.status = MinutesStatus::Submitted,
            MinutesEvent::MinutesApproved { approved_by } => {
                self.status = MinutesStatus::Approved;
                self.approved_by = Some(approved_by.clone());
            }
            MinutesEvent::MinutesPublished { markdown, sha256 } => {
                self.status = MinutesStatus::Published;
                self.markdown = Some(markdown.clone());
                self.markdown_json_len = hoinghi_shared::limits::json_len(markdown);
                self.sha256 = Some(sha256.clone());
                self.published_at = Some(at);
            }
            MinutesEvent::MinutesAcknowledged {} => {
                if let Some(ack) = site.and_then(|s| self.acks.get_mut(s)) {
                    ack.at.get_or_insert(at);
                    ack.last_seq = seq;
                }
                return;
            }
        }
        self.last_seq = seq;
    }

    /// The reply view with the attendance entries in `range`, fewer if the reply would be larger
    /// than [`REPLY_BUDGET`] (the published document and every item are always whole; the client
    /// reads the attendance on from `attendance_offset + attendance.len()`).
    pub fn view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> MinutesView {
        let mut view = self.full_view(id, range);
        // The document is sized once, when published: `,"markdown":` and the JSON string.
        let markdown = view.markdown.take();
        let document = if markdown.is_some() { ",\"markdown\":".len() + self.markdown_json_len } else { 0 };
        shrink_page_to_fit(&mut view, |v| &mut v.attendance, REPLY_BUDGET.saturating_sub(document));
        view.markdown = markdown;
        view
    }

    fn full_view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> MinutesView {
        let d = &self.details;
        MinutesView {
            conference_id: id,
            status: self.status,
            title: d.title.clone(),
            organizer: d.organizer.clone(),
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            host_site: d.host_site.clone(),
            chairs: d.chairs.clone(),
            guests: d.guests.clone(),
            attendance_total: self.attendance.len(),
            attendance_offset: range.start,
            attendance: self.attendance.get(range).unwrap_or_default().to_vec(),
            items: d
                .agenda
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let item = self.items.get(i).cloned().flatten();
                    MinutesItem {
                        index: i,
                        title: a.title.clone(),
                        recorded: item.is_some(),
                        speakers: item.as_ref().map(|x| x.speakers.clone()).unwrap_or_default(),
                        summary: item.as_ref().map(|x| x.summary.clone()).unwrap_or_default(),
                        conclusions: item.as_ref().map(|x| x.conclusions.clone()).unwrap_or_default(),
                        tasks: item.map(|x| x.tasks).unwrap_or_default(),
                    }
                })
                .collect(),
            approved_by: self.approved_by.clone(),
            published_at: self.published_at,
            markdown: self.markdown.clone(),
            sha256: self.sha256.clone(),
            acknowledgements: d
                .sites
                .iter()
                .filter_map(|s| {
                    self.acks.get(&s.id).and_then(|a| a.at).map(|at| Acknowledgement { site_id: s.id.clone(), at })
                })
                .collect(),
        }
    }
}

fn status_name(status: MinutesStatus) -> &'static str {
    match status {
        MinutesStatus::Draft => "a draft",
        MinutesStatus::Submitted => "submitted and waiting for approval",
        MinutesStatus::Approved => "approved",
        MinutesStatus::Published => "published",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDate;
    use hoinghi_shared::api::{AgendaItem, AttendanceStatus, Person, SiteRef};
    use hoinghi_shared::ErrorCode;

    fn site(id: &str) -> SiteId {
        SiteId::parse(id).unwrap()
    }

    fn details() -> ConferenceDetails {
        ConferenceDetails {
            title: "Hội nghị trực tuyến sơ kết công tác dân vận".into(),
            organizer: "Tỉnh ủy Bắc Kạn".into(),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:30:00+07:00").unwrap(),
            host_site: SiteRef { id: site("tinh-uy"), name: "Tỉnh ủy Bắc Kạn".into() },
            sites: vec![
                SiteRef { id: site("ba-be"), name: "Huyện ủy Ba Bể".into() },
                SiteRef { id: site("na-ri"), name: "Huyện ủy Na Rì".into() },
            ],
            chairs: vec![Person {
                name: "Phương Thị Thanh".into(), title: "Phó Bí thư Thường trực Tỉnh ủy".into()
            }],
            guests: vec![Person { name: "Phạm Duy Hưng".into(), title: "Phó Chủ tịch UBND tỉnh".into() }],
            agenda: vec![AgendaItem { title: "Báo cáo sơ kết".into() }],
        }
    }

    fn attendance() -> Vec<AttendanceRecord> {
        vec![
            AttendanceRecord {
                site_id: site("ba-be"),
                site_name: "Huyện ủy Ba Bể".into(),
                status: AttendanceStatus::CheckedIn,
                confirmed: true,
                delegates: vec![Person { name: "Hoàng Văn A".into(), title: "Bí thư".into() }],
                headcount: 12,
                decline_reason: None,
                checked_in_at: Some(Utc::now()),
            },
            AttendanceRecord {
                site_id: site("na-ri"),
                site_name: "Huyện ủy Na Rì".into(),
                status: AttendanceStatus::Declined,
                confirmed: false,
                delegates: vec![],
                headcount: 0,
                decline_reason: Some("Lũ quét chia cắt đường".into()),
                checked_in_at: None,
            },
        ]
    }

    fn record() -> MinutesCommand {
        MinutesCommand::Record {
            item: 0,
            speakers: vec!["Ma Từ Đông Điền".into()],
            summary: "Toàn tỉnh có 2.011 mô hình \"Dân vận khéo\".".into(),
            conclusions: vec!["Tiếp tục nhân rộng mô hình".into()],
            tasks: vec![Task {
                description: "Rà soát nghị quyết".into(),
                owner_site: site("ba-be"),
                due: NaiveDate::from_ymd_opt(2021, 9, 30).unwrap(),
            }],
        }
    }

    /// Given these events, the minutes.
    fn given(events: &[MinutesEvent]) -> Minutes {
        let mut m = Minutes::opened(&details(), &attendance(), 1);
        for (i, e) in events.iter().enumerate() {
            m.apply(e, None, Utc::now(), i as u64 + 2);
        }
        m
    }

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    fn recorded() -> MinutesEvent {
        given(&[]).handle(&id(), record()).unwrap().remove(0)
    }

    #[test]
    fn a_draft_opens_once() {
        let m = given(&[]);
        assert!(Minutes::open(Some(&m), details(), attendance()).is_empty());
        assert_eq!(Minutes::open(None, details(), attendance()).len(), 1);
    }

    #[test]
    fn every_item_must_be_recorded_before_submitting() {
        let err = given(&[]).handle(&id(), MinutesCommand::Submit).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        assert!(err.message.contains("Báo cáo sơ kết"));
        assert_eq!(given(&[recorded()]).handle(&id(), MinutesCommand::Submit).unwrap().len(), 1);
    }

    #[test]
    fn a_task_must_belong_to_a_site_of_the_conference() {
        let MinutesCommand::Record { item, speakers, summary, conclusions, mut tasks } = record() else {
            unreachable!()
        };
        tasks[0].owner_site = site("cho-don");
        let err = given(&[])
            .handle(&id(), MinutesCommand::Record { item, speakers, summary, conclusions, tasks })
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
    }

    #[test]
    fn an_item_outside_the_agenda_is_refused() {
        let MinutesCommand::Record { speakers, summary, conclusions, tasks, .. } = record() else { unreachable!() };
        let err = given(&[])
            .handle(&id(), MinutesCommand::Record { item: 7, speakers, summary, conclusions, tasks })
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
    }

    #[test]
    fn only_a_chair_may_approve() {
        let m = given(&[recorded(), MinutesEvent::MinutesSubmitted {}]);
        let err = m.handle(&id(), MinutesCommand::Approve { by: "Phạm Duy Hưng".into() }).unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        let events = m.handle(&id(), MinutesCommand::Approve { by: " phương thị thanh ".into() }).unwrap();
        assert_eq!(events, vec![MinutesEvent::MinutesApproved { approved_by: "Phương Thị Thanh".into() }]);
    }

    #[test]
    fn unapproved_minutes_cannot_be_published() {
        let m = given(&[recorded(), MinutesEvent::MinutesSubmitted {}]);
        assert_eq!(m.handle(&id(), MinutesCommand::Publish { at: Utc::now() }).unwrap_err().code, ErrorCode::Conflict);
    }

    #[test]
    fn published_minutes_are_immutable_and_carry_their_hash() {
        let approved = MinutesEvent::MinutesApproved { approved_by: "Phương Thị Thanh".into() };
        let m = given(&[recorded(), MinutesEvent::MinutesSubmitted {}, approved.clone()]);
        let events = m.handle(&id(), MinutesCommand::Publish { at: Utc::now() }).unwrap();
        let MinutesEvent::MinutesPublished { markdown, sha256 } = &events[0] else { panic!() };
        assert_eq!(*sha256, render::sha256_hex(markdown));
        for needle in [
            "Huyện ủy Ba Bể",
            "Hoàng Văn A",
            "Lũ quét chia cắt đường",
            "Phạm Duy Hưng",
            "Báo cáo sơ kết",
            "Rà soát nghị quyết",
            "30/09/2021",
            "08:00",
        ] {
            assert!(markdown.contains(needle), "markdown lacks {needle}:\n{markdown}");
        }
        let published = given(&[recorded(), MinutesEvent::MinutesSubmitted {}, approved, events[0].clone()]);
        assert_eq!(published.handle(&id(), record()).unwrap_err().code, ErrorCode::Conflict);
        assert!(published.handle(&id(), MinutesCommand::Publish { at: Utc::now() }).unwrap().is_empty());
    }

    /// Text that counts exactly `cost` and takes as many bytes: emoji, then letters.
    fn text(cost: usize) -> String {
        let mut t = "😀".repeat(cost / 4);
        t.push_str(&"a".repeat(cost % 4));
        t
    }

    /// Minutes of a conference with `items` agenda items.
    fn draft_of(items: usize) -> Minutes {
        let mut d = details();
        d.agenda = (0..items).map(|i| AgendaItem { title: format!("Nội dung {i}") }).collect();
        Minutes::opened(&d, &attendance(), 1)
    }

    /// Recording `item` with a summary and conclusions that cost `cost` in all.
    fn record_of(item: usize, cost: usize) -> MinutesCommand {
        let mut left = cost - hoinghi_shared::limits::RECORDED_ITEM_OVERHEAD;
        let summary = text(left.min(4 * MAX_TEXT_CHARS));
        left -= summary.len();
        let mut conclusions = vec![];
        while left > 0 {
            let c = (left - hoinghi_shared::limits::ITEM_ENTRY_OVERHEAD).min(4 * MAX_TEXT_CHARS);
            conclusions.push(text(c));
            left -= c + hoinghi_shared::limits::ITEM_ENTRY_OVERHEAD;
        }
        MinutesCommand::Record { item, speakers: vec![], summary, conclusions, tasks: vec![] }
    }

    fn apply_all(m: &mut Minutes, events: Vec<MinutesEvent>) {
        for e in events {
            m.apply(&e, None, Utc::now(), m.last_seq + 1);
        }
    }

    #[test]
    fn recording_more_than_the_minutes_budget_is_refused_and_changes_nothing() {
        // Given a draft with one item recorded at 200 KiB
        let mut m = draft_of(2);
        let events = m.handle(&id(), record_of(0, 200 * 1024)).unwrap();
        apply_all(&mut m, events);
        assert_eq!(m.recorded_cost_except(1), 200 * 1024);
        // When the other item would take the minutes 1 byte over 256 KiB, then it is refused
        let err = m.handle(&id(), record_of(1, 56 * 1024 + 1)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
        for hint in ["item 1 (Nội dung 1)", "56.0 KiB", "200 KiB", "at most 256 KiB", "shorten"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        // And up to the budget exactly, it is recorded
        assert_eq!(m.handle(&id(), record_of(1, 56 * 1024)).unwrap().len(), 1);
    }

    #[test]
    fn re_recording_an_item_replaces_its_share_of_the_budget() {
        // Given both items recorded, 200 KiB and 56 KiB: the budget is full
        let mut m = draft_of(2);
        for (item, cost) in [(0, 200 * 1024), (1, 56 * 1024)] {
            let events = m.handle(&id(), record_of(item, cost)).unwrap();
            apply_all(&mut m, events);
        }
        // When item 0 is recorded again at 200 KiB (other words), then it replaces the first record
        let MinutesCommand::Record { item, speakers, mut summary, conclusions, tasks } = record_of(0, 200 * 1024)
        else {
            unreachable!()
        };
        summary.replace_range(0..4, "🙂");
        let again = MinutesCommand::Record { item, speakers, summary, conclusions, tasks };
        assert_eq!(m.handle(&id(), again).unwrap().len(), 1);
        // And when it grows by one byte, it does not fit
        assert_eq!(m.handle(&id(), record_of(0, 200 * 1024 + 1)).unwrap_err().code, ErrorCode::Invalid);
    }

    #[test]
    fn a_task_counts_its_owner_sites_name() {
        // Given a draft whose site Ba Bể has a 200-emoji name
        let mut d = details();
        d.sites[0].name = "😀".repeat(MAX_NAME_CHARS);
        let m = Minutes::opened(&d, &attendance(), 1);
        let task = Task { description: "x".into(), owner_site: site("ba-be"), due: NaiveDate::MIN };
        let item = Item { speakers: vec![], summary: "y".into(), conclusions: vec![], tasks: vec![task] };
        // Then the item costs the owner's name too (800 bytes)
        assert_eq!(
            m.item_cost(&item),
            hoinghi_shared::limits::RECORDED_ITEM_OVERHEAD + 1 + 1 + 5 + 800 + hoinghi_shared::limits::TASK_OVERHEAD
        );
    }

    #[test]
    fn only_invited_sites_acknowledge_and_only_once_published() {
        let m = given(&[]);
        assert_eq!(m.acknowledge(&id(), &site("ba-be")).unwrap_err().code, ErrorCode::Conflict);
        assert_eq!(m.acknowledge(&id(), &site("cho-don")).unwrap_err().code, ErrorCode::Forbidden);
    }
}

#[cfg(test)]
mod worst_case {
    //! Conferences filled to every budget with the content that takes the most bytes for what it
    //! counts (emoji: 4 bytes, counted 4), checked message by message against the limits.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDate;
    use hoinghi_shared::api::{AgendaItem, AttendanceStatus, Person, SiteRef, MAX_PAGE};
    use hoinghi_shared::events::{AttendanceEvent, DomainEvent, EventEnvelope};
    use hoinghi_shared::limits::*;

    /// Text that counts exactly `cost` and takes as many bytes: emoji, then letters.
    fn text(cost: usize) -> String {
        let mut t = "😀".repeat(cost / 4);
        t.push_str(&"a".repeat(cost % 4));
        t
    }

    /// The `i`-th id of `len` base-36 digits.
    fn slug(i: usize, len: usize) -> SiteId {
        let mut n = i;
        let id: String = (0..len)
            .map(|_| {
                let digit = n % 36;
                n /= 36;
                char::from_digit(digit as u32, 36).unwrap()
            })
            .collect();
        SiteId::parse(&id).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A conference whose own text is small, or as large as the input limits allow.
    fn conference(largest_text: bool) -> ConferenceDetails {
        let (title, name, person_title, agenda) =
            if largest_text { (4 * 500, 4 * 200, 4 * 500, MAX_AGENDA) } else { (60, 30, 30, 2) };
        let people = if largest_text { MAX_PEOPLE } else { 1 };
        let person = || Person { name: text(name), title: text(person_title) };
        ConferenceDetails {
            title: text(title),
            organizer: text(name),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:30:00+07:00").unwrap(),
            host_site: SiteRef { id: slug(0, if largest_text { 64 } else { 6 }), name: text(name) },
            sites: vec![],
            chairs: (0..people).map(|_| person()).collect(),
            guests: (0..people).map(|_| person()).collect(),
            agenda: (0..agenda).map(|_| AgendaItem { title: text(title) }).collect(),
        }
    }

    const MAX_AGENDA: usize = hoinghi_shared::limits::MAX_AGENDA_ITEMS;

    /// Links as many sites with ids of `id_len` and names costing `name_cost` as the fixed budget
    /// takes.
    fn fill_sites(details: &mut ConferenceDetails, id_len: usize, name_cost: usize) {
        let each = site_fixed_cost(&"x".repeat(id_len), &text(name_cost));
        let room = RECORD_FIXED_BUDGET - conference_fixed_cost(details);
        details.sites = (1..=room / each).map(|i| SiteRef { id: slug(i, id_len), name: text(name_cost) }).collect();
        assert!(conference_fixed_cost(details) <= RECORD_FIXED_BUDGET);
        assert!(RECORD_FIXED_BUDGET - conference_fixed_cost(details) < each, "the fixed budget is full");
    }

    /// Delegates whose confirmation costs `cost` (or as much as the input limits allow).
    fn delegates(cost: usize) -> Vec<Person> {
        let mut left = cost - CONFIRMATION_OVERHEAD;
        let mut out = vec![];
        while left > PERSON_OVERHEAD && out.len() < MAX_PEOPLE {
            let take = left.min(PERSON_OVERHEAD + 4 * MAX_NAME_CHARS + 4 * 500);
            let name = (take - PERSON_OVERHEAD).min(4 * MAX_NAME_CHARS);
            out.push(Person { name: text(name), title: text(take - PERSON_OVERHEAD - name) });
            left -= take;
        }
        out
    }

    /// Every site answers with its whole share (confirming or declining in turn, or all declining),
    /// and checks in on another day than the session's (the longest form of the time in the
    /// document).
    fn answers(details: &ConferenceDetails, all_decline: bool) -> Vec<AttendanceRecord> {
        let share = site_answer_budget(details.sites.len());
        let checked_in_at = Some(at("2021-07-24T01:02:03.123456789Z"));
        let mut total = 0;
        let records = details
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (confirmed, delegates, headcount, decline_reason) = if i % 2 == 0 && !all_decline {
                    let d = delegates(share);
                    total += confirmation_cost(&d);
                    (true, d, MAX_HEADCOUNT, None)
                } else {
                    let reason = text((share - DECLINE_OVERHEAD).min(4 * MAX_TEXT_CHARS));
                    total += decline_cost(&reason);
                    (false, vec![], 0, Some(reason))
                };
                AttendanceRecord {
                    site_id: s.id.clone(),
                    site_name: s.name.clone(),
                    status: AttendanceStatus::CheckedIn,
                    confirmed,
                    delegates,
                    headcount,
                    decline_reason,
                    checked_in_at,
                }
            })
            .collect();
        assert!(total <= RECORD_VARIABLE_BUDGET);
        records
    }

    /// Records every item up to the minutes budget, each with a task owned by the site with the
    /// longest name; submits, approves, publishes; every site acknowledges.
    fn publish(m: &mut Minutes, id: &ConferenceId) {
        let owner =
            m.details.sites.iter().max_by_key(|s| s.id.as_str().len() + content_cost(&s.name)).unwrap().id.clone();
        let per_item = MINUTES_CONTENT_BUDGET / m.details.agenda.len();
        let mut seq = 10;
        let mut step = |m: &mut Minutes, command: MinutesCommand| {
            for event in m.handle(id, command).unwrap() {
                seq += 1;
                m.apply(&event, None, Utc::now(), seq);
            }
        };
        for item in 0..m.details.agenda.len() {
            let task = Task { description: text(400), owner_site: owner.clone(), due: NaiveDate::MAX };
            let mut left = per_item - RECORDED_ITEM_OVERHEAD - task_cost(&task, &m.site_name(&owner));
            let summary = text(left.min(4 * MAX_TEXT_CHARS));
            left -= summary.len();
            let mut conclusions = vec![];
            while left > ITEM_ENTRY_OVERHEAD {
                let c = (left - ITEM_ENTRY_OVERHEAD).min(4 * MAX_TEXT_CHARS);
                conclusions.push(text(c));
                left -= c + ITEM_ENTRY_OVERHEAD;
            }
            let speakers = vec![];
            step(m, MinutesCommand::Record { item, speakers, summary, conclusions, tasks: vec![task] });
        }
        assert!(MINUTES_CONTENT_BUDGET - m.recorded_cost_except(usize::MAX) < 2 * m.details.agenda.len() * 8);
        step(m, MinutesCommand::Submit);
        let chair = m.details.chairs[0].name.clone();
        step(m, MinutesCommand::Approve { by: chair });
        step(m, MinutesCommand::Publish { at: at("2021-07-25T10:11:12.123456789Z") });
        assert_eq!(m.status, MinutesStatus::Published);
        let sites: Vec<SiteId> = m.details.sites.iter().map(|s| s.id.clone()).collect();
        for site in sites {
            m.apply(&MinutesEvent::MinutesAcknowledged {}, Some(&site), at("2021-07-26T10:11:12.123456789Z"), 1);
        }
    }

    /// The bytes of an event as appended, with every envelope field a reaction sets.
    fn event_len<E: DomainEvent>(event: &E, id: ConferenceId) -> usize {
        let mut head = EventEnvelope::head(event, "service:hoinghi-attendance");
        head.conference_id = Some(id);
        head.command_id = Some(format!("hoinghi-attendance:{}", uuid::Uuid::now_v7()));
        head.causation_id = Some(uuid::Uuid::now_v7());
        head.trace_id = Some("0af7651916cd43dd8448eb211c80319c".into());
        head.encode_with(event).unwrap().len()
    }

    /// Every message of the conference's life that holds its record or its minutes, by size.
    fn check(name: &str, details: ConferenceDetails, all_decline: bool) {
        let id = ConferenceId::generate();
        let attendance = answers(&details, all_decline);
        let closed =
            event_len(&AttendanceEvent::RosterClosed { details: details.clone(), attendance: attendance.clone() }, id);
        let opened =
            event_len(&MinutesEvent::DraftOpened { details: details.clone(), attendance: attendance.clone() }, id);
        let mut m = Minutes::opened(&details, &attendance, 1);
        publish(&mut m, &id);
        let markdown = m.markdown.clone().unwrap();
        let published =
            event_len(&MinutesEvent::MinutesPublished { markdown: markdown.clone(), sha256: "0".repeat(64) }, id);
        let n = details.sites.len();
        let without_page = json_len(&m.full_view(id, 0..0));
        let asked = json_len(&m.full_view(id, 0..n.min(MAX_PAGE)));
        let reply = m.view(id, 0..n.min(MAX_PAGE));
        let reply_len = json_len(&reply);
        eprintln!(
            "{name}: {n} sites; roster_closed {closed}, draft_opened {opened}, markdown {}, minutes_published \
             {published}, minutes reply {reply_len} with {} of {} attendance lines (without any {without_page}, \
             with the page asked for {asked}); budget {MESSAGE_BUDGET}",
            markdown.len(),
            reply.attendance.len(),
            n.min(MAX_PAGE),
        );
        for (what, len) in [
            ("roster_closed", closed),
            ("draft_opened", opened),
            ("markdown", markdown.len()),
            ("minutes_published", published),
        ] {
            assert!(len <= MESSAGE_BUDGET, "{name}: {what} takes {len}");
        }
        assert!(without_page <= REPLY_BUDGET, "{name}: the minutes reply without attendance takes {without_page}");
        assert!(reply_len <= REPLY_BUDGET, "{name}: the minutes reply takes {reply_len}");
        assert_eq!(reply.attendance_total, n);
    }

    #[test]
    fn many_sites_with_the_shortest_ids_and_names() {
        let mut details = conference(false);
        fill_sites(&mut details, 4, 1);
        check("shortest ids and names", details.clone(), false);
        check("shortest ids and names, all declining", details, true);
    }

    #[test]
    fn the_longest_conference_text_and_the_longest_site_names() {
        let mut details = conference(true);
        fill_sites(&mut details, 64, 4 * MAX_NAME_CHARS);
        check("longest conference text and site names", details, false);
    }

    #[test]
    fn a_few_sites_answering_as_much_as_the_input_limits_allow() {
        let mut details = conference(false);
        details.sites = (1..=8).map(|i| SiteRef { id: slug(i, 8), name: text(4 * MAX_NAME_CHARS) }).collect();
        check("eight sites", details, false);
    }

    #[test]
    fn the_benchmarks_sites_answering_their_whole_share() {
        let mut details = conference(false);
        details.sites = (0..20_000).map(|i| SiteRef { id: slug(i, 8), name: format!("Điểm cầu xã số {i}") }).collect();
        assert!(conference_fixed_cost(&details) <= RECORD_FIXED_BUDGET);
        check("the benchmark's 20,000 sites", details, false);
    }
}
