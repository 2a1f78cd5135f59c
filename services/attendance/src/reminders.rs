//! Reminders (nhắc lịch) on durable timers, and the notifications attendance knows from its roster.
//!
//! **The plan.** [`Plans`] is part of the projection: for each conference, the reminder offsets in
//! force (the conference's own or 24 h and 1 h), the start and the schedule sequence (from
//! `roster_opened`, then each `roster_rescheduled`), whether the roster is still open, and which
//! sites were reminded for which (sequence, offset) (`reminder_sent`).
//!
//! **Setting the timers.** A durable reaction on attendance's own roster events
//! ([`subscription`], [`on_roster_event`]): when the roster opens and each time it is rescheduled,
//! one JetStream message schedule per offset is published on
//! `hoinghi.v1.timers.reminders.<conference>.<offset>`, targeting
//! `hoinghi.v1.timers.due.<conference>.<offset>`, at the start minus the offset ([`timers_for`]); a
//! new schedule on the same subject replaces the old one, so a rescheduled conference moves its
//! reminders. An offset already past when the schedule was set is not set (its subject is purged).
//! When the roster is cancelled or closed, every timer of the conference is purged. The same
//! reaction writes each invited site's notification of the invitation, the reschedule or the
//! cancellation.
//!
//! **Firing.** The server fires each timer at its time, whether or not any service runs; the fired
//! message waits in the stream for the durable consumer `attendance-reminders-due` ([`on_due`]),
//! which decides ([`decide_due`]): nothing if the roster is no longer open, the fired reminder
//! belongs to an older schedule sequence, or its offset is no longer planned; else a `reminder_sent`
//! event for each invited site that has not answered (nor checked in) and was not reminded for this
//! sequence and offset yet, appended on the site's own subjects (on the condition that the site wrote
//! nothing since: a site answering at that moment is decided again) with the command id
//! `reminder:<conference>:<site>:<sequence>:<offset>`; then a notification for every site reminded
//! for this sequence and offset. The fired message is acknowledged only after both, so a crash
//! anywhere repeats the handling, which the state and the ids make idempotent.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use hoinghi_runtime::aggregate::own_subjects;
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_runtime::store::{Append, AppendError, CommandMeta, EventMeta};
use hoinghi_runtime::telemetry::TraceContext;
use hoinghi_runtime::timers::{self, Fired};
use hoinghi_shared::api::RosterState;
use hoinghi_shared::events::{AttendanceEvent, ConferenceDetails};
use hoinghi_shared::notifications::{reminder_offsets, Notification, NotificationKind, ReminderDue};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::{events, timers as timer_subjects};
use hoinghi_shared::{ConferenceId, SiteId};
use uuid::Uuid;

use crate::commands::Store;
use crate::roster::{Answer, Roster};
use crate::state::AttendanceState;
use crate::SERVICE;

/// The durable consumer of the fired reminders.
pub const DUE_DURABLE: &str = "attendance-reminders-due";

/// One conference's reminders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Seconds before the start, largest first.
    pub offsets: Vec<u32>,
    /// The start as it stands.
    pub starts_at: DateTime<FixedOffset>,
    /// The end as it stands.
    pub ends_at: DateTime<FixedOffset>,
    /// The schedule sequence (0 as invited).
    pub sequence: u32,
    /// When the current schedule was set (invitation or reschedule): an offset due before that is
    /// not reminded.
    pub planned_at: DateTime<Utc>,
    /// Whether the roster is still open (not cancelled, not closed).
    pub active: bool,
    /// Sites reminded, by (sequence, offset): the `reminder_sent` event's id.
    pub reminded: Map<(u32, u32), Map<SiteId, Uuid>>,
}

impl Plan {
    fn new(details: &ConferenceDetails, at: DateTime<Utc>) -> Self {
        Self {
            offsets: reminder_offsets(details.reminder_offsets_s.as_deref()),
            starts_at: details.starts_at,
            ends_at: details.ends_at,
            sequence: 0,
            planned_at: at,
            active: true,
            reminded: Map::default(),
        }
    }

    /// When the reminder `offset_s` seconds before the start is due.
    pub fn due_at(&self, offset_s: u32) -> DateTime<Utc> {
        self.starts_at.with_timezone(&Utc) - Duration::seconds(i64::from(offset_s))
    }
}

/// Every conference's reminders, part of the attendance projection.
#[derive(Debug, Default)]
pub struct Plans {
    /// By conference.
    pub by_conference: Map<ConferenceId, Plan>,
}

impl Plans {
    /// Records what an attendance event changes in the reminders.
    pub fn apply(&mut self, id: ConferenceId, meta: &EventMeta, event: &AttendanceEvent) {
        match event {
            AttendanceEvent::RosterOpened { details } => {
                self.by_conference.entry(id).or_insert_with(|| Plan::new(details, meta.occurred_at));
            }
            AttendanceEvent::RosterRescheduled { starts_at, ends_at, sequence, .. } => {
                if let Some(plan) = self.by_conference.get_mut(&id) {
                    plan.starts_at = *starts_at;
                    plan.ends_at = *ends_at;
                    plan.sequence = *sequence;
                    plan.planned_at = meta.occurred_at;
                }
            }
            AttendanceEvent::RosterCancelled { .. } | AttendanceEvent::RosterClosed { .. } => {
                if let Some(plan) = self.by_conference.get_mut(&id) {
                    plan.active = false;
                }
            }
            AttendanceEvent::ReminderSent { offset_s, sequence, .. } => {
                if let (Some(plan), Some(site)) = (self.by_conference.get_mut(&id), &meta.site_id) {
                    plan.reminded.entry((*sequence, *offset_s)).or_default().insert(site.clone(), meta.id);
                }
            }
            _ => {}
        }
    }
}

/// One timer of a plan: set it at `due_at`, or drop it (`None`: it was already past when the
/// schedule was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// Seconds before the start.
    pub offset_s: u32,
    /// When to fire, or `None` to drop it.
    pub fire_at: Option<DateTime<Utc>>,
}

/// The timers of a plan as it stands at `now`: each offset due after the schedule was set fires at
/// its time (at once if that passed while the service was down); one due before is dropped.
pub fn timers_for(plan: &Plan, now: DateTime<Utc>) -> Vec<Timer> {
    if !plan.active {
        return plan.offsets.iter().map(|&offset_s| Timer { offset_s, fire_at: None }).collect();
    }
    plan.offsets
        .iter()
        .map(|&offset_s| {
            let due = plan.due_at(offset_s);
            let fire_at = (due > plan.planned_at).then(|| due.max(now));
            Timer { offset_s, fire_at }
        })
        .collect()
}

/// What a fired reminder comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueDecision {
    /// Nothing: why.
    Ignore(&'static str),
    /// Remind these sites (in invitation order); `already` were reminded for it before.
    Remind {
        /// Sites to remind now.
        sites: Vec<SiteId>,
        /// Sites reminded for the same sequence and offset before (their notification is written
        /// again, a duplicate the stream drops).
        already: usize,
    },
}

/// Decides a fired reminder against the roster and the plan.
pub fn decide_due(roster: Option<&Roster>, plan: Option<&Plan>, due: &ReminderDue) -> DueDecision {
    let (Some(roster), Some(plan)) = (roster, plan) else { return DueDecision::Ignore("no roster for the conference") };
    if !plan.active || roster.state != Some(RosterState::Open) {
        return DueDecision::Ignore("the roster is no longer open (cancelled or closed)");
    }
    if due.sequence != plan.sequence {
        return DueDecision::Ignore("the reminder belongs to an earlier schedule");
    }
    if !plan.offsets.contains(&due.offset_s) {
        return DueDecision::Ignore("the offset is not planned");
    }
    let reminded = plan.reminded.get(&(due.sequence, due.offset_s));
    let sites = roster
        .invited()
        .iter()
        .filter(|s| {
            roster.sites.get(&s.id).is_some_and(|e| e.answer == Answer::None && e.checked_in_at.is_none())
                && !reminded.is_some_and(|r| r.contains_key(&s.id))
        })
        .map(|s| s.id.clone())
        .collect();
    DueDecision::Remind { sites, already: reminded.map_or(0, Map::len) }
}

/// The durable subscription to attendance's own roster events that set and drop the timers and
/// write the invitation, reschedule and cancellation notifications.
pub fn subscription() -> Subscription {
    Subscription {
        durable: "attendance-reminders",
        source: SERVICE,
        filters: [
            AttendanceEvent::ROSTER_OPENED,
            AttendanceEvent::ROSTER_RESCHEDULED,
            AttendanceEvent::ROSTER_CANCELLED,
            AttendanceEvent::ROSTER_CLOSED,
        ]
        .iter()
        .map(|t| events::of_type(SERVICE, t))
        .collect(),
    }
}

fn retry(e: impl std::fmt::Display) -> ReactionError {
    ReactionError::Retry(e.to_string())
}

/// Sets or drops the timers for a roster event, and writes its notifications.
///
/// # Errors
/// `Retry` while the stream or the projection is unavailable.
pub async fn on_roster_event(store: Store, received: Received) -> Result<(), ReactionError> {
    let event: AttendanceEvent = received.envelope.decode().map_err(retry)?;
    let Some(id) = received.envelope.conference_id else {
        return Err(ReactionError::Permanent("roster event without a conference id".into()));
    };
    store.catch_up().await.map_err(|e| retry(e.message))?;
    let js = store.jetstream().clone();
    // The timers follow the plan as it stands now (a later event sets them again).
    let (plan, title, sites) = store.read(|s| {
        let roster = s.rosters.get(&id);
        (
            s.reminders.by_conference.get(&id).cloned(),
            roster.and_then(|r| r.details.as_ref()).map(|d| d.title.clone()).unwrap_or_default(),
            roster.map(|r| r.invited().iter().map(|s| s.id.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        )
    });
    let Some(plan) = plan else { return Err(retry("the roster's reminder plan is not there yet")) };
    let mut dropped = false;
    for timer in timers_for(&plan, Utc::now()) {
        let subject = timer_subjects::reminder(&id, timer.offset_s);
        match timer.fire_at {
            Some(at) => {
                let due = ReminderDue {
                    conference_id: id,
                    offset_s: timer.offset_s,
                    sequence: plan.sequence,
                    due_at: plan.due_at(timer.offset_s),
                };
                let body = serde_json::to_vec(&due).map_err(retry)?;
                timers::schedule_at(&js, subject, &timer_subjects::due(&id, timer.offset_s), at, body.into())
                    .await
                    .map_err(retry)?;
            }
            None if plan.active => {
                timers::purge(&js, &subject).await.map_err(retry)?;
            }
            None => dropped = true,
        }
    }
    if dropped {
        // Cancelled or closed: every timer of the conference, set or fired and not handled yet.
        timers::purge(&js, &timer_subjects::all_of(&id)).await.map_err(retry)?;
    }
    let fact = match &event {
        AttendanceEvent::RosterOpened { details } => {
            Some((NotificationKind::Invitation, None, details.starts_at, details.ends_at, 0))
        }
        AttendanceEvent::RosterRescheduled { starts_at, ends_at, reason, sequence, .. } => {
            Some((NotificationKind::Rescheduled, Some(reason.clone()), *starts_at, *ends_at, *sequence))
        }
        AttendanceEvent::RosterCancelled { reason } => {
            Some((NotificationKind::Cancelled, Some(reason.clone()), plan.starts_at, plan.ends_at, plan.sequence))
        }
        _ => None,
    };
    if let Some((kind, reason, starts_at, ends_at, sequence)) = fact {
        let all: Vec<Notification> = sites
            .into_iter()
            .map(|site_id| Notification {
                kind,
                site_id,
                conference_id: id,
                title: title.clone(),
                starts_at: Some(starts_at),
                ends_at: Some(ends_at),
                schedule_sequence: sequence,
                reason: reason.clone(),
                offset_s: None,
                minutes_sha256: None,
                text: crate::notifications::text(kind, &title, starts_at, reason.as_deref()),
                caused_by: received.envelope.id,
                occurred_at: received.envelope.occurred_at,
            })
            .collect();
        hoinghi_runtime::notify::publish_all(&js, &all).await.map_err(retry)?;
    }
    Ok(())
}

/// The appends of `reminder_sent` for `sites` in conference `id` (each on the site's own subjects, on
/// the condition that the site wrote nothing since the state was read).
fn reminder_appends(
    state: &AttendanceState,
    id: ConferenceId,
    due: &ReminderDue,
    sites: &[SiteId],
    trace: &TraceContext,
) -> Vec<(Append<AttendanceEvent>, CommandMeta)> {
    let Some(roster) = state.rosters.get(&id) else { return vec![] };
    sites
        .iter()
        .filter_map(|site| {
            let entry = roster.sites.get(site)?;
            let append = Append {
                subject: events::conference_site(SERVICE, &id, site, AttendanceEvent::REMINDER_SENT),
                expect: own_subjects(events::conference_site_filter(SERVICE, &id, site), entry.last_seq),
                event: AttendanceEvent::ReminderSent {
                    offset_s: due.offset_s,
                    sequence: due.sequence,
                    due_at: due.due_at,
                },
                conference_id: Some(id),
                site_id: Some(site.clone()),
            };
            let meta = CommandMeta {
                command_id: format!("reminder:{id}:{site}:{}:{}", due.sequence, due.offset_s),
                actor: actor::service(SERVICE),
                trace: trace.clone(),
                causation_id: None,
            };
            Some((append, meta))
        })
        .collect()
}

/// Handles a fired reminder: records `reminder_sent` for each silent site not reminded yet, then
/// writes every reminded site's notification.
///
/// # Errors
/// `Retry` while the log is unavailable or sites keep changing; `Permanent` for a body that is not
/// a reminder.
pub async fn on_due(store: Store, fired: Fired) -> Result<(), ReactionError> {
    let due: ReminderDue = serde_json::from_slice(&fired.payload)
        .map_err(|e| ReactionError::Permanent(format!("{}: not a reminder: {e}", fired.subject)))?;
    let id = due.conference_id;
    let trace = TraceContext::new_root();
    let started = std::time::Instant::now();
    let mut written = 0usize;
    for round in 1..=6 {
        store.catch_up().await.map_err(|e| retry(e.message))?;
        let (decision, appends) = store.read(|s| {
            let decision = decide_due(s.rosters.get(&id), s.reminders.by_conference.get(&id), &due);
            let appends = match &decision {
                DueDecision::Remind { sites, .. } => reminder_appends(s, id, &due, sites, &trace),
                DueDecision::Ignore(_) => vec![],
            };
            (decision, appends)
        });
        if let DueDecision::Ignore(why) = decision {
            tracing::info!(conference = %id, offset_s = due.offset_s, sequence = due.sequence, why, "fired reminder ignored");
            return Ok(());
        }
        if appends.is_empty() {
            break;
        }
        let results = store.append_many(appends).await;
        let conflicts = results.iter().filter(|r| matches!(r, Err(AppendError::Conflict))).count();
        written += results.iter().filter(|r| r.is_ok()).count();
        if let Some(Err(e)) = results.iter().find(|r| matches!(r, Err(e) if !matches!(e, AppendError::Conflict))) {
            return Err(retry(format!("recording reminders: {e}")));
        }
        if conflicts == 0 {
            break;
        }
        tracing::debug!(conference = %id, conflicts, round, "sites changed while being reminded; deciding again");
        if round == 6 {
            return Err(retry(format!("{conflicts} sites kept changing while being reminded")));
        }
    }
    // Every site reminded for this sequence and offset, now or by an earlier delivery.
    let notifications = store.read(|s| {
        let Some(plan) = s.reminders.by_conference.get(&id) else { return vec![] };
        let title = s.rosters.get(&id).and_then(|r| r.details.as_ref()).map(|d| d.title.clone()).unwrap_or_default();
        let Some(reminded) = plan.reminded.get(&(due.sequence, due.offset_s)) else { return vec![] };
        reminded
            .iter()
            .map(|(site, event_id)| Notification {
                kind: NotificationKind::Reminder,
                site_id: site.clone(),
                conference_id: id,
                title: title.clone(),
                starts_at: Some(plan.starts_at),
                ends_at: Some(plan.ends_at),
                schedule_sequence: due.sequence,
                reason: None,
                offset_s: Some(due.offset_s),
                minutes_sha256: None,
                text: crate::notifications::text(NotificationKind::Reminder, &title, plan.starts_at, None),
                caused_by: *event_id,
                occurred_at: due.due_at,
            })
            .collect::<Vec<_>>()
    });
    hoinghi_runtime::notify::publish_all(store.jetstream(), &notifications).await.map_err(retry)?;
    tracing::info!(
        conference = %id,
        offset_s = due.offset_s,
        sequence = due.sequence,
        reminded = written,
        notified = notifications.len(),
        late_ms = (Utc::now() - due.due_at).num_milliseconds(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "reminders sent"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{details, site};

    fn meta(seq: u64, site_id: Option<&str>, at: DateTime<Utc>) -> EventMeta {
        EventMeta {
            seq,
            subject: String::new(),
            id: Uuid::now_v7(),
            conference_id: None,
            site_id: site_id.map(site),
            occurred_at: at,
            actor: "service:attendance".into(),
            command_id: None,
        }
    }

    /// Given a roster opened at `at` for `details()` (sites in invitation order), with the events
    /// applied to both the roster and the plans.
    struct Given {
        id: ConferenceId,
        roster: Roster,
        plans: Plans,
        seq: u64,
    }

    impl Given {
        fn opened(details: ConferenceDetails, at: DateTime<Utc>) -> Self {
            let mut g =
                Self { id: ConferenceId::generate(), roster: Roster::default(), plans: Plans::default(), seq: 0 };
            g.event(AttendanceEvent::RosterOpened { details }, None, at);
            g
        }

        fn event(&mut self, event: AttendanceEvent, site_id: Option<&str>, at: DateTime<Utc>) -> &mut Self {
            use hoinghi_runtime::aggregate::Aggregate;
            self.seq += 1;
            let meta = meta(self.seq, site_id, at);
            self.roster.apply(&event, &meta);
            self.plans.apply(self.id, &meta, &event);
            self
        }

        fn plan(&self) -> &Plan {
            self.plans.by_conference.get(&self.id).unwrap()
        }

        fn due(&self, offset_s: u32, sequence: u32) -> ReminderDue {
            ReminderDue { conference_id: self.id, offset_s, sequence, due_at: self.plan().due_at(offset_s) }
        }

        fn when_due(&self, offset_s: u32, sequence: u32) -> DueDecision {
            decide_due(Some(&self.roster), Some(self.plan()), &self.due(offset_s, sequence))
        }
    }

    fn start_of(d: &ConferenceDetails) -> DateTime<Utc> {
        d.starts_at.with_timezone(&Utc)
    }

    fn confirmed() -> AttendanceEvent {
        AttendanceEvent::AttendanceConfirmed { delegates: vec![crate::testing::delegate().into()], headcount: 2 }
    }

    fn ids(list: &[&str]) -> Vec<SiteId> {
        list.iter().map(|s| site(s)).collect()
    }

    fn invited(d: &ConferenceDetails) -> Vec<String> {
        d.sites.iter().map(|s| s.id.to_string()).collect()
    }

    #[test]
    fn the_default_offsets_are_24_hours_and_1_hour_each_set_at_its_time() {
        // Given a roster opened two days before the start, with no offsets of its own
        let d = details();
        let g = Given::opened(d.clone(), start_of(&d) - Duration::days(2));
        // When the timers are set
        let timers = timers_for(g.plan(), start_of(&d) - Duration::days(2));
        // Then one fires 24 h before the start, one 1 h before
        assert_eq!(
            timers,
            vec![
                Timer { offset_s: 86_400, fire_at: Some(start_of(&d) - Duration::hours(24)) },
                Timer { offset_s: 3_600, fire_at: Some(start_of(&d) - Duration::hours(1)) },
            ]
        );
    }

    #[test]
    fn an_offset_already_past_at_the_invitation_is_dropped_and_one_missed_while_down_fires_at_once() {
        // Given a conference invited 2 hours before its start
        let d = details();
        let g = Given::opened(d.clone(), start_of(&d) - Duration::hours(2));
        // When its timers are set 90 minutes late (the service was down)
        let now = start_of(&d) - Duration::minutes(30);
        let timers = timers_for(g.plan(), now);
        // Then the 24 h reminder is dropped and the 1 h one fires at once
        assert_eq!(
            timers,
            vec![Timer { offset_s: 86_400, fire_at: None }, Timer { offset_s: 3_600, fire_at: Some(now) }]
        );
    }

    #[test]
    fn a_fired_reminder_goes_to_the_sites_that_have_not_answered_nor_checked_in() {
        // Given a roster where the first site confirmed, the second declined and the third checked in
        let d = details();
        let sites = invited(&d);
        let mut g = Given::opened(d.clone(), start_of(&d) - Duration::days(2));
        let at = start_of(&d) - Duration::days(1);
        g.event(confirmed(), Some(&sites[0]), at)
            .event(AttendanceEvent::AttendanceDeclined { reason: "lũ".into() }, Some(&sites[1]), at)
            .event(AttendanceEvent::SiteCheckedIn {}, Some(&sites[2]), at);
        // When the 1 h reminder fires
        let decision = g.when_due(3_600, 0);
        // Then every other site is reminded, in invitation order
        let rest: Vec<&str> = sites[3..].iter().map(String::as_str).collect();
        assert_eq!(decision, DueDecision::Remind { sites: ids(&rest), already: 0 });
    }

    #[test]
    fn a_site_already_reminded_for_this_offset_is_not_reminded_again() {
        // Given every site but the first reminded 1 h before
        let d = details();
        let sites = invited(&d);
        let mut g = Given::opened(d.clone(), start_of(&d) - Duration::days(2));
        for s in &sites[1..] {
            let event = AttendanceEvent::ReminderSent { offset_s: 3_600, sequence: 0, due_at: g.plan().due_at(3_600) };
            g.event(event, Some(s), start_of(&d) - Duration::hours(1));
        }
        // When the same reminder is delivered again
        let decision = g.when_due(3_600, 0);
        // Then only the first site is left, and the others are counted as already reminded
        assert_eq!(decision, DueDecision::Remind { sites: ids(&[&sites[0]]), already: sites.len() - 1 });
        // And the 24 h reminder is its own
        assert!(matches!(g.when_due(86_400, 0), DueDecision::Remind { sites, .. } if sites.len() == d.sites.len()));
    }

    #[test]
    fn a_cancelled_or_closed_roster_reminds_nobody_and_drops_its_timers() {
        let d = details();
        for end in [
            AttendanceEvent::RosterCancelled { reason: "bão".into() },
            AttendanceEvent::RosterClosed {
                details: d.clone(),
                attendance: vec![],
                quorum: vec![],
                speakers: vec![],
                record: None,
            },
        ] {
            // Given a roster cancelled (or closed)
            let mut g = Given::opened(d.clone(), start_of(&d) - Duration::days(2));
            g.event(end, None, start_of(&d) - Duration::days(1));
            // When a reminder fires
            // Then nobody is reminded, and every timer is dropped
            assert!(matches!(g.when_due(3_600, 0), DueDecision::Ignore(_)));
            assert!(timers_for(g.plan(), Utc::now()).iter().all(|t| t.fire_at.is_none()));
        }
    }

    #[test]
    fn a_rescheduled_conference_moves_its_reminders_and_ignores_the_old_ones() {
        // Given a conference moved a day later (sequence 1)
        let d = details();
        let mut g = Given::opened(d.clone(), start_of(&d) - Duration::days(2));
        let (starts_at, ends_at) = (d.starts_at + Duration::days(1), d.ends_at + Duration::days(1));
        let moved = AttendanceEvent::RosterRescheduled {
            starts_at,
            ends_at,
            reason: "bão".into(),
            sequence: 1,
            reanswer: false,
        };
        g.event(moved, None, start_of(&d) - Duration::days(1) - Duration::hours(12));
        // When the timers are set again
        let timers = timers_for(g.plan(), Utc::now().min(start_of(&d) - Duration::days(1) - Duration::hours(12)));
        // Then they fire a day later
        let new_start = starts_at.with_timezone(&Utc);
        assert_eq!(timers[1], Timer { offset_s: 3_600, fire_at: Some(new_start - Duration::hours(1)) });
        // And a reminder of the first schedule that still fires is ignored, one of the new one is not
        assert_eq!(g.when_due(3_600, 0), DueDecision::Ignore("the reminder belongs to an earlier schedule"));
        assert!(matches!(g.when_due(3_600, 1), DueDecision::Remind { .. }));
    }

    #[test]
    fn an_offset_the_conference_did_not_plan_is_ignored() {
        // Given a conference with its own offsets, 2 h only
        let mut d = details();
        d.reminder_offsets_s = Some(vec![7_200]);
        let g = Given::opened(d.clone(), start_of(&d) - Duration::days(2));
        // When a 1 h reminder fires
        // Then it is ignored; the 2 h one reminds
        assert_eq!(g.when_due(3_600, 0), DueDecision::Ignore("the offset is not planned"));
        assert!(matches!(g.when_due(7_200, 0), DueDecision::Remind { .. }));
    }
}
