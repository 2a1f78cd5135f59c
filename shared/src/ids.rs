//! Identifiers, parsed once at the edge: a value of these types is always valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A conference id that is not a UUID v7.
    #[error("conference id {0:?} is not a UUID v7 (like 01912f3e-7c4b-7a51-9d3e-2b8f4c1a9e70)")]
    Conference(String),
    /// A site id that is not a slug.
    #[error("site id {0:?} is not valid: use 1 to 64 characters from a-z, 0-9 and '-' (like \"ba-be\")")]
    Site(String),
    /// A person id that is not a slug.
    #[error("person id {0:?} is not valid: use 1 to 64 characters from a-z, 0-9 and '-' (like \"nguyen-van-a\")")]
    Person(String),
    /// A task id that is not `<item>-<index>`.
    #[error("task id {0:?} is not valid: use <item>-<index>, both 0-based numbers (like \"2-0\": the first task of agenda item 2)")]
    Task(String),
}

/// A conference id: a UUID v7 (time-ordered), shown in its hyphenated lowercase form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConferenceId(Uuid);

impl ConferenceId {
    /// A new id for a conference scheduled now.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Parses a conference id.
    ///
    /// # Errors
    /// [`IdError::Conference`] unless `s` is a UUID of version 7.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        match Uuid::parse_str(s) {
            Ok(uuid) if uuid.get_version_num() == 7 => Ok(Self(uuid)),
            _ => Err(IdError::Conference(truncate(s))),
        }
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ConferenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A site id: a slug of 1 to 64 characters from `a-z`, `0-9` and `-`, e.g. `ba-be`.
///
/// Because it can hold neither `.`, `*`, `>` nor white space it is always safe as one subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

impl SiteId {
    /// Longest site id accepted.
    pub const MAX_LEN: usize = 64;

    /// Parses a site id.
    ///
    /// # Errors
    /// [`IdError::Site`] unless `s` is a slug of 1 to 64 characters from `a-z`, `0-9` and `-`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if is_slug(s, Self::MAX_LEN) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Site(truncate(s)))
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person id: a slug of 1 to 64 characters from `a-z`, `0-9` and `-`, e.g. `nguyen-van-a`.
///
/// Names one person of the deployment (a chair, a minute-taker): their NATS identity is
/// `person-<id>` and the events they cause record the actor `person:<id>`. Like a [`SiteId`] it is
/// always safe as one subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonId(String);

impl PersonId {
    /// Longest person id accepted.
    pub const MAX_LEN: usize = 64;

    /// Parses a person id.
    ///
    /// # Errors
    /// [`IdError::Person`] unless `s` is a slug of 1 to 64 characters from `a-z`, `0-9` and `-`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if is_slug(s, Self::MAX_LEN) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Person(truncate(s)))
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` is 1 to `max` characters from `a-z`, `0-9` and `-`.
fn is_slug(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A task of the published minutes: `<item>-<index>`, the 0-based agenda item and the 0-based
/// position of the task in that item's tasks (e.g. `2-0`). Stable from publication, since published
/// minutes never change; safe as one subject token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskId {
    /// The agenda item, 0-based.
    pub item: usize,
    /// The task within the item, 0-based.
    pub index: usize,
}

impl TaskId {
    /// Longest number accepted for either part (agendas and task lists are far shorter).
    const MAX_DIGITS: usize = 6;

    /// The task `index` of agenda item `item`.
    pub fn new(item: usize, index: usize) -> Self {
        Self { item, index }
    }

    /// Parses `<item>-<index>` (decimal, no sign, no leading zero but in `0`).
    ///
    /// # Errors
    /// [`IdError::Task`] for anything else.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let number = |part: &str| {
            let ok = !part.is_empty()
                && part.len() <= Self::MAX_DIGITS
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            if ok {
                part.parse::<usize>().ok()
            } else {
                None
            }
        };
        s.split_once('-')
            .and_then(|(item, index)| Some(Self { item: number(item)?, index: number(index)? }))
            .ok_or_else(|| IdError::Task(truncate(s)))
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.item, self.index)
    }
}

/// `FromStr`, and the `String` forms serde reads and writes (`try_from`, `into`), of ids that have
/// `parse` and `Display`: one id, one string.
macro_rules! string_forms {
    ($($id:ty),*) => {$(
        impl FromStr for $id {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $id {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$id> for String {
            fn from(id: $id) -> Self {
                id.to_string()
            }
        }
    )*};
}

string_forms!(ConferenceId, SiteId, PersonId, TaskId);

/// Keeps error messages short when someone sends a megabyte as an id.
fn truncate(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_id_is_a_lowercase_slug() {
        assert!(SiteId::parse("ba-be").is_ok());
        assert!(SiteId::parse("pac-nam-2").is_ok());
        for bad in ["", "Ba-Be", "ba.be", "ba*", ">", "ba be", "bắc-kạn", &"a".repeat(65)] {
            assert!(SiteId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_person_id_is_a_lowercase_slug() {
        assert_eq!(PersonId::parse("nguyen-van-a").unwrap().as_str(), "nguyen-van-a");
        assert!(PersonId::parse("chair-2").is_ok());
        for bad in ["", "Nguyen", "a.b", "a*", ">", "a b", "nguyễn", &"a".repeat(65)] {
            assert!(PersonId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let err = serde_json::from_str::<PersonId>("\"a.b\"").unwrap_err();
        assert!(err.to_string().contains("person id"), "{err}");
        assert_eq!(serde_json::to_string(&PersonId::parse("le-b").unwrap()).unwrap(), "\"le-b\"");
    }

    #[test]
    fn a_conference_id_must_be_a_uuid_v7() {
        let id = ConferenceId::generate();
        assert_eq!(ConferenceId::parse(&id.to_string()), Ok(id));
        assert!(ConferenceId::parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8").is_err());
        assert!(ConferenceId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn a_task_id_is_item_dash_index() {
        assert_eq!(TaskId::parse("2-0"), Ok(TaskId::new(2, 0)));
        assert_eq!(TaskId::new(10, 499).to_string(), "10-499");
        for bad in ["", "2", "2-", "-0", "02-0", "2-00", "2-0-1", "a-b", "2.0", "+2-0", "1234567-0", " 2-0"] {
            assert!(TaskId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(serde_json::to_string(&TaskId::new(3, 1)).unwrap(), "\"3-1\"");
        assert!(serde_json::from_str::<TaskId>("\"x\"").unwrap_err().to_string().contains("<item>-<index>"));
        assert!(TaskId::new(1, 2) < TaskId::new(1, 10) && TaskId::new(1, 10) < TaskId::new(2, 0));
    }

    #[test]
    fn ids_are_parsed_when_deserialised() {
        let err = serde_json::from_str::<SiteId>("\"a.b\"").unwrap_err();
        assert!(err.to_string().contains("is not valid"), "{err}");
    }
}
