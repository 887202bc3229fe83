# Sourced by the bench scripts (run.sh, rtt.sh, stream.sh): installs what a benchmark needs on a
# fresh Debian machine and builds the release artefacts it measures.
#
#   bench_setup NAME [DEBIAN-PACKAGE-IF-MISSING=COMMAND ...]
#
# Debian's nodejs, npm and curl if missing (and the extra packages given, each checked by its
# command); Node.js >= 18; ali-oss pinned by bench/package-lock.json (npm ci when missing or
# stale); ./build.sh node --release; cargo build --release -p oss-emulator. Runs in the
# repository root; logs to stderr as `=== NAME: ...`.

bench_log() { printf '=== %s: %s\n' "$BENCH_NAME" "$*" >&2; }

bench_setup() {
  BENCH_NAME="$1"
  shift
  local missing=() pair
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  for pair in "$@"; do
    [ -x "${pair#*=}" ] || command -v "${pair#*=}" >/dev/null 2>&1 || missing+=("${pair%%=*}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    bench_log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$node_major" -lt 18 ]; then
    echo "$BENCH_NAME: Node.js >= 18 is needed (found $(node --version))" >&2
    exit 1
  fi
  if [ ! -d bench/node_modules/ali-oss ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
    bench_log "npm ci in bench/ (ali-oss pinned by package-lock.json)"
    (cd bench && npm ci --no-audit --no-fund >&2)
  fi
  bench_log "./build.sh node --release"
  ./build.sh node --release
  bench_log "cargo build --release -p oss-emulator"
  cargo build --release -p oss-emulator >&2
}
