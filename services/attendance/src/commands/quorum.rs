//! `hoinghi.v1.attendance.quorum` `{conference_id}`: whether the conference is quorate now; and the
//! recording of the quorum at the start of the session (after `session_started` closed the
//! technical check) and at the start of each agenda item (a durable reaction to the attendance
//! stream's own `agenda_item_started`).

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_runtime::reaction::{ReactionError, Received, Subscription};
use hoinghi_runtime::store::CommandMeta;
use hoinghi_shared::api::ConferenceRef;
use hoinghi_shared::subjects::events;
use hoinghi_shared::{ApiError, ConferenceId};

use super::{on_roster, opened_roster, react, Store};
use crate::quorum::AGENDA_ITEM_STARTED;
use crate::SERVICE;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let id = body.conference_id;
    store.query(|state| json(&opened_roster(state, &id)?.quorum_now(id))).await
}

/// Records the quorum of conference `id` now, at the start of the session (`item` `None`) or of
/// agenda item `item`, under `meta` (a reaction's). Nothing is written without a rule, for a moment
/// already recorded, or once the roster is closed. For the agenda's moves to call directly if they
/// prefer that to [`subscription`].
///
/// # Errors
/// `Retry` while the log is unavailable or the roster is not there yet; `Permanent` otherwise.
pub async fn record(
    store: Store,
    meta: &CommandMeta,
    id: ConferenceId,
    item: Option<usize>,
) -> Result<(), ReactionError> {
    react(&store, meta, |state| on_roster(state, &id, |roster| roster.decide_quorum_record(&id, item))).await
}

/// The reaction's command for the quorum: the event's own command id with `:quorum`, so it is not
/// taken for another command the same event caused (closing the technical check).
fn quorum_meta(received: &Received) -> CommandMeta {
    let mut meta = received.command(SERVICE);
    meta.command_id.push_str(":quorum");
    meta
}

/// On `session_started`, once the technical check is closed (the session is in progress): records
/// the quorum at the start.
///
/// # Errors
/// As [`record`].
pub async fn on_session_started(store: Store, received: &Received, id: ConferenceId) -> Result<(), ReactionError> {
    record(store, &quorum_meta(received), id, None).await
}

/// The durable subscription to the attendance stream's own `agenda_item_started`.
pub fn subscription() -> Subscription {
    Subscription {
        durable: "attendance-quorum-on-agenda",
        source: SERVICE,
        filters: vec![events::of_type(SERVICE, AGENDA_ITEM_STARTED)],
    }
}

/// On `agenda_item_started` (`data.item`, 0-based): records the quorum at the start of that item.
///
/// # Errors
/// `Permanent` for an event without a conference or an item; as [`record`] otherwise.
pub async fn on_agenda_item_started(store: Store, received: Received) -> Result<(), ReactionError> {
    let Some(id) = received.envelope.conference_id else {
        return Err(ReactionError::Permanent("agenda_item_started without a conference id".into()));
    };
    let item = received.envelope.data_value().get("item").and_then(serde_json::Value::as_u64);
    let Some(item) = item.and_then(|i| usize::try_from(i).ok()) else {
        return Err(ReactionError::Permanent("agenda_item_started without its item".into()));
    };
    // The item's start must be applied before the count is taken.
    store.catch_up().await.map_err(|e: ApiError| ReactionError::Retry(e.message))?;
    record(store, &quorum_meta(&received), id, Some(item)).await
}
