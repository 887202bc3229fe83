#!/usr/bin/env bash
# CI checks of the OHOS side:
#   1. npm ci here (json5, typescript: pinned in package-lock.json);
#   2. arkts/lint.js: OpenHarmony's ArkTS linter (ohos-typescript, pinned in arkts/package-lock.json,
#      `npm ci` there) over the HAR's and the sample's .ets files: zero errors, and a fixture of
#      known violations must be reported. SKIP (with npm's reason) only when the package cannot be
#      installed;
#   3. ./build.sh node (the host build whose exports index.d.ts must match), unless
#      OHOS_TESTS_SKIP_NODE_BUILD=1 and dist/node/oss_append.node exists;
#   4. node --test: every *.json5 of ohos-package/ parses as JSON5 and has the fields DevEco
#      needs; index.d.ts declares exactly the host module's exports;
#   5. ./build.sh ohos-check: cross build with a stand-in NDK + ELF checks + load test.
# Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ ! -d "$here/node_modules/json5" ] || [ ! -d "$here/node_modules/typescript" ] ||
    [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    echo "=== tests/ohos: npm ci" >&2
    (cd "$here" && npm ci --no-audit --no-fund >&2)
fi

# The ArkTS lint first: it needs no build and takes seconds.
echo "=== tests/ohos: ArkTS lint (arkts/lint.js)" >&2
arkts="$here/arkts"
arkts_installed=1
if [ ! -d "$arkts/node_modules/ohos-typescript" ] ||
    [ "$arkts/package-lock.json" -nt "$arkts/node_modules/.package-lock.json" ]; then
    if ! npm_log=$(cd "$arkts" && npm ci --no-audit --no-fund 2>&1); then
        arkts_installed=0
        echo "SKIP tests/ohos ArkTS lint: ohos-typescript could not be installed (npm ci in $arkts):" >&2
        printf '%s\n' "$npm_log" | tail -n 5 >&2
    fi
fi
if [ "$arkts_installed" = 1 ]; then
    node "$arkts/lint.js"
fi

cd "$root"
if [ "${OHOS_TESTS_SKIP_NODE_BUILD:-0}" = 1 ] && [ -f dist/node/oss_append.node ]; then
    echo "=== tests/ohos: using the existing dist/node/oss_append.node" >&2
else
    echo "=== tests/ohos: ./build.sh node" >&2
    ./build.sh node
fi

echo "=== tests/ohos: JSON5 and index.d.ts checks" >&2
node --test "$here/json5.test.js" "$here/dts-exports.test.js"

echo "=== tests/ohos: ./build.sh ohos-check" >&2
./build.sh ohos-check

