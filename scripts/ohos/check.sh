#!/usr/bin/env bash
# CI check of the OHOS build without an OpenHarmony NDK (none can be downloaded here):
#
#   scripts/ohos/check.sh            (./build.sh ohos-check runs this)
#
# 1. Rust std for the *-linux-ohos targets: prebuilt if rustup has it, else built from rust-src
#    (-Zbuild-std). If rust-src cannot be installed either: prints `SKIP: ...` and exits 0.
# 2. Assembles a stand-in NDK from Debian packages (scripts/ohos/standin-ndk.sh).
# 3. Runs the real build, scripts/ohos/build.sh (the code path of `./build.sh ohos`), with
#    OHOS_NDK_HOME pointing at the stand-in: aarch64 + x86_64, into ohos-package/libs/<abi>/,
#    then scripts/ohos/check-elf.sh on each library (fails loudly on any miss).
# 4. Loads each library with musl's loader and checks what its constructor registers
#    (scripts/ohos/probe.sh; aarch64 under qemu-aarch64 from Debian's qemu-user).
#
# Env: OHOS_CHECK_PROFILE=release (default) | debug.
set -euo pipefail
# shellcheck source=scripts/ohos/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
here=$(dirname "${BASH_SOURCE[0]}")
t0=$(date +%s)
read -r -a targets <<<"$OHOS_DEFAULT_TARGETS"

# --- 1. std for the targets ---------------------------------------------------------------------
command -v cargo >/dev/null || ohos_die "cargo not found"
rust_sysroot=$(rustc --print sysroot)
need_src=0
for t in "${targets[@]}"; do
    ls "$rust_sysroot/lib/rustlib/$t/lib/"libstd-*.rlib >/dev/null 2>&1 && continue
    if command -v rustup >/dev/null && rustup target add "$t" >/dev/null 2>&1; then continue; fi
    need_src=1
done
if [ "$need_src" = 1 ] && [ ! -f "$rust_sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]; then
    if ! command -v rustup >/dev/null; then
        echo "SKIP: ohos-check: no prebuilt std for ${targets[*]} and no rustup to add rust-src (std cannot be built)"
        exit 0
    fi
    if ! err=$(rustup component add rust-src 2>&1); then
        echo "SKIP: ohos-check: no prebuilt std for ${targets[*]} and 'rustup component add rust-src' failed: $(tail -n1 <<<"$err")"
        exit 0
    fi
fi

# --- 2. stand-in NDK (+ qemu-user for the aarch64 load test) ------------------------------------
NDK=$OHOS_TARGET_DIR/standin-ndk
bash "$here/standin-ndk.sh" "$NDK"
if ! command -v qemu-aarch64 >/dev/null && [ "$(uname -m)" != aarch64 ]; then
    ohos_log "apt-get install qemu-user (aarch64 load test)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null 2>&1 ||
        ohos_log "qemu-user not installable: the aarch64 load test will be skipped"
fi
t1=$(date +%s)

# --- 3. the build, exactly as `./build.sh ohos` -------------------------------------------------
profile=${OHOS_CHECK_PROFILE:-release}
pflag=()
[ "$profile" = release ] && pflag=(--release)
OHOS_NDK_HOME=$NDK bash "$here/build.sh" "${pflag[@]}"
t2=$(date +%s)

# --- 4. load test -------------------------------------------------------------------------------
passed=${#targets[@]} failed=0 skipped=0 # the ELF checks passed, or build.sh would have failed
for t in "${targets[@]}"; do
    printf -- '--- %s: load test\n' "$t"
    rc=0
    bash "$here/probe.sh" "$NDK" "$t" "$OHOS_ROOT/ohos-package/libs/$(ohos_abi "$t")/liboss_append.so" || rc=$?
    case $rc in
        0) passed=$((passed + 1)) ;;
        3) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
t3=$(date +%s)
echo "ohos-check: stand-in NDK $((t1 - t0)) s, build + ELF checks $((t2 - t1)) s, load tests $((t3 - t2)) s, total $((t3 - t0)) s"
echo "ohos-check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
