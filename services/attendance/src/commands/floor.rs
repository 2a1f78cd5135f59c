//! The agenda and the floor: `hoinghi.v1.attendance.agenda.move`, `.floor`, `.floor.grant`,
//! `.floor.done` (the secretariat and the chair) and `hoinghi.v1.attendance.sites.<site>.floor.request`
//! and `.floor.withdraw` (a site for itself). Every command answers the floor ([`api::Floor`]).
//!
//! The subjects of the secretariat and the chair are shared by both (the server lets either publish
//! to them), and a request does not say which of the two sent it: their events record the actor
//! `chair`, the office that holds the floor, whoever pressed the button.
//!
//! Floor commands of one instance are decided and appended one at a time (a lock), so that many
//! bridges asking at once are appended one after the other instead of racing for the conference's
//! floor and losing races to each other; instances sharing the requests still race, and the loser
//! decides again on the fresh state.

use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::{ConferenceRef, GrantFloor, MoveAgenda, RequestFloor};
use hoinghi_shared::roles::actor;
use hoinghi_shared::subjects::attendance as subjects;
use hoinghi_shared::{ApiError, ConferenceId};

use super::{on_roster, Store};
use crate::floor::FloorCommand;
use crate::roster::{no_roster, Roster};

/// One floor command at a time in this instance.
static FLOOR_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Adds the agenda's and the floor's endpoints to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: &Store) -> anyhow::Result<()> {
    host.endpoint_with("agenda-move", subjects::AGENDA_MOVE, store, agenda_move).await?;
    host.endpoint_with("floor", subjects::FLOOR, store, show).await?;
    host.endpoint_with("floor-grant", subjects::FLOOR_GRANT, store, grant).await?;
    host.endpoint_with("floor-done", subjects::FLOOR_DONE, store, done).await?;
    host.endpoint_with("sites-floor-request", &subjects::any_site(subjects::FLOOR_REQUEST), store, request_floor)
        .await?;
    host.endpoint_with("sites-floor-withdraw", &subjects::any_site(subjects::FLOOR_WITHDRAW), store, withdraw).await?;
    Ok(())
}

/// Decides `command` on the floor of conference `id` as `actor`, and answers the floor.
async fn run(store: Store, request: &Incoming, actor: String, id: ConferenceId, command: FloorCommand) -> Reply {
    let meta = request.command(actor)?;
    let _one_at_a_time = FLOOR_LOCK.lock().await;
    store
        .execute(
            &meta,
            |state| on_roster(state, &id, |roster| roster.decide_floor(&id, command.clone())),
            |state, _| json(&view(state.rosters.get(&id), id)?),
        )
        .await
}

fn view(roster: Option<&Roster>, id: ConferenceId) -> Result<hoinghi_shared::api::Floor, ApiError> {
    roster.and_then(|r| r.floor_view(id)).ok_or_else(|| no_roster(&id))
}

/// `agenda.move` `{conference_id, item}`.
async fn agenda_move(store: Store, request: Incoming) -> Reply {
    let body: MoveAgenda = parse_body(&request.payload, "{conference_id, item}")?;
    let command = FloorCommand::Move { item: body.item, items: 0 };
    run(store, &request, actor::CHAIR.to_owned(), body.conference_id, command).await
}

/// `floor.grant` `{conference_id, site?}`.
async fn grant(store: Store, request: Incoming) -> Reply {
    let body: GrantFloor = parse_body(&request.payload, "{conference_id, site?}")?;
    run(store, &request, actor::CHAIR.to_owned(), body.conference_id, FloorCommand::Grant { site: body.site }).await
}

/// `floor.done` `{conference_id}`.
async fn done(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    run(store, &request, actor::CHAIR.to_owned(), body.conference_id, FloorCommand::Done).await
}

/// `sites.<site>.floor.request` `{conference_id, topic}`.
async fn request_floor(store: Store, request: Incoming) -> Reply {
    let body: RequestFloor = parse_body(&request.payload, "{conference_id, topic}")?;
    let site = request.acting_site()?;
    let command = FloorCommand::Request { site: site.clone(), topic: body.topic };
    run(store, &request, actor::site(&site), body.conference_id, command).await
}

/// `sites.<site>.floor.withdraw` `{conference_id}`.
async fn withdraw(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let site = request.acting_site()?;
    run(store, &request, actor::site(&site), body.conference_id, FloorCommand::Withdraw { site }).await
}

/// `floor` `{conference_id}`: the current item, the queue, who speaks, who spoke on each item.
async fn show(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let id = body.conference_id;
    store.query(|state| json(&view(state.rosters.get(&id), id)?)).await
}
