'use strict';
// Loads the Node build of the facade (dist/node, made by `./build.sh node`) and its native module.

const path = require('node:path');
const { REPO } = require('./emulator');

const DIST = process.env.OSS_APPEND_DIST || path.join(REPO, 'dist', 'node');

/** What `import Client, { RequestError, EHeaderKey, ... } from '@aliyun/oss'` gives. */
function loadPackage() {
  return require(DIST);
}

/** The native module itself: the tests read objects back with its getObject and create normal
 *  objects with its putObject (both run the Rust core's signed GET/PUT). */
function loadNative() {
  return require(path.join(DIST, 'oss_append.node'));
}

/** Whether this run takes the production path (`OSS_TEST_HTTPS=1`): see `productionPath`. */
const HTTPS = process.env.OSS_TEST_HTTPS === '1';

/**
 * What a config needs to reach an HTTPS emulator (`startEmulator({tls: true})`) the way a phone
 * reaches OSS: no endpoint (the default `https://<bucket>.oss-<region>.aliyuncs.com`,
 * virtual-hosted), the emulator's CA in `caCerts`, and the region's host and each bucket's host
 * resolved to the emulator by the client's own `resolve` map, so SNI and the name check are real.
 */
function productionPath(emu, buckets, region = 'cn-hangzhou') {
  const to = `127.0.0.1:${emu.port}`;
  const resolve = { [`oss-${region}.aliyuncs.com`]: to };
  for (const b of buckets) resolve[`${b}.oss-${region}.aliyuncs.com`] = to;
  return { caCerts: emu.caPem, resolve };
}

/**
 * The facade as the examples import it, with every `new Client(config)` aimed at the emulator:
 * the official examples name only a region (the public endpoint), so the test adds only what it
 * takes to reach the emulator: its endpoint, or over HTTPS (`target` from `productionPath`) the
 * CA and the resolve map, keeping the public endpoint.
 */
function packageAt(target) {
  const pkg = loadPackage();
  const extra = typeof target === 'string' ? { endpoint: target } : target;
  class EmulatorClient extends pkg.Client {
    constructor(config) {
      super(Object.assign({}, config, extra));
    }
  }
  return Object.assign({}, pkg, { default: EmulatorClient, Client: EmulatorClient });
}

module.exports = { loadPackage, loadNative, packageAt, productionPath, HTTPS, DIST };
