#!/usr/bin/env bash
# Installs what the platform and its tests need, and nothing that is already there. Idempotent.
#
#   scripts/install-deps.sh [--browser] [--report] [--no-npm]
#
#   always     mosquitto, mosquitto-clients, influxdb, influxdb-client (the `influx` CLI), curl
#   --browser  chromium (live page end-to-end tests)
#   --report   chromium and poppler-utils (monthly PDF report: render and check with pdftotext)
#   npm ci     when node_modules is missing or older than package-lock.json (skip with --no-npm)
#
# The Debian packages' maintainer scripts start the system daemons on their default ports (1883, 8086,
# 8088) via invoke-rc.d. The project runs its own instances (scripts/mosquitto.sh, scripts/influxdb.sh),
# so a system daemon would only hold those ports: during the install a policy-rc.d that exits 101
# ("action forbidden", Debian policy-rc.d interface, /usr/share/doc/init-system-helpers/README.policy-rc.d)
# stops invoke-rc.d from starting anything, and afterwards any system instance is stopped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

want_browser=0
want_report=0
run_npm=1
for arg in "$@"; do
  case $arg in
    --browser) want_browser=1 ;;
    --report) want_report=1 ;;
    --no-npm) run_npm=0 ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 1 ;;
  esac
done

packages=(mosquitto mosquitto-clients influxdb influxdb-client curl)
((want_browser || want_report)) && packages+=(chromium)
((want_report)) && packages+=(poppler-utils)

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  else
    sudo=()
  fi
  echo "install-deps: installing ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# Written by innbyggertorg scripts/install-deps.sh for the duration of an install.\nexit 101\n' |
      "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    own_policy=1
    trap '"${sudo[@]}" rm -f "$policy"' EXIT
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
  if ((own_policy)); then
    "${sudo[@]}" rm -f "$policy"
    trap - EXIT
  fi
  # If a policy-rc.d that allows starts was already in place, or the host runs systemd (whose
  # deb-systemd-invoke also honours policy-rc.d, but belt and braces), make sure no packaged daemon
  # is left on the default ports.
  for svc in mosquitto influxdb; do
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
      "${sudo[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif command -v service >/dev/null; then
      "${sudo[@]}" service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
else
  echo "install-deps: system packages present (${packages[*]})"
fi

if ((run_npm)); then
  cd "$repo"
  lock=package-lock.json
  marker=node_modules/.package-lock.json
  if [[ ! -d node_modules || ! -f $marker || $lock -nt $marker ]]; then
    echo "install-deps: npm ci"
    # /tmp/npm.lock serialises npm runs of engineers sharing one working tree.
    flock /tmp/npm.lock npm ci --no-audit --no-fund
  else
    echo "install-deps: node_modules up to date"
  fi
fi
