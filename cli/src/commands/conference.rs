//! `hoinghi conference …`: the secretariat schedules and runs conferences.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Subcommand};
use hoinghi_shared::api::{
    AgendaItem, ApprovalPolicy, AuditEntry, AuditTrail, CancelConference, Chair, ConferenceRef, ConferenceView,
    CreateConference, PageQuery, Person, DEFAULT_PAGE, MAX_PAGE,
};
use hoinghi_shared::subjects::scheduling;
use hoinghi_shared::{ConferenceId, PersonId, SiteId};

use super::{parse_chair, parse_person, read_json, Ctx};
use hoinghi_client::bac_kan;

use crate::output;

/// Conference commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Schedule a conference, from a JSON file (see `conference example`) or from flags.
    Create(Box<CreateArgs>),
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
    /// Move a conference that has not started to a new time; every invited site is told and its
    /// schedule sequence grows by one (a conference not yet invited just takes the new time).
    Reschedule {
        /// The conference id.
        conference: ConferenceId,
        /// The new start, RFC 3339 with offset (e.g. 2021-07-23T09:00:00+07:00).
        #[arg(long, value_parser = parse_time)]
        starts_at: DateTime<FixedOffset>,
        /// The new end, RFC 3339 with offset.
        #[arg(long, value_parser = parse_time)]
        ends_at: DateTime<FixedOffset>,
        /// Why it is moved; every invited site sees it.
        #[arg(long)]
        reason: String,
        /// Ask every site to answer again: every answer is cleared back to "no answer".
        #[arg(long)]
        reanswer: bool,
    },
    /// Show a conference.
    Get {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Print a site's invitation as an iCalendar (RFC 5545) file: `METHOD:REQUEST`, or
    /// `METHOD:CANCEL` once cancelled (e.g. `conference ics <ID> --site ba-be > moi-hop.ics`).
    Ics {
        /// The conference id.
        conference: ConferenceId,
        /// The invited site (a linked bridge or the host bridge).
        #[arg(long)]
        site: SiteId,
    },
    /// The audit trail: who did what and when in a conference, read from the event log (secretariat).
    Audit {
        /// The conference id.
        conference: ConferenceId,
        /// Index of the first entry to show.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Most entries to show (1 to 5000).
        #[arg(long, default_value_t = DEFAULT_PAGE)]
        limit: usize,
        /// Every entry, fetching page after page.
        #[arg(long, conflicts_with_all = ["offset", "limit"])]
        all: bool,
    },
}

/// `conference create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A JSON file with the whole request (`-` for stdin); other flags are then not allowed.
    #[arg(long, short, conflicts_with_all = ["title", "organizer", "starts_at", "ends_at", "host", "sites", "chairs", "minute_takers", "guests", "agenda", "approval_policy", "reminder_offsets_s", "quorum"])]
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
    /// A chair, as "person-id|Name|Title": the person who chairs, who alone may approve as this
    /// chair, and the name and title the minutes show (repeat for co-chairs).
    #[arg(long = "chair", value_parser = parse_chair, required_unless_present = "file")]
    chairs: Vec<Chair>,
    /// A person who keeps the minutes (thư ký), by person id (repeat, or separate with commas).
    #[arg(long = "minute-taker", value_delimiter = ',', required_unless_present = "file")]
    minute_takers: Vec<PersonId>,
    /// A guest, as "Name|Title" (repeat).
    #[arg(long = "guest", value_parser = parse_person)]
    guests: Vec<Person>,
    /// An agenda item title, in order (repeat).
    #[arg(long = "agenda", required_unless_present = "file")]
    agenda: Vec<String>,
    /// Whose approval publishing the minutes needs: `any` chair or `all` chairs (default `all`).
    #[arg(long, value_parser = parse_policy)]
    approval_policy: Option<ApprovalPolicy>,
    /// When to remind the sites that have not answered, in seconds before the start (repeat, or
    /// separate with commas; at most 5, each up to 30 days; default 86400 and 3600).
    #[arg(long = "reminder-offset", value_delimiter = ',')]
    reminder_offsets_s: Option<Vec<u32>>,
    /// The quorum rule, `bridges:PERCENT` or `delegates:PERCENT` (e.g. `bridges:50`: half the
    /// invited bridges present); none: always quorate.
    #[arg(long, value_parser = parse_quorum)]
    quorum: Option<hoinghi_shared::api::QuorumRule>,
}

fn parse_quorum(s: &str) -> Result<hoinghi_shared::api::QuorumRule, String> {
    use hoinghi_shared::api::{QuorumBasis, QuorumRule};
    let usage = || format!("{s:?}: use bridges:PERCENT or delegates:PERCENT, PERCENT from 1 to 100");
    let (basis, percent) = s.split_once(':').ok_or_else(usage)?;
    let basis = match basis {
        "bridges" => QuorumBasis::Bridges,
        "delegates" => QuorumBasis::Delegates,
        _ => return Err(usage()),
    };
    let percent: u8 = percent.parse().map_err(|_| usage())?;
    Ok(QuorumRule { basis, percent })
}

fn parse_policy(s: &str) -> Result<ApprovalPolicy, String> {
    match s {
        "any" => Ok(ApprovalPolicy::Any),
        "all" => Ok(ApprovalPolicy::All),
        _ => Err(format!("{s:?}: use `any` (one chair's approval is enough) or `all` (every chair approves)")),
    }
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
                "give --file, or all of --title --organizer --starts-at --ends-at --host --site --chair \
                 --minute-taker --agenda"
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
            minute_takers: self.minute_takers,
            guests: self.guests,
            agenda: self.agenda.into_iter().map(|title| AgendaItem { title }).collect(),
            approval_policy: self.approval_policy,
            reminder_offsets_s: self.reminder_offsets_s,
            quorum: self.quorum,
        })
    }
}

/// Runs a conference command.
///
/// # Errors
/// Error replies, unreadable files.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let (subject, body) = match cmd {
        Cmd::Audit { conference, offset, limit, all } => return audit(ctx, conference, offset, limit, all).await,
        Cmd::Ics { conference, site } => return super::ics::run(ctx, conference, &site).await,
        Cmd::Create(args) => (scheduling::CREATE, serde_json::to_value((*args).request()?)?),
        Cmd::Example => {
            output::print_json(&bac_kan::create_conference())?;
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
            // A site reads on its per-site subject, anyone else on the shared one (the client picks).
            let view = ctx.client().await?.conference(conference).await?;
            output::emit(ctx.json, &view, output::conference)?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Cancel { conference, reason } => {
            (scheduling::CANCEL, serde_json::to_value(CancelConference { conference_id: conference, reason })?)
        }
        Cmd::Reschedule { conference, starts_at, ends_at, reason, reanswer } => {
            let body = hoinghi_shared::api::RescheduleConference {
                conference_id: conference,
                starts_at,
                ends_at,
                reason,
                reanswer,
            };
            (scheduling::RESCHEDULE, serde_json::to_value(body)?)
        }
    };
    let view: ConferenceView = ctx.client().await?.call(subject, &body).await?;
    output::emit(ctx.json, &view, output::conference)?;
    Ok(ExitCode::SUCCESS)
}

/// `conference audit`.
async fn audit(
    ctx: &Ctx,
    conference: ConferenceId,
    offset: usize,
    limit: usize,
    all: bool,
) -> anyhow::Result<ExitCode> {
    let client = ctx.client().await?;
    let (mut offset, limit) = if all { (0, MAX_PAGE) } else { (offset, limit) };
    let mut trail: AuditTrail =
        client.call(scheduling::AUDIT, &PageQuery { conference_id: conference, offset, limit }).await?;
    while all && trail.offset + trail.entries.len() < trail.total {
        offset = trail.offset + trail.entries.len();
        let next: AuditTrail =
            client.call(scheduling::AUDIT, &PageQuery { conference_id: conference, offset, limit }).await?;
        if next.entries.is_empty() {
            break;
        }
        trail.entries.extend(next.entries);
        trail.total = next.total;
    }
    output::emit(ctx.json, &trail, audit_text)?;
    Ok(ExitCode::SUCCESS)
}

fn audit_text(trail: &AuditTrail) -> String {
    let mut out = format!(
        "audit trail of {} ({} events; showing {} from #{}; times UTC+7)\n",
        trail.conference_id,
        trail.total,
        trail.entries.len(),
        trail.offset
    );
    out.push_str(&audit_table(&trail.entries));
    out
}

/// Audit entries as the table `conference audit` prints (times UTC+7).
pub(crate) fn audit_table(entries: &[AuditEntry]) -> String {
    let vietnam = FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| unreachable!("+07:00 is a valid offset"));
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.occurred_at.with_timezone(&vietnam).format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                e.actor.clone(),
                e.event_type.clone(),
                e.site_id.as_ref().map(ToString::to_string).unwrap_or_default(),
                format!("{}#{}", e.stream, e.seq),
            ]
        })
        .collect();
    output::table(&["TIME", "ACTOR", "EVENT", "SITE", "LOG"], &rows)
}
