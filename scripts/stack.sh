#!/usr/bin/env bash
# The local dev stack in one command, the whole data path of a real installation:
#
#   LoRaWAN simulator ──ChirpStack v4 uplink events──▶ site Mosquitto (1884)
#     ──▶ one gateway per torg (decode, disk outbox) ──▶ central Mosquitto (1883) ──▶ ingest ──▶ InfluxDB
#
#   scripts/stack.sh up [--detach] [--no-install]   start; stay in the foreground with a status line,
#                                                   stop everything on Ctrl-C / SIGTERM
#   scripts/stack.sh down                           stop everything by PID file
#   scripts/stack.sh status                         one line per component; exit 0 when all run
#
# Environment: STACK_MQTT_PORT (1883), STACK_SITE_MQTT_PORT (1884), STACK_INFLUX_PORT (8086),
# STACK_INFLUX_RPC_PORT (8088), STACK_INGEST_HTTP_PORT (9100), STACK_GATEWAY_HTTP_BASE (9470: the
# gateway of the i-th torg serves /healthz, /metrics, /rejected on 9470+i), STACK_DB (innbyggertorg),
# STACK_SIMULATOR (lorawan: the path above; direct: the old simulator/main.ts publishing contract
# envelopes straight to the central broker, no gateways; none), SIM_TORG_CONFIG
# (config/torg.asker.sample.json), SIM_SEED (1), SIM_STEP (60 s, the counters' reporting interval),
# SIM_SPEED (1; above 1 the simulator first replays SIM_CATCH_UP_HOURS (1) at that speed),
# STACK_STATUS_INTERVAL (5 s).
# Data, logs and PID files under .data/: mosquitto/, site-mqtt/, influxdb/, {ingest,lns-simulator,
# simulator}.{log,pid}, gateways/<torg>.{json,log,pid} and gateways/<torg>/outbox.db.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

data=$repo/.data
gateways=$data/gateways
mqtt_port=${STACK_MQTT_PORT:-1883}
site_mqtt_port=${STACK_SITE_MQTT_PORT:-1884}
influx_port=${STACK_INFLUX_PORT:-8086}
influx_rpc_port=${STACK_INFLUX_RPC_PORT:-8088}
ingest_http_port=${STACK_INGEST_HTTP_PORT:-9100}
gateway_http_base=${STACK_GATEWAY_HTTP_BASE:-9470}
db=${STACK_DB:-innbyggertorg}
simulator=${STACK_SIMULATOR:-lorawan}
torg_config=${SIM_TORG_CONFIG:-config/torg.asker.sample.json}
sim_seed=${SIM_SEED:-1}
sim_step=${SIM_STEP:-60}
sim_speed=${SIM_SPEED:-1}
sim_catch_up_hours=${SIM_CATCH_UP_HOURS:-1}
status_interval=${STACK_STATUS_INTERVAL:-5}

mosquitto() { "$here/mosquitto.sh" "$1" --data-dir "$data/mosquitto" --port "$mqtt_port"; }
# The site broker stands for the LNS's own broker at a torg (ChirpStack's MQTT integration).
site_mqtt() { "$here/mosquitto.sh" "$1" --data-dir "$data/site-mqtt" --port "$site_mqtt_port" | sed 's/^mosquitto/site-mqtt/'; }
influxdb() { "$here/influxdb.sh" "$1" --data-dir "$data/influxdb" --port "$influx_port" --rpc-port "$influx_rpc_port" --db "$db"; }

# Spawns a TypeScript entry point as one node process (`node --import tsx`, no tsx wrapper process,
# so the PID file names the process that gets the signals).
#   spawn_service NAME PIDFILE LOG ENTRY [args...]   (environment is passed through)
spawn_service() {
  local name=$1 pidfile=$2 log=$3 entry=$4 pid
  shift 4
  if pid=$(daemon_pid "$pidfile"); then
    echo "$name: already running (pid $pid)"
    return 0
  fi
  # A service's V8 flags live beside it (ingest/node-flags), shared with the benchmark and production.
  local flags=() flagfile
  flagfile="$repo/$(dirname "$entry")/node-flags"
  [[ -f $flagfile ]] && read -r -a flags <"$flagfile"
  (cd "$repo" && daemon_spawn "$pidfile" "$log" node "${flags[@]}" --import tsx "$entry" "$@")
}

# Fails (printing the log tail) if the service spawned with PIDFILE is no longer alive.
#   check_started NAME PIDFILE LOG
check_started() {
  local name=$1 pidfile=$2 log=$3 pid
  if pid=$(daemon_pid "$pidfile"); then
    echo "$name: running (pid $pid, log $log)"
    return 0
  fi
  echo "$name: exited right after start (see $log):" >&2
  tail -n 15 "$log" >&2 || true
  return 1
}

start_service() {
  local name=$1 entry=$2
  shift 2
  spawn_service "$name" "$data/$name.pid" "$data/$name.log" "$entry" "$@"
  sleep 1
  check_started "$name" "$data/$name.pid" "$data/$name.log"
}

simulator_name() {
  case $simulator in
    lorawan) echo lns-simulator ;;
    direct) echo simulator ;;
    none) echo "" ;;
    *) die "stack.sh: STACK_SIMULATOR must be lorawan, direct or none, got '$simulator'" ;;
  esac
}

state_of() {
  local name=$1 pidfile=$2 pid
  if pid=$(daemon_pid "$pidfile"); then echo "$name up (pid $pid)"; else echo "$name DOWN"; fi
}

# Gateways known to this stack: those with a generated config (scripts/gateway-configs.ts) or a
# PID file (one still running from an earlier config).
gateway_torgs() {
  local f
  shopt -s nullglob
  for f in "$gateways"/*.json "$gateways"/*.pid; do
    f=$(basename "$f")
    echo "${f%.*}"
  done | sort -u
  shopt -u nullglob
}

down() {
  # Reverse order of start: producers first, so nothing is published into a stopped broker; the
  # gateways before the central broker so their outboxes hold what was not yet relayed.
  daemon_stop "$data/lns-simulator.pid" 15 lns-simulator
  daemon_stop "$data/simulator.pid" 15 simulator
  local t
  for t in $(gateway_torgs); do
    daemon_stop "$gateways/$t.pid" 20 "gateway-$t"
  done
  daemon_stop "$data/ingest.pid" 30 ingest
  influxdb stop
  site_mqtt stop
  mosquitto stop
}

status() {
  local rc=0 line t sim
  mosquitto status || rc=1
  site_mqtt status || rc=1
  influxdb status || rc=1
  line=$(state_of ingest "$data/ingest.pid")
  echo "$line"
  [[ "$line" == *DOWN ]] && rc=1
  for t in $(gateway_torgs); do
    line=$(state_of "gateway-$t" "$gateways/$t.pid")
    [[ "$line" == *DOWN ]] && rc=1
    [[ -f "$gateways/$t.json" ]] && line="$line, http://127.0.0.1:$(gateway_port "$t")"
    echo "$line"
  done
  sim=$(simulator_name)
  if [[ -n "$sim" ]]; then
    line=$(state_of "$sim" "$data/$sim.pid")
    echo "$line"
    [[ "$line" == *DOWN ]] && rc=1
  fi
  return $rc
}

gateway_port() {
  node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).http.port)' "$gateways/$1.json"
}

status_line() {
  local m s i up=0 total=0 t sim
  m=$(mosquitto status >/dev/null 2>&1 && echo up || echo DOWN)
  s=$(site_mqtt status >/dev/null 2>&1 && echo up || echo DOWN)
  i=$(influxdb status >/dev/null 2>&1 && echo up || echo DOWN)
  for t in $(gateway_torgs); do
    total=$((total + 1))
    daemon_pid "$gateways/$t.pid" >/dev/null && up=$((up + 1))
  done
  sim=$(simulator_name)
  printf '%s  mosquitto %s | site-mqtt %s | influxdb %s | %s | gateways %d/%d up | %s\n' "$(date +%H:%M:%S)" "$m" "$s" "$i" \
    "$(state_of ingest "$data/ingest.pid")" "$up" "$total" "${sim:+$(state_of "$sim" "$data/$sim.pid")}"
}

start_gateways() {
  local t file port rc=0
  mkdir -p "$gateways"
  # Stale configs of torg no longer in the torg config would be started and listed otherwise.
  rm -f "$gateways"/*.json
  local generated
  # Gateways can embed Node-RED (config `nodered`); its nodes load a bundle built from our sources.
  (cd "$repo" && node gateway/node-red/build.mjs >/dev/null)
  generated=$(cd "$repo" && node --import tsx scripts/gateway-configs.ts --torg-config "$torg_config" --out-dir "$gateways" \
    --central-url "mqtt://127.0.0.1:$mqtt_port" --site-url "mqtt://127.0.0.1:$site_mqtt_port" \
    --http-port-base "$gateway_http_base" --report-interval "$sim_step")
  while IFS=$'\t' read -r t file port; do
    GATEWAY_CONFIG=$file spawn_service "gateway-$t" "$gateways/$t.pid" "$gateways/$t.log" gateway/main.ts
  done <<<"$generated"
  # One wait for all: each gateway needs a moment to load and open its outbox.
  sleep 2
  while IFS=$'\t' read -r t file port; do
    check_started "gateway-$t (http://127.0.0.1:$port)" "$gateways/$t.pid" "$gateways/$t.log" || rc=1
  done <<<"$generated"
  return $rc
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
  simulator_name >/dev/null
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

  case $simulator in
    lorawan)
      site_mqtt start
      start_gateways
      local speed_args=()
      if [[ "$sim_speed" != 1 ]]; then speed_args=(--speed "$sim_speed" --catch-up-hours "$sim_catch_up_hours"); fi
      start_service lns-simulator simulator/lorawan/main.ts --mqtt-url "mqtt://127.0.0.1:$site_mqtt_port" \
        --torg-config "$torg_config" --seed "$sim_seed" --step "$sim_step" --realtime "${speed_args[@]}"
      ;;
    direct)
      SIM_MQTT_URL=mqtt://127.0.0.1:$mqtt_port SIM_TORG_CONFIG=$torg_config SIM_SEED=$sim_seed \
        start_service simulator simulator/main.ts --realtime
      ;;
    none) ;;
  esac

  echo "stack: mqtt://127.0.0.1:$mqtt_port (site mqtt://127.0.0.1:$site_mqtt_port)  http://127.0.0.1:$influx_port (db $db)  ingest http://127.0.0.1:$ingest_http_port"
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
