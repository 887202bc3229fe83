'use strict';
// The durable append stream (issue 15, item 9) at a phone's round-trip time: small log writes
// (100 B - 1 KiB, seeded) through bench/latency-proxy.js (--rtt-ms, default 40, no bandwidth
// cap) to a release oss-emulator, in this process, one scenario after another:
//
//   1. stream, burst: --writes N (default 100000) `write()` calls as fast as the producer makes
//      them (at most 2000 unresolved at once), then `flush()`: throughput = bytes / (first write
//      to flush resolved); client CPU per MiB (this process's user+system time over that span,
//      the producer loop included); appends sent.
//   2. stream, paced: --paced-rate writes/s (default 5000) for --paced-seconds (default 10),
//      --paced-rounds times (default 3, each on a new spool): `write()` p50/p99 (call to
//      resolve, group commit) and the upload lag of each write (its call to the moment
//      `state().bytesUploaded` covers it, sampled every 2 ms), p50/p99 over the steady state
//      (the first second left out). Beside each round, measured just before it: this disk's
//      floor for the same load (the same writes in 5 ms ticks, one fdatasync per tick, done
//      synchronously by this process: what an ideal group commit would take), and during it
//      the CPU time the hypervisor took from this machine (steal, /proc/stat). The targets
//      are judged on the median round.
//   3. a plain `appendObject` loop through this package (one append per write, each awaited,
//      the position chained), bounded by --loop-seconds (default 10): writes/s measured, the
//      time for N writes extrapolated from it (printed as such).
//   4. the same loop with ali-oss (bench/node_modules, pinned), if installed.
//
//   node bench/stream.js [--writes N] [--rtt-ms 40] [--paced-rate N] [--paced-seconds N]
//                        [--paced-rounds N] [--loop-seconds N] [--max-delay-ms 50]
//                        [--group-commit-ms N] [--out FILE]
//
// Needs `./build.sh node --release`, `cargo build --release -p oss-emulator` and, for the ali-oss
// loop, `(cd bench && npm ci)`. It also probes this disk's fsync (100 x 4 KiB write + fsync in
// the temp dir): a group-committed write() cannot resolve faster than one fsync. Results go into
// bench/results.json under `stream` (the rest is kept).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { percentile, median, startEmulator } = require('./lib');
const { startProxy } = require('./rtt');
const { targetDir, machine, AK, SK, BUCKET, MiB } = require('./bench');

function parseArgs(argv) {
  const o = {
    writes: 100000, rttMs: 40, pacedRate: 5000, pacedSeconds: 10, pacedRounds: 3, loopSeconds: 10,
    maxDelayMs: 50,
    groupCommitMs: null,
    out: path.join(__dirname, 'results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--writes') o.writes = num();
    else if (a === '--rtt-ms') o.rttMs = num();
    else if (a === '--paced-rate') o.pacedRate = num();
    else if (a === '--paced-seconds') o.pacedSeconds = num();
    else if (a === '--paced-rounds') o.pacedRounds = Math.max(1, num());
    else if (a === '--loop-seconds') o.loopSeconds = num();
    else if (a === '--max-delay-ms') o.maxDelayMs = num();
    else if (a === '--group-commit-ms') o.groupCommitMs = num();
    else if (a === '--out') o.out = path.resolve(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Options beyond the defaults the run was asked for. */
const streamOptions = (o) => (o.groupCommitMs === null ? {} : { groupCommitMs: o.groupCommitMs });

const fmt = (x, d = 2) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const log = (m) => process.stderr.write(`stream-bench: ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seeded payloads: 100..1024 bytes of text each, newline-terminated. */
function payloads(n) {
  let seed = 0x9e3779b9;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const len = 100 + (seed % 925);
    out[i] = `${String(i).padStart(8, '0')} ${'l'.repeat(len - 10)}\n`;
  }
  return out;
}

/** 100 x (4 KiB write + fsync) in `dir`: what one group commit costs on this disk at least. */
function fsyncProbe(dir) {
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const ms = [];
  for (let i = 0; i < 100; i++) {
    fs.writeSync(fd, block);
    const t = performance.now();
    fs.fsyncSync(fd);
    ms.push(performance.now() - t);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return { p50Ms: median(ms), p99Ms: percentile(ms, 99) };
}

/**
 * Where the emulator keeps its objects: in memory (/dev/shm) when this machine has it. OSS's
 * disks are not the phone's; the emulator fsyncs each append (data, sidecar, directory), and on
 * the spool's disk those fsyncs would queue behind and ahead of the spool's own.
 */
function serverDataDir() {
  const shm = '/dev/shm';
  const base = fs.existsSync(shm) && fs.statSync(shm).isDirectory() ? shm : os.tmpdir();
  return fs.mkdtempSync(path.join(base, 'oss-append-stream-bench-server-'));
}

/**
 * This disk's floor for the paced load: 2 s of 5 ms ticks, each writing the tick's lines and
 * one fdatasync, timed from when the tick was due to durable. No stream code runs: it is what
 * any group commit of these writes waits at least.
 */
function groupCommitFloor(dir, o, lines) {
  const file = path.join(dir, 'floor-probe');
  const fd = fs.openSync(file, 'w');
  const perTick = Math.max(1, Math.round((o.pacedRate * 5) / 1000));
  const ticks = Math.round((2 * 1000) / 5);
  const ms = [];
  let i = 0;
  const t0 = performance.now();
  for (let k = 0; k < ticks; k++) {
    const due = t0 + k * 5;
    while (performance.now() < due) { /* spin: sleeping would add timer slack to the probe */ }
    for (let j = 0; j < perTick; j++, i++) fs.writeSync(fd, lines[i % lines.length]);
    fs.fdatasyncSync(fd);
    // From when the tick was due: a slow fdatasync delays the next tick's writes as well, as
    // it delays the stream's next group.
    ms.push(performance.now() - due);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return { p50Ms: median(ms), p99Ms: percentile(ms, 99) };
}

/** CPU jiffies (all, steal) from /proc/stat, or null where there is none. */
function cpuJiffies() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] || 0 };
  } catch {
    return null;
  }
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function burst(client, o, dir, lines) {
  const key = 'stream-bench/burst.log';
  const stream = await client.appendStream({ bucket: BUCKET, key, spoolDir: dir, maxDelayMs: o.maxDelayMs, ...streamOptions(o) });
  const bytes = lines.reduce((s, l) => s + Buffer.byteLength(l), 0);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  let inflight = [];
  for (const l of lines) {
    inflight.push(stream.write(l));
    if (inflight.length >= 2000) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  const acked = performance.now();
  const state = await stream.flush();
  const t1 = performance.now();
  const cpu = cpuSeconds() - cpu0;
  await stream.close();
  if (state.bytesUploaded !== bytes) throw new Error(`burst: uploaded ${state.bytesUploaded} of ${bytes}`);
  return {
    writes: lines.length, bytes, seconds: (t1 - t0) / 1000, ackSeconds: (acked - t0) / 1000,
    writesPerS: lines.length / ((t1 - t0) / 1000), mibPerS: bytes / MiB / ((t1 - t0) / 1000),
    appends: state.appends, fsyncs: state.fsyncs, clientCpuMsPerMiB: (cpu * 1000) / (bytes / MiB),
  };
}

async function paced(client, o, dir, lines) {
  const key = 'stream-bench/paced.log';
  const stream = await client.appendStream({ bucket: BUCKET, key, spoolDir: dir, maxDelayMs: o.maxDelayMs, ...streamOptions(o) });
  const total = Math.min(lines.length, o.pacedRate * o.pacedSeconds);
  const writeMs = [];
  const lagMs = [];
  const pending = []; // [end offset, call time, steady]
  let head = 0;
  let end = 0;
  const sampler = setInterval(() => {
    const up = stream.state().bytesUploaded;
    const now = performance.now();
    while (head < pending.length && pending[head][0] <= up) {
      if (pending[head][2]) lagMs.push(now - pending[head][1]);
      head++;
    }
  }, 2);
  const t0 = performance.now();
  const tick = 5; // ms per batch
  const perTick = Math.max(1, Math.round((o.pacedRate * tick) / 1000));
  const acks = [];
  const j0 = cpuJiffies();
  for (let i = 0; i < total;) {
    const due = t0 + (i / o.pacedRate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    for (let k = 0; k < perTick && i < total; k++, i++) {
      const l = lines[i];
      const called = performance.now();
      const steady = called - t0 >= 1000;
      end += Buffer.byteLength(l);
      pending.push([end, called, steady]);
      acks.push(stream.write(l).then(() => { if (steady) writeMs.push(performance.now() - called); }));
    }
  }
  await Promise.all(acks);
  const seconds = (performance.now() - t0) / 1000;
  await stream.flush();
  await sleep(10);
  clearInterval(sampler);
  const state = await stream.close();
  const j1 = cpuJiffies();
  return {
    writes: total, rate: o.pacedRate, seconds, appends: state.appends, fsyncs: state.fsyncs,
    stealPercent: j0 && j1 ? (100 * (j1.steal - j0.steal)) / Math.max(1, j1.total - j0.total) : null,
    writeP50Ms: median(writeMs), writeP99Ms: percentile(writeMs, 99),
    lagP50Ms: median(lagMs), lagP99Ms: percentile(lagMs, 99), lagSamples: lagMs.length,
  };
}

async function plainLoop(append, o, lines) {
  const t0 = performance.now();
  const deadline = t0 + o.loopSeconds * 1000;
  let n = 0;
  let position = 0;
  let bytes = 0;
  while (n < lines.length && performance.now() < deadline) {
    position = await append(lines[n], position);
    bytes += Buffer.byteLength(lines[n]);
    n++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    writes: n, bytes, seconds, writesPerS: n / seconds, mibPerS: bytes / MiB / seconds,
    extrapolatedSecondsForAll: lines.length / (n / seconds),
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const target = targetDir();
  const dist = path.join(__dirname, '..', 'dist', 'node');
  const { default: Client } = require(dist);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-stream-bench-'));
  const serverDir = serverDataDir();
  const emu = await startEmulator({
    bin: path.join(target, 'release', 'oss-emulator'), dataDir: serverDir,
    bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK,
  });
  const emuPort = Number(new URL(emu.endpoint).port);
  const proxy = await startProxy({ upstreamPort: emuPort, rttMs: o.rttMs, rateMbit: 0 });
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const client = new Client({ accessKeyId: AK, accessKeySecret: SK, region: 'cn-hangzhou', endpoint, pathStyle: true });
  const lines = payloads(o.writes);
  const res = { machine: machine(), options: o, fsyncProbe: fsyncProbe(work) };
  log(`fsync probe: p50 ${fmt(res.fsyncProbe.p50Ms)} ms, p99 ${fmt(res.fsyncProbe.p99Ms)} ms`);
  try {
    log(`1. stream burst: ${o.writes} writes at ${o.rttMs} ms RTT`);
    res.burst = await burst(client, o, path.join(work, 'spool-burst'), lines);
    res.pacedRounds = [];
    for (let r = 0; r < o.pacedRounds; r++) {
      log(`2.${r + 1} stream paced: ${o.pacedRate} writes/s for ${o.pacedSeconds} s`);
      const floor = groupCommitFloor(work, o, lines);
      const round = await paced(client, o, path.join(work, `spool-paced-${r}`), lines);
      res.pacedRounds.push({ ...round, diskFloorP50Ms: floor.p50Ms, diskFloorP99Ms: floor.p99Ms });
    }
    // The median round by write() p99 stands for the run.
    const byP99 = [...res.pacedRounds].sort((a, b) => a.writeP99Ms - b.writeP99Ms);
    res.paced = byP99[Math.floor((byP99.length - 1) / 2)];
    log(`3. plain appendObject loop, at most ${o.loopSeconds} s`);
    res.plain = await plainLoop(async (data, position) => {
      const out = await client.appendObject({ bucket: BUCKET, key: 'stream-bench/plain.log', data, position });
      return Number(out.data.nextAppendPosition);
    }, o, lines);
    let OSS = null;
    try {
      OSS = require(path.join(__dirname, 'node_modules', 'ali-oss'));
    } catch {
      log('SKIP ali-oss: not installed (cd bench && npm ci)');
    }
    if (OSS) {
      log(`4. ali-oss append loop, at most ${o.loopSeconds} s`);
      const ali = new OSS({ accessKeyId: AK, accessKeySecret: SK, region: 'oss-cn-hangzhou', endpoint, bucket: BUCKET, timeout: 60000 });
      res.aliOss = await plainLoop(async (data, position) => {
        const out = await ali.append('stream-bench/ali.log', Buffer.from(data), { position: String(position) });
        return Number(out.nextAppendPosition);
      }, o, lines);
    }
  } finally {
    await proxy.stop();
    await emu.stop();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(serverDir, { recursive: true, force: true });
  }
  const speedup = res.burst.writesPerS / res.plain.writesPerS;
  const lagBound = o.rttMs + o.maxDelayMs;
  res.targets = [
    { name: 'stream throughput >= 50x the plain appendObject loop', value: speedup, target: 50, unit: 'x', met: speedup >= 50 },
    { name: 'write() p99 <= 2 ms (group commit, paced)', value: res.paced.writeP99Ms, target: 2, unit: 'ms', met: res.paced.writeP99Ms <= 2 },
    { name: `upload lag p50 <= RTT + maxDelayMs (${lagBound} ms) at steady state`, value: res.paced.lagP50Ms, target: lagBound, unit: 'ms', met: res.paced.lagP50Ms <= lagBound },
  ];
  const b = res.burst;
  const p = res.paced;
  const L = [];
  L.push(`stream at ${o.rttMs} ms RTT (latency proxy, no cap), maxDelayMs ${o.maxDelayMs}, group commit 2 ms; ` +
    `this disk's fsync p50 ${fmt(res.fsyncProbe.p50Ms)} ms, p99 ${fmt(res.fsyncProbe.p99Ms)} ms`);
  L.push(`  burst:  ${b.writes} writes, ${fmt(b.bytes / MiB)} MiB in ${fmt(b.seconds)} s (acked in ${fmt(b.ackSeconds)} s): ` +
    `${fmt(b.writesPerS, 0)} writes/s, ${fmt(b.mibPerS)} MiB/s, ${b.appends} appends, ${b.fsyncs} fsyncs, ` +
    `client CPU ${fmt(b.clientCpuMsPerMiB, 1)} ms/MiB`);
  res.pacedRounds.forEach((q, r) => {
    L.push(`  paced ${r + 1}/${res.pacedRounds.length}: ${q.writes} writes at ${q.rate}/s: write() p50 ${fmt(q.writeP50Ms, 3)} ms, ` +
      `p99 ${fmt(q.writeP99Ms, 3)} ms; upload lag p50 ${fmt(q.lagP50Ms, 1)} ms, p99 ${fmt(q.lagP99Ms, 1)} ms; ` +
      `${q.appends} appends, ${q.fsyncs} fsyncs; disk floor (one fdatasync per tick, no stream) p50 ` +
      `${fmt(q.diskFloorP50Ms, 3)} ms, p99 ${fmt(q.diskFloorP99Ms, 3)} ms; CPU steal ${fmt(q.stealPercent, 1)}%` +
      (q === p ? '  <- median round' : ''));
  });
  for (const [name, r] of [['appendObject loop', res.plain], ['ali-oss loop', res.aliOss]]) {
    if (!r) continue;
    L.push(`  ${name}: ${r.writes} writes measured in ${fmt(r.seconds)} s = ${fmt(r.writesPerS, 1)} writes/s; ` +
      `${o.writes} writes would take ~${fmt(r.extrapolatedSecondsForAll, 0)} s (extrapolated)`);
  }
  if (res.aliOss) res.aliOssSpeedup = res.burst.writesPerS / res.aliOss.writesPerS;
  L.push(`  stream vs appendObject loop: ${fmt(speedup, 0)}x` + (res.aliOss ? `; vs ali-oss loop: ${fmt(res.aliOssSpeedup, 0)}x` : ''));
  for (const t of res.targets) L.push(`  ${t.met ? 'met ' : 'MISS'} ${t.name}: ${fmt(t.value)} ${t.unit}`);
  process.stdout.write(`${L.join('\n')}\n`);
  let all = {};
  try {
    all = JSON.parse(fs.readFileSync(o.out, 'utf8'));
  } catch { /* a new file */ }
  all.stream = res;
  fs.writeFileSync(o.out, `${JSON.stringify(all, null, 2)}\n`);
  log(`written: ${o.out} (key stream)`);
}

main().catch((e) => {
  process.stderr.write(`stream-bench: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
