//! The client object `createClient` returns and its calls: `appendObject`, `sealAppendObject`,
//! `openAppender` (handed to [`super::session`]), `appendStream` (to [`super::stream`]),
//! `headObject`, `getObject` and `putObject`.
//! Arguments are read on the JS thread; the requests run on the I/O runtime
//! ([`request_promise`]).

use napi_ohos::bindgen_prelude::{
    Env, FunctionCallContext, JsObjectValue, JsValue, Object, Unknown, ValueType,
};

use super::bridge;
use super::control::{call_control, CallControl};
use super::convert::{
    append_options, arg, body, bucket_and_key, bytes, engine, invalid, opt_address_map, opt_bool,
    opt_number, opt_string, present, property, required_arg, to_number, to_object, to_string,
    type_name, value_type, Conv,
};
use super::errors::throwable;
use super::js_callback::JsCallback;
use super::results::{function, NativeAppendResult, NativeRawResponse, NativeSealResult, Raw};
use super::session::open_appender;
use super::stream::append_stream;
use crate::client::credentials::{CredentialsFuture, CredentialsProvider};
use crate::client::{AppendObjectRequest, Client};
use crate::js::config::JsClientConfig;
use crate::js::control::CallKind;
use crate::js::credentials::{self, JsCredentials, JsExpiration};
use crate::js::numbers;
use crate::protocol::resolver::{ResolveFuture, Resolver};
use std::sync::Arc;

/// `createClient(config)`: a client object with the methods `appendObject`,
/// `sealAppendObject`, `openAppender`, `appendStream`, `headObject`, `getObject` and `putObject`, sharing one
/// connection pool. Throws a mapped error (code `ClientInvalidArgument`) when the config breaks
/// a rule. The first call turns logging on when `OSS_APPEND_LOG` is set.
pub(super) fn create_client(ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    static LOG_FROM_ENV: std::sync::Once = std::sync::Once::new();
    LOG_FROM_ENV.call_once(|| {
        crate::io::logging::init_from_env();
    });
    let env: &Env = ctx.env;
    let config = required_arg(env, &ctx, 0)?;
    let client = new_client(env, config).map_err(|e| throwable(env, &e))?;
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
    let c = client.clone();
    let stream = function(env, "appendStream", move |ctx| append_stream(&c, ctx))?;
    let c = client.clone();
    let update = function(env, "updateCredentials", move |ctx| {
        update_credentials(&c, ctx)
    })?;
    let put = function(env, "putObject", move |ctx| put_object(&client, ctx))?;
    obj.set_named_property("appendObject", Raw(append))?;
    obj.set_named_property("sealAppendObject", Raw(seal))?;
    obj.set_named_property("openAppender", Raw(open))?;
    obj.set_named_property("appendStream", Raw(stream))?;
    obj.set_named_property("putObject", Raw(put))?;
    obj.set_named_property("headObject", Raw(head))?;
    obj.set_named_property("getObject", Raw(get))?;
    obj.set_named_property("updateCredentials", Raw(update))?;
    Ok(Raw(obj.raw()))
}

/// The client of a `createClient` config: with fixed keys, or with the `credentialsProvider`
/// function (called through a [`JsCallback`] whenever credentials are due, see
/// [`crate::client::credentials`]).
fn new_client(env: &Env, config: Unknown) -> Conv<Client> {
    let config_value = config;
    let provider = credentials_provider(env, config)?;
    let js = client_config(config, provider.is_some())?;
    let refresh = credentials::refresh(
        js.credentials_refresh_threshold_ms,
        js.credentials_provider_timeout_ms,
    )?;
    let mut config = js.into_config()?;
    if let Some(resolver) = js_resolver(env, config_value)? {
        config = config.with_resolver(Arc::new(resolver));
    }
    match provider {
        None => Client::new(config),
        Some(callback) => Client::with_credentials_refresh(
            config,
            Arc::new(JsProvider(Arc::new(callback))),
            refresh,
        ),
    }
}

/// `config.credentialsProvider`: a function, or absent.
fn credentials_provider(env: &Env, config: Unknown) -> Conv<Option<JsCallback<(), JsCredentials>>> {
    let obj = to_object("config", config)?;
    let Some(value) = property(&obj, "credentialsProvider")? else {
        return Ok(None);
    };
    match value_type("credentialsProvider", &value)? {
        ValueType::Function => {}
        other => {
            return Err(invalid(
                "credentialsProvider",
                format!(
                    "must be an async function returning {{ accessKeyId, accessKeySecret, \
                     securityToken?, expiration? }}, got {}",
                    type_name(other)
                ),
            ))
        }
    }
    JsCallback::new(
        env,
        value.raw(),
        "oss-append credentialsProvider",
        |_, ()| Ok(Vec::new()),
        |_, answer| js_credentials("credentialsProvider result", answer).map_err(|e| e.to_string()),
    )
    .map(Some)
    .map_err(|e| engine("credentialsProvider", e))
}

/// `config.resolver`: an (async) function `(host: string) => string[] | null` giving the host's
/// IP addresses (an HTTPDNS lookup, say), or absent. Its answer follows
/// [`crate::js::resolver::addresses`].
fn js_resolver(env: &Env, config: Unknown) -> Conv<Option<JsResolver>> {
    let obj = to_object("config", config)?;
    let Some(value) = property(&obj, "resolver")? else {
        return Ok(None);
    };
    match value_type("resolver", &value)? {
        ValueType::Function => {}
        other => {
            return Err(invalid(
                "resolver",
                format!(
                    "must be a function (host) returning IP address strings or a promise of \
                     them, got {}",
                    type_name(other)
                ),
            ))
        }
    }
    JsCallback::new(
        env,
        value.raw(),
        "oss-append resolver",
        // SAFETY (both closures): called on the JS thread with its env.
        |env, host: String| {
            Ok(vec![unsafe {
                <String as napi_ohos::bindgen_prelude::ToNapiValue>::to_napi_value(env.raw(), host)?
            }])
        },
        |_, answer| crate::js::resolver::addresses(resolver_answer(answer)?),
    )
    .map(|callback| Some(JsResolver(Arc::new(callback))))
    .map_err(|e| engine("resolver", e))
}

/// A resolver's answer as strings: `null`/`undefined` is `None`; otherwise an array of strings.
fn resolver_answer(answer: Unknown) -> Result<Option<Vec<String>>, String> {
    use crate::js::resolver::MAX_ANSWER_ENTRIES;
    let what = |t: ValueType| {
        format!(
            "answered {}; expected an array of IP address strings",
            type_name(t)
        )
    };
    let kind = value_type("resolver", &answer).map_err(|e| e.to_string())?;
    match kind {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::Object if answer.is_array().unwrap_or(false) => {}
        other => return Err(what(other)),
    }
    // SAFETY: checked to be an array (an object).
    let list = unsafe { answer.cast::<Object>() }.map_err(|e| e.to_string())?;
    let count = list.get_array_length().map_err(|e| e.to_string())? as usize;
    // One more than allowed is enough to refuse the answer.
    let mut entries = Vec::with_capacity(count.min(MAX_ANSWER_ENTRIES + 1));
    for i in 0..count.min(MAX_ANSWER_ENTRIES + 1) {
        let item: Unknown = list.get_element(i as u32).map_err(|e| e.to_string())?;
        entries
            .push(to_string("resolver", item).map_err(|_| format!("entry {i} is not a string"))?);
    }
    Ok(Some(entries))
}

/// A JS `resolver` as the client's [`Resolver`].
struct JsResolver(Arc<JsCallback<String, Vec<std::net::IpAddr>>>);

impl Resolver for JsResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        let callback = self.0.clone();
        let host = host.to_owned();
        Box::pin(async move { callback.call(host).await })
    }
}

/// A JS `credentialsProvider` as the client's provider.
struct JsProvider(Arc<JsCallback<(), JsCredentials>>);

impl CredentialsProvider for JsProvider {
    fn fetch(&self) -> CredentialsFuture {
        let callback = self.0.clone();
        Box::pin(async move {
            let answer = callback.call(()).await?;
            Ok(answer.provider_answer()?)
        })
    }
}

/// `updateCredentials({ accessKeyId, accessKeySecret, securityToken?, expiration? })`: the
/// credentials of every later request. Throws a mapped error (`ClientInvalidArgument`) when
/// they break a rule.
fn update_credentials(client: &Client, ctx: FunctionCallContext) -> napi_ohos::Result<Raw> {
    let env: &Env = ctx.env;
    let value = required_arg(env, &ctx, 0)?;
    js_credentials("credentials", value)
        .and_then(JsCredentials::into_provided)
        .and_then(|p| client.update_credentials(p.credentials, p.expiration))
        .map_err(|e| throwable(env, &e))?;
    super::results::undefined(env)
}

/// A credentials object's fields (`expiration`: a string, a number of ms, or a `Date`).
fn js_credentials(field: &'static str, value: Unknown) -> Conv<JsCredentials> {
    let obj = to_object(field, value)?;
    let expiration = match property(&obj, "expiration")? {
        None => None,
        Some(v) => Some(match value_type("expiration", &v)? {
            ValueType::String => JsExpiration::Text(to_string("expiration", v)?),
            ValueType::Number => JsExpiration::UnixMs(to_number("expiration", v)?),
            ValueType::Object if v.is_date().unwrap_or(false) => {
                let mut ms = 0.0;
                // SAFETY: a Date of the current env, on its thread.
                let status =
                    unsafe { napi_ohos::sys::napi_get_date_value(v.value().env, v.raw(), &mut ms) };
                if status != napi_ohos::sys::Status::napi_ok {
                    return Err(invalid("expiration", "is a Date that could not be read"));
                }
                JsExpiration::UnixMs(ms)
            }
            other => {
                return Err(invalid(
                    "expiration",
                    format!(
                        "must be an ISO 8601 string, a number of milliseconds since 1970 or a \
                         Date, got {}",
                        type_name(other)
                    ),
                ))
            }
        }),
    };
    Ok(JsCredentials {
        access_key_id: opt_string(&obj, "accessKeyId")?,
        access_key_secret: opt_string(&obj, "accessKeySecret")?,
        security_token: opt_string(&obj, "securityToken")?,
        expiration,
    })
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
        request.operation_timeout = control.operation_timeout;
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
            let position = position_arg(arg(&ctx, 2).map_err(|e| engine("position", e))?)?;
            let position = numbers::required_position(position)?;
            Ok((bucket, key, position))
        },
    );
    let client = client.clone();
    let run = |(bucket, key, position): (String, String, u64)| async move {
        client.seal_append_object(&bucket, &key, position).await
    };
    request_promise(env, target, run, NativeSealResult)
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

/// The facade's config: `accessKeyId`, `accessKeySecret`, `securityToken`, `region`,
/// `endpoint`, `cname`, `pathStyle`, `secure`, `signatureVersion`, `timeout`, `connectTimeout`, `operationTimeout` (ms),
/// `userAgent`, `caCerts`, `trustUserCaCerts`, `resolve`, `credentialsRefreshThreshold`,
/// `credentialsProviderTimeout` (the rules: [`JsClientConfig::into_config`]).
fn client_config(config: Unknown, credentials_provider: bool) -> Conv<JsClientConfig> {
    let obj = to_object("config", config)?;
    Ok(JsClientConfig {
        access_key_id: opt_string(&obj, "accessKeyId")?,
        access_key_secret: opt_string(&obj, "accessKeySecret")?,
        security_token: opt_string(&obj, "securityToken")?,
        region: opt_string(&obj, "region")?,
        endpoint: opt_string(&obj, "endpoint")?,
        cname: opt_bool(&obj, "cname")?,
        path_style: opt_bool(&obj, "pathStyle")?,
        secure: opt_bool(&obj, "secure")?,
        signature_version: opt_string(&obj, "signatureVersion")?,
        connect_timeout_ms: opt_number(&obj, "connectTimeout")?,
        timeout_ms: opt_number(&obj, "timeout")?,
        operation_timeout_ms: opt_number(&obj, "operationTimeout")?,
        user_agent: opt_string(&obj, "userAgent")?,
        ca_certs: opt_string(&obj, "caCerts")?,
        trust_user_ca_certs: opt_bool(&obj, "trustUserCaCerts")?,
        resolve: opt_address_map(&obj, "resolve")?,
        credentials_provider,
        credentials_refresh_threshold_ms: opt_number(&obj, "credentialsRefreshThreshold")?,
        credentials_provider_timeout_ms: opt_number(&obj, "credentialsProviderTimeout")?,
    })
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
