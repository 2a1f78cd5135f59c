//! Each site's notifications and the reminders that produce some of them.
//!
//! A notification is a message on `hoinghi.v1.notifications.<site>.<kind>`
//! ([`crate::subjects::notifications`]) held by the `HOINGHI_NOTIFICATIONS` stream
//! ([`crate::streams::NOTIFICATIONS`]): written by the service that knows the fact (attendance for
//! the invitation, a reschedule, a cancellation and the reminders, which it knows from its roster;
//! minutes for the published minutes), once per site and fact (`Nats-Msg-Id` derived from the
//! causing event and the site). A site subscribes to its own subjects live, or lists them since a
//! cursor (the stream sequence) with [`NotificationsQuery`] on
//! `hoinghi.v1.attendance.sites.<site>.notifications`. Notifications are **not the legal record**:
//! the events are; notifications expire with the stream's `max_age`.
//!
//! Reminders: a conference has reminder offsets before its start (seconds; default
//! [`DEFAULT_REMINDER_OFFSETS_S`], 24 h and 1 h), set by the secretariat when it schedules the
//! conference ([`validate_reminder_offsets`]). Each offset is a durable timer, a JetStream message
//! schedule whose fired message carries a [`ReminderDue`].

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{ConferenceId, SiteId};
use crate::ApiError;

/// The reminder offsets of a conference that does not set its own: 24 hours and 1 hour before the
/// start.
pub const DEFAULT_REMINDER_OFFSETS_S: [u32; 2] = [24 * 3600, 3600];

/// The most reminder offsets a conference may set.
pub const MAX_REMINDER_OFFSETS: usize = 5;

/// The longest reminder offset: 30 days before the start.
pub const MAX_REMINDER_OFFSET_S: u32 = 30 * 24 * 3600;

/// The most notifications one list answers.
pub const MAX_NOTIFICATIONS_PAGE: usize = 500;

/// The number of notifications a list answers when not told.
pub const DEFAULT_NOTIFICATIONS_PAGE: usize = 100;

/// Checks the reminder offsets a secretariat asked for and returns them from the earliest reminder
/// (largest offset) to the latest, without repeats.
///
/// # Errors
/// `invalid` for an offset of 0 or over 30 days, or more than [`MAX_REMINDER_OFFSETS`].
pub fn validate_reminder_offsets(offsets: &[u32]) -> Result<Vec<u32>, ApiError> {
    if offsets.len() > MAX_REMINDER_OFFSETS {
        return Err(ApiError::invalid(format!(
            "reminder_offsets_s holds {} offsets; at most {MAX_REMINDER_OFFSETS}",
            offsets.len()
        )));
    }
    if let Some(bad) = offsets.iter().find(|o| **o == 0 || **o > MAX_REMINDER_OFFSET_S) {
        return Err(ApiError::invalid(format!(
            "reminder_offsets_s: {bad} is not a number of seconds before the start between 1 and \
             {MAX_REMINDER_OFFSET_S} (30 days)"
        )));
    }
    let mut out = offsets.to_vec();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.dedup();
    Ok(out)
}

/// The offsets in force: the conference's own, or the default.
pub fn reminder_offsets(own: Option<&[u32]>) -> Vec<u32> {
    own.map_or_else(|| DEFAULT_REMINDER_OFFSETS_S.to_vec(), <[u32]>::to_vec)
}

/// What a notification is about (`snake_case`, also the last token of its subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The site was invited (giấy mời).
    Invitation,
    /// The conference moved to a new time.
    Rescheduled,
    /// The conference was cancelled.
    Cancelled,
    /// The site has not answered and the conference is near (nhắc lịch).
    Reminder,
    /// The minutes were published; the site should acknowledge them.
    MinutesPublished,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 5] =
        [Self::Invitation, Self::Rescheduled, Self::Cancelled, Self::Reminder, Self::MinutesPublished];

    /// The subject token: `invitation`, `rescheduled`, `cancelled`, `reminder`, `minutes_published`.
    pub const fn token(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
            Self::Reminder => "reminder",
            Self::MinutesPublished => "minutes_published",
        }
    }
}

/// One notification to one site: what the message on `hoinghi.v1.notifications.<site>.<kind>` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// What it is about.
    pub kind: NotificationKind,
    /// The site it is for.
    pub site_id: SiteId,
    /// The conference.
    pub conference_id: ConferenceId,
    /// The conference's title.
    pub title: String,
    /// The start, as it stands when the notification was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<FixedOffset>>,
    /// The end, as it stands when the notification was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<FixedOffset>>,
    /// The schedule sequence it refers to (0 as first invited).
    #[serde(default)]
    pub schedule_sequence: u32,
    /// A reschedule's or a cancellation's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A reminder's offset before the start, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_s: Option<u32>,
    /// The published minutes' SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_sha256: Option<String>,
    /// A short text for a person, in Vietnamese.
    pub text: String,
    /// The event that caused it.
    pub caused_by: Uuid,
    /// When the fact happened.
    pub occurred_at: DateTime<Utc>,
}

impl Notification {
    /// The `Nats-Msg-Id` of this notification: one per causing event, kind and site, so a repeated
    /// write is dropped by the stream's duplicate window.
    pub fn message_id(&self) -> String {
        format!("notify:{}:{}:{}", self.caused_by, self.kind.token(), self.site_id)
    }
}

/// `{since?, limit?}`: the body of `hoinghi.v1.attendance.sites.<site>.notifications`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationsQuery {
    /// The cursor: the sequence of the last notification already seen (0 or absent: from the first).
    #[serde(default)]
    pub since: u64,
    /// At most this many, 1 to [`MAX_NOTIFICATIONS_PAGE`] (default [`DEFAULT_NOTIFICATIONS_PAGE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// A notification as listed, with its cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationEntry {
    /// Its sequence in the notifications stream: pass the last one as `since` to read on.
    pub seq: u64,
    /// The notification.
    #[serde(flatten)]
    pub notification: Notification,
}

/// The reply of a notifications list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationsPage {
    /// The site.
    pub site_id: SiteId,
    /// The notifications after `since`, oldest first.
    pub notifications: Vec<NotificationEntry>,
    /// The cursor to pass as `since` next (the last sequence listed, or `since` if none).
    pub next: u64,
    /// Whether more notifications follow.
    pub more: bool,
}

/// The body of a reminder's schedule and of the message the server fires
/// (`hoinghi.v1.timers.due.<conference>.<offset>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderDue {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Seconds before the start.
    pub offset_s: u32,
    /// The schedule sequence the reminder was set for: a fired reminder of an older schedule is
    /// ignored.
    pub sequence: u32,
    /// When it is due.
    pub due_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn offsets_are_checked_sorted_and_deduplicated() {
        assert_eq!(validate_reminder_offsets(&[3600, 86400, 3600]).unwrap(), vec![86400, 3600]);
        assert_eq!(validate_reminder_offsets(&[]).unwrap(), Vec::<u32>::new());
        assert!(validate_reminder_offsets(&[0]).is_err());
        assert!(validate_reminder_offsets(&[MAX_REMINDER_OFFSET_S + 1]).is_err());
        assert!(validate_reminder_offsets(&[MAX_REMINDER_OFFSET_S]).is_ok());
        assert!(validate_reminder_offsets(&[1, 2, 3, 4, 5, 6]).is_err());
        assert_eq!(reminder_offsets(None), vec![86400, 3600]);
        assert_eq!(reminder_offsets(Some(&[5])), vec![5]);
    }

    #[test]
    fn every_kind_has_its_token_as_its_json_name() {
        for kind in NotificationKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.token()));
        }
    }
}
