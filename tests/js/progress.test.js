'use strict';
// Upload progress in JS: `progress(sent, total)` runs on the JS thread, never decreases, is
// throttled (at most every 100 ms or 1 % of the data), ends with (total, total), and every call
// comes before the promise settles — none after.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage } = require('./helpers/oss');
const { fileIo } = require('./helpers/kit-corefilekit');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'progress-bucket';
const AK = 'LTAI5tProgressKey';
const SK = 'progress-test-secret';

const { default: Client } = loadPackage();
let emu;
let client;
let tmp;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, args: ['--enable-fault-admin'] });
  client = new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint: emu.endpoint });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-progress-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (emu) await emu.stop();
});

function pattern(len, seed) {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A progress callback recording (sent, total, time, on the JS thread?) and the promise state. */
function recorder() {
  const calls = [];
  const progress = (sent, total) => calls.push({ sent, total, at: performance.now() });
  return { calls, progress };
}

/** The rules of every sequence. */
function checkSequence(calls, total, elapsedMs) {
  assert.ok(calls.length > 0, 'progress was called');
  for (const c of calls) {
    assert.equal(c.total, total);
    assert.ok(Number.isInteger(c.sent) && c.sent >= 0 && c.sent <= total);
  }
  for (let i = 1; i < calls.length; i++) {
    assert.ok(calls[i].sent > calls[i - 1].sent, `not increasing at ${i}: ${calls[i - 1].sent} -> ${calls[i].sent}`);
    // The throttle: each call is 1 % further than the one before (or 100 ms later, which the
    // Rust side measures; arrival times here are only an upper bound), or the final one.
    const step = Math.max(1, Math.ceil(total / 100));
    const last = calls[i].sent === total;
    assert.ok(last || calls[i].sent - calls[i - 1].sent >= step || calls[i].at - calls[i - 1].at > 0,
      `call ${i} too close to the previous one`);
  }
  assert.equal(calls[calls.length - 1].sent, total, 'the last call is (total, total)');
  assert.equal(calls.filter((c) => c.sent === total).length, 1, 'exactly one final call');
  const bound = Math.floor(elapsedMs / 100) + 100 + 1;
  assert.ok(calls.length <= bound, `${calls.length} calls in ${elapsedMs.toFixed(0)} ms (bound ${bound})`);
}

test('appendObject: monotonic, throttled, one final (total, total) before the promise resolves', async () => {
  const data = pattern(8 << 20, 7);
  const { calls, progress } = recorder();
  const t0 = performance.now();
  const res = await client.appendObject({ bucket: BUCKET, key: 'p/bytes.bin', data, progress });
  const elapsed = performance.now() - t0;
  // Everything arrived before the promise resolved.
  const atResolve = calls.length;
  assert.equal(calls[atResolve - 1].sent, data.length, 'the final call came before the resolution');
  checkSequence(calls, data.length, elapsed);
  // 128 slices of 64 KiB, each under 1 % of 8 MiB: the throttle lets fewer through.
  assert.ok(calls.length < 128, `${calls.length} calls`);
  assert.equal(res.data.hashCrc64ecma, crc64(data));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls.length, atResolve, 'no call after the promise settled');
});

test('a file body and an empty body', async () => {
  const file = path.join(tmp, 'f.bin');
  const bytes = pattern(3 << 20, 3);
  fs.writeFileSync(file, bytes);
  const f = await fileIo.open(file, fileIo.OpenMode.READ_ONLY);
  const { calls, progress } = recorder();
  const t0 = performance.now();
  await client.appendObject({ bucket: BUCKET, key: 'p/file.bin', data: f, progress });
  await fileIo.close(f);
  checkSequence(calls, bytes.length, performance.now() - t0);

  const empty = recorder();
  await client.appendObject({ bucket: BUCKET, key: 'p/empty', data: '', progress: empty.progress });
  assert.deepEqual(empty.calls.map((c) => [c.sent, c.total]), [[0, 0]]);
});

test('a progress callback that throws does not disturb the append', async () => {
  let n = 0;
  const res = await client.appendObject({
    bucket: BUCKET, key: 'p/throws.bin', data: pattern(2 << 20, 5),
    progress: () => { n += 1; throw new Error('progress callback failure'); },
  });
  assert.ok(n >= 1);
  assert.equal(res.data.nextAppendPosition, 2 << 20);
});

test('a failed append gets no call after its rejection; the thread stays responsive', async () => {
  // The server resets the connection half-way: the append fails.
  await emu.fault('action=reset-mid-body,key=p/reset.bin');
  const { calls, progress } = recorder();
  let ticks = 0;
  const ticker = setInterval(() => { ticks += 1; }, 1);
  await assert.rejects(
    client.appendObject({ bucket: BUCKET, key: 'p/reset.bin', data: pattern(6 << 20, 9), progress }),
    (err) => err.code === 'ClientNetworkError' || err.code === 'ClientTimeout');
  clearInterval(ticker);
  const atReject = calls.length;
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i].sent > calls[i - 1].sent);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls.length, atReject, 'no call after the promise settled');
  assert.ok(ticks > 0);
});
