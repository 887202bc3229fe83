'use strict';
// What an app written for `@aliyun/oss` 2.0 passes, taken as that SDK takes it: the config's
// `secure` and `timeout`, `data: new FilePath(path)`, `contentMD5` (the SDK's spelling), a
// `headers` record, and `buffer.Buffer` of '@kit.ArkTS' (not a TypedArray on OHOS).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative } = require('./helpers/oss');
const { countingProxy } = require('./helpers/proxy');
const { refused } = require('./helpers/refused');

const BUCKET = 'compat-bucket';
const AK = 'LTAI5tCompatTestKey';
const SK = 'compat-test-secret';

const pkg = loadPackage();
const { default: Client, RequestError } = pkg;
let emu;
let proxy;
let client;
let native;
let tmp;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK });
  proxy = await countingProxy(emu.endpoint);
  const config = { accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint: proxy.endpoint };
  client = new Client(config);
  native = loadNative().createClient(config);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-compat-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (proxy) await proxy.close();
  if (emu) await emu.stop();
});

async function readBack(key) {
  return Buffer.from((await native.getObject(BUCKET, key)).body);
}

const credentials = { accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou' };

test('config: secure: false allows plain HTTP to a host that is not loopback; omitted, it is refused naming secure', async () => {
  const plain = { ...credentials, endpoint: 'http://oss.example.internal' };
  // Creating the client resolves the endpoint: nothing is sent.
  assert.ok(new Client({ ...plain, secure: false }));
  const err = await refused('secure', () => new Client(plain));
  assert.match(err.message, /`secure`/);
  await refused('secure', () => new Client({ ...plain, secure: true }));
  await refused('secure', () => new Client({ ...plain, secure: 'false' }));
  // HTTPS stays the default, and secure: true with it is fine.
  assert.ok(new Client({ ...credentials, endpoint: 'https://oss.example.internal', secure: true }));
});

test('config: timeout (ms) is taken, and a bad one is refused naming timeout', async () => {
  assert.ok(new Client({ ...credentials, timeout: 30000 }));
  await refused('timeout', () => new Client({ ...credentials, timeout: 1.5 }));
  await refused('timeout', () => new Client({ ...credentials, timeout: '30000' }));
});

test('data: new FilePath(path) appends the file (streamed), in appendObject and an appender', async () => {
  const { FilePath } = pkg;
  assert.equal(typeof FilePath, 'function', 'FilePath is exported');
  const file = path.join(tmp, 'by-path.txt');
  const content = Buffer.from('appended by path\n'.repeat(1000));
  fs.writeFileSync(file, content);
  const key = 'compat/file-path.txt';
  const res = await client.appendObject({ bucket: BUCKET, key, data: new FilePath(file) });
  assert.equal(res.data.nextAppendPosition, content.length);
  const appender = await client.appender({ bucket: BUCKET, key });
  await appender.append(new FilePath(file));
  assert.deepEqual(await readBack(key), Buffer.concat([content, content]));
});

test('data: a FilePath that cannot be opened is refused naming data, with nothing sent', async () => {
  const { FilePath } = pkg;
  const before = proxy.bytes;
  const err = await refused('data', () =>
    client.appendObject({ bucket: BUCKET, key: 'compat/missing.txt', data: new FilePath(path.join(tmp, 'no-such-file')) }));
  assert.match(err.message, /no-such-file/);
  await refused('data', () => client.appendObject({ bucket: BUCKET, key: 'compat/missing.txt', data: new FilePath('') }));
  await refused('data', () => client.appendObject({ bucket: BUCKET, key: 'compat/missing.txt', data: new FilePath(tmp) }));
  assert.equal(proxy.bytes, before, 'not a byte was sent');
});

test('contentMD5 (the SDK spelling) is sent as Content-MD5 and checked by OSS; two different spellings are refused', async () => {
  const crypto = require('node:crypto');
  const data = 'checked by its MD5';
  const md5 = crypto.createHash('md5').update(data).digest('base64');
  const key = 'compat/content-md5.txt';
  const res = await client.appendObject({ bucket: BUCKET, key, data, contentMD5: md5 });
  assert.equal(res.data.nextAppendPosition, data.length);
  // The same value under both spellings is one option.
  await client.appendObject({ bucket: BUCKET, key, data, position: data.length, contentMD5: md5, contentMd5: md5 });
  // A wrong digest reaches OSS, which refuses it: the header was sent.
  const wrong = crypto.createHash('md5').update('something else').digest('base64');
  let err;
  try {
    await client.appendObject({ bucket: BUCKET, key, data, position: 2 * data.length, contentMD5: wrong });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof RequestError, String(err));
  assert.equal(err.status, 400, `${err.code} ${err.message}`);
  assert.match(err.code, /Digest/);
  const before = proxy.bytes;
  const refusal = await refused('contentMD5', () =>
    client.appendObject({ bucket: BUCKET, key, data, position: 2 * data.length, contentMD5: md5, contentMd5: wrong }));
  assert.match(refusal.message, /contentMd5/);
  assert.equal(proxy.bytes, before, 'not a byte was sent');
  assert.deepEqual(await readBack(key), Buffer.from(data + data));
});

/** The shape of `buffer.Buffer` of '@kit.ArkTS' (@ohos.buffer.d.ts): a class of its own, not a
 *  TypedArray, exposing its bytes as `buffer`, `byteOffset` and `length`. */
class OhosBuffer {
  constructor(arrayBuffer, byteOffset, length) {
    this.buffer = arrayBuffer;
    this.byteOffset = byteOffset;
    this.length = length;
  }

  toString() {
    return Buffer.from(this.buffer, this.byteOffset, this.length).toString('utf8');
  }
}

test('data: buffer.Buffer as OpenHarmony declares it (not a TypedArray), Node Buffer, SharedArrayBuffer', async () => {
  const backing = new TextEncoder().encode('..ohos buffer bytes..').buffer;
  const ohos = new OhosBuffer(backing, 2, 17);
  assert.equal(ArrayBuffer.isView(ohos), false, 'the stand-in is not a view, like the real one');
  // A Node Buffer from the shared pool: a Uint8Array at an offset of a larger ArrayBuffer.
  const node = Buffer.from(' node buffer');
  assert.ok(node.byteOffset > 0 || node.buffer.byteLength > node.length, 'a slice of a pool');
  const shared = new SharedArrayBuffer(6);
  new Uint8Array(shared).set(Buffer.from(' sab!\n'));
  const key = 'compat/buffers.bin';
  let position;
  for (const data of [ohos, node, shared]) {
    const res = await client.appendObject({ bucket: BUCKET, key, data, position });
    position = res.data.nextAppendPosition;
  }
  const appender = await client.appender({ bucket: BUCKET, key });
  await appender.append(new OhosBuffer(backing, 0, 2));
  assert.equal((await readBack(key)).toString(), 'ohos buffer bytes node buffer sab!\n..');
});

test('data: a buffer.Buffer whose view lies outside its ArrayBuffer is refused naming data', async () => {
  const before = proxy.bytes;
  await refused('data', () =>
    client.appendObject({ bucket: BUCKET, key: 'compat/bad-buffer.bin', data: new OhosBuffer(new ArrayBuffer(4), 2, 8) }));
  assert.equal(proxy.bytes, before, 'not a byte was sent');
});

test('native module: a view of a SharedArrayBuffer is copied like any TypedArray (its reason was empty)', async () => {
  const shared = new SharedArrayBuffer(8);
  new Uint8Array(shared).set(Buffer.from('shared!!'));
  const key = 'compat/native-sab.bin';
  await native.appendObject(BUCKET, key, new Uint16Array(shared, 2, 2));
  assert.equal((await readBack(key)).toString(), 'ared');
  // A bare SharedArrayBuffer (the facade wraps it in a view) gets a rule, not an empty reason.
  await assert.rejects(native.appendObject(BUCKET, key, shared, 4), (err) => {
    assert.equal(err.code, 'ClientInvalidArgument');
    assert.match(err.message, /must be a string, an ArrayBuffer/);
    return true;
  });
});

test('headers (the SDK record): option headers act as their options, x-oss-* extras are sent, others refused', async () => {
  const key = 'compat/headers.txt';
  const res = await client.appendObject({
    bucket: BUCKET, key, data: 'with headers',
    headers: { 'Cache-Control': 'no-cache', 'x-oss-meta-trace': 't-1', 'Content-Type': 'text/x-log' },
  });
  assert.equal(res.data.nextAppendPosition, 12);
  const head = await native.headObject(BUCKET, key);
  assert.equal(head.headers['cache-control'], 'no-cache');
  assert.equal(head.headers['x-oss-meta-trace'], 't-1');
  assert.equal(head.headers['content-type'], 'text/x-log');
  const before = proxy.bytes;
  for (const headers of [
    { Authorization: 'OSS forged' },
    { 'X-Custom': '1' },
    { 'x-oss-security-token': 'stolen' },
    { 'x-oss-object-acl': 'public-read' },
    { 'Cache-Control': 'a' },
  ]) {
    await refused('headers', () =>
      client.appendObject({ bucket: BUCKET, key, data: 'x', position: 12, headers, cacheControl: 'b' }));
  }
  assert.equal(proxy.bytes, before, 'not a byte was sent');
});
