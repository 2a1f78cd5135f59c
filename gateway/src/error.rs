//! The gateway's error replies: the contract's error body `{"error":{"code","message"}}` with the
//! status of its code, exactly as the NATS reply carries it, plus two codes only HTTP has:
//! `unauthorized` (401: no token, or an unknown one) and `rate_limited` (429, with `Retry-After`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hoinghi_shared::{ApiError, ErrorCode};

/// Every code an error body may carry: the contract's, then the gateway's own.
pub const CODES: [&str; 8] =
    ["invalid", "forbidden", "not_found", "conflict", "too_large", "unavailable", UNAUTHORIZED, RATE_LIMITED];

/// 401: no token, or one the deployment does not know.
pub const UNAUTHORIZED: &str = "unauthorized";
/// 429: too many requests from one identity.
pub const RATE_LIMITED: &str = "rate_limited";

/// An error reply.
#[derive(Debug, Clone)]
pub struct HttpError {
    /// The status.
    pub status: StatusCode,
    /// The code.
    pub code: &'static str,
    /// The message, for a person.
    pub message: String,
    /// Seconds to wait, for a 429.
    pub retry_after: Option<u64>,
}

impl HttpError {
    /// 401 with a message.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, code: UNAUTHORIZED, message: message.into(), retry_after: None }
    }

    /// 429, retry after `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: RATE_LIMITED,
            message: format!("too many requests from this identity: retry after {seconds} s"),
            retry_after: Some(seconds),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::json!({"error": {"code": self.code, "message": self.message}}).to_string()
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        Self { status, code: e.code.as_str(), message: e.message, retry_after: None }
    }
}

impl From<hoinghi_shared::document::DocumentError> for HttpError {
    /// Pages of a document that do not make it: the service's fault (`unavailable`).
    fn from(e: hoinghi_shared::document::DocumentError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/json")], self.body()).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The status of a code of the contract, as a known HTTP status.
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_codes_keep_their_status_and_body() {
        let e = HttpError::from(ApiError::conflict("issue the invitations first"));
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.body(), r#"{"error":{"code":"conflict","message":"issue the invitations first"}}"#);
        for code in [ErrorCode::Invalid, ErrorCode::Forbidden, ErrorCode::NotFound, ErrorCode::TooLarge] {
            assert!(CODES.contains(&code.as_str()));
            assert_eq!(status_of(code).as_u16(), code.status());
        }
        let limited = HttpError::rate_limited(2).into_response();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "2");
    }
}
