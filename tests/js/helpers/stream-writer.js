'use strict';
// The child of stream-kill.test.js: opens `appendStream` on a spool and writes numbered lines
// `<tag>-<n>` as fast as they are acknowledged (up to 64 unresolved at once), printing
// `ack <n>` on stdout once write n has resolved (durable in the spool). It runs until killed,
// or until `count` writes when given (then it closes the stream and prints `closed`).
//
//   node stream-writer.js ENDPOINT BUCKET AK SK KEY SPOOL TAG [COUNT]

const { loadPackage } = require('./oss');

const [endpoint, bucket, accessKeyId, accessKeySecret, key, spoolDir, tag, countArg] = process.argv.slice(2);
const count = countArg === undefined ? Infinity : Number(countArg);
const { default: Client } = loadPackage();

function line(n) {
  return `${tag}-${n} ${'z'.repeat(20 + ((n * 31) % 200))}\n`;
}

async function main() {
  const client = new Client({ accessKeyId, accessKeySecret, region: 'oss-cn-hangzhou', endpoint });
  const stream = await client.appendStream({ bucket, key, spoolDir, maxDelayMs: 5 });
  process.stdout.write('open\n');
  let inflight = 0;
  let next = 0;
  await new Promise((resolve, reject) => {
    const pump = () => {
      while (inflight < 64 && next < count) {
        const n = next++;
        inflight++;
        stream.write(line(n)).then(() => {
          inflight--;
          process.stdout.write(`ack ${n}\n`);
          if (next >= count && inflight === 0) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  await stream.close();
  process.stdout.write('closed\n');
}

main().catch((e) => {
  process.stderr.write(`stream-writer: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
