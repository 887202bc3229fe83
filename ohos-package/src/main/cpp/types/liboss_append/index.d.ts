/*
 * Types of liboss_append.so, the N-API module built from the oss-append Rust crate
 * (src/napi.rs). The facade (Index.ets) is the public API; this module is its engine.
 *
 * Every rejection (and the throw of createClient) is an Error carrying the NativeError fields.
 */

/** The config of createClient. Timeouts are in milliseconds. */
export interface NativeClientConfig {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** `cn-hangzhou` or `oss-cn-hangzhou`. */
  region: string;
  /** e.g. `https://oss-cn-hangzhou.aliyuncs.com`; default: the region's public endpoint. */
  endpoint?: string;
  cname?: boolean;
  pathStyle?: boolean;
  /** `v4` (default) or `v1`. */
  signatureVersion?: string;
  /** Longest wait for progress while sending or receiving (ms, default 20000). */
  timeout?: number;
  /** Longest wait for a connection (ms, default 10000). */
  connectTimeout?: number;
  userAgent?: string;
}

/** A file to append: the `fs.File` of `fileIo.open` has these fields. The fd is duplicated before
 *  appendObject returns, so the caller may close its file once the promise settles. */
export interface NativeFile {
  fd: number;
  path?: string;
  name?: string;
}

/** What can be appended: a string (UTF-8), bytes (copied at the call), or a file (streamed). */
export type NativeData = string | ArrayBuffer | ArrayBufferView | NativeFile;

/** Headers of an append. Only the first append (creating the object) applies the object's ACL,
 *  storage class, encryption, tags and metadata. */
export interface NativeAppendOptions {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  expires?: string;
  /** base64 of the 16-byte MD5 of this request's data. */
  contentMd5?: string;
  /** `default`, `private`, `public-read`, `public-read-write`. */
  objectAcl?: string;
  /** `Standard`, `IA`, `Archive`, `ColdArchive`, `DeepColdArchive`. */
  storageClass?: string;
  /** `AES256`, `KMS`, `SM4`. */
  serverSideEncryption?: string;
  /** `SM4`. */
  serverSideDataEncryption?: string;
  serverSideEncryptionKeyId?: string;
  /** `k1=v1&k2=v2`, URL-encoded. */
  tagging?: string;
  /** User metadata, sent as `x-oss-meta-<name>`. */
  meta?: Record<string, string>;
  /** bit/s, 245760 ..= 838860800. */
  trafficLimit?: number;
  /** `requester`. */
  requestPayer?: string;
  forbidOverwrite?: boolean;
  /** CRC-64 of the object before this append (decimal string): the result is then checked. */
  initCrc64?: string;
}

export interface NativeAppendResult {
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  requestId: string;
  nextAppendPosition: number;
  /** Decimal string: CRC-64 values exceed 2^53. */
  hashCrc64ecma?: string;
  etag?: string;
  versionId?: string;
}

export interface NativeRawResponse {
  status: number;
  headers: Record<string, string>;
  body: ArrayBuffer;
}

/** The fields of every error thrown or rejected by this module. */
export interface NativeError extends Error {
  /** OSS error code, or one of NativeErrorCodes for client-side errors. */
  code: string;
  requestId: string;
  /** HTTP status; -1 for client-side errors. */
  status: number;
  ec: string;
  hostId: string;
  recommendDoc: string;
  headers: Record<string, string>;
  /** Other elements of the OSS error body (StringToSign, BucketName, ...). */
  details: Record<string, string>;
  /** PositionNotEqualToLength: the object's current length (x-oss-next-append-position). */
  nextAppendPosition?: number;
  /** ClientInvalidArgument: the argument at fault. */
  field?: string;
  /** Client-side errors: whether (part of) the request may have reached OSS. */
  requestSent?: boolean;
  /** ClientCrcMismatch: both CRC-64 values, decimal strings. */
  clientCrc64?: string;
  serverCrc64?: string;
}

export interface NativeErrorCodes {
  invalidArgument: string;
  connect: string;
  timeout: string;
  network: string;
  bodyRead: string;
  crcMismatch: string;
  invalidResponse: string;
}

export interface NativeClient {
  appendObject(bucket: string, key: string, data: NativeData, position?: number | string | null,
    options?: NativeAppendOptions | null): Promise<NativeAppendResult>;
  headObject(bucket: string, key: string): Promise<NativeRawResponse>;
  /** The whole object in memory (for checks and small objects). */
  getObject(bucket: string, key: string): Promise<NativeRawResponse>;
  /** A whole normal (non-appendable) object. */
  putObject(bucket: string, key: string, data: string | ArrayBuffer | ArrayBufferView):
    Promise<NativeRawResponse>;
}

export const createClient: (config: NativeClientConfig) => NativeClient;
export const errorCodes: () => NativeErrorCodes;

interface LibOssAppend {
  createClient: (config: NativeClientConfig) => NativeClient;
  errorCodes: () => NativeErrorCodes;
}

declare const liboss_append: LibOssAppend;
export default liboss_append;
