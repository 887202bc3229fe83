'use strict';
// The JS append session (`client.appender`) against the emulator binary, started with a
// scripted fault on its command line (`--fault`) and its fault admin endpoint: create and resume
// on open, automatic positions and the CRC-64 chain, recovery of a lost answer by HEAD (not sent
// twice), progress across a resend, cancel + settle, seal and what is refused afterwards,
// another writer, retries running out, and `client.sealAppendObject`.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative } = require('./helpers/oss');
const { fileIo } = require('./helpers/kit-corefilekit');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'session-bucket';
const AK = 'LTAI5tSessionKey';
const SK = 'session-test-secret';
const LOST = 's/lost-answer.log';

const { default: Client, RequestError, Appender, CancelController, EHeaderKey, EClientErrorCode, EStorageClass } = loadPackage();
let emu;
let client;
let native;
let tmp;

const FAST = { maxRetries: 4, initialBackoff: 5, maxBackoff: 20, deadline: 10000 };

test.before(async () => {
  emu = await startEmulator({
    bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK,
    // The first append to LOST is applied, then its connection is closed without an answer.
    args: ['--fault', `action=drop-after-commit,key=${LOST}`, '--enable-fault-admin'],
  });
  const config = { accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint: emu.endpoint };
  client = new Client(config);
  native = loadNative().createClient(config);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-session-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (emu) await emu.stop();
});

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, `not a RequestError: ${err && err.stack}`);
    return err;
  }
  assert.fail('expected a rejection');
}

async function readBack(key) {
  return Buffer.from((await native.getObject(BUCKET, key)).body);
}

test('create on the first append, automatic positions, resume on open', async () => {
  const key = 's/auto.log';
  const a = await client.appender({ bucket: BUCKET, key, contentType: 'text/plain', storageClass: EStorageClass.IA, meta: { app: 'demo' }, retry: FAST });
  assert.ok(a instanceof Appender);
  assert.equal(a.bucket, BUCKET);
  assert.equal(a.key, key);
  assert.equal(a.exists, false);
  assert.equal(a.position, 0);
  assert.equal(a.crc64, '0');

  const r1 = await a.append('hello ');
  assert.equal(r1.data.position, 0);
  assert.equal(r1.data.length, 6);
  assert.equal(r1.data.nextAppendPosition, 6);
  assert.equal(r1.data.hashCrc64ecma, crc64('hello '));
  assert.equal(r1.data.attempts, 1);
  assert.equal(r1.data.recovered, false);
  assert.equal(r1.origRes.status, 200);
  assert.equal(r1.origRes.headers[EHeaderKey.X_OSS_NEXT_APPEND_POSITION], '6');
  assert.match(r1.requestId, /^[0-9A-F]{24}$/i);
  assert.equal(r1.requestId, r1.data.requestId);

  const r2 = await a.append(new TextEncoder().encode('world'));
  assert.equal(r2.data.position, 6);
  assert.equal(r2.data.nextAppendPosition, 11);
  assert.equal(a.position, 11);
  assert.equal(a.crc64, crc64('hello world'));
  assert.equal(a.exists, true);
  const head = await client.headObject({ bucket: BUCKET, key });
  assert.equal(head.origRes.headers['content-type'], 'text/plain');
  assert.equal(head.origRes.headers['x-oss-storage-class'], 'IA');
  assert.equal(head.origRes.headers['x-oss-meta-app'], 'demo');

  // A second appender resumes at the end, with the CRC-64 chain intact; a file is streamed.
  const b = await client.appender({ bucket: BUCKET, key, retry: FAST });
  assert.equal(b.exists, true);
  assert.equal(b.position, 11);
  assert.equal(b.crc64, crc64('hello world'));
  const file = path.join(tmp, 'tail.txt');
  fs.writeFileSync(file, '!\n');
  const f = await fileIo.open(file, fileIo.OpenMode.READ_ONLY);
  const r3 = await b.append(f);
  await fileIo.close(f);
  assert.equal(r3.data.nextAppendPosition, 13);
  assert.equal((await readBack(key)).toString(), 'hello world!\n');
  assert.equal(b.crc64, crc64('hello world!\n'));

  // Calls made without awaiting run one at a time, in call order.
  const [x, y, z] = await Promise.all([b.append('1'), b.append('2'), b.append('3')]);
  assert.deepEqual([x.data.position, y.data.position, z.data.position], [13, 14, 15]);
  assert.equal((await readBack(key)).toString(), 'hello world!\n123');
});

test('a lost answer is recovered by HEAD (started with --fault): applied once, not sent twice', async () => {
  const a = await client.appender({ bucket: BUCKET, key: LOST, retry: FAST });
  const r = await a.append('exactly once\n');
  assert.equal(r.data.recovered, true);
  assert.equal(r.data.attempts, 1);
  assert.equal(r.data.nextAppendPosition, 13);
  assert.equal(r.origRes.headers[EHeaderKey.X_OSS_NEXT_APPEND_POSITION], '13');
  assert.equal(r.data.hashCrc64ecma, crc64('exactly once\n'));
  await a.append('next\n');
  assert.equal((await readBack(LOST)).toString(), 'exactly once\nnext\n');
  assert.match(await emu.faults(), /fired drop-after-commit/);
});

test('progress on appender.append stays monotonic across a resend', async () => {
  const key = 's/progress.bin';
  const a = await client.appender({ bucket: BUCKET, key, retry: FAST });
  // The first try is reset half-way (nothing applied), the second goes through.
  await emu.fault(`action=reset-mid-body,key=${key}`);
  const data = new Uint8Array(4 << 20).fill(0x5a);
  const calls = [];
  const r = await a.append(data, { progress: (sent, total) => calls.push([sent, total]) });
  assert.equal(r.data.attempts, 2);
  assert.ok(calls.length > 0);
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] > calls[i - 1][0]);
  assert.deepEqual(calls[calls.length - 1], [data.length, data.length]);
  assert.equal(r.data.hashCrc64ecma, crc64(data));
});

test('cancel after the data was sent: the next append settles it by HEAD', async () => {
  const key = 's/cancel.log';
  const a = await client.appender({ bucket: BUCKET, key, retry: FAST });
  await a.append('a,');
  await emu.fault(`action=delay-response,ms=1000,key=${key}`);
  const controller = new CancelController();
  setTimeout(() => controller.abort(), 300);
  const err = await rejection(a.append('b,', { signal: controller.signal }));
  assert.equal(err.code, EClientErrorCode.CANCELLED);
  assert.equal(err.requestSent, true);
  assert.equal(a.state().unsettled, true);
  assert.equal(a.position, 2, 'the appender does not guess');
  const r = await a.append('c,');
  assert.equal(r.data.position, 4, 'the cancelled append was applied: it continues after it');
  assert.equal(a.state().unsettled, false);
  assert.equal((await readBack(key)).toString(), 'a,b,c,');

  // Aborted before the call: nothing sent, nothing to settle.
  const aborted = new CancelController();
  aborted.abort();
  const err2 = await rejection(a.append('never', { signal: aborted.signal }));
  assert.equal(err2.code, 'ClientCancelled');
  assert.equal(err2.requestSent, false);
  assert.equal(a.state().unsettled, false);
});

test('seal, then appends are refused', async () => {
  const key = 's/sealed.log';
  const a = await client.appender({ bucket: BUCKET, key, retry: FAST });
  await a.append('final content');
  const s = await a.seal();
  assert.match(s.data.sealedTime, /\S/);
  assert.equal(s.origRes.status, 200);
  assert.equal(a.sealed, true);
  const err = await rejection(a.append('more'));
  assert.equal(err.code, 'ClientSessionSealed');
  assert.equal(err.status, -1);
  assert.equal(err.requestSent, false);
  assert.equal(err.position, 13);
  // Others are refused by OSS: a new appender on open, a plain append.
  const err2 = await rejection(client.appender({ bucket: BUCKET, key }));
  assert.equal(err2.code, 'AppendSealedObjectNotAllowed');
  const err3 = await rejection(client.appendObject({ bucket: BUCKET, key, data: 'x', position: 13 }));
  assert.equal(err3.code, 'AppendSealedObjectNotAllowed');
  // Sealing again at the same position reports the same time.
  const again = await client.sealAppendObject({ bucket: BUCKET, key, position: '13' });
  assert.equal(again.data.sealedTime, s.data.sealedTime);
  assert.equal((await readBack(key)).toString(), 'final content');
});

test('client.sealAppendObject: at the length, or PositionNotEqualToLength', async () => {
  const key = 's/seal-direct.log';
  await client.appendObject({ bucket: BUCKET, key, data: 'abc' });
  const err = await rejection(client.sealAppendObject({ bucket: BUCKET, key, position: 2 }));
  assert.equal(err.code, 'PositionNotEqualToLength');
  assert.equal(err.status, 409);
  const res = await client.sealAppendObject({ bucket: BUCKET, key, position: 3 });
  assert.match(res.data.sealedTime, /\S/);
  assert.equal(res.requestId, res.data.requestId);
});

test('another writer: OSS\'s 409, then ClientSessionPoisoned', async () => {
  const key = 's/two-writers.log';
  const a = await client.appender({ bucket: BUCKET, key, retry: FAST });
  await a.append('a');
  await client.appendObject({ bucket: BUCKET, key, data: 'X', position: 1 });
  const err = await rejection(a.append('b'));
  assert.equal(err.code, 'PositionNotEqualToLength');
  assert.equal(err.status, 409);
  assert.equal(err.nextAppendPosition, 2);
  assert.match(a.stopped, /another writer/);
  const err2 = await rejection(a.append('c'));
  assert.equal(err2.code, EClientErrorCode.SESSION_POISONED);
  assert.equal(err2.requestSent, false);
  assert.equal((await readBack(key)).toString(), 'aX');
});

test('opening refuses a normal object; retries run out: ClientRetriesExhausted / ClientOutcomeUnknown', async () => {
  await native.putObject(BUCKET, 's/normal.txt', 'normal');
  const err = await rejection(client.appender({ bucket: BUCKET, key: 's/normal.txt' }));
  assert.equal(err.code, 'ObjectNotAppendable');
  assert.equal(err.status, 409);

  // Connections reset early in a body larger than the socket buffers: the data was certainly not
  // all sent, so not applied; retried, then given up.
  const key = 's/unreachable.log';
  const retry = { maxRetries: 2, initialBackoff: 5, maxBackoff: 10 };
  const a = await client.appender({ bucket: BUCKET, key, retry });
  await emu.fault(`action=reset-mid-body,after-bytes=65536,count=3,key=${key}`);
  const err2 = await rejection(a.append(new Uint8Array(32 << 20)));
  assert.equal(err2.code, EClientErrorCode.RETRIES_EXHAUSTED);
  assert.equal(err2.status, -1);
  assert.equal(err2.requestSent, false);
  assert.equal(err2.attempts, 3);
  assert.ok(err2.lastError instanceof RequestError);
  assert.equal(err2.lastError.code, 'ClientNetworkError');
  // Nothing was applied, and the appender goes on.
  const r = await a.append('y');
  assert.equal(r.data.position, 0);
  assert.equal((await readBack(key)).toString(), 'y');

  // 503 after the data was sent: maybe applied; HEAD says no, the resends get 503 too, and the
  // budget runs out while the last try's outcome is open: ClientOutcomeUnknown, and it stops.
  const key2 = 's/unavailable.log';
  const b = await client.appender({ bucket: BUCKET, key: key2, retry });
  await emu.fault(`action=status,status=503,count=3,key=${key2}`);
  const err3 = await rejection(b.append('x'));
  assert.equal(err3.code, EClientErrorCode.OUTCOME_UNKNOWN);
  assert.equal(err3.requestSent, true);
  assert.equal(err3.position, 0);
  assert.equal(err3.length, 1);
  assert.equal(err3.lastError.status, 503);
  assert.equal(err3.lastError.code, 'ServiceUnavailable');
  const err4 = await rejection(b.append('z'));
  assert.equal(err4.code, 'ClientSessionPoisoned');
});
