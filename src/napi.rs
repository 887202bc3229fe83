//! The N-API binding (napi-ohos): what `liboss_append.so` exports to ArkTS, and to Node.js for
//! host tests. Thin by design: it converts JS arguments into the core's types (the rules live in
//! [`crate::validate`] and [`crate::options`]), runs the I/O on the tokio runtime napi-ohos owns
//! (never on the JS thread), and maps every [`Error`] to one JS `Error` object carrying the fields
//! the facade's `RequestError` exposes.
//!
//! Exports (see `ohos-package/src/main/cpp/types/liboss_append/index.d.ts`):
//! - `createClient(config) -> NativeClient` (throws a mapped error on a bad config);
//! - `NativeClient.appendObject(bucket, key, data, position?, options?) -> Promise<result>`;
//! - `NativeClient.headObject(bucket, key)`, `NativeClient.getObject(bucket, key)`,
//!   `NativeClient.putObject(bucket, key, data)`: used by the facade's `headObject` and by the
//!   tests (to read objects back and to create normal objects);
//! - `errorCodes()`: the client-side error codes, for the facade and the docs.
//!
//! Rejections and throws are JS `Error` objects with own properties `code`, `message`,
//! `requestId`, `status`, `ec`, `hostId`, `recommendDoc`, `headers`, `details`, and where they
//! apply `nextAppendPosition`, `field`, `requestSent`, `clientCrc64`, `serverCrc64`.

use std::collections::HashMap;

use napi_ohos::bindgen_prelude::{
    sys, ArrayBuffer, Env, FunctionCallContext, JsObjectValue, JsValue, Object, Status, TypedArray,
    Unknown, ValueType,
};

use crate::body::Body;
use crate::client::Client;
use crate::config::ClientConfig;
use crate::credentials::Credentials;
use crate::error::{Error, TransportErrorKind};
use crate::options::{AppendOptions, ContentMd5};
use crate::request::AppendObjectRequest;
use crate::response::{AppendObjectOutput, RawResponse};
use crate::{options, validate};

/// `status` of every client-side error: there is no HTTP status to report.
pub const CLIENT_ERROR_STATUS: i32 = -1;

/// Client-side error codes (stable; documented in `ohos-package/README.md`).
pub mod codes {
    /// An argument broke a rule; nothing was sent.
    pub const INVALID_ARGUMENT: &str = "ClientInvalidArgument";
    /// Could not connect (DNS, refused, TLS handshake); nothing was sent.
    pub const CONNECT: &str = "ClientConnectError";
    /// No progress within the read/write timeout.
    pub const TIMEOUT: &str = "ClientTimeout";
    /// The connection failed mid-request (reset, closed early).
    pub const NETWORK: &str = "ClientNetworkError";
    /// Reading the data to send (a file) failed.
    pub const BODY_READ: &str = "ClientBodyReadError";
    /// OSS stored data whose CRC-64 differs from the one the client computed.
    pub const CRC_MISMATCH: &str = "ClientCrcMismatch";
    /// OSS answered success without what the protocol promises (e.g. the next position).
    pub const INVALID_RESPONSE: &str = "ClientInvalidResponse";
    /// The caller cancelled the call (`signal`); `requestSent` says whether OSS may have
    /// applied it.
    pub const CANCELLED: &str = "ClientCancelled";
}

// --- Module registration ----------------------------------------------------------------------
//
// The exports are registered by hand rather than with `#[napi]`: napi-derive-ohos 1.2 also emits
// a constructor that passes a stack-allocated `napi_module` to `napi_module_register`, which
// Node.js keeps and reads after the constructor returned (a dangling pointer; Node then calls a
// garbage init function). Here Node.js finds `napi_register_module_v1` (napi-ohos's, which runs
// the callbacks registered below), and OHOS gets a `napi_module` that lives as long as the
// library.

napi_ohos::ctor::declarative::ctor! {
    #[ctor(unsafe)]
    fn oss_append_register_exports() {
        use napi_ohos::bindgen_prelude::register_module_export;
        register_module_export(None, "createClient\0", export_create_client);
        register_module_export(None, "errorCodes\0", export_error_codes);
        #[cfg(target_env = "ohos")]
        ohos::register();
    }
}

#[cfg(target_env = "ohos")]
mod ohos {
    use napi_ohos::bindgen_prelude::sys;

    /// The module record ArkTS keeps a pointer to: static, so it outlives the registration.
    struct Module(std::cell::UnsafeCell<sys::napi_module>);
    // SAFETY: written once by the loader thread in `register`, before ArkTS reads it.
    unsafe impl Sync for Module {}

    static MODULE: Module = Module(std::cell::UnsafeCell::new(sys::napi_module {
        nm_version: 1,
        nm_flags: 0,
        nm_filename: std::ptr::null(),
        nm_register_func: Some(napi_ohos::bindgen_prelude::napi_register_module_v1),
        // Must match the library's name: `import ... from 'liboss_append.so'`.
        nm_modname: c"oss_append".as_ptr(),
        nm_priv: std::ptr::null_mut(),
        reserved: [std::ptr::null_mut(); 4],
    }));

    pub(super) fn register() {
        napi_ohos::__private_prepare_for_module_register();
        // SAFETY: MODULE is a valid, static napi_module.
        unsafe { sys::napi_module_register(MODULE.0.get()) };
    }
}

/// A raw JS value handed back to the engine as is.
struct Raw(sys::napi_value);

impl napi_ohos::bindgen_prelude::ToNapiValue for Raw {
    unsafe fn to_napi_value(_: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        Ok(val.0)
    }
}

fn function<F>(env: &Env, name: &str, f: F) -> napi_ohos::Result<sys::napi_value>
where
    F: 'static + Fn(FunctionCallContext) -> napi_ohos::Result<Raw>,
{
    let function = env.create_function_from_closure::<(), Raw, F>(name, f)?;
    Ok(function.raw())
}

/// The `i`-th argument, or `None` when fewer were passed.
fn arg<'e>(ctx: &FunctionCallContext, i: usize) -> napi_ohos::Result<Option<Unknown<'e>>> {
    if i < ctx.length() {
        ctx.get::<Unknown<'e>>(i).map(Some)
    } else {
        Ok(None)
    }
}

/// An argument that must be there; a missing one is `undefined` (then refused by its rule).
fn required_arg<'e>(
    env: &Env,
    ctx: &FunctionCallContext,
    i: usize,
) -> napi_ohos::Result<Unknown<'e>> {
    match arg(ctx, i)? {
        Some(v) => Ok(v),
        None => {
            let mut undefined = std::ptr::null_mut();
            check(unsafe { sys::napi_get_undefined(env.raw(), &mut undefined) })?;
            // SAFETY: a valid value of this env.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), undefined) })
        }
    }
}

/// `errorCodes()`: the client-side error codes, `{ invalidArgument: 'ClientInvalidArgument', … }`.
unsafe fn export_error_codes(raw_env: sys::napi_env) -> napi_ohos::Result<sys::napi_value> {
    let env = Env::from_raw(raw_env);
    function(&env, "errorCodes", |ctx| {
        let mut obj = Object::new(ctx.env)?;
        for (name, code) in [
            ("invalidArgument", codes::INVALID_ARGUMENT),
            ("connect", codes::CONNECT),
            ("timeout", codes::TIMEOUT),
            ("network", codes::NETWORK),
            ("bodyRead", codes::BODY_READ),
            ("crcMismatch", codes::CRC_MISMATCH),
            ("invalidResponse", codes::INVALID_RESPONSE),
        ] {
            obj.set_named_property(name, code)?;
        }
        Ok(Raw(obj.raw()))
    })
}

/// `createClient(config)`: a client object with the methods `appendObject`, `headObject` and
/// `getObject`, sharing one connection pool. Throws a mapped error (code
/// `ClientInvalidArgument`) when the config breaks a rule.
unsafe fn export_create_client(raw_env: sys::napi_env) -> napi_ohos::Result<sys::napi_value> {
    let env = Env::from_raw(raw_env);
    function(&env, "createClient", |ctx| {
        let env: &Env = ctx.env;
        let config = required_arg(env, &ctx, 0)?;
        let client = client_config(config)
            .and_then(Client::new)
            .map_err(|e| throwable(env, &e))?;
        let mut obj = Object::new(env)?;
        let c = client.clone();
        let append = function(env, "appendObject", move |ctx| append_object(&c, ctx))?;
        let c = client.clone();
        let head = function(env, "headObject", move |ctx| head_object(&c, ctx))?;
        let c = client.clone();
        let get = function(env, "getObject", move |ctx| get_object(&c, ctx))?;
        let put = function(env, "putObject", move |ctx| put_object(&client, ctx))?;
        obj.set_named_property("appendObject", Raw(append))?;
        obj.set_named_property("putObject", Raw(put))?;
        obj.set_named_property("headObject", Raw(head))?;
        obj.set_named_property("getObject", Raw(get))?;
        Ok(Raw(obj.raw()))
    })
}

/// The result of a successful append, as the facade receives it.
struct NativeAppendResult(AppendObjectOutput);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeAppendResult {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let out = val.0;
        let mut obj = Object::new(&env)?;
        obj.set_named_property("status", i32::from(out.status))?;
        obj.set_named_property("headers", to_hash_map(out.headers))?;
        obj.set_named_property("requestId", out.request_id)?;
        // Never above 5 GiB (OSS's limit): exact as a JS number.
        obj.set_named_property("nextAppendPosition", out.next_append_position as f64)?;
        // CRC-64 values exceed 2^53: decimal strings.
        obj.set_named_property("hashCrc64ecma", out.hash_crc64ecma.map(|c| c.to_string()))?;
        obj.set_named_property("etag", out.etag)?;
        obj.set_named_property("versionId", out.version_id)?;
        Ok(obj.raw())
    }
}

/// A raw answer (HEAD/GET): `{ status, headers, body: ArrayBuffer }`.
struct NativeRawResponse(RawResponse);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeRawResponse {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let raw = val.0;
        let mut obj = Object::new(&env)?;
        obj.set_named_property("status", i32::from(raw.status))?;
        obj.set_named_property("headers", to_hash_map(raw.headers))?;
        let body = ArrayBuffer::from_data(&env, raw.body.to_vec())?;
        obj.set_named_property("body", body)?;
        Ok(obj.raw())
    }
}

/// `appendObject(bucket, key, data, position?, options?)`. Arguments are converted on the JS
/// thread (a file descriptor is duplicated before this returns); the upload runs on tokio. The
/// promise resolves with `{ status, headers, requestId, nextAppendPosition, hashCrc64ecma, etag,
/// versionId }` or rejects with a mapped error.
fn append_object(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let request = append_request(
        required_arg(env, &ctx, 0)?,
        required_arg(env, &ctx, 1)?,
        required_arg(env, &ctx, 2)?,
        arg(&ctx, 3)?,
        arg(&ctx, 4)?,
    );
    let client = client.clone();
    let work = async move {
        Ok(match request {
            Ok(request) => client.append_object(request).await,
            Err(e) => Err(e),
        })
    };
    let promise = env.spawn_future_with_callback(work, |env, outcome| match outcome {
        Ok(output) => Ok(NativeAppendResult(output)),
        Err(e) => Err(throwable(env, &e)),
    })?;
    Ok(Raw(promise.raw()))
}

/// `headObject(bucket, key)`: resolves with `{ status, headers, body }`.
fn head_object(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    read_object(client, ctx, true)
}

/// `getObject(bucket, key)`: the whole object in memory (for checks and small objects).
fn get_object(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    read_object(client, ctx, false)
}

/// `putObject(bucket, key, data)`: a whole normal (non-appendable) object from a string or bytes.
/// Resolves with `{ status, headers, body }`.
fn put_object(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let data = required_arg(env, &ctx, 2)?;
    let target = bucket_and_key(required_arg(env, &ctx, 0)?, required_arg(env, &ctx, 1)?)
        .and_then(|(bucket, key)| Ok((bucket, key, bytes(data)?)));
    let client = client.clone();
    let work = async move {
        Ok(match target {
            Ok((bucket, key, data)) => client.put_object(&bucket, &key, data).await,
            Err(e) => Err(e),
        })
    };
    let promise = env.spawn_future_with_callback(work, |env, outcome| match outcome {
        Ok(raw) => Ok(NativeRawResponse(raw)),
        Err(e) => Err(throwable(env, &e)),
    })?;
    Ok(Raw(promise.raw()))
}

fn read_object(client: &Client, ctx: FunctionCallContext, head: bool) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let target = bucket_and_key(required_arg(env, &ctx, 0)?, required_arg(env, &ctx, 1)?);
    let client = client.clone();
    let work = async move {
        Ok(match target {
            Ok((bucket, key)) if head => client.head_object(&bucket, &key).await,
            Ok((bucket, key)) => client.get_object(&bucket, &key, None).await,
            Err(e) => Err(e),
        })
    };
    let promise = env.spawn_future_with_callback(work, |env, outcome| match outcome {
        Ok(raw) => Ok(NativeRawResponse(raw)),
        Err(e) => Err(throwable(env, &e)),
    })?;
    Ok(Raw(promise.raw()))
}

// --- Argument conversion ---------------------------------------------------------------------

type Conv<T> = std::result::Result<T, Error>;

fn invalid(field: &'static str, rule: impl Into<String>) -> Error {
    Error::InvalidArgument {
        field,
        rule: rule.into(),
    }
}

/// A failure of the JS engine itself while reading an argument, reported against the field.
fn engine(field: &'static str, e: napi_ohos::Error) -> Error {
    invalid(field, format!("could not be read: {}", e.reason))
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        // napi-ohos has no Symbol variant on OHOS (ArkTS has no symbols).
        #[cfg(not(target_env = "ohos"))]
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        ValueType::External => "an external",
        ValueType::BigInt => "a bigint",
        _ => "an unknown value",
    }
}

fn value_type(field: &'static str, v: &Unknown) -> Conv<ValueType> {
    v.get_type().map_err(|e| engine(field, e))
}

/// `None` for `undefined` and `null`: an absent option.
fn present<'e>(field: &'static str, v: Option<Unknown<'e>>) -> Conv<Option<Unknown<'e>>> {
    match v {
        None => Ok(None),
        Some(v) => match value_type(field, &v)? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            _ => Ok(Some(v)),
        },
    }
}

fn property<'e>(obj: &Object<'e>, field: &'static str) -> Conv<Option<Unknown<'e>>> {
    let v: Unknown<'e> = obj
        .get_named_property(field)
        .map_err(|e| engine(field, e))?;
    present(field, Some(v))
}

fn to_string(field: &'static str, v: Unknown) -> Conv<String> {
    match value_type(field, &v)? {
        // SAFETY: the value was just checked to be a string.
        ValueType::String => unsafe { v.cast::<String>() }.map_err(|e| engine(field, e)),
        other => Err(invalid(
            field,
            format!("must be a string, got {}", type_name(other)),
        )),
    }
}

fn to_number(field: &'static str, v: Unknown) -> Conv<f64> {
    match value_type(field, &v)? {
        // SAFETY: the value was just checked to be a number.
        ValueType::Number => unsafe { v.cast::<f64>() }.map_err(|e| engine(field, e)),
        other => Err(invalid(
            field,
            format!("must be a number, got {}", type_name(other)),
        )),
    }
}

fn to_bool(field: &'static str, v: Unknown) -> Conv<bool> {
    match value_type(field, &v)? {
        // SAFETY: the value was just checked to be a boolean.
        ValueType::Boolean => unsafe { v.cast::<bool>() }.map_err(|e| engine(field, e)),
        other => Err(invalid(
            field,
            format!("must be a boolean, got {}", type_name(other)),
        )),
    }
}

fn to_object<'e>(field: &'static str, v: Unknown<'e>) -> Conv<Object<'e>> {
    match value_type(field, &v)? {
        // SAFETY: the value was just checked to be an object.
        ValueType::Object => unsafe { v.cast::<Object<'e>>() }.map_err(|e| engine(field, e)),
        other => Err(invalid(
            field,
            format!("must be an object, got {}", type_name(other)),
        )),
    }
}

fn opt_string(obj: &Object, field: &'static str) -> Conv<Option<String>> {
    property(obj, field)?
        .map(|v| to_string(field, v))
        .transpose()
}

fn opt_number(obj: &Object, field: &'static str) -> Conv<Option<f64>> {
    property(obj, field)?
        .map(|v| to_number(field, v))
        .transpose()
}

fn opt_bool(obj: &Object, field: &'static str) -> Conv<Option<bool>> {
    property(obj, field)?.map(|v| to_bool(field, v)).transpose()
}

/// A `Record<string, string>`: own enumerable string keys with string values.
fn opt_string_map(
    obj: &Object,
    field: &'static str,
) -> Conv<Option<std::collections::BTreeMap<String, String>>> {
    let Some(v) = property(obj, field)? else {
        return Ok(None);
    };
    let map = to_object(field, v)?;
    let names = map.get_property_names().map_err(|e| engine(field, e))?;
    let len = names.get_array_length().map_err(|e| engine(field, e))?;
    let mut out = std::collections::BTreeMap::new();
    for i in 0..len {
        let name: String = names.get_element(i).map_err(|e| engine(field, e))?;
        let value: Unknown = map
            .get_named_property(&name)
            .map_err(|e| engine(field, e))?;
        let value = match value_type(field, &value)? {
            // SAFETY: checked to be a string.
            ValueType::String => unsafe { value.cast::<String>() }.map_err(|e| engine(field, e))?,
            other => {
                return Err(invalid(
                    field,
                    format!("values must be strings; {name:?} is {}", type_name(other)),
                ))
            }
        };
        out.insert(name, value);
    }
    Ok(Some(out))
}

/// The facade's config: `accessKeyId`, `accessKeySecret`, `securityToken`, `region`,
/// `endpoint`, `cname`, `pathStyle`, `signatureVersion`, `timeout`, `connectTimeout` (ms),
/// `userAgent`.
fn client_config(config: Unknown) -> Conv<ClientConfig> {
    let obj = to_object("config", config)?;
    let required = |field: &'static str| -> Conv<String> {
        opt_string(&obj, field)?.ok_or_else(|| invalid(field, "is required"))
    };
    let credentials = Credentials::new(
        required("accessKeyId")?,
        required("accessKeySecret")?,
        opt_string(&obj, "securityToken")?,
    )?;
    let mut config = ClientConfig::new(credentials, &required("region")?)?;
    if let Some(endpoint) = opt_string(&obj, "endpoint")? {
        config = config.with_endpoint(endpoint);
    }
    if let Some(cname) = opt_bool(&obj, "cname")? {
        config = config.with_cname(cname);
    }
    if let Some(path_style) = opt_bool(&obj, "pathStyle")? {
        config = config.with_path_style(path_style);
    }
    if let Some(version) = opt_string(&obj, "signatureVersion")? {
        config = config.with_signature_version(validate::signature_version(&version)?);
    }
    let connect = match opt_number(&obj, "connectTimeout")? {
        Some(ms) => validate::timeout_ms("connectTimeout", ms)?,
        None => config.connect_timeout,
    };
    let read_write = match opt_number(&obj, "timeout")? {
        Some(ms) => validate::timeout_ms("timeout", ms)?,
        None => config.read_write_timeout,
    };
    config = config.with_timeouts(connect, read_write);
    if let Some(ua) = opt_string(&obj, "userAgent")? {
        config = config.with_user_agent(ua);
    }
    Ok(config)
}

fn bucket_and_key(bucket: Unknown, key: Unknown) -> Conv<(String, String)> {
    Ok((to_string("bucket", bucket)?, to_string("key", key)?))
}

fn append_request(
    bucket: Unknown,
    key: Unknown,
    data: Unknown,
    position: Option<Unknown>,
    options: Option<Unknown>,
) -> Conv<AppendObjectRequest> {
    let (bucket, key) = bucket_and_key(bucket, key)?;
    let body = body(data)?;
    let position = match present("position", position)? {
        None => None,
        Some(v) => Some(match value_type("position", &v)? {
            ValueType::Number => validate::position_from_number(to_number("position", v)?)?,
            ValueType::String => validate::position_from_decimal(&to_string("position", v)?)?,
            other => {
                return Err(invalid(
                    "position",
                    format!(
                        "must be a number or a decimal string, got {}",
                        type_name(other)
                    ),
                ))
            }
        }),
    };
    let mut request = AppendObjectRequest::new(bucket, key, body);
    request.position = position;
    if let Some(options) = present("options", options)? {
        let options = to_object("options", options)?;
        request.init_crc64 = match property(&options, "initCrc64")? {
            None => None,
            Some(v) => Some(match value_type("initCrc64", &v)? {
                ValueType::String => {
                    validate::decimal_u64("initCrc64", &to_string("initCrc64", v)?)?
                }
                ValueType::Number => {
                    validate::non_negative_integer("initCrc64", to_number("initCrc64", v)?)?
                }
                other => {
                    return Err(invalid(
                        "initCrc64",
                        format!(
                            "must be a decimal string (CRC-64 values exceed 2^53), got {}",
                            type_name(other)
                        ),
                    ))
                }
            }),
        };
        request.options = append_options(&options)?;
    }
    Ok(request)
}

/// The option names of the facade's `appendObject` request (see the facade's README for where
/// each name comes from).
fn append_options(obj: &Object) -> Conv<AppendOptions> {
    let parse = |field: &'static str| opt_string(obj, field);
    let mut o = AppendOptions {
        content_type: parse("contentType")?,
        cache_control: parse("cacheControl")?,
        content_disposition: parse("contentDisposition")?,
        content_encoding: parse("contentEncoding")?,
        expires: parse("expires")?,
        content_md5: parse("contentMd5")?.map(ContentMd5::Given),
        server_side_encryption_key_id: parse("serverSideEncryptionKeyId")?,
        tagging: parse("tagging")?,
        forbid_overwrite: opt_bool(obj, "forbidOverwrite")?,
        ..Default::default()
    };
    if let Some(acl) = parse("objectAcl")? {
        o.object_acl = Some(acl.parse()?);
    }
    if let Some(class) = parse("storageClass")? {
        o.storage_class = Some(class.parse()?);
    }
    if let Some(sse) = parse("serverSideEncryption")? {
        o.server_side_encryption = Some(sse.parse()?);
    }
    if let Some(data) = parse("serverSideDataEncryption")? {
        o.server_side_data_encryption = Some(data.parse()?);
    }
    if let Some(limit) = opt_number(obj, "trafficLimit")? {
        o.traffic_limit = Some(validate::non_negative_integer("trafficLimit", limit)?);
    }
    if let Some(payer) = parse("requestPayer")? {
        o.request_payer_is_requester = options::request_payer(&payer)?;
    }
    if let Some(meta) = opt_string_map(obj, "meta")? {
        o.metadata = meta;
    }
    Ok(o)
}

const DATA_RULE: &str = "must be a string, an ArrayBuffer, a TypedArray, a DataView or a file \
                         opened with fileIo.open (an object with a numeric fd)";

/// `data`: a string (UTF-8), ArrayBuffer / TypedArray / DataView (copied now, so the caller may
/// reuse the buffer), or a file object with a numeric `fd` (duplicated now, streamed later).
fn body(data: Unknown) -> Conv<Body> {
    let field = "data";
    match value_type(field, &data)? {
        ValueType::String => Ok(Body::from_bytes(to_string(field, data)?.into_bytes())),
        ValueType::Object => {
            let raw_env = data.value().env;
            let raw = data.raw();
            if let Some(bytes) = binary_bytes(raw_env, raw).map_err(|e| engine(field, e))? {
                return Ok(Body::from_bytes(bytes));
            }
            let obj = to_object(field, data)?;
            let fd = property(&obj, "fd")?;
            let Some(fd) = fd else {
                return Err(invalid(
                    field,
                    format!("{DATA_RULE}, got an object without fd"),
                ));
            };
            let fd = match value_type(field, &fd)? {
                ValueType::Number => to_number(field, fd)?,
                other => {
                    return Err(invalid(
                        field,
                        format!("{DATA_RULE}; its fd is {}", type_name(other)),
                    ))
                }
            };
            if fd.fract() != 0.0 || !(0.0..=i32::MAX as f64).contains(&fd) {
                return Err(invalid(
                    field,
                    format!("fd must be a non-negative integer file descriptor, got {fd}"),
                ));
            }
            Body::from_fd(fd as i32)
        }
        other => Err(invalid(
            field,
            format!("{DATA_RULE}, got {}", type_name(other)),
        )),
    }
}

/// A string (UTF-8) or the bytes of an ArrayBuffer, TypedArray or DataView (copied).
fn bytes(data: Unknown) -> Conv<Vec<u8>> {
    let field = "data";
    match value_type(field, &data)? {
        ValueType::String => Ok(to_string(field, data)?.into_bytes()),
        ValueType::Object => binary_bytes(data.value().env, data.raw())
            .map_err(|e| engine(field, e))?
            .ok_or_else(|| {
                invalid(
                    field,
                    "must be a string, an ArrayBuffer, a TypedArray or a DataView",
                )
            }),
        other => Err(invalid(
            field,
            format!(
                "must be a string, an ArrayBuffer, a TypedArray or a DataView, got {}",
                type_name(other)
            ),
        )),
    }
}

/// The bytes of an ArrayBuffer, TypedArray or DataView (copied), or `None` for other objects.
fn binary_bytes(env: sys::napi_env, value: sys::napi_value) -> napi_ohos::Result<Option<Vec<u8>>> {
    // SAFETY: `env` and `value` come from a live callback; each info call is made only after the
    // matching `napi_is_*` check, and the slices are copied before returning to JS.
    unsafe {
        let mut yes = false;
        check(sys::napi_is_arraybuffer(env, value, &mut yes))?;
        if yes {
            let mut data = std::ptr::null_mut();
            let mut len = 0usize;
            check(sys::napi_get_arraybuffer_info(
                env, value, &mut data, &mut len,
            ))?;
            return Ok(Some(copy(data.cast_const().cast(), len)));
        }
        check(sys::napi_is_typedarray(env, value, &mut yes))?;
        if yes {
            let typed = <TypedArray as napi_ohos::bindgen_prelude::FromNapiValue>::from_napi_value(
                env, value,
            )?;
            return Ok(Some(typed.arraybuffer.to_vec()));
        }
        check(sys::napi_is_dataview(env, value, &mut yes))?;
        if yes {
            let mut len = 0usize;
            let mut data = std::ptr::null_mut();
            let mut buffer = std::ptr::null_mut();
            let mut offset = 0usize;
            check(sys::napi_get_dataview_info(
                env,
                value,
                &mut len,
                &mut data,
                &mut buffer,
                &mut offset,
            ))?;
            return Ok(Some(copy(data.cast_const().cast(), len)));
        }
    }
    Ok(None)
}

fn check(status: sys::napi_status) -> napi_ohos::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi_ohos::Error::new(
            Status::from(status),
            "reading a binary value failed",
        ))
    }
}

/// # Safety
/// `data` must point to `len` readable bytes, or be null with `len == 0`.
unsafe fn copy(data: *const u8, len: usize) -> Vec<u8> {
    if data.is_null() || len == 0 {
        Vec::new()
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
    }
}

// --- Results ----------------------------------------------------------------------------------

fn to_hash_map(headers: std::collections::BTreeMap<String, String>) -> HashMap<String, String> {
    headers.into_iter().collect()
}

// --- Errors -----------------------------------------------------------------------------------

/// The fields of the JS error for `e` (besides `message`).
struct ErrorFields {
    code: String,
    message: String,
    request_id: String,
    status: i32,
    ec: String,
    host_id: String,
    recommend_doc: String,
    headers: HashMap<String, String>,
    details: HashMap<String, String>,
    next_append_position: Option<i64>,
    field: Option<String>,
    request_sent: Option<bool>,
    client_crc64: Option<String>,
    server_crc64: Option<String>,
}

fn error_fields(e: &Error) -> ErrorFields {
    let client = |code: &str, request_id: String| ErrorFields {
        code: code.to_owned(),
        message: e.to_string(),
        request_id,
        status: CLIENT_ERROR_STATUS,
        ec: String::new(),
        host_id: String::new(),
        recommend_doc: String::new(),
        headers: HashMap::new(),
        details: HashMap::new(),
        next_append_position: None,
        field: None,
        request_sent: None,
        client_crc64: None,
        server_crc64: None,
    };
    match e {
        Error::Service(s) => ErrorFields {
            code: s.code.clone(),
            message: s.message.clone(),
            request_id: s.request_id.clone(),
            status: i32::from(s.status),
            ec: s.ec.clone(),
            host_id: s.host_id.clone(),
            recommend_doc: s.recommend_doc.clone(),
            headers: to_hash_map(s.headers.clone()),
            details: to_hash_map(s.details.clone()),
            next_append_position: s.next_append_position().and_then(|p| i64::try_from(p).ok()),
            field: None,
            request_sent: None,
            client_crc64: None,
            server_crc64: None,
        },
        Error::InvalidArgument { field, .. } => ErrorFields {
            field: Some((*field).to_owned()),
            request_sent: Some(false),
            ..client(codes::INVALID_ARGUMENT, String::new())
        },
        Error::Transport {
            kind, request_sent, ..
        } => {
            let code = match kind {
                TransportErrorKind::Connect => codes::CONNECT,
                TransportErrorKind::Timeout => codes::TIMEOUT,
                TransportErrorKind::Body => codes::BODY_READ,
                TransportErrorKind::Io => codes::NETWORK,
                TransportErrorKind::Cancelled => codes::CANCELLED,
            };
            ErrorFields {
                request_sent: Some(*request_sent),
                ..client(code, String::new())
            }
        }
        Error::CrcMismatch {
            client: c,
            server,
            request_id,
        } => ErrorFields {
            client_crc64: Some(c.to_string()),
            server_crc64: Some(server.to_string()),
            request_sent: Some(true),
            ..client(codes::CRC_MISMATCH, request_id.clone())
        },
        Error::InvalidResponse { request_id, .. } => ErrorFields {
            request_sent: Some(true),
            ..client(codes::INVALID_RESPONSE, request_id.clone())
        },
    }
}

/// Builds the JS `Error` for `e`, as a `napi::Error` that throws/rejects with exactly that
/// object. Falls back to a plain error with the same message if the engine refuses.
fn throwable(env: &Env, e: &Error) -> napi_ohos::Error {
    let fields = error_fields(e);
    match error_object(env, fields) {
        Ok(err) => err,
        Err(_) => napi_ohos::Error::new(Status::GenericFailure, e.to_string()),
    }
}

fn error_object(env: &Env, f: ErrorFields) -> napi_ohos::Result<napi_ohos::Error> {
    let mut obj = env.create_error(napi_ohos::Error::new(
        Status::GenericFailure,
        f.message.clone(),
    ))?;
    obj.set_named_property("code", f.code)?;
    obj.set_named_property("requestId", f.request_id)?;
    obj.set_named_property("status", f.status)?;
    obj.set_named_property("ec", f.ec)?;
    obj.set_named_property("hostId", f.host_id)?;
    obj.set_named_property("recommendDoc", f.recommend_doc)?;
    obj.set_named_property("headers", f.headers)?;
    obj.set_named_property("details", f.details)?;
    if let Some(p) = f.next_append_position {
        obj.set_named_property("nextAppendPosition", p)?;
    }
    if let Some(field) = f.field {
        obj.set_named_property("field", field)?;
    }
    if let Some(sent) = f.request_sent {
        obj.set_named_property("requestSent", sent)?;
    }
    if let Some(c) = f.client_crc64 {
        obj.set_named_property("clientCrc64", c)?;
    }
    if let Some(c) = f.server_crc64 {
        obj.set_named_property("serverCrc64", c)?;
    }
    Ok(napi_ohos::Error::from(obj.to_unknown()))
}
