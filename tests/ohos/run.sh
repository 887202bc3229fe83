#!/usr/bin/env bash
# CI checks of the OHOS side:
#   1. npm ci here (json5, typescript: pinned in package-lock.json);
#   2. ./build.sh node (the host build whose exports index.d.ts must match), unless
#      OHOS_TESTS_SKIP_NODE_BUILD=1 and dist/node/oss_append.node exists;
#   3. node --test: every *.json5 of ohos-package/ parses as JSON5 and has the fields DevEco
#      needs; index.d.ts declares exactly the host module's exports;
#   4. ./build.sh ohos-check: cross build with a stand-in NDK + ELF checks + load test.
# Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ ! -d "$here/node_modules/json5" ] || [ ! -d "$here/node_modules/typescript" ] ||
    [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    echo "=== tests/ohos: npm ci" >&2
    (cd "$here" && npm ci --no-audit --no-fund >&2)
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
