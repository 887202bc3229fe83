'use strict';
// Helpers shared by bench.js and worker.js: the emulator process, V1 signing for raw requests,
// /proc readings, statistics.

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const CLK_TCK = 100; // USER_HZ: what /proc/<pid>/stat counts in (100 on every Linux ABI we run on)

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** VmHWM (peak resident set) and VmRSS of a live process, in bytes. */
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
}

function loadavg() {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

/** OSS V1 header signature: `OSS ak:base64(hmac-sha1(sk, stringToSign))`. */
function signV1({ accessKeyId, accessKeySecret }, { method, contentMd5 = '', contentType = '', date, resource }) {
  const stringToSign = `${method}\n${contentMd5}\n${contentType}\n${date}\n${resource}`;
  const signature = crypto.createHmac('sha1', accessKeySecret).update(stringToSign).digest('base64');
  return `OSS ${accessKeyId}:${signature}`;
}

/**
 * A small signed path-style request to the emulator (DELETE/HEAD), resolving {status, headers}.
 * Over https when the emulator serves it (`emu.ca`: its CA's PEM).
 */
function signedRequest(emu, method, key) {
  const date = new Date().toUTCString();
  const resource = `/${emu.bucket}/${key}`;
  const headers = { Date: date, Authorization: signV1(emu, { method, date, resource }) };
  const secure = emu.endpoint.startsWith('https:');
  const options = secure ? { method, headers, ca: emu.ca } : { method, headers };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(`${emu.endpoint}${resource}`, options, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts `oss-emulator --listen 127.0.0.1:0 [--data-dir DIR] [--worker-threads N] ...` (objects
 * in memory when dataDir is null) and resolves with its endpoint and pid once it printed
 * `listening on http://127.0.0.1:PORT` (or `https://`, given `extraArgs` that make it serve
 * TLS). `onEarlyExit(stderr)` may turn an emulator that exits at once (e.g. refusing an option)
 * into a clearer error.
 */
function startEmulator({ bin, dataDir, bucket, accessKeyId, accessKeySecret, workerThreads, extraArgs = [], onEarlyExit }) {
  const args = ['--listen', '127.0.0.1:0', ...(dataDir ? ['--data-dir', dataDir] : []), '--bucket', bucket,
    '--access-key-id', accessKeyId, '--access-key-secret', accessKeySecret, '--region', 'cn-hangzhou',
    ...(workerThreads ? ['--worker-threads', String(workerThreads)] : []), ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-65536); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let buffered = '';
    let done = false;
    const timer = setTimeout(() => fail(new Error(`oss-emulator printed nothing in 20 s:\n${stderr}`)), 20000);
    function fail(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }
    child.on('error', fail);
    exited.then(({ code, signal }) => fail((onEarlyExit && onEarlyExit(stderr)) ||
      new Error(`oss-emulator exited early (${code ?? signal}):\n${stderr}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      if (done) return; // keep draining
      buffered += d;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      const m = /^listening on (https?:\/\/127\.0\.0\.1:\d+)$/.exec(buffered.slice(0, nl).trim());
      if (!m) return fail(new Error(`unexpected first line from oss-emulator: ${buffered.slice(0, nl)}`));
      done = true;
      clearTimeout(timer);
      resolve({
        endpoint: m[1],
        pid: child.pid,
        bucket,
        accessKeyId,
        accessKeySecret,
        stderr: () => stderr,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
          const res = await exited;
          clearTimeout(killer);
          return res;
        },
      });
    });
  });
}

module.exports = {
  REPO, cpuSeconds, memory, loadavg, median, percentile, signV1, signedRequest, startEmulator,
};
