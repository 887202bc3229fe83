// Stand-in for the SDK's kits/@kit.CoreFileKit.d.ts, for the ArkTS lint (tests/ohos/arkts-lint.js):
// the part of fileIo (@ohos.file.fs) that the HAR and the sample use, with the SDK's signatures.
declare namespace fileIo {
  namespace OpenMode {
    const READ_ONLY = 0o0;
    const WRITE_ONLY = 0o1;
    const READ_WRITE = 0o2;
    const CREATE = 0o100;
    const TRUNC = 0o1000;
    const APPEND = 0o2000;
  }
  interface File {
    readonly fd: number;
    readonly path: string;
    readonly name: string;
  }
  interface WriteOptions {
    offset?: number;
    length?: number;
    encoding?: string;
  }
  function open(path: string, mode?: number): Promise<File>;
  function openSync(path: string, mode?: number): File;
  function close(file: number | File): Promise<void>;
  function closeSync(file: number | File): void;
  function writeSync(fd: number, buffer: ArrayBuffer | string, options?: WriteOptions): number;
}

export { fileIo };
