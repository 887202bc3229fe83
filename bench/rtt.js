'use strict';
// oss-append vs ali-oss at a phone's round-trip time and bandwidth (issue 13, item 5): both
// clients, side by side in one run, through bench/latency-proxy.js (a userspace TCP relay that
// adds the delay and the bandwidth cap; this kernel has no netem) to oss-emulator on loopback.
// Run it through `bash bench/rtt.sh` (installs and builds first); see bench/RESULTS.md.
//
//   node bench/rtt.js [--tls] [--quick] [--rtt-ms 40] [--rate-mbit 100] [--appends N]
//                     [--chain-runs N] [--first-runs N] [--big-mib N] [--big-runs N]
//                     [--cpu-mib N] [--cpu-runs N] [--out FILE]
//
// Scenarios (clients interleaved and rotated run by run; medians reported):
//   0. the proxy's own ceiling: a 256 MiB fd append (oss-append) and curl --data-binary through
//      the proxy at 0 ms and no cap, against curl straight to the emulator
//   1. 1 KiB appends chained on one object, one client, at --rtt-ms: p50/p99, and the proxy's
//      count of connections and client flights per append
//   2. a new client's first append (1 KiB, fresh process): its time in RTTs; connections and
//      flights from the proxy; round trips = TCP handshakes + flights
//   3. one --big-mib append from a file at --rtt-ms and --rate-mbit: goodput vs the link rate
//   4. one --cpu-mib fd append at --rtt-ms, no cap: client CPU per MiB (utime+stime of the
//      worker process between `go` and its result, as bench.js measures it)
//
// Transport. Plain mode (the default): the clients' endpoint is http://127.0.0.1:PROXYPORT
// (path-style, as the loopback bench). `--tls`: the emulator is started with `--tls-generate
// NAMES --tls-ca-out FILE` (a throwaway CA and a certificate for NAMES; it prints
// `listening on https://127.0.0.1:PORT` first), and the clients go to the production name
// `https://<bucket>.oss-cn-hangzhou.aliyuncs.com` resolved to the proxy: oss-append with its
// default endpoint (region cn-hangzhou, virtual-hosted https) plus `caCerts: <CA PEM>` and
// `resolve: {"<bucket>.oss-cn-hangzhou.aliyuncs.com": ["127.0.0.1:PROXYPORT"]}`; ali-oss with
// the endpoint https://oss-cn-hangzhou.aliyuncs.com:PROXYPORT and an https.Agent({ca, lookup})
// whose lookup answers 127.0.0.1 for every name. Everything that differs between the two modes
// is in TRANSPORTS below. The proxy relays TCP and never sees the difference.
//
// Results go into bench/results.json under `rtt.http` or `rtt.https` (the rest of the file,
// the loopback figures of bench.js, is kept as it is), with each target's figure and `met`.

const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { REPO, cpuSeconds, median, percentile, signV1, startEmulator } = require('./lib');
const { runWorker, removeObject, makeFile, targetDir, loadWindow, machine, AK, SK, BUCKET, MiB } = require('./bench');

const REGION_HOST = 'oss-cn-hangzhou.aliyuncs.com';
const BUCKET_HOST = `${BUCKET}.${REGION_HOST}`;
const TLS_NAMES = [`*.${REGION_HOST}`, REGION_HOST, '127.0.0.1'];

function parseArgs(argv) {
  const o = {
    tls: false, rttMs: 40, rateMbit: 100, appends: 150, warmup: 5, chainRuns: 2, firstRuns: 5,
    bigMiB: 64, bigRuns: 2, cpuMiB: 256, cpuRuns: 3, ceilingRuns: 3, chunk: 1024,
    out: path.join(__dirname, 'results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--tls') o.tls = true;
    else if (a === '--quick') Object.assign(o, { appends: 40, chainRuns: 1, firstRuns: 2, bigMiB: 16, bigRuns: 1, cpuMiB: 64, cpuRuns: 1, ceilingRuns: 1 });
    else if (a === '--rtt-ms') o.rttMs = num();
    else if (a === '--rate-mbit') o.rateMbit = num();
    else if (a === '--appends') o.appends = num();
    else if (a === '--chain-runs') o.chainRuns = num();
    else if (a === '--first-runs') o.firstRuns = num();
    else if (a === '--big-mib') o.bigMiB = num();
    else if (a === '--big-runs') o.bigRuns = num();
    else if (a === '--cpu-mib') o.cpuMiB = num();
    else if (a === '--cpu-runs') o.cpuRuns = num();
    else if (a === '--out') o.out = path.resolve(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const fmt = (x, d = 2) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));

function log(msg) {
  process.stderr.write(`[rtt] ${msg}\n`);
}

// ------------------------------------------------------------------------------------------
// The transports: all that differs between plain HTTP and HTTPS.

const TRANSPORTS = {
  http: {
    emulatorArgs: () => [],
    // Path-style on the proxy's address, as the loopback bench.
    ossAppendOptions: (proxyPort) => ({ endpoint: `http://127.0.0.1:${proxyPort}` }),
    aliOssOptions: (proxyPort) => ({ endpoint: `http://127.0.0.1:${proxyPort}` }),
    curl: (port, resource) => ({ url: `http://127.0.0.1:${port}/${BUCKET}${resource}`, args: [] }),
    // TCP's handshake, then the request.
    firstRoundTrips: 2,
  },
  https: {
    emulatorArgs: (caFile) => ['--tls-generate', TLS_NAMES.join(','), '--tls-ca-out', caFile],
    // The production endpoint (the default for the region), resolved to the proxy.
    ossAppendOptions: (proxyPort, ca) => ({ caCerts: ca.pem, resolve: { [BUCKET_HOST]: [`127.0.0.1:${proxyPort}`] } }),
    aliOssOptions: (proxyPort, ca) => ({
      endpoint: `https://${REGION_HOST}:${proxyPort}`,
      httpsAgent: { caFile: ca.file, address: '127.0.0.1' },
    }),
    curl: (port, resource, ca) => ({
      url: `https://${BUCKET_HOST}:${port}${resource}`,
      args: ['--cacert', ca.file, '--resolve', `${BUCKET_HOST}:${port}:127.0.0.1`],
    }),
    // TCP's handshake, TLS 1.3's one round trip, then the request.
    firstRoundTrips: 3,
  },
};

/** The emulator, in the transport's mode; a clear error when it cannot serve that mode. */
async function startEmulatorFor(mode, bin, work) {
  const common = { bin, dataDir: null, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, workerThreads: 1 };
  if (mode === 'http') return { emu: await startEmulator(common), ca: null };
  const caFile = path.join(work, 'emulator-ca.pem');
  let help = '';
  try {
    help = execFileSync(bin, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    help = `${e.stdout || ''}${e.stderr || ''}`;
  }
  const missing = ['--tls-generate', '--tls-ca-out'].filter((f) => !help.includes(f));
  const refused = new Error(`--tls: ${bin} does not serve HTTPS yet (its --help lists no ${missing.join(' / ') || 'TLS options'}; ` +
    'the emulator\'s TLS mode, issue 13 item 1, has to land first). Plain mode (without --tls) works now.');
  refused.expected = true;
  if (missing.length) throw refused;
  const emu = await startEmulator({
    ...common,
    extraArgs: TRANSPORTS.https.emulatorArgs(caFile),
    onEarlyExit: (stderr) => (/tls/i.test(stderr) ? new Error(`--tls: the emulator refused its TLS options:\n${stderr}`) : null),
  });
  if (!emu.endpoint.startsWith('https://')) {
    await emu.stop();
    throw new Error(`--tls: the emulator printed ${emu.endpoint}, not an https:// URL`);
  }
  const pem = fs.readFileSync(caFile, 'utf8');
  if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`--tls: ${caFile} holds no PEM certificate`);
  emu.ca = pem;
  return { emu, ca: { file: caFile, pem } };
}

// ------------------------------------------------------------------------------------------
// The proxy process

function startProxy({ upstreamPort, rttMs, rateMbit }) {
  const args = [path.join(__dirname, 'latency-proxy.js'), '--upstream', `127.0.0.1:${upstreamPort}`,
    '--rtt-ms', String(rttMs), '--rate-mbit', String(rateMbit)];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  // The proxy stands for the network, which does not wait for a CPU: a higher priority keeps
  // its timers on time when the machine is busy (only root may raise it; otherwise as is).
  let niced = false;
  try {
    os.setPriority(child.pid, -10);
    niced = true;
  } catch { /* not root */ }
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w.resolve(line);
  });
  exited.then(({ code, signal }) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`latency-proxy ended with ${code ?? signal}`));
  });
  const next = (ms = 10000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('latency-proxy did not answer in 10 s')), ms);
    waiting.push({
      resolve: (l) => { clearTimeout(timer); resolve(l); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    });
  });
  return next().then((first) => {
    const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(first);
    if (!m) throw new Error(`latency-proxy: unexpected first line ${first}`);
    return {
      port: Number(m[1]),
      pid: child.pid,
      niced,
      rttMs,
      rateMbit,
      async stats() {
        const p = next();
        child.stdin.write('stats\n');
        const line = await p;
        if (!line.startsWith('STATS ')) throw new Error(`latency-proxy: ${line}`);
        return JSON.parse(line.slice(6));
      },
      async reset() {
        const p = next();
        child.stdin.write('reset\n');
        if ((await p) !== 'RESET') throw new Error('latency-proxy: no RESET');
      },
      async stop() {
        child.stdin.end();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      },
    };
  });
}

// ------------------------------------------------------------------------------------------
// Runs

function rotate(list, by) {
  const k = by % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

/** One worker run through the proxy; adds the proxy's counters and CPU for that run. */
async function runVia(ctx, proxy, client, spec) {
  const t = TRANSPORTS[ctx.mode];
  await proxy.reset();
  const proxyCpu0 = cpuSeconds(proxy.pid);
  const options = client === 'oss-append'
    ? { ossAppendOptions: t.ossAppendOptions(proxy.port, ctx.ca) }
    : { aliOssOptions: t.aliOssOptions(proxy.port, ctx.ca) };
  const run = await runWorker(ctx.emu, {
    client, dist: ctx.dist, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, ...options, ...spec,
  });
  run.proxyCpuS = cpuSeconds(proxy.pid) - proxyCpu0;
  run.otherCores = run.load.otherCores; // the machine's load besides client and emulator (proxy included)
  run.proxy = await proxy.stats();
  await removeObject(ctx.emu, spec.key);
  if (spec.mode === 'chain' && spec.warmup > 0) await removeObject(ctx.emu, `${spec.key}.warmup`);
  return run;
}

/** curl --data-binary @file (the file is in memory before curl connects): the wire's ceiling. */
function runCurl(ctx, port, { file, key }) {
  const date = new Date().toUTCString();
  const contentType = 'application/octet-stream';
  const query = '?append&position=0';
  const auth = signV1(ctx.emu, { method: 'POST', contentType, date, resource: `/${BUCKET}/${key}${query}` });
  const { url, args } = TRANSPORTS[ctx.mode].curl(port, `/${key}${query}`, ctx.ca);
  const argv = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', '-X', 'POST', '-H', `Date: ${date}`,
    '-H', `Content-Type: ${contentType}`, '-H', `Authorization: ${auth}`, '-H', 'Expect:', ...args,
    '--data-binary', `@${file}`, url];
  const out = execFileSync('curl', argv, { encoding: 'utf8' }).trim().split(' ');
  if (out[0] !== '200') throw new Error(`curl through the proxy: HTTP ${out[0]}`);
  return Number(out[1]) * 1000;
}

const mbit = (bytes, ms) => (bytes * 8) / (ms / 1000) / 1e6;

async function scenarioCeiling(ctx, o, file, size) {
  const proxy = await startProxy({ upstreamPort: ctx.emuPort, rttMs: 0, rateMbit: 0 });
  try {
    const rows = { 'oss-append': [], 'curl via proxy': [], 'curl direct': [] };
    for (let r = 0; r < o.ceilingRuns; r++) {
      const run = await runVia(ctx, proxy, 'oss-append', { mode: 'file', file, size, key: `rtt/ceiling/oa-${r}.bin` });
      rows['oss-append'].push({ mibPerS: size / MiB / (run.result.elapsedMs / 1000), proxyCpuS: run.proxyCpuS });
      await proxy.reset();
      const c0 = cpuSeconds(proxy.pid);
      const ms = runCurl(ctx, proxy.port, { file, key: `rtt/ceiling/curl-${r}.bin` });
      rows['curl via proxy'].push({ mibPerS: size / MiB / (ms / 1000), proxyCpuS: cpuSeconds(proxy.pid) - c0 });
      await removeObject(ctx.emu, `rtt/ceiling/curl-${r}.bin`);
      const direct = runCurl(ctx, ctx.emuPort, { file, key: `rtt/ceiling/direct-${r}.bin` });
      rows['curl direct'].push({ mibPerS: size / MiB / (direct / 1000) });
      await removeObject(ctx.emu, `rtt/ceiling/direct-${r}.bin`);
      log(`ceiling run ${r + 1}/${o.ceilingRuns}: oss-append via proxy ${rows['oss-append'][r].mibPerS.toFixed(0)} MiB/s, ` +
        `curl via proxy ${rows['curl via proxy'][r].mibPerS.toFixed(0)}, curl direct ${rows['curl direct'][r].mibPerS.toFixed(0)}`);
    }
    const out = { size, proxyNiced: proxy.niced };
    for (const [k, v] of Object.entries(rows)) {
      out[k] = { mibPerS: median(v.map((x) => x.mibPerS)), mbitPerS: median(v.map((x) => x.mibPerS * MiB * 8 / 1e6)) };
      if (v[0].proxyCpuS !== undefined) out[k].proxyCpuSPerGiB = median(v.map((x) => x.proxyCpuS / (size / (1024 * MiB))));
    }
    return out;
  } finally {
    await proxy.stop();
  }
}

async function scenarioChain(ctx, o, rttMs) {
  const proxy = await startProxy({ upstreamPort: ctx.emuPort, rttMs, rateMbit: 0 });
  try {
    const by = { 'oss-append': [], 'ali-oss': [] };
    for (let r = 0; r < o.chainRuns; r++) {
      for (const c of rotate(Object.keys(by), r)) {
        const run = await runVia(ctx, proxy, c, { mode: 'chain', chunk: o.chunk, count: o.appends, warmup: o.warmup, key: `rtt/chain/${c}/${r}.log` });
        const lat = run.result.latencies;
        const requests = o.appends + o.warmup;
        const x = {
          p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), maxMs: Math.max(...lat),
          connections: run.proxy.connections, flightsPerAppend: run.proxy.flights / requests,
          clientCpuUsPerAppend: (run.clientCpuS / requests) * 1e6, otherCores: run.otherCores,
          proxyLatenessP50Ms: run.proxy.latenessMs.p50, proxyLatenessP99Ms: run.proxy.latenessMs.p99,
        };
        by[c].push(x);
        log(`chain (${rttMs} ms) run ${r + 1}/${o.chainRuns} ${c}: p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms, ` +
          `${x.connections} connection(s), ${x.flightsPerAppend.toFixed(2)} flights/append`);
      }
    }
    return summarize(by, { appends: o.appends, warmup: o.warmup, chunk: o.chunk, rttMs, proxyNiced: proxy.niced });
  } finally {
    await proxy.stop();
  }
}

async function scenarioFirst(ctx, o, rttMs) {
  const proxy = await startProxy({ upstreamPort: ctx.emuPort, rttMs, rateMbit: 0 });
  try {
    const by = { 'oss-append': [], 'ali-oss': [] };
    for (let r = 0; r < o.firstRuns; r++) {
      for (const c of rotate(Object.keys(by), r)) {
        const run = await runVia(ctx, proxy, c, { mode: 'first', chunk: o.chunk, key: `rtt/first/${c}/${r}.log` });
        const x = {
          ms: run.result.elapsedMs, rtts: rttMs > 0 ? run.result.elapsedMs / rttMs : null, connections: run.proxy.connections,
          flights: run.proxy.flights, roundTrips: run.proxy.connections + run.proxy.flights,
          bytesC2S: run.proxy.bytesC2S, bytesS2C: run.proxy.bytesS2C, otherCores: run.otherCores,
        };
        by[c].push(x);
        log(`first append (${rttMs} ms) run ${r + 1}/${o.firstRuns} ${c}: ${x.ms.toFixed(1)} ms = ${fmt(x.rtts)} RTT, ` +
          `${x.connections} connection(s), ${x.flights} flight(s)`);
      }
    }
    return summarize(by, { chunk: o.chunk, rttMs, proxyNiced: proxy.niced, expectedRoundTrips: TRANSPORTS[ctx.mode].firstRoundTrips });
  } finally {
    await proxy.stop();
  }
}

async function scenarioFile(ctx, o, { file, size, rateMbit, runs, label }) {
  const proxy = await startProxy({ upstreamPort: ctx.emuPort, rttMs: o.rttMs, rateMbit });
  try {
    const by = { 'oss-append': [], 'ali-oss': [] };
    for (let r = 0; r < runs; r++) {
      for (const c of rotate(Object.keys(by), r)) {
        const run = await runVia(ctx, proxy, c, { mode: 'file', file, size, key: `rtt/${label}/${c}/${r}.bin` });
        const ms = run.result.elapsedMs;
        const x = {
          seconds: ms / 1000, mibPerS: size / MiB / (ms / 1000), mbitPerS: mbit(size, ms),
          clientCpuS: run.clientCpuS, clientCpuMsPerMiB: (run.clientCpuS * 1000) / (size / MiB),
          proxyCpuS: run.proxyCpuS, emulatorCpuS: run.emulatorCpuS, connections: run.proxy.connections,
          flights: run.proxy.flights, peakRssMiB: run.peakRss / MiB, otherCores: run.otherCores, crc: run.result.crc,
        };
        by[c].push(x);
        log(`${label} run ${r + 1}/${runs} ${c}: ${x.seconds.toFixed(3)} s, ${x.mbitPerS.toFixed(1)} Mbit/s, ` +
          `client CPU ${x.clientCpuS.toFixed(2)} s (${x.clientCpuMsPerMiB.toFixed(2)} ms/MiB), proxy CPU ${x.proxyCpuS.toFixed(2)} s`);
      }
    }
    const crcs = new Set(Object.values(by).flat().map((x) => x.crc));
    if (crcs.size !== 1) throw new Error(`${label}: the clients' objects differ (CRC-64s ${[...crcs].join(', ')})`);
    for (const xs of Object.values(by)) for (const x of xs) delete x.crc;
    return summarize(by, { size, rttMs: o.rttMs, rateMbit, proxyNiced: proxy.niced });
  } finally {
    await proxy.stop();
  }
}

/** Medians per client of every numeric field, plus all runs. */
function summarize(by, extra) {
  const clients = {};
  for (const [c, xs] of Object.entries(by)) {
    const m = { runs: xs.length };
    for (const k of Object.keys(xs[0])) m[k] = median(xs.map((x) => x[k]));
    m.all = xs;
    clients[c] = m;
  }
  return { ...extra, clients };
}

// ------------------------------------------------------------------------------------------
// Targets and report

function targets(s, o, mode) {
  const ch = s.chain.clients;
  const fi = s.first.clients;
  const big = s.big.clients;
  const cpu = s.cpu.clients;
  const t = [];
  const oaP50 = ch['oss-append'].p50Ms;
  t.push({
    name: `1 KiB append p50 at ${o.rttMs} ms RTT within 5 % of one RTT`,
    value: oaP50, target: o.rttMs * 1.05, unit: 'ms', met: oaP50 <= o.rttMs * 1.05,
    detail: `${fmt(oaP50)} ms = ${fmt(oaP50 / o.rttMs, 3)} RTT (p99 ${fmt(ch['oss-append'].p99Ms)} ms)`,
  });
  t.push({
    name: '1 KiB append p50 <= ali-oss',
    value: oaP50, target: ch['ali-oss'].p50Ms, unit: 'ms', met: oaP50 <= ch['ali-oss'].p50Ms,
    detail: `${fmt(oaP50)} vs ${fmt(ch['ali-oss'].p50Ms)} ms (p99 ${fmt(ch['oss-append'].p99Ms)} vs ${fmt(ch['ali-oss'].p99Ms)} ms)`,
  });
  const exp = s.first.expectedRoundTrips;
  const f = fi['oss-append'];
  t.push({
    name: `first append of a new client: ${exp} round trips (${mode === 'https' ? 'TCP + TLS 1.3 + request' : 'TCP + request'})`,
    value: f.roundTrips, target: exp, unit: 'round trips', met: f.roundTrips <= exp,
    detail: `${fmt(f.roundTrips, 0)} round trips (${fmt(f.connections, 0)} connection, ${fmt(f.flights, 0)} flights), ` +
      `${fmt(f.ms, 1)} ms = ${fmt(f.rtts)} RTT, of which ${fmt(s.firstFloor.clients['oss-append'].ms, 1)} ms are the client's ` +
      `start at 0 ms RTT (ali-oss ${fmt(fi['ali-oss'].roundTrips, 0)} round trips, ${fmt(fi['ali-oss'].rtts)} RTT)`,
  });
  const oaBig = big['oss-append'].mbitPerS;
  t.push({
    name: `${s.big.size / MiB} MiB append at ${o.rttMs} ms RTT and ${o.rateMbit} Mbit/s >= 0.9x the link rate`,
    value: oaBig / o.rateMbit, target: 0.9, unit: 'x link rate', met: oaBig >= 0.9 * o.rateMbit,
    detail: `${fmt(oaBig, 1)} Mbit/s = ${fmt(oaBig / o.rateMbit, 3)}x (ali-oss ${fmt(big['ali-oss'].mbitPerS, 1)} Mbit/s)`,
  });
  const r = cpu['oss-append'].clientCpuMsPerMiB / cpu['ali-oss'].clientCpuMsPerMiB;
  t.push({
    name: `client CPU per MiB, ${s.cpu.size / MiB} MiB fd append through the proxy <= 0.5x ali-oss`,
    value: r, target: 0.5, unit: 'x ali-oss', met: r <= 0.5,
    detail: `${fmt(cpu['oss-append'].clientCpuMsPerMiB, 3)} vs ${fmt(cpu['ali-oss'].clientCpuMsPerMiB, 3)} ms/MiB = ${fmt(r)}x`,
  });
  return t;
}

function report(res) {
  const s = res.scenarios;
  const L = [];
  const c = s.ceiling;
  L.push(`Load: the machine was busy ${fmt(res.load.machineBusyCores)} cores on average (all processes, ours included), ` +
    `loadavg ${res.load.loadavgBefore[0]} -> ${res.load.loadavgAfter[0]}`);
  L.push(`Transport: ${res.transport}; RTT ${res.options.rttMs} ms; proxy ceiling at 0 ms, no cap: ` +
    `oss-append ${fmt(c['oss-append'].mibPerS, 0)} MiB/s, curl ${fmt(c['curl via proxy'].mibPerS, 0)} MiB/s ` +
    `(${fmt(c['curl via proxy'].mbitPerS, 0)} Mbit/s; direct ${fmt(c['curl direct'].mibPerS, 0)} MiB/s)`);
  const row = (label, a, b, d = 2) => L.push(`  ${label.padEnd(48)} ${fmt(a, d).padStart(10)} ${fmt(b, d).padStart(10)}`);
  L.push(`  ${''.padEnd(48)} ${'oss-append'.padStart(10)} ${'ali-oss'.padStart(10)}`);
  const ch = s.chain.clients;
  row(`1 KiB chain p50, ms (${s.chain.appends} appends)`, ch['oss-append'].p50Ms, ch['ali-oss'].p50Ms);
  row('1 KiB chain p99, ms', ch['oss-append'].p99Ms, ch['ali-oss'].p99Ms);
  row('1 KiB chain flights per append', ch['oss-append'].flightsPerAppend, ch['ali-oss'].flightsPerAppend);
  row('1 KiB chain connections', ch['oss-append'].connections, ch['ali-oss'].connections, 0);
  const cf = s.chainFloor.clients;
  row('1 KiB chain p50 at 0 ms through the proxy, ms', cf['oss-append'].p50Ms, cf['ali-oss'].p50Ms, 3);
  row('proxy lateness p50 / p99 in the chain, ms', ch['oss-append'].proxyLatenessP50Ms, ch['oss-append'].proxyLatenessP99Ms, 3);
  const fi = s.first.clients;
  row('first append, ms', fi['oss-append'].ms, fi['ali-oss'].ms, 1);
  row('first append, RTTs', fi['oss-append'].rtts, fi['ali-oss'].rtts);
  row('first append at 0 ms through the proxy, ms', s.firstFloor.clients['oss-append'].ms, s.firstFloor.clients['ali-oss'].ms, 1);
  row('other load during the chain runs, cores', ch['oss-append'].otherCores, ch['ali-oss'].otherCores);
  row('first append, round trips (connections + flights)', fi['oss-append'].roundTrips, fi['ali-oss'].roundTrips, 0);
  const big = s.big.clients;
  row(`${s.big.size / MiB} MiB at ${s.big.rateMbit} Mbit/s, Mbit/s`, big['oss-append'].mbitPerS, big['ali-oss'].mbitPerS, 1);
  row(`${s.big.size / MiB} MiB, s`, big['oss-append'].seconds, big['ali-oss'].seconds, 3);
  const cpu = s.cpu.clients;
  row(`${s.cpu.size / MiB} MiB fd, client CPU ms per MiB`, cpu['oss-append'].clientCpuMsPerMiB, cpu['ali-oss'].clientCpuMsPerMiB, 3);
  row(`${s.cpu.size / MiB} MiB fd, MiB/s`, cpu['oss-append'].mibPerS, cpu['ali-oss'].mibPerS, 0);
  L.push('Targets:');
  for (const t of res.targets) L.push(`  [${t.met ? 'met' : 'NOT met'}] ${t.name}: ${t.detail}`);
  return L.join('\n');
}

// ------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const mode = o.tls ? 'https' : 'http';
  const dist = process.env.OSS_APPEND_DIST || path.join(REPO, 'dist', 'node');
  const bin = process.env.OSS_EMULATOR_BIN || path.join(targetDir(), 'release', 'oss-emulator');
  for (const p of [bin, path.join(dist, 'oss_append.node')]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: run bash bench/rtt.sh (it builds the release artefacts)`);
  }
  const base = process.env.BENCH_TMPDIR || (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const work = fs.mkdtempSync(path.join(base, 'oss-append-rtt-'));
  let emu = null;
  try {
    const started = await startEmulatorFor(mode, bin, work);
    emu = started.emu;
    const emuPort = Number(new URL(emu.endpoint).port);
    const ctx = { mode, emu, ca: started.ca, dist, emuPort };
    log(`emulator pid ${emu.pid} at ${emu.endpoint}; ${mode}; RTT ${o.rttMs} ms`);
    const sizes = [...new Set([256, o.bigMiB, o.cpuMiB])].map((m) => m * MiB);
    const files = Object.fromEntries(sizes.map((sz) => [sz, makeFile(work, sz)]));
    // The emulator's first buffer of each size costs it page faults: one uncounted upload each.
    for (const sz of sizes) {
      runCurl(ctx, emuPort, { file: files[sz], key: `rtt/warm-up-${sz}.bin` });
      await removeObject(emu, `rtt/warm-up-${sz}.bin`);
    }
    const overall = loadWindow();
    const res = {
      date: new Date().toISOString(), transport: mode, machine: machine(), options: { ...o, out: undefined },
      dist: path.relative(REPO, dist) || dist,
      proxy: 'bench/latency-proxy.js (userspace TCP relay on 127.0.0.1: RTT/2 each way per chunk, serialisation-delay bandwidth cap, TCP handshake = 1 RTT)',
      scenarios: {},
    };
    log('scenario 0: the proxy\'s ceiling (0 ms, no cap)');
    res.scenarios.ceiling = await scenarioCeiling(ctx, o, files[256 * MiB], 256 * MiB);
    log('the floor: scenarios 1 and 2 through the proxy at 0 ms (client + proxy + emulator, no delay)');
    res.scenarios.chainFloor = await scenarioChain(ctx, o, 0);
    res.scenarios.firstFloor = await scenarioFirst(ctx, o, 0);
    log(`scenario 1: ${o.appends} chained 1 KiB appends at ${o.rttMs} ms RTT, ${o.chainRuns} runs per client`);
    res.scenarios.chain = await scenarioChain(ctx, o, o.rttMs);
    log(`scenario 2: a new client's first append, ${o.firstRuns} runs per client`);
    res.scenarios.first = await scenarioFirst(ctx, o, o.rttMs);
    log(`scenario 3: ${o.bigMiB} MiB at ${o.rttMs} ms RTT and ${o.rateMbit} Mbit/s, ${o.bigRuns} runs per client`);
    res.scenarios.big = await scenarioFile(ctx, o, { file: files[o.bigMiB * MiB], size: o.bigMiB * MiB, rateMbit: o.rateMbit, runs: o.bigRuns, label: 'big' });
    log(`scenario 4: ${o.cpuMiB} MiB fd append at ${o.rttMs} ms RTT, no cap: client CPU, ${o.cpuRuns} runs per client`);
    res.scenarios.cpu = await scenarioFile(ctx, o, { file: files[o.cpuMiB * MiB], size: o.cpuMiB * MiB, rateMbit: 0, runs: o.cpuRuns, label: 'cpu' });
    res.targets = targets(res.scenarios, o, mode);
    res.load = overall(0);
    delete res.load.otherCores; // whole run, our own processes included
    const stop = await emu.stop();
    emu = null;
    if (stop.code !== 0) throw new Error(`oss-emulator ended with ${stop.code ?? stop.signal}`);

    // Into results.json under rtt.<mode>; everything else in the file stays as it is.
    let all = {};
    if (fs.existsSync(o.out)) all = JSON.parse(fs.readFileSync(o.out, 'utf8'));
    all.rtt = { ...(all.rtt || {}), [mode]: res };
    fs.writeFileSync(o.out, `${JSON.stringify(all, null, 2)}\n`);
    process.stdout.write(`\n${report(res)}\n\nJSON: ${o.out} (rtt.${mode})\n`);
  } finally {
    if (emu) await emu.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { TRANSPORTS, startProxy };

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`rtt: ${e && e.expected ? e.message : e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}
