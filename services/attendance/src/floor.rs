//! Agenda and the floor of one conference during its session.
//!
//! The secretariat or a chair moves the session through the agenda (the current item); a bridge asks
//! for the floor on the current item with a short topic, and may withdraw its request; the chair (or
//! the secretariat) gives the floor to the head of the queue, or to another site that asked (out of
//! order, recorded so), and marks the speaker done. One speaker at a time.
//!
//! [`Floor`] is one aggregate per conference: every one of its events (`agenda_item_started`,
//! `floor_requested`, `floor_withdrawn`, `floor_granted`, `floor_released`) is written on the
//! conference's own subjects (`hoinghi.v1.events.attendance.<conference>.<type>`, the site in the
//! payload, none in the envelope), each on the condition that nothing was written there since the
//! floor was read. So requests from many bridges at once are appended one after the other, and the
//! queue is the order of the stream: it keeps its order under load and across restarts (it is
//! rebuilt from the log).
//!
//! **Moving the agenda clears the queue.** A request is for the current item; when the session
//! moves on, the requests still waiting lapse (a bridge asks again on the new item), and a speaker
//! still speaking is done at the move. Moving to the current item changes nothing; moving back to an
//! earlier item starts it again with an empty queue, and its turns add to the ones it had.
//!
//! The [`Roster`] admits every floor command first: the roster is opened (404), the site is invited
//! (403), the session is under way (409: started, the technical check closed by `session_started`,
//! and the roster not closed nor cancelled). The roster's close carries who had the floor on each
//! item ([`Roster::floor_speakers`]) for the minutes, bounded by
//! [`MAX_FLOOR_SPEAKERS_PER_ITEM`] and [`FLOOR_SPEAKERS_BUDGET`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hoinghi_runtime::aggregate::{decide, own_subjects, Address, Aggregate};
use hoinghi_runtime::input;
use hoinghi_runtime::store::{subject_matches, Decision, EventMeta};
use hoinghi_shared::api;
use hoinghi_shared::events::{AttendanceEvent, DomainEvent, FloorSpeaker};
use hoinghi_shared::limits::{
    floor_speaker_cost, shrink_page_to_fit, FLOOR_SPEAKERS_BUDGET, MAX_FLOOR_SPEAKERS_PER_ITEM, MAX_FLOOR_TOPIC_CHARS,
    REPLY_BUDGET,
};
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::roster::{no_roster, Roster};
use crate::SERVICE;

/// A request waiting for the floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The site.
    pub site: SiteId,
    /// Its topic.
    pub topic: String,
    /// When it asked.
    pub asked_at: DateTime<Utc>,
}

/// A turn on the floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// The site.
    pub site: SiteId,
    /// Its topic.
    pub topic: String,
    /// Whether it was not the head of the queue.
    pub out_of_order: bool,
    /// When it asked.
    pub asked_at: DateTime<Utc>,
    /// When it was given the floor.
    pub granted_at: DateTime<Utc>,
    /// When it was done (`None`: speaking now).
    pub released_at: Option<DateTime<Utc>>,
}

/// A command on the floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloorCommand {
    /// Move the session to agenda item `item` (0-based) of an agenda of `items` (the roster fills
    /// `items` in).
    Move {
        /// The item (unchecked).
        item: usize,
        /// How many items the agenda has.
        items: usize,
    },
    /// A site asks for the floor on the current item.
    Request {
        /// The site (from the subject).
        site: SiteId,
        /// Its topic (unchecked).
        topic: String,
    },
    /// A site withdraws its request.
    Withdraw {
        /// The site (from the subject).
        site: SiteId,
    },
    /// Give the floor: to the head of the queue (`None`) or to a site that asked.
    Grant {
        /// The site, if not the head.
        site: Option<SiteId>,
    },
    /// The speaker is done.
    Done,
}

/// The floor of one conference. `Default` is a session with no item started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Floor {
    /// The current agenda item (`None` until the first move).
    pub current_item: Option<usize>,
    /// The requests on the current item, in the order they were appended.
    pub queue: Vec<Queued>,
    /// Whether the last turn of the current item is speaking now.
    pub speaking: bool,
    /// Every turn, per item, in the order the floor was given.
    pub history: BTreeMap<usize, Vec<Turn>>,
    /// Last sequence on the conference's own subjects (`…attendance.<conference>.*`, 0: none).
    pub last_seq: u64,
}

impl Floor {
    /// Who speaks now.
    pub fn speaker(&self) -> Option<&Turn> {
        let item = self.current_item?;
        self.history.get(&item).and_then(|turns| turns.last()).filter(|_| self.speaking)
    }

    /// The place of `site` in the queue (0: the head).
    pub fn position(&self, site: &SiteId) -> Option<usize> {
        self.queue.iter().position(|q| &q.site == site)
    }

    fn current(&self, id: &ConferenceId) -> Result<usize, ApiError> {
        self.current_item.ok_or_else(|| {
            ApiError::conflict(format!(
                "no agenda item of conference {id} is under way yet: the secretariat or the chair moves the \
                 session to one first (agenda.move)"
            ))
        })
    }

    /// Ends the current speaker's turn at `at`.
    fn release(&mut self, at: DateTime<Utc>) {
        if let Some(turn) = self.current_item.and_then(|item| self.history.get_mut(&item)).and_then(|t| t.last_mut()) {
            if self.speaking {
                turn.released_at = Some(at);
            }
        }
        self.speaking = false;
    }
}

impl Aggregate for Floor {
    type Id = ConferenceId;
    type Event = AttendanceEvent;
    type Command = FloorCommand;

    /// Decides a command the roster admitted ([`Roster::decide_floor`]). Moving to the current item,
    /// asking again with a request open, withdrawing with none, and marking done with nobody
    /// speaking change nothing.
    ///
    /// # Errors
    /// `invalid` for an item out of the agenda or a topic empty, too long or with control
    /// characters; `conflict` for a request or a grant before any item is under way, a grant while
    /// someone speaks, with an empty queue, or to a site that has not asked.
    fn handle(&self, id: &ConferenceId, command: FloorCommand) -> Result<Option<AttendanceEvent>, ApiError> {
        match command {
            FloorCommand::Move { item, items } => {
                if item >= items {
                    return Err(ApiError::invalid(format!(
                        "item {item} is not on the agenda of conference {id}: it has {items} item(s), numbered from 0{}",
                        if items > 0 { format!(" to {}", items - 1) } else { String::new() }
                    )));
                }
                Ok((self.current_item != Some(item)).then_some(AttendanceEvent::AgendaItemStarted { item }))
            }
            FloorCommand::Request { site, topic } => {
                let topic = input::text("topic", &topic, MAX_FLOOR_TOPIC_CHARS, true)?;
                let item = self.current(id)?;
                if self.position(&site).is_some() {
                    return Ok(None);
                }
                Ok(Some(AttendanceEvent::FloorRequested { item, site, topic }))
            }
            FloorCommand::Withdraw { site } => {
                let Some(item) = self.current_item else { return Ok(None) };
                Ok(self.position(&site).map(|_| AttendanceEvent::FloorWithdrawn { item, site }))
            }
            FloorCommand::Grant { site } => {
                let item = self.current(id)?;
                if let Some(turn) = self.speaker() {
                    return Err(ApiError::conflict(format!(
                        "site {} has the floor of conference {id}: one speaker at a time, mark it done first (floor.done)",
                        turn.site
                    )));
                }
                let position = match &site {
                    None if self.queue.is_empty() => {
                        return Err(ApiError::conflict(format!(
                            "nobody is waiting for the floor on item {item} of conference {id}"
                        )))
                    }
                    None => 0,
                    Some(site) => self.position(site).ok_or_else(|| {
                        ApiError::conflict(format!(
                            "site {site} has not asked for the floor on item {item} of conference {id}; only a \
                             site in the queue can be given it"
                        ))
                    })?,
                };
                let Some(queued) = self.queue.get(position) else {
                    return Err(ApiError::conflict(format!("the queue of conference {id} changed; try again")));
                };
                Ok(Some(AttendanceEvent::FloorGranted {
                    item,
                    site: queued.site.clone(),
                    topic: queued.topic.clone(),
                    out_of_order: position > 0,
                }))
            }
            FloorCommand::Done => Ok(self.speaker().map(|turn| AttendanceEvent::FloorReleased {
                item: self.current_item.unwrap_or_default(),
                site: turn.site.clone(),
            })),
        }
    }

    /// Records the floor's events, and the sequence of every event on the conference's own subjects
    /// (the condition of the floor's appends).
    fn apply(&mut self, event: &AttendanceEvent, meta: &EventMeta) {
        let own = meta
            .conference_id
            .is_some_and(|id| subject_matches(&events::conference_filter(SERVICE, &id), &meta.subject));
        if !own {
            return;
        }
        self.last_seq = meta.seq;
        let at = meta.occurred_at;
        match event {
            AttendanceEvent::AgendaItemStarted { item } => {
                self.release(at);
                self.queue.clear();
                self.current_item = Some(*item);
            }
            AttendanceEvent::FloorRequested { item, site, topic }
                if self.current_item == Some(*item) && self.position(site).is_none() =>
            {
                self.queue.push(Queued { site: site.clone(), topic: topic.clone(), asked_at: at });
            }
            AttendanceEvent::FloorWithdrawn { item, site } if self.current_item == Some(*item) => {
                self.queue.retain(|q| &q.site != site);
            }
            AttendanceEvent::FloorGranted { item, site, topic, out_of_order } if self.current_item == Some(*item) => {
                self.release(at);
                let asked_at = self.position(site).and_then(|p| self.queue.get(p)).map_or(at, |q| q.asked_at);
                self.queue.retain(|q| &q.site != site);
                self.history.entry(*item).or_default().push(Turn {
                    site: site.clone(),
                    topic: topic.clone(),
                    out_of_order: *out_of_order,
                    asked_at,
                    granted_at: at,
                    released_at: None,
                });
                self.speaking = true;
            }
            AttendanceEvent::FloorReleased { item, .. } if self.current_item == Some(*item) => self.release(at),
            _ => {}
        }
    }

    /// `hoinghi.v1.events.attendance.<conference>.<type>`, on the condition that nothing was written
    /// on the conference's own subjects since the floor was read.
    fn address(&self, id: &ConferenceId, event: &AttendanceEvent) -> Address {
        Address {
            subject: events::conference(SERVICE, id, event.event_type()),
            expect: own_subjects(events::conference_filter(SERVICE, id), self.last_seq),
            conference_id: Some(*id),
            site_id: None,
        }
    }
}

impl Roster {
    /// Decides a floor command: the roster admits it (opened; for a site's command, the site is
    /// invited; in session), then the floor decides it. `Move` gets the agenda's length here. In session is
    /// [`Roster::in_session`] (started: the technical check closed by `session_started`; not ended).
    ///
    /// # Errors
    /// `not_found` for a roster never opened, `forbidden` for a site not invited, `conflict` out of
    /// session; the floor's refusals.
    pub fn decide_floor(
        &self,
        id: &ConferenceId,
        command: FloorCommand,
    ) -> Result<Decision<AttendanceEvent>, ApiError> {
        let Some(details) = self.details.as_ref().filter(|_| self.is_opened()) else {
            return Err(no_roster(id));
        };
        if let FloorCommand::Request { site, .. } | FloorCommand::Withdraw { site } = &command {
            if !self.sites.contains_key(site) {
                return Err(ApiError::forbidden(format!("site {site} is not invited to conference {id}")));
            }
        }
        self.ensure_open(id)?;
        if !self.in_session() {
            return Err(ApiError::conflict(format!(
                "conference {id} is not in session: the agenda and the floor are taken once its session has started"
            )));
        }
        let command = match command {
            FloorCommand::Move { item, .. } => FloorCommand::Move { item, items: details.agenda.len() },
            other => other,
        };
        decide(&self.floor, id, command)
    }

    fn site_name(&self, site: &SiteId) -> String {
        self.sites.get(site).map_or_else(|| site.to_string(), |e| e.name.clone())
    }

    fn turn_view(&self, turn: &Turn) -> api::FloorTurn {
        api::FloorTurn {
            site_id: turn.site.clone(),
            site_name: self.site_name(&turn.site),
            topic: turn.topic.clone(),
            out_of_order: turn.out_of_order,
            asked_at: turn.asked_at,
            granted_at: turn.granted_at,
            released_at: turn.released_at,
        }
    }

    /// The floor as the query and every floor command answer it; `None` for a roster never opened.
    /// A queue too long for one reply is cut from its end (its length is still the number of
    /// positions shown).
    pub fn floor_view(&self, id: ConferenceId) -> Option<api::Floor> {
        let details = self.details.as_ref().filter(|_| self.is_opened())?;
        let floor = &self.floor;
        let title = |item: usize| details.agenda.get(item).map(|a| a.title.clone()).unwrap_or_default();
        let mut view = api::Floor {
            conference_id: id,
            in_session: self.in_session(),
            current_item: floor.current_item,
            current_title: floor.current_item.map(title),
            queue: floor
                .queue
                .iter()
                .enumerate()
                .map(|(i, q)| api::FloorRequest {
                    position: i + 1,
                    site_id: q.site.clone(),
                    site_name: self.site_name(&q.site),
                    topic: q.topic.clone(),
                    asked_at: q.asked_at,
                })
                .collect(),
            speaking: floor.speaker().map(|t| self.turn_view(t)),
            history: floor
                .history
                .iter()
                .map(|(item, turns)| api::FloorItemHistory {
                    item: *item,
                    title: title(*item),
                    turns: turns.iter().map(|t| self.turn_view(t)).collect(),
                })
                .collect(),
        };
        shrink_page_to_fit(&mut view, |v| &mut v.queue, REPLY_BUDGET);
        Some(view)
    }

    /// Who had the floor on each item, for the attendance record and the minutes: per item in agenda
    /// order, the first [`MAX_FLOOR_SPEAKERS_PER_ITEM`] turns in the order the floor was given, as
    /// long as the whole stays within [`FLOOR_SPEAKERS_BUDGET`] (a speaker that would not fit is left
    /// out, and so is every later one).
    pub fn floor_speakers(&self) -> Vec<FloorSpeaker> {
        let mut spent = 0;
        let mut speakers = Vec::new();
        for (item, turns) in &self.floor.history {
            for turn in turns.iter().take(MAX_FLOOR_SPEAKERS_PER_ITEM) {
                let site_name = self.site_name(&turn.site);
                let cost = floor_speaker_cost(turn.site.as_str(), &site_name, &turn.topic);
                if spent + cost > FLOOR_SPEAKERS_BUDGET {
                    return speakers;
                }
                spent += cost;
                speakers.push(FloorSpeaker {
                    item: *item,
                    site_id: turn.site.clone(),
                    site_name,
                    topic: turn.topic.clone(),
                });
            }
        }
        speakers
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::{details, opened, site, Log};
    use hoinghi_runtime::testing::given;
    use hoinghi_shared::events::AgendaItem;
    use hoinghi_shared::ErrorCode;

    fn id() -> ConferenceId {
        ConferenceId::generate()
    }

    fn request(s: &str, topic: &str) -> FloorCommand {
        FloorCommand::Request { site: site(s), topic: topic.into() }
    }

    fn requested(item: usize, s: &str, topic: &str) -> AttendanceEvent {
        AttendanceEvent::FloorRequested { item, site: site(s), topic: topic.into() }
    }

    fn granted(item: usize, s: &str, topic: &str, out_of_order: bool) -> AttendanceEvent {
        AttendanceEvent::FloorGranted { item, site: site(s), topic: topic.into(), out_of_order }
    }

    fn started(item: usize) -> AttendanceEvent {
        AttendanceEvent::AgendaItemStarted { item }
    }

    fn queue(floor: &Floor) -> Vec<String> {
        floor.queue.iter().map(|q| q.site.to_string()).collect()
    }

    #[test]
    fn requests_queue_in_the_order_they_were_appended_and_asking_again_changes_nothing() {
        let f = given::<Floor>(id(), [started(1), requested(1, "na-ri", "a"), requested(1, "ba-be", "b")]);
        assert_eq!(queue(f.state()), ["na-ri", "ba-be"]);
        f.when(request("na-ri", "again")).then_nothing();
        f.when(request("pac-nam", "  Giải ngân vốn đầu tư công  ")).then(requested(
            1,
            "pac-nam",
            "Giải ngân vốn đầu tư công",
        ));
        let f = f.and(requested(1, "pac-nam", "c"));
        assert_eq!(queue(f.state()), ["na-ri", "ba-be", "pac-nam"]);
    }

    #[test]
    fn a_topic_is_short_text_and_there_must_be_an_item_under_way() {
        let f = given::<Floor>(id(), [started(0)]);
        f.when(request("ba-be", "  ")).then_refused(ErrorCode::Invalid, "topic");
        f.when(request("ba-be", &"x".repeat(MAX_FLOOR_TOPIC_CHARS + 1))).then_refused(ErrorCode::Invalid, "topic");
        f.when(request("ba-be", "a\u{7}b")).then_refused(ErrorCode::Invalid, "topic");
        given::<Floor>(id(), []).when(request("ba-be", "x")).then_refused(ErrorCode::Conflict, "agenda.move");
    }

    #[test]
    fn a_withdrawn_request_leaves_the_queue_and_withdrawing_none_changes_nothing() {
        let f = given::<Floor>(id(), [started(0), requested(0, "ba-be", "a"), requested(0, "na-ri", "b")]);
        f.when(FloorCommand::Withdraw { site: site("ba-be") })
            .then(AttendanceEvent::FloorWithdrawn { item: 0, site: site("ba-be") });
        let f = f.and(AttendanceEvent::FloorWithdrawn { item: 0, site: site("ba-be") });
        assert_eq!(queue(f.state()), ["na-ri"]);
        f.when(FloorCommand::Withdraw { site: site("ba-be") }).then_nothing();
        // It may ask again: at the back.
        let f = f.and(requested(0, "ba-be", "a2"));
        assert_eq!(queue(f.state()), ["na-ri", "ba-be"]);
    }

    #[test]
    fn the_head_is_granted_in_order_another_site_out_of_order() {
        let f = given::<Floor>(id(), [started(1), requested(1, "na-ri", "a"), requested(1, "ba-be", "b")]);
        f.when(FloorCommand::Grant { site: None }).then(granted(1, "na-ri", "a", false));
        f.when(FloorCommand::Grant { site: Some(site("na-ri")) }).then(granted(1, "na-ri", "a", false));
        f.when(FloorCommand::Grant { site: Some(site("ba-be")) }).then(granted(1, "ba-be", "b", true));
        f.when(FloorCommand::Grant { site: Some(site("pac-nam")) }).then_refused(ErrorCode::Conflict, "has not asked");
        let f = f.and(granted(1, "ba-be", "b", true));
        assert_eq!(queue(f.state()), ["na-ri"]);
        let speaker = f.state().speaker().unwrap();
        assert_eq!((speaker.site.as_str(), speaker.out_of_order), ("ba-be", true));
        given::<Floor>(id(), [started(1)])
            .when(FloorCommand::Grant { site: None })
            .then_refused(ErrorCode::Conflict, "nobody is waiting");
    }

    #[test]
    fn one_speaker_at_a_time_until_done() {
        let f = given::<Floor>(
            id(),
            [started(1), requested(1, "na-ri", "a"), requested(1, "ba-be", "b"), granted(1, "na-ri", "a", false)],
        );
        f.when(FloorCommand::Grant { site: None }).then_refused(ErrorCode::Conflict, "one speaker at a time");
        f.when(FloorCommand::Done).then(AttendanceEvent::FloorReleased { item: 1, site: site("na-ri") });
        let f = f.and(AttendanceEvent::FloorReleased { item: 1, site: site("na-ri") });
        assert!(f.state().speaker().is_none());
        f.when(FloorCommand::Done).then_nothing();
        f.when(FloorCommand::Grant { site: None }).then(granted(1, "ba-be", "b", false));
        let turns = &f.state().history[&1];
        assert_eq!(turns.len(), 1);
        assert!(turns[0].released_at.is_some());
    }

    #[test]
    fn moving_the_agenda_clears_the_queue_ends_the_turn_and_moving_to_the_current_item_changes_nothing() {
        let f = given::<Floor>(
            id(),
            [started(0), requested(0, "na-ri", "a"), requested(0, "ba-be", "b"), granted(0, "na-ri", "a", false)],
        );
        f.when(FloorCommand::Move { item: 0, items: 3 }).then_nothing();
        f.when(FloorCommand::Move { item: 3, items: 3 }).then_refused(ErrorCode::Invalid, "0 to 2");
        f.when(FloorCommand::Move { item: 2, items: 3 }).then(started(2));
        let f = f.and(started(2));
        assert!(f.state().queue.is_empty(), "the requests of item 0 lapse");
        assert!(f.state().speaker().is_none());
        assert!(f.state().history[&0][0].released_at.is_some(), "the speaker is done at the move");
        // A request of the item before that lands after the move has no effect.
        let f = f.and(requested(0, "pac-nam", "late"));
        assert!(f.state().queue.is_empty());
        // Back to item 0: a new queue, the turns add up.
        let f = f.and(started(0)).and(requested(0, "ba-be", "b")).and(granted(0, "ba-be", "b", false));
        assert_eq!(f.state().history[&0].len(), 2);
    }

    #[test]
    fn the_floors_events_are_on_the_conferences_own_subjects() {
        let id = id();
        let f = given::<Floor>(id, [started(0)]);
        let append = f.when(request("ba-be", "x")).then(requested(0, "ba-be", "x"));
        assert_eq!(append.subject, format!("hoinghi.v1.events.attendance.{id}.floor_requested"));
        assert_eq!(append.expect.filter, format!("hoinghi.v1.events.attendance.{id}.*"));
        assert_eq!(append.expect.last_seq, 1);
        assert_eq!(append.site_id, None);
    }

    // ------------------------------------------------------------ admission by the roster

    fn agenda() -> hoinghi_shared::events::ConferenceDetails {
        let mut d = details();
        d.agenda = vec![AgendaItem { title: "Quán triệt".into() }, AgendaItem { title: "Thảo luận".into() }];
        d
    }

    fn in_session() -> Log {
        opened(agenda()).roster(AttendanceEvent::TechnicalCheckClosed {})
    }

    fn when(log: &Log, command: FloorCommand) -> hoinghi_runtime::testing::Then<AttendanceEvent> {
        hoinghi_runtime::testing::Then { decision: log.roster_state().decide_floor(&log.id, command) }
    }

    #[test]
    fn the_roster_admits_the_floor_only_in_session_and_only_invited_sites() {
        let before = opened(agenda());
        when(&before, FloorCommand::Move { item: 0, items: 0 }).then_refused(ErrorCode::Conflict, "not in session");
        let log = in_session();
        when(&log, FloorCommand::Move { item: 2, items: 0 }).then_refused(ErrorCode::Invalid, "2 item(s)");
        when(&log, FloorCommand::Move { item: 1, items: 0 }).then(started(1));
        let log = log.roster(started(1));
        when(&log, request("hue", "x")).then_refused(ErrorCode::Forbidden, "not invited");
        when(&log, request("ba-be", "x")).then(requested(1, "ba-be", "x"));
        let never = Roster::default();
        let refused = never.decide_floor(&log.id, FloorCommand::Done).unwrap_err();
        assert_eq!(refused.code, ErrorCode::NotFound);
        let closed = log.roster(AttendanceEvent::RosterCancelled { reason: "bão".into() });
        when(&closed, request("ba-be", "x")).then_refused(ErrorCode::Conflict, "cancelled");
    }

    #[test]
    fn the_floor_expects_the_last_event_on_the_conferences_subjects_not_a_sites() {
        let log = in_session()
            .roster(started(1))
            .site("ba-be", AttendanceEvent::SiteCheckedIn {})
            .roster(requested(1, "na-ri", "a"));
        let seq = log.last_seq();
        let log = log.site("pac-nam", AttendanceEvent::SiteCheckedIn {});
        let append = when(&log, FloorCommand::Grant { site: None }).then(granted(1, "na-ri", "a", false));
        assert_eq!(append.expect.last_seq, seq);
        assert_eq!(log.roster_state().floor.last_seq, log.roster_state().last_seq);
    }

    #[test]
    fn the_speakers_are_carried_per_item_in_order_and_bounded() {
        let log = in_session()
            .roster(started(0))
            .roster(requested(0, "na-ri", "Chuyển đổi số"))
            .roster(requested(0, "ba-be", "Du lịch hồ Ba Bể"))
            .roster(granted(0, "ba-be", "Du lịch hồ Ba Bể", true))
            .roster(AttendanceEvent::FloorReleased { item: 0, site: site("ba-be") })
            .roster(granted(0, "na-ri", "Chuyển đổi số", false))
            .roster(started(1))
            .roster(requested(1, "pac-nam", "Giảm nghèo"))
            .roster(granted(1, "pac-nam", "Giảm nghèo", false));
        let speakers = log.roster_state().floor_speakers();
        let lines: Vec<(usize, String)> = speakers.iter().map(|s| (s.item, s.minutes_line())).collect();
        assert_eq!(
            lines,
            [
                (0, "Huyện ủy ba-be: Du lịch hồ Ba Bể".to_owned()),
                (0, "Huyện ủy na-ri: Chuyển đổi số".to_owned()),
                (1, "Huyện ủy pac-nam: Giảm nghèo".to_owned()),
            ]
        );
        // At most MAX_FLOOR_SPEAKERS_PER_ITEM per item.
        let mut log = in_session().roster(started(0));
        for i in 0..MAX_FLOOR_SPEAKERS_PER_ITEM + 5 {
            log = log
                .roster(requested(0, "ba-be", &format!("lần {i}")))
                .roster(granted(0, "ba-be", &format!("lần {i}"), false))
                .roster(AttendanceEvent::FloorReleased { item: 0, site: site("ba-be") });
        }
        assert_eq!(log.roster_state().floor.history[&0].len(), MAX_FLOOR_SPEAKERS_PER_ITEM + 5);
        assert_eq!(log.roster_state().floor_speakers().len(), MAX_FLOOR_SPEAKERS_PER_ITEM);
        let view = log.roster_state().floor_view(log.id).unwrap();
        assert_eq!(view.history[0].turns.len(), MAX_FLOOR_SPEAKERS_PER_ITEM + 5);
        assert_eq!(view.current_title.as_deref(), Some("Quán triệt"));
    }

    #[test]
    fn the_roster_close_carries_who_had_the_floor() {
        let log = in_session().roster(started(1)).roster(requested(1, "na-ri", "Chuyển đổi số")).roster(granted(
            1,
            "na-ri",
            "Chuyển đổi số",
            false,
        ));
        let close = log.when(crate::roster::RosterCommand::Close).decision.unwrap();
        let hoinghi_runtime::store::Decision::Append(append) = close else { panic!("{close:?}") };
        let AttendanceEvent::RosterClosed { speakers, .. } = append.event else { panic!() };
        assert_eq!(
            speakers,
            [FloorSpeaker {
                item: 1,
                site_id: site("na-ri"),
                site_name: "Huyện ủy na-ri".into(),
                topic: "Chuyển đổi số".into()
            }]
        );
    }
}
