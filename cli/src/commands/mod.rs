//! One module per command group; [`run`] connects and dispatches.

pub mod admin;
pub mod agenda;
pub mod attendance;
pub mod board;
pub mod check;
pub mod conference;
pub mod demo;
pub mod floor;
pub mod ics;
pub mod minutes;
pub mod notice;
pub mod notifications;
pub mod presence;
pub mod roll_call;
pub mod sites;
pub mod status;
pub mod tasks;
pub mod token;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use hoinghi_client::{Api, Settings};
use hoinghi_shared::api::{Chair, Person};
use hoinghi_shared::PersonId;
use tokio::sync::OnceCell;

use crate::cli::{Cli, Command};

/// What every command gets: the connection (made on first use) and the output format.
pub struct Ctx {
    settings: Settings,
    connection: OnceCell<Api>,
    verbose: bool,
    /// Print raw JSON.
    pub json: bool,
}

impl Ctx {
    /// The client, connecting on first use (so offline commands need no server).
    ///
    /// # Errors
    /// No server, or an unreadable credentials file.
    pub async fn client(&self) -> anyhow::Result<&Api> {
        self.connection
            .get_or_try_init(|| async {
                let client = connect(self.settings.clone()).await?;
                if self.verbose {
                    eprintln!("connected to {}; trace id {}", self.settings.url, client.trace_id());
                }
                Ok(client)
            })
            .await
    }
}

/// Connects as `settings` say, with a hint on how to point the CLI at a server when that fails.
///
/// # Errors
/// No server at the URL, or an unreadable credentials file.
pub async fn connect(settings: Settings) -> anyhow::Result<Api> {
    Api::connect_with(settings).await.map_err(|e| {
        anyhow::anyhow!(
            "{e:#} (set --nats-url or HOINGHI__NATS__URL, and --creds for a server with authentication; \
             deploy/up.sh starts a local stack)"
        )
    })
}

/// Connects and runs the command.
///
/// # Errors
/// Connection failures, error replies and local failures, all readable.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = &cli.global;
    let ctx = Ctx {
        settings: global.client_settings()?,
        connection: OnceCell::new(),
        verbose: global.verbose,
        json: global.json,
    };
    match cli.command {
        Command::Site(cmd) => sites::run(&ctx, cmd).await,
        Command::Conference(cmd) => conference::run(&ctx, cmd).await,
        Command::Attendance(cmd) => attendance::run(&ctx, cmd).await,
        Command::Check(cmd) => check::run(&ctx, cmd).await,
        Command::Board(args) => board::run(&ctx, args).await,
        Command::Agenda(cmd) => agenda::run(&ctx, cmd).await,
        Command::Floor(cmd) => floor::run(&ctx, cmd).await,
        Command::Minutes(cmd) => minutes::run(&ctx, cmd).await,
        Command::Notice(cmd) => notice::run(&ctx, cmd).await,
        Command::Task(cmd) => tasks::run(&ctx, cmd).await,
        Command::Notifications(cmd) => notifications::run(&ctx, cmd).await,
        Command::Presence(cmd) => presence::run(&ctx, cmd).await,
        Command::Status(args) => status::status(&ctx, args).await,
        Command::Ping(args) => status::ping(&ctx, args).await,
        Command::Demo(args) => demo::run(&ctx, args).await,
        Command::Admin(cmd) => admin::run(&ctx, cmd).await,
    }
}

/// Parses "Name|Title" (the title may be left out).
///
/// # Errors
/// An empty name.
pub fn parse_person(s: &str) -> Result<Person, String> {
    let (name, title) = match s.split_once('|') {
        Some((name, title)) => (name.trim(), title.trim()),
        None => (s.trim(), ""),
    };
    if name.is_empty() {
        return Err("expected \"Name|Title\" with a name (the title may be left out)".to_owned());
    }
    Ok(Person { name: name.to_owned(), title: title.to_owned() })
}

/// Parses a chair bound to a person: "person-id|Name|Title" (the title may be left out).
///
/// # Errors
/// A person id that is not one, or an empty name.
pub fn parse_chair(s: &str) -> Result<Chair, String> {
    let usage = "expected \"person-id|Name|Title\": the person who chairs (their person id), the name the minutes \
                 show, and the title (which may be left out)";
    let (person, rest) = s.split_once('|').ok_or(usage)?;
    let person = PersonId::parse(person.trim()).map_err(|e| format!("{e}; {usage}"))?;
    let Person { name, title } = parse_person(rest).map_err(|_| usage.to_owned())?;
    Ok(Chair { name, title, person_id: Some(person) })
}

/// Reads a JSON file (`-` for stdin).
///
/// # Errors
/// An unreadable file or invalid JSON for `T`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = read_text(path)?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Reads a text file (`-` for stdin).
///
/// # Errors
/// An unreadable file.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read stdin")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_name_bar_title() {
        let p = parse_person("Phương Thị Thanh|Phó Bí thư Thường trực Tỉnh ủy").unwrap();
        assert_eq!(p.name, "Phương Thị Thanh");
        assert_eq!(p.title, "Phó Bí thư Thường trực Tỉnh ủy");
        assert_eq!(parse_person(" Hà Văn Bình ").unwrap().title, "");
        assert!(parse_person("|Trưởng ban").is_err());
    }

    #[test]
    fn a_chair_is_person_bar_name_bar_title() {
        let c = parse_chair("phuong-thi-thanh|Phương Thị Thanh|Phó Bí thư").unwrap();
        assert_eq!(c.person_id.unwrap().as_str(), "phuong-thi-thanh");
        assert_eq!((c.name.as_str(), c.title.as_str()), ("Phương Thị Thanh", "Phó Bí thư"));
        assert_eq!(parse_chair("le-b|Lê B").unwrap().title, "");
        for bad in ["Phương Thị Thanh|Phó Bí thư", "Le B|Lê B", "le-b", "le-b||x"] {
            assert!(parse_chair(bad).is_err(), "{bad:?}");
        }
    }
}
