// Stand-in for the SDK's kits/@kit.ArkTS.d.ts, for the ArkTS lint: buffer (@ohos.buffer) as the
// SDK declares it. Its Buffer is a class of its own, not a Uint8Array: it exposes the bytes
// through `buffer`, `byteOffset` and `length`.
declare namespace buffer {
  type BufferEncoding = 'ascii' | 'utf8' | 'utf-8' | 'utf16le' | 'ucs2' | 'ucs-2' | 'base64' | 'base64url' |
    'latin1' | 'binary' | 'hex';
  function alloc(size: number, fill?: string | Buffer | number, encoding?: BufferEncoding): Buffer;
  function from(array: number[]): Buffer;
  function from(arrayBuffer: ArrayBuffer | SharedArrayBuffer, byteOffset?: number, length?: number): Buffer;
  function from(buffer: Buffer | Uint8Array): Buffer;
  function from(value: string, encoding?: BufferEncoding): Buffer;
  function isBuffer(obj: Object): boolean;
  function concat(list: Buffer[] | Uint8Array[], totalLength?: number): Buffer;
  class Buffer {
    length: number;
    buffer: ArrayBuffer;
    byteOffset: number;
    toString(encoding?: string, start?: number, end?: number): string;
    subarray(start?: number, end?: number): Buffer;
  }
}

export { buffer };
