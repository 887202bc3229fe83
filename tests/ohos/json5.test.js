'use strict';
// Every *.json5 of the HAR (ohos-package/, its sample app included) must parse with a real JSON5
// parser (json5, pinned in tests/ohos/package-lock.json), and the fields DevEco Studio, hvigor and
// ohpm rely on must be there and point at files that exist.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const JSON5 = require('json5');

const ROOT = path.resolve(__dirname, '..', '..');
const HAR = path.join(ROOT, 'ohos-package');
const SKIP_DIRS = new Set(['node_modules', 'oh_modules', 'build', 'libs', '.hvigor', '.cxx', '.preview', '.idea']);

function findFiles(dir, suffix, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) findFiles(p, suffix, out);
    } else if (entry.name.endsWith(suffix)) {
      out.push(p);
    }
  }
  return out.sort();
}

const rel = (p) => path.relative(ROOT, p);
const load = (p) => JSON5.parse(fs.readFileSync(p, 'utf8'));
const exists = (p) => fs.existsSync(p);

const json5Files = findFiles(HAR, '.json5');

test('the HAR has the JSON5 files DevEco Studio expects', () => {
  for (const f of [
    'oh-package.json5',
    'build-profile.json5',
    'src/main/module.json5',
    'src/main/cpp/types/liboss_append/oh-package.json5',
    'sample/oh-package.json5',
    'sample/build-profile.json5',
    'sample/hvigor/hvigor-config.json5',
    'sample/AppScope/app.json5',
    'sample/entry/oh-package.json5',
    'sample/entry/build-profile.json5',
    'sample/entry/src/main/module.json5',
  ]) {
    assert.ok(json5Files.includes(path.join(HAR, f)), `ohos-package/${f} is missing`);
  }
  for (const f of ['hvigorfile.ts', 'sample/hvigorfile.ts', 'sample/entry/hvigorfile.ts']) {
    assert.ok(exists(path.join(HAR, f)), `ohos-package/${f} is missing`);
  }
});

for (const file of json5Files) {
  test(`${rel(file)} parses as JSON5`, () => {
    const value = load(file);
    assert.equal(typeof value, 'object');
    assert.ok(value !== null && !Array.isArray(value), 'the top level is an object');
  });
}

// Resource files of the sample are plain JSON.
for (const file of findFiles(path.join(HAR, 'sample'), '.json')) {
  test(`${rel(file)} parses as JSON`, () => {
    JSON.parse(fs.readFileSync(file, 'utf8'));
  });
}

test('HAR oh-package.json5: name, version, entry files, license, native module types', () => {
  const pkg = load(path.join(HAR, 'oh-package.json5'));
  assert.equal(pkg.name, 'oss-append');
  assert.equal(pkg.version, '0.1.0');
  const cargo = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  const crateVersion = /\[package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(cargo);
  assert.ok(crateVersion, 'Cargo.toml [package] version');
  assert.equal(pkg.version, crateVersion[1], 'the HAR and the crate have the same version');
  assert.equal(pkg.main, 'Index.ets');
  assert.ok(exists(path.join(HAR, pkg.main)), `main ${pkg.main} exists`);
  assert.equal(typeof pkg.types, 'string');
  assert.ok(exists(path.join(HAR, pkg.types)), `types ${pkg.types} exists`);
  assert.equal(pkg.license, 'Apache-2.0');
  assert.equal(pkg.dependencies['liboss_append.so'], 'file:./src/main/cpp/types/liboss_append');
  assert.ok(exists(path.join(HAR, 'src/main/cpp/types/liboss_append/oh-package.json5')));
});

test('native module types package: liboss_append.so with ./index.d.ts', () => {
  const dir = path.join(HAR, 'src/main/cpp/types/liboss_append');
  const pkg = load(path.join(dir, 'oh-package.json5'));
  assert.equal(pkg.name, 'liboss_append.so');
  assert.equal(pkg.types, './index.d.ts');
  assert.ok(exists(path.join(dir, pkg.types)));
});

test('HAR module.json5: a har module with a valid name', () => {
  const { module } = load(path.join(HAR, 'src/main/module.json5'));
  assert.equal(module.type, 'har');
  assert.match(module.name, /^[A-Za-z][A-Za-z0-9_.]*$/);
  assert.ok(Array.isArray(module.deviceTypes) && module.deviceTypes.length > 0);
});

test('HAR build-profile.json5: stage model, default target', () => {
  const profile = load(path.join(HAR, 'build-profile.json5'));
  assert.equal(profile.apiType, 'stageMode');
  assert.ok(profile.targets.some((t) => t.name === 'default'));
});

test('sample project: modules exist, entry depends on this HAR', () => {
  const sample = path.join(HAR, 'sample');
  const project = load(path.join(sample, 'build-profile.json5'));
  assert.ok(Array.isArray(project.app.products) && project.app.products.length > 0);
  for (const m of project.modules) {
    assert.ok(exists(path.join(sample, m.srcPath, 'src/main/module.json5')), `module ${m.name} at ${m.srcPath}`);
  }
  assert.equal(load(path.join(sample, 'oh-package.json5')).modelVersion,
    load(path.join(sample, 'hvigor/hvigor-config.json5')).modelVersion);
  const entryPkg = load(path.join(sample, 'entry/oh-package.json5'));
  const dep = entryPkg.dependencies['oss-append'];
  assert.match(dep, /^file:/);
  assert.equal(path.resolve(sample, 'entry', dep.slice('file:'.length)), HAR, 'oss-append points at ohos-package/');
});

test('sample entry module.json5: pages, ability source, resources, INTERNET permission', () => {
  const main = path.join(HAR, 'sample/entry/src/main');
  const { module } = load(path.join(main, 'module.json5'));
  assert.equal(module.type, 'entry');
  const resource = (ref) => {
    const m = /^\$(\w+):(\w+)$/.exec(ref);
    assert.ok(m, `resource reference ${ref}`);
    return m;
  };
  const [, profileKind, profileName] = resource(module.pages);
  assert.equal(profileKind, 'profile');
  const pages = JSON.parse(fs.readFileSync(path.join(main, 'resources/base/profile', `${profileName}.json`), 'utf8'));
  for (const page of pages.src) assert.ok(exists(path.join(main, 'ets', `${page}.ets`)), `page ${page}`);
  const strings = JSON.parse(fs.readFileSync(path.join(main, 'resources/base/element/string.json'), 'utf8')).string.map((s) => s.name);
  const colors = JSON.parse(fs.readFileSync(path.join(main, 'resources/base/element/color.json'), 'utf8')).color.map((c) => c.name);
  const checkRef = (ref) => {
    const [, kind, name] = resource(ref);
    if (kind === 'string') assert.ok(strings.includes(name), `string ${name}`);
    else if (kind === 'color') assert.ok(colors.includes(name), `color ${name}`);
    else if (kind === 'media') assert.ok(exists(path.join(main, 'resources/base/media', `${name}.png`)), `media ${name}`);
    else assert.fail(`unexpected resource kind ${kind}`);
  };
  checkRef(module.description);
  for (const ability of module.abilities) {
    assert.ok(exists(path.join(main, ability.srcEntry)), `ability source ${ability.srcEntry}`);
    for (const key of ['description', 'icon', 'label', 'startWindowIcon', 'startWindowBackground']) checkRef(ability[key]);
  }
  assert.equal(module.mainElement, module.abilities[0].name);
  assert.ok(module.requestPermissions.some((p) => p.name === 'ohos.permission.INTERNET'));
});

test('sample AppScope app.json5: bundle name, icon and label resources', () => {
  const scope = path.join(HAR, 'sample/AppScope');
  const { app } = load(path.join(scope, 'app.json5'));
  assert.match(app.bundleName, /^[a-z][a-z0-9_]*(\.[a-z0-9_]+){2,}$/);
  assert.equal(app.icon, '$media:app_icon');
  assert.ok(exists(path.join(scope, 'resources/base/media/app_icon.png')));
  assert.equal(app.label, '$string:app_name');
  const strings = JSON.parse(fs.readFileSync(path.join(scope, 'resources/base/element/string.json'), 'utf8'));
  assert.ok(strings.string.some((s) => s.name === 'app_name'));
});

test('the sample page imports the package as the official examples do', () => {
  const page = fs.readFileSync(path.join(HAR, 'sample/entry/src/main/ets/pages/Index.ets'), 'utf8');
  assert.match(page, /import Client, \{ RequestError, EHeaderKey \} from 'oss-append';/);
  assert.match(page, /fs\.open\(/);
  assert.match(page, /res\.origRes\.headers\[EHeaderKey\.X_OSS_NEXT_APPEND_POSITION\]/);
});
