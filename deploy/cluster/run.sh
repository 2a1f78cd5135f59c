#!/usr/bin/env bash
# Runs the three-node NATS cluster of deploy/cluster/node-{1,2,3}.conf on this machine (loopback):
# client ports 4222, 4223, 4224; cluster routes 6222, 6223, 6224; JetStream on every node, with each
# node's store under the state directory.
#
# Usage: deploy/cluster/run.sh COMMAND [--dir DIR]
#   up          make the deployment's identities if the state directory has none (`hoinghi admin init
#               --dir DIR/auth`: operator, accounts, the services' and the secretariat's .creds) and
#               its TLS certificates (DIR/tls: a CA and one per node, with openssl; clients and routes
#               are TLS), start
#               the three nodes, wait until JetStream has elected its metadata leader, and print the
#               settings the services need (the three URLs, 3 replicas, their credentials)
#   down        stop the three nodes (SIGTERM, then SIGKILL after 15 s)
#   stop N      stop node N (1, 2 or 3), to watch the others carry on
#   start N     start node N again (same store: it catches up with the others)
#   status      which nodes run
#   --dir DIR   state directory (stores, logs, pids); default: <repo>/.data/cluster
# Then start the services against it, e.g. with the environment `up` prints:
#   export HOINGHI__NATS__URL=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224
#   export HOINGHI__NATS__REPLICAS=3
#   export HOINGHI__NATS__TLS_CA=DIR/tls/ca.pem
#   HOINGHI__NATS__CREDS=DIR/auth/service-scheduling.creds \
#     HOINGHI__NATS__API_CREDS=DIR/auth/service-scheduling-api.creds target/debug/hoinghi-scheduling &  (and so on)
# Add sites and persons with `hoinghi admin add-site|add-person --dir DIR/auth …` (no reload), revoke
# with `hoinghi admin revoke --dir DIR/auth IDENTITY` (pushed to node 1; the others learn it from it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

HERE="$ROOT/deploy/cluster"
PORTS=(4222 4223 4224)
COMMAND="${1:-}"
[ $# -gt 0 ] && shift
NODE=""
case "$COMMAND" in
  stop|start) NODE="${1:?$COMMAND needs a node number (1, 2 or 3)}"; shift ;;
esac
DIR="$ROOT/.data/cluster"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="${2:?--dir needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see deploy/cluster/run.sh --help)" ;;
  esac
done
case "$NODE" in ""|1|2|3) ;; *) die "node must be 1, 2 or 3, not $NODE" ;; esac

start_node() {
  local n="$1" pid
  pid="$(cat "$DIR/node-$n.pid" 2>/dev/null || true)"
  if pid_is "$pid" nats-server; then say "node $n already runs (pid $pid)"; return; fi
  port_open "${PORTS[$((n - 1))]}" && die "port ${PORTS[$((n - 1))]} is taken by another process"
  # store_dir and the resolver's dir are relative: the server runs in the state directory; the
  # configuration is copied there so that its `include "auth/auth.conf"` finds DIR/auth.
  [ -f "$DIR/auth/auth.conf" ] || die "$DIR/auth/auth.conf is missing: run deploy/cluster/run.sh up"
  cp "$HERE/node-$n.conf" "$DIR/node-$n.conf"
  (cd "$DIR" && exec "$NATS_BIN" -c "$DIR/node-$n.conf" >>"$DIR/node-$n.log" 2>&1) &
  echo $! >"$DIR/node-$n.pid"
  say "node $n started (pid $!, client port ${PORTS[$((n - 1))]}, log $DIR/node-$n.log)"
}

stop_node() {
  local n="$1" pid
  pid="$(cat "$DIR/node-$n.pid" 2>/dev/null || true)"
  if ! pid_is "$pid" nats-server; then say "node $n is not running"; rm -f "$DIR/node-$n.pid"; return; fi
  kill -TERM "$pid"
  for _ in $(seq 150); do pid_is "$pid" nats-server || break; sleep 0.1; done
  pid_is "$pid" nats-server && kill -KILL "$pid"
  rm -f "$DIR/node-$n.pid"
  say "node $n stopped"
}

# The deployment's TLS files, made once: a CA (tls/ca.pem, its key tls/ca.key) and a certificate per
# node for 127.0.0.1 and localhost, for serving clients and for the routes' mutual verification. On
# real machines use your CA and each node's own name or address in its certificate.
make_tls() {
  local tls="$DIR/tls" n
  [ -f "$tls/ca.pem" ] && return
  command -v openssl >/dev/null || die "openssl is needed to make the cluster's TLS certificates"
  mkdir -p "$tls"
  (umask 077
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
     -keyout "$tls/ca.key" -out "$tls/ca.pem" -subj "/CN=hoinghi cluster CA" \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
   printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/node.ext"
   for n in 1 2 3; do
     openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
       -keyout "$tls/node-$n.key" -out "$tls/node-$n.csr" -subj "/CN=hoinghi-n$n" 2>/dev/null
     openssl x509 -req -in "$tls/node-$n.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
       -days 825 -extfile "$tls/node.ext" -out "$tls/node-$n.pem" 2>/dev/null
     rm -f "$tls/node-$n.csr"
   done) || die "openssl could not make the TLS certificates"
  say "TLS certificates made in $tls (CA tls/ca.pem, one per node)"
}

wait_ready() {
  local n
  for n in 1 2 3; do
    for _ in $(seq 100); do port_open "${PORTS[$((n - 1))]}" && break; sleep 0.1; done
    port_open "${PORTS[$((n - 1))]}" || { log_tail "$DIR/node-$n.log"; die "node $n does not accept connections"; }
  done
  for _ in $(seq 300); do
    if grep -qh "metadata leader" "$DIR"/node-*.log 2>/dev/null; then return; fi
    sleep 0.1
  done
  log_tail "$DIR/node-1.log"
  die "JetStream elected no metadata leader within 30 s"
}

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
case "$COMMAND" in
  up)
    NATS_BIN="$("$ROOT/deploy/install-nats.sh")"
    if [ ! -f "$DIR/auth/server.json" ]; then
      [ -x "$BIN_DIR/hoinghi" ] || (cd "$ROOT" && cargo build -p hoinghi) >&2
      "$BIN_DIR/hoinghi" admin init --dir "$DIR/auth" --listen 127.0.0.1:4222 --store-dir "$DIR" >"$DIR/admin-init.out" \
        || die "hoinghi admin init failed"
      say "identities made in $DIR/auth (operator, accounts, secretariat, services)"
    fi
    make_tls
    for n in 1 2 3; do start_node "$n"; done
    wait_ready
    say "cluster ready; for the services:"
    echo "export HOINGHI__NATS__URL=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
    echo "export HOINGHI__NATS__REPLICAS=3"
    echo "export HOINGHI__NATS__TLS_CA=$DIR/tls/ca.pem"
    echo "export HOINGHI_CREDS_DIR=$DIR/auth   # HOINGHI__NATS__CREDS=\$HOINGHI_CREDS_DIR/<identity>.creds for each"
    ;;
  down) for n in 1 2 3; do stop_node "$n"; done ;;
  stop) stop_node "$NODE" ;;
  start)
    NATS_BIN="$("$ROOT/deploy/install-nats.sh")"
    start_node "$NODE"
    ;;
  status)
    for n in 1 2 3; do
      pid="$(cat "$DIR/node-$n.pid" 2>/dev/null || true)"
      if pid_is "$pid" nats-server; then echo "node $n: running (pid $pid, port ${PORTS[$((n - 1))]})"; else echo "node $n: stopped"; fi
    done
    ;;
  *) die "usage: deploy/cluster/run.sh up|down|stop N|start N|status [--dir DIR] (see --help)" ;;
esac
