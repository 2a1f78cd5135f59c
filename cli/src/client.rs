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
}

impl Client {
    /// Connects, failing fast when no server answers.
    ///
    /// # Errors
    /// No server at the URL, or an unreadable credentials file.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let mut options = async_nats::ConnectOptions::new()
            .name("hoinghi-cli")
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(settings.timeout));
        if let Some(path) = &settings.creds {
            options = options
                .credentials_file(path)
                .await
                .with_context(|| format!("cannot read the NATS credentials file {}", path.display()))?;
        }
        let nats = options.connect(settings.url.as_str()).await.with_context(|| {
            format!(
                "cannot connect to NATS at {} (set --nats-url or HOINGHI__NATS__URL; deploy/up.sh starts a local stack)",
                settings.url
            )
        })?;
        Ok(Self { nats, settings, trace_id: random_hex(16) })
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
        match self.nats.send_request(subject.to_owned(), request).await {
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
    fn a_traceparent_is_well_formed() {
        let hex = random_hex(16);
        assert_eq!(hex.len(), 32);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
