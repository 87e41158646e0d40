#!/bin/bash
# InfluxDB 2.x set-up for the platform, run once by the influxdb:2.7 image after its own set-up
# (DOCKER_INFLUXDB_INIT_MODE=setup created the org, the admin user and token, and the bucket
# DOCKER_INFLUXDB_INIT_BUCKET with DOCKER_INFLUXDB_INIT_RETENTION): scripts in
# /docker-entrypoint-initdb.d run then, with the influx CLI already pointed at the server and
# authenticated (https://hub.docker.com/_/influxdb, "Custom initialization scripts").
#
# The platform speaks InfluxDB's v1 API only (/write, /query with InfluxQL; devices/contract/influx-layout.ts),
# and names a database and retention policy in every write and query. InfluxDB 2.x answers that API
# through DBRP mappings, database + RP → bucket, and v1 authorizations, username + password → bucket
# permissions (https://docs.influxdata.com/influxdb/v2/query-data/influxql/dbrp/,
# https://docs.influxdata.com/influxdb/v2/reference/api/influxdb-1x/). Buckets are named `db/rp`, the
# names `influxd upgrade` gives migrated 1.x data, so an installation moved from 1.x looks the same.
set -euo pipefail

org=${DOCKER_INFLUXDB_INIT_ORG:?}
db=${ITORG_INFLUX_DB:-innbyggertorg}
raw_bucket=${DOCKER_INFLUXDB_INIT_BUCKET:?}
forever_bucket=${ITORG_FOREVER_BUCKET:-$db/forever}

bucket_id() {
  influx bucket list --org "$org" --name "$1" --hide-headers | awk 'NR == 1 { print $1 }'
}

# Hourly aggregates, indicators and alert history are kept for ever (RP_AGGREGATES).
influx bucket create --org "$org" --name "$forever_bucket" --retention 0 >/dev/null
raw_id=$(bucket_id "$raw_bucket")
forever_id=$(bucket_id "$forever_bucket")
[[ -n $raw_id && -n $forever_id ]] || { echo "init-dbrp: bucket ids not found ($raw_bucket, $forever_bucket)" >&2; exit 1; }

# One mapping per retention policy of devices/contract/influx-layout.ts (test/deploy checks the list).
# `raw` is the default: a write without rp= (INGEST_INFLUX_RP unset) lands there, as on 1.x.
influx v1 dbrp create --org "$org" --db "$db" --rp raw --bucket-id "$raw_id" --default
influx v1 dbrp create --org "$org" --db "$db" --rp forever --bucket-id "$forever_id"

# The ingest writes readings and dead letters (raw) and aggregates (forever), and reads both (live
# state, hourly roll-up, indicators). Grafana only reads.
influx v1 auth create --org "$org" --description "itorg ingest" \
  --username "${INFLUXDB_INGEST_USERNAME:?}" --password "${INFLUXDB_INGEST_PASSWORD:?}" \
  --read-bucket "$raw_id" --write-bucket "$raw_id" --read-bucket "$forever_id" --write-bucket "$forever_id" >/dev/null
influx v1 auth create --org "$org" --description "itorg grafana (read only)" \
  --username "${INFLUXDB_GRAFANA_USERNAME:?}" --password "${INFLUXDB_GRAFANA_PASSWORD:?}" \
  --read-bucket "$raw_id" --read-bucket "$forever_id" >/dev/null
echo "init-dbrp: $db/raw -> $raw_bucket, $db/forever -> $forever_bucket; v1 users for the ingest and Grafana created"
