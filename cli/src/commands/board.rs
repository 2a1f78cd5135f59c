//! `hoinghi board <CONF>`: follow one conference live as a board does (the secretariat's screen,
//! the chair's): the snapshot, then each change as it comes, none missed or twice, until
//! interrupted; `--since N` resumes from the last change seen instead.

use std::process::ExitCode;

use clap::Args;
use hoinghi_client::board::Board;
use hoinghi_shared::board::{Board as BoardView, BoardChange};
use hoinghi_shared::ConferenceId;

use super::Ctx;

/// Arguments of `hoinghi board`.
#[derive(Debug, Args)]
pub struct BoardArgs {
    /// The conference.
    pub conference: ConferenceId,
    /// Resume after this `seq` (the last change seen) instead of reading the snapshot.
    #[arg(long)]
    pub since: Option<u64>,
    /// Print the snapshot (or the changes since `--since`) and stop instead of following.
    #[arg(long)]
    pub once: bool,
}

fn snapshot_text(b: &BoardView) -> String {
    let c = &b.roster.counts;
    let mut out = vec![format!(
        "board of {} at seq {} ({:?}): {} invited, {} confirmed, {} declined, {} no answer, {} checked in",
        b.conference_id, b.seq, b.roster.state, c.invited, c.confirmed, c.declined, c.no_answer, c.checked_in
    )];
    for s in &b.roster.sites {
        out.push(format!("  {:<20} {:?}", s.site_id.to_string(), s.status));
    }
    for (name, value) in &b.session {
        out.push(format!("  {name}: {value}"));
    }
    out.join("\n")
}

fn change_text(c: &BoardChange) -> String {
    let site = c.site_id.as_ref().map(|s| format!(" {s}")).unwrap_or_default();
    format!("#{} {} {}{} {}", c.seq, c.occurred_at.to_rfc3339(), c.event_type, site, c.data.get())
}

fn print_change(json: bool, c: &BoardChange) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(c)?);
    } else {
        println!("{}", change_text(c));
    }
    Ok(())
}

/// Runs `hoinghi board`.
///
/// # Errors
/// Error replies (403 for an identity that may not read boards, 404 before the roster opens); a
/// subscription the server refuses.
pub async fn run(ctx: &Ctx, args: BoardArgs) -> anyhow::Result<ExitCode> {
    let api = ctx.client().await?;
    let mut board = match args.since {
        Some(since) => Board::resume(api, args.conference, since).await?,
        None => {
            let (board, snapshot) = Board::open(api, args.conference).await?;
            if ctx.json {
                println!("{}", serde_json::to_string(&snapshot)?);
            } else {
                println!("{}", snapshot_text(&snapshot));
            }
            board
        }
    };
    if args.once {
        while let Some(change) = board.next_within(std::time::Duration::ZERO).await? {
            print_change(ctx.json, &change)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("following {} from seq {} (Ctrl-C to stop)", args.conference, board.last_seq());
    loop {
        let change = board.next().await?;
        print_change(ctx.json, &change)?;
    }
}
