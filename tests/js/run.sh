#!/usr/bin/env bash
# JS tests of the N-API module and the ArkTS/TypeScript facade (Node.js's test runner), against
# the oss-emulator binary. Installs what it needs (Node.js from Debian if missing; typescript via
# `npm ci` from the pinned package-lock.json), builds dist/node (./build.sh node) and the
# emulator, runs `node --test tests/js/`, and exits non-zero on any failure.
#
# Usage: bash tests/js/run.sh [--release]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

log() { printf '\n=== tests/js: %s\n' "$*"; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node/npm missing: installing Debian's nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "tests/js: Node.js >= 18 is needed (found $(node --version))" >&2
  exit 1
fi

log "npm ci (pinned by package-lock.json)"
npm ci --no-audit --no-fund

log "./build.sh node $*"
./build.sh node "$@"

log "cargo build -p oss-emulator"
cargo build -p oss-emulator

log "node --test tests/js/"
node --test tests/js/

# The seed examples again over the production path: HTTPS, virtual-hosted, the emulator's CA in
# caCerts and the public host names resolved to it by the client's `resolve` map.
log "OSS_TEST_HTTPS=1 node --test tests/js/examples.test.js"
OSS_TEST_HTTPS=1 node --test tests/js/examples.test.js
