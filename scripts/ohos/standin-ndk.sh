#!/usr/bin/env bash
# Assemble a stand-in for the OpenHarmony NDK from Debian packages, laid out like the real one
# ($NDK/native/llvm/bin, $NDK/native/sysroot/usr/{include,lib/<triple>}), so that
# scripts/ohos/build.sh can cross-build through exactly the code path it uses with a real NDK.
#
#   scripts/ohos/standin-ndk.sh [NDK_DIR]      (default: target/ohos/standin-ndk)
#
# Host tools: clang-N, lld-N, llvm-N (apt-get install). Target files, per architecture (arm64,
# amd64), come from Debian packages that are downloaded and unpacked privately (never installed:
# libunwind-N-dev:arm64 and :amd64 cannot be co-installed): musl (libc.so), musl-dev (headers,
# crt*.o, libc.a), libclang-rt-N-dev (builtins, crtbegin/crtend), libunwind-N-dev (libunwind.a).
#
# The stub libace_napi.z.so exports the napi_* / node_api_* functions napi-sys-ohos declares (read
# from the napi-sys-ohos source Cargo.lock selects; see napi-stub.sh). It is written by
# napi-stub.sh, which this script runs at the end.
#
# Env: OHOS_STANDIN_LLVM=N to force an LLVM major version (default: 19 when Debian has it, else
# the newest version for which every package above exists).
set -euo pipefail
# shellcheck source=scripts/ohos/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NDK=${1:-$OHOS_TARGET_DIR/standin-ndk}
CACHE=$OHOS_TARGET_DIR/standin-cache
export DEBIAN_FRONTEND=noninteractive

have_candidate() { # pkg[:arch] -> true when apt can install it
    local c
    c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    [ -n "$c" ] && [ "$c" != "(none)" ]
}

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        ohos_log "apt-get update"
        apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
}

command -v apt-get >/dev/null || ohos_die "the stand-in NDK is made from Debian packages: apt-get is required"
[ "$(id -u)" = 0 ] || ohos_die "run as root (apt-get install, dpkg --add-architecture)"

# Foreign architecture for the arm64 target files.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    ohos_log "dpkg --add-architecture arm64"
    dpkg --add-architecture arm64
    APT_UPDATED=0
    apt_update_once
fi
have_candidate musl-dev:arm64 && have_candidate clang-19 || apt_update_once

# LLVM version: 19 if Debian has the full set, else the newest complete one.
llvm_complete() {
    local v=$1
    for p in clang-$v lld-$v llvm-$v libclang-rt-$v-dev libclang-rt-$v-dev:arm64 libunwind-$v-dev libunwind-$v-dev:arm64; do
        have_candidate "$p" || return 1
    done
}
if [ -n "${OHOS_STANDIN_LLVM:-}" ]; then
    V=$OHOS_STANDIN_LLVM
    llvm_complete "$V" || ohos_die "LLVM $V: not every package (clang/lld/llvm/libclang-rt/libunwind-$V, amd64+arm64) is available"
elif llvm_complete 19; then
    V=19
else
    V=
    for v in $(apt-cache search --names-only '^clang-[0-9]+$' | sed -n 's/^clang-\([0-9]*\) .*/\1/p' | sort -rn); do
        if llvm_complete "$v"; then V=$v; break; fi
    done
    [ -n "$V" ] || ohos_die "no LLVM version with clang, lld, llvm, libclang-rt-dev and libunwind-dev for amd64 and arm64 in the apt sources"
    ohos_log "LLVM 19 is not available here: using LLVM $V, the newest complete set"
fi

missing=()
for p in clang-$V lld-$V llvm-$V; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    ohos_log "apt-get install ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
LLVM_PREFIX=/usr/lib/llvm-$V
[ -x "$LLVM_PREFIX/bin/clang" ] || ohos_die "$LLVM_PREFIX/bin/clang missing after install"

# Download + unpack the target packages (cached in target/ohos/standin-cache).
mkdir -p "$CACHE/debs"
for arch in arm64 amd64; do
    for p in musl musl-dev libclang-rt-$V-dev libunwind-$V-dev; do
        if ! ls "$CACHE/debs/${p}_"*"_${arch}.deb" >/dev/null 2>&1; then
            ohos_log "apt-get download $p:$arch"
            for try in 1 2; do
                (cd "$CACHE/debs" && apt-get download -qq "$p:$arch" 2>&1 | grep -v 'unsandboxed' >&2 || true)
                ls "$CACHE/debs/${p}_"*"_${arch}.deb" >/dev/null 2>&1 && break
                [ "$try" = 1 ] && apt_update_once # stale package lists: the file may have moved on
            done
            ls "$CACHE/debs/${p}_"*"_${arch}.deb" >/dev/null 2>&1 || ohos_die "could not download $p:$arch"
        fi
    done
    if [ ! -f "$CACHE/root-$arch/.done-$V" ]; then
        rm -rf "$CACHE/root-$arch"
        mkdir -p "$CACHE/root-$arch"
        for p in musl musl-dev libclang-rt-$V-dev libunwind-$V-dev; do
            dpkg-deb -x "$(ls "$CACHE/debs/${p}_"*"_${arch}.deb" | tail -n1)" "$CACHE/root-$arch"
        done
        touch "$CACHE/root-$arch/.done-$V"
    fi
done

# --- Lay out the NDK -------------------------------------------------------------------------
ohos_log "assembling stand-in NDK (LLVM $V) in $NDK"
rm -rf "$NDK/native/llvm" "$NDK/native/sysroot/usr/include"
mkdir -p "$NDK/native/llvm/bin" "$NDK/native/sysroot/usr/include" "$NDK/native/sysroot/usr/lib"

# native/llvm/bin: clang/clang++ are Debian's, run so that they take this folder as their own
# (-no-canonical-prefixes, argv[0] = this path): like the NDK's clang they then find compiler-rt in
# ../lib/clang/<ver>/lib/<triple>, libunwind.a in ../lib/<triple> and ld.lld beside them.
for drv in clang clang++; do
    cat >"$NDK/native/llvm/bin/$drv" <<EOF
#!/usr/bin/env bash
# Stand-in NDK: Debian's LLVM $V $drv, taking this folder as its install dir.
# clang re-runs argv[0] for its -cc1/-cc1as jobs: pass those through untouched.
case "\$1" in -cc1*) exec -a "\$0" "$LLVM_PREFIX/bin/$drv" "\$@" ;; esac
exec -a "\$0" "$LLVM_PREFIX/bin/$drv" -no-canonical-prefixes "\$@"
EOF
    chmod +x "$NDK/native/llvm/bin/$drv"
done
for t in ld.lld llvm-ar llvm-nm llvm-objcopy llvm-objdump llvm-ranlib llvm-readelf llvm-readobj llvm-strip; do
    ln -sf "$LLVM_PREFIX/bin/$t" "$NDK/native/llvm/bin/$t"
done
mkdir -p "$NDK/native/llvm/lib/clang/$V/lib"
ln -sfn "$LLVM_PREFIX/lib/clang/$V/include" "$NDK/native/llvm/lib/clang/$V/include"

for arch in arm64 amd64; do
    case $arch in
        arm64) triple=aarch64-linux-ohos; musl=aarch64-linux-musl; gnu=aarch64-linux-gnu; rt=aarch64 ;;
        amd64) triple=x86_64-linux-ohos; musl=x86_64-linux-musl; gnu=x86_64-linux-gnu; rt=x86_64 ;;
    esac
    root=$CACHE/root-$arch
    # compiler-rt: builtins + crtbegin/crtend under the per-target runtime dir the OHOS driver uses.
    rtdir=$NDK/native/llvm/lib/clang/$V/lib/$triple
    mkdir -p "$rtdir"
    cp "$root/usr/lib/llvm-$V/lib/clang/$V/lib/linux/libclang_rt.builtins-$rt.a" "$rtdir/libclang_rt.builtins.a"
    cp "$root/usr/lib/llvm-$V/lib/clang/$V/lib/linux/clang_rt.crtbegin-$rt.o" "$rtdir/clang_rt.crtbegin.o"
    cp "$root/usr/lib/llvm-$V/lib/clang/$V/lib/linux/clang_rt.crtend-$rt.o" "$rtdir/clang_rt.crtend.o"
    # libunwind: static only (as the OHOS NDK's llvm/lib/<triple>); a libunwind.so here would end
    # up in NEEDED and does not exist on the device.
    mkdir -p "$NDK/native/llvm/lib/$triple"
    cp "$root/usr/lib/$gnu/libunwind.a" "$NDK/native/llvm/lib/$triple/libunwind.a"
    # sysroot libs: musl's crt files and static archives, and its libc.so (no SONAME: NEEDED reads
    # `libc.so`, the device's name).
    lib=$NDK/native/sysroot/usr/lib/$triple
    mkdir -p "$lib"
    find "$lib" -mindepth 1 -maxdepth 1 ! -name 'libace_napi.z.so' -exec rm -rf {} +
    cp "$root/usr/lib/$musl/"*.o "$root/usr/lib/$musl/"*.a "$lib/"
    cp "$root/lib/$musl/libc.so" "$lib/libc.so"
    # headers: the OHOS sysroot has arch-neutral headers in usr/include and the arch-specific ones
    # in usr/include/<triple> (searched first). Put musl's per-arch tree in usr/include/<triple>.
    mkdir -p "$NDK/native/sysroot/usr/include/$triple"
    cp -a "$root/usr/include/$musl/." "$NDK/native/sysroot/usr/include/$triple/"
done

# Debian's libunwind.a is built for glibc with _FORTIFY_SOURCE: its logging calls __fprintf_chk,
# which musl (and so OHOS's libc) does not have. Add a hidden __fprintf_chk -> vfprintf to the
# stand-in's libunwind.a (the NDK's own libunwind.a is built against musl and needs none).
shim=$CACHE/glibc_fortify_shim.c
cat >"$shim" <<'EOF'
/* Stand-in NDK only (scripts/ohos/standin-ndk.sh): Debian's libunwind.a calls glibc's
 * __fprintf_chk; forward it to vfprintf. Hidden: never exported from the module. */
#include <stdarg.h>
#include <stdio.h>
__attribute__((visibility("hidden"))) int __fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
    va_list ap;
    int r;
    (void)flag;
    va_start(ap, fmt);
    r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
EOF
for triple in aarch64-linux-ohos x86_64-linux-ohos; do
    "$NDK/native/llvm/bin/clang" --target="$triple" --sysroot="$NDK/native/sysroot" -D__MUSL__ -O2 -fPIC \
        -c "$shim" -o "$CACHE/glibc_fortify_shim-$triple.o"
    "$NDK/native/llvm/bin/llvm-ar" rs "$NDK/native/llvm/lib/$triple/libunwind.a" "$CACHE/glibc_fortify_shim-$triple.o" 2>/dev/null
done

# Arch-neutral headers: files identical for both arches move up to usr/include.
inc=$NDK/native/sysroot/usr/include
(cd "$inc/aarch64-linux-ohos" && find . -type f) | while read -r f; do
    if [ -f "$inc/x86_64-linux-ohos/$f" ] && cmp -s "$inc/aarch64-linux-ohos/$f" "$inc/x86_64-linux-ohos/$f"; then
        mkdir -p "$inc/$(dirname "$f")"
        mv "$inc/aarch64-linux-ohos/$f" "$inc/$f"
        rm "$inc/x86_64-linux-ohos/$f"
    fi
done
find "$inc" -type d -empty -delete

echo "$V" >"$NDK/native/.standin-llvm-version"
cat >"$NDK/README.stand-in" <<EOF
Stand-in OpenHarmony NDK assembled by scripts/ohos/standin-ndk.sh from Debian packages
(LLVM $V, musl $(dpkg-deb -f "$(ls "$CACHE/debs/musl_"*_arm64.deb | tail -n1)" Version)). Not an OpenHarmony NDK:
see ohos-package/README.md, "Stand-in NDK".
EOF

bash "$(dirname "${BASH_SOURCE[0]}")/napi-stub.sh" "$NDK"
ohos_log "stand-in NDK ready: OHOS_NDK_HOME=$NDK"
