//! Reading JS values: arguments, properties of the type a field needs (else the
//! `ClientInvalidArgument` error naming the field and the type it got), the append options
//! object, and data as bytes or as a [`Body`]. Failures are the crate's [`Error`], so a bad
//! argument rejects like a failed request.

use napi_ohos::bindgen_prelude::{
    sys, Env, FromNapiValue, FunctionCallContext, JsObjectValue, JsValue, Object, Status, Unknown,
    ValueType,
};

use crate::io::body::Body;
use crate::js::append_options::JsAppendOptions;
use crate::js::data;
use crate::protocol::error::Error;
use crate::protocol::options::TEXT_OPTIONS;

/// The `i`-th argument, or `None` when fewer were passed.
pub(super) fn arg<'e>(
    ctx: &FunctionCallContext,
    i: usize,
) -> napi_ohos::Result<Option<Unknown<'e>>> {
    if i < ctx.length() {
        ctx.get::<Unknown<'e>>(i).map(Some)
    } else {
        Ok(None)
    }
}

/// An argument that must be there; a missing one is `undefined` (then refused by its rule).
pub(super) fn required_arg<'e>(
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

pub(super) type Conv<T> = std::result::Result<T, Error>;

pub(super) fn invalid(field: &'static str, rule: impl Into<String>) -> Error {
    Error::InvalidArgument {
        field,
        rule: rule.into(),
    }
}

/// A failure of the JS engine itself while reading an argument, reported against the field.
pub(super) fn engine(field: &'static str, e: napi_ohos::Error) -> Error {
    invalid(field, format!("could not be read: {}", e.reason))
}

pub(super) fn type_name(t: ValueType) -> &'static str {
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

pub(super) fn value_type(field: &'static str, v: &Unknown) -> Conv<ValueType> {
    v.get_type().map_err(|e| engine(field, e))
}

/// `None` for `undefined` and `null`: an absent option.
pub(super) fn present<'e>(
    field: &'static str,
    v: Option<Unknown<'e>>,
) -> Conv<Option<Unknown<'e>>> {
    match v {
        None => Ok(None),
        Some(v) => match value_type(field, &v)? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            _ => Ok(Some(v)),
        },
    }
}

pub(super) fn property<'e>(obj: &Object<'e>, field: &'static str) -> Conv<Option<Unknown<'e>>> {
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

pub(super) fn to_string(field: &'static str, v: Unknown) -> Conv<String> {
    cast(field, v, ValueType::String, "a string")
}

pub(super) fn to_number(field: &'static str, v: Unknown) -> Conv<f64> {
    cast(field, v, ValueType::Number, "a number")
}

fn to_bool(field: &'static str, v: Unknown) -> Conv<bool> {
    cast(field, v, ValueType::Boolean, "a boolean")
}

pub(super) fn to_object<'e>(field: &'static str, v: Unknown<'e>) -> Conv<Object<'e>> {
    match value_type(field, &v)? {
        // SAFETY: the value was just checked to be an object.
        ValueType::Object => unsafe { v.cast::<Object<'e>>() }.map_err(|e| engine(field, e)),
        other => Err(invalid(
            field,
            format!("must be an object, got {}", type_name(other)),
        )),
    }
}

pub(super) fn opt_string(obj: &Object, field: &'static str) -> Conv<Option<String>> {
    property(obj, field)?
        .map(|v| to_string(field, v))
        .transpose()
}

pub(super) fn opt_number(obj: &Object, field: &'static str) -> Conv<Option<f64>> {
    property(obj, field)?
        .map(|v| to_number(field, v))
        .transpose()
}

pub(super) fn opt_bool(obj: &Object, field: &'static str) -> Conv<Option<bool>> {
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

/// `resolve`: a `Record<string, string | string[]>` of host names and addresses, in the
/// object's key order, bounded like the static map it becomes.
pub(super) fn opt_address_map(
    obj: &Object,
    field: &'static str,
) -> Conv<Option<Vec<crate::js::config::HostAddresses>>> {
    use crate::protocol::resolver::{MAX_ADDRESSES_PER_HOST, MAX_STATIC_HOSTS};
    let Some(v) = property(obj, field)? else {
        return Ok(None);
    };
    let map = to_object(field, v)?;
    let names = map.get_property_names().map_err(|e| engine(field, e))?;
    let len = names.get_array_length().map_err(|e| engine(field, e))?;
    if len as usize > MAX_STATIC_HOSTS {
        return Err(invalid(
            field,
            format!("may name at most {MAX_STATIC_HOSTS} hosts (got {len})"),
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let name: String = names.get_element(i).map_err(|e| engine(field, e))?;
        let value: Unknown = map
            .get_named_property(&name)
            .map_err(|e| engine(field, e))?;
        let addresses = match value_type(field, &value)? {
            ValueType::String => vec![to_string(field, value)?],
            ValueType::Object if value.is_array().map_err(|e| engine(field, e))? => {
                // SAFETY: checked to be an array (an object).
                let list = unsafe { value.cast::<Object>() }.map_err(|e| engine(field, e))?;
                let count = list.get_array_length().map_err(|e| engine(field, e))?;
                if count as usize > MAX_ADDRESSES_PER_HOST {
                    return Err(invalid(
                        field,
                        format!("{name:?} has {count} addresses; at most {MAX_ADDRESSES_PER_HOST}"),
                    ));
                }
                let mut addresses = Vec::with_capacity(count as usize);
                for j in 0..count {
                    let item: Unknown = list.get_element(j).map_err(|e| engine(field, e))?;
                    addresses.push(to_string(field, item)?);
                }
                addresses
            }
            other => {
                return Err(invalid(
                    field,
                    format!(
                        "values must be an address string or an array of them; {name:?} is {}",
                        type_name(other)
                    ),
                ))
            }
        };
        out.push((name, addresses));
    }
    Ok(Some(out))
}

pub(super) fn bucket_and_key(bucket: Unknown, key: Unknown) -> Conv<(String, String)> {
    Ok((to_string("bucket", bucket)?, to_string("key", key)?))
}

/// The option names of the facade's `appendObject` request (see the facade's README for where
/// each name comes from; the rules: [`JsAppendOptions::into_options`]).
pub(super) fn append_options(obj: &Object) -> Conv<JsAppendOptions> {
    let mut texts = std::collections::BTreeMap::new();
    for option in &TEXT_OPTIONS {
        if let Some(text) = opt_string(obj, option.name)? {
            texts.insert(option.name, text);
        }
    }
    Ok(JsAppendOptions {
        texts,
        content_md5: opt_string(obj, "contentMd5")?,
        content_md5_sdk: opt_string(obj, "contentMD5")?,
        forbid_overwrite: opt_bool(obj, "forbidOverwrite")?,
        object_acl: opt_string(obj, "objectAcl")?,
        storage_class: opt_string(obj, "storageClass")?,
        server_side_encryption: opt_string(obj, "serverSideEncryption")?,
        server_side_data_encryption: opt_string(obj, "serverSideDataEncryption")?,
        traffic_limit: opt_number(obj, "trafficLimit")?,
        request_payer: opt_string(obj, "requestPayer")?,
        meta: opt_string_map(obj, "meta")?,
        headers: opt_string_map(obj, "headers")?,
    })
}

const DATA_RULE: &str = "must be a string, an ArrayBuffer, a TypedArray, a DataView or a file \
                         (opened with fileIo.open: an object with a numeric fd; or a FilePath: an \
                         object with a string filePath)";

/// `data`: a string (UTF-8), ArrayBuffer / TypedArray / DataView (copied now, so the caller may
/// reuse the buffer), a file object with a numeric `fd` (duplicated now, streamed later), or a
/// `FilePath` (an object with a string `filePath`: opened when the request is made).
pub(super) fn body(data: Unknown) -> Conv<Body> {
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
                return match property(&obj, "filePath")? {
                    Some(path) => match value_type(field, &path)? {
                        ValueType::String => {
                            Ok(Body::from_path(data::file_path(to_string(field, path)?)?))
                        }
                        other => Err(invalid(
                            field,
                            format!("{DATA_RULE}; its filePath is {}", type_name(other)),
                        )),
                    },
                    None => Err(invalid(
                        field,
                        format!("{DATA_RULE}, got an object without fd or filePath"),
                    )),
                };
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
pub(super) fn bytes(data: Unknown) -> Conv<Vec<u8>> {
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
            // Read through napi_get_typedarray_info rather than napi-rs's TypedArray, which fails
            // (with an empty reason) on a view of a SharedArrayBuffer.
            let mut kind = 0;
            let mut len = 0usize;
            let mut data = std::ptr::null_mut();
            let mut buffer = std::ptr::null_mut();
            let mut offset = 0usize;
            check(sys::napi_get_typedarray_info(
                env,
                value,
                &mut kind,
                &mut len,
                &mut data,
                &mut buffer,
                &mut offset,
            ))?;
            let Some(size) = typed_array_element_size(kind) else {
                return Err(napi_ohos::Error::new(
                    Status::InvalidArg,
                    format!("a TypedArray of an unknown kind ({kind})"),
                ));
            };
            return Ok(Some(copy(data.cast_const().cast(), len * size)));
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

/// Bytes per element of a `napi_typedarray_type` (Int8Array = 0 ... BigUint64Array = 10, as in
/// node_api_types.h), `None` for a kind this module does not know.
fn typed_array_element_size(kind: sys::napi_typedarray_type) -> Option<usize> {
    match kind {
        0..=2 => Some(1),
        3 | 4 => Some(2),
        5..=7 => Some(4),
        8..=10 => Some(8),
        _ => None,
    }
}

pub(super) fn check(status: sys::napi_status) -> napi_ohos::Result<()> {
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
