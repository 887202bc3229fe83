'use strict';
// The append stream's memory while offline: N writes of 100 B (default 1,000,000) to a stream
// whose endpoint refuses connections, so everything stays in the spool; prints the growth of
// this process's RSS from before the first write to after the last one resolved (garbage
// collected before each reading). What the spool keeps in memory per write shows here: it
// should not grow with N (the data is on disk; the index holds a mark per 64 KiB).
//
//   node --expose-gc bench/stream-offline.js [N]      (after ./build.sh node --release)

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { default: Client } = require(path.join(__dirname, '..', 'dist', 'node'));

async function main() {
  const n = Number(process.argv[2] || 1000000);
  if (!Number.isInteger(n) || n < 1) throw new Error('N must be a positive integer');
  if (!global.gc) throw new Error('run with node --expose-gc');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oss-append-offline-'));
  try {
    // Port 9 (discard) on loopback: nothing listens, every connect is refused at once.
    const client = new Client({
      accessKeyId: 'LTAI5tOfflineBench', accessKeySecret: 'offline-bench-secret', region: 'cn-hangzhou',
      endpoint: 'http://127.0.0.1:9', pathStyle: true,
    });
    const stream = await client.appendStream({
      bucket: 'offline-bucket', key: 'offline.log', spoolDir: path.join(dir, 'spool'), maxSpoolBytes: 1 << 30,
    });
    const line = `${'x'.repeat(99)}\n`;
    global.gc();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < n; i += 2000) {
      const batch = [];
      for (let k = 0; k < Math.min(2000, n - i); k++) batch.push(stream.write(line));
      await Promise.all(batch);
    }
    global.gc();
    await new Promise((r) => setTimeout(r, 200));
    const after = process.memoryUsage().rss;
    const state = stream.state();
    if (state.bytesSpooled !== n * 100 || state.online) throw new Error(`unexpected state ${JSON.stringify(state)}`);
    process.stdout.write(`${n} writes of 100 B (${(n * 100 / 1048576).toFixed(1)} MiB) spooled offline: ` +
      `RSS +${((after - before) / 1048576).toFixed(1)} MiB\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`stream-offline: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
