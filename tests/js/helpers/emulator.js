'use strict';
// Starts the oss-emulator binary for one test suite: 127.0.0.1:0, a fresh temporary data dir,
// stopped with SIGTERM (and its exit status checked) at the end.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..', '..');

function binaryPath() {
  if (process.env.OSS_EMULATOR_BIN) return process.env.OSS_EMULATOR_BIN;
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO, process.env.CARGO_TARGET_DIR)
    : path.join(REPO, 'target');
  return path.join(target, 'debug', 'oss-emulator');
}

/**
 * `args`: extra command-line arguments, e.g. ['--enable-fault-admin'] or
 * ['--fault', 'action=drop-after-commit,key=k'].
 *
 * @param {{bucket: string, accessKeyId: string, accessKeySecret: string, securityToken?: string,
 *          region?: string, args?: string[]}} opts
 * @returns {Promise<{endpoint: string, dataDir: string, stop: () => Promise<void>,
 *          fault: (spec: string) => Promise<void>, faults: () => Promise<string>}>}
 */
async function startEmulator(opts) {
  const bin = binaryPath();
  if (!fs.existsSync(bin)) {
    throw new Error(`oss-emulator not found at ${bin}: run cargo build -p oss-emulator`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-js-'));
  const args = ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--bucket', opts.bucket,
    '--access-key-id', opts.accessKeyId, '--access-key-secret', opts.accessKeySecret,
    '--region', opts.region || 'cn-hangzhou'];
  if (opts.securityToken) args.push('--security-token', opts.securityToken);
  if (opts.args) args.push(...opts.args);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-65536); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  const endpoint = await new Promise((resolve, reject) => {
    let buffered = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`oss-emulator printed nothing in 20 s; stderr:\n${stderr}`)), 20000);
    function finish(err, value) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else {
        resolve(value);
      }
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      if (done) return; // keep draining so the child never blocks on a full pipe
      buffered += d;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      const line = buffered.slice(0, nl).trim();
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (m) finish(null, m[1]);
      else finish(new Error(`unexpected first line from oss-emulator: ${JSON.stringify(line)}`));
    });
    child.on('error', (e) => finish(e));
    exited.then(({ code, signal }) => finish(new Error(`oss-emulator exited early (${code ?? signal}); stderr:\n${stderr}`)));
  });

  /** The fault admin endpoint (needs --enable-fault-admin). */
  async function admin(method, body) {
    // The emulator refuses admin requests without this header (and any with an Origin header).
    const res = await fetch(`${endpoint}/__faults`, { method, body, headers: { 'x-oss-emulator-admin': '1' } });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /__faults: ${res.status} ${text}`);
    return text;
  }

  async function adminAt(where, body) {
    const res = await fetch(`${endpoint}${where}`, { method: 'POST', body, headers: { 'x-oss-emulator-admin': '1' } });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${where}: ${res.status} ${text}`);
    return text;
  }

  return {
    endpoint,
    dataDir,
    /** Queues a fault (one spec, see emulator/src/faults.rs). */
    async fault(spec) {
      await admin('POST', spec);
    },
    /** `pending ...` and `fired ...` lines. */
    faults() {
      return admin('GET');
    },
    /** Issues STS credentials living `lifetimeMs` (needs --enable-fault-admin):
     *  `{ accessKeyId, accessKeySecret, securityToken, expiration }` (expiration: ISO string). */
    async issueSts(lifetimeMs) {
      return JSON.parse(await adminAt('/__sts', `lifetime-ms=${lifetimeMs}`));
    },
    /** Ends issued credentials now (needs --enable-fault-admin). */
    async expireSts(accessKeyId) {
      await adminAt('/__sts/expire', `access-key-id=${accessKeyId}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const { code, signal } = await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (code !== 0) {
        throw new Error(`oss-emulator ended with ${code ?? signal} after SIGTERM; stderr:\n${stderr}`);
      }
    },
  };
}

module.exports = { startEmulator, REPO };
