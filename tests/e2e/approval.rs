//! Approval as it is done: the Bắc Kạn conference's two co-chairs under the policy `all`. One
//! approves, which is not enough to publish; the other requests changes; the minute-taker revises
//! and resubmits version 2; both approve it; it is published. Every version stays readable, with
//! what changed from the one before and the comment that led to it. Each acts as the person the
//! conference binds to their part (on the open stack, by the per-person subjects).

use hoinghi_shared::api::{ApprovalPolicy, ChangedItem, MinutesStatus, MinutesView};
use hoinghi_shared::events::MinutesEvent;
use hoinghi_shared::{ConferenceId, ErrorCode};
use hoinghi_tests::client::Api;
use hoinghi_tests::{flow, scenario, Service, Stack};

use crate::common::{assert_refused, conference_event, stack_at};

const COMMENT: &str = "Đề nghị bổ sung ý kiến của điểm cầu Ba Bể vào phần thảo luận";

fn approvers(view: &MinutesView) -> Vec<&str> {
    view.approvals.iter().map(|a| a.by.as_str()).collect()
}

/// `approver` cannot approve, nor `requester` request changes, `when`: both are refused with a
/// conflict that mentions `hint`, and write no event.
async fn chairs_cannot_act(
    stack: &Stack,
    id: ConferenceId,
    (approver, requester): (&Api, &Api),
    when: &str,
    hint: &str,
) {
    let before = stack.event_totals().await.unwrap();
    assert_refused(&format!("approve {when}"), approver.approve(id).await, ErrorCode::Conflict, &[hint]);
    let refused = requester.request_changes(id, COMMENT).await;
    assert_refused(&format!("request changes {when}"), refused, ErrorCode::Conflict, &[hint]);
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_co_chairs_approve_a_revised_version_after_a_change_request() {
    let (stack, id) = stack_at(flow::run_to_draft).await;
    let api = &stack.api;
    let (thanh, dien) = (scenario::CHAIRS[0].0, scenario::CHAIRS[1].0);
    let (as_thanh, as_dien, taker) = (flow::chair(api, 0), flow::chair(api, 1), flow::minute_taker(api));
    assert_eq!(api.conference(id).await.unwrap().approval_policy, ApprovalPolicy::All);

    // Version 1: recorded and submitted; not yet something a chair can act on before that.
    let draft = flow::record_all(api, id).await.unwrap();
    assert_eq!((draft.version, draft.latest_version, draft.approval_policy), (1, 0, ApprovalPolicy::All));
    chairs_cannot_act(&stack, id, (&as_thanh, &as_thanh), "before submission", "submit").await;
    let v1 = taker.submit(id).await.unwrap();
    assert_eq!((v1.status, v1.version, v1.latest_version), (MinutesStatus::Submitted, 1, 1));
    assert_eq!(v1.awaiting, [thanh, dien]);

    // One co-chair approves: not enough under `all`.
    let one = as_thanh.approve(id).await.unwrap();
    assert_eq!(
        (one.status, approvers(&one), one.awaiting.clone()),
        (MinutesStatus::Submitted, vec![thanh], vec![dien.to_owned()])
    );
    let before = stack.event_totals().await.unwrap();
    assert_refused("publish with one of two approvals", taker.publish(id).await, ErrorCode::Conflict, &[dien]);
    assert_refused("approve twice", as_thanh.approve(id).await, ErrorCode::Conflict, &["already approved version 1"]);
    assert_refused(
        "a guest's person requests changes",
        flow::as_person(api, "pham-duy-hung").request_changes(id, COMMENT).await,
        ErrorCode::Forbidden,
        &["pham-duy-hung is not a chair", thanh, dien],
    );
    assert_eq!(stack.event_totals().await.unwrap(), before, "refused requests write no event");

    // The other co-chair requests changes: the minutes are a draft again.
    let sent_back = as_dien.request_changes(id, COMMENT).await.unwrap();
    assert_eq!(sent_back.status, MinutesStatus::Draft);
    assert_eq!((sent_back.version, sent_back.latest_version), (2, 1), "the draft becomes version 2");
    assert_eq!(sent_back.change_requests.len(), 1);
    assert_eq!((sent_back.change_requests[0].requested_by.as_str(), sent_back.change_requests[0].version), (dien, 1));
    assert_refused(
        "approve a version sent back",
        as_dien.approve(id).await,
        ErrorCode::Conflict,
        &["requested changes to version 1"],
    );

    // The minute-taker revises item 2 (discussion) and resubmits: version 2, no approval carried over.
    let mut revised = scenario::records(id)[1].clone();
    revised.summary.push_str(" Điểm cầu Ba Bể đề nghị hỗ trợ kinh phí nhân rộng mô hình.");
    taker.record(&revised).await.unwrap();
    let v2 = taker.submit(id).await.unwrap();
    assert_eq!((v2.status, v2.version, v2.latest_version), (MinutesStatus::Submitted, 2, 2));
    assert!(v2.approvals.is_empty() && v2.approved_by.is_none(), "a new submission clears the approvals: {v2:?}");
    assert_eq!(v2.awaiting, [thanh, dien]);

    // Both co-chairs approve version 2; it is published.
    assert_eq!(as_dien.approve(id).await.unwrap().status, MinutesStatus::Submitted);
    let approved = as_thanh.approve(id).await.unwrap();
    assert_eq!((approved.status, approvers(&approved)), (MinutesStatus::Approved, vec![dien, thanh]));
    assert!(approved.approvals.iter().all(|a| a.version == 2));
    let published = taker.publish(id).await.unwrap();
    assert_eq!((published.status, published.version), (MinutesStatus::Published, 2));
    let markdown = published.markdown.clone().unwrap();
    assert!(markdown.contains("Điểm cầu Ba Bể đề nghị hỗ trợ kinh phí"), "the published document is version 2");

    // Every version stays readable, with what changed and why.
    let first = api.minutes_version(id, 1).await.unwrap();
    assert_eq!((first.version, first.latest_version, first.status), (1, 2, MinutesStatus::Published));
    assert_eq!(first.items[1].summary, scenario::records(id)[1].summary, "version 1 as first submitted");
    assert_eq!(approvers(&first), [thanh], "version 1 keeps its own approval");
    assert!(first.changes.is_none() && first.markdown.is_none(), "{first:?}");
    let second = api.minutes_version(id, 2).await.unwrap();
    assert_eq!(second.items[1].summary, revised.summary);
    let changes = second.changes.clone().expect("version 2 says what changed from version 1");
    assert_eq!(changes.from_version, 1);
    assert_eq!(changes.changed, [ChangedItem { index: 1, title: scenario::AGENDA[1].to_owned() }]);
    assert!(changes.added.is_empty() && changes.removed.is_empty());
    let request = changes.change_request.expect("the change request that led to version 2");
    assert_eq!((request.requested_by.as_str(), request.comment.as_str(), request.version), (dien, COMMENT, 1));
    assert_eq!(second.sha256, published.sha256, "the published version carries the document");
    assert_refused(
        "a version never submitted",
        api.minutes_version(id, 3).await,
        ErrorCode::NotFound,
        &["versions 1 to 2"],
    );

    // Refusals after publication, and the events of every step.
    chairs_cannot_act(&stack, id, (&as_dien, &as_thanh), "after publication", "published").await;
    let stream = Service::Minutes.stream().name;
    for (event_type, count) in [
        (MinutesEvent::MINUTES_SUBMITTED, 2),
        (MinutesEvent::MINUTES_APPROVED, 3),
        (MinutesEvent::CHANGES_REQUESTED, 1),
        (MinutesEvent::MINUTES_PUBLISHED, 1),
    ] {
        let subject = conference_event(Service::Minutes, id, event_type);
        assert_eq!(stack.count_events(stream, &subject).await.unwrap(), count, "{event_type}");
    }
}
