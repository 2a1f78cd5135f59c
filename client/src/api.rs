//! The connection ([`Settings`] -> [`Api`]) and one typed method per public subject.
//!
//! Every request carries a W3C `traceparent` (this client's trace, a new span per request) and, for
//! commands, an optional `Hoinghi-Idempotency-Key`. A request the server refuses for lack of
//! permission fails at once, instead of after the timeout, on a connection made from settings.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::{HeaderMap, Message, RequestErrorKind};
use bytes::Bytes;
use hoinghi_shared::api::{
    ApproveMinutes, AuditTrail, CancelConference, ConferenceRef, ConferenceView, ConfirmAttendance, CreateConference,
    DeclineAttendance, MinutesView, PageQuery, RecordItem, RegisterSite, Roster, SiteAttendance, SiteView,
};
use hoinghi_shared::headers::{IDEMPOTENCY_KEY, TRACEPARENT};
use hoinghi_shared::subjects::{self, discovery};
use hoinghi_shared::{trace, ApiError, ConferenceId, PersonId, Role, Service, SiteId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::error::{parse_violation, CallError};
use crate::reply::RawReply;

/// How long one request waits for its reply unless the settings say otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting may take before it fails.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Settings {
    /// NATS server URL(s), comma separated (the nodes of a cluster).
    pub url: String,
    /// A standard NATS credentials file (user JWT + seed, from `hoinghi admin`), if any.
    pub creds: Option<PathBuf>,
    /// The identity to act as (inbox prefix `_INBOX.<identity>`); none: the `name` of the
    /// credentials file's JWT.
    pub identity: Option<String>,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// Sent as `Hoinghi-Idempotency-Key` on every [`Api::call`] of this client.
    pub idempotency_key: Option<String>,
    /// PEM CA of the server's certificate; any TLS file turns TLS on.
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate and key, for a server that verifies clients.
    pub tls_client: Option<(PathBuf, PathBuf)>,
    /// The connection's name, as the server shows it.
    pub name: String,
}

impl Settings {
    /// An anonymous connection to `url` with the default timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            creds: None,
            identity: None,
            timeout: REQUEST_TIMEOUT,
            idempotency_key: None,
            tls_ca: None,
            tls_client: None,
            name: "hoinghi-client".to_owned(),
        }
    }

    /// The identity this connection acts as, if any (the configured one, else the `name` of the
    /// credentials file's JWT).
    pub fn identity(&self) -> Option<String> {
        hoinghi_credentials::identity_of(self.identity.as_deref().unwrap_or(""), self.creds.as_deref())
    }

    /// `_INBOX.<identity>`, or `_INBOX` without an identity.
    pub fn inbox_prefix(&self) -> String {
        hoinghi_credentials::inbox_prefix(self.identity().as_deref())
    }

    /// The same settings acting as another identity, with its credentials file.
    pub fn as_identity(&self, identity: &str, creds: PathBuf) -> Self {
        Self { creds: Some(creds), identity: Some(identity.to_owned()), ..self.clone() }
    }

    /// The server URLs.
    ///
    /// # Errors
    /// A URL that does not parse, or none.
    pub fn servers(&self) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
        let servers = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| u.parse::<async_nats::ServerAddr>().with_context(|| format!("{u:?} is not a NATS URL")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!servers.is_empty(), "no NATS URL given");
        Ok(servers)
    }

    async fn options(&self, violations: broadcast::Sender<String>) -> anyhow::Result<async_nats::ConnectOptions> {
        let mut options = async_nats::ConnectOptions::new()
            .name(&self.name)
            .connection_timeout(CONNECT_TIMEOUT)
            .request_timeout(Some(self.timeout))
            .custom_inbox_prefix(self.inbox_prefix())
            .event_callback(move |event| {
                let violations = violations.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let text = e.to_string();
                        if parse_violation(&text).is_some() {
                            let _ = violations.send(text);
                        }
                    }
                }
            });
        if let Some(path) = &self.creds {
            options = options
                .credentials_file(path)
                .await
                .with_context(|| format!("cannot read the NATS credentials file {}", path.display()))?;
        }
        if self.tls_ca.is_some() || self.tls_client.is_some() {
            options = options.require_tls(true);
            if let Some(ca) = &self.tls_ca {
                options = options.add_root_certificates(ca.clone());
            }
            if let Some((cert, key)) = &self.tls_client {
                options = options.add_client_certificate(cert.clone(), key.clone());
            }
        }
        Ok(options)
    }
}

/// A client of the public API on one NATS connection.
#[derive(Debug, Clone)]
pub struct Api {
    nats: async_nats::Client,
    /// `anonymous`, or the identity.
    identity: String,
    inbox_prefix: String,
    trace_id: String,
    idempotency_key: Option<String>,
    /// The permission violations the server reports on this connection (made from settings only).
    violations: Option<broadcast::Sender<String>>,
}

impl Api {
    /// Connects anonymously to `url`.
    ///
    /// # Errors
    /// The server is not reachable.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(Settings::new(url)).await
    }

    /// Connects as the settings say, failing fast when no server answers.
    ///
    /// # Errors
    /// No server at the URL, or an unreadable credentials file.
    pub async fn connect_with(settings: Settings) -> anyhow::Result<Self> {
        let (violations, _) = broadcast::channel::<String>(64);
        let servers = settings.servers().with_context(|| format!("NATS URL {:?}", settings.url))?;
        let options = settings.options(violations.clone()).await?;
        let identity = settings.identity().unwrap_or_else(|| "anonymous".to_owned());
        let nats = options
            .connect(servers)
            .await
            .with_context(|| format!("cannot connect to NATS at {} as {identity}", settings.url))?;
        Ok(Self {
            nats,
            identity,
            inbox_prefix: settings.inbox_prefix(),
            trace_id: trace::new_trace_id(),
            idempotency_key: settings.idempotency_key,
            violations: Some(violations),
        })
    }

    /// Wraps an existing connection (anonymous as far as this client knows; its request timeout is
    /// the connection's).
    pub fn from_client(client: async_nats::Client) -> Self {
        Self {
            nats: client,
            identity: "anonymous".to_owned(),
            inbox_prefix: subjects::inbox::ROOT.to_owned(),
            trace_id: trace::new_trace_id(),
            idempotency_key: None,
            violations: None,
        }
    }

    /// Wraps an existing connection made as `identity` (with the inbox prefix `_INBOX.<identity>`,
    /// e.g. with that identity's credentials file): its per-site and per-person requests go to that
    /// identity's subjects.
    pub fn from_client_as(client: async_nats::Client, identity: &str) -> Self {
        Self {
            identity: identity.to_owned(),
            inbox_prefix: hoinghi_credentials::inbox_prefix(Some(identity)),
            ..Self::from_client(client)
        }
    }

    /// This connection's requests, made as `person`: the person's commands go to their per-person
    /// subjects. On a server that authenticates, only a connection with that person's credentials
    /// may publish there (the server refuses the others), so this serves a server without
    /// authentication (a development stack, the tests) or a connection already acting as `person`.
    pub fn as_person(&self, person: &PersonId) -> Self {
        Self { identity: Role::Person(person.clone()).identity(), ..self.clone() }
    }

    /// The underlying NATS client.
    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    /// The identity this client acts as (`anonymous` without one).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The W3C trace id every request of this client carries.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// How long a request waits for its reply.
    pub fn timeout(&self) -> Duration {
        self.nats.timeout().unwrap_or(REQUEST_TIMEOUT)
    }

    /// Sends one request and waits for its reply, whatever it says; the server's refusal of the
    /// request or of its reply subject ends the wait at once.
    async fn exchange(&self, subject: &str, payload: Bytes, headers: Option<HeaderMap>) -> Result<Message, CallError> {
        let mut request = async_nats::Request::new().payload(payload);
        if let Some(headers) = headers {
            request = request.headers(headers);
        }
        let sent = self.nats.send_request(subject.to_owned(), request);
        let outcome = match &self.violations {
            None => sent.await,
            Some(violations) => {
                // A refused publish is dropped by the server, which reports it only on the
                // connection: watch for that report while waiting.
                let mut violations = violations.subscribe();
                tokio::pin!(sent);
                loop {
                    tokio::select! {
                        outcome = &mut sent => break outcome,
                        report = violations.recv() => match report {
                            Ok(text) => {
                                if let Some(refused) = self.concerns(subject, &text) {
                                    return Err(refused);
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => {}
                            Err(broadcast::error::RecvError::Closed) => break (&mut sent).await,
                        },
                    }
                }
            }
        };
        outcome.map_err(|e| match e.kind() {
            RequestErrorKind::NoResponders => CallError::NoResponders { subject: subject.to_owned() },
            RequestErrorKind::TimedOut => CallError::TimedOut { subject: subject.to_owned(), after: self.timeout() },
            _ => CallError::Transport { subject: subject.to_owned(), message: e.to_string() },
        })
    }

    /// The refusal a server report means for a request on `subject`, if it concerns it: the publish
    /// of the request itself, or the subscription its reply needs.
    fn concerns(&self, subject: &str, report: &str) -> Option<CallError> {
        let violation = parse_violation(report)?;
        let ours = match violation.action {
            "publish to" => violation.subject == subject,
            _ => violation.subject.starts_with(&self.inbox_prefix),
        };
        ours.then(|| CallError::PermissionDenied {
            identity: self.identity.clone(),
            action: violation.action,
            subject: violation.subject,
        })
    }

    /// Sends raw bytes with exactly these headers (none added) and returns the reply as it came.
    ///
    /// # Errors
    /// Failures of the request itself, as [`ApiError`] (`unavailable` for no responders, a timeout
    /// or a closed connection).
    pub async fn raw(
        &self,
        subject: &str,
        payload: impl Into<Bytes>,
        headers: Option<HeaderMap>,
    ) -> Result<RawReply, ApiError> {
        Ok(self.exchange(subject, payload.into(), headers).await?.into())
    }

    /// Sends `payload` with a `traceparent` and the idempotency key `key` (if any); an error reply
    /// becomes the error.
    ///
    /// # Errors
    /// The error reply, or a failure of the request.
    pub async fn send(&self, subject: &str, payload: Bytes, key: Option<&str>) -> Result<RawReply, CallError> {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, trace::traceparent(&self.trace_id, &trace::new_span_id()).as_str());
        if let Some(key) = key {
            headers.insert(IDEMPOTENCY_KEY, key);
        }
        let reply = RawReply::from(self.exchange(subject, payload, Some(headers)).await?);
        match reply.call_error(subject) {
            Some(e) => Err(e),
            None => Ok(reply),
        }
    }

    /// Sends `body` as JSON with the idempotency key `key` (if any) and decodes the reply.
    ///
    /// # Errors
    /// A [`CallError`]: error reply, no responders, refusal, timeout, undecodable reply.
    pub async fn call_with_key<Req, Resp>(
        &self,
        subject: &str,
        body: &Req,
        key: Option<&str>,
    ) -> Result<Resp, CallError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let payload = serde_json::to_vec(body)
            .map_err(|e| CallError::Encode { subject: subject.to_owned(), message: e.to_string() })?;
        self.send(subject, Bytes::from(payload), key).await?.decode(subject)
    }

    /// Sends `body` as JSON with this client's idempotency key (if any, from the settings) and
    /// decodes the reply.
    ///
    /// # Errors
    /// As [`Self::call_with_key`].
    pub async fn call<Req, Resp>(&self, subject: &str, body: &Req) -> Result<Resp, CallError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        self.call_with_key(subject, body, self.idempotency_key.as_deref()).await
    }

    /// Sends `body` as JSON and decodes the reply.
    ///
    /// # Errors
    /// The error reply, or a failure of the request as `unavailable`.
    pub async fn request<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        subject: &str,
        body: &T,
    ) -> Result<R, ApiError> {
        Ok(self.call(subject, body).await?)
    }

    /// Like [`Self::request`], with a `Hoinghi-Idempotency-Key`.
    ///
    /// # Errors
    /// The error reply, or a failure of the request as `unavailable`.
    pub async fn request_with_key<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        subject: &str,
        body: &T,
        key: &str,
    ) -> Result<R, ApiError> {
        Ok(self.call_with_key(subject, body, Some(key)).await?)
    }

    /// `$SRV.PING.<name>`: one instance of the service answers.
    ///
    /// # Errors
    /// No answer, or not JSON.
    pub async fn ping(&self, service: impl Into<Service>) -> anyhow::Result<serde_json::Value> {
        self.discovery(&discovery::ping(service.into().name())).await
    }

    /// `$SRV.INFO.<name>`: one instance of the service describes itself.
    ///
    /// # Errors
    /// No answer, or not JSON.
    pub async fn info(&self, service: impl Into<Service>) -> anyhow::Result<serde_json::Value> {
        self.discovery(&discovery::info(service.into().name())).await
    }

    async fn discovery(&self, subject: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.send(subject, Bytes::new(), None).await?.decode(subject)?)
    }

    /// Sends a request about one conference (a [`ConferenceRef`]) and decodes the reply.
    async fn about<R: DeserializeOwned>(&self, subject: &str, conference: ConferenceId) -> Result<R, ApiError> {
        self.request(subject, &ConferenceRef { conference_id: conference }).await
    }

    /// The person this client acts as, if its identity is a person's (`person-<id>`).
    pub fn person(&self) -> Option<PersonId> {
        match Role::from_identity(&self.identity) {
            Some(Role::Person(person)) => Some(person),
            _ => None,
        }
    }

    /// The site this client acts as, if its identity is a site's (`site-<id>`).
    pub fn site(&self) -> Option<SiteId> {
        match Role::from_identity(&self.identity) {
            Some(Role::Site(site)) => Some(site),
            _ => None,
        }
    }

    /// `hoinghi.v1.minutes.persons.<person>.<action>` for the person this client acts as: a person
    /// acts only as themself.
    ///
    /// # Errors
    /// `invalid`, before anything is sent, when this client does not act as a person.
    fn person_subject(&self, action: &str) -> Result<String, ApiError> {
        let person = self.person().ok_or_else(|| {
            ApiError::invalid(format!(
                "the minutes' {action} is a person's command, sent as that person, and this connection acts as {}: \
                 connect with the credentials of a person of the conference (identity person-<id>)",
                self.identity
            ))
        })?;
        Ok(subjects::minutes::person_command(&person, action))
    }

    // ------------------------------------------------------------ scheduling

    /// Registers (or renames) a site.
    ///
    /// # Errors
    /// The service's error.
    pub async fn register_site(&self, id: &SiteId, name: &str) -> Result<SiteView, ApiError> {
        self.request(subjects::scheduling::REGISTER_SITE, &RegisterSite { id: id.clone(), name: name.to_owned() }).await
    }

    /// Schedules a conference.
    ///
    /// # Errors
    /// The service's error.
    pub async fn create(&self, request: &CreateConference) -> Result<ConferenceView, ApiError> {
        self.request(subjects::scheduling::CREATE, request).await
    }

    /// Issues the invitations.
    ///
    /// # Errors
    /// The service's error.
    pub async fn invite(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        self.about(subjects::scheduling::INVITE, conference).await
    }

    /// Opens the session.
    ///
    /// # Errors
    /// The service's error.
    pub async fn start(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        self.about(subjects::scheduling::START, conference).await
    }

    /// Closes the session.
    ///
    /// # Errors
    /// The service's error.
    pub async fn end(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        self.about(subjects::scheduling::END, conference).await
    }

    /// Cancels the conference.
    ///
    /// # Errors
    /// The service's error.
    pub async fn cancel(&self, conference: ConferenceId, reason: &str) -> Result<ConferenceView, ApiError> {
        self.request(
            subjects::scheduling::CANCEL,
            &CancelConference { conference_id: conference, reason: reason.to_owned() },
        )
        .await
    }

    /// Moves the conference to a new time (before it starts), with a reason; `reanswer` asks every
    /// site to answer again. The reply carries the new `schedule_sequence`.
    ///
    /// # Errors
    /// The service's error: `invalid` for a time in the past, an end before the start or the same
    /// time; `conflict` once the session started, ended or the conference was cancelled.
    pub async fn reschedule(
        &self,
        request: &hoinghi_shared::api::RescheduleConference,
    ) -> Result<ConferenceView, ApiError> {
        self.request(subjects::scheduling::RESCHEDULE, request).await
    }

    /// Reads a conference: a site on its own per-site subject (only the conferences it is part
    /// of), anyone else on the shared one.
    ///
    /// # Errors
    /// The service's error (`not_found` also for a site not part of the conference).
    pub async fn conference(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        match self.site() {
            Some(site) => {
                let subject = subjects::scheduling::site_command(&site, subjects::scheduling::SITE_GET);
                self.about(&subject, conference).await
            }
            None => self.about(subjects::scheduling::GET, conference).await,
        }
    }

    /// A site's invitation as an iCalendar object (`ics`: `METHOD:REQUEST`, or `METHOD:CANCEL` once
    /// cancelled), with its method and `SEQUENCE`: a site asks on its per-site subject (`site`
    /// being its own), the secretariat on the shared one.
    ///
    /// # Errors
    /// The service's error: `not_found` for an unknown conference (or, asked by a site, one it is
    /// not part of), `forbidden` for a site not invited (asked by the secretariat), `conflict`
    /// before the invitations were issued.
    pub async fn ics(
        &self,
        conference: ConferenceId,
        site: &SiteId,
    ) -> Result<hoinghi_shared::api::IcsInvitation, ApiError> {
        if self.site().is_some() {
            let subject = subjects::scheduling::site_command(site, subjects::scheduling::SITE_ICS);
            return self.about(&subject, conference).await;
        }
        self.request(
            subjects::scheduling::ICS,
            &hoinghi_shared::api::IcsRequest { conference_id: conference, site: site.clone() },
        )
        .await
    }

    /// One page of the audit trail: who did what and when, from the event log.
    ///
    /// # Errors
    /// The service's error.
    pub async fn audit(&self, query: &PageQuery) -> Result<AuditTrail, ApiError> {
        self.request(subjects::scheduling::AUDIT, query).await
    }

    // ------------------------------------------------------------ attendance

    /// A site confirms.
    ///
    /// # Errors
    /// The service's error.
    pub async fn confirm(&self, site: &SiteId, request: &ConfirmAttendance) -> Result<SiteAttendance, ApiError> {
        self.request(&subjects::attendance::site_command(site, subjects::attendance::CONFIRM), request).await
    }

    /// A site declines.
    ///
    /// # Errors
    /// The service's error.
    pub async fn decline(
        &self,
        site: &SiteId,
        conference: ConferenceId,
        reason: &str,
    ) -> Result<SiteAttendance, ApiError> {
        self.request(
            &subjects::attendance::site_command(site, subjects::attendance::DECLINE),
            &DeclineAttendance { conference_id: conference, reason: reason.to_owned() },
        )
        .await
    }

    /// A site lists its own notifications after the cursor `since` (0: from the first), at most
    /// `limit` (default 100, at most 500).
    ///
    /// # Errors
    /// The service's error.
    pub async fn notifications(
        &self,
        site: &SiteId,
        since: u64,
        limit: Option<usize>,
    ) -> Result<hoinghi_shared::notifications::NotificationsPage, ApiError> {
        self.request(
            &subjects::attendance::site_command(site, subjects::attendance::NOTIFICATIONS),
            &hoinghi_shared::notifications::NotificationsQuery { since, limit },
        )
        .await
    }

    /// A site's notifications as they are written (a core subscription to
    /// `hoinghi.v1.notifications.<site>.>`, which the server allows only the site itself): each
    /// message's body is a [`hoinghi_shared::notifications::Notification`].
    ///
    /// # Errors
    /// The subscription could not be sent (a refusal by the server's permissions arrives as a
    /// permissions violation on the connection, and the subscription then receives nothing).
    pub async fn watch_notifications(&self, site: &SiteId) -> anyhow::Result<async_nats::Subscriber> {
        let subscriber = self.nats().subscribe(subjects::notifications::site_all(site)).await?;
        // The server has the subscription (or has refused it) once it answered a round trip.
        self.nats().flush().await?;
        Ok(subscriber)
    }

    /// A site checks in.
    ///
    /// # Errors
    /// The service's error.
    pub async fn check_in(&self, site: &SiteId, conference: ConferenceId) -> Result<SiteAttendance, ApiError> {
        self.about(&subjects::attendance::site_command(site, subjects::attendance::CHECK_IN), conference).await
    }

    /// A site reads its own line of the roster: its answer, its delegates, its check-in, its
    /// technical check (404 when the conference is unknown or the site is not invited to it).
    ///
    /// # Errors
    /// The service's error.
    pub async fn site_status(&self, site: &SiteId, conference: ConferenceId) -> Result<SiteAttendance, ApiError> {
        self.about(&subjects::attendance::site_command(site, subjects::attendance::STATUS), conference).await
    }

    /// Acts for `site`'s bridge: one heartbeat of live presence in `conference` (published, no
    /// reply; the bridge's endpoint sends one every `presence.heartbeat_interval_ms` while connected).
    ///
    /// # Errors
    /// The connection could not take the message.
    pub async fn heartbeat(&self, site: &SiteId, conference: ConferenceId) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&hoinghi_shared::presence::Heartbeat { conference_id: conference })?;
        self.nats().publish(subjects::presence::site(site), body.into()).await?;
        Ok(())
    }

    /// Acts for `site`: it has seen the conference's schedule `sequence` (the current one).
    ///
    /// # Errors
    /// The service's error (`conflict` for a sequence that is not the current one).
    pub async fn schedule_seen(
        &self,
        site: &SiteId,
        conference: ConferenceId,
        sequence: u32,
    ) -> Result<SiteAttendance, ApiError> {
        self.request(
            &subjects::attendance::site_command(site, subjects::attendance::SCHEDULE_SEEN),
            &hoinghi_shared::api::ScheduleSeen { conference_id: conference, sequence },
        )
        .await
    }

    /// The roster (its first page of sites).
    ///
    /// # Errors
    /// The service's error (404 before it opens).
    pub async fn roster(&self, conference: ConferenceId) -> Result<Roster, ApiError> {
        self.about(subjects::attendance::ROSTER, conference).await
    }

    /// One page of the roster's sites.
    ///
    /// # Errors
    /// The service's error (404 before it opens).
    pub async fn roster_page(&self, query: &PageQuery) -> Result<Roster, ApiError> {
        self.request(subjects::attendance::ROSTER, query).await
    }

    /// One page of a conference's board (its snapshot, with the `seq` it includes); to follow it
    /// live, see [`crate::board::Board`].
    ///
    /// # Errors
    /// The service's error (404 before the roster opens).
    pub async fn board(&self, query: &PageQuery) -> Result<hoinghi_shared::board::Board, ApiError> {
        self.request(subjects::attendance::BOARD, query).await
    }

    /// A conference's changes with `seq > since`, read from the event log (one page).
    ///
    /// # Errors
    /// The service's error (404 before the roster opens).
    pub async fn board_changes(
        &self,
        query: &hoinghi_shared::board::BoardChangesQuery,
    ) -> Result<hoinghi_shared::board::BoardChanges, ApiError> {
        self.request(subjects::attendance::BOARD_CHANGES, query).await
    }

    /// The secretariat opens the conference's technical check; answers its summary.
    ///
    /// # Errors
    /// The service's error (409 before the invitations or once the session started).
    pub async fn open_technical_check(
        &self,
        conference: ConferenceId,
    ) -> Result<hoinghi_shared::api::TechnicalCheckSummary, ApiError> {
        self.about(subjects::attendance::TECHNICAL_CHECK_OPEN, conference).await
    }

    /// Acts for `site`: reports its technical check (picture, sound, line).
    ///
    /// # Errors
    /// The service's error (403 not invited, 409 check not open, 400 a failed item without a note).
    pub async fn report_technical_check(
        &self,
        site: &SiteId,
        report: &hoinghi_shared::api::ReportTechnicalCheck,
    ) -> Result<hoinghi_shared::api::SiteTechnicalCheck, ApiError> {
        let subject = subjects::attendance::site_command(site, subjects::attendance::TECHNICAL_CHECK);
        self.request(&subject, report).await
    }

    /// The secretariat takes the roll (điểm danh) of one bridge during the session: present with
    /// the people in the room, or absent with a reason; answers the bridge's line of the roster.
    ///
    /// # Errors
    /// The service's error (404 no roster or a site not invited, 409 outside the session, 400 bad
    /// content).
    pub async fn roll_call(
        &self,
        call: &hoinghi_shared::api::RollCall,
    ) -> Result<hoinghi_shared::api::SiteAttendance, ApiError> {
        self.request(subjects::attendance::ROLL_CALL, call).await
    }

    /// Whether the conference is quorate now (always, without a quorum rule).
    ///
    /// # Errors
    /// The service's error (404 before the roster opens).
    pub async fn quorum(&self, conference: ConferenceId) -> Result<hoinghi_shared::api::Quorum, ApiError> {
        self.about(subjects::attendance::QUORUM, conference).await
    }

    /// The technical check's counts and one page of the failing sites.
    ///
    /// # Errors
    /// The service's error (404 before the roster opens).
    pub async fn technical_check_summary(
        &self,
        query: &PageQuery,
    ) -> Result<hoinghi_shared::api::TechnicalCheckSummary, ApiError> {
        self.request(subjects::attendance::TECHNICAL_CHECK_SUMMARY, query).await
    }

    /// The secretariat or a chair moves the session to agenda item `item` (0-based); answers the
    /// floor.
    ///
    /// # Errors
    /// The service's error (409 out of session, 400 an item not on the agenda).
    pub async fn move_agenda(
        &self,
        conference: ConferenceId,
        item: usize,
    ) -> Result<hoinghi_shared::api::Floor, ApiError> {
        let body = hoinghi_shared::api::MoveAgenda { conference_id: conference, item };
        self.request(subjects::attendance::AGENDA_MOVE, &body).await
    }

    /// Acts for `site`: asks for the floor on the current item with `topic`; answers the floor.
    ///
    /// # Errors
    /// The service's error (403 not invited, 409 out of session or no item under way, 400 a bad topic).
    pub async fn request_floor(
        &self,
        site: &SiteId,
        conference: ConferenceId,
        topic: &str,
    ) -> Result<hoinghi_shared::api::Floor, ApiError> {
        let subject = subjects::attendance::site_command(site, subjects::attendance::FLOOR_REQUEST);
        let body = hoinghi_shared::api::RequestFloor { conference_id: conference, topic: topic.to_owned() };
        self.request(&subject, &body).await
    }

    /// Acts for `site`: withdraws its request for the floor; answers the floor.
    ///
    /// # Errors
    /// The service's error (403 not invited, 409 out of session).
    pub async fn withdraw_floor(
        &self,
        site: &SiteId,
        conference: ConferenceId,
    ) -> Result<hoinghi_shared::api::Floor, ApiError> {
        self.about(&subjects::attendance::site_command(site, subjects::attendance::FLOOR_WITHDRAW), conference).await
    }

    /// The chair (or the secretariat) gives the floor: to the head of the queue (`site` `None`) or to
    /// `site` (out of order when it is not the head); answers the floor.
    ///
    /// # Errors
    /// The service's error (409 someone speaking, nobody waiting, a site that has not asked).
    pub async fn grant_floor(
        &self,
        conference: ConferenceId,
        site: Option<SiteId>,
    ) -> Result<hoinghi_shared::api::Floor, ApiError> {
        let body = hoinghi_shared::api::GrantFloor { conference_id: conference, site };
        self.request(subjects::attendance::FLOOR_GRANT, &body).await
    }

    /// The chair (or the secretariat) marks the speaker done; answers the floor.
    ///
    /// # Errors
    /// The service's error (409 out of session).
    pub async fn floor_done(&self, conference: ConferenceId) -> Result<hoinghi_shared::api::Floor, ApiError> {
        self.about(subjects::attendance::FLOOR_DONE, conference).await
    }

    /// The floor: the current item, the queue, who speaks, who spoke on each item.
    ///
    /// # Errors
    /// The service's error (404 before the roster opens).
    pub async fn floor(&self, conference: ConferenceId) -> Result<hoinghi_shared::api::Floor, ApiError> {
        self.about(subjects::attendance::FLOOR, conference).await
    }

    // ------------------------------------------------------------ minutes

    /// A minute-taker (this client's person) records an agenda item.
    ///
    /// # Errors
    /// `invalid` when this client is not a person; the service's error (`forbidden` for a person
    /// who is not a minute-taker of the conference).
    pub async fn record(&self, item: &RecordItem) -> Result<MinutesView, ApiError> {
        self.request(&self.person_subject(subjects::minutes::RECORD)?, item).await
    }

    /// A minute-taker (this client's person) submits the draft.
    ///
    /// # Errors
    /// As [`Api::record`].
    pub async fn submit(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.about(&self.person_subject(subjects::minutes::SUBMIT)?, conference).await
    }

    /// A chair (this client's person, as the conference binds them to a chair) approves.
    ///
    /// # Errors
    /// `invalid` when this client is not a person; the service's error (`forbidden` for a person
    /// who is not a chair of the conference).
    pub async fn approve(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        let subject = self.person_subject(subjects::minutes::APPROVE)?;
        self.request(&subject, &ApproveMinutes { conference_id: conference }).await
    }

    /// A chair (this client's person) requests changes to the submitted version instead of
    /// approving it.
    ///
    /// # Errors
    /// As [`Api::approve`].
    pub async fn request_changes(&self, conference: ConferenceId, comment: &str) -> Result<MinutesView, ApiError> {
        let body = hoinghi_shared::api::RequestChanges { conference_id: conference, comment: comment.to_owned() };
        self.request(&self.person_subject(subjects::minutes::REQUEST_CHANGES)?, &body).await
    }

    /// Reads submitted version `version` of the minutes (1, 2, …), with what changed from the one
    /// before (the first page of their attendance).
    ///
    /// # Errors
    /// The service's error (404 for a version never submitted).
    pub async fn minutes_version(&self, conference: ConferenceId, version: u32) -> Result<MinutesView, ApiError> {
        let mut query = hoinghi_shared::api::GetMinutes::from(PageQuery::first(conference));
        query.version = Some(version);
        self.request(&self.minutes_get(), &query).await
    }

    /// A minute-taker (this client's person) publishes.
    ///
    /// # Errors
    /// As [`Api::record`].
    pub async fn publish(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.about(&self.person_subject(subjects::minutes::PUBLISH)?, conference).await
    }

    /// Where this client reads minutes: a site on its per-site subject (only the minutes of the
    /// conferences it is part of), anyone else on the shared one.
    fn minutes_get(&self) -> String {
        match self.site() {
            Some(site) => subjects::minutes::site_command(&site, subjects::minutes::SITE_GET),
            None => subjects::minutes::GET.to_owned(),
        }
    }

    /// Reads the minutes (the first page of their attendance, and the first page of their published
    /// document: [`Api::minutes_document`] reads it whole).
    ///
    /// # Errors
    /// The service's error (404 before the draft opens, and for a site not part of the conference).
    pub async fn minutes(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.about(&self.minutes_get(), conference).await
    }

    /// Reads the published minutes with their whole HTML form (`html`, checked by the service
    /// against `html_sha256`, every page read and the whole checked here again) instead of the
    /// Markdown: [`Api::minutes_document`] of the HTML form.
    ///
    /// # Errors
    /// The service's error (409 before publication); `unavailable` if the pages do not make the
    /// document.
    pub async fn minutes_html(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.minutes_document(conference, hoinghi_shared::api::DocumentForm::Html).await
    }

    /// Reads the minutes with the whole published document in the form asked for: every page of it
    /// (the replies carry the document by pages, see [`hoinghi_shared::document`]), put together
    /// and checked against the SHA-256 every page carries. The reply is the first page's, with the
    /// whole document in place of its page (`markdown`, or `html`); minutes not published come as
    /// they are (no document). A small document takes one request.
    ///
    /// # Errors
    /// The service's error (404 before the draft opens, 409 for the HTML form before publication);
    /// `unavailable` if the pages do not make the document whose hash they carry.
    pub async fn minutes_document(
        &self,
        conference: ConferenceId,
        form: hoinghi_shared::api::DocumentForm,
    ) -> Result<MinutesView, ApiError> {
        let subject = self.minutes_get();
        hoinghi_shared::document::read_all(|offset| {
            let mut query = hoinghi_shared::api::GetMinutes::from(PageQuery::first(conference));
            query.form = Some(form).filter(|f| *f == hoinghi_shared::api::DocumentForm::Html);
            query.document_offset = offset;
            let subject = subject.clone();
            async move { self.request(&subject, &query).await }
        })
        .await
    }

    /// Reads the minutes as `query` asks for them: one page of their attendance and, once
    /// published, one page of their document (`document_offset`, `document_limit`).
    ///
    /// # Errors
    /// The service's error (404 before the draft opens, 400 for a page that is not one).
    pub async fn minutes_query(&self, query: &hoinghi_shared::api::GetMinutes) -> Result<MinutesView, ApiError> {
        self.request(&self.minutes_get(), query).await
    }

    /// Reads the minutes with one page of their attendance.
    ///
    /// # Errors
    /// The service's error (404 before the draft opens).
    pub async fn minutes_page(&self, query: &PageQuery) -> Result<MinutesView, ApiError> {
        self.request(&self.minutes_get(), query).await
    }

    /// A site acknowledges the published minutes.
    ///
    /// # Errors
    /// The service's error.
    pub async fn acknowledge(&self, site: &SiteId, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.about(&subjects::minutes::site_command(site, subjects::minutes::ACKNOWLEDGE), conference).await
    }

    // ------------------------------------------------------------ conclusions notice, receipts, exports

    /// The secretariat issues the conclusions notice of published minutes.
    ///
    /// # Errors
    /// The service's error (409 before publication or for a second number, 400 for a bad number).
    pub async fn issue_notice(
        &self,
        request: &hoinghi_shared::api::IssueNotice,
    ) -> Result<hoinghi_shared::api::NoticeView, ApiError> {
        self.request(subjects::minutes::NOTICES_ISSUE, request).await
    }

    /// Reads a conference's conclusions notice (before it is issued: its deadline).
    ///
    /// # Errors
    /// The service's error (404 before the draft opens).
    pub async fn notice(&self, conference: ConferenceId) -> Result<hoinghi_shared::api::NoticeView, ApiError> {
        self.about(subjects::minutes::NOTICES_GET, conference).await
    }

    /// A site reads its own copy of the conclusions notice, with its receipt.
    ///
    /// # Errors
    /// The service's error (403 for a site not invited).
    pub async fn site_notice(
        &self,
        site: &SiteId,
        conference: ConferenceId,
    ) -> Result<hoinghi_shared::api::NoticeView, ApiError> {
        self.about(&subjects::minutes::site_command(site, subjects::minutes::NOTICE_GET), conference).await
    }

    /// A site acknowledges receipt of the conclusions notice.
    ///
    /// # Errors
    /// The service's error (403 for a site not invited, 409 before the notice is issued).
    pub async fn acknowledge_notice(
        &self,
        site: &SiteId,
        conference: ConferenceId,
    ) -> Result<hoinghi_shared::api::NoticeView, ApiError> {
        self.about(&subjects::minutes::site_command(site, subjects::minutes::NOTICE_ACKNOWLEDGE), conference).await
    }

    /// The notices not issued by their deadline (as of today in Vietnam, or `as_of`).
    ///
    /// # Errors
    /// The service's error.
    pub async fn overdue_notices(
        &self,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<hoinghi_shared::api::OverdueNotices, ApiError> {
        self.request(subjects::minutes::NOTICES_OVERDUE, &hoinghi_shared::api::OverdueQuery { as_of }).await
    }

    /// The sites that have not acknowledged the minutes or the notice (one page).
    ///
    /// # Errors
    /// The service's error (404 before the draft opens).
    pub async fn receipts(&self, query: &PageQuery) -> Result<hoinghi_shared::api::Receipts, ApiError> {
        self.request(subjects::minutes::RECEIPTS, query).await
    }

    /// The attendance record as a whole CSV or JSON file: every page of rows read in order
    /// ([`hoinghi_shared::export::read_all`], [`hoinghi_shared::api::MAX_PAGE`] rows a request) and
    /// put together (`rows` = `total_rows`, `content` the whole file).
    ///
    /// # Errors
    /// The service's error (404 before the draft opens); `unavailable` if the pages do not make
    /// the file.
    pub async fn export_attendance(
        &self,
        conference: ConferenceId,
        format: hoinghi_shared::api::ExportFormat,
    ) -> Result<hoinghi_shared::api::AttendanceExport, ApiError> {
        hoinghi_shared::export::read_all(|offset| {
            let request = hoinghi_shared::api::ExportAttendance {
                offset,
                limit: hoinghi_shared::api::MAX_PAGE,
                ..hoinghi_shared::api::ExportAttendance::first(conference, format)
            };
            async move { self.export_attendance_page(&request).await }
        })
        .await
    }

    /// One page of rows of the attendance export, as `query` asks for it.
    ///
    /// # Errors
    /// The service's error (404 before the draft opens, 400 for a limit outside 1 to `MAX_PAGE`).
    pub async fn export_attendance_page(
        &self,
        query: &hoinghi_shared::api::ExportAttendance,
    ) -> Result<hoinghi_shared::api::AttendanceExport, ApiError> {
        self.request(subjects::minutes::ATTENDANCE_EXPORT, query).await
    }

    // ------------------------------------------------------------ tasks of the published minutes

    /// A site reports progress on, or the completion of, one of its tasks.
    ///
    /// # Errors
    /// The service's error (403 for another site's task, 404 for an unknown one, 409 before
    /// publication or after acceptance).
    pub async fn report_task(
        &self,
        site: &SiteId,
        report: &hoinghi_shared::api::ReportTask,
    ) -> Result<hoinghi_shared::api::TaskView, ApiError> {
        self.request(&subjects::minutes::site_command(site, subjects::minutes::SITE_TASKS_REPORT), report).await
    }

    /// The secretariat accepts or returns a task reported done.
    ///
    /// # Errors
    /// The service's error (409 for a task not reported done).
    pub async fn review_task(
        &self,
        review: &hoinghi_shared::api::ReviewTask,
    ) -> Result<hoinghi_shared::api::TaskView, ApiError> {
        self.request(subjects::minutes::TASKS_REVIEW, review).await
    }

    /// The secretariat accepts a task reported done.
    ///
    /// # Errors
    /// The service's error.
    pub async fn accept_task(
        &self,
        conference: ConferenceId,
        task: hoinghi_shared::ids::TaskId,
        comment: &str,
    ) -> Result<hoinghi_shared::api::TaskView, ApiError> {
        let decision = hoinghi_shared::api::TaskDecision::Accept;
        let review = hoinghi_shared::api::ReviewTask {
            conference_id: conference,
            task_id: task,
            decision,
            comment: comment.to_owned(),
        };
        self.review_task(&review).await
    }

    /// The secretariat returns a task reported done, saying what is missing.
    ///
    /// # Errors
    /// The service's error.
    pub async fn return_task(
        &self,
        conference: ConferenceId,
        task: hoinghi_shared::ids::TaskId,
        comment: &str,
    ) -> Result<hoinghi_shared::api::TaskView, ApiError> {
        let decision = hoinghi_shared::api::TaskDecision::Return;
        let review = hoinghi_shared::api::ReviewTask {
            conference_id: conference,
            task_id: task,
            decision,
            comment: comment.to_owned(),
        };
        self.review_task(&review).await
    }

    /// One page of the tasks of published minutes (the secretariat, the minute-taker, the chairs).
    ///
    /// # Errors
    /// The service's error.
    pub async fn tasks(
        &self,
        query: &hoinghi_shared::api::ListTasks,
    ) -> Result<hoinghi_shared::api::TaskList, ApiError> {
        self.request(subjects::minutes::TASKS_LIST, query).await
    }

    /// One page of a site's own tasks (`query.site`, if given, must be `site`).
    ///
    /// # Errors
    /// The service's error.
    pub async fn site_tasks(
        &self,
        site: &SiteId,
        query: &hoinghi_shared::api::ListTasks,
    ) -> Result<hoinghi_shared::api::TaskList, ApiError> {
        self.request(&subjects::minutes::site_command(site, subjects::minutes::SITE_TASKS_LIST), query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_the_identity_its_inbox_and_the_servers() {
        let settings = Settings::new("nats://127.0.0.1:4222, nats://127.0.0.1:4223");
        assert_eq!(settings.servers().unwrap().len(), 2);
        assert_eq!(settings.identity(), None);
        assert_eq!(settings.inbox_prefix(), "_INBOX");
        let site = settings.as_identity("site-ba-be", PathBuf::from("/x/site-ba-be.creds"));
        assert_eq!(site.identity().as_deref(), Some("site-ba-be"));
        assert_eq!(site.inbox_prefix(), "_INBOX.site-ba-be");
        // Without --identity, the identity is the name in the credentials file's JWT (not its file name).
        let dir = std::env::temp_dir().join(format!("hoinghi-client-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("any-name.creds");
        let account = nkeys::KeyPair::new_account();
        let user = nkeys::KeyPair::new_user();
        let jwt = hoinghi_credentials::jwt::user_jwt(&account, &user.public_key(), "person-lan", None).unwrap();
        std::fs::write(&path, hoinghi_credentials::jwt::creds_text(&jwt, &user.seed().unwrap())).unwrap();
        let by_file = Settings { creds: Some(path), ..Settings::new("nats://h:1") };
        assert_eq!(by_file.inbox_prefix(), "_INBOX.person-lan");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(Settings::new(" , ").servers().is_err());
        assert!(Settings::new("nats://127.0.0.1:notaport").servers().unwrap_err().to_string().contains("notaport"));
    }
}
