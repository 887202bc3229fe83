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

/**
 * The facade as the examples import it, with every `new Client(config)` aimed at the emulator:
 * the official examples name only a region (the public endpoint), so the endpoint is the one
 * thing the test adds to their config.
 */
function packageAt(endpoint) {
  const pkg = loadPackage();
  class EmulatorClient extends pkg.Client {
    constructor(config) {
      super(Object.assign({}, config, { endpoint }));
    }
  }
  return Object.assign({}, pkg, { default: EmulatorClient, Client: EmulatorClient });
}

module.exports = { loadPackage, loadNative, packageAt, DIST };
