//! The JetStream streams that hold the event log: one per service, each written only by its service
//! (see [`crate::Service::stream`]). Their subjects are composed from [`crate::subjects::PREFIX`].

use crate::subjects::subject;

/// A stream: its name and the subjects it captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamDef {
    /// The stream name.
    pub name: &'static str,
    /// The subjects it captures.
    pub subjects: &'static [&'static str],
}

/// Site registry and conference lifecycle, written by the scheduling service.
pub const SCHEDULING: StreamDef =
    StreamDef { name: "HOINGHI_SCHEDULING", subjects: &[subject!("events.sites.>"), subject!("events.scheduling.>")] };

/// Rosters, confirmations, refusals and check-ins, written by the attendance service.
pub const ATTENDANCE: StreamDef =
    StreamDef { name: "HOINGHI_ATTENDANCE", subjects: &[subject!("events.attendance.>")] };

/// Minutes drafts, approvals, publications and acknowledgements, written by the minutes service.
pub const MINUTES: StreamDef = StreamDef { name: "HOINGHI_MINUTES", subjects: &[subject!("events.minutes.>")] };

/// Events a reaction could not process after its retries, parked for an operator with the reason in
/// the `Hoinghi-Dead-Reason` header (subject `hoinghi.v1.dead.<consumer>`).
pub const DEAD_LETTERS: StreamDef = StreamDef { name: "HOINGHI_DEAD_LETTERS", subjects: &[subject!("dead.>")] };

/// Each site's notifications (invitation, reschedule, cancellation, reminders, minutes published) on
/// `hoinghi.v1.notifications.<site>.<kind>`, written by the service that knows the fact. **Not the
/// legal record** (the event streams are): a working stream whose messages expire after a while
/// (see the runtime's stream checks), read by each site with its cursor.
pub const NOTIFICATIONS: StreamDef =
    StreamDef { name: "HOINGHI_NOTIFICATIONS", subjects: &[subject!("notifications.>")] };

/// Durable timers: JetStream message schedules (nats-server >= 2.12, ADR-51) on
/// `hoinghi.v1.timers.reminders.<conference>.<offset>` that the server fires onto
/// `hoinghi.v1.timers.due.<conference>.<offset>`, even while every service is down. Not the record
/// either: schedules may be replaced and purged.
pub const TIMERS: StreamDef = StreamDef { name: "HOINGHI_TIMERS", subjects: &[subject!("timers.>")] };

/// The JetStream object store (bucket) holding what is too large for one event: a conference's
/// attendance record, published minutes. An event references its object by name, size and SHA-256
/// ([`crate::events::StoredObject`]); the object is written before the event and never replaced.
pub const RECORDS_BUCKET: &str = "HOINGHI_RECORDS";

/// The stream under [`RECORDS_BUCKET`] (`OBJ_<bucket>`, as JetStream names an object store's).
pub const RECORDS_BUCKET_STREAM: &str = "OBJ_HOINGHI_RECORDS";

/// The streams that are the record: nothing in them may expire, be deleted or purged.
pub const RECORDS: [StreamDef; 4] = [SCHEDULING, ATTENDANCE, MINUTES, DEAD_LETTERS];

/// The working streams (notifications and timers): derived from the record, with their own settings.
pub const WORKING: [StreamDef; 2] = [NOTIFICATIONS, TIMERS];

/// All streams.
pub const ALL: [StreamDef; 6] = [SCHEDULING, ATTENDANCE, MINUTES, DEAD_LETTERS, NOTIFICATIONS, TIMERS];
