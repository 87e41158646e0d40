#!/usr/bin/env bash
# The local dev stack in one command: Mosquitto + InfluxDB with data under .data/, then the ingest
# service and the simulator when their entry points exist.
#
#   scripts/stack.sh up [--detach] [--no-install]   start; stay in the foreground with a status line,
#                                                   stop everything on Ctrl-C / SIGTERM
#   scripts/stack.sh down                           stop everything by PID file
#   scripts/stack.sh status                         one line per component; exit 0 when all run
#
# Environment: STACK_MQTT_PORT (1883), STACK_INFLUX_PORT (8086), STACK_INFLUX_RPC_PORT (8088),
# STACK_INGEST_HTTP_PORT (9100), STACK_DB (innbyggertorg), SIM_TORG_CONFIG
# (config/torg.asker.sample.json), SIM_SEED (1), STACK_STATUS_INTERVAL (5 s).
# Logs and PID files: .data/{mosquitto,influxdb}/ and .data/{ingest,simulator}.{log,pid}.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

data=$repo/.data
mqtt_port=${STACK_MQTT_PORT:-1883}
influx_port=${STACK_INFLUX_PORT:-8086}
influx_rpc_port=${STACK_INFLUX_RPC_PORT:-8088}
ingest_http_port=${STACK_INGEST_HTTP_PORT:-9100}
db=${STACK_DB:-innbyggertorg}
status_interval=${STACK_STATUS_INTERVAL:-5}
tsx=$repo/node_modules/.bin/tsx

mosquitto() { "$here/mosquitto.sh" "$1" --data-dir "$data/mosquitto" --port "$mqtt_port"; }
influxdb() { "$here/influxdb.sh" "$1" --data-dir "$data/influxdb" --port "$influx_port" --rpc-port "$influx_rpc_port" --db "$db"; }

# Starts a TypeScript service if its entry point exists.
#   start_service NAME ENTRY [args...]   (environment is passed through)
start_service() {
  local name=$1 entry=$2
  shift 2
  local pidfile=$data/$name.pid log=$data/$name.log pid
  if [[ ! -f "$repo/$entry" ]]; then
    echo "$name: $entry not present, skipped"
    return 0
  fi
  if pid=$(daemon_pid "$pidfile"); then
    echo "$name: already running (pid $pid)"
    return 0
  fi
  (cd "$repo" && daemon_spawn "$pidfile" "$log" "$tsx" "$entry" "$@")
  pid=$(<"$pidfile")
  sleep 1
  if ! daemon_alive "$pid"; then
    rm -f "$pidfile"
    echo "$name: exited right after start (see $log):" >&2
    tail -n 15 "$log" >&2 || true
    return 1
  fi
  echo "$name: running (pid $pid, log $log)"
}

service_state() {
  local name=$1 entry=$2 pid
  if pid=$(daemon_pid "$data/$name.pid"); then
    echo "$name up"
  elif [[ -f "$repo/$entry" ]]; then
    echo "$name DOWN"
  else
    echo "$name absent"
  fi
}

down() {
  # Reverse order of start: producers first, so nothing is published into a stopped broker.
  daemon_stop "$data/simulator.pid" 15 simulator
  daemon_stop "$data/ingest.pid" 30 ingest
  influxdb stop
  mosquitto stop
}

status() {
  local rc=0
  mosquitto status || rc=1
  influxdb status || rc=1
  for s in ingest:ingest/main.ts simulator:simulator/main.ts; do
    local line
    line=$(service_state "${s%%:*}" "${s#*:}")
    echo "$line"
    [[ "$line" == *DOWN ]] && rc=1
  done
  return $rc
}

status_line() {
  local m i
  m=$(mosquitto status >/dev/null 2>&1 && echo up || echo DOWN)
  i=$(influxdb status >/dev/null 2>&1 && echo up || echo DOWN)
  printf '%s  mosquitto %s | influxdb %s | %s | %s\n' "$(date +%H:%M:%S)" "$m" "$i" \
    "$(service_state ingest ingest/main.ts)" "$(service_state simulator simulator/main.ts)"
}

up() {
  local detach=0 install=1
  for arg in "$@"; do
    case $arg in
      --detach) detach=1 ;;
      --no-install) install=0 ;;
      *) die "stack.sh up: unknown option $arg" ;;
    esac
  done
  mkdir -p "$data"
  ((install)) && "$here/install-deps.sh"
  if ((!detach)); then
    trap 'echo; echo "stack: stopping"; down; exit 0' INT TERM
  fi
  mosquitto start
  influxdb start

  INGEST_MQTT_URL=mqtt://127.0.0.1:$mqtt_port \
    INGEST_INFLUX_URL=http://127.0.0.1:$influx_port \
    INGEST_INFLUX_DB=$db \
    INGEST_HTTP_PORT=$ingest_http_port \
    start_service ingest ingest/main.ts
  SIM_MQTT_URL=mqtt://127.0.0.1:$mqtt_port \
    SIM_TORG_CONFIG=${SIM_TORG_CONFIG:-config/torg.asker.sample.json} \
    SIM_SEED=${SIM_SEED:-1} \
    start_service simulator simulator/main.ts --realtime

  echo "stack: mqtt://127.0.0.1:$mqtt_port  http://127.0.0.1:$influx_port (db $db)  ingest http://127.0.0.1:$ingest_http_port"
  ((detach)) && return 0
  echo "stack: Ctrl-C stops everything"
  while true; do
    status_line
    # `wait` on a background sleep returns as soon as a trapped signal arrives.
    sleep "$status_interval" &
    wait $! || true
  done
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  up) up "$@" ;;
  down) down ;;
  status) status ;;
  *) die "usage: scripts/stack.sh up [--detach] [--no-install] | down | status" ;;
esac
