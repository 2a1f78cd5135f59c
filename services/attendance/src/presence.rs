//! Live presence (issue 11): each bridge's heartbeats turned into transitions, one event per
//! transition and never one per heartbeat.
//!
//! **Heartbeats.** A bridge's endpoint publishes `{conference_id}` (no reply) on
//! `hoinghi.v1.presence.sites.<site>` every `presence.heartbeat_interval_ms`; the server lets a site
//! publish only its own. Every attendance instance hears every heartbeat with a plain core
//! subscription on its API connection (not a queue group: each instance keeps the whole picture,
//! so any of them can decide a drop, and a restart of one loses nothing another heard), and keeps
//! the last time heard per (conference, site) in memory ([`Tracker`]). A heartbeat for a conference
//! that is not in session (between `session_started`, i.e. `technical_check_closed`, and the
//! roster's close), or from a site not invited, is ignored and counted.
//!
//! **Transitions.** [`SitePresence`] is one site's presence aggregate in a conference, on
//! `…attendance.<conference>.<site>.presence.<type>` (one token deeper than the site's answers, so
//! presence never races a confirmation): `site_connected` (the first heartbeat of the session),
//! `site_dropped` (no heartbeat for `presence.grace_ms`; it carries the last time heard, which ends
//! the interval) and `site_rejoined`. Each is appended with optimistic concurrency on the site's
//! presence subjects and the message id `presence:<conference>:<site>:<n>:<type>` (`n` the number
//! of intervals before it), so two instances deciding the same transition write it once: the second
//! is a duplicate, or loses the race, catches up and finds nothing to do.
//!
//! **Stopped hearing or not listening.** An instance that starts, or whose NATS connection
//! reconnects, was not listening before: for one grace period after it ([`Tracker::listening`]) it
//! decides no drop. A site connected in the log that heartbeats within that window simply stays
//! connected, with no event; only a site silent for a whole grace period of listening is dropped.
//! Its last heartbeat happened while no one listened, so the drop records the moment listening
//! started (or the interval's start, if later) as its last time heard: an upper bound, never a lost
//! interval.
//!
//! **Intervals.** The intervals come from the events only, so they survive restarts: a restart in
//! the middle of an interval continues it. The roster's line shows the state now, the intervals (the
//! last one open while connected) and the total; the attendance record closes any interval still
//! open at the session's end time ([`Presence::record`]) and keeps at most
//! [`presence_interval_cap`] intervals per site (the earliest merged, the total exact).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;
use hoinghi_runtime::aggregate::{decide, own_subjects, Address, Aggregate};
use hoinghi_runtime::collections::Map;
use hoinghi_runtime::config::PresenceSettings;
use hoinghi_runtime::store::{CommandMeta, Decision, EventMeta};
use hoinghi_runtime::telemetry::TraceContext;
use hoinghi_shared::api::RosterState;
use hoinghi_shared::events::{AttendanceEntry, AttendanceEvent, DomainEvent};
use hoinghi_shared::limits::presence_interval_cap;
use hoinghi_shared::presence::{Heartbeat, Interval, PresenceRecord, PresenceState, SitePresence as PresenceView};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::{events, presence as subjects};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::commands::Store;
use crate::roster::Roster;
use crate::SERVICE;

/// Whether `event` is a presence transition (it goes to [`Presence`], not to the site's answers).
pub fn is_presence(event: &AttendanceEvent) -> bool {
    matches!(
        event,
        AttendanceEvent::SiteConnected { .. }
            | AttendanceEvent::SiteDropped { .. }
            | AttendanceEvent::SiteRejoined { .. }
    )
}

/// One site's presence in a conference: its connected intervals, from its transitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitePresence {
    /// Connected intervals in time order; the last is open while the site is connected.
    pub intervals: Vec<Interval>,
    /// Stream sequence of its last transition (0: none).
    pub last_seq: u64,
}

impl SitePresence {
    /// Its state now.
    pub fn state(&self) -> PresenceState {
        match self.intervals.last() {
            None => PresenceState::NeverConnected,
            Some(i) if i.until.is_none() => PresenceState::Connected,
            Some(_) => PresenceState::Dropped,
        }
    }

    /// Total connected seconds, an open interval counted up to `now`.
    pub fn connected_s(&self, now: DateTime<Utc>) -> u64 {
        self.intervals.iter().map(|i| i.seconds(now)).sum()
    }

    /// The line of the roster.
    pub fn view(&self, now: DateTime<Utc>) -> PresenceView {
        let since = self.intervals.last().map(|i| i.until.unwrap_or(i.from));
        PresenceView {
            state: self.state(),
            since,
            intervals: self.intervals.clone(),
            connected_s: self.connected_s(now),
        }
    }

    /// What the attendance record keeps: intervals closed at `ended_at` (those starting after it
    /// left out), at most `cap` (the earliest merged into one), the exact total. `None` for a site
    /// never heard, or when the record has no room for presence (`cap` 0).
    pub fn record(&self, ended_at: DateTime<Utc>, cap: usize) -> Option<PresenceRecord> {
        let mut intervals: Vec<Interval> = self
            .intervals
            .iter()
            .filter(|i| i.from <= ended_at)
            .map(|i| Interval { from: i.from, until: Some(i.until.unwrap_or(ended_at).min(ended_at)) })
            .collect();
        if intervals.is_empty() || cap == 0 {
            return None;
        }
        let connected_s = intervals.iter().map(|i| i.seconds(ended_at)).sum();
        let mut merged = 0;
        if intervals.len() > cap {
            let excess = intervals.len() - cap;
            let until = intervals[excess].until;
            intervals.drain(1..=excess);
            intervals[0].until = until;
            merged = u32::try_from(excess + 1).unwrap_or(u32::MAX);
        }
        Some(PresenceRecord { connected_s, intervals, merged })
    }

    /// The message id of its next transition: `presence:<conference>:<site>:<n>:<type>`.
    pub fn command_id(&self, (conference, site): &(ConferenceId, SiteId), event: &AttendanceEvent) -> String {
        format!("presence:{conference}:{site}:{}:{}", self.intervals.len(), event.event_type())
    }
}

/// What the heartbeats say about a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceCommand {
    /// A heartbeat was heard at `at`.
    Heard {
        /// When.
        at: DateTime<Utc>,
    },
    /// No heartbeat for the grace period; the last was heard at `last_heard_at`.
    Silent {
        /// The last heartbeat heard.
        last_heard_at: DateTime<Utc>,
    },
}

impl Aggregate for SitePresence {
    type Id = (ConferenceId, SiteId);
    type Event = AttendanceEvent;
    type Command = PresenceCommand;

    /// A heartbeat connects a site never heard or rejoins a dropped one; silence drops a connected
    /// one; anything else changes nothing. Times are kept to the second.
    fn handle(
        &self,
        _id: &(ConferenceId, SiteId),
        command: PresenceCommand,
    ) -> Result<Option<AttendanceEvent>, ApiError> {
        let last = self.intervals.last();
        Ok(match (command, self.state()) {
            (PresenceCommand::Heard { at }, PresenceState::NeverConnected) => {
                Some(AttendanceEvent::SiteConnected { at: at.trunc_subsecs(0) })
            }
            (PresenceCommand::Heard { at }, PresenceState::Dropped) => {
                // Never before the end of the interval it follows.
                let floor = last.and_then(|i| i.until).unwrap_or(at);
                Some(AttendanceEvent::SiteRejoined { at: at.trunc_subsecs(0).max(floor) })
            }
            (PresenceCommand::Silent { last_heard_at }, PresenceState::Connected) => {
                let from = last.map_or(last_heard_at, |i| i.from);
                Some(AttendanceEvent::SiteDropped { last_heard_at: last_heard_at.trunc_subsecs(0).max(from) })
            }
            _ => None,
        })
    }

    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        match event {
            AttendanceEvent::SiteConnected { at } | AttendanceEvent::SiteRejoined { at }
                if self.state() != PresenceState::Connected =>
            {
                self.intervals.push(Interval { from: *at, until: None });
            }
            AttendanceEvent::SiteDropped { last_heard_at } => {
                if let Some(open) = self.intervals.last_mut().filter(|i| i.until.is_none()) {
                    open.until = Some((*last_heard_at).max(open.from));
                }
            }
            _ => {}
        }
        self.last_seq = meta.seq;
    }

    /// `…attendance.<conference>.<site>.presence.<type>`, on the condition that no transition was
    /// written for the site since it was read.
    fn address(&self, (conference, site): &(ConferenceId, SiteId), event: &AttendanceEvent) -> Address {
        Address::of_site(
            events::conference_site_presence(SERVICE, conference, site, event.event_type()),
            own_subjects(events::conference_site_presence_filter(SERVICE, conference, site), self.last_seq),
            conference,
            site,
        )
    }
}

/// The presence of every site of one conference (held by its [`Roster`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    /// By site; a site never heard has no entry.
    pub sites: Map<SiteId, SitePresence>,
}

impl Presence {
    /// Records a transition: it takes effect while the roster is `open`, and otherwise only counts in
    /// the site's sequence.
    pub fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta, open: bool) {
        let Some(site) = &meta.site_id else { return };
        let entry = self.sites.entry(site.clone()).or_default();
        if open {
            entry.apply(event, meta);
        } else {
            entry.last_seq = meta.seq;
        }
    }

    /// One site's presence (a site never heard: the default).
    pub fn site(&self, site: &SiteId) -> SitePresence {
        self.sites.get(site).cloned().unwrap_or_default()
    }

    /// What the record of `site` keeps, the session ended at `ended_at`, `invited` sites sharing
    /// the record's presence budget.
    pub fn record(&self, site: &SiteId, invited: usize, ended_at: DateTime<Utc>) -> Option<PresenceRecord> {
        self.sites.get(site)?.record(ended_at, presence_interval_cap(invited))
    }
}

impl Roster {
    /// Whether the session is under way: the roster is open and the session started (the start
    /// closed the technical check).
    pub fn in_session(&self) -> bool {
        self.state == Some(RosterState::Open) && self.technical_check.is_closed()
    }

    /// Decides what the heartbeats say about `site`.
    ///
    /// # Errors
    /// `conflict` outside the session, `forbidden` for a site not invited.
    pub fn decide_presence(
        &self,
        id: &ConferenceId,
        site: &SiteId,
        command: PresenceCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        if !self.in_session() {
            return Err(ApiError::conflict(format!("conference {id} is not in session")));
        }
        if !self.sites.contains_key(site) {
            return Err(ApiError::forbidden(format!("site {site} is not invited to conference {id}")));
        }
        decide(&self.presence.site(site), &(*id, site.clone()), command)
    }

    /// A site's line of presence on the roster, once the session started (`None` before).
    pub fn presence_view(&self, site: &SiteId, now: DateTime<Utc>) -> Option<PresenceView> {
        (self.technical_check.is_closed() || self.presence.sites.contains_key(site))
            .then(|| self.presence.site(site).view(now))
    }

    /// Sets each line's presence in a closing record as of `ended_at`, the session's end.
    pub fn stamp_presence(&self, attendance: &mut [AttendanceEntry], ended_at: DateTime<Utc>) {
        let invited = self.invited().len();
        for entry in attendance {
            entry.presence = self.presence.record(&entry.site_id, invited, ended_at);
        }
    }
}

/// A roster close decided in `state`, with each line's presence as of `ended_at` (the session's
/// end); any other decision as it is.
///
/// # Errors
/// The decision's refusal.
pub fn stamp_close(
    state: &crate::state::AttendanceState,
    id: &ConferenceId,
    decision: Result<Decision<AttendanceEvent>, ApiError>,
    ended_at: DateTime<Utc>,
) -> Result<Decision<AttendanceEvent>, ApiError> {
    let mut decision = decision?;
    if let (Decision::Append(append), Some(roster)) = (&mut decision, state.rosters.get(id)) {
        if let AttendanceEvent::RosterClosed { attendance, .. } = &mut append.event {
            roster.stamp_presence(attendance, ended_at.trunc_subsecs(0));
        }
    }
    Ok(decision)
}

// ------------------------------------------------------------------ the instance's listening

/// Counters of what the instance heard, for logs and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Heartbeats taken into account.
    pub heartbeats: u64,
    /// Ignored: the conference is not in session (or unknown).
    pub not_in_session: u64,
    /// Ignored: the site is not invited.
    pub not_invited: u64,
    /// Ignored: not a heartbeat (subject or body).
    pub malformed: u64,
    /// Transitions this instance wrote.
    pub transitions: u64,
}

/// What the instance heard, as Prometheus figures (`hoinghi_presence_…`, read at each scrape).
pub fn figures(tracker: &Mutex<Tracker>) -> Vec<hoinghi_runtime::metrics::Figure> {
    let c = tracker.lock().map(|t| t.counters).unwrap_or_default();
    let counter = |name, help, value| hoinghi_runtime::metrics::Figure { name, help, counter: true, value };
    vec![
        counter("hoinghi_presence_heartbeats", "Bridges' heartbeats taken into account", c.heartbeats),
        counter(
            "hoinghi_presence_not_in_session",
            "Heartbeats ignored: the conference is not in session",
            c.not_in_session,
        ),
        counter("hoinghi_presence_not_invited", "Heartbeats ignored: the site is not invited", c.not_invited),
        counter("hoinghi_presence_malformed", "Heartbeats ignored: not a heartbeat (subject or body)", c.malformed),
        counter(
            "hoinghi_presence_transitions",
            "Presence transitions this instance wrote (connected, dropped, rejoined)",
            c.transitions,
        ),
    ]
}

/// Last time heard.
#[derive(Debug, Clone, Copy)]
struct Heard {
    at: DateTime<Utc>,
    instant: Instant,
}

/// What one instance heard: the last heartbeat per (conference, site), since when it listens, and
/// the transitions it is writing.
#[derive(Debug)]
pub struct Tracker {
    heard: std::collections::HashMap<(ConferenceId, SiteId), Heard>,
    listening_since: Instant,
    listening_since_at: DateTime<Utc>,
    in_flight: HashSet<(ConferenceId, SiteId)>,
    /// What it heard so far.
    pub counters: Counters,
}

impl Tracker {
    /// A tracker that starts listening now.
    pub fn new(now: Instant, now_at: DateTime<Utc>) -> Self {
        Self {
            heard: std::collections::HashMap::new(),
            listening_since: now,
            listening_since_at: now_at,
            in_flight: HashSet::new(),
            counters: Counters::default(),
        }
    }

    /// Starts a new listening window (a reconnect: heartbeats may have been missed).
    pub fn restart_listening(&mut self, now: Instant, now_at: DateTime<Utc>) {
        self.listening_since = now;
        self.listening_since_at = now_at;
    }

    /// Whether the instance has listened for a whole grace period (only then does silence mean a
    /// drop).
    pub fn listening(&self, now: Instant, grace: Duration) -> bool {
        now.duration_since(self.listening_since) >= grace
    }

    /// The drops due at `now`: sites connected in `roster` unheard for `grace` (a site never heard
    /// by this instance counts from the start of listening, and its last time heard is when
    /// listening started, or its interval's start if later).
    pub fn due_drops(
        &self,
        id: ConferenceId,
        roster: &Roster,
        now: Instant,
        grace: Duration,
    ) -> Vec<(SiteId, DateTime<Utc>)> {
        if !self.listening(now, grace) || !roster.in_session() {
            return vec![];
        }
        roster
            .presence
            .sites
            .iter()
            .filter(|(_, p)| p.state() == PresenceState::Connected)
            .filter_map(|(site, p)| {
                let key = (id, site.clone());
                if self.in_flight.contains(&key) {
                    return None;
                }
                let from = p.intervals.last().map_or(self.listening_since_at, |i| i.from);
                let (instant, at) = self
                    .heard
                    .get(&key)
                    .map_or((self.listening_since, self.listening_since_at.max(from)), |h| (h.instant, h.at));
                (now.duration_since(instant) >= grace).then(|| (site.clone(), at))
            })
            .collect()
    }
}

/// Runs presence for this instance until `shutdown`: the heartbeat subscription and the sweeper.
///
/// # Errors
/// The server refused the subscription.
pub async fn run(
    store: Store,
    api: async_nats::Client,
    settings: PresenceSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<Arc<Mutex<Tracker>>> {
    let tracker = Arc::new(Mutex::new(Tracker::new(Instant::now(), Utc::now())));
    let mut heartbeats = api.subscribe(subjects::ALL).await?;
    info!(
        subject = subjects::ALL,
        interval_ms = settings.heartbeat_interval_ms,
        grace_ms = settings.grace_ms,
        "listening to the bridges' heartbeats"
    );
    let (s, t, stop) = (store.clone(), tracker.clone(), shutdown.clone());
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                _ = stop.cancelled() => return,
                m = heartbeats.next() => match m { Some(m) => m, None => return },
            };
            on_heartbeat(&s, &t, &message.subject, &message.payload);
        }
    });
    let t = tracker.clone();
    tokio::spawn(async move { sweep(store, api, t, settings, shutdown).await });
    Ok(tracker)
}

/// One heartbeat: remembered, and a transition started if the site is not connected in the log.
fn on_heartbeat(store: &Store, tracker: &Arc<Mutex<Tracker>>, subject: &str, payload: &[u8]) {
    let now = Utc::now();
    let parsed = subjects::site_of(subject)
        .and_then(|s| SiteId::parse(s).ok())
        .zip(serde_json::from_slice::<Heartbeat>(payload).ok());
    let mut t = tracker.lock().unwrap_or_else(|e| e.into_inner());
    let Some((site, Heartbeat { conference_id: id })) = parsed else {
        t.counters.malformed += 1;
        return;
    };
    let state = store.read(|s| {
        let roster = s.rosters.get(&id).filter(|r| r.in_session())?;
        Some(roster.sites.contains_key(&site).then(|| roster.presence.sites.get(&site).map(SitePresence::state)))
    });
    match state {
        None => t.counters.not_in_session += 1,
        Some(None) => t.counters.not_invited += 1,
        Some(Some(state)) => {
            t.counters.heartbeats += 1;
            let key = (id, site);
            t.heard.insert(key.clone(), Heard { at: now, instant: Instant::now() });
            if state != Some(PresenceState::Connected) && t.in_flight.insert(key.clone()) {
                drop(t);
                transition(store.clone(), tracker.clone(), key, PresenceCommand::Heard { at: now });
            }
        }
    }
}

/// Decides and appends one transition in the background.
fn transition(store: Store, tracker: Arc<Mutex<Tracker>>, key: (ConferenceId, SiteId), command: PresenceCommand) {
    tokio::spawn(async move {
        let (id, site) = key.clone();
        let command_id = store.read(|s| {
            let roster = s.rosters.get(&id)?;
            match roster.decide_presence(&id, &site, command) {
                Ok(Decision::Append(a)) => Some(roster.presence.site(&site).command_id(&key, &a.event)),
                _ => None,
            }
        });
        let result = match command_id {
            None => Ok(false),
            Some(command_id) => {
                let meta = CommandMeta {
                    command_id,
                    actor: actor::service(SERVICE),
                    trace: TraceContext::new_root(),
                    causation_id: None,
                };
                let never = Roster::default();
                store
                    .execute(
                        &meta,
                        |s| s.rosters.get(&id).unwrap_or(&never).decide_presence(&id, &site, command),
                        |_, seq| Ok(seq.is_some()),
                    )
                    .await
            }
        };
        let mut t = tracker.lock().unwrap_or_else(|e| e.into_inner());
        t.in_flight.remove(&key);
        match result {
            Ok(true) => {
                t.counters.transitions += 1;
                debug!(conference = %id, %site, ?command, "presence transition");
            }
            Ok(false) => {}
            // Outside the session by now, or the log unavailable: the next heartbeat or sweep decides again.
            Err(e) => debug!(conference = %id, %site, error = %e.message, "presence transition not written"),
        }
    });
}

/// Every `sweep_ms`: restarts the listening window after a reconnect, and drops the sites unheard
/// for the grace period.
async fn sweep(
    store: Store,
    api: async_nats::Client,
    tracker: Arc<Mutex<Tracker>>,
    settings: PresenceSettings,
    shutdown: CancellationToken,
) {
    let grace = Duration::from_millis(settings.grace_ms);
    let mut ticker = tokio::time::interval(Duration::from_millis(settings.sweep_ms.max(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let statistics = api.statistics();
    let connects = || statistics.connects.load(std::sync::atomic::Ordering::Relaxed);
    let mut seen_connects = connects();
    let mut connected = true;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        let up = api.connection_state() == async_nats::connection::State::Connected;
        let reconnects = connects();
        if reconnects != seen_connects || (up && !connected) {
            warn!("reconnected to NATS: heartbeats may have been missed; no drop is decided for one grace period");
            tracker.lock().unwrap_or_else(|e| e.into_inner()).restart_listening(now, Utc::now());
        }
        seen_connects = reconnects;
        connected = up;
        if !up {
            continue;
        }
        let due: Vec<(ConferenceId, SiteId, DateTime<Utc>)> = {
            let t = tracker.lock().unwrap_or_else(|e| e.into_inner());
            if !t.listening(now, grace) {
                continue;
            }
            store.read(|s| {
                s.rosters
                    .iter()
                    .filter(|(_, r)| r.in_session())
                    .flat_map(|(id, r)| t.due_drops(*id, r, now, grace).into_iter().map(|(site, at)| (*id, site, at)))
                    .collect()
            })
        };
        for (id, site, last_heard_at) in due {
            let key = (id, site);
            let started = tracker.lock().unwrap_or_else(|e| e.into_inner()).in_flight.insert(key.clone());
            if started {
                transition(store.clone(), tracker.clone(), key, PresenceCommand::Silent { last_heard_at });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::roster::RosterCommand;
    use crate::testing::{at, details, opened, site, Log};
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::ErrorCode;

    fn t(minute: i64) -> DateTime<Utc> {
        "2021-07-23T01:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(minute)
    }

    fn key(s: &str) -> (ConferenceId, SiteId) {
        (ConferenceId::generate(), site(s))
    }

    fn heard(minute: i64) -> PresenceCommand {
        PresenceCommand::Heard { at: t(minute) }
    }

    fn silent(minute: i64) -> PresenceCommand {
        PresenceCommand::Silent { last_heard_at: t(minute) }
    }

    /// The Bắc Kạn roster in session (opened at 1, started at 2).
    fn in_session() -> Log {
        opened(details()).roster(AttendanceEvent::TechnicalCheckClosed {})
    }

    #[test]
    fn the_first_heartbeat_connects_and_later_ones_change_nothing() {
        let p = given::<SitePresence>(key("ba-be"), []);
        p.when(heard(5)).then(AttendanceEvent::SiteConnected { at: t(5) });
        let p = p.and(AttendanceEvent::SiteConnected { at: t(5) });
        p.when(heard(6)).then_nothing();
        assert_eq!(p.state().state(), PresenceState::Connected);
    }

    #[test]
    fn silence_drops_at_the_last_heartbeat_and_a_heartbeat_rejoins() {
        let p = given::<SitePresence>(key("ba-be"), [AttendanceEvent::SiteConnected { at: t(5) }]);
        p.when(silent(30)).then(AttendanceEvent::SiteDropped { last_heard_at: t(30) });
        let p = p.and(AttendanceEvent::SiteDropped { last_heard_at: t(30) });
        assert_eq!(p.state().state(), PresenceState::Dropped);
        // Silence again changes nothing; the next heartbeat rejoins
        p.when(silent(31)).then_nothing();
        p.when(heard(40)).then(AttendanceEvent::SiteRejoined { at: t(40) });
        let p = p.and(AttendanceEvent::SiteRejoined { at: t(40) });
        assert_eq!(
            p.state().intervals,
            vec![Interval { from: t(5), until: Some(t(30)) }, Interval { from: t(40), until: None }]
        );
        assert_eq!(p.state().connected_s(t(50)), 25 * 60 + 10 * 60);
        // Never silent for a site never heard
        given::<SitePresence>(key("na-ri"), []).when(silent(3)).then_nothing();
    }

    #[test]
    fn transitions_are_appended_on_the_sites_presence_subjects_with_a_deterministic_id() {
        let k = key("ba-be");
        let p = given::<SitePresence>(k.clone(), [AttendanceEvent::SiteConnected { at: t(5) }]);
        let append = p.when(silent(9)).then(AttendanceEvent::SiteDropped { last_heard_at: t(9) });
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{}.ba-be.presence.site_dropped", k.0));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.attendance.{}.ba-be.presence.*", k.0));
        assert_eq!(append.expect.last_seq, 1);
        let event = AttendanceEvent::SiteDropped { last_heard_at: t(9) };
        assert_eq!(p.state().command_id(&k, &event), format!("presence:{}:ba-be:1:site_dropped", k.0));
    }

    #[test]
    fn heartbeats_count_only_in_session_and_from_invited_sites() {
        let log = opened(details());
        let id = log.id;
        let before = log.roster_state().decide_presence(&id, &site("ba-be"), heard(1));
        assert_eq!(before.unwrap_err().code, ErrorCode::Conflict);
        let log = log.roster(AttendanceEvent::TechnicalCheckClosed {});
        let roster = log.roster_state();
        let uninvited = roster.decide_presence(&id, &site("cho-don"), heard(1));
        assert_eq!(uninvited.unwrap_err().code, ErrorCode::Forbidden);
        assert!(matches!(roster.decide_presence(&id, &site("ba-be"), heard(1)), Ok(Decision::Append(_))));
        let log = log.roster(AttendanceEvent::RosterClosed {
            details: details(),
            attendance: vec![],
            quorum: vec![],
            speakers: vec![],
            record: None,
        });
        let after = log.roster_state().decide_presence(&id, &site("ba-be"), heard(1));
        assert_eq!(after.unwrap_err().code, ErrorCode::Conflict);
    }

    #[test]
    fn presence_events_do_not_move_the_sites_answers_but_do_move_the_close_fence() {
        // Given ba-be confirmed at 3, then connected at 4
        let log = in_session()
            .site("ba-be", AttendanceEvent::SiteCheckedIn {})
            .site("ba-be", AttendanceEvent::SiteConnected { at: t(4) });
        // The site's answers still expect 3, presence expects 4, the close fences at 4
        assert_eq!(log.entry("ba-be").last_seq, 3);
        assert_eq!(log.roster_state().presence.site(&site("ba-be")).last_seq, 4);
        assert_eq!(log.roster_state().last_seq_any, 4);
        assert_eq!(log.roster_state().presence_view(&site("ba-be"), t(10)).unwrap().state, PresenceState::Connected);
    }

    #[test]
    fn the_session_end_closes_open_intervals_at_the_end_time() {
        let log = in_session()
            .site("ba-be", AttendanceEvent::SiteConnected { at: t(3) })
            .site("ba-be", AttendanceEvent::SiteDropped { last_heard_at: t(20) })
            .site("ba-be", AttendanceEvent::SiteRejoined { at: t(30) })
            .site("na-ri", AttendanceEvent::SiteConnected { at: t(4) });
        let Ok(Decision::Append(append)) = log.when(RosterCommand::Close).decision else { panic!("no close") };
        let AttendanceEvent::RosterClosed { mut attendance, .. } = append.event else { panic!() };
        log.roster_state().stamp_presence(&mut attendance, t(60));
        let ba_be = attendance[0].presence.clone().unwrap();
        assert_eq!(
            ba_be.intervals,
            vec![Interval { from: t(3), until: Some(t(20)) }, Interval { from: t(30), until: Some(t(60)) }]
        );
        assert_eq!(ba_be.connected_s, (17 + 30) * 60);
        assert_eq!(
            attendance[1].presence.clone().unwrap().intervals,
            vec![Interval { from: t(4), until: Some(t(60)) }]
        );
        assert_eq!(attendance[2].presence, None, "pac-nam was never heard");
    }

    #[test]
    fn a_record_keeps_at_most_the_cap_merging_the_earliest_with_the_exact_total() {
        let p = SitePresence {
            intervals: (0..5).map(|i| Interval { from: t(i * 10), until: Some(t(i * 10 + 5)) }).collect(),
            last_seq: 9,
        };
        let record = p.record(t(100), 3).unwrap();
        assert_eq!(record.merged, 3);
        assert_eq!(record.intervals.len(), 3);
        assert_eq!(record.intervals[0], Interval { from: t(0), until: Some(t(25)) });
        assert_eq!(record.connected_s, 5 * 5 * 60);
        assert_eq!(p.record(t(100), 0), None);
        // An interval that started after the end is left out, one open across it is cut at the end
        let p = SitePresence {
            intervals: vec![Interval { from: t(0), until: None }, Interval { from: t(200), until: None }],
            last_seq: 2,
        };
        assert_eq!(p.record(t(100), 50).unwrap().intervals, vec![Interval { from: t(0), until: Some(t(100)) }]);
    }

    #[test]
    fn after_a_restart_no_drop_is_decided_within_the_listening_window() {
        // Given ba-be connected in the log, and an instance that has just started
        let log = in_session().site("ba-be", AttendanceEvent::SiteConnected { at: t(3) });
        let (id, roster) = (log.id, log.roster_state());
        let start = Instant::now();
        let grace = Duration::from_secs(15);
        let mut tracker = Tracker::new(start, t(50));
        // Within the window: nothing, even for a site it never heard
        assert!(tracker.due_drops(id, roster, start + Duration::from_secs(14), grace).is_empty());
        // A heartbeat heard within the window keeps it connected after the window
        tracker.heard.insert((id, site("ba-be")), Heard { at: t(51), instant: start + Duration::from_secs(5) });
        assert!(tracker.due_drops(id, roster, start + Duration::from_secs(16), grace).is_empty());
        // And silence for a grace period after its last heartbeat drops it at that heartbeat
        let due = tracker.due_drops(id, roster, start + Duration::from_secs(21), grace);
        assert_eq!(due, vec![(site("ba-be"), t(51))]);
        // A site never heard since the start is dropped a grace period after listening began,
        // its last time heard being the start of listening (an upper bound)
        let tracker = Tracker::new(start, t(50));
        let due = tracker.due_drops(id, roster, start + grace, grace);
        assert_eq!(due, vec![(site("ba-be"), t(50))]);
        // A reconnect starts a new window
        let mut tracker = Tracker::new(start, t(50));
        tracker.restart_listening(start + Duration::from_secs(20), t(51));
        assert!(tracker.due_drops(id, roster, start + Duration::from_secs(30), grace).is_empty());
    }

    #[test]
    fn two_instances_deciding_the_same_drop_write_it_once() {
        // Both instances read the same state and decide the same transition with the same message id
        let log = in_session().site("ba-be", AttendanceEvent::SiteConnected { at: t(3) });
        let (id, roster) = (log.id, log.roster_state());
        let decide = || match roster.decide_presence(&id, &site("ba-be"), silent(9)).unwrap() {
            Decision::Append(a) => {
                (a.expect.last_seq, roster.presence.site(&site("ba-be")).command_id(&(id, site("ba-be")), &a.event))
            }
            Decision::Unchanged => panic!("nothing decided"),
        };
        let (first, second) = (decide(), decide());
        assert_eq!(first, second, "same condition and same id: the server keeps one");
        // The loser, after catching up with the winner's event, finds nothing to do
        let log = log.site("ba-be", AttendanceEvent::SiteDropped { last_heard_at: t(9) });
        assert!(matches!(log.roster_state().decide_presence(&id, &site("ba-be"), silent(9)), Ok(Decision::Unchanged)));
        let _ = at(0);
    }
}
