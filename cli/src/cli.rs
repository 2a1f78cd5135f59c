//! The command line: global options and the command groups.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::commands::board;
use crate::commands::presence;
use crate::commands::{
    admin, attendance, check, conference, demo, minutes, notice, notifications, sites, status, tasks,
};
use crate::commands::{agenda, floor};

/// The hoinghi client: schedule provincial online conferences, collect the bridges' answers and
/// check-ins, and write, approve, publish and acknowledge the minutes, over NATS.
#[derive(Debug, Parser)]
#[command(name = "hoinghi", version, propagate_version = true, max_term_width = 110)]
pub struct Cli {
    /// The options of every command.
    #[command(flatten)]
    pub global: Global,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The options of every command, given before or after it; the connection's may come from the
/// environment, whose values help does not show.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// NATS server URL(s), comma separated.
    #[arg(
        long,
        global = true,
        env = "HOINGHI__NATS__URL",
        hide_env_values = true,
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,

    /// NATS credentials file (a user JWT + seed, e.g. site-ba-be.creds from `hoinghi admin init|add-site|add-person`);
    /// empty for an open server.
    #[arg(long, global = true, env = "HOINGHI__NATS__CREDS", hide_env_values = true)]
    pub creds: Option<String>,

    /// The identity to act as; replies come to `_INBOX.<identity>` (default: the name in the
    /// credentials file's JWT, e.g. site-ba-be).
    #[arg(long, global = true, env = "HOINGHI__NATS__IDENTITY", hide_env_values = true)]
    pub identity: Option<String>,

    /// TLS: PEM CA file of the server's certificate (turns TLS on).
    #[arg(long, global = true, env = "HOINGHI__NATS__TLS_CA", hide_env_values = true)]
    pub tls_ca: Option<String>,

    /// TLS: PEM client certificate, for a server that verifies clients (with --tls-key).
    #[arg(long, global = true, env = "HOINGHI__NATS__TLS_CERT", hide_env_values = true)]
    pub tls_cert: Option<String>,

    /// TLS: the PEM private key of --tls-cert.
    #[arg(long, global = true, env = "HOINGHI__NATS__TLS_KEY", hide_env_values = true)]
    pub tls_key: Option<String>,

    /// Seconds to wait for each reply.
    #[arg(long, global = true, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,

    /// Print replies as raw JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Sent as `Hoinghi-Idempotency-Key`: a retried command with the same key takes effect once.
    #[arg(long, global = true, value_name = "KEY", value_parser = parse_idempotency_key)]
    pub idempotency_key: Option<String>,

    /// Print the trace id of this invocation's requests on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register or rename sites (đơn vị).
    #[command(subcommand, visible_alias = "sites")]
    Site(sites::Cmd),
    /// Schedule and run conferences (secretariat).
    #[command(subcommand, visible_alias = "conf")]
    Conference(conference::Cmd),
    /// A district point's answers and check-ins, and the roster.
    #[command(subcommand)]
    Attendance(attendance::Cmd),
    /// The technical check (kiểm tra kỹ thuật) of the bridges: open, report, summary.
    #[command(subcommand)]
    Check(check::Cmd),
    /// Follow one conference live as a board does (secretariat, chair): the snapshot, then every
    /// change as it comes; `--since N` resumes after a disconnect.
    Board(board::BoardArgs),
    /// The agenda during the session: move to an item (the secretariat or the chair).
    #[command(subcommand)]
    Agenda(agenda::Cmd),
    /// The floor during the session: request, withdraw (a site), grant, done (the chair), show.
    #[command(subcommand)]
    Floor(floor::Cmd),
    /// Minutes (biên bản): record, submit, approve, publish, acknowledge, verify.
    #[command(subcommand)]
    Minutes(minutes::Cmd),
    /// The conclusions notice (thông báo kết luận): issue, read, acknowledge, list the overdue.
    #[command(subcommand)]
    Notice(notice::Cmd),
    /// Tasks of the published minutes followed to done: a site reports, the secretariat accepts or
    /// returns; lists of overdue tasks.
    #[command(subcommand, visible_alias = "tasks")]
    Task(tasks::Cmd),
    /// A site's own notifications (invitation, reschedule, cancellation, reminders, minutes
    /// published): list them since a cursor, or watch them live.
    #[command(subcommand, visible_alias = "notification")]
    Notifications(notifications::Cmd),
    /// Live presence: a bridge's endpoint heartbeats while connected (`presence beat`).
    #[command(subcommand)]
    Presence(presence::Cmd),
    /// List the hoinghi services that answer on this NATS (via $SRV.INFO and $SRV.PING).
    Status(status::StatusArgs),
    /// Wait until the named services answer `$SRV.PING.<name>`.
    Ping(status::PingArgs),
    /// Run the Bắc Kạn scenario (23 July 2021) end to end against a running stack.
    Demo(demo::DemoArgs),
    /// Identities of a deployment (NATS operator, accounts, user JWTs, .creds files) and its
    /// nats-server configuration; only revoke and rotate contact the server.
    #[command(subcommand)]
    Admin(admin::Cmd),
}

impl Global {
    /// The client settings these options describe.
    ///
    /// # Errors
    /// A timeout that is not a positive number.
    pub fn client_settings(&self) -> anyhow::Result<hoinghi_client::Settings> {
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            anyhow::bail!("--timeout must be a positive number of seconds");
        }
        let path = |v: &Option<String>| v.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from);
        let tls_client = match (path(&self.tls_cert), path(&self.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => anyhow::bail!("--tls-cert and --tls-key go together"),
        };
        Ok(hoinghi_client::Settings {
            url: self.nats_url.clone(),
            creds: path(&self.creds),
            timeout: Duration::from_secs_f64(self.timeout),
            idempotency_key: self.idempotency_key.clone(),
            identity: self.identity.as_deref().map(str::trim).filter(|i| !i.is_empty()).map(str::to_owned),
            tls_ca: path(&self.tls_ca),
            tls_client,
            name: "hoinghi-cli".to_owned(),
        })
    }
}

fn parse_idempotency_key(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 128 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("use 1 to 128 printable ASCII characters without spaces".to_owned());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn idempotency_keys_are_checked() {
        assert!(parse_idempotency_key("retry-1").is_ok());
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("has space").is_err());
        assert!(parse_idempotency_key(&"k".repeat(129)).is_err());
    }
}
