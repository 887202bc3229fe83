/*
 * Types of liboss_append.so, the N-API module built from the oss-append Rust crate
 * (src/napi/). The facade (Index.ets) is the public API; this module is its engine.
 *
 * Every rejection (and the throw of createClient) is an Error carrying the NativeError fields.
 */

/** The config of createClient. Timeouts are in milliseconds. */
export interface NativeClientConfig {
  /** Required unless `credentialsProvider` is given (then it must be absent). */
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
  /** Called (on the JS thread) when credentials are due; see the facade's CredentialsProvider. */
  credentialsProvider?: () => Promise<NativeCredentials>;
  /** ms before the expiration (default 300000). */
  credentialsRefreshThreshold?: number;
  /** ms a provider call may take (default 60000). */
  credentialsProviderTimeout?: number;
  /** `cn-hangzhou` or `oss-cn-hangzhou`. */
  region: string;
  /** e.g. `https://oss-cn-hangzhou.aliyuncs.com`; default: the region's public endpoint. */
  endpoint?: string;
  cname?: boolean;
  pathStyle?: boolean;
  /** HTTPS (default). Plain HTTP to a non-loopback host needs `false` spelled out. */
  secure?: boolean;
  /** `v4` (default) or `v1`. */
  signatureVersion?: string;
  /** Longest wait for progress while sending or receiving (ms, default 20000). */
  timeout?: number;
  /** Longest wait for a connection (ms, default 10000). */
  connectTimeout?: number;
  /** Longest a whole request may take (ms; default: no bound beyond `timeout`). */
  operationTimeout?: number;
  userAgent?: string;
  /** Extra trusted CA certificates (PEM text). */
  caCerts?: string;
  /** Trust user-installed CA certificates on the device (default true). */
  trustUserCaCerts?: boolean;
  /** Host name to address(es), with or without a port. */
  resolve?: Record<string, string | string[]>;
  /** IP addresses of a host name (no port), or null/[] for the system's DNS. */
  resolver?: (host: string) => Promise<string[] | null>;
}

/** Credentials with their expiration: an ISO 8601 UTC string, ms since 1970, or a Date. */
export interface NativeCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  expiration?: string | number | Date;
}

/** A file to append: the `fs.File` of `fileIo.open` has these fields. The fd is duplicated before
 *  appendObject returns, so the caller may close its file once the promise settles. */
export interface NativeFile {
  fd: number;
  path?: string;
  name?: string;
}

/** A file by path (the facade's `FilePath`): opened when the request is made, then streamed. */
export interface NativeFilePath {
  filePath: string;
}

/** What can be appended: a string (UTF-8), bytes (copied at the call), or a file (streamed). */
export type NativeData = string | ArrayBuffer | ArrayBufferView | NativeFile | NativeFilePath;

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
  /** The same, as the `@aliyun/oss` SDK spells it; both given must agree. */
  contentMD5?: string;
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
  /** Extra request headers: those with options act as them; other `x-oss-*` ones are sent. */
  headers?: Record<string, string>;
  /** bit/s, 245760 ..= 838860800. */
  trafficLimit?: number;
  /** `requester`. */
  requestPayer?: string;
  forbidOverwrite?: boolean;
  /** CRC-64 of the object before this append (decimal string): the result is then checked. */
  initCrc64?: string;
}

/** Options of openAppender: the append headers (applied by the append that creates the object)
 *  and `computeContentMd5` (a Content-MD5 computed for each body; a fixed contentMd5 is refused). */
export interface NativeAppenderOptions extends NativeAppendOptions {
  computeContentMd5?: boolean;
}

/** Retries of an append session; times in ms. Defaults: 10 retries, 200 ms doubling to 10 s,
 *  within 60 s per operation. */
export interface NativeRetryPolicy {
  maxRetries?: number;
  initialBackoff?: number;
  maxBackoff?: number;
  deadline?: number;
}

/** Per-call options of appendObject and NativeAppender.append. The call sets `cancel` before it
 *  returns: calling it stops the call, which then rejects with ClientCancelled. */
export interface NativeCallControl {
  /** Called on the JS thread with (bytes sent, total): at most every 100 ms or 1 %, increasing,
   *  and (total, total) once the last byte is sent. Every call comes before the promise settles. */
  progress?: (sent: number, total: number) => void;
  /** appendObject only: this call's read/write timeout, ms (the client's otherwise). */
  timeout?: number;
  /** appendObject only: this call's overall deadline, ms (the client's otherwise). */
  operationTimeout?: number;
  /** Set by the call. */
  cancel?: () => void;
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

/** What an append session knows: the object's length and CRC-64 (decimal string), whether it
 *  exists, whether a cancelled append is still to be checked, sealed, and why it stopped. */
export interface NativeSessionState {
  position: number;
  crc64: string;
  exists: boolean;
  unsettled: boolean;
  sealed: boolean;
  stopped?: string;
}

/** A confirmed session append. `recovered`: confirmed by HEAD after a lost answer (then
 *  `headers` holds the confirmed next position, CRC-64 and request id). */
export interface NativeSessionAppendResult extends NativeAppendResult {
  position: number;
  length: number;
  hashCrc64ecma: string;
  attempts: number;
  recovered: boolean;
  state: NativeSessionState;
}

export interface NativeSealResult {
  status: number;
  headers: Record<string, string>;
  requestId: string;
  /** x-oss-sealed-time. */
  sealedTime: string;
  etag?: string;
}

/** An append session on one object; calls run one at a time, in call order. */
export interface NativeAppender {
  append(data: NativeData, control?: NativeCallControl | null): Promise<NativeSessionAppendResult>;
  seal(): Promise<NativeSealResult>;
  state(): NativeSessionState;
}

/** Options of appendStream (see the facade's AppendStreamRequest); sizes in bytes, times in ms. */
export interface NativeAppendStreamOptions {
  bucket: string;
  key: string;
  /** The spool directory (created if missing); one stream at a time per directory. */
  spoolDir: string;
  /** `group-commit` (default) or `each-write`. */
  durability?: string;
  /** Group commit: the shortest time between the starts of two fsyncs (default 2, at most 1000). */
  groupCommitMs?: number;
  /** The largest append (default 4 MiB). */
  maxAppendBytes?: number;
  /** How long an idle stream's first write waits for more (default 50). */
  maxDelayMs?: number;
  /** Bytes written and not yet in OSS, at most (default 256 MiB). */
  maxSpoolBytes?: number;
  /** `wait` (default) or `reject` (ClientStreamSpoolFull) when the spool is full. */
  whenFull?: string;
  /** Spool segment file size (default 8 MiB). */
  segmentBytes?: number;
  /** Continue at a new key before an object passes `maxObjectBytes` (default 5 GiB). */
  rollover?: NativeRolloverOptions;
  /** Waits between failed upload rounds; `giveUpAfterMs` absent: retry forever. */
  reconnect?: NativeReconnectOptions;
  /** Each upload round's retries, as openAppender's. */
  retry?: NativeRetryPolicy;
  /** Headers of the append creating the object. */
  appendOptions?: NativeAppendOptions;
  /** The latest state, on the JS thread, at most every 100 ms while it changes. */
  onProgress?: (state: NativeStreamState) => void;
  /** Each new upload failure (being retried) and the reason the stream stopped. */
  onError?: (error: NativeError) => void;
}

export interface NativeRolloverOptions {
  maxObjectBytes?: number;
  /** Also move on once the object is this old (ms, kept across restarts). */
  maxAgeMs?: number;
  /** Seal each full object after moving on. */
  seal?: boolean;
  /** The next keys: `{key}` the stream's key, `{n}` the object's number (default `{key}.{n}`). */
  keyTemplate?: string;
  /** Names object `n` instead of `keyTemplate`. */
  nextKey?: (key: string, n: number) => Promise<string>;
}

export interface NativeReconnectOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  giveUpAfterMs?: number;
}

/** A stream's state. Offsets count the spool's bytes since its creation (across reopenings). */
export interface NativeStreamState {
  bucket: string;
  /** The current object's key (changes on rollover). */
  key: string;
  objectNumber: number;
  bytesWritten: number;
  bytesSpooled: number;
  bytesUploaded: number;
  /** The object's length as last verified; undefined until the object was first asked. */
  position?: number;
  /** The object's CRC-64 at `position` (decimal string). */
  crc64: string;
  online: boolean;
  lastError?: NativeError;
  stopped?: NativeError;
  closed: boolean;
  appends: number;
  fsyncs: number;
}

/** Where a durable write landed: it is in OSS once bytesUploaded reaches offset + length. */
export interface NativeWriteReceipt {
  offset: number;
  length: number;
}

/** A durable append stream: writes are spooled on disk, then uploaded in order, coalesced. */
export interface NativeAppendStream {
  /** Resolves once `data` is durable in the spool. */
  write(data: string | ArrayBuffer | ArrayBufferView): Promise<NativeWriteReceipt>;
  /** Resolves once everything written before is in OSS, CRC-64 checked. */
  flush(): Promise<NativeStreamState>;
  /** Flushes, then stops the stream (the spool stays on disk). */
  close(): Promise<NativeStreamState>;
  state(): NativeStreamState;
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
  /** ClientCrcMismatch: both CRC-64 values, decimal strings (ClientAppendConflict: expected and
   *  found). */
  clientCrc64?: string;
  serverCrc64?: string;
  /** ClientRetriesExhausted: requests sent. */
  attempts?: number;
  /** Append sessions: where the append started, its length, and for ClientAppendConflict the
   *  object's expected and actual length. */
  position?: number;
  length?: number;
  expectedLength?: number;
  serverLength?: number;
  /** ClientRetriesExhausted / ClientOutcomeUnknown: the last failure. */
  lastError?: NativeError;
}

export interface NativeErrorCodes {
  invalidArgument: string;
  connect: string;
  timeout: string;
  network: string;
  bodyRead: string;
  crcMismatch: string;
  invalidResponse: string;
  cancelled: string;
  appendConflict: string;
  sessionPoisoned: string;
  sessionSealed: string;
  outcomeUnknown: string;
  retriesExhausted: string;
  credentials: string;
  streamSpoolIo: string;
  streamSpoolCorrupt: string;
  streamSpoolLocked: string;
  streamSpoolMismatch: string;
  streamSpoolFull: string;
  streamConflict: string;
  streamUpload: string;
  streamGaveUp: string;
  streamRetrying: string;
  streamClosed: string;
}

export interface NativeClient {
  /** The credentials of every later request; throws ClientInvalidArgument on bad ones. */
  updateCredentials(credentials: NativeCredentials): void;
  appendObject(bucket: string, key: string, data: NativeData, position?: number | string | null,
    options?: NativeAppendOptions | null, control?: NativeCallControl | null): Promise<NativeAppendResult>;
  /** SealAppendObject at `position` (the object's length). */
  sealAppendObject(bucket: string, key: string, position: number | string): Promise<NativeSealResult>;
  /** Opens an append session (one HEAD: resumes an appendable object at its end). */
  openAppender(bucket: string, key: string, options?: NativeAppenderOptions | null,
    retry?: NativeRetryPolicy | null): Promise<NativeAppender>;
  /** Opens a durable append stream on `options.spoolDir` (replaying what it holds). */
  appendStream(options: NativeAppendStreamOptions): Promise<NativeAppendStream>;
  headObject(bucket: string, key: string): Promise<NativeRawResponse>;
  /** The whole object in memory (for checks and small objects). */
  getObject(bucket: string, key: string): Promise<NativeRawResponse>;
  /** A whole normal (non-appendable) object. */
  putObject(bucket: string, key: string, data: string | ArrayBuffer | ArrayBufferView):
    Promise<NativeRawResponse>;
}

export const createClient: (config: NativeClientConfig) => NativeClient;
export const errorCodes: () => NativeErrorCodes;
/** Options of `setLogLevel`: `publicKeys` shows object keys in records (hidden on OHOS by default). */
export interface NativeLogOptions {
  publicKeys?: boolean;
}

/** `off`, `error`, `warn`, `info`, `debug`, `trace`: log records to hilog (OHOS) / stderr (hosts).
 *  Returns whether records now go out; throws ClientInvalidArgument (field `level`) otherwise. */
export const setLogLevel: (level: string, options?: NativeLogOptions) => boolean;

interface LibOssAppend {
  createClient: (config: NativeClientConfig) => NativeClient;
  errorCodes: () => NativeErrorCodes;
  setLogLevel: (level: string, options?: NativeLogOptions) => boolean;
}

declare const liboss_append: LibOssAppend;
export default liboss_append;
