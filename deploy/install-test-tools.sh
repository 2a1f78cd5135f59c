#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust and nats-server, so that CI on a fresh machine
# (running as root) runs every test:
#   - the Python packages of deploy/test-requirements.txt (nats-py, schemathesis, kubernetes-validate) into a virtual
#     environment target/test-venv (nothing outside the checkout changes); prints nothing else;
#   - Debian's `chromium` for the browser tests (tests/e2e/browser.rs), with apt-get when it is
#     missing and we are root; otherwise says loudly that the browser tests will fail.
#   - Debian's `prometheus` (for promtool: the alert rules and the metrics exposition) and `systemd`
#     (for systemd-analyze: the units of deploy/systemd), the same way (tests/e2e/operations.rs).
# deploy/test.sh runs it and exports HOINGHI_TEST_PYTHON and HOINGHI_CHROMIUM from its output:
#   eval "$(deploy/install-test-tools.sh)"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

venv="$ROOT/target/test-venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/deploy/test-requirements.txt" >&2
echo "export HOINGHI_TEST_PYTHON=$venv/bin/python"
echo "export HOINGHI_SCHEMATHESIS=$venv/bin/schemathesis"

chromium=""
for candidate in "${HOINGHI_CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium || true)"; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then chromium="$candidate"; break; fi
done
if [[ -z "$chromium" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the browser tests (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
    chromium=/usr/bin/chromium
  else
    echo "!!! Chromium is missing and this is not root with apt-get: the browser tests (tests/e2e/browser.rs)" >&2
    echo "!!! will fail. Install it (apt-get install chromium) or set HOINGHI_CHROMIUM." >&2
  fi
fi
if [[ -n "$chromium" ]]; then
  echo "export HOINGHI_CHROMIUM=$chromium"
fi

# promtool and systemd-analyze (tests/e2e/operations.rs): Debian's prometheus and systemd packages.
missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if (( ${#missing[@]} )); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing Debian's ${missing[*]} for promtool / systemd-analyze (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "!!! ${missing[*]} missing and this is not root with apt-get: the operations tests that run" >&2
    echo "!!! promtool / systemd-analyze (tests/e2e/operations.rs) will fail." >&2
  fi
fi
