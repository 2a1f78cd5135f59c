//! `hoinghi conference ics <ID> --site <SITE>`: a site's invitation as an iCalendar file.

use std::io::Write as _;
use std::process::ExitCode;

use hoinghi_shared::{ConferenceId, SiteId};

use super::Ctx;
use crate::output;

/// Prints the invitation's raw `text/calendar` object (CRLF line ends, as RFC 5545 wants) to stdout,
/// ready for `> moi-hop.ics`; with `--json`, the whole reply (`{conference_id, site, sequence,
/// method, ics}`).
///
/// # Errors
/// Error replies (`forbidden` for a site not invited, `conflict` before the invitations), a closed
/// stdout.
pub async fn run(ctx: &Ctx, conference: ConferenceId, site: &SiteId) -> anyhow::Result<ExitCode> {
    let invitation = ctx.client().await?.ics(conference, site).await?;
    if ctx.json {
        output::print_json(&invitation)?;
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(invitation.ics.as_bytes())?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
