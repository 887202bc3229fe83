'use strict';
// The three examples of Alibaba Cloud's "Append upload (Harmony SDK)" page, run unchanged but for
// the import lines (which load this package, aimed at the emulator, and a Node stand-in for
// '@kit.CoreFileKit') and the placeholder values a user fills in (bucket, key, file path). The
// emulator is started with the examples' own credential placeholders, as an STS key.
//
// Each example ends with a bare `appendObject();` and reports through console.log, so the test
// captures console.log, waits for the example's output, then checks it and reads the object back.
//
// With OSS_TEST_HTTPS=1 (tests/js/run.sh runs this file both ways) the examples take the
// production path: HTTPS to https://examplebucket.oss-cn-hangzhou.aliyuncs.com, their config
// untouched but for the emulator's CA (`caCerts`) and a `resolve` map to 127.0.0.1.

const test = require('node:test');
const assert = require('node:assert/strict');
const fsNode = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('./helpers/emulator');
const { packageAt, loadNative, loadPackage, productionPath, HTTPS } = require('./helpers/oss');
const { crc64 } = require('./helpers/crc64');

const BUCKET = 'examplebucket';
const CREDENTIALS = {
  accessKeyId: 'yourAccessKeyId',
  accessKeySecret: 'yourAccessKeySecret',
  securityToken: 'yourSecurityToken',
};

let emu;
let importOss; // what `import Client, { ... } from '@aliyun/oss'` gives in these tests
let reader; // native client used to read objects back

/** Captures console.log calls until `count` have been made (or fails after 30 s). */
function captureConsole(t) {
  const calls = [];
  let wake = () => {};
  t.mock.method(console, 'log', (...args) => {
    calls.push(args);
    wake();
  });
  return {
    calls,
    async waitFor(count) {
      const deadline = Date.now() + 30000;
      while (calls.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`the example logged ${calls.length} of ${count} lines: ${JSON.stringify(calls)}`);
        }
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      // Give a misbehaving example the chance to log more than expected.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return calls;
    },
  };
}

async function readBack(key) {
  const res = await reader.getObject(BUCKET, key);
  return Buffer.from(res.body);
}

test.before(async () => {
  emu = await startEmulator({ bucket: BUCKET, ...CREDENTIALS, tls: HTTPS, args: ['--enable-fault-admin'] });
  const target = HTTPS ? productionPath(emu, [BUCKET]) : emu.endpoint;
  importOss = () => packageAt(target);
  const readerTarget = HTTPS ? target : { endpoint: emu.endpoint };
  reader = loadNative().createClient({ ...CREDENTIALS, region: 'cn-hangzhou', ...readerTarget });
});

test.after(async () => {
  if (emu) await emu.stop();
});

// ---- Example 1: append a string -------------------------------------------------------------

function example1(key) {
  // import Client, { RequestError } from '@aliyun/oss';
  const { default: Client, RequestError } = importOss();

  // Create an OSSClient instance.
  const client = new Client({
    // Specify the AccessKey ID obtained from Security Token Service (STS).
    accessKeyId: 'yourAccessKeyId',
    // Specify the AccessKey secret obtained from STS.
    accessKeySecret: 'yourAccessKeySecret',
    // Specify the security token obtained from STS.
    securityToken: 'yourSecurityToken',
    // Specify the region in which the bucket is located. For example, if the bucket is located in
    // the China (Hangzhou) region, set the region to oss-cn-hangzhou.
    region: 'oss-cn-hangzhou',
  });

  // Specify the name of the bucket.
  const bucket = BUCKET;
  // Specify the name of the object.
  // (the page: const key = 'yourObjectName';)

  /**
   * Append data to an object.
   * Use the appendObject method to append data to the object in the specified bucket.
   */
  const appendObject = async () => {
    try {
      // Omit position when the appendable object is created; pass it for every later append.
      const res = await client.appendObject({
        bucket, // The name of the bucket.
        key, // The name of the object.
        data: 'hello world', // The data to append: a string here.
      });

      // Print the result.
      console.log(JSON.stringify(res));
    } catch (err) {
      // Catch the exception.
      if (err instanceof RequestError) {
        // A known error: print its code, message, request ID, status code and EC.
        console.log('code: ', err.code);
        console.log('message: ', err.message);
        console.log('requestId: ', err.requestId);
        console.log('status: ', err.status);
        console.log('ec: ', err.ec);
      } else {
        // Print other errors.
        console.log('unknown error: ', err);
      }
    }
  };

  // Call appendObject.
  appendObject();
}

// ---- Example 2: append a local file ----------------------------------------------------------

function example2(key, localFile) {
  // import Client, { RequestError } from '@aliyun/oss';
  // import { fileIo as fs } from '@kit.CoreFileKit';
  const { default: Client, RequestError } = importOss();
  const { fileIo: fs } = require('./helpers/kit-corefilekit');

  // Create an OSSClient instance.
  const client = new Client({
    accessKeyId: 'yourAccessKeyId',
    accessKeySecret: 'yourAccessKeySecret',
    securityToken: 'yourSecurityToken',
    region: 'oss-cn-hangzhou',
  });

  const bucket = BUCKET;

  const appendObject = async () => {
    try {
      // Open the local file to append (an app sandbox path on a device).
      const file = await fs.open(localFile, fs.OpenMode.READ_ONLY);

      const res = await client.appendObject({
        bucket,
        key,
        data: file, // The data to append: the file opened above.
      });

      // Close the file.
      await fs.close(file);

      console.log(JSON.stringify(res));
    } catch (err) {
      if (err instanceof RequestError) {
        console.log('code: ', err.code);
        console.log('message: ', err.message);
        console.log('requestId: ', err.requestId);
        console.log('status: ', err.status);
        console.log('ec: ', err.ec);
      } else {
        console.log('unknown error: ', err);
      }
    }
  };

  appendObject();
}

// ---- Example 3: append several blocks --------------------------------------------------------

function example3(key) {
  // import Client, { RequestError, EHeaderKey } from '@aliyun/oss';
  const { default: Client, RequestError, EHeaderKey } = importOss();

  const client = new Client({
    accessKeyId: 'yourAccessKeyId',
    accessKeySecret: 'yourAccessKeySecret',
    securityToken: 'yourSecurityToken',
    region: 'oss-cn-hangzhou',
  });

  const bucket = BUCKET;

  const appendObject = async () => {
    try {
      // First append: position omitted, the appendable object is created.
      const res = await client.appendObject({
        bucket,
        key,
        data: 'first chunk data',
      });
      console.log(JSON.stringify(res));

      // The position of the next append is the x-oss-next-append-position response header.
      const nextPosition = Number(res.origRes.headers[EHeaderKey.X_OSS_NEXT_APPEND_POSITION]);

      // Second append, at that position.
      const res2 = await client.appendObject({
        bucket,
        key,
        data: 'second chunk data',
        position: nextPosition,
      });
      console.log(JSON.stringify(res2));
    } catch (err) {
      if (err instanceof RequestError) {
        console.log('code: ', err.code);
        console.log('message: ', err.message);
        console.log('requestId: ', err.requestId);
        console.log('status: ', err.status);
        console.log('ec: ', err.ec);
      } else {
        console.log('unknown error: ', err);
      }
    }
  };

  appendObject();
}

// ---- Checks ----------------------------------------------------------------------------------

/** The checks every successful result gets: Harmony SDK shape, positions, CRC, JSON round trip. */
function checkResult(json, { position, crc }) {
  const res = JSON.parse(json);
  assert.equal(res.origRes.status, 200);
  const headers = res.origRes.headers;
  for (const name of Object.keys(headers)) assert.equal(name, name.toLowerCase(), 'lower-case header names');
  assert.equal(headers['x-oss-next-append-position'], String(position));
  assert.equal(headers['x-oss-hash-crc64ecma'], crc);
  assert.match(headers['x-oss-request-id'], /\S/);
  assert.equal(res.requestId, headers['x-oss-request-id']);
  assert.equal(res.data.requestId, headers['x-oss-request-id']);
  assert.equal(res.data.nextAppendPosition, position);
  assert.equal(typeof res.data.nextAppendPosition, 'number');
  assert.equal(res.data.hashCrc64ecma, crc);
  assert.equal(typeof res.data.hashCrc64ecma, 'string');
  return res;
}

test('example 1 (append a string) appends and prints the result', async (t) => {
  const out = captureConsole(t);
  example1('example1/hello.txt');
  const calls = await out.waitFor(1);
  assert.equal(calls.length, 1, JSON.stringify(calls));
  checkResult(calls[0][0], { position: 11, crc: crc64('hello world') });
  assert.equal((await readBack('example1/hello.txt')).toString(), 'hello world');
});

test('example 2 (append a file from fileIo.open) streams the file and closes it', async (t) => {
  const dir = fsNode.mkdtempSync(path.join(os.tmpdir(), 'oss-append-ex2-'));
  t.after(() => fsNode.rmSync(dir, { recursive: true, force: true }));
  const localFile = path.join(dir, 'examplefile.txt');
  // A few MiB so the body goes out in several chunks.
  const content = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < content.length; i++) content[i] = (i * 31 + (i >> 10)) & 0xff;
  fsNode.writeFileSync(localFile, content);
  const out = captureConsole(t);
  example2('example2/examplefile.txt', localFile);
  const calls = await out.waitFor(1);
  assert.equal(calls.length, 1, JSON.stringify(calls.map((c) => String(c[0]).slice(0, 200))));
  checkResult(calls[0][0], { position: content.length, crc: crc64(content) });
  assert.ok((await readBack('example2/examplefile.txt')).equals(content), 'read back the file');
});

test('example 3 (several blocks, position from the header) appends block after block', async (t) => {
  const out = captureConsole(t);
  example3('example3/blocks.log');
  const calls = await out.waitFor(2);
  assert.equal(calls.length, 2, JSON.stringify(calls));
  const first = 'first chunk data';
  const second = 'second chunk data';
  checkResult(calls[0][0], { position: first.length, crc: crc64(first) });
  checkResult(calls[1][0], { position: first.length + second.length, crc: crc64(first + second) });
  assert.equal((await readBack('example3/blocks.log')).toString(), first + second);
});

test("the examples' catch blocks print every RequestError field (example 3 run again: position omitted on a non-empty object)", async (t) => {
  const out = captureConsole(t);
  example3('example3/blocks.log'); // the object already holds 33 bytes
  const calls = await out.waitFor(5);
  assert.equal(calls.length, 5, JSON.stringify(calls));
  const logged = Object.fromEntries(calls.map(([label, value]) => [label.replace(/: $/, ''), value]));
  assert.equal(logged.code, 'PositionNotEqualToLength');
  assert.equal(logged.status, 409);
  assert.equal(logged.ec, '0026-00000016');
  assert.match(logged.message, /position/i);
  assert.match(logged.requestId, /\S/);
  assert.equal((await readBack('example3/blocks.log')).toString(), 'first chunk datasecond chunk data');
});

test('the run took the path it says (HTTPS: TLS handshakes happened; plain: none)', async () => {
  const { tlsHandshakes, connections } = await emu.stats();
  assert.ok(connections > 0);
  if (HTTPS) assert.ok(tlsHandshakes > 0 && tlsHandshakes <= connections, `${tlsHandshakes}/${connections}`);
  else assert.equal(tlsHandshakes, 0);
});

test('the package exports what the examples import', () => {
  const pkg = loadPackage();
  assert.equal(typeof pkg.default, 'function');
  assert.equal(pkg.default, pkg.Client);
  assert.equal(typeof pkg.RequestError, 'function');
  assert.equal(pkg.EHeaderKey.X_OSS_NEXT_APPEND_POSITION, 'x-oss-next-append-position');
  assert.equal(pkg.EHeaderKey.X_OSS_REQUEST_ID, 'x-oss-request-id');
  assert.equal(pkg.EHeaderKey.X_OSS_HASH_CRC64ECMA, 'x-oss-hash-crc64ecma');
  assert.equal(pkg.EObjectAcl.PRIVATE, 'private');
  assert.equal(pkg.EStorageClass.IA, 'IA');
});
