#!/usr/bin/env bash
# Profiles oss-append's fd path and 1 KiB path (see bench/profile.js): perf with hardware
# counters when they work, else valgrind --tool=callgrind on smaller runs, plus a perf cpu-clock
# time profile where perf can sample. Builds like bench/run.sh; installs valgrind if missing.
#
# Usage: bash bench/profile.sh [--out DIR] [--appends N] [--file-mib N] [--no-sampling]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '=== profile: %s\n' "$*" >&2; }

if ! perf stat -e instructions true 2>&1 | grep -q 'instructions' || perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
  if ! command -v valgrind >/dev/null 2>&1; then
    log "installing valgrind"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >&2
  fi
fi
if [ ! -d bench/node_modules/ali-oss ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  (cd bench && npm ci --no-audit --no-fund >&2)
fi
log "./build.sh node --release"
./build.sh node --release
log "cargo build --release -p oss-emulator"
cargo build --release -p oss-emulator >&2
node bench/profile.js "$@"
