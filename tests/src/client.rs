//! The typed client of the public API, and a polling helper for asynchronous effects.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::bail;
use async_nats::HeaderMap;
use bytes::Bytes;
use hoinghi_shared::api::{
    ApproveMinutes, CancelConference, ConferenceRef, ConferenceView, ConfirmAttendance, CreateConference,
    DeclineAttendance, MinutesView, RecordItem, RegisterSite, Roster, SiteAttendance, SiteView,
};
use hoinghi_shared::error::ErrorBody;
use hoinghi_shared::headers::{IDEMPOTENCY_KEY, SERVICE_ERROR, SERVICE_ERROR_CODE};
use hoinghi_shared::subjects;
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode, SiteId};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::service::Service;

/// How long one request waits for its reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A reply as it came off the wire.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// `Nats-Service-Error-Code`, parsed, if present (an error reply).
    pub status: Option<u16>,
    /// `Nats-Service-Error`, if present.
    pub error_header: Option<String>,
    /// All headers.
    pub headers: Option<HeaderMap>,
    /// The body.
    pub payload: Bytes,
}

impl RawReply {
    /// Whether this is an error reply (it carries `Nats-Service-Error-Code`).
    pub fn is_error(&self) -> bool {
        self.headers.as_ref().and_then(|h| h.get(SERVICE_ERROR_CODE)).is_some()
    }

    /// The error, if this is an error reply: the body's `error`, or (if the body does not parse) one
    /// made from the headers.
    pub fn api_error(&self) -> Option<ApiError> {
        if !self.is_error() {
            return None;
        }
        if let Ok(body) = serde_json::from_slice::<ErrorBody>(&self.payload) {
            return Some(body.error);
        }
        let message = format!(
            "(error body did not parse: {:?}) {}",
            String::from_utf8_lossy(&self.payload),
            self.error_header.clone().unwrap_or_default()
        );
        Some(match self.status.and_then(ErrorCode::from_status) {
            Some(code) => ApiError::new(code, message),
            None => ApiError::unavailable(format!("unexpected status {:?}: {message}", self.status)),
        })
    }

    /// The body decoded as `R`, or the error.
    ///
    /// # Errors
    /// An error reply, or a success body that is not an `R` (reported as `unavailable`, with the body).
    pub fn json<R: DeserializeOwned>(&self) -> Result<R, ApiError> {
        if let Some(e) = self.api_error() {
            return Err(e);
        }
        serde_json::from_slice(&self.payload).map_err(|e| {
            ApiError::unavailable(format!(
                "test client: the reply does not decode as {}: {e}; body: {}",
                std::any::type_name::<R>(),
                String::from_utf8_lossy(&self.payload)
            ))
        })
    }
}

/// Headers carrying an idempotency key.
pub fn idempotency_headers(key: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(IDEMPOTENCY_KEY, key);
    headers
}

/// A client of the public API.
#[derive(Debug, Clone)]
pub struct Api {
    client: async_nats::Client,
}

impl Api {
    /// Connects to `url`.
    ///
    /// # Errors
    /// The server is not reachable.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .request_timeout(Some(REQUEST_TIMEOUT))
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(Self { client })
    }

    /// Wraps an existing connection.
    pub fn from_client(client: async_nats::Client) -> Self {
        Self { client }
    }

    /// The underlying NATS client.
    pub fn nats(&self) -> &async_nats::Client {
        &self.client
    }

    /// Sends raw bytes with optional headers and returns the reply as it came.
    ///
    /// # Errors
    /// Transport failures (no responders, timeout) as `unavailable`.
    pub async fn raw(
        &self,
        subject: &str,
        payload: impl Into<Bytes>,
        headers: Option<HeaderMap>,
    ) -> Result<RawReply, ApiError> {
        let payload = payload.into();
        let sent = match headers {
            Some(h) => self.client.request_with_headers(subject.to_owned(), h, payload).await,
            None => self.client.request(subject.to_owned(), payload).await,
        };
        let message = sent.map_err(|e| ApiError::unavailable(format!("test client: request to {subject}: {e}")))?;
        let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_owned());
        Ok(RawReply {
            status: header(SERVICE_ERROR_CODE).and_then(|s| s.trim().parse().ok()),
            error_header: header(SERVICE_ERROR),
            headers: message.headers.clone(),
            payload: message.payload,
        })
    }

    /// Sends `body` as JSON and decodes the reply.
    ///
    /// # Errors
    /// The error reply, or a transport failure as `unavailable`.
    pub async fn request<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        subject: &str,
        body: &T,
    ) -> Result<R, ApiError> {
        self.raw(subject, encode(body)?, None).await?.json()
    }

    /// Like [`Self::request`], with a `Hoinghi-Idempotency-Key`.
    ///
    /// # Errors
    /// The error reply, or a transport failure as `unavailable`.
    pub async fn request_with_key<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        subject: &str,
        body: &T,
        key: &str,
    ) -> Result<R, ApiError> {
        self.raw(subject, encode(body)?, Some(idempotency_headers(key))).await?.json()
    }

    /// `$SRV.PING.<name>`.
    ///
    /// # Errors
    /// No answer, or not JSON.
    pub async fn ping(&self, service: Service) -> anyhow::Result<serde_json::Value> {
        self.discovery("PING", service).await
    }

    /// `$SRV.INFO.<name>`.
    ///
    /// # Errors
    /// No answer, or not JSON.
    pub async fn info(&self, service: Service) -> anyhow::Result<serde_json::Value> {
        self.discovery("INFO", service).await
    }

    async fn discovery(&self, verb: &str, service: Service) -> anyhow::Result<serde_json::Value> {
        let message = self.client.request(format!("$SRV.{verb}.{}", service.name()), Bytes::new()).await?;
        Ok(serde_json::from_slice(&message.payload)?)
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
        self.request(subjects::scheduling::INVITE, &ConferenceRef { conference_id: conference }).await
    }

    /// Opens the session.
    ///
    /// # Errors
    /// The service's error.
    pub async fn start(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        self.request(subjects::scheduling::START, &ConferenceRef { conference_id: conference }).await
    }

    /// Closes the session.
    ///
    /// # Errors
    /// The service's error.
    pub async fn end(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        self.request(subjects::scheduling::END, &ConferenceRef { conference_id: conference }).await
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

    /// Reads a conference.
    ///
    /// # Errors
    /// The service's error.
    pub async fn conference(&self, conference: ConferenceId) -> Result<ConferenceView, ApiError> {
        self.request(subjects::scheduling::GET, &ConferenceRef { conference_id: conference }).await
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

    /// A site checks in.
    ///
    /// # Errors
    /// The service's error.
    pub async fn check_in(&self, site: &SiteId, conference: ConferenceId) -> Result<SiteAttendance, ApiError> {
        self.request(
            &subjects::attendance::site_command(site, subjects::attendance::CHECK_IN),
            &ConferenceRef { conference_id: conference },
        )
        .await
    }

    /// The roster.
    ///
    /// # Errors
    /// The service's error (404 before it opens).
    pub async fn roster(&self, conference: ConferenceId) -> Result<Roster, ApiError> {
        self.request(subjects::attendance::ROSTER, &ConferenceRef { conference_id: conference }).await
    }

    // ------------------------------------------------------------ minutes

    /// Records an agenda item.
    ///
    /// # Errors
    /// The service's error.
    pub async fn record(&self, item: &RecordItem) -> Result<MinutesView, ApiError> {
        self.request(subjects::minutes::RECORD, item).await
    }

    /// Submits the draft.
    ///
    /// # Errors
    /// The service's error.
    pub async fn submit(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.request(subjects::minutes::SUBMIT, &ConferenceRef { conference_id: conference }).await
    }

    /// A chair approves.
    ///
    /// # Errors
    /// The service's error.
    pub async fn approve(&self, conference: ConferenceId, by: &str) -> Result<MinutesView, ApiError> {
        self.request(
            subjects::minutes::APPROVE,
            &ApproveMinutes { conference_id: conference, approved_by: by.to_owned() },
        )
        .await
    }

    /// Publishes.
    ///
    /// # Errors
    /// The service's error.
    pub async fn publish(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.request(subjects::minutes::PUBLISH, &ConferenceRef { conference_id: conference }).await
    }

    /// Reads the minutes.
    ///
    /// # Errors
    /// The service's error (404 before the draft opens).
    pub async fn minutes(&self, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.request(subjects::minutes::GET, &ConferenceRef { conference_id: conference }).await
    }

    /// A site acknowledges the published minutes.
    ///
    /// # Errors
    /// The service's error.
    pub async fn acknowledge(&self, site: &SiteId, conference: ConferenceId) -> Result<MinutesView, ApiError> {
        self.request(
            &subjects::minutes::site_command(site, subjects::minutes::ACKNOWLEDGE),
            &ConferenceRef { conference_id: conference },
        )
        .await
    }
}

fn encode<T: Serialize + ?Sized>(body: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|e| ApiError::invalid(format!("test client: cannot encode the request: {e}")))
}

/// Calls `attempt` until it returns `Ok`, backing off from 20 ms to 200 ms, for at most `timeout`;
/// the error names the last failure.
///
/// ```no_run
/// # async fn f(api: hoinghi_tests::Api, id: hoinghi_shared::ConferenceId) -> anyhow::Result<()> {
/// let roster = hoinghi_tests::eventually(hoinghi_tests::ASYNC_TIMEOUT, || api.roster(id)).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// Still failing after `timeout`.
pub async fn eventually<T, E, F, Fut>(timeout: Duration, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Debug,
{
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(20);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if Instant::now() >= deadline => {
                bail!("not within {timeout:?}; last attempt: {e:?}")
            }
            Err(_) => {}
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(200));
    }
}
