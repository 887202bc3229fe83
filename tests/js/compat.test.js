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

const BUCKET = 'compat-bucket';
const AK = 'LTAI5tCompatTestKey';
const SK = 'compat-test-secret';

const pkg = loadPackage();
const { default: Client, RequestError, EClientErrorCode } = pkg;
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

/** The RequestError `call()` throws or rejects with: ClientInvalidArgument naming `field`. */
async function refused(field, call) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof RequestError, `${field}: expected a RequestError, got ${err && err.stack}`);
  assert.equal(err.code, EClientErrorCode.INVALID_ARGUMENT, `${field}: ${err.code} ${err.message}`);
  assert.equal(err.field, field, `wrong field for: ${err.message}`);
  assert.equal(err.requestSent, false);
  return err;
}

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
