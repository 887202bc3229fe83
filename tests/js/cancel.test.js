'use strict';
// Cancelling with `signal` (this package's CancelController, or a standard AbortController) and
// the per-call `timeout`, against the emulator's scripted faults: an aborted signal sends
// nothing; an abort while the data is being sent stops it and the object is unchanged; an abort
// after the data was sent says the append may have been applied (and it was); a short per-call
// timeout fires long before the client's.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, loadNative } = require('./helpers/oss');
const { countingProxy } = require('./helpers/proxy');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'cancel-bucket';
const AK = 'LTAI5tCancelKey';
const SK = 'cancel-test-secret';

const { default: Client, RequestError, CancelController, EClientErrorCode } = loadPackage();
let emu;
let client;
let native;

function config(endpoint) {
  return { accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint };
}

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, args: ['--enable-fault-admin'] });
  client = new Client(config(emu.endpoint));
  native = loadNative().createClient(config(emu.endpoint));
});

test.after(async () => {
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
  return Buffer.from((await native.getObject(BUCKET, key)).body).toString('latin1');
}

test('an already aborted signal rejects with ClientCancelled and sends nothing', async () => {
  const proxy = await countingProxy(emu.endpoint);
  try {
    const viaProxy = new Client(config(proxy.endpoint));
    const controller = new CancelController();
    controller.abort('not needed any more');
    assert.equal(controller.signal.aborted, true);
    assert.equal(controller.signal.reason, 'not needed any more');
    const err = await rejection(viaProxy.appendObject({ bucket: BUCKET, key: 'c/never', data: 'x', signal: controller.signal }));
    assert.equal(err.code, EClientErrorCode.CANCELLED);
    assert.equal(err.code, 'ClientCancelled');
    assert.equal(err.status, -1);
    assert.equal(err.requestSent, false);
    const std = new AbortController();
    std.abort();
    const err2 = await rejection(viaProxy.appendObject({ bucket: BUCKET, key: 'c/never', data: 'x', signal: std.signal }));
    assert.equal(err2.code, 'ClientCancelled');
    assert.equal(proxy.connections, 0);
    assert.equal(proxy.bytes, 0);
  } finally {
    await proxy.close();
  }
});

test('abort while the data is sent: ClientCancelled, requestSent false, the object is unchanged', async () => {
  const key = 'c/mid-body.log';
  await client.appendObject({ bucket: BUCKET, key, data: 'before' });
  // The server reads 8 MiB/s: 48 MiB are far from sent after 300 ms.
  await emu.fault(`action=slow-read,bytes-per-sec=${8 << 20},key=${key}`);
  const controller = new CancelController();
  setTimeout(() => controller.abort(), 300);
  const calls = [];
  const t0 = performance.now();
  const err = await rejection(client.appendObject({
    bucket: BUCKET, key, data: new Uint8Array(48 << 20), position: 6,
    signal: controller.signal, progress: (sent) => calls.push(sent),
  }));
  const took = performance.now() - t0;
  assert.equal(err.code, 'ClientCancelled');
  assert.equal(err.status, -1);
  assert.equal(err.requestSent, false);
  assert.match(err.message, /cancelled/);
  assert.ok(took < 2000, `stopped at once (${took.toFixed(0)} ms)`);
  assert.ok(calls.length === 0 || calls[calls.length - 1] < 48 << 20, 'not everything was sent');
  // The proof that nothing was committed: an append at the old position succeeds (the emulator
  // handles appends to one key one at a time, so it runs once the cancelled one is over).
  const res = await client.appendObject({ bucket: BUCKET, key, data: 'X', position: 6 });
  assert.equal(res.data.nextAppendPosition, 7);
  assert.equal(await readBack(key), 'beforeX');
  assert.equal(res.data.hashCrc64ecma, crc64('beforeX'));
});

test('abort (standard AbortController) after the data was sent: requestSent true, and it was applied', async () => {
  const key = 'c/after-body.log';
  await client.appendObject({ bucket: BUCKET, key, data: 'one,' });
  // The server commits, then holds the answer for 1 s.
  await emu.fault(`action=delay-response,ms=1000,key=${key}`);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const err = await rejection(client.appendObject({ bucket: BUCKET, key, data: 'two,', position: 4, signal: controller.signal }));
  assert.equal(err.code, 'ClientCancelled');
  assert.equal(err.requestSent, true);
  const head = await client.headObject({ bucket: BUCKET, key });
  assert.equal(head.data.nextAppendPosition, 8);
  assert.equal(await readBack(key), 'one,two,');
});

test('one controller cancels several calls; aborting after completion changes nothing', async () => {
  const controller = new CancelController();
  const res = await client.appendObject({ bucket: BUCKET, key: 'c/done.log', data: 'ok', signal: controller.signal });
  controller.abort();
  assert.equal(res.data.nextAppendPosition, 2);
  assert.equal(await readBack('c/done.log'), 'ok');
});

test('a per-call timeout shorter than the client\'s: ClientTimeout after it', async () => {
  const key = 'c/timeout.log';
  await emu.fault(`action=delay-response,ms=1500,key=${key}`);
  const t0 = performance.now();
  const err = await rejection(client.appendObject({ bucket: BUCKET, key, data: 'x', timeout: 300 }));
  const took = performance.now() - t0;
  assert.equal(err.code, 'ClientTimeout');
  assert.equal(err.requestSent, true);
  assert.ok(took >= 290 && took < 1200, `${took.toFixed(0)} ms`);
  // A per-call timeout longer than the client's (200 ms) lets a 500 ms answer through.
  const impatient = new Client({ ...config(emu.endpoint), timeout: 200 });
  await emu.fault(`action=delay-response,ms=500,key=c/patient.log`);
  const res = await impatient.appendObject({ bucket: BUCKET, key: 'c/patient.log', data: 'y', timeout: 3000 });
  assert.equal(res.data.nextAppendPosition, 1);
  await emu.fault(`action=delay-response,ms=500,key=c/patient.log`);
  const err2 = await rejection(impatient.appendObject({ bucket: BUCKET, key: 'c/patient.log', data: 'z', position: 1 }));
  assert.equal(err2.code, 'ClientTimeout');
});

test('a per-call operationTimeout: ClientTimeout once the whole call took that long', async () => {
  const key = 'c/operation-timeout.log';
  await emu.fault(`action=delay-response,ms=1500,key=${key}`);
  const t0 = performance.now();
  const err = await rejection(client.appendObject({ bucket: BUCKET, key, data: 'x', operationTimeout: 300 }));
  const took = performance.now() - t0;
  assert.equal(err.code, 'ClientTimeout');
  assert.match(err.message, /operation timeout/);
  assert.ok(took >= 290 && took < 1200, `${took.toFixed(0)} ms`);
});
