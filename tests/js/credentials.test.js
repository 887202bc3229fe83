'use strict';
// `credentialsProvider` and `client.updateCredentials` against the emulator's expiring STS
// tokens (POST /__sts): first use, refresh before expiry and after OSS refuses a token, one
// provider call for concurrent appends, an appender that keeps going across rotations and a
// provider outage, ClientCredentialsError for a provider that throws or returns bad data, and
// every form of `expiration`.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage } = require('./helpers/oss');

const BUCKET = 'creds-bucket';
const AK = 'LTAI5tCredsKey';
const SK = 'creds-test-secret';
const FAST = { maxRetries: 4, initialBackoff: 5, maxBackoff: 20, deadline: 10000 };

const { default: Client, RequestError, EClientErrorCode } = loadPackage();
let emu;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, args: ['--enable-fault-admin'] });
});

test.after(async () => {
  if (emu) await emu.stop();
});

/** A provider handing out the emulator's tokens; `state.fail` > 0 makes that many calls reject. */
function emulatorProvider(lifetimeMs, shape = (c) => c) {
  const state = { calls: 0, fail: 0, issued: [] };
  state.provider = async () => {
    state.calls += 1;
    await new Promise((r) => setTimeout(r, 20));
    if (state.fail > 0) {
      state.fail -= 1;
      throw new Error(`token server unavailable (call ${state.calls})`);
    }
    const c = await emu.issueSts(lifetimeMs);
    state.issued.push(c);
    return shape(c);
  };
  return state;
}

function clientWith(provider, extra = {}) {
  return new Client({ region: 'oss-cn-hangzhou', endpoint: emu.endpoint, credentialsProvider: provider, ...extra });
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, `not a RequestError: ${err && err.stack}`);
    return err;
  }
  assert.fail('expected a rejection');
}

test('first use calls the provider once for 20 concurrent appends', async () => {
  const p = emulatorProvider(600000);
  const client = clientWith(p.provider);
  assert.equal(p.calls, 0, 'nothing fetched by the constructor');
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    client.appendObject({ bucket: BUCKET, key: `js/c${i}.log`, data: `x${i}` })));
  assert.equal(results.length, 20);
  assert.equal(p.calls, 1);
});

test('an appender rides 5 rotations of short-lived tokens, before expiry and after a 403', async () => {
  for (const reportExpiration of [true, false]) {
    const p = emulatorProvider(reportExpiration ? 600 : 300, (c) =>
      reportExpiration ? c : { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken });
    const client = clientWith(p.provider);
    const key = `js/rotate-${reportExpiration}.log`;
    const a = await client.appender({ bucket: BUCKET, key, retry: FAST });
    let expected = '';
    const started = Date.now();
    for (let i = 0; (i < 200 || p.calls < 6); i++) {
      assert.ok(i < 20000 && Date.now() - started < 60000, 'bounded');
      const line = `line ${i}\n`;
      const r = await a.append(line);
      expected += line;
      assert.equal(r.data.nextAppendPosition, Buffer.byteLength(expected));
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(p.issued.length >= 6, `${p.issued.length} tokens`);
    const head = await client.headObject({ bucket: BUCKET, key });
    assert.equal(Number(head.origRes.headers['x-oss-next-append-position']), Buffer.byteLength(expected));
  }
});

test('a token OSS ends early is refreshed once and the append applied once', async () => {
  const p = emulatorProvider(3600000);
  const client = clientWith(p.provider);
  const r1 = await client.appendObject({ bucket: BUCKET, key: 'js/early.log', data: 'a' });
  await emu.expireSts(p.issued[0].accessKeyId);
  const r2 = await client.appendObject({ bucket: BUCKET, key: 'js/early.log', data: 'b', position: r1.data.nextAppendPosition });
  assert.equal(r2.data.nextAppendPosition, 2);
  assert.equal(p.calls, 2);
});

test('a provider that throws or returns bad data: ClientCredentialsError, nothing sent; then it recovers', async () => {
  const p = emulatorProvider(3600000);
  p.fail = 1;
  const client = clientWith(p.provider);
  let err = await rejection(client.appendObject({ bucket: BUCKET, key: 'js/fail.log', data: 'x' }));
  assert.equal(err.code, EClientErrorCode.CREDENTIALS);
  assert.equal(err.code, 'ClientCredentialsError');
  assert.equal(err.status, -1);
  assert.match(err.message, /token server unavailable \(call 1\)/);
  assert.equal(err.requestSent, false);
  // Recovered: the appender opens and appends.
  const a = await client.appender({ bucket: BUCKET, key: 'js/fail.log', retry: FAST });
  await a.append('one\n');
  // Down again while the token ends: the appender's retries ride it out.
  await emu.expireSts(p.issued[0].accessKeyId);
  p.fail = 2;
  const r = await a.append('two\n');
  assert.equal(r.data.nextAppendPosition, 8);

  for (const [bad, pattern] of [
    [{ accessKeyId: 'STS.x' }, /accessKeySecret/],
    [{ accessKeyId: 'STS.x', accessKeySecret: 's', expiration: 'tomorrow' }, /expiration/],
    [{ accessKeyId: 'STS.x', accessKeySecret: 's', expiration: Date.now() - 1000 }, /expired/],
    [{ accessKeyId: 'STS.x', accessKeySecret: 's', expiration: {} }, /expiration/],
  ]) {
    const c = clientWith(async () => bad);
    err = await rejection(c.appendObject({ bucket: BUCKET, key: 'js/bad.log', data: 'x' }));
    assert.equal(err.code, 'ClientCredentialsError', err.message);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('"s"'), err.message);
  }
  // A provider that is not a function, or keys beside it: refused by the constructor.
  assert.throws(() => clientWith('nope'), (e) => e.code === 'ClientInvalidArgument' && e.field === 'credentialsProvider');
  assert.throws(() => clientWith(p.provider, { accessKeyId: AK }), (e) => e.field === 'accessKeyId');
});

test('secrets from the provider never show in errors', async () => {
  const p = emulatorProvider(3600000);
  const client = clientWith(p.provider);
  await client.appendObject({ bucket: BUCKET, key: 'js/secret.log', data: 'x' });
  const c = p.issued[0];
  client.updateCredentials({ accessKeyId: c.accessKeyId, accessKeySecret: 'wrong-secret-value', securityToken: c.securityToken });
  const err = await rejection(client.appendObject({ bucket: BUCKET, key: 'js/secret.log', data: 'y', position: 1 }));
  assert.equal(err.code, 'SignatureDoesNotMatch');
  const shown = JSON.stringify(err) + err.message + String(err.stack);
  for (const secret of [c.accessKeySecret, c.securityToken, 'wrong-secret-value']) {
    assert.ok(!shown.includes(secret), 'a secret shows');
  }
});

test('updateCredentials: every form of expiration; bad input is named; static clients work as before', async () => {
  const client = new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint: emu.endpoint });
  await client.appendObject({ bucket: BUCKET, key: 'js/update.log', data: '0' });
  let position = 1;
  for (const form of ['iso', 'date', 'ms', 'none']) {
    const c = await emu.issueSts(600000);
    const expiration = { iso: c.expiration, date: new Date(c.expiration), ms: Date.parse(c.expiration), none: undefined }[form];
    client.updateCredentials({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken, expiration });
    const r = await client.appendObject({ bucket: BUCKET, key: 'js/update.log', data: 'x', position });
    position = r.data.nextAppendPosition;
  }
  assert.equal(position, 5);
  assert.throws(() => client.updateCredentials({ accessKeyId: 'a', accessKeySecret: 'b', expiration: 'soon' }),
    (e) => e instanceof RequestError && e.code === 'ClientInvalidArgument' && e.field === 'expiration');
  assert.throws(() => client.updateCredentials({ accessKeyId: 'a' }),
    (e) => e.code === 'ClientInvalidArgument' && e.field === 'accessKeySecret');
  // Credentials the app says expired: nothing is signed with them.
  client.updateCredentials({ accessKeyId: AK, accessKeySecret: SK, expiration: Date.now() + 30 });
  await new Promise((r) => setTimeout(r, 60));
  const err = await rejection(client.appendObject({ bucket: BUCKET, key: 'js/update.log', data: 'x', position }));
  assert.equal(err.code, 'ClientCredentialsError');
});
