'use strict';
// Logging from JS: off unless asked; `OSS_APPEND_LOG=debug` (read at the first createClient) or
// `setLogLevel('info')` sends the native records to stderr (hilog on devices): one at the start
// (debug) and one at the end (info) of every request, with operation, method, bucket, key,
// status, request id and duration. Never the secret, the STS token or an Authorization header.
// Each case runs in a child Node.js process whose stderr is captured.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { startEmulator } = require('./helpers/emulator');
const { DIST } = require('./helpers/oss');

const BUCKET = 'logging-bucket';
const AK = 'LTAI5tLoggingKey';
const SK = 'logging-secret-value-0123456789';
const TOKEN = 'logging-sts-token-value-abcdefghij';

let emu;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, securityToken: TOKEN });
});

test.after(async () => {
  if (emu) await emu.stop();
});

/** Runs `script` (with `pkg`, `config` in scope) in a child process; resolves with its output. */
function runChild(script, env) {
  const config = { accessKeyId: AK, accessKeySecret: SK, securityToken: TOKEN, region: 'cn-hangzhou', endpoint: emu.endpoint };
  const source = `
    const pkg = require(${JSON.stringify(DIST)});
    const config = ${JSON.stringify(config)};
    (async () => { ${script} })().then(
      () => process.exit(0),
      (e) => { console.log('FAILED', e && e.code, e && e.message); process.exit(1); });`;
  const childEnv = { ...process.env, ...env };
  if (!('OSS_APPEND_LOG' in env)) delete childEnv.OSS_APPEND_LOG;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let runs = 0;
/** Two appends and a refused one, to a new key each time. */
function appends() {
  runs += 1;
  const key = `log/${runs}.log`;
  return `
  const client = new pkg.Client(config);
  await client.appendObject({ bucket: '${BUCKET}', key: '${key}', data: 'hello' });
  const res = await client.appendObject({ bucket: '${BUCKET}', key: '${key}', data: ' world', position: 5 });
  console.log('REQUEST-ID', res.requestId);
  await client.appendObject({ bucket: '${BUCKET}', key: '${key}', data: 'x', position: 1 }).catch(() => {});
`;
}

function assertNoSecrets(text) {
  for (const secret of [SK, TOKEN, 'Authorization', 'authorization', 'Signature', 'x-oss-security-token', 'OSS4-HMAC']) {
    assert.ok(!text.includes(secret), `the log shows ${secret}:\n${text}`);
  }
}

test('OSS_APPEND_LOG=debug: start and end records of every request, no secrets', async () => {
  const { code, stdout, stderr } = await runChild(appends(), { OSS_APPEND_LOG: 'debug' });
  assert.equal(code, 0, stdout + stderr);
  const requestId = /REQUEST-ID (\S+)/.exec(stdout)[1];
  assert.match(stderr, /DEBUG oss_append::transport: AppendObject logging-bucket\/log\/1\.log: POST with 5 bytes/);
  assert.match(stderr, new RegExp(`INFO  oss_append::transport: AppendObject logging-bucket/log/1\\.log: POST answered 200 in \\d+ ms \\(request id ${requestId}\\)`));
  // The refused append: its status and request id.
  assert.match(stderr, /AppendObject logging-bucket\/log\/1\.log: POST answered 409 in \d+ ms \(request id [0-9A-F]{24}\)/);
  assert.match(stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /m);
  assertNoSecrets(stderr);
});

test('setLogLevel("info") from code: end records only; off by default', async () => {
  const withLevel = await runChild(`pkg.setLogLevel('info');\n${appends()}`, {});
  assert.equal(withLevel.code, 0, withLevel.stdout + withLevel.stderr);
  assert.match(withLevel.stderr, /POST answered 200/);
  assert.doesNotMatch(withLevel.stderr, /DEBUG/);
  assertNoSecrets(withLevel.stderr);

  const quiet = await runChild(appends(), {});
  assert.equal(quiet.code, 0, quiet.stdout + quiet.stderr);
  assert.equal(quiet.stderr, '');

  const off = await runChild(`if (pkg.setLogLevel('off') !== false) throw new Error('off returned true');\n${appends()}`, { OSS_APPEND_LOG: 'trace' });
  assert.equal(off.code, 0, off.stdout + off.stderr);
  assert.equal(off.stderr, '');
});

test('a key cannot forge a record; keys can be hidden with publicKeys: false', async () => {
  const forged = (n) => `log/evil-${n}.log\n2026-01-01T00:00:00.000Z ERROR oss_append::session: forged`;
  const script = (n, options) => `
    pkg.setLogLevel('info'${options});
    const client = new pkg.Client(config);
    await client.appendObject({ bucket: '${BUCKET}', key: ${JSON.stringify(forged(n))}, data: 'x' });`;
  const shown = await runChild(script(1, ''), {});
  assert.equal(shown.code, 0, shown.stdout + shown.stderr);
  const lines = shown.stderr.trim().split('\n');
  assert.equal(lines.length, 1, shown.stderr);
  assert.ok(lines[0].includes('log/evil-1.log\\n2026-01-01'), shown.stderr);
  assert.doesNotMatch(shown.stderr, /^2026-01-01T00:00:00\.000Z ERROR/m);

  const hidden = await runChild(script(2, ', { publicKeys: false }'), {});
  assert.equal(hidden.code, 0, hidden.stdout + hidden.stderr);
  assert.match(hidden.stderr, /AppendObject logging-bucket\/<private>: POST answered 200/);
  assert.ok(!hidden.stderr.includes('evil'), hidden.stderr);
});
