#!/usr/bin/env bash
# Secrets of a production installation (deploy/docker-compose.yml), in two steps:
#
#   deploy/init-secrets.sh files [--dir DIR] [--host NAME]...   before the first `docker compose up`
#       DIR/.env (0600): every password and token the services need, generated once (a re-run keeps
#       what is there and adds what is missing), and DIR/secrets/tls/: a private CA (ca.key 0600,
#       ca.pem) and the broker's server certificate (server.key 0600, server.pem) for `mosquitto` (the
#       compose service) and each --host (the name gateways use, e.g. mqtt.asker.kommune.no).
#       Needs bash and openssl only; DIR defaults to this script's folder (deploy/).
#
#   deploy/init-secrets.sh tokens [--dir DIR] [--torg ID]       after the ingest is up (needs docker)
#       The first admin API token (`tokens bootstrap` in the ingest container, straight into the
#       registry file) and a provisioning key for the example gateway's torg (`keys create` over the
#       API), both into DIR/.env; nothing is printed. Then `docker compose up -d gateway`.
#
# Values are base64url (scripts/lib/secrets.sh), so no quoting is needed in .env or in Mosquitto's
# password file (which refuses ':'). The CA key never leaves this machine: keep it offline with the
# backups; only ca.pem goes to the gateways.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib/secrets.sh
source "$here/../scripts/lib/secrets.sh"

die() {
  echo "init-secrets: $*" >&2
  exit 2
}

# eclipse-mosquitto:2 runs the broker as uid 1883, and Mosquitto 2 reads its TLS key after dropping
# privileges (https://mosquitto.org/documentation/migrating-to-2-0/; eclipse-mosquitto/mosquitto#2161),
# so the key must belong to that uid, not root.
MOSQUITTO_UID=1883
CA_DAYS=${INIT_SECRETS_CA_DAYS:-3650}
SERVER_DAYS=${INIT_SECRETS_SERVER_DAYS:-825}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
dir=$here
hosts=()
torg=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --host) hosts+=("$2"); shift 2 ;;
    --torg) torg=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
env_file=$dir/.env
tls=$dir/secrets/tls

ensure_env_file() {
  (umask 077 && touch "$env_file")
  chmod 600 "$env_file"
}

# Sets a non-secret setting only when absent, so an operator's edit survives a re-run.
env_default() {
  secret_get "$env_file" "$1" >/dev/null || secret_set "$env_file" "$1" "$2"
}

make_ca() {
  [[ -f $tls/ca.key && -f $tls/ca.pem ]] && return 0
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/ca.key" 2>/dev/null)
  openssl req -x509 -new -key "$tls/ca.key" -sha256 -days "$CA_DAYS" -subj "/O=innbyggertorg/CN=innbyggertorg MQTT CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tls/ca.pem"
  rm -f "$tls/server.pem"
}

make_server_cert() {
  local san="DNS:mosquitto" h
  for h in "${hosts[@]}"; do
    if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
  done
  # A re-run with the same names keeps the certificate (gateways may have pinned nothing but the CA,
  # yet a needless rotation is still a restart of the broker).
  if [[ -f $tls/server.pem && -f $tls/server.key && -f $tls/server.san ]] && [[ $(<"$tls/server.san") == "$san" ]]; then return 0; fi
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/server.key" 2>/dev/null)
  local csr
  csr=$(mktemp)
  openssl req -new -key "$tls/server.key" -subj "/O=innbyggertorg/CN=mosquitto" -out "$csr"
  # Node's TLS checks the name against subjectAltName only (RFC 6125 §6.4.4), so every name goes there.
  openssl x509 -req -in "$csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -sha256 -days "$SERVER_DAYS" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' "$san") \
    -out "$tls/server.pem" 2>/dev/null
  rm -f "$csr" "$tls/ca.srl"
  printf '%s\n' "$san" >"$tls/server.san"
}

files() {
  command -v openssl >/dev/null || die "openssl not found"
  ensure_env_file
  mkdir -p "$tls"
  chmod 700 "$dir/secrets" "$tls"
  # Broker users of the services (cli broker init and the ingest read the same variables).
  env_default INGEST_MQTT_USERNAME itorg-ingest
  env_default INGEST_BROKER_ADMIN_USERNAME itorg-admin
  env_default INGEST_BROKER_BOOTSTRAP_USERNAME itorg-bootstrap
  secret_ensure "$env_file" INGEST_MQTT_PASSWORD >/dev/null
  secret_ensure "$env_file" INGEST_BROKER_ADMIN_PASSWORD >/dev/null
  secret_ensure "$env_file" INGEST_BROKER_BOOTSTRAP_PASSWORD >/dev/null
  # InfluxDB 2.x: the operator's login and all-access token (setup), and two v1 users for the
  # InfluxQL API (deploy/influxdb/init-dbrp.sh): the ingest (read/write) and Grafana (read only).
  env_default INFLUXDB_ORG asker-kommune
  env_default INFLUXDB_ADMIN_USERNAME itorg-admin
  secret_ensure "$env_file" INFLUXDB_ADMIN_PASSWORD >/dev/null
  secret_ensure "$env_file" INFLUXDB_ADMIN_TOKEN >/dev/null
  env_default INFLUXDB_INGEST_USERNAME itorg-ingest
  secret_ensure "$env_file" INFLUXDB_INGEST_PASSWORD >/dev/null
  env_default INFLUXDB_GRAFANA_USERNAME itorg-grafana
  secret_ensure "$env_file" INFLUXDB_GRAFANA_PASSWORD >/dev/null
  secret_ensure "$env_file" GRAFANA_ADMIN_PASSWORD >/dev/null
  # The example gateway (compose service `gateway`).
  env_default GATEWAY_ID gw-sentrum-1
  env_default GATEWAY_TORG asker-sentrum
  # Encrypts the credentials of the gateway's Node-RED flows (flows_cred.json, gateway/node-red/node-red-settings.ts).
  secret_ensure "$env_file" GATEWAY_NODE_RED_CREDENTIAL_SECRET >/dev/null
  make_ca
  make_server_cert
  chmod 600 "$tls/ca.key" "$tls/server.key"
  chmod 644 "$tls/ca.pem" "$tls/server.pem"
  if [[ $(id -u) == 0 ]]; then
    chown "$MOSQUITTO_UID:$MOSQUITTO_UID" "$tls/server.key"
  else
    echo "init-secrets: not root: run 'chown $MOSQUITTO_UID:$MOSQUITTO_UID $tls/server.key' as root, or the broker cannot read its key" >&2
  fi
  chmod 755 "$tls"
  echo "init-secrets: wrote $env_file and $tls (server certificate for ${hosts[*]:-mosquitto only})" >&2
}

tokens() {
  command -v docker >/dev/null || die "docker not found"
  [[ -f $env_file ]] || die "$env_file missing; run '$0 files' first"
  local compose=(docker compose --project-directory "$dir" -f "$dir/docker-compose.yml")
  local db=/var/lib/itorg/registry/registry.sqlite token key
  torg=${torg:-$(secret_get "$env_file" GATEWAY_TORG)}
  if ! secret_get "$env_file" ITORG_ADMIN_TOKEN >/dev/null; then
    # stdout is the token alone (cli/api-commands.ts `tokens bootstrap`); it goes into .env unseen.
    token=$("${compose[@]}" exec -T ingest node dist/cli/main.js --lang en tokens bootstrap --db "$db" --name installer) ||
      die "tokens bootstrap failed (is the ingest up? an admin token may exist already: see docs/deployment.md)"
    secret_set "$env_file" ITORG_ADMIN_TOKEN "$token"
  fi
  if ! secret_get "$env_file" GATEWAY_PROVISIONING_KEY >/dev/null; then
    token=$(secret_get "$env_file" ITORG_ADMIN_TOKEN)
    # `-e NAME` without a value passes the variable from this environment, so the token is not in argv.
    key=$(ITORG_API_TOKEN=$token "${compose[@]}" exec -T -e ITORG_API_TOKEN ingest node dist/cli/main.js --lang en keys create --torg "$torg" --api http://127.0.0.1:8080) ||
      die "could not create a provisioning key for torg $torg"
    secret_set "$env_file" GATEWAY_PROVISIONING_KEY "$key"
  fi
  echo "init-secrets: ITORG_ADMIN_TOKEN and GATEWAY_PROVISIONING_KEY ($torg) are in $env_file" >&2
}

case $cmd in
  files) files ;;
  tokens) tokens ;;
  *) die "usage: $0 files [--dir DIR] [--host NAME]... | tokens [--dir DIR] [--torg ID]" ;;
esac
