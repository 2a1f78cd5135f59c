//! `hoinghi agenda move <CONF> <ITEM>`: the secretariat or the chair moves the session to an agenda
//! item (0-based); the floor's queue of the item before lapses.

use std::process::ExitCode;

use clap::Subcommand;
use hoinghi_shared::ConferenceId;

use super::Ctx;
use crate::output;

/// Agenda commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Move the session to agenda item ITEM (0-based) (the secretariat or the chair, in session).
    Move {
        /// The conference id.
        conference: ConferenceId,
        /// The agenda item, 0-based.
        item: usize,
    },
}

/// Runs an agenda command.
///
/// # Errors
/// Error replies.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let client = ctx.client().await?;
    match cmd {
        Cmd::Move { conference, item } => {
            let floor = client.move_agenda(conference, item).await?;
            output::emit(ctx.json, &floor, super::floor::floor_text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
