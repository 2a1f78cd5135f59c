#!/usr/bin/env bash
# THE test command: installs the pinned nats-server (deploy/install-nats.sh) and exports its path as
# NATS_SERVER_BIN, installs the tests' Python packages and Chromium (deploy/install-test-tools.sh),
# builds the service binaries the integration tests start, then runs every test.
# Extra arguments go to `cargo test --workspace` (e.g. deploy/test.sh -- --nocapture).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NATS_SERVER_BIN="$("$ROOT/deploy/install-nats.sh")"
export NATS_SERVER_BIN
say "using nats-server $NATS_SERVER_BIN ($("$NATS_SERVER_BIN" --version 2>/dev/null))"
cd "$ROOT"
# The tools some tests use: the Python packages of deploy/test-requirements.txt in a virtual
# environment under target/ (HOINGHI_TEST_PYTHON, HOINGHI_SCHEMATHESIS) and Debian's chromium
# (HOINGHI_CHROMIUM), installed by deploy/install-test-tools.sh.
eval "$("$ROOT/deploy/install-test-tools.sh")"
cargo build --workspace --bins
cargo test --workspace "$@"
