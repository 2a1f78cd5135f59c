//! `hoinghi-attendance`: reads configuration, sets up logging, runs until SIGTERM.

use anyhow::Context;
use hoinghi_runtime::{config::Settings, shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load().context("reading configuration")?;
    telemetry::init(&settings.log);
    hoinghi_attendance::run(settings, shutdown::signal()).await
}
