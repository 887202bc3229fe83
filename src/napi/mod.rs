//! The N-API binding (napi-ohos): what `liboss_append.so` exports to ArkTS, and to Node.js for
//! host tests. Glue only: it reads JS values into the plain types of [`crate::js`] (where the
//! rules live, with their tests), runs the I/O on the tokio runtime napi-ohos owns (never on the
//! JS thread), and maps every error to one JS `Error` object carrying the fields the facade's
//! `RequestError` exposes.
//!
//! Exports (see `ohos-package/src/main/cpp/types/liboss_append/index.d.ts`):
//! - `createClient(config) -> NativeClient` (throws a mapped error on a bad config);
//! - `NativeClient.appendObject(bucket, key, data, position?, options?, control?) ->
//!   Promise<result>`; `control` is `{ progress?, timeout? }` and the call sets its `cancel`
//!   function before returning;
//! - `NativeClient.sealAppendObject(bucket, key, position)`;
//! - `NativeClient.openAppender(bucket, key, options?, retry?) -> Promise<NativeAppender>`: an
//!   append session with `append(data, control?)`, `seal()` and `state()`;
//! - `NativeClient.appendStream(options) -> Promise<NativeAppendStream>`: a durable append
//!   stream (spooled on disk, uploaded in the background) with `write(data)`, `flush()`,
//!   `close()` and `state()`, and `onProgress`/`onError` options;
//! - `NativeClient.headObject(bucket, key)`, `NativeClient.getObject(bucket, key)`,
//!   `NativeClient.putObject(bucket, key, data)`: used by the facade's `headObject` and by the
//!   tests (to read objects back and to create normal objects);
//! - `errorCodes()`: the client-side error codes, for the facade and the docs;
//! - `setLogLevel(level, options?)`: turns the crate's logger on (hilog on OHOS, stderr on
//!   hosts); `options.publicKeys` shows object keys in the records (hidden on OHOS by default).
//!
//! By concern: [`client`] (the client and its calls), [`session`] (append sessions),
//! [`stream`] (durable append streams),
//! [`control`] (a call's progress, timeout and cancel), [`convert`] (reading JS values),
//! [`results`] (building result objects and functions), [`errors`] (building error objects),
//! [`bridge`] (promises settled from the I/O runtime).
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
mod client;
mod control;
mod convert;
mod errors;
pub(crate) mod js_callback;
mod results;
mod session;
mod stream;

use napi_ohos::bindgen_prelude::{sys, Env, JsObjectValue, JsValue, Object};

use crate::js::request_error::codes;
use convert::{arg, check, opt_bool, required_arg, to_object, to_string};
use errors::throwable;
use results::{function, Raw};

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
/// made small appends faster and cheaper (the A/B figures are in bench/RESULTS.md), and a phone
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
        // `{ publicKeys?: boolean }`: show object keys in records (hidden on OHOS by default).
        let public_keys = match arg(&ctx, 1)? {
            Some(options) => to_object("options", options)
                .and_then(|o| opt_bool(&o, "publicKeys"))
                .map_err(|e| throwable(env, &e))?,
            None => None,
        };
        let level = to_string("level", required_arg(env, &ctx, 0)?)
            .and_then(|level| crate::io::logging::set_level(&level))
            .map_err(|e| throwable(env, &e))?;
        if let Some(public) = public_keys {
            crate::io::logging::set_keys_public(public);
        }
        let mut value = std::ptr::null_mut();
        check(unsafe { sys::napi_get_boolean(env.raw(), level, &mut value) })?;
        Ok(Raw(value))
    })
}

/// `createClient(config)`: see [`client::create_client`].
unsafe fn export_create_client(raw_env: sys::napi_env) -> napi_ohos::Result<sys::napi_value> {
    install_io_runtime();
    let env = Env::from_raw(raw_env);
    function(&env, "createClient", client::create_client)
}
