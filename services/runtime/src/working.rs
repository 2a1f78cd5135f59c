//! The settings of the two working streams, checked at start beside the record's
//! ([`crate::streams::ensure_all_streams`]):
//!
//! - `HOINGHI_NOTIFICATIONS` ([`hoinghi_shared::streams::NOTIFICATIONS`]): each site's notifications.
//!   **Not the legal record** (the event streams are, and every notification can be derived from
//!   them again): file storage, limits retention, messages expire after [`NOTIFICATIONS_MAX_AGE`],
//!   a duplicate window of [`NOTIFICATIONS_DUPLICATE_WINDOW`] so that a fan-out written again after
//!   a crash is dropped, deletes and purges denied.
//! - `HOINGHI_TIMERS` ([`hoinghi_shared::streams::TIMERS`]): the reminders' durable timers, JetStream
//!   message schedules (`allow_msg_schedules`, nats-server >= 2.12, ADR-51). File storage, nothing
//!   expires; purges allowed (a cancelled conference's schedules are purged).
//!
//! A difference that would lose or refuse what these streams must hold (memory storage, another
//! retention, other subjects, schedules not allowed on the timers, an age limit on the timers, a
//! mirror) stops the service like one on the record; the operator's choices (a shorter or longer age
//! for the notifications, the duplicate window, purges denied on the timers) are kept with a warning.

use std::time::Duration;

use async_nats::jetstream::stream;
use hoinghi_shared::streams::{StreamDef, NOTIFICATIONS, TIMERS};

use crate::streams::{copies_and_window, Action, Difference, DUPLICATE_WINDOW};

/// How long a notification is kept: 90 days (the events stay for good).
pub const NOTIFICATIONS_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);

/// The notifications' duplicate window: a fan-out written again within an hour of the first (a
/// crash between writing and acknowledging its cause) is dropped by the stream.
pub const NOTIFICATIONS_DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

/// Whether `def` is one of the working streams.
pub fn is_working(def: StreamDef) -> bool {
    def == NOTIFICATIONS || def == TIMERS
}

/// The settings a working stream is created with; `None` for a stream of the record.
pub fn expected_config(def: StreamDef, replicas: usize) -> Option<stream::Config> {
    // The record's settings, but for the age, the window and deletes, which each sets.
    let base = crate::streams::expected_config(def, replicas);
    if def == NOTIFICATIONS {
        Some(stream::Config {
            max_age: NOTIFICATIONS_MAX_AGE,
            duplicate_window: NOTIFICATIONS_DUPLICATE_WINDOW,
            deny_delete: true,
            deny_purge: true,
            ..base
        })
    } else if def == TIMERS {
        Some(stream::Config {
            max_age: Duration::ZERO,
            duplicate_window: DUPLICATE_WINDOW,
            allow_message_schedules: true,
            deny_delete: false,
            deny_purge: false,
            ..base
        })
    } else {
        None
    }
}

/// Every difference between a working stream's expected and found settings, with what to do.
pub fn differences(expected: &stream::Config, found: &stream::Config) -> Vec<Difference> {
    let name = found.name.as_str();
    let timers = expected.allow_message_schedules;
    let mut out = Vec::new();
    let mut add = |field, expected: String, found: String, action, fix: String| {
        out.push(Difference { field, expected, found, action, fix });
    };
    let debug = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
    let rebuild = format!(
        "It is not the record: delete it (`nats stream rm {name}`) and start a service, which creates it again{}",
        if timers { "; reminders not yet fired must then be scheduled again (reschedule the conference)" } else { "" }
    );
    if found.storage != expected.storage {
        add("storage", debug(&expected.storage), debug(&found.storage), Action::Stop, rebuild.clone());
    }
    if found.retention != expected.retention {
        add("retention", debug(&expected.retention), debug(&found.retention), Action::Stop, rebuild.clone());
    }
    let mut want = expected.subjects.clone();
    let mut have = found.subjects.clone();
    want.sort();
    have.sort();
    if want != have {
        add(
            "subjects",
            format!("[{}]", want.join(", ")),
            format!("[{}]", have.join(", ")),
            Action::Stop,
            format!("Set exactly these subjects: `nats stream edit {name} --subjects \"{}\"`", want.join(",")),
        );
    }
    if timers && !found.allow_message_schedules {
        add(
            "allow_msg_schedules",
            "true".to_owned(),
            "false".to_owned(),
            Action::Stop,
            format!("Without message schedules no reminder can be set. {rebuild}"),
        );
    }
    if found.mirror.is_some() || found.sources.as_ref().is_some_and(|s| !s.is_empty()) {
        add("mirror/sources", "none".to_owned(), "set".to_owned(), Action::Stop, rebuild.clone());
    }
    if found.max_age != expected.max_age {
        let (action, fix) = if timers {
            (Action::Stop, format!("A timer could expire before it fires: `nats stream edit {name} --max-age=0`"))
        } else {
            (Action::Keep, "Kept: how long notifications stay listable is the operator's choice".to_owned())
        };
        add("max_age", format!("{:?}", expected.max_age), format!("{:?}", found.max_age), action, fix);
    }
    for (field, value) in [
        ("max_msgs", found.max_messages),
        ("max_bytes", found.max_bytes),
        ("max_msgs_per_subject", found.max_messages_per_subject),
    ] {
        if value > 0 {
            add(
                field,
                "unlimited (-1)".to_owned(),
                value.to_string(),
                Action::Stop,
                format!("Messages beyond this limit are dropped. Remove it with `nats stream edit {name}`"),
            );
        }
    }
    if found.deny_purge != expected.deny_purge {
        add(
            "deny_purge",
            expected.deny_purge.to_string(),
            found.deny_purge.to_string(),
            Action::Keep,
            if timers {
                "Kept: a cancelled conference's reminders cannot be purged and are ignored when they fire".to_owned()
            } else {
                "Kept: the operator's choice".to_owned()
            },
        );
    }
    if found.discard != expected.discard {
        add("discard", debug(&expected.discard), debug(&found.discard), Action::Update, "Set back".to_owned());
    }
    out.extend(copies_and_window(expected, found, false, "Kept: the operator's choice"));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_working_streams_are_created_as_they_are_checked() {
        // Given each working stream as created
        for def in [NOTIFICATIONS, TIMERS] {
            let expected = expected_config(def, 1).unwrap();
            // Then it has no difference with itself
            assert_eq!(differences(&expected, &expected), vec![], "{}", def.name);
        }
        assert!(expected_config(hoinghi_shared::streams::SCHEDULING, 1).is_none());
        assert!(expected_config(TIMERS, 1).unwrap().allow_message_schedules);
        assert!(!expected_config(NOTIFICATIONS, 1).unwrap().max_age.is_zero(), "notifications expire");
    }

    #[test]
    fn timers_without_schedules_stop_and_a_notification_age_is_kept() {
        // Given the timers without schedules, and notifications kept 7 days
        let mut timers = expected_config(TIMERS, 1).unwrap();
        timers.allow_message_schedules = false;
        let mut notifications = expected_config(NOTIFICATIONS, 1).unwrap();
        notifications.max_age = Duration::from_secs(7 * 24 * 3600);
        // When compared
        let t = differences(&expected_config(TIMERS, 1).unwrap(), &timers);
        let n = differences(&expected_config(NOTIFICATIONS, 1).unwrap(), &notifications);
        // Then the timers stop the service, the notifications' age is kept
        assert_eq!(
            t.iter().map(|d| (d.field, d.action)).collect::<Vec<_>>(),
            vec![("allow_msg_schedules", Action::Stop)]
        );
        assert_eq!(n.iter().map(|d| (d.field, d.action)).collect::<Vec<_>>(), vec![("max_age", Action::Keep)]);
    }
}
