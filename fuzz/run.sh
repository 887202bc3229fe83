#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (FUZZ_SECONDS, default 60) with cargo-fuzz /
# libFuzzer and AddressSanitizer, on the stable toolchain (RUSTC_BOOTSTRAP=1 unlocks the
# sanitizer flags cargo-fuzz passes). Seeds: fuzz/seeds/<target>; the growing corpus stays in
# fuzz/corpus/<target> (not committed). A crash is copied to fuzz/regressions/<target>/ (commit
# it: tests/faults_fuzz_regressions.rs replays it in `cargo test`) and the script fails.
#
#   bash fuzz/run.sh                      # all targets, 60 s each
#   FUZZ_SECONDS=10 bash fuzz/run.sh service_error
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(service_error response_headers parse_authorization)
fi
CARGO_FUZZ_VERSION=0.13.2

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "==== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
export RUSTC_BOOTSTRAP=1
# Same dependency versions as the main workspace: start from its lock file (cargo then adds
# libfuzzer-sys and its few dependencies).
cp Cargo.lock fuzz/Cargo.lock

echo "==== building fuzz targets (AddressSanitizer, release with debug assertions)"
cargo fuzz build --debug-assertions
status=0
for target in "${TARGETS[@]}"; do
  corpus="fuzz/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  echo "==== fuzzing $target for ${SECONDS_EACH}s"
  started=$(date +%s)
  if cargo fuzz run --debug-assertions "$target" "$corpus" "fuzz/seeds/$target" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" > "fuzz/artifacts/$target.log" 2>&1; then
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "fuzz/artifacts/$target.log" | grep -Eo '[0-9]+$' || echo "?")
    cov=$(grep -Eo 'cov: [0-9]+' "fuzz/artifacts/$target.log" | tail -n 1 | grep -Eo '[0-9]+' || echo "?")
    echo "FUZZ| $target | $(( $(date +%s) - started )) s | $runs runs | cov $cov | no crash |"
  else
    status=1
    echo "FUZZ| $target | crashed (log: fuzz/artifacts/$target.log) |"
    tail -n 40 "fuzz/artifacts/$target.log"
    mkdir -p "fuzz/regressions/$target"
    for crash in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -e "$crash" ] || continue
      cp "$crash" "fuzz/regressions/$target/"
      echo "saved $crash -> fuzz/regressions/$target/ (commit it as a regression input)"
    done
  fi
done
exit $status
