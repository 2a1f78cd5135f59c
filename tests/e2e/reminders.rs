//! Reminders on durable timers (JetStream message schedules) and each site's notifications: timers
//! set when invitations go out fire while every service is SIGKILLed and are handled when the
//! services come back, exactly once per silent site and offset; none for sites that answered, none
//! after a cancel; a rescheduled conference's reminders move.

use std::time::Duration;

use chrono::{FixedOffset, Utc};
use hoinghi_shared::api::{RescheduleConference, RosterState};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::notifications::{NotificationKind, NotificationsPage};
use hoinghi_shared::streams::TIMERS;
use hoinghi_shared::subjects::{events, timers};
use hoinghi_shared::{ConferenceId, SiteId};
use hoinghi_tests::{eventually, flow, scenario, Api, Service, Stack};

/// Schedules the scenario's conference starting `start_in` from now, with these reminder offsets
/// (seconds), and issues its invitations.
async fn invited_in(api: &Api, start_in: Duration, offsets: &[u32]) -> ConferenceId {
    let mut request = scenario::create_conference();
    let vn = FixedOffset::east_opt(7 * 3600).unwrap();
    let start = (Utc::now() + start_in).with_timezone(&vn);
    request.starts_at = start;
    request.ends_at = start + chrono::Duration::hours(3);
    request.reminder_offsets_s = Some(offsets.to_vec());
    let id = api.create(&request).await.unwrap().id;
    flow::invite(api, id).await.unwrap();
    id
}

/// How many `reminder_sent` events a site (or every site: `None`) has in a conference.
async fn reminders(stack: &Stack, id: ConferenceId, site: Option<&SiteId>) -> usize {
    let filter = match site {
        Some(site) => events::conference_site(Service::Attendance, &id, site, AttendanceEvent::REMINDER_SENT),
        None => format!("hoinghi.v1.events.attendance.{id}.*.{}", AttendanceEvent::REMINDER_SENT),
    };
    stack.count_events(Service::Attendance.stream().name, &filter).await.unwrap()
}

/// How many timers of a conference the timers stream holds.
async fn timers_held(stack: &Stack, id: ConferenceId) -> usize {
    stack.count_events(TIMERS.name, &timers::reminders_of(&id)).await.unwrap()
}

/// The kinds of a site's notifications about conference `id`, in order.
fn kinds(page: &NotificationsPage, id: ConferenceId) -> Vec<NotificationKind> {
    page.notifications.iter().filter(|n| n.notification.conference_id == id).map(|n| n.notification.kind).collect()
}

/// Waits (at most ten seconds) until the timers stream holds `n` timers of `id`; `otherwise` says
/// what is wrong until then.
async fn until_timers_held(stack: &Stack, id: ConferenceId, n: usize, otherwise: &str) {
    eventually(Duration::from_secs(10), || async {
        if timers_held(stack, id).await == n {
            Ok(())
        } else {
            Err(otherwise)
        }
    })
    .await
    .unwrap();
}

/// A site's notifications, once `n` of them are about `id` (within ten seconds).
async fn notifications_for(api: &Api, site: &SiteId, id: ConferenceId, n: usize) -> NotificationsPage {
    eventually(Duration::from_secs(10), || async {
        let page = api.notifications(site, 0, None).await.map_err(|e| e.to_string())?;
        if kinds(&page, id).len() == n {
            Ok(page)
        } else {
            Err(format!("{:?}", kinds(&page, id)))
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_fire_while_every_service_is_killed_once_per_silent_site_and_offset() {
    let mut stack = Stack::start().await.unwrap();
    let api = stack.api.clone();
    flow::register_sites(&api).await.unwrap();
    // Reminders 12 s and 8 s before a start 16 s away: due in about 4 s and 8 s.
    let id = invited_in(&api, Duration::from_secs(16), &[12, 8]).await;
    let sites = scenario::site_ids();
    // Three sites answer: two confirm, one declines.
    flow::answer(&api, id, &sites[0]).await.unwrap();
    flow::answer(&api, id, &sites[1]).await.unwrap();
    api.decline(&sites[2], id, "Đường bị sạt lở").await.unwrap();
    let answered = &sites[..3];
    let silent = &sites[3..];
    // The two timers are set…
    eventually(Duration::from_secs(10), || async {
        let held = timers_held(&stack, id).await;
        if held == 2 {
            Ok(())
        } else {
            Err(format!("{held} timers held"))
        }
    })
    .await
    .unwrap();
    // …then every service is SIGKILLed, and stays down until both are due.
    for service in Service::ALL {
        stack.kill(service);
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(timers_held(&stack, id).await, 0, "the server fired both timers while no service ran");
    for service in Service::ALL {
        stack.start_service(service).await.unwrap();
    }
    // When the services are back, each silent site is reminded once per offset.
    let expected = silent.len() * 2;
    eventually(Duration::from_secs(20), || async {
        let n = reminders(&stack, id, None).await;
        if n == expected {
            Ok(())
        } else {
            Err(format!("{n} reminders of {expected}"))
        }
    })
    .await
    .unwrap();
    // A restart (redelivery of anything not acknowledged) sends none again.
    stack.restart(Service::Attendance).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(reminders(&stack, id, None).await, expected, "exactly once");
    for site in silent {
        assert_eq!(reminders(&stack, id, Some(site)).await, 2, "{site} is reminded at 12 s and at 8 s");
    }
    for site in answered {
        assert_eq!(reminders(&stack, id, Some(site)).await, 0, "{site} answered and is not reminded");
    }
    // Each site's notifications: the invitation, then a reminder per offset for the silent ones.
    let silent_page = notifications_for(&api, &silent[0], id, 3).await;
    assert_eq!(
        kinds(&silent_page, id),
        [NotificationKind::Invitation, NotificationKind::Reminder, NotificationKind::Reminder]
    );
    let offsets: Vec<Option<u32>> = silent_page.notifications[1..].iter().map(|n| n.notification.offset_s).collect();
    assert_eq!(offsets.iter().filter(|o| o.is_some()).count(), 2);
    assert!(silent_page.notifications.iter().all(|n| n.notification.site_id == silent[0]), "only its own");
    let answered_page = api.notifications(&answered[0], 0, None).await.unwrap();
    assert_eq!(kinds(&answered_page, id), [NotificationKind::Invitation]);
    // The cursor: after the last one there is nothing more.
    let after = api.notifications(&silent[0], silent_page.next, None).await.unwrap();
    assert!(after.notifications.is_empty() && !after.more, "{after:?}");
    assert_eq!(after.next, silent_page.next);
    // Two at a time, the cursor reads on.
    let first = api.notifications(&silent[0], 0, Some(2)).await.unwrap();
    assert_eq!((first.notifications.len(), first.more), (2, true));
    let rest = api.notifications(&silent[0], first.next, Some(2)).await.unwrap();
    assert_eq!((rest.notifications.len(), rest.more), (1, false));
    assert_eq!(stack.dead_letters().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_conference_reminds_nobody_and_a_rescheduled_one_moves_its_reminders() {
    let stack = Stack::start().await.unwrap();
    let api = stack.api.clone();
    flow::register_sites(&api).await.unwrap();
    let sites = scenario::site_ids();
    // Two conferences with a reminder 6 s before a start 12 s away.
    let cancelled = invited_in(&api, Duration::from_secs(12), &[6]).await;
    let moved = invited_in(&api, Duration::from_secs(12), &[6]).await;
    for id in [cancelled, moved] {
        until_timers_held(&stack, id, 1, "timer not set").await;
    }
    // One is cancelled: its timer is purged.
    api.cancel(cancelled, "Bão số 3").await.unwrap();
    flow::wait_roster(&api, cancelled, RosterState::Cancelled).await.unwrap();
    until_timers_held(&stack, cancelled, 0, "timer still held").await;
    // The other moves 12 s later: its reminder is then due 12 s after the first one was.
    let vn = FixedOffset::east_opt(7 * 3600).unwrap();
    let view = api.conference(moved).await.unwrap();
    let later = chrono::Duration::seconds(12);
    let rescheduled = api
        .reschedule(&RescheduleConference {
            conference_id: moved,
            starts_at: (view.starts_at + later).with_timezone(&vn),
            ends_at: (view.ends_at + later).with_timezone(&vn),
            reason: "Lãnh đạo bận đột xuất".into(),
            reanswer: false,
        })
        .await
        .unwrap();
    assert_eq!(rescheduled.schedule_sequence, 1);
    // Past the first due time: nobody reminded in either.
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert_eq!(reminders(&stack, cancelled, None).await, 0, "none after a cancel");
    assert_eq!(reminders(&stack, moved, None).await, 0, "the moved conference's reminder moved too");
    // Past the new due time: every site of the moved conference reminded once, none of the other.
    eventually(Duration::from_secs(20), || async {
        let n = reminders(&stack, moved, None).await;
        if n == sites.len() {
            Ok(())
        } else {
            Err(format!("{n} reminders"))
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(reminders(&stack, moved, None).await, sites.len());
    assert_eq!(reminders(&stack, cancelled, None).await, 0);
    // Each site was told: invitation and cancellation of one, invitation, reschedule and reminder
    // of the other.
    let page = notifications_for(&api, &sites[0], moved, 3).await;
    assert_eq!(kinds(&page, cancelled), [NotificationKind::Invitation, NotificationKind::Cancelled]);
    assert_eq!(
        kinds(&page, moved),
        [NotificationKind::Invitation, NotificationKind::Rescheduled, NotificationKind::Reminder]
    );
    let reminder = page.notifications.iter().find(|n| n.notification.kind == NotificationKind::Reminder).unwrap();
    assert_eq!(reminder.notification.schedule_sequence, 1, "the reminder is of the new schedule");
    assert_eq!(stack.dead_letters().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_refused_for_bad_cursors_and_limits() {
    let stack = Stack::start().await.unwrap();
    let api = stack.api.clone();
    let site = scenario::site("ba-be");
    let page = api.notifications(&site, 0, None).await.unwrap();
    assert!(page.notifications.is_empty() && !page.more);
    for limit in [0, 501] {
        let e = api.notifications(&site, 0, Some(limit)).await.unwrap_err();
        assert_eq!(e.code, hoinghi_shared::ErrorCode::Invalid, "{e:?}");
    }
}

/// Authentication on: a site lists and watches its own notifications, and the server refuses it
/// another site's list and live subject, and writing any notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_authentication_a_site_reads_its_own_notifications_and_is_refused_another_s() {
    use futures::StreamExt;
    use hoinghi_shared::notifications::Notification;
    use hoinghi_shared::subjects::{attendance, notifications};
    use hoinghi_tests::secure::Attempt;

    use crate::common::secure_stack;

    let stack = secure_stack().await;
    let secretariat = &stack.secretariat;
    let ba_be = stack.connect("site-ba-be").await.unwrap();
    let (s_ba_be, s_na_ri) = (scenario::site("ba-be"), scenario::site("na-ri"));

    // Ba Bể watches its own notifications live; the server lets it.
    let mut own = ba_be.api.watch_notifications(&s_ba_be).await.unwrap();
    // It may not watch Na Rì's, nor everyone's.
    let mut spy = ba_be.nats().subscribe(notifications::site_all(&s_na_ri)).await.unwrap();
    let mut wide = ba_be.nats().subscribe(notifications::ALL.to_owned()).await.unwrap();
    ba_be.nats().flush().await.unwrap();
    for subject in [notifications::site_all(&s_na_ri), notifications::ALL.to_owned()] {
        let report = ba_be.wait_report(&format!("Subscription to \"{subject}\""), Duration::from_secs(5)).await;
        assert!(report.is_ok(), "{report:?}");
    }
    assert!(
        ba_be
            .wait_report("Subscription to \"hoinghi.v1.notifications.ba-be", Duration::from_millis(500))
            .await
            .is_err(),
        "its own subscription is allowed"
    );

    // The secretariat invites: Ba Bể is notified live and can list it.
    let id = flow::invited(&secretariat.api).await.unwrap();
    let live = tokio::time::timeout(Duration::from_secs(10), own.next()).await.unwrap().unwrap();
    let notification: Notification = serde_json::from_slice(&live.payload).unwrap();
    assert_eq!(
        (notification.kind, &notification.site_id, notification.conference_id),
        (NotificationKind::Invitation, &s_ba_be, id)
    );
    let page = ba_be.api.notifications(&s_ba_be, 0, None).await.unwrap();
    assert_eq!(kinds(&page, id), [NotificationKind::Invitation]);
    for sub in [&mut spy, &mut wide] {
        let got = tokio::time::timeout(Duration::from_millis(500), sub.next()).await;
        assert!(!matches!(got, Ok(Some(_))), "Ba Bể received another site's notification: {got:?}");
    }

    // Listing Na Rì's is refused by the server, and so is writing a notification.
    let list = serde_json::to_vec(&serde_json::json!({})).unwrap();
    let subject = attendance::site_command(&s_na_ri, attendance::NOTIFICATIONS);
    let attempt = ba_be.attempt(&subject, list).await;
    assert!(matches!(&attempt, Attempt::Refused(r) if r.contains(&subject)), "{attempt:?}");
    let forged = notifications::site(&s_ba_be, NotificationKind::Invitation.token());
    let attempt = ba_be.attempt(&forged, live.payload.clone()).await;
    assert!(matches!(&attempt, Attempt::Refused(r) if r.contains(&forged)), "{attempt:?}");

    // A cancellation reaches it live too.
    secretariat.api.cancel(id, "Bão số 3").await.unwrap();
    let live = tokio::time::timeout(Duration::from_secs(10), own.next()).await.unwrap().unwrap();
    let notification: Notification = serde_json::from_slice(&live.payload).unwrap();
    assert_eq!(notification.kind, NotificationKind::Cancelled);
    assert_eq!(notification.reason.as_deref(), Some("Bão số 3"));
}
