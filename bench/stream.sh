#!/usr/bin/env bash
# The durable append stream at a phone's round-trip time (issue 15, item 9): installs and builds
# what it needs (bench/setup.sh), then runs bench/stream.js, which prints the figures and writes
# them into bench/results.json under `stream`. Not part of the test suite.
#
# Usage: bash bench/stream.sh [--writes N] [--rtt-ms N] [--paced-rate N] [--paced-seconds N]
#                             [--paced-rounds N] [--loop-seconds N] [--group-commit-ms N] ...
# (options go to bench/stream.js; see its header). About 2 minutes once built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=bench/setup.sh
. bench/setup.sh
bench_setup bench/stream

bench_log "node bench/stream.js $*"
node bench/stream.js "$@"
