//! `hoinghi site …`: the site registry.

use std::process::ExitCode;

use clap::Subcommand;
use hoinghi_shared::api::{RegisterSite, SiteView};
use hoinghi_shared::subjects::scheduling;
use hoinghi_shared::SiteId;

use super::Ctx;
use crate::output;

/// Site commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Register a site, or rename a registered one (same id and name again changes nothing).
    Register {
        /// The site id: 1 to 64 characters from a-z, 0-9 and '-' (e.g. ba-be).
        id: SiteId,
        /// The site's name (e.g. "Huyện ủy Ba Bể").
        name: String,
    },
}

/// Runs a site command.
///
/// # Errors
/// Error replies.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Register { id, name } => {
            let view: SiteView =
                ctx.client().await?.call(scheduling::REGISTER_SITE, &RegisterSite { id, name }).await?;
            output::emit(ctx.json, &view, output::site)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
