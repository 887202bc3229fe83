#!/usr/bin/env bash
# oss-append vs ali-oss at a phone's round-trip time and bandwidth, through the userspace latency
# proxy bench/latency-proxy.js (issue 13, item 5). Not part of the test suite. Installs and builds
# what it needs as bench/run.sh does (Debian's nodejs/npm/curl if missing; ali-oss pinned by
# bench/package-lock.json; ./build.sh node --release; cargo build --release -p oss-emulator), then
# runs bench/rtt.js, which prints the figures and writes them into bench/results.json (rtt.http,
# or rtt.https with --tls; the loopback figures there are kept).
#
# Usage: bash bench/rtt.sh [--tls] [--quick] [--rtt-ms N] [--rate-mbit N] [--appends N] ...
# (options go to bench/rtt.js; see its header). About 2 minutes once built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=bench/setup.sh
. bench/setup.sh
bench_setup bench/rtt

bench_log "node bench/rtt.js $*"
node bench/rtt.js "$@"
