'use strict';
// CRC-64/XZ (the CRC-64 OSS calls "crc64ecma": ECMA-182 polynomial, reflected, init and xorout
// all ones), computed on two 32-bit halves so that hundreds of MiB take seconds, not minutes.

const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const T_HI = new Uint32Array(256);
const T_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  T_HI[i] = hi;
  T_LO[i] = lo;
}

class Crc64 {
  /** @param {bigint} [previous] the CRC of the data before (0n for none) */
  constructor(previous = 0n) {
    const reg = ~previous & 0xffffffffffffffffn;
    this.hi = Number(reg >> 32n) >>> 0;
    this.lo = Number(reg & 0xffffffffn) >>> 0;
  }

  /** @param {Uint8Array} bytes */
  update(bytes) {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = 0; i < bytes.length; i++) {
      const idx = (lo ^ bytes[i]) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ T_LO[idx]) >>> 0;
      hi = ((hi >>> 8) ^ T_HI[idx]) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** @returns {bigint} */
  value() {
    return ~((BigInt(this.hi) << 32n) | BigInt(this.lo)) & 0xffffffffffffffffn;
  }
}

/** CRC-64 of `bytes` (string: UTF-8) as a decimal string, continuing from `previous`. */
function crc64(bytes, previous = 0n) {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return new Crc64(BigInt(previous)).update(data).value().toString();
}

module.exports = { Crc64, crc64 };
