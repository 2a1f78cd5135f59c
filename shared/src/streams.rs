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

/// All streams.
pub const ALL: [StreamDef; 4] = [SCHEDULING, ATTENDANCE, MINUTES, DEAD_LETTERS];
