//! `hoinghi`: the command-line client of the hoinghi services.
//!
//! The calls go through the typed client (`hoinghi-client`, which also holds the Bắc Kạn scenario
//! of `hoinghi demo`); `hoinghi admin` makes a deployment's identities (NATS JWTs, `.creds` files) with `hoinghi-credentials`.
//!
//! - `cli`: the command line (global options -> [`hoinghi_client::Settings`]);
//! - `commands`: one module per command group;
//! - `output`: tables and text for people.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
