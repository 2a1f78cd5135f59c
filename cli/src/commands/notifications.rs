//! `hoinghi notifications …`: a site's own notifications (invitation, reschedule, cancellation,
//! reminders, minutes published), listed since a cursor or watched live.

use std::process::ExitCode;

use clap::Subcommand;
use futures::StreamExt;
use hoinghi_shared::notifications::{Notification, NotificationEntry, NotificationsPage};
use hoinghi_shared::SiteId;

use super::Ctx;
use crate::output;

/// Notification commands (run as the site's identity: a site reads only its own).
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List the site's notifications after a cursor.
    List {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The cursor: the `seq` of the last notification already seen (default: from the first).
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// Most notifications to show (1 to 500).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print the site's notifications as they are written, until interrupted.
    Watch {
        /// The site.
        #[arg(long)]
        site: SiteId,
    },
}

fn line(seq: Option<u64>, n: &Notification) -> String {
    let seq = seq.map(|s| format!("#{s} ")).unwrap_or_default();
    format!("{seq}{} {} [{}] {}", n.occurred_at.to_rfc3339(), n.kind.token(), n.conference_id, n.text)
}

pub(crate) fn page(p: &NotificationsPage) -> String {
    let mut out: Vec<String> =
        p.notifications.iter().map(|e: &NotificationEntry| line(Some(e.seq), &e.notification)).collect();
    if out.is_empty() {
        out.push(format!("no notifications for {} after this cursor", p.site_id));
    }
    out.push(format!("next cursor: --since {}{}", p.next, if p.more { " (more follow)" } else { "" }));
    out.join("\n")
}

/// Runs a notification command.
///
/// # Errors
/// Error replies; a subscription the server refuses.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::List { site, since, limit } => {
            let reply = ctx.client().await?.notifications(&site, since, limit).await?;
            output::emit(ctx.json, &reply, page)?;
        }
        Cmd::Watch { site } => {
            let mut live = ctx.client().await?.watch_notifications(&site).await?;
            eprintln!("watching the notifications of {site} (Ctrl-C to stop)");
            while let Some(message) = live.next().await {
                match serde_json::from_slice::<Notification>(&message.payload) {
                    Ok(n) if ctx.json => output::print_json(&n)?,
                    Ok(n) => println!("{}", line(None, &n)),
                    Err(e) => eprintln!("{}: not a notification ({e})", message.subject),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
