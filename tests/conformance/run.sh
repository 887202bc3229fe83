#!/usr/bin/env bash
# Conformance suites: the official OSS clients (ali-oss from npm, alibabacloud-oss-v2 from PyPI)
# against the oss-emulator binary. Installs what it needs idempotently, builds the emulator,
# runs both suites, prints each runner's summary and exits non-zero if anything failed.
#
# Usage: bash tests/conformance/run.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"

log() { printf '\n=== conformance: %s\n' "$*"; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# --- Node.js + ali-oss ------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node/npm missing: installing Debian's nodejs and npm"
  apt_install nodejs npm
fi
lock_sha="$(sha_of package-lock.json)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.conformance-lock.sha256 2>/dev/null || true)" != "$lock_sha" ]; then
  log "npm ci (node_modules missing or stale)"
  npm ci --no-audit --no-fund
  echo "$lock_sha" > node_modules/.conformance-lock.sha256
fi

# --- Python venv + alibabacloud-oss-v2 ----------------------------------------------------------
PY="$HERE/.venv/bin/python"
req_sha="$(sha_of requirements.txt)"
if [ ! -x "$PY" ]; then
  log "creating the Python venv at tests/conformance/.venv"
  rm -rf .venv
  if ! python3 -m venv .venv; then
    log "python3 -m venv failed: installing python3-venv"
    rm -rf .venv
    apt_install python3-venv
    python3 -m venv .venv
  fi
fi
if [ "$(cat .venv/.conformance-req.sha256 2>/dev/null || true)" != "$req_sha" ]; then
  log "pip install -r requirements.txt"
  "$PY" -m pip install --disable-pip-version-check -q -r requirements.txt
  echo "$req_sha" > .venv/.conformance-req.sha256
fi

# --- oss-emulator ------------------------------------------------------------------------------
log "cargo build -p oss-emulator"
(cd "$REPO_ROOT" && cargo build -p oss-emulator)
target_dir="$(cd "$REPO_ROOT" && cargo metadata --format-version 1 --no-deps \
  | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || true)"
if [ -z "$target_dir" ]; then
  target_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
  case "$target_dir" in /*) ;; *) target_dir="$REPO_ROOT/$target_dir" ;; esac
fi
export OSS_EMULATOR_BIN="$target_dir/debug/oss-emulator"
if [ ! -x "$OSS_EMULATOR_BIN" ]; then
  echo "oss-emulator binary not found at $OSS_EMULATOR_BIN" >&2
  exit 1
fi
echo "emulator: $OSS_EMULATOR_BIN"

# --- suites ------------------------------------------------------------------------------------
node_log="$(mktemp)"
py_log="$(mktemp)"
trap 'rm -f "$node_log" "$py_log"' EXIT

log "Node suite: ali-oss $(node -p 'require("ali-oss/package.json").version') on node $(node --version)"
set +e
node --test ali-oss.test.js 2>&1 | tee "$node_log"
node_rc=${PIPESTATUS[0]}
set -e

log "Python suite: alibabacloud-oss-v2 $("$PY" -c 'import alibabacloud_oss_v2 as o; print(o.__version__)' 2>/dev/null || echo '?')"
set +e
"$PY" -m pytest -v -p no:cacheprovider test_oss_v2.py 2>&1 | tee "$py_log"
py_rc=${PIPESTATUS[0]}
set -e

log "summary"
echo "node --test (ali-oss): exit $node_rc"
grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo)' "$node_log" | sed 's/^/    /' || true
echo "pytest (alibabacloud-oss-v2): exit $py_rc"
tail -n 1 "$py_log" | sed 's/^/    /'

if [ "$node_rc" -ne 0 ] || [ "$py_rc" -ne 0 ]; then
  echo "conformance: FAILED" >&2
  exit 1
fi
echo "conformance: all passed"
