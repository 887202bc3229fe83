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

log() { printf '=== bench: %s\n' "$*" >&2; }

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -x /usr/bin/time ] || missing+=(time) # curl's CPU time and peak RSS (optional)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "bench: Node.js >= 18 is needed (found $(node --version))" >&2
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

log "node bench/bench.js $*"
node bench/bench.js "$@"
