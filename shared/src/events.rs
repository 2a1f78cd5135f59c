//! Events: the durable record of every state change, one JetStream message each.
//!
//! Every event travels in an [`EventEnvelope`] published on a subject built by
//! [`crate::subjects::events`], whose last token is the event type. Payload types are past tense.
//! Each service's events form one enum, tagged by `type` with the payload in `data`, declared so
//! that each event type is named once: the enum's constant (e.g.
//! [`SchedulingEvent::INVITATIONS_ISSUED`]) is the serde tag, the subject's last token and the entry
//! in [`DomainEvent::TYPES`]; subscribers and tests use the constant, never the string.
//!
//! The payloads are types of their own ([`ConferenceDetails`], [`Person`], [`SiteRef`],
//! [`AgendaItem`], [`AttendanceEntry`], [`AttendanceStatus`], [`Task`]), not the request and reply
//! bodies of [`crate::api`]: the log is kept for good, so changing an API type must not change what
//! is stored. They have the JSON shape and serde attributes the API types had when the two were
//! split, so every stored event decodes as before (the tests decode events written in that shape),
//! and `From` conversions to and from the API types, for the services to convert at the edge (a
//! command builds its event from a request, a view builds its reply from the state).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::api::{self, date_only};
use crate::ids::{ConferenceId, PersonId, SiteId, TaskId};

/// The envelope around every event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique id of this event (UUID v7).
    pub id: Uuid,
    /// The event type, also the last token of the subject (e.g. `attendance_confirmed`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Schema version of `data` for this type; readers upcast older versions.
    #[serde(default = "first_version")]
    pub version: u32,
    /// The conference the event is about (absent for site registry events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_id: Option<ConferenceId>,
    /// The site the event is about, where one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Who caused it, from the authenticated subject (never the request body): `secretariat`,
    /// `site:<id>`, `person:<id>` (a chair or a minute-taker acting as themself), `chair` (the agenda
    /// and floor commands of the session's chair desk), or `service:<name>` for a reaction to
    /// another event. Events written before persons existed record `minute-taker` or `chair` for
    /// the minutes' commands.
    pub actor: String,
    /// The command (idempotency key) that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// The event that caused it, for reactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The W3C trace id of the request that started the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The payload, whose shape depends on `type` and `version`. Kept as raw JSON so that a large
    /// event (a conference's whole attendance record) is parsed once, straight into its type.
    pub data: Box<RawValue>,
}

fn first_version() -> u32 {
    1
}

fn null() -> Box<RawValue> {
    // Invariant: "null" is valid JSON.
    RawValue::from_string("null".to_owned()).unwrap_or_else(|_| unreachable!("null is JSON"))
}

/// Why an event could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not an envelope.
    #[error("not an event envelope: {0}")]
    Envelope(serde_json::Error),
    /// A type this reader does not know.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// A version newer than this reader knows.
    #[error("event type {event_type:?} version {version} is newer than this reader (knows up to {known})")]
    TooNew {
        /// The type.
        event_type: String,
        /// The version found.
        version: u32,
        /// The newest version known.
        known: u32,
    },
    /// The payload does not match its type.
    #[error("payload of {event_type:?} does not match its schema: {source}")]
    Payload {
        /// The type.
        event_type: String,
        /// The mismatch.
        source: serde_json::Error,
    },
}

/// An event enum of one service.
pub trait DomainEvent: Serialize + DeserializeOwned + Sized {
    /// Every type this enum knows, with the current version of each.
    const TYPES: &'static [(&'static str, u32)];

    /// This event's type token.
    fn event_type(&self) -> &'static str;

    /// Rewrites an older payload into the current shape. The default knows only version 1.
    fn upcast(event_type: &str, version: u32, data: serde_json::Value) -> Result<serde_json::Value, String> {
        let _ = event_type;
        if version == 1 {
            Ok(data)
        } else {
            Err(format!("no upcaster from version {version}"))
        }
    }
}

impl EventEnvelope {
    /// Wraps an event.
    pub fn new<E: DomainEvent>(event: &E, actor: impl Into<String>) -> Self {
        #[derive(Deserialize)]
        struct Tagged {
            data: Option<Box<RawValue>>,
        }
        // The event enums are adjacently tagged, so their JSON is `{"type":…,"data":…}`; the payload
        // is cut out as raw JSON rather than rebuilt as a tree.
        let data = serde_json::to_string(event)
            .ok()
            .and_then(|json| serde_json::from_str::<Tagged>(&json).ok())
            .and_then(|t| t.data)
            .unwrap_or_else(null);
        Self { data, ..Self::head(event, actor) }
    }

    /// Serialises this envelope's metadata around `event` straight to the bytes of a message: the
    /// payload is written once, inside the envelope, with no intermediate JSON value (`data` of
    /// `self` is ignored). Gives the same bytes a reader decodes with [`Self::from_slice`].
    ///
    /// # Errors
    /// The event does not serialise, or not as `{"type":…,"data":…}` with its own type (never, for the
    /// event enums of this crate): an error, never an envelope with a null payload.
    pub fn encode_with<E: DomainEvent>(&self, event: &E) -> serde_json::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Head<'a> {
            id: Uuid,
            #[serde(rename = "type")]
            event_type: &'a str,
            version: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            conference_id: Option<ConferenceId>,
            #[serde(skip_serializing_if = "Option::is_none")]
            site_id: Option<&'a SiteId>,
            occurred_at: DateTime<Utc>,
            actor: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            command_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            causation_id: Option<Uuid>,
            #[serde(skip_serializing_if = "Option::is_none")]
            trace_id: Option<&'a str>,
        }
        // One buffer for the tagged event, sized for a typical event so it does not grow on the way
        // (this runs once per command).
        let mut tagged = Vec::with_capacity(512);
        serde_json::to_writer(&mut tagged, event)?;
        // The event enums are adjacently tagged: `{"type":<type>,"data":<payload>}`; the types are
        // snake_case ASCII, which JSON writes without escapes.
        let data = tagged
            .strip_prefix(b"{\"type\":\"".as_slice())
            .and_then(|rest| rest.strip_prefix(event.event_type().as_bytes()))
            .and_then(|rest| rest.strip_prefix(b"\",\"data\":".as_slice()))
            .and_then(|rest| rest.strip_suffix(b"}"));
        let Some(data) = data else {
            // Never written with a null payload: an event that does not serialise as its type is a bug.
            return Err(serde::ser::Error::custom(format!(
                "event {:?} does not serialise as {{\"type\":…,\"data\":…}}",
                event.event_type()
            )));
        };
        let head = Head {
            id: self.id,
            event_type: &self.event_type,
            version: self.version,
            conference_id: self.conference_id,
            site_id: self.site_id.as_ref(),
            occurred_at: self.occurred_at,
            actor: &self.actor,
            command_id: self.command_id.as_deref(),
            causation_id: self.causation_id,
            trace_id: self.trace_id.as_deref(),
        };
        let mut out = Vec::with_capacity(data.len() + 512);
        serde_json::to_writer(&mut out, &head)?;
        out.pop(); // the head's closing brace
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(data);
        out.push(b'}');
        Ok(out)
    }

    /// Metadata for a new event of type `event_type` (the payload is given to [`Self::encode_with`]).
    pub fn head<E: DomainEvent>(event: &E, actor: impl Into<String>) -> Self {
        let event_type = event.event_type();
        let version = E::TYPES.iter().find(|(t, _)| *t == event_type).map_or(1, |(_, v)| *v);
        Self {
            id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            version,
            conference_id: None,
            site_id: None,
            occurred_at: Utc::now(),
            actor: actor.into(),
            command_id: None,
            causation_id: None,
            trace_id: None,
            data: null(),
        }
    }

    /// The payload as a JSON tree (for tests and tools; services decode with [`Self::decode`]).
    pub fn data_value(&self) -> serde_json::Value {
        serde_json::from_str(self.data.get()).unwrap_or(serde_json::Value::Null)
    }

    /// Replaces the payload (for tests and tools that write events by hand).
    pub fn set_data(&mut self, data: &serde_json::Value) {
        self.data = RawValue::from_string(data.to_string()).unwrap_or_else(|_| null());
    }

    /// Reads an envelope from a message payload.
    ///
    /// # Errors
    /// [`DecodeError::Envelope`] if the bytes are not an envelope.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        serde_json::from_slice(bytes).map_err(DecodeError::Envelope)
    }

    /// Decodes the payload as one of `E`'s events, upcasting older versions.
    ///
    /// # Errors
    /// Unknown type, a version newer than `E` knows, or a payload that does not match.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, DecodeError> {
        let Some(&(_, known)) = E::TYPES.iter().find(|(t, _)| *t == self.event_type) else {
            return Err(DecodeError::UnknownType(self.event_type.clone()));
        };
        if self.version > known {
            return Err(DecodeError::TooNew { event_type: self.event_type.clone(), version: self.version, known });
        }
        let payload_error = |source| DecodeError::Payload { event_type: self.event_type.clone(), source };
        if self.version < known {
            let old: serde_json::Value = serde_json::from_str(self.data.get()).map_err(payload_error)?;
            let data = E::upcast(&self.event_type, self.version, old)
                .map_err(|e| payload_error(serde::de::Error::custom(e)))?;
            let tagged = serde_json::json!({ "type": self.event_type, "data": data });
            return serde_json::from_value(tagged).map_err(payload_error);
        }
        let event_type = serde_json::to_string(&self.event_type).map_err(payload_error)?;
        let tagged = format!("{{\"type\":{event_type},\"data\":{}}}", self.data.get());
        serde_json::from_str(&tagged).map_err(payload_error)
    }
}

// Conversions at the edge: requests become event payloads, state becomes replies. Each names every
// field or variant, so one added on one side and not the other does not compile.

/// `From` both ways between a fieldless event enum and its [`api`] twin of the same name.
macro_rules! mirror_enum {
    ($name:ident { $($variant:ident),+ $(,)? }) => {
        impl From<api::$name> for $name {
            fn from(v: api::$name) -> Self {
                match v {
                    $(api::$name::$variant => Self::$variant,)+
                }
            }
        }

        impl From<$name> for api::$name {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => Self::$variant,)+
                }
            }
        }
    };
}

/// `From` both ways (and from a reference to the event form) between an event payload struct and
/// its [`api`] twin of the same name, whose fields have the same types.
macro_rules! mirror_struct {
    ($name:ident { $($field:ident),+ $(,)? }) => {
        impl From<api::$name> for $name {
            fn from(v: api::$name) -> Self {
                let api::$name { $($field),+ } = v;
                Self { $($field),+ }
            }
        }

        impl From<$name> for api::$name {
            fn from(v: $name) -> Self {
                let $name { $($field),+ } = v;
                Self { $($field),+ }
            }
        }

        impl From<&$name> for api::$name {
            fn from(v: &$name) -> Self {
                v.clone().into()
            }
        }
    };
}

/// Declares one service's event enum with each event type named exactly once, in
/// `Variant = (CONSTANT, "type_name", version)`: the name is the enum's constant `CONSTANT`, the
/// serde tag, the subject's last token (`event_type()`), and the entry in [`DomainEvent::TYPES`]
/// with its current schema version. An optional upcaster rewrites older payload versions.
macro_rules! domain_events {
    (
        $(#[$meta:meta])*
        pub enum $name:ident $(upcast with $upcast:path)? {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = ($constant:ident, $type_name:literal, $version:literal) {
                    $( $(#[$field_meta:meta])* $field:ident : $field_ty:ty ),* $(,)?
                }
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[serde(rename = $type_name)]
                $variant { $( $(#[$field_meta])* $field: $field_ty ),* },
            )+
        }

        impl $name {
            $(
                #[doc = concat!("`", $type_name, "`: the type of [`", stringify!($name), "::", stringify!($variant), "`].")]
                pub const $constant: &'static str = $type_name;
            )+
        }

        impl DomainEvent for $name {
            const TYPES: &'static [(&'static str, u32)] = &[$((Self::$constant, $version)),+];

            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => Self::$constant,)+
                }
            }

            $(
                fn upcast(
                    event_type: &str,
                    version: u32,
                    data: serde_json::Value,
                ) -> Result<serde_json::Value, String> {
                    $upcast(event_type, version, data)
                }
            )?
        }
    };
}

/// Everything about a conference that the other services need, copied into their events so each
/// service's log is complete on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceDetails {
    /// Title.
    pub title: String,
    /// Who convenes it.
    pub organizer: String,
    /// Start.
    pub starts_at: DateTime<FixedOffset>,
    /// End.
    pub ends_at: DateTime<FixedOffset>,
    /// The host bridge.
    pub host_site: SiteRef,
    /// The linked bridges, in the order they were listed.
    pub sites: Vec<SiteRef>,
    /// Chairs. Events written before chairs were bound to persons have no `person_id`.
    pub chairs: Vec<Chair>,
    /// The persons who keep the minutes. Absent in events written before minute-takers were named
    /// (read as none: no one may record those minutes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub minute_takers: Vec<PersonId>,
    /// Guests.
    pub guests: Vec<Person>,
    /// Agenda.
    pub agenda: Vec<AgendaItem>,
    /// Whose approval publishing the minutes needs. Events written before the policy existed
    /// decode as [`ApprovalPolicy::All`] (with one chair the same as `any`).
    #[serde(default)]
    pub approval_policy: ApprovalPolicy,
    /// Reminder offsets before the start, in seconds, largest first, as the secretariat set them;
    /// `None` (events written before reminders existed, or not set) means the default, 24 h and
    /// 1 h ([`crate::notifications::reminder_offsets`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_offsets_s: Option<Vec<u32>>,
    /// The quorum rule (`None`: no rule, the conference is always quorate; events written before
    /// quorum rules existed decode so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<QuorumRule>,
}

impl ConferenceDetails {
    /// A conference from `starts_at` to `ends_at` (RFC 3339 with an offset) hosted by `host_site`
    /// and linking `sites`, with no chairs, guests or agenda yet, the default approval policy and
    /// reminders, and no quorum rule.
    ///
    /// # Errors
    /// A time that is not RFC 3339 with an offset.
    pub fn new(
        title: impl Into<String>,
        organizer: impl Into<String>,
        (starts_at, ends_at): (&str, &str),
        host_site: SiteRef,
        sites: Vec<SiteRef>,
    ) -> Result<Self, chrono::ParseError> {
        Ok(Self {
            title: title.into(),
            organizer: organizer.into(),
            starts_at: DateTime::parse_from_rfc3339(starts_at)?,
            ends_at: DateTime::parse_from_rfc3339(ends_at)?,
            host_site,
            sites,
            chairs: Vec::new(),
            minute_takers: Vec::new(),
            guests: Vec::new(),
            agenda: Vec::new(),
            approval_policy: ApprovalPolicy::default(),
            reminder_offsets_s: None,
            quorum: None,
        })
    }
}

/// What a quorum counts (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumBasis {
    /// The invited bridges present.
    Bridges,
    /// The expected delegates (the confirmed headcounts) present.
    Delegates,
}

impl QuorumBasis {
    /// How the minutes name what is counted.
    pub fn vi(self) -> &'static str {
        match self {
            Self::Bridges => "điểm cầu",
            Self::Delegates => "đại biểu",
        }
    }
}

/// A conference's quorum rule: at least `percent` % of the invited bridges, or of the expected
/// delegates, present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumRule {
    /// What is counted.
    pub basis: QuorumBasis,
    /// The share required, 1 to 100.
    pub percent: u8,
}

impl QuorumRule {
    /// How many of `total` must be present: `percent` % of it rounded up, at least 1.
    pub fn required(&self, total: u64) -> u64 {
        (total * u64::from(self.percent)).div_ceil(100).max(1)
    }
}

/// A site that had the floor on an agenda item, as the attendance record carries it to the minutes
/// (which prefill the item's speakers with it): at most
/// [`crate::limits::MAX_FLOOR_SPEAKERS_PER_ITEM`] per item, in the order the floor was given, within
/// [`crate::limits::FLOOR_SPEAKERS_BUDGET`] over the conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorSpeaker {
    /// The agenda item, 0-based.
    pub item: usize,
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// What it spoke about (its request's topic).
    pub topic: String,
}

impl FloorSpeaker {
    /// The speaker as the minutes list it: `<site name>: <topic>`.
    pub fn minutes_line(&self) -> String {
        format!("{}: {}", self.site_name, self.topic)
    }
}

/// The quorum as recorded at one moment of the session: at its start (`item` `None`) or at the
/// start of agenda item `item` (0-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumSnapshot {
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The agenda item whose start it was recorded at; `None`: the start of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
    /// The rule.
    pub rule: QuorumRule,
    /// Whether `present` reached `required`.
    pub quorate: bool,
    /// How many had to be present.
    pub required: u64,
    /// How many were present (bridges or delegates, by the rule's basis).
    pub present: u64,
    /// Out of how many (invited bridges, or expected delegates).
    pub total: u64,
}

impl QuorumSnapshot {
    /// The minutes' line, e.g. `Điểm cầu có mặt: 7/8 — đủ số lượng theo quy định (50% điểm cầu)`.
    pub fn line_vi(&self) -> String {
        let what = match self.rule.basis {
            QuorumBasis::Bridges => "Điểm cầu có mặt",
            QuorumBasis::Delegates => "Đại biểu có mặt",
        };
        let verdict = if self.quorate {
            "đủ số lượng theo quy định"
        } else {
            "không đủ số lượng theo quy định"
        };
        format!(
            "{what}: {}/{} — {verdict} ({}% {}, cần {})",
            self.present,
            self.total,
            self.rule.percent,
            self.rule.basis.vi(),
            self.required
        )
    }

    /// When it was taken, for the minutes: `Khai mạc phiên họp` or `Bắt đầu mục N` (by number: the
    /// title is in the minutes already, and the snapshot's size stays fixed).
    pub fn moment_vi(&self) -> String {
        match self.item {
            None => "Khai mạc phiên họp".to_owned(),
            Some(i) => format!("Bắt đầu mục {}", i + 1),
        }
    }
}

/// Whose approval publishing the minutes needs (`snake_case`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPolicy {
    /// Any one chair's approval is enough.
    Any,
    /// Every chair must approve.
    #[default]
    All,
}

mirror_enum!(ApprovalPolicy { Any, All });

/// A person named in an event: a chair, a guest or a delegate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Full name, as it appears in the minutes.
    pub name: String,
    /// Position or title; may be empty.
    #[serde(default)]
    pub title: String,
}

/// A chair named in an event: the name and title the minutes show, and the person bound to them.
/// The JSON shape of a [`Person`] plus `person_id`, so chairs written before persons existed decode
/// (without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chair {
    /// Full name, as it appears in the minutes.
    pub name: String,
    /// Position or title; may be empty.
    #[serde(default)]
    pub title: String,
    /// The person who chairs (absent in events written before chairs were bound to persons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
}

/// A site with the name it had when the event was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRef {
    /// The site id (slug).
    pub id: SiteId,
    /// The site's name.
    pub name: String,
}

/// An agenda item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    /// What the item is.
    pub title: String,
}

/// A site's answer and presence, as the attendance record holds it (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Invited, no answer.
    Invited,
    /// Confirmed, not checked in.
    Confirmed,
    /// Declined.
    Declined,
    /// Present at the session.
    CheckedIn,
}

/// A reference to bytes kept out of line in the JetStream object store (bucket `HOINGHI_RECORDS`,
/// see the runtime's `records` module), carried by an event whose content would not fit one
/// message. The store is written before the event; the reference is content-addressed, and a reader
/// checks `size` and `sha256` over every byte it reads back, so the event's hash covers the whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoredObject {
    /// The object's name in the bucket: `<kind>/<conference id>/<sha256>`.
    pub object: String,
    /// Its length in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of all its bytes.
    pub sha256: String,
}

/// The part of a conference's final attendance record that grows with its sites, as one document:
/// what `roster_closed` and `draft_opened` carry inline in `attendance`, `quorum` and `speakers`, or,
/// when its JSON is larger than 256 KiB, store out of line as this JSON (object kind
/// `attendance-record`) and reference by a [`StoredObject`] with those three fields empty. One rule
/// for both events: all three travel together, inline or out of line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalRecord {
    /// One entry per invited site.
    pub attendance: Vec<AttendanceEntry>,
    /// The quorum as recorded during the session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quorum: Vec<QuorumSnapshot>,
    /// Who had the floor on each agenda item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speakers: Vec<FloorSpeaker>,
}

/// One site's line of the final attendance record (`roster_closed`, `draft_opened`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceEntry {
    /// The site.
    pub site_id: SiteId,
    /// Its name.
    pub site_name: String,
    /// Its final status.
    pub status: AttendanceStatus,
    /// Whether it answered "attending" (it may still not have checked in).
    pub confirmed: bool,
    /// Named delegates.
    pub delegates: Vec<Person>,
    /// Declared headcount.
    pub headcount: u32,
    /// Reason given, if it declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// When it checked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// How its technical check stood at the start of the session (`None`: no check was opened;
    /// records written before the check existed decode so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_check: Option<CheckStatus>,
    /// The items it failed, when `technical_check` is `failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technical_check_failed: Vec<CheckItem>,
    /// Its live presence during the session: connected intervals and total (absent for a bridge
    /// never heard, and in records written before presence existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<crate::presence::PresenceRecord>,
}

/// One item of a bridge's technical check (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckItem {
    /// Picture (hình ảnh).
    Picture,
    /// Sound (âm thanh).
    Sound,
    /// Network line (đường truyền).
    Line,
}

impl CheckItem {
    /// Every item, in the order they are reported.
    pub const ALL: [CheckItem; 3] = [CheckItem::Picture, CheckItem::Sound, CheckItem::Line];

    /// Its Vietnamese name, as the minutes write it.
    pub fn vi(self) -> &'static str {
        match self {
            Self::Picture => "hình ảnh",
            Self::Sound => "âm thanh",
            Self::Line => "đường truyền",
        }
    }
}

/// What a site reported on one item of its technical check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Whether it works.
    pub ok: bool,
    /// What was seen (required when it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a site's technical check stands (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Its last report had every item ok.
    Passed,
    /// Its last report had an item failed.
    Failed,
    /// It has not reported.
    NotChecked,
}

/// The short Vietnamese note the minutes write for a site whose check had not passed by the start
/// of the session (`None` for a site that passed or when no check was opened).
pub fn check_note_vi(status: Option<CheckStatus>, failed: &[CheckItem]) -> Option<String> {
    match status? {
        CheckStatus::Passed => None,
        CheckStatus::NotChecked => Some("Chưa kiểm tra kỹ thuật".to_owned()),
        CheckStatus::Failed if failed.is_empty() => Some("Kiểm tra kỹ thuật chưa đạt".to_owned()),
        CheckStatus::Failed => Some(format!(
            "Kiểm tra kỹ thuật chưa đạt: {}",
            failed.iter().map(|i| i.vi()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// A task recorded in the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// What must be done.
    pub description: String,
    /// The responsible site.
    pub owner_site: SiteId,
    /// Deadline, written `YYYY-MM-DD`.
    #[serde(with = "date_only")]
    pub due: NaiveDate,
}

mirror_struct!(Person { name, title });
mirror_struct!(Chair { name, title, person_id });
mirror_struct!(SiteRef { id, name });
mirror_struct!(AgendaItem { title });
mirror_enum!(AttendanceStatus { Invited, Confirmed, Declined, CheckedIn });

impl From<api::AttendanceRecord> for AttendanceEntry {
    fn from(r: api::AttendanceRecord) -> Self {
        let api::AttendanceRecord {
            site_id,
            site_name,
            status,
            confirmed,
            delegates,
            headcount,
            decline_reason,
            checked_in_at,
            technical_check,
            technical_check_failed,
            presence,
        } = r;
        Self {
            site_id,
            site_name,
            status: status.into(),
            confirmed,
            delegates: delegates.into_iter().map(Person::from).collect(),
            headcount,
            decline_reason,
            checked_in_at,
            technical_check: technical_check.map(CheckStatus::from),
            technical_check_failed: technical_check_failed.into_iter().map(CheckItem::from).collect(),
            presence,
        }
    }
}

impl From<&AttendanceEntry> for api::AttendanceRecord {
    fn from(e: &AttendanceEntry) -> Self {
        let AttendanceEntry {
            site_id,
            site_name,
            status,
            confirmed,
            delegates,
            headcount,
            decline_reason,
            checked_in_at,
            technical_check,
            technical_check_failed,
            presence,
        } = e;
        Self {
            site_id: site_id.clone(),
            site_name: site_name.clone(),
            status: (*status).into(),
            confirmed: *confirmed,
            delegates: delegates.iter().map(api::Person::from).collect(),
            headcount: *headcount,
            decline_reason: decline_reason.clone(),
            checked_in_at: *checked_in_at,
            technical_check: technical_check.map(api::CheckStatus::from),
            technical_check_failed: technical_check_failed.iter().copied().map(api::CheckItem::from).collect(),
            presence: presence.clone(),
        }
    }
}

mirror_enum!(CheckItem { Picture, Sound, Line });
mirror_enum!(CheckStatus { Passed, Failed, NotChecked });

impl From<&CheckResult> for api::CheckResult {
    fn from(r: &CheckResult) -> Self {
        let CheckResult { ok, note } = r;
        Self { ok: *ok, note: note.clone() }
    }
}

mirror_enum!(QuorumBasis { Bridges, Delegates });

impl From<api::QuorumRule> for QuorumRule {
    fn from(r: api::QuorumRule) -> Self {
        let api::QuorumRule { basis, percent } = r;
        Self { basis: basis.into(), percent }
    }
}

impl From<QuorumRule> for api::QuorumRule {
    fn from(r: QuorumRule) -> Self {
        let QuorumRule { basis, percent } = r;
        Self { basis: basis.into(), percent }
    }
}

mirror_struct!(Task { description, owner_site, due });

/// What a site reported on a task (`snake_case`): its event form, kept apart from
/// [`api::TaskReportKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskReportKind {
    /// Work under way.
    Progress,
    /// Done, for the secretariat to accept or return.
    Done,
}

mirror_enum!(TaskReportKind { Progress, Done });

domain_events! {
    /// Events of the scheduling service.
    pub enum SchedulingEvent {
        /// A site was registered or renamed.
        SiteRegistered = (SITE_REGISTERED, "site_registered", 1) {
            /// The site.
            site_id: SiteId,
            /// Its name.
            name: String,
        },
        /// A conference was scheduled.
        ConferenceScheduled = (CONFERENCE_SCHEDULED, "conference_scheduled", 1) {
            /// What was scheduled.
            details: ConferenceDetails,
        },
        /// Invitations went out to every linked site.
        InvitationsIssued = (INVITATIONS_ISSUED, "invitations_issued", 1) {
            /// The conference as invited (attendance opens its roster from this).
            details: ConferenceDetails,
        },
        /// The session opened.
        SessionStarted = (SESSION_STARTED, "session_started", 1) {},
        /// The session closed.
        SessionEnded = (SESSION_ENDED, "session_ended", 1) {},
        /// The conference was cancelled.
        ConferenceCancelled = (CONFERENCE_CANCELLED, "conference_cancelled", 1) {
            /// Why.
            reason: String,
            /// Whether invitations had gone out (then every site must see the cancellation).
            was_invited: bool,
        },
        /// The minutes were published; the conference's record is complete.
        ConferenceClosed = (CONFERENCE_CLOSED, "conference_closed", 1) {
            /// SHA-256 of the published minutes.
            minutes_sha256: String,
        },
        /// The conference was moved to a new time (before its session started). If invitations had
        /// gone out, every invited site is told (attendance records `roster_rescheduled`).
        ConferenceRescheduled = (CONFERENCE_RESCHEDULED, "conference_rescheduled", 1) {
            /// The new start.
            starts_at: DateTime<FixedOffset>,
            /// The new end.
            ends_at: DateTime<FixedOffset>,
            /// Why it was moved.
            reason: String,
            /// The schedule sequence after this change: 0 is the schedule the invitations
            /// announced, each reschedule after them adds 1.
            sequence: u32,
            /// Whether every site is asked to answer again (their answers are cleared).
            reanswer: bool,
            /// Whether invitations had gone out (then every site must be told; before that the move
            /// only replaces the planned time and the sequence stays 0).
            was_invited: bool,
        },
    }
}

domain_events! {
    /// Events of the attendance service.
    pub enum AttendanceEvent upcast with upcast_attendance {
        /// The roster opened when invitations were issued.
        RosterOpened = (ROSTER_OPENED, "roster_opened", 1) {
            /// The conference as invited.
            details: ConferenceDetails,
        },
        /// A site confirmed (or re-confirmed with other delegates).
        AttendanceConfirmed = (ATTENDANCE_CONFIRMED, "attendance_confirmed", 2) {
            /// Named delegates.
            delegates: Vec<Person>,
            /// Declared headcount.
            headcount: u32,
        },
        /// A site declined.
        AttendanceDeclined = (ATTENDANCE_DECLINED, "attendance_declined", 1) {
            /// Why.
            reason: String,
        },
        /// A site checked in.
        SiteCheckedIn = (SITE_CHECKED_IN, "site_checked_in", 1) {},
        /// The session ended: the attendance record is final. Site events after this one have no effect.
        ///
        /// The record that grows with the sites (`attendance`, `quorum`, `speakers`: a
        /// [`FinalRecord`]) is inline when its JSON takes at most 256 KiB (the runtime's
        /// `records::INLINE_LIMIT`), as in every event written before `record` existed. A larger one
        /// is stored out of line first (object store `HOINGHI_RECORDS`, kind `attendance-record`)
        /// and `record` references it; `attendance`, `quorum` and `speakers` are then empty.
        RosterClosed = (ROSTER_CLOSED, "roster_closed", 1) {
            /// The conference.
            details: ConferenceDetails,
            /// The final record, one entry per invited site (empty when `record` is set).
            attendance: Vec<AttendanceEntry>,
            /// The quorum as recorded at the start of the session and of each agenda item (empty
            /// without a quorum rule, and in records written before quorum rules existed).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            quorum: Vec<QuorumSnapshot>,
            /// Who had the floor on each agenda item, in the order it was given, for the minutes'
            /// speakers (bounded, see [`FloorSpeaker`]; empty in records written before the floor
            /// existed).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            speakers: Vec<FloorSpeaker>,
            /// The whole [`FinalRecord`] stored out of line, when it is too large to travel inline
            /// (absent: the three fields above are the whole record).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            record: Option<StoredObject>,
        },
        /// The conference was cancelled. Site events after this one have no effect.
        RosterCancelled = (ROSTER_CANCELLED, "roster_cancelled", 1) {
            /// Why.
            reason: String,
        },
        /// The conference was moved (from `conference_rescheduled`): the roster's schedule is now
        /// this one; no site has seen it yet. With `reanswer`, every site's answer is cleared back
        /// to "no answer" (the answer it had is kept as its previous answer).
        RosterRescheduled = (ROSTER_RESCHEDULED, "roster_rescheduled", 1) {
            /// The new start.
            starts_at: DateTime<FixedOffset>,
            /// The new end.
            ends_at: DateTime<FixedOffset>,
            /// Why it was moved.
            reason: String,
            /// The schedule sequence (1, 2, …).
            sequence: u32,
            /// Whether every site must answer again.
            reanswer: bool,
        },
        /// A site that had not answered was reminded (subject
        /// `…attendance.<conference>.<site>.reminder_sent`), once per schedule sequence and offset.
        ReminderSent = (REMINDER_SENT, "reminder_sent", 1) {
            /// Seconds before the start.
            offset_s: u32,
            /// The schedule sequence the reminder was set for.
            sequence: u32,
            /// When it was due (the server fired it then; it may be recorded later).
            due_at: DateTime<Utc>,
        },
        /// A site acknowledged that it has seen the schedule with this sequence (subject
        /// `…attendance.<conference>.<site>.schedule_seen`).
        ScheduleSeen = (SCHEDULE_SEEN, "schedule_seen", 1) {
            /// The schedule sequence the site saw.
            sequence: u32,
        },
        /// The secretariat opened the technical check: the sites may report theirs
        /// (`…attendance.<conference>.technical_check_opened`).
        TechnicalCheckOpened = (TECHNICAL_CHECK_OPENED, "technical_check_opened", 1) {},
        /// A site reported its technical check; it replaces the site's previous report
        /// (`…attendance.<conference>.<site>.technical_check_reported`).
        TechnicalCheckReported = (TECHNICAL_CHECK_REPORTED, "technical_check_reported", 1) {
            /// Picture.
            picture: CheckResult,
            /// Sound.
            sound: CheckResult,
            /// Network line.
            line: CheckResult,
        },
        /// The session started: the technical check (opened or not) is closed, and what it holds is
        /// what the roster and the minutes show. Reports after this one have no effect.
        TechnicalCheckClosed = (TECHNICAL_CHECK_CLOSED, "technical_check_closed", 1) {},
        /// The first heartbeat of a bridge heard during the session
        /// (`…attendance.<conference>.<site>.presence.site_connected`): its first connected interval
        /// opens at `at`. Presence transitions are their own aggregate per site (one token deeper
        /// than the site's answers).
        SiteConnected = (SITE_CONNECTED, "site_connected", 1) {
            /// When the heartbeat was heard.
            at: DateTime<Utc>,
        },
        /// No heartbeat of a connected bridge for the grace period (`…presence.site_dropped`): its
        /// interval closes at the last heartbeat heard.
        SiteDropped = (SITE_DROPPED, "site_dropped", 1) {
            /// The last heartbeat heard (the interval's end).
            last_heard_at: DateTime<Utc>,
        },
        /// A heartbeat of a dropped bridge (`…presence.site_rejoined`): a new interval opens at `at`.
        SiteRejoined = (SITE_REJOINED, "site_rejoined", 1) {
            /// When the heartbeat was heard.
            at: DateTime<Utc>,
        },
        /// The secretariat took the roll of one bridge during the session
        /// (`…attendance.<conference>.<site>.roll_called`); it replaces the bridge's earlier roll
        /// call (every one stays in the log) and complements its own check-in.
        RollCalled = (ROLL_CALLED, "roll_called", 1) {
            /// Present, or absent.
            present: bool,
            /// The number of people in the room, when present.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            people: Option<u32>,
            /// Why it is absent.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reason: Option<String>,
        },
        /// The quorum was recorded (`…attendance.<conference>.quorum_recorded`): at the start of the
        /// session (`item` absent) or of an agenda item; only for a conference with a quorum rule.
        QuorumRecorded = (QUORUM_RECORDED, "quorum_recorded", 1) {
            /// The agenda item whose start it was recorded at (0-based); absent: the session's start.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            item: Option<usize>,
            /// The rule.
            rule: QuorumRule,
            /// Whether `present` reached `required`.
            quorate: bool,
            /// How many had to be present.
            required: u64,
            /// How many were present.
            present: u64,
            /// Out of how many.
            total: u64,
        },
        /// The secretariat or a chair moved the session to an agenda item (0-based): it is the
        /// current item; the floor's queue of the item before is cleared
        /// (`…attendance.<conference>.agenda_item_started`).
        AgendaItemStarted = (AGENDA_ITEM_STARTED, "agenda_item_started", 1) {
            /// The item now under way, 0-based.
            item: usize,
        },
        /// A site asked for the floor on the current item (`…attendance.<conference>.floor_requested`;
        /// every floor event is on the conference's own subjects, so the queue is one aggregate).
        FloorRequested = (FLOOR_REQUESTED, "floor_requested", 1) {
            /// The item it asks on.
            item: usize,
            /// The site asking.
            site: SiteId,
            /// What it wants to speak about.
            topic: String,
        },
        /// A site withdrew its request (`…attendance.<conference>.floor_withdrawn`).
        FloorWithdrawn = (FLOOR_WITHDRAWN, "floor_withdrawn", 1) {
            /// The item.
            item: usize,
            /// The site.
            site: SiteId,
        },
        /// The chair (or the secretariat) gave a site the floor (`…attendance.<conference>.floor_granted`).
        FloorGranted = (FLOOR_GRANTED, "floor_granted", 1) {
            /// The item.
            item: usize,
            /// The site speaking now.
            site: SiteId,
            /// Its topic, as it asked.
            topic: String,
            /// Whether it was not the head of the queue.
            out_of_order: bool,
        },
        /// The speaker is done (`…attendance.<conference>.floor_released`).
        FloorReleased = (FLOOR_RELEASED, "floor_released", 1) {
            /// The item.
            item: usize,
            /// The site that spoke.
            site: SiteId,
        },
    }
}

/// Version 1 of `attendance_confirmed` may name delegates by name only (`"delegates": ["…"]`,
/// as early clients of the log wrote them); version 2 gives each a `{name, title}`. Names read as
/// delegates without a title; entries that are already objects pass through.
fn upcast_attendance(event_type: &str, version: u32, data: serde_json::Value) -> Result<serde_json::Value, String> {
    match (event_type, version) {
        (AttendanceEvent::ATTENDANCE_CONFIRMED, 1) => {
            let mut data = data;
            let names = data.get("delegates").and_then(|d| d.as_array()).cloned().unwrap_or_default();
            let delegates: Vec<serde_json::Value> = names
                .into_iter()
                .map(|n| match n {
                    serde_json::Value::String(name) => serde_json::json!({ "name": name, "title": "" }),
                    other => other,
                })
                .collect();
            if let Some(map) = data.as_object_mut() {
                map.insert("delegates".into(), serde_json::Value::Array(delegates));
            }
            Ok(data)
        }
        (_, 1) => Ok(data),
        _ => Err(format!("no upcaster for {event_type} version {version}")),
    }
}

domain_events! {
    /// Events of the minutes service.
    // The draft's opening carries the conference and its whole record; events are decoded one at a
    // time and never kept in bulk, so its size is not worth a box.
    #[allow(clippy::large_enum_variant)]
    pub enum MinutesEvent {
        /// The draft opened when the session ended, with the attendance record: inline, or out of
        /// line (`record`, the very object `roster_closed` references) under the same rule as
        /// `roster_closed`.
        DraftOpened = (DRAFT_OPENED, "draft_opened", 1) {
            /// The conference.
            details: ConferenceDetails,
            /// Attendance as it happened (empty when `record` is set).
            attendance: Vec<AttendanceEntry>,
            /// The quorum as recorded during the session (from `roster_closed`).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            quorum: Vec<QuorumSnapshot>,
            /// Who had the floor on each item (from `roster_closed`): the default speakers of the
            /// items the minute-taker has not recorded.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            speakers: Vec<FloorSpeaker>,
            /// The whole [`FinalRecord`] stored out of line (absent: the fields above are the whole
            /// record).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            record: Option<StoredObject>,
        },
        /// An agenda item was recorded (replacing an earlier record of it).
        ItemRecorded = (ITEM_RECORDED, "item_recorded", 1) {
            /// 0-based index.
            item: usize,
            /// Speakers.
            speakers: Vec<String>,
            /// Summary.
            summary: String,
            /// Conclusions.
            conclusions: Vec<String>,
            /// Tasks.
            tasks: Vec<Task>,
        },
        /// The draft went to the chairs as a new version; approvals of earlier versions no longer count.
        MinutesSubmitted = (MINUTES_SUBMITTED, "minutes_submitted", 1) {
            /// The version (1, 2, …); 0 in events written before versions existed (read as the
            /// next one).
            #[serde(default)]
            version: u32,
        },
        /// A chair approved a submitted version.
        MinutesApproved = (MINUTES_APPROVED, "minutes_approved", 1) {
            /// The chair's name, from the conference's binding of the approving person.
            approved_by: String,
            /// The approving person (the envelope's actor is `person:<id>`); absent in events
            /// written before chairs were persons.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            person_id: Option<PersonId>,
            /// The version approved; 0 in events written before versions existed (read as the
            /// version submitted last).
            #[serde(default)]
            version: u32,
        },
        /// A chair asked for changes to a submitted version; the minutes are a draft again.
        ChangesRequested = (CHANGES_REQUESTED, "changes_requested", 1) {
            /// The chair's name, from the conference's binding of the requesting person.
            requested_by: String,
            /// The requesting person; absent in events written before chairs were persons.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            person_id: Option<PersonId>,
            /// The version it is about.
            version: u32,
            /// What should change.
            comment: String,
        },
        /// The minutes were published.
        MinutesPublished = (MINUTES_PUBLISHED, "minutes_published", 1) {
            /// The document, when it is at most `INLINE_LIMIT` bytes (the runtime's `records`
            /// module); empty when it is stored out of line (`document`).
            markdown: String,
            /// Hex SHA-256 of the UTF-8 bytes of the whole document (inline or stored).
            sha256: String,
            /// The document stored out of line in the records bucket (kind `minutes-document`),
            /// written before this event, when it is larger than `INLINE_LIMIT`; its `sha256` is
            /// this event's. Absent for a document inline (and in events written before documents
            /// could be stored).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            document: Option<StoredObject>,
            /// Hex SHA-256 of the UTF-8 bytes of the HTML form, which is not stored: it is a pure
            /// function of the published minutes and `published_at`, rendered when asked for and
            /// checked against this hash. Absent in events written before the HTML form existed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            html_sha256: Option<String>,
            /// The publication time both forms show (the time the command was decided, which may
            /// precede the envelope's `occurred_at`). Absent in events written before the HTML form
            /// existed: read as `occurred_at`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            published_at: Option<DateTime<Utc>>,
        },
        /// A site acknowledged receipt.
        MinutesAcknowledged = (MINUTES_ACKNOWLEDGED, "minutes_acknowledged", 1) {},
        /// The owner site reported progress on, or the completion of, a task of the published
        /// minutes (subject `…minutes.<conference>.tasks.<task>.task_reported`, envelope site: the
        /// owner).
        TaskReported = (TASK_REPORTED, "task_reported", 1) {
            /// The task.
            task_id: TaskId,
            /// Progress or done.
            kind: TaskReportKind,
            /// What was done.
            text: String,
            /// A document number, link or other reference, if given.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reference: Option<String>,
        },
        /// The secretariat accepted a task reported done: it is closed.
        TaskAccepted = (TASK_ACCEPTED, "task_accepted", 1) {
            /// The task.
            task_id: TaskId,
            /// The secretariat's comment (may be empty).
            comment: String,
        },
        /// The secretariat returned a task reported done: it is in progress again.
        TaskReturned = (TASK_RETURNED, "task_returned", 1) {
            /// The task.
            task_id: TaskId,
            /// What is missing.
            comment: String,
        },
        /// The secretariat issued the conclusions notice (thông báo kết luận) of the published
        /// minutes (subject `…minutes.<conference>.notice_issued`): its own document, holding the
        /// conclusions and tasks as they were when it was issued.
        NoticeIssued = (NOTICE_ISSUED, "notice_issued", 1) {
            /// The document number (số/ký hiệu), e.g. `15/TB-TU`.
            number: String,
            /// The date on the notice, written `YYYY-MM-DD`.
            #[serde(with = "date_only")]
            issued_on: NaiveDate,
            /// The last day it was due: 5 working days after the conference, `YYYY-MM-DD`.
            #[serde(with = "date_only")]
            deadline: NaiveDate,
            /// Whether the public holidays of every year the deadline spans were known; if not,
            /// only weekends and the fixed solar holidays were skipped.
            holidays_known: bool,
            /// Issued after the deadline.
            late: bool,
            /// The agenda items with conclusions or tasks, in agenda order.
            items: Vec<NoticeItem>,
        },
        /// A site acknowledged receipt of the conclusions notice (subject
        /// `…minutes.<conference>.<site>.notice_acknowledged`).
        NoticeAcknowledged = (NOTICE_ACKNOWLEDGED, "notice_acknowledged", 1) {},
    }
}

/// One agenda item of a conclusions notice: its conclusions and tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeItem {
    /// The agenda item, 0-based.
    pub index: usize,
    /// Its title.
    pub title: String,
    /// Conclusions.
    pub conclusions: Vec<String>,
    /// Tasks.
    pub tasks: Vec<Task>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_its_envelope() {
        let event = AttendanceEvent::AttendanceDeclined { reason: "lũ".into() };
        let envelope = EventEnvelope::new(&event, "site:ba-be");
        assert_eq!(envelope.event_type, "attendance_declined");
        assert_eq!(envelope.data_value(), serde_json::json!({"reason": "lũ"}));
        let bytes = serde_json::to_vec(&envelope).unwrap();
        let back = EventEnvelope::from_slice(&bytes).unwrap();
        assert_eq!(back.decode::<AttendanceEvent>().unwrap(), event);
    }

    #[test]
    fn encoding_around_the_event_gives_the_same_envelope() {
        let event = AttendanceEvent::AttendanceConfirmed {
            delegates: vec![Person { name: "Hoàng \"Văn\" A".into(), title: "Bí thư}".into() }],
            headcount: 3,
        };
        let mut head = EventEnvelope::head(&event, "site:ba-be");
        head.conference_id = Some(ConferenceId::generate());
        head.command_id = Some("k|1".into());
        let bytes = head.encode_with(&event).unwrap();
        let back = EventEnvelope::from_slice(&bytes).unwrap();
        assert_eq!(back.decode::<AttendanceEvent>().unwrap(), event);
        assert_eq!(back.version, 2);
        assert_eq!(back.conference_id, head.conference_id);
        assert_eq!(back.command_id.as_deref(), Some("k|1"));
        let full = EventEnvelope::new(&event, "site:ba-be");
        assert_eq!(full.data_value(), back.data_value());
        let empty = SchedulingEvent::SessionStarted {};
        let bytes = EventEnvelope::head(&empty, "secretariat").encode_with(&empty).unwrap();
        assert_eq!(EventEnvelope::from_slice(&bytes).unwrap().decode::<SchedulingEvent>().unwrap(), empty);
    }

    /// An event as JSON, its type, and the types (with versions) of its enum.
    type Probe = (serde_json::Value, &'static str, &'static [(&'static str, u32)]);

    /// One event of every variant: the match makes a new variant fail to compile here until it is
    /// added, so the type list below is checked against every variant.
    fn one_of_each() -> Vec<Probe> {
        fn probe<E: DomainEvent>(e: E) -> Probe {
            (serde_json::to_value(&e).unwrap(), e.event_type(), E::TYPES)
        }
        let site = || SiteId::parse("ba-be").unwrap();
        let details = move || ConferenceDetails {
            title: "t".into(),
            organizer: "o".into(),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:00:00+07:00").unwrap(),
            host_site: SiteRef { id: site(), name: "n".into() },
            sites: vec![],
            chairs: vec![],
            minute_takers: vec![PersonId::parse("thu-ky").unwrap()],
            guests: vec![],
            agenda: vec![],
            approval_policy: ApprovalPolicy::Any,
            reminder_offsets_s: None,
            quorum: Some(QuorumRule { basis: QuorumBasis::Delegates, percent: 2 }),
        };
        let scheduling = |e: SchedulingEvent| {
            match &e {
                SchedulingEvent::SiteRegistered { .. }
                | SchedulingEvent::ConferenceScheduled { .. }
                | SchedulingEvent::InvitationsIssued { .. }
                | SchedulingEvent::SessionStarted {}
                | SchedulingEvent::SessionEnded {}
                | SchedulingEvent::ConferenceCancelled { .. }
                | SchedulingEvent::ConferenceClosed { .. }
                | SchedulingEvent::ConferenceRescheduled { .. } => {}
            }
            probe(e)
        };
        let attendance = |e: AttendanceEvent| {
            match &e {
                AttendanceEvent::RosterOpened { .. }
                | AttendanceEvent::AttendanceConfirmed { .. }
                | AttendanceEvent::AttendanceDeclined { .. }
                | AttendanceEvent::SiteCheckedIn {}
                | AttendanceEvent::RosterClosed { .. }
                | AttendanceEvent::RosterCancelled { .. }
                | AttendanceEvent::RosterRescheduled { .. }
                | AttendanceEvent::ScheduleSeen { .. }
                | AttendanceEvent::TechnicalCheckOpened {}
                | AttendanceEvent::TechnicalCheckReported { .. }
                | AttendanceEvent::TechnicalCheckClosed {}
                | AttendanceEvent::RollCalled { .. }
                | AttendanceEvent::QuorumRecorded { .. }
                | AttendanceEvent::AgendaItemStarted { .. }
                | AttendanceEvent::FloorRequested { .. }
                | AttendanceEvent::FloorWithdrawn { .. }
                | AttendanceEvent::FloorGranted { .. }
                | AttendanceEvent::FloorReleased { .. }
                | AttendanceEvent::ReminderSent { .. }
                | AttendanceEvent::SiteConnected { .. }
                | AttendanceEvent::SiteDropped { .. }
                | AttendanceEvent::SiteRejoined { .. } => {}
            }
            probe(e)
        };
        let minutes = |e: MinutesEvent| {
            match &e {
                MinutesEvent::DraftOpened { .. }
                | MinutesEvent::ItemRecorded { .. }
                | MinutesEvent::MinutesSubmitted { .. }
                | MinutesEvent::MinutesApproved { .. }
                | MinutesEvent::ChangesRequested { .. }
                | MinutesEvent::MinutesPublished { .. }
                | MinutesEvent::MinutesAcknowledged {}
                | MinutesEvent::TaskReported { .. }
                | MinutesEvent::TaskAccepted { .. }
                | MinutesEvent::TaskReturned { .. }
                | MinutesEvent::NoticeIssued { .. }
                | MinutesEvent::NoticeAcknowledged {} => {}
            }
            probe(e)
        };
        vec![
            scheduling(SchedulingEvent::SiteRegistered { site_id: site(), name: "n".into() }),
            scheduling(SchedulingEvent::ConferenceScheduled { details: details() }),
            scheduling(SchedulingEvent::InvitationsIssued { details: details() }),
            scheduling(SchedulingEvent::SessionStarted {}),
            scheduling(SchedulingEvent::SessionEnded {}),
            scheduling(SchedulingEvent::ConferenceCancelled { reason: "r".into(), was_invited: true }),
            scheduling(SchedulingEvent::ConferenceClosed { minutes_sha256: "h".into() }),
            scheduling(SchedulingEvent::ConferenceRescheduled {
                starts_at: details().starts_at,
                ends_at: details().ends_at,
                reason: "r".into(),
                sequence: 1,
                reanswer: false,
                was_invited: true,
            }),
            attendance(AttendanceEvent::RosterOpened { details: details() }),
            attendance(AttendanceEvent::AttendanceConfirmed { delegates: vec![], headcount: 1 }),
            attendance(AttendanceEvent::AttendanceDeclined { reason: "r".into() }),
            attendance(AttendanceEvent::SiteCheckedIn {}),
            attendance(AttendanceEvent::RosterClosed {
                details: details(),
                attendance: vec![],
                quorum: vec![],
                speakers: vec![],
                record: None,
            }),
            attendance(AttendanceEvent::RosterCancelled { reason: "r".into() }),
            attendance(AttendanceEvent::RosterRescheduled {
                starts_at: details().starts_at,
                ends_at: details().ends_at,
                reason: "r".into(),
                sequence: 1,
                reanswer: true,
            }),
            attendance(AttendanceEvent::ScheduleSeen { sequence: 1 }),
            attendance(AttendanceEvent::TechnicalCheckOpened {}),
            attendance(AttendanceEvent::TechnicalCheckReported {
                picture: CheckResult { ok: true, note: None },
                sound: CheckResult { ok: true, note: None },
                line: CheckResult { ok: false, note: Some("mất tín hiệu".into()) },
            }),
            attendance(AttendanceEvent::TechnicalCheckClosed {}),
            attendance(AttendanceEvent::SiteConnected { at: Utc::now() }),
            attendance(AttendanceEvent::SiteDropped { last_heard_at: Utc::now() }),
            attendance(AttendanceEvent::SiteRejoined { at: Utc::now() }),
            attendance(AttendanceEvent::AgendaItemStarted { item: 1 }),
            attendance(AttendanceEvent::FloorRequested { item: 1, site: site(), topic: "t".into() }),
            attendance(AttendanceEvent::FloorWithdrawn { item: 1, site: site() }),
            attendance(AttendanceEvent::FloorGranted { item: 1, site: site(), topic: "t".into(), out_of_order: true }),
            attendance(AttendanceEvent::FloorReleased { item: 1, site: site() }),
            attendance(AttendanceEvent::RollCalled { present: true, people: Some(12), reason: None }),
            attendance(AttendanceEvent::QuorumRecorded {
                item: Some(1),
                rule: QuorumRule { basis: QuorumBasis::Bridges, percent: 50 },
                quorate: true,
                required: 4,
                present: 7,
                total: 8,
            }),
            attendance(AttendanceEvent::ReminderSent {
                offset_s: 3600,
                sequence: 0,
                due_at: DateTime::parse_from_rfc3339("2021-07-23T00:00:00Z").unwrap().with_timezone(&Utc),
            }),
            minutes(MinutesEvent::DraftOpened {
                details: details(),
                attendance: vec![],
                quorum: vec![],
                speakers: vec![],
                record: None,
            }),
            minutes(MinutesEvent::ItemRecorded {
                item: 0,
                speakers: vec![],
                summary: "s".into(),
                conclusions: vec![],
                tasks: vec![],
            }),
            minutes(MinutesEvent::MinutesSubmitted { version: 1 }),
            minutes(MinutesEvent::MinutesApproved {
                approved_by: "c".into(),
                person_id: Some(PersonId::parse("c").unwrap()),
                version: 1,
            }),
            minutes(MinutesEvent::ChangesRequested {
                requested_by: "c".into(),
                person_id: Some(PersonId::parse("c").unwrap()),
                version: 1,
                comment: "x".into(),
            }),
            minutes(MinutesEvent::MinutesPublished {
                markdown: "m".into(),
                sha256: "h".into(),
                document: None,
                html_sha256: Some("h2".into()),
                published_at: Some(DateTime::parse_from_rfc3339("2021-07-23T05:00:00Z").unwrap().to_utc()),
            }),
            minutes(MinutesEvent::MinutesAcknowledged {}),
            minutes(MinutesEvent::TaskReported {
                task_id: TaskId::new(2, 0),
                kind: TaskReportKind::Done,
                text: "t".into(),
                reference: None,
            }),
            minutes(MinutesEvent::TaskAccepted { task_id: TaskId::new(2, 0), comment: String::new() }),
            minutes(MinutesEvent::TaskReturned { task_id: TaskId::new(2, 0), comment: "c".into() }),
            minutes(MinutesEvent::NoticeIssued {
                number: "1/TB-TU".into(),
                issued_on: NaiveDate::from_ymd_opt(2021, 7, 26).unwrap(),
                deadline: NaiveDate::from_ymd_opt(2021, 7, 30).unwrap(),
                holidays_known: false,
                late: false,
                items: vec![NoticeItem { index: 0, title: "t".into(), conclusions: vec![], tasks: vec![] }],
            }),
            minutes(MinutesEvent::NoticeAcknowledged {}),
        ]
    }

    #[test]
    fn each_event_type_is_named_once_and_the_list_matches_the_variants() {
        let mut seen = std::collections::HashSet::new();
        let mut lists = std::collections::HashSet::new();
        for (json, event_type, types) in one_of_each() {
            assert_eq!(json["type"], event_type, "the serde tag is the event type");
            assert!(types.iter().any(|(t, _)| *t == event_type), "{event_type} is in TYPES");
            assert!(seen.insert(event_type), "{event_type} is used by two variants");
            lists.insert(types.as_ptr() as usize);
            assert!(event_type.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{event_type}: a subject token");
        }
        let listed: usize =
            [SchedulingEvent::TYPES.len(), AttendanceEvent::TYPES.len(), MinutesEvent::TYPES.len()].iter().sum();
        assert_eq!(listed, seen.len(), "every listed type has a variant and no more");
        assert_eq!(lists.len(), 3);
    }

    #[test]
    fn the_constants_are_the_types() {
        assert_eq!(SchedulingEvent::INVITATIONS_ISSUED, "invitations_issued");
        assert_eq!(AttendanceEvent::ROSTER_CLOSED, "roster_closed");
        assert_eq!(MinutesEvent::MINUTES_PUBLISHED, "minutes_published");
        assert_eq!(SchedulingEvent::SessionEnded {}.event_type(), SchedulingEvent::SESSION_ENDED);
        let listed: Vec<&str> = AttendanceEvent::TYPES.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            listed,
            [
                AttendanceEvent::ROSTER_OPENED,
                AttendanceEvent::ATTENDANCE_CONFIRMED,
                AttendanceEvent::ATTENDANCE_DECLINED,
                AttendanceEvent::SITE_CHECKED_IN,
                AttendanceEvent::ROSTER_CLOSED,
                AttendanceEvent::ROSTER_CANCELLED,
                AttendanceEvent::ROSTER_RESCHEDULED,
                AttendanceEvent::REMINDER_SENT,
                AttendanceEvent::SCHEDULE_SEEN,
                AttendanceEvent::TECHNICAL_CHECK_OPENED,
                AttendanceEvent::TECHNICAL_CHECK_REPORTED,
                AttendanceEvent::TECHNICAL_CHECK_CLOSED,
                AttendanceEvent::SITE_CONNECTED,
                AttendanceEvent::SITE_DROPPED,
                AttendanceEvent::SITE_REJOINED,
                AttendanceEvent::ROLL_CALLED,
                AttendanceEvent::QUORUM_RECORDED,
                AttendanceEvent::AGENDA_ITEM_STARTED,
                AttendanceEvent::FLOOR_REQUESTED,
                AttendanceEvent::FLOOR_WITHDRAWN,
                AttendanceEvent::FLOOR_GRANTED,
                AttendanceEvent::FLOOR_RELEASED,
            ]
        );
    }

    /// An envelope as the services wrote it before the payload types were split from the API types.
    fn stored(event_type: &str, version: u32, data: &str) -> EventEnvelope {
        let json = format!(
            r#"{{"id":"0190e1a2-0000-7000-8000-000000000001","type":"{event_type}","version":{version},"conference_id":"0190e1a2-0000-7000-8000-000000000002","occurred_at":"2021-07-23T01:00:00Z","actor":"secretariat","data":{data}}}"#
        );
        EventEnvelope::from_slice(json.as_bytes()).unwrap()
    }

    /// `ConferenceDetails` as stored: a `SiteRef` host and sites, `Person` chairs and guests (a guest
    /// without a title), `AgendaItem`s.
    const DETAILS: &str = r#"{"title":"Hội nghị","organizer":"Tỉnh ủy Bắc Kạn","starts_at":"2021-07-23T08:00:00+07:00","ends_at":"2021-07-23T11:30:00+07:00","host_site":{"id":"tinh-uy","name":"Tỉnh ủy"},"sites":[{"id":"ba-be","name":"Huyện ủy Ba Bể"},{"id":"na-ri","name":"Huyện ủy Na Rì"}],"chairs":[{"name":"Phương Thị Thanh","title":"Phó Bí thư"}],"guests":[{"name":"Phạm Duy Hưng"}],"agenda":[{"title":"Báo cáo sơ kết"}]}"#;

    fn stored_details() -> ConferenceDetails {
        let person = |name: &str, title: &str| Person { name: name.into(), title: title.into() };
        ConferenceDetails {
            title: "Hội nghị".into(),
            organizer: "Tỉnh ủy Bắc Kạn".into(),
            starts_at: DateTime::parse_from_rfc3339("2021-07-23T08:00:00+07:00").unwrap(),
            ends_at: DateTime::parse_from_rfc3339("2021-07-23T11:30:00+07:00").unwrap(),
            host_site: SiteRef { id: SiteId::parse("tinh-uy").unwrap(), name: "Tỉnh ủy".into() },
            sites: vec![
                SiteRef { id: SiteId::parse("ba-be").unwrap(), name: "Huyện ủy Ba Bể".into() },
                SiteRef { id: SiteId::parse("na-ri").unwrap(), name: "Huyện ủy Na Rì".into() },
            ],
            chairs: vec![Chair { name: "Phương Thị Thanh".into(), title: "Phó Bí thư".into(), person_id: None }],
            minute_takers: vec![],
            guests: vec![person("Phạm Duy Hưng", "")],
            agenda: vec![AgendaItem { title: "Báo cáo sơ kết".into() }],
            approval_policy: ApprovalPolicy::All,
            reminder_offsets_s: None,
            quorum: None,
        }
    }

    #[test]
    fn stored_details_people_sites_and_agenda_still_decode() {
        let invited = stored(SchedulingEvent::INVITATIONS_ISSUED, 1, &format!(r#"{{"details":{DETAILS}}}"#));
        assert_eq!(
            invited.decode::<SchedulingEvent>().unwrap(),
            SchedulingEvent::InvitationsIssued { details: stored_details() }
        );
    }

    #[test]
    fn a_stored_confirmation_still_decodes_its_people() {
        let data = r#"{"delegates":[{"name":"Hoàng Văn A","title":"Bí thư"},{"name":"Lý Thị B"}],"headcount":3}"#;
        let confirmed = stored(AttendanceEvent::ATTENDANCE_CONFIRMED, 2, data);
        let expected = AttendanceEvent::AttendanceConfirmed {
            delegates: vec![
                Person { name: "Hoàng Văn A".into(), title: "Bí thư".into() },
                Person { name: "Lý Thị B".into(), title: String::new() },
            ],
            headcount: 3,
        };
        assert_eq!(confirmed.decode::<AttendanceEvent>().unwrap(), expected);
    }

    #[test]
    fn a_stored_attendance_record_still_decodes() {
        let attendance = r#"[{"site_id":"ba-be","site_name":"Huyện ủy Ba Bể","status":"checked_in","confirmed":true,"delegates":[{"name":"Hoàng Văn A","title":"Bí thư"}],"headcount":12,"checked_in_at":"2021-07-23T00:55:00Z"},{"site_id":"na-ri","site_name":"Huyện ủy Na Rì","status":"declined","confirmed":false,"delegates":[],"headcount":0,"decline_reason":"lũ"},{"site_id":"pac-nam","site_name":"Huyện ủy Pác Nặm","status":"invited","confirmed":false,"delegates":[],"headcount":0},{"site_id":"cho-don","site_name":"Huyện ủy Chợ Đồn","status":"confirmed","confirmed":true,"delegates":[],"headcount":4}]"#;
        let entry = |site: &str, name: &str, status, confirmed, headcount| AttendanceEntry {
            site_id: SiteId::parse(site).unwrap(),
            site_name: name.into(),
            status,
            confirmed,
            delegates: vec![],
            headcount,
            decline_reason: None,
            checked_in_at: None,
            technical_check: None,
            technical_check_failed: vec![],
            presence: None,
        };
        let expected = vec![
            AttendanceEntry {
                delegates: vec![Person { name: "Hoàng Văn A".into(), title: "Bí thư".into() }],
                checked_in_at: Some("2021-07-23T00:55:00Z".parse().unwrap()),
                ..entry("ba-be", "Huyện ủy Ba Bể", AttendanceStatus::CheckedIn, true, 12)
            },
            AttendanceEntry {
                decline_reason: Some("lũ".into()),
                ..entry("na-ri", "Huyện ủy Na Rì", AttendanceStatus::Declined, false, 0)
            },
            entry("pac-nam", "Huyện ủy Pác Nặm", AttendanceStatus::Invited, false, 0),
            entry("cho-don", "Huyện ủy Chợ Đồn", AttendanceStatus::Confirmed, true, 4),
        ];
        let closed =
            stored(AttendanceEvent::ROSTER_CLOSED, 1, &format!(r#"{{"details":{DETAILS},"attendance":{attendance}}}"#));
        assert_eq!(
            closed.decode::<AttendanceEvent>().unwrap(),
            AttendanceEvent::RosterClosed {
                details: stored_details(),
                attendance: expected.clone(),
                quorum: vec![],
                speakers: vec![],
                record: None,
            }
        );
        let opened =
            stored(MinutesEvent::DRAFT_OPENED, 1, &format!(r#"{{"details":{DETAILS},"attendance":{attendance}}}"#));
        assert_eq!(
            opened.decode::<MinutesEvent>().unwrap(),
            MinutesEvent::DraftOpened {
                details: stored_details(),
                attendance: expected,
                quorum: vec![],
                speakers: vec![],
                record: None,
            }
        );
    }

    #[test]
    fn a_stored_task_still_decodes() {
        let data = r#"{"item":0,"speakers":["Đ/c A"],"summary":"s","conclusions":["c"],"tasks":[{"description":"Báo cáo","owner_site":"ba-be","due":"2021-08-15"}]}"#;
        let recorded = stored(MinutesEvent::ITEM_RECORDED, 1, data);
        let expected = MinutesEvent::ItemRecorded {
            item: 0,
            speakers: vec!["Đ/c A".into()],
            summary: "s".into(),
            conclusions: vec!["c".into()],
            tasks: vec![Task {
                description: "Báo cáo".into(),
                owner_site: SiteId::parse("ba-be").unwrap(),
                due: NaiveDate::from_ymd_opt(2021, 8, 15).unwrap(),
            }],
        };
        assert_eq!(recorded.decode::<MinutesEvent>().unwrap(), expected);
        assert_eq!(EventEnvelope::new(&expected, "minute-taker").data_value(), recorded.data_value());
    }

    #[test]
    fn stored_submissions_and_approvals_without_versions_still_decode() {
        let submitted = stored(MinutesEvent::MINUTES_SUBMITTED, 1, "{}");
        assert_eq!(submitted.decode::<MinutesEvent>().unwrap(), MinutesEvent::MinutesSubmitted { version: 0 });
        let approved = stored(MinutesEvent::MINUTES_APPROVED, 1, r#"{"approved_by":"Phương Thị Thanh"}"#);
        assert_eq!(
            approved.decode::<MinutesEvent>().unwrap(),
            MinutesEvent::MinutesApproved { approved_by: "Phương Thị Thanh".into(), person_id: None, version: 0 }
        );
        let changes = stored(MinutesEvent::CHANGES_REQUESTED, 1, r#"{"requested_by":"P","version":1,"comment":"c"}"#);
        assert_eq!(
            changes.decode::<MinutesEvent>().unwrap(),
            MinutesEvent::ChangesRequested {
                requested_by: "P".into(),
                person_id: None,
                version: 1,
                comment: "c".into()
            }
        );
        // Details stored before the approval policy existed read as `all`
        assert_eq!(stored_details().approval_policy, ApprovalPolicy::All);
        let policy: ConferenceDetails = serde_json::from_str(DETAILS).unwrap();
        assert_eq!(policy.approval_policy, ApprovalPolicy::All);
    }

    #[test]
    fn a_stored_publication_without_the_html_hash_still_decodes() {
        let published = stored(MinutesEvent::MINUTES_PUBLISHED, 1, r##"{"markdown":"# m","sha256":"ab"}"##);
        let expected = MinutesEvent::MinutesPublished {
            markdown: "# m".into(),
            sha256: "ab".into(),
            document: None,
            html_sha256: None,
            published_at: None,
        };
        assert_eq!(published.decode::<MinutesEvent>().unwrap(), expected);
        assert_eq!(EventEnvelope::new(&expected, "minute-taker").data_value(), published.data_value());
    }

    #[test]
    fn a_publication_stored_out_of_line_carries_the_reference_and_the_whole_hash() {
        // Given a document stored out of line: the event carries its reference, not its text
        let hash = "a".repeat(64);
        let document = StoredObject {
            object: format!("minutes-document/0190e1a2-0000-7000-8000-000000000002/{hash}"),
            size: 9_000_000,
            sha256: hash.clone(),
        };
        let event = MinutesEvent::MinutesPublished {
            markdown: String::new(),
            sha256: hash.clone(),
            document: Some(document.clone()),
            html_sha256: Some("b".repeat(64)),
            published_at: None,
        };
        // Then it round-trips through the log with the reference and the hash of the whole
        let data = EventEnvelope::new(&event, "person:thu-ky").data_value();
        assert_eq!(data["document"], serde_json::json!({"object": document.object, "size": 9_000_000, "sha256": hash}));
        assert_eq!((data["markdown"].as_str(), data["sha256"].as_str()), (Some(""), Some(hash.as_str())));
        let text = serde_json::to_string(&data).unwrap();
        let stored = stored(MinutesEvent::MINUTES_PUBLISHED, 1, &text);
        assert_eq!(stored.decode::<MinutesEvent>().unwrap(), event);
    }

    #[test]
    fn the_payload_types_write_what_the_api_types_write() {
        fn same<A: Serialize, E: Serialize>(api: &A, event: &E) {
            assert_eq!(serde_json::to_value(api).unwrap(), serde_json::to_value(event).unwrap());
        }
        let site = SiteId::parse("ba-be").unwrap();
        let person = api::Person { name: "Hoàng Văn A".into(), title: "Bí thư".into() };
        same(&person, &Person::from(person.clone()));
        let site_ref = api::SiteRef { id: site.clone(), name: "Huyện ủy Ba Bể".into() };
        same(&site_ref, &SiteRef::from(site_ref.clone()));
        let item = api::AgendaItem { title: "Báo cáo".into() };
        same(&item, &AgendaItem::from(item.clone()));
        let task = api::Task {
            description: "Báo cáo".into(),
            owner_site: site.clone(),
            due: NaiveDate::from_ymd_opt(2021, 8, 15).unwrap(),
        };
        same(&task, &Task::from(task.clone()));
        assert_eq!(api::Task::from(&Task::from(task.clone())), task);
        for status in [
            api::AttendanceStatus::Invited,
            api::AttendanceStatus::Confirmed,
            api::AttendanceStatus::Declined,
            api::AttendanceStatus::CheckedIn,
        ] {
            let record = api::AttendanceRecord {
                site_id: site.clone(),
                site_name: "Huyện ủy Ba Bể".into(),
                status,
                confirmed: true,
                delegates: vec![person.clone()],
                headcount: 3,
                decline_reason: Some("lũ".into()),
                checked_in_at: Some(Utc::now()),
                technical_check: Some(api::CheckStatus::Failed),
                technical_check_failed: vec![api::CheckItem::Line],
                presence: None,
            };
            let entry = AttendanceEntry::from(record.clone());
            same(&record, &entry);
            assert_eq!(api::AttendanceRecord::from(&entry), record);
        }
        for status in [api::CheckStatus::Passed, api::CheckStatus::Failed, api::CheckStatus::NotChecked] {
            same(&status, &CheckStatus::from(status));
            assert_eq!(api::CheckStatus::from(CheckStatus::from(status)), status);
        }
        for item in [api::CheckItem::Picture, api::CheckItem::Sound, api::CheckItem::Line] {
            same(&item, &CheckItem::from(item));
        }
    }

    #[test]
    fn the_minutes_note_names_a_check_not_passed_in_vietnamese() {
        assert_eq!(check_note_vi(None, &[]), None, "no check opened");
        assert_eq!(check_note_vi(Some(CheckStatus::Passed), &[]), None);
        assert_eq!(check_note_vi(Some(CheckStatus::NotChecked), &[]).unwrap(), "Chưa kiểm tra kỹ thuật");
        assert_eq!(
            check_note_vi(Some(CheckStatus::Failed), &[CheckItem::Sound, CheckItem::Line]).unwrap(),
            "Kiểm tra kỹ thuật chưa đạt: âm thanh, đường truyền"
        );
    }

    #[test]
    fn a_quorum_rule_requires_its_share_rounded_up_and_the_minutes_say_it_in_vietnamese() {
        let half = QuorumRule { basis: QuorumBasis::Bridges, percent: 50 };
        assert_eq!((half.required(8), half.required(7), half.required(1), half.required(0)), (4, 4, 1, 1));
        let all = QuorumRule { basis: QuorumBasis::Delegates, percent: 100 };
        assert_eq!(all.required(120), 120);
        let snapshot =
            QuorumSnapshot { at: Utc::now(), item: None, rule: half, quorate: true, required: 4, present: 7, total: 8 };
        assert_eq!(snapshot.line_vi(), "Điểm cầu có mặt: 7/8 — đủ số lượng theo quy định (50% điểm cầu, cần 4)");
        assert_eq!(snapshot.moment_vi(), "Khai mạc phiên họp");
        let short = QuorumSnapshot {
            item: Some(2),
            rule: all,
            quorate: false,
            required: 120,
            present: 90,
            total: 120,
            ..snapshot
        };
        assert_eq!(
            short.line_vi(),
            "Đại biểu có mặt: 90/120 — không đủ số lượng theo quy định (100% đại biểu, cần 120)"
        );
        assert_eq!(short.moment_vi(), "Bắt đầu mục 3");
        // Details and records written before quorum rules existed read as no rule, no snapshot
        let details: ConferenceDetails = serde_json::from_str(DETAILS).unwrap();
        assert_eq!(details.quorum, None);
        assert!(!serde_json::to_string(&details).unwrap().contains("quorum"));
    }

    #[test]
    fn an_empty_payload_round_trips() {
        let envelope = EventEnvelope::new(&SchedulingEvent::SessionStarted {}, "secretariat");
        assert_eq!(envelope.decode::<SchedulingEvent>().unwrap(), SchedulingEvent::SessionStarted {});
    }

    #[test]
    fn a_version_1_confirmation_is_upcast_to_named_delegates_with_titles() {
        let mut envelope =
            EventEnvelope::new(&AttendanceEvent::AttendanceConfirmed { delegates: vec![], headcount: 3 }, "site:ba-be");
        envelope.version = 1;
        envelope.set_data(&serde_json::json!({ "delegates": ["Hoàng Văn A", "Lý Thị B"], "headcount": 3 }));
        let expected = AttendanceEvent::AttendanceConfirmed {
            delegates: vec![
                Person { name: "Hoàng Văn A".into(), title: String::new() },
                Person { name: "Lý Thị B".into(), title: String::new() },
            ],
            headcount: 3,
        };
        assert_eq!(envelope.decode::<AttendanceEvent>().unwrap(), expected);
        assert_eq!(EventEnvelope::new(&expected, "site:ba-be").version, 2);
    }

    #[test]
    fn a_newer_version_is_refused_not_misread() {
        let mut envelope = EventEnvelope::new(&SchedulingEvent::SessionEnded {}, "secretariat");
        envelope.version = 9;
        assert!(matches!(envelope.decode::<SchedulingEvent>(), Err(DecodeError::TooNew { .. })));
        envelope.event_type = "meteor_struck".into();
        assert!(matches!(envelope.decode::<SchedulingEvent>(), Err(DecodeError::UnknownType(_))));
    }
}
