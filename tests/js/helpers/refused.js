'use strict';
// The check of a refused argument, shared by the suites that pass bad input.

const assert = require('node:assert/strict');
const { loadPackage } = require('./oss');

const { RequestError, EClientErrorCode } = loadPackage();

/** Expects ClientInvalidArgument for `field` from `call()` (a promise or a throw). */
async function refused(field, call) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${field}: expected a rejection`);
  assert.ok(err instanceof RequestError, `${field}: not a RequestError: ${err && err.stack}`);
  assert.equal(err.code, EClientErrorCode.INVALID_ARGUMENT, `${field}: ${err.code} ${err.message}`);
  assert.equal(err.status, -1);
  assert.equal(err.field, field, `wrong field for: ${err.message}`);
  assert.equal(err.requestSent, false);
  assert.match(err.message, new RegExp(`\`${field.replace('.', '\\.')}\``));
  return err;
}

module.exports = { refused };
