//! `hoinghi.v1.minutes.sites.<site>.acknowledge`: a site confirms it received the published minutes.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_runtime::store::{Append, Decision, Expect};
use hoinghi_shared::api::ConferenceRef;
use hoinghi_shared::events::DomainEvent;
use hoinghi_shared::streams::MINUTES_SERVICE;
use hoinghi_shared::subjects::{events, site_of_command};
use hoinghi_shared::{ApiError, SiteId};

use super::{minutes_view, no_minutes, Store};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let token = site_of_command(&request.subject).unwrap_or_default();
    let site = SiteId::parse(token).map_err(|e| ApiError::invalid(format!("subject {}: {e}", request.subject)))?;
    let meta = request.command(format!("site:{site}"))?;
    let id = body.conference_id;
    store
        .execute(
            &meta,
            |state| {
                let minutes = state.minutes.get(&id).ok_or_else(|| no_minutes(&id))?;
                let events = minutes.acknowledge(&id, &site)?;
                let last_seq = minutes.acks.get(&site).map_or(0, |a| a.last_seq);
                Ok(match events.into_iter().next() {
                    None => Decision::Unchanged,
                    Some(event) => Decision::Append(Append {
                        subject: events::conference_site(MINUTES_SERVICE, &id, &site, event.event_type()),
                        expect: Expect {
                            filter: events::conference_site_filter(MINUTES_SERVICE, &id, &site),
                            last_seq,
                        },
                        event,
                        conference_id: Some(id),
                        site_id: Some(site.clone()),
                    }),
                })
            },
            |state, _| minutes_view(state, &id),
        )
        .await
}
