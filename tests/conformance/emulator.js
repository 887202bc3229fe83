'use strict';
// Start/stop helper for the oss-emulator binary, used by ali-oss.test.js.
//
// The binary path comes from OSS_EMULATOR_BIN (run.sh sets it); otherwise we fall
// back to $CARGO_TARGET_DIR/debug/oss-emulator or <repo>/target/debug/oss-emulator.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

function emulatorBinary() {
  if (process.env.OSS_EMULATOR_BIN) return process.env.OSS_EMULATOR_BIN;
  const repoRoot = path.resolve(__dirname, '..', '..');
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : path.join(repoRoot, 'target');
  return path.join(targetDir, 'debug', 'oss-emulator');
}

/** The names a generated certificate holds by default: the region's OSS names and 127.0.0.1. */
function ossNames(region) {
  return [`*.oss-${region}.aliyuncs.com`, `oss-${region}.aliyuncs.com`, '127.0.0.1'];
}

/** One request to the emulator's own port (the admin endpoint), over HTTP or HTTPS. */
function adminRequest(emu, method, path, body) {
  const lib = emu.caPem ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({
      host: '127.0.0.1',
      port: emu.port,
      method,
      path,
      headers: { 'x-oss-emulator-admin': '1' },
      // The generated certificate names 127.0.0.1; only the test CA is trusted.
      ...(emu.caPem ? { ca: emu.caPem, agent: false } : { agent: false }),
    }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', d => { text += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
      res.on('error', reject);
    });
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Start an emulator on 127.0.0.1:0 with a fresh temporary data dir.
 * Resolves once the first stdout line `listening on http(s)://127.0.0.1:PORT` arrived.
 *
 * `tls`: `true` (the region's OSS names and 127.0.0.1) or a list of names: serve HTTPS with a
 * throwaway CA (`--tls-generate`); the result then has `caPem`, the CA to trust. `args`: extra
 * flags, e.g. ['--enable-fault-admin'] (needed by `stats()`).
 */
function startEmulator({ buckets, accessKeyId, accessKeySecret, securityToken, region = 'cn-hangzhou', tls, args: extra = [] }) {
  const bin = emulatorBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(`oss-emulator binary not found at ${bin} (build it with: cargo build -p oss-emulator)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-conformance-node-'));
  const args = ['--listen', '127.0.0.1:0', '--data-dir', dataDir];
  for (const b of buckets) args.push('--bucket', b);
  args.push('--access-key-id', accessKeyId, '--access-key-secret', accessKeySecret);
  if (securityToken) args.push('--security-token', securityToken);
  args.push('--region', region);
  const tlsNames = tls ? (Array.isArray(tls) ? tls : ossNames(region)) : null;
  const caFile = tls ? path.join(dataDir, '..', `${path.basename(dataDir)}-ca.pem`) : null;
  if (tlsNames) args.push('--tls-generate', tlsNames.join(','), '--tls-ca-out', caFile);
  args.push(...extra);

  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', d => {
    stderr += d;
    if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
  });
  const exited = new Promise(resolve => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });

  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    let first = true;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oss-emulator did not print its listening line within 15 s; stderr:\n${stderr}`));
    }, 15000);
    child.on('error', err => {
      clearTimeout(timer);
      reject(err);
    });
    exited.then(({ code, signal }) => {
      if (first) {
        clearTimeout(timer);
        reject(new Error(`oss-emulator exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr}`));
      }
    });
    // Keep draining stdout after the first line so the child never blocks on a full pipe.
    rl.on('line', line => {
      if (!first) return;
      first = false;
      clearTimeout(timer);
      const m = /^listening on (https?):\/\/127\.0\.0\.1:(\d+)$/.exec(line.trim());
      if (!m || (m[1] === 'https') !== Boolean(tls)) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected first stdout line from oss-emulator: ${JSON.stringify(line)}`));
        return;
      }
      const port = Number(m[2]);
      // The CA file is written before the listening line.
      const caPem = caFile ? fs.readFileSync(caFile, 'utf8') : undefined;
      if (caFile) fs.rmSync(caFile, { force: true });
      const emu = {
        port,
        endpoint: `${m[1]}://127.0.0.1:${port}`,
        /** The test CA's certificate (PEM) when serving HTTPS. */
        caPem,
        /** The names the server certificate holds when serving HTTPS. */
        tlsNames,
        dataDir,
        child,
        stderr: () => stderr,
        /** SIGTERM, wait (max 10 s) and return {code, signal}. */
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
          const res = await exited;
          clearTimeout(killer);
          fs.rmSync(dataDir, { recursive: true, force: true });
          return res;
        },
        /** `{connections, tlsHandshakes}` from `GET /__stats` (needs --enable-fault-admin). */
        async stats() {
          return JSON.parse(await adminRequest(emu, 'GET', '/__stats'));
        },
      };
      resolve(emu);
    });
  });
}

module.exports = { startEmulator, emulatorBinary, ossNames };
