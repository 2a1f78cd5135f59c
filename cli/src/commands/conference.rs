//! `hoinghi conference …`: the secretariat schedules and runs conferences.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Subcommand};
use hoinghi_shared::api::{AgendaItem, CancelConference, ConferenceRef, ConferenceView, CreateConference, Person};
use hoinghi_shared::subjects::scheduling;
use hoinghi_shared::{ConferenceId, SiteId};

use super::{parse_person, read_json, Ctx};
use crate::{output, scenario};

/// Conference commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Schedule a conference, from a JSON file (see `conference example`) or from flags.
    Create(CreateArgs),
    /// Print the Bắc Kạn conference as a JSON file for `create --file` (sites must be registered).
    Example,
    /// Issue the invitations (scheduled -> invited).
    Invite {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Open the session (invited -> in_session).
    Start {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Close the session (in_session -> ended); the minutes draft opens afterwards.
    End {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Cancel a scheduled or invited conference; every invited site sees the reason.
    Cancel {
        /// The conference id.
        conference: ConferenceId,
        /// Why it is cancelled.
        #[arg(long)]
        reason: String,
    },
    /// Show a conference.
    Get {
        /// The conference id.
        conference: ConferenceId,
    },
}

/// `conference create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A JSON file with the whole request (`-` for stdin); other flags are then not allowed.
    #[arg(long, short, conflicts_with_all = ["title", "organizer", "starts_at", "ends_at", "host", "sites", "chairs", "guests", "agenda"])]
    file: Option<PathBuf>,
    /// The title.
    #[arg(long, required_unless_present = "file")]
    title: Option<String>,
    /// Who convenes it.
    #[arg(long, required_unless_present = "file")]
    organizer: Option<String>,
    /// Start, RFC 3339 with offset (e.g. 2021-07-23T08:00:00+07:00).
    #[arg(long, required_unless_present = "file", value_parser = parse_time)]
    starts_at: Option<DateTime<FixedOffset>>,
    /// End, RFC 3339 with offset.
    #[arg(long, required_unless_present = "file", value_parser = parse_time)]
    ends_at: Option<DateTime<FixedOffset>>,
    /// The host bridge's site id.
    #[arg(long, required_unless_present = "file")]
    host: Option<SiteId>,
    /// A linked site to invite (repeat, or separate with commas).
    #[arg(long = "site", value_delimiter = ',', required_unless_present = "file")]
    sites: Vec<SiteId>,
    /// A chair, as "Name|Title" (repeat for co-chairs).
    #[arg(long = "chair", value_parser = parse_person, required_unless_present = "file")]
    chairs: Vec<Person>,
    /// A guest, as "Name|Title" (repeat).
    #[arg(long = "guest", value_parser = parse_person)]
    guests: Vec<Person>,
    /// An agenda item title, in order (repeat).
    #[arg(long = "agenda", required_unless_present = "file")]
    agenda: Vec<String>,
}

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{e}: use RFC 3339 with an offset, like 2021-07-23T08:00:00+07:00"))
}

impl CreateArgs {
    fn request(self) -> anyhow::Result<CreateConference> {
        if let Some(path) = &self.file {
            return read_json(path);
        }
        let missing = || {
            anyhow::anyhow!(
                "give --file, or all of --title --organizer --starts-at --ends-at --host --site --chair --agenda"
            )
        };
        Ok(CreateConference {
            title: self.title.ok_or_else(missing)?,
            organizer: self.organizer.ok_or_else(missing)?,
            starts_at: self.starts_at.ok_or_else(missing)?,
            ends_at: self.ends_at.ok_or_else(missing)?,
            host_site: self.host.ok_or_else(missing)?,
            sites: self.sites,
            chairs: self.chairs,
            guests: self.guests,
            agenda: self.agenda.into_iter().map(|title| AgendaItem { title }).collect(),
        })
    }
}

/// Runs a conference command.
///
/// # Errors
/// Error replies, unreadable files.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let (subject, body) = match cmd {
        Cmd::Create(args) => (scheduling::CREATE, serde_json::to_value(args.request()?)?),
        Cmd::Example => {
            output::print_json(&scenario::create_conference()?)?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Invite { conference } => {
            (scheduling::INVITE, serde_json::to_value(ConferenceRef { conference_id: conference })?)
        }
        Cmd::Start { conference } => {
            (scheduling::START, serde_json::to_value(ConferenceRef { conference_id: conference })?)
        }
        Cmd::End { conference } => {
            (scheduling::END, serde_json::to_value(ConferenceRef { conference_id: conference })?)
        }
        Cmd::Get { conference } => {
            (scheduling::GET, serde_json::to_value(ConferenceRef { conference_id: conference })?)
        }
        Cmd::Cancel { conference, reason } => {
            (scheduling::CANCEL, serde_json::to_value(CancelConference { conference_id: conference, reason })?)
        }
    };
    let view: ConferenceView = ctx.client().await?.call(subject, &body).await?;
    output::emit(ctx.json, &view, output::conference)?;
    Ok(ExitCode::SUCCESS)
}
