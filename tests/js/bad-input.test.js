'use strict';
// The JS half of the bad-input table: what only a JS caller can get wrong (types, NaN, fractions,
// huge numbers, enums, file descriptors, option objects, callbacks, signals, timeouts, retry
// settings), each rejected with a RequestError `ClientInvalidArgument` naming the field, and —
// counted by a TCP proxy in front of the emulator — not a byte sent.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage } = require('./helpers/oss');
const { countingProxy } = require('./helpers/proxy');
const { refused } = require('./helpers/refused');

const BUCKET = 'bad-input-bucket';
const AK = 'LTAI5tBadInputKey';
const SK = 'bad-input-test-secret';

const { default: Client, setLogLevel } = loadPackage();
let emu;
let proxy;
let client;
let tmp;

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK });
  proxy = await countingProxy(emu.endpoint);
  client = new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint: proxy.endpoint });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-bad-'));
});

test.after(async () => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (proxy) await proxy.close();
  if (emu) await emu.stop();
});

const base = { bucket: BUCKET, key: 'bad/input.log', data: 'x' };

test('appendObject: every bad argument is named and nothing is sent', async () => {
  const closedFd = (() => {
    const fd = fs.openSync(path.join(tmp, 'closed.txt'), 'w');
    fs.closeSync(fd);
    return fd;
  })();
  const dirFd = fs.openSync(tmp, 'r');
  const cases = [
    ['request', () => client.appendObject('bucket/key')],
    ['request', () => client.appendObject(null)],
    ['bucket', () => client.appendObject({ ...base, bucket: 42 })],
    ['bucket', () => client.appendObject({ ...base, bucket: 'Bad_Bucket' })],
    ['key', () => client.appendObject({ ...base, key: '' })],
    ['key', () => client.appendObject({ ...base, key: ['a'] })],
    ['position', () => client.appendObject({ ...base, position: NaN })],
    ['position', () => client.appendObject({ ...base, position: -1 })],
    ['position', () => client.appendObject({ ...base, position: 1.5 })],
    ['position', () => client.appendObject({ ...base, position: 2 ** 60 })],
    ['position', () => client.appendObject({ ...base, position: Infinity })],
    ['position', () => client.appendObject({ ...base, position: '12abc' })],
    ['position', () => client.appendObject({ ...base, position: true })],
    ['position', () => client.appendObject({ ...base, position: 10n })],
    ['objectAcl', () => client.appendObject({ ...base, objectAcl: 'everyone' })],
    ['storageClass', () => client.appendObject({ ...base, storageClass: 'Hot' })],
    ['serverSideEncryption', () => client.appendObject({ ...base, serverSideEncryption: 'ROT13' })],
    ['requestPayer', () => client.appendObject({ ...base, requestPayer: 'owner' })],
    ['trafficLimit', () => client.appendObject({ ...base, trafficLimit: 1 })],
    ['trafficLimit', () => client.appendObject({ ...base, trafficLimit: '819200' })],
    ['forbidOverwrite', () => client.appendObject({ ...base, forbidOverwrite: 'yes' })],
    ['meta', () => client.appendObject({ ...base, meta: { n: 1 } })],
    ['meta', () => client.appendObject({ ...base, meta: 'a=b' })],
    ['initCrc64', () => client.appendObject({ ...base, position: 1, initCrc64: 'abc' })],
    ['data', () => client.appendObject({ ...base, data: 42 })],
    ['data', () => client.appendObject({ ...base, data: undefined })],
    ['data', () => client.appendObject({ ...base, data: { path: '/etc/hosts' } })],
    ['data', () => client.appendObject({ ...base, data: { fd: -1 } })],
    ['data', () => client.appendObject({ ...base, data: { fd: 1.5 } })],
    ['data', () => client.appendObject({ ...base, data: { fd: closedFd } })],
    ['data', () => client.appendObject({ ...base, data: { fd: dirFd } })],
    ['progress', () => client.appendObject({ ...base, progress: 'every 1 %' })],
    ['timeout', () => client.appendObject({ ...base, timeout: 0 })],
    ['timeout', () => client.appendObject({ ...base, timeout: NaN })],
    ['timeout', () => client.appendObject({ ...base, timeout: -5 })],
    ['timeout', () => client.appendObject({ ...base, timeout: '1000' })],
    ['signal', () => client.appendObject({ ...base, signal: 'abort' })],
    ['signal', () => client.appendObject({ ...base, signal: { aborted: false } })],
  ];
  try {
    for (const [field, call] of cases) await refused(field, call);
  } finally {
    fs.closeSync(dirFd);
  }
  assert.ok(cases.length >= 15);
  assert.equal(proxy.connections, 0, 'no connection was opened');
  assert.equal(proxy.bytes, 0, 'not a byte was sent');
});

test('appender, sealAppendObject, headObject, setLogLevel and the client config', async () => {
  const cases = [
    ['request', () => client.appender(undefined)],
    ['request', () => client.appender(7)],
    ['bucket', () => client.appender({ bucket: null, key: 'k' })],
    ['key', () => client.appender({ bucket: BUCKET, key: 5 })],
    ['retry', () => client.appender({ bucket: BUCKET, key: 'k', retry: 3 })],
    ['retry.maxRetries', () => client.appender({ bucket: BUCKET, key: 'k', retry: { maxRetries: -1 } })],
    ['retry.maxRetries', () => client.appender({ bucket: BUCKET, key: 'k', retry: { maxRetries: 2.5 } })],
    ['retry.initialBackoff', () => client.appender({ bucket: BUCKET, key: 'k', retry: { initialBackoff: NaN } })],
    ['retry.deadline', () => client.appender({ bucket: BUCKET, key: 'k', retry: { deadline: 0 } })],
    ['retry.maxBackoff', () => client.appender({ bucket: BUCKET, key: 'k', retry: { initialBackoff: 500, maxBackoff: 100 } })],
    ['contentMd5', () => client.appender({ bucket: BUCKET, key: 'k', contentMd5: '1B2M2Y8AsgTpgAmY7PhCfg==' })],
    ['storageClass', () => client.appender({ bucket: BUCKET, key: 'k', storageClass: 'standard-ish' })],
    ['computeContentMd5', () => client.appender({ bucket: BUCKET, key: 'k', computeContentMd5: 1 })],
    ['request', () => client.sealAppendObject('k')],
    ['position', () => client.sealAppendObject({ bucket: BUCKET, key: 'k' })],
    ['position', () => client.sealAppendObject({ bucket: BUCKET, key: 'k', position: -3 })],
    ['position', () => client.sealAppendObject({ bucket: BUCKET, key: 'k', position: '0x10' })],
    ['request', () => client.headObject(null)],
    ['bucket', () => client.headObject({ bucket: 'x', key: 'k' })],
    ['level', () => setLogLevel('loud')],
    ['level', () => setLogLevel(3)],
    ['region', () => new Client({ accessKeyId: AK, accessKeySecret: SK, region: 5 })],
    ['accessKeySecret', () => new Client({ accessKeyId: AK, region: 'cn-hangzhou' })],
    ['timeout', () => new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', timeout: 1.5 })],
    ['signatureVersion', () => new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', signatureVersion: 'v3' })],
  ];
  for (const [field, call] of cases) await refused(field, call);
  assert.equal(proxy.bytes, 0, 'not a byte was sent');
});

test('appender.append: bad data and options are refused without sending', async () => {
  const a = await client.appender({ bucket: BUCKET, key: 'bad/session.log' });
  const afterOpen = proxy.bytes;
  assert.ok(afterOpen > 0, 'opening sent its HEAD');
  const cases = [
    ['data', () => a.append(undefined)],
    ['data', () => a.append(3.14)],
    ['data', () => a.append({ fd: 'three' })],
    ['options', () => a.append('x', 5)],
    ['options', () => a.append('x', 'fast')],
    ['progress', () => a.append('x', { progress: {} })],
    ['signal', () => a.append('x', { signal: true })],
  ];
  for (const [field, call] of cases) await refused(field, call);
  assert.equal(proxy.bytes, afterOpen, 'nothing sent after the opening HEAD');
  assert.equal(a.position, 0);
  assert.equal(a.exists, false);
});
