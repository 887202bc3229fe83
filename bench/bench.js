'use strict';
// oss-append vs ali-oss vs curl, side by side in one run, on loopback against oss-emulator.
// Run it through `bash bench/run.sh` (installs and builds first); see bench/RESULTS.md.
//
//   node bench/bench.js [--quick] [--runs N] [--chain-runs N] [--rss-runs N] [--appends N]
//                       [--emulator memory|durable] [--no-crc] [--out FILE]
//
// The emulator must not be the bottleneck, so by default (--emulator memory) it keeps objects in
// memory: it reserves a large body's buffer up front on transparent huge pages and reuses the
// buffers of deleted objects (emulator/src/staging.rs), so receiving 256 MiB costs it ~0.05 s of
// CPU. Each file size gets one uncounted curl -T upload first, so no client's run pays for the
// emulator's first buffer of that size. The emulator runs one worker thread (--worker-threads 1):
// with two, a request's tasks wake the idle second worker, which costs every client's request
// latency and the emulator's CPU. `--emulator durable` stores to a --data-dir in tmpfs
// instead (fsync is free there, but the kernel's shmem page-cache work costs the emulator ~0.18 s
// per 256 MiB, a full core at the fast clients' speed: it was the bottleneck).
//
// Scenarios (each run several times, interleaving the clients; medians reported):
//   1. one 256 MiB append from a file: oss-append (fd file object), ali-oss (read stream with
//      contentLength), curl --data-binary @file (the wire's ceiling; signed V1 here), and
//      curl -T file (streamed by curl, for reference)
//   2. 2,000 appends of 1 KiB chained on one object: p50/p99 per append, appends/s
//   3. peak RSS (VmHWM, read from /proc/<pid>/status just before the client exits) for 16 MiB,
//      256 MiB (the scenario 1 runs) and 1 GiB appends
// plus the criterion CRC-64 bench (benches/crc64.rs). Emulator CPU time (utime+stime from
// /proc/<pid>/stat) is taken around every run, and so is the machine's other load.

const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const {
  REPO, cpuSeconds, memory, loadavg, median, percentile, signV1, signedRequest, startEmulator,
} = require('./lib');

const MiB = 1024 * 1024;
const AK = 'LTAI5tBenchmarkKey0001';
const SK = 'BenchmarkSecret0123456789abcdefghij';
const BUCKET = 'bench-bucket';

// ------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {
    runs: 9, chainRuns: 7, rssRuns: 3, appends: 2000, warmup: 50, chunk: 1024,
    fileSize: 256 * MiB, rssSizes: [16 * MiB, 1024 * MiB], crc: true, emulator: 'memory',
    out: path.join(__dirname, 'results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--quick') Object.assign(o, { runs: 2, chainRuns: 2, rssRuns: 1, appends: 300, warmup: 10, fileSize: 64 * MiB, rssSizes: [16 * MiB, 128 * MiB] });
    else if (a === '--runs') o.runs = num();
    else if (a === '--chain-runs') o.chainRuns = num();
    else if (a === '--rss-runs') o.rssRuns = num();
    else if (a === '--appends') o.appends = num();
    else if (a === '--no-crc') o.crc = false;
    else if (a === '--emulator') {
      o.emulator = argv[++i];
      if (!['memory', 'durable'].includes(o.emulator)) throw new Error('--emulator memory|durable');
    }
    else if (a === '--out') o.out = path.resolve(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function targetDir() {
  const t = process.env.CARGO_TARGET_DIR;
  if (!t) return path.join(REPO, 'target');
  return path.isAbsolute(t) ? t : path.join(REPO, t);
}

// ------------------------------------------------------------------------------------------
// Machine load: CPU seconds the whole machine was busy (from /proc/stat), so that what our
// processes used can be subtracted and the rest reported as other load.

function machineBusySeconds() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is counted in user already)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: (total - idle) / 100, steal: f[7] / 100 };
}

function loadWindow() {
  const start = { at: process.hrtime.bigint(), cpu: machineBusySeconds(), loadavg: loadavg() };
  return (ownCpuSeconds) => {
    const wall = Number(process.hrtime.bigint() - start.at) / 1e9;
    const cpu = machineBusySeconds();
    const busy = cpu.busy - start.cpu.busy;
    return {
      wallS: wall,
      machineBusyCores: busy / wall,
      otherCores: Math.max(0, busy - ownCpuSeconds) / wall,
      stealCores: (cpu.steal - start.cpu.steal) / wall,
      loadavgBefore: start.loadavg,
      loadavgAfter: loadavg(),
    };
  };
}

// ------------------------------------------------------------------------------------------
// Processes

/** Runs one worker.js process; measures it (and the emulator) from outside. */
function runWorker(emu, spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'worker.js'), JSON.stringify(spec)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: child.stdout });
    let before;
    let out;
    const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    child.on('error', reject);
    lines.on('line', (line) => {
      try {
        if (line === 'READY') {
          before = { mem: memory(child.pid), cpu: cpuSeconds(child.pid), emuCpu: cpuSeconds(emu.pid) };
          before.window = loadWindow();
          child.stdin.write('go\n');
        } else if (line.startsWith('RESULT ')) {
          const mem = memory(child.pid);
          const cpu = cpuSeconds(child.pid) - before.cpu;
          const emuCpu = cpuSeconds(emu.pid) - before.emuCpu;
          out = {
            result: JSON.parse(line.slice(7)),
            peakRss: mem.hwm,
            readyRss: before.mem.hwm,
            clientCpuS: cpu,
            emulatorCpuS: emuCpu,
            load: before.window(cpu + emuCpu),
          };
          child.stdin.end();
        } else if (line.startsWith('ERROR ')) {
          out = { error: JSON.parse(line.slice(6)) };
          child.stdin.end();
        }
      } catch (e) {
        child.kill('SIGKILL');
        reject(e);
      }
    });
    exited.then(({ code, signal }) => {
      if (out && out.error) reject(new Error(`${spec.client} ${spec.mode}: ${out.error}`));
      else if (!out || code !== 0) reject(new Error(`worker ${spec.client} ${spec.mode} ended with ${code ?? signal}`));
      else resolve(out);
    });
  });
}

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * One append of `file` with curl, signed V1 here: `--data-binary @file` (curl loads the file
 * into memory before it connects, so this is the pure wire) or `-T file` (curl streams it).
 */
function runCurl(emu, { file, key, variant }) {
  const date = new Date().toUTCString();
  const contentType = 'application/octet-stream';
  const resource = `/${BUCKET}/${key}?append&position=0`;
  const auth = signV1(emu, { method: 'POST', contentType, date, resource });
  const headerFile = path.join(os.tmpdir(), `oss-bench-curl-${process.pid}-${crypto.randomBytes(4).toString('hex')}.txt`);
  const args = ['-sS', '-o', '/dev/null', '-D', headerFile, '-w', '%{http_code} %{time_total} %{size_upload}',
    '-X', 'POST', '-H', `Date: ${date}`, '-H', `Content-Type: ${contentType}`, '-H', `Authorization: ${auth}`,
    '-H', 'Expect:'];
  if (variant === 'data-binary') args.push('--data-binary', `@${file}`);
  else args.push('-T', file);
  args.push(`${emu.endpoint}${resource}`);
  const timeFile = `${headerFile}.time`;
  const [cmd, argv] = TIME ? [TIME, ['-f', '%U %S %M', '-o', timeFile, 'curl', ...args]] : ['curl', args];
  return new Promise((resolve, reject) => {
    const emuCpu0 = cpuSeconds(emu.pid);
    const window = loadWindow();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const emulatorCpuS = cpuSeconds(emu.pid) - emuCpu0;
        const headers = fs.readFileSync(headerFile, 'utf8');
        fs.rmSync(headerFile, { force: true });
        let clientCpuS = NaN;
        let peakRss = NaN;
        if (TIME && fs.existsSync(timeFile)) {
          const [u, s, maxKib] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
          clientCpuS = u + s;
          peakRss = maxKib * 1024;
          fs.rmSync(timeFile, { force: true });
        }
        const [status, total] = stdout.trim().split(' ');
        if (code !== 0 || status !== '200') {
          throw new Error(`curl ${variant} ended with ${code}, HTTP ${status}:\n${headers}`);
        }
        const crc = /^x-oss-hash-crc64ecma:\s*(\d+)/im.exec(headers);
        resolve({
          result: { elapsedMs: Number(total) * 1000, crc: crc && crc[1] },
          peakRss,
          clientCpuS,
          emulatorCpuS,
          load: window((Number.isFinite(clientCpuS) ? clientCpuS : 0) + emulatorCpuS),
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function removeObject(emu, key) {
  const res = await signedRequest(emu, 'DELETE', key);
  if (res.status !== 204) throw new Error(`DELETE ${key}: HTTP ${res.status}`);
}

// ------------------------------------------------------------------------------------------
// Data

/** A file of `size` pseudo-random bytes (reused when it is already there). */
function makeFile(dir, size) {
  const file = path.join(dir, `src-${size / MiB}MiB.bin`);
  if (fs.existsSync(file) && fs.statSync(file).size === size) return file;
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(8 * MiB);
  for (let off = 0; off < size; off += buf.length) {
    crypto.randomFillSync(buf);
    fs.writeSync(fd, buf, 0, Math.min(buf.length, size - off));
  }
  fs.closeSync(fd);
  return file;
}

// ------------------------------------------------------------------------------------------
// Scenarios

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function rotate(list, by) {
  const k = by % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

function summarizeLoad(runs) {
  const loads = runs.map((r) => r.load);
  return {
    otherCoresMedian: median(loads.map((l) => l.otherCores)),
    otherCoresMax: Math.max(...loads.map((l) => l.otherCores)),
    stealCoresMedian: median(loads.map((l) => l.stealCores)),
    loadavg1Median: median(loads.map((l) => l.loadavgBefore[0])),
  };
}

async function scenarioFile(emu, o, file, size, clients, runs, label) {
  const byClient = Object.fromEntries(clients.map((c) => [c, []]));
  // Uncounted warm-up: the emulator's first buffer of this size (see the header).
  const warmKey = `bench/${label}/warm-up.bin`;
  await runCurl(emu, { file, key: warmKey, variant: 'stream' });
  await removeObject(emu, warmKey);
  for (let r = 0; r < runs; r++) {
    for (const c of rotate(clients, r)) {
      const key = `bench/${label}/${c}/${r}.bin`;
      let run;
      if (c.startsWith('curl')) {
        run = await runCurl(emu, { file, key, variant: c === 'curl' ? 'data-binary' : 'stream' });
      } else {
        run = await runWorker(emu, {
          client: c, mode: 'file', file, size, key, dist: o.dist,
          endpoint: emu.endpoint, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK,
        });
      }
      await removeObject(emu, key);
      run.mibPerS = size / MiB / (run.result.elapsedMs / 1000);
      byClient[c].push(run);
      log(`${label} run ${r + 1}/${runs} ${c}: ${(run.result.elapsedMs / 1000).toFixed(3)} s, ` +
        `${run.mibPerS.toFixed(0)} MiB/s, peak RSS ${(run.peakRss / MiB).toFixed(1)} MiB, ` +
        `client CPU ${run.clientCpuS.toFixed(2)} s, emulator CPU ${run.emulatorCpuS.toFixed(2)} s, ` +
        `other load ${run.load.otherCores.toFixed(2)} cores`);
    }
  }
  // Every client must have produced the same object: same server-side CRC-64.
  const crcs = new Set(Object.values(byClient).flat().map((r) => r.result.crc));
  if (crcs.size !== 1) throw new Error(`${label}: the clients' objects differ (CRC-64s ${[...crcs].join(', ')})`);
  const summary = {};
  for (const [c, rs] of Object.entries(byClient)) {
    summary[c] = {
      runs: rs.length,
      seconds: median(rs.map((r) => r.result.elapsedMs / 1000)),
      mibPerS: median(rs.map((r) => r.mibPerS)),
      bestMibPerS: Math.max(...rs.map((r) => r.mibPerS)),
      peakRssMiB: median(rs.map((r) => r.peakRss / MiB)),
      readyRssMiB: median(rs.map((r) => (r.readyRss ?? NaN) / MiB)),
      clientCpuS: median(rs.map((r) => r.clientCpuS)),
      emulatorCpuS: median(rs.map((r) => r.emulatorCpuS)),
      emulatorCores: median(rs.map((r) => r.emulatorCpuS / (r.result.elapsedMs / 1000))),
      load: summarizeLoad(rs),
      all: rs.map((r) => ({
        seconds: r.result.elapsedMs / 1000, mibPerS: r.mibPerS, peakRssMiB: r.peakRss / MiB,
        clientCpuS: r.clientCpuS, emulatorCpuS: r.emulatorCpuS, otherCores: r.load.otherCores,
      })),
    };
  }
  return { size, crc64: [...crcs][0], clients: summary };
}

async function scenarioChain(emu, o) {
  const clients = ['oss-append', 'ali-oss'];
  const byClient = Object.fromEntries(clients.map((c) => [c, []]));
  for (let r = 0; r < o.chainRuns; r++) {
    for (const c of rotate(clients, r)) {
      const key = `bench/chain/${c}/${r}.log`;
      const run = await runWorker(emu, {
        client: c, mode: 'chain', chunk: o.chunk, count: o.appends, warmup: o.warmup, key, dist: o.dist,
        endpoint: emu.endpoint, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK,
      });
      await removeObject(emu, key);
      await removeObject(emu, `${key}.warmup`);
      const lat = run.result.latencies;
      Object.assign(run, {
        p50: percentile(lat, 50), p99: percentile(lat, 99), mean: lat.reduce((a, b) => a + b, 0) / lat.length,
        perS: lat.length / (run.result.elapsedMs / 1000),
      });
      delete run.result.latencies;
      byClient[c].push(run);
      log(`chain run ${r + 1}/${o.chainRuns} ${c}: p50 ${run.p50.toFixed(3)} ms, p99 ${run.p99.toFixed(3)} ms, ` +
        `${run.perS.toFixed(0)} appends/s, client CPU ${run.clientCpuS.toFixed(2)} s, ` +
        `emulator CPU ${run.emulatorCpuS.toFixed(2)} s, other load ${run.load.otherCores.toFixed(2)} cores`);
    }
  }
  const summary = {};
  for (const [c, rs] of Object.entries(byClient)) {
    summary[c] = {
      runs: rs.length,
      p50Ms: median(rs.map((r) => r.p50)),
      bestP50Ms: Math.min(...rs.map((r) => r.p50)),
      p99Ms: median(rs.map((r) => r.p99)),
      meanMs: median(rs.map((r) => r.mean)),
      appendsPerS: median(rs.map((r) => r.perS)),
      clientCpuS: median(rs.map((r) => r.clientCpuS)),
      clientCpuUsPerAppend: median(rs.map((r) => (r.clientCpuS / o.appends) * 1e6)),
      emulatorCpuS: median(rs.map((r) => r.emulatorCpuS)),
      emulatorCpuUsPerAppend: median(rs.map((r) => (r.emulatorCpuS / o.appends) * 1e6)),
      peakRssMiB: median(rs.map((r) => r.peakRss / MiB)),
      load: summarizeLoad(rs),
      all: rs.map((r) => ({
        p50Ms: r.p50, p99Ms: r.p99, appendsPerS: r.perS, clientCpuS: r.clientCpuS,
        emulatorCpuS: r.emulatorCpuS, otherCores: r.load.otherCores,
      })),
    };
  }
  return { appends: o.appends, chunk: o.chunk, warmup: o.warmup, clients: summary };
}

// ------------------------------------------------------------------------------------------
// CRC-64 (criterion)

const CRC_BENCHES = [
  ['checksum_1MiB', 'checksum, 1 MiB buffer'],
  ['checksum_64MiB', 'checksum, 64 MiB buffer'],
  ['update_1MiB_chunks_64MiB', 'Crc64::update, 1 MiB chunks over 64 MiB'],
];

function crcBench() {
  log('cargo bench -p oss-append --bench crc64');
  execFileSync('cargo', ['bench', '-p', 'oss-append', '--bench', 'crc64'], { cwd: REPO, stdio: ['ignore', 2, 2] });
  const out = {};
  for (const [id, label] of CRC_BENCHES) {
    const dir = path.join(targetDir(), 'criterion', 'crc64', id, 'new');
    const est = JSON.parse(fs.readFileSync(path.join(dir, 'estimates.json'), 'utf8'));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'benchmark.json'), 'utf8'));
    const bytes = meta.throughput.BytesDecimal ?? meta.throughput.Bytes;
    const ns = est.median.point_estimate;
    out[id] = { label, bytes, medianNs: ns, gbPerS: bytes / ns };
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Report

function fmt(x, digits = 2) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '-';
  return x.toFixed(digits);
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`,
    ...rows.slice(1).map(line)].join('\n');
}

function report(res) {
  const f = res.scenarios.file.clients;
  const ch = res.scenarios.chain.clients;
  const rss = res.scenarios.rss;
  const oa = f['oss-append'];
  const ali = f['ali-oss'];
  const curl = f.curl;
  const curlT = f['curl-T'];
  const sizeLabel = `${res.scenarios.file.size / MiB} MiB`;
  const rows = [['metric (medians)', 'oss-append', 'ali-oss', 'curl @file', 'curl -T', 'oa/ali', 'oa/curl']];
  rows.push([`1. ${sizeLabel} fd append, MiB/s`, fmt(oa.mibPerS, 0), fmt(ali.mibPerS, 0), fmt(curl.mibPerS, 0), fmt(curlT.mibPerS, 0),
    fmt(oa.mibPerS / ali.mibPerS), fmt(oa.mibPerS / curl.mibPerS)]);
  rows.push([`1. ${sizeLabel} fd append, MiB/s, best run`, fmt(oa.bestMibPerS, 0), fmt(ali.bestMibPerS, 0), fmt(curl.bestMibPerS, 0),
    fmt(curlT.bestMibPerS, 0), fmt(oa.bestMibPerS / ali.bestMibPerS), fmt(oa.bestMibPerS / curl.bestMibPerS)]);
  rows.push([`1. ${sizeLabel} fd append, s`, fmt(oa.seconds, 3), fmt(ali.seconds, 3), fmt(curl.seconds, 3), fmt(curlT.seconds, 3),
    fmt(oa.seconds / ali.seconds), fmt(oa.seconds / curl.seconds)]);
  rows.push(['1. client CPU, s', fmt(oa.clientCpuS), fmt(ali.clientCpuS), fmt(curl.clientCpuS), fmt(curlT.clientCpuS),
    fmt(oa.clientCpuS / ali.clientCpuS), fmt(oa.clientCpuS / curl.clientCpuS)]);
  rows.push(['1. emulator CPU, s', fmt(oa.emulatorCpuS), fmt(ali.emulatorCpuS), fmt(curl.emulatorCpuS), fmt(curlT.emulatorCpuS), '', '']);
  rows.push(['1. emulator CPU / wall, cores', fmt(oa.emulatorCores), fmt(ali.emulatorCores), fmt(curl.emulatorCores), fmt(curlT.emulatorCores), '', '']);
  const a = ch['oss-append'];
  const b = ch['ali-oss'];
  const n = res.scenarios.chain.appends;
  rows.push([`2. ${n} x 1 KiB appends, p50 ms`, fmt(a.p50Ms, 3), fmt(b.p50Ms, 3), '', '', fmt(a.p50Ms / b.p50Ms), '']);
  rows.push(['2. p50 ms, best run', fmt(a.bestP50Ms, 3), fmt(b.bestP50Ms, 3), '', '', fmt(a.bestP50Ms / b.bestP50Ms), '']);
  rows.push(['2. p99 ms', fmt(a.p99Ms, 3), fmt(b.p99Ms, 3), '', '', fmt(a.p99Ms / b.p99Ms), '']);
  rows.push(['2. appends/s', fmt(a.appendsPerS, 0), fmt(b.appendsPerS, 0), '', '', fmt(a.appendsPerS / b.appendsPerS), '']);
  rows.push(['2. client CPU per append, us', fmt(a.clientCpuUsPerAppend, 0), fmt(b.clientCpuUsPerAppend, 0), '', '',
    fmt(a.clientCpuUsPerAppend / b.clientCpuUsPerAppend), '']);
  rows.push(['2. emulator CPU per append, us', fmt(a.emulatorCpuUsPerAppend, 0), fmt(b.emulatorCpuUsPerAppend, 0), '', '', '', '']);
  rows.push(['3. RSS before the append (Node + client), MiB', fmt(oa.readyRssMiB, 1), fmt(ali.readyRssMiB, 1), '', '',
    fmt(oa.readyRssMiB / ali.readyRssMiB), '']);
  for (const s of rss.sizes) {
    const r = rss.bySize[s];
    rows.push([`3. peak RSS, ${s / MiB} MiB file, MiB`, fmt(r['oss-append'], 1), fmt(r['ali-oss'], 1),
      s === res.scenarios.file.size ? fmt(curl.peakRssMiB, 1) : '', s === res.scenarios.file.size ? fmt(curlT.peakRssMiB, 1) : '',
      fmt(r['oss-append'] / r['ali-oss']), '']);
  }
  rows.push([`3. RSS growth ${rss.largest / MiB} MiB vs ${rss.smallest / MiB} MiB, MiB`, fmt(rss.growthMiB['oss-append'], 1),
    fmt(rss.growthMiB['ali-oss'], 1), '', '', '', '']);
  const lines = [table(rows), ''];
  if (res.crc64) {
    lines.push('CRC-64/XZ (criterion, median):');
    for (const v of Object.values(res.crc64)) lines.push(`  ${v.label.padEnd(42)} ${fmt(v.gbPerS, 1)} GB/s`);
    lines.push('');
  }
  lines.push('Targets:');
  for (const t of res.targets) lines.push(`  [${t.met === null ? 'n/a' : t.met ? 'met' : 'NOT met'}] ${t.name}: ${t.detail}`);
  lines.push('');
  const loads = [oa, ali, curl, a, b].map((x) => x.load);
  lines.push(`Load: other processes used ${fmt(median(loads.map((l) => l.otherCoresMedian)))} cores (median of runs; ` +
    `max ${fmt(Math.max(...loads.map((l) => l.otherCoresMax)))}) of ${os.cpus().length}; ` +
    `loadavg(1 min) ${fmt(median(loads.map((l) => l.loadavg1Median)))}`);
  lines.push(`Emulator: scenarios 1 and 3 ${res.scenarios.file.emulator}, scenario 2 ${res.scenarios.chain.emulator}; ` +
    `CPU over the whole run ${res.emulators.map((e) => `${fmt(e.cpuTotalS)} s (${e.mode})`).join(', ')}`);
  const sc = (n, x) => `${n} ${fmt(x.emulatorScenario.cpuS)} s CPU in ${fmt(x.emulatorScenario.wallS, 1)} s`;
  lines.push(`Emulator per scenario: ${sc('1:', res.scenarios.file)}, ${sc('2:', res.scenarios.chain)}, ${sc('3:', res.scenarios.rss)} ` +
    '(client start-up and cleanup included in the wall time)');
  return lines.join('\n');
}

function targets(res) {
  const f = res.scenarios.file.clients;
  const ch = res.scenarios.chain.clients;
  const rss = res.scenarios.rss;
  const t = [];
  const r1 = f['oss-append'].mibPerS / f['ali-oss'].mibPerS;
  const wire = f.curl.mibPerS / f['ali-oss'].mibPerS;
  t.push({ name: 'fd throughput >= 3x ali-oss', met: r1 >= 3, detail: `${fmt(r1)}x (the wire itself, curl/ali-oss: ${fmt(wire)}x)` });
  const r2 = f['oss-append'].mibPerS / f.curl.mibPerS;
  t.push({ name: 'fd throughput >= 0.8x curl --data-binary', met: r2 >= 0.8, detail: `${fmt(r2)}x` });
  const r3 = ch['oss-append'].p50Ms / ch['ali-oss'].p50Ms;
  t.push({ name: '1 KiB append p50 <= 0.5x ali-oss', met: r3 <= 0.5, detail: `${fmt(r3)}x (${fmt(ch['oss-append'].p50Ms, 3)} vs ${fmt(ch['ali-oss'].p50Ms, 3)} ms)` });
  const g = rss.growthMiB['oss-append'];
  const full = rss.largest >= 1024 * MiB;
  t.push({
    name: `peak RSS growth ${rss.largest / MiB} MiB vs ${rss.smallest / MiB} MiB <= 32 MiB`,
    met: full ? g <= 32 : null,
    detail: `${fmt(g, 1)} MiB${full ? '' : ' (not the 1 GiB case: --quick)'}`,
  });
  if (res.crc64) {
    const min = Math.min(...Object.values(res.crc64).map((v) => v.gbPerS));
    t.push({
      name: 'CRC-64 >= 5 GB/s', met: min >= 5,
      detail: Object.values(res.crc64).map((v) => `${fmt(v.gbPerS, 1)}`).join(' / ') + ' GB/s',
    });
  } else {
    t.push({ name: 'CRC-64 >= 5 GB/s', met: null, detail: 'not run (--no-crc)' });
  }
  return t;
}

function machine() {
  const cpus = os.cpus();
  let curl = '';
  try { curl = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split('\n')[0]; } catch { /* none */ }
  return {
    cpu: cpus[0] && cpus[0].model, cores: cpus.length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(), node: process.version, curl,
  };
}

// ------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  o.dist = process.env.OSS_APPEND_DIST || path.join(REPO, 'dist', 'node');
  const bin = process.env.OSS_EMULATOR_BIN || path.join(targetDir(), 'release', 'oss-emulator');
  for (const p of [bin, path.join(o.dist, 'oss_append.node')]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: run bash bench/run.sh (it builds the release artefacts)`);
  }
  // Files and the durable emulator's data dir live in tmpfs when there is one: the benchmark
  // measures the clients and the wire, not the disk.
  const base = process.env.BENCH_TMPDIR || (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const work = fs.mkdtempSync(path.join(base, 'oss-append-bench-'));
  const started = new Date();
  const overall = loadWindow();
  const emus = [];
  try {
    const sizes = [...new Set([...o.rssSizes, o.fileSize])].sort((x, y) => x - y);
    log(`making source files (${sizes.map((s) => `${s / MiB} MiB`).join(', ')}) in ${work}`);
    const files = Object.fromEntries(sizes.map((s) => [s, makeFile(work, s)]));
    const start = async (durable) => {
      let dataDir = null;
      if (durable) {
        dataDir = path.join(work, `emulator-${emus.length}`);
        fs.mkdirSync(dataDir);
      }
      const emu = await startEmulator({ bin, dataDir, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, workerThreads: 1 });
      emu.mode = durable ? 'durable (data dir in tmpfs)' : 'memory';
      emu.cpuStart = cpuSeconds(emu.pid);
      emus.push(emu);
      log(`emulator ${bin} pid ${emu.pid} at ${emu.endpoint}, ${dataDir ? `data dir ${dataDir}` : 'objects in memory'}`);
      return emu;
    };
    const fileEmu = await start(o.emulator === 'durable');
    const chainEmu = fileEmu;

    const res = { date: started.toISOString(), machine: machine(), options: { ...o, dist: undefined }, scenarios: {} };

    // Emulator CPU (utime+stime) and wall time around a whole scenario.
    const around = async (emu, fn) => {
      const cpu0 = cpuSeconds(emu.pid);
      const t0 = process.hrtime.bigint();
      const out = await fn();
      out.emulatorScenario = { cpuS: cpuSeconds(emu.pid) - cpu0, wallS: Number(process.hrtime.bigint() - t0) / 1e9 };
      return out;
    };

    log(`scenario 1: one ${o.fileSize / MiB} MiB append from a file, ${o.runs} runs per client`);
    res.scenarios.file = await around(fileEmu, () => scenarioFile(fileEmu, o, files[o.fileSize], o.fileSize,
      ['oss-append', 'ali-oss', 'curl', 'curl-T'], o.runs, 'file'));

    log(`scenario 2: ${o.appends} chained appends of ${o.chunk} B, ${o.chainRuns} runs per client`);
    res.scenarios.chain = await around(chainEmu, () => scenarioChain(chainEmu, o));

    log(`scenario 3: peak RSS for ${o.rssSizes.map((s) => `${s / MiB} MiB`).join(', ')} (+ ${o.fileSize / MiB} MiB from scenario 1), ${o.rssRuns} runs per client`);
    const bySize = { [o.fileSize]: Object.fromEntries(['oss-append', 'ali-oss'].map((c) => [c, res.scenarios.file.clients[c].peakRssMiB])) };
    const rssRuns = {};
    const rssCpu0 = cpuSeconds(fileEmu.pid);
    const rssT0 = process.hrtime.bigint();
    for (const s of o.rssSizes) {
      const r = await scenarioFile(fileEmu, o, files[s], s, ['oss-append', 'ali-oss'], o.rssRuns, `rss-${s / MiB}MiB`);
      rssRuns[s] = r;
      bySize[s] = Object.fromEntries(Object.entries(r.clients).map(([c, v]) => [c, v.peakRssMiB]));
    }
    const allSizes = Object.keys(bySize).map(Number).sort((x, y) => x - y);
    const smallest = allSizes[0];
    const largest = allSizes[allSizes.length - 1];
    res.scenarios.rss = {
      sizes: allSizes, smallest, largest, bySize, runs: rssRuns,
      growthMiB: Object.fromEntries(['oss-append', 'ali-oss'].map((c) => [c, bySize[largest][c] - bySize[smallest][c]])),
      emulatorScenario: { cpuS: cpuSeconds(fileEmu.pid) - rssCpu0, wallS: Number(process.hrtime.bigint() - rssT0) / 1e9 },
    };
    res.scenarios.file.emulator = fileEmu.mode;
    res.scenarios.chain.emulator = chainEmu.mode;
    res.scenarios.rss.emulator = fileEmu.mode;
    res.emulators = emus.map((e) => ({ mode: e.mode, cpuTotalS: cpuSeconds(e.pid) - e.cpuStart }));
    while (emus.length) {
      const stop = await emus.pop().stop();
      if (stop.code !== 0) throw new Error(`oss-emulator ended with ${stop.code ?? stop.signal}`);
    }
    res.load = overall(0);
    delete res.load.otherCores; // whole run, our own processes included

    res.crc64 = o.crc ? crcBench() : null;
    res.targets = targets(res);
    const text = report(res);
    fs.writeFileSync(o.out, `${JSON.stringify(res, null, 2)}\n`);
    process.stdout.write(`\n${text}\n\nJSON: ${o.out}\n`);
  } finally {
    for (const e of emus) await e.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { runWorker, removeObject, makeFile, targetDir, loadWindow, machine, AK, SK, BUCKET, MiB };

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`bench: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}
