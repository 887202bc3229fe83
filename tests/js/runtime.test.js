'use strict';
// The threads the module runs on (src/napi.rs, install_io_runtime): one I/O worker, whatever the
// number of cores, and it carries concurrent appends. node --test runs each file in its own
// process, so the threads counted here are this file's.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startEmulator } = require('./helpers/emulator');
const { loadPackage } = require('./helpers/oss');

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
