'use strict';
// The native module's declaration (ohos-package/src/main/cpp/types/liboss_append/index.d.ts)
// must declare exactly what the module exports: the host build (dist/node/oss_append.node, made
// by `./build.sh node`) is loaded in Node.js and its exports are compared with the value exports
// the TypeScript compiler finds in the .d.ts, both ways — and with the properties of its default
// export, which is what `import native from 'liboss_append.so'` gives ArkTS.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..', '..');
const DTS = path.join(ROOT, 'ohos-package/src/main/cpp/types/liboss_append/index.d.ts');
const NODE_MODULE = path.join(ROOT, 'dist/node/oss_append.node');

/** { named: Map<name, isCallable>, defaultProps: Map<name, isCallable> | null } from the .d.ts. */
function declaredExports() {
  const program = ts.createProgram([DTS], { noEmit: true, types: [], strict: true, target: ts.ScriptTarget.ES2020 });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  assert.equal(diagnostics.length, 0,
    `index.d.ts has errors:\n${ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' })}`);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(DTS);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol, 'index.d.ts is a module');
  const callable = (symbol) => {
    const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
    return checker.getTypeOfSymbolAtLocation(symbol, decl).getCallSignatures().length > 0;
  };
  const named = new Map();
  let defaultProps = null;
  for (const sym of checker.getExportsOfModule(moduleSymbol)) {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    if (!(target.flags & ts.SymbolFlags.Value)) continue; // interfaces and types: no runtime export
    if (sym.escapedName === 'default') {
      const decl = target.valueDeclaration ?? target.declarations[0];
      defaultProps = new Map(checker.getTypeOfSymbolAtLocation(target, decl).getProperties()
        .map((p) => [p.name, callable(p)]));
    } else {
      named.set(sym.name, callable(target));
    }
  }
  return { named, defaultProps };
}

function nativeExports() {
  assert.ok(fs.existsSync(NODE_MODULE), `${NODE_MODULE} is missing: run ./build.sh node first`);
  const mod = require(NODE_MODULE);
  return new Map(Object.getOwnPropertyNames(mod).map((name) => [name, typeof mod[name] === 'function']));
}

function compare(declared, actual, what) {
  const missingInDts = [...actual.keys()].filter((n) => !declared.has(n)).sort();
  const missingInModule = [...declared.keys()].filter((n) => !actual.has(n)).sort();
  assert.deepEqual({ missingInDts, missingInModule }, { missingInDts: [], missingInModule: [] },
    `${what} vs the module's exports [${[...actual.keys()].sort().join(', ')}]`);
  for (const [name, isCallable] of declared) {
    assert.equal(actual.get(name), isCallable,
      `${name}: declared ${isCallable ? 'callable' : 'not callable'}, exported as ${actual.get(name) ? 'a function' : 'a non-function'}`);
  }
}

test('index.d.ts named exports = the host-built module exports (both ways)', () => {
  const { named } = declaredExports();
  const actual = nativeExports();
  assert.ok(actual.size > 0, 'the module exports something');
  compare(named, actual, 'named value exports of index.d.ts');
});

test('index.d.ts default export has exactly the module exports as properties', (t) => {
  const { defaultProps } = declaredExports();
  if (defaultProps === null) {
    t.skip('index.d.ts has no default export');
    return;
  }
  compare(defaultProps, nativeExports(), 'properties of the default export of index.d.ts');
});
