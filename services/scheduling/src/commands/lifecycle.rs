//! `invite`, `start` and `end`: the commands that only move a conference along its life.

use hoinghi_runtime::host::{Incoming, Reply};
use hoinghi_runtime::input::parse_body;
use hoinghi_shared::api::ConferenceRef;

use super::{conference_command, Store};
use crate::conference::ConferenceCommand;

/// Which step.
#[derive(Debug, Clone, Copy)]
pub enum Lifecycle {
    /// `hoinghi.v1.scheduling.conferences.invite`: issue the invitations.
    Invite,
    /// `hoinghi.v1.scheduling.conferences.start`: open the session.
    Start,
    /// `hoinghi.v1.scheduling.conferences.end`: close the session.
    End,
}

/// Handles one request.
pub async fn handle(store: Store, request: Incoming, step: Lifecycle) -> Reply {
    let body: ConferenceRef = parse_body(&request.payload, "{conference_id}")?;
    let command = || match step {
        Lifecycle::Invite => ConferenceCommand::Invite,
        Lifecycle::Start => ConferenceCommand::Start,
        Lifecycle::End => ConferenceCommand::End,
    };
    conference_command(store, &request, body.conference_id, command).await
}
