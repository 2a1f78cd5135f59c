//! Errors that cross the wire: a stable code, an HTTP-like status and a message for a person.
//!
//! An error reply carries the micro-service headers `Nats-Service-Error-Code` (the status) and
//! `Nats-Service-Error` (the message), and the body `{"error":{"code":"…","message":"…"}}`.

use serde::{Deserialize, Serialize};

/// How a caller should react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Every code.
    pub const ALL: [Self; 6] =
        [Self::Invalid, Self::Forbidden, Self::NotFound, Self::Conflict, Self::TooLarge, Self::Unavailable];

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
        Self::ALL.into_iter().find(|code| code.status() == status)
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{} ({}): {message}", code.as_str(), code.status())]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong and what to do about it, for a person.
    pub message: String,
}

/// One constructor of [`ApiError`] for each code: `name(message)`.
macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(message: impl Into<String>) -> Self {
            Self::new(ErrorCode::$code, message)
        }
    )*};
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    constructors! {
        /// A 400.
        invalid => Invalid;
        /// A 403.
        forbidden => Forbidden;
        /// A 404.
        not_found => NotFound;
        /// A 409.
        conflict => Conflict;
        /// A 413.
        too_large => TooLarge;
        /// A 503.
        unavailable => Unavailable;
    }
}

/// The body of an error reply: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_status(code.status()), Some(code));
        }
    }
}
