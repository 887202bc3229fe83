'use strict';
// A 256 MiB file (sparse) appended from a fileIo-style fd: streamed natively, and the JS thread
// keeps running meanwhile (a 5 ms interval timer keeps ticking).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage } = require('./helpers/oss');
const { fileIo } = require('./helpers/kit-corefilekit');
const { Crc64 } = require('./helpers/crc64');

const BUCKET = 'large-bucket';
const AK = 'LTAI5tLargeTestKey';
const SK = 'large-test-secret';
const SIZE = 256 * 1024 * 1024;

const { default: Client } = loadPackage();
let emu;
let tmp;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-large-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (emu) await emu.stop();
});

test('a 256 MiB sparse file is appended while the JS thread keeps ticking', { timeout: 600000 }, async () => {
  const local = path.join(tmp, 'sparse.bin');
  const fd = fs.openSync(local, 'w');
  fs.ftruncateSync(fd, SIZE);
  // A few non-zero marks so the content check means something.
  const marks = [0, 1234567, SIZE / 2, SIZE - 1];
  for (const at of marks) fs.writeSync(fd, Buffer.from([0xa5]), 0, 1, at);
  fs.closeSync(fd);
  assert.equal(fs.statSync(local).size, SIZE);

  const client = new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint: emu.endpoint, timeout: 120000 });
  const file = await fileIo.open(local, fileIo.OpenMode.READ_ONLY);
  const memoryBefore = process.memoryUsage().rss;

  let ticks = 0;
  let maxGap = 0;
  let last = process.hrtime.bigint();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    maxGap = Math.max(maxGap, Number(now - last) / 1e6);
    last = now;
    ticks++;
  }, 5);
  const started = process.hrtime.bigint();
  let res;
  try {
    res = await client.appendObject({ bucket: BUCKET, key: 'large/sparse.bin', data: file });
  } finally {
    clearInterval(timer);
    await fileIo.close(file);
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const memoryGrowth = process.memoryUsage().rss - memoryBefore;

  assert.equal(res.data.nextAppendPosition, SIZE);
  // The expected CRC-64, computed here chunk by chunk from the file.
  const crc = new Crc64();
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  const rfd = fs.openSync(local, 'r');
  for (let off = 0; off < SIZE; off += chunk.length) {
    fs.readSync(rfd, chunk, 0, chunk.length, off);
    crc.update(chunk);
  }
  fs.closeSync(rfd);
  assert.equal(res.data.hashCrc64ecma, crc.value().toString());

  // Read-back check on the emulator's copy: its length and the marks (reading 256 MiB back
  // through getObject would hold it all in memory twice).
  const head = await client.headObject({ bucket: BUCKET, key: 'large/sparse.bin' });
  assert.equal(head.data.contentLength, SIZE);
  assert.equal(head.data.hashCrc64ecma, crc.value().toString());

  // The JS thread was free: the 5 ms timer ticked all along.
  const expectedTicks = elapsedMs / 5;
  console.error(`256 MiB in ${elapsedMs.toFixed(0)} ms; ${ticks} ticks (ideal ${expectedTicks.toFixed(0)}), ` +
    `longest gap ${maxGap.toFixed(1)} ms, RSS growth ${(memoryGrowth / 1048576).toFixed(1)} MiB`);
  assert.ok(elapsedMs > 50, 'the upload took measurable time');
  assert.ok(ticks >= expectedTicks * 0.5, `only ${ticks} ticks in ${elapsedMs} ms`);
  assert.ok(maxGap < 250, `the JS thread stalled for ${maxGap} ms`);
  // Streamed, not loaded whole: far less than the file's size stays resident.
  assert.ok(memoryGrowth < 128 * 1024 * 1024, `RSS grew by ${memoryGrowth} bytes`);
});
