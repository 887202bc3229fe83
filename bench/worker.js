'use strict';
// One client process of the benchmark (spawned by bench.js, so its memory and CPU are measured
// from outside through /proc/<pid>). Protocol on stdio:
//   worker -> `READY`            modules loaded, client constructed (baseline for RSS and CPU)
//   bench  -> `go`
//   worker -> `RESULT <json>`    the timings; then it idles until bench.js closes its stdin
//
// Usage: node worker.js '<json spec>'
//   spec.client: 'oss-append' (dist/node, the package users get) | 'ali-oss' (6.23.0)
//   spec.mode:   'file'  one append at position 0 of spec.file (oss-append: a `{fd, path}` file
//                        object; ali-oss: fs.createReadStream with contentLength)
//                'chain' spec.count appends of spec.chunk bytes to one object, each at the
//                        previous answer's next position (after spec.warmup appends elsewhere)
//                'first' one append of spec.chunk bytes at position 0: a new client's first
//                        request (connection set-up included)
//   spec.endpoint:  both clients' endpoint (the loopback bench: http://127.0.0.1:PORT), or
//   spec.ossAppendOptions / spec.aliOssOptions: extra client options (bench/rtt.js), merged
//                   over the defaults. For ali-oss, `httpsAgent: {caFile, address}` becomes an
//                   https.Agent trusting that CA whose lookup answers `address` for every name.

const fs = require('node:fs');
const readline = require('node:readline');

const spec = JSON.parse(process.argv[2]);
const region = 'oss-cn-hangzhou';

function makeClient() {
  if (spec.client === 'oss-append') {
    const { Client } = require(spec.dist);
    const client = new Client({
      accessKeyId: spec.accessKeyId,
      accessKeySecret: spec.accessKeySecret,
      region,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      timeout: 600000,
      ...spec.ossAppendOptions,
    });
    return {
      async appendFile(key, file, size) {
        const fd = fs.openSync(file, 'r');
        try {
          const res = await client.appendObject({ bucket: spec.bucket, key, data: { fd, path: file }, position: 0 });
          return { next: Number(res.data.nextAppendPosition), crc: res.data.hashCrc64ecma, size };
        } finally {
          fs.closeSync(fd);
        }
      },
      // The chained state a user keeps: next position and the object's CRC-64 (so every answer
      // is checked against the client's own CRC).
      async appendBytes(key, data, state) {
        const res = await client.appendObject({
          bucket: spec.bucket, key, data, position: state.position, initCrc64: state.crc,
        });
        return { position: Number(res.data.nextAppendPosition), crc: res.data.hashCrc64ecma };
      },
    };
  }
  if (spec.client === 'ali-oss') {
    const OSS = require('ali-oss');
    const extra = { ...spec.aliOssOptions };
    if (extra.httpsAgent) {
      const https = require('node:https');
      const { caFile, address } = extra.httpsAgent;
      extra.httpsAgent = new https.Agent({
        keepAlive: true,
        ca: fs.readFileSync(caFile, 'utf8'),
        // Every name to the proxy's address; the certificate is still checked against the name.
        lookup(hostname, options, callback) {
          if (options && options.all) callback(null, [{ address, family: 4 }]);
          else callback(null, address, 4);
        },
      });
    }
    const client = new OSS({
      accessKeyId: spec.accessKeyId,
      accessKeySecret: spec.accessKeySecret,
      region,
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      bucket: spec.bucket,
      timeout: 600000,
      ...extra,
    });
    return {
      async appendFile(key, file, size) {
        const res = await client.append(key, fs.createReadStream(file), { position: '0', contentLength: size });
        return { next: Number(res.nextAppendPosition), crc: res.res.headers['x-oss-hash-crc64ecma'], size };
      },
      async appendBytes(key, data, state) {
        const res = await client.append(key, data, { position: String(state.position) });
        return { position: Number(res.nextAppendPosition), crc: res.res.headers['x-oss-hash-crc64ecma'] };
      },
    };
  }
  throw new Error(`unknown client ${spec.client}`);
}

async function chain(client, key, data, count) {
  let state = { position: 0, crc: undefined };
  const latencies = new Float64Array(count);
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    state = await client.appendBytes(key, data, state);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (state.position !== count * data.length) {
    throw new Error(`chain ended at ${state.position}, expected ${count * data.length}`);
  }
  return { latencies: Array.from(latencies), elapsedMs, position: state.position, crc: state.crc };
}

async function run(client) {
  if (spec.mode === 'file') {
    const t0 = process.hrtime.bigint();
    const res = await client.appendFile(spec.key, spec.file, spec.size);
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.next !== spec.size) throw new Error(`next position ${res.next}, expected ${spec.size}`);
    return { elapsedMs, crc: res.crc };
  }
  if (spec.mode === 'first') {
    const data = Buffer.alloc(spec.chunk, 0x5a);
    const t0 = process.hrtime.bigint();
    const state = await client.appendBytes(spec.key, data, { position: 0, crc: undefined });
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (state.position !== data.length) throw new Error(`next position ${state.position}, expected ${data.length}`);
    return { elapsedMs, crc: state.crc };
  }
  if (spec.mode === 'chain') {
    const data = Buffer.alloc(spec.chunk);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    if (spec.warmup > 0) await chain(client, `${spec.key}.warmup`, data, spec.warmup);
    return chain(client, spec.key, data, spec.count);
  }
  throw new Error(`unknown mode ${spec.mode}`);
}

async function main() {
  const client = makeClient();
  const lines = readline.createInterface({ input: process.stdin });
  const input = lines[Symbol.asyncIterator]();
  process.stdout.write('READY\n');
  const go = await input.next();
  if (go.done || go.value.trim() !== 'go') process.exit(2);
  const result = await run(client);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Stay alive (and measurable) until bench.js has read /proc and closes stdin.
  for (;;) {
    const next = await input.next();
    if (next.done) break;
  }
  process.exit(0);
}

main().catch((e) => {
  process.stdout.write(`ERROR ${JSON.stringify(String(e && e.stack ? e.stack : e))}\n`);
  process.exit(1);
});
