//! Who acts: the roles of the contract, the NATS identity of each, the actor its commands record in
//! the event log, and what the NATS server lets each identity publish and subscribe to.
//!
//! | role | identity | actor | publishes to |
//! |---|---|---|---|
//! | secretariat (văn phòng) | `secretariat` | `secretariat` | every scheduling subject, the roster, open and summarise the technical check, take the roll call and ask the quorum, move the agenda, grant the floor and mark the speaker done, read the floor, the minutes, review and list the tasks, issue the conclusions notice, list overdue notices and missing receipts, export attendance, `$SRV` |
//! | person: a chair (chủ trì) or a minute-taker (thư ký) | `person-<id>` | `person:<id>` | its own per-person minutes subjects `hoinghi.v1.minutes.persons.<id>.>` (record, submit, publish, approve, request changes: the minutes service checks the person's role in the conference); read the conference, the roster, the quorum, the floor, the board and the minutes; move the agenda, grant the floor, mark the speaker done; list the tasks; read the conclusions notice |
//! | district point (điểm cầu) | `site-<id>` | `site:<id>` | its own per-site subjects and its bridge's heartbeats `hoinghi.v1.presence.sites.<id>` (read its conferences, their invitations as iCalendar and their minutes; ask for and withdraw from the floor, list its own notifications, report on and list its own tasks, read and acknowledge its conclusions notice, among them) |
//! | service, event writer | `service-<name>` | `service:<name>` | its stream's event subjects, dead letters, the notifications of the facts it knows, the reminders' timers (attendance), the JetStream API, the records' object store (`$O.HOINGHI_RECORDS.>`) and its reads' flow control (`$JS.FC.>`) |
//! | service, API | `service-<name>-api` | `service:<name>` | inboxes only (its replies) |
//!
//! Every identity subscribes only to its own inbox (`_INBOX.<identity>.>`), plus, for a site, its
//! own notifications (`hoinghi.v1.notifications.<site>.>`), for the secretariat and a person, the
//! boards' live feed (`hoinghi.v1.live.>`; sites may not follow it), and for a service's API identity, the
//! requests of its service and `$SRV` discovery. No client identity may publish to the event
//! streams, the dead letters, the notifications, the timers or the JetStream API; no service may
//! delete a stream or purge one of the record or the records' object store (only the reminder
//! timers are purged). A
//! service has two identities so that the one answering requests (whose reply subjects come from
//! clients) can publish nowhere but to inboxes, and no reply can land in a stream.
//!
//! Every subject here comes from [`crate::subjects`]. The permissions are data
//! ([`Permissions`]), so they can be written into a `nats-server` configuration (nkey users) or into
//! user JWTs alike.

use std::fmt;

use crate::ids::{PersonId, SiteId};
use crate::notifications::NotificationKind;
use crate::service::Service;
use crate::subjects::{
    self, attendance, discovery, events, inbox, jetstream, live, minutes, notifications, presence, scheduling, timers,
};

/// The identity (and actor) of the secretariat.
pub const SECRETARIAT: &str = "secretariat";
const SITE_IDENTITY: &str = "site-";
const PERSON_IDENTITY: &str = "person-";
const SERVICE_IDENTITY: &str = "service-";
const API_SUFFIX: &str = "-api";

/// The actor an event records: who caused it.
pub mod actor {
    use super::{PersonId, Service, SiteId};

    /// The secretariat.
    pub const SECRETARIAT: &str = super::SECRETARIAT;
    /// The session's chair desk: the agenda and floor commands (`agenda.move`, `floor.grant`,
    /// `floor.done`), which the secretariat and every person may send on shared subjects, so the
    /// event names the desk, not who sat at it. No identity has this name.
    pub const CHAIR: &str = "chair";

    /// `person:<id>`: a person (a chair, a minute-taker) acting as themself.
    pub fn person(person: &PersonId) -> String {
        format!("person:{person}")
    }

    /// `site:<id>`: a district point acting for its site.
    pub fn site(site: &SiteId) -> String {
        format!("site:{site}")
    }

    /// `service:<name>`: a service reacting to another service's event.
    pub fn service(service: Service) -> String {
        format!("service:{service}")
    }
}

/// A role, with what distinguishes one holder from another (the site, the service).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The secretariat (văn phòng): registers sites, schedules and runs conferences.
    Secretariat,
    /// A person with an identity of their own: a chair (chủ trì / đồng chủ trì) who approves the
    /// minutes, a minute-taker (thư ký) who records, submits and publishes them — the conference
    /// binds the person to that role (by [`PersonId`]), the minutes service checks it.
    Person(PersonId),
    /// A district point (điểm cầu) acting for its site.
    Site(SiteId),
    /// A service writing its event log (and reacting to other services' events).
    Service(Service),
    /// A service answering requests.
    ServiceApi(Service),
}

impl Role {
    /// Every role of a deployment with these sites: the secretariat, each site, and the two
    /// identities of each service. Persons are not among them: each is added on its own, as the
    /// secretariat registers them ([`Role::Person`]).
    pub fn all(sites: &[SiteId]) -> Vec<Role> {
        let mut all = vec![Role::Secretariat];
        all.extend(sites.iter().cloned().map(Role::Site));
        all.extend(Service::ALL.into_iter().map(Role::Service));
        all.extend(Service::ALL.into_iter().map(Role::ServiceApi));
        all
    }

    /// The NATS identity: `secretariat`, `person-<id>`, `site-<id>`, `service-<name>`,
    /// `service-<name>-api`. It names the credentials file and the inbox prefix.
    pub fn identity(&self) -> String {
        match self {
            Self::Secretariat => SECRETARIAT.to_owned(),
            Self::Person(person) => format!("{PERSON_IDENTITY}{person}"),
            Self::Site(site) => format!("{SITE_IDENTITY}{site}"),
            Self::Service(service) => format!("{SERVICE_IDENTITY}{service}"),
            Self::ServiceApi(service) => format!("{SERVICE_IDENTITY}{service}{API_SUFFIX}"),
        }
    }

    /// The role of an identity; `None` for a name that is no identity.
    pub fn from_identity(identity: &str) -> Option<Self> {
        match identity {
            SECRETARIAT => Some(Self::Secretariat),
            _ => {
                if let Some(site) = identity.strip_prefix(SITE_IDENTITY) {
                    SiteId::parse(site).ok().map(Self::Site)
                } else if let Some(person) = identity.strip_prefix(PERSON_IDENTITY) {
                    PersonId::parse(person).ok().map(Self::Person)
                } else if let Some(service) = identity.strip_prefix(SERVICE_IDENTITY) {
                    match service.strip_suffix(API_SUFFIX) {
                        Some(service) => Service::from_token(service).map(Self::ServiceApi),
                        None => Service::from_token(service).map(Self::Service),
                    }
                } else {
                    None
                }
            }
        }
    }

    /// The actor the events this role causes record: `secretariat`, `person:<id>`, `site:<id>`,
    /// `service:<name>` (both identities of a service).
    pub fn actor(&self) -> String {
        match self {
            Self::Secretariat => actor::SECRETARIAT.to_owned(),
            Self::Person(person) => actor::person(person),
            Self::Site(site) => actor::site(site),
            Self::Service(service) | Self::ServiceApi(service) => actor::service(*service),
        }
    }

    /// What this identity may publish and subscribe to.
    pub fn permissions(&self) -> Permissions {
        let own_inbox = vec![inbox::of(&self.identity())];
        match self {
            Self::Secretariat => Permissions::client(
                vec![
                    subjects::requests_of(Service::Scheduling),
                    attendance::ROSTER.to_owned(),
                    attendance::TECHNICAL_CHECK_OPEN.to_owned(),
                    attendance::TECHNICAL_CHECK_SUMMARY.to_owned(),
                    attendance::BOARD.to_owned(),
                    attendance::BOARD_CHANGES.to_owned(),
                    attendance::ROLL_CALL.to_owned(),
                    attendance::QUORUM.to_owned(),
                    attendance::AGENDA_MOVE.to_owned(),
                    attendance::FLOOR.to_owned(),
                    attendance::FLOOR_GRANT.to_owned(),
                    attendance::FLOOR_DONE.to_owned(),
                    minutes::GET.to_owned(),
                    minutes::TASKS_REVIEW.to_owned(),
                    minutes::TASKS_LIST.to_owned(),
                    minutes::NOTICES_ISSUE.to_owned(),
                    minutes::NOTICES_GET.to_owned(),
                    minutes::NOTICES_OVERDUE.to_owned(),
                    minutes::RECEIPTS.to_owned(),
                    minutes::ATTENDANCE_EXPORT.to_owned(),
                    discovery::ALL.to_owned(),
                ],
                // Its inbox, and the boards' live feed of every conference.
                [own_inbox, vec![live::ALL.to_owned()]].concat(),
            ),
            Self::Person(person) => Permissions::client(
                [
                    vec![minutes::person_all(person)],
                    strings(&[
                        minutes::GET,
                        scheduling::GET,
                        attendance::ROSTER,
                        attendance::QUORUM,
                        attendance::BOARD,
                        attendance::BOARD_CHANGES,
                        attendance::AGENDA_MOVE,
                        attendance::FLOOR,
                        attendance::FLOOR_GRANT,
                        attendance::FLOOR_DONE,
                        minutes::TASKS_LIST,
                        minutes::NOTICES_GET,
                    ]),
                ]
                .concat(),
                // Its inbox, and the boards' live feed of every conference.
                [own_inbox, vec![live::ALL.to_owned()]].concat(),
            ),
            Self::Site(site) => Permissions::client(
                vec![
                    // Its own conferences, invitations and minutes are read on its per-site subjects:
                    // never the shared `get`s, which answer for every conference.
                    scheduling::site_all(site),
                    attendance::site_all(site),
                    minutes::site_all(site),
                    // Its bridge's heartbeats (live presence), never another site's.
                    presence::site(site),
                ],
                // Its inbox, and its own notifications live (never another site's).
                [own_inbox, vec![notifications::site_all(site)]].concat(),
            ),
            Self::Service(service) => {
                // Its events; parking an event a reaction cannot process; the JetStream API (streams,
                // consumers, pull requests, direct gets) and acknowledgements of the messages its
                // consumers deliver. It serves no request: replies to its own requests (JetStream API
                // answers, publish acks) and its pull consumers' messages all arrive on its inbox.
                let mut publish = events::written_by(*service);
                publish.extend(strings(&[events::DEAD_LETTERS, jetstream::API, jetstream::ACK]));
                // The object store of the records too large for one event: writing an object, and
                // answering the flow control of the ordered consumer that reads one back.
                publish.extend(strings(&[jetstream::RECORDS_OBJECTS, jetstream::FLOW_CONTROL]));
                // The notifications of the facts it knows; attendance also keeps the reminders'
                // durable timers.
                publish
                    .extend(notifications_written_by(*service).into_iter().map(|k| notifications::of_kind(k.token())));
                if *service == Service::Attendance {
                    publish.push(timers::ALL.to_owned());
                    // The boards' live feed: published by the identity that writes the log, whose
                    // subjects the service chooses, never by the API identity, whose reply subjects
                    // come from clients and which stays confined to inboxes.
                    publish.push(live::ALL.to_owned());
                }
                Permissions {
                    publish_allow: publish,
                    publish_deny: service_deny(),
                    subscribe_allow: own_inbox,
                    allow_responses: false,
                }
            }
            Self::ServiceApi(service) => {
                // Receives its requests and the `$SRV` discovery requests, and answers on the
                // requester's inbox, the only subjects it may publish to.
                let mut subscribe = vec![subjects::requests_of(*service), discovery::ALL.to_owned()];
                subscribe.extend(own_inbox);
                // Attendance hears every bridge's heartbeats (a plain subscription, no reply).
                if *service == Service::Attendance {
                    subscribe.push(presence::ALL.to_owned());
                }
                Permissions {
                    publish_allow: vec![inbox::ALL.to_owned()],
                    publish_deny: strings(&SERVICE_API_DENY),
                    subscribe_allow: subscribe,
                    allow_responses: false,
                }
            }
        }
    }
}

impl fmt::Display for Role {
    /// The identity.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.identity())
    }
}

/// The identity of a site: `site-<id>`.
pub fn site_identity(site: &SiteId) -> String {
    Role::Site(site.clone()).identity()
}

/// The identity of a person: `person-<id>`.
pub fn person_identity(person: &PersonId) -> String {
    Role::Person(person.clone()).identity()
}

/// The identity of a service that writes its event log: `service-<name>`.
pub fn service_identity(service: Service) -> String {
    Role::Service(service).identity()
}

/// The identity of a service that answers requests: `service-<name>-api`.
pub fn service_api_identity(service: Service) -> String {
    Role::ServiceApi(service).identity()
}

/// Subjects no client identity may publish to, whatever its allow list says: the event streams, the
/// dead letters, the notifications, the timers, the JetStream API and the boards' live feed.
pub const CLIENT_DENY: [&str; 6] =
    [events::ALL, events::DEAD_LETTERS, notifications::ALL, timers::ALL, jetstream::ALL, live::ALL];

/// What a service may not do with the JetStream API even though it may use it: delete a stream or a
/// message, purge a stream of the record (the streams also refuse the last two themselves). The
/// working streams (notifications, timers) are not the record: a cancelled conference's reminder
/// schedules are purged from `HOINGHI_TIMERS`.
pub fn service_deny() -> Vec<String> {
    let mut deny = vec![jetstream::STREAM_DELETE.to_owned(), jetstream::STREAM_MSG_DELETE.to_owned()];
    deny.extend(
        crate::streams::RECORDS.iter().chain([&crate::streams::NOTIFICATIONS]).map(|s| jetstream::stream_purge(s.name)),
    );
    // Nor purge an object the events reference (written once, never replaced).
    deny.push(jetstream::stream_purge(crate::streams::RECORDS_BUCKET_STREAM));
    deny
}

/// The kinds of notification a service writes: attendance those it knows from its roster (the
/// invitation, a reschedule, a cancellation, the reminders), minutes the publication.
pub fn notifications_written_by(service: Service) -> Vec<NotificationKind> {
    match service {
        Service::Scheduling => vec![],
        Service::Attendance => vec![
            NotificationKind::Invitation,
            NotificationKind::Rescheduled,
            NotificationKind::Cancelled,
            NotificationKind::Reminder,
        ],
        Service::Minutes => vec![NotificationKind::MinutesPublished],
    }
}

/// What a service's API identity may never publish to: anything but an inbox.
pub const SERVICE_API_DENY: [&str; 4] = [subjects::ALL, jetstream::ALL, jetstream::KV_ALL, jetstream::OBJECT_ALL];

/// What an identity may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    /// Subjects it may publish to.
    pub publish_allow: Vec<String>,
    /// Subjects it may never publish to.
    pub publish_deny: Vec<String>,
    /// Subjects it may subscribe to.
    pub subscribe_allow: Vec<String>,
    /// Whether it may answer requests it receives (on the requester's reply subject).
    pub allow_responses: bool,
}

impl Permissions {
    /// A person's or a site's: publishes its requests, never to the streams or the JetStream API,
    /// and reads only its inbox.
    fn client(publish_allow: Vec<String>, inbox: Vec<String>) -> Self {
        Self { publish_allow, publish_deny: strings(&CLIENT_DENY), subscribe_allow: inbox, allow_responses: false }
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(s: &str) -> SiteId {
        SiteId::parse(s).unwrap()
    }

    fn person(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    #[test]
    fn identities_name_their_role_and_back() {
        let roles = Role::all(&[site("ba-be"), site("na-ri")]);
        let identities: Vec<String> = roles.iter().map(Role::identity).collect();
        assert_eq!(
            identities,
            [
                "secretariat",
                "site-ba-be",
                "site-na-ri",
                "service-scheduling",
                "service-attendance",
                "service-minutes",
                "service-scheduling-api",
                "service-attendance-api",
                "service-minutes-api",
            ]
        );
        for role in roles.into_iter().chain([Role::Person(person("le-b")), Role::Person(person("tran-c-2"))]) {
            assert_eq!(Role::from_identity(&role.identity()), Some(role.clone()), "{role}");
            assert_eq!(role.to_string(), role.identity());
        }
        for nobody in [
            "root",
            "site-Bad!",
            "service-unknown",
            "service-unknown-api",
            "service-",
            "site-",
            "person-",
            "person-Le.B",
            "chair",
            "minute-taker",
            "",
        ] {
            assert_eq!(Role::from_identity(nobody), None, "{nobody:?}");
        }
        assert_eq!(site_identity(&site("pac-nam")), "site-pac-nam");
        assert_eq!(person_identity(&person("le-b")), "person-le-b");
        assert_eq!(service_identity(Service::Minutes), "service-minutes");
        assert_eq!(service_api_identity(Service::Minutes), "service-minutes-api");
    }

    #[test]
    fn actors_are_the_ones_the_services_record() {
        assert_eq!(Role::Secretariat.actor(), "secretariat");
        assert_eq!(Role::Person(person("le-b")).actor(), "person:le-b");
        assert_eq!(Role::Site(site("ba-be")).actor(), "site:ba-be");
        assert_eq!(Role::Service(Service::Attendance).actor(), "service:attendance");
        assert_eq!(Role::ServiceApi(Service::Attendance).actor(), "service:attendance");
    }

    /// The permissions, spelled out: what the deployment's `nats-server.conf` has always granted.
    #[test]
    fn the_permissions_are_the_documented_ones() {
        let client_deny = [
            "hoinghi.v1.events.>",
            "hoinghi.v1.dead.>",
            "hoinghi.v1.notifications.>",
            "hoinghi.v1.timers.>",
            "$JS.>",
            "hoinghi.v1.live.>",
        ];
        let check = |role: Role, publish: &[&str], deny: &[&str], subscribe: &[&str]| {
            let p = role.permissions();
            assert_eq!(p.publish_allow, publish, "{role} publish");
            assert_eq!(p.publish_deny, deny, "{role} deny");
            assert_eq!(p.subscribe_allow, subscribe, "{role} subscribe");
            assert!(!p.allow_responses, "{role}");
        };
        check(
            Role::Secretariat,
            &[
                "hoinghi.v1.scheduling.>",
                "hoinghi.v1.attendance.roster",
                "hoinghi.v1.attendance.technical_check.open",
                "hoinghi.v1.attendance.technical_check.summary",
                "hoinghi.v1.attendance.board",
                "hoinghi.v1.attendance.board.changes",
                "hoinghi.v1.attendance.roll_call",
                "hoinghi.v1.attendance.quorum",
                "hoinghi.v1.attendance.agenda.move",
                "hoinghi.v1.attendance.floor",
                "hoinghi.v1.attendance.floor.grant",
                "hoinghi.v1.attendance.floor.done",
                "hoinghi.v1.minutes.get",
                "hoinghi.v1.minutes.tasks.review",
                "hoinghi.v1.minutes.tasks.list",
                "hoinghi.v1.minutes.notices.issue",
                "hoinghi.v1.minutes.notices.get",
                "hoinghi.v1.minutes.notices.overdue",
                "hoinghi.v1.minutes.receipts",
                "hoinghi.v1.minutes.attendance_export",
                "$SRV.>",
            ],
            &client_deny,
            &["_INBOX.secretariat.>", "hoinghi.v1.live.>"],
        );
        check(
            Role::Person(person("le-b")),
            &[
                "hoinghi.v1.minutes.persons.le-b.>",
                "hoinghi.v1.minutes.get",
                "hoinghi.v1.scheduling.conferences.get",
                "hoinghi.v1.attendance.roster",
                "hoinghi.v1.attendance.quorum",
                "hoinghi.v1.attendance.board",
                "hoinghi.v1.attendance.board.changes",
                "hoinghi.v1.attendance.agenda.move",
                "hoinghi.v1.attendance.floor",
                "hoinghi.v1.attendance.floor.grant",
                "hoinghi.v1.attendance.floor.done",
                "hoinghi.v1.minutes.tasks.list",
                "hoinghi.v1.minutes.notices.get",
            ],
            &client_deny,
            &["_INBOX.person-le-b.>", "hoinghi.v1.live.>"],
        );
        check(
            Role::Site(site("ba-be")),
            &[
                "hoinghi.v1.scheduling.sites.ba-be.>",
                "hoinghi.v1.attendance.sites.ba-be.>",
                "hoinghi.v1.minutes.sites.ba-be.>",
                "hoinghi.v1.presence.sites.ba-be",
            ],
            &client_deny,
            &["_INBOX.site-ba-be.>", "hoinghi.v1.notifications.ba-be.>"],
        );
        let service_deny = [
            "$JS.API.STREAM.DELETE.>",
            "$JS.API.STREAM.MSG.DELETE.>",
            "$JS.API.STREAM.PURGE.HOINGHI_SCHEDULING",
            "$JS.API.STREAM.PURGE.HOINGHI_ATTENDANCE",
            "$JS.API.STREAM.PURGE.HOINGHI_MINUTES",
            "$JS.API.STREAM.PURGE.HOINGHI_DEAD_LETTERS",
            "$JS.API.STREAM.PURGE.HOINGHI_NOTIFICATIONS",
            "$JS.API.STREAM.PURGE.OBJ_HOINGHI_RECORDS",
        ];
        let service_tail = ["hoinghi.v1.dead.>", "$JS.API.>", "$JS.ACK.>", "$O.HOINGHI_RECORDS.>", "$JS.FC.>"];
        check(
            Role::Service(Service::Scheduling),
            &[&["hoinghi.v1.events.sites.>", "hoinghi.v1.events.scheduling.>"][..], &service_tail].concat(),
            &service_deny,
            &["_INBOX.service-scheduling.>"],
        );
        check(
            Role::Service(Service::Attendance),
            &[
                &["hoinghi.v1.events.attendance.>"][..],
                &service_tail,
                &[
                    "hoinghi.v1.notifications.*.invitation",
                    "hoinghi.v1.notifications.*.rescheduled",
                    "hoinghi.v1.notifications.*.cancelled",
                    "hoinghi.v1.notifications.*.reminder",
                    "hoinghi.v1.timers.>",
                    "hoinghi.v1.live.>",
                ],
            ]
            .concat(),
            &service_deny,
            &["_INBOX.service-attendance.>"],
        );
        check(
            Role::Service(Service::Minutes),
            &[&["hoinghi.v1.events.minutes.>"][..], &service_tail, &["hoinghi.v1.notifications.*.minutes_published"]]
                .concat(),
            &service_deny,
            &["_INBOX.service-minutes.>"],
        );
        for service in Service::ALL {
            let inbox = format!("_INBOX.service-{service}-api.>");
            let mut subscribe = vec![format!("hoinghi.v1.{service}.>"), "$SRV.>".to_owned(), inbox];
            if service == Service::Attendance {
                subscribe.push("hoinghi.v1.presence.sites.*".to_owned());
            }
            let subscribe: Vec<&str> = subscribe.iter().map(String::as_str).collect();
            check(Role::ServiceApi(service), &["_INBOX.>"], &["hoinghi.>", "$JS.>", "$KV.>", "$O.>"], &subscribe);
        }
    }

    #[test]
    fn a_service_writes_only_its_own_stream() {
        for service in Service::ALL {
            let p = Role::Service(service).permissions();
            for subject in service.stream().subjects {
                assert!(p.publish_allow.iter().any(|s| s == subject), "{service} may write {subject}");
            }
            for other in Service::ALL.into_iter().filter(|o| *o != service) {
                for subject in other.stream().subjects {
                    assert!(!p.publish_allow.iter().any(|s| s == subject), "{service} may not write {subject}");
                }
            }
        }
    }
}
