'use strict';
// A tiny stand-in for `fileIo` of '@kit.CoreFileKit' over Node's fd API: just what the official
// examples use (open/close, OpenMode, the File's fd/path/name).

const fs = require('node:fs');
const path = require('node:path');

const OpenMode = Object.freeze({
  READ_ONLY: 0o0,
  WRITE_ONLY: 0o1,
  READ_WRITE: 0o2,
  CREATE: 0o100,
  TRUNC: 0o1000,
  APPEND: 0o2000,
});

class File {
  constructor(fd, filePath) {
    this.fd = fd;
    this.path = filePath;
    this.name = path.basename(filePath);
  }
}

function flagsOf(mode) {
  return mode === undefined ? fs.constants.O_RDONLY : mode;
}

const fileIo = {
  OpenMode,
  /** @returns {Promise<File>} */
  open(filePath, mode) {
    return new Promise((resolve, reject) => {
      fs.open(filePath, flagsOf(mode), (err, fd) => (err ? reject(err) : resolve(new File(fd, filePath))));
    });
  },
  openSync(filePath, mode) {
    return new File(fs.openSync(filePath, flagsOf(mode)), filePath);
  },
  /** Accepts a File or a raw fd, as fileIo.close does. */
  close(file) {
    const fd = typeof file === 'number' ? file : file.fd;
    return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
  },
  closeSync(file) {
    fs.closeSync(typeof file === 'number' ? file : file.fd);
  },
};

module.exports = { fileIo };
