//! Durable append streams: `appendStream(options)` opens an [`AppendStream`] and resolves with
//! its JS object (`write(data)`, `flush()`, `close()`, `state()`). Glue only: the options'
//! rules are [`JsStreamOptions::into_options`]'s, the shapes of states and errors
//! [`crate::js::stream_state`]'s and [`crate::js::request_error`]'s.
//!
//! `write` queues the bytes on the JS thread (a channel send: its place in the stream is fixed
//! when it returns) and its promise settles from the I/O runtime once the spool thread made them
//! durable; `flush`/`close` wait on the I/O runtime. Nothing here waits on disk or network on
//! the JS thread.
//!
//! `onProgress(state)` / `onError(error)` options: a task follows the stream's state and calls
//! them on the JS thread (through weak threadsafe functions: they do not keep the process
//! alive), at most every [`EVENT_INTERVAL`], with the latest state; an error is reported once
//! per new `lastError` and once for the stop reason. The task ends with the stream.

use std::sync::Arc;
use std::time::Duration;

use napi_ohos::bindgen_prelude::{
    sys, Env, FromNapiValue, FunctionCallContext, JsObjectValue, JsValue, Object, Status,
    ToNapiValue, Unknown, ValueType,
};
use napi_ohos::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use tokio::sync::{watch, RwLock};

use super::bridge;
use super::convert::{
    append_options, bytes, engine, invalid, opt_bool, opt_number, opt_string, property,
    required_arg, to_object, to_string, type_name, value_type, Conv,
};
use super::errors::{error_value, throwable, to_throwable};
use super::js_callback::JsCallback;
use super::results::{function, Raw};
use crate::client::Client;
use crate::js::request_error::RequestErrorFields;
use crate::js::session_options::JsRetryOptions;
use crate::js::stream_options::{JsReconnect, JsRollover, JsStreamOptions};
use crate::js::stream_state::{events, JsStreamState, JsWriteReceipt};
use crate::protocol::error::Error;
use crate::stream::{
    AppendStream, NextKey, NextKeyFn, NextKeyFuture, StreamError, StreamOptions, StreamState,
};

/// The shortest time between two event calls of one stream.
pub(super) const EVENT_INTERVAL: Duration = Duration::from_millis(100);

/// `(state) => void` / `(error) => void` on the JS thread; weak: it does not keep the process
/// alive.
type EventTsfn<T> = ThreadsafeFunction<T, UnknownReturnValue, T, Status, false, true>;

/// Why opening failed: a bad argument (read on the JS thread) or the stream's own refusal.
enum OpenError {
    Argument(Error),
    Stream(StreamError),
}

/// `appendStream(options)`: opens (or reopens) the stream on `options.spoolDir` and resolves
/// with a `NativeAppendStream`.
pub(super) fn append_stream(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let read = read_options(env, required_arg(env, &ctx, 0)?);
    let client = client.clone();
    let work = async move {
        Ok(match read {
            Err(e) => Err(OpenError::Argument(e)),
            Ok((options, listeners)) => client
                .append_stream(options)
                .await
                .map(|stream| (stream, listeners))
                .map_err(OpenError::Stream),
        })
    };
    let promise = bridge::promise(env, work, |env, outcome| match outcome {
        Ok((stream, listeners)) => {
            let state = stream.subscribe();
            listeners.start(stream.subscribe());
            Ok(NativeStream(Arc::new(StreamHandle {
                stream: RwLock::new(Some(stream)),
                state,
            })))
        }
        Err(OpenError::Argument(e)) => Err(throwable(env, &e)),
        Err(OpenError::Stream(e)) => Err(stream_throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

fn stream_throwable(env: &Env, e: &StreamError) -> napi_ohos::Error {
    to_throwable(env, RequestErrorFields::from(e), e)
}

/// An `Error::InvalidArgument` reported under `field` (a nested option's full name).
fn under(field: &'static str) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::InvalidArgument { rule, .. } => Error::InvalidArgument { field, rule },
        other => other,
    }
}

fn required_string(obj: &Object, field: &'static str) -> Conv<String> {
    opt_string(obj, field)?.ok_or_else(|| invalid(field, "is required (a non-empty string)"))
}

/// A nested options object (`rollover`, `reconnect`, `retry`, `appendOptions`), or `None`.
fn nested<'e>(obj: &Object<'e>, field: &'static str) -> Conv<Option<Object<'e>>> {
    property(obj, field)?
        .map(|v| to_object(field, v))
        .transpose()
}

/// Reads every option (the rules: [`JsStreamOptions::into_options`]) and the listeners.
fn read_options(env: &Env, options: Unknown) -> Conv<(StreamOptions, Listeners)> {
    let obj = to_object("options", options)?;
    let mut js = JsStreamOptions {
        bucket: required_string(&obj, "bucket")?,
        key: required_string(&obj, "key")?,
        spool_dir: required_string(&obj, "spoolDir")?,
        durability: opt_string(&obj, "durability")?,
        group_commit_ms: opt_number(&obj, "groupCommitMs")?,
        max_append_bytes: opt_number(&obj, "maxAppendBytes")?,
        max_delay_ms: opt_number(&obj, "maxDelayMs")?,
        max_spool_bytes: opt_number(&obj, "maxSpoolBytes")?,
        when_full: opt_string(&obj, "whenFull")?,
        segment_bytes: opt_number(&obj, "segmentBytes")?,
        ..JsStreamOptions::default()
    };
    if let Some(r) = nested(&obj, "rollover")? {
        js.rollover = Some(JsRollover {
            max_object_bytes: opt_number(&r, "maxObjectBytes")
                .map_err(under("rollover.maxObjectBytes"))?,
            max_age_ms: opt_number(&r, "maxAgeMs").map_err(under("rollover.maxAgeMs"))?,
            seal: opt_bool(&r, "seal").map_err(under("rollover.seal"))?,
            key_template: opt_string(&r, "keyTemplate").map_err(under("rollover.keyTemplate"))?,
        });
    }
    if let Some(r) = nested(&obj, "reconnect")? {
        js.reconnect = JsReconnect {
            initial_backoff_ms: opt_number(&r, "initialBackoffMs")
                .map_err(under("reconnect.initialBackoffMs"))?,
            max_backoff_ms: opt_number(&r, "maxBackoffMs")
                .map_err(under("reconnect.maxBackoffMs"))?,
            give_up_after_ms: opt_number(&r, "giveUpAfterMs")
                .map_err(under("reconnect.giveUpAfterMs"))?,
        };
    }
    if let Some(r) = nested(&obj, "retry")? {
        js.retry = JsRetryOptions {
            max_retries: opt_number(&r, "maxRetries").map_err(under("retry.maxRetries"))?,
            initial_backoff_ms: opt_number(&r, "initialBackoff")
                .map_err(under("retry.initialBackoff"))?,
            max_backoff_ms: opt_number(&r, "maxBackoff").map_err(under("retry.maxBackoff"))?,
            deadline_ms: opt_number(&r, "deadline").map_err(under("retry.deadline"))?,
        };
    }
    if let Some(a) = nested(&obj, "appendOptions")? {
        js.append_options = append_options(&a)?;
    }
    let listeners = Listeners {
        progress: listener(env, &obj, "onProgress")?,
        error: listener(env, &obj, "onError")?,
    };
    let next_key = match nested(&obj, "rollover")? {
        Some(r) => next_key(env, &r)?,
        None => None,
    };
    let mut options = js.into_options()?;
    if let (Some(roll), Some(callback)) = (options.rollover.as_mut(), next_key) {
        roll.next_key = Some(NextKeyFn(Arc::new(callback)));
    }
    Ok((options, listeners))
}

/// `rollover.nextKey`: an (async) function `(key, n) => string` naming object `n`, or absent.
fn next_key(env: &Env, rollover: &Object) -> Conv<Option<JsNextKey>> {
    let Some(value) = property(rollover, "nextKey").map_err(under("rollover.nextKey"))? else {
        return Ok(None);
    };
    match value_type("rollover.nextKey", &value)? {
        ValueType::Function => {}
        other => {
            return Err(invalid(
                "rollover.nextKey",
                format!(
                    "must be a function (key, n) returning the next key or a promise of it, got {}",
                    type_name(other)
                ),
            ))
        }
    }
    JsCallback::new(
        env,
        value.raw(),
        "oss-append rollover.nextKey",
        // SAFETY (both closures): called on the JS thread with its env.
        |env, (key, n): (String, u32)| {
            Ok(vec![
                unsafe { <String as ToNapiValue>::to_napi_value(env.raw(), key)? },
                unsafe { <u32 as ToNapiValue>::to_napi_value(env.raw(), n)? },
            ])
        },
        |_, answer| {
            to_string("rollover.nextKey", answer)
                .map_err(|_| "answered something that is not a string".to_owned())
        },
    )
    .map(|callback| Some(JsNextKey(Arc::new(callback))))
    .map_err(|e| engine("rollover.nextKey", e))
}

/// A JS `rollover.nextKey` as the stream's [`NextKey`].
struct JsNextKey(Arc<JsCallback<(String, u32), String>>);

impl NextKey for JsNextKey {
    fn next_key(&self, key: &str, n: u32) -> NextKeyFuture {
        let callback = self.0.clone();
        let key = key.to_owned();
        Box::pin(async move { callback.call((key, n)).await })
    }
}

/// A callback option as a weak threadsafe function, or `None` when absent.
fn listener<T: 'static + napi_ohos::bindgen_prelude::ToNapiValue>(
    env: &Env,
    obj: &Object,
    field: &'static str,
) -> Conv<Option<EventTsfn<T>>> {
    let Some(f) = property(obj, field)? else {
        return Ok(None);
    };
    match value_type(field, &f)? {
        // SAFETY: a live function value of this env.
        ValueType::Function => unsafe { EventTsfn::<T>::from_napi_value(env.raw(), f.raw()) }
            .map(Some)
            .map_err(|e| engine(field, e)),
        other => Err(invalid(
            field,
            format!("must be a function, got {}", type_name(other)),
        )),
    }
}

/// The `onProgress` / `onError` callbacks of one stream.
struct Listeners {
    progress: Option<EventTsfn<NativeStreamState>>,
    error: Option<EventTsfn<NativeErrorValue>>,
}

impl Listeners {
    /// Follows `rx` on the I/O runtime until the stream closes, stops or is dropped.
    fn start(self, mut rx: watch::Receiver<StreamState>) {
        if self.progress.is_none() && self.error.is_none() {
            return;
        }
        napi_ohos::bindgen_prelude::spawn(async move {
            let mut seen: Option<StreamState> = None;
            let mut last_round = false;
            loop {
                let state = rx.borrow_and_update().clone();
                let (progress, error) = events(seen.as_ref(), &state);
                if error {
                    if let (Some(tsfn), Some(e)) = (
                        &self.error,
                        state.stopped.as_ref().or(state.last_error.as_ref()),
                    ) {
                        let value = NativeErrorValue(RequestErrorFields::from(e));
                        call(tsfn, value);
                    }
                }
                if progress {
                    if let Some(tsfn) = &self.progress {
                        call(tsfn, NativeStreamState(JsStreamState::from(&state)));
                    }
                }
                let done = state.closed || state.stopped.is_some();
                seen = Some(state);
                if done || last_round {
                    break;
                }
                if rx.changed().await.is_err() {
                    // The stream is gone: report what it last said, then end.
                    last_round = true;
                    continue;
                }
                tokio::time::sleep(EVENT_INTERVAL).await;
            }
        });
    }
}

/// Queues one event call (never blocks; a throwing listener's exception is dropped).
fn call<T: 'static + napi_ohos::bindgen_prelude::ToNapiValue>(tsfn: &EventTsfn<T>, value: T) {
    let _ =
        tsfn.call_with_return_value(
            value,
            ThreadsafeFunctionCallMode::NonBlocking,
            |_, _| Ok(()),
        );
}

/// One stream shared by the JS object's methods. `close` takes the stream out (under the write
/// lock, so it waits for running flushes); writes after it find `None`, or the lock taken, and
/// fail with `ClientStreamClosed`.
struct StreamHandle {
    stream: RwLock<Option<AppendStream>>,
    state: watch::Receiver<StreamState>,
}

/// The JS object of a stream: `write(data)`, `flush()`, `close()`, `state()`.
struct NativeStream(Arc<StreamHandle>);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeStream {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let handle = val.0;
        let mut obj = Object::new(&env)?;
        let h = handle.clone();
        let write = function(&env, "write", move |ctx| stream_write(&h, ctx))?;
        let h = handle.clone();
        let flush = function(&env, "flush", move |ctx| stream_flush(&h, ctx))?;
        let h = handle.clone();
        let close = function(&env, "close", move |ctx| stream_close(&h, ctx))?;
        let state = function(&env, "state", move |ctx| {
            let state = JsStreamState::from(&*handle.state.borrow());
            // SAFETY: called by the engine with a live env.
            let value = unsafe {
                NativeStreamState::to_napi_value(ctx.env.raw(), NativeStreamState(state))
            }?;
            Ok(Raw(value))
        })?;
        obj.set_named_property("write", Raw(write))?;
        obj.set_named_property("flush", Raw(flush))?;
        obj.set_named_property("close", Raw(close))?;
        obj.set_named_property("state", Raw(state))?;
        Ok(obj.raw())
    }
}

/// `write(data)`: queued now, resolves with `{ offset, length }` once durable in the spool.
fn stream_write(handle: &Arc<StreamHandle>, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let data = bytes(required_arg(env, &ctx, 0)?);
    let (promise, completion) = bridge::promise_completion(env, |env, outcome| match outcome {
        Ok(receipt) => Ok(NativeReceipt(JsWriteReceipt::from(receipt))),
        Err(OpenError::Argument(e)) => Err(throwable(env, &e)),
        Err(OpenError::Stream(e)) => Err(stream_throwable(env, &e)),
    })?;
    match data {
        Err(e) => completion.complete(Err(OpenError::Argument(e))),
        Ok(data) => match handle.stream.try_read() {
            // Answered on the spool's thread right after the fsync, straight to this thread.
            Ok(guard) => match guard.as_ref() {
                Some(stream) => stream.write_then(data, move |result| {
                    completion.complete(result.map_err(OpenError::Stream))
                }),
                None => completion.complete(Err(OpenError::Stream(StreamError::Closed))),
            },
            // `close` holds or waits for the lock.
            Err(_) => completion.complete(Err(OpenError::Stream(StreamError::Closed))),
        },
    }
    Ok(Raw(promise))
}

/// `flush()`: resolves with the state once everything written before is in OSS.
fn stream_flush(handle: &Arc<StreamHandle>, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let handle = handle.clone();
    let work = async move {
        let guard = handle.stream.read().await;
        Ok(match guard.as_ref() {
            Some(stream) => stream.flush().await,
            None => Err(StreamError::Closed),
        })
    };
    state_promise(env, work)
}

/// `close()`: flushes, stops the stream, resolves with the final state (again on later calls).
fn stream_close(handle: &Arc<StreamHandle>, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let handle = handle.clone();
    let work = async move {
        let taken = handle.stream.write().await.take();
        Ok(match taken {
            Some(stream) => stream.close().await,
            None => Ok(handle.state.borrow().clone()),
        })
    };
    state_promise(env, work)
}

fn state_promise<F>(env: &Env, work: F) -> napi_ohos::Result<Raw>
where
    F: std::future::Future<Output = napi_ohos::Result<Result<StreamState, StreamError>>>
        + Send
        + 'static,
{
    let promise = bridge::promise(env, work, |env, outcome| match outcome {
        Ok(state) => Ok(NativeStreamState(JsStreamState::from(&state))),
        Err(e) => Err(stream_throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

/// `{ offset, length }`.
struct NativeReceipt(JsWriteReceipt);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeReceipt {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let mut obj = Object::new(&env)?;
        obj.set_named_property("offset", val.0.offset)?;
        obj.set_named_property("length", val.0.length)?;
        Ok(obj.raw())
    }
}

/// An error as a value (an `Error` object with the `RequestError` fields), for `onError`.
struct NativeErrorValue(RequestErrorFields);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeErrorValue {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        Ok(error_value(&env, val.0)?.raw())
    }
}

/// The stream's state object (see [`JsStreamState`]); `lastError` and `stopped` are `Error`
/// objects with the `RequestError` fields.
struct NativeStreamState(JsStreamState);

impl napi_ohos::bindgen_prelude::ToNapiValue for NativeStreamState {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let s = val.0;
        let mut obj = Object::new(&env)?;
        obj.set_named_property("bucket", s.bucket)?;
        obj.set_named_property("key", s.key)?;
        obj.set_named_property("objectNumber", s.object_number)?;
        obj.set_named_property("bytesWritten", s.bytes_written)?;
        obj.set_named_property("bytesSpooled", s.bytes_spooled)?;
        obj.set_named_property("bytesUploaded", s.bytes_uploaded)?;
        obj.set_named_property("position", s.position)?;
        obj.set_named_property("crc64", s.crc64)?;
        obj.set_named_property("online", s.online)?;
        if let Some(e) = s.last_error {
            obj.set_named_property("lastError", error_value(&env, e)?)?;
        }
        if let Some(e) = s.stopped {
            obj.set_named_property("stopped", error_value(&env, e)?)?;
        }
        obj.set_named_property("closed", s.closed)?;
        obj.set_named_property("appends", s.appends)?;
        obj.set_named_property("fsyncs", s.fsyncs)?;
        Ok(obj.raw())
    }
}
