'use strict';
// A/B comparison of oss-append builds (for evaluating a proposed change): the 1 KiB chain and
// the fd append of bench.js, the builds interleaved run by run so that the machine's changing
// load hits them alike. Each build is a dist/node directory (./build.sh node --release, or a
// copy of dist/node with another oss_append.node).
//
//   node bench/ab.js --dist base=dist/node --dist variant=/tmp/variant/dist/node \
//                    [--runs 9] [--appends 2000] [--file-mib 256] [--only chain|file]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runWorker, removeObject, makeFile, targetDir, AK, SK, BUCKET, MiB } = require('./bench');
const { median, percentile, startEmulator } = require('./lib');

function parseArgs(argv) {
  const o = { dists: [], runs: 9, appends: 2000, warmup: 50, fileMiB: 256, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dist') {
      const [name, dir] = argv[++i].split('=');
      o.dists.push({ name, dir: path.resolve(dir) });
    } else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--appends') o.appends = Number(argv[++i]);
    else if (a === '--file-mib') o.fileMiB = Number(argv[++i]);
    else if (a === '--only') o.only = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  if (o.dists.length < 1) throw new Error('give at least one --dist NAME=DIR');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const bin = process.env.OSS_EMULATOR_BIN || path.join(targetDir(), 'release', 'oss-emulator');
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const work = fs.mkdtempSync(path.join(base, 'oss-append-ab-'));
  const emus = [];
  try {
    const common = { bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, bin, workerThreads: 1 };
    const memEmu = await startEmulator({ ...common, dataDir: null });
    emus.push(memEmu);
    const size = o.fileMiB * MiB;
    const file = o.only === 'chain' ? null : makeFile(work, size);
    if (file) {
      // The emulator's first large buffer costs it page faults; no build's run should pay them.
      const spec = { client: 'oss-append', dist: o.dists[0].dir, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK };
      await runWorker(memEmu, { ...spec, mode: 'file', file, size, key: 'ab/warm-up.bin', endpoint: memEmu.endpoint });
      await removeObject(memEmu, 'ab/warm-up.bin');
    }
    const rows = Object.fromEntries(o.dists.map((d) => [d.name, { chain: [], file: [] }]));
    for (let r = 0; r < o.runs; r++) {
      const order = o.dists.slice(r % o.dists.length).concat(o.dists.slice(0, r % o.dists.length));
      for (const d of order) {
        const spec = { client: 'oss-append', dist: d.dir, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK };
        if (o.only !== 'file') {
          const key = `ab/${d.name}/${r}.log`;
          const run = await runWorker(memEmu, { ...spec, mode: 'chain', chunk: 1024, count: o.appends, warmup: o.warmup, key, endpoint: memEmu.endpoint });
          await removeObject(memEmu, key);
          await removeObject(memEmu, `${key}.warmup`);
          const lat = run.result.latencies;
          rows[d.name].chain.push({
            p50: percentile(lat, 50), p99: percentile(lat, 99), perS: lat.length / (run.result.elapsedMs / 1000),
            cpuUs: (run.clientCpuS / o.appends) * 1e6, emuUs: (run.emulatorCpuS / o.appends) * 1e6, other: run.load.otherCores,
          });
        }
        if (o.only !== 'chain') {
          const key = `ab/${d.name}/${r}.bin`;
          const run = await runWorker(memEmu, { ...spec, mode: 'file', file, size, key, endpoint: memEmu.endpoint });
          await removeObject(memEmu, key);
          rows[d.name].file.push({
            mibPerS: size / MiB / (run.result.elapsedMs / 1000), cpuS: run.clientCpuS, peakMiB: run.peakRss / MiB,
            emuCores: run.emulatorCpuS / (run.result.elapsedMs / 1000), other: run.load.otherCores,
          });
        }
      }
      process.stderr.write(`[ab] run ${r + 1}/${o.runs} done\n`);
    }
    const m = (xs, k, d = 3) => median(xs.map((x) => x[k])).toFixed(d);
    for (const [name, v] of Object.entries(rows)) {
      const parts = [name.padEnd(12)];
      if (v.chain.length) {
        parts.push(`chain p50 ${m(v.chain, 'p50')} ms p99 ${m(v.chain, 'p99')} ms ${m(v.chain, 'perS', 0)}/s ` +
          `cpu ${m(v.chain, 'cpuUs', 0)} us/append emu ${m(v.chain, 'emuUs', 0)} us other ${m(v.chain, 'other', 2)} cores`);
      }
      if (v.file.length) {
        parts.push(`file ${m(v.file, 'mibPerS', 0)} MiB/s cpu ${m(v.file, 'cpuS', 3)} s peak ${m(v.file, 'peakMiB', 1)} MiB ` +
          `emu ${m(v.file, 'emuCores', 2)} cores other ${m(v.file, 'other', 2)} cores`);
      }
      process.stdout.write(`${parts.join(' | ')}\n`);
    }
  } finally {
    for (const e of emus) await e.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`ab: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
