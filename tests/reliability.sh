#!/usr/bin/env bash
# Reliability checks beyond `cargo test` (which already runs every test below once, with the
# default seeds): the fault matrix and the race test with their reports, optionally over more
# seeds, then bounded fuzzing. Exits non-zero if anything fails.
#
#   bash tests/reliability.sh                    # default seeds, fuzz 60 s per target
#   FAULT_MATRIX_SEEDS="1 2 3" bash tests/reliability.sh
#   FUZZ_SECONDS=0 bash tests/reliability.sh     # skip fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s\n' "$*"; }
mkdir -p target
report=target/reliability-report.txt
: > "$report"

run_matrix() {
  # One test at a time, so the timings in the report are not skewed by each other.
  cargo test --test faults_matrix --test faults_concurrency -- --nocapture --test-threads=1 \
    > target/reliability-matrix.log 2>&1 || { cat target/reliability-matrix.log; return 1; }
  grep -oE '(MATRIX|RACE)\|.*' target/reliability-matrix.log | tee -a "$report"
}

step "fault matrix and race (default seeds)"
echo "MATRIX| kind | seed | appends | bytes | faults fired | append requests | HEADs | backoff waits | transient | ambiguous | recovered | resent | time |" | tee -a "$report"
run_matrix
for seed in ${FAULT_MATRIX_SEEDS:-}; do
  step "fault matrix and race, seed $seed"
  FAULT_MATRIX_SEED="$seed" run_matrix
done

if [ "${FUZZ_SECONDS:-60}" != "0" ]; then
  step "fuzzing (${FUZZ_SECONDS:-60} s per target)"
  bash fuzz/run.sh | tee -a "$report" | grep -E '^(FUZZ\||====)'
fi
step "reliability checks passed (report: $report)"
