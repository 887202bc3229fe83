'use strict';
// Every error reaches JS as a RequestError (and an Error) with the fields the Harmony SDK fills:
// service errors from the emulator, and the client's own errors (status -1, Client* codes).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative } = require('./helpers/oss');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'errors-bucket';
const AK = 'LTAI5tErrorsTestKey';
const SK = 'errors-test-secret';

const { default: Client, RequestError, EClientErrorCode } = loadPackage();
let emu;
let client;

function config(extra) {
  return { accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint: emu.endpoint, ...extra };
}

/** Awaits `promise`, expecting a RequestError; returns it. */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, `not a RequestError: ${err && err.stack}`);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'RequestError');
    return err;
  }
  assert.fail('expected a rejection');
}

/** The checks every OSS error answer gets. */
function checkServiceError(err, { code, status, ec }) {
  assert.equal(err.code, code);
  assert.equal(err.status, status);
  assert.equal(err.ec, ec);
  assert.match(err.message, /\S/);
  assert.match(err.requestId, /^[0-9A-F]{24}$/i);
  assert.equal(err.requestId, err.headers['x-oss-request-id']);
  assert.equal(err.headers['x-oss-ec'], ec);
  for (const name of Object.keys(err.headers)) assert.equal(name, name.toLowerCase());
  assert.match(err.hostId, /127\.0\.0\.1/);
  assert.equal(err.recommendDoc, `https://api.aliyun.com/troubleshoot?q=${ec}`);
  assert.equal(typeof err.details, 'object');
}

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK });
  client = new Client(config());
});

test.after(async () => {
  if (emu) await emu.stop();
});

test('PositionNotEqualToLength: every field, and the position to resume from', async () => {
  const key = 'errors/position.log';
  const first = await client.appendObject({ bucket: BUCKET, key, data: 'abc' });
  assert.equal(first.data.nextAppendPosition, 3);
  const err = await rejection(client.appendObject({ bucket: BUCKET, key, data: 'def', position: 1 }));
  checkServiceError(err, { code: 'PositionNotEqualToLength', status: 409, ec: '0026-00000016' });
  assert.equal(err.message, 'Position is not equal to file length.');
  assert.equal(err.headers['x-oss-next-append-position'], '3');
  assert.equal(err.nextAppendPosition, 3);
  assert.equal(err.field, undefined);
  // Resuming where the error says works, with the position as the header's string.
  const res = await client.appendObject({ bucket: BUCKET, key, data: 'def', position: err.headers['x-oss-next-append-position'] });
  assert.equal(res.data.nextAppendPosition, 6);
  assert.equal(res.data.hashCrc64ecma, crc64('abcdef'));
});

test('ObjectNotAppendable: appending to an object made by PutObject', async () => {
  const key = 'errors/normal.txt';
  await loadNative().createClient(config()).putObject(BUCKET, key, 'a normal object');
  const head = await client.headObject({ bucket: BUCKET, key });
  assert.equal(head.data.objectType, 'Normal');
  const err = await rejection(client.appendObject({ bucket: BUCKET, key, data: 'more', position: 15 }));
  checkServiceError(err, { code: 'ObjectNotAppendable', status: 409, ec: '0026-00000017' });
  assert.equal(err.message, 'The object is not appendable.');
  assert.equal(err.nextAppendPosition, undefined);
});

for (const signatureVersion of ['v4', 'v1']) {
  test(`SignatureDoesNotMatch (${signatureVersion}): a wrong secret`, async () => {
    const bad = new Client(config({ accessKeySecret: 'not-the-secret', signatureVersion }));
    const err = await rejection(bad.appendObject({ bucket: BUCKET, key: 'errors/sig.txt', data: 'x' }));
    checkServiceError(err, {
      code: 'SignatureDoesNotMatch',
      status: 403,
      ec: signatureVersion === 'v4' ? '0002-00000201' : '0002-00000040',
    });
    assert.equal(err.details.OSSAccessKeyId, AK);
    assert.match(err.details.StringToSign, signatureVersion === 'v4' ? /^OSS4-HMAC-SHA256\n/ : /^POST\n/);
  });
}

test('NoSuchBucket: a bucket the emulator does not have', async () => {
  const err = await rejection(client.appendObject({ bucket: 'no-such-bucket', key: 'k', data: 'x' }));
  checkServiceError(err, { code: 'NoSuchBucket', status: 404, ec: '0015-00000101' });
  assert.equal(err.details.BucketName, 'no-such-bucket');
});

/** The checks every client-side error gets. */
function checkClientError(err, code) {
  assert.equal(err.code, code);
  assert.equal(err.status, -1);
  assert.equal(err.ec, '');
  assert.equal(err.hostId, '');
  assert.equal(err.recommendDoc, '');
  assert.deepEqual(err.headers, {});
  assert.match(err.message, /\S/);
}

test('invalid arguments are refused before sending, naming the field', async () => {
  const cases = [
    [{ position: -1 }, 'position', /must not be negative/],
    [{ position: NaN }, 'position', /NaN/],
    [{ position: 1.5 }, 'position', /integer/],
    [{ position: 2 ** 53 + 2 }, 'position', /2\^53/],
    [{ position: 5 * 2 ** 30 + 1 }, 'position', /5 GiB/],
    [{ position: '12a' }, 'position', /decimal/],
    [{ position: true }, 'position', /number or a decimal string/],
    [{ data: 42 }, 'data', /must be a string, an ArrayBuffer, a TypedArray, a DataView or a file/],
    [{ data: { path: '/tmp/x' } }, 'data', /numeric fd/],
    [{ data: { fd: -1 } }, 'data', /fd/],
    [{ data: undefined }, 'data', /undefined/],
    [{ bucket: 'Bad_Bucket' }, 'bucket', /lower-case/],
    [{ key: '' }, 'key', /empty/],
    [{ objectAcl: 'public' }, 'objectAcl', /public-read-write/],
    [{ trafficLimit: 1 }, 'trafficLimit', /between/],
    [{ meta: { 'bad name': 'v' } }, 'meta', /letters/],
    [{ initCrc64: '0x12' }, 'initCrc64', /decimal/],
  ];
  for (const [override, field, rule] of cases) {
    const req = { bucket: BUCKET, key: 'errors/invalid.txt', data: 'x', ...override };
    const err = await rejection(client.appendObject(req));
    checkClientError(err, 'ClientInvalidArgument');
    assert.equal(err.code, EClientErrorCode.INVALID_ARGUMENT);
    assert.equal(err.field, field, JSON.stringify(override));
    assert.match(err.message, new RegExp(`^invalid argument \`${field}\`: `));
    assert.match(err.message, rule, err.message);
    assert.equal(err.requestId, '');
    assert.equal(err.requestSent, false);
  }
  // Nothing was created by any of them.
  const head = await rejection(client.headObject({ bucket: BUCKET, key: 'errors/invalid.txt' }));
  assert.equal(head.code, 'NoSuchKey');
  assert.equal(head.status, 404);
});

test('an invalid config throws a RequestError from the constructor', () => {
  assert.throws(() => new Client(config({ accessKeySecret: '' })), (err) => {
    assert.ok(err instanceof RequestError);
    checkClientError(err, 'ClientInvalidArgument');
    assert.equal(err.field, 'accessKeySecret');
    return true;
  });
  assert.throws(() => new Client(config({ timeout: 0 })), (err) => err instanceof RequestError && err.field === 'timeout');
  assert.throws(() => new Client(config({ signatureVersion: 'v2' })), (err) => err instanceof RequestError && err.field === 'signatureVersion');
});

test('a refused connection is ClientConnectError, nothing sent', async () => {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const offline = new Client(config({ endpoint: `http://127.0.0.1:${port}` }));
  const err = await rejection(offline.appendObject({ bucket: BUCKET, key: 'k', data: 'x' }));
  checkClientError(err, 'ClientConnectError');
  assert.equal(err.requestSent, false);
});

test('a server that never answers is ClientTimeout, after the whole body was sent', async (t) => {
  const sockets = [];
  const server = net.createServer((s) => { sockets.push(s); s.on('data', () => {}); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { sockets.forEach((s) => s.destroy()); server.close(); });
  const silent = new Client(config({ endpoint: `http://127.0.0.1:${server.address().port}`, timeout: 300 }));
  const err = await rejection(silent.appendObject({ bucket: BUCKET, key: 'k', data: 'x' }));
  checkClientError(err, 'ClientTimeout');
  assert.equal(err.requestSent, true);
});

test('a wrong initCrc64 is ClientCrcMismatch with both CRCs as decimal strings', async () => {
  const key = 'errors/crc.log';
  const first = await client.appendObject({ bucket: BUCKET, key, data: 'hello ' });
  const err = await rejection(client.appendObject({
    bucket: BUCKET, key, data: 'world', position: first.data.nextAppendPosition, initCrc64: '12345',
  }));
  checkClientError(err, 'ClientCrcMismatch');
  assert.equal(err.serverCrc64, crc64('hello world'));
  assert.equal(err.clientCrc64, crc64('world', 12345n));
  assert.match(err.requestId, /^[0-9A-F]{24}$/i);
  assert.equal(err.requestSent, true);
  // With the right initCrc64 the check passes.
  const res = await client.appendObject({
    bucket: BUCKET, key, data: '!', position: 11, initCrc64: crc64('hello world'),
  });
  assert.equal(res.data.hashCrc64ecma, crc64('hello world!'));
});

test('operationTimeout in the config: a positive number of ms, named when it is not', async () => {
  const { default: Client, RequestError } = loadPackage();
  const base = { accessKeyId: 'ak', accessKeySecret: 'sk', region: 'cn-hangzhou', endpoint: 'http://127.0.0.1:9' };
  assert.ok(new Client({ ...base, operationTimeout: 30000 }));
  for (const bad of [0, -1, 1.5, '100']) {
    assert.throws(() => new Client({ ...base, operationTimeout: bad }), (e) => {
      assert.ok(e instanceof RequestError);
      assert.equal(e.code, 'ClientInvalidArgument');
      assert.match(e.message, /operationTimeout/);
      return true;
    }, String(bad));
  }
});
