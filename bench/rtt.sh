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

log() { printf '=== bench/rtt: %s\n' "$*" >&2; }

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "bench/rtt: Node.js >= 18 is needed (found $(node --version))" >&2
  exit 1
fi

if [ ! -d bench/node_modules/ali-oss ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  log "npm ci in bench/ (ali-oss pinned by package-lock.json)"
  (cd bench && npm ci --no-audit --no-fund >&2)
fi

log "./build.sh node --release"
./build.sh node --release
log "cargo build --release -p oss-emulator"
cargo build --release -p oss-emulator >&2

log "node bench/rtt.js $*"
node bench/rtt.js "$@"
