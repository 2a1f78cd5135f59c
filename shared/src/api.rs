//! Request and reply bodies of the public NATS API v1 (JSON, UTF-8, RFC 3339 times with offset).
//!
//! Requests are strict: a missing, unknown or mistyped field is refused with a 400 naming it.
//! Replies may gain fields in later versions, never lose them.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConferenceId, SiteId};

/// A person in a role: a chair, a guest or a delegate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Full name, as it should appear in the minutes (e.g. "Phương Thị Thanh").
    pub name: String,
    /// Position or title (e.g. "Phó Bí thư Thường trực Tỉnh ủy"); may be empty.
    #[serde(default)]
    pub title: String,
}

/// A site as shown to people: id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRef {
    /// The site id (slug).
    pub id: SiteId,
    /// The site's name (e.g. "Huyện ủy Ba Bể").
    pub name: String,
}

/// An agenda item as requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    /// What the item is (e.g. "Báo cáo sơ kết công tác dân vận 6 tháng đầu năm").
    pub title: String,
}

// ---------------------------------------------------------------- scheduling

/// `hoinghi.v1.scheduling.sites.register`: register a site, or rename a registered one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterSite {
    /// The site id: 1 to 64 characters from `a-z`, `0-9`, `-`.
    pub id: SiteId,
    /// The site's name.
    pub name: String,
}

/// Reply to `sites.register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The chairs or co-chairs, at least one.
    pub chairs: Vec<Person>,
    /// Guests attending (cùng dự); may be empty.
    #[serde(default)]
    pub guests: Vec<Person>,
    /// The agenda, in order, at least one item.
    pub agenda: Vec<AgendaItem>,
}

/// `{conference_id}`: the body of `invite`, `start`, `end`, `get` and of several queries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceRef {
    /// The conference.
    pub conference_id: ConferenceId,
}

/// A query for one page of a long list: the roster's sites, the minutes' attendance.
///
/// A national conference links tens of thousands of sites; one reply must stay well under the
/// server's `max_payload`, so long lists come in pages of at most [`MAX_PAGE`] entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct CancelConference {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Why it is cancelled; every invited site sees it.
    pub reason: String,
}

/// Where a conference is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// Chairs.
    pub chairs: Vec<Person>,
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
    /// Number of events this conference has had in the scheduling log.
    pub version: u64,
}

/// One line of a conference's audit trail: an event of the log, who caused it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct DeclineAttendance {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Why; recorded in the minutes.
    pub reason: String,
}

/// A site's answer and presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

/// Whether a roster still takes answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

// ---------------------------------------------------------------- minutes

/// A task as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// `hoinghi.v1.minutes.approve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveMinutes {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The approving chair's name, as listed among the conference's chairs.
    pub approved_by: String,
}

/// Where minutes are in their life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutesStatus {
    /// Being written.
    Draft,
    /// Waiting for a chair.
    Submitted,
    /// Approved by a chair, not yet published.
    Approved,
    /// Published: immutable.
    Published,
}

/// A site's attendance as the minutes record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// One agenda item in the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct Acknowledgement {
    /// The site.
    pub site_id: SiteId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Reply to every minutes command and to `get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Chairs.
    pub chairs: Vec<Person>,
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
    /// The approving chair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// When published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// The published document (Markdown), once published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// Hex SHA-256 of the UTF-8 bytes of `markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Sites that acknowledged receipt.
    pub acknowledgements: Vec<Acknowledgement>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
