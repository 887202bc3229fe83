'use strict';
// Where the time goes in oss-append's two paths (run by bench/profile.sh after the release
// builds): the fd path (one append from a file) and the 1 KiB path (chained 1 KiB appends), each
// in a worker.js process against oss-emulator, like bench.js.
//
// Tool: `perf record -e cycles` when `perf stat -e instructions true` counts (hardware counters),
// else valgrind --tool=callgrind on smaller runs. Callgrind counts user-space instructions only
// (no kernel, no waiting) and its CPU model lacks AVX-512 and SHA-NI, so SIMD CRC-64 and SHA-256
// take their portable paths there: read its SHA-256 share as an upper bound. Each workload is
// run twice (large and baseline) and the difference is reported per append / per MiB, so Node's
// startup and module loading drop out. Where perf can sample at all (cpu-clock, a software
// event), a time profile of the full-size runs (kernel included, by thread and by symbol) is
// added.
//
//   node bench/profile.js [--out DIR] [--appends N] [--file-mib N] [--no-sampling]

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { removeObject, makeFile, targetDir, AK, SK, BUCKET, MiB } = require('./bench');
const { startEmulator } = require('./lib');

function parseArgs(argv) {
  const o = { out: path.join(os.tmpdir(), 'oss-append-profile'), appends: 2000, fileMiB: 32, sampling: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') o.out = path.resolve(argv[++i]);
    else if (a === '--appends') o.appends = Number(argv[++i]);
    else if (a === '--file-mib') o.fileMiB = Number(argv[++i]);
    else if (a === '--no-sampling') o.sampling = false;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function works(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 && !/not supported|<not counted>/.test(`${r.stdout}${r.stderr}`);
}

/** Runs worker.js under `wrapper` (argv prefix), feeding `go` and closing stdin. */
function runWrapped(wrapper, spec) {
  return new Promise((resolve, reject) => {
    const argv = [...wrapper, process.execPath, path.join(__dirname, 'worker.js'), JSON.stringify(spec)];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err = (err + d).slice(-20000); });
    child.stdin.end('go\n');
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || !out.includes('RESULT ')) reject(new Error(`${argv.join(' ').slice(0, 200)}: exit ${code}\n${out.slice(-2000)}\n${err}`));
      else resolve(err);
    });
  });
}

/** callgrind_annotate's per-function totals (inclusive or exclusive) as {name: Ir}. */
function annotate(file, inclusive) {
  const r = spawnSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', file], {
    encoding: 'utf8', maxBuffer: 256 * MiB,
  });
  const d = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m) continue;
    // "file:function [object]" -> "function [object basename]"
    let name = m[2].trim().replace(/^\S*?:(?=[^:])/, '');
    name = name.replace(/\[(\/[^\]]*\/)?([^\]/]+)\]$/, '[$2]');
    d[name] = (d[name] || 0) + Number(m[1].replace(/,/g, ''));
  }
  return d;
}

function diffTop(big, small, per, n) {
  const rows = Object.keys(big).map((k) => [k, (big[k] - (small[k] || 0)) / per]);
  return rows.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, n);
}

function byObject(excl) {
  const d = {};
  for (const [k, v] of Object.entries(excl)) {
    if (k === 'PROGRAM TOTALS') continue;
    const m = /\[([^\]]+)\]$/.exec(k);
    const obj = m ? m[1] : '(unknown object)';
    d[obj] = (d[obj] || 0) + v;
  }
  return d;
}

async function callgrindPair(o, label, unit, per, specBig, specSmall, cleanup) {
  const files = {};
  for (const [tag, spec] of [['big', specBig], ['small', specSmall]]) {
    files[tag] = path.join(o.out, `callgrind.${label}.${tag}.out`);
    process.stderr.write(`[profile] callgrind ${label} (${tag})\n`);
    await runWrapped(['valgrind', '--tool=callgrind', `--callgrind-out-file=${files[tag]}`], spec);
    await cleanup(spec);
  }
  const inclB = annotate(files.big, true);
  const inclS = annotate(files.small, true);
  const exclB = annotate(files.big, false);
  const exclS = annotate(files.small, false);
  const total = ((inclB['PROGRAM TOTALS'] || 0) - (inclS['PROGRAM TOTALS'] || 0)) / per;
  const lines = [`## ${label}: ${Math.round(total).toLocaleString('en')} user-space instructions per ${unit} (callgrind)`, ''];
  lines.push('By object (exclusive):');
  for (const [k, v] of diffTop(byObject(exclB), byObject(exclS), per, 12)) {
    lines.push(`  ${Math.round(v).toString().padStart(10)}  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
  lines.push('', 'Top functions, exclusive:');
  for (const [k, v] of diffTop(exclB, exclS, per, 31)) {
    if (k === 'PROGRAM TOTALS') continue;
    lines.push(`  ${Math.round(v).toString().padStart(10)}  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k.slice(0, 150)}`);
  }
  lines.push('', 'Top functions, inclusive:');
  for (const [k, v] of diffTop(inclB, inclS, per, 60)) {
    if (k === 'PROGRAM TOTALS') continue;
    lines.push(`  ${Math.round(v).toString().padStart(10)}  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k.slice(0, 150)}`);
  }
  return lines.join('\n');
}

function perfReport(data, sort, n, children = false) {
  const r = spawnSync('perf', ['report', '-i', data, children ? '--children' : '--no-children', '--sort', sort, '-g', 'none', '--stdio'], {
    encoding: 'utf8', maxBuffer: 256 * MiB,
  });
  return r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('#')).slice(0, n).join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(o.out, { recursive: true });
  const bin = process.env.OSS_EMULATOR_BIN || path.join(targetDir(), 'release', 'oss-emulator');
  const dist = process.env.OSS_APPEND_DIST || path.join(__dirname, '..', 'dist', 'node');
  const hwPerf = works('perf', ['stat', '-e', 'instructions', 'true']);
  const swPerf = o.sampling && works('perf', ['stat', '-e', 'cpu-clock', 'true']);
  const haveValgrind = works('valgrind', ['--version']);
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const work = fs.mkdtempSync(path.join(base, 'oss-append-profile-'));
  const emus = [];
  const report = [`# oss-append profile (${new Date().toISOString()})`, ''];
  try {
    // As in bench.js: objects in memory, one runtime worker (the emulator's cheapest mode).
    const common = { bin, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK, workerThreads: 1 };
    const memEmu = await startEmulator({ ...common, dataDir: null });
    emus.push(memEmu);
    const spec = { client: 'oss-append', dist, bucket: BUCKET, accessKeyId: AK, accessKeySecret: SK };
    const chain = (count, key) => ({ ...spec, mode: 'chain', chunk: 1024, count, warmup: 20, key, endpoint: memEmu.endpoint });
    const file = (size, key) => ({ ...spec, mode: 'file', file: makeFile(work, size), size, key, endpoint: memEmu.endpoint });
    const cleanChain = async (s) => {
      await removeObject(memEmu, s.key);
      await removeObject(memEmu, `${s.key}.warmup`);
    };
    const cleanFile = (s) => removeObject(memEmu, s.key);

    if (hwPerf) {
      report.push('Hardware counters work: perf record -e cycles (full-size runs).', '');
      for (const [label, s, clean] of [['1 KiB path', chain(10000, 'p/chain'), cleanChain], ['fd path', file(256 * MiB, 'p/file'), cleanFile]]) {
        const data = path.join(o.out, `perf.${label.replace(/\W+/g, '_')}.data`);
        await runWrapped(['perf', 'record', '-e', 'cycles', '-F', '4000', '-o', data], s);
        await clean(s);
        report.push(`## ${label}`, '```', perfReport(data, 'comm', 6), '', perfReport(data, 'dso,sym', 40), '```', '');
      }
    } else if (haveValgrind) {
      report.push('perf has no hardware counters here (`perf stat -e instructions true`: not supported): callgrind.', '');
      report.push(await callgrindPair(o, '1 KiB path', 'append', o.appends, chain(o.appends, 'cg/chain'), chain(0, 'cg/chain0'), cleanChain), '');
      report.push(await callgrindPair(o, 'fd path', 'MiB', o.fileMiB - 1 / 256, file(o.fileMiB * MiB, 'cg/file'), file(4096, 'cg/file0'), cleanFile), '');
    } else {
      report.push('Neither perf hardware counters nor valgrind: no instruction profile.', '');
    }

    if (swPerf && !hwPerf) {
      report.push('# Time profile: perf record -e cpu-clock --call-graph dwarf (sampling, kernel included; full-size runs)', '');
      for (const [label, s, clean] of [['1 KiB path, 10000 appends', chain(10000, 'p/chain'), cleanChain], ['fd path, 256 MiB', file(256 * MiB, 'p/file'), cleanFile]]) {
        const data = path.join(o.out, `perf.${label.replace(/\W+/g, '_')}.data`);
        process.stderr.write(`[profile] perf cpu-clock ${label}\n`);
        await runWrapped(['perf', 'record', '-e', 'cpu-clock', '-F', '2000', '--call-graph', 'dwarf,16384', '-o', data], s);
        await clean(s);
        report.push(`## ${label}`, '```', perfReport(data, 'comm', 6), '', perfReport(data, 'dso', 10), '', perfReport(data, 'dso,sym', 40),
          '', '(inclusive: a function with everything it calls)', perfReport(data, 'sym', 60, true), '```', '');
      }
    }
  } finally {
    for (const e of emus) await e.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const text = report.join('\n');
  fs.writeFileSync(path.join(o.out, 'profile.md'), `${text}\n`);
  process.stdout.write(`${text}\n\nWritten to ${path.join(o.out, 'profile.md')}\n`);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`profile: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}
