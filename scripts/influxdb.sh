#!/usr/bin/env bash
# Starts, stops and reports an InfluxDB 1.6 instance on 127.0.0.1 with its own data dir, and creates
# the database and retention policies of devices/contract/influx-layout.ts. Used by the dev stack
# (scripts/stack.sh) and by every integration test (test/support/services.ts).
#
#   scripts/influxdb.sh start|stop|status [options]
#
# Options (each also settable by environment variable):
#   --data-dir DIR         INFLUXDB_DATA_DIR       default <repo>/.data/influxdb
#   --port N               INFLUXDB_PORT           HTTP API, default 8086
#   --rpc-port N           INFLUXDB_RPC_PORT       backup/restore RPC bind port, default 8088
#   --log-file FILE        INFLUXDB_LOG_FILE       default <data dir>/influxdb.log
#   --db NAME              INFLUXDB_DB             default innbyggertorg
#   --raw-duration D       INFLUXDB_RAW_DURATION   retention of RP `raw`, default 90d
#   --wal-fsync-delay D    INFLUXDB_WAL_FSYNC_DELAY default 0s (InfluxDB's own default)
#   --log-level L          INFLUXDB_LOG_LEVEL      default warn
#   --timeout SECONDS      INFLUXDB_TIMEOUT        start/stop wait, default 30
# The PID file is <data dir>/influxdb.pid, the generated config <data dir>/influxdb.conf.
# Exit status of `status`: 0 running, 3 not running (LSB init-script convention).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

cmd=${1:-}
[[ $# -gt 0 ]] && shift
data_dir=${INFLUXDB_DATA_DIR:-$repo/.data/influxdb}
port=${INFLUXDB_PORT:-8086}
rpc_port=${INFLUXDB_RPC_PORT:-8088}
log_file=${INFLUXDB_LOG_FILE:-}
# Defaults mirror INFLUX_DB_DEFAULT, RP_RAW, RP_RAW_DEFAULT_DURATION and RP_AGGREGATES in
# devices/contract/influx-layout.ts.
db=${INFLUXDB_DB:-innbyggertorg}
raw_duration=${INFLUXDB_RAW_DURATION:-90d}
wal_fsync_delay=${INFLUXDB_WAL_FSYNC_DELAY:-0s}
log_level=${INFLUXDB_LOG_LEVEL:-warn}
timeout=${INFLUXDB_TIMEOUT:-30}
bin=${INFLUXD_BIN:-/usr/bin/influxd}

while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) data_dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --rpc-port) rpc_port=$2; shift 2 ;;
    --log-file) log_file=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --raw-duration) raw_duration=$2; shift 2 ;;
    --wal-fsync-delay) wal_fsync_delay=$2; shift 2 ;;
    --log-level) log_level=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    *) die "influxdb.sh: unknown option $1" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "influxdb.sh: --port must be a number, got '$port'"
[[ "$rpc_port" =~ ^[0-9]+$ ]] || die "influxdb.sh: --rpc-port must be a number, got '$rpc_port'"
[[ "$db" =~ ^[A-Za-z0-9_-]+$ ]] || die "influxdb.sh: --db must match [A-Za-z0-9_-]+, got '$db'"
[[ "$raw_duration" =~ ^([0-9]+[hdw]|INF)$ ]] || die "influxdb.sh: --raw-duration must be like 90d, 12w, 48h or INF"
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
log_file=${log_file:-$data_dir/influxdb.log}
pidfile=$data_dir/influxdb.pid
conf=$data_dir/influxdb.conf
base=http://127.0.0.1:$port

# GET /ping answers 204 once the HTTP service is up (InfluxDB 1.x API, /ping).
ping_ok() {
  [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$base/ping") == 204 ]]
}

# Runs one InfluxQL statement with POST /query; fails on an HTTP or statement error.
influxql() {
  local out
  out=$(curl -sS -m 10 -XPOST "$base/query" --data-urlencode "q=$1") || return 1
  if [[ "$out" == *'"error"'* ]]; then
    echo "influxdb.sh: '$1' failed: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# CREATE, or ALTER when it exists (CREATE of an existing RP with other settings is an error), so a
# changed INFLUXDB_RAW_DURATION takes effect on the next start.
ensure_rp() {
  local name=$1 duration=$2 default=$3 existing
  existing=$(influxql "SHOW RETENTION POLICIES ON \"$db\"")
  if [[ "$existing" == *"[\"$name\","* ]]; then
    influxql "ALTER RETENTION POLICY \"$name\" ON \"$db\" DURATION $duration $default" >/dev/null
  else
    influxql "CREATE RETENTION POLICY \"$name\" ON \"$db\" DURATION $duration REPLICATION 1 $default" >/dev/null
  fi
}

start() {
  local pid
  if pid=$(daemon_pid "$pidfile"); then
    echo "influxdb: already running (pid $pid, port $port)"
    return 0
  fi
  [[ -x "$bin" ]] || die "influxdb.sh: $bin not found; run scripts/install-deps.sh"
  command -v curl >/dev/null || die "influxdb.sh: curl not found; run scripts/install-deps.sh"
  port_open "$port" && die "influxdb.sh: 127.0.0.1:$port is already in use by another process"
  port_open "$rpc_port" && die "influxdb.sh: RPC port 127.0.0.1:$rpc_port is already in use by another process"
  render_template "$here/influxdb.conf.template" "$conf" \
    "DATA_DIR=$data_dir" "HTTP_PORT=$port" "RPC_PORT=$rpc_port" "WAL_FSYNC_DELAY=$wal_fsync_delay" "LOG_LEVEL=$log_level"
  daemon_spawn "$pidfile" "$log_file" "$bin" run -config "$conf"
  pid=$(<"$pidfile")
  local rc=0
  daemon_wait_ready "$pid" "$timeout" ping_ok || rc=$?
  if ((rc != 0)); then
    if ((rc == 2)); then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
    echo "influxdb.sh: influxd did not answer $base/ping (see $log_file):" >&2
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  # Both statements are idempotent: CREATE DATABASE of an existing database is a no-op.
  influxql "CREATE DATABASE \"$db\"" >/dev/null
  ensure_rp raw "$raw_duration" DEFAULT
  ensure_rp forever INF ""
  echo "influxdb: running (pid $pid, $base, db $db, data $data_dir)"
}

status() {
  local pid
  if pid=$(daemon_pid "$pidfile"); then
    if ping_ok; then
      echo "influxdb: running (pid $pid, $base)"
      return 0
    fi
    echo "influxdb: pid $pid alive but $base/ping not answering"
    return 3
  fi
  echo "influxdb: not running"
  return 3
}

case $cmd in
  start) start ;;
  stop) daemon_stop "$pidfile" "$timeout" influxdb ;;
  status) status ;;
  *) die "usage: scripts/influxdb.sh start|stop|status [--data-dir DIR] [--port N] [--rpc-port N] [--db NAME] [--raw-duration D]" ;;
esac
