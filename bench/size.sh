#!/usr/bin/env bash
# Size of the stripped OHOS aarch64 library under release-profile variants (issue 13, item 6).
#
#   bash bench/size.sh [VARIANT...]        (default: every variant below, one after the other)
#
# A variant is NAME=LTO,CODEGEN_UNITS,OPT_LEVEL,PANIC, e.g. `fat-s=fat,1,s,unwind`; a bare NAME
# picks one of the presets below. Each variant is one `scripts/ohos/build.sh --release --target
# aarch64-unknown-linux-ohos` (the code path of `./build.sh ohos --release`) with the profile
# given through Cargo's CARGO_PROFILE_RELEASE_* variables, so Cargo.toml is not edited; std is
# built from rust-src with the same profile where no prebuilt std exists (as build.sh does), so
# the figure is the whole library as shipped. Needs an NDK: OHOS_NDK_HOME, or the stand-in one
# that `./build.sh ohos-check` assembles (target/ohos/standin-ndk, made here when missing).
#
# Prints, and appends to target/ohos/size-variants.tsv: name, lto, codegen-units, opt-level,
# panic, stripped bytes, build seconds. Each variant rebuilds everything (a profile change
# invalidates every crate): several minutes apiece with CARGO_BUILD_JOBS=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

declare -A PRESET=(
  [base]=false,16,3,unwind        # Cargo's release defaults (what was shipped: 4.8 MB)
  [thin]=thin,16,3,unwind
  [fat]=fat,1,3,unwind
  [fat-o2]=fat,1,2,unwind
  [fat-s]=fat,1,s,unwind
  [fat-z]=fat,1,z,unwind
  [fat-s-abort]=fat,1,s,abort
  [fat-z-abort]=fat,1,z,abort
)
ORDER=(base thin fat fat-s fat-z fat-s-abort)

NDK="${OHOS_NDK_HOME:-$ROOT/target/ohos/standin-ndk}"
[ -x "$NDK/native/llvm/bin/clang" ] || bash scripts/ohos/standin-ndk.sh "$NDK"
out="$ROOT/target/ohos/size-variants.tsv"
mkdir -p "$(dirname "$out")"
[ -f "$out" ] || printf 'name\tlto\tcodegen_units\topt_level\tpanic\tstripped_bytes\tbuild_s\n' >"$out"

[ $# -gt 0 ] || set -- "${ORDER[@]}"
for v in "$@"; do
  name=${v%%=*}
  spec=${PRESET[$name]:-}
  [[ $v == *=* ]] && spec=${v#*=}
  [ -n "$spec" ] || { echo "size.sh: unknown variant $v" >&2; exit 2; }
  IFS=, read -r lto cgu opt panic <<<"$spec"
  echo "=== size.sh: $name (lto=$lto codegen-units=$cgu opt-level=$opt panic=$panic)" >&2
  t0=$(date +%s)
  CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$cgu \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt CARGO_PROFILE_RELEASE_PANIC=$panic \
    OHOS_NDK_HOME="$NDK" bash scripts/ohos/build.sh --release --target aarch64-unknown-linux-ohos >&2
  secs=$(( $(date +%s) - t0 ))
  lib=ohos-package/libs/arm64-v8a/liboss_append.so
  bytes=$(stat -c %s "$lib")
  cp "$lib" "$ROOT/target/ohos/liboss_append-$name.so"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$lto" "$cgu" "$opt" "$panic" "$bytes" "$secs" | tee -a "$out"
done
