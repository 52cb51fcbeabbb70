#!/usr/bin/env bash
# The test command: peers, build, type check of src, test and bench, then the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
npm run --silent build
# Tests and benchmarks are type-checked too: vitest and tsx only strip types.
npm run --silent typecheck
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=$?
# One plain closing line for whoever reads the log.
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
