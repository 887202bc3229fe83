'use strict';
// ArkTS lint of the HAR (ohos-package/Index.ets, src/main/ets/*.ets) and the sample app's .ets
// files with OpenHarmony's TypeScript fork `ohos-typescript` (pinned in package-lock.json beside
// this file), the way DevEco's build checks them: an ETS program built by
// createIncrementalProgramForArkTs (it carries the linter's strict type checker), then
// ArkTSLinter_1_1.runArkTSLinter at ArkTS 1.1. The kits the files import are stand-ins in
// kits/, `console` and the ArkUI components
// of the sample page in sdk-globals.d.ts.
//
// Fails (exit 1) on any error in the real files (the compiler's or the linter's), and unless
// every rule named in EXPECTED_FIXTURE_RULES is reported on fixtures/violations.ets: that file
// breaks known rules, so a set-up that lints nothing cannot pass. Warnings are listed.
//
// Usage: node tests/ohos/arkts/lint.js   (bash tests/ohos/run.sh runs `npm ci` here first)

const fs = require('node:fs');
const path = require('node:path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..', '..', '..');
const PACKAGE = path.join(ROOT, 'ohos-package');
const SAMPLE_ETS = path.join(PACKAGE, 'sample', 'entry', 'src', 'main', 'ets');

// The rules fixtures/violations.ets breaks, one per violation in it.
const EXPECTED_FIXTURE_RULES = [
  'arkts-no-untyped-obj-literals',
  'arkts-no-any-unknown',
  'arkts-no-destruct-decls',
];

// The ArkUI components sdk-globals.d.ts declares: the compiler's ETS mode needs their names to
// parse a build() body as a component tree.
const COMPONENTS = ['Column', 'Text', 'Button', 'Scroll'];

let ts;
try {
  ts = require(path.join(HERE, 'node_modules', 'ohos-typescript'));
} catch (e) {
  console.error(`arkts-lint: ohos-typescript is not installed here (run npm ci in ${HERE}): ${e.message}`);
  process.exit(1);
}
if (!ts.ArkTSLinter_1_1 || typeof ts.createIncrementalProgramForArkTs !== 'function') {
  console.error('arkts-lint: this ohos-typescript has no ArkTSLinter_1_1 / createIncrementalProgramForArkTs');
  process.exit(1);
}

function etsFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...etsFiles(full));
    else if (entry.name.endsWith('.ets')) out.push(full);
  }
  return out.sort();
}

/** The options of DevEco's ETS compilation that matter to the checks. */
function compilerOptions() {
  return {
    target: ts.ScriptTarget.ES2021,
    module: ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    lib: ['lib.es2021.d.ts'],
    types: [],
    strict: true,
    noEmit: true,
    experimentalDecorators: true,
    skipLibCheck: false,
    baseUrl: ROOT,
    paths: {
      'liboss_append.so': ['ohos-package/src/main/cpp/types/liboss_append/index.d.ts'],
      // The sample depends on the HAR by this name (its oh-package.json5).
      'oss-append': ['ohos-package/Index.ets'],
      '@kit.*': [path.relative(ROOT, path.join(HERE, 'kits', '@kit.*.d.ts'))],
    },
    // API 12 is the HAR's compatibleSdkVersion (build-profile.json5); some rules depend on it.
    compatibleSdkVersion: 12,
    ets: {
      render: { method: ['build', 'pageTransition'], decorator: ['Builder'] },
      components: COMPONENTS,
      libs: [],
      extend: {
        decorator: ['Extend'],
        components: COMPONENTS.map((name) => ({ name, type: `${name}Attribute`, instance: `${name}Instance` })),
      },
      styles: {
        decorator: 'Styles',
        component: { name: 'Common', type: 'T', instance: 'CommonInstance' },
        property: 'stateStyles',
      },
      concurrent: { decorator: 'Concurrent' },
      customComponent: 'CustomComponent',
      propertyDecorators: [{ name: 'State', needInitialization: true }],
      emitDecorators: [{ name: 'Entry', emitParameters: true }, { name: 'Component', emitParameters: false }],
      syntaxComponents: { paramsUICallback: [], attrUICallback: [] },
    },
  };
}

/** Compiler and linter diagnostics of `rootNames`, each as { severity, where, rule, text }. */
function lint(rootNames) {
  const options = compilerOptions();
  const host = ts.createIncrementalCompilerHost(options);
  const builder = ts.createIncrementalProgramForArkTs({ rootNames, options, host });
  const program = builder.getProgram();
  const compiler = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ];
  const linter = ts.ArkTSLinter_1_1.runArkTSLinter(builder, undefined, undefined, '1.1');
  const describe = (d, fromLinter) => {
    let where = '(global)';
    if (d.file) {
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      where = `${path.relative(ROOT, d.file.fileName)}:${line + 1}:${character + 1}`;
    }
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const rule = fromLinter ? (/\((arkts-[a-z0-9-]+)\)\s*$/.exec(text) || [])[1] || `linter ${d.code}` : `TS${d.code}`;
    const severity = d.category === ts.DiagnosticCategory.Error ? 'error' : 'warning';
    return { severity, where, rule, text };
  };
  const seen = new Set();
  const out = [];
  for (const [list, fromLinter] of [[compiler, false], [linter, true]]) {
    for (const d of list) {
      const item = describe(d, fromLinter);
      const key = `${item.where} ${item.text}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(item);
      }
    }
  }
  return out;
}

function print(title, items) {
  console.log(`${title}: ${items.length}`);
  for (const i of items) console.log(`  ${i.where} [${i.rule}] ${i.text}`);
}

// sdk-usage.ets is held to the same rule: an app's calls must compile.
const realFiles = [
  path.join(PACKAGE, 'Index.ets'),
  ...etsFiles(path.join(PACKAGE, 'src', 'main', 'ets')),
  ...etsFiles(SAMPLE_ETS),
  path.join(HERE, 'fixtures', 'sdk-usage.ets'),
];
const globals = path.join(HERE, 'sdk-globals.d.ts');
let failed = false;

console.log(`arkts-lint: ohos-typescript ${ts.version}, ArkTS 1.1, ${realFiles.length} files:`);
for (const f of realFiles) console.log(`  ${path.relative(ROOT, f)}`);
const real = lint([...realFiles, globals]);
const realErrors = real.filter((i) => i.severity === 'error');
print('errors in the real files', realErrors);
print('warnings in the real files', real.filter((i) => i.severity === 'warning'));
if (realErrors.length > 0) failed = true;

const fixture = path.join(HERE, 'fixtures', 'violations.ets');
const reported = lint([fixture, globals]);
const fixtureErrors = reported.filter((i) => i.severity === 'error');
print(`errors in ${path.relative(ROOT, fixture)} (expected: ${EXPECTED_FIXTURE_RULES.join(', ')})`, fixtureErrors);
for (const rule of EXPECTED_FIXTURE_RULES) {
  if (!fixtureErrors.some((i) => i.rule === rule)) {
    console.log(`arkts-lint: the fixture's ${rule} was not reported: the lint is not checking`);
    failed = true;
  }
}

console.log(failed ? 'arkts-lint: FAILED' : 'arkts-lint: ok');
process.exit(failed ? 1 : 0);
