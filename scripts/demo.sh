#!/usr/bin/env bash
# The main job: starts the embedded emulator, appends a string, a file and chained blocks, prints
# each next position and CRC-64, then reads the object back and verifies it.
# Set OSS_BUCKET, OSS_REGION, OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET to run it against real OSS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec cargo run --quiet --example demo
