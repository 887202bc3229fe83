//! Building JS values: functions from closures, `undefined`, and the result objects of the
//! client calls (`{ status, headers, … }`).

use napi_ohos::bindgen_prelude::{
    sys, ArrayBuffer, Env, FunctionCallContext, JsObjectValue, JsValue, Object,
};

use super::convert::check;
use crate::protocol::response::{AppendObjectOutput, RawResponse, SealAppendObjectOutput};

/// A raw JS value handed back to the engine as is.
pub(super) struct Raw(pub(super) sys::napi_value);

impl napi_ohos::bindgen_prelude::ToNapiValue for Raw {
    unsafe fn to_napi_value(_: sys::napi_env, val: Self) -> napi_ohos::Result<sys::napi_value> {
        Ok(val.0)
    }
}

pub(super) fn function<F>(env: &Env, name: &str, f: F) -> napi_ohos::Result<sys::napi_value>
where
    F: 'static + Fn(FunctionCallContext) -> napi_ohos::Result<Raw>,
{
    let function = env.create_function_from_closure::<(), Raw, F>(name, f)?;
    Ok(function.raw())
}

pub(super) fn undefined(env: &Env) -> napi_ohos::Result<Raw> {
    let mut value = std::ptr::null_mut();
    check(unsafe { sys::napi_get_undefined(env.raw(), &mut value) })?;
    Ok(Raw(value))
}

/// The result of a successful append, as the facade receives it.
pub(super) struct NativeAppendResult(pub(super) AppendObjectOutput);

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
pub(super) fn response_object(
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
pub(super) struct NativeRawResponse(pub(super) RawResponse);

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

/// `{ status, headers, requestId, sealedTime, etag? }`.
pub(super) struct NativeSealResult(pub(super) SealAppendObjectOutput);

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
