'use strict';
// The production path from JS: `new Client({region, caCerts, resolve})` appends over HTTPS to
// https://<bucket>.oss-cn-hangzhou.aliyuncs.com (the emulator, reached through the client's own
// `resolve` map); certificate problems are RequestErrors with their own ClientTls* codes and
// nothing sent; bad `caCerts` and `resolve` are refused naming the field.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative, productionPath } = require('./helpers/oss');

const BUCKET = 'tls-bucket';
const KEYS = { accessKeyId: 'AKIDTLS', accessKeySecret: 'tls-secret-value' };

let emu; // HTTPS, a certificate for the region's names
let otherName; // HTTPS, a certificate for another region's names only

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, ...KEYS, tls: true, args: ['--enable-fault-admin'] });
  otherName = await startEmulator({
    bucket: BUCKET, ...KEYS, tls: ['*.oss-cn-shanghai.aliyuncs.com', '127.0.0.1'], args: ['--enable-fault-admin'],
  });
});

test.after(async () => {
  if (emu) await emu.stop();
  if (otherName) await otherName.stop();
});

function client(extra) {
  const { Client } = loadPackage();
  return new Client({ ...KEYS, region: 'oss-cn-hangzhou', ...extra });
}

async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected the call to fail');
}

test('1,000 appends from one client over HTTPS cost one TLS handshake', async () => {
  const before = await emu.stats();
  const c = client(productionPath(emu, [BUCKET]));
  let position = 0;
  for (let i = 0; i < 1000; i++) {
    const res = await c.appendObject({ bucket: BUCKET, key: 'tls/chain.log', data: `line ${i}\n`, position });
    position = Number(res.origRes.headers['x-oss-next-append-position']);
  }
  let expected = '';
  for (let i = 0; i < 1000; i++) expected += `line ${i}\n`;
  assert.equal(position, Buffer.byteLength(expected));
  const after = await emu.stats();
  // The admin requests of stats() use their own connections (and handshakes): one each.
  assert.equal(after.tlsHandshakes - before.tlsHandshakes - 1, 1, JSON.stringify({ before, after }));
});

test('a CA the client does not trust is ClientTlsUnknownIssuer, nothing sent', async () => {
  for (const extra of [
    { resolve: productionPath(emu, [BUCKET]).resolve }, // no caCerts at all
    { ...productionPath(emu, [BUCKET]), caCerts: otherName.caPem }, // another CA
  ]) {
    const err = await refusal(client(extra).appendObject({ bucket: BUCKET, key: 'tls/never', data: 'x' }));
    assert.equal(err.code, 'ClientTlsUnknownIssuer', err.message);
    assert.equal(err.status, -1);
    assert.equal(err.requestSent, false);
  }
  const head = await refusal(client(productionPath(emu, [BUCKET])).headObject({ bucket: BUCKET, key: 'tls/never' }));
  assert.equal(head.status, 404, 'the refused appends created nothing');
});

test('a certificate for other names is ClientTlsNameMismatch, nothing sent', async () => {
  const before = await otherName.stats();
  const c = client(productionPath(otherName, [BUCKET]));
  const err = await refusal(c.appendObject({ bucket: BUCKET, key: 'tls/never', data: 'x' }));
  assert.equal(err.code, 'ClientTlsNameMismatch', err.message);
  assert.equal(err.requestSent, false);
  const after = await otherName.stats();
  assert.equal(after.tlsHandshakes - before.tlsHandshakes, 1, 'only the stats request completed a handshake');
});

test('bad caCerts and resolve are refused naming the field, before anything is sent', () => {
  const { RequestError } = loadPackage();
  for (const [field, extra] of [
    ['caCerts', { caCerts: 'not a certificate' }],
    ['caCerts', { caCerts: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }],
    ['resolve', { resolve: { 'oss-cn-hangzhou.aliyuncs.com': 'not-an-ip' } }],
    ['resolve', { resolve: { 'oss-cn-hangzhou.aliyuncs.com': [] } }],
    ['resolve', { resolve: { 'oss-cn-hangzhou.aliyuncs.com': 42 } }],
    ['resolve', { resolve: 'oss-cn-hangzhou.aliyuncs.com=127.0.0.1' }],
    ['trustUserCaCerts', { trustUserCaCerts: 'yes' }],
  ]) {
    let thrown;
    try {
      client(extra);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof RequestError, `${JSON.stringify(extra)}: ${thrown}`);
    assert.equal(thrown.code, 'ClientInvalidArgument');
    assert.equal(thrown.field, field, thrown.message);
  }
});

test('a resolver callback (HTTPDNS) gives the address; its failures are ClientConnectError, nothing sent', async () => {
  const asked = [];
  const endpoint = `https://oss-cn-hangzhou.aliyuncs.com:${emu.port}`;
  const c = client({
    endpoint,
    caCerts: emu.caPem,
    resolver: async (host) => {
      asked.push(host);
      await new Promise((r) => setTimeout(r, 5));
      return ['127.0.0.1'];
    },
  });
  await c.appendObject({ bucket: BUCKET, key: 'tls/httpdns.txt', data: 'via the callback' });
  await c.appendObject({ bucket: BUCKET, key: 'tls/httpdns.txt', data: '!', position: 16 });
  assert.deepEqual(asked, [`${BUCKET}.oss-cn-hangzhou.aliyuncs.com`], 'asked once: the connection is reused');

  for (const [resolver, says] of [
    [async () => { throw new Error('HTTPDNS quota exceeded'); }, 'HTTPDNS quota exceeded'],
    [async () => ['not-an-ip'], 'not an IP address'],
    [async () => 42, 'expected an array'],
    [() => ['10.0.0.1:443'], 'not an IP address'],
  ]) {
    const failing = client({ endpoint, caCerts: emu.caPem, resolver });
    const err = await refusal(failing.appendObject({ bucket: BUCKET, key: 'tls/never', data: 'x' }));
    assert.equal(err.code, 'ClientConnectError', err.message);
    assert.equal(err.requestSent, false);
    assert.match(err.message, new RegExp(says), err.message);
  }
  const notAFunction = (() => { try { client({ resolver: 'dns' }); } catch (e) { return e; } })();
  assert.equal(notAFunction.field, 'resolver');
});

test("the package's EClientErrorCode and the native errorCodes() list the same codes, TLS ones included", () => {
  const { EClientErrorCode } = loadPackage();
  const native = Object.values(loadNative().errorCodes()).sort();
  const facade = Object.values(EClientErrorCode).sort();
  assert.deepEqual(facade, native);
  for (const code of ['ClientTlsUnknownIssuer', 'ClientTlsNameMismatch', 'ClientTlsCertificateExpired',
    'ClientTlsCertificateNotYetValid', 'ClientTlsBadCertificate', 'ClientTlsProtocolError']) {
    assert.ok(native.includes(code), code);
  }
});
