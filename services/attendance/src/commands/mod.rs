//! One file per command; [`register`] wires each to its subject.

mod check_in;
mod confirm;
mod decline;
mod roster;

use hoinghi_runtime::host::{json, Host, Incoming, Reply};
use hoinghi_runtime::store::{Append, Decision, EventStore, Expect};
use hoinghi_shared::events::{AttendanceEvent, DomainEvent};
use hoinghi_shared::streams::ATTENDANCE_SERVICE;
use hoinghi_shared::subjects::{attendance as subjects, events, site_of_command};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};

use crate::roster::{Roster, RosterCommand, SiteCommand};
use crate::state::AttendanceState;

/// The attendance store.
pub type Store = EventStore<AttendanceState>;

/// Adds every endpoint to the host.
///
/// # Errors
/// The server refused a subscription.
pub async fn register(host: &Host, store: Store) -> anyhow::Result<()> {
    let s = store.clone();
    host.endpoint("sites-confirm", &subjects::any_site(subjects::CONFIRM), move |r| confirm::handle(s.clone(), r))
        .await?;
    let s = store.clone();
    host.endpoint("sites-decline", &subjects::any_site(subjects::DECLINE), move |r| decline::handle(s.clone(), r))
        .await?;
    let s = store.clone();
    host.endpoint("sites-check-in", &subjects::any_site(subjects::CHECK_IN), move |r| check_in::handle(s.clone(), r))
        .await?;
    let s = store;
    host.endpoint("roster", subjects::ROSTER, move |r| roster::handle(s.clone(), r)).await?;
    Ok(())
}

/// The site a request acts for: the `<site>` token of its subject, never a body field.
///
/// # Errors
/// `invalid` for a token that is not a site id.
pub fn acting_site(request: &Incoming) -> Result<SiteId, ApiError> {
    let token = site_of_command(&request.subject).unwrap_or_default();
    SiteId::parse(token).map_err(|e| ApiError::invalid(format!("subject {}: {e}", request.subject)))
}

fn no_roster(id: &ConferenceId) -> ApiError {
    ApiError::not_found(format!(
        "no roster for conference {id}: it does not exist or its invitations have not been issued yet"
    ))
}

/// Runs a site's command: decided by the site's aggregate, appended on the site's subject, answered
/// with the site's line of the roster.
pub async fn site_command(store: Store, request: Incoming, id: ConferenceId, command: SiteCommand) -> Reply {
    let site = acting_site(&request)?;
    let meta = request.command(format!("site:{site}"))?;
    store
        .execute(
            &meta,
            |state| {
                let roster = state.rosters.get(&id).ok_or_else(|| no_roster(&id))?;
                let events = roster.handle_site(&id, &site, command.clone())?;
                let last_seq = roster.sites.get(&site).map_or(0, |e| e.last_seq);
                Ok(match events.into_iter().next() {
                    None => Decision::Unchanged,
                    Some(event) => Decision::Append(Append {
                        subject: events::conference_site(ATTENDANCE_SERVICE, &id, &site, event.event_type()),
                        expect: Expect {
                            filter: events::conference_site_filter(ATTENDANCE_SERVICE, &id, &site),
                            last_seq,
                        },
                        event,
                        conference_id: Some(id),
                        site_id: Some(site.clone()),
                    }),
                })
            },
            |state, seq| {
                let roster = state.rosters.get(&id).ok_or_else(|| no_roster(&id))?;
                if let Some(seq) = seq {
                    if !roster.took_effect(seq) {
                        // The roster was sealed between deciding and appending: the event is void.
                        roster.ensure_open(&id)?;
                    }
                }
                json(&roster.site_view(id, &site).ok_or_else(|| no_roster(&id))?)
            },
        )
        .await
}

/// Decides a roster command. Close and cancel carry the condition that nothing changed anywhere in
/// the conference since the state was read, so the record they seal is complete.
///
/// # Errors
/// The roster's refusal.
pub fn decide_roster(
    state: &AttendanceState,
    id: &ConferenceId,
    command: RosterCommand,
) -> Result<Decision<AttendanceEvent>, ApiError> {
    let roster = state.rosters.get(id);
    let events = Roster::handle(roster, id, command)?;
    Ok(match events.into_iter().next() {
        None => Decision::Unchanged,
        Some(event) => {
            let expect = match (&event, roster) {
                (AttendanceEvent::RosterOpened { .. }, _) | (_, None) => Expect {
                    filter: events::conference_filter(ATTENDANCE_SERVICE, id),
                    last_seq: roster.map_or(0, |r| r.last_seq),
                },
                (_, Some(r)) => {
                    Expect { filter: events::conference_all(ATTENDANCE_SERVICE, id), last_seq: r.last_seq_any }
                }
            };
            Decision::Append(Append {
                subject: events::conference(ATTENDANCE_SERVICE, id, event.event_type()),
                expect,
                event,
                conference_id: Some(*id),
                site_id: None,
            })
        }
    })
}
