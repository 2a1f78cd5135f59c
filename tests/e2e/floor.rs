//! The agenda and the floor, through the public subjects only: the Bắc Kạn session moves through its
//! agenda; on the discussion item two bridges ask for the floor, one withdraws, the chair gives it
//! out of order and then in order; refusals change nothing; 50 bridges asking at once all land, in
//! the order they were appended, and the queue survives a restart of attendance; the minutes' draft
//! lists those who had the floor as each item's speakers. On a stack with authentication a site
//! cannot give the floor, move the agenda or ask for another site.

use futures::future::join_all;
use hoinghi_shared::api::{ConferenceRef, Floor, GrantFloor, MoveAgenda, RequestFloor, RosterState};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::{attendance, events};
use hoinghi_shared::{ConferenceId, ErrorCode, Service, SiteId};
use hoinghi_tests::secure::Attempt;
use hoinghi_tests::{bulk, eventually, flow, scenario, Api, ASYNC_TIMEOUT};

use crate::common::{assert_refused, secure_session, stack};

/// The discussion item of the Bắc Kạn agenda ("Thảo luận của đại biểu các điểm cầu").
const DISCUSSION: usize = 1;

/// Moves the session to `item` once attendance has seen the session start.
async fn move_when_started(api: &Api, id: ConferenceId, item: usize) -> Floor {
    eventually(ASYNC_TIMEOUT, || api.move_agenda(id, item)).await.unwrap()
}

fn queue(floor: &Floor) -> Vec<String> {
    floor.queue.iter().map(|q| q.site_id.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bridges_take_the_floor_on_the_discussion_item_and_the_draft_lists_them() {
    let stack = stack().await;
    let api = &stack.api;
    let id = flow::invited(api).await.unwrap();
    flow::answer_all(api, id).await.unwrap();
    let stream = Service::Attendance.stream().name;
    let all = events::conference_all(Service::Attendance, &id);
    let count = |filter: String| {
        let stack = &stack;
        async move { stack.count_events(stream, &filter).await.unwrap() }
    };
    let (ba_be, na_ri, pac_nam) = (scenario::site("ba-be"), scenario::site("na-ri"), scenario::site("pac-nam"));

    // Before the session: no agenda move, no request.
    let before = count(all.clone()).await;
    assert_refused("a move before the start", api.move_agenda(id, 0).await, ErrorCode::Conflict, &["not in session"]);
    assert_refused(
        "a request before the start",
        api.request_floor(&ba_be, id, "Du lịch").await,
        ErrorCode::Conflict,
        &["not in session"],
    );
    assert_eq!(count(all.clone()).await, before, "nothing written");

    flow::hold_session(api, id).await.unwrap();
    let floor = move_when_started(api, id, 0).await;
    assert_eq!((floor.in_session, floor.current_item), (true, Some(0)));
    let floor = api.move_agenda(id, DISCUSSION).await.unwrap();
    assert_eq!(floor.current_item, Some(DISCUSSION));
    assert_eq!(floor.current_title.as_deref(), Some(scenario::AGENDA[DISCUSSION]));
    let started = events::conference(Service::Attendance, &id, AttendanceEvent::AGENDA_ITEM_STARTED);
    assert_eq!(count(started.clone()).await, 2);
    // Moving to the current item changes nothing.
    api.move_agenda(id, DISCUSSION).await.unwrap();
    assert_eq!(count(started).await, 2);

    // Two bridges ask, a third asks and withdraws; asking again changes nothing.
    api.request_floor(&ba_be, id, "Phát triển du lịch hồ Ba Bể").await.unwrap();
    api.request_floor(&na_ri, id, "Chuyển đổi số ở cơ sở").await.unwrap();
    let floor = api.request_floor(&pac_nam, id, "Giảm nghèo bền vững").await.unwrap();
    assert_eq!(queue(&floor), ["ba-be", "na-ri", "pac-nam"]);
    assert_eq!(floor.queue[0].site_name, "Huyện ủy Ba Bể");
    let floor = api.withdraw_floor(&pac_nam, id).await.unwrap();
    assert_eq!(queue(&floor), ["ba-be", "na-ri"]);

    // Refusals: a clear 4xx and nothing written.
    let before = count(all.clone()).await;
    let again = api.request_floor(&ba_be, id, "Một chủ đề khác").await.unwrap();
    assert_eq!(queue(&again), ["ba-be", "na-ri"], "asking again changes nothing");
    api.withdraw_floor(&pac_nam, id).await.unwrap();
    let cao_bang = SiteId::parse("cao-bang").unwrap();
    assert_refused(
        "a site not invited",
        api.request_floor(&cao_bang, id, "x").await,
        ErrorCode::Forbidden,
        &["not invited"],
    );
    assert_refused("an empty topic", api.request_floor(&pac_nam, id, "  ").await, ErrorCode::Invalid, &["topic"]);
    let long = "x".repeat(201);
    assert_refused("a long topic", api.request_floor(&pac_nam, id, &long).await, ErrorCode::Invalid, &["topic"]);
    assert_refused("an item off the agenda", api.move_agenda(id, 9).await, ErrorCode::Invalid, &["not on the agenda"]);
    assert_refused(
        "a site that has not asked",
        api.grant_floor(id, Some(pac_nam.clone())).await,
        ErrorCode::Conflict,
        &["has not asked"],
    );
    assert_refused(
        "an unknown conference",
        api.floor(ConferenceId::generate()).await,
        ErrorCode::NotFound,
        &["no roster"],
    );
    assert_eq!(count(all.clone()).await, before, "nothing written");

    // The chair gives the floor to Na Rì out of order; one speaker at a time.
    let floor = api.grant_floor(id, Some(na_ri.clone())).await.unwrap();
    let speaking = floor.speaking.clone().unwrap();
    assert_eq!((speaking.site_id.as_str(), speaking.out_of_order), ("na-ri", true));
    assert_eq!(queue(&floor), ["ba-be"]);
    let before = count(all.clone()).await;
    assert_refused(
        "a second speaker",
        api.grant_floor(id, None).await,
        ErrorCode::Conflict,
        &["one speaker at a time"],
    );
    assert_eq!(count(all.clone()).await, before, "nothing written");
    api.floor_done(id).await.unwrap();
    // Ba Bể, the head, in order.
    let floor = api.grant_floor(id, None).await.unwrap();
    let speaking = floor.speaking.clone().unwrap();
    assert_eq!((speaking.site_id.as_str(), speaking.out_of_order), ("ba-be", false));
    let floor = api.floor_done(id).await.unwrap();
    assert!(floor.speaking.is_none() && floor.queue.is_empty());
    let turns = &floor.history.iter().find(|h| h.item == DISCUSSION).unwrap().turns;
    let spoke: Vec<(&str, bool)> = turns.iter().map(|t| (t.site_id.as_str(), t.out_of_order)).collect();
    assert_eq!(spoke, [("na-ri", true), ("ba-be", false)]);
    assert!(turns.iter().all(|t| t.released_at.is_some()));
    let granted = events::conference(Service::Attendance, &id, AttendanceEvent::FLOOR_GRANTED);
    assert_eq!(count(granted).await, 2);

    // The session ends: the draft lists them as the discussion's speakers, in the order they spoke.
    api.move_agenda(id, 2).await.unwrap();
    api.end(id).await.unwrap();
    flow::wait_roster(api, id, RosterState::Closed).await.unwrap();
    assert_refused(
        "a request after the end",
        api.request_floor(&ba_be, id, "x").await,
        ErrorCode::Conflict,
        &["ended"],
    );
    let draft = flow::wait_draft(api, id).await.unwrap();
    let item = &draft.items[DISCUSSION];
    assert!(!item.recorded);
    assert_eq!(item.speakers, ["Huyện ủy Na Rì: Chuyển đổi số ở cơ sở", "Huyện ủy Ba Bể: Phát triển du lịch hồ Ba Bể"]);
    assert!(draft.items[0].speakers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_bridges_asking_at_once_keep_their_appended_order_across_a_restart() {
    let mut stack = stack().await;
    let api = stack.api.clone();
    let sites = bulk::site_ids("xa", 50);
    bulk::register_sites(&api, &sites, 8).await.unwrap();
    let created = api.create(&bulk::conference("Hội nghị 50 điểm cầu", &sites)).await.unwrap();
    let id = created.id;
    flow::invite(&api, id).await.unwrap();
    api.start(id).await.unwrap();
    move_when_started(&api, id, 0).await;

    // 50 bridges ask at once: every request lands.
    let replies = join_all(sites.iter().map(|site| {
        let api = api.clone();
        let site = site.clone();
        async move { api.request_floor(&site, id, &format!("Ý kiến của {site}")).await }
    }))
    .await;
    for (site, reply) in sites.iter().zip(&replies) {
        assert!(reply.is_ok(), "{site}: {reply:?}");
    }
    // The queue is the order the requests were appended to the log.
    let filter = events::conference(Service::Attendance, &id, AttendanceEvent::FLOOR_REQUESTED);
    let stored = bulk::read_events(&stack.jetstream(), Service::Attendance.stream().name, &filter).await.unwrap();
    let appended: Vec<String> = stored
        .iter()
        .map(|e| match e.envelope.decode::<AttendanceEvent>().unwrap() {
            AttendanceEvent::FloorRequested { site, .. } => site.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(appended.len(), 50);
    let floor = api.floor(id).await.unwrap();
    assert_eq!(queue(&floor), appended);
    assert_eq!(floor.queue.iter().map(|q| q.position).collect::<Vec<_>>(), (1..=50).collect::<Vec<_>>());

    // Two speak in order; then attendance restarts with a speaker on the floor and 48 waiting.
    api.grant_floor(id, None).await.unwrap();
    api.floor_done(id).await.unwrap();
    let floor = api.grant_floor(id, None).await.unwrap();
    let before = (queue(&floor), floor.speaking.clone().map(|s| s.site_id));
    assert_eq!(before.0, appended[2..]);
    assert_eq!(before.1.as_ref().map(ToString::to_string).as_deref(), Some(appended[1].as_str()));
    stack.restart(Service::Attendance).await.unwrap();
    let floor = eventually(ASYNC_TIMEOUT, || api.floor(id)).await.unwrap();
    assert_eq!((queue(&floor), floor.speaking.clone().map(|s| s.site_id)), before, "the floor survives the restart");
    api.floor_done(id).await.unwrap();
    // The last in the queue, out of order.
    let last = scenario::site(&appended[49]);
    let floor = api.grant_floor(id, Some(last.clone())).await.unwrap();
    let speaking = floor.speaking.clone().unwrap();
    assert_eq!((speaking.site_id, speaking.out_of_order), (last, true));
    assert_eq!(queue(&floor), appended[2..49]);

    // The draft's speakers of the item: the first 20 who had the floor (here three).
    api.end(id).await.unwrap();
    let draft = flow::wait_draft(&api, id).await.unwrap();
    let expected: Vec<String> =
        [&appended[0], &appended[1], &appended[49]].iter().map(|s| format!("Điểm cầu {s}: Ý kiến của {s}")).collect();
    assert_eq!(draft.items[0].speakers, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_cannot_give_the_floor_move_the_agenda_or_ask_for_another_site() {
    let (stack, id, ba_be, chair) = secure_session().await;
    let secretariat = &stack.secretariat;
    // The chair moves the agenda.
    move_when_started(&chair.api, id, DISCUSSION).await;

    // A site asks for itself.
    let me = scenario::site("ba-be");
    let floor = ba_be.api.request_floor(&me, id, "Du lịch hồ Ba Bể").await.unwrap();
    assert_eq!(queue(&floor), ["ba-be"]);

    // It can neither give the floor, nor mark it done, nor move the agenda, nor ask for Na Rì.
    let totals = stack.event_totals().await.unwrap();
    let refused =
        |attempt: &Attempt, subject: &str| matches!(attempt, Attempt::Refused(report) if report.contains(subject));
    let grant = serde_json::to_vec(&GrantFloor { conference_id: id, site: Some(me.clone()) }).unwrap();
    let attempt = ba_be.attempt(attendance::FLOOR_GRANT, grant).await;
    assert!(refused(&attempt, attendance::FLOOR_GRANT), "{attempt:?}");
    let cref = serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap();
    assert!(ba_be.attempt(attendance::FLOOR_DONE, cref.clone()).await.is_refused());
    let moved = serde_json::to_vec(&MoveAgenda { conference_id: id, item: 0 }).unwrap();
    assert!(ba_be.attempt(attendance::AGENDA_MOVE, moved).await.is_refused());
    let na_ri = attendance::site_command(&scenario::site("na-ri"), attendance::FLOOR_REQUEST);
    let request = serde_json::to_vec(&RequestFloor { conference_id: id, topic: "x".into() }).unwrap();
    let attempt = ba_be.attempt(&na_ri, request).await;
    assert!(refused(&attempt, &na_ri), "{attempt:?}");
    let withdraw = attendance::site_command(&scenario::site("na-ri"), attendance::FLOOR_WITHDRAW);
    assert!(ba_be.attempt(&withdraw, cref).await.is_refused());
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no event was written");

    // The chair gives it the floor and reads the floor; the secretariat marks it done.
    let floor = chair.api.grant_floor(id, None).await.unwrap();
    assert_eq!(floor.speaking.map(|s| s.site_id), Some(me));
    let floor = secretariat.api.floor_done(id).await.unwrap();
    assert!(floor.speaking.is_none());
    assert_eq!(chair.api.floor(id).await.unwrap().history.len(), 1);
}
