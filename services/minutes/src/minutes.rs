//! The minutes aggregates of one conference: the minutes themselves, [`Minutes`] (subject
//! `hoinghi.v1.events.minutes.<conference>.*`), and each site's acknowledgement, [`Ack`]
//! (`hoinghi.v1.events.minutes.<conference>.<site>.*`), held by the minutes, which admit a site's
//! acknowledgement (the site invited, the minutes published) before the site's [`Ack`] decides it
//! ([`Minutes::decide_ack`]).
//!
//! Not opened → draft → submitted → approved → published, then immutable. Each submission is a
//! version (1, 2, …) whose items are kept; the chairs approve a version, as the conference's
//! [`ApprovalPolicy`] needs (any one chair, or every chair), or one of them requests changes, which
//! makes the minutes a draft again for the minute-taker to revise and submit as the next version.
//!
//! Every command but the opening is a person's ([`PersonId`], from the subject NATS lets only that
//! person publish on), and the aggregate checks the person's part in the conference before anything
//! else: recording, submitting and publishing are its minute-takers', approving and requesting
//! changes its chairs', each chair bound to a person by the conference. An approval is recorded as
//! that person, with the name the conference gives their chair: nobody can approve in another
//! chair's name.

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{decide, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::input;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_shared::api::{
    self, Acknowledgement, ChangedItem, DocumentForm, MinutesItem, MinutesStatus, MinutesView, VersionChanges,
};
use hoinghi_shared::events::{
    ApprovalPolicy, AttendanceEntry, Chair, ConferenceDetails, MinutesEvent, StoredObject, Task,
};
use hoinghi_shared::limits::{
    describe_size, recorded_item_cost, shrink_page_to_fit, MAX_ITEM_ENTRIES, MAX_PEOPLE, MAX_SPEAKER_CHARS,
    MAX_TEXT_CHARS, MINUTES_CONTENT_BUDGET, REPLY_BUDGET,
};
use hoinghi_shared::{ApiError, ConferenceId, PersonId, SiteId};

use crate::receipt::{conference_address, invited, Document, SiteReceipt};
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

/// Longest comment of a change request, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// Most versions the minutes may have (submissions).
pub const MAX_VERSIONS: usize = 20;

/// A chair's approval, or request for changes, of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signoff {
    /// The chair's name, as the conference binds it to the person.
    pub by: String,
    /// The person who signed (`None` in events written before chairs were persons).
    pub person: Option<PersonId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A chair's request for changes to one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    /// Who asked, and when.
    pub signoff: Signoff,
    /// What should change.
    pub comment: String,
}

/// One submitted version of the minutes: its items as submitted, and what the chairs did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The items as submitted.
    pub items: Vec<Option<Item>>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// The approvals, in order.
    pub approvals: Vec<Signoff>,
    /// The request for changes that ended it, if one did.
    pub change_request: Option<ChangeRequest>,
}

/// A site's acknowledgement of the published minutes: the aggregate of one site in one conference.
/// `Default` is "not acknowledged".
pub type Ack = SiteReceipt<Acknowledge>;

/// The minutes of one conference. `Default` is minutes whose draft has not opened (the session has
/// not ended, or its closed roster has not been processed yet): no status, no details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minutes {
    /// Where they are in their life (`None` until the draft opens).
    pub status: Option<MinutesStatus>,
    /// The conference (`None` until the draft opens).
    pub details: Option<ConferenceDetails>,
    /// Attendance as it happened.
    pub attendance: Vec<AttendanceEntry>,
    /// The attendance record `draft_opened` stored out of line, until it is read back and checked
    /// ([`Self::fill_record`]): `attendance`, `quorum` and `floor_speakers` are empty until then, and
    /// nothing that shows or decides on them is answered ([`Self::ensure_record`]).
    pub record_pending: Option<hoinghi_shared::events::StoredObject>,
    /// The quorum as recorded during the session (empty without a quorum rule).
    pub quorum: Vec<hoinghi_shared::events::QuorumSnapshot>,
    /// Per agenda item, who had the floor on it (`<site name>: <topic>`, from the attendance
    /// record): the item's speakers until the minute-taker records it (a record replaces them).
    pub floor_speakers: Vec<Vec<String>>,
    /// One slot per agenda item.
    pub items: Vec<Option<Item>>,
    /// The first chair who approved the current version (every approval is in `versions`).
    pub approved_by: Option<String>,
    /// Every submitted version, in order (version `n` is at `n - 1`).
    pub versions: Vec<Version>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// The published document, when the event carries it inline (`None` when it is stored out of
    /// line, [`Self::document`]).
    pub markdown: Option<String>,
    /// The published document stored out of line in the records bucket, when larger than
    /// [`INLINE_LIMIT`](hoinghi_runtime::records::INLINE_LIMIT): read back when a reply needs it
    /// ([`crate::document`]), never held here.
    pub document: Option<StoredObject>,
    /// The SHA-256 of the whole document (inline or stored).
    pub sha256: Option<String>,
    /// The SHA-256 of the HTML form (not stored: rendered again when asked for, see
    /// [`render`](crate::render#why-the-html-is-not-stored)); `None` for minutes published before
    /// the HTML form existed.
    pub html_sha256: Option<String>,
    /// Acknowledgements by site: every linked site has one from the draft's opening.
    pub acks: Map<SiteId, Ack>,
    /// Where each linked site is in `details.sites`.
    pub site_index: Map<SiteId, usize>,
    /// Last sequence on the minutes' own subjects (0: none).
    pub last_seq: u64,
}

/// A command on the minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinutesCommand {
    /// Open the draft (the roster closed with this record).
    Open {
        /// The conference.
        details: Box<ConferenceDetails>,
        /// Attendance as it happened.
        attendance: Vec<AttendanceEntry>,
        /// The quorum as recorded during the session.
        quorum: Vec<hoinghi_shared::events::QuorumSnapshot>,
        /// Who had the floor on each item.
        speakers: Vec<hoinghi_shared::events::FloorSpeaker>,
        /// The object the record above was read from, checked (`roster_closed` kept it out of
        /// line): the draft's opening references it and carries none of the record.
        record: Option<hoinghi_shared::events::StoredObject>,
    },
    /// A minute-taker records an agenda item (unchecked content, as requested).
    Record {
        /// The person recording.
        by: PersonId,
        /// 0-based index.
        item: usize,
        /// Speakers.
        speakers: Vec<String>,
        /// Summary.
        summary: String,
        /// Conclusions.
        conclusions: Vec<String>,
        /// Tasks.
        tasks: Vec<api::Task>,
    },
    /// A minute-taker sends the draft to the chairs.
    Submit {
        /// The person submitting.
        by: PersonId,
    },
    /// A chair approves the submitted version.
    Approve {
        /// The person approving: the chair is the one the conference binds to them.
        by: PersonId,
    },
    /// A chair asks for changes to the submitted version instead of approving it.
    RequestChanges {
        /// The person asking.
        by: PersonId,
        /// What should change.
        comment: String,
    },
    /// A minute-taker publishes at this time.
    Publish {
        /// The person publishing.
        by: PersonId,
        /// Publication time (the clock is the caller's).
        at: DateTime<Utc>,
    },
}

/// A site acknowledges receipt of the published minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acknowledge;

impl Document for Acknowledge {
    fn acknowledged() -> MinutesEvent {
        MinutesEvent::MinutesAcknowledged {}
    }
}

/// The 404 of minutes that do not exist (yet).
pub fn no_minutes(id: &ConferenceId) -> ApiError {
    ApiError::not_found(format!(
        "no minutes for conference {id}: it does not exist or its session has not ended yet (the draft opens when it ends)"
    ))
}

/// The whole published document a reply carries a page of: its form and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentText<'a> {
    /// The Markdown (the record) or its HTML form.
    pub form: DocumentForm,
    /// The whole text.
    pub text: &'a str,
}

impl<'a> DocumentText<'a> {
    /// The Markdown.
    pub fn markdown(text: &'a str) -> Self {
        Self { form: DocumentForm::Markdown, text }
    }

    /// The HTML form.
    pub fn html(text: &'a str) -> Self {
        Self { form: DocumentForm::Html, text }
    }

    /// The field of a reply that carries a page of this form.
    fn slot(self, view: &mut MinutesView) -> &mut Option<String> {
        match self.form {
            DocumentForm::Markdown => &mut view.markdown,
            DocumentForm::Html => &mut view.html,
        }
    }
}

/// Which page of the published document a reply carries (`document_offset`, `document_limit` of
/// [`api::GetMinutes`]); the default is the first page of the default size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentWindow {
    /// Byte offset.
    pub offset: usize,
    /// Most bytes (`None`: the default page).
    pub limit: Option<usize>,
}

impl From<&api::GetMinutes> for DocumentWindow {
    fn from(query: &api::GetMinutes) -> Self {
        Self { offset: query.document_offset, limit: query.document_limit }
    }
}

/// Whether `signoff` is `chair`'s: the same person, or for a signoff or chair written before chairs
/// were persons, the same name (compared as [`input::same_person`] does).
fn signed_by(signoff: &Signoff, chair: &Chair) -> bool {
    match (&signoff.person, &chair.person_id) {
        (Some(person), Some(chair)) => person == chair,
        _ => input::same_person(&signoff.by, &chair.name),
    }
}

impl Minutes {
    /// Whether the draft opened.
    pub fn is_opened(&self) -> bool {
        self.status.is_some()
    }

    /// The attendance record of the draft's opening: every site's line, the quorum, the speakers.
    fn fill(
        &mut self,
        attendance: Vec<AttendanceEntry>,
        quorum: Vec<hoinghi_shared::events::QuorumSnapshot>,
        speakers: &[hoinghi_shared::events::FloorSpeaker],
    ) {
        for s in speakers {
            if let Some(item) = self.floor_speakers.get_mut(s.item) {
                item.push(s.minutes_line());
            }
        }
        self.attendance = attendance;
        self.quorum = quorum;
    }

    /// Fills in the record `draft_opened` stored out of line, read back and checked against
    /// `reference`; nothing when that is not the record these minutes wait for. Returns whether it
    /// was filled in.
    pub fn fill_record(
        &mut self,
        reference: &hoinghi_shared::events::StoredObject,
        record: hoinghi_shared::events::FinalRecord,
    ) -> bool {
        if self.record_pending.as_ref() != Some(reference) {
            return false;
        }
        self.record_pending = None;
        self.fill(record.attendance, record.quorum, &record.speakers);
        true
    }

    /// Whether the attendance record is here (inline, or read back from the object store).
    ///
    /// # Errors
    /// `unavailable` while the record stored out of line is being read back (retry shortly).
    pub fn ensure_record(&self, id: &ConferenceId) -> Result<(), ApiError> {
        match &self.record_pending {
            None => Ok(()),
            Some(record) => Err(ApiError::unavailable(format!(
                "the attendance record of conference {id} ({} bytes, stored out of line as {}) is not read back yet; \
                 retry in a moment (if this persists, the minutes service's log says why it cannot be read)",
                record.size, record.object
            ))),
        }
    }

    /// The name of a site of this conference (the id if unknown).
    pub fn site_name(&self, id: &SiteId) -> String {
        let Some(details) = &self.details else { return id.to_string() };
        if details.host_site.id == *id {
            return details.host_site.name.clone();
        }
        self.site_index.get(id).and_then(|&i| details.sites.get(i)).map_or_else(|| id.to_string(), |s| s.name.clone())
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

    /// The chair of conference `id` that the conference binds to `person`.
    ///
    /// # Errors
    /// `forbidden` for a person who is not one of its chairs, naming the chairs and saying that only
    /// they may do `what`.
    fn chair(&self, id: &ConferenceId, person: &PersonId, what: &str) -> Result<&Chair, ApiError> {
        let chairs = self.details.as_ref().map(|d| d.chairs.as_slice()).unwrap_or_default();
        chairs.iter().find(|c| c.person_id.as_ref() == Some(person)).ok_or_else(|| {
            let names: Vec<&str> = chairs.iter().map(|c| c.name.as_str()).collect();
            ApiError::forbidden(format!(
                "person {person} is not a chair of conference {id}: only its chairs ({}) may {what}, each as \
                 themself; if you chair it, ask the secretariat to bind your person id to your name among its chairs",
                names.join(", ")
            ))
        })
    }

    /// Checks that `person` keeps the minutes of conference `id`.
    ///
    /// # Errors
    /// `forbidden` for a person who is not one of its minute-takers, saying that only they may do
    /// `what`.
    fn minute_taker(&self, id: &ConferenceId, person: &PersonId, what: &str) -> Result<(), ApiError> {
        let takers = self.details.as_ref().map(|d| d.minute_takers.as_slice()).unwrap_or_default();
        if takers.contains(person) {
            return Ok(());
        }
        let named = if takers.is_empty() {
            "it names no minute-taker".to_owned()
        } else {
            format!("its minute-takers are {}", takers.iter().map(PersonId::as_str).collect::<Vec<_>>().join(", "))
        };
        Err(ApiError::forbidden(format!(
            "person {person} is not a minute-taker of conference {id} ({named}): only they may {what}; if you keep \
             its minutes, ask the secretariat to name you among its minute-takers"
        )))
    }

    /// The version the chairs are deciding on (submitted or approved minutes): its number and state.
    fn live_version(&self) -> Option<(u32, &Version)> {
        match self.status? {
            MinutesStatus::Submitted | MinutesStatus::Approved | MinutesStatus::Published => {
                let v = self.versions.last()?;
                Some((version_number(self.versions.len()), v))
            }
            MinutesStatus::Draft => None,
        }
    }

    /// The chairs whose approval `version` still waits for under the conference's policy: none once
    /// the policy is met; with `any`, every chair until one approves.
    pub fn awaiting(&self, version: &Version) -> Vec<String> {
        let Some(details) = &self.details else { return vec![] };
        let approved = |chair: &Chair| version.approvals.iter().any(|a| signed_by(a, chair));
        if details.approval_policy == ApprovalPolicy::Any && !version.approvals.is_empty() {
            return vec![];
        }
        let mut out: Vec<String> = vec![];
        for chair in &details.chairs {
            if !approved(chair) && !out.contains(&chair.name) {
                out.push(chair.name.clone());
            }
        }
        out
    }

    /// The chairs who approved the current version, in order (empty for a draft).
    pub fn approvers(&self) -> Vec<String> {
        self.live_version().map(|(_, v)| v.approvals.iter().map(|a| a.by.clone()).collect()).unwrap_or_default()
    }

    /// What changed from `before` (version `from_version`) to `after`.
    fn changes(&self, from_version: u32, before: &Version, after: &[Option<Item>]) -> VersionChanges {
        let title = |index: usize| ChangedItem {
            index,
            title: self.details.as_ref().and_then(|d| d.agenda.get(index)).map(|a| a.title.clone()).unwrap_or_default(),
        };
        let (mut added, mut changed, mut removed) = (vec![], vec![], vec![]);
        for index in 0..before.items.len().max(after.len()) {
            let old = before.items.get(index).and_then(Option::as_ref);
            let new = after.get(index).and_then(Option::as_ref);
            match (old, new) {
                (None, Some(_)) => added.push(title(index)),
                (Some(_), None) => removed.push(title(index)),
                (Some(a), Some(b)) if a != b => changed.push(title(index)),
                _ => {}
            }
        }
        VersionChanges {
            from_version,
            added,
            changed,
            removed,
            change_request: before.change_request.as_ref().map(|c| change_request_view(from_version, c)),
        }
    }

    /// Whether site `id` takes part in the conference: its host bridge or one of its linked
    /// bridges.
    pub fn is_participant(&self, id: &SiteId) -> bool {
        self.details.as_ref().is_some_and(|d| d.host_site.id == *id) || self.acks.contains_key(id)
    }

    /// Decides a site's acknowledgement: the minutes admit it (they are published and the site was
    /// invited), then the site's own [`Ack`] decides it and addresses its event on the site's subjects.
    ///
    /// # Errors
    /// `not_found` before the draft opened, `forbidden` for a site not invited, `conflict` before
    /// publication.
    pub fn decide_ack(&self, id: &ConferenceId, site: &SiteId) -> Result<Decision<MinutesEvent>, ApiError> {
        if !self.is_opened() {
            return Err(no_minutes(id));
        }
        let ack = invited(&self.acks, id, site)?;
        if self.status != Some(MinutesStatus::Published) {
            return Err(ApiError::conflict(format!("the minutes of conference {id} are not published yet")));
        }
        decide(ack, &(*id, site.clone()), Acknowledge)
    }

    /// The speakers of agenda item `item` before the minute-taker records it: who had the floor on
    /// it.
    pub fn prefilled_speakers(&self, item: usize) -> &[String] {
        self.floor_speakers.get(item).map_or(&[], Vec::as_slice)
    }

    /// The reply view with the attendance entries in `range`, fewer if the reply would be larger
    /// than [`REPLY_BUDGET`] (every item is always whole; the client reads the attendance on from
    /// `attendance_offset + attendance.len()`), and the first page of the published document when
    /// it is inline ([`Self::paged_view`] for a document stored out of line, or another page);
    /// `None` before the draft opened.
    pub fn view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> Option<MinutesView> {
        let document = self.markdown.as_deref().map(DocumentText::markdown);
        self.paged_view(id, range, None, document, DocumentWindow::default()).ok()
    }

    /// The details and the publication time of published minutes, from which their documents are
    /// rendered.
    ///
    /// # Errors
    /// `not_found` before the draft opened, `conflict` before publication.
    pub fn publication(&self, id: &ConferenceId) -> Result<(&ConferenceDetails, DateTime<Utc>), ApiError> {
        let details = self.details.as_ref().ok_or_else(|| no_minutes(id))?;
        let (Some(MinutesStatus::Published), Some(at)) = (self.status, self.published_at) else {
            return Err(ApiError::conflict(format!(
                "the minutes of conference {id} are not published yet; their HTML form exists once they are"
            )));
        };
        Ok((details, at))
    }

    /// The HTML form of the published minutes, rendered from them and their publication time, and
    /// checked against the hash recorded when they were published.
    ///
    /// # Errors
    /// `not_found` before the draft opened, `conflict` before publication or if the HTML rendered
    /// now is not the one published (the template changed since).
    pub fn published_html(&self, id: &ConferenceId) -> Result<String, ApiError> {
        let (details, at) = self.publication(id)?;
        let html = render::html(self, details, at);
        if let Some(recorded) = &self.html_sha256 {
            let now = render::sha256_hex(&html);
            if now != *recorded {
                return Err(ApiError::conflict(format!(
                    "the HTML of the minutes of conference {id} renders today with SHA-256 {now}, not the {recorded} \
                     recorded at publication (the template changed since); the Markdown form is the record"
                )));
            }
        }
        Ok(html)
    }

    /// A copy of what rendering the published documents reads ([`render`]): every field but the
    /// sites' acknowledgements, which no document shows. A reply takes it out of the state's lock
    /// and renders outside it ([`crate::document::Documents::html`]).
    pub fn for_rendering(&self) -> Minutes {
        let Minutes {
            status,
            details,
            attendance,
            record_pending,
            quorum,
            floor_speakers,
            items,
            approved_by,
            versions,
            published_at,
            markdown,
            document,
            sha256,
            html_sha256,
            acks: _,
            site_index,
            last_seq,
        } = self;
        Minutes {
            status: *status,
            details: details.clone(),
            attendance: attendance.clone(),
            record_pending: record_pending.clone(),
            quorum: quorum.clone(),
            floor_speakers: floor_speakers.clone(),
            items: items.clone(),
            approved_by: approved_by.clone(),
            versions: versions.clone(),
            published_at: *published_at,
            markdown: markdown.clone(),
            document: document.clone(),
            sha256: sha256.clone(),
            html_sha256: html_sha256.clone(),
            acks: Map::default(),
            site_index: site_index.clone(),
            last_seq: *last_seq,
        }
    }

    /// The reply view with the first page of the published document's HTML form instead of its
    /// Markdown (`sha256` stays), the attendance page shortened so that the reply fits
    /// [`REPLY_BUDGET`].
    ///
    /// # Errors
    /// As [`Self::published_html`] and [`Self::paged_view`].
    pub fn html_view(&self, id: ConferenceId, range: std::ops::Range<usize>) -> Result<MinutesView, ApiError> {
        let html = self.published_html(&id)?;
        self.paged_view(id, range, None, Some(DocumentText::html(&html)), DocumentWindow::default())
    }

    /// The reply view of submitted version `version` (its items, approvals and changes from the
    /// version before), sized like [`Self::view`].
    ///
    /// # Errors
    /// `not_found` before the draft opened or for a version that was not submitted.
    pub fn version_view(
        &self,
        id: ConferenceId,
        range: std::ops::Range<usize>,
        version: u32,
    ) -> Result<MinutesView, ApiError> {
        let document = self.markdown.as_deref().map(DocumentText::markdown);
        self.paged_view(id, range, Some(version), document, DocumentWindow::default())
    }

    /// The reply view of the minutes as they are now (`version` `None`) or of submitted version
    /// `version`, with the attendance entries in `range` and, when the view is of the published
    /// document, the page of `document` (its Markdown, or its HTML form, whole: inline, or read
    /// back from the records bucket by the caller) that `window` asks for ([`hoinghi_shared::document`]).
    /// The page is shortened so that the reply without attendance fits [`REPLY_BUDGET`], then the
    /// attendance page so that the whole reply does.
    ///
    /// # Errors
    /// `not_found` before the draft opened or for a version that was not submitted; `invalid` for a
    /// window that is not a page of the document (offset past its end, limit 0); `too_large` if the
    /// reply does not fit even with a page of one character and no attendance.
    pub fn paged_view(
        &self,
        id: ConferenceId,
        range: std::ops::Range<usize>,
        version: Option<u32>,
        document: Option<DocumentText<'_>>,
        window: DocumentWindow,
    ) -> Result<MinutesView, ApiError> {
        if let Some(version) = version {
            self.check_version(&id, version)?;
        }
        let mut view = self.full_view(id, range, version).ok_or_else(|| no_minutes(&id))?;
        // Only a view of the published document carries a page of it.
        let Some(document) = document.filter(|_| view.sha256.is_some()) else {
            shrink_page_to_fit(&mut view, |v| &mut v.attendance, REPLY_BUDGET);
            return Ok(view);
        };
        let text = document.text;
        let window = hoinghi_shared::document::page_range(text, window.offset, window.limit)?;
        view.document_offset = Some(window.start);
        view.document_total_bytes = Some(text.len());
        // The rest of the reply, without attendance and with an empty page (its quotes counted):
        // what is left of the budget is the page's.
        let attendance = std::mem::take(&mut view.attendance);
        *document.slot(&mut view) = Some(String::new());
        let rest = hoinghi_shared::limits::json_len(&view) - 2;
        let page = hoinghi_shared::document::fit_json(text, window, REPLY_BUDGET.saturating_sub(rest));
        let page = &text[page];
        let len = rest + hoinghi_shared::limits::json_len(page);
        if len > REPLY_BUDGET {
            return Err(ApiError::too_large(format!(
                "the minutes of conference {id} take {} as a reply even with a page of the document of one \
                 character and no attendance, more than a reply may ({})",
                describe_size(len),
                describe_size(REPLY_BUDGET)
            )));
        }
        *document.slot(&mut view) = Some(page.to_owned());
        view.attendance = attendance;
        shrink_page_to_fit(&mut view, |v| &mut v.attendance, REPLY_BUDGET);
        Ok(view)
    }

    /// Checks that `version` was submitted.
    fn check_version(&self, id: &ConferenceId, version: u32) -> Result<(), ApiError> {
        let id = *id;
        if !self.is_opened() {
            return Err(no_minutes(&id));
        }
        if version == 0 {
            return Err(ApiError::invalid("version must be 1 or more: versions are numbered from 1"));
        }
        if version as usize > self.versions.len() {
            return Err(ApiError::not_found(match self.versions.len() {
                0 => format!(
                    "the minutes of conference {id} have no version {version}: they have not been submitted yet"
                ),
                n => format!(
                    "the minutes of conference {id} have no version {version}: versions 1 to {n} have been submitted"
                ),
            }));
        }
        Ok(())
    }

    fn full_view(&self, id: ConferenceId, range: std::ops::Range<usize>, version: Option<u32>) -> Option<MinutesView> {
        let (status, d) = (self.status?, self.details.as_ref()?);
        let latest = version_number(self.versions.len());
        // The items shown, their version, the version they are compared with, and whether they are
        // the minutes as they are now.
        let (items, shown, previous, current): (&[Option<Item>], u32, Option<u32>, bool) = match version {
            Some(n) => (&self.versions.get(n as usize - 1)?.items, n, n.checked_sub(1).filter(|p| *p > 0), n == latest),
            None if status == MinutesStatus::Draft => (&self.items, latest + 1, Some(latest).filter(|p| *p > 0), true),
            None => (&self.items, latest, latest.checked_sub(1).filter(|p| *p > 0), true),
        };
        let submitted = self.versions.get((shown as usize).wrapping_sub(1)).filter(|_| shown <= latest);
        let live = current && status != MinutesStatus::Draft;
        let changes = previous
            .and_then(|p| self.versions.get(p as usize - 1).map(|before| (p, before)))
            .map(|(p, before)| self.changes(p, before, items));
        let document = status == MinutesStatus::Published && current;
        Some(MinutesView {
            conference_id: id,
            status,
            title: d.title.clone(),
            organizer: d.organizer.clone(),
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            host_site: (&d.host_site).into(),
            chairs: d.chairs.iter().map(api::Chair::from).collect(),
            guests: d.guests.iter().map(api::Person::from).collect(),
            attendance_total: self.attendance.len(),
            attendance_offset: range.start,
            attendance: self
                .attendance
                .get(range)
                .unwrap_or_default()
                .iter()
                .map(api::AttendanceRecord::from)
                .collect(),
            items: d
                .agenda
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let item = items.get(i).and_then(Option::as_ref);
                    MinutesItem {
                        index: i,
                        title: a.title.clone(),
                        recorded: item.is_some(),
                        speakers: item.map_or_else(|| self.prefilled_speakers(i).to_vec(), |x| x.speakers.clone()),
                        summary: item.map(|x| x.summary.clone()).unwrap_or_default(),
                        conclusions: item.map(|x| x.conclusions.clone()).unwrap_or_default(),
                        tasks: item.map(|x| x.tasks.iter().map(api::Task::from).collect()).unwrap_or_default(),
                    }
                })
                .collect(),
            approved_by: submitted.and_then(|v| v.approvals.first()).map(|a| a.by.clone()),
            published_at: self.published_at.filter(|_| document),
            // The page of the document is the caller's (`paged_view`).
            markdown: None,
            sha256: self.sha256.clone().filter(|_| document),
            html_sha256: self.html_sha256.clone().filter(|_| document),
            html: None,
            document_offset: None,
            document_total_bytes: None,
            acknowledgements: d
                .sites
                .iter()
                .filter_map(|s| {
                    self.acks.get(&s.id).and_then(|a| a.at).map(|at| Acknowledgement { site_id: s.id.clone(), at })
                })
                .collect(),
            approval_policy: d.approval_policy.into(),
            version: shown,
            latest_version: latest,
            approvals: submitted
                .map(|v| {
                    v.approvals
                        .iter()
                        .map(|a| api::Approval {
                            by: a.by.clone(),
                            person_id: a.person.clone(),
                            version: shown,
                            at: a.at,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            awaiting: submitted.filter(|_| live).map(|v| self.awaiting(v)).unwrap_or_default(),
            change_requests: self
                .versions
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.change_request.as_ref().map(|c| change_request_view(version_number(i + 1), c)))
                .collect(),
            changes,
        })
    }
}

impl Minutes {
    /// The version the chairs may approve, request changes to or publish: the one submitted last,
    /// while the minutes are submitted or approved.
    ///
    /// # Errors
    /// `conflict` for a draft or published minutes, saying why they cannot be `what`.
    fn deciding(&self, id: &ConferenceId, status: MinutesStatus, what: &str) -> Result<(u32, &Version), ApiError> {
        match status {
            MinutesStatus::Draft => {
                let last = self.versions.last().and_then(|v| v.change_request.as_ref());
                Err(ApiError::conflict(match last {
                    Some(c) => format!(
                        "the minutes of conference {id} are a draft again: {} requested changes to version {}; the \
                         minute-taker must revise and submit them before they can be {what}",
                        c.signoff.by,
                        self.versions.len()
                    ),
                    None => format!(
                        "the minutes of conference {id} are still a draft; the minute-taker must submit them before \
                         they can be {what}"
                    ),
                }))
            }
            MinutesStatus::Published => Err(ApiError::conflict(format!(
                "the minutes of conference {id} are already published and can no longer be {what}"
            ))),
            MinutesStatus::Submitted | MinutesStatus::Approved => self
                .live_version()
                .ok_or_else(|| ApiError::conflict(format!("the minutes of conference {id} have no submitted version"))),
        }
    }
}

impl Aggregate for Minutes {
    type Id = ConferenceId;
    type Event = MinutesEvent;
    type Command = MinutesCommand;

    /// Opening a draft twice changes nothing.
    ///
    /// # Errors
    /// `not_found` before the draft opened, `invalid` for bad content, `forbidden` for an approval
    /// by someone not a chair, `conflict` for a step the status does not allow.
    fn handle(&self, id: &ConferenceId, command: MinutesCommand) -> Result<Option<MinutesEvent>, ApiError> {
        use MinutesStatus as S;
        let (Some(status), Some(details)) = (self.status, &self.details) else {
            return match command {
                MinutesCommand::Open { details, attendance, quorum, speakers, record: None } => {
                    let (details, record) = (*details, None);
                    Ok(Some(MinutesEvent::DraftOpened { details, attendance, quorum, speakers, record }))
                }
                // Out of line: the same object, content-addressed, nothing copied.
                MinutesCommand::Open { details, record: Some(record), .. } => Ok(Some(MinutesEvent::DraftOpened {
                    details: *details,
                    attendance: vec![],
                    quorum: vec![],
                    speakers: vec![],
                    record: Some(record),
                })),
                _ => Err(no_minutes(id)),
            };
        };
        if !matches!(command, MinutesCommand::Open { .. }) {
            self.ensure_record(id)?;
        }
        match command {
            MinutesCommand::Open { .. } => Ok(None),
            MinutesCommand::Record { by, item, speakers, summary, conclusions, tasks } => {
                self.minute_taker(id, &by, "record its minutes")?;
                if status != S::Draft {
                    return Err(ApiError::conflict(format!(
                        "the minutes of conference {id} are {}; items can only be recorded in a draft",
                        status_name(status)
                    )));
                }
                let Some(agenda) = details.agenda.get(item) else {
                    return Err(ApiError::invalid(format!(
                        "item {item} does not exist: the agenda has items 0 to {}",
                        details.agenda.len().saturating_sub(1)
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
                            owner_site: t.owner_site,
                            due: t.due,
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
                    return Ok(None);
                }
                Ok(Some(MinutesEvent::ItemRecorded {
                    item,
                    speakers: recorded.speakers,
                    summary: recorded.summary,
                    conclusions: recorded.conclusions,
                    tasks: recorded.tasks,
                }))
            }
            MinutesCommand::Submit { by } => {
                self.minute_taker(id, &by, "submit its minutes")?;
                match status {
                    S::Draft => {
                        if let Some(missing) = self.items.iter().position(Option::is_none) {
                            return Err(ApiError::conflict(format!(
                                "agenda item {missing} ({}) is not recorded yet; record every item before submitting",
                                details.agenda.get(missing).map_or("", |a| a.title.as_str())
                            )));
                        }
                        if self.versions.len() >= MAX_VERSIONS {
                            return Err(ApiError::conflict(format!(
                                "the minutes of conference {id} have been submitted {MAX_VERSIONS} times, the most \
                             versions they may have"
                            )));
                        }
                        Ok(Some(MinutesEvent::MinutesSubmitted { version: version_number(self.versions.len() + 1) }))
                    }
                    S::Submitted => Ok(None),
                    other => Err(ApiError::conflict(format!("the minutes are already {}", status_name(other)))),
                }
            }
            MinutesCommand::Approve { by } => {
                let chair = self.chair(id, &by, "approve the minutes")?;
                let (version, current) = self.deciding(id, status, "approved")?;
                if current.approvals.iter().any(|a| signed_by(a, chair)) {
                    return Err(ApiError::conflict(format!(
                        "{} has already approved version {version} of the minutes of conference {id}",
                        chair.name
                    )));
                }
                Ok(Some(MinutesEvent::MinutesApproved {
                    approved_by: chair.name.clone(),
                    person_id: Some(by),
                    version,
                }))
            }
            MinutesCommand::RequestChanges { by, comment } => {
                let chair = self.chair(id, &by, "request changes to the minutes")?;
                let comment = input::text("comment", &comment, MAX_COMMENT_CHARS, true)?;
                let (version, _) = self.deciding(id, status, "sent back for changes")?;
                Ok(Some(MinutesEvent::ChangesRequested {
                    requested_by: chair.name.clone(),
                    person_id: Some(by),
                    version,
                    comment,
                }))
            }
            MinutesCommand::Publish { by, at } => {
                self.minute_taker(id, &by, "publish its minutes")?;
                match status {
                    S::Approved => {
                        let markdown = render::markdown(self, details, at);
                        let sha256 = render::sha256_hex(&markdown);
                        let html_sha256 = Some(render::sha256_hex(&render::html(self, details, at)));
                        // Stored out of line by the publish command when it is large
                        // (`crate::document::out_of_line`), before the event is appended.
                        Ok(Some(MinutesEvent::MinutesPublished {
                            markdown,
                            sha256,
                            document: None,
                            html_sha256,
                            published_at: Some(at),
                        }))
                    }
                    S::Published => Ok(None),
                    S::Submitted => {
                        let (version, current) = self.deciding(id, status, "published")?;
                        let policy = match details.approval_policy {
                            ApprovalPolicy::Any => "any one chair's approval",
                            ApprovalPolicy::All => "the approval of every chair",
                        };
                        Err(ApiError::conflict(format!(
                        "version {version} of the minutes of conference {id} is not approved yet: publishing needs \
                         {policy}, and it still waits for {}",
                        self.awaiting(current).join(", ")
                    )))
                    }
                    S::Draft => Err(ApiError::conflict(format!(
                        "the minutes of conference {id} are {}; they must be submitted and approved before they are \
                     published",
                        status_name(status)
                    ))),
                }
            }
        }
    }

    /// Records an event of the conference: the minutes' own, or (`meta.site_id`) a site's
    /// acknowledgement, which goes to the site's [`Ack`].
    fn apply(&mut self, event: &MinutesEvent, meta: &EventMeta) {
        if let Some(site) = &meta.site_id {
            if let Some(ack) = self.acks.get_mut(site) {
                ack.apply(event, meta);
            }
            return;
        }
        self.last_seq = meta.seq;
        match event {
            MinutesEvent::DraftOpened { details, attendance, quorum, speakers, record } if !self.is_opened() => {
                self.status = Some(MinutesStatus::Draft);
                self.items = vec![None; details.agenda.len()];
                self.floor_speakers = vec![Vec::new(); details.agenda.len()];
                match record {
                    None => self.fill(attendance.clone(), quorum.clone(), speakers),
                    Some(record) => self.record_pending = Some(record.clone()),
                }
                self.acks = details.sites.iter().map(|s| (s.id.clone(), Ack::default())).collect();
                self.site_index = details.sites.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
                self.details = Some(details.clone());
            }
            MinutesEvent::DraftOpened { .. } => {}
            _ if !self.is_opened() => {
                tracing::error!(seq = meta.seq, subject = %meta.subject, "minutes event before its draft opened ignored");
            }
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
            MinutesEvent::MinutesSubmitted { .. } => {
                // Version numbers follow the order of submission (events written before versions
                // existed carry 0).
                self.versions.push(Version {
                    items: self.items.clone(),
                    submitted_at: meta.occurred_at,
                    approvals: vec![],
                    change_request: None,
                });
                self.status = Some(MinutesStatus::Submitted);
                self.approved_by = None;
            }
            MinutesEvent::MinutesApproved { approved_by, person_id, version } => {
                let latest = self.versions.len();
                let index = if *version == 0 { latest } else { *version as usize };
                let Some(v) = index.checked_sub(1).and_then(|i| self.versions.get_mut(i)) else {
                    tracing::error!(seq = meta.seq, version, "approval of a version never submitted ignored");
                    return;
                };
                v.approvals.push(Signoff { by: approved_by.clone(), person: person_id.clone(), at: meta.occurred_at });
                if index == latest && self.status == Some(MinutesStatus::Submitted) {
                    self.approved_by.get_or_insert_with(|| approved_by.clone());
                    let met = self.versions.last().is_some_and(|v| self.awaiting(v).is_empty());
                    if met {
                        self.status = Some(MinutesStatus::Approved);
                    }
                }
            }
            MinutesEvent::ChangesRequested { requested_by, person_id, version, comment } => {
                let Some(v) = (*version as usize).checked_sub(1).and_then(|i| self.versions.get_mut(i)) else {
                    tracing::error!(seq = meta.seq, version, "change request on a version never submitted ignored");
                    return;
                };
                let signoff = Signoff { by: requested_by.clone(), person: person_id.clone(), at: meta.occurred_at };
                v.change_request = Some(ChangeRequest { signoff, comment: comment.clone() });
                if *version as usize == self.versions.len() {
                    self.status = Some(MinutesStatus::Draft);
                    self.approved_by = None;
                }
            }
            MinutesEvent::MinutesPublished { markdown, sha256, document, html_sha256, published_at } => {
                if let Some(object) = document.as_ref().filter(|o| o.sha256 != *sha256) {
                    // The publish command never appends this (`crate::document::out_of_line`); the
                    // replies serve the document against `sha256` and refuse this one.
                    tracing::error!(
                        seq = meta.seq,
                        object = %object.object,
                        object_sha256 = %object.sha256,
                        sha256 = %sha256,
                        "minutes_published references a document whose hash is not the published one"
                    );
                }
                self.status = Some(MinutesStatus::Published);
                // A document stored out of line is read back when a reply needs it, not kept here.
                self.markdown = document.is_none().then(|| markdown.clone());
                self.document.clone_from(document);
                self.sha256 = Some(sha256.clone());
                self.html_sha256.clone_from(html_sha256);
                self.published_at = Some(published_at.unwrap_or(meta.occurred_at));
            }
            MinutesEvent::MinutesAcknowledged {} => {}
            // A task's events go to its follow-up (`crate::tasks`), never here.
            MinutesEvent::TaskReported { .. }
            | MinutesEvent::TaskAccepted { .. }
            | MinutesEvent::TaskReturned { .. } => {}
            // The notice's own event (`crate::notice`); its conference-level append moved `last_seq`.
            MinutesEvent::NoticeIssued { .. } | MinutesEvent::NoticeAcknowledged {} => {}
        }
    }

    /// `hoinghi.v1.events.minutes.<conference>.<type>`, on the condition that nothing was written
    /// on the minutes' own subjects since they were read.
    fn address(&self, id: &ConferenceId, event: &MinutesEvent) -> Address {
        conference_address(id, event, self.last_seq)
    }
}

/// Version numbers are `u32` on the wire; there are at most [`MAX_VERSIONS`].
fn version_number(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn change_request_view(version: u32, c: &ChangeRequest) -> api::ChangeRequest {
    api::ChangeRequest {
        requested_by: c.signoff.by.clone(),
        person_id: c.signoff.person.clone(),
        version,
        comment: c.comment.clone(),
        at: c.signoff.at,
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
    use crate::testing::{
        absent, acknowledged, bac_kan_details, checked_in, decided, person, site, submit, text, TAKER,
    };
    use chrono::NaiveDate;
    use hoinghi_runtime::testing::{given, Given, Then};
    use hoinghi_shared::events::{AgendaItem, AttendanceStatus, Person};
    use hoinghi_shared::limits::MAX_NAME_CHARS;
    use hoinghi_shared::ErrorCode;

    fn details() -> ConferenceDetails {
        ConferenceDetails {
            chairs: vec![Chair {
                name: "Phương Thị Thanh".into(),
                title: "Phó Bí thư Thường trực Tỉnh ủy".into(),
                person_id: Some(person(THANH_ID)),
            }],
            guests: vec![Person { name: "Phạm Duy Hưng".into(), title: "Phó Chủ tịch UBND tỉnh".into() }],
            approval_policy: ApprovalPolicy::All,
            ..bac_kan_details("Hội nghị trực tuyến sơ kết công tác dân vận", "Báo cáo sơ kết")
        }
    }

    fn attendance() -> Vec<AttendanceEntry> {
        vec![
            checked_in(
                site("ba-be"),
                "Huyện ủy Ba Bể".into(),
                vec![Person { name: "Hoàng Văn A".into(), title: "Bí thư".into() }],
            ),
            absent(
                site("na-ri"),
                "Huyện ủy Na Rì".into(),
                AttendanceStatus::Declined,
                Some("Lũ quét chia cắt đường".into()),
            ),
        ]
    }

    fn record() -> MinutesCommand {
        MinutesCommand::Record {
            by: person(TAKER),
            item: 0,
            speakers: vec!["Ma Từ Đông Điền".into()],
            summary: "Toàn tỉnh có 2.011 mô hình \"Dân vận khéo\".".into(),
            conclusions: vec!["Tiếp tục nhân rộng mô hình".into()],
            tasks: vec![api::Task {
                description: "Rà soát nghị quyết".into(),
                owner_site: site("ba-be"),
                due: NaiveDate::from_ymd_opt(2021, 9, 30).unwrap(),
            }],
        }
    }

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    fn draft_opened() -> MinutesEvent {
        opened_with(details())
    }

    /// The draft opened for `details`, the record inline.
    fn opened_with(details: ConferenceDetails) -> MinutesEvent {
        MinutesEvent::DraftOpened { details, attendance: attendance(), quorum: vec![], speakers: vec![], record: None }
    }

    fn open() -> MinutesCommand {
        MinutesCommand::Open {
            details: Box::new(details()),
            attendance: attendance(),
            quorum: vec![],
            speakers: vec![],
            record: None,
        }
    }

    /// Given the draft opened, then these events.
    fn draft(events: impl IntoIterator<Item = MinutesEvent>) -> Given<Minutes> {
        given::<Minutes>(id(), std::iter::once(draft_opened()).chain(events))
    }

    fn recorded() -> MinutesEvent {
        decided(&draft([]), record())
    }

    #[test]
    fn the_speakers_are_prefilled_from_the_floor_until_the_item_is_recorded() {
        let speaker = |item: usize, name: &str, topic: &str| hoinghi_shared::events::FloorSpeaker {
            item,
            site_id: site("ba-be"),
            site_name: name.into(),
            topic: topic.into(),
        };
        let opened = MinutesEvent::DraftOpened {
            details: details(),
            attendance: attendance(),
            quorum: vec![],
            // An item beyond the agenda is ignored.
            speakers: vec![
                speaker(0, "Huyện ủy Ba Bể", "Du lịch hồ Ba Bể"),
                speaker(0, "Huyện ủy Na Rì", "Giảm nghèo"),
                speaker(5, "x", "y"),
            ],
            record: None,
        };
        let m = given::<Minutes>(id(), [opened]);
        let view = m.state().view(id(), 0..10).unwrap();
        assert!(!view.items[0].recorded);
        assert_eq!(view.items[0].speakers, ["Huyện ủy Ba Bể: Du lịch hồ Ba Bể", "Huyện ủy Na Rì: Giảm nghèo"]);
        let markdown = render::markdown(m.state(), m.state().details.as_ref().unwrap(), Utc::now());
        assert!(
            markdown.contains("**Phát biểu:** Huyện ủy Ba Bể\\: Du lịch hồ Ba Bể; Huyện ủy Na Rì\\: Giảm nghèo"),
            "{markdown}"
        );
        // The minute-taker's record replaces them.
        let event = decided(&m, record());
        let m = m.and(event);
        assert_eq!(m.state().view(id(), 0..10).unwrap().items[0].speakers, ["Ma Từ Đông Điền"]);
    }

    fn submitted() -> MinutesEvent {
        MinutesEvent::MinutesSubmitted { version: 1 }
    }

    fn approved() -> MinutesEvent {
        approved_by(THANH, 1)
    }

    fn publish() -> MinutesCommand {
        MinutesCommand::Publish { by: person(TAKER), at: Utc::now() }
    }

    /// Published minutes of conference `id`.
    fn published(id: ConferenceId) -> Given<Minutes> {
        let m = given::<Minutes>(id, [draft_opened(), recorded(), submitted(), approved()]);
        let event = decided(&m, publish());
        m.and(event)
    }

    #[test]
    fn a_draft_opens_once() {
        given::<Minutes>(id(), []).when(open()).then(draft_opened());
        draft([]).when(open()).then_nothing();
        let m = draft([]);
        assert_eq!((m.state().status, m.state().items.len(), m.state().acks.len()), (Some(MinutesStatus::Draft), 1, 2));
    }

    #[test]
    fn minutes_not_opened_are_not_found() {
        for command in [record(), submit(), publish()] {
            given::<Minutes>(id(), []).when(command).then_refused(ErrorCode::NotFound, "no minutes");
        }
        let never = given::<Minutes>(id(), []);
        assert!(never.state().view(id(), 0..10).is_none());
        let ack = Then { decision: never.state().decide_ack(&id(), &site("ba-be")) };
        ack.then_refused(ErrorCode::NotFound, "no minutes");
    }

    #[test]
    fn every_item_must_be_recorded_before_submitting() {
        draft([]).when(submit()).then_refused(ErrorCode::Conflict, "Báo cáo sơ kết");
        draft([recorded()]).when(submit()).then(submitted());
        draft([recorded(), submitted()]).when(submit()).then_nothing();
    }

    #[test]
    fn recording_the_same_item_again_changes_nothing() {
        draft([recorded()]).when(record()).then_nothing();
    }

    #[test]
    fn a_task_must_belong_to_a_site_of_the_conference() {
        let MinutesCommand::Record { by, item, speakers, summary, conclusions, mut tasks } = record() else {
            unreachable!()
        };
        tasks[0].owner_site = site("cho-don");
        draft([])
            .when(MinutesCommand::Record { by, item, speakers, summary, conclusions, tasks })
            .then_refused(ErrorCode::Invalid, "cho-don");
    }

    #[test]
    fn an_item_outside_the_agenda_is_refused() {
        let MinutesCommand::Record { by, speakers, summary, conclusions, tasks, .. } = record() else { unreachable!() };
        draft([])
            .when(MinutesCommand::Record { by, item: 7, speakers, summary, conclusions, tasks })
            .then_refused(ErrorCode::Invalid, "item 7 does not exist");
    }

    #[test]
    fn only_the_person_bound_to_a_chair_approves_and_in_that_chairs_name() {
        // Given submitted minutes whose chair "Phương Thị Thanh" is bound to person `thanh`
        let m = draft([recorded(), submitted()]);
        // When a person who is not one of its chairs approves (the minute-taker, a guest's person)
        for stranger in [TAKER, "pham-duy-hung"] {
            let refused = m.when(approve(stranger)).then_refused(ErrorCode::Forbidden, "is not a chair");
            // Then they are told who may, and what to do
            for hint in [stranger, "Phương Thị Thanh", "ask the secretariat"] {
                assert!(refused.message.contains(hint), "{hint:?} not in {:?}", refused.message);
            }
        }
        // When `thanh` approves, then the approval is hers, in the name the conference binds to her
        m.when(approve(THANH_ID)).then(approved());
        draft([recorded(), submitted(), approved()])
            .when(approve(THANH_ID))
            .then_refused(ErrorCode::Conflict, "Phương Thị Thanh has already approved version 1");
        let view = draft([recorded(), submitted(), approved()]).state().view(id(), 0..10).unwrap();
        assert_eq!(view.approvals[0].person_id, Some(person(THANH_ID)));
        assert_eq!(view.chairs[0].person_id, Some(person(THANH_ID)));
    }

    #[test]
    fn only_the_minute_takers_record_submit_and_publish() {
        // Given a draft whose conference names `thu-ky` its minute-taker
        let chair = person(THANH_ID);
        let stranger = person("nguoi-la");
        for by in [chair, stranger] {
            // When a chair or a stranger records, submits or publishes, then it is refused, saying who may
            let MinutesCommand::Record { item, speakers, summary, conclusions, tasks, .. } = record() else {
                unreachable!()
            };
            let record = MinutesCommand::Record { by: by.clone(), item, speakers, summary, conclusions, tasks };
            let refused = draft([]).when(record).then_refused(ErrorCode::Forbidden, "is not a minute-taker");
            assert!(
                refused.message.contains("thu-ky") && refused.message.contains("ask the secretariat"),
                "{refused:?}"
            );
            draft([recorded()])
                .when(MinutesCommand::Submit { by: by.clone() })
                .then_refused(ErrorCode::Forbidden, "only they may submit");
            draft([recorded(), submitted(), approved()])
                .when(MinutesCommand::Publish { by, at: Utc::now() })
                .then_refused(ErrorCode::Forbidden, "only they may publish");
        }
        // And a conference scheduled before minute-takers were named says so
        let mut d = details();
        d.minute_takers.clear();
        let old = given::<Minutes>(id(), [opened_with(d)]);
        old.when(record()).then_refused(ErrorCode::Forbidden, "it names no minute-taker");
    }

    #[test]
    fn approvals_recorded_before_chairs_were_persons_still_count_by_name() {
        // Given a conference (as stored before persons existed) whose chair has no person id and an
        // approval recorded by name only
        let mut d = details();
        d.chairs[0].person_id = None;
        let old_approval = MinutesEvent::MinutesApproved { approved_by: THANH.into(), person_id: None, version: 1 };
        let m = given::<Minutes>(id(), [opened_with(d), recorded(), submitted(), old_approval]);
        // Then the minutes are approved, and no person can approve as that chair any more
        assert_eq!(m.state().status, Some(MinutesStatus::Approved));
        m.when(approve(THANH_ID)).then_refused(ErrorCode::Forbidden, "is not a chair");
    }

    // Approval as it is done: the policy, change requests and versions.

    const THANH: &str = "Phương Thị Thanh";
    const DIEN: &str = "Ma Từ Đông Điền";
    /// The persons the conference binds to its chairs.
    const THANH_ID: &str = "phuong-thi-thanh";
    const DIEN_ID: &str = "ma-tu-dong-dien";

    /// A conference of the two Bắc Kạn co-chairs with two agenda items, under `policy`.
    fn co_chaired(policy: ApprovalPolicy) -> Given<Minutes> {
        let mut d = details();
        d.chairs.push(Chair {
            name: DIEN.into(),
            title: "Trưởng Ban Dân vận Tỉnh ủy".into(),
            person_id: Some(person(DIEN_ID)),
        });
        d.agenda.push(AgendaItem { title: "Thảo luận".into() });
        d.approval_policy = policy;
        let m = given::<Minutes>(id(), [opened_with(d)]);
        let first = decided(&m, record());
        let m = m.and(first);
        let second = decided(&m, record_item(1, "Các điểm cầu thảo luận."));
        m.and(second)
    }

    fn record_item(item: usize, summary: &str) -> MinutesCommand {
        MinutesCommand::Record {
            by: person(TAKER),
            item,
            speakers: vec![],
            summary: summary.into(),
            conclusions: vec![],
            tasks: vec![],
        }
    }

    /// The person `by` approves.
    fn approve(by: &str) -> MinutesCommand {
        MinutesCommand::Approve { by: person(by) }
    }

    /// The person `by` requests changes.
    fn request_changes(by: &str, comment: &str) -> MinutesCommand {
        MinutesCommand::RequestChanges { by: person(by), comment: comment.into() }
    }

    /// The approval of `version` by the chair named `name` (Thanh or Điền), as their person.
    fn approved_by(name: &str, version: u32) -> MinutesEvent {
        let person_id = Some(person(if name == THANH { THANH_ID } else { DIEN_ID }));
        MinutesEvent::MinutesApproved { approved_by: name.into(), person_id, version }
    }

    /// The change request on `version` by Điền.
    fn changes_requested_by_dien(version: u32, comment: &str) -> MinutesEvent {
        MinutesEvent::ChangesRequested {
            requested_by: DIEN.into(),
            person_id: Some(person(DIEN_ID)),
            version,
            comment: comment.into(),
        }
    }

    /// `m` after `command`, which must append an event.
    fn step(m: Given<Minutes>, command: MinutesCommand) -> Given<Minutes> {
        let event = decided(&m, command);
        m.and(event)
    }

    #[test]
    fn with_policy_any_one_co_chair_approves_the_minutes() {
        let m = step(step(co_chaired(ApprovalPolicy::Any), submit()), approve(DIEN_ID));
        assert_eq!(m.state().status, Some(MinutesStatus::Approved));
        let view = m.state().view(id(), 0..10).unwrap();
        assert_eq!((view.approved_by.as_deref(), view.awaiting.len()), (Some(DIEN), 0));
        assert!(matches!(decided(&m, publish()), MinutesEvent::MinutesPublished { .. }));
        // The other co-chair may still sign, once
        let m = step(m, approve(THANH_ID));
        assert_eq!(m.state().approvers(), [DIEN, THANH]);
        m.when(approve(THANH_ID)).then_refused(ErrorCode::Conflict, "already approved");
    }

    #[test]
    fn with_policy_all_every_co_chair_must_approve_before_publication() {
        let m = step(co_chaired(ApprovalPolicy::All), submit());
        m.when(approve(THANH_ID)).then(approved_by(THANH, 1));
        let m = step(m, approve(THANH_ID));
        assert_eq!(m.state().status, Some(MinutesStatus::Submitted), "one of two co-chairs approved");
        let view = m.state().view(id(), 0..10).unwrap();
        assert_eq!(view.awaiting, [DIEN]);
        assert_eq!(view.approvals.iter().map(|a| (a.by.as_str(), a.version)).collect::<Vec<_>>(), [(THANH, 1)]);
        let refused = m.when(publish()).then_refused(ErrorCode::Conflict, "not approved yet");
        assert!(refused.message.contains(DIEN) && refused.message.contains("every chair"), "{refused:?}");
        // The same co-chair again: refused, and nothing changes
        m.when(approve(THANH_ID)).then_refused(ErrorCode::Conflict, "already approved version 1");
        m.when(approve(DIEN_ID)).then(approved_by(DIEN, 1));
        m.when(request_changes(DIEN_ID, "Sửa")).then(changes_requested_by_dien(1, "Sửa"));
        let m = step(m, approve(DIEN_ID));
        assert_eq!(m.state().status, Some(MinutesStatus::Approved));
        assert!(matches!(decided(&m, publish()), MinutesEvent::MinutesPublished { .. }));
    }

    #[test]
    fn with_one_chair_any_and_all_are_the_same() {
        for policy in [ApprovalPolicy::Any, ApprovalPolicy::All] {
            let mut d = details();
            d.approval_policy = policy;
            let m = given::<Minutes>(id(), [opened_with(d)]);
            let m = step(step(m, record()), submit());
            let m = step(m, approve(THANH_ID));
            assert_eq!(m.state().status, Some(MinutesStatus::Approved), "{policy:?}");
        }
    }

    #[test]
    fn a_stranger_can_neither_approve_nor_request_changes() {
        let m = step(co_chaired(ApprovalPolicy::All), submit());
        m.when(approve("pham-duy-hung")).then_refused(ErrorCode::Forbidden, "not a chair");
        m.when(request_changes("pham-duy-hung", "Sửa")).then_refused(ErrorCode::Forbidden, "not a chair");
        m.when(request_changes(THANH_ID, "  ")).then_refused(ErrorCode::Invalid, "comment");
    }

    #[test]
    fn a_draft_not_submitted_can_neither_be_approved_nor_sent_back() {
        let m = co_chaired(ApprovalPolicy::All);
        m.when(approve(THANH_ID)).then_refused(ErrorCode::Conflict, "must submit");
        m.when(request_changes(THANH_ID, "Sửa")).then_refused(ErrorCode::Conflict, "must submit");
        m.when(publish()).then_refused(ErrorCode::Conflict, "submitted and approved");
    }

    #[test]
    fn published_minutes_can_neither_be_approved_nor_sent_back() {
        let m = step(co_chaired(ApprovalPolicy::Any), submit());
        let m = step(step(m, approve(THANH_ID)), publish());
        m.when(approve(DIEN_ID)).then_refused(ErrorCode::Conflict, "already published");
        m.when(approve(THANH_ID)).then_refused(ErrorCode::Conflict, "already published");
        m.when(request_changes(DIEN_ID, "Sửa")).then_refused(ErrorCode::Conflict, "already published");
    }

    #[test]
    fn a_change_request_sends_the_minutes_back_and_the_resubmission_is_version_2_without_approvals() {
        // Version 1: Thanh approves, Điền requests changes
        let m = step(co_chaired(ApprovalPolicy::All), submit());
        let m = step(m, approve(THANH_ID));
        let comment = "Bổ sung ý kiến của điểm cầu Ba Bể";
        m.when(request_changes(DIEN_ID, comment)).then(changes_requested_by_dien(1, comment));
        let m = step(m, request_changes(DIEN_ID, comment));
        assert_eq!(m.state().status, Some(MinutesStatus::Draft));
        m.when(approve(DIEN_ID)).then_refused(ErrorCode::Conflict, "requested changes to version 1");
        m.when(publish()).then_refused(ErrorCode::Conflict, "draft");
        // The minute-taker revises and resubmits: version 2, with no approval yet
        let m = step(m, record_item(1, "Các điểm cầu thảo luận; Ba Bể đề nghị hỗ trợ."));
        let draft_view = m.state().view(id(), 0..10).unwrap();
        assert_eq!((draft_view.version, draft_view.latest_version), (2, 1));
        m.when(submit()).then(MinutesEvent::MinutesSubmitted { version: 2 });
        let m = step(m, submit());
        let view = m.state().view(id(), 0..10).unwrap();
        assert_eq!((view.status, view.version, view.latest_version), (MinutesStatus::Submitted, 2, 2));
        assert!(view.approvals.is_empty() && view.approved_by.is_none(), "{view:?}");
        assert_eq!(view.awaiting, [THANH, DIEN]);
        assert_eq!(view.change_requests.len(), 1);
        assert_eq!((view.change_requests[0].version, view.change_requests[0].comment.as_str()), (1, comment));
        // Thanh must approve version 2 again
        m.when(approve(THANH_ID)).then(approved_by(THANH, 2));
        let m = step(step(m, approve(THANH_ID)), approve(DIEN_ID));
        assert_eq!(m.state().status, Some(MinutesStatus::Approved));
        assert!(matches!(decided(&m, publish()), MinutesEvent::MinutesPublished { .. }));
    }

    #[test]
    fn every_version_is_kept_with_what_changed_from_the_one_before() {
        let m = step(co_chaired(ApprovalPolicy::All), submit());
        let m = step(m, request_changes(THANH_ID, "Sửa phần thảo luận"));
        let m = step(m, record_item(1, "Bản sửa."));
        let m = step(m, submit());
        let (state, id) = (m.state(), id());
        // Version 1: as first submitted, no earlier version
        let v1 = state.version_view(id, 0..10, 1).unwrap();
        assert_eq!(
            (v1.version, v1.items[1].summary.as_str(), v1.changes.is_none()),
            (1, "Các điểm cầu thảo luận.", true)
        );
        assert!(v1.awaiting.is_empty(), "a superseded version waits for no one");
        // Version 2: item 1 changed, after Thanh's request
        let v2 = state.version_view(id, 0..10, 2).unwrap();
        assert_eq!((v2.version, v2.items[1].summary.as_str()), (2, "Bản sửa."));
        let changes = v2.changes.unwrap();
        assert_eq!(changes.from_version, 1);
        assert_eq!(changes.changed, [ChangedItem { index: 1, title: "Thảo luận".into() }]);
        assert!(changes.added.is_empty() && changes.removed.is_empty());
        let request = changes.change_request.unwrap();
        assert_eq!((request.requested_by.as_str(), request.comment.as_str()), (THANH, "Sửa phần thảo luận"));
        // The current view is version 2
        assert_eq!(state.view(id, 0..10).unwrap().changes, state.version_view(id, 0..10, 2).unwrap().changes);
        // No version 3, nor 0
        let err = state.version_view(id, 0..10, 3).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
        assert!(err.message.contains("versions 1 to 2"), "{err:?}");
        assert_eq!(state.version_view(id, 0..10, 0).unwrap_err().code, ErrorCode::Invalid, "versions start at 1");
    }

    #[test]
    fn stored_minutes_without_versions_read_as_version_1() {
        // Events written before versions existed: `minutes_submitted {}` and an approval without one
        let m = draft([recorded(), MinutesEvent::MinutesSubmitted { version: 0 }]);
        let m = m.and(MinutesEvent::MinutesApproved { approved_by: THANH.into(), person_id: None, version: 0 });
        assert_eq!(m.state().status, Some(MinutesStatus::Approved));
        let view = m.state().view(id(), 0..10).unwrap();
        assert_eq!((view.version, view.latest_version, view.approved_by.as_deref()), (1, 1, Some(THANH)));
    }

    #[test]
    fn unapproved_minutes_cannot_be_published() {
        draft([recorded(), submitted()]).when(publish()).then_refused(ErrorCode::Conflict, "not approved yet");
    }

    #[test]
    fn published_minutes_are_immutable_and_carry_their_hash() {
        let m = draft([recorded(), submitted(), approved()]);
        let event = decided(&m, publish());
        let MinutesEvent::MinutesPublished { markdown, sha256, .. } = &event else { panic!("{event:?}") };
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
        let published = m.and(event.clone());
        published.when(record()).then_refused(ErrorCode::Conflict, "published");
        published.when(publish()).then_nothing();
        let view = published.state().view(id(), 0..10).unwrap();
        assert_eq!((view.status, view.sha256.as_ref()), (MinutesStatus::Published, Some(sha256)));
    }

    // The published document by pages.

    /// Published minutes whose document is `text` (a document as long as a national conference's:
    /// the aggregate pages whatever text it is handed, inline or read back).
    fn published_with(text: &str) -> Minutes {
        let mut m = published(id()).state().clone();
        m.markdown = Some(text.to_owned());
        m.sha256 = Some(render::sha256_hex(text));
        m
    }

    /// The page of the published Markdown that `offset` and `limit` ask for.
    fn page_of(m: &Minutes, offset: usize, limit: Option<usize>) -> Result<MinutesView, ApiError> {
        let text = m.markdown.as_deref().map(DocumentText::markdown);
        m.paged_view(id(), 0..10, None, text, DocumentWindow { offset, limit })
    }

    #[test]
    fn a_long_document_is_read_whole_by_pages_each_carrying_its_length_and_hash() {
        // Given minutes whose document is 3 MiB of Vietnamese (2- and 3-byte characters)
        let line = "| xa-00001 | Điểm cầu xã số 1 — Ủy ban nhân dân | Có mặt | Nguyễn Thị Hường, Bí thư |\n";
        let text = line.repeat(3 * 1024 * 1024 / line.len());
        let m = published_with(&text);
        // When it is read from offset 0, then from where each page ends
        let mut assembler = hoinghi_shared::document::Assembler::new();
        let mut pages = 0;
        while !assembler.is_complete() {
            let view = page_of(&m, assembler.next_offset(), None).unwrap();
            // Then every page carries the whole document's length and hash, and is at most the
            // default page, cut between characters
            assert_eq!(view.document_total_bytes, Some(text.len()));
            assert_eq!(view.sha256.as_deref(), m.sha256.as_deref());
            let page = view.markdown.as_deref().unwrap();
            assert!(page.len() <= hoinghi_shared::document::DEFAULT_DOCUMENT_PAGE && !page.is_empty());
            assert!(hoinghi_shared::limits::json_len(&view) <= REPLY_BUDGET);
            assembler.push(view.document_page().unwrap()).unwrap();
            pages += 1;
        }
        // And together they are the document, whose hash checks
        assert_eq!(pages, text.len().div_ceil(hoinghi_shared::document::DEFAULT_DOCUMENT_PAGE));
        assert_eq!(assembler.finish().unwrap(), text);
    }

    #[test]
    fn a_page_boundary_inside_a_vietnamese_character_moves_back_to_its_start() {
        // Given a document of "ệ" (3 bytes each) after one ASCII byte: characters start at 1, 4, 7…
        let text = format!("#{}", "ệ".repeat(1000));
        let m = published_with(&text);
        // When a page is asked for at offset 2 (inside the first "ệ") of 10 bytes
        let view = page_of(&m, 2, Some(10)).unwrap();
        // Then it starts at that character and ends before the one byte 12 falls in
        assert_eq!((view.document_offset, view.markdown.as_deref()), (Some(1), Some("ệệệ")));
        // And a window of one byte still holds the character it starts in
        let view = page_of(&m, 5, Some(1)).unwrap();
        assert_eq!((view.document_offset, view.markdown.as_deref()), (Some(4), Some("ệ")));
    }

    #[test]
    fn the_end_of_the_document_and_the_page_limits() {
        let text = "Biên bản hội nghị. ".repeat(10_000);
        let m = published_with(&text);
        // An offset at the end gives an empty last page
        let end = page_of(&m, text.len(), None).unwrap();
        assert_eq!((end.document_offset, end.markdown.as_deref()), (Some(text.len()), Some("")));
        // Past it, and a limit of 0, are refused, saying why
        let past = page_of(&m, text.len() + 1, None).unwrap_err();
        assert_eq!(past.code, ErrorCode::Invalid);
        assert!(past.message.contains(&format!("which has {} bytes", text.len())), "{past:?}");
        page_of(&m, usize::MAX, None).unwrap_err();
        let zero = page_of(&m, 0, Some(0)).unwrap_err();
        assert!(zero.code == ErrorCode::Invalid && zero.message.contains("document_limit"), "{zero:?}");
        // A huge limit is clamped: this short document comes whole
        let whole = page_of(&m, 0, Some(usize::MAX)).unwrap();
        assert_eq!(whole.markdown.as_deref(), Some(text.as_str()));
        // Minutes not published have no document: the window is not looked at
        let draft = draft([recorded()]);
        let view = draft.state().paged_view(id(), 0..10, None, None, DocumentWindow { offset: 7, limit: Some(0) });
        let view = view.unwrap();
        assert!(view.markdown.is_none() && view.document_offset.is_none() && view.document_total_bytes.is_none());
    }

    #[test]
    fn a_small_document_comes_whole_in_the_first_page_as_before() {
        let m = published(id());
        let state = m.state();
        let view = state.view(id(), 0..10).unwrap();
        let markdown = state.markdown.as_deref().unwrap();
        assert_eq!(view.markdown.as_deref(), Some(markdown));
        assert_eq!((view.document_offset, view.document_total_bytes), (Some(0), Some(markdown.len())));
        // And its HTML form too, whose page carries the HTML's length and hash
        let html = state.html_view(id(), 0..10).unwrap();
        let page = html.document_page().unwrap();
        assert_eq!((page.offset, page.total_bytes, page.sha256), (0, page.text.len(), state.html_sha256.as_deref()));
        assert!(html.markdown.is_none());
    }

    /// Minutes of a conference with `items` agenda items.
    fn draft_of(items: usize) -> Given<Minutes> {
        let mut d = details();
        d.agenda = (0..items).map(|i| AgendaItem { title: format!("Nội dung {i}") }).collect();
        given::<Minutes>(id(), [opened_with(d)])
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
        MinutesCommand::Record { by: person(TAKER), item, speakers: vec![], summary, conclusions, tasks: vec![] }
    }

    #[test]
    fn recording_more_than_the_minutes_budget_is_refused_and_changes_nothing() {
        // Given a draft with one item recorded at 200 KiB
        let m = draft_of(2);
        let event = decided(&m, record_of(0, 200 * 1024));
        let m = m.and(event);
        assert_eq!(m.state().recorded_cost_except(1), 200 * 1024);
        // When the other item would take the minutes 1 byte over 256 KiB, then it is refused
        let err = m.when(record_of(1, 56 * 1024 + 1)).then_refused(ErrorCode::Invalid, "shorten");
        for hint in ["item 1 (Nội dung 1)", "56.0 KiB", "200 KiB", "at most 256 KiB"] {
            assert!(err.message.contains(hint), "{hint:?} not in {:?}", err.message);
        }
        assert_eq!(m.state().items[1], None);
        // And up to the budget exactly, it is recorded
        let append = m.when(record_of(1, 56 * 1024)).decision.unwrap();
        assert!(matches!(append, Decision::Append(a) if matches!(a.event, MinutesEvent::ItemRecorded { item: 1, .. })));
    }

    #[test]
    fn re_recording_an_item_replaces_its_share_of_the_budget() {
        // Given both items recorded, 200 KiB and 56 KiB: the budget is full
        let mut m = draft_of(2);
        for (item, cost) in [(0, 200 * 1024), (1, 56 * 1024)] {
            let event = decided(&m, record_of(item, cost));
            m = m.and(event);
        }
        // When item 0 is recorded again at 200 KiB (other words), then it replaces the first record
        let MinutesCommand::Record { by, item, speakers, mut summary, conclusions, tasks } = record_of(0, 200 * 1024)
        else {
            unreachable!()
        };
        summary.replace_range(0..4, "🙂");
        let again = MinutesCommand::Record { by, item, speakers, summary, conclusions, tasks };
        assert!(matches!(decided(&m, again), MinutesEvent::ItemRecorded { item: 0, .. }));
        // And when it grows by one byte, it does not fit
        m.when(record_of(0, 200 * 1024 + 1)).then_refused(ErrorCode::Invalid, "at most 256 KiB");
    }

    #[test]
    fn a_task_counts_its_owner_sites_name() {
        // Given a draft whose site Ba Bể has a 200-emoji name
        let mut d = details();
        d.sites[0].name = "😀".repeat(MAX_NAME_CHARS);
        let m = given::<Minutes>(id(), [opened_with(d)]);
        let task = Task { description: "x".into(), owner_site: site("ba-be"), due: NaiveDate::MIN };
        let item = Item { speakers: vec![], summary: "y".into(), conclusions: vec![], tasks: vec![task] };
        // Then the item costs the owner's name too (800 bytes)
        assert_eq!(
            m.state().item_cost(&item),
            hoinghi_shared::limits::RECORDED_ITEM_OVERHEAD + 1 + 1 + 5 + 800 + hoinghi_shared::limits::TASK_OVERHEAD
        );
    }

    #[test]
    fn only_invited_sites_acknowledge_and_only_once_published() {
        let id = id();
        let m = given::<Minutes>(id, [draft_opened()]);
        Then { decision: m.state().decide_ack(&id, &site("ba-be")) }.then_refused(ErrorCode::Conflict, "not published");
        Then { decision: m.state().decide_ack(&id, &site("cho-don")) }
            .then_refused(ErrorCode::Forbidden, "not invited");
        let published = published(id);
        Then { decision: published.state().decide_ack(&id, &site("cho-don")) }
            .then_refused(ErrorCode::Forbidden, "not invited");
        Then { decision: published.state().decide_ack(&id, &site("ba-be")) }.then(MinutesEvent::MinutesAcknowledged {});
    }

    #[test]
    fn a_site_acknowledges_once() {
        let id = id();
        given::<Ack>((id, site("ba-be")), []).when(Acknowledge).then(MinutesEvent::MinutesAcknowledged {});
        given::<Ack>((id, site("ba-be")), [MinutesEvent::MinutesAcknowledged {}]).when(Acknowledge).then_nothing();
        // Through the minutes, as the projection applies it
        let mut m = published(id).state().clone();
        let at = "2021-07-26T10:11:12Z".parse().unwrap();
        acknowledged(&mut m, id, &site("ba-be"), 6, at);
        Then { decision: m.decide_ack(&id, &site("ba-be")) }.then_nothing();
        let view = m.view(id, 0..10).unwrap();
        assert_eq!(view.acknowledgements, vec![Acknowledgement { site_id: site("ba-be"), at }]);
        assert_eq!((m.last_seq, m.acks[&site("ba-be")].last_seq), (5, 6), "an acknowledgement is not the minutes'");
    }

    // Where each event is appended, and on what condition.

    #[test]
    fn the_minutes_events_are_appended_on_their_own_subjects() {
        let id = id();
        let append = given::<Minutes>(id, []).when(open()).then(draft_opened());
        assert_eq!(append.subject, format!("hoinghi.v1.events.minutes.{id}.draft_opened"));
        assert_eq!((append.expect.filter, append.expect.last_seq), (format!("hoinghi.v1.events.minutes.{id}.*"), 0));
        assert_eq!((append.conference_id, append.site_id), (Some(id), None));
        let m = given::<Minutes>(id, [draft_opened(), recorded()]);
        let append = m.when(submit()).then(submitted());
        assert_eq!(append.subject, format!("hoinghi.v1.events.minutes.{id}.minutes_submitted"));
        assert_eq!((append.expect.filter, append.expect.last_seq), (format!("hoinghi.v1.events.minutes.{id}.*"), 2));
    }

    #[test]
    fn an_acknowledgement_is_appended_on_the_sites_own_subjects() {
        let id = id();
        let mut m = published(id).state().clone();
        let Ok(Decision::Append(append)) = m.decide_ack(&id, &site("na-ri")) else { panic!("no append") };
        assert_eq!(append.subject, format!("hoinghi.v1.events.minutes.{id}.na-ri.minutes_acknowledged"));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.minutes.{id}.na-ri.*"));
        assert_eq!(append.expect.last_seq, 0);
        assert_eq!((append.conference_id, append.site_id), (Some(id), Some(site("na-ri"))));
        // After another site's acknowledgement, still at the site's own sequence
        acknowledged(&mut m, id, &site("ba-be"), 6, Utc::now());
        let Ok(Decision::Append(append)) = m.decide_ack(&id, &site("na-ri")) else { panic!("no append") };
        assert_eq!(append.expect.last_seq, 0);
    }
}

#[cfg(test)]
mod worst_case {
    //! Conferences filled to every budget with the content that takes the most bytes for what it
    //! counts (emoji: 4 bytes, counted 4), checked message by message against the limits.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{acknowledged, decided, person, submit, text, TAKER};
    use chrono::NaiveDate;
    use hoinghi_runtime::testing::{given, Given};
    use hoinghi_shared::api::MAX_PAGE;
    use hoinghi_shared::events::{
        AgendaItem, AttendanceEvent, AttendanceStatus, DomainEvent, EventEnvelope, Person, SiteRef,
    };
    use hoinghi_shared::limits::*;

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
            chairs: (0..people)
                .map(|i| Chair {
                    name: text(name),
                    title: text(person_title),
                    person_id: Some(slug_person(i, if largest_text { 64 } else { 6 })),
                })
                .collect(),
            minute_takers: vec![crate::testing::person(TAKER)],
            guests: (0..people).map(|_| person()).collect(),
            agenda: (0..agenda).map(|_| AgendaItem { title: text(title) }).collect(),
            // One approval publishes them, however many chairs.
            approval_policy: ApprovalPolicy::Any,
            reminder_offsets_s: None,
            quorum: None,
        }
    }

    const MAX_AGENDA: usize = hoinghi_shared::limits::MAX_AGENDA_ITEMS;

    /// A person id of `len` characters (at least 6), unique for `i`.
    fn slug_person(i: usize, len: usize) -> PersonId {
        let tail = format!("-{i:05}");
        person(&format!("{}{tail}", "p".repeat(len - tail.len())))
    }

    /// Links as many sites with ids of `id_len` and names costing `name_cost` as the details budget
    /// takes, at most [`MAX_SITES`].
    fn fill_sites(details: &mut ConferenceDetails, id_len: usize, name_cost: usize) {
        let each = site_fixed_cost(&"x".repeat(id_len), &text(name_cost));
        let room = DETAILS_BUDGET - conference_fixed_cost(details);
        let count = (room / each).min(MAX_SITES);
        details.sites = (1..=count).map(|i| SiteRef { id: slug(i, id_len), name: text(name_cost) }).collect();
        assert!(conference_fixed_cost(details) <= DETAILS_BUDGET);
        if count < MAX_SITES {
            assert!(DETAILS_BUDGET - conference_fixed_cost(details) < each, "the details budget is full");
        }
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
    fn answers(details: &ConferenceDetails, all_decline: bool) -> Vec<AttendanceEntry> {
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
                AttendanceEntry {
                    site_id: s.id.clone(),
                    site_name: s.name.clone(),
                    status: AttendanceStatus::CheckedIn,
                    confirmed,
                    delegates,
                    headcount,
                    decline_reason,
                    checked_in_at,
                    technical_check: None,
                    technical_check_failed: vec![],
                    presence: None,
                }
            })
            .collect();
        assert!(total <= RECORD_VARIABLE_BUDGET);
        records
    }

    /// Records every item up to the minutes budget, each with a task owned by the site with the
    /// longest name; submits, approves, publishes; every site acknowledges.
    fn publish(id: ConferenceId, details: &ConferenceDetails, attendance: &[AttendanceEntry]) -> Minutes {
        let opened = MinutesEvent::DraftOpened {
            details: details.clone(),
            attendance: attendance.to_vec(),
            quorum: vec![],
            speakers: vec![],
            record: None,
        };
        let mut m: Given<Minutes> = given(id, [opened]);
        let owner =
            details.sites.iter().max_by_key(|s| s.id.as_str().len() + content_cost(&s.name)).unwrap().id.clone();
        let per_item = MINUTES_CONTENT_BUDGET / details.agenda.len();
        let step = |m: Given<Minutes>, command: MinutesCommand| {
            let event = decided(&m, command);
            m.and(event)
        };
        for item in 0..details.agenda.len() {
            let task = Task { description: text(400), owner_site: owner.clone(), due: NaiveDate::MAX };
            let mut left = per_item - RECORDED_ITEM_OVERHEAD - task_cost(&task, &m.state().site_name(&owner));
            let summary = text(left.min(4 * MAX_TEXT_CHARS));
            left -= summary.len();
            let mut conclusions = vec![];
            while left > ITEM_ENTRY_OVERHEAD {
                let c = (left - ITEM_ENTRY_OVERHEAD).min(4 * MAX_TEXT_CHARS);
                conclusions.push(text(c));
                left -= c + ITEM_ENTRY_OVERHEAD;
            }
            let speakers = vec![];
            let tasks = vec![(&task).into()];
            m = step(m, MinutesCommand::Record { by: person(TAKER), item, speakers, summary, conclusions, tasks });
        }
        assert!(MINUTES_CONTENT_BUDGET - m.state().recorded_cost_except(usize::MAX) < 2 * details.agenda.len() * 8);
        m = step(m, submit());
        let chair = details.chairs[0].person_id.clone().unwrap();
        m = step(m, MinutesCommand::Approve { by: chair });
        m = step(m, MinutesCommand::Publish { by: person(TAKER), at: at("2021-07-25T10:11:12.123456789Z") });
        let seq = m.last_seq();
        let mut m = m.state().clone();
        assert_eq!(m.status, Some(MinutesStatus::Published));
        for (i, site) in details.sites.iter().enumerate() {
            acknowledged(&mut m, id, &site.id, seq + 1 + i as u64, at("2021-07-26T10:11:12.123456789Z"));
        }
        m
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
        // A record larger than the inline limit goes out of line: the events carry its reference.
        let whole = hoinghi_shared::events::FinalRecord { attendance: attendance.clone(), ..Default::default() };
        let stored = hoinghi_runtime::records::out_of_line(&whole).map(|bytes| StoredObject {
            object: format!("attendance-record/{id}/{}", "0".repeat(64)),
            size: bytes.len() as u64,
            sha256: "0".repeat(64),
        });
        let inline = if stored.is_some() { vec![] } else { attendance.clone() };
        let closed = event_len(
            &AttendanceEvent::RosterClosed {
                details: details.clone(),
                attendance: inline.clone(),
                quorum: vec![],
                speakers: vec![],
                record: stored.clone(),
            },
            id,
        );
        let opened = event_len(
            &MinutesEvent::DraftOpened {
                details: details.clone(),
                attendance: inline,
                quorum: vec![],
                speakers: vec![],
                record: stored,
            },
            id,
        );
        let m = publish(id, &details, &attendance);
        let markdown = m.markdown.clone().unwrap();
        // A document larger than the inline limit goes out of line: the event carries its reference.
        let large = markdown.len() > hoinghi_runtime::records::INLINE_LIMIT;
        let published = event_len(
            &MinutesEvent::MinutesPublished {
                markdown: if large { String::new() } else { markdown.clone() },
                sha256: "0".repeat(64),
                document: large.then(|| StoredObject {
                    object: format!("{}/{id}/{}", crate::document::KIND, "0".repeat(64)),
                    size: markdown.len() as u64,
                    sha256: "0".repeat(64),
                }),
                html_sha256: Some("0".repeat(64)),
                published_at: Some(Utc::now()),
            },
            id,
        );
        let n = details.sites.len();
        let without_page = json_len(&m.full_view(id, 0..0, None).unwrap());
        let asked = json_len(&m.full_view(id, 0..n.min(MAX_PAGE), None).unwrap());
        let reply = m.view(id, 0..n.min(MAX_PAGE)).unwrap();
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
            (AttendanceEvent::ROSTER_CLOSED, closed),
            (MinutesEvent::DRAFT_OPENED, opened),
            (MinutesEvent::MINUTES_PUBLISHED, published),
        ] {
            assert!(len <= MESSAGE_BUDGET, "{name}: {what} takes {len}");
        }
        assert!(without_page <= REPLY_BUDGET, "{name}: the minutes reply without attendance takes {without_page}");
        assert!(reply_len <= REPLY_BUDGET, "{name}: the minutes reply takes {reply_len}");
        // The HTML form, rendered on demand, fits a reply too (with a shorter page of attendance)
        let html = m.published_html(&id).unwrap();
        let view = m.html_view(id, 0..n.min(MAX_PAGE)).unwrap();
        let len = json_len(&view);
        eprintln!("{name}: html {}, html reply {len} with {} attendance lines", html.len(), view.attendance.len());
        assert!(len <= REPLY_BUDGET, "{name}: the HTML reply takes {len}");
        assert_eq!(reply.attendance_total, n);
        // Each form, read page by page with the page of attendance asked for, is the whole
        // document, and every reply fits
        for (form, text) in [(DocumentForm::Markdown, markdown.as_str()), (DocumentForm::Html, html.as_str())] {
            let mut assembler = hoinghi_shared::document::Assembler::new();
            while !assembler.is_complete() {
                let window = DocumentWindow { offset: assembler.next_offset(), limit: None };
                let document = Some(DocumentText { form, text });
                let view = m.paged_view(id, 0..n.min(MAX_PAGE), None, document, window).unwrap();
                assert!(json_len(&view) <= REPLY_BUDGET, "{name}: a page of the {form:?} takes {}", json_len(&view));
                assembler.push(view.document_page().unwrap()).unwrap();
            }
            assert_eq!(assembler.finish().unwrap(), text, "{name}: {form:?}");
        }
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
        details.sites = (0..50_000).map(|i| SiteRef { id: slug(i, 8), name: format!("Điểm cầu xã số {i}") }).collect();
        assert!(conference_fixed_cost(&details) <= DETAILS_BUDGET);
        check("the benchmark's 50,000 sites", details, false);
    }
}
