//! Promises for work done on the I/O runtime, settled on the JS thread.
//!
//! napi-ohos's `spawn_future_with_callback` creates a threadsafe function (a libuv async handle
//! plus an async resource) for every call, releases and closes it afterwards, and spawns a
//! second task per call to watch for panics. For a 1 KiB append that set-up and tear-down is a
//! good part of the JS thread's work. Here each JS thread has **one** threadsafe function, made
//! on first use and kept: a call creates its promise, spawns one task, and the task sends the
//! settlement back through the shared function.
//!
//! The shared function is unreferenced while nothing is pending (an idle client does not keep
//! the process alive) and referenced while calls are in flight, exactly like per-call
//! functions.
//!
//! A JS thread can go away with calls in flight (a Node.js worker terminated, an ArkTS worker
//! destroyed). The engine then frees its threadsafe functions, and calling one after that
//! aborts the process (Node.js: `uv_mutex_lock` on a destroyed mutex) — napi-ohos's per-call
//! functions had exactly that crash. So the function sits behind a lock shared with the I/O
//! thread, and an environment cleanup hook (registered after the function, so it runs before
//! the engine frees it) empties it: later settlements for that thread are dropped.
//!
//! On OpenHarmony the calls used here are in `libace_napi.z.so` from API 10 (threadsafe
//! function ref/unref) and API 11 (`napi_add_env_cleanup_hook`); the package targets API 12.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::ptr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use napi_ohos::bindgen_prelude::ToNapiValue;
use napi_ohos::{sys, Env, JsError, Status};

/// What the I/O thread hands back: runs on the JS thread with the environment, or with `None`
/// when the environment is going away (then it only drops what it holds).
type Settlement = Box<dyn FnOnce(Option<&Env>) + Send>;

/// The JS thread's shared threadsafe function and how many calls wait on it.
struct Channel {
    env: sys::napi_env,
    tsfn: sys::napi_threadsafe_function,
    link: Arc<Link>,
    pending: usize,
}

/// The way back to one JS thread, as the I/O thread sees it: the function while its environment
/// lives, `None` from its teardown on.
struct Link(Mutex<Option<Tsfn>>);

thread_local! {
    /// One per JS thread (an environment lives on one thread).
    static CHANNEL: RefCell<Option<Channel>> = const { RefCell::new(None) };
}

/// A promise for `work`, run on the I/O runtime; `settle` turns its output into the resolved
/// value (or an error to reject with) on the JS thread. A panic in `work` rejects the promise.
pub(super) fn promise<T, V, F, S>(
    env: &Env,
    work: F,
    settle: S,
) -> napi_ohos::Result<sys::napi_value>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = napi_ohos::Result<T>> + Send + 'static,
    S: FnOnce(&Env, T) -> napi_ohos::Result<V> + Send + 'static,
{
    type Caught<T> = Result<napi_ohos::Result<T>, Box<dyn Any + Send>>;
    let (promise, completion) =
        promise_completion(env, move |env, outcome: Caught<T>| match outcome {
            Ok(Ok(output)) => settle(env, output),
            Ok(Err(e)) => Err(e),
            Err(panic) => Err(napi_ohos::Error::new(
                Status::GenericFailure,
                format!(
                    "oss-append: internal error (panic: {})",
                    panic_message(&*panic)
                ),
            )),
        })?;
    napi_ohos::bindgen_prelude::spawn(async move {
        completion.complete(CatchUnwind(Box::pin(work)).await);
    });
    Ok(promise)
}

/// A promise settled by whoever holds the returned [`Completion`], from any thread, without a
/// task on the I/O runtime: for work that already runs on a thread of its own (the stream's
/// spool thread answers a write right after its fsync). `settle` runs on the JS thread as in
/// [`promise`]. A completion dropped unanswered rejects its promise.
pub(super) fn promise_completion<T, V, S>(
    env: &Env,
    settle: S,
) -> napi_ohos::Result<(sys::napi_value, Completion<T>)>
where
    T: Send + 'static,
    V: ToNapiValue,
    S: FnOnce(&Env, T) -> napi_ohos::Result<V> + Send + 'static,
{
    let raw_env = env.raw();
    let link = acquire(raw_env)?;
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: a valid env on its own thread; out-pointers to locals.
    let status = unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) };
    if status != sys::Status::napi_ok {
        release(raw_env);
        return Err(napi_ohos::Error::new(
            Status::from(status),
            "creating a promise failed",
        ));
    }
    let deferred = Deferred(deferred);
    let finish = move |outcome: Option<T>| {
        let settlement: Settlement = Box::new(move |env: Option<&Env>| {
            let Some(env) = env else { return };
            let result = match outcome {
                // SAFETY: the env of the current call into JS.
                Some(output) => {
                    settle(env, output).and_then(|v| unsafe { V::to_napi_value(env.raw(), v) })
                }
                None => Err(napi_ohos::Error::new(
                    Status::GenericFailure,
                    "oss-append: internal error (an operation ended without an answer)",
                )),
            };
            deferred.settle(env, result);
        });
        send(&link, settlement);
    };
    Ok((
        promise,
        Completion {
            finish: Some(Box::new(finish)),
        },
    ))
}

/// The right to settle one promise of [`promise_completion`], once.
pub(super) struct Completion<T> {
    finish: Option<Box<dyn FnOnce(Option<T>) + Send>>,
}

impl<T> Completion<T> {
    /// Settles the promise with `outcome` (on the JS thread, through `settle`).
    pub(super) fn complete(mut self, outcome: T) {
        if let Some(finish) = self.finish.take() {
            finish(Some(outcome));
        }
    }
}

impl<T> Drop for Completion<T> {
    fn drop(&mut self) {
        if let Some(finish) = self.finish.take() {
            finish(None);
        }
    }
}

/// The shared function, referenced for one more pending call (JS thread).
fn acquire(env: sys::napi_env) -> napi_ohos::Result<Arc<Link>> {
    CHANNEL.with_borrow_mut(|slot| {
        if slot.as_ref().is_none_or(|c| c.env != env) {
            let tsfn = create(env)?;
            let link = Arc::new(Link(Mutex::new(Some(Tsfn(tsfn)))));
            let hook_arg = Arc::into_raw(link.clone()).cast_mut().cast();
            // SAFETY: a valid env; the hook owns one reference to the link, released in it.
            let status =
                unsafe { sys::napi_add_env_cleanup_hook(env, Some(on_env_teardown), hook_arg) };
            if status != sys::Status::napi_ok {
                // SAFETY: the hook was not registered, so its reference is still ours.
                drop(unsafe { Arc::from_raw(hook_arg.cast::<Link>()) });
                return Err(napi_ohos::Error::new(
                    Status::from(status),
                    "registering the environment cleanup hook failed",
                ));
            }
            *slot = Some(Channel {
                env,
                tsfn,
                link,
                pending: 0,
            });
        }
        let channel = slot.as_mut().expect("just set");
        if channel.pending == 0 {
            // SAFETY: called on the env's thread with its own function.
            unsafe { sys::napi_ref_threadsafe_function(env, channel.tsfn) };
        }
        channel.pending += 1;
        Ok(channel.link.clone())
    })
}

/// The environment is being torn down (on its JS thread), before the engine frees its
/// threadsafe functions: cut the link, so the I/O thread never calls a freed one.
unsafe extern "C" fn on_env_teardown(arg: *mut std::ffi::c_void) {
    // SAFETY: the reference `acquire` leaked for this hook; the hook runs once.
    let link = unsafe { Arc::from_raw(arg.cast::<Link>()) };
    *link.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    CHANNEL.with_borrow_mut(|slot| {
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(&c.link, &link)) {
            *slot = None;
        }
    });
}

/// One pending call fewer; the last one lets the process exit again (JS thread).
fn release(env: sys::napi_env) {
    CHANNEL.with_borrow_mut(|slot| {
        if let Some(channel) = slot.as_mut().filter(|c| c.env == env) {
            channel.pending = channel.pending.saturating_sub(1);
            if channel.pending == 0 {
                // SAFETY: as in `acquire`.
                unsafe { sys::napi_unref_threadsafe_function(env, channel.tsfn) };
            }
        }
    });
}

fn create(env: sys::napi_env) -> napi_ohos::Result<sys::napi_threadsafe_function> {
    let mut name = ptr::null_mut();
    let mut tsfn = ptr::null_mut();
    // SAFETY: a valid env; a static name; out-pointers to locals. Unlimited queue, one thread
    // reference that is never released (see the module docs), no JS function: `call_js` does
    // the work.
    let status = unsafe {
        let status = sys::napi_create_string_utf8(env, c"oss-append".as_ptr(), 10, &mut name);
        if status != sys::Status::napi_ok {
            status
        } else {
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                ptr::null_mut(),
                None,
                ptr::null_mut(),
                Some(call_js),
                &mut tsfn,
            )
        }
    };
    if status != sys::Status::napi_ok {
        return Err(napi_ohos::Error::new(
            Status::from(status),
            "creating the threadsafe function failed",
        ));
    }
    // SAFETY: the function just made, on its env's thread.
    unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    Ok(tsfn)
}

/// Queues a settlement for the JS thread (any thread). Dropped if the env is gone.
fn send(link: &Link, settlement: Settlement) {
    // Held during the call: the teardown hook waits for it before the engine frees the function.
    let tsfn = link.0.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tsfn) = tsfn.as_ref() else {
        return; // the JS thread is gone; its promise went with it
    };
    let data = Box::into_raw(Box::new(settlement));
    // SAFETY: the function lives until the teardown hook, which cannot run while we hold the
    // lock. Unlimited queue: a blocking call never blocks.
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
    }
}

/// Runs a settlement on the JS thread (or drops it when `env` is null: teardown).
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut std::ffi::c_void,
    data: *mut std::ffi::c_void,
) {
    // SAFETY: `data` is the box `send` leaked, handed to us exactly once.
    let settlement = unsafe { Box::from_raw(data.cast::<Settlement>()) };
    if env.is_null() {
        settlement(None);
        return;
    }
    release(env);
    let env = Env::from_raw(env);
    settlement(Some(&env));
}

/// A promise's deferred handle: made on the JS thread, carried through the I/O thread untouched,
/// used on the JS thread again.
struct Deferred(sys::napi_deferred);
// SAFETY: the pointer is only dereferenced (by the engine) on the JS thread, in `settle`.
unsafe impl Send for Deferred {}

impl Deferred {
    fn settle(self, env: &Env, result: napi_ohos::Result<sys::napi_value>) {
        // SAFETY: on the JS thread, with the env the deferred belongs to; each deferred is
        // settled once (self is consumed).
        unsafe {
            match result {
                Ok(value) => sys::napi_resolve_deferred(env.raw(), self.0, value),
                Err(e) => {
                    let reason = JsError::from(e).into_value(env.raw());
                    sys::napi_reject_deferred(env.raw(), self.0, reason)
                }
            };
        }
    }
}

struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: threadsafe functions are made to be called from any thread.
unsafe impl Send for Tsfn {}

/// Turns a panic while polling into an error, so the promise is rejected instead of left
/// pending forever.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}
