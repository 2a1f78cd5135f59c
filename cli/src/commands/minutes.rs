//! `hoinghi minutes …`: the conference's minute-takers record, submit and publish, its chairs approve
//! or ask for changes — each a person acting as themself (the connection's identity `person-<id>`,
//! whose per-person subjects the command uses) — every site acknowledges; anyone can verify a copy.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use hoinghi_shared::api::{ConferenceRef, DocumentForm, MinutesView, RecordItem, Task};
use hoinghi_shared::subjects::minutes;
use hoinghi_shared::{ConferenceId, SiteId};
use sha2::{Digest, Sha256};

use super::{read_json, Ctx};
use crate::output;

/// Minutes commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Record (or re-record) one agenda item of the draft, from a JSON file and/or flags.
    Record(RecordArgs),
    /// Submit the draft for a chair's approval (every item must be recorded).
    Submit {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Approve the submitted minutes as the chair the conference binds to you (your person
    /// identity).
    Approve {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Send the submitted minutes back to the minute-taker with a comment, as the chair the
    /// conference binds to you.
    RequestChanges {
        /// The conference id.
        conference: ConferenceId,
        /// What should change.
        #[arg(long)]
        comment: String,
    },
    /// Publish the approved minutes (Markdown and its SHA-256).
    Publish {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Show the minutes.
    // `--version` here is the minutes' version, not the program's.
    #[command(disable_version_flag = true)]
    Get {
        /// The conference id.
        conference: ConferenceId,
        /// Print only the published Markdown, byte for byte (for `> minutes.md`): every page read
        /// and the whole checked against the published SHA-256 before anything is printed.
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
        /// Print only the published HTML form, byte for byte (for `> minutes.html`), checked by the
        /// service against the hash recorded at publication, every page read and the whole checked
        /// again before anything is printed.
        #[arg(long, conflicts_with_all = ["json", "markdown", "version"])]
        html: bool,
        /// Show submitted version N (1, 2, …) and what changed from the one before.
        #[arg(long, conflicts_with = "markdown")]
        version: Option<u32>,
    },
    /// Acknowledge receipt of the published minutes for a site.
    Acknowledge {
        /// The site acknowledging.
        #[arg(long)]
        site: SiteId,
        /// The conference id.
        conference: ConferenceId,
    },
    /// List the sites that have not acknowledged the minutes or the conclusions notice, and for how
    /// long they have been waited for.
    Receipts(super::notice::ReceiptsArgs),
    /// Check that a file is exactly the published minutes, in either form (Markdown or HTML: SHA-256
    /// against the hashes recorded at publication); says which form matched; exits 1 on a mismatch.
    /// The published Markdown is read whole (every page) and checked against its hash first.
    Verify {
        /// The conference id.
        conference: ConferenceId,
        /// The copy to check.
        #[arg(long, short)]
        file: PathBuf,
    },
}

/// `minutes record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// A JSON file with the request (`-` for stdin); flags below override its fields.
    #[arg(long, short)]
    file: Option<PathBuf>,
    /// The conference id (overrides the file's `conference_id`).
    conference: Option<ConferenceId>,
    /// The agenda item, 0-based (overrides the file's `item`).
    #[arg(long)]
    item: Option<usize>,
    /// What was said.
    #[arg(long)]
    summary: Option<String>,
    /// A speaker, "Name, position, site" (repeat, in order).
    #[arg(long = "speaker")]
    speakers: Vec<String>,
    /// A conclusion (repeat).
    #[arg(long = "conclusion")]
    conclusions: Vec<String>,
    /// A task, as "owner-site|YYYY-MM-DD|description" (repeat).
    #[arg(long = "task", value_parser = parse_task)]
    tasks: Vec<Task>,
}

fn parse_task(s: &str) -> Result<Task, String> {
    let mut parts = s.splitn(3, '|');
    let (Some(owner), Some(due), Some(description)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected \"owner-site|YYYY-MM-DD|description\"".to_owned());
    };
    let owner_site = SiteId::parse(owner.trim()).map_err(|e| e.to_string())?;
    let due = NaiveDate::parse_from_str(due.trim(), "%Y-%m-%d").map_err(|e| format!("due date {due:?}: {e}"))?;
    Ok(Task { description: description.trim().to_owned(), owner_site, due })
}

impl RecordArgs {
    fn request(self) -> anyhow::Result<RecordItem> {
        let mut value = match &self.file {
            Some(path) => read_json::<serde_json::Value>(path)?,
            None => serde_json::json!({}),
        };
        let object = value.as_object_mut().context("the record file must hold a JSON object")?;
        if let Some(c) = self.conference {
            object.insert("conference_id".into(), serde_json::to_value(c)?);
        }
        if let Some(i) = self.item {
            object.insert("item".into(), i.into());
        }
        if let Some(s) = self.summary {
            object.insert("summary".into(), s.into());
        }
        if !self.speakers.is_empty() {
            object.insert("speakers".into(), serde_json::to_value(self.speakers)?);
        }
        if !self.conclusions.is_empty() {
            object.insert("conclusions".into(), serde_json::to_value(self.conclusions)?);
        }
        if !self.tasks.is_empty() {
            object.insert("tasks".into(), serde_json::to_value(self.tasks)?);
        }
        for field in ["conference_id", "item", "summary"] {
            if !object.contains_key(field) {
                anyhow::bail!(
                    "missing {field}: give it in --file or as a flag (conference id is the positional argument)"
                );
            }
        }
        serde_json::from_value(value).context("the item to record is not valid")
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Runs a minutes command.
///
/// # Errors
/// Error replies, unreadable files.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let client = ctx.client().await?;
    let view: MinutesView = match cmd {
        Cmd::Record(args) => client.record(&args.request()?).await?,
        Cmd::Submit { conference } => client.submit(conference).await?,
        Cmd::Approve { conference } => client.approve(conference).await?,
        Cmd::RequestChanges { conference, comment } => client.request_changes(conference, &comment).await?,
        Cmd::Publish { conference } => client.publish(conference).await?,
        Cmd::Acknowledge { site, conference } => {
            let subject = minutes::site_command(&site, minutes::ACKNOWLEDGE);
            client.call(&subject, &ConferenceRef { conference_id: conference }).await?
        }
        Cmd::Get { conference, version: Some(version), .. } => client.minutes_version(conference, version).await?,
        Cmd::Get { conference, html: true, .. } => {
            let view = client.minutes_html(conference).await?;
            let Some(text) = &view.html else { anyhow::bail!("the reply holds no HTML") };
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Get { conference, markdown, version: None, .. } => {
            let view: MinutesView = if markdown {
                client.minutes_document(conference, DocumentForm::Markdown).await?
            } else {
                client.minutes(conference).await?
            };
            if markdown {
                let Some(text) = &view.markdown else {
                    anyhow::bail!(
                        "the minutes of {conference} are {}, not published: there is no Markdown yet",
                        output::minutes_status(view.status)
                    );
                };
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            view
        }
        Cmd::Verify { conference, file } => return verify(ctx, conference, &file).await,
        Cmd::Receipts(args) => return super::notice::receipts(ctx, args).await,
    };
    output::emit(ctx.json, &view, output::minutes)?;
    Ok(ExitCode::SUCCESS)
}

async fn verify(ctx: &Ctx, conference: ConferenceId, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let actual = sha256_hex(&bytes);
    // The whole published Markdown, every page read and checked against the hash they carry: the
    // hash a copy is compared with is that of the document the service serves.
    let view: MinutesView = ctx.client().await?.minutes_document(conference, DocumentForm::Markdown).await?;
    let Some(markdown_sha256) = view.sha256.clone() else {
        anyhow::bail!(
            "the minutes of {conference} are {}, not published: nothing to verify against",
            output::minutes_status(view.status)
        );
    };
    // A copy is either form of the published minutes: the Markdown or the HTML.
    let form = if actual.eq_ignore_ascii_case(&markdown_sha256) {
        Some("markdown")
    } else if view.html_sha256.as_deref().is_some_and(|h| actual.eq_ignore_ascii_case(h)) {
        Some("html")
    } else {
        None
    };
    let published = if form == Some("html") { view.html_sha256.clone().unwrap_or_default() } else { markdown_sha256 };
    // The scheduling service records the hash too once the conference is closed: a second witness.
    let recorded: Option<String> = ctx.client().await?.conference(conference).await.ok().and_then(|c| c.minutes_sha256);
    let matches = form.is_some();
    if ctx.json {
        output::print_json(&serde_json::json!({
            "conference_id": conference,
            "file": file.display().to_string(),
            "file_sha256": actual,
            "published_sha256": published,
            "form": form,
            "published_html_sha256": view.html_sha256,
            "conference_minutes_sha256": recorded,
            "published_bytes": view.document_total_bytes,
            "matches": matches,
        }))?;
    } else if matches {
        let form = if form == Some("html") { "HTML" } else { "Markdown" };
        println!("OK: {} is the published minutes of {conference} ({form} form)", file.display());
        println!("sha256 {actual}");
        match &recorded {
            Some(_) if form == "HTML" => {}
            Some(r) if r.eq_ignore_ascii_case(&actual) => {
                println!("the conference record holds the same hash")
            }
            Some(r) => println!("warning: the conference record holds another hash: {r}"),
            None => {}
        }
    } else {
        println!("MISMATCH: {} is not the published minutes of {conference}", file.display());
        println!("  file sha256:      {actual}");
        println!("  published sha256: {published} (Markdown)");
        if let Some(html) = &view.html_sha256 {
            println!("  published sha256: {html} (HTML)");
        }
    }
    Ok(if matches { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_owner_due_description() {
        let t = parse_task("ba-be|2021-12-31|Tuyên truyền chủ trương, chính sách").unwrap();
        assert_eq!(t.owner_site.as_str(), "ba-be");
        assert_eq!(t.due, NaiveDate::from_ymd_opt(2021, 12, 31).unwrap());
        assert_eq!(t.description, "Tuyên truyền chủ trương, chính sách");
        assert!(parse_task("Ba Bể|2021-12-31|x").is_err());
        assert!(parse_task("ba-be|31/12/2021|x").is_err());
        assert!(parse_task("ba-be|2021-12-31").is_err());
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
