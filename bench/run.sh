#!/usr/bin/env bash
# The performance benchmark (issue #5): oss-append vs ali-oss vs curl against oss-emulator on
# loopback, plus the criterion CRC-64 bench. Not part of the test suite. Installs what it needs
# (Debian's nodejs/npm/curl if missing; ali-oss 6.23.0 pinned by bench/package-lock.json), builds
# the release artefacts (./build.sh node --release, cargo build --release -p oss-emulator), then
# runs bench/bench.js, which prints the table and writes bench/results.json.
#
# Usage: bash bench/run.sh [--quick] [--runs N] [--chain-runs N] [--rss-runs N] [--appends N]
#                          [--emulator auto|memory|durable] [--no-crc] [--out FILE]
# (options go to bench/bench.js; see its header). About 4 minutes on 2 cores once built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=bench/setup.sh
. bench/setup.sh
# /usr/bin/time: curl's CPU time and peak RSS (optional, installed if missing).
bench_setup bench time=/usr/bin/time

bench_log "node bench/bench.js $*"
node bench/bench.js "$@"
