//! The JetStream streams that hold the event log: one per service, each written only by its service.

/// A stream: its name and the subjects it captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamDef {
    /// The stream name.
    pub name: &'static str,
    /// The subjects it captures.
    pub subjects: &'static [&'static str],
}

/// Service token of the scheduling service in event subjects.
pub const SCHEDULING_SERVICE: &str = "scheduling";
/// Service token of the attendance service in event subjects.
pub const ATTENDANCE_SERVICE: &str = "attendance";
/// Service token of the minutes service in event subjects.
pub const MINUTES_SERVICE: &str = "minutes";

/// Site registry and conference lifecycle, written by the scheduling service.
pub const SCHEDULING: StreamDef = StreamDef {
    name: "HOINGHI_SCHEDULING",
    subjects: &["hoinghi.v1.events.sites.>", "hoinghi.v1.events.scheduling.>"],
};

/// Rosters, confirmations, refusals and check-ins, written by the attendance service.
pub const ATTENDANCE: StreamDef =
    StreamDef { name: "HOINGHI_ATTENDANCE", subjects: &["hoinghi.v1.events.attendance.>"] };

/// Minutes drafts, approvals, publications and acknowledgements, written by the minutes service.
pub const MINUTES: StreamDef = StreamDef { name: "HOINGHI_MINUTES", subjects: &["hoinghi.v1.events.minutes.>"] };

/// Events a reaction could not process after its retries, parked for an operator with the reason in
/// the `Hoinghi-Dead-Reason` header (subject `hoinghi.v1.dead.<consumer>`).
pub const DEAD_LETTERS: StreamDef = StreamDef { name: "HOINGHI_DEAD_LETTERS", subjects: &["hoinghi.v1.dead.>"] };

/// All streams.
pub const ALL: [StreamDef; 4] = [SCHEDULING, ATTENDANCE, MINUTES, DEAD_LETTERS];
