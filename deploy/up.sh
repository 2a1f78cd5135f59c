#!/usr/bin/env bash
# Starts a local hoinghi stack and leaves it running:
#   - identities (authentication ON by default): `hoinghi admin init` writes NATS decentralized JWT
#     authentication into DIR/auth: the operator, the SYS and HOINGHI accounts, a user JWT and a
#     standard .creds file per identity (secretariat, person-<id>, site-<id>, service-<name>,
#     service-<name>-api) with its role's permissions, and DIR/auth/nats-server.conf (operator mode,
#     full resolver);
#   - nats-server (JetStream, max_payload 8MB) on 127.0.0.1, on a free port (or --port), with a fresh
#     JetStream store in the state directory;
#   - the three services (hoinghi-scheduling, -attendance, -minutes), each with its own credentials,
#     logging into the state directory;
#   - with authentication, the HTTP gateway (hoinghi-gateway) on a free port, and a token for the
#     secretariat in DIR/auth/secretariat.token (`hoinghi admin token issue`);
# then waits until each service answers $SRV.PING.hoinghi-<name>.
#
# Usage: deploy/up.sh [--dir DIR] [--port PORT] [--instances N] [--no-build] [--wait SECONDS]
#                     [--sites a,b,c] [--persons a,b] [--open]
#   --dir DIR       state directory (config, credentials, JetStream store, logs, pids); default: a new
#                   temporary one
#   --port PORT     NATS client port; default: a free one
#   --instances N   instances of each service (they share the work through queue groups); default 1
#   --no-build      use the binaries already in target/debug
#   --wait SECONDS  how long to wait for the services to answer; default 60
#   --sites LIST    the sites that get credentials (site-<id>); default: the nine Bắc Kạn bridges of
#                   the demo. Add one later with `hoinghi admin add-site --dir DIR/auth <id>` (no
#                   reload: it connects at once); revoke with `hoinghi admin revoke --dir DIR/auth site-<id>`.
#   --persons LIST  the persons (chairs, minute-takers) that get credentials (person-<id>); default: the
#                   demo's two co-chairs and its minute-taker
#   --open          open local mode: no authentication, anyone reaching the port may do anything
# On success it prints the state directory on stdout and writes DIR/env (export HOINGHI__NATS__URL=…,
# and with authentication HOINGHI__NATS__CREDS=DIR/auth/secretariat.creds and HOINGHI_CREDS_DIR).
# Stop the stack with: deploy/down.sh DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="" PORT="" INSTANCES=1 BUILD=1 WAIT=60 AUTH=1
SITES="tinh-uy-bac-kan,thanh-uy-bac-kan,ba-be,bach-thong,cho-don,cho-moi,na-ri,ngan-son,pac-nam"
PERSONS="phuong-thi-thanh,ma-tu-dong-dien,thu-ky-tinh-uy"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="${2:?--dir needs a directory}"; shift 2 ;;
    --port) PORT="${2:?--port needs a number}"; shift 2 ;;
    --instances) INSTANCES="${2:?--instances needs a number}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --wait) WAIT="${2:?--wait needs seconds}"; shift 2 ;;
    --sites) SITES="${2:?--sites needs a comma-separated list}"; shift 2 ;;
    --persons) PERSONS="${2:?--persons needs a comma-separated list}"; shift 2 ;;
    --open) AUTH=0; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see deploy/up.sh --help)" ;;
  esac
done

NATS_BIN="$("$ROOT/deploy/install-nats.sh")"
if [ "$BUILD" = 1 ]; then
  say "building the workspace binaries (cargo build --workspace --bins)"
  (cd "$ROOT" && cargo build --workspace --bins) >&2
fi
for bin in hoinghi hoinghi-gateway "${SERVICES[@]/#/hoinghi-}"; do
  [ -x "$BIN_DIR/$bin" ] || die "$BIN_DIR/$bin is missing: run cargo build --workspace --bins"
done

[ -n "$DIR" ] || DIR="$(mktemp -d "${TMPDIR:-/tmp}/hoinghi-stack.XXXXXX")"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
if [ -z "$PORT" ]; then
  PORT="$(free_port)"
elif port_open "$PORT"; then
  die "port $PORT is already in use"
fi
URL="nats://127.0.0.1:$PORT"

STARTED=0
cleanup_on_failure() {
  if [ "$STARTED" != 1 ]; then
    say "start-up failed; stopping what was started (logs stay in $DIR)"
    "$ROOT/deploy/down.sh" "$DIR" >&2 || true
  fi
}
trap cleanup_on_failure EXIT

CLI_AUTH=()
if [ "$AUTH" = 1 ]; then
  # A fresh deployment each time (--force: a reused DIR gets new keys; its JetStream store is kept).
  # nats-server keeps its files in a "jetstream" directory under the store directory.
  "$BIN_DIR/hoinghi" admin init --dir "$DIR/auth" --sites "$SITES" --persons "$PERSONS" --store-dir "$DIR" \
    --listen "127.0.0.1:$PORT" --force >"$DIR/credentials.out" 2>&1 \
    || { log_tail "$DIR/credentials.out"; die "hoinghi admin init failed"; }
  CONF="$DIR/auth/nats-server.conf"
  CLI_AUTH=(--creds "$DIR/auth/secretariat.creds")
  say "authentication on: a user JWT and .creds file per person, site and service in $DIR/auth (see docs/SECURITY.md)"
else
  CONF="$DIR/nats.conf"
  cat >"$CONF" <<CONF
# Written by deploy/up.sh --open: no authentication
listen: 127.0.0.1:$PORT
max_payload: 8MB
max_pending: 256MB
jetstream {
  # nats-server keeps its files in a "jetstream" directory under store_dir
  store_dir: "$DIR"
}
CONF
  say "open local mode (no authentication): anyone reaching 127.0.0.1:$PORT may do anything"
fi
"$NATS_BIN" -c "$CONF" >"$DIR/nats-server.log" 2>&1 </dev/null &
echo $! >"$DIR/nats-server.pid"
for _ in $(seq 1 100); do
  port_open "$PORT" && break
  if ! kill -0 "$(cat "$DIR/nats-server.pid")" 2>/dev/null; then
    log_tail "$DIR/nats-server.log"; die "nats-server exited at start"
  fi
  sleep 0.1
done
port_open "$PORT" || { log_tail "$DIR/nats-server.log"; die "nats-server does not listen on $PORT after 10s"; }
say "nats-server $("$NATS_BIN" --version 2>/dev/null | sed 's/.* //') on $URL (JetStream store under $DIR/jetstream)"

for svc in "${SERVICES[@]}"; do
  for i in $(seq 1 "$INSTANCES"); do
    name="hoinghi-$svc"; [ "$INSTANCES" = 1 ] || name="hoinghi-$svc-$i"
    creds=""; api_creds=""
    [ "$AUTH" = 0 ] || { creds="$DIR/auth/service-$svc.creds"; api_creds="$DIR/auth/service-$svc-api.creds"; }
    NO_COLOR=1 HOINGHI__NATS__URL="$URL" HOINGHI__NATS__CREDS="$creds" HOINGHI__NATS__IDENTITY="" \
      HOINGHI__NATS__API_CREDS="$api_creds" HOINGHI__NATS__API_IDENTITY="" \
      "$BIN_DIR/hoinghi-$svc" >"$DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$DIR/$name.pid"
  done
done

# Wait for every service to answer its ping, failing early if one dies.
deadline=$((SECONDS + WAIT))
while :; do
  for pidfile in "$DIR"/hoinghi-*.pid; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log="${pidfile%.pid}.log"; log_tail "$log"; die "$(basename "${pidfile%.pid}") exited at start (log: $log)"
    fi
  done
  if "$BIN_DIR/hoinghi" --nats-url "$URL" ${CLI_AUTH[@]+"${CLI_AUTH[@]}"} --timeout 2 ping >/dev/null 2>&1; then break; fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    "$BIN_DIR/hoinghi" --nats-url "$URL" ${CLI_AUTH[@]+"${CLI_AUTH[@]}"} --timeout 2 ping >&2 || true
    for log in "$DIR"/hoinghi-*.log; do log_tail "$log" 15; done
    die "the services did not all answer within ${WAIT}s"
  fi
  sleep 0.2
done

# The HTTP gateway (authentication on): the API over HTTP, the live boards and the web pages, acting
# as each caller's own identity from DIR/auth; a token for the secretariat in DIR/auth/secretariat.token.
GATEWAY_URL=""
if [ "$AUTH" = 1 ]; then
  HTTP_PORT="$(free_port)"
  GATEWAY_URL="http://127.0.0.1:$HTTP_PORT"
  NO_COLOR=1 HOINGHI__HTTP__LISTEN="127.0.0.1:$HTTP_PORT" HOINGHI__NATS__URL="$URL" \
    HOINGHI__DEPLOYMENT__DIR="$DIR/auth" "$BIN_DIR/hoinghi-gateway" >"$DIR/hoinghi-gateway.log" 2>&1 </dev/null &
  echo $! >"$DIR/hoinghi-gateway.pid"
  for _ in $(seq 1 100); do port_open "$HTTP_PORT" && break; sleep 0.1; done
  port_open "$HTTP_PORT" || { log_tail "$DIR/hoinghi-gateway.log"; die "hoinghi-gateway does not listen on $HTTP_PORT"; }
  [ -s "$DIR/auth/secretariat.token" ] \
    || (umask 077; "$BIN_DIR/hoinghi" admin token issue --dir "$DIR/auth" secretariat >"$DIR/auth/secretariat.token" 2>/dev/null) \
    || die "hoinghi admin token issue failed"
  say "hoinghi-gateway on $GATEWAY_URL (log in with the token in $DIR/auth/secretariat.token)"
fi

{
  echo "export HOINGHI__NATS__URL=$URL"
  [ -z "$GATEWAY_URL" ] || echo "export HOINGHI_GATEWAY_URL=$GATEWAY_URL"
  if [ "$AUTH" = 1 ]; then
    echo "export HOINGHI__NATS__CREDS=$DIR/auth/secretariat.creds"
    echo "export HOINGHI_CREDS_DIR=$DIR/auth"
  else
    echo "export HOINGHI__NATS__CREDS="
  fi
  echo "export HOINGHI__NATS__IDENTITY="
} >"$DIR/env"
STARTED=1
say "hoinghi stack up: $URL; state, logs and pids in $DIR"
say "  use it:   source $DIR/env; $BIN_DIR/hoinghi status"
if [ "$AUTH" = 1 ]; then
  say "            (as the secretariat; act as another identity with --creds $DIR/auth/<identity>.creds,"
  say "             e.g. site-ba-be.creds, person-thu-ky-tinh-uy.creds, person-phuong-thi-thanh.creds)"
fi
[ -z "$GATEWAY_URL" ] || say "  web:      $GATEWAY_URL/ (board: $GATEWAY_URL/bang/<conference id>; token: $DIR/auth/secretariat.token)"
say "  stop it:  deploy/down.sh $DIR"
echo "$DIR"
