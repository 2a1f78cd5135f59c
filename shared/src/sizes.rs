//! Message sizes: the server's `max_payload`, the largest request each subject takes, and the room a
//! reply has.
//!
//! Most requests are tiny (a conference id), a few carry lists (a conference's sites, a bridge's
//! delegates, an agenda item's record). Each subject takes at most [`max_request_bytes`]; a larger
//! body is answered `too_large` (413) as soon as it arrives, before it is parsed, so that a burst of
//! maximum-size messages costs a service little and cannot hold its connection up. The server's
//! `max_payload` bounds every message, events included; nats-server discourages more than 8 MB.

use crate::service::Service;
use crate::subjects::{attendance, minutes, scheduling, PREFIX};

/// The `max_payload` every hoinghi deployment sets on nats-server: 8 MiB, the most NATS recommends.
pub const SERVER_MAX_PAYLOAD: usize = 8 * 1024 * 1024;

/// The `max_payload` line of a nats-server configuration file.
pub const SERVER_MAX_PAYLOAD_CONF: &str = "max_payload: 8MB";

/// The `max_pending` line of a nats-server configuration file: how much the server buffers for one
/// connection before it cuts it as a slow consumer. 256 MB instead of the default 64 MB, so that a
/// service briefly starved of CPU while a burst of maximum-size requests arrives (16 requests of
/// 8 MB on one subject: `tests/e2e/large_requests.rs`) is not cut: the server holds the burst and
/// the service answers it when it runs again.
pub const SERVER_MAX_PENDING_CONF: &str = "max_pending: 256MB";

/// The most a request of an ordinary subject may carry: ids, a page query, a name.
pub const DEFAULT_REQUEST_BYTES: usize = 64 * 1024;

/// The most a request with one free text (a decline or cancellation reason) may carry.
pub const TEXT_REQUEST_BYTES: usize = 256 * 1024;

/// The most a bridge's confirmation (its delegates) may carry.
pub const CONFIRM_REQUEST_BYTES: usize = 1024 * 1024;

/// The most an agenda item's record (speakers, summary, conclusions, tasks) may carry.
pub const RECORD_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// The most a new conference (up to 50,000 site ids, chairs, guests, agenda) may carry.
pub const CREATE_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Room kept in every message for its headers (trace context, error headers, message id).
pub const HEADER_ROOM: usize = 4 * 1024;

/// The largest body a request on `subject` may carry (`subject` may be an endpoint's pattern, with
/// `*` for the site).
pub fn max_request_bytes(subject: &str) -> usize {
    let action = subject.rsplit('.').next().unwrap_or_default();
    let per_site = |service: Service| subject.starts_with(&format!("{PREFIX}.{service}.sites."));
    match subject {
        scheduling::CREATE => CREATE_REQUEST_BYTES,
        scheduling::CANCEL | scheduling::RESCHEDULE => TEXT_REQUEST_BYTES,
        _ if minutes::person_of_command(subject).is_some() && action == minutes::RECORD => RECORD_REQUEST_BYTES,
        minutes::TASKS_REVIEW => TEXT_REQUEST_BYTES,
        _ if per_site(Service::Minutes) && subject.ends_with(&format!(".{}", minutes::SITE_TASKS_REPORT)) => {
            TEXT_REQUEST_BYTES
        }
        _ if per_site(Service::Attendance) && action == attendance::CONFIRM => CONFIRM_REQUEST_BYTES,
        _ if per_site(Service::Attendance) && action == attendance::DECLINE => TEXT_REQUEST_BYTES,
        _ => DEFAULT_REQUEST_BYTES,
    }
}

/// The largest reply body that fits in a message of a server with `max_payload`.
pub fn max_reply_bytes(max_payload: usize) -> usize {
    max_payload.saturating_sub(HEADER_ROOM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SiteId;

    #[test]
    fn lists_may_be_large_and_everything_else_is_small() {
        let site = SiteId::parse("ba-be").unwrap_or_else(|_| unreachable!());
        assert_eq!(max_request_bytes(scheduling::CREATE), CREATE_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&attendance::any_site(attendance::CONFIRM)), CONFIRM_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&attendance::site_command(&site, attendance::CONFIRM)), CONFIRM_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&attendance::any_site(attendance::DECLINE)), TEXT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(scheduling::CANCEL), TEXT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(scheduling::RESCHEDULE), TEXT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&attendance::any_site(attendance::SCHEDULE_SEEN)), DEFAULT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&minutes::any_person(minutes::RECORD)), RECORD_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&minutes::any_person(minutes::APPROVE)), DEFAULT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(minutes::TASKS_REVIEW), TEXT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&minutes::any_site(minutes::SITE_TASKS_REPORT)), TEXT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&minutes::site_command(&site, minutes::SITE_TASKS_REPORT)), TEXT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&minutes::any_site(minutes::SITE_TASKS_LIST)), DEFAULT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(minutes::TASKS_LIST), DEFAULT_REQUEST_BYTES);
        for small in [scheduling::GET, scheduling::INVITE, attendance::ROSTER, minutes::NOTICES_GET, minutes::GET] {
            assert_eq!(max_request_bytes(small), DEFAULT_REQUEST_BYTES, "{small}");
        }
        assert_eq!(max_request_bytes(&minutes::any_site(minutes::ACKNOWLEDGE)), DEFAULT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&attendance::any_site(attendance::CHECK_IN)), DEFAULT_REQUEST_BYTES);
        assert_eq!(max_request_bytes(&attendance::any_site(attendance::STATUS)), DEFAULT_REQUEST_BYTES);
    }

    #[test]
    fn every_request_and_reply_fits_the_server() {
        for limit in [CREATE_REQUEST_BYTES, RECORD_REQUEST_BYTES, CONFIRM_REQUEST_BYTES, TEXT_REQUEST_BYTES] {
            assert!(limit + HEADER_ROOM <= SERVER_MAX_PAYLOAD);
        }
        assert_eq!(max_reply_bytes(SERVER_MAX_PAYLOAD), SERVER_MAX_PAYLOAD - HEADER_ROOM);
        assert!(SERVER_MAX_PAYLOAD_CONF.ends_with("8MB"));
    }
}
