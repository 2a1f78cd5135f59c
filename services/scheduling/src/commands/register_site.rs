//! `hoinghi.v1.scheduling.sites.register`: register a site, or rename it.

use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_runtime::store::{Append, Decision, Expect};
use hoinghi_shared::api::RegisterSite;
use hoinghi_shared::subjects::events;
use hoinghi_shared::ApiError;

use super::{Store, SECRETARIAT};
use crate::site::SiteCommand;

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: RegisterSite = parse_body(&request.payload, "{id, name}")?;
    let meta = request.command(SECRETARIAT)?;
    let id = body.id.clone();
    store
        .execute(
            &meta,
            |state| {
                let site = state.sites.get(&id).cloned().unwrap_or_default();
                let events = site.handle(SiteCommand::Register { id: id.clone(), name: body.name.clone() })?;
                Ok(match events.into_iter().next() {
                    None => Decision::Unchanged,
                    Some(event) => Decision::Append(Append {
                        subject: events::site(&id, "site_registered"),
                        expect: Expect { filter: events::site_filter(&id), last_seq: site.last_seq },
                        event,
                        conference_id: None,
                        site_id: Some(id.clone()),
                    }),
                })
            },
            |state, _| match state.sites.get(&id) {
                Some(site) => json(&site.view(&id)),
                None => Err(ApiError::unavailable("the site was registered but is not visible yet; read it again")),
            },
        )
        .await
}
