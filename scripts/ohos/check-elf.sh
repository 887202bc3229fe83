#!/usr/bin/env bash
# Check one cross-built liboss_append.so against what an OpenHarmony device loads.
#
#   OHOS_NDK_HOME=... scripts/ohos/check-elf.sh TARGET_TRIPLE PACKAGED_SO [UNSTRIPPED_SO]
#
# Uses only the NDK's llvm tools (native/llvm/bin) and its sysroot libraries. Fails (exit 1),
# naming every miss, unless:
#   - machine: ELF64 shared object for the target (AArch64 / X86-64);
#   - NEEDED is exactly libace_napi.z.so and libc.so (OHOS_ALLOWED_NEEDED to change): nothing from
#     glibc (libc.so.6, libm.so.6, libpthread.so.0, libdl.so.2, ld-linux*), no libgcc_s, no
#     libunwind.so (the NDK links libunwind statically), and libace_napi.z.so really is there
#     (napi-sys-ohos' dyn-symbols must not be on for OHOS);
#   - no symbol versioning at all (no .gnu.version_r, so no GLIBC_*): musl has none;
#   - module registration: napi_register_module_v1 exported, napi_module_register imported and
#     called from a function the .init_array runs (a library constructor), and, where the module
#     record is static, its nm_register_func is napi_register_module_v1 and its nm_modname is
#     "oss_append" (what `import ... from 'liboss_append.so'` looks up);
#   - every strong undefined dynamic symbol is exported by the sysroot's libc.so or
#     libace_napi.z.so (weak ones are listed, not required).
# The unstripped library (cargo's output) is used for the call-graph part; the size is reported
# stripped and unstripped.
set -euo pipefail
# shellcheck source=scripts/ohos/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

target=${1:?usage: check-elf.sh TARGET PACKAGED_SO [UNSTRIPPED_SO]}
so=${2:?usage: check-elf.sh TARGET PACKAGED_SO [UNSTRIPPED_SO]}
full=${3:-$so}
[ -n "${OHOS_NDK_HOME:-}" ] || ohos_die "OHOS_NDK_HOME is not set"
BIN=$OHOS_NDK_HOME/native/llvm/bin
triple=$(ohos_clang_triple "$target")
LIBDIR=$OHOS_NDK_HOME/native/sysroot/usr/lib/$triple
want_machine=$(ohos_elf_machine "$target")
allowed_needed=${OHOS_ALLOWED_NEEDED:-libace_napi.z.so libc.so}
module_name=${OHOS_MODULE_NAME:-oss_append}
[ -f "$so" ] || ohos_die "$so does not exist"
[ -f "$full" ] || ohos_die "$full does not exist"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=()
fail() { fails+=("$*"); printf '  FAIL %s\n' "$*"; }
ok() { printf '  ok   %s\n' "$*"; }

printf -- '--- %s: %s\n' "$target" "$so"

# --- machine -----------------------------------------------------------------------------------
"$BIN/llvm-readelf" -h "$so" >"$tmp/h"
class=$(awk -F': *' '/^ *Class:/ {print $2}' "$tmp/h")
type=$(awk -F': *' '/^ *Type:/ {print $2}' "$tmp/h")
machine=$(awk -F': *' '/^ *Machine:/ {print $2}' "$tmp/h")
if [ "$class" = ELF64 ] && [ "$machine" = "$want_machine" ] && [[ $type == DYN* ]]; then
    ok "machine: $machine, $class, $type"
else
    fail "machine: got '$machine' '$class' '$type', want '$want_machine' ELF64 DYN"
fi

# --- NEEDED ------------------------------------------------------------------------------------
"$BIN/llvm-readelf" -d "$so" >"$tmp/d"
needed=$(sed -n 's/.*(NEEDED) *Shared library: \[\(.*\)\]/\1/p' "$tmp/d" | sort | tr '\n' ' ' | sed 's/ $//')
want=$(tr ' ' '\n' <<<"$allowed_needed" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
if [ "$needed" = "$want" ]; then
    ok "NEEDED: $needed"
else
    fail "NEEDED: got [$needed], want exactly [$want]"
    for n in $needed; do
        case $n in
            libc.so.6|libm.so.6|libpthread.so.*|libdl.so.*|librt.so.*|libutil.so.*|ld-linux*) fail "NEEDED $n is glibc's" ;;
            libgcc_s*) fail "NEEDED $n: libgcc_s does not exist on OHOS" ;;
            libunwind.so*) fail "NEEDED $n: the NDK links libunwind statically (libunwind.a)" ;;
        esac
    done
    grep -qw libace_napi.z.so <<<"$needed" || fail "libace_napi.z.so is not NEEDED: napi_* were not linked against it (dyn-symbols on? stub without exports dropped by --as-needed?)"
fi
soname=$(sed -n 's/.*(SONAME) *Library soname: \[\(.*\)\]/\1/p' "$tmp/d")
[ -z "$soname" ] || [ "$soname" = liboss_append.so ] || fail "SONAME is $soname, want liboss_append.so or none"

# --- symbol versions ---------------------------------------------------------------------------
"$BIN/llvm-readelf" -S --wide "$so" >"$tmp/S"
"$BIN/llvm-nm" -D "$so" >"$tmp/dyn"
if grep -q '\.gnu\.version_r' "$tmp/S"; then
    fail "symbol version requirements present (.gnu.version_r): $(grep -o '@[A-Z_]*[0-9.]*' "$tmp/dyn" | sort -u | tr '\n' ' ')"
elif grep -q 'GLIBC' "$tmp/dyn"; then
    fail "GLIBC symbol versions: $(grep GLIBC "$tmp/dyn" | head -5 | tr '\n' ' ')"
else
    ok "symbol versions: none (no .gnu.version_r, no GLIBC_*)"
fi

# --- imports resolvable ------------------------------------------------------------------------
provided=$tmp/provided
: >"$provided"
for lib in libc.so libace_napi.z.so; do
    [ -f "$LIBDIR/$lib" ] || { fail "$LIBDIR/$lib missing"; continue; }
    "$BIN/llvm-nm" -D --defined-only "$LIBDIR/$lib" >"$tmp/p" || { fail "cannot read symbols of $LIBDIR/$lib"; continue; }
    awk '{print $NF}' "$tmp/p" | sed 's/@.*//' >>"$provided"
done
sort -u -o "$provided" "$provided"
"$BIN/llvm-nm" -D --undefined-only "$so" | awk '{print $1, $2}' | sed 's/@.*//' >"$tmp/und"
awk '$1 == "U" {print $2}' "$tmp/und" | sort -u >"$tmp/strong"
awk '$1 != "U" {print $2}' "$tmp/und" | sort -u >"$tmp/weak"
comm -23 "$tmp/strong" "$provided" >"$tmp/missing"
n_strong=$(wc -l <"$tmp/strong")
n_napi=$(grep -c '^napi_\|^node_api_' "$tmp/strong" || true)
weak_list=$(tr '\n' ' ' <"$tmp/weak" | sed 's/ $//')
if [ -s "$tmp/missing" ]; then
    fail "unresolvable imports (not in $triple libc.so / libace_napi.z.so): $(tr '\n' ' ' <"$tmp/missing")"
else
    ok "imports: $n_strong strong ($n_napi napi_*, $((n_strong - n_napi)) libc), all exported by libc.so + libace_napi.z.so; weak: ${weak_list:-none}"
fi

# --- module registration -----------------------------------------------------------------------
reg_ok=1
if awk '$2 == "T" && $3 == "napi_register_module_v1" {f=1} END {exit !f}' "$tmp/dyn"; then :; else
    fail "napi_register_module_v1 is not exported"; reg_ok=0
fi
grep -qx napi_module_register "$tmp/strong" || { fail "napi_module_register is not imported: nothing registers the module with ArkTS"; reg_ok=0; }

# .init_array entries (RELA: relocation addends; else the words in place).
"$BIN/llvm-readelf" -S --wide "$full" >"$tmp/Sf"
read -r ia_addr ia_size < <(awk '$0 ~ /\.init_array/ {for (i=1;i<=NF;i++) if ($i==".init_array") {print $(i+2), $(i+4); exit}}' "$tmp/Sf") || true
"$BIN/llvm-readelf" -r --wide "$full" >"$tmp/rel"
: >"$tmp/init_targets"
if [ -n "${ia_addr:-}" ]; then
    awk -v a="$ia_addr" -v s="$ia_size" '
        function hex(x,   i, c, v) { v = 0; x = tolower(x); sub(/^0x/, "", x)
            for (i = 1; i <= length(x); i++) { c = index("0123456789abcdef", substr(x, i, 1)); v = v * 16 + c - 1 }
            return v }
        BEGIN { lo = hex(a); hi = lo + hex(s) }
        $1 ~ /^[0-9a-f]+$/ && $3 ~ /RELATIVE/ { o = hex($1); if (o >= lo && o < hi) printf "%x\n", hex($NF) }
    ' "$tmp/rel" >"$tmp/init_targets"
    if [ ! -s "$tmp/init_targets" ]; then
        "$BIN/llvm-objdump" -s -j .init_array "$full" | awk '/^ [0-9a-f]+ / {
            for (i = 2; i <= 5; i++) w = w $i } END {
            for (i = 1; i + 15 <= length(w); i += 16) { le = ""; for (j = 14; j >= 0; j -= 2) le = le substr(w, i + j, 2); sub(/^0+/, "", le); if (le != "") print le } }' >"$tmp/init_targets"
    fi
fi
n_init=$(wc -l <"$tmp/init_targets")
if [ "$n_init" -eq 0 ]; then
    fail "no .init_array entries: no library constructor"; reg_ok=0
else
    # Call graph: function start -> branch targets, and which functions reach napi_module_register@plt.
    "$BIN/llvm-objdump" -d --no-show-raw-insn "$full" >"$tmp/dis"
    found=$(awk -v targets="$(tr '\n' ' ' <"$tmp/init_targets")" '
        /^[0-9a-f]+ <.*>:$/ { f = $1; sub(/^0+/, "", f); name[f] = substr($2, 2, length($2) - 3); next }
        f != "" && ($2 == "bl" || $2 == "b" || $2 == "call" || $2 == "callq" || $2 == "jmp" || $2 == "jmpq") && $3 ~ /^0x/ {
            if ($4 == "<napi_module_register@plt>") { calls[f] = 1; next }
            t = substr($3, 3); sub(/^0+/, "", t); edge[f] = edge[f] " " t }
        END {
            n = split(targets, q, " ")
            for (i = 1; i <= n; i++) { depth[q[i]] = 0; path[q[i]] = name[q[i]] }
            for (head = 1; head <= n; head++) {
                u = q[head]
                if (calls[u]) { print path[u] " -> napi_module_register@plt"; exit }
                if (depth[u] >= 3) continue
                m = split(edge[u], e, " ")
                for (k = 1; k <= m; k++) if (e[k] in name && !(e[k] in depth)) {
                    depth[e[k]] = depth[u] + 1; path[e[k]] = path[u] " -> " name[e[k]]; q[++n] = e[k] }
            }
        }' "$tmp/dis")
    if [ -n "$found" ]; then
        ok "constructor: .init_array ($n_init entries): $found"
    else
        fail "no .init_array function calls napi_module_register (within 3 calls)"; reg_ok=0
    fi
fi

# Static napi_module record: a relocation pointing at napi_register_module_v1 may be a record's
# nm_register_func (offset 16); nm_modname is then the pointer after it (offset 24).
v1=$(awk '$3 == "napi_register_module_v1" {print $1}' "$tmp/dyn" | sed 's/^0*//')
read_cstr() { # vaddr(hex) -> the NUL-terminated string there (printable ASCII, max 64 bytes)
    local off
    off=$(awk -v va="$1" '
        function hex(x,   i, v) { v = 0; x = tolower(x); sub(/^0x/, "", x)
            for (i = 1; i <= length(x); i++) v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
            return v }
        { sub(/^ *\[ *[0-9]+\] */, "") }
        NF >= 5 && $2 != "NOBITS" && $3 ~ /^[0-9a-f]+$/ && $4 ~ /^[0-9a-f]+$/ && $5 ~ /^[0-9a-f]+$/ {
            a = hex($3); if (a > 0 && hex(va) >= a && hex(va) < a + hex($5)) { printf "%d\n", hex($4) + hex(va) - a; exit } }' "$tmp/Sf")
    [ -n "$off" ] || return 0
    { dd if="$full" bs=1 skip="$off" count=64 status=none | tr '\0' '\n' | head -n1 | tr -cd '[:print:]'; } || true
}
rec_found= rec_names=
# (napi_register_module_v1 is exported, hence preemptible: the reloc is usually R_*_64 against it.)
for rec in $(awk -v v1="$v1" '
        $1 ~ /^[0-9a-f]+$/ { o = $1; sub(/^0+/, "", o)
            if ($3 ~ /RELATIVE/) { a = $NF; sub(/^0+/, "", a); if (a == v1) print o }
            else if ($5 == "napi_register_module_v1" && $NF == "0") print o }' "$tmp/rel"); do
    name_ptr=$(awk -v want="$(printf '%x' $((0x$rec + 8)))" '$3 ~ /RELATIVE/ {o = $1; sub(/^0+/, "", o); if (o == want) {a = $NF; sub(/^0+/, "", a); print a}}' "$tmp/rel")
    [ -n "$name_ptr" ] || continue
    modname=$(read_cstr "$name_ptr")
    rec_names="$rec_names \"$modname\""
    if [ "$modname" = "$module_name" ]; then rec_found=$rec; break; fi
done
if [ -n "$rec_found" ]; then
    ok "napi_module record at 0x$(printf '%x' $((0x$rec_found - 16))): nm_register_func = napi_register_module_v1, nm_modname = \"$module_name\""
elif [ -n "$rec_names" ]; then
    fail "napi_module record(s) with nm_register_func = napi_register_module_v1 name$rec_names, want \"$module_name\""; reg_ok=0
else
    printf '  note no static napi_module record (built on the stack?): module name not checked statically\n'
fi
[ "$reg_ok" = 1 ] && ok "registration: napi_register_module_v1 exported, napi_module_register imported and called by a constructor"

# --- size --------------------------------------------------------------------------------------
"$BIN/llvm-strip" --strip-all -o "$tmp/stripped.so" "$full"
ok "size: $(stat -c %s "$so") bytes packaged, $(stat -c %s "$tmp/stripped.so") stripped, $(stat -c %s "$full") unstripped"

if [ ${#fails[@]} -gt 0 ]; then
    printf 'ELF CHECK FAILED for %s (%d problem(s))\n' "$so" "${#fails[@]}" >&2
    exit 1
fi
