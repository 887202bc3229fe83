'use strict';
// A TCP proxy in front of the emulator that counts what clients send through it: the proof that
// a call refused on the client's side sent nothing at all (not a byte, not a connection).

const net = require('node:net');

/**
 * @param {string} endpoint the emulator's `http://127.0.0.1:PORT`
 * @returns {Promise<{endpoint: string, connections: number, bytes: number, close: () => Promise<void>}>}
 */
async function countingProxy(endpoint) {
  const target = new URL(endpoint);
  const sockets = new Set();
  const stats = { connections: 0, bytes: 0 };
  const server = net.createServer((client) => {
    stats.connections += 1;
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => { stats.bytes += d.length; });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    get connections() { return stats.connections; },
    get bytes() { return stats.bytes; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { countingProxy };
