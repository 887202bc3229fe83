#!/usr/bin/env bash
# Every test of the project, in order: formatting and lints, Rust unit and integration tests
# (client against the emulator), conformance of the emulator with the official clients, and the
# N-API module in Node.js. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n==== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (unit, integration, doc)"
cargo test --workspace

for suite in tests/conformance/run.sh tests/js/run.sh; do
  if [ -f "$suite" ]; then
    step "$suite"
    bash "$suite"
  fi
done

step "all tests passed"
