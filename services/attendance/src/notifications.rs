//! Each site's notifications, as attendance serves them: the list a site reads since its cursor
//! (`hoinghi.v1.attendance.sites.<site>.notifications`, `{since?, limit?}`, answered from the
//! `HOINGHI_NOTIFICATIONS` stream, the site taken from the subject, never the body), and the texts
//! of the notifications attendance writes ([`crate::reminders`] writes them).

use chrono::{DateTime, FixedOffset};
use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::notifications::{
    NotificationKind, NotificationsPage, NotificationsQuery, DEFAULT_NOTIFICATIONS_PAGE, MAX_NOTIFICATIONS_PAGE,
};
use hoinghi_shared::subjects::attendance as subjects;
use hoinghi_shared::ApiError;

use crate::commands::Store;

/// Adds the notifications endpoint to the host.
///
/// # Errors
/// The server refused the subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    host.endpoint("sites-notifications", &subjects::any_site(subjects::NOTIFICATIONS), move |r| list(store.clone(), r))
        .await
}

/// A site lists its notifications after `since`.
pub async fn list(store: Store, request: Incoming) -> Reply {
    let site = request.acting_site()?;
    let query: NotificationsQuery = parse_body(&request.payload, "{since?, limit?}")?;
    let limit = query.limit.unwrap_or(DEFAULT_NOTIFICATIONS_PAGE);
    if limit == 0 || limit > MAX_NOTIFICATIONS_PAGE {
        return Err(ApiError::invalid(format!("limit must be between 1 and {MAX_NOTIFICATIONS_PAGE}")));
    }
    let (notifications, next, more) = hoinghi_runtime::notify::list(store.jetstream(), &site, query.since, limit)
        .await
        .map_err(|e| ApiError::unavailable(format!("the notifications could not be read: {e}")))?;
    json(&NotificationsPage { site_id: site, notifications, next, more })
}

/// The text of a notification, for a person (Vietnamese).
pub fn text(kind: NotificationKind, title: &str, starts_at: DateTime<FixedOffset>, reason: Option<&str>) -> String {
    let when = starts_at.format("%H:%M ngày %d/%m/%Y");
    let why = reason.map(|r| format!(" Lý do: {r}.")).unwrap_or_default();
    match kind {
        NotificationKind::Invitation => format!("Giấy mời dự {title}, bắt đầu lúc {when}."),
        NotificationKind::Rescheduled => format!("Đổi lịch: {title} chuyển sang {when}.{why}"),
        NotificationKind::Cancelled => format!("Hủy hội nghị: {title}.{why}"),
        NotificationKind::Reminder => {
            format!("Nhắc lịch: {title} bắt đầu lúc {when}; đơn vị chưa xác nhận tham dự hoặc báo vắng.")
        }
        NotificationKind::MinutesPublished => format!("Biên bản {title} đã được công bố; đề nghị xác nhận đã nhận."),
    }
}
