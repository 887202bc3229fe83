# shellcheck shell=bash
# Shared helpers for scripts/ohos/*.sh (sourced, not run).

OHOS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Cross builds get their own target dir so they never wait on (or invalidate) the host builds'
# cargo lock in target/.
OHOS_TARGET_DIR=${OHOS_TARGET_DIR:-$OHOS_ROOT/target/ohos}

# Rust target triple -> (clang triple / NDK lib dir, HAR ABI dir, ELF machine as llvm-readelf says it)
ohos_clang_triple() {
    case $1 in
        aarch64-unknown-linux-ohos) echo aarch64-linux-ohos ;;
        x86_64-unknown-linux-ohos) echo x86_64-linux-ohos ;;
        *) echo "unsupported target $1" >&2; return 1 ;;
    esac
}
ohos_abi() {
    case $1 in
        aarch64-unknown-linux-ohos) echo arm64-v8a ;;
        x86_64-unknown-linux-ohos) echo x86_64 ;;
        *) echo "unsupported target $1" >&2; return 1 ;;
    esac
}
ohos_elf_machine() {
    case $1 in
        aarch64-unknown-linux-ohos) echo AArch64 ;;
        x86_64-unknown-linux-ohos) echo "Advanced Micro Devices X86-64" ;;
        *) echo "unsupported target $1" >&2; return 1 ;;
    esac
}

OHOS_DEFAULT_TARGETS="aarch64-unknown-linux-ohos x86_64-unknown-linux-ohos"

ohos_log() { printf '==> %s\n' "$*" >&2; }
ohos_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
