//! `hoinghi-attendance`: reads configuration, sets up logging, runs until SIGTERM.

use anyhow::Context;
use hoinghi_runtime::{config::Settings, service, shutdown, telemetry};

// Request handling allocates many small, short-lived buffers; mimalloc serves them with far less
// CPU than the system allocator (measured by hoinghi-bench, docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let settings = Settings::load().context("reading configuration")?;
    telemetry::init(&settings.log);
    let runtime = service::runtime(&settings.service).context("starting the async runtime")?;
    runtime.block_on(hoinghi_attendance::run(settings, shutdown::signal()))
}
