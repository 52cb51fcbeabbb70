#!/usr/bin/env bash
# The test command: peers, build (type check included), then the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh
npm run --silent build
npx vitest run "$@"
