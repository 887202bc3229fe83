#!/usr/bin/env node
'use strict';
// A TCP relay on 127.0.0.1 that adds a round-trip time and a bandwidth cap, for benchmarking
// clients at phone-like latencies on a kernel without netem (issue 13). Plain TCP in and out: it
// never looks into the bytes, so it relays TLS unchanged.
//
//   node bench/latency-proxy.js --upstream 127.0.0.1:PORT [--listen PORT] [--rtt-ms 40]
//        [--rate-mbit 100] [--buffer-bytes N] [--no-handshake]
//
// Prints `listening on 127.0.0.1:PORT` first on stdout, then serves until stdin ends. Commands
// on stdin, one a line: `stats` (answers `STATS <json>` on stdout) and `reset` (zeroes the
// counters, answers `RESET`).
//
// Why a script of its own and not a crate: it runs as its own process, so its CPU is never
// charged to the measured client (bench/rtt.js reads the proxy's CPU separately); it needs no
// build; and what the benchmark needs from it, counting connections, bytes and the client's
// flights, is a few lines here but not something Toxiproxy-style proxies (the `noxious` crate,
// 1.0.4, a server driven over an HTTP API) report.
//
// The model. Every chunk read from one side is stamped with its arrival time and goes into that
// direction's FIFO queue:
//   * bandwidth (--rate-mbit, per direction, 0 = unlimited): the chunk's last bit leaves at
//     max(arrival, previous chunk's departure) + bytes * 8 / rate (a serialisation delay, so a
//     direction never carries more than the rate, and idle time is not saved up as credit);
//   * latency: it is written to the other side rtt/2 after that departure.
// Chunks keep their order and are delayed each by its own stamp, never by sleeping the stream
// chunk after chunk, so a full pipe still carries the full rate. One timer per direction is
// armed for the head of the queue; the last millisecond is waited out with setImmediate, since
// Node's timers have millisecond granularity, and how late each chunk was is reported (lateness).
//   * the TCP handshake: the kernel completes the client's connect() at once on loopback, so a
//     connection's first client bytes may not leave before accept + one RTT (a real client could
//     not send before its SYN-ACK arrived); --no-handshake turns that off.
//   * flow control: when a direction holds more than --buffer-bytes (queued plus what the
//     receiving socket has not taken yet), the proxy stops reading its source until it drains,
//     so the sending client is held back by its own socket as on a slow link. Default
//     max(1 MiB, 2 x bandwidth-delay product) with a rate, 32 MiB without. What the proxy does
//     not model: TCP's own congestion window (slow start) and loss, which belong to the
//     kernel, not to the client measured.
//
// Counters (`stats`): connections, bytes each way, and flights: a flight is a burst of client
// bytes after the client has received something from the server (or the connection's first
// burst), i.e. one client-side turn; a request/response exchange is one flight, a TLS 1.3
// handshake adds one, a client that waits for `100 Continue` adds one.

const net = require('node:net');
const readline = require('node:readline');

function parseArgs(argv) {
  const o = { upstream: null, listen: 0, rttMs: 40, rateMbit: 0, bufferBytes: null, handshake: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const num = (min) => {
      const v = Number(val());
      if (!Number.isFinite(v) || v < min) throw new Error(`${a} needs a number >= ${min}`);
      return v;
    };
    if (a === '--upstream') {
      const m = /^(127\.0\.0\.1|localhost):(\d{1,5})$/.exec(val());
      if (!m) throw new Error('--upstream must be 127.0.0.1:PORT (loopback only)');
      o.upstream = { host: '127.0.0.1', port: Number(m[2]) };
    } else if (a === '--listen') o.listen = num(0);
    else if (a === '--rtt-ms') o.rttMs = num(0);
    else if (a === '--rate-mbit') o.rateMbit = num(0);
    else if (a === '--buffer-bytes') o.bufferBytes = num(65536);
    else if (a === '--no-handshake') o.handshake = false;
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.upstream) throw new Error('--upstream 127.0.0.1:PORT is required');
  if (o.bufferBytes === null) {
    const bdp = (o.rateMbit * 1e6 / 8) * (o.rttMs / 1000);
    o.bufferBytes = o.rateMbit > 0 ? Math.max(1 << 20, Math.ceil(2 * bdp)) : 32 << 20;
  }
  return o;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const LATENESS_SAMPLES = 4096; // a ring of recent samples, so memory stays bounded
function newStats() {
  return {
    connections: 0, open: 0, bytesC2S: 0, bytesS2C: 0, flights: 0, chunksC2S: 0, chunksS2C: 0,
    perConnection: [], lateness: [], latenessNext: 0, latenessMaxMs: 0, pauses: 0,
  };
}

/**
 * One direction of one connection: reads `src`, writes `dst` after the delays. `onDeliver` is
 * called after each chunk was handed to `dst`; `onArrive` for each chunk read.
 */
class Direction {
  constructor(o, src, dst, { notBefore = 0, onArrive, onDeliver }) {
    Object.assign(this, { src, dst, onArrive, onDeliver });
    this.oneWayMs = o.rttMs / 2;
    this.bytesPerMs = o.rateMbit > 0 ? (o.rateMbit * 1e6) / 8 / 1000 : Infinity;
    this.bufferBytes = o.bufferBytes;
    this.queue = []; // { at: due time (ms), chunk } or { at, end: true }
    this.head = 0;
    this.queued = 0;
    this.linkFreeAt = notBefore; // when the last queued chunk's last bit has left
    this.timer = null;
    this.spinning = false;
    this.paused = false;
    this.ended = false;
    src.on('data', (chunk) => this.arrive(chunk));
    src.on('end', () => this.push({ end: true }, 0));
    dst.on('drain', () => this.maybeResume());
  }

  arrive(chunk) {
    this.onArrive(chunk);
    this.push({ chunk }, chunk.length);
    if (this.queued + this.dst.writableLength > this.bufferBytes && !this.paused) {
      this.paused = true;
      stats.pauses++;
      this.src.pause();
    }
  }

  push(item, bytes) {
    const now = nowMs();
    const start = Math.max(now, this.linkFreeAt);
    this.linkFreeAt = start + bytes / this.bytesPerMs;
    item.at = this.linkFreeAt + this.oneWayMs;
    this.queue.push(item);
    this.queued += bytes;
    this.pump();
  }

  pump() {
    if (this.spinning) return;
    const now = nowMs();
    while (this.head < this.queue.length && this.queue[this.head].at <= now) {
      const item = this.queue[this.head];
      this.queue[this.head++] = undefined;
      const late = now - item.at;
      stats.lateness[stats.latenessNext++ % LATENESS_SAMPLES] = late;
      if (late > stats.latenessMaxMs) stats.latenessMaxMs = late;
      if (item.end) {
        this.ended = true;
        this.dst.end();
      } else {
        this.queued -= item.chunk.length;
        if (!this.dst.destroyed) this.dst.write(item.chunk);
        this.onDeliver(item.chunk);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.maybeResume();
    if (this.head >= this.queue.length) return;
    const wait = this.queue[this.head].at - now;
    clearTimeout(this.timer);
    if (wait > 1.5) {
      this.timer = setTimeout(() => { this.timer = null; this.pump(); }, Math.floor(wait - 1));
    } else {
      // The last stretch: setImmediate turns until the chunk is due (at most ~1.5 ms).
      this.spinning = true;
      setImmediate(() => { this.spinning = false; this.pump(); });
    }
  }

  maybeResume() {
    if (this.paused && this.queued + this.dst.writableLength <= this.bufferBytes / 2) {
      this.paused = false;
      this.src.resume();
    }
  }

  close() {
    clearTimeout(this.timer);
    this.queue = [];
    this.head = 0;
  }
}

// The counters; `reset` replaces them, and open connections count into the new ones.
let stats = newStats();

function main() {
  const o = parseArgs(process.argv.slice(2));
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const acceptedAt = nowMs();
    stats.connections++;
    stats.open++;
    const conn = { id: stats.connections, bytesC2S: 0, bytesS2C: 0, flights: 0 };
    if (stats.perConnection.length < 256) stats.perConnection.push(conn);
    client.setNoDelay(true);
    client.pause();
    const upstream = net.connect({ ...o.upstream, noDelay: true, allowHalfOpen: true });
    upstream.setNoDelay(true);
    upstream.pause();
    let serverSpoke = true; // the connection's first burst is a flight
    let closed = false;
    const dirs = [];
    const close = () => {
      if (closed) return;
      closed = true;
      stats.open--;
      for (const d of dirs) d.close();
      client.destroy();
      upstream.destroy();
    };
    upstream.on('connect', () => {
      dirs.push(new Direction(o, client, upstream, {
        notBefore: o.handshake ? acceptedAt + o.rttMs : 0,
        
        onArrive(chunk) {
          if (serverSpoke) {
            serverSpoke = false;
            stats.flights++;
            conn.flights++;
          }
          stats.bytesC2S += chunk.length;
          stats.chunksC2S++;
          conn.bytesC2S += chunk.length;
        },
        onDeliver() {},
      }));
      dirs.push(new Direction(o, upstream, client, {
        
        onArrive(chunk) {
          stats.bytesS2C += chunk.length;
          stats.chunksS2C++;
          conn.bytesS2C += chunk.length;
        },
        // The client can react only to what it has received.
        onDeliver() { serverSpoke = true; },
      }));
      client.resume();
      upstream.resume();
    });
    // A half-close is relayed (after the delay) by Direction; a reset or error ends both sides.
    for (const sock of [client, upstream]) {
      sock.on('error', close);
      sock.on('close', () => {
        // Let a delayed end() still reach the other side; drop the rest.
        if (dirs.every((d) => d.ended || d.head >= d.queue.length)) close();
        else setTimeout(close, o.rttMs + 1000).unref();
      });
    }
  });
  server.on('error', (e) => {
    process.stderr.write(`latency-proxy: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(o.listen, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
  });

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stats') {
      const lat = stats.lateness.slice().sort((a, b) => a - b);
      const pick = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : null);
      const { lateness, latenessNext, ...rest } = stats;
      const out = {
        ...rest,
        options: { rttMs: o.rttMs, rateMbit: o.rateMbit, bufferBytes: o.bufferBytes, handshake: o.handshake },
        latenessMs: { p50: pick(50), p99: pick(99), max: stats.latenessMaxMs, samples: lat.length },
      };
      process.stdout.write(`STATS ${JSON.stringify(out)}\n`);
    } else if (cmd === 'reset') {
      const open = stats.open;
      stats = newStats();
      stats.open = open;
      process.stdout.write('RESET\n');
    } else if (cmd) {
      process.stdout.write(`ERROR ${JSON.stringify(`unknown command ${cmd}`)}\n`);
    }
  });
  lines.on('close', () => {
    server.close();
    process.exit(0);
  });
}

try {
  main();
} catch (e) {
  process.stderr.write(`latency-proxy: ${e.message}\n`);
  process.exit(2);
}
