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

# Vitest's JSON report gives the plain closing line `N passed, N failed` that CI reads.
report=test-artifacts/vitest.json
mkdir -p test-artifacts
rm -f "$report"
status=0
npm test -- --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [[ -f $report ]]; then
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));' "$report"
fi
exit "$status"
