//! Append sessions: `openAppender` opens an [`Appender`] and resolves with its JS
//! object (`append(data, control?)`, `seal()`, `state()`). The session's operations run one at
//! a time in JS call order ([`CallQueue`]); `state()` reads a snapshot refreshed after each.
//! Every use of the session type is in this file.

use std::sync::{Arc, Mutex};

use napi_ohos::bindgen_prelude::{
    sys, Env, FunctionCallContext, JsObjectValue, JsValue, Object, Unknown,
};

use super::bridge;
use super::control::call_control;
use super::convert::{
    append_options, arg, body, bucket_and_key, opt_bool, opt_number, present, required_arg,
    to_object, Conv,
};
use super::errors::session_throwable;
use super::results::{function, response_object, NativeSealResult, Raw};
use crate::client::Client;
use crate::js::call_queue::CallQueue;
use crate::js::control::CallKind;
use crate::js::session_options::{JsAppenderOptions, JsRetryOptions};
use crate::protocol::error::Error;
use crate::session::{Appended, Appender, AppenderOptions, SessionError};

/// `openAppender(bucket, key, options?, retry?)`: opens an append session (one HEAD) and
/// resolves with a `NativeAppender` object.
pub(super) fn open_appender(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
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
            Ok(options) => Appender::open(client.clone(), options).await,
            Err(e) => Err(SessionError::from(e)),
        })
    };
    let promise = bridge::promise(env, work, |env, outcome| match outcome {
        Ok(session) => Ok(NativeSession(Arc::new(SessionHandle::new(session)))),
        Err(e) => Err(session_throwable(env, &e)),
    })?;
    Ok(Raw(promise))
}

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
    fn of(s: &Appender) -> Self {
        Self {
            position: s.position(),
            crc64: s.crc64(),
            exists: s.exists(),
            unsettled: s.is_unsettled(),
            sealed: s.is_sealed(),
            stopped: s.poisoned().map(str::to_owned),
        }
    }
}

/// One session shared by the JS object's methods. Operations run one at a time, in the order
/// of the JS calls: each call takes its turn in the [`CallQueue`] on the JS thread before its
/// task is spawned, and the task waits for its turn.
struct SessionHandle {
    session: tokio::sync::Mutex<Appender>,
    state: Mutex<SessionState>,
    calls: CallQueue,
}

impl SessionHandle {
    fn new(session: Appender) -> Self {
        Self {
            state: Mutex::new(SessionState::of(&session)),
            session: tokio::sync::Mutex::new(session),
            calls: CallQueue::default(),
        }
    }

    fn snapshot(&self) -> SessionState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn refresh(&self, session: &Appender) {
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
                let result = session.append_cancellable(body, &token).await;
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
