//! The HTTP API's one table: every request subject of the contract as one [`Endpoint`], from which
//! both the axum routes ([`crate::http`]) and the OpenAPI document ([`openapi`]) are made.
//!
//! Each endpoint is `POST /v1/<subject after hoinghi.v1, dots as slashes>` with the subject's JSON
//! body, answered with the subject's reply: the HTTP API is the NATS API, one to one, so a reader of
//! one knows the other. A per-site subject takes the site from the path
//! (`/v1/attendance/sites/{site}/confirm`), a per-person subject the person
//! (`/v1/minutes/persons/{person}/approve`); the NATS server decides, from the caller's own
//! identity, whether the caller may publish there. Adding an endpoint is one line of [`table`]; a
//! test checks that every subject of `hoinghi_shared::subjects` (`REQUESTS`, `SITE_ACTIONS`,
//! `PERSON_ACTIONS`) has its line and no line names a subject the contract does not have.

use std::sync::LazyLock;

use hoinghi_shared::api::*;
use hoinghi_shared::board::{Board, BoardChanges, BoardChangesQuery};
use hoinghi_shared::notifications::{NotificationsPage, NotificationsQuery};
use hoinghi_shared::subjects::{attendance as att, minutes as min, scheduling as sch, PREFIX};
use hoinghi_shared::{ApiError, PersonId, Service, SiteId};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
};
use utoipa::{PartialSchema, ToSchema};

use crate::error::CODES;

/// Where the subject of an endpoint comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A fixed subject.
    Global(&'static str),
    /// `hoinghi.v1.<service>.sites.<site>.<action>`, the site from the path.
    Site(Service, &'static str),
    /// `hoinghi.v1.minutes.persons.<person>.<action>`, the person from the path.
    Person(&'static str),
}

impl Scope {
    /// The HTTP path (axum syntax, `{site}` / `{person}` for the parameter).
    pub fn path(&self) -> String {
        match self {
            Self::Global(subject) => format!("/v1/{}", tail(subject).replace('.', "/")),
            Self::Site(service, action) => format!("/v1/{service}/sites/{{site}}/{}", action.replace('.', "/")),
            Self::Person(action) => format!("/v1/minutes/persons/{{person}}/{}", action.replace('.', "/")),
        }
    }

    /// The name of the path parameter, if any.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            Self::Global(_) => None,
            Self::Site(..) => Some("site"),
            Self::Person(_) => Some("person"),
        }
    }

    /// The subject, with the path parameter (a site or person id, parsed: never more than one
    /// subject token).
    ///
    /// # Errors
    /// `invalid` for a parameter that is not an id.
    pub fn subject(&self, parameter: Option<&str>) -> Result<String, ApiError> {
        let value = parameter.unwrap_or_default();
        match self {
            Self::Global(subject) => Ok((*subject).to_owned()),
            Self::Site(service, action) => {
                let site = SiteId::parse(value).map_err(|e| ApiError::invalid(format!("site in the path: {e}")))?;
                Ok(match service {
                    Service::Scheduling => sch::site_command(&site, action),
                    Service::Attendance => att::site_command(&site, action),
                    Service::Minutes => min::site_command(&site, action),
                })
            }
            Self::Person(action) => {
                let person =
                    PersonId::parse(value).map_err(|e| ApiError::invalid(format!("person in the path: {e}")))?;
                Ok(min::person_command(&person, action))
            }
        }
    }

    /// The subject as the contract lists it (`*` for the site or person).
    pub fn pattern(&self) -> String {
        match self {
            Self::Global(subject) => (*subject).to_owned(),
            Self::Site(Service::Scheduling, action) => sch::any_site(action),
            Self::Site(Service::Attendance, action) => att::any_site(action),
            Self::Site(Service::Minutes, action) => min::any_site(action),
            Self::Person(action) => min::any_person(action),
        }
    }

    /// The service answering it.
    pub fn service(&self) -> Service {
        match self {
            Self::Site(service, _) => *service,
            Self::Person(_) => Service::Minutes,
            Self::Global(subject) => {
                let token = tail(subject).split('.').next().unwrap_or_default();
                Service::ALL.into_iter().find(|s| s.to_string() == token).unwrap_or(Service::Scheduling)
            }
        }
    }
}

/// The subject after `hoinghi.v1.`.
fn tail(subject: &str) -> &str {
    subject.strip_prefix(PREFIX).and_then(|s| s.strip_prefix('.')).unwrap_or(subject)
}

/// Schemas found while describing a type: `(name, schema)`.
type Found = Vec<(String, RefOr<Schema>)>;

/// Adds a type's schema and those it refers to; returns its name.
fn register<T: ToSchema>(found: &mut Found) -> String {
    let name = T::name().into_owned();
    found.push((name.clone(), T::schema()));
    T::schemas(found);
    name
}

/// One request subject, over HTTP.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its subject.
    pub scope: Scope,
    /// Who may call it (the identities the NATS server lets publish there).
    pub who: &'static str,
    /// What it does.
    pub summary: &'static str,
    request: fn(&mut Found) -> String,
    reply: fn(&mut Found) -> String,
}

impl Endpoint {
    fn new<Req: ToSchema, Reply: ToSchema>(scope: Scope, who: &'static str, summary: &'static str) -> Self {
        Self { scope, who, summary, request: register::<Req>, reply: register::<Reply> }
    }

    /// A unique operation id: the path's words joined by `_`.
    pub fn operation_id(&self) -> String {
        self.scope
            .path()
            .trim_start_matches("/v1/")
            .split('/')
            .filter(|w| !w.starts_with('{'))
            .collect::<Vec<_>>()
            .join("_")
    }
}

/// Declares the table: `scope => Request, Reply, "who", "summary";`.
macro_rules! endpoints {
    ($($scope:expr => $req:ty, $reply:ty, $who:literal, $summary:literal;)*) => {
        vec![$(Endpoint::new::<$req, $reply>($scope, $who, $summary),)*]
    };
}

/// Every endpoint, in the order of the contract.
pub fn table() -> &'static [Endpoint] {
    static TABLE: LazyLock<Vec<Endpoint>> = LazyLock::new(|| {
        use Scope::{Global as G, Person as P, Site as S};
        use Service::{Attendance as A, Minutes as M, Scheduling as Sc};
        endpoints! {
            G(sch::REGISTER_SITE) => RegisterSite, SiteView, "secretariat", "Register (or rename) a site";
            G(sch::CREATE) => CreateConference, ConferenceView, "secretariat", "Schedule a conference";
            G(sch::INVITE) => ConferenceRef, ConferenceView, "secretariat", "Issue the invitations";
            G(sch::START) => ConferenceRef, ConferenceView, "secretariat", "Open the session";
            G(sch::END) => ConferenceRef, ConferenceView, "secretariat", "Close the session";
            G(sch::CANCEL) => CancelConference, ConferenceView, "secretariat", "Cancel the conference, with a reason";
            G(sch::RESCHEDULE) => RescheduleConference, ConferenceView, "secretariat", "Move the conference to a new time, with a reason";
            G(sch::GET) => ConferenceRef, ConferenceView, "secretariat, persons", "Read a conference";
            G(sch::ICS) => IcsRequest, IcsInvitation, "secretariat", "A site's invitation as iCalendar";
            G(sch::AUDIT) => PageQuery, AuditTrail, "secretariat", "Who did what and when, from the event log";
            S(Sc, sch::SITE_GET) => ConferenceRef, ConferenceView, "the site", "Read one of the site's own conferences";
            S(Sc, sch::SITE_ICS) => ConferenceRef, IcsInvitation, "the site", "The site's own invitation as iCalendar";

            G(att::ROSTER) => PageQuery, Roster, "secretariat", "The roster: counts and one page of lines";
            G(att::TECHNICAL_CHECK_OPEN) => ConferenceRef, TechnicalCheckSummary, "secretariat", "Open the technical check";
            G(att::TECHNICAL_CHECK_SUMMARY) => PageQuery, TechnicalCheckSummary, "secretariat", "The technical check: passed, failed, not checked";
            G(att::ROLL_CALL) => RollCall, SiteAttendance, "secretariat", "Call the roll of one bridge";
            G(att::QUORUM) => ConferenceRef, Quorum, "secretariat, persons", "Whether the conference is quorate now";
            G(att::BOARD) => PageQuery, Board, "secretariat, persons", "The board: one page of lines and the session state";
            G(att::BOARD_CHANGES) => BoardChangesQuery, BoardChanges, "secretariat, persons", "The board's changes since a sequence";
            G(att::AGENDA_MOVE) => MoveAgenda, Floor, "secretariat, persons", "Move the session to an agenda item";
            G(att::FLOOR) => ConferenceRef, Floor, "secretariat, persons", "The floor: current item, queue, speaker";
            G(att::FLOOR_GRANT) => GrantFloor, Floor, "secretariat, persons", "Give the floor";
            G(att::FLOOR_DONE) => ConferenceRef, Floor, "secretariat, persons", "Mark the speaker done";
            S(A, att::CONFIRM) => ConfirmAttendance, SiteAttendance, "the site", "Confirm attendance with delegates";
            S(A, att::DECLINE) => DeclineAttendance, SiteAttendance, "the site", "Decline with a reason";
            S(A, att::CHECK_IN) => ConferenceRef, SiteAttendance, "the site", "Check in";
            S(A, att::STATUS) => ConferenceRef, SiteAttendance, "the site", "The site's own line of the roster: its answer, delegates, check-in";
            S(A, att::SCHEDULE_SEEN) => ScheduleSeen, SiteAttendance, "the site", "The site has seen the current schedule";
            S(A, att::TECHNICAL_CHECK) => ReportTechnicalCheck, SiteTechnicalCheck, "the site", "Report the technical check";
            S(A, att::NOTIFICATIONS) => NotificationsQuery, NotificationsPage, "the site", "The site's notifications since a cursor";
            S(A, att::FLOOR_REQUEST) => RequestFloor, Floor, "the site", "Ask for the floor on the current item";
            S(A, att::FLOOR_WITHDRAW) => ConferenceRef, Floor, "the site", "Withdraw the request for the floor";

            G(min::GET) => GetMinutes, MinutesView, "secretariat, persons", "Read the minutes";
            G(min::NOTICES_ISSUE) => IssueNotice, NoticeView, "secretariat", "Issue the conclusions notice";
            G(min::NOTICES_GET) => ConferenceRef, NoticeView, "secretariat, persons", "Read the conclusions notice";
            G(min::NOTICES_OVERDUE) => OverdueQuery, OverdueNotices, "secretariat", "Notices not issued by their deadline";
            G(min::RECEIPTS) => PageQuery, Receipts, "secretariat", "Sites that have not acknowledged";
            G(min::ATTENDANCE_EXPORT) => ExportAttendance, AttendanceExport, "secretariat", "The attendance record as CSV or JSON, by pages of rows";
            G(min::TASKS_REVIEW) => ReviewTask, TaskView, "secretariat", "Accept or return a task reported done";
            G(min::TASKS_LIST) => ListTasks, TaskList, "secretariat, persons", "The tasks of published minutes";
            S(M, min::SITE_GET) => GetMinutes, MinutesView, "the site", "Read the minutes of one of the site's conferences";
            S(M, min::ACKNOWLEDGE) => ConferenceRef, MinutesView, "the site", "Acknowledge the published minutes";
            S(M, min::NOTICE_ACKNOWLEDGE) => ConferenceRef, NoticeView, "the site", "Acknowledge the conclusions notice";
            S(M, min::NOTICE_GET) => ConferenceRef, NoticeView, "the site", "The site's copy of the conclusions notice";
            S(M, min::SITE_TASKS_REPORT) => ReportTask, TaskView, "the site", "Report on one of the site's tasks";
            S(M, min::SITE_TASKS_LIST) => ListTasks, TaskList, "the site", "The site's own tasks";
            P(min::RECORD) => RecordItem, MinutesView, "the person (the conference's minute-taker)", "Record one agenda item";
            P(min::SUBMIT) => ConferenceRef, MinutesView, "the person (the conference's minute-taker)", "Submit the draft for approval";
            P(min::APPROVE) => ApproveMinutes, MinutesView, "the person (a chair of the conference)", "Approve the minutes";
            P(min::REQUEST_CHANGES) => RequestChanges, MinutesView, "the person (a chair of the conference)", "Ask for changes to the submitted minutes";
            P(min::PUBLISH) => ConferenceRef, MinutesView, "the person (the conference's minute-taker)", "Publish the approved minutes";
        }
    });
    &TABLE
}

/// The error replies every endpoint may give, with the status each code has.
const ERROR_STATUSES: [(u16, &str); 8] = [
    (400, "invalid: a malformed body or path, or a content rule broken"),
    (401, "unauthorized: no token, or one the deployment does not know"),
    (403, "forbidden: the caller's identity may not do this (refused by the NATS server or the service)"),
    (404, "not_found: unknown conference, or nothing yet"),
    (409, "conflict: not allowed in the current state"),
    (413, "too_large: the body is larger than the subject takes"),
    (429, "rate_limited: too many requests from this identity; retry after `Retry-After` seconds"),
    (503, "unavailable: NATS or the service unreachable, or too slow; retry with the same Idempotency-Key"),
];

/// The error body: `{"error":{"code","message"}}`, as on NATS.
fn error_schema() -> RefOr<Schema> {
    let inner = ObjectBuilder::new()
        .property(
            "code",
            ObjectBuilder::new().schema_type(Type::String).enum_values(Some(CODES.iter().copied())).build(),
        )
        .required("code")
        .property("message", ObjectBuilder::new().schema_type(Type::String).build())
        .required("message")
        .build();
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .description(Some("An error, exactly as the NATS reply carries it (plus the gateway's own 401 and 429)."))
            .property("error", inner)
            .required("error")
            .build(),
    ))
}

/// The OpenAPI 3.1 document of the table.
pub fn openapi() -> OpenApi {
    let mut found = Found::new();
    let mut paths = PathsBuilder::new();
    for endpoint in table() {
        let request = (endpoint.request)(&mut found);
        let reply = (endpoint.reply)(&mut found);
        let json = |name: &str| ContentBuilder::new().schema(Some(Ref::from_schema_name(name))).build();
        let mut responses = ResponsesBuilder::new()
            .response("200", ResponseBuilder::new().description("The reply").content("application/json", json(&reply)));
        for (status, text) in ERROR_STATUSES {
            responses = responses.response(
                status.to_string(),
                ResponseBuilder::new().description(text).content("application/json", json("Error")),
            );
        }
        let mut parameters = vec![
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Passed on as Hoinghi-Idempotency-Key: 1 to 128 printable ASCII characters without spaces; a \
                     retried command with the same key takes effect once",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .build(),
            ParameterBuilder::new()
                .name("traceparent")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("W3C trace context, passed on to the services and their events"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .build(),
        ];
        if let Some(name) = endpoint.scope.parameter() {
            let schema = if name == "site" { SiteId::schema() } else { PersonId::schema() };
            parameters.insert(
                0,
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(if name == "site" {
                        "The site acting (the caller must be that site)"
                    } else {
                        "The person acting (the caller must be that person)"
                    }))
                    .schema(Some(schema))
                    .build(),
            );
        }
        let operation = OperationBuilder::new()
            .operation_id(Some(endpoint.operation_id()))
            .summary(Some(endpoint.summary))
            .description(Some(format!(
                "NATS subject `{}`. Who: {}. The body and the reply are the subject's, unchanged.",
                endpoint.scope.pattern(),
                endpoint.who
            )))
            .tag(endpoint.scope.service().to_string())
            .parameters(Some(parameters))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json(&request))
                    .required(Some(Required::True))
                    .build(),
            ))
            .responses(responses.build())
            .build();
        paths = paths.path(endpoint.scope.path(), PathItem::new(HttpMethod::Post, operation));
    }
    let mut components = ComponentsBuilder::new().schema("Error", error_schema());
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);
    for (name, schema) in found {
        components = components.schema(name, schema);
    }
    components = components
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `hoinghi admin token issue <identity>`"))
                    .build(),
            ),
        )
        .security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE,
                "The web pages' session cookie (the same token, set by the login form)",
            ))),
        );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("hoinghi HTTP API")
                .version("1")
                .description(Some(
                    "The hoinghi NATS API (docs/asyncapi.yaml) over HTTP/JSON: each request subject is POST \
                     /v1/<subject after hoinghi.v1, dots as slashes>, its body and reply unchanged, acting as the \
                     caller's own identity. Live board updates: GET /v1/attendance/board/{conference_id}/events \
                     (Server-Sent Events).",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .security(Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("cookie", Vec::<String>::new()),
        ]))
        .tags(Some(Service::ALL.into_iter().map(|s| TagBuilder::new().name(s.to_string()).build())))
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every request subject of the contract, as patterns.
    fn contract() -> BTreeSet<String> {
        let mut all: BTreeSet<String> =
            [sch::REQUESTS, att::REQUESTS, min::REQUESTS].concat().into_iter().map(str::to_owned).collect();
        all.extend(sch::SITE_ACTIONS.iter().map(|a| sch::any_site(a)));
        all.extend(att::SITE_ACTIONS.iter().map(|a| att::any_site(a)));
        all.extend(min::SITE_ACTIONS.iter().map(|a| min::any_site(a)));
        all.extend(min::PERSON_ACTIONS.iter().map(|a| min::any_person(a)));
        all
    }

    #[test]
    fn every_request_subject_has_exactly_one_route_and_every_route_a_subject() {
        let routes: Vec<String> = table().iter().map(|e| e.scope.pattern()).collect();
        let unique: BTreeSet<String> = routes.iter().cloned().collect();
        assert_eq!(unique.len(), routes.len(), "a subject has two routes");
        let contract = contract();
        let missing: Vec<_> = contract.difference(&unique).collect();
        let extra: Vec<_> = unique.difference(&contract).collect();
        assert!(missing.is_empty(), "subjects without a route: {missing:?}");
        assert!(extra.is_empty(), "routes without a subject: {extra:?}");
        let paths: BTreeSet<String> = table().iter().map(|e| e.scope.path()).collect();
        assert_eq!(paths.len(), routes.len(), "two routes share a path");
        let ids: BTreeSet<String> = table().iter().map(Endpoint::operation_id).collect();
        assert_eq!(ids.len(), routes.len(), "two routes share an operation id");
    }

    #[test]
    fn paths_mirror_subjects_and_parameters_never_leave_their_token() {
        let confirm = table().iter().find(|e| e.scope == Scope::Site(Service::Attendance, att::CONFIRM)).unwrap();
        assert_eq!(confirm.scope.path(), "/v1/attendance/sites/{site}/confirm");
        assert_eq!(confirm.scope.subject(Some("ba-be")).unwrap(), "hoinghi.v1.attendance.sites.ba-be.confirm");
        for hostile in ["ba-be.x", "*", ">", "ba be", "", "BA-BE"] {
            assert!(confirm.scope.subject(Some(hostile)).is_err(), "{hostile:?}");
        }
        let roster = table().iter().find(|e| e.scope == Scope::Global(att::ROSTER)).unwrap();
        assert_eq!(roster.scope.path(), "/v1/attendance/roster");
        assert_eq!(roster.scope.service(), Service::Attendance);
        let report = Scope::Site(Service::Minutes, min::SITE_TASKS_REPORT);
        assert_eq!(report.path(), "/v1/minutes/sites/{site}/tasks/report");
        assert_eq!(Scope::Person(min::APPROVE).path(), "/v1/minutes/persons/{person}/approve");
    }

    #[test]
    fn the_document_is_openapi_3_1_with_every_route_and_every_schema_it_refers_to() {
        let doc = serde_json::to_value(openapi()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["paths"].as_object().unwrap().len(), table().len());
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#/components/schemas/") {
            rest = &rest[at + "#/components/schemas/".len()..];
            let name: String = rest.chars().take_while(|c| *c != '"').collect();
            assert!(schemas.contains_key(&name), "{name} is referred to but not defined");
        }
        let confirm = &doc["paths"]["/v1/attendance/sites/{site}/confirm"]["post"];
        assert_eq!(
            confirm["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ConfirmAttendance"
        );
        assert!(confirm["responses"]["429"].is_object() && confirm["responses"]["401"].is_object());
    }
}
