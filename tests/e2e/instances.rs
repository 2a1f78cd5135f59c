//! Several instances of each service at once (queue groups): they serve the same state, and either
//! may die.

use hoinghi_shared::api::{RosterCounts, RosterState};
use hoinghi_tests::{eventually, flow, scenario, Service, ASYNC_TIMEOUT};

use crate::common::{end_and_finish, two_of_each};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_of_each_service_serve_the_same_state_and_either_may_die() {
    let (mut stack, second) = two_of_each().await;
    let api = stack.api.clone();
    let id = flow::invited(&api).await.unwrap();
    flow::answer_all(&api, id).await.unwrap();
    let answered = RosterCounts { invited: 8, confirmed: 6, declined: 1, no_answer: 1, checked_in: 0 };
    // Whichever instance answers, it soon knows every answer.
    let roster = eventually(ASYNC_TIMEOUT, || async {
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(api.roster(id).await.map_err(|e| e.to_string())?);
        }
        if seen.iter().all(|r| r.counts == answered && *r == seen[0]) {
            Ok(seen.swap_remove(0))
        } else {
            Err(format!("instances disagree or lag: {:?}", seen.iter().map(|r| r.counts).collect::<Vec<_>>()))
        }
    })
    .await
    .unwrap();

    // The same confirmation again, to whichever instance: same line, no new event.
    let totals = stack.event_totals().await.unwrap();
    let ba_be = scenario::site("ba-be");
    let line = roster.sites.iter().find(|s| s.site_id == ba_be).unwrap().clone();
    for _ in 0..6 {
        let again = api.confirm(&ba_be, &scenario::confirmation(id, &ba_be).unwrap()).await.unwrap();
        assert_eq!(again, line);
    }
    assert_eq!(stack.event_totals().await.unwrap(), totals, "no instance wrote a duplicate");

    flow::hold_session(&api, id).await.unwrap();
    // The first instances die; the second ones carry on.
    for s in Service::ALL {
        stack.kill(s);
    }
    eventually(ASYNC_TIMEOUT, || async {
        let r = api.roster(id).await.map_err(|e| e.to_string())?;
        if r.counts.checked_in == 5 && r.state == RosterState::Open {
            Ok(())
        } else {
            Err(format!("{:?}", r.counts))
        }
    })
    .await
    .unwrap();
    end_and_finish(&stack, id).await;
    drop(second);
}
