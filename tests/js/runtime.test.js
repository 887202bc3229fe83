'use strict';
// The threads the module runs on (src/napi/mod.rs, install_io_runtime): one I/O worker, whatever
// the number of cores, and it carries concurrent appends. node --test runs each file in its own
// process, so the threads counted here are this file's. And how results come back to JS
// (src/napi/bridge.rs, one shared threadsafe function per JS thread): a pending call keeps the
// process alive, an idle client does not, and a JS thread torn down with calls in flight leaves
// the others working.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage, DIST } = require('./helpers/oss');

const BUCKET = 'runtime-bucket';
const AK = 'LTAI5tRuntimeTestKey';
const SK = 'runtime-test-secret';

function threadNames() {
  return fs.readdirSync('/proc/self/task').map((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      return null; // the thread ended while we listed them
    }
  }).filter((n) => n !== null);
}

test('appends run on a single I/O worker thread, concurrent ones included', async (t) => {
  if (!fs.existsSync('/proc/self/task')) {
    t.skip('SKIP: no /proc/self/task to list threads on this system');
    return;
  }
  const emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK });
  try {
    const { default: Client } = loadPackage();
    const client = new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint: emu.endpoint });
    const keys = Array.from({ length: 8 }, (_, i) => `runtime/${i}.log`);
    const results = await Promise.all(keys.map((key) => client.appendObject({ bucket: BUCKET, key, data: `hello ${key}` })));
    for (const [i, res] of results.entries()) {
      assert.equal(Number(res.data.nextAppendPosition), `hello ${keys[i]}`.length);
    }
    const workers = threadNames().filter((n) => n === 'oss-append-io');
    // Blocking-pool threads (file reads, DNS) carry the same name but only exist once used;
    // string appends to an IP endpoint use none, so this counts the worker alone.
    assert.equal(workers.length, 1, `threads: ${threadNames().join(', ')}`);
    assert.ok(!threadNames().includes('tokio-rt-worker'), 'napi-ohos\'s default runtime was not started');
  } finally {
    await emu.stop();
  }
});

/** Runs `source` in a fresh Node process; resolves with its exit code and output. */
function runNode(source, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, 20000);
    child.on('error', reject);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); });
  });
}

test('a pending append keeps the process alive; an idle client lets it exit', async () => {
  // The answer comes 300 ms late: with nothing else scheduled, only the pending call can keep
  // Node running until then. Afterwards the process must exit on its own (the killer above
  // would report SIGKILL).
  const emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK,
    args: ['--fault', 'action=delay-response,ms=300,key=runtime/late.log'] });
  try {
    const source = `
      const { Client } = require(process.env.DIST);
      const client = new Client({ accessKeyId: '${AK}', accessKeySecret: '${SK}', region: 'cn-hangzhou', endpoint: process.env.ENDPOINT });
      client.appendObject({ bucket: '${BUCKET}', key: 'runtime/late.log', data: 'late' })
        .then((res) => console.log('resolved at', res.data.nextAppendPosition));`;
    const started = Date.now();
    const { code, signal, out } = await runNode(source, { DIST, ENDPOINT: emu.endpoint });
    assert.equal(signal, null, `the process did not exit on its own: ${out}`);
    assert.equal(code, 0, out);
    assert.match(out, /resolved at 4/);
    assert.ok(Date.now() - started >= 300, 'it waited for the late answer');
  } finally {
    await emu.stop();
  }
});

test('a worker thread terminated with appends in flight: the main thread keeps working', async () => {
  const emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK,
    args: ['--fault', 'action=delay-response,ms=500,count=4'] });
  try {
    const config = { accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint: emu.endpoint };
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const { Client } = require(workerData.dist);
      const client = new Client(workerData.config);
      for (let i = 0; i < 4; i++) {
        client.appendObject({ bucket: workerData.bucket, key: 'runtime/worker-' + i, data: 'w' }).catch(() => {});
      }
      parentPort.postMessage('sent');`, { eval: true, workerData: { dist: DIST, config, bucket: BUCKET } });
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await new Promise((resolve) => setTimeout(resolve, 100)); // the requests reach the emulator
    await worker.terminate(); // its environment goes away while the four answers are pending
    await new Promise((resolve) => setTimeout(resolve, 700)); // the answers arrive for a dead env
    const { default: Client } = loadPackage();
    const client = new Client(config);
    const res = await client.appendObject({ bucket: BUCKET, key: 'runtime/after-worker.log', data: 'still fine' });
    assert.equal(Number(res.data.nextAppendPosition), 'still fine'.length);
  } finally {
    await emu.stop();
  }
});
