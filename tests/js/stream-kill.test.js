'use strict';
// The append stream from JS, killed: a child process (helpers/stream-writer.js) writes numbered
// lines through `client.appendStream` and is SIGKILLed at seeded random points (some right after
// it opened, while it replays and recovers; the others while writes and uploads run), then a new
// child opens the same spool and writes on; every child has a tag of its own. A last child writes
// a few and closes. Then the object must be, per child in order, a prefix of what that child
// wrote that holds every write acknowledged to it: nothing acknowledged lost, nothing doubled,
// unacknowledged writes at most once and only where the spool had them. The Rust kill harness
// (tests/stream_kill.rs) covers the core at 50 kills; this covers the JS binding the same way.
//
// Seed: STREAM_KILL_SEED (default 4711), printed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { startEmulator } = require('./helpers/emulator');
const { loadNative } = require('./helpers/oss');

const BUCKET = 'kill-bucket';
const AK = 'LTAI5tKillKey';
const SK = 'kill-test-secret';
const KEY = 'stream/killed.log';
const KILLS = 10;

/** A small seeded generator (mulberry32). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs one child; resolves with the acknowledged numbers once it ended (killed or done). */
function runChild(emu, spoolDir, tag, { killAfterOpenMs, killAfterAcks, count }) {
  const args = [path.join(__dirname, 'helpers', 'stream-writer.js'), emu.endpoint, BUCKET, AK, SK, KEY, spoolDir, tag];
  if (count !== undefined) args.push(String(count));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = [];
  let stderr = '';
  let closed = false;
  child.stderr.on('data', (d) => { stderr += d; });
  const kill = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  // Bounded: a child that hangs is killed after 20 s and the test fails on its missing acks.
  const guard = setTimeout(kill, 20000);
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    if (l === 'open' && killAfterOpenMs !== undefined) setTimeout(kill, killAfterOpenMs);
    else if (l === 'closed') closed = true;
    else if (l.startsWith('ack ')) {
      acked.push(Number(l.slice(4)));
      if (killAfterAcks !== undefined && acked.length >= killAfterAcks) kill();
    }
  });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ acked, code, signal, closed, stderr });
    });
  });
}

test(`a JS stream SIGKILLed ${KILLS} times keeps exactly its acknowledged writes`, { timeout: 240000 }, async (t) => {
  const seed = Number(process.env.STREAM_KILL_SEED || 4711);
  t.diagnostic(`stream kill test: seed ${seed}`);
  const rnd = random(seed);
  const emu = await startEmulator({ bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-stream-kill-'));
  try {
    const spoolDir = path.join(tmp, 'spool');
    const runs = [];
    for (let k = 0; k < KILLS; k++) {
      // Every third kill lands within 0-40 ms of the open (replay, HEAD and CRC recovery, the
      // first upload); the others after 50-2,000 acknowledged writes.
      const plan = k % 3 === 1
        ? { killAfterOpenMs: Math.floor(rnd() * 40) }
        : { killAfterAcks: 50 + Math.floor(rnd() * 1950) };
      const run = await runChild(emu, spoolDir, `c${k}`, plan);
      assert.equal(run.signal, 'SIGKILL', `child ${k} was not killed (exit ${run.code}): ${run.stderr}`);
      runs.push({ tag: `c${k}`, acked: run.acked });
    }
    const last = await runChild(emu, spoolDir, 'end', { count: 100 });
    assert.ok(last.closed, `the last child did not close its stream (exit ${last.code}): ${last.stderr}`);
    runs.push({ tag: 'end', acked: last.acked });

    const body = Buffer.from((await loadNative().createClient({
      accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint: emu.endpoint,
    }).getObject(BUCKET, KEY)).body).toString();
    const lines = body.split('\n');
    assert.equal(lines.pop(), '', 'the object ends with a whole line');
    // Per child: the numbers it has in the object, in object order.
    const seen = new Map(runs.map((r) => [r.tag, []]));
    let child = 0;
    for (const l of lines) {
      const m = /^(c\d+|end)-(\d+) z+$/.exec(l);
      assert.ok(m, `a line that no child wrote: ${JSON.stringify(l.slice(0, 60))}`);
      const at = runs.findIndex((r) => r.tag === m[1]);
      assert.ok(at >= child, `${m[1]} appears after ${runs[child].tag} had begun`);
      child = at;
      seen.get(m[1]).push(Number(m[2]));
    }
    let acknowledged = 0;
    let extra = 0;
    for (const r of runs) {
      const have = seen.get(r.tag);
      have.forEach((n, i) => assert.equal(n, i, `${r.tag}: line ${i} of its part is write ${n}`));
      const maxAcked = r.acked.length ? Math.max(...r.acked) : -1;
      assert.ok(have.length > maxAcked, `${r.tag}: acknowledged up to ${maxAcked}, the object has ${have.length}`);
      acknowledged += r.acked.length;
      extra += have.length - r.acked.length;
    }
    assert.equal(seen.get('end').length, 100);
    t.diagnostic(`${KILLS} kills: ${acknowledged} writes acknowledged, ${lines.length} lines in the object ` +
      `(${extra} written but not yet acknowledged when killed)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await emu.stop();
  }
});
