//! `hoinghi floor …`: the floor during the session: a district point asks for it on the current
//! item and may withdraw; the chair (or the secretariat) gives it, in order or out of order, and
//! marks the speaker done; anyone allowed reads it.

use std::process::ExitCode;

use clap::Subcommand;
use hoinghi_shared::api::{Floor, FloorTurn};
use hoinghi_shared::{ConferenceId, SiteId};

use super::Ctx;
use crate::output;

/// Floor commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Ask for the floor on the current item (a district point, for its own site).
    Request {
        /// The conference id.
        conference: ConferenceId,
        /// The site asking (the district point's own site).
        #[arg(long)]
        site: SiteId,
        /// What it wants to speak about (at most 200 characters).
        #[arg(long)]
        topic: String,
    },
    /// Withdraw the site's request (a district point, for its own site).
    Withdraw {
        /// The conference id.
        conference: ConferenceId,
        /// The site withdrawing.
        #[arg(long)]
        site: SiteId,
    },
    /// Give the floor: to the head of the queue, or to `--site` (out of order when it is not the
    /// head; recorded so) (the chair or the secretariat).
    Grant {
        /// The conference id.
        conference: ConferenceId,
        /// A site in the queue other than the head.
        #[arg(long)]
        site: Option<SiteId>,
    },
    /// The speaker is done (the chair or the secretariat).
    Done {
        /// The conference id.
        conference: ConferenceId,
    },
    /// The current item, the queue, who speaks, who spoke on each item.
    Show {
        /// The conference id.
        conference: ConferenceId,
    },
}

/// Runs a floor command.
///
/// # Errors
/// Error replies.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let client = ctx.client().await?;
    let floor = match cmd {
        Cmd::Request { conference, site, topic } => client.request_floor(&site, conference, &topic).await?,
        Cmd::Withdraw { conference, site } => client.withdraw_floor(&site, conference).await?,
        Cmd::Grant { conference, site } => client.grant_floor(conference, site).await?,
        Cmd::Done { conference } => client.floor_done(conference).await?,
        Cmd::Show { conference } => client.floor(conference).await?,
    };
    output::emit(ctx.json, &floor, floor_text)?;
    Ok(ExitCode::SUCCESS)
}

fn turn_text(t: &FloorTurn) -> String {
    let order = if t.out_of_order { " (ngoài thứ tự)" } else { "" };
    format!("{} ({}): {}{order}", t.site_name, t.site_id, t.topic)
}

/// The floor in words (Vietnamese, as the secretariat's screen shows it).
pub fn floor_text(f: &Floor) -> String {
    let mut out = String::new();
    match (f.current_item, &f.current_title) {
        (Some(item), title) => {
            out.push_str(&format!("Nội dung đang thảo luận: {}. {}\n", item + 1, title.as_deref().unwrap_or("")))
        }
        (None, _) if f.in_session => out.push_str("Chưa chuyển sang nội dung nào của chương trình\n"),
        (None, _) => out.push_str("Hội nghị chưa trong phiên họp\n"),
    }
    match &f.speaking {
        Some(t) => out.push_str(&format!("Đang phát biểu: {}\n", turn_text(t))),
        None => out.push_str("Đang phát biểu: (không có)\n"),
    }
    if f.queue.is_empty() {
        out.push_str("Đăng ký phát biểu: (không có)\n");
    } else {
        out.push_str("Đăng ký phát biểu:\n");
        for q in &f.queue {
            out.push_str(&format!(
                "  {}. {} ({}): {} — lúc {}\n",
                q.position,
                q.site_name,
                q.site_id,
                q.topic,
                q.asked_at.format("%H:%M:%S UTC")
            ));
        }
    }
    for h in &f.history {
        out.push_str(&format!("Đã phát biểu ở nội dung {}. {}:\n", h.item + 1, h.title));
        for t in &h.turns {
            out.push_str(&format!("  - {}\n", turn_text(t)));
        }
    }
    out
}
