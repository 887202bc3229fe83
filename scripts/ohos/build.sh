#!/usr/bin/env bash
# Cross-build the native module for OpenHarmony / HarmonyOS and put it into the HAR.
#
#   OHOS_NDK_HOME=/path/to/sdk/<api>/ scripts/ohos/build.sh [--release] [--target TRIPLE]...
#   (./build.sh ohos [--release] runs this)
#
# OHOS_NDK_HOME is the SDK folder that contains native/ (native/llvm/bin/clang,
# native/sysroot). Builds aarch64-unknown-linux-ohos and x86_64-unknown-linux-ohos (or the given
# --target's) in target/ohos/ and copies liboss_append.so to ohos-package/libs/<abi>/
# (arm64-v8a, x86_64); with --release the copy is stripped. Then checks every library with
# scripts/ohos/check-elf.sh (machine, NEEDED, no glibc, module registration, imports resolvable).
#
# Needs only the NDK, rustup and cargo. Rust's std for the targets: `rustup target add`; where
# that fails (no prebuilt std can be downloaded), std is built from rust-src with
# -Zbuild-std=std,panic_abort (RUSTC_BOOTSTRAP=1).
#
# Env: OHOS_CARGO_FEATURES (default "napi": the N-API binding linked against libace_napi.z.so;
#      default features are off so napi-sys-ohos' dyn-symbols, for host tests, is not used),
#      OHOS_BUILD_STD=1 to force building std, OHOS_SKIP_ELF_CHECK=1 to skip the checks.
set -euo pipefail
# shellcheck source=scripts/ohos/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

profile=debug
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        --release) profile=release ;;
        --target) targets+=("${2:?--target needs a triple}"); shift ;;
        --target=*) targets+=("${1#--target=}") ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) ohos_die "unknown argument: $1 (usage: build.sh [--release] [--target TRIPLE]...)" ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || read -r -a targets <<<"$OHOS_DEFAULT_TARGETS"

# --- NDK ---------------------------------------------------------------------------------------
[ -n "${OHOS_NDK_HOME:-}" ] || ohos_die "set OHOS_NDK_HOME to the OpenHarmony/HarmonyOS SDK folder that contains native/ (e.g. .../sdk/default/openharmony or .../sdk/<api>)"
NDK=$(cd "$OHOS_NDK_HOME" && pwd)
LLVM_BIN=$NDK/native/llvm/bin
SYSROOT=$NDK/native/sysroot
for f in "$LLVM_BIN/clang" "$LLVM_BIN/llvm-ar" "$LLVM_BIN/llvm-strip" "$LLVM_BIN/llvm-readelf" "$LLVM_BIN/llvm-nm"; do
    [ -x "$f" ] || ohos_die "OHOS_NDK_HOME=$NDK: $f is missing (expected native/llvm/bin of an OpenHarmony NDK)"
done
for t in "${targets[@]}"; do
    ct=$(ohos_clang_triple "$t")
    [ -f "$SYSROOT/usr/lib/$ct/libace_napi.z.so" ] || ohos_die "$SYSROOT/usr/lib/$ct/libace_napi.z.so is missing"
done
export OHOS_NDK_HOME=$NDK

# --- Rust std for the targets --------------------------------------------------------------------
command -v cargo >/dev/null || ohos_die "cargo not found"
rust_sysroot=$(rustc --print sysroot)
has_std() { ls "$rust_sysroot/lib/rustlib/$1/lib/"libstd-*.rlib >/dev/null 2>&1; }
build_std=${OHOS_BUILD_STD:-0}
if [ "$build_std" != 1 ]; then
    for t in "${targets[@]}"; do
        has_std "$t" && continue
        if command -v rustup >/dev/null && rustup target add "$t" >/dev/null 2>&1 && has_std "$t"; then
            ohos_log "rustup target add $t: prebuilt std"
            continue
        fi
        ohos_log "no prebuilt std for $t (rustup target add failed): building std from rust-src"
        build_std=1
    done
fi
cargo_z=()
if [ "$build_std" = 1 ]; then
    if [ ! -f "$rust_sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]; then
        command -v rustup >/dev/null || ohos_die "building std needs rust-src, and rustup is not there to add it"
        rustup component add rust-src >&2 || ohos_die "rustup component add rust-src failed: cannot build std for ${targets[*]}"
    fi
    export RUSTC_BOOTSTRAP=1
    cargo_z=(-Zbuild-std=std,panic_abort)
fi

# --- Toolchain wrappers, as the Rust platform-support page for *-linux-ohos describes ------------
wrap_dir=$OHOS_TARGET_DIR/toolchain
mkdir -p "$wrap_dir"
cargo_args=()
for t in "${targets[@]}"; do
    ct=$(ohos_clang_triple "$t")
    for drv in clang clang++; do
        w=$wrap_dir/$t-$drv
        cat >"$w" <<EOF
#!/bin/sh
exec "$LLVM_BIN/$drv" --target=$ct --sysroot="$SYSROOT" -D__MUSL__ "\$@"
EOF
        chmod +x "$w"
    done
    # The linker: the same clang, but std's `-lunwind` must find the static libunwind.a (as
    # clang's own OHOS driver links `-l:libunwind.a`), never a libunwind.so, which the device does
    # not have: put a folder holding only the NDK's libunwind.a first in the search path.
    unwind_a=
    for f in "$NDK/native/llvm/lib/$ct/libunwind.a" "$NDK"/native/llvm/lib/clang/*/lib/"$ct"/libunwind.a; do
        [ -f "$f" ] && { unwind_a=$f; break; }
    done
    link_flags=
    if [ -n "$unwind_a" ]; then
        mkdir -p "$wrap_dir/static-unwind/$ct"
        ln -sfn "$unwind_a" "$wrap_dir/static-unwind/$ct/libunwind.a"
        link_flags="\"-L$wrap_dir/static-unwind/$ct\""
    fi
    cat >"$wrap_dir/$t-linker" <<EOF
#!/bin/sh
exec "$LLVM_BIN/clang" --target=$ct --sysroot="$SYSROOT" -D__MUSL__ $link_flags "\$@"
EOF
    chmod +x "$wrap_dir/$t-linker"
    tu=$(echo "$t" | tr 'a-z-' 'A-Z_')
    tl=${t//-/_}
    export "CARGO_TARGET_${tu}_LINKER=$wrap_dir/$t-linker"
    export "CC_${tl}=$wrap_dir/$t-clang" "CXX_${tl}=$wrap_dir/$t-clang++"
    export "AR_${tl}=$LLVM_BIN/llvm-ar"
    [ -x "$LLVM_BIN/llvm-ranlib" ] && export "RANLIB_${tl}=$LLVM_BIN/llvm-ranlib"
    cargo_args+=(--target "$t")
done

# --- Build ------------------------------------------------------------------------------------
profile_flag=()
[ "$profile" = release ] && profile_flag=(--release)
features=${OHOS_CARGO_FEATURES-napi}
ohos_log "cargo build ($profile, ${targets[*]}${cargo_z:+, build-std}) in $OHOS_TARGET_DIR"
start=$(date +%s)
(cd "$OHOS_ROOT" && CARGO_TARGET_DIR=$OHOS_TARGET_DIR cargo "${cargo_z[@]}" build --locked -p oss-append --lib \
    --no-default-features --features "$features" "${profile_flag[@]}" "${cargo_args[@]}")
ohos_log "cargo build took $(( $(date +%s) - start )) s"

# --- Into the HAR -------------------------------------------------------------------------------
for t in "${targets[@]}"; do
    built=$OHOS_TARGET_DIR/$t/$profile/liboss_append.so
    [ -f "$built" ] || ohos_die "$built was not produced"
    dest=$OHOS_ROOT/ohos-package/libs/$(ohos_abi "$t")/liboss_append.so
    mkdir -p "$(dirname "$dest")"
    if [ "$profile" = release ]; then
        "$LLVM_BIN/llvm-strip" --strip-all -o "$dest" "$built"
    else
        cp "$built" "$dest"
    fi
    ohos_log "$dest ($(stat -c %s "$dest") bytes)"
done

if [ "${OHOS_SKIP_ELF_CHECK:-0}" != 1 ]; then
    failed=()
    for t in "${targets[@]}"; do
        bash "$(dirname "${BASH_SOURCE[0]}")/check-elf.sh" "$t" \
            "$OHOS_ROOT/ohos-package/libs/$(ohos_abi "$t")/liboss_append.so" \
            "$OHOS_TARGET_DIR/$t/$profile/liboss_append.so" || failed+=("$t")
    done
    [ ${#failed[@]} -eq 0 ] || ohos_die "ELF check failed for: ${failed[*]}"
fi
