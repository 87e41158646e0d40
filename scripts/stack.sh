#!/usr/bin/env bash
# The local dev stack in one command, the whole data path of a real installation, secured as one:
#
#   LoRaWAN simulator ──ChirpStack v4 uplink events──▶ site Mosquitto (1884)
#     ──▶ one gateway per torg (decode, disk outbox) ──▶ central Mosquitto (1883) ──▶ ingest ──▶ InfluxDB
#                                                       (login + ACL from the registry)    └─▶ API + live page (8080)
#
# Security (issue 4), the default: the central broker refuses anonymous clients and reads the password
# and ACL files the service generates from its registry (written first by `cli broker init`, since the
# service itself must log in); the service runs with INGEST_MODE=production; each gateway starts with
# no MQTT credentials and provisions itself with its torg's provisioning key (created through the API)
# as the shared bootstrap user; the simulator's devices are assigned by config/assignment-rules.stack.json
# from the installer tags it sets. Secrets are generated once into .data/secrets.env (0600); the admin
# API token for the live page is printed at start. STACK_SECURITY=off: the old development path
# (anonymous broker, INGEST_MODE=development, gateways registered on their first birth, devMode).
#
#   scripts/stack.sh up [--detach] [--no-install]   start; stay in the foreground with a status line,
#                                                   stop everything on Ctrl-C / SIGTERM
#   scripts/stack.sh down                           stop everything by PID file
#   scripts/stack.sh status                         one line per component; exit 0 when all run
#
# Environment: STACK_MQTT_PORT (1883), STACK_SITE_MQTT_PORT (1884), STACK_INFLUX_PORT (8086),
# STACK_INFLUX_RPC_PORT (8088), STACK_INGEST_HTTP_PORT (9100), STACK_API_PORT (8080: API and live page),
# STACK_SECURITY (on | off), STACK_DATA_DIR (<repo>/.data), STACK_GATEWAY_HTTP_BASE (9470: the
# gateway of the i-th torg serves /healthz, /metrics, /rejected on 9470+i), STACK_DB (innbyggertorg),
# STACK_SIMULATOR (lorawan: the path above; direct: the old simulator/main.ts publishing contract
# envelopes straight to the central broker, no gateways; external: site broker and gateways, the
# uplinks come from elsewhere, e.g. a test's own simulator run; none), SIM_TORG_CONFIG
# (config/torg.asker.sample.json), SIM_SEED (1), SIM_STEP (60 s, the counters' reporting interval),
# SIM_SPEED (1; above 1 the simulator first replays SIM_CATCH_UP_HOURS (1) at that speed),
# STACK_STATUS_INTERVAL (5 s).
# Data, logs and PID files under .data/: mosquitto/, site-mqtt/, influxdb/, {ingest,lns-simulator,
# simulator}.{log,pid}, gateways/<torg>.{json,log,pid}, gateways/<torg>/{outbox.db,credentials.json},
# registry.sqlite (registry, API tokens, provisioning keys, broker users), broker-auth/{passwd,acl},
# secrets.env.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/daemon.sh
source "$here/lib/daemon.sh"

# shellcheck source=lib/secrets.sh
source "$here/lib/secrets.sh"

data=${STACK_DATA_DIR:-$repo/.data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
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
api_port=${STACK_API_PORT:-8080}
security=${STACK_SECURITY:-on}
secrets=$data/secrets.env
registry=$data/registry.sqlite
auth_dir=$data/broker-auth
# The broker's extra config: the lines `cli broker init` prints (allow_anonymous false, password_file, acl_file).
broker_security_conf=$data/mosquitto-security.conf
# Service users of the central broker; their passwords are in $secrets.
ingest_user=itorg-ingest
admin_user=itorg-admin
bootstrap_user=itorg-bootstrap
case $security in
  on | off) ;;
  *) die "stack.sh: STACK_SECURITY must be on or off, got '$security'" ;;
esac

mosquitto() {
  local extra=()
  [[ $1 == start && $security == on ]] && extra=(--extra-config "$broker_security_conf")
  "$here/mosquitto.sh" "$1" --data-dir "$data/mosquitto" --port "$mqtt_port" "${extra[@]}"
}
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

# Runs the CLI (cli/main.ts) as one node process.
cli() { (cd "$repo" && node --import tsx cli/main.ts --lang en "$@"); }

# Reads (and on first use generates) the stack's secrets. Nothing is printed.
load_secrets() {
  (umask 077 && touch "$secrets")
  chmod 600 "$secrets"
  ingest_password=$(secret_ensure "$secrets" STACK_INGEST_MQTT_PASSWORD)
  admin_password=$(secret_ensure "$secrets" STACK_BROKER_ADMIN_PASSWORD)
  bootstrap_password=$(secret_ensure "$secrets" STACK_BROKER_BOOTSTRAP_PASSWORD)
}

# Runs a command with the service's environment (ingest/config.ts), secure or development.
with_service_env() {
  local env=(
    INGEST_MQTT_URL="mqtt://127.0.0.1:$mqtt_port"
    INGEST_INFLUX_URL="http://127.0.0.1:$influx_port"
    INGEST_INFLUX_DB="$db"
    INGEST_HTTP_PORT="$ingest_http_port"
    INGEST_HTTP_HOST=127.0.0.1
    INGEST_API_PORT="$api_port"
    INGEST_API_HOST=127.0.0.1
    # The API is plain HTTP on loopback here; a browser drops a Secure cookie sent over http://
    # (RFC 6265bis §5.7: Secure cookies need a secure channel), and the sign-in would not stick.
    INGEST_API_SECURE_COOKIES=false
    INGEST_REGISTRY_PATH="$registry"
    INGEST_TORG_CONFIG="$torg_config"
    INGEST_ASSIGNMENT_RULES_FILE=config/assignment-rules.stack.json
    # Issue 6: the sample effektmål indicators and skalering rules (GET /api/v1/indicators, /recommendations).
    INGEST_INDICATORS_FILE=config/indicators.sample.json
    INGEST_SKALERING_FILE=config/skalering.sample.json
  )
  if [[ $security == on ]]; then
    env+=(
      INGEST_MODE=production
      INGEST_MQTT_USERNAME="$ingest_user"
      INGEST_MQTT_PASSWORD="$ingest_password"
      INGEST_BROKER_ADMIN_USERNAME="$admin_user"
      INGEST_BROKER_ADMIN_PASSWORD="$admin_password"
      INGEST_BROKER_BOOTSTRAP_USERNAME="$bootstrap_user"
      INGEST_BROKER_BOOTSTRAP_PASSWORD="$bootstrap_password"
      INGEST_BROKER_AUTH_DIR="$auth_dir"
      # mosquitto.sh records the broker's own PID here; the service sends it SIGHUP after each
      # change of passwd/acl (mosquitto(8), SIGNALS).
      INGEST_BROKER_PID_FILE="$data/mosquitto/mosquitto.pid"
    )
  else
    env+=(INGEST_MODE=development INGEST_AUTO_REGISTER_GATEWAYS=true)
  fi
  # A subshell, so the variables reach the command (a shell function too) and nothing after it.
  (
    export "${env[@]}"
    "$@"
  )
}

# The first admin API token, written straight into the registry file (`tokens bootstrap`) and kept in
# $secrets; it refuses when the file already has an admin, so a lost secrets file is reported, not papered over.
ensure_admin_token() {
  if api_token=$(secret_get "$secrets" STACK_API_TOKEN); then return 0; fi
  api_token=$(cli tokens bootstrap --db "$registry" --name stack-admin 2>/dev/null) ||
    die "stack.sh: $registry already has an admin token but $secrets holds none; create one with 'npx tsx cli/main.ts tokens bootstrap --db $registry --name <you> --force', or remove $data to start afresh"
  secret_set "$secrets" STACK_API_TOKEN "$api_token"
}

wait_for_api() {
  local pid
  pid=$(daemon_pid "$data/ingest.pid") || die "stack.sh: ingest is not running (see $data/ingest.log)"
  if ! daemon_wait_ready "$pid" 60 port_open "$api_port"; then
    tail -n 15 "$data/ingest.log" >&2 || true
    die "stack.sh: the API did not come up on 127.0.0.1:$api_port (see $data/ingest.log)"
  fi
}

torg_ids() {
  (cd "$repo" && node -e 'for (const t of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).torg) console.log(t.id)' "$torg_config")
}

# One provisioning key per torg, created through the API (as an admin would) unless $secrets has one.
ensure_provisioning_keys() {
  local t name key
  for t in $(torg_ids); do
    name=$(secret_key_for_torg "$t")
    secret_get "$secrets" "$name" >/dev/null && continue
    key=$(ITORG_API_TOKEN=$api_token cli keys create --torg "$t" --api "http://127.0.0.1:$api_port" 2>/dev/null) ||
      die "stack.sh: could not create a provisioning key for $t (see $data/ingest.log)"
    secret_set "$secrets" "$name" "$key"
  done
}

sign_in_help() {
  echo "stack: live page http://127.0.0.1:$api_port/ — sign in with the admin API token:"
  echo "  $api_token"
  echo "  (kept in $secrets; CLI: export ITORG_API_TOKEN=\$(grep ^STACK_API_TOKEN= $secrets | cut -d= -f2-))"
}

simulator_name() {
  case $simulator in
    lorawan) echo lns-simulator ;;
    direct) echo simulator ;;
    none | external) echo "" ;;
    *) die "stack.sh: STACK_SIMULATOR must be lorawan, direct, external or none, got '$simulator'" ;;
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
  if [[ "$line" != *DOWN ]]; then
    if port_open "$api_port"; then line="$line, live page and API http://127.0.0.1:$api_port/"; else line="$line, API not accepting on $api_port"; fi
  fi
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
  local auth_args=(--dev-mode)
  [[ $security == on ]] && auth_args=(--bootstrap-username "$bootstrap_user")
  generated=$(cd "$repo" && GATEWAY_BOOTSTRAP_PASSWORD=$bootstrap_password node --import tsx scripts/gateway-configs.ts \
    --torg-config "$torg_config" --out-dir "$gateways" \
    --central-url "mqtt://127.0.0.1:$mqtt_port" --site-url "mqtt://127.0.0.1:$site_mqtt_port" \
    --http-port-base "$gateway_http_base" --report-interval "$sim_step" "${auth_args[@]}")
  while IFS=$'\t' read -r t file port; do
    local key=""
    # The key only matters until the gateway holds its own credentials (<torg>/credentials.json).
    [[ $security == on ]] && key=$(secret_get "$secrets" "$(secret_key_for_torg "$t")")
    GATEWAY_CONFIG=$file GATEWAY_PROVISIONING_KEY=$key spawn_service "gateway-$t" "$gateways/$t.pid" "$gateways/$t.log" gateway/main.ts
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
  load_secrets
  if [[ $security == on ]]; then
    # Before the broker starts: with allow_anonymous false it refuses everyone until the files exist.
    with_service_env cli broker init --db "$registry" --dir "$auth_dir" >"$broker_security_conf.tmp"
    mv "$broker_security_conf.tmp" "$broker_security_conf"
  fi
  mosquitto start
  influxdb start
  ensure_admin_token

  with_service_env start_service ingest ingest/main.ts
  wait_for_api
  [[ $security == on ]] && ensure_provisioning_keys

  case $simulator in
    external)
      site_mqtt start
      start_gateways
      ;;
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
  sign_in_help
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
