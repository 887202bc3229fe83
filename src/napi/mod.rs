//! The N-API binding (napi-ohos): what `liboss_append.so` exports to ArkTS, and to Node.js for
//! host tests. Thin by design: it converts JS arguments into the core's types (the rules live in
//! [`crate::protocol::validate`] and [`crate::protocol::options`]), runs the I/O on the tokio runtime napi-ohos owns
//! (never on the JS thread), and maps every [`Error`] to one JS `Error` object carrying the fields
//! the facade's `RequestError` exposes.
//!
//! Exports (see `ohos-package/src/main/cpp/types/liboss_append/index.d.ts`):
//! - `createClient(config) -> NativeClient` (throws a mapped error on a bad config);
//! - `NativeClient.appendObject(bucket, key, data, position?, options?, control?) ->
//!   Promise<result>`; `control` is `{ progress?, timeout? }` and the call sets its `cancel`
//!   function before returning;
//! - `NativeClient.sealAppendObject(bucket, key, position)`;
//! - `NativeClient.openAppender(bucket, key, options?, retry?) -> Promise<NativeAppender>`: an
//!   append session (a [`CancellableAppender`]) with `append(data, control?)`, `seal()` and
//!   `state()`;
//! - `NativeClient.headObject(bucket, key)`, `NativeClient.getObject(bucket, key)`,
//!   `NativeClient.putObject(bucket, key, data)`: used by the facade's `headObject` and by the
//!   tests (to read objects back and to create normal objects);
//! - `errorCodes()`: the client-side error codes, for the facade and the docs;
//! - `setLogLevel(level)`: turns the crate's logger on (hilog on OHOS, stderr on hosts).
//!
//! Progress callbacks run on the JS thread through a threadsafe function, throttled by the
//! core's rule ([`crate::io::progress`]); every call made for an operation has run before its
//! promise settles, and none comes after.
//!
//! Rejections and throws are JS `Error` objects with own properties `code`, `message`,
//! `requestId`, `status`, `ec`, `hostId`, `recommendDoc`, `headers`, `details`, and where they
//! apply `nextAppendPosition`, `field`, `requestSent`, `clientCrc64`, `serverCrc64`, and for
//! append sessions `attempts`, `position`, `length`, `expectedLength`, `serverLength`,
//! `lastError` (the error behind `ClientRetriesExhausted` / `ClientOutcomeUnknown`).

mod bridge;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi_ohos::bindgen_prelude::{
    sys, ArrayBuffer, Env, FnArgs, FromNapiValue, FunctionCallContext, JsObjectValue, JsValue,
    Object, Status, TypedArray, Unknown, ValueType,
};
use napi_ohos::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};

use crate::client::{AppendObjectRequest, Client};
use crate::io::body::Body;
use crate::io::cancel::CancellationToken;
use crate::io::progress::ProgressObserver;
use crate::js::append_options::JsAppendOptions;
use crate::js::call_queue::CallQueue;
use crate::js::config::JsClientConfig;
use crate::js::control::{self, CallKind, ProgressGate};
use crate::js::data;
use crate::js::numbers;
use crate::js::request_error::{codes, RequestErrorFields};
use crate::js::session_options::{JsAppenderOptions, JsRetryOptions};
use crate::protocol::error::Error;
use crate::protocol::options::TEXT_OPTIONS;
use crate::protocol::response::{AppendObjectOutput, RawResponse, SealAppendObjectOutput};
use crate::session::{Appended, AppenderOptions, CancellableAppender, SessionError};

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
        register_module_export(None, "setLogLevel\0", export_set_log_level);
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

/// Hands napi-ohos the runtime the appends run on: a multi-thread runtime with **one** worker
/// (files are read and checksummed on its blocking pool, so the worker only drives sockets).
/// napi-ohos's default has a worker per core; an append's request task and its connection task
/// then wake each other across threads, and idle workers are unparked for nothing. One worker
/// cut the 1 KiB append's p50 by 11-14 % and its CPU by ~15 % (bench/RESULTS.md), and a phone
/// gets one I/O thread instead of eight.
///
/// Called from the first export callback: those run during module init, before napi-ohos starts
/// its runtime, and after the library's load-time constructor (no thread is started while the
/// loader is still loading us).
fn install_io_runtime() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("oss-append-io")
            .enable_all()
            .build()
        {
            Ok(runtime) => napi_ohos::bindgen_prelude::create_custom_tokio_runtime(runtime),
            // napi-ohos then builds its default runtime, which works too.
            Err(e) => log::warn!("one-worker runtime not built: {e}"),
        }
    });
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
        for (name, code) in codes::ALL {
            obj.set_named_property(name, *code)?;
        }
        Ok(Raw(obj.raw()))
    })
}

/// `setLogLevel(level)`: `off`, `error`, `warn`, `info`, `debug` or `trace`. Installs the crate's
/// logger (hilog on OHOS, stderr on hosts) if the process has none; returns whether records of
/// that level now go out. Throws `ClientInvalidArgument` (field `level`) on another value.
unsafe fn export_set_log_level(raw_env: sys::napi_env) -> napi_ohos::Result<sys::napi_value> {
    let env = Env::from_raw(raw_env);
    function(&env, "setLogLevel", |ctx| {
        let env: &Env = ctx.env;
        let level = to_string("level", required_arg(env, &ctx, 0)?)
            .and_then(|level| crate::io::logging::set_level(&level))
            .map_err(|e| throwable(env, &e))?;
        let mut value = std::ptr::null_mut();
        check(unsafe { sys::napi_get_boolean(env.raw(), level, &mut value) })?;
        Ok(Raw(value))
    })
}

/// `createClient(config)`: a client object with the methods `appendObject`,
/// `sealAppendObject`, `openAppender`, `headObject`, `getObject` and `putObject`, sharing one
/// connection pool. Throws a mapped error (code `ClientInvalidArgument`) when the config breaks
/// a rule. The first call turns logging on when `OSS_APPEND_LOG` is set.
unsafe fn export_create_client(raw_env: sys::napi_env) -> napi_ohos::Result<sys::napi_value> {
    install_io_runtime();
    let env = Env::from_raw(raw_env);
    function(&env, "createClient", |ctx| {
        static LOG_FROM_ENV: std::sync::Once = std::sync::Once::new();
        LOG_FROM_ENV.call_once(|| {
            crate::io::logging::init_from_env();
        });
        let env: &Env = ctx.env;
        let config = required_arg(env, &ctx, 0)?;
        let client = client_config(config)
            .and_then(JsClientConfig::into_config)
            .and_then(Client::new)
            .map_err(|e| throwable(env, &e))?;
        let mut obj = Object::new(env)?;
        let c = client.clone();
        let append = function(env, "appendObject", move |ctx| append_object(&c, ctx))?;
        let c = client.clone();
        let head = function(env, "headObject", move |ctx| head_object(&c, ctx))?;
        let c = client.clone();
        let get = function(env, "getObject", move |ctx| get_object(&c, ctx))?;
        let c = client.clone();
        let seal = function(env, "sealAppendObject", move |ctx| seal_object(&c, ctx))?;
        let c = client.clone();
        let open = function(env, "openAppender", move |ctx| open_appender(&c, ctx))?;
        let put = function(env, "putObject", move |ctx| put_object(&client, ctx))?;
        obj.set_named_property("appendObject", Raw(append))?;
        obj.set_named_property("sealAppendObject", Raw(seal))?;
        obj.set_named_property("openAppender", Raw(open))?;
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
        let mut obj = response_object(&env, out.status, out.headers)?;
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

/// `{ status, headers }`: how every result object starts.
fn response_object(
    env: &Env,
    status: u16,
    headers: std::collections::BTreeMap<String, String>,
) -> napi_ohos::Result<Object<'_>> {
    let mut obj = Object::new(env)?;
    obj.set_named_property("status", i32::from(status))?;
    obj.set_named_property("headers", headers)?;
    Ok(obj)
}

/// A raw answer (HEAD/GET): `{ status, headers, body: ArrayBuffer }`.
struct NativeRawResponse(RawResponse);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeRawResponse {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let raw = val.0;
        let mut obj = response_object(&env, raw.status, raw.headers)?;
        // No copy when the response owns its bytes alone (it does: nothing else holds them).
        let body = ArrayBuffer::from_data(&env, Vec::from(raw.body))?;
        obj.set_named_property("body", body)?;
        Ok(obj.raw())
    }
}

/// `appendObject(bucket, key, data, position?, options?, control?)`. Arguments are converted on
/// the JS thread (a file descriptor is duplicated before this returns); the upload runs on
/// tokio. `control` (`{ progress?, timeout? }`) gets its `cancel` function set before this
/// returns. The promise resolves with `{ status, headers, requestId, nextAppendPosition,
/// hashCrc64ecma, etag, versionId }` or rejects with a mapped error.
fn append_object(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let request = append_request(
        required_arg(env, &ctx, 0)?,
        required_arg(env, &ctx, 1)?,
        required_arg(env, &ctx, 2)?,
        arg(&ctx, 3)?,
        arg(&ctx, 4)?,
    );
    let control = call_control(env, arg(&ctx, 5)?, CallKind::ClientCall)?;
    let args = request.and_then(|request| Ok((request, control?)));
    let client = client.clone();
    let run = |(mut request, control): (AppendObjectRequest, CallControl)| async move {
        if let Some(progress) = &control.progress {
            request = request.with_progress(progress.observer());
        }
        request.timeout = control.timeout;
        request.cancellation = Some(control.token.clone());
        let result = client.append_object(request).await;
        control.finish().await;
        result
    };
    request_promise(env, args, run, NativeAppendResult)
}

/// The promise of a client call whose arguments `args` were converted on the JS thread: `run`
/// does the I/O; a conversion error rejects like a failed request (nothing was sent).
fn request_promise<A, T, V, F, Fut>(
    env: &Env,
    args: Conv<A>,
    run: F,
    wrap: fn(T) -> V,
) -> napi_ohos::Result<Raw>
where
    A: Send + 'static,
    T: Send + 'static,
    V: napi_ohos::bindgen_prelude::ToNapiValue + 'static,
    F: FnOnce(A) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::protocol::error::Result<T>> + Send + 'static,
{
    let work = async move {
        Ok(match args {
            Ok(args) => run(args).await,
            Err(e) => Err(e),
        })
    };
    let promise = bridge::promise(env, work, move |env, outcome| match outcome {
        Ok(output) => Ok(wrap(output)),
        Err(e) => Err(throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

/// `sealAppendObject(bucket, key, position)`: resolves with `{ status, headers, requestId,
/// sealedTime, etag }`.
fn seal_object(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let target = bucket_and_key(required_arg(env, &ctx, 0)?, required_arg(env, &ctx, 1)?).and_then(
        |(bucket, key)| {
            let position = position_arg(arg(&ctx, 2).map_err(|e| engine("position", e))?)?
                .ok_or_else(|| {
                    invalid(
                        "position",
                        "is required: the object's length (its x-oss-next-append-position)",
                    )
                })?;
            Ok((bucket, key, position))
        },
    );
    let client = client.clone();
    let run = |(bucket, key, position): (String, String, u64)| async move {
        client.seal_append_object(&bucket, &key, position).await
    };
    request_promise(env, target, run, NativeSealResult)
}

/// `openAppender(bucket, key, options?, retry?)`: opens an append session (one HEAD) and
/// resolves with a `NativeAppender` object.
fn open_appender(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let options = appender_options(
        required_arg(env, &ctx, 0)?,
        required_arg(env, &ctx, 1)?,
        arg(&ctx, 2)?,
        arg(&ctx, 3)?,
    );
    let client = client.clone();
    let work = async move {
        Ok(match options {
            Ok(options) => CancellableAppender::open(&client, options).await,
            Err(e) => Err(SessionError::from(e)),
        })
    };
    let promise = bridge::promise(env, work, |env, outcome| match outcome {
        Ok(session) => Ok(NativeSession(Arc::new(SessionHandle::new(session)))),
        Err(e) => Err(session_throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

// --- Append sessions -------------------------------------------------------------------------

/// What `state()` reports, refreshed after every operation.
#[derive(Debug, Clone)]
struct SessionState {
    position: u64,
    crc64: u64,
    exists: bool,
    unsettled: bool,
    sealed: bool,
    stopped: Option<String>,
}

impl SessionState {
    fn of(s: &CancellableAppender) -> Self {
        Self {
            position: s.position(),
            crc64: s.crc64(),
            exists: s.appender().exists(),
            unsettled: s.is_unsettled(),
            sealed: s.appender().is_sealed(),
            stopped: s.stopped().map(str::to_owned),
        }
    }
}

/// One session shared by the JS object's methods. Operations run one at a time, in the order
/// of the JS calls: each call takes its turn in the [`CallQueue`] on the JS thread before its
/// task is spawned, and the task waits for its turn.
struct SessionHandle {
    session: tokio::sync::Mutex<CancellableAppender>,
    state: Mutex<SessionState>,
    calls: CallQueue,
}

impl SessionHandle {
    fn new(session: CancellableAppender) -> Self {
        Self {
            state: Mutex::new(SessionState::of(&session)),
            session: tokio::sync::Mutex::new(session),
            calls: CallQueue::default(),
        }
    }

    fn snapshot(&self) -> SessionState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn refresh(&self, session: &CancellableAppender) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = SessionState::of(session);
    }
}

/// The JS object of a session: `append(data, control?)`, `seal()`, `state()`.
struct NativeSession(Arc<SessionHandle>);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeSession {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let handle = val.0;
        let mut obj = Object::new(&env)?;
        let h = handle.clone();
        let append = function(&env, "append", move |ctx| session_append(&h, ctx))?;
        let h = handle.clone();
        let seal = function(&env, "seal", move |ctx| session_seal(&h, ctx))?;
        let state = function(&env, "state", move |ctx| {
            let state = handle.snapshot();
            // SAFETY: called by the engine with a live env.
            let value = unsafe {
                NativeSessionState::to_napi_value(ctx.env.raw(), NativeSessionState(state))
            }?;
            Ok(Raw(value))
        })?;
        obj.set_named_property("append", Raw(append))?;
        obj.set_named_property("seal", Raw(seal))?;
        obj.set_named_property("state", Raw(state))?;
        Ok(obj.raw())
    }
}

/// `{ position, crc64, exists, unsettled, sealed, stopped? }`.
struct NativeSessionState(SessionState);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeSessionState {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let s = val.0;
        let mut obj = Object::new(&env)?;
        obj.set_named_property("position", s.position as f64)?;
        obj.set_named_property("crc64", s.crc64.to_string())?;
        obj.set_named_property("exists", s.exists)?;
        obj.set_named_property("unsettled", s.unsettled)?;
        obj.set_named_property("sealed", s.sealed)?;
        obj.set_named_property("stopped", s.stopped)?;
        Ok(obj.raw())
    }
}

/// `append(data, control?)` of a session: resolves with the confirmed append.
fn session_append(handle: &Arc<SessionHandle>, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let body = body(required_arg(env, &ctx, 0)?);
    let control = call_control(env, arg(&ctx, 1)?, CallKind::SessionAppend)?;
    let handle = handle.clone();
    let mut turn = handle.calls.enqueue();
    let work = async move {
        let (mut body, control) = match (body, control) {
            (Ok(body), Ok(control)) => (body, control),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(SessionError::from(e))),
        };
        if let Some(progress) = &control.progress {
            body = body.with_progress(progress.observer());
        }
        let token = control.token.clone();
        let guard = tokio::select! {
            biased;
            () = token.cancelled() => None,
            guard = async {
                turn.wait().await;
                handle.session.lock().await
            } => Some(guard),
        };
        let result = match guard {
            None => Err(SessionError::from(Error::cancelled(
                false,
                "before the request was sent (while an earlier call of the session ran)",
            ))),
            Some(mut session) => {
                let result = session.append(body, &token).await;
                handle.refresh(&session);
                result
            }
        };
        control.finish().await;
        Ok(result.map(|appended| (appended, handle.snapshot())))
    };
    let promise = bridge::promise(env, work, |env, outcome| match outcome {
        Ok((appended, state)) => Ok(NativeSessionAppend(appended, state)),
        Err(e) => Err(session_throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

/// `seal()` of a session.
fn session_seal(handle: &Arc<SessionHandle>, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let handle = handle.clone();
    let mut turn = handle.calls.enqueue();
    let work = async move {
        turn.wait().await;
        let mut session = handle.session.lock().await;
        let result = session.seal().await;
        handle.refresh(&session);
        Ok(result)
    };
    let promise = bridge::promise(env, work, |env, outcome| match outcome {
        Ok(output) => Ok(NativeSealResult(output)),
        Err(e) => Err(session_throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

/// A confirmed session append: `{ position, length, nextAppendPosition, hashCrc64ecma,
/// attempts, recovered, requestId, status, headers, etag?, versionId?, state }`. When the append
/// was confirmed by HEAD (`recovered`), `status` is 200 and `headers` holds the confirmed
/// `x-oss-next-append-position`, `x-oss-hash-crc64ecma` and `x-oss-request-id`.
struct NativeSessionAppend(Appended, SessionState);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeSessionAppend {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let raw_env = env;
        let env = Env::from_raw(env);
        let NativeSessionAppend(a, state) = val;
        let (status, headers) = a.status_and_headers();
        let mut obj = response_object(&env, status, headers)?;
        obj.set_named_property("position", a.position as f64)?;
        obj.set_named_property("length", a.length as f64)?;
        obj.set_named_property("nextAppendPosition", a.next_append_position as f64)?;
        obj.set_named_property("hashCrc64ecma", a.hash_crc64ecma.to_string())?;
        obj.set_named_property("attempts", a.attempts)?;
        obj.set_named_property("recovered", a.recovered)?;
        obj.set_named_property("requestId", a.request_id.clone())?;
        let (etag, version_id) = match a.output {
            Some(out) => (out.etag, out.version_id),
            None => (None, None),
        };
        obj.set_named_property("etag", etag)?;
        obj.set_named_property("versionId", version_id)?;
        // SAFETY: same env.
        let state =
            unsafe { NativeSessionState::to_napi_value(raw_env, NativeSessionState(state)) }?;
        obj.set_named_property("state", Raw(state))?;
        Ok(obj.raw())
    }
}

/// `{ status, headers, requestId, sealedTime, etag? }`.
struct NativeSealResult(SealAppendObjectOutput);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeSealResult {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let out = val.0;
        let mut obj = response_object(&env, out.status, out.headers)?;
        obj.set_named_property("requestId", out.request_id)?;
        obj.set_named_property("sealedTime", out.sealed_time)?;
        obj.set_named_property("etag", out.etag)?;
        Ok(obj.raw())
    }
}

// --- Per-call control: progress, timeout, cancel ---------------------------------------------

/// `(sent, total) => void` on the JS thread.
type ProgressTsfn =
    ThreadsafeFunction<FnArgs<(f64, f64)>, UnknownReturnValue, FnArgs<(f64, f64)>, Status, false>;

/// The JS progress callback of one call. Calls are queued to the JS thread without blocking,
/// through the call's [`ProgressGate`]: [`JsProgress::close`] stops further calls and waits
/// until the queued ones have run, so that all of them come before the promise settles.
struct JsProgress {
    tsfn: Arc<ProgressTsfn>,
    gate: Arc<ProgressGate>,
}

impl JsProgress {
    fn observer(&self) -> ProgressObserver {
        let tsfn = self.tsfn.clone();
        let gate = self.gate.clone();
        ProgressObserver::new(move |sent, total| {
            gate.pass(|ran| {
                let status = tsfn.call_with_return_value(
                    FnArgs::from((sent as f64, total as f64)),
                    ThreadsafeFunctionCallMode::NonBlocking,
                    move |_, _| {
                        // Exceptions thrown by the callback land here too: they are ignored.
                        drop(ran);
                        Ok(())
                    },
                );
                status == Status::Ok
            });
        })
    }

    async fn close(&self) {
        self.gate.close().await;
    }
}

/// The per-call options of one native call.
struct CallControl {
    progress: Option<JsProgress>,
    timeout: Option<Duration>,
    token: CancellationToken,
}

impl CallControl {
    /// Ends the call's progress reporting (see [`JsProgress::close`]).
    async fn finish(&self) {
        if let Some(progress) = &self.progress {
            progress.close().await;
        }
    }
}

/// Reads `control` (`{ progress?, timeout? }`, `timeout` as `kind` allows) and sets its
/// `cancel` property to a function cancelling this call. The outer error is the engine's; the
/// inner one a rule the caller broke (the call then rejects with it, sending nothing).
fn call_control(
    env: &Env,
    control: Option<Unknown>,
    kind: CallKind,
) -> napi_ohos::Result<Conv<CallControl>> {
    let token = CancellationToken::new();
    let Some(control) = (match present("options", control) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    }) else {
        return Ok(Ok(CallControl {
            progress: None,
            timeout: None,
            token,
        }));
    };
    let mut obj = match to_object("options", control) {
        Ok(obj) => obj,
        Err(e) => return Ok(Err(e)),
    };
    let parsed = (|| -> Conv<(Option<JsProgress>, Option<Duration>)> {
        let progress = match property(&obj, "progress")? {
            None => None,
            Some(f) => match value_type("progress", &f)? {
                ValueType::Function => {
                    // SAFETY: a live function value of this env.
                    let tsfn = unsafe { ProgressTsfn::from_napi_value(env.raw(), f.raw()) }
                        .map_err(|e| engine("progress", e))?;
                    Some(JsProgress {
                        tsfn: Arc::new(tsfn),
                        gate: Arc::default(),
                    })
                }
                other => {
                    return Err(invalid(
                        "progress",
                        format!(
                            "must be a function (sent: number, total: number) => void, got {}",
                            type_name(other)
                        ),
                    ))
                }
            },
        };
        let timeout = control::call_timeout(kind, opt_number(&obj, "timeout")?)?;
        Ok((progress, timeout))
    })();
    let (progress, timeout) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return Ok(Err(e)),
    };
    let t = token.clone();
    let cancel = function(env, "cancel", move |ctx| {
        t.cancel();
        undefined(ctx.env)
    })?;
    obj.set_named_property("cancel", Raw(cancel))?;
    Ok(Ok(CallControl {
        progress,
        timeout,
        token,
    }))
}

fn undefined(env: &Env) -> napi_ohos::Result<Raw> {
    let mut value = std::ptr::null_mut();
    check(unsafe { sys::napi_get_undefined(env.raw(), &mut value) })?;
    Ok(Raw(value))
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
    let run = |(bucket, key, data): (String, String, Vec<u8>)| async move {
        client.put_object(&bucket, &key, data).await
    };
    request_promise(env, target, run, NativeRawResponse)
}

fn read_object(client: &Client, ctx: FunctionCallContext, head: bool) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let target = bucket_and_key(required_arg(env, &ctx, 0)?, required_arg(env, &ctx, 1)?);
    let client = client.clone();
    let run = move |(bucket, key): (String, String)| async move {
        if head {
            client.head_object(&bucket, &key).await
        } else {
            client.get_object(&bucket, &key, None).await
        }
    };
    request_promise(env, target, run, NativeRawResponse)
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

/// `v` as a `T` when its JS type is `expected` (described as `what`), else an error naming
/// `field` and the type it got.
fn cast<T: FromNapiValue>(
    field: &'static str,
    v: Unknown,
    expected: ValueType,
    what: &str,
) -> Conv<T> {
    let actual = value_type(field, &v)?;
    if actual != expected {
        return Err(invalid(
            field,
            format!("must be {what}, got {}", type_name(actual)),
        ));
    }
    // SAFETY: the value was just checked to be of the type `T` reads.
    unsafe { v.cast::<T>() }.map_err(|e| engine(field, e))
}

fn to_string(field: &'static str, v: Unknown) -> Conv<String> {
    cast(field, v, ValueType::String, "a string")
}

fn to_number(field: &'static str, v: Unknown) -> Conv<f64> {
    cast(field, v, ValueType::Number, "a number")
}

fn to_bool(field: &'static str, v: Unknown) -> Conv<bool> {
    cast(field, v, ValueType::Boolean, "a boolean")
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
/// `userAgent` (the rules: [`JsClientConfig::into_config`]).
fn client_config(config: Unknown) -> Conv<JsClientConfig> {
    let obj = to_object("config", config)?;
    Ok(JsClientConfig {
        access_key_id: opt_string(&obj, "accessKeyId")?,
        access_key_secret: opt_string(&obj, "accessKeySecret")?,
        security_token: opt_string(&obj, "securityToken")?,
        region: opt_string(&obj, "region")?,
        endpoint: opt_string(&obj, "endpoint")?,
        cname: opt_bool(&obj, "cname")?,
        path_style: opt_bool(&obj, "pathStyle")?,
        signature_version: opt_string(&obj, "signatureVersion")?,
        connect_timeout_ms: opt_number(&obj, "connectTimeout")?,
        timeout_ms: opt_number(&obj, "timeout")?,
        user_agent: opt_string(&obj, "userAgent")?,
    })
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
    let position = position_arg(position)?;
    let mut request = AppendObjectRequest::new(bucket, key, body);
    request.position = position;
    if let Some(options) = present("options", options)? {
        let options = to_object("options", options)?;
        request.init_crc64 = match property(&options, "initCrc64")? {
            None => None,
            Some(v) => Some(match value_type("initCrc64", &v)? {
                ValueType::String => {
                    numbers::decimal_u64("initCrc64", &to_string("initCrc64", v)?)?
                }
                ValueType::Number => {
                    numbers::non_negative_integer("initCrc64", to_number("initCrc64", v)?)?
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
        request.options = append_options(&options)?.into_options()?;
    }
    Ok(request)
}

/// `position`: a number or a decimal string (the `x-oss-next-append-position` header as is);
/// `None` when absent.
fn position_arg(position: Option<Unknown>) -> Conv<Option<u64>> {
    match present("position", position)? {
        None => Ok(None),
        Some(v) => Ok(Some(match value_type("position", &v)? {
            ValueType::Number => numbers::position_from_number(to_number("position", v)?)?,
            ValueType::String => numbers::position_from_decimal(&to_string("position", v)?)?,
            other => {
                return Err(invalid(
                    "position",
                    format!(
                        "must be a number or a decimal string, got {}",
                        type_name(other)
                    ),
                ))
            }
        })),
    }
}

/// The options of `openAppender`: the `appendObject` option names (creation headers; see
/// [`AppenderOptions::options`]) plus `computeContentMd5`, and `retry` as `{ maxRetries,
/// initialBackoff, maxBackoff, deadline }` (milliseconds). The rules:
/// [`JsAppenderOptions::into_options`].
fn appender_options(
    bucket: Unknown,
    key: Unknown,
    options: Option<Unknown>,
    retry: Option<Unknown>,
) -> Conv<AppenderOptions> {
    let (bucket, key) = bucket_and_key(bucket, key)?;
    let mut out = JsAppenderOptions {
        bucket,
        key,
        ..JsAppenderOptions::default()
    };
    if let Some(options) = present("options", options)? {
        let obj = to_object("options", options)?;
        out.options = append_options(&obj)?;
        out.compute_content_md5 = opt_bool(&obj, "computeContentMd5")?;
    }
    if let Some(retry) = present("retry", retry)? {
        let obj = to_object("retry", retry)?;
        out.retry = JsRetryOptions {
            max_retries: opt_number(&obj, "maxRetries")?,
            initial_backoff_ms: opt_number(&obj, "initialBackoff")?,
            max_backoff_ms: opt_number(&obj, "maxBackoff")?,
            deadline_ms: opt_number(&obj, "deadline")?,
        };
    }
    out.into_options()
}

/// The option names of the facade's `appendObject` request (see the facade's README for where
/// each name comes from; the rules: [`JsAppendOptions::into_options`]).
fn append_options(obj: &Object) -> Conv<JsAppendOptions> {
    let mut texts = std::collections::BTreeMap::new();
    for option in &TEXT_OPTIONS {
        if let Some(text) = opt_string(obj, option.name)? {
            texts.insert(option.name, text);
        }
    }
    Ok(JsAppendOptions {
        texts,
        content_md5: opt_string(obj, "contentMd5")?,
        forbid_overwrite: opt_bool(obj, "forbidOverwrite")?,
        object_acl: opt_string(obj, "objectAcl")?,
        storage_class: opt_string(obj, "storageClass")?,
        server_side_encryption: opt_string(obj, "serverSideEncryption")?,
        server_side_data_encryption: opt_string(obj, "serverSideDataEncryption")?,
        traffic_limit: opt_number(obj, "trafficLimit")?,
        request_payer: opt_string(obj, "requestPayer")?,
        meta: opt_string_map(obj, "meta")?,
    })
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
            Body::from_fd(data::file_descriptor(fd)?)
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

// --- Errors -----------------------------------------------------------------------------------

/// Builds the JS `Error` for `e`, as a `napi::Error` that throws/rejects with exactly that
/// object. Falls back to a plain error with the same message if the engine refuses.
fn throwable(env: &Env, e: &Error) -> napi_ohos::Error {
    to_throwable(env, RequestErrorFields::from(e), e)
}

/// [`throwable`] for an append session's failure.
fn session_throwable(env: &Env, e: &SessionError) -> napi_ohos::Error {
    to_throwable(env, RequestErrorFields::from(e), e)
}

fn to_throwable(
    env: &Env,
    fields: RequestErrorFields,
    e: &dyn std::fmt::Display,
) -> napi_ohos::Error {
    match error_object(env, fields) {
        Ok(obj) => napi_ohos::Error::from(obj.to_unknown()),
        Err(_) => napi_ohos::Error::new(Status::GenericFailure, e.to_string()),
    }
}

fn error_object<'e>(env: &'e Env, f: RequestErrorFields) -> napi_ohos::Result<Object<'e>> {
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
    if let Some(n) = f.attempts {
        obj.set_named_property("attempts", n)?;
    }
    for (name, value) in [
        ("position", f.position),
        ("length", f.length),
        ("expectedLength", f.expected_length),
        ("serverLength", f.server_length),
    ] {
        if let Some(v) = value {
            obj.set_named_property(name, v)?;
        }
    }
    if let Some(last) = f.last_error {
        let last = error_object(env, *last)?;
        obj.set_named_property("lastError", last)?;
    }
    Ok(obj)
}
