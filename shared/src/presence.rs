//! Live presence of each bridge during the session: the heartbeat a bridge's endpoint sends while it
//! is connected, the line the roster shows, and what the attendance record keeps.
//!
//! A bridge publishes (no reply) `{conference_id}` on `hoinghi.v1.presence.sites.<site>`
//! ([`crate::subjects::presence::site`]) every `presence.heartbeat_interval_ms`. Attendance turns
//! heartbeats into transitions only (`site_connected`, `site_dropped`, `site_rejoined`), one event
//! per transition, never one per heartbeat (see `services/attendance/src/presence.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::ConferenceId;

/// The body of a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The conference the bridge is connected to.
    pub conference_id: ConferenceId,
}

/// Where a bridge's link stands now (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// No heartbeat heard during the session.
    NeverConnected,
    /// Heartbeats are arriving.
    Connected,
    /// No heartbeat for the grace period.
    Dropped,
}

/// One connected interval, to the second. In the attendance record `until` is always set (an
/// interval still open at the end of the session is closed at the end time); on the live roster an
/// open interval has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    /// The first heartbeat heard.
    pub from: DateTime<Utc>,
    /// The last heartbeat heard before the drop, or the end of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl Interval {
    /// Its length in whole seconds, counting an open interval up to `now`.
    pub fn seconds(&self, now: DateTime<Utc>) -> u64 {
        u64::try_from((self.until.unwrap_or(now) - self.from).num_seconds()).unwrap_or(0)
    }
}

/// A site's presence as the attendance record keeps it (`roster_closed`, `draft_opened`; absent for
/// a site never heard, and in records written before presence existed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceRecord {
    /// Total connected time, in seconds, over every interval (exact, also when intervals were merged).
    pub connected_s: u64,
    /// The connected intervals, in time order, each closed. At most the cap of the record
    /// ([`crate::limits::presence_interval_cap`]): beyond it the earliest are merged into one
    /// interval spanning them.
    pub intervals: Vec<Interval>,
    /// How many intervals were merged into the first one to stay within the cap (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub merged: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A site's presence on its line of the roster (`presence`, absent before the session starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SitePresence {
    /// Its state now.
    pub state: PresenceState,
    /// Since when (the transition's time), when connected or dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Every connected interval, the last one open while connected.
    pub intervals: Vec<Interval>,
    /// Total connected time so far, in seconds.
    pub connected_s: u64,
}

/// `12600` as `3h30m00s`, `75` as `1m15s`, for people.
pub fn describe_seconds(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_for_people() {
        assert_eq!(describe_seconds(12_600), "3h30m00s");
        assert_eq!(describe_seconds(75), "1m15s");
        assert_eq!(describe_seconds(9), "9s");
    }
}
