//! The NATS side of the CLI: connect, send a request with a timeout, a W3C `traceparent` and an
//! optional idempotency key, and turn error replies into readable errors.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::{HeaderMap, Message, RequestErrorKind};
use bytes::Bytes;
use hoinghi_shared::error::ErrorBody;
use hoinghi_shared::headers::{IDEMPOTENCY_KEY, SERVICE_ERROR, SERVICE_ERROR_CODE, TRACEPARENT};
use hoinghi_shared::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Settings {
    /// NATS server URL(s), comma separated.
    pub url: String,
    /// A NATS credentials file, if any.
    pub creds: Option<PathBuf>,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// Sent as `Hoinghi-Idempotency-Key` on every command of this invocation.
    pub idempotency_key: Option<String>,
    /// The identity to act as (inbox prefix `_INBOX.<identity>`); none: the credentials file's name.
    pub identity: Option<String>,
    /// PEM CA of the server's certificate; any TLS file turns TLS on.
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate and key, for a server that verifies clients.
    pub tls_client: Option<(PathBuf, PathBuf)>,
}

impl Settings {
    /// The identity this connection acts as, if any (the `--identity`, else the credentials file's
    /// name).
    pub fn identity(&self) -> Option<String> {
        hoinghi::credentials::identity_of(self.identity.as_deref(), self.creds.as_deref())
    }

    /// The same settings acting as another identity, with its credentials file.
    pub fn as_identity(&self, identity: &str, creds: PathBuf) -> Self {
        Self { creds: Some(creds), identity: Some(identity.to_owned()), ..self.clone() }
    }
}

/// An error reply from a service, or the lack of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The service answered with an error.
    Api {
        /// The subject asked.
        subject: String,
        /// The status from `Nats-Service-Error-Code`.
        status: u16,
        /// The stable code, when the status is one of the contract's.
        code: Option<ErrorCode>,
        /// The message for a person.
        message: String,
    },
    /// Nobody listens on the subject.
    NoResponders {
        /// The subject asked.
        subject: String,
    },
    /// The NATS server refused to let this identity publish the request (or read its reply).
    PermissionDenied {
        /// The identity connected (`anonymous` without one).
        identity: String,
        /// `publish to` or `subscribe to`.
        action: &'static str,
        /// The subject refused.
        subject: String,
    },
    /// Nobody answered in time.
    TimedOut {
        /// The subject asked.
        subject: String,
        /// How long we waited.
        after: Duration,
    },
}

impl CallError {
    /// The contract's error code, if the service answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// True for a 404 reply.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(ErrorCode::NotFound)
    }

    /// True when trying again later may help (503, no responders, timeout).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { code, .. } => *code == Some(ErrorCode::Unavailable),
            Self::NoResponders { .. } | Self::TimedOut { .. } => true,
            Self::PermissionDenied { .. } => false,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api { subject, status, code, message } => {
                let code = code.map_or("error", ErrorCode::as_str);
                write!(f, "{code} ({status}): {message}  [{subject}]")
            }
            Self::NoResponders { subject } => write!(
                f,
                "no service listens on {subject}: is {} running? (deploy/up.sh starts the stack)",
                service_of(subject)
            ),
            Self::PermissionDenied { identity, action, subject } => {
                write!(f, "permission denied: identity {identity} may not {action} {subject}")?;
                if *action == "subscribe to" {
                    write!(f, " (its replies must come under _INBOX.{identity}: check --identity and --creds)")?;
                }
                Ok(())
            }
            Self::TimedOut { subject, after } => write!(
                f,
                "no reply on {subject} within {:.1}s: {} may be overloaded or stuck (try --timeout)",
                after.as_secs_f64(),
                service_of(subject)
            ),
        }
    }
}

impl std::error::Error for CallError {}

/// The service that answers a subject, for error messages.
pub fn service_of(subject: &str) -> String {
    let mut tokens = subject.split('.');
    match (tokens.next(), tokens.next(), tokens.next()) {
        (Some("hoinghi"), Some("v1"), Some(service)) => format!("hoinghi-{service}"),
        (Some("$SRV"), Some(_), Some(name)) => name.to_owned(),
        _ => "the service".to_owned(),
    }
}

/// A connected client.
#[derive(Clone)]
pub struct Client {
    nats: async_nats::Client,
    settings: Settings,
    trace_id: String,
    /// The permission violations the server reports on this connection.
    violations: tokio::sync::broadcast::Sender<String>,
    /// `anonymous`, or the identity.
    identity: String,
    inbox_prefix: String,
}

/// A refusal the server reported: what was refused and on which subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `publish to` or `subscribe to`.
    pub action: &'static str,
    /// The subject.
    pub subject: String,
}

/// Reads `Permissions Violation for Publish to "x"` / `… for Subscription to "x" [using queue …]`.
pub fn parse_violation(message: &str) -> Option<Violation> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("permissions violation for ")?;
    let rest = &message[at + "permissions violation for ".len()..];
    let action = if rest.to_ascii_lowercase().starts_with("publish") {
        "publish to"
    } else if rest.to_ascii_lowercase().starts_with("subscription") {
        "subscribe to"
    } else {
        return None;
    };
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(Violation { action, subject: rest[start..end].to_owned() })
}

impl Client {
    /// Connects, failing fast when no server answers.
    ///
    /// # Errors
    /// No server at the URL, or an unreadable credentials file.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let (violations, _) = tokio::sync::broadcast::channel::<String>(64);
        let sender = violations.clone();
        let identity = settings.identity();
        let inbox_prefix = hoinghi::credentials::inbox_prefix(identity.as_deref());
        let mut options = async_nats::ConnectOptions::new()
            .name("hoinghi-cli")
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(settings.timeout))
            .custom_inbox_prefix(&inbox_prefix)
            .event_callback(move |event| {
                let sender = sender.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let text = e.to_string();
                        if parse_violation(&text).is_some() {
                            let _ = sender.send(text);
                        }
                    }
                }
            });
        if let Some(path) = &settings.creds {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the NATS credentials file {}", path.display()))?;
            options = match hoinghi::credentials::parse_credentials(&text) {
                Some(hoinghi::credentials::Credentials::Jwt(text)) => options
                    .credentials(&text)
                    .with_context(|| format!("cannot read the NATS credentials file {}", path.display()))?,
                Some(hoinghi::credentials::Credentials::Seed(seed)) => options.nkey(seed),
                None => anyhow::bail!(
                    "{} holds neither a NATS user JWT nor a user nkey seed (see `hoinghi admin credentials`)",
                    path.display()
                ),
            };
        }
        if settings.tls_ca.is_some() || settings.tls_client.is_some() {
            options = options.require_tls(true);
            if let Some(ca) = &settings.tls_ca {
                options = options.add_root_certificates(ca.clone());
            }
            if let Some((cert, key)) = &settings.tls_client {
                options = options.add_client_certificate(cert.clone(), key.clone());
            }
        }
        let who = identity.clone().unwrap_or_else(|| "anonymous".to_owned());
        let nats = options.connect(settings.url.as_str()).await.with_context(|| {
            format!(
                "cannot connect to NATS at {} as {who} (set --nats-url or HOINGHI__NATS__URL, and --creds for a \
                 server with authentication; deploy/up.sh starts a local stack)",
                settings.url
            )
        })?;
        Ok(Self { nats, settings, trace_id: random_hex(16), violations, identity: who, inbox_prefix })
    }

    /// The identity this client acts as (`anonymous` without one).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The underlying NATS client.
    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    /// The W3C trace id every request of this invocation carries.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// Sends `body` to `subject` with the invocation's idempotency key (if any) and decodes the reply.
    ///
    /// # Errors
    /// A [`CallError`] (error reply, no responders, timeout) or an undecodable reply.
    pub async fn call<Req, Resp>(&self, subject: &str, body: &Req) -> anyhow::Result<Resp>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let key = self.settings.idempotency_key.clone();
        self.call_with_key(subject, body, key.as_deref()).await
    }

    /// Like [`Client::call`] with an explicit idempotency key (or none).
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn call_with_key<Req, Resp>(&self, subject: &str, body: &Req, key: Option<&str>) -> anyhow::Result<Resp>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let payload = serde_json::to_vec(body).context("cannot encode the request")?;
        let reply = self.request_raw(subject, Bytes::from(payload), key).await?;
        decode_reply(subject, &reply)
    }

    /// Sends a raw request and checks the reply for an error; returns the reply body.
    ///
    /// # Errors
    /// A [`CallError`] or a transport error.
    pub async fn request_raw(&self, subject: &str, payload: Bytes, key: Option<&str>) -> anyhow::Result<Message> {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, self.traceparent().as_str());
        if let Some(key) = key {
            headers.insert(IDEMPOTENCY_KEY, key);
        }
        let request = async_nats::Request::new().headers(headers).payload(payload).timeout(Some(self.settings.timeout));
        // A refused publish is dropped by the server, which reports it only on the connection: watch
        // for that report while waiting, so the caller learns at once instead of after the timeout.
        let mut violations = self.violations.subscribe();
        let sent = self.nats.send_request(subject.to_owned(), request);
        tokio::pin!(sent);
        let outcome = loop {
            tokio::select! {
                outcome = &mut sent => break outcome,
                report = violations.recv() => match report {
                    Ok(text) => {
                        if let Some(refused) = self.concerns(subject, &text) {
                            return Err(refused.into());
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break (&mut sent).await,
                },
            }
        };
        match outcome {
            Ok(message) => {
                check_reply(subject, &message)?;
                Ok(message)
            }
            Err(e) => match e.kind() {
                RequestErrorKind::NoResponders => Err(CallError::NoResponders { subject: subject.to_owned() }.into()),
                RequestErrorKind::TimedOut => {
                    Err(CallError::TimedOut { subject: subject.to_owned(), after: self.settings.timeout }.into())
                }
                _ => Err(anyhow::Error::new(e).context(format!("request on {subject} failed"))),
            },
        }
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

    /// A `traceparent` for one request: this invocation's trace, a new span.
    fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, random_hex(8))
    }
}

/// Turns an error reply into a [`CallError`].
///
/// # Errors
/// The reply carries `Nats-Service-Error-Code`.
pub fn check_reply(subject: &str, message: &Message) -> Result<(), CallError> {
    let Some(headers) = message.headers.as_ref() else {
        return Ok(());
    };
    let Some(status) = headers.get(SERVICE_ERROR_CODE) else {
        return Ok(());
    };
    let status: u16 = status.as_str().trim().parse().unwrap_or(500);
    let body: Option<ErrorBody> = serde_json::from_slice(&message.payload).ok();
    let (code, message) = match body {
        Some(body) => (Some(body.error.code), body.error.message),
        None => (
            ErrorCode::from_status(status),
            headers.get(SERVICE_ERROR).map(|v| v.as_str().to_owned()).unwrap_or_default(),
        ),
    };
    Err(CallError::Api { subject: subject.to_owned(), status, code, message })
}

fn decode_reply<T: DeserializeOwned>(subject: &str, message: &Message) -> anyhow::Result<T> {
    serde_json::from_slice(&message.payload).with_context(|| {
        let text = String::from_utf8_lossy(&message.payload);
        let shown: String = text.chars().take(300).collect();
        format!("unexpected reply on {subject}: {shown}")
    })
}

/// `bytes` random bytes as lowercase hex (UUID v4 is 122 bits from the OS generator).
pub fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2 + 32);
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(bytes * 2);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_their_service() {
        assert_eq!(service_of("hoinghi.v1.attendance.sites.ba-be.confirm"), "hoinghi-attendance");
        assert_eq!(service_of("$SRV.PING.hoinghi-minutes"), "hoinghi-minutes");
    }

    #[test]
    fn an_error_reply_becomes_a_readable_error() {
        let mut headers = HeaderMap::new();
        headers.insert(SERVICE_ERROR_CODE, "409");
        headers.insert(SERVICE_ERROR, "issue the invitations first");
        let message = Message {
            subject: "_INBOX.x".into(),
            reply: None,
            payload: Bytes::from_static(br#"{"error":{"code":"conflict","message":"issue the invitations first"}}"#),
            headers: Some(headers),
            status: None,
            description: None,
            length: 0,
        };
        let err = check_reply("hoinghi.v1.scheduling.conferences.start", &message).unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Conflict));
        assert_eq!(
            err.to_string(),
            "conflict (409): issue the invitations first  [hoinghi.v1.scheduling.conferences.start]"
        );
    }

    #[test]
    fn a_permission_violation_is_read_from_the_server_error() {
        let v = parse_violation("Permissions Violation for Publish to \"hoinghi.v1.minutes.approve\"").unwrap();
        assert_eq!(v, Violation { action: "publish to", subject: "hoinghi.v1.minutes.approve".into() });
        let v = parse_violation("nats: Permissions Violation for Subscription to \"_INBOX.x.>\" using queue \"q\"")
            .unwrap();
        assert_eq!(v, Violation { action: "subscribe to", subject: "_INBOX.x.>".into() });
        assert_eq!(parse_violation("authorization violation"), None);
        let denied = CallError::PermissionDenied {
            identity: "site-ba-be".into(),
            action: "publish to",
            subject: "hoinghi.v1.minutes.approve".into(),
        };
        assert_eq!(
            denied.to_string(),
            "permission denied: identity site-ba-be may not publish to hoinghi.v1.minutes.approve"
        );
        assert!(!denied.is_transient());
    }

    #[test]
    fn a_traceparent_is_well_formed() {
        let hex = random_hex(16);
        assert_eq!(hex.len(), 32);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
