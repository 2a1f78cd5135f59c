//! A reply as it came off the wire, and what it says: success, or the error of the contract.

use async_nats::{HeaderMap, Message};
use bytes::Bytes;
use hoinghi_shared::error::ErrorBody;
use hoinghi_shared::headers::{IDEMPOTENCY_KEY, SERVICE_ERROR, SERVICE_ERROR_CODE};
use hoinghi_shared::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;

use crate::error::CallError;

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

impl From<Message> for RawReply {
    fn from(message: Message) -> Self {
        let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_owned());
        Self {
            status: header(SERVICE_ERROR_CODE).and_then(|s| s.trim().parse().ok()),
            error_header: header(SERVICE_ERROR),
            headers: message.headers,
            payload: message.payload,
        }
    }
}

impl RawReply {
    /// Whether this is an error reply (it carries `Nats-Service-Error-Code`).
    pub fn is_error(&self) -> bool {
        self.headers.as_ref().and_then(|h| h.get(SERVICE_ERROR_CODE)).is_some()
    }

    /// The status, code and message of an error reply: the body's `error`, or (if the body does not
    /// parse) the status header's code and the error header, with the body that did not parse.
    fn failure(&self) -> Option<(Option<u16>, Option<ErrorCode>, String)> {
        if !self.is_error() {
            return None;
        }
        if let Ok(body) = serde_json::from_slice::<ErrorBody>(&self.payload) {
            return Some((self.status, Some(body.error.code), body.error.message));
        }
        let message = format!(
            "(error body did not parse: {:?}) {}",
            String::from_utf8_lossy(&self.payload),
            self.error_header.clone().unwrap_or_default()
        );
        Some((self.status, self.status.and_then(ErrorCode::from_status), message))
    }

    /// The error, if this is an error reply: the body's `error`, or (if the body does not parse) one
    /// made from the headers.
    pub fn api_error(&self) -> Option<ApiError> {
        let (status, code, message) = self.failure()?;
        Some(match code {
            Some(code) => ApiError::new(code, message),
            None => ApiError::unavailable(format!("unexpected status {status:?}: {message}")),
        })
    }

    /// The error of a reply on `subject`, for a person, if this is an error reply.
    pub fn call_error(&self, subject: &str) -> Option<CallError> {
        let (status, code, message) = self.failure()?;
        Some(CallError::Api { subject: subject.to_owned(), status: status.unwrap_or(500), code, message })
    }

    /// The body decoded as `R`, or the error.
    ///
    /// # Errors
    /// An error reply, or a success body that is not an `R` (reported as `unavailable`, with the body).
    pub fn json<R: DeserializeOwned>(&self) -> Result<R, ApiError> {
        if let Some(e) = self.api_error() {
            return Err(e);
        }
        self.decode("the reply").map_err(ApiError::from)
    }

    /// The body decoded as `R`, whatever the headers say.
    ///
    /// # Errors
    /// [`CallError::BadReply`] naming `subject`, with the start of the body.
    pub fn decode<R: DeserializeOwned>(&self, subject: &str) -> Result<R, CallError> {
        serde_json::from_slice(&self.payload).map_err(|e| {
            let text = String::from_utf8_lossy(&self.payload);
            let shown: String = text.chars().take(300).collect();
            CallError::BadReply {
                subject: subject.to_owned(),
                message: format!("does not decode as {}: {e}; body: {shown}", std::any::type_name::<R>()),
            }
        })
    }
}

/// Headers carrying an idempotency key.
pub fn idempotency_headers(key: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(IDEMPOTENCY_KEY, key);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: &str, body: &'static [u8]) -> RawReply {
        let mut headers = HeaderMap::new();
        headers.insert(SERVICE_ERROR_CODE, status);
        headers.insert(SERVICE_ERROR, "issue the invitations first");
        RawReply::from(Message {
            subject: "_INBOX.x".into(),
            reply: None,
            payload: Bytes::from_static(body),
            headers: Some(headers),
            status: None,
            description: None,
            length: 0,
        })
    }

    #[test]
    fn an_error_reply_becomes_a_readable_error() {
        let r = reply("409", br#"{"error":{"code":"conflict","message":"issue the invitations first"}}"#);
        assert!(r.is_error());
        assert_eq!(r.status, Some(409));
        assert_eq!(r.api_error(), Some(ApiError::conflict("issue the invitations first")));
        let err = r.call_error("hoinghi.v1.scheduling.conferences.start").unwrap();
        assert_eq!(err.code(), Some(ErrorCode::Conflict));
        assert_eq!(
            err.to_string(),
            "conflict (409): issue the invitations first  [hoinghi.v1.scheduling.conferences.start]"
        );
        assert_eq!(r.json::<serde_json::Value>().unwrap_err().code, ErrorCode::Conflict);
    }

    #[test]
    fn an_error_body_that_does_not_parse_is_read_from_the_headers() {
        let r = reply("404", b"nope");
        let e = r.api_error().unwrap();
        assert_eq!(e.code, ErrorCode::NotFound);
        assert!(e.message.contains("nope") && e.message.contains("issue the invitations first"));
        let e = reply("599", b"nope").api_error().unwrap();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.message.contains("599"));
    }

    #[test]
    fn a_success_that_does_not_decode_names_the_type_and_the_body() {
        let ok = RawReply { status: None, error_header: None, headers: None, payload: Bytes::from_static(b"[1]") };
        assert_eq!(ok.api_error(), None);
        let e = ok.json::<hoinghi_shared::api::SiteView>().unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.message.contains("SiteView") && e.message.contains("[1]"), "{e}");
    }
}
