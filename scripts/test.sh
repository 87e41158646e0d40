#!/usr/bin/env bash
# Everything CI runs (.ci/run): system packages the tests need, node_modules from the lockfile, then
# `npm test` (typecheck, lint, vitest: unit and integration tests against real Mosquitto/InfluxDB).
#
#   scripts/test.sh [vitest args passed to `npm test --`]
#
# TEST_NO_BROWSER=1 skips chromium/poppler-utils (the live-page and PDF report end-to-end tests need them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."

if [[ "${TEST_NO_BROWSER:-0}" == 1 ]]; then
  bash scripts/install-deps.sh
else
  bash scripts/install-deps.sh --browser --report
fi

if (($# > 0)); then
  npm test -- "$@"
else
  npm test
fi
