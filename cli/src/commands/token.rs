//! `hoinghi admin token issue|revoke|list --dir DIR`: the HTTP gateway's bearer tokens
//! ([`hoinghi_gateway::tokens`]). A token acts as one identity of the deployment (the gateway
//! connects to NATS with that identity's `.creds`); only its SHA-256 is kept, in `DIR/tokens.json`,
//! so the token is shown once, when issued. Offline: every gateway instance re-reads the file within
//! a second, so a revocation needs no restart.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use hoinghi_gateway::tokens;

/// Token commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Issue a token for IDENTITY (secretariat, site-<id>, person-<id>; its .creds must be in DIR)
    /// and print it; only its hash is kept.
    Issue {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The identity the token acts as.
        identity: String,
    },
    /// Revoke the tokens of IDENTITY (all, or the one whose id starts with --id).
    Revoke {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// The identity.
        identity: String,
        /// The token's id, as `token list` shows it.
        #[arg(long)]
        id: Option<String>,
    },
    /// List the tokens: id, identity, when issued (never the tokens themselves).
    List {
        /// The deployment directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

/// Runs a token command.
///
/// # Errors
/// An identity without credentials in the directory, an unreadable or unwritable tokens file.
pub fn run(cmd: Cmd, json: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Issue { dir, identity } => {
            let (token, entry) = tokens::issue(&dir, &identity)?;
            if json {
                println!("{}", serde_json::json!({"token": token, "id": entry.id(), "identity": entry.identity}));
            } else {
                eprintln!("token {} for {identity} (shown once; keep it secret):", entry.id());
                println!("{token}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Revoke { dir, identity, id } => {
            let gone = tokens::revoke(&dir, &identity, id.as_deref())?;
            if gone.is_empty() {
                eprintln!("no token of {identity} matched: nothing revoked");
                return Ok(ExitCode::FAILURE);
            }
            for entry in gone {
                println!("revoked token {} of {}", entry.id(), entry.identity);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::List { dir } => {
            let file = tokens::read(&dir)?;
            if json {
                let list: Vec<_> = file
                    .tokens
                    .iter()
                    .map(|t| serde_json::json!({"id": t.id(), "identity": t.identity, "created": t.created}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for t in &file.tokens {
                    println!("{}  {:<32} {}", t.id(), t.identity, t.created.to_rfc3339());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
