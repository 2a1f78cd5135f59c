//! `hoinghi-attendance`: reads configuration, sets up logging, runs until SIGTERM.

use hoinghi_runtime::{service, shutdown};

// Request handling allocates many small, short-lived buffers; mimalloc serves them with far less
// CPU than the system allocator (measured by hoinghi-bench, docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    service::main(|settings| hoinghi_attendance::run(settings, shutdown::signal()))
}
