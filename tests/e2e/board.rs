//! The boards' live feed (issue 11): a board follows the Bắc Kạn conference from its snapshot, gets
//! every change within a second in `seq` order, is cut off and resumes from its last `seq` with
//! nothing missed or doubled, drops the copies a second instance publishes, and a site may not
//! follow it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hoinghi_client::board::Board;
use hoinghi_shared::api::{PageQuery, RollCall, RosterState};
use hoinghi_shared::board::{BoardChange, BoardChangesQuery};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::subjects::{attendance, live};
use hoinghi_shared::{ConferenceId, SiteId};
use hoinghi_tests::{flow, scenario, Api};

/// Within this a change must reach the board.
const LIVE: Duration = Duration::from_secs(1);

/// Waits for the board's next change, at most [`LIVE`].
async fn next(board: &mut Board, what: &str) -> BoardChange {
    let started = Instant::now();
    let change = board.next_within(LIVE).await.unwrap();
    let change = change.unwrap_or_else(|| panic!("{what}: no change within {LIVE:?}"));
    assert!(started.elapsed() <= LIVE, "{what}: took {:?}", started.elapsed());
    change
}

/// Reads the board's changes into `seen` until one of type `wanted` comes, each within `within` of
/// the one before (the command was answered, so its event is written).
async fn until(board: &mut Board, seen: &mut Vec<BoardChange>, wanted: &str, within: Duration) -> BoardChange {
    loop {
        let started = Instant::now();
        let change = board.next_within(within).await.unwrap();
        let change = change.unwrap_or_else(|| panic!("no {wanted} within {within:?}; saw {:?}", types(seen)));
        assert!(started.elapsed() <= within, "{wanted}: took {:?}", started.elapsed());
        seen.push(change.clone());
        if change.event_type == wanted {
            return change;
        }
    }
}

fn types(changes: &[BoardChange]) -> Vec<&str> {
    changes.iter().map(|c| c.event_type.as_str()).collect()
}

/// Every change of a conference after `since`, from the log (all pages).
async fn all_changes(api: &Api, conference: ConferenceId, since: u64) -> Vec<BoardChange> {
    let mut out: Vec<BoardChange> = Vec::new();
    let mut since = since;
    loop {
        let page = api.board_changes(&BoardChangesQuery { conference_id: conference, since, limit: 2 }).await.unwrap();
        assert_eq!(page.since, since);
        out.extend(page.changes.iter().cloned());
        match page.changes.last() {
            Some(last) if page.more => since = last.seq,
            _ => return out,
        }
    }
}

fn assert_in_order_once(changes: &[BoardChange]) {
    for pair in changes.windows(2) {
        assert!(pair[0].seq < pair[1].seq, "in seq order, none twice: {} then {}", pair[0].seq, pair[1].seq);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_follows_the_conference_live_and_resumes_without_a_gap() {
    let stack = crate::common::stack().await;
    let api = &stack.api;
    let id = flow::invited(api).await.unwrap();
    let url = stack.server.url();

    // Given a board on its own connection, from the snapshot
    let board_api = Api::connect(&url).await.unwrap();
    let (mut board, snapshot) = Board::open(&board_api, id).await.unwrap();
    assert_eq!(snapshot.roster.state, RosterState::Open);
    assert_eq!(snapshot.roster.sites.len(), scenario::SITES.len());
    assert_eq!(snapshot.live_subject, live::conference(&id));
    assert!(snapshot.seq > 0, "the roster's opening is in the snapshot");
    assert!(board.next_within(Duration::from_millis(200)).await.unwrap().is_none(), "nothing new yet");
    let start = snapshot.seq;

    // When every site answers, each change reaches the board within a second, in seq order
    let mut seen = Vec::new();
    for (site, answer) in scenario::answers() {
        flow::answer(api, id, &site).await.unwrap();
        if matches!(answer, scenario::Answer::Silent) {
            continue;
        }
        let change = next(&mut board, &format!("{site} answers")).await;
        assert_eq!(change.site_id.as_ref(), Some(&site));
        assert!(
            [AttendanceEvent::ATTENDANCE_CONFIRMED, AttendanceEvent::ATTENDANCE_DECLINED]
                .contains(&change.event_type.as_str()),
            "{}",
            change.event_type
        );
        seen.push(change);
    }
    // And the first present site checks in, live too
    let present = flow::present_sites();
    let (first, rest) = present.split_first().unwrap();
    api.check_in(first, id).await.unwrap();
    let change = next(&mut board, "a check-in").await;
    assert_eq!((change.event_type.as_str(), change.site_id.as_ref()), (AttendanceEvent::SITE_CHECKED_IN, Some(first)));
    seen.push(change);

    // When the board's connection is cut, and the other sites check in meanwhile
    let last = board.last_seq();
    drop(board);
    drop(board_api);
    for site in rest {
        api.check_in(site, id).await.unwrap();
    }
    // Then a new connection resumes from the last seq: every check-in once, in order
    let board_api = Api::connect(&url).await.unwrap();
    let mut board = Board::resume(&board_api, id, last).await.unwrap();
    let mut missed = Vec::new();
    while let Some(change) = board.next_within(Duration::from_millis(300)).await.unwrap() {
        missed.push(change);
    }
    let sites: Vec<SiteId> = missed.iter().filter_map(|c| c.site_id.clone()).collect();
    assert_eq!(sites, rest, "the check-ins made while the board was away, once each, in order");
    assert!(missed.iter().all(|c| c.event_type == AttendanceEvent::SITE_CHECKED_IN && c.seq > last));
    seen.extend(missed);
    // And it goes on live: a site confirms again (a substitute)
    let (site, substitute) = scenario::substitution(id);
    api.confirm(&site, &substitute).await.unwrap();
    let change = next(&mut board, "a substitute").await;
    assert_eq!(change.site_id.as_ref(), Some(&site));
    seen.push(change);

    // When the session runs: presence, the roll call, the agenda and the floor reach the board too
    let ba_be = scenario::site("ba-be");
    api.start(id).await.unwrap();
    // (the bridge's endpoint heartbeats while connected; attendance hears them once in session)
    let beating = {
        let (api, ba_be) = (api.clone(), ba_be.clone());
        tokio::spawn(async move {
            loop {
                let _ = api.heartbeat(&ba_be, id).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let change = until(&mut board, &mut seen, AttendanceEvent::SITE_CONNECTED, Duration::from_secs(5)).await;
    assert_eq!(change.site_id.as_ref(), Some(&ba_be));
    let call = RollCall { conference_id: id, site: ba_be.clone(), present: true, people: Some(12), reason: None };
    api.roll_call(&call).await.unwrap();
    let change = until(&mut board, &mut seen, AttendanceEvent::ROLL_CALLED, LIVE).await;
    assert_eq!(change.site_id.as_ref(), Some(&ba_be));
    api.move_agenda(id, 1).await.unwrap();
    until(&mut board, &mut seen, AttendanceEvent::AGENDA_ITEM_STARTED, LIVE).await;
    api.request_floor(&ba_be, id, "Kết quả mô hình Dân vận khéo").await.unwrap();
    until(&mut board, &mut seen, AttendanceEvent::FLOOR_REQUESTED, LIVE).await;
    api.grant_floor(id, None).await.unwrap();
    until(&mut board, &mut seen, AttendanceEvent::FLOOR_GRANTED, LIVE).await;
    api.floor_done(id).await.unwrap();
    until(&mut board, &mut seen, AttendanceEvent::FLOOR_RELEASED, LIVE).await;
    beating.abort();
    while let Some(change) = board.next_within(Duration::from_millis(300)).await.unwrap() {
        seen.push(change);
    }

    // Then what the board saw is exactly the conference's log after the snapshot
    assert_in_order_once(&seen);
    let log = all_changes(api, id, start).await;
    let seqs = |l: &[BoardChange]| l.iter().map(|c| c.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&seen), seqs(&log), "nothing missed, nothing doubled");
    assert_eq!(seen, log, "a live change reads back the same from the log");
    // And a snapshot now includes the last change
    let now = api.board(&PageQuery::first(id)).await.unwrap();
    assert_eq!(now.seq, seen.last().unwrap().seq);
    assert_eq!(now.roster.counts.checked_in, present.len());
    let line = now.roster.sites.iter().find(|l| l.site_id == ba_be).unwrap();
    assert!(line.roll_call.is_some() && line.presence.is_some(), "{line:?}");
    assert_eq!(now.session["floor"]["current_item"], 1, "{:?}", now.session);
    assert!(now.session.contains_key("quorum"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_from_a_second_instance_are_dropped() {
    let (stack, _second) = crate::common::two_of_each().await;
    let api = &stack.api;
    let id = flow::invited(api).await.unwrap();
    let board_api = Api::connect(&stack.server.url()).await.unwrap();
    // Both instances publish every change
    let mut raw = board_api.nats().subscribe(live::conference(&id)).await.unwrap();
    let (mut board, snapshot) = Board::open(&board_api, id).await.unwrap();
    flow::answer_all(api, id).await.unwrap();
    flow::check_in_present(api, id).await.unwrap();
    let mut seen = Vec::new();
    while let Some(change) = board.next_within(Duration::from_millis(500)).await.unwrap() {
        seen.push(change);
    }
    assert_in_order_once(&seen);
    let log = all_changes(api, id, snapshot.seq).await;
    assert_eq!(seen, log, "every change once, in order");
    let mut copies = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), raw.next()).await {
        copies += 1;
    }
    assert!(copies > log.len(), "the second instance published copies too ({copies} messages, {} changes)", log.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_secretariat_and_the_chair_follow_the_board() {
    let stack = crate::common::secure_stack().await;
    let secretariat = &stack.secretariat;
    let id = flow::invited(&secretariat.api).await.unwrap();
    let chair = stack.connect(&format!("person-{}", scenario::CHAIR_PERSONS[0])).await.unwrap();
    let ba_be = stack.connect("site-ba-be").await.unwrap();

    // A site may not subscribe to the feed, nor ask for the board, nor publish a fake change
    let mut spy = ba_be.nats().subscribe(live::conference(&id)).await.unwrap();
    let mut wide = ba_be.nats().subscribe(live::ALL).await.unwrap();
    ba_be.nats().flush().await.unwrap();
    for subject in [live::conference(&id), live::ALL.to_owned()] {
        let report = ba_be.wait_report(&format!("Subscription to \"{subject}\""), Duration::from_secs(5)).await;
        assert!(report.is_ok(), "{report:?}");
    }
    let query = serde_json::to_vec(&PageQuery::first(id)).unwrap();
    assert!(ba_be.attempt(attendance::BOARD, query.clone()).await.is_refused());
    let since = serde_json::to_vec(&BoardChangesQuery { conference_id: id, since: 0, limit: 10 }).unwrap();
    assert!(ba_be.attempt(attendance::BOARD_CHANGES, since).await.is_refused());
    ba_be.nats().publish(live::conference(&id), "{}".into()).await.unwrap();
    ba_be.nats().flush().await.unwrap();
    let report = ba_be.wait_report(&format!("Publish to \"{}\"", live::conference(&id)), Duration::from_secs(5)).await;
    assert!(report.is_ok(), "{report:?}");

    // The secretariat and the chair follow it
    let (mut by_secretariat, _) = Board::open(&secretariat.api, id).await.unwrap();
    let (mut by_chair, _) = Board::open(&chair.api, id).await.unwrap();
    flow::answer(&ba_be.api, id, &scenario::site("ba-be")).await.unwrap();
    for board in [&mut by_secretariat, &mut by_chair] {
        let change = next(board, "Ba Bể confirms").await;
        assert_eq!(change.site_id, Some(scenario::site("ba-be")));
    }
    // And the site received nothing
    for sub in [&mut spy, &mut wide] {
        let got = tokio::time::timeout(Duration::from_millis(300), sub.next()).await;
        assert!(!matches!(got, Ok(Some(_))), "a site received a board change: {got:?}");
    }
    let seqs: BTreeSet<u64> = [by_secretariat.last_seq(), by_chair.last_seq()].into();
    assert_eq!(seqs.len(), 1, "both boards hold the same state");
}
