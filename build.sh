#!/usr/bin/env bash
# Builds oss-append's shippable artefacts. Usage:
#
#   ./build.sh node [--release]   host native module + compiled facade -> dist/node/
#   ./build.sh ohos [--release]   OHOS libraries (needs OHOS_NDK_HOME) -> ohos-package/libs/<abi>/
#   ./build.sh ohos-check         the OHOS build against a stand-in NDK from Debian, ELF checks
#
# Subcommands are one `case` arm each. --release builds the Rust crate with the release profile
# (default: dev).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

log() { printf '=== build.sh: %s\n' "$*" >&2; }

COMMAND="${1:-}"
[ -n "$COMMAND" ] || usage 2
shift

PROFILE=debug
CARGO_PROFILE_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --release) PROFILE=release; CARGO_PROFILE_ARGS=(--release) ;;
    -h|--help) usage 0 ;;
    *) echo "build.sh: unknown option: $arg" >&2; usage 2 ;;
  esac
done

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

# npm ci when node_modules is missing or older than the lock file.
ensure_node_modules() {
  if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund >&2
  fi
}

# The facade's .ets sources staged as .ts for tsc (they are valid TypeScript as they are).
stage_facade() {
  local stage="$TARGET_DIR/facade-ts"
  rm -rf "$stage"
  mkdir -p "$stage/src/main/ets"
  cp ohos-package/Index.ets "$stage/index.ts"
  local f
  for f in ohos-package/src/main/ets/*.ets; do
    cp "$f" "$stage/src/main/ets/$(basename "${f%.ets}").ts"
  done
}

build_node() {
  local out="$ROOT/dist/node"
  log "cargo build -p oss-append ($PROFILE)"
  cargo build -p oss-append --lib "${CARGO_PROFILE_ARGS[@]}" >&2
  ensure_node_modules
  stage_facade
  rm -rf "$out"
  mkdir -p "$out"
  log "tsc"
  if [ "$TARGET_DIR" != "$ROOT/target" ]; then
    node_modules/.bin/tsc -p tsconfig.json --rootDir "$TARGET_DIR/facade-ts" >&2
  else
    node_modules/.bin/tsc -p tsconfig.json >&2
  fi
  cp "$TARGET_DIR/$PROFILE/liboss_append.so" "$out/oss_append.node"
  # On OHOS the facade imports the native module as 'liboss_append.so'; here it is the .node file
  # beside the compiled facade.
  local js rel
  while IFS= read -r -d '' js; do
    rel="$(realpath --relative-to="$(dirname "$js")" "$out/oss_append.node")"
    case "$rel" in .*) ;; *) rel="./$rel" ;; esac
    sed -i "s#require(\"liboss_append.so\")#require(\"$rel\")#g" "$js"
  done < <(find "$out" -name '*.js' -print0)
  if grep -rq 'liboss_append\.so")' "$out" --include='*.js'; then
    echo "build.sh: an import of liboss_append.so was left unmapped in $out" >&2
    exit 1
  fi
  log "done: $out/index.js ($(du -h "$out/oss_append.node" | cut -f1) native module)"
}

case "$COMMAND" in
  node) build_node ;;
  ohos) exec bash "$ROOT/scripts/ohos/build.sh" "${CARGO_PROFILE_ARGS[@]}" ;;
  ohos-check) exec bash "$ROOT/scripts/ohos/check.sh" ;;
  -h|--help|help) usage 0 ;;
  *) echo "build.sh: unknown subcommand: $COMMAND" >&2; usage 2 ;;
esac
