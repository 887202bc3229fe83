//! Building JS error objects: a [`RequestErrorFields`] (the plain mapping of
//! [`crate::js::request_error`]) becomes one JS `Error` with those fields as own properties,
//! thrown or rejected as is.

use napi_ohos::bindgen_prelude::{Env, JsObjectValue, JsValue, Object, Status};

use crate::js::request_error::RequestErrorFields;
use crate::protocol::error::Error;
use crate::session::SessionError;

/// Builds the JS `Error` for `e`, as a `napi::Error` that throws/rejects with exactly that
/// object. Falls back to a plain error with the same message if the engine refuses.
pub(super) fn throwable(env: &Env, e: &Error) -> napi_ohos::Error {
    to_throwable(env, RequestErrorFields::from(e), e)
}

/// [`throwable`] for an append session's failure.
pub(super) fn session_throwable(env: &Env, e: &SessionError) -> napi_ohos::Error {
    to_throwable(env, RequestErrorFields::from(e), e)
}

pub(super) fn to_throwable(
    env: &Env,
    fields: RequestErrorFields,
    e: &dyn std::fmt::Display,
) -> napi_ohos::Error {
    match error_object(env, fields) {
        Ok(obj) => napi_ohos::Error::from(obj.to_unknown()),
        Err(_) => napi_ohos::Error::new(Status::GenericFailure, e.to_string()),
    }
}

/// The JS `Error` object of `f`, as a value (a stream's `lastError`, an `onError` argument).
pub(super) fn error_value(env: &Env, f: RequestErrorFields) -> napi_ohos::Result<Object<'_>> {
    error_object(env, f)
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
