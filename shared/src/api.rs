//! Request and reply bodies of the public NATS API v1 (JSON, UTF-8, RFC 3339 times with offset).
//!
//! Requests are strict: a missing, unknown or mistyped field is refused with a 400 naming it.
//! Replies may gain fields in later versions, never lose them.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConferenceId, PersonId, SiteId};

/// A person in a role: a chair, a guest or a delegate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Full name, as it should appear in the minutes (e.g. "Phương Thị Thanh").
    pub name: String,
    /// Position or title (e.g. "Phó Bí thư Thường trực Tỉnh ủy"); may be empty.
    #[serde(default)]
    pub title: String,
}

/// A chair (chủ trì, đồng chủ trì) of a conference: the name and title the minutes show, bound to
/// the person who chairs (their [`PersonId`], whose identity `person-<id>` alone may approve as this
/// chair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Chair {
    /// Full name, as it should appear in the minutes (e.g. "Phương Thị Thanh").
    pub name: String,
    /// Position or title (e.g. "Phó Bí thư Thường trực Tỉnh ủy"); may be empty.
    #[serde(default)]
    pub title: String,
    /// The person who chairs. Required when scheduling; absent only in the views of conferences
    /// scheduled before chairs were bound to persons (those chairs cannot approve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
}

/// A site as shown to people: id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteRef {
    /// The site id (slug).
    pub id: SiteId,
    /// The site's name (e.g. "Huyện ủy Ba Bể").
    pub name: String,
}

/// An agenda item as requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    /// What the item is (e.g. "Báo cáo sơ kết công tác dân vận 6 tháng đầu năm").
    pub title: String,
}

// ---------------------------------------------------------------- scheduling

/// `hoinghi.v1.scheduling.sites.register`: register a site, or rename a registered one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterSite {
    /// The site id: 1 to 64 characters from `a-z`, `0-9`, `-`.
    pub id: SiteId,
    /// The site's name.
    pub name: String,
}

/// Reply to `sites.register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteView {
    /// The site id.
    pub id: SiteId,
    /// The site's current name.
    pub name: String,
    /// When the site was first registered.
    pub registered_at: DateTime<Utc>,
}

/// `hoinghi.v1.scheduling.conferences.create`: schedule a conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateConference {
    /// The conference title.
    pub title: String,
    /// Who convenes it (e.g. "Tỉnh ủy Bắc Kạn").
    pub organizer: String,
    /// Start, RFC 3339 with offset (Vietnam time is `+07:00`).
    pub starts_at: DateTime<FixedOffset>,
    /// End, after the start.
    pub ends_at: DateTime<FixedOffset>,
    /// The host bridge, where the chairs sit; a registered site not listed in `sites`.
    pub host_site: SiteId,
    /// The linked bridges to invite: registered sites, at least one, no repeats.
    pub sites: Vec<SiteId>,
    /// The chairs or co-chairs, at least one, each bound to a different person (`person_id`).
    pub chairs: Vec<Chair>,
    /// The persons who keep the minutes (thư ký): at least one, no repeats. Only they may record,
    /// submit and publish this conference's minutes.
    pub minute_takers: Vec<PersonId>,
    /// Guests attending (cùng dự); may be empty.
    #[serde(default)]
    pub guests: Vec<Person>,
    /// The agenda, in order, at least one item.
    pub agenda: Vec<AgendaItem>,
    /// Whose approval publishing the minutes needs (default `all`: every co-chair).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<ApprovalPolicy>,
    /// When to remind the sites that have not answered, in seconds before the start: each 1 to
    /// 30 days' worth, at most 5 (default 24 h and 1 h; `[]`: no reminders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_offsets_s: Option<Vec<u32>>,
    /// The quorum rule: a share of the invited bridges or of the expected delegates that must be
    /// present (none: no rule, the conference is always quorate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<QuorumRule>,
}

/// What a quorum counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuorumBasis {
    /// The invited bridges present: a bridge is present by its latest roll call, else by being
    /// connected now, else by its check-in.
    Bridges,
    /// The expected delegates (the sum of the confirmed headcounts) present: the people counted
    /// by a bridge's roll call, else the confirmed headcount of a bridge present.
    Delegates,
}

/// A quorum rule `{basis, percent}`: at least `percent` % (1 to 100) of `basis` present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuorumRule {
    /// What is counted.
    pub basis: QuorumBasis,
    /// The share required, 1 to 100.
    pub percent: u8,
}

/// Whose approval publishing the minutes needs. With one chair both are the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPolicy {
    /// Any one chair's approval is enough.
    Any,
    /// Every chair must approve (the default).
    #[default]
    All,
}

/// `{conference_id}`: the body of `invite`, `start`, `end`, `get` and of several queries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConferenceRef {
    /// The conference.
    pub conference_id: ConferenceId,
}

/// `hoinghi.v1.scheduling.conferences.ics`: a site's invitation as an iCalendar object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IcsRequest {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The invited site (a linked bridge, or the host bridge) whose invitation it is.
    pub site: SiteId,
}

/// The iTIP method (RFC 5546) of an invitation's iCalendar object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum IcsMethod {
    /// The invitation stands (`METHOD:REQUEST`).
    Request,
    /// The conference was cancelled (`METHOD:CANCEL`, `STATUS:CANCELLED`).
    Cancel,
}

/// The reply of `conferences.ics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IcsInvitation {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The site it is addressed to (its `ATTENDEE`).
    pub site: SiteId,
    /// The `SEQUENCE` of the event: the schedule sequence, plus one once cancelled.
    pub sequence: u32,
    /// The `METHOD` of the calendar.
    pub method: IcsMethod,
    /// The iCalendar object (`text/calendar`, CRLF line ends).
    pub ics: String,
}

/// A query for one page of a long list: the roster's sites, the minutes' attendance.
///
/// A national conference links tens of thousands of sites; one reply must stay well under the
/// server's `max_payload`, so long lists come in pages of at most [`MAX_PAGE`] entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Index of the first entry (default 0).
    #[serde(default)]
    pub offset: usize,
    /// Most entries to return, 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]).
    #[serde(default = "default_page")]
    pub limit: usize,
}

/// Entries per page unless a query asks otherwise.
pub const DEFAULT_PAGE: usize = 1_000;
/// Most entries one page may hold.
pub const MAX_PAGE: usize = 5_000;

fn default_page() -> usize {
    DEFAULT_PAGE
}

impl PageQuery {
    /// The first page of a conference's list.
    pub fn first(conference_id: ConferenceId) -> Self {
        Self { conference_id, offset: 0, limit: DEFAULT_PAGE }
    }
}

/// `hoinghi.v1.scheduling.conferences.cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelConference {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Why it is cancelled; every invited site sees it.
    pub reason: String,
}

/// `hoinghi.v1.scheduling.conferences.reschedule`: move a conference that has not started to a new
/// time. Reply: the [`ConferenceView`] with its new `schedule_sequence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RescheduleConference {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The new start (in the future).
    pub starts_at: DateTime<FixedOffset>,
    /// The new end (after the new start).
    pub ends_at: DateTime<FixedOffset>,
    /// Why it is moved; every invited site sees it.
    pub reason: String,
    /// Ask every site to answer again: every answer is cleared back to "no answer" (default: the
    /// answers are kept).
    #[serde(default)]
    pub reanswer: bool,
}

/// Where a conference is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConferenceStatus {
    /// Scheduled, invitations not yet issued.
    Scheduled,
    /// Invitations issued; sites may confirm, decline and check in.
    Invited,
    /// The session is open.
    InSession,
    /// The session has ended; minutes are being written.
    Ended,
    /// Cancelled before it was held.
    Cancelled,
    /// Minutes published: the conference's record is complete.
    Closed,
}

/// A conference, as every scheduling command and `get` replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConferenceView {
    /// The conference id (UUID v7).
    pub id: ConferenceId,
    /// Where it is in its life.
    pub status: ConferenceStatus,
    /// Title.
    pub title: String,
    /// Who convenes it.
    pub organizer: String,
    /// Start.
    pub starts_at: DateTime<FixedOffset>,
    /// End.
    pub ends_at: DateTime<FixedOffset>,
    /// The host bridge.
    pub host_site: SiteRef,
    /// The linked bridges.
    pub sites: Vec<SiteRef>,
    /// Chairs, each bound to a person.
    pub chairs: Vec<Chair>,
    /// The persons who keep the minutes (empty for conferences scheduled before minute-takers were
    /// named).
    #[serde(default)]
    pub minute_takers: Vec<PersonId>,
    /// Guests.
    pub guests: Vec<Person>,
    /// Agenda.
    pub agenda: Vec<AgendaItem>,
    /// The reason given when it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// SHA-256 of the published minutes, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_sha256: Option<String>,
    /// Whose approval publishing the minutes needs.
    #[serde(default)]
    pub approval_policy: ApprovalPolicy,
    /// The quorum rule, if any (none: always quorate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<QuorumRule>,
    /// Number of events this conference has had in the scheduling log.
    pub version: u64,
    /// The schedule sequence: 0 as first scheduled, +1 with each reschedule (the iCalendar
    /// `SEQUENCE`).
    #[serde(default)]
    pub schedule_sequence: u32,
    /// The reminder offsets in force, in seconds before the start, earliest reminder first (the
    /// conference's own, else 24 h and 1 h; empty: no reminders).
    #[serde(default)]
    pub reminder_offsets_s: Vec<u32>,
}

/// One line of a conference's audit trail: an event of the log, who caused it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// The stream holding the event (`HOINGHI_SCHEDULING`, `HOINGHI_ATTENDANCE`, `HOINGHI_MINUTES`).
    pub stream: String,
    /// Its sequence in that stream.
    pub seq: u64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who caused it, as the service recorded it from the authenticated subject: `secretariat`,
    /// `site:<id>`, `minute-taker`, `chair`, or `service:<name>` for a reaction.
    pub actor: String,
    /// The event type (e.g. `attendance_confirmed`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The site the event is about, for per-site events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
}

/// Reply to `hoinghi.v1.scheduling.conferences.audit` (the request is a [`PageQuery`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditTrail {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Number of events about the conference in the three streams (the whole list `entries` is a
    /// page of).
    pub total: usize,
    /// Index of the first entry of `entries` in the whole list.
    pub offset: usize,
    /// The events, in time order (then stream, then sequence): the page asked for.
    pub entries: Vec<AuditEntry>,
}

// ---------------------------------------------------------------- attendance

/// `hoinghi.v1.attendance.sites.<site>.confirm`: the site will attend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmAttendance {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The named delegates (at least one); a substitute is named like anyone else.
    pub delegates: Vec<Person>,
    /// How many people will be at the bridge in all, at least the number of named delegates.
    pub headcount: u32,
}

/// `hoinghi.v1.attendance.sites.<site>.decline`: the site will not attend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeclineAttendance {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Why; recorded in the minutes.
    pub reason: String,
}

/// A site's answer and presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Invited, no answer yet.
    Invited,
    /// Confirmed, not (yet) checked in.
    Confirmed,
    /// Declined.
    Declined,
    /// Present at the session.
    CheckedIn,
}

/// One site's line on the roster, and the reply to every site attendance command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteAttendance {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The site.
    pub site_id: SiteId,
    /// The site's name.
    pub site_name: String,
    /// Its status.
    pub status: AttendanceStatus,
    /// Named delegates, once confirmed.
    pub delegates: Vec<crate::api::Person>,
    /// Declared headcount, once confirmed (0 otherwise).
    pub headcount: u32,
    /// The reason, if it declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// When it last answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    /// When it checked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The schedule sequence under which its current answer was given (none without an answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_sequence: Option<u32>,
    /// Its answer was given before the latest change of schedule (it may want to confirm again).
    #[serde(default)]
    pub answered_before_change: bool,
    /// The last schedule sequence the site has seen: by answering, checking in or acknowledging
    /// it (`schedule_seen`); none if it has done none of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_sequence: Option<u32>,
    /// The site has seen the current schedule.
    #[serde(default)]
    pub seen_current_schedule: bool,
    /// The answer it had when the secretariat asked every site to answer again (`reanswer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_answer: Option<PreviousAnswer>,
    /// Its technical check, once the secretariat opened one: `passed`, `failed` or `not_checked`
    /// (frozen at the start of the session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_check: Option<CheckStatus>,
    /// The items its last report failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technical_check_failed: Vec<CheckItem>,
    /// Its live presence, once the session started: state now, connected intervals, total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<crate::presence::SitePresence>,
    /// The secretariat's latest roll call of the bridge during the session (it complements
    /// `checked_in_at`, the site's own check-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll_call: Option<RollCallLine>,
}

/// The secretariat's latest roll call of a bridge, on its line of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollCallLine {
    /// Present, or absent.
    pub present: bool,
    /// People in the room, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<u32>,
    /// Why it is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the roll was called.
    pub at: DateTime<Utc>,
    /// How many roll calls of the bridge took effect (the latest replaces the earlier ones).
    pub calls: u32,
}

/// `hoinghi.v1.attendance.roll_call`: the secretariat takes the roll (điểm danh) of one invited
/// bridge during the session: present with the number of people in the room, or absent with a
/// reason. Replies with the bridge's line of the roster ([`SiteAttendance`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollCall {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The bridge (an invited site).
    pub site: SiteId,
    /// Present, or absent.
    pub present: bool,
    /// People in the room: required when present (1 to `MAX_HEADCOUNT`), refused when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<u32>,
    /// Why it is absent: required when absent, refused when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `hoinghi.v1.attendance.agenda.move`: the secretariat or a chair moves the session to agenda item
/// `item` (0-based) while it is in session. Moving to the current item changes nothing. Replies
/// with the floor ([`Floor`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveAgenda {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The agenda item, 0-based.
    pub item: usize,
}

/// `hoinghi.v1.attendance.sites.<site>.floor.request`: the site of the subject asks for the floor on
/// the current item. Asking again while its request is open changes nothing. Replies with the floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestFloor {
    /// The conference.
    pub conference_id: ConferenceId,
    /// What it wants to speak about (1 to `MAX_FLOOR_TOPIC_CHARS` characters).
    pub topic: String,
}

/// `hoinghi.v1.attendance.floor.grant`: the chair (or the secretariat) gives the floor to the head
/// of the queue (no `site`), or to `site` (out of order when it is not the head; recorded so).
/// Replies with the floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantFloor {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The site to give the floor to; none: the head of the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteId>,
}

/// A request waiting in the floor's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FloorRequest {
    /// Its place in the queue, 1-based.
    pub position: usize,
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// Its topic.
    pub topic: String,
    /// When it asked.
    pub asked_at: DateTime<Utc>,
}

/// A turn on the floor: who speaks now, or who spoke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FloorTurn {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// Its topic.
    pub topic: String,
    /// Whether it was given the floor before the head of the queue.
    pub out_of_order: bool,
    /// When it asked.
    pub asked_at: DateTime<Utc>,
    /// When it was given the floor.
    pub granted_at: DateTime<Utc>,
    /// When it was done (none: speaking now, or the item moved on while it spoke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
}

/// Who had the floor on one agenda item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FloorItemHistory {
    /// The item, 0-based.
    pub item: usize,
    /// Its title.
    pub title: String,
    /// The turns, in the order the floor was given.
    pub turns: Vec<FloorTurn>,
}

/// Reply to `hoinghi.v1.attendance.floor` (`{conference_id}`) and to every floor command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Floor {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Whether the session is under way (agenda moves and the floor are taken only then).
    pub in_session: bool,
    /// The current agenda item, 0-based (none until the first move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_item: Option<usize>,
    /// Its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_title: Option<String>,
    /// The queue of the current item, in the order the requests were appended.
    pub queue: Vec<FloorRequest>,
    /// Who speaks now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaking: Option<FloorTurn>,
    /// Who had the floor, per item (items nobody spoke on are left out), in agenda order.
    pub history: Vec<FloorItemHistory>,
}

/// Reply to `hoinghi.v1.attendance.quorum` (`{conference_id}`): whether the conference is quorate
/// now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quorum {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Whether it is quorate now (always, without a rule).
    pub quorate: bool,
    /// The rule's basis (none without a rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<QuorumBasis>,
    /// How many must be present (0 without a rule).
    pub required: u64,
    /// How many are present, by the basis (bridges without a rule).
    pub present: u64,
    /// Out of how many: invited bridges, or expected delegates.
    pub total: u64,
    /// The rule (none: no rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<QuorumRule>,
    /// Bridges present now, whatever the basis.
    pub bridges_present: usize,
    /// Invited bridges.
    pub bridges_total: usize,
    /// Bridges present by their roll call, by live presence, by check-in only.
    pub by_roll_call: usize,
    /// See `by_roll_call`.
    pub by_presence: usize,
    /// See `by_roll_call`.
    pub by_check_in: usize,
    /// Whether live presence was known (false while no presence state is kept: check-ins count).
    pub presence_known: bool,
    /// The answer in words, e.g. "no quorum rule: always quorate".
    pub note: String,
}

/// An answer cleared when the secretariat asked every site to answer again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviousAnswer {
    /// `confirmed` or `declined`.
    pub status: AttendanceStatus,
    /// Named delegates, if it had confirmed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delegates: Vec<crate::api::Person>,
    /// Declared headcount, if it had confirmed (0 otherwise).
    #[serde(default)]
    pub headcount: u32,
    /// The reason, if it had declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// When it had answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    /// The schedule sequence it had answered under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_sequence: Option<u32>,
}

/// `hoinghi.v1.attendance.sites.<site>.schedule_seen`: the site has seen the conference's current
/// schedule. A `sequence` that is not the current one is refused (409) with the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSeen {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The schedule sequence the site saw (`schedule_sequence` of the conference).
    pub sequence: u32,
}

/// The schedule a roster holds: the conference's current times and how many sites have seen them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterSchedule {
    /// The schedule sequence (0 as invited, +1 with each reschedule).
    pub sequence: u32,
    /// Start.
    pub starts_at: DateTime<FixedOffset>,
    /// End.
    pub ends_at: DateTime<FixedOffset>,
    /// The reason of the latest reschedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the latest reschedule asked every site to answer again.
    #[serde(default)]
    pub reanswer: bool,
    /// Sites that have seen this schedule.
    pub seen: usize,
    /// Sites whose answer was given before the latest change.
    pub answered_before_change: usize,
}

/// Whether a roster still takes answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RosterState {
    /// Sites may confirm, decline and check in.
    Open,
    /// The session ended; the record is final.
    Closed,
    /// The conference was cancelled.
    Cancelled,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterCounts {
    /// Sites invited.
    pub invited: usize,
    /// Sites that confirmed (whether or not they checked in).
    pub confirmed: usize,
    /// Sites that declined.
    pub declined: usize,
    /// Sites that never answered.
    pub no_answer: usize,
    /// Sites checked in.
    pub checked_in: usize,
}

/// Reply to `hoinghi.v1.attendance.roster`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Roster {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Whether it still takes answers.
    pub state: RosterState,
    /// Counts per status, over every invited site.
    pub counts: RosterCounts,
    /// Number of invited sites (the length of the whole list `sites` is a page of).
    pub total_sites: usize,
    /// Index of the first entry of `sites` in the whole list.
    pub offset: usize,
    /// One line per invited site, in invitation order: the page asked for (by default the first
    /// 1,000; see [`PageQuery`]).
    pub sites: Vec<SiteAttendance>,
    /// The current schedule and who has seen it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<RosterSchedule>,
}

// ---------------------------------------------------------------- minutes

/// A task as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// What must be done.
    pub description: String,
    /// The responsible site: the host or one of the linked sites.
    pub owner_site: SiteId,
    /// Deadline (a date, exactly `YYYY-MM-DD`).
    #[serde(with = "date_only")]
    pub due: NaiveDate,
}

/// A calendar date on the wire: exactly `YYYY-MM-DD` (four-digit year, two-digit month and day, no
/// sign, no spaces), as documented; chrono's own parser also takes `2021-1-1` or `+10000-01-01`.
pub mod date_only {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Parses a date in exactly the documented form.
    ///
    /// # Errors
    /// What is wrong with `text`, for a person.
    pub fn parse(text: &str) -> Result<NaiveDate, String> {
        let shape_ok = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        if !shape_ok {
            return Err(format!("{text:?} is not a date in the form YYYY-MM-DD (e.g. 2021-08-15)"));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("{text:?} is no day of the calendar (a date is YYYY-MM-DD)"))
    }

    /// Writes `YYYY-MM-DD`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&date.format("%Y-%m-%d"))
    }

    /// Reads exactly `YYYY-MM-DD`.
    ///
    /// # Errors
    /// Anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `hoinghi.v1.minutes.record`: record (or re-record) one agenda item of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordItem {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The agenda item, 0-based.
    pub item: usize,
    /// Who spoke, in order ("Name, position, site").
    #[serde(default)]
    pub speakers: Vec<String>,
    /// What was said.
    pub summary: String,
    /// Conclusions reached.
    #[serde(default)]
    pub conclusions: Vec<String>,
    /// Tasks assigned.
    #[serde(default)]
    pub tasks: Vec<Task>,
}

/// `hoinghi.v1.minutes.persons.<person>.approve`: the chair bound to that person approves the
/// submitted version. Who approves is the person of the subject (only they may publish on it): no
/// field of the body names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveMinutes {
    /// The conference.
    pub conference_id: ConferenceId,
}

/// `hoinghi.v1.minutes.persons.<person>.request_changes`: the chair bound to that person asks for
/// changes to the submitted version instead of approving it; the minutes go back to a draft for the
/// minute-taker to revise and resubmit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestChanges {
    /// The conference.
    pub conference_id: ConferenceId,
    /// What should change.
    pub comment: String,
}

/// `hoinghi.v1.minutes.get`: the minutes with one page of their attendance, and optionally one
/// submitted version of their items (a [`PageQuery`] is also a valid body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GetMinutes {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Index of the first attendance entry (default 0).
    #[serde(default)]
    pub offset: usize,
    /// Most attendance entries to return, 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]).
    #[serde(default = "default_page")]
    pub limit: usize,
    /// The submitted version to show (1, 2, …); absent: the minutes as they are now (`null` is
    /// refused like any other value that is not a version).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present_version")]
    pub version: Option<u32>,
    /// `html`: the published document's HTML form instead of its Markdown (`html`), rendered from
    /// the published minutes and checked against `html_sha256`; absent or `markdown`: the Markdown
    /// (`markdown`, in every published reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<DocumentForm>,
    /// Byte offset, in the published document of the form asked for, of the page of it to return
    /// (default 0; past the document's end is refused). The document comes by pages: see
    /// [`crate::document`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub document_offset: usize,
    /// Most bytes of the document to return (default
    /// [`DEFAULT_DOCUMENT_PAGE`](crate::document::DEFAULT_DOCUMENT_PAGE), 1 MiB; larger is clamped
    /// to [`MAX_DOCUMENT_PAGE`](crate::document::MAX_DOCUMENT_PAGE), 0 is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_limit: Option<usize>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A form of the published minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentForm {
    /// The Markdown kept in the log (`markdown`, `sha256`).
    Markdown,
    /// The HTML laid out as an administrative document (`html`, `html_sha256`).
    Html,
}

fn present_version<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    u32::deserialize(deserializer).map(Some)
}

impl GetMinutes {
    /// The attendance page asked for.
    pub fn page(&self) -> PageQuery {
        PageQuery { conference_id: self.conference_id, offset: self.offset, limit: self.limit }
    }
}

impl From<PageQuery> for GetMinutes {
    fn from(q: PageQuery) -> Self {
        Self {
            conference_id: q.conference_id,
            offset: q.offset,
            limit: q.limit,
            version: None,
            form: None,
            document_offset: 0,
            document_limit: None,
        }
    }
}

/// A chair's approval of one submitted version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    /// The chair's name, as the conference binds it to the approving person.
    pub by: String,
    /// The approving person (absent for approvals recorded before chairs were persons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// The version approved.
    pub version: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// A chair's request for changes to one submitted version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeRequest {
    /// The chair's name, as the conference binds it to the requesting person.
    pub requested_by: String,
    /// The requesting person (absent for requests recorded before chairs were persons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// The version it is about.
    pub version: u32,
    /// What should change.
    pub comment: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agenda item named in [`VersionChanges`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangedItem {
    /// 0-based index.
    pub index: usize,
    /// The agenda title.
    pub title: String,
}

/// What changed in the items shown from the previous submitted version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionChanges {
    /// The version compared with.
    pub from_version: u32,
    /// Items recorded now and not in that version.
    pub added: Vec<ChangedItem>,
    /// Items recorded in both, differently.
    pub changed: Vec<ChangedItem>,
    /// Items recorded in that version and not now.
    pub removed: Vec<ChangedItem>,
    /// The change request on that version that led to this one, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_request: Option<ChangeRequest>,
}

/// Where minutes are in their life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MinutesStatus {
    /// Being written (or revised after a chair requested changes).
    Draft,
    /// Submitted, waiting for the approvals the policy needs.
    Submitted,
    /// Approved as the policy needs (any chair, or all), not yet published.
    Approved,
    /// Published: immutable.
    Published,
}

/// A site's attendance as the minutes record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendanceRecord {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// Its final status.
    pub status: AttendanceStatus,
    /// Whether it answered "attending" (it may still not have checked in).
    pub confirmed: bool,
    /// Named delegates.
    pub delegates: Vec<Person>,
    /// Declared headcount.
    pub headcount: u32,
    /// Reason given, if it declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// When it checked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Its technical check at the start of the session (none when no check was opened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_check: Option<CheckStatus>,
    /// The items it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technical_check_failed: Vec<CheckItem>,
    /// Its live presence during the session: connected intervals and total (absent for a bridge
    /// never heard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<crate::presence::PresenceRecord>,
}

/// One item of a bridge's technical check (kiểm tra kỹ thuật).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckItem {
    /// Picture (hình ảnh).
    Picture,
    /// Sound (âm thanh).
    Sound,
    /// Network line (đường truyền).
    Line,
}

/// Where a site's technical check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Its last report had every item ok.
    Passed,
    /// Its last report had an item failed.
    Failed,
    /// It has not reported.
    NotChecked,
}

/// One item of a report: ok, or failed with a note saying what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    /// Whether it works.
    pub ok: bool,
    /// What was seen; required when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `hoinghi.v1.attendance.sites.<site>.technical_check`: the site's report of its technical check
/// (it replaces the site's previous report). Reply: [`SiteTechnicalCheck`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportTechnicalCheck {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Picture.
    pub picture: CheckResult,
    /// Sound.
    pub sound: CheckResult,
    /// Network line.
    pub line: CheckResult,
}

/// A site's technical check: its last report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteTechnicalCheck {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// Passed, failed or not checked.
    pub status: CheckStatus,
    /// Picture, as last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<CheckResult>,
    /// Sound, as last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<CheckResult>,
    /// Network line, as last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<CheckResult>,
    /// When it last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<DateTime<Utc>>,
    /// How many reports it sent (a re-test is one more).
    pub reports: u32,
}

/// Whether a conference's technical check takes reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TechnicalCheckState {
    /// The secretariat has not opened it.
    NotOpened,
    /// Sites report.
    Open,
    /// The session started: the outcome is final.
    Closed,
}

/// How many bridges passed, failed and have not checked (over every invited site).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TechnicalCheckCounts {
    /// Invited sites.
    pub sites: usize,
    /// Last report all ok.
    pub passed: usize,
    /// Last report with a failed item.
    pub failed: usize,
    /// No report.
    pub not_checked: usize,
}

/// One failed item, with the site's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedItem {
    /// Which.
    pub item: CheckItem,
    /// What the site saw.
    pub note: String,
}

/// A site whose last report failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailingSite {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// The failed items.
    pub failed: Vec<FailedItem>,
    /// When it reported.
    pub reported_at: DateTime<Utc>,
    /// How many reports it sent.
    pub reports: u32,
}

/// `hoinghi.v1.attendance.technical_check.summary` (and the reply of `technical_check.open`): the
/// counts over every site, and one page of the failing sites (in invitation order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TechnicalCheckSummary {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Not opened, open or closed.
    pub state: TechnicalCheckState,
    /// When the secretariat opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<DateTime<Utc>>,
    /// Counts over every invited site.
    pub counts: TechnicalCheckCounts,
    /// How many sites failed (the length of the whole failing list).
    pub total_failing: usize,
    /// Index of the page's first failing site.
    pub offset: usize,
    /// One page of the failing sites, with their failed items and notes.
    pub failing: Vec<FailingSite>,
}

/// One agenda item in the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MinutesItem {
    /// 0-based index.
    pub index: usize,
    /// The agenda title.
    pub title: String,
    /// Whether the minute-taker has recorded it.
    pub recorded: bool,
    /// Speakers.
    pub speakers: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Conclusions.
    pub conclusions: Vec<String>,
    /// Tasks.
    pub tasks: Vec<Task>,
}

/// A site's acknowledgement of the published minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acknowledgement {
    /// The site.
    pub site_id: SiteId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Reply to every minutes command and to `get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MinutesView {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Where the minutes are in their life.
    pub status: MinutesStatus,
    /// Conference title.
    pub title: String,
    /// Who convened it.
    pub organizer: String,
    /// Start.
    pub starts_at: DateTime<FixedOffset>,
    /// End.
    pub ends_at: DateTime<FixedOffset>,
    /// The host bridge.
    pub host_site: SiteRef,
    /// Chairs, each bound to a person.
    pub chairs: Vec<Chair>,
    /// Guests.
    pub guests: Vec<Person>,
    /// Number of invited sites in the attendance record.
    pub attendance_total: usize,
    /// Index of the first entry of `attendance` in the whole record.
    pub attendance_offset: usize,
    /// Attendance as it happened, one entry per invited site in invitation order: the page asked
    /// for (by default the first 1,000; see [`PageQuery`]).
    pub attendance: Vec<AttendanceRecord>,
    /// One entry per agenda item.
    pub items: Vec<MinutesItem>,
    /// The first chair who approved the current version (every approval is in `approvals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// When published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// One page of the published document (Markdown), once published: the page asked for, or the
    /// first (the whole document when it is no longer than a page; see [`crate::document`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// Hex SHA-256 of the UTF-8 bytes of the whole Markdown document (every page carries it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Hex SHA-256 of the UTF-8 bytes of the whole HTML form, once published (absent for minutes
    /// published before the HTML form existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_sha256: Option<String>,
    /// One page of the HTML form of the published document, only when asked for
    /// (`"form": "html"`), instead of `markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Where the page of the document in this reply (`markdown`, or `html`) starts in the whole
    /// document, in bytes; absent without a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_offset: Option<usize>,
    /// The whole document's length in bytes (of the form in this reply): the reader has it all
    /// when `document_offset` + the page's length reaches it; absent without a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_total_bytes: Option<usize>,
    /// Sites that acknowledged receipt.
    pub acknowledgements: Vec<Acknowledgement>,
    /// Whose approval publishing needs.
    #[serde(default)]
    pub approval_policy: ApprovalPolicy,
    /// The version whose items are shown: a submission (1, 2, …), or for a draft being written the
    /// number it will have when submitted.
    #[serde(default)]
    pub version: u32,
    /// How many versions have been submitted.
    #[serde(default)]
    pub latest_version: u32,
    /// The approvals of the version shown, in order.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// The chairs whose approval the version shown still waits for (empty once the policy is met;
    /// with `any`, every chair until one approves).
    #[serde(default)]
    pub awaiting: Vec<String>,
    /// Every change request, oldest first.
    #[serde(default)]
    pub change_requests: Vec<ChangeRequest>,
    /// What changed in the items shown from the previous version (absent for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<VersionChanges>,
}

// ---------------------------------------------------------------- tasks followed to done

/// What a site reports on one of its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskReportKind {
    /// Work under way.
    Progress,
    /// The task is done; the secretariat accepts it or returns it.
    Done,
}

/// `hoinghi.v1.minutes.sites.<site>.tasks.report`: the owner site reports progress on, or the
/// completion of, one of its tasks of the published minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportTask {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The task (`<item>-<index>`, as listed).
    pub task_id: crate::ids::TaskId,
    /// `progress` or `done`.
    pub kind: TaskReportKind,
    /// What was done (required).
    pub text: String,
    /// A document number, a link or another reference to the evidence, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The secretariat's decision on a task reported done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskDecision {
    /// Done as asked: the task is closed.
    Accept,
    /// Not done as asked: the task goes back to the site, in progress.
    Return,
}

/// `hoinghi.v1.minutes.tasks.review`: the secretariat accepts or returns a task reported done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewTask {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The task.
    pub task_id: crate::ids::TaskId,
    /// `accept` or `return`.
    pub decision: TaskDecision,
    /// Why (required to return a task; optional to accept one).
    #[serde(default)]
    pub comment: String,
}

/// `hoinghi.v1.minutes.tasks.list` (the secretariat, the minute-taker, the chairs) and
/// `hoinghi.v1.minutes.sites.<site>.tasks.list` (a site: only its own tasks; `site`, if given, must
/// be its own): the tasks of published minutes, one conference's or every conference's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListTasks {
    /// Only this conference's tasks (default: every conference with published minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_id: Option<ConferenceId>,
    /// Only this site's tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteId>,
    /// Only tasks past their due date and not accepted.
    #[serde(default)]
    pub overdue_only: bool,
    /// Index of the first task (default 0).
    #[serde(default)]
    pub offset: usize,
    /// Most tasks to return, 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]).
    #[serde(default = "default_page")]
    pub limit: usize,
}

impl Default for ListTasks {
    /// Every task, the first page.
    fn default() -> Self {
        Self { conference_id: None, site: None, overdue_only: false, offset: 0, limit: DEFAULT_PAGE }
    }
}

/// Where a task is in its life: `open` (nothing reported yet) → `in_progress` (progress reported, or
/// returned by the secretariat) → `reported_done` → `accepted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Nothing reported yet.
    Open,
    /// Progress reported, or returned by the secretariat.
    InProgress,
    /// Reported done, waiting for the secretariat.
    ReportedDone,
    /// Accepted by the secretariat: closed.
    Accepted,
}

/// A site's report on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskReport {
    /// `progress` or `done`.
    pub kind: TaskReportKind,
    /// What was done.
    pub text: String,
    /// The reference given, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The secretariat's review of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskReview {
    /// `accept` or `return`.
    pub decision: TaskDecision,
    /// Why (may be empty for an acceptance).
    pub comment: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One task of published minutes and how far it has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskView {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Its title.
    pub conference_title: String,
    /// The task (`<item>-<index>`).
    pub task_id: crate::ids::TaskId,
    /// The agenda item's title.
    pub item_title: String,
    /// What must be done.
    pub description: String,
    /// The responsible site.
    pub owner_site: SiteId,
    /// Its name.
    pub owner_site_name: String,
    /// Deadline (`YYYY-MM-DD`).
    #[serde(with = "date_only")]
    pub due: NaiveDate,
    /// Where it is.
    pub status: TaskStatus,
    /// Past its due date (in Vietnam time) and not accepted.
    pub overdue: bool,
    /// How many reports the site has made.
    pub reports: usize,
    /// The latest report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_report: Option<TaskReport>,
    /// The latest review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_review: Option<TaskReview>,
}

/// Reply to the task lists: one page of the tasks asked for, ordered by conference (start time)
/// then task id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskList {
    /// The day overdue is counted from (today in Vietnam, Asia/Ho_Chi_Minh).
    #[serde(with = "date_only")]
    pub today: NaiveDate,
    /// How many tasks match, over every page.
    pub total: usize,
    /// Index of the first task of this page.
    pub offset: usize,
    /// This page (fewer than `limit` if the reply would not fit a message; read on from
    /// `offset + tasks.len()`).
    pub tasks: Vec<TaskView>,
}

// ---------------------------------------------------------------- conclusions notice, receipts, exports

/// An optional calendar date on the wire: absent, `null`, or exactly `YYYY-MM-DD`.
pub mod date_only_opt {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `YYYY-MM-DD`, or `null`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => super::date_only::serialize(date, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads exactly `YYYY-MM-DD`, or `null`.
    ///
    /// # Errors
    /// Anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|t| super::date_only::parse(&t).map_err(serde::de::Error::custom)).transpose()
    }
}

/// `hoinghi.v1.minutes.notices.issue`: the secretariat issues the conclusions notice of published
/// minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueNotice {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The document number (số/ký hiệu): digits, then `/` or `-` and a symbol of capital letters,
    /// digits, `-`, `/` or `.`, e.g. `15/TB-TU` or `245-TB/TU`; at most 50 characters.
    pub number: String,
    /// The date on the notice (`YYYY-MM-DD`, Vietnam); default: today.
    #[serde(default, with = "date_only_opt", skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<NaiveDate>,
}

/// Where a conference's conclusions notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// The minutes are not published yet; the notice cannot be issued.
    AwaitingMinutes,
    /// The minutes are published; the notice may be issued.
    Due,
    /// Issued.
    Issued,
}

/// A task in a conclusions notice, with its owner site's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeTask {
    /// What must be done.
    pub description: String,
    /// The responsible site.
    pub owner_site: SiteId,
    /// Its name.
    pub owner_name: String,
    /// Deadline (`YYYY-MM-DD`).
    #[serde(with = "date_only")]
    pub due: NaiveDate,
}

/// An agenda item of a conclusions notice: its conclusions and tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeItem {
    /// The agenda item, 0-based.
    pub index: usize,
    /// Its title.
    pub title: String,
    /// Conclusions.
    pub conclusions: Vec<String>,
    /// Tasks.
    pub tasks: Vec<NoticeTask>,
}

/// A site's receipt of the conclusions notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeReceipt {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// When it acknowledged receipt (absent: not yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Reply to the notice subjects: a conference's conclusions notice, or before it is issued, its
/// deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeView {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Conference title.
    pub title: String,
    /// Who convened it (the issuing body).
    pub organizer: String,
    /// The day of the conference (its end, Vietnam time).
    #[serde(with = "date_only")]
    pub conference_day: NaiveDate,
    /// Where the notice is.
    pub status: NoticeStatus,
    /// The last day it is due: 5 working days after the conference.
    #[serde(with = "date_only")]
    pub deadline: NaiveDate,
    /// Whether the public holidays of every year the deadline spans are known; `false`: only
    /// weekends and the fixed solar holidays (1 January, 30 April, 1 May, 2 September) were skipped.
    pub holidays_known: bool,
    /// Not issued and past its deadline.
    pub overdue: bool,
    /// The document number, once issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The date on the notice, once issued.
    #[serde(default, with = "date_only_opt", skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<NaiveDate>,
    /// When it was recorded as issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<DateTime<Utc>>,
    /// Issued after its deadline.
    pub late: bool,
    /// The items with conclusions or tasks (empty until issued).
    pub items: Vec<NoticeItem>,
    /// Sites it is distributed to (every invited site).
    pub sites_total: usize,
    /// How many acknowledged receipt.
    pub acknowledged: usize,
    /// The asking site's own receipt (only in a site's read, `…sites.<site>.notice_get`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<NoticeReceipt>,
}

/// `hoinghi.v1.minutes.notices.overdue`: which notices are past their deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OverdueQuery {
    /// The day to judge by (`YYYY-MM-DD`); default: today in Vietnam.
    #[serde(default, with = "date_only_opt", skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
}

/// A conclusions notice not issued by its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueNotice {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Its title.
    pub title: String,
    /// The day of the conference.
    #[serde(with = "date_only")]
    pub conference_day: NaiveDate,
    /// The deadline that passed.
    #[serde(with = "date_only")]
    pub deadline: NaiveDate,
    /// Whether the deadline counted every public holiday (see [`NoticeView::holidays_known`]).
    pub holidays_known: bool,
    /// Calendar days since the deadline.
    pub days_overdue: i64,
    /// Where the minutes are (a notice needs published minutes).
    pub minutes_status: MinutesStatus,
}

/// Reply to `notices.overdue`, oldest deadline first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueNotices {
    /// The day judged by.
    #[serde(with = "date_only")]
    pub as_of: NaiveDate,
    /// The overdue notices.
    pub notices: Vec<OverdueNotice>,
}

/// One site still waiting to acknowledge the minutes, the notice, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteReceipts {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// When it acknowledged the published minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_acknowledged_at: Option<DateTime<Utc>>,
    /// Waiting for its acknowledgement of the minutes since (their publication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_waiting_since: Option<DateTime<Utc>>,
    /// For how many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_waiting_seconds: Option<i64>,
    /// When it acknowledged the conclusions notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_acknowledged_at: Option<DateTime<Utc>>,
    /// Waiting for its acknowledgement of the notice since (its issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_waiting_since: Option<DateTime<Utc>>,
    /// For how many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_waiting_seconds: Option<i64>,
}

/// Reply to `hoinghi.v1.minutes.receipts` (`{conference_id, offset?, limit?}`): the sites that have
/// not acknowledged the published minutes or the issued notice, in invitation order, one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipts {
    /// The conference.
    pub conference_id: ConferenceId,
    /// When the waiting times were measured.
    pub as_of: DateTime<Utc>,
    /// When the minutes were published (absent: not yet, nobody is waited for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_published_at: Option<DateTime<Utc>>,
    /// When the notice was issued (absent: not yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_issued_at: Option<DateTime<Utc>>,
    /// Invited sites.
    pub sites_total: usize,
    /// Sites that have not acknowledged the published minutes.
    pub minutes_waiting: usize,
    /// Sites that have not acknowledged the issued notice.
    pub notice_waiting: usize,
    /// Sites waiting for either (the length of the whole list).
    pub waiting_total: usize,
    /// Index of the first entry of `sites` in the whole list.
    pub offset: usize,
    /// The page of waiting sites.
    pub sites: Vec<SiteReceipts>,
}

/// The format of an attendance export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Comma-separated values (RFC 4180), with a header row.
    Csv,
    /// A JSON array of [`AttendanceRow`].
    Json,
}

/// `hoinghi.v1.minutes.attendance_export`: the attendance record as a file, one page of rows at a
/// time (at 50,000 sites the file is larger than one reply may carry): read on from `offset` +
/// the reply's `rows` until `total_rows` ([`crate::export`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportAttendance {
    /// The conference.
    pub conference_id: ConferenceId,
    /// `csv` or `json`.
    pub format: ExportFormat,
    /// Index of the first row (default 0); at or past the end gives no row.
    #[serde(default)]
    pub offset: usize,
    /// Most rows to return, 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]); the reply may hold fewer
    /// so that it fits a reply.
    #[serde(default = "default_page")]
    pub limit: usize,
}

impl ExportAttendance {
    /// The first page of conference `conference_id`'s export in `format`.
    pub fn first(conference_id: ConferenceId, format: ExportFormat) -> Self {
        Self { conference_id, format, offset: 0, limit: DEFAULT_PAGE }
    }
}

/// One line of the attendance export (the JSON form; the CSV has the same columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendanceRow {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// `confirmed`, `declined` or `no_answer`.
    pub answer: String,
    /// Named delegates.
    pub delegates: Vec<Person>,
    /// Declared headcount.
    pub headcount: u32,
    /// Reason given, if it declined.
    #[serde(default)]
    pub decline_reason: Option<String>,
    /// When it checked in.
    #[serde(default)]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The intervals the bridge was connected during the session (live presence), as ISO 8601
    /// intervals in Vietnam time joined by `; `; `null` for a bridge never heard.
    #[serde(default)]
    pub presence: Option<String>,
}

/// Reply to `attendance_export`: one page of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendanceExport {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The format of `content`.
    pub format: ExportFormat,
    /// Its media type (`text/csv; charset=utf-8`, `application/json`).
    pub media_type: String,
    /// A file name to save it as.
    pub file_name: String,
    /// Data rows in `content` (this page's).
    pub rows: usize,
    /// Index of the first of them among all the rows.
    pub offset: usize,
    /// Data rows of the whole file (one per invited site).
    pub total_rows: usize,
    /// This page of the file. CSV: the lines of its rows, after the header line on the first page
    /// (offset 0), so that the pages' contents one after the other are the file. JSON: an array of
    /// its rows ([`AttendanceRow`]); the file is the array of every page's rows in order.
    pub content: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minutes_query_names_a_version_or_none() {
        let id = "0190e1a2-0000-7000-8000-000000000002";
        let get = |body: serde_json::Value| serde_json::from_value::<GetMinutes>(body);
        assert_eq!(get(serde_json::json!({"conference_id": id})).unwrap().version, None);
        assert_eq!(get(serde_json::json!({"conference_id": id, "version": 2})).unwrap().version, Some(2));
        for bad in [
            serde_json::json!(null),
            serde_json::json!(-1),
            serde_json::json!("2"),
            serde_json::json!(4_294_967_296u64),
        ] {
            assert!(get(serde_json::json!({"conference_id": id, "version": bad})).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_minutes_query_asks_for_a_page_of_the_document_in_bytes() {
        let id = "0190e1a2-0000-7000-8000-000000000002";
        let get = |body: serde_json::Value| serde_json::from_value::<GetMinutes>(body);
        let plain = get(serde_json::json!({"conference_id": id})).unwrap();
        assert_eq!((plain.document_offset, plain.document_limit), (0, None));
        assert_eq!(serde_json::to_value(&plain).unwrap().get("document_offset"), None, "written only when set");
        let page = get(serde_json::json!({"conference_id": id, "document_offset": 3, "document_limit": 7})).unwrap();
        assert_eq!((page.document_offset, page.document_limit), (3, Some(7)));
        for bad in ["-1", "1.5", "\"3\"", "null", "1e30", "18446744073709551616", "[]"] {
            let body = format!(r#"{{"conference_id": "{id}", "document_offset": {bad}}}"#);
            assert!(serde_json::from_str::<GetMinutes>(&body).is_err(), "{body}");
        }
        assert!(get(serde_json::json!({"conference_id": id, "document_limit": -5})).is_err());
    }

    #[test]
    fn a_due_date_is_exactly_year_month_day() {
        let task = |due: &str| {
            serde_json::from_value::<Task>(serde_json::json!({"description": "x", "owner_site": "ba-be", "due": due}))
        };
        let ok = task("2021-08-15").unwrap();
        assert_eq!(ok.due, NaiveDate::from_ymd_opt(2021, 8, 15).unwrap());
        assert_eq!(serde_json::to_value(&ok).unwrap()["due"], "2021-08-15");
        for bad in [
            "2021-1-1",
            " 2021-01-01",
            "2021-01-01 ",
            "+10000-01-01",
            "-0001-01-01",
            "2021-02-30",
            "20210101",
            "2021/01/01",
            "",
        ] {
            let err = task(bad).unwrap_err().to_string();
            assert!(err.contains("YYYY-MM-DD") || err.contains("calendar"), "{bad:?}: {err}");
        }
    }
}
