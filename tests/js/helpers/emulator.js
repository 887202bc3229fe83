'use strict';
// Starts the oss-emulator binary for one test suite: 127.0.0.1:0, a fresh temporary data dir,
// stopped with SIGTERM (and its exit status checked) at the end. With `tls` it serves HTTPS with
// a throwaway CA of its own (`--tls-generate`), whose certificate the result carries as `caPem`.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
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

/** The names a generated certificate holds by default: the region's OSS names and 127.0.0.1. */
function ossTlsNames(region) {
  return [`*.oss-${region}.aliyuncs.com`, `oss-${region}.aliyuncs.com`, '127.0.0.1'];
}

/**
 * `args`: extra command-line arguments, e.g. ['--enable-fault-admin'] or
 * ['--fault', 'action=drop-after-commit,key=k'].
 *
 * `tls`: `true` (the region's OSS names `*.oss-<region>.aliyuncs.com`,
 * `oss-<region>.aliyuncs.com` and 127.0.0.1) or a list of names: serve HTTPS with a new
 * throwaway CA; `endpoint` is then `https://127.0.0.1:PORT` and `caPem` the CA certificate
 * (PEM) a client must trust. The admin helpers (`fault`, `faults`, `stats`) need
 * '--enable-fault-admin' in `args`; over HTTPS they trust `caPem` only.
 *
 * @param {{bucket: string, accessKeyId: string, accessKeySecret: string, securityToken?: string,
 *          region?: string, args?: string[], tls?: boolean | string[]}} opts
 * @returns {Promise<{endpoint: string, port: number, dataDir: string, caPem?: string,
 *          tlsNames?: string[], stop: () => Promise<void>,
 *          fault: (spec: string) => Promise<void>, faults: () => Promise<string>,
 *          stats: () => Promise<{connections: number, tlsHandshakes: number}>}>}
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
  const tlsNames = opts.tls ? (Array.isArray(opts.tls) ? opts.tls : ossTlsNames(opts.region || 'cn-hangzhou')) : undefined;
  // Beside the data dir (not in it: the emulator owns that folder's files).
  const caFile = tlsNames ? `${dataDir}-ca.pem` : undefined;
  if (tlsNames) args.push('--tls-generate', tlsNames.join(','), '--tls-ca-out', caFile);
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
      const scheme = tlsNames ? 'https' : 'http';
      const m = new RegExp(`^listening on (${scheme}://127\\.0\\.0\\.1:\\d+)$`).exec(line);
      if (m) finish(null, m[1]);
      else finish(new Error(`unexpected first line from oss-emulator: ${JSON.stringify(line)}`));
    });
    child.on('error', (e) => finish(e));
    exited.then(({ code, signal }) => finish(new Error(`oss-emulator exited early (${code ?? signal}); stderr:\n${stderr}`)));
  });

  const port = Number(new URL(endpoint).port);
  // Written before the listening line.
  const caPem = caFile ? fs.readFileSync(caFile, 'utf8') : undefined;
  if (caFile) fs.rmSync(caFile, { force: true });

  /**
   * One request to the admin endpoint (needs --enable-fault-admin). node:http(s) rather than
   * fetch: over HTTPS it must trust the test CA, which global fetch cannot be told.
   */
  function admin(method, body, adminPath = '/__faults') {
    const lib = caPem ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request({
        host: '127.0.0.1',
        port,
        method,
        path: adminPath,
        // The emulator refuses admin requests without this header (and any with an Origin header).
        headers: { 'x-oss-emulator-admin': '1' },
        agent: false,
        // The generated certificate names 127.0.0.1.
        ...(caPem ? { ca: caPem } : {}),
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`${method} ${adminPath}: ${res.statusCode} ${text}`));
        });
      });
      req.setTimeout(20000, () => req.destroy(new Error(`${method} ${adminPath}: no answer in 20 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  function adminAt(where, body) {
    return admin('POST', body, where);
  }

  return {
    endpoint,
    port,
    dataDir,
    /** The test CA's certificate (PEM), when serving HTTPS. */
    caPem,
    /** The names the server certificate holds, when serving HTTPS. */
    tlsNames,
    /** Queues a fault (one spec, see emulator/src/faults.rs). */
    async fault(spec) {
      await admin('POST', spec);
    },
    /** `pending ...` and `fired ...` lines. */
    faults() {
      return admin('GET');
    },
    /** `{connections, tlsHandshakes}`: TCP connections accepted and TLS handshakes completed. */
    async stats() {
      return JSON.parse(await admin('GET', undefined, '/__stats'));
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

module.exports = { startEmulator, ossTlsNames, REPO };
