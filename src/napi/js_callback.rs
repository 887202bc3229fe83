//! Calling a JS function from the I/O runtime and awaiting what it returns — a promise or a
//! plain value — in Rust: [`JsCallback`]. Used for `credentialsProvider`; generic over how the
//! arguments become JS values and how the answer becomes Rust, so other callbacks (an async
//! DNS resolver, …) use the same piece.
//!
//! ```text
//! JS thread:  JsCallback::new(env, function, encode, decode)     // keeps the function alive
//! any thread: callback.call(args).await -> Result<R, String>
//!   -> queued on the JS thread through a threadsafe function made for this callback
//!   -> JS thread: encode(env, args) -> function(...argv)
//!        returns a promise: then(onFulfilled, onRejected) attached; either one settles
//!        returns a value:   decoded at once;  throws: the exception's text
//!   -> decode(env, value) on the JS thread -> the result, sent back through a oneshot channel
//! ```
//!
//! * The function is called with `this` undefined. Its exception or rejection becomes
//!   `Err(text)` (`String(reason)`, at most [`MAX_MESSAGE`] characters): the caller decides
//!   what error that is.
//! * **The environment going away** (a worker terminated, the app closing) while calls are
//!   queued or in flight: like [`super::bridge`], the threadsafe function sits behind a lock
//!   shared with other threads, and an environment cleanup hook (registered after the function,
//!   so it runs before the engine frees it) empties it; later calls answer `Err` at once.
//!   Calls queued at that moment are answered `Err` when the engine hands them back for
//!   cleanup. A promise that never settles, or a call the engine drops, leaves `call` waiting:
//!   callers bound it with a timeout (the credentials cache does).
//! * The threadsafe function is unreferenced: a callback never keeps the process alive on its
//!   own (the request that needs it holds the loop through its own promise). Dropping the
//!   [`JsCallback`] (any thread) releases it; its finalizer (JS thread) removes the cleanup hook.
//!
//! On OpenHarmony these calls are in `libace_napi.z.so` from API 10/11, as for the bridge.

use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex};

use napi_ohos::bindgen_prelude::{FromNapiValue, JsValue, Unknown};
use napi_ohos::{sys, Env, Status};
use tokio::sync::oneshot;

use super::results::{function as js_function, undefined};

/// Longest text kept of a JS exception or rejection.
pub(crate) const MAX_MESSAGE: usize = 1000;

/// Turns the call's arguments into JS values (JS thread).
pub(crate) type Encode<A> = fn(&Env, A) -> napi_ohos::Result<Vec<sys::napi_value>>;
/// Turns the function's answer (the resolved value, or the returned one) into Rust (JS thread).
pub(crate) type Decode<R> = fn(&Env, Unknown) -> Result<R, String>;

/// A JS function callable from any thread; see the module docs.
pub(crate) struct JsCallback<A, R> {
    link: Arc<Link>,
    encode: Encode<A>,
    decode: Decode<R>,
}

/// One queued call, run on the JS thread with the env and the function, or with `None` when
/// the function is being torn down.
type Job = Box<dyn FnOnce(Option<(&Env, sys::napi_value)>) + Send>;

struct Link {
    state: Mutex<LinkState>,
}

struct LinkState {
    /// The function while it may be called.
    tsfn: Option<Tsfn>,
    /// The cleanup hook ran (so the finalizer must not remove it).
    hook_ran: bool,
}

struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: threadsafe functions are made to be called from any thread.
unsafe impl Send for Tsfn {}

impl Link {
    fn lock(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<A: Send + 'static, R: Send + 'static> JsCallback<A, R> {
    /// Wraps `function` (a JS function of `env`, JS thread). `name` shows in engine
    /// diagnostics.
    pub(crate) fn new(
        env: &Env,
        function: sys::napi_value,
        name: &str,
        encode: Encode<A>,
        decode: Decode<R>,
    ) -> napi_ohos::Result<Self> {
        let raw_env = env.raw();
        let link = Arc::new(Link {
            state: Mutex::new(LinkState {
                tsfn: None,
                hook_ran: false,
            }),
        });
        let mut js_name = ptr::null_mut();
        let mut tsfn = ptr::null_mut();
        // The finalizer owns one reference to the link, released in it.
        let finalize_ref = Arc::into_raw(link.clone()).cast_mut().cast::<c_void>();
        // SAFETY: a valid env on its thread; out-pointers to locals; a JS function of this env.
        // Unlimited queue, one thread reference (released by Drop), `call_js` does the call.
        let status = unsafe {
            let status = sys::napi_create_string_utf8(
                raw_env,
                name.as_ptr().cast(),
                name.len() as isize,
                &mut js_name,
            );
            if status != sys::Status::napi_ok {
                status
            } else {
                sys::napi_create_threadsafe_function(
                    raw_env,
                    function,
                    ptr::null_mut(),
                    js_name,
                    0,
                    1,
                    finalize_ref,
                    Some(finalize),
                    ptr::null_mut(),
                    Some(call_js),
                    &mut tsfn,
                )
            }
        };
        if status != sys::Status::napi_ok {
            // SAFETY: no function was made, so the finalizer's reference is still ours.
            drop(unsafe { Arc::from_raw(finalize_ref.cast::<Link>()) });
            return Err(napi_ohos::Error::new(
                Status::from(status),
                "creating the threadsafe function of a callback failed",
            ));
        }
        // SAFETY: the function just made, on its env's thread.
        unsafe { sys::napi_unref_threadsafe_function(raw_env, tsfn) };
        link.lock().tsfn = Some(Tsfn(tsfn));
        let hook_ref = Arc::into_raw(link.clone()).cast_mut().cast::<c_void>();
        // SAFETY: a valid env; the hook owns one reference to the link, released in it (or by
        // the finalizer when it removes the hook).
        let status =
            unsafe { sys::napi_add_env_cleanup_hook(raw_env, Some(on_teardown), hook_ref) };
        if status != sys::Status::napi_ok {
            // SAFETY: not registered, so the reference is still ours.
            drop(unsafe { Arc::from_raw(hook_ref.cast::<Link>()) });
            link.lock().hook_ran = true;
            let callback = Self {
                link,
                encode,
                decode,
            };
            drop(callback); // releases the function
            return Err(napi_ohos::Error::new(
                Status::from(status),
                "registering the environment cleanup hook of a callback failed",
            ));
        }
        Ok(Self {
            link,
            encode,
            decode,
        })
    }

    /// Calls the function with `args` on its JS thread and waits for its answer (any thread).
    pub(crate) async fn call(&self, args: A) -> Result<R, String> {
        let (tx, rx) = oneshot::channel();
        let (encode, decode) = (self.encode, self.decode);
        let job: Job = Box::new(move |target| match target {
            None => {
                let _ = tx.send(Err(GONE.to_owned()));
            }
            Some((env, function)) => invoke(env, function, encode(env, args), decode, tx),
        });
        {
            // Held during the call: the teardown hook waits for it before the engine frees
            // the function.
            let state = self.link.lock();
            let Some(tsfn) = state.tsfn.as_ref() else {
                return Err(GONE.to_owned());
            };
            let data = Box::into_raw(Box::new(job));
            // SAFETY: the function lives while it is in the state (see `on_teardown` and
            // Drop, which both take it out under this lock). Unlimited queue: never blocks.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    tsfn.0,
                    data.cast(),
                    sys::ThreadsafeFunctionCallMode::blocking,
                )
            };
            if status != sys::Status::napi_ok {
                // SAFETY: not queued, so still ours.
                drop(unsafe { Box::from_raw(data) });
                return Err(GONE.to_owned());
            }
        }
        rx.await.unwrap_or_else(|_| Err(GONE.to_owned()))
    }
}

const GONE: &str = "the JS environment of the callback is gone";

impl<A, R> Drop for JsCallback<A, R> {
    fn drop(&mut self) {
        if let Some(tsfn) = self.link.lock().tsfn.take() {
            // SAFETY: the function is alive (it was still in the state); the one thread
            // reference is given back here, once. Any thread may release.
            unsafe {
                sys::napi_release_threadsafe_function(
                    tsfn.0,
                    sys::ThreadsafeFunctionReleaseMode::release,
                )
            };
        }
    }
}

/// Runs a queued call on the JS thread (or answers it when `env` is null: teardown).
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: `data` is the box `call` leaked, handed to us exactly once.
    let job = unsafe { Box::from_raw(data.cast::<Job>()) };
    if env.is_null() || js_callback.is_null() {
        job(None);
        return;
    }
    let env = Env::from_raw(env);
    job(Some((&env, js_callback)));
}

/// The one sender both promise handlers share.
type Slot<R> = Arc<Mutex<Option<oneshot::Sender<Result<R, String>>>>>;

/// Calls `function` and arranges for its answer to reach `tx`.
fn invoke<R: Send + 'static>(
    env: &Env,
    function: sys::napi_value,
    args: napi_ohos::Result<Vec<sys::napi_value>>,
    decode: Decode<R>,
    tx: oneshot::Sender<Result<R, String>>,
) {
    let answer = match args.and_then(|argv| call_function(env, function, &argv)) {
        Ok(Ok(value)) => value,
        Ok(Err(thrown)) => {
            let _ = tx.send(Err(thrown));
            return;
        }
        Err(e) => {
            let _ = tx.send(Err(format!("calling the function failed: {}", e.reason)));
            return;
        }
    };
    let mut is_promise = false;
    // SAFETY: a value of this env, on its thread.
    unsafe { sys::napi_is_promise(env.raw(), answer, &mut is_promise) };
    if !is_promise {
        // SAFETY: as above.
        let _ = tx.send(decode(env, unsafe {
            Unknown::from_raw_unchecked(env.raw(), answer)
        }));
        return;
    }
    // Both handlers share the one sender; whichever runs first answers.
    let slot = Arc::new(Mutex::new(Some(tx)));
    let settler = |slot: Slot<R>| {
        move |result: Result<R, String>| {
            if let Some(tx) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = tx.send(result);
            }
        }
    };
    let (on_ok, on_err) = (settler(slot.clone()), settler(slot));
    let attached = (|| -> napi_ohos::Result<()> {
        let fulfilled = js_function(env, "onFulfilled", move |ctx| {
            let value = ctx.get::<Unknown>(0)?;
            on_ok(decode(ctx.env, value));
            undefined(ctx.env)
        })?;
        let rejected = js_function(env, "onRejected", move |ctx| {
            let reason = ctx.get::<Unknown>(0)?;
            on_err(Err(describe(ctx.env, reason.raw())));
            undefined(ctx.env)
        })?;
        let mut then = ptr::null_mut();
        // SAFETY: values of this env, on its thread.
        check(unsafe {
            sys::napi_get_named_property(env.raw(), answer, c"then".as_ptr(), &mut then)
        })?;
        let mut ignored = ptr::null_mut();
        check(unsafe {
            sys::napi_call_function(
                env.raw(),
                answer,
                then,
                2,
                [fulfilled, rejected].as_ptr(),
                &mut ignored,
            )
        })
    })();
    if let Err(e) = attached {
        // The settle closures were dropped with the functions or never made: the sender is
        // gone, so `call` answers GONE; say nothing more here.
        log::warn!(
            "attaching to the promise of a JS callback failed: {}",
            e.reason
        );
    }
}

/// Calls `function` with `argv`: its return value, or the text of what it threw.
fn call_function(
    env: &Env,
    function: sys::napi_value,
    argv: &[sys::napi_value],
) -> napi_ohos::Result<Result<sys::napi_value, String>> {
    let this = undefined(env)?.0;
    let mut result = ptr::null_mut();
    // SAFETY: values of this env, on its thread; argv outlives the call.
    let status = unsafe {
        sys::napi_call_function(
            env.raw(),
            this,
            function,
            argv.len(),
            argv.as_ptr(),
            &mut result,
        )
    };
    let mut pending = false;
    // SAFETY: as above.
    unsafe { sys::napi_is_exception_pending(env.raw(), &mut pending) };
    if pending {
        let mut exception = ptr::null_mut();
        // SAFETY: as above; clears the exception so that JS goes on.
        unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut exception) };
        return Ok(Err(describe(env, exception)));
    }
    check(status)?;
    Ok(Ok(result))
}

/// `String(value)`, bounded; a value that cannot be turned into text says so.
fn describe(env: &Env, value: sys::napi_value) -> String {
    let mut text = ptr::null_mut();
    // SAFETY: a value of this env, on its thread.
    let status = unsafe { sys::napi_coerce_to_string(env.raw(), value, &mut text) };
    let described = if status == sys::Status::napi_ok {
        // SAFETY: a string value of this env.
        unsafe { String::from_napi_value(env.raw(), text) }.ok()
    } else {
        let mut pending = false;
        // SAFETY: as above; a throwing toString must not leave its exception behind.
        unsafe { sys::napi_is_exception_pending(env.raw(), &mut pending) };
        if pending {
            let mut exception = ptr::null_mut();
            unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut exception) };
        }
        None
    };
    let mut text = described.unwrap_or_else(|| "a value that cannot be shown as text".into());
    if text.chars().count() > MAX_MESSAGE {
        text = text.chars().take(MAX_MESSAGE).collect::<String>() + "…";
    }
    text
}

fn check(status: sys::napi_status) -> napi_ohos::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi_ohos::Error::new(
            Status::from(status),
            "a JS engine call failed",
        ))
    }
}

/// The environment is being torn down (JS thread), before the engine frees the function.
unsafe extern "C" fn on_teardown(arg: *mut c_void) {
    // SAFETY: the reference `new` leaked for this hook; the hook runs once, and the finalizer
    // removes it (without running it) otherwise.
    let link = unsafe { Arc::from_raw(arg.cast::<Link>()) };
    let mut state = link.lock();
    state.hook_ran = true;
    state.tsfn = None; // the engine frees it; nobody may call or release it now
}

/// The engine is done with the function (JS thread): released by Drop, or torn down.
unsafe extern "C" fn finalize(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: the reference `new` leaked for the finalizer; it runs once.
    let link = unsafe { Arc::from_raw(data.cast::<Link>()) };
    let mut state = link.lock();
    state.tsfn = None;
    if !state.hook_ran && !env.is_null() {
        state.hook_ran = true;
        let hook_ref = Arc::as_ptr(&link).cast_mut().cast::<c_void>();
        // SAFETY: the hook registered with this argument has not run; once removed it never
        // will, so its reference is ours to release.
        let status = unsafe { sys::napi_remove_env_cleanup_hook(env, Some(on_teardown), hook_ref) };
        if status == sys::Status::napi_ok {
            drop(unsafe { Arc::from_raw(hook_ref.cast::<Link>()) });
        }
    }
}
