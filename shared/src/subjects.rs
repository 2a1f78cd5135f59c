//! Every NATS subject of the contract, built by functions.
//!
//! Shape: `hoinghi.v1.<service>.<resource>.<action>` for commands and queries, and
//! `hoinghi.v1.events.<service>.<conference>[.<site>].<event type>` for events, so a consumer can
//! filter by conference, site or event type with ordinary wildcards.
//!
//! The prefix `hoinghi.v1` is written once, in the crate-private `subject!` macro: [`PREFIX`],
//! every constant (here and in [`crate::streams`]) and every builder is composed from it. A service
//! is named by [`Service`], never by a bare token, and an event type by its enum's constant (e.g.
//! [`crate::events::SchedulingEvent::INVITATIONS_ISSUED`]).

use crate::ids::{ConferenceId, PersonId, SiteId, TaskId};
use crate::service::Service;

/// `subject!()` is the prefix of every subject of this version of the contract, `hoinghi.v1`;
/// `subject!("a.b")` is the constant subject `hoinghi.v1.a.b`. The only place the prefix is spelled.
macro_rules! subject {
    () => {
        "hoinghi.v1"
    };
    ($tail:literal) => {
        concat!($crate::subjects::subject!(), ".", $tail)
    };
}
pub(crate) use subject;

/// The prefix of every subject.
pub const PREFIX: &str = subject!();

/// Every hoinghi subject, of every version (`hoinghi.>`).
pub const ALL: &str = "hoinghi.>";

/// `hoinghi.v1.<service>.>`: every command and query a service answers.
pub fn requests_of(service: Service) -> String {
    format!("{PREFIX}.{service}.>")
}

/// `hoinghi.v1.<service>.sites.<site>.<action>`: a district point acting for its site.
fn site_command(service: Service, site: &SiteId, action: &str) -> String {
    format!("{PREFIX}.{service}.sites.{site}.{action}")
}

/// `hoinghi.v1.<service>.sites.*.<action>`: `action` from every site.
fn any_site(service: Service, action: &str) -> String {
    format!("{PREFIX}.{service}.sites.*.{action}")
}

/// `hoinghi.v1.<service>.sites.<site>.>`: every action of one site.
fn site_all(service: Service, site: &SiteId) -> String {
    format!("{PREFIX}.{service}.sites.{site}.>")
}

/// Declares, in a service's module, its per-site builders `site_command`, `any_site` and
/// `site_all` (`hoinghi.v1.<service>.sites.…`), each the module-level one with the service filled in.
macro_rules! site_subjects {
    ($service:ident, $token:literal) => {
        #[doc = concat!("`", subject!(), ".", $token, ".sites.<site>.<action>`: a district point acting for its site.")]
        pub fn site_command(site: &SiteId, action: &str) -> String {
            super::site_command(Service::$service, site, action)
        }

        #[doc = concat!("`", subject!(), ".", $token, ".sites.*.<action>`: the subject a service listens on for `action` from")]
        /// every site.
        pub fn any_site(action: &str) -> String {
            super::any_site(Service::$service, action)
        }

        #[doc = concat!("`", subject!(), ".", $token, ".sites.<site>.>`: every action of one site.")]
        pub fn site_all(site: &SiteId) -> String {
            super::site_all(Service::$service, site)
        }
    };
}

/// Command and query subjects of the scheduling service (used by the secretariat).
pub mod scheduling {
    use super::{Service, SiteId};

    /// Register (or rename) a site.
    pub const REGISTER_SITE: &str = subject!("scheduling.sites.register");
    /// Schedule a conference.
    pub const CREATE: &str = subject!("scheduling.conferences.create");
    /// Issue the invitations.
    pub const INVITE: &str = subject!("scheduling.conferences.invite");
    /// Open the session.
    pub const START: &str = subject!("scheduling.conferences.start");
    /// Close the session.
    pub const END: &str = subject!("scheduling.conferences.end");
    /// Cancel the conference.
    pub const CANCEL: &str = subject!("scheduling.conferences.cancel");
    /// Move the conference to a new time (before it starts), with a reason.
    pub const RESCHEDULE: &str = subject!("scheduling.conferences.reschedule");
    /// Read a conference (the secretariat and the persons: every conference).
    pub const GET: &str = subject!("scheduling.conferences.get");
    /// Who did what and when in a conference, from the event log (the secretariat's audit trail).
    pub const AUDIT: &str = subject!("scheduling.conferences.audit");
    /// A site's invitation as an iCalendar (RFC 5545) object: `METHOD:REQUEST`, or `METHOD:CANCEL`
    /// once cancelled (the secretariat, for any site).
    pub const ICS: &str = subject!("scheduling.conferences.ics");
    /// The action token of a site reading one of its own conferences
    /// (`hoinghi.v1.scheduling.sites.<site>.get`): answered only for a conference the site is
    /// invited to, `not_found` otherwise, exactly as for an unknown conference.
    pub const SITE_GET: &str = "get";
    /// The action token of a site reading its own invitation to a conference as iCalendar
    /// (`hoinghi.v1.scheduling.sites.<site>.ics`), under the same rule.
    pub const SITE_ICS: &str = "ics";

    /// Every request subject the service serves but its per-site actions ([`SITE_ACTIONS`]; its
    /// `$SRV.INFO` endpoints).
    pub const REQUESTS: &[&str] = &[REGISTER_SITE, CREATE, INVITE, START, END, CANCEL, RESCHEDULE, GET, ICS, AUDIT];
    /// Every per-site action the service serves, on [`any_site`] of it.
    pub const SITE_ACTIONS: &[&str] = &[SITE_GET, SITE_ICS];

    site_subjects!(Scheduling, "scheduling");
}

/// Command and query subjects of the attendance service.
pub mod attendance {
    use super::{Service, SiteId};

    /// The secretariat's roster query.
    pub const ROSTER: &str = subject!("attendance.roster");
    /// The secretariat opens a conference's technical check (kiểm tra kỹ thuật).
    pub const TECHNICAL_CHECK_OPEN: &str = subject!("attendance.technical_check.open");
    /// The secretariat's summary of a conference's technical check: passed, failed, not checked.
    pub const TECHNICAL_CHECK_SUMMARY: &str = subject!("attendance.technical_check.summary");
    /// The secretariat takes the roll (điểm danh) of one bridge during the session.
    pub const ROLL_CALL: &str = subject!("attendance.roll_call");
    /// Whether a conference is quorate now (the secretariat, the chair, the minute-taker).
    pub const QUORUM: &str = subject!("attendance.quorum");
    /// The action token of a site reporting its technical check
    /// (`hoinghi.v1.attendance.sites.<site>.technical_check`).
    pub const TECHNICAL_CHECK: &str = "technical_check";
    /// The action token of a confirmation.
    pub const CONFIRM: &str = "confirm";
    /// The action token of a refusal.
    pub const DECLINE: &str = "decline";
    /// The action token of a check-in.
    pub const CHECK_IN: &str = "check_in";
    /// The action token of a site reading its own line of a conference's roster: its answer, its
    /// delegates, its check-in, its technical check (`hoinghi.v1.attendance.sites.<site>.status`).
    pub const STATUS: &str = "status";
    /// The action token of a site listing its own notifications since a cursor
    /// (`hoinghi.v1.attendance.sites.<site>.notifications`).
    pub const NOTIFICATIONS: &str = "notifications";
    /// The action token of a site's acknowledgement that it has seen the current schedule.
    pub const SCHEDULE_SEEN: &str = "schedule_seen";
    /// A board's snapshot of one conference: every roster line and the conference's session state,
    /// with the sequence of the last event it includes (the secretariat, the chair).
    pub const BOARD: &str = subject!("attendance.board");
    /// A board's changes of one conference since a sequence, read from the event log (to resume the
    /// live feed without a gap).
    pub const BOARD_CHANGES: &str = subject!("attendance.board.changes");

    /// The secretariat or a chair moves the session to an agenda item (the current item).
    pub const AGENDA_MOVE: &str = subject!("attendance.agenda.move");
    /// The floor of one conference: the current item, the queue, who speaks, who spoke on each item
    /// (the secretariat, the chair, the minute-taker).
    pub const FLOOR: &str = subject!("attendance.floor");
    /// The chair (or the secretariat) gives the floor: to the head of the queue, or to a site out of
    /// order.
    pub const FLOOR_GRANT: &str = subject!("attendance.floor.grant");
    /// The chair (or the secretariat) marks the speaker done.
    pub const FLOOR_DONE: &str = subject!("attendance.floor.done");
    /// The action (two tokens) of a site asking for the floor on the current item:
    /// `hoinghi.v1.attendance.sites.<site>.floor.request`.
    pub const FLOOR_REQUEST: &str = "floor.request";
    /// The action (two tokens) of a site withdrawing its request:
    /// `hoinghi.v1.attendance.sites.<site>.floor.withdraw`.
    pub const FLOOR_WITHDRAW: &str = "floor.withdraw";

    /// Every request subject the service serves but its per-site actions ([`SITE_ACTIONS`]).
    pub const REQUESTS: &[&str] = &[
        ROSTER,
        TECHNICAL_CHECK_OPEN,
        TECHNICAL_CHECK_SUMMARY,
        ROLL_CALL,
        QUORUM,
        BOARD,
        BOARD_CHANGES,
        AGENDA_MOVE,
        FLOOR,
        FLOOR_GRANT,
        FLOOR_DONE,
    ];
    /// Every per-site action the service serves, on [`any_site`] of it.
    pub const SITE_ACTIONS: &[&str] = &[
        CONFIRM,
        DECLINE,
        CHECK_IN,
        STATUS,
        SCHEDULE_SEEN,
        TECHNICAL_CHECK,
        NOTIFICATIONS,
        FLOOR_REQUEST,
        FLOOR_WITHDRAW,
    ];

    site_subjects!(Attendance, "attendance");
}

/// Command and query subjects of the minutes service.
pub mod minutes {
    use super::{PersonId, Service, SiteId};

    /// The action token of the minute-taker recording one agenda item
    /// (`hoinghi.v1.minutes.persons.<person>.record`).
    pub const RECORD: &str = "record";
    /// The action token of the minute-taker submitting the draft for approval.
    pub const SUBMIT: &str = "submit";
    /// The action token of a chair approving the minutes (as themself).
    pub const APPROVE: &str = "approve";
    /// The action token of a chair asking for changes to the submitted minutes instead of
    /// approving them.
    pub const REQUEST_CHANGES: &str = "request_changes";
    /// The action token of the minute-taker publishing the approved minutes.
    pub const PUBLISH: &str = "publish";
    /// Every per-person action the service serves, on [`any_person`] of it: the person is the one
    /// the subject names (NATS lets only that person publish there), their role in the conference
    /// is checked by the service.
    pub const PERSON_ACTIONS: &[&str] = &[RECORD, SUBMIT, APPROVE, REQUEST_CHANGES, PUBLISH];
    /// Read the minutes (the secretariat and the persons: every conference's).
    pub const GET: &str = subject!("minutes.get");
    /// The action token of a site reading the minutes of one of its own conferences
    /// (`hoinghi.v1.minutes.sites.<site>.get`): `not_found` for a conference it is not invited to,
    /// exactly as for an unknown one.
    pub const SITE_GET: &str = "get";
    /// The action token of an acknowledgement.
    pub const ACKNOWLEDGE: &str = "acknowledge";
    /// The secretariat issues the conclusions notice of published minutes.
    pub const NOTICES_ISSUE: &str = subject!("minutes.notices.issue");
    /// Read a conference's conclusions notice (issued or not: its deadline).
    pub const NOTICES_GET: &str = subject!("minutes.notices.get");
    /// The notices not issued by their deadline, for the secretariat.
    pub const NOTICES_OVERDUE: &str = subject!("minutes.notices.overdue");
    /// The sites that have not acknowledged the minutes or the notice, and since when.
    pub const RECEIPTS: &str = subject!("minutes.receipts");
    /// The attendance record exported as CSV or JSON.
    pub const ATTENDANCE_EXPORT: &str = subject!("minutes.attendance_export");
    /// The action token of a site acknowledging the conclusions notice.
    pub const NOTICE_ACKNOWLEDGE: &str = "notice_acknowledge";
    /// The action token of a site reading its own copy of the conclusions notice.
    pub const NOTICE_GET: &str = "notice_get";
    /// The secretariat accepts or returns a task reported done.
    pub const TASKS_REVIEW: &str = subject!("minutes.tasks.review");
    /// The tasks of published minutes, for the secretariat, the minute-taker and the chairs.
    pub const TASKS_LIST: &str = subject!("minutes.tasks.list");
    /// The action (two tokens) of a site reporting on one of its tasks:
    /// `hoinghi.v1.minutes.sites.<site>.tasks.report`.
    pub const SITE_TASKS_REPORT: &str = "tasks.report";
    /// The action (two tokens) of a site listing its own tasks:
    /// `hoinghi.v1.minutes.sites.<site>.tasks.list`.
    pub const SITE_TASKS_LIST: &str = "tasks.list";

    /// Every request subject the service serves but its per-site actions ([`SITE_ACTIONS`]).
    pub const REQUESTS: &[&str] =
        &[GET, NOTICES_ISSUE, NOTICES_GET, NOTICES_OVERDUE, RECEIPTS, ATTENDANCE_EXPORT, TASKS_REVIEW, TASKS_LIST];
    /// Every per-site action the service serves, on [`any_site`] of it.
    pub const SITE_ACTIONS: &[&str] =
        &[SITE_GET, ACKNOWLEDGE, NOTICE_ACKNOWLEDGE, NOTICE_GET, SITE_TASKS_REPORT, SITE_TASKS_LIST];

    site_subjects!(Minutes, "minutes");

    /// The prefix of the per-person subjects, `hoinghi.v1.minutes.persons`.
    const PERSONS: &str = subject!("minutes.persons");

    /// `hoinghi.v1.minutes.persons.<person>.<action>`: a person acting as themself.
    pub fn person_command(person: &PersonId, action: &str) -> String {
        format!("{PERSONS}.{person}.{action}")
    }

    /// `hoinghi.v1.minutes.persons.*.<action>`: the subject the service listens on for `action`
    /// from every person.
    pub fn any_person(action: &str) -> String {
        format!("{PERSONS}.*.{action}")
    }

    /// `hoinghi.v1.minutes.persons.<person>.>`: every action of one person (what they may publish).
    pub fn person_all(person: &PersonId) -> String {
        format!("{PERSONS}.{person}.>")
    }

    /// The person token of a per-person subject (`hoinghi.v1.minutes.persons.<person>.<action>`).
    pub fn person_of_command(subject: &str) -> Option<&str> {
        let mut tokens = subject.strip_prefix(PERSONS)?.strip_prefix('.')?.split('.');
        match (tokens.next(), tokens.next(), tokens.next()) {
            (Some(person), Some(_action), None) => Some(person),
            _ => None,
        }
    }
}

/// The site token of a per-site command subject (`hoinghi.v1.<service>.sites.<site>.<action>`).
pub fn site_of_command(subject: &str) -> Option<&str> {
    let mut tokens = subject.strip_prefix(PREFIX)?.strip_prefix('.')?.split('.');
    match (tokens.next(), tokens.next(), tokens.next()) {
        (Some(_service), Some("sites"), Some(site)) => Some(site),
        _ => None,
    }
}

/// Event subjects: `hoinghi.v1.events.<service>.<conference>[.<site>].<event type>`, the site
/// registry's `hoinghi.v1.events.sites.<site>.<event type>`, and the dead letters.
pub mod events {
    use super::{ConferenceId, Service, SiteId, TaskId};

    /// Everything under the event prefix.
    pub const ALL: &str = subject!("events.>");

    /// Every parked event: `hoinghi.v1.dead.>` (the dead-letter stream's subjects).
    pub const DEAD_LETTERS: &str = subject!("dead.>");

    /// The event prefix, `hoinghi.v1.events`.
    const EVENTS: &str = subject!("events");

    /// The site registry's prefix, `hoinghi.v1.events.sites`.
    const SITES: &str = subject!("events.sites");

    /// The dead letters' prefix, `hoinghi.v1.dead`.
    const DEAD: &str = subject!("dead");

    /// `hoinghi.v1.events.sites.>`: the site registry's events.
    pub fn sites_all() -> String {
        subject!("events.sites.>").to_owned()
    }

    /// The event subjects `service` writes, which are the subjects of its stream
    /// (scheduling: the site registry and its conferences).
    pub fn written_by(service: Service) -> Vec<String> {
        match service {
            Service::Scheduling => vec![sites_all(), service_all(service)],
            Service::Attendance | Service::Minutes => vec![service_all(service)],
        }
    }

    /// `hoinghi.v1.events.sites.<site>.<type>`: a site registry event.
    pub fn site(site: &SiteId, event_type: &str) -> String {
        format!("{SITES}.{site}.{event_type}")
    }

    /// `hoinghi.v1.events.sites.<site>.*`: one site's registry events.
    pub fn site_filter(site: &SiteId) -> String {
        format!("{SITES}.{site}.*")
    }

    /// `hoinghi.v1.events.<service>.<conference>.<type>`: a conference-level event of a service.
    pub fn conference(service: Service, conference: &ConferenceId, event_type: &str) -> String {
        format!("{EVENTS}.{service}.{conference}.{event_type}")
    }

    /// `hoinghi.v1.events.<service>.<conference>.*`: the conference-level events of a service.
    pub fn conference_filter(service: Service, conference: &ConferenceId) -> String {
        format!("{EVENTS}.{service}.{conference}.*")
    }

    /// `hoinghi.v1.events.<service>.<conference>.<site>.<type>`: a site's event in a conference.
    pub fn conference_site(service: Service, conference: &ConferenceId, site: &SiteId, event_type: &str) -> String {
        format!("{EVENTS}.{service}.{conference}.{site}.{event_type}")
    }

    /// `hoinghi.v1.events.<service>.<conference>.<site>.*`: one site's events in a conference.
    pub fn conference_site_filter(service: Service, conference: &ConferenceId, site: &SiteId) -> String {
        format!("{EVENTS}.{service}.{conference}.{site}.*")
    }

    /// `hoinghi.v1.events.<service>.<conference>.<site>.presence.<type>`: a site's presence
    /// transition (one token longer than the site's answers, so the site's filter does not cover it:
    /// presence is its own aggregate).
    pub fn conference_site_presence(
        service: Service,
        conference: &ConferenceId,
        site: &SiteId,
        event_type: &str,
    ) -> String {
        format!("{EVENTS}.{service}.{conference}.{site}.presence.{event_type}")
    }

    /// `hoinghi.v1.events.<service>.<conference>.<site>.presence.*`: one site's presence transitions.
    pub fn conference_site_presence_filter(service: Service, conference: &ConferenceId, site: &SiteId) -> String {
        format!("{EVENTS}.{service}.{conference}.{site}.presence.*")
    }

    /// `hoinghi.v1.events.<service>.<conference>.tasks.<task>.<type>`: an event of one task of a
    /// conference's published minutes (one token longer than a site's events, so no site's filter
    /// covers it).
    pub fn conference_task(service: Service, conference: &ConferenceId, task: &TaskId, event_type: &str) -> String {
        format!("{EVENTS}.{service}.{conference}.tasks.{task}.{event_type}")
    }

    /// `hoinghi.v1.events.<service>.<conference>.tasks.<task>.*`: one task's events.
    pub fn conference_task_filter(service: Service, conference: &ConferenceId, task: &TaskId) -> String {
        format!("{EVENTS}.{service}.{conference}.tasks.{task}.*")
    }

    /// `hoinghi.v1.events.<service>.<conference>.>`: every event of a service about a conference.
    pub fn conference_all(service: Service, conference: &ConferenceId) -> String {
        format!("{EVENTS}.{service}.{conference}.>")
    }

    /// `hoinghi.v1.events.<service>.*.<type>`: one conference-level event type, every conference.
    pub fn of_type(service: Service, event_type: &str) -> String {
        format!("{EVENTS}.{service}.*.{event_type}")
    }

    /// `hoinghi.v1.dead.<consumer>`: where a consumer parks an event it could not process.
    pub fn dead_letter(consumer: &str) -> String {
        format!("{DEAD}.{consumer}")
    }

    /// `hoinghi.v1.events.<service>.>`: every event of a service.
    pub fn service_all(service: Service) -> String {
        format!("{EVENTS}.{service}.>")
    }
}

/// Each site's notifications: `hoinghi.v1.notifications.<site>.<kind>` (the subjects of the
/// `HOINGHI_NOTIFICATIONS` stream). A site subscribes to its own, [`notifications::site_all`].
pub mod notifications {
    use super::SiteId;

    /// Every notification of every site: `hoinghi.v1.notifications.>`.
    pub const ALL: &str = subject!("notifications.>");

    /// The prefix, `hoinghi.v1.notifications`.
    const PREFIX: &str = subject!("notifications");

    /// `hoinghi.v1.notifications.<site>.<kind>`: one notification of a site.
    pub fn site(site: &SiteId, kind: &str) -> String {
        format!("{PREFIX}.{site}.{kind}")
    }

    /// `hoinghi.v1.notifications.<site>.>`: every notification of one site (what it may subscribe to).
    pub fn site_all(site: &SiteId) -> String {
        format!("{PREFIX}.{site}.>")
    }

    /// `hoinghi.v1.notifications.*.<kind>`: one kind, every site (what a service may write).
    pub fn of_kind(kind: &str) -> String {
        format!("{PREFIX}.*.{kind}")
    }
}

/// The live feed of the boards: each attendance event of a conference, once applied, published by
/// the attendance service (core NATS) on `hoinghi.v1.live.<conference>`.
pub mod live {
    use super::ConferenceId;

    /// Every conference's feed: `hoinghi.v1.live.>` (what a board's identity may subscribe to).
    pub const ALL: &str = subject!("live.>");

    /// The prefix, `hoinghi.v1.live`.
    const PREFIX: &str = subject!("live");

    /// `hoinghi.v1.live.<conference>`: one conference's changes.
    pub fn conference(conference: &ConferenceId) -> String {
        format!("{PREFIX}.{conference}")
    }
}

/// Bridges' heartbeats (live presence): `hoinghi.v1.presence.sites.<site>`, published without a
/// reply by a bridge's endpoint while it is connected; a site may publish only its own.
pub mod presence {
    use super::SiteId;

    /// Every bridge's heartbeats: `hoinghi.v1.presence.sites.*` (what attendance subscribes to).
    pub const ALL: &str = subject!("presence.sites.*");

    /// `hoinghi.v1.presence.sites.<site>`: one site's heartbeats.
    pub fn site(site: &SiteId) -> String {
        format!("{}.{site}", subject!("presence.sites"))
    }

    /// The site of a heartbeat subject (its last token), if it is one.
    pub fn site_of(subject: &str) -> Option<&str> {
        subject.strip_prefix(concat!(subject!("presence.sites"), ".")).filter(|s| !s.contains('.'))
    }
}

/// Durable timers (`HOINGHI_TIMERS`): a reminder's schedule on
/// `hoinghi.v1.timers.reminders.<conference>.<offset>`, fired by the server onto
/// `hoinghi.v1.timers.due.<conference>.<offset>`.
pub mod timers {
    use super::ConferenceId;

    /// Everything of the timers stream: `hoinghi.v1.timers.>`.
    pub const ALL: &str = subject!("timers.>");

    /// Every fired reminder: `hoinghi.v1.timers.due.>`.
    pub const DUE_ALL: &str = subject!("timers.due.>");

    /// `hoinghi.v1.timers.reminders.<conference>.<offset>`: the schedule of one reminder (one per
    /// subject: a new schedule replaces it).
    pub fn reminder(conference: &ConferenceId, offset_s: u32) -> String {
        format!("{}.{conference}.{offset_s}", subject!("timers.reminders"))
    }

    /// `hoinghi.v1.timers.reminders.<conference>.>`: every reminder schedule of a conference.
    pub fn reminders_of(conference: &ConferenceId) -> String {
        format!("{}.{conference}.>", subject!("timers.reminders"))
    }

    /// `hoinghi.v1.timers.*.<conference>.>`: every timer of a conference, scheduled or fired.
    pub fn all_of(conference: &ConferenceId) -> String {
        format!("{}.*.{conference}.>", subject!("timers"))
    }

    /// `hoinghi.v1.timers.due.<conference>.<offset>`: where the server fires a reminder.
    pub fn due(conference: &ConferenceId, offset_s: u32) -> String {
        format!("{}.{conference}.{offset_s}", subject!("timers.due"))
    }
}

/// The NATS micro-service discovery subjects (`$SRV.PING|INFO|STATS[.<name>[.<id>]]`).
pub mod discovery {
    /// Every discovery subject.
    pub const ALL: &str = "$SRV.>";
    /// Every service answers a ping.
    pub const PING: &str = "$SRV.PING";
    /// Every service describes itself.
    pub const INFO: &str = "$SRV.INFO";

    /// `$SRV.PING.<name>`: the instances of one service answer.
    pub fn ping(name: &str) -> String {
        format!("{PING}.{name}")
    }

    /// `$SRV.INFO.<name>`: the instances of one service describe themselves.
    pub fn info(name: &str) -> String {
        format!("{INFO}.{name}")
    }
}

/// Reply subjects. A connection acting as an identity receives its replies under
/// `_INBOX.<identity>`, so a server permission can allow it only its own.
pub mod inbox {
    /// The prefix of an anonymous connection's replies.
    pub const ROOT: &str = "_INBOX";
    /// Every reply subject.
    pub const ALL: &str = "_INBOX.>";

    /// `_INBOX.<identity>`: the inbox prefix of a connection acting as `identity`.
    pub fn prefix(identity: &str) -> String {
        format!("{ROOT}.{identity}")
    }

    /// `_INBOX.<identity>.>`: every reply subject of `identity`.
    pub fn of(identity: &str) -> String {
        format!("{ROOT}.{identity}.>")
    }
}

/// The NATS server's own API subjects that permissions name (JetStream, key-value and object
/// stores).
pub mod jetstream {
    /// Everything of JetStream: its API and acknowledgements.
    pub const ALL: &str = "$JS.>";
    /// The JetStream API (streams, consumers, pull requests, direct gets).
    pub const API: &str = "$JS.API.>";
    /// Acknowledgements of messages a consumer delivered.
    pub const ACK: &str = "$JS.ACK.>";
    /// Deleting a stream.
    pub const STREAM_DELETE: &str = "$JS.API.STREAM.DELETE.>";
    /// Purging a stream.
    pub const STREAM_PURGE: &str = "$JS.API.STREAM.PURGE.>";
    /// The purge API subject of one stream (`$JS.API.STREAM.PURGE.<stream>`).
    pub fn stream_purge(stream: &str) -> String {
        format!("$JS.API.STREAM.PURGE.{stream}")
    }
    /// Deleting one message of a stream.
    pub const STREAM_MSG_DELETE: &str = "$JS.API.STREAM.MSG.DELETE.>";
    /// Key-value buckets.
    pub const KV_ALL: &str = "$KV.>";
    /// Object stores.
    pub const OBJECT_ALL: &str = "$O.>";
    /// The records bucket's chunks and metadata (`$O.HOINGHI_RECORDS.>`,
    /// [`crate::streams::RECORDS_BUCKET`]).
    pub const RECORDS_OBJECTS: &str = "$O.HOINGHI_RECORDS.>";
    /// Flow-control answers of a push consumer (an object store read is one, ordered).
    pub const FLOW_CONTROL: &str = "$JS.FC.>";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::AttendanceEvent;

    #[test]
    fn the_site_token_is_read_from_a_site_command_subject() {
        let site = SiteId::parse("ba-be").unwrap();
        assert_eq!(site_of_command(&attendance::site_command(&site, attendance::CONFIRM)), Some("ba-be"));
        assert_eq!(site_of_command(&minutes::site_command(&site, minutes::ACKNOWLEDGE)), Some("ba-be"));
        assert_eq!(site_of_command(attendance::ROSTER), None);
        let report = minutes::site_command(&site, minutes::SITE_TASKS_REPORT);
        assert_eq!(report, "hoinghi.v1.minutes.sites.ba-be.tasks.report");
        assert_eq!(site_of_command(&report), Some("ba-be"));
        assert_eq!(site_of_command(minutes::TASKS_LIST), None);
        assert_eq!(site_of_command(&scheduling::site_command(&site, scheduling::SITE_GET)), Some("ba-be"));
        assert_eq!(scheduling::site_command(&site, scheduling::SITE_ICS), "hoinghi.v1.scheduling.sites.ba-be.ics");
    }

    #[test]
    fn the_person_token_is_read_from_a_person_command_subject() {
        let person = PersonId::parse("le-b").unwrap();
        let approve = minutes::person_command(&person, minutes::APPROVE);
        assert_eq!(approve, "hoinghi.v1.minutes.persons.le-b.approve");
        assert_eq!(minutes::person_of_command(&approve), Some("le-b"));
        assert_eq!(minutes::any_person(minutes::RECORD), "hoinghi.v1.minutes.persons.*.record");
        assert_eq!(minutes::person_all(&person), "hoinghi.v1.minutes.persons.le-b.>");
        assert_eq!(site_of_command(&approve), None, "a person is no site");
        for not_a_person in [minutes::GET, "hoinghi.v1.minutes.persons.le-b", "hoinghi.v1.minutes.persons.le-b.a.b"] {
            assert_eq!(minutes::person_of_command(not_a_person), None, "{not_a_person}");
        }
    }

    #[test]
    fn event_subjects_end_with_the_event_type() {
        let c = ConferenceId::generate();
        let s = SiteId::parse("na-ri").unwrap();
        let subject = events::conference_site(Service::Attendance, &c, &s, AttendanceEvent::ATTENDANCE_CONFIRMED);
        assert_eq!(subject, format!("hoinghi.v1.events.attendance.{c}.na-ri.attendance_confirmed"));
        assert!(subject.ends_with(".attendance_confirmed"));
    }

    #[test]
    fn the_wildcards_cover_what_they_name() {
        let site = SiteId::parse("ba-be").unwrap();
        assert_eq!(requests_of(Service::Minutes), "hoinghi.v1.minutes.>");
        assert_eq!(attendance::site_all(&site), "hoinghi.v1.attendance.sites.ba-be.>");
        assert_eq!(minutes::site_all(&site), "hoinghi.v1.minutes.sites.ba-be.>");
        assert_eq!(inbox::prefix("chair"), "_INBOX.chair");
        assert_eq!(inbox::of("chair"), "_INBOX.chair.>");
        assert_eq!(discovery::ping("hoinghi-minutes"), "$SRV.PING.hoinghi-minutes");
        assert_eq!(
            events::dead_letter("c").rsplit_once('.').map(|(p, _)| format!("{p}.>")).as_deref(),
            Some(events::DEAD_LETTERS)
        );
        assert!(attendance::site_command(&site, attendance::CONFIRM)
            .starts_with(requests_of(Service::Attendance).trim_end_matches('>')));
    }

    #[test]
    fn the_board_subjects_are_attendance_requests_and_the_live_feed_is_per_conference() {
        let c = ConferenceId::generate();
        for subject in [attendance::BOARD, attendance::BOARD_CHANGES] {
            assert!(subject.starts_with(&requests_of(Service::Attendance).replace('>', "")), "{subject}");
        }
        assert_eq!(live::conference(&c), format!("hoinghi.v1.live.{c}"));
        assert_eq!(live::ALL, "hoinghi.v1.live.>");
        assert!(!live::ALL.starts_with(events::ALL.trim_end_matches('>')), "the feed is not an event stream");
    }

    #[test]
    fn each_service_writes_exactly_the_subjects_of_its_stream() {
        for service in Service::ALL {
            assert_eq!(events::written_by(service), service.stream().subjects, "{service}");
        }
        assert_eq!(crate::streams::DEAD_LETTERS.subjects, [events::DEAD_LETTERS]);
    }

    #[test]
    fn every_subject_is_composed_from_the_prefix() {
        let (c, site) = (ConferenceId::generate(), SiteId::parse("ba-be").unwrap());
        assert_eq!(PREFIX, "hoinghi.v1");
        assert!(PREFIX.starts_with(ALL.trim_end_matches('>')), "{ALL} covers {PREFIX}");
        let constants =
            [scheduling::REQUESTS, attendance::REQUESTS, minutes::REQUESTS, &[events::ALL, events::DEAD_LETTERS]]
                .concat();
        let streams = crate::streams::ALL.iter().flat_map(|s| s.subjects.iter().copied());
        let mut built: Vec<String> = attendance::SITE_ACTIONS
            .iter()
            .map(|a| attendance::any_site(a))
            .chain(minutes::SITE_ACTIONS.iter().copied().map(minutes::any_site))
            .chain(scheduling::SITE_ACTIONS.iter().copied().map(scheduling::any_site))
            .chain(minutes::PERSON_ACTIONS.iter().copied().map(minutes::any_person))
            .collect();
        built.extend([
            attendance::site_command(&site, attendance::CONFIRM),
            attendance::site_command(&site, attendance::SCHEDULE_SEEN),
            attendance::site_command(&site, attendance::STATUS),
            attendance::site_all(&site),
            minutes::site_command(&site, minutes::ACKNOWLEDGE),
            minutes::site_all(&site),
            minutes::site_command(&site, minutes::SITE_TASKS_REPORT),
            minutes::site_command(&site, minutes::NOTICE_ACKNOWLEDGE),
            events::sites_all(),
            events::site(&site, "t"),
            events::site_filter(&site),
            events::dead_letter("c"),
        ]);
        for service in Service::ALL {
            built.extend([
                requests_of(service),
                events::conference(service, &c, "t"),
                events::conference_filter(service, &c),
                events::conference_site(service, &c, &site, "t"),
                events::conference_site_filter(service, &c, &site),
                events::conference_task(service, &c, &crate::ids::TaskId::new(2, 0), "t"),
                events::conference_task_filter(service, &c, &crate::ids::TaskId::new(2, 0)),
                events::conference_all(service, &c),
                events::of_type(service, "t"),
                events::service_all(service),
            ]);
            built.extend(events::written_by(service));
        }
        let prefix = format!("{PREFIX}.");
        for subject in constants.into_iter().chain(streams).chain(built.iter().map(String::as_str)) {
            assert!(subject.starts_with(&prefix), "{subject} starts with {prefix}");
        }
        // Each service's own requests and events carry its token right after the prefix.
        for (subject, service) in [
            (scheduling::AUDIT, Service::Scheduling),
            (attendance::ROSTER, Service::Attendance),
            (minutes::GET, Service::Minutes),
        ] {
            assert!(subject.starts_with(&format!("{PREFIX}.{service}.")), "{subject}");
        }
        assert_eq!(events::conference_all(Service::Minutes, &c), format!("hoinghi.v1.events.minutes.{c}.>"));
        assert_eq!(events::of_type(Service::Scheduling, "t"), "hoinghi.v1.events.scheduling.*.t");
    }
}
