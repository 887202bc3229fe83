'use strict';
// The kinds of `data`, `position` as number or header string, options, and the result's shape.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative } = require('./helpers/oss');
const { fileIo } = require('./helpers/kit-corefilekit');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'data-bucket';
const AK = 'LTAI5tDataTestKey';
const SK = 'data-test-secret';
const TOKEN = 'data-sts-token';

const { default: Client, EHeaderKey, EObjectAcl, EStorageClass } = loadPackage();
let emu;
let client;
let native;
let tmp;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, securityToken: TOKEN });
  const config = { accessKeyId: AK, accessKeySecret: SK, securityToken: TOKEN, region: 'cn-hangzhou', endpoint: emu.endpoint };
  client = new Client(config);
  native = loadNative().createClient(config);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-data-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (emu) await emu.stop();
});

async function readBack(key) {
  return Buffer.from((await native.getObject(BUCKET, key)).body);
}

test('every binary kind of data, appended in turn at the position the header gave', async () => {
  const key = 'data/kinds.bin';
  const backing = new ArrayBuffer(64);
  new Uint8Array(backing).forEach((_, i, a) => { a[i] = i; });
  const parts = [
    ['string (UTF-8)', '日本語 and ASCII', Buffer.from('日本語 and ASCII')],
    ['ArrayBuffer', backing.slice(0, 10), Buffer.from(backing.slice(0, 10))],
    ['Uint8Array view with an offset', new Uint8Array(backing, 5, 7), Buffer.from(backing, 5, 7)],
    ['Uint16Array', new Uint16Array(backing, 8, 4), Buffer.from(backing, 8, 8)],
    ['Float64Array', new Float64Array(backing, 16, 2), Buffer.from(backing, 16, 16)],
    ['DataView with an offset', new DataView(backing, 40, 9), Buffer.from(backing, 40, 9)],
    ['Node Buffer', Buffer.from('buffer!'), Buffer.from('buffer!')],
    ['empty string', '', Buffer.alloc(0)],
  ];
  let expected = Buffer.alloc(0);
  let position; // omitted on the first append
  for (const [what, data, bytes] of parts) {
    const res = await client.appendObject({ bucket: BUCKET, key, data, position });
    expected = Buffer.concat([expected, bytes]);
    assert.equal(res.data.nextAppendPosition, expected.length, what);
    assert.equal(res.data.hashCrc64ecma, crc64(expected), what);
    // The next position as the header's own string: accepted as is.
    position = res.origRes.headers[EHeaderKey.X_OSS_NEXT_APPEND_POSITION];
    assert.equal(typeof position, 'string');
  }
  assert.ok((await readBack(key)).equals(expected));
});

test('the data buffer is copied when the call is made', async () => {
  const key = 'data/copied.bin';
  const bytes = new Uint8Array([1, 2, 3, 4]);
  const pending = client.appendObject({ bucket: BUCKET, key, data: bytes });
  bytes.fill(9);
  const res = await pending;
  assert.equal(res.data.hashCrc64ecma, crc64(Buffer.from([1, 2, 3, 4])));
  assert.deepEqual([...(await readBack(key))], [1, 2, 3, 4]);
});

test('a file: the fd is duplicated, so closing it right after the call is safe', async () => {
  const local = path.join(tmp, 'early-close.bin');
  const content = Buffer.alloc(2 * 1024 * 1024 + 3, 0x5a);
  fs.writeFileSync(local, content);
  const file = fileIo.openSync(local, fileIo.OpenMode.READ_ONLY);
  // Reads are positional: the fd's offset does not matter.
  fs.readSync(file.fd, Buffer.alloc(100), 0, 100, null);
  const pending = client.appendObject({ bucket: BUCKET, key: 'data/early-close.bin', data: file });
  fileIo.closeSync(file);
  const res = await pending;
  assert.equal(res.data.nextAppendPosition, content.length);
  assert.equal(res.data.hashCrc64ecma, crc64(content));
  assert.ok((await readBack('data/early-close.bin')).equals(content));
});

test('files and strings mixed, with creation options on the first append', async () => {
  const key = 'data/mixed.log';
  const local = path.join(tmp, 'part.txt');
  fs.writeFileSync(local, 'from a file\n');
  const first = await client.appendObject({
    bucket: BUCKET, key, data: 'header\n',
    objectAcl: EObjectAcl.PRIVATE, storageClass: EStorageClass.STANDARD,
    meta: { author: 'tests' }, contentType: 'text/plain', cacheControl: 'no-cache',
  });
  const file = await fileIo.open(local, fileIo.OpenMode.READ_ONLY);
  let second;
  try {
    second = await client.appendObject({ bucket: BUCKET, key, data: file, position: first.data.nextAppendPosition, initCrc64: first.data.hashCrc64ecma });
  } finally {
    await fileIo.close(file);
  }
  const third = await client.appendObject({ bucket: BUCKET, key, data: 'footer\n', position: second.data.nextAppendPosition });
  const all = 'header\nfrom a file\nfooter\n';
  assert.equal(third.data.nextAppendPosition, all.length);
  assert.equal(third.data.hashCrc64ecma, crc64(all));
  assert.equal((await readBack(key)).toString(), all);
  const head = await client.headObject({ bucket: BUCKET, key });
  assert.equal(head.data.objectType, 'Appendable');
  assert.equal(head.data.contentLength, all.length);
  assert.equal(head.data.nextAppendPosition, all.length);
  assert.equal(head.data.hashCrc64ecma, crc64(all));
  assert.equal(head.origRes.headers['x-oss-meta-author'], 'tests');
  assert.equal(head.origRes.headers['content-type'], 'text/plain');
});

test('the result is JSON-serialisable with the Harmony SDK shape', async () => {
  const res = await client.appendObject({ bucket: BUCKET, key: 'data/json.txt', data: 'json' });
  const round = JSON.parse(JSON.stringify(res));
  assert.deepEqual(Object.keys(round).sort(), ['data', 'origRes', 'requestId']);
  assert.deepEqual(Object.keys(round.origRes).sort(), ['headers', 'status']);
  assert.equal(round.origRes.status, 200);
  assert.equal(round.data.nextAppendPosition, 4);
  assert.equal(round.data.hashCrc64ecma, crc64('json'));
  assert.match(round.data.etag, /^"[0-9A-F]+"$/i);
  assert.equal(round.requestId, round.origRes.headers['x-oss-request-id']);
});
