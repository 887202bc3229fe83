'use strict';
// The durable append stream (`client.appendStream`) against the emulator binary: many writes
// leave as few appends (counted by the emulator), flush means in OSS (read back), the state's
// fields, close and what comes after, reopening the same spool continues the object, a bad
// option names its field, another writer stops the stream with ClientStreamConflict, and writes
// made while the emulator is down are acknowledged and uploaded once it is back.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative } = require('./helpers/oss');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'stream-bucket';
const AK = 'LTAI5tStreamKey';
const SK = 'stream-test-secret';
/** Never reached: the fault only counts the appends it lets through (see appendCounter). */
const BIG_SKIP = 1000000;

const { default: Client, RequestError, AppendStream, EClientErrorCode } = loadPackage();
let emu;
let client;
let native;
let tmp;

test.before(async () => {
  emu = await startEmulator({
    bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, args: ['--enable-fault-admin'],
  });
  const config = { accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint: emu.endpoint };
  client = new Client(config);
  native = loadNative().createClient(config);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-stream-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (emu) await emu.stop();
});

async function readBack(key) {
  return Buffer.from((await native.getObject(BUCKET, key)).body);
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

/** A spool directory of its own for each stream. */
function spool(name) {
  return path.join(tmp, name);
}

/** The seeded test payload of write `i`: 60..315 bytes of text ending in a newline. */
function line(i) {
  return `${String(i).padStart(6, '0')} ${'x'.repeat(50 + ((i * 7919) % 256))}\n`;
}

/**
 * Counts the appends the emulator receives for `key`: a fault that lets BIG_SKIP appends pass
 * before firing is queued, and its remaining `skip` (GET /__faults) says how many went by.
 */
async function appendCounter(key) {
  await emu.fault(`action=status,status=503,op=append,key=${key},skip=${BIG_SKIP}`);
  return async () => {
    const listing = await emu.faults();
    const pending = listing.split('\n').find((l) => l.startsWith('pending ') && l.includes(`key=${key},`));
    assert.ok(pending, `the counting fault for ${key} is gone:\n${listing}`);
    return BIG_SKIP - Number(/skip=(\d+)/.exec(pending)[1]);
  };
}

/** Whether a TCP connection to the emulator's port is refused now. Bounded by a 2 s timeout. */
function refused() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: emu.port });
    const done = (value) => { socket.destroy(); resolve(value); };
    socket.setTimeout(2000, () => done(false));
    socket.on('connect', () => done(false));
    socket.on('error', () => done(true));
  });
}

test('many writes leave as few appends; flush puts them in OSS, CRC-64 and state agree', async () => {
  const key = 'stream/coalesced.log';
  const count = await appendCounter(key);
  const stream = await client.appendStream({ bucket: BUCKET, key, spoolDir: spool('coalesced'), maxDelayMs: 20 });
  assert.ok(stream instanceof AppendStream);
  const writes = 2000;
  const promises = [];
  for (let i = 0; i < writes; i++) promises.push(stream.write(i % 2 ? line(i) : new TextEncoder().encode(line(i))));
  const receipts = await Promise.all(promises);
  const expected = Buffer.from(Array.from({ length: writes }, (_, i) => line(i)).join(''));
  // Receipts are contiguous, in call order.
  let offset = 0;
  for (const [i, r] of receipts.entries()) {
    assert.equal(r.offset, offset, `write ${i}`);
    assert.equal(r.length, Buffer.byteLength(line(i)));
    offset += r.length;
  }
  const flushed = await stream.flush();
  assert.deepEqual(await readBack(key), expected);
  assert.equal(flushed.bytesWritten, expected.length);
  assert.equal(flushed.bytesUploaded, expected.length);
  assert.equal(flushed.bytesSpooled, 0);
  assert.equal(flushed.position, expected.length);
  assert.equal(flushed.crc64, crc64(expected).toString());
  assert.equal(flushed.bucket, BUCKET);
  assert.equal(flushed.key, key);
  assert.equal(flushed.objectNumber, 0);
  assert.equal(flushed.online, true);
  assert.equal(flushed.closed, false);
  assert.equal(flushed.stopped, undefined);
  assert.ok(flushed.fsyncs >= 1 && flushed.fsyncs < writes, `fsyncs ${flushed.fsyncs}: group commit shares them`);
  const appends = await count();
  assert.equal(flushed.appends, appends, 'the stream counts what the emulator received');
  assert.ok(appends >= 1 && appends <= writes / 20, `${writes} writes went out as ${appends} appends`);
  // state() says the same without waiting.
  const now = stream.state();
  assert.equal(now.bytesUploaded, expected.length);
  assert.equal(now.crc64, flushed.crc64);
  const closed = await stream.close();
  assert.equal(closed.closed, true);
});

test('close flushes; later writes reject with ClientStreamClosed, close again resolves', async () => {
  const key = 'stream/closed.log';
  const stream = await client.appendStream({ bucket: BUCKET, key, spoolDir: spool('closed'), durability: 'each-write' });
  const w = stream.write('last words\n');
  const closed = await stream.close();
  assert.equal((await w).length, 11);
  assert.equal(closed.closed, true);
  assert.equal(closed.bytesUploaded, 11);
  assert.deepEqual(await readBack(key), Buffer.from('last words\n'));
  const err = await rejection(stream.write('too late'));
  assert.equal(err.code, EClientErrorCode.STREAM_CLOSED);
  assert.equal(err.status, -1);
  assert.equal((await rejection(stream.flush())).code, EClientErrorCode.STREAM_CLOSED);
  assert.equal((await stream.close()).closed, true);
  assert.equal(stream.state().closed, true);
});

test('a stream opened again on the same spool continues the object and its offsets', async () => {
  const key = 'stream/reopened.log';
  const dir = spool('reopened');
  const first = await client.appendStream({ bucket: BUCKET, key, spoolDir: dir });
  await first.write('one\n');
  await first.write('two\n');
  // A second stream on a spool in use is refused.
  const locked = await rejection(client.appendStream({ bucket: BUCKET, key, spoolDir: dir }));
  assert.equal(locked.code, EClientErrorCode.STREAM_SPOOL_LOCKED);
  await first.close();
  // The spool remembers its object.
  const mismatch = await rejection(client.appendStream({ bucket: BUCKET, key: 'stream/other.log', spoolDir: dir }));
  assert.equal(mismatch.code, EClientErrorCode.STREAM_SPOOL_MISMATCH);
  assert.equal(mismatch.field, 'key');
  const second = await client.appendStream({ bucket: BUCKET, key, spoolDir: dir });
  assert.equal(second.state().bytesWritten, 8);
  assert.equal(second.state().bytesUploaded, 8);
  const r = await second.write('three\n');
  assert.equal(r.offset, 8);
  const state = await second.close();
  assert.equal(state.bytesUploaded, 14);
  assert.equal(state.appends, 1, 'only the new write was sent');
  assert.deepEqual(await readBack(key), Buffer.from('one\ntwo\nthree\n'));
});

test('a bad option is refused naming its field; nothing is created', async () => {
  const base = { bucket: BUCKET, key: 'stream/never.log', spoolDir: spool('never') };
  for (const [field, extra] of [
    ['maxAppendBytes', { maxAppendBytes: 0 }],
    ['maxAppendBytes', { maxAppendBytes: 1.5 }],
    ['durability', { durability: 'sometimes' }],
    ['groupCommitMs', { groupCommitMs: 'fast' }],
    ['groupCommitMs', { durability: 'each-write', groupCommitMs: 2 }],
    ['whenFull', { whenFull: 'drop' }],
    ['maxSpoolBytes', { maxSpoolBytes: 1000 }],
    ['maxDelayMs', { maxDelayMs: -1 }],
    ['rollover.keyTemplate', { rollover: { keyTemplate: '{key}.old' } }],
    ['rollover.maxObjectBytes', { rollover: { maxObjectBytes: 'big' } }],
    ['reconnect.maxBackoffMs', { reconnect: { initialBackoffMs: 1000, maxBackoffMs: 1 } }],
    ['retry.maxRetries', { retry: { maxRetries: -1 } }],
    ['spoolDir', { spoolDir: '' }],
    ['bucket', { bucket: 'b' }],
    ['bucket', { bucket: 'Upper-Case' }],
    ['key', { key: '/leading-slash.log' }],
    ['rollover.keyTemplate', { rollover: { keyTemplate: '/{n}' } }],
  ]) {
    const err = await rejection(client.appendStream({ ...base, ...extra }));
    assert.equal(err.code, EClientErrorCode.INVALID_ARGUMENT, `${field}: ${err.message}`);
    assert.equal(err.field, field, err.message);
  }
  const missing = await rejection(client.appendStream({ bucket: BUCKET, key: 'stream/never.log' }));
  assert.equal(missing.field, 'spoolDir');
  assert.equal(fs.existsSync(spool('never')), false, 'no spool was created');
  const stream = await client.appendStream({ ...base, spoolDir: spool('bad-data') });
  const bad = await rejection(stream.write(42));
  assert.equal(bad.code, EClientErrorCode.INVALID_ARGUMENT);
  assert.equal(bad.field, 'data');
  await stream.close();
});

test('another writer stops the stream with ClientStreamConflict and keeps the spool', async () => {
  const key = 'stream/conflict.log';
  const errors = [];
  const progress = [];
  const stream = await client.appendStream({
    bucket: BUCKET, key, spoolDir: spool('conflict'), maxDelayMs: 0,
    onError: (e) => errors.push(e),
    onProgress: (s) => progress.push(s),
  });
  await stream.write('mine\n');
  await stream.flush();
  // Someone else appends at the object's end.
  await native.appendObject(BUCKET, key, 'theirs\n', 5);
  await stream.write('mine again\n');
  const err = await rejection(stream.flush());
  assert.equal(err.code, EClientErrorCode.STREAM_CONFLICT, err.message);
  assert.equal(err.serverLength, 12);
  const stopped = stream.state().stopped;
  assert.ok(stopped instanceof RequestError);
  assert.equal(stopped.code, EClientErrorCode.STREAM_CONFLICT);
  assert.equal((await rejection(stream.write('more'))).code, EClientErrorCode.STREAM_CONFLICT);
  // The object keeps both writers' data and nothing of the stopped stream's second write.
  assert.deepEqual(await readBack(key), Buffer.from('mine\ntheirs\n'));
  // The spool still holds the unsent write.
  assert.equal(stream.state().bytesSpooled, 11);
  // Events: the stop reason reached onError (events come at most every 100 ms: wait for it).
  for (let i = 0; i < 50 && !errors.some((e) => e.code === EClientErrorCode.STREAM_CONFLICT); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(errors.some((e) => e instanceof RequestError && e.code === EClientErrorCode.STREAM_CONFLICT),
    `onError got ${errors.map((e) => e.code)}`);
  assert.ok(progress.length >= 1 && progress.some((s) => s.bytesUploaded === 5), 'onProgress saw the first upload');
  const closing = await rejection(stream.close());
  assert.equal(closing.code, EClientErrorCode.STREAM_CONFLICT);
});

test('writes while the emulator is down are acknowledged, then uploaded once it is back', async () => {
  const key = 'stream/offline.log';
  const errors = [];
  const stream = await client.appendStream({
    bucket: BUCKET, key, spoolDir: spool('offline'), maxDelayMs: 0,
    reconnect: { initialBackoffMs: 50, maxBackoffMs: 200 },
    retry: { maxRetries: 1, initialBackoff: 10, maxBackoff: 20, deadline: 2000 },
    onError: (e) => errors.push(e),
  });
  await stream.write('before\n');
  await stream.flush();
  await new Promise((resolve, reject) => {
    const req = require('node:http').request({
      host: '127.0.0.1', port: emu.port, method: 'POST', path: '/__restart',
      headers: { 'x-oss-emulator-admin': '1' }, agent: false,
    }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end('down-ms=3000');
  });
  // Wait (bounded) until the port is closed.
  let down = false;
  for (let i = 0; i < 100 && !down; i++) {
    down = await refused();
    if (!down) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(down, 'the emulator never went down');
  const lines = Array.from({ length: 50 }, (_, i) => line(i));
  const receipts = await Promise.all(lines.map((l) => stream.write(l)));
  assert.equal(receipts.length, 50);
  if (await refused()) {
    const s = stream.state();
    assert.ok(s.bytesUploaded < s.bytesWritten, 'acknowledged while OSS was unreachable');
  } else {
    console.log('SKIP: the emulator was back before the writes were acknowledged (slow machine); ' +
      'the acknowledged-while-down check was not made');
  }
  const state = await stream.flush();
  const expected = Buffer.from('before\n' + lines.join(''));
  assert.equal(state.bytesUploaded, expected.length);
  assert.equal(state.online, true);
  assert.deepEqual(await readBack(key), expected);
  assert.ok(state.lastError instanceof RequestError, 'the outage left its mark in lastError');
  assert.equal(state.lastError.code, EClientErrorCode.STREAM_RETRYING);
  assert.ok(errors.some((e) => e.code === EClientErrorCode.STREAM_RETRYING), `onError got ${errors.map((e) => e.code)}`);
  await stream.close();
});

test('rollover: an async nextKey names the next objects (a failure is retried), maxAgeMs moves on by age', async () => {
  const key = 'stream/roll.log';
  const asked = [];
  let failures = 1;
  const stream = await client.appendStream({
    bucket: BUCKET, key, spoolDir: spool('roll'), maxDelayMs: 0,
    reconnect: { initialBackoffMs: 20 },
    rollover: {
      maxObjectBytes: 500,
      nextKey: async (base, n) => {
        asked.push([base, n]);
        if (failures-- > 0) throw new Error('naming service unreachable');
        return `stream/parts/${n}.log`;
      },
    },
  });
  const chunks = [0, 1, 2].map((i) => `${String(i).repeat(299)}\n`);
  for (const c of chunks) {
    await stream.write(c);
    await stream.flush();
  }
  const state = await stream.close();
  assert.equal(state.key, 'stream/parts/2.log');
  assert.equal(state.objectNumber, 2);
  assert.deepEqual(asked, [[key, 1], [key, 1], [key, 2]], 'one failed call, then one per rollover');
  const joined = Buffer.concat([await readBack(key), await readBack('stream/parts/1.log'), await readBack('stream/parts/2.log')]);
  assert.deepEqual(joined, Buffer.from(chunks.join('')));

  // By age: a second object once the first is older than 300 ms.
  const aged = await client.appendStream({
    bucket: BUCKET, key: 'stream/aged.log', spoolDir: spool('aged'), maxDelayMs: 0,
    rollover: { maxAgeMs: 300, keyTemplate: '{key}.{n}' },
  });
  await aged.write('young\n');
  await aged.flush();
  await new Promise((r) => setTimeout(r, 400));
  await aged.write('old\n');
  const end = await aged.close();
  assert.equal(end.key, 'stream/aged.log.1');
  assert.deepEqual(await readBack('stream/aged.log'), Buffer.from('young\n'));
  assert.deepEqual(await readBack('stream/aged.log.1'), Buffer.from('old\n'));

  const bad = await rejection(client.appendStream({ bucket: BUCKET, key: 'k', spoolDir: spool('bad-roll'), rollover: { nextKey: 'x' } }));
  assert.equal(bad.field, 'rollover.nextKey');
});
