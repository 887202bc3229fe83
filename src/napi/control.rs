//! A call's `control` object (`{ progress?, timeout? }`): reads it, sets its `cancel`
//! function, and carries the JS progress callback as a threadsafe function. What may pass and
//! when is [`ProgressGate`]'s and [`control::call_timeout`]'s rule.

use std::sync::Arc;
use std::time::Duration;

use napi_ohos::bindgen_prelude::{
    Env, FnArgs, FromNapiValue, JsObjectValue, JsValue, Status, Unknown, ValueType,
};
use napi_ohos::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};

use super::convert::{
    engine, invalid, opt_number, present, property, to_object, type_name, value_type, Conv,
};
use super::results::{function, undefined, Raw};
use crate::io::cancel::CancellationToken;
use crate::io::progress::ProgressObserver;
use crate::js::control::{self, CallKind, ProgressGate};

/// `(sent, total) => void` on the JS thread.
type ProgressTsfn =
    ThreadsafeFunction<FnArgs<(f64, f64)>, UnknownReturnValue, FnArgs<(f64, f64)>, Status, false>;

/// The JS progress callback of one call. Calls are queued to the JS thread without blocking,
/// through the call's [`ProgressGate`]: [`JsProgress::close`] stops further calls and waits
/// until the queued ones have run, so that all of them come before the promise settles.
pub(super) struct JsProgress {
    tsfn: Arc<ProgressTsfn>,
    gate: Arc<ProgressGate>,
}

impl JsProgress {
    pub(super) fn observer(&self) -> ProgressObserver {
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
pub(super) struct CallControl {
    pub(super) progress: Option<JsProgress>,
    pub(super) timeout: Option<Duration>,
    pub(super) operation_timeout: Option<Duration>,
    pub(super) token: CancellationToken,
}

impl CallControl {
    /// Ends the call's progress reporting (see [`JsProgress::close`]).
    pub(super) async fn finish(&self) {
        if let Some(progress) = &self.progress {
            progress.close().await;
        }
    }
}

/// Reads `control` (`{ progress?, timeout?, operationTimeout? }`, `timeout` as `kind` allows) and sets its
/// `cancel` property to a function cancelling this call. The outer error is the engine's; the
/// inner one a rule the caller broke (the call then rejects with it, sending nothing).
pub(super) fn call_control(
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
            operation_timeout: None,
            token,
        }));
    };
    let mut obj = match to_object("options", control) {
        Ok(obj) => obj,
        Err(e) => return Ok(Err(e)),
    };
    type Parsed = (Option<JsProgress>, Option<Duration>, Option<Duration>);
    let parsed = (|| -> Conv<Parsed> {
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
        let operation_timeout =
            control::call_operation_timeout(kind, opt_number(&obj, "operationTimeout")?)?;
        Ok((progress, timeout, operation_timeout))
    })();
    let (progress, timeout, operation_timeout) = match parsed {
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
        operation_timeout,
        token,
    }))
}
