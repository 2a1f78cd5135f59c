//! Errors that cross the wire: a stable code, an HTTP-like status and a message for a person.
//!
//! An error reply carries the micro-service headers `Nats-Service-Error-Code` (the status) and
//! `Nats-Service-Error` (the message), and the body `{"error":{"code":"…","message":"…"}}`.

use serde::{Deserialize, Serialize};

/// How a caller should react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or breaks a rule about its content: fix it and send again (400).
    Invalid,
    /// The caller may not do this (403).
    Forbidden,
    /// The conference, site or minutes named do not exist (404).
    NotFound,
    /// Not allowed in the current state, or lost a race with another change (409).
    Conflict,
    /// The request, or the reply it would get, is larger than the subject or the server allows: send
    /// less, or ask for a smaller page (413).
    TooLarge,
    /// A dependency is down or overloaded: try again later (503).
    Unavailable,
}

impl ErrorCode {
    /// The numeric status sent in `Nats-Service-Error-Code`.
    pub fn status(self) -> u16 {
        match self {
            Self::Invalid => 400,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::TooLarge => 413,
            Self::Unavailable => 503,
        }
    }

    /// The code for a status, as read back from `Nats-Service-Error-Code`.
    pub fn from_status(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::Invalid,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            413 => Self::TooLarge,
            503 => Self::Unavailable,
            _ => return None,
        })
    }

    /// The stable string form (`invalid`, `forbidden`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::TooLarge => "too_large",
            Self::Unavailable => "unavailable",
        }
    }
}

/// An error as it travels in a reply body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{} ({}): {message}", code.as_str(), code.status())]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong and what to do about it, for a person.
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    /// A 400.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }
    /// A 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    /// A 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    /// A 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    /// A 413.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::TooLarge, message)
    }
    /// A 503.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }
}

/// The body of an error reply: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_has_the_documented_shape() {
        let body = ErrorBody { error: ApiError::not_found("no conference 1") };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json, serde_json::json!({"error":{"code":"not_found","message":"no conference 1"}}));
        for code in [
            ErrorCode::Invalid,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::TooLarge,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(ErrorCode::from_status(code.status()), Some(code));
        }
    }
}
