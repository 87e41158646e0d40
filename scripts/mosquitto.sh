#!/usr/bin/env bash
# Starts, stops and reports a Mosquitto broker with the project's no-loss configuration
# (config/mosquitto/mosquitto.conf), on 127.0.0.1, with its own data dir. Used by the dev stack
# (scripts/stack.sh) and by every integration test (test/support/services.ts).
#
#   scripts/mosquitto.sh start|stop|status [options]
#
# Options (each also settable by environment variable):
#   --data-dir DIR        MOSQUITTO_DATA_DIR        default <repo>/.data/mosquitto
#   --port N              MOSQUITTO_PORT            default 1883
#   --log-file FILE       MOSQUITTO_LOG_FILE        default <data dir>/mosquitto.log
#   --extra-config FILE   MOSQUITTO_EXTRA_CONFIG    lines appended to the generated config
#   --autosave SECONDS    MOSQUITTO_AUTOSAVE_INTERVAL  default 10
#   --timeout SECONDS     MOSQUITTO_TIMEOUT         start/stop wait, default 20
# The PID file is <data dir>/mosquitto.pid, the generated config <data dir>/mosquitto.conf.
# Exit status of `status`: 0 running, 3 not running (LSB init-script convention).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

cmd=${1:-}
[[ $# -gt 0 ]] && shift
data_dir=${MOSQUITTO_DATA_DIR:-$repo/.data/mosquitto}
port=${MOSQUITTO_PORT:-1883}
log_file=${MOSQUITTO_LOG_FILE:-}
extra_config=${MOSQUITTO_EXTRA_CONFIG:-}
autosave=${MOSQUITTO_AUTOSAVE_INTERVAL:-10}
timeout=${MOSQUITTO_TIMEOUT:-20}
bin=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}

while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) data_dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --log-file) log_file=$2; shift 2 ;;
    --extra-config) extra_config=$2; shift 2 ;;
    --autosave) autosave=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    *) die "mosquitto.sh: unknown option $1" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "mosquitto.sh: --port must be a number, got '$port'"
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
log_file=${log_file:-$data_dir/mosquitto.log}
pidfile=$data_dir/mosquitto.pid
conf=$data_dir/mosquitto.conf

start() {
  local pid
  if pid=$(daemon_pid "$pidfile"); then
    echo "mosquitto: already running (pid $pid, port $port)"
    return 0
  fi
  [[ -x "$bin" ]] || die "mosquitto.sh: $bin not found; run scripts/install-deps.sh"
  if port_open "$port"; then
    die "mosquitto.sh: 127.0.0.1:$port is already in use by another process"
  fi
  render_template "$repo/config/mosquitto/mosquitto.conf" "$conf" \
    "USER=$(id -un)" "DATA_DIR=$data_dir" "PORT=$port" "LOG_FILE=$log_file" "AUTOSAVE_INTERVAL=$autosave"
  if [[ -n "$extra_config" ]]; then
    [[ -f "$extra_config" ]] || die "mosquitto.sh: extra config $extra_config not found"
    cat "$extra_config" >>"$conf"
  fi
  daemon_spawn "$pidfile" "$log_file" "$bin" -c "$conf"
  pid=$(<"$pidfile")
  local rc=0
  daemon_wait_ready "$pid" "$timeout" port_open "$port" || rc=$?
  if ((rc != 0)); then
    if ((rc == 2)); then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
    echo "mosquitto.sh: broker did not become ready on port $port (see $log_file):" >&2
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  echo "mosquitto: running (pid $pid, mqtt://127.0.0.1:$port, data $data_dir)"
}

status() {
  local pid
  if pid=$(daemon_pid "$pidfile"); then
    if port_open "$port"; then
      echo "mosquitto: running (pid $pid, mqtt://127.0.0.1:$port)"
      return 0
    fi
    echo "mosquitto: pid $pid alive but port $port not accepting"
    return 3
  fi
  echo "mosquitto: not running"
  return 3
}

case $cmd in
  start) start ;;
  stop) daemon_stop "$pidfile" "$timeout" mosquitto ;;
  status) status ;;
  *) die "usage: scripts/mosquitto.sh start|stop|status [--data-dir DIR] [--port N] [--log-file F] [--extra-config F]" ;;
esac
