//! The three services of the contract, instead of bare service tokens: the subject builders
//! ([`crate::subjects`]), a reaction's subscription, the command metadata of a reaction and the
//! assembly of a service all take a [`Service`]; [`Service::token`] is the only place a token is
//! spelled.

use std::fmt;
use std::str::FromStr;

use crate::streams::{self, StreamDef};

/// One of the three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Site registry and conference life cycle (`hoinghi-scheduling`).
    Scheduling,
    /// Rosters, confirmations, refusals, check-ins (`hoinghi-attendance`).
    Attendance,
    /// Minutes drafts, approval, publication, acknowledgements (`hoinghi-minutes`).
    Minutes,
}

impl Service {
    /// All three, in the order of the event chain.
    pub const ALL: [Service; 3] = [Service::Scheduling, Service::Attendance, Service::Minutes];

    /// The service token in subjects (`hoinghi.v1.<token>.…`, `hoinghi.v1.events.<token>.…`):
    /// `scheduling`, `attendance`, `minutes`.
    pub const fn token(self) -> &'static str {
        match self {
            Self::Scheduling => "scheduling",
            Self::Attendance => "attendance",
            Self::Minutes => "minutes",
        }
    }

    /// The binary, and the NATS micro-service name (`$SRV.PING.<name>`): `hoinghi-<token>`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Scheduling => "hoinghi-scheduling",
            Self::Attendance => "hoinghi-attendance",
            Self::Minutes => "hoinghi-minutes",
        }
    }

    /// The stream holding this service's event log, which only it writes.
    pub const fn stream(self) -> StreamDef {
        match self {
            Self::Scheduling => streams::SCHEDULING,
            Self::Attendance => streams::ATTENDANCE,
            Self::Minutes => streams::MINUTES,
        }
    }

    /// The service of a token (`attendance` -> [`Service::Attendance`]).
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.token() == token)
    }
}

impl fmt::Display for Service {
    /// The token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// A token that names no service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a hoinghi service (scheduling, attendance, minutes)")]
pub struct UnknownService(pub String);

impl FromStr for Service {
    type Err = UnknownService;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_token(s).ok_or_else(|| UnknownService(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_names_and_streams_agree() {
        for service in Service::ALL {
            assert_eq!(service.token().parse::<Service>(), Ok(service));
            assert_eq!(service.to_string(), service.token());
            assert_eq!(service.name(), format!("hoinghi-{service}"));
            assert!(service.stream().name.ends_with(&service.token().to_ascii_uppercase()));
        }
        assert_eq!(Service::Attendance.stream(), streams::ATTENDANCE);
        assert!("sites".parse::<Service>().is_err());
        let distinct: std::collections::HashSet<_> = Service::ALL.iter().map(|s| s.stream().name).collect();
        assert_eq!(distinct.len(), 3, "one stream per service");
    }
}
