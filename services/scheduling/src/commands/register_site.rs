//! `hoinghi.v1.scheduling.sites.register`: register a site, or rename it.

use hoinghi_runtime::aggregate::decide;
use hoinghi_runtime::host::{json, Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::RegisterSite;
use hoinghi_shared::ApiError;

use super::{Store, SECRETARIAT};
use crate::site::{Site, SiteCommand};

/// Handles one request.
pub async fn handle(store: Store, request: Incoming) -> Reply {
    let body: RegisterSite = parse_body(&request.payload, "{id, name}")?;
    let meta = request.command(SECRETARIAT)?;
    let id = body.id;
    store
        .execute(
            &meta,
            |state| {
                let never_registered = Site::default();
                let site = state.sites.get(&id).unwrap_or(&never_registered);
                decide(site, &id, SiteCommand::Register { name: body.name.clone() })
            },
            |state, _| match state.sites.get(&id) {
                Some(site) => json(&site.view(&id)),
                None => Err(ApiError::unavailable("the site was registered but is not visible yet; read it again")),
            },
        )
        .await
}
