//! The minutes aggregate of one conference (subject `hoinghi.v1.events.minutes.<conference>.*`) and
//! each site's acknowledgement (`hoinghi.v1.events.minutes.<conference>.<site>.*`).
//!
//! Draft → submitted → approved (by a chair of the conference) → published, then immutable.

use hoinghi_runtime::collections::Map;

use chrono::{DateTime, Utc};
use hoinghi_runtime::input;
use hoinghi_shared::api::{Acknowledgement, AttendanceRecord, MinutesItem, MinutesStatus, MinutesView, Task};
use hoinghi_shared::events::{ConferenceDetails, MinutesEvent};
use hoinghi_shared::limits::{MAX_ITEM_ENTRIES, MAX_NAME_CHARS, MAX_PEOPLE, MAX_SPEAKER_CHARS, MAX_TEXT_CHARS};
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
    /// Its SHA-256.
    pub sha256: Option<String>,
    /// Acknowledgements by site.
    pub acks: Map<SiteId, Ack>,
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
            sha256: None,
            acks: details.sites.iter().map(|s| (s.id.clone(), Ack::default())).collect(),
            last_seq: seq,
        }
    }

    /// The name of a site of this conference (the id if unknown).
    pub fn site_name(&self, id: &SiteId) -> String {
        if self.details.host_site.id == *id {
            return self.details.host_site.name.clone();
        }
        self.details.sites.iter().find(|s| s.id == *id).map_or_else(|| id.to_string(), |s| s.name.clone())
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
                let _ = agenda;
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

    /// The reply view with the attendance entries in `range`.
    pub fn view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> MinutesView {
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

    #[test]
    fn only_invited_sites_acknowledge_and_only_once_published() {
        let m = given(&[]);
        assert_eq!(m.acknowledge(&id(), &site("ba-be")).unwrap_err().code, ErrorCode::Conflict);
        assert_eq!(m.acknowledge(&id(), &site("cho-don")).unwrap_err().code, ErrorCode::Forbidden);
    }
}
