//! What can go wrong with a call, classified for people ([`CallError`]'s messages) and for code
//! ([`ApiError`], the contract's error, which every [`crate::Api`] method returns).

use std::fmt;
use std::time::Duration;

use hoinghi_shared::{ApiError, ErrorCode};

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
    /// The request could not be sent (e.g. the connection is closed).
    Transport {
        /// The subject asked.
        subject: String,
        /// What the NATS client said.
        message: String,
    },
    /// The request body could not be encoded.
    Encode {
        /// The subject asked.
        subject: String,
        /// Why.
        message: String,
    },
    /// A success reply whose body is not what the subject answers.
    BadReply {
        /// The subject asked.
        subject: String,
        /// What did not decode, with the start of the body.
        message: String,
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
            Self::PermissionDenied { .. } | Self::Transport { .. } | Self::Encode { .. } | Self::BadReply { .. } => {
                false
            }
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
                "no responders on {subject}: is {} running? (deploy/up.sh starts the stack)",
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
                "no reply on {subject} within {:.1}s: {} may be overloaded or stuck (try a longer --timeout)",
                after.as_secs_f64(),
                service_of(subject)
            ),
            Self::Transport { subject, message } => write!(f, "request on {subject} failed: {message}"),
            Self::Encode { subject, message } => write!(f, "cannot encode the request on {subject}: {message}"),
            Self::BadReply { subject, message } => write!(f, "unexpected reply on {subject}: {message}"),
        }
    }
}

impl std::error::Error for CallError {}

impl From<CallError> for ApiError {
    /// The service's own error as it was; a failure of the request itself as `unavailable` (the
    /// command may be retried with its idempotency key), except a refusal by the server's
    /// permissions (`forbidden`) and a body that could not be encoded (`invalid`); the message is
    /// [`CallError`]'s.
    fn from(e: CallError) -> Self {
        match e {
            CallError::Api { code: Some(code), message, .. } => ApiError::new(code, message),
            CallError::Api { code: None, status, message, .. } => {
                ApiError::unavailable(format!("unexpected status {status}: {message}"))
            }
            CallError::PermissionDenied { .. } => ApiError::forbidden(e.to_string()),
            CallError::Encode { .. } => ApiError::invalid(e.to_string()),
            CallError::NoResponders { .. }
            | CallError::TimedOut { .. }
            | CallError::Transport { .. }
            | CallError::BadReply { .. } => ApiError::unavailable(e.to_string()),
        }
    }
}

/// The service that answers a subject, for error messages.
pub fn service_of(subject: &str) -> String {
    let mut tokens = subject.split('.');
    match (tokens.next(), tokens.next(), tokens.next()) {
        (Some("hoinghi"), Some("v1"), Some(service)) => format!("hoinghi-{service}"),
        (Some("$SRV"), Some(_), Some(name)) => name.to_owned(),
        _ => "the service".to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_their_service() {
        assert_eq!(service_of("hoinghi.v1.attendance.sites.ba-be.confirm"), "hoinghi-attendance");
        assert_eq!(service_of("$SRV.PING.hoinghi-minutes"), "hoinghi-minutes");
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
        assert_eq!(ApiError::from(denied).code, ErrorCode::Forbidden);
    }

    #[test]
    fn failures_of_the_request_become_unavailable_with_a_readable_message() {
        let subject = "hoinghi.v1.attendance.roster";
        let none = CallError::NoResponders { subject: subject.into() };
        assert!(none.is_transient());
        let e = ApiError::from(none);
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.message.contains("no responders") && e.message.contains("hoinghi-attendance"), "{e}");
        let late = CallError::TimedOut { subject: subject.into(), after: Duration::from_millis(1500) };
        assert!(late.is_transient());
        assert!(ApiError::from(late).message.contains("within 1.5s"));
        let refused = CallError::Api {
            subject: subject.into(),
            status: 404,
            code: Some(ErrorCode::NotFound),
            message: "no roster yet".into(),
        };
        assert!(refused.is_not_found() && !refused.is_transient());
        assert_eq!(ApiError::from(refused), ApiError::not_found("no roster yet"));
    }
}
